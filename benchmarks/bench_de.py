"""Side by side: mtncrna (its engine from a script, and `mtncrna de` from the command line),
pydeseq2 (n_cpus=2) and R DESeq2 on the same tables.

    python benchmarks/bench_de.py [--shapes 12x2500,12x60000,...] [--r-max-samples 1000]
                                  [--no-pydeseq2] [--no-cli]

For each shape (samples x features) one seeded two-group table is simulated (de_simulate.py)
and each tool runs on it in its own process, one after the other, so they share the
machine's state. The tools:

- *mtncrna*: ``de_run_py.py``, the engine as a notebook would call it (pandas reads the table,
  ``engine.deseq`` + ``wald_test``, the results written as TSV);
- *CLI*: what a user of the command line gets, ``mtncrna de counts.tsv -s coldata.tsv
  --design "~ condition" --contrast condition B A --size-factors ratio -o OUT``: the project's
  reader (validating every cell, matching the sample sheet, annotating features with the
  bundled reference), the same fit, then the results table, ``de.h5ad`` and provenance;
- *pydeseq2* (``de_run_pydeseq2.py``) and *R* (``de_run_r.R``, ``DESeq()`` + ``results()``).

Reported per tool:

- *wall*: the whole process (start, imports/library loading, reading the table, the fit and
  the Wald test, writing the results), from /usr/bin/time -v;
- *cpu*: user + system seconds of the process and its children (cpu / wall > 1 means more
  than one core worked);
- *peak MB*: the largest summed resident memory of the process tree, sampled every 50 ms
  (pydeseq2's n_cpus=2 runs worker processes; GNU time alone would report only the largest
  single process), or GNU time's maximum RSS if that is larger;
- *fit*: the time the tool reports for its DESeq2 steps alone (not reported by the CLI).

Agreement (Pearson r of the Wald statistic, Jaccard of padj < 0.1) is computed against R
where R ran. R is skipped above ``--r-max-samples`` samples (it takes many minutes there).
mtncrna's numba kernels are compiled once per install and cached; a warm-up run on a tiny
table before the timings fills that cache, as any earlier use would have.
"""

from __future__ import annotations

import argparse
import contextlib
import functools
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
        "fit": float(m.group(1)) if (m := re.search(r"fit_seconds ([\d.]+)", out)) else np.nan,
    }


def agreement(d: Path, name: str | Path) -> tuple[float, float]:
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
    ap.add_argument("--no-cli", action="store_true")
    args = ap.parse_args()
    cli = str(Path(sys.executable).with_name("mtncrna"))
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
            tools = {"mtncrna": [sys.executable, str(HERE / "de_run_py.py"), tmp]}
            if not args.no_cli:
                tools["CLI"] = [
                    cli, "de", str(d / "counts.tsv"), "-s", str(d / "coldata.tsv"),
                    "--design", "~ condition", "--contrast", "condition", "B", "A",
                    "--size-factors", "ratio", "-o", str(d / "cli"),
                ]  # fmt: skip
            if not args.no_pydeseq2:
                tools["pydeseq2"] = [sys.executable, str(HERE / "de_run_pydeseq2.py"), tmp]
            for tool, cmd in tools.items():
                res = timed(cmd)
                for k, v in res.items():
                    row[f"{tool} {k}"] = v
            if not args.no_cli:  # the CLI's table holds the engine's numbers
                a = pd.read_csv(d / "py_results.tsv", sep="\t", index_col=0)
                b = pd.read_csv(d / "cli" / "de_condition_B_vs_A.tsv", sep="\t", index_col=0)
                diff = (a["stat"] - b["stat"].reindex(a.index)).abs().max()
                row["CLI = engine"] = bool(diff <= 1e-8 * max(1.0, a["stat"].abs().max()))
            if n <= args.r_max_samples:
                res = timed(["Rscript", str(HERE / "de_run_r.R"), tmp])
                for k, v in res.items():
                    row[f"R {k}"] = v
                row["stat r"], row["Jaccard"] = agreement(d, "py_results.tsv")
            rows.append(row)
            print(pd.DataFrame([row]).to_string(index=False), flush=True)
    print()
    print(markdown(pd.DataFrame(rows)))


def _number(row: pd.Series, key: str) -> float:
    v = row.get(key)
    return np.nan if v is None else float(v)


def markdown(t: pd.DataFrame) -> str:
    """The README table: wall, ratios, cpu/wall and peak memory per tool."""

    def f(x: object, fmt: str = "{:.1f}") -> str:
        missing = x is None or (isinstance(x, float) and np.isnan(x))
        return "-" if missing else fmt.format(x)

    def ratio(a: object, b: object) -> str:
        ok = a is not None and b is not None and not np.isnan(a) and not np.isnan(b)
        return f"**{a / b:.2f}x**" if ok else "-"

    tools = ("mtncrna", "CLI", "pydeseq2", "R")
    head = (
        "| shape | mtncrna wall s | CLI wall s | pydeseq2 wall s | R wall s | "
        "**mtncrna / pydeseq2** | **mtncrna / R** | **CLI / pydeseq2** | **CLI / R** | "
        "cpu/wall mtncrna, CLI, pydeseq2, R | peak MB mtncrna, CLI, pydeseq2, R | "
        "stat r, Jaccard vs R |\n|---|---|---|---|---|---|---|---|---|---|---|---|"
    )
    lines = [head]
    for _, r in t.iterrows():
        get = functools.partial(_number, r)
        wall = {k: get(f"{k} wall") for k in tools}
        cpu = [get(f"{k} cpu") / wall[k] for k in tools]
        lines.append(
            f"| {r['shape']} | {' | '.join(f(wall[k]) for k in tools)} | "
            f"{ratio(wall['mtncrna'], wall['pydeseq2'])} | {ratio(wall['mtncrna'], wall['R'])} | "
            f"{ratio(wall['CLI'], wall['pydeseq2'])} | {ratio(wall['CLI'], wall['R'])} | "
            f"{', '.join(f(c, '{:.2f}') for c in cpu)} | "
            f"{', '.join(f(get(f'{k} peak'), '{:.0f}') for k in tools)} | "
            f"{f(get('stat r'), '{:.6f}')}, {f(get('Jaccard'), '{:.3f}')} |"
        )
    return "\n".join(lines)


if __name__ == "__main__":
    main()
