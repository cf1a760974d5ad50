"""Small-RNA FASTQ -> counts: mtncrna vs the usual cutadapt -> bowtie -> samtools sort ->
featureCounts pipeline, side by side on one simulated sample with known truth.

    python benchmarks/bench_quant_smallrna.py [--reads 4000000] [--workdir /tmp/smallrna_bench]
        [--processes 2] [--cutadapt /path/to/venv/bin/cutadapt] [--skip-usual] [--repeat 1]

mtncrna runs with 1 and ``--processes`` processes, the usual pipeline with 1 and ``--processes``
threads per tool; the table gives every run's wall time and the ratios to the usual pipeline
with the same number of cores.

The sample is simulated once (``simulate_smallrna.py``, seed 1) and reused. Every step runs in its
own process under GNU time (wall clock and peak RSS). mtncrna is timed end to end as a user runs
it: the command ``mtncrna quant smallrna --kit KIT -p P -o OUT FASTQ`` (Python start, imports,
reference index, collapse, trim, assign, the tables, MultiQC files and provenance written to a
staged folder); its collapse step alone is timed against ``zcat`` of the same file.

The usual pipeline, with the tools users pick (cutadapt from PyPI in its own venv, Debian's
bowtie 1, samtools and subread):

1. ``cutadapt -j P -a ADAPTER -m 16 -M 45`` (reads without adapter kept, as mtncrna does);
2. ``bowtie -p P -v 1 -k 1 --best -S`` against the miRBase 22 human hairpins plus the rCRS (index
   built once, not timed), piped to ``samtools sort -@ P``;
3. ``featureCounts -T P -s 1 -t exon -g gene_id`` on a GTF with the mature miRNA sites in their
   hairpins and the mt-tRNA / mt-rRNA genes on the rCRS.

Accuracy of both is scored against the truth with ``simulate_smallrna.score`` (per feature,
``min(truth, observed)`` summed over the truth).
"""

from __future__ import annotations

import argparse
import json
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pandas as pd

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

import simulate_smallrna as sim  # noqa: E402

COLLAPSE_RUN = """
import json, sys, time
from mtncrna.quant._collapse import collapse_distinct
t0 = time.perf_counter()
reads = collapse_distinct(sys.argv[1], threads=1)
print(json.dumps({"seconds": time.perf_counter() - t0, "reads": reads.n_reads,
                  "distinct": len(reads)}))
"""

# CPU and wall seconds of each phase of one sample in one process (the library's own steps,
# called in the order quantify_smallrna calls them)
PHASES_RUN = """
import json, sys, time
marks = [("start", time.process_time(), time.perf_counter())]
def mark(name):
    marks.append((name, time.process_time(), time.perf_counter()))
import numpy
mark("import numpy")
from mtncrna.quant import _smallrna as S
from mtncrna.quant._collapse import KITS, check_fastq, collapse_distinct, trim_distinct
from mtncrna.quant._smallrna_assign import Assigner
from mtncrna.quant._smallrna_reference import bundled_reference
mark("import mtncrna (+ numba, cutadapt)")
path = sys.argv[1]
check_fastq(path)
ref = bundled_reference()
mark("bundled reference (cached)")
assigner = Assigner(ref)
assigner.index
S._freeze_survivors()  # as quantify_smallrna does here
mark("compiled index (+ loading the kernels, gc freeze)")
reads = collapse_distinct(path, threads=1)
mark("collapse (kernel; ISA-L in a helper thread)")
part = trim_distinct(reads, KITS["illumina"], min_length=16, max_length=45, umi=False)
mark("trim (exact adapter scan + cutadapt aligner)")
calls = assigner.assign_many(list(part.counts))
mark("assign (compiled search + picking)")
agg = S._Aggregator(["s"], ref, 16, 45)
res = S._SampleCounts("s", part.counts, dict(part.qc), part.lengths, len(reads), calls)
res.qc["unique_inserts"] = len(res.counts)
res.qc["molecules"] = sum(res.counts.values())
agg.add(res, calls)
result = agg.result(calls)
result.inputs = [("fastq", path)]
result.parameters = {"reference": ref.description}
mark("count + tables")
S.write_smallrna(result, sys.argv[2])
mark("write (tsv, mirGFF3, provenance)")
print(json.dumps([(b[0], b[1] - a[1], b[2] - a[2]) for a, b in zip(marks, marks[1:])]))
"""


# Wall and CPU (this process only; workers' CPU is in the GNU time total) between the log
# messages of a run with N processes, as a user runs it
PHASES_LOG_RUN = """
import json, logging, sys, time
marks = [("start", time.process_time(), time.perf_counter())]
class Mark(logging.Handler):
    def emit(self, record):
        marks.append((record.getMessage()[:60], time.process_time(), time.perf_counter()))
log = logging.getLogger("mtncrna")
log.addHandler(Mark())
log.setLevel(logging.INFO)
from mtncrna.quant import quantify_smallrna, write_smallrna
log.info("imported (Python start not included)")
res = quantify_smallrna([sys.argv[1]], kit="illumina", processes=int(sys.argv[3]))
write_smallrna(res, sys.argv[2])
log.info("written")
print(json.dumps([(b[0], b[1] - a[1], b[2] - a[2]) for a, b in zip(marks, marks[1:])]))
"""


def timed(cmd: list[str] | str, *, shell: bool = False) -> dict:
    """Run under GNU time; return wall seconds, peak RSS (MB) and stdout."""
    full = (
        ["/usr/bin/time", "-v", "bash", "-o", "pipefail", "-c", cmd]
        if shell
        else [
            "/usr/bin/time",
            "-v",
            *cmd,
        ]
    )
    proc = subprocess.run(full, capture_output=True, text=True)
    if proc.returncode != 0:
        raise RuntimeError(f"{cmd} failed:\n{proc.stderr[-3000:]}")
    wall = re.search(r"Elapsed \(wall clock\) time.*: (?:(\d+):)?(\d+):([\d.]+)", proc.stderr)
    h, m, s = wall.groups()
    rss = int(re.search(r"Maximum resident set size \(kbytes\): (\d+)", proc.stderr).group(1))
    user = float(re.search(r"User time \(seconds\): ([\d.]+)", proc.stderr).group(1))
    system = float(re.search(r"System time \(seconds\): ([\d.]+)", proc.stderr).group(1))
    return {
        "wall_s": int(h or 0) * 3600 + int(m) * 60 + float(s),
        "cpu_s": user + system,  # of the process tree (GNU time counts waited-for children)
        "peak_mb": rss / 1024,
        "stdout": proc.stdout,
    }


def build_reference(d: Path) -> tuple[Path, Path]:
    """Hairpins + rCRS FASTA (bowtie index) and the GTF of mature sites and mt genes."""
    from mtncrna.quant._smallrna_reference import bundled_reference

    ref = bundled_reference()
    fa = d / "hairpins_mt.fa"
    gtf = d / "mature_mt.gtf"
    index = d / "bowtie" / "hairpins_mt"
    if not (index.parent / "done").exists():
        index.parent.mkdir(parents=True, exist_ok=True)
        with fa.open("w") as fh:
            for name, seq in ref.hairpins.items():
                fh.write(f">{name}\n{seq}\n")
            fh.write(f">{ref.mt_name}\n{ref.mt_genome}\n")
        with gtf.open("w") as fh:
            for name, hp, s, e in ref.sites:
                fh.write(f'{hp}\tmirbase\texon\t{s + 1}\t{e}\t.\t+\t.\tgene_id "{name}";\n')
            for g in ref.mt_genes:
                if g.rna_class in ("mt-tRNA", "mt-rRNA"):
                    fh.write(
                        f"{ref.mt_name}\trefseq\texon\t{g.start}\t{g.end}\t.\t{g.strand}\t.\t"
                        f'gene_id "{g.symbol}";\n'
                    )
        subprocess.run(["bowtie-build", "--threads", "2", "-q", str(fa), str(index)], check=True)
        (index.parent / "done").write_text("ok\n")
    return index, gtf


def run_usual(fq: Path, d: Path, cutadapt: str, adapter: str, processes: int) -> dict:
    index, gtf = build_reference(d)
    trimmed = d / "usual.trimmed.fastq.gz"
    bam = d / "usual.bam"
    counts = d / "usual.counts.txt"
    steps = {}
    steps["cutadapt"] = timed(
        [
            cutadapt,
            "-j",
            str(processes),
            "-a",
            adapter,
            "-m",
            "16",
            "-M",
            "45",
            "-o",
            str(trimmed),
            str(fq),
        ]
    )
    steps["bowtie + samtools sort"] = timed(
        f"bowtie -p {processes} -v 1 -k 1 --best -S -x {index} {trimmed} 2> "
        f"{d / 'bowtie.log'} | samtools sort -@ {processes} -o {bam} -",
        shell=True,
    )
    steps["featureCounts"] = timed(
        [
            "featureCounts",
            "-T",
            str(processes),
            "-s",
            "1",
            "-t",
            "exon",
            "-g",
            "gene_id",
            "-a",
            str(gtf),
            "-o",
            str(counts),
            str(bam),
        ]
    )
    table = pd.read_csv(counts, sep="\t", comment="#", index_col=0)
    return {
        "steps": {k: (v["wall_s"], v["peak_mb"]) for k, v in steps.items()},
        "wall_s": sum(v["wall_s"] for v in steps.values()),
        "cpu_s": sum(v["cpu_s"] for v in steps.values()),
        "peak_mb": max(v["peak_mb"] for v in steps.values()),
        "counts": table.iloc[:, -1],
    }


def run_mtncrna(fq: Path, d: Path, kit: str, processes: int, repeat: int) -> dict:
    out = d / f"mtncrna_cli_p{processes}"  # written by the command only (it keeps its folders)
    best = None
    for _ in range(repeat):
        cli = [sys.executable, "-m", "mtncrna.cli", "quant", "smallrna", "--kit", kit]
        r = timed([*cli, "-p", str(processes), "-o", str(out), str(fq)])
        if best is None or r["wall_s"] < best["wall_s"]:
            best = r
    counts = pd.read_csv(out / "counts_mature.tsv", sep="\t", index_col=0).iloc[:, 0]
    qc = pd.read_csv(out / "qc.tsv", sep="\t", index_col=0).iloc[0]
    return {
        "wall_s": best["wall_s"],
        "cpu_s": best["cpu_s"],
        "peak_mb": best["peak_mb"],
        "counts": counts,
        "qc": qc,
    }


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--reads", type=int, default=4_000_000)
    ap.add_argument("--workdir", default="/tmp/smallrna_bench")
    ap.add_argument("--processes", type=int, default=2)
    ap.add_argument("--kit", default="illumina", choices=sorted(sim.ADAPTERS))
    ap.add_argument("--cutadapt", default=shutil.which("cutadapt") or "cutadapt")
    ap.add_argument("--skip-usual", action="store_true")
    ap.add_argument("--repeat", type=int, default=1, help="mtncrna runs; the fastest is kept")
    ap.add_argument(
        "--one-core-only", action="store_true", help="only the 1-process / 1-thread pair"
    )
    ap.add_argument(
        "--phases",
        action="store_true",
        help="also CPU / wall seconds of each phase (1 process; and per log message, 1 and N)",
    )
    args = ap.parse_args(argv)
    d = Path(args.workdir)
    d.mkdir(parents=True, exist_ok=True)
    fq = d / f"sim_{args.kit}_{args.reads}.fastq.gz"
    if not fq.exists():
        sim.simulate(fq, n_reads=args.reads, seed=1, kit=args.kit)
    truth = pd.read_csv(sim.truth_path(fq), sep="\t", keep_default_na=False)
    unit = "molecules" if args.kit == "qiaseq" else "reads"

    zcat = timed(f"zcat {fq} > /dev/null", shell=True)
    col = timed([sys.executable, "-c", COLLAPSE_RUN, str(fq)])
    col_stats = json.loads(col["stdout"])
    print(
        f"zcat {zcat['wall_s']:.1f} s; mtncrna collapse {col['wall_s']:.1f} s wall "
        f"({col_stats['seconds']:.1f} s in collapse(), {col_stats['reads']:,} reads -> "
        f"{col_stats['distinct']:,} distinct)"
    )
    if args.phases:
        ph = timed([sys.executable, "-c", PHASES_RUN, str(fq), str(d / "mtncrna_phases")])
        print("| phase (1 process) | CPU s | wall s |\n|---|---|---|")
        for name, cpu, wall in json.loads(ph["stdout"]):
            print(f"| {name} | {cpu:.2f} | {wall:.2f} |")
        print(f"| whole process (GNU time) | {ph['cpu_s']:.2f} | {ph['wall_s']:.2f} |")
        for p in sorted({1, args.processes}):
            out = d / f"mtncrna_log_p{p}"
            ph = timed([sys.executable, "-c", PHASES_LOG_RUN, str(fq), str(out), str(p)])
            print(
                f"\n| {p} process(es), up to the log message | CPU s of this process "
                "(its threads) | wall s |"
            )
            print("|---|---|---|")
            for name, cpu, wall in json.loads(ph["stdout"]):
                print(f"| {name} | {cpu:.2f} | {wall:.2f} |")
            print(f"| whole process tree (GNU time) | {ph['cpu_s']:.2f} | {ph['wall_s']:.2f} |")
    rows = []
    usual_wall: dict[int, float] = {}
    usual_cpu: dict[int, float] = {}
    # interleaved: each pair shares the machine's load
    for p in [1] if args.one_core_only else sorted({1, args.processes}):
        m = run_mtncrna(fq, d, args.kit, p, args.repeat)
        s = sim.score(m["counts"], truth, unit=unit)
        rows.append(("mtncrna", p, m["wall_s"], m["cpu_s"], m["peak_mb"], s))
        if not args.skip_usual:
            u = run_usual(fq, d, args.cutadapt, sim.ADAPTERS[args.kit], p)
            s = sim.score(u["counts"], truth, unit=unit)
            rows.append(
                ("cutadapt+bowtie+sort+featureCounts", p, u["wall_s"], u["cpu_s"], u["peak_mb"], s)
            )
            usual_wall[p] = u["wall_s"]
            usual_cpu[p] = u["cpu_s"]
            for step, (w, mb) in u["steps"].items():
                print(f"  usual ({p} threads) {step}: {w:.1f} s, {mb:.0f} MB")
    print()
    print(
        "| pipeline | cores | wall s | CPU s | peak MB | **usual / this, same cores (wall)** | "
        "usual 1 core / this (wall) | usual / this (CPU) | miRNA recovered | miRNA false | "
        "mt-tRNA recovered | mt-rRNA recovered |"
    )
    print("|---|---|---|---|---|---|---|---|---|---|---|---|")
    for name, p, wall, cpu, mb, s in rows:
        same = f"{usual_wall[p] / wall:.1f}x" if p in usual_wall else "-"
        one = f"{usual_wall[1] / wall:.1f}x" if 1 in usual_wall else "-"
        cpu_ratio = f"{usual_cpu[p] / cpu:.1f}x" if p in usual_cpu else "-"
        print(
            f"| {name} | {p} | {wall:.1f} | {cpu:.1f} | {mb:.0f} | **{same}** | {one} | "
            f"{cpu_ratio} | "
            f"{s['miRNA recovered']:.4f} | {s['miRNA false']:.4f} | "
            f"{s['mt-tRNA recovered']:.4f} | {s['mt-rRNA recovered']:.4f} |"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
