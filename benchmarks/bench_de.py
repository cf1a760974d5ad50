"""Side-by-side speed and memory of the DE fit: mtncrna's engine vs R DESeq2 (and pydeseq2).

    python benchmarks/bench_de.py [--shapes 12x2500,12x60000,200x2500,1000x2500] [--pydeseq2]

Each tool runs in its own process on the same seeded table; wall time and peak RSS come from
GNU time (/usr/bin/time -v), the fit time from the tool itself (DESeq() alone in R). Also
reports agreement (Pearson r of the Wald statistic, Jaccard of padj < 0.1) with R.
"""

from __future__ import annotations

import argparse
import re
import subprocess
import sys
import tempfile
from pathlib import Path

import numpy as np
import pandas as pd

HERE = Path(__file__).resolve().parent


def timed(cmd: list[str]) -> dict[str, float]:
    proc = subprocess.run(["/usr/bin/time", "-v", *cmd], capture_output=True, text=True, check=True)
    wall = re.search(r"Elapsed \(wall clock\) time.*: (?:(\d+):)?(\d+):([\d.]+)", proc.stderr)
    h, m, s = wall.groups()
    rss = int(re.search(r"Maximum resident set size \(kbytes\): (\d+)", proc.stderr).group(1))
    fit = float(re.search(r"fit_seconds ([\d.]+)", proc.stdout).group(1))
    return {
        "wall_s": int(h or 0) * 3600 + int(m) * 60 + float(s),
        "fit_s": fit,
        "peak_mb": rss / 1024,
    }


def agreement(d: Path, name: str) -> tuple[float, float]:
    r = pd.read_csv(d / "r_results.tsv", sep="\t", index_col=0)
    o = pd.read_csv(d / name, sep="\t", index_col=0).reindex(r.index)
    ok = r["stat"].notna() & o["stat"].notna()
    corr = float(np.corrcoef(r.loc[ok, "stat"], o.loc[ok, "stat"])[0, 1])
    a, b = set(r.index[r["padj"] < 0.1]), set(o.index[o["padj"] < 0.1])
    return corr, len(a & b) / max(1, len(a | b))


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--shapes", default="12x2500,12x60000,200x2500,1000x2500")
    ap.add_argument("--pydeseq2", action="store_true", help="also run pydeseq2 (slow)")
    args = ap.parse_args()
    rows = []
    for shape in args.shapes.split(","):
        n, g = (int(x) for x in shape.split("x"))
        with tempfile.TemporaryDirectory() as tmp:
            d = Path(tmp)
            subprocess.run(
                [sys.executable, str(HERE / "de_simulate.py"), str(n), str(g), tmp], check=True
            )
            r = timed(["Rscript", str(HERE / "de_run_r.R"), tmp])
            py = timed([sys.executable, str(HERE / "de_run_py.py"), tmp])
            corr, jac = agreement(d, "py_results.tsv")
            row = {
                "shape": f"{n} x {g}",
                "R fit s": r["fit_s"],
                "R wall s": r["wall_s"],
                "R peak MB": r["peak_mb"],
                "mtncrna fit s": py["fit_s"],
                "mtncrna wall s": py["wall_s"],
                "mtncrna peak MB": py["peak_mb"],
                "fit ratio R/mtncrna": r["fit_s"] / py["fit_s"],
                "wall ratio R/mtncrna": r["wall_s"] / py["wall_s"],
                "stat r": corr,
                "padj<0.1 Jaccard": jac,
            }
            if args.pydeseq2:
                pd2 = timed([sys.executable, str(HERE / "de_run_pydeseq2.py"), tmp])
                row["pydeseq2 fit s"] = pd2["fit_s"]
                row["pydeseq2 peak MB"] = pd2["peak_mb"]
            rows.append(row)
            print(pd.DataFrame([row]).to_string(index=False), flush=True)
    table = pd.DataFrame(rows)
    print()
    print(
        table.to_markdown(index=False, floatfmt=".3g")
        if _has_tabulate()
        else table.to_string(index=False)
    )


def _has_tabulate() -> bool:
    try:
        import tabulate  # noqa: F401
    except ImportError:
        return False
    return True


if __name__ == "__main__":
    main()
