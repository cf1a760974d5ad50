"""Side by side: mtncrna's DE engine, pydeseq2 (n_cpus=2) and R DESeq2 on the same tables.

    python benchmarks/bench_de.py [--shapes 12x2500,12x60000,...] [--r-max-samples 1000]
                                  [--no-pydeseq2]

For each shape (samples x features) one seeded two-group table is simulated (de_simulate.py)
and each tool runs on it in its own process, one after the other, so the three share the
machine's state. Reported per tool:

- *wall*: the whole process (start, imports/library loading, reading the table, the fit and
  the Wald test, writing the results), from /usr/bin/time -v;
- *cpu*: user + system seconds of the process and its children (cpu / wall > 1 means more
  than one core worked);
- *peak MB*: the largest summed resident memory of the process tree, sampled every 50 ms
  (pydeseq2's n_cpus=2 runs worker processes; GNU time alone would report only the largest
  single process), or GNU time's maximum RSS if that is larger;
- *fit*: the time the tool reports for its DESeq2 steps alone.

Agreement (Pearson r of the Wald statistic, Jaccard of padj < 0.1) is computed against R
where R ran. R is skipped above ``--r-max-samples`` samples (it takes many minutes there).
mtncrna's numba kernels are compiled once per install and cached; a warm-up run on a tiny
table before the timings fills that cache, as any earlier use would have.
"""

from __future__ import annotations

import argparse
import contextlib
import re
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import numpy as np
import pandas as pd
import psutil

HERE = Path(__file__).resolve().parent
SHAPES = "12x2500,12x60000,200x2500,1000x2500,5000x2000,10000x2000"


def _tree_rss(proc: psutil.Process) -> int:
    total = 0
    for p in [proc, *proc.children(recursive=True)]:
        with contextlib.suppress(psutil.Error):
            total += p.memory_info().rss
    return total


def timed(cmd: list[str]) -> dict[str, float]:
    """Run ``cmd`` under GNU time; wall, cpu, peak tree RSS and the tool's own fit time."""
    proc = subprocess.Popen(
        ["/usr/bin/time", "-v", *cmd], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
    )
    peak = 0
    done = threading.Event()

    def sample() -> None:
        nonlocal peak
        ps = psutil.Process(proc.pid)
        while not done.is_set():
            try:
                peak = max(peak, _tree_rss(ps))
            except psutil.Error:
                break
            time.sleep(0.05)

    t = threading.Thread(target=sample, daemon=True)
    t.start()
    out, err = proc.communicate()
    done.set()
    t.join()
    if proc.returncode != 0:
        raise RuntimeError(f"{cmd} failed:\n{err[-2000:]}")
    wall = re.search(r"Elapsed \(wall clock\) time.*: (?:(\d+):)?(\d+):([\d.]+)", err)
    h, m, s = wall.groups()
    user = float(re.search(r"User time \(seconds\): ([\d.]+)", err).group(1))
    system = float(re.search(r"System time \(seconds\): ([\d.]+)", err).group(1))
    rss = int(re.search(r"Maximum resident set size \(kbytes\): (\d+)", err).group(1)) * 1024
    return {
        "wall": int(h or 0) * 3600 + int(m) * 60 + float(s),
        "cpu": user + system,
        "peak": max(peak, rss) / 2**20,
        "fit": float(re.search(r"fit_seconds ([\d.]+)", out).group(1)),
    }


def agreement(d: Path, name: str) -> tuple[float, float]:
    r = pd.read_csv(d / "r_results.tsv", sep="\t", index_col=0)
    o = pd.read_csv(d / name, sep="\t", index_col=0).reindex(r.index)
    ok = r["stat"].notna() & o["stat"].notna()
    corr = float(np.corrcoef(r.loc[ok, "stat"], o.loc[ok, "stat"])[0, 1])
    a, b = set(r.index[r["padj"] < 0.1]), set(o.index[o["padj"] < 0.1])
    return corr, len(a & b) / max(1, len(a | b))


def simulate(n: int, g: int, d: str) -> None:
    subprocess.run([sys.executable, str(HERE / "de_simulate.py"), str(n), str(g), d], check=True)


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--shapes", default=SHAPES)
    ap.add_argument("--r-max-samples", type=int, default=1000)
    ap.add_argument("--no-pydeseq2", action="store_true")
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as tmp:  # warm numba's cache (compiled once per install)
        simulate(12, 200, tmp)
        warm = timed([sys.executable, str(HERE / "de_run_py.py"), tmp])
        print(f"warm-up (fills numba's cache when empty): {warm['wall']:.1f} s", flush=True)
    rows = []
    for shape in args.shapes.split(","):
        n, g = (int(x) for x in shape.split("x"))
        with tempfile.TemporaryDirectory() as tmp:
            d = Path(tmp)
            simulate(n, g, tmp)
            row: dict[str, object] = {"shape": f"{n:,} x {g:,}"}
            tools = {"mtncrna": "de_run_py.py"}
            if not args.no_pydeseq2:
                tools["pydeseq2"] = "de_run_pydeseq2.py"
            for tool, script in tools.items():
                res = timed([sys.executable, str(HERE / script), tmp])
                for k, v in res.items():
                    row[f"{tool} {k}"] = v
            if n <= args.r_max_samples:
                res = timed(["Rscript", str(HERE / "de_run_r.R"), tmp])
                for k, v in res.items():
                    row[f"R {k}"] = v
                row["stat r"], row["Jaccard"] = agreement(d, "py_results.tsv")
            rows.append(row)
            print(pd.DataFrame([row]).to_string(index=False), flush=True)
    print()
    print(markdown(pd.DataFrame(rows)))


def markdown(t: pd.DataFrame) -> str:
    """The README table: wall, ratios, cpu/wall and peak memory per tool."""

    def f(x: object, fmt: str = "{:.1f}") -> str:
        return "-" if x is None or (isinstance(x, float) and np.isnan(x)) else fmt.format(x)

    head = (
        "| shape | mtncrna wall s | pydeseq2 wall s | R wall s | **mtncrna / pydeseq2** | "
        "**mtncrna / R** | cpu/wall mtncrna, pydeseq2, R | peak MB mtncrna, pydeseq2, R | "
        "stat r, Jaccard vs R |\n|---|---|---|---|---|---|---|---|---|"
    )
    lines = [head]
    for _, r in t.iterrows():
        get = r.get
        mw, pw, rw = get("mtncrna wall"), get("pydeseq2 wall"), get("R wall")
        cpu = [
            get(f"{k} cpu", np.nan) / get(f"{k} wall", np.nan)
            if get(f"{k} wall") is not None
            else np.nan
            for k in ("mtncrna", "pydeseq2", "R")
        ]
        lines.append(
            f"| {r['shape']} | {f(mw)} | {f(pw)} | {f(rw)} | "
            f"**{f(mw / pw if pw else np.nan, '{:.2f}x')}** | "
            f"**{f(mw / rw if rw else np.nan, '{:.2f}x')}** | "
            f"{', '.join(f(c, '{:.2f}') for c in cpu)} | "
            f"{', '.join(f(get(f'{k} peak'), '{:.0f}') for k in ('mtncrna', 'pydeseq2', 'R'))} | "
            f"{f(get('stat r'), '{:.6f}')}, {f(get('Jaccard'), '{:.3f}')} |"
        )
    return "\n".join(lines)


if __name__ == "__main__":
    main()
