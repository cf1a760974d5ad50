"""Agreement with R DESeq2 on real data: mtncrna's two engines (its own, and pydeseq2 run
through ``tl.de(engine="pydeseq2")``) against R.

    python benchmarks/agreement.py

Uses the golden files in tests/data/golden (R DESeq2 1.38.3). Prints, per analysis, the Pearson
correlation of the Wald statistic, the largest absolute difference of the statistic and the
Jaccard index of the padj < 0.1 sets against R, and the seconds each engine took (one process,
one after the other).
"""

from __future__ import annotations

import json
import time
import warnings
from pathlib import Path

import anndata as ad
import numpy as np
import pandas as pd

import mtncrna as mt

GOLDEN = Path(__file__).resolve().parents[1] / "tests" / "data" / "golden"
ANALYSES = [
    ("pasilla", "type_condition"),
    ("pasilla", "exon_mreads_condition"),
    ("pasilla", "group3"),
    ("thyroid_mirna", "pair_condition"),
    ("thyroid_mirna", "pair_condition_4pairs"),
    ("thyroid_mirna", "pair_condition_3pairs"),
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
    warnings.simplefilter("ignore")
    rows = []
    for ds, an in ANALYSES:
        counts = pd.read_csv(GOLDEN / ds / "counts.tsv.gz", sep="\t", index_col=0)
        s = json.loads((GOLDEN / ds / an / "summary.json").read_text())
        design = s["design"].replace("~", "~ ")
        cd = pd.read_csv(GOLDEN / ds / "coldata.tsv", sep="\t", index_col=0)
        if an == "group3":
            cd = cd.drop(index="treated1")
            cd["group"] = cd["type"].str.replace("-", "") + "_" + cd["condition"]
        if an.startswith("pair_condition_"):
            k = int(an.split("_")[-1][0])
            cd = cd[cd["pair"].isin([f"patient{i}" for i in range(1, k + 1)])]
        r = pd.read_csv(GOLDEN / ds / an / "results_wald.tsv.gz", sep="\t", index_col=0)
        refs = {k: v[0] for k, v in s["factor_levels"].items()}
        adata = ad.AnnData(counts[cd.index].T.astype(np.int64), obs=cd)
        row: dict[str, object] = {
            "analysis": f"{ds} {s['design']}",
            "genes x samples": f"{counts.shape[0]} x {len(cd)}",
            "residual df": s["n_samples"] - s["n_coefficients"],
        }
        for engine in ("mtncrna", "pydeseq2"):
            t = time.perf_counter()
            mt.tl.de(
                adata,
                design=design,
                contrasts=tuple(s["contrast"]),
                reference_levels=refs,
                size_factors="ratio",
                engine=engine,
                key_added=engine,
            )
            seconds = time.perf_counter() - t
            res = next(iter(adata.uns[engine]["results"].values()))
            corr, jac, dmax = score(res, r)
            row[f"{engine} stat r"] = round(corr, 7)
            row[f"{engine} max |dstat|"] = f"{dmax:.1e}"
            row[f"{engine} Jaccard"] = round(jac, 4)
            row[f"{engine} s"] = round(seconds, 2)
        rows.append(row)
        print(pd.DataFrame(rows[-1:]).to_string(index=False), flush=True)
    print()
    print(pd.DataFrame(rows).to_markdown(index=False))


if __name__ == "__main__":
    main()
