"""Agreement with R DESeq2 on real data: mtncrna's engine vs pydeseq2 (default settings).

    python benchmarks/agreement.py

Uses the golden files in tests/data/golden (R DESeq2 1.38.3). Prints, per analysis, the Pearson
correlation of the Wald statistic and the Jaccard index of the padj < 0.1 sets against R.
"""

from __future__ import annotations

import json
import time
import warnings
from pathlib import Path

import numpy as np
import pandas as pd

from mtncrna import engine

GOLDEN = Path(__file__).resolve().parents[1] / "tests" / "data" / "golden"
ANALYSES = [
    ("pasilla", "type_condition"),
    ("thyroid_mirna", "pair_condition"),
    ("thyroid_mirna", "condition"),
]


def score(ours: pd.DataFrame, r: pd.DataFrame) -> tuple[float, float, float]:
    ours = ours.reindex(r.index)
    ok = r["stat"].notna() & ours["stat"].notna()
    corr = float(np.corrcoef(r.loc[ok, "stat"], ours.loc[ok, "stat"])[0, 1])
    a, b = set(r.index[r["padj"] < 0.1]), set(ours.index[ours["padj"] < 0.1])
    maxdiff = float((r.loc[ok, "stat"] - ours.loc[ok, "stat"]).abs().max())
    return corr, len(a & b) / max(1, len(a | b)), maxdiff


def main() -> None:
    from pydeseq2.dds import DeseqDataSet
    from pydeseq2.default_inference import DefaultInference
    from pydeseq2.ds import DeseqStats

    warnings.simplefilter("ignore")
    rows = []
    for ds, an in ANALYSES:
        counts = pd.read_csv(GOLDEN / ds / "counts.tsv.gz", sep="\t", index_col=0)
        cd = pd.read_csv(GOLDEN / ds / "coldata.tsv", sep="\t", index_col=0)
        counts = counts[cd.index]
        s = json.loads((GOLDEN / ds / an / "summary.json").read_text())
        r = pd.read_csv(GOLDEN / ds / an / "results_wald.tsv.gz", sep="\t", index_col=0)
        refs = {k: v[0] for k, v in s["factor_levels"].items()}
        design = s["design"].replace("~", "~ ")
        X = engine.design_matrix(design, cd, reference_levels=refs)
        t = time.perf_counter()
        fit = engine.deseq(counts.T, X)
        n_vars = len(s["factor_levels"]) if "+" in design else 1
        fit.params.update(n_design_vars=n_vars, two_group=n_vars == 1 and X.shape[1] == 2)
        ours = engine.wald_test(fit, engine.contrast_vector(X, *s["contrast"]))
        t_ours = time.perf_counter() - t
        md = cd.copy()
        for k, lv in s["factor_levels"].items():
            md[k] = pd.Categorical(md[k], categories=lv)
        t = time.perf_counter()
        dds = DeseqDataSet(
            counts=counts.T,
            metadata=md,
            design=design,
            quiet=True,
            inference=DefaultInference(n_cpus=1),
        )
        dds.deseq2()
        st = DeseqStats(
            dds, contrast=list(s["contrast"]), quiet=True, inference=DefaultInference(n_cpus=1)
        )
        st.summary()
        t_py = time.perf_counter() - t
        c1, j1, d1 = score(ours, r)
        c2, j2, d2 = score(st.results_df, r)
        rows.append(
            {
                "analysis": f"{ds} {s['design']}",
                "genes": counts.shape[0],
                "samples": counts.shape[1],
                "mtncrna stat r": round(c1, 7),
                "mtncrna Jaccard": round(j1, 4),
                "mtncrna max |dstat|": f"{d1:.1e}",
                "mtncrna s": round(t_ours, 2),
                "pydeseq2 stat r": round(c2, 4),
                "pydeseq2 Jaccard": round(j2, 4),
                "pydeseq2 max |dstat|": f"{d2:.1e}",
                "pydeseq2 s": round(t_py, 2),
            }
        )
        print(pd.DataFrame(rows[-1:]).to_string(index=False), flush=True)
    print()
    print(pd.DataFrame(rows).to_string(index=False))


if __name__ == "__main__":
    main()
