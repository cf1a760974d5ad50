"""Side-by-side speed and memory of BAM counting: mtncrna vs featureCounts and htseq-count.

    python benchmarks/bench_quant_bam.py [--reads 4000000] [--repeats 3] [--workdir DIR]
        [--htseq /tmp/htseq-venv/bin/htseq-count] [--gencode-like]

Simulates (seed 20240601) a genome annotation and a coordinate-sorted single-end BAM with spliced
reads, indels, antisense-overlapping genes, intergenic and unmapped reads, low-MAPQ reads and
multi-mappers (NH:i:2/3, primary + secondary records), then times, each in its own process under
``/usr/bin/time -v``:

* ``mtncrna.quant.count_bam`` + ``write_counts`` (defaults: unstranded, unique alignments only),
  with ``threads=1`` and ``threads=2``,
* ``featureCounts -T 1 -a genes.gtf -o fc.txt sim.bam`` (Debian's subread),
* ``htseq-count -f bam -r pos -s no -a 0 sim.bam genes.gtf`` (HTSeq installed in a throwaway
  venv: ``python3 -m venv /tmp/htseq-venv && /tmp/htseq-venv/bin/pip install HTSeq==2.1.2``),

best wall time of ``--repeats`` runs (htseq-count: one run). It first checks that mtncrna's
counts and summary equal featureCounts' (defaults, and ``-s 1 -M --fraction -O -Q 10``).
htseq-count applies other rules (it counts reads, not alignments, and drops reads overlapping
two genes' exons differently), so only its speed is compared. ``--gencode-like`` also times
both tools with a GENCODE-sized GTF, where loading the annotation dominates.
"""

from __future__ import annotations

import argparse
import os
import re
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

import numpy as np

SEED = 20240601
READ_LEN = 50
CONTIGS = {"chr1": 3_000_000, "chr2": 2_500_000, "chr3": 2_000_000, "chrM": 16_569}


# --------------------------------------------------------------------------------------------
# simulation
# --------------------------------------------------------------------------------------------


def simulate_annotation(rng: np.random.Generator, out: Path) -> list[tuple[str, str, list]]:
    """Genes of 1-5 exons along each contig; every 7th gene gets an antisense partner overlapping
    its last exon. Returns (gene_id, chrom, strand, exons) with 1-based inclusive exons."""
    genes = []
    lines = ["#!genome-build mtncrna-bench"]
    n = 0
    for chrom, length in CONTIGS.items():
        pos = 1_000
        while True:
            n_exons = int(rng.integers(1, 6))
            exon_lens = rng.integers(80, 600, n_exons)
            intron_lens = rng.integers(60, 3_000, max(n_exons - 1, 0))
            span = int(exon_lens.sum() + intron_lens.sum())
            if pos + span + 1_000 > length:
                break
            strand = "+" if rng.random() < 0.5 else "-"
            exons = []
            p = pos
            for i in range(n_exons):
                exons.append((p, p + int(exon_lens[i]) - 1))
                p += int(exon_lens[i]) + (int(intron_lens[i]) if i < n_exons - 1 else 0)
            n += 1
            genes.append((f"G{n:06d}", chrom, strand, exons))
            if n % 7 == 0:  # antisense partner overlapping the last exon
                s = exons[-1][0] + int(rng.integers(0, 60))
                e = s + int(rng.integers(200, 900))
                n += 1
                genes.append((f"G{n:06d}", chrom, "-" if strand == "+" else "+", [(s, e)]))
                pos = e
            pos = max(pos, exons[-1][1]) + int(rng.integers(200, 4_000))
    for gid, chrom, strand, exons in genes:
        attrs = f'gene_id "{gid}"; gene_name "N{gid[1:]}";'
        lo, hi = exons[0][0], max(e for _, e in exons)
        lines.append(f"{chrom}\tsim\tgene\t{lo}\t{hi}\t.\t{strand}\t.\t{attrs}")
        for s, e in exons:
            lines.append(
                f'{chrom}\tsim\texon\t{s}\t{e}\t.\t{strand}\t.\t{attrs} transcript_id "T{gid[1:]}";'
            )
    out.write_text("\n".join(lines) + "\n")
    return genes


def gencode_like(out: Path, n_genes: int = 60_000, seed: int = SEED) -> Path:
    """A GENCODE-sized GTF (gene, 4 transcripts, 6 exons each, GENCODE's attributes): genes
    fill chr1-chr3 of the simulated genome, the rest go to chr4-chr22 (absent from the BAM)."""
    rng = np.random.default_rng(seed)
    lines = ["##description: GENCODE-like, simulated by bench_quant_bam.py"]
    chroms = [*CONTIGS][:3] + [f"chr{i}" for i in range(4, 23)]
    limit = {c: CONTIGS.get(c, 250_000_000) - 10_000 for c in chroms}
    c, pos = 0, 1_000
    for g in range(n_genes):
        if pos > limit[chroms[c]]:
            c, pos = c + 1, 1_000
        chrom, strand, gid = chroms[c], "+-"[g % 2], f"ENSG{g:011d}.{g % 9 + 1}"
        common = f'gene_id "{gid}"; gene_type "protein_coding"; gene_name "GENE{g}"; level 2;'
        lines.append(f"{chrom}\tHAVANA\tgene\t{pos}\t{pos + 5_000}\t.\t{strand}\t.\t{common}")
        for t in range(4):
            tid = f"ENST{4 * g + t:011d}.1"
            tx = f'{common} transcript_id "{tid}"; transcript_type "protein_coding";'
            lines.append(f"{chrom}\tHAVANA\ttranscript\t{pos}\t{pos + 5_000}\t.\t{strand}\t.\t{tx}")
            for e in range(6):
                s = pos + 800 * e + int(rng.integers(0, 40))
                lines.append(
                    f"{chrom}\tHAVANA\texon\t{s}\t{s + 150}\t.\t{strand}\t.\t{tx} "
                    f'exon_number {e + 1}; exon_id "ENSE{6 * g + e:011d}.1"; tag "basic";'
                )
        pos += 6_000
    out.write_text("\n".join(lines) + "\n")
    return out


def _spliced(exons: list, offset: int, length: int) -> tuple[int, str] | None:
    """Place a read at transcript offset ``offset``: (1-based genome pos, CIGAR) or None."""
    cigar, pos, left, prev_end = [], None, length, None
    t = 0
    for s, e in exons:
        elen = e - s + 1
        if t + elen <= offset:
            t += elen
            continue
        start_in = max(offset - t, 0)
        take = min(elen - start_in, left)
        if pos is None:
            pos = s + start_in
        else:
            cigar.append(f"{s - prev_end - 1}N")
        cigar.append(f"{take}M")
        left -= take
        prev_end = s + start_in + take - 1
        t += elen
        if left == 0:
            return pos, "".join(cigar)
    return None


def simulate_bam(n_reads: int, out_dir: Path, seed: int = SEED) -> tuple[Path, Path]:
    """Write ``genes.gtf`` and a coordinate-sorted, indexed ``sim.bam`` in ``out_dir``."""
    import pysam

    rng = np.random.default_rng(seed)
    gtf = out_dir / "genes.gtf"
    genes = simulate_annotation(rng, gtf)
    sam = out_dir / "sim.unsorted.sam"
    header = ["@HD\tVN:1.6\tSO:unsorted"]
    header += [f"@SQ\tSN:{c}\tLN:{n}" for c, n in CONTIGS.items()]
    header.append("@PG\tID:sim\tPN:bench_quant_bam.py")
    bases = np.frombuffer(b"ACGT", dtype=np.uint8)[rng.integers(0, 4, (n_reads, READ_LEN))]
    quals = np.frombuffer(b"FF:,F", dtype=np.uint8)[rng.integers(0, 5, (n_reads, READ_LEN))]
    contig_names = list(CONTIGS)
    contig_lens = np.array(list(CONTIGS.values()))
    kinds = rng.choice(
        ["gene", "intergenic", "unmapped", "multi", "lowq", "indel"],
        size=n_reads,
        p=[0.78, 0.08, 0.02, 0.05, 0.04, 0.03],
    )
    gene_idx = rng.integers(0, len(genes), n_reads)
    u = rng.random(n_reads)
    with sam.open("w") as fh:
        fh.write("\n".join(header) + "\n")
        buf = []
        for i in range(n_reads):
            kind = kinds[i]
            name = f"r{i}"
            seq = bases[i].tobytes().decode()
            qual = quals[i].tobytes().decode()
            if kind == "unmapped":
                buf.append(f"{name}\t4\t*\t0\t0\t*\t*\t0\t0\t{seq}\t{qual}")
                continue
            if kind in ("intergenic", "multi"):
                c = int(rng.integers(0, 3))
                p = int(rng.integers(1, contig_lens[c] - READ_LEN))
                chrom, cigar, strand = contig_names[c], f"{READ_LEN}M", "."
            else:
                _, chrom, strand, exons = genes[gene_idx[i]]
                tlen = sum(e - s + 1 for s, e in exons)
                placed = _spliced(exons, int(u[i] * max(tlen - READ_LEN, 1)), READ_LEN)
                if placed is None:
                    continue
                p, cigar = placed
                if kind == "indel" and cigar == f"{READ_LEN}M":
                    cigar = "20M2D30M" if u[i] < 0.5 else "20M2I28M"
            if kind in ("intergenic", "multi"):
                flag = 16 if rng.random() < 0.5 else 0
            else:  # 80% sense reads, so that the strand options matter
                flag = 16 if (strand == "-") != (rng.random() < 0.2) else 0
            if kind == "multi":
                nh = 2 if u[i] < 0.7 else 3
                for h in range(nh):
                    c2 = int(rng.integers(0, 3))
                    p2 = p if h == 0 else int(rng.integers(1, contig_lens[c2] - READ_LEN))
                    ch = chrom if h == 0 else contig_names[c2]
                    f = flag | (256 if h else 0)
                    buf.append(
                        f"{name}\t{f}\t{ch}\t{p2}\t1\t{cigar}\t*\t0\t0\t{seq}\t{qual}"
                        f"\tNH:i:{nh}\tHI:i:{h + 1}"
                    )
            else:
                mapq = 3 if kind == "lowq" else 60
                buf.append(
                    f"{name}\t{flag}\t{chrom}\t{p}\t{mapq}\t{cigar}\t*\t0\t0\t{seq}\t{qual}\tNH:i:1"
                )
            if len(buf) >= 100_000:
                fh.write("\n".join(buf) + "\n")
                buf = []
        if buf:
            fh.write("\n".join(buf) + "\n")
    bam = out_dir / "sim.bam"
    pysam.sort("-@", "2", "-m", "1G", "--no-PG", "-o", str(bam), str(sam))
    pysam.index(str(bam))
    sam.unlink()
    return bam, gtf


PE_READ_LEN = 75


def simulate_paired_bam(n_fragments: int, out_dir: Path, seed: int = SEED) -> tuple[Path, Path]:
    """Write ``genes.gtf`` and a coordinate-sorted ``sim_pe.bam`` of paired 2 x 75 bp fragments
    from a reverse-stranded library (read 1 antisense to the gene, as in dUTP/TruSeq stranded; 10%
    of fragments the other way): 80% from exons (spliced where they cross an exon end), 7%
    intergenic, 2% both mates unmapped, 3% one mate unmapped, 3% MAPQ 3, 5% multi-mapping pairs
    (NH:i:2, a primary and a secondary placement, HI:i:1/2)."""
    rng = np.random.default_rng(seed + 1)
    gtf = out_dir / "genes.gtf"
    genes = simulate_annotation(np.random.default_rng(seed), gtf)
    n = n_fragments
    rl = PE_READ_LEN
    header = ["@HD\tVN:1.6\tSO:unsorted"]
    header += [f"@SQ\tSN:{c}\tLN:{ln}" for c, ln in CONTIGS.items()]
    header.append("@PG\tID:sim\tPN:bench_quant_bam.py")
    contig_names = list(CONTIGS)
    contig_lens = np.array(list(CONTIGS.values()))
    kinds = rng.choice(
        ["gene", "intergenic", "unmapped", "singleton", "lowq", "multi"],
        size=n,
        p=[0.80, 0.07, 0.02, 0.03, 0.03, 0.05],
    )
    gene_idx = rng.integers(0, len(genes), n)
    u = rng.random(n)
    flen = np.clip(rng.normal(260, 50, n).astype(int), rl, 600)
    antisense_r1 = rng.random(n) < 0.9
    alphabet = np.frombuffer(b"ACGT", dtype=np.uint8)
    qual_alphabet = np.frombuffer(b"FF:,F", dtype=np.uint8)
    out = out_dir / "sim_pe.bam"
    sort = subprocess.Popen(
        ["samtools", "sort", "-@", "2", "-m", "1G", "--no-PG", "-o", str(out), "-"],
        stdin=subprocess.PIPE,
        text=True,
    )
    fh = sort.stdin
    fh.write("\n".join(header) + "\n")
    buf: list[str] = []

    pool = {"seq": "", "qual": "", "at": 0, "size": 0}

    def line(name, flag, chrom, pos, mapq, cigar, mchrom, mpos, tlen, tags):
        if pool["at"] == pool["size"]:  # random bases and qualities, 100,000 reads at a time
            k = 100_000
            pool["seq"] = alphabet[rng.integers(0, 4, k * rl)].tobytes().decode()
            pool["qual"] = qual_alphabet[rng.integers(0, 5, k * rl)].tobytes().decode()
            pool["at"], pool["size"] = 0, k
        j = pool["at"] * rl
        seq, qual = pool["seq"][j : j + rl], pool["qual"][j : j + rl]
        pool["at"] += 1
        rnext = "=" if mchrom == chrom and chrom != "*" else mchrom
        buf.append(
            f"{name}\t{flag}\t{chrom}\t{pos}\t{mapq}\t{cigar}\t{rnext}\t{mpos}\t{tlen}\t{seq}\t"
            f"{qual}{tags}"
        )

    def pair(name, chrom, p1, c1, p2, c2, rev1, mapq=60, nh=1, hi=1, secondary=False, unm=0):
        # unm: 0 both mapped, 1 read 1 unmapped, 2 read 2 unmapped
        tags = f"\tNH:i:{nh}\tHI:i:{hi}"
        f1, f2 = 1 | 64, 1 | 128
        if secondary:
            f1, f2 = f1 | 256, f2 | 256
        if unm == 1:
            f1, f2 = f1 | 4 | (32 if not rev1 else 0), f2 | 8 | (0 if rev1 else 16)
            line(name, f1, chrom, p2, 0, "*", chrom, p2, 0, "")
            line(name, f2, chrom, p2, mapq, c2, chrom, p2, 0, tags)
            return
        if unm == 2:
            f1, f2 = f1 | 8 | (16 if rev1 else 0), f2 | 4 | (32 if rev1 else 0)
            line(name, f1, chrom, p1, mapq, c1, chrom, p1, 0, tags)
            line(name, f2, chrom, p1, 0, "*", chrom, p1, 0, "")
            return
        f1 |= (16 if rev1 else 32) | 2
        f2 |= (32 if rev1 else 16) | 2
        tlen = abs(p2 - p1) + rl
        t1 = tlen if p1 <= p2 else -tlen
        line(name, f1, chrom, p1, mapq, c1, chrom, p2, t1, tags)
        line(name, f2, chrom, p2, mapq, c2, chrom, p1, -t1, tags)

    for i in range(n):
        kind = kinds[i]
        name = f"f{i}"
        if kind == "unmapped":
            for flag in (1 | 64 | 4 | 8, 1 | 128 | 4 | 8):
                line(name, flag, "*", 0, 0, "*", "*", 0, 0, "")
        elif kind in ("intergenic", "multi"):
            c = int(rng.integers(0, 3))
            p = int(rng.integers(1, contig_lens[c] - 700))
            m = f"{rl}M"
            rev1 = bool(u[i] < 0.5)
            if kind == "intergenic":
                pair(name, contig_names[c], p, m, p + int(flen[i]) - rl, m, rev1)
            else:
                pair(name, contig_names[c], p, m, p + int(flen[i]) - rl, m, rev1, nh=2, hi=1)
                c2 = int(rng.integers(0, 3))
                q = int(rng.integers(1, contig_lens[c2] - 700))
                pair(name, contig_names[c2], q, m, q + int(flen[i]) - rl, m, not rev1, 3, 2, 2,
                     secondary=True)  # fmt: skip
        else:
            _, chrom, strand, exons = genes[gene_idx[i]]
            tlen = sum(e - s + 1 for s, e in exons)
            fl = min(int(flen[i]), tlen)
            if fl < rl:
                continue
            start = int(u[i] * (tlen - fl + 1))
            left = _spliced(exons, start, rl)
            right = _spliced(exons, start + fl - rl, rl)
            if left is None or right is None:
                continue
            # read 1 antisense: on a + gene it is the reverse (right) read
            r1_right = (strand == "+") == bool(antisense_r1[i])
            (p1, c1), (p2, c2) = (right, left) if r1_right else (left, right)
            rev1 = r1_right
            if kind == "singleton":
                pair(name, chrom, p1, c1, p2, c2, rev1, unm=1 if u[i] < 0.015 else 2)
            else:
                pair(name, chrom, p1, c1, p2, c2, rev1, mapq=3 if kind == "lowq" else 60)
        if len(buf) >= 100_000:
            fh.write("\n".join(buf) + "\n")
            buf.clear()
    if buf:
        fh.write("\n".join(buf) + "\n")
    fh.close()
    if sort.wait() != 0:
        sys.exit("samtools sort failed")
    return out, gtf


# --------------------------------------------------------------------------------------------
# timing: every tool in its own process, whole process, under /usr/bin/time -v
# --------------------------------------------------------------------------------------------


def timed(cmd: list[str], env: dict | None = None) -> dict[str, float]:
    proc = subprocess.run(
        ["/usr/bin/time", "-v", *cmd],
        capture_output=True,
        text=True,
        env={**os.environ, **(env or {})},
    )
    if proc.returncode != 0:
        sys.exit(f"{' '.join(cmd)} failed:\n{proc.stderr[-3000:]}")
    wall = re.search(r"Elapsed \(wall clock\) time.*: (?:(\d+):)?(\d+):([\d.]+)", proc.stderr)
    h, m, sec = wall.groups()
    rss = int(re.search(r"Maximum resident set size \(kbytes\): (\d+)", proc.stderr).group(1))
    return {"wall_s": int(h or 0) * 3600 + int(m) * 60 + float(sec), "peak_mb": rss / 1024}


def best(cmd: list[str], repeats: int, env: dict | None = None) -> dict[str, float]:
    return min((timed(cmd, env) for _ in range(repeats)), key=lambda r: r["wall_s"])


def read_table(path: Path, comment: str | None = None):
    import pandas as pd

    table = pd.read_csv(path, sep="\t", comment=comment, index_col=0)
    summary = pd.read_csv(path.with_name(path.name + ".summary"), sep="\t", index_col=0)
    return table.iloc[:, -1].to_numpy(), summary.iloc[:, -1].to_numpy()


def fc_cmd(gtf: Path, bam: Path, out: Path, args: list[str], threads: int = 1) -> list[str]:
    return ["featureCounts", "-T", str(threads), *args, "-a", str(gtf), "-o", str(out), str(bam)]


def mt_cmd(gtf: Path, bam: Path, out: Path, args: list[str], threads: int = 1) -> list[str]:
    """``mtncrna quant bam`` as a user runs it (the console script of this Python)."""
    exe = Path(sys.executable).with_name("mtncrna")
    return [str(exe), "quant", "bam", "--threads", str(threads), *args, "-a", str(gtf),
            "-o", str(out), str(bam)]  # fmt: skip


#: featureCounts options -> mtncrna quant bam options
def mt_args(fc_args: list[str]) -> list[str]:
    out, i = [], 0
    while i < len(fc_args):
        a = fc_args[i]
        if a == "-s":
            out += ["--strand", ["unstranded", "forward", "reverse"][int(fc_args[i + 1])]]
            i += 1
        elif a == "-Q":
            out += ["--min-mapq", fc_args[i + 1]]
            i += 1
        elif a == "-O":
            out.append("--allow-multi-overlap")
        elif a == "--primary":
            out.append("--primary")
        elif a in ("-p", "--countReadPairs"):
            pass  # paired-end input is counted as fragments by default
        elif a not in ("-M", "--fraction"):
            raise ValueError(a)
        i += 1
    if "-M" in fc_args:
        out += ["--multimap", "fraction" if "--fraction" in fc_args else "all"]
    return out


def check_same(d: Path, gtf: Path, bam: Path, fc_args: list[str]) -> str:
    """Counts and summary of both tools on one option set."""
    fc_out, mt_out = d / "fc_check.txt", d / "mt_check.tsv"
    timed(fc_cmd(gtf, bam, fc_out, fc_args))
    timed(mt_cmd(gtf, bam, mt_out, mt_args(fc_args)))
    fc_counts, fc_summary = read_table(fc_out, comment="#")
    mt_counts, mt_summary = read_table(mt_out)
    if "--fraction" in fc_args:
        mt_counts = mt_counts.round(2)
    same = bool((mt_counts == fc_counts).all())
    same_summary = bool((mt_summary == fc_summary).all())
    return (
        f"{bam.name}, {gtf.name}, featureCounts {' '.join(fc_args) or '(defaults)'}: counts "
        f"identical: {same}, summary identical: {same_summary} ({int(fc_summary[0]):,} assigned)"
    )


def n_records(bam: Path) -> int:
    import pysam

    return sum(int(f.split("\t")[2]) + int(f.split("\t")[3]) for f in
               pysam.idxstats(str(bam)).splitlines())  # fmt: skip


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--fragments", type=int, default=2_000_000, help="paired-end fragments")
    ap.add_argument("--reads", type=int, default=4_000_000, help="single-end reads (GENCODE case)")
    ap.add_argument("--small-reads", type=int, default=300_000, help="single-end reads, small")
    ap.add_argument("--repeats", type=int, default=1)
    ap.add_argument("--workdir", help="keep the simulated files here (reused if present)")
    args = ap.parse_args()
    for tool in ("featureCounts", "samtools"):
        if shutil.which(tool) is None:
            sys.exit(f"{tool} is not installed (Debian: apt-get install subread samtools)")
    tmp = tempfile.TemporaryDirectory() if not args.workdir else None
    d = Path(args.workdir or tmp.name)
    for sub in ("pe", "se", "small"):
        (d / sub).mkdir(parents=True, exist_ok=True)
    pe_bam, gtf = d / "pe" / "sim_pe.bam", d / "pe" / "genes.gtf"
    if not pe_bam.exists():
        simulate_paired_bam(args.fragments, d / "pe")
        pysam_index(pe_bam)
    se_bam = d / "se" / "sim.bam"
    if not se_bam.exists():
        simulate_bam(args.reads, d / "se")
    small_bam, small_gtf = d / "small" / "sim.bam", d / "small" / "genes.gtf"
    if not small_bam.exists():
        simulate_bam(args.small_reads, d / "small", seed=SEED + 7)
    big = d / "gencode_like.gtf"
    if not big.exists():
        gencode_like(big)

    pe_args = ["-p", "--countReadPairs", "-s", "2", "-M"]
    cases = [  # name, gtf, bam, featureCounts options, featureCounts -T
        ("paired-end 2 x 75, reverse-stranded", gtf, pe_bam, pe_args),
        ("single-end, small", small_gtf, small_bam, []),
        ("single-end, GENCODE-sized GTF", big, se_bam, []),
    ]
    for _, g, b, fa in cases:
        print(check_same(d, g, b, fa), flush=True)
    more = ["-p", "--countReadPairs", "-O", "-M", "--fraction", "-Q", "10"]
    print(check_same(d, gtf, pe_bam, more), flush=True)

    rows = []
    fresh = tempfile.mkdtemp(prefix="numba-cache-")
    for name, g, b, fa in cases:
        n = n_records(b)
        fc1 = best(fc_cmd(g, b, d / "fc.txt", fa, 1), args.repeats)
        rows.append((name, n, "featureCounts -T 1", fc1, fc1))
        if b is pe_bam:
            rows.append((name, n, "featureCounts -T 2", best(fc_cmd(g, b, d / "fc.txt", fa, 2),
                                                             args.repeats), fc1))  # fmt: skip
        if b is se_bam:  # first run: the parsed annotation is cached beside the GTF
            for cache in g.parent.glob(f".{g.name}.*.mtncrna-annotation"):
                cache.unlink()
            first = timed(mt_cmd(g, b, d / "mt.tsv", mt_args(fa), 1))
            rows.append((name, n, "mtncrna, threads=1, first run (annotation parsed)", first, fc1))
        if b is small_bam:  # a fresh install: the kernels are compiled on the first run
            cold = timed(mt_cmd(g, b, d / "mt.tsv", mt_args(fa), 1), {"NUMBA_CACHE_DIR": fresh})
            rows.append((name, n, "mtncrna, threads=1, fresh install (kernels compiled)", cold,
                         fc1))  # fmt: skip
        for t in (1, 2):
            r = best(mt_cmd(g, b, d / "mt.tsv", mt_args(fa), t), args.repeats)
            rows.append((name, n, f"mtncrna, threads={t}", r, fc1))
    shutil.rmtree(fresh, ignore_errors=True)
    print()
    print("| data | records | tool | wall s | peak MB | **vs featureCounts -T 1** |")
    print("|---|---|---|---|---|---|")
    for name, n, tool, r, fc1 in rows:
        print(
            f"| {name} | {n:,} | {tool} | {r['wall_s']:.2f} | {r['peak_mb']:.0f} | "
            f"**{fc1['wall_s'] / r['wall_s']:.2f}x** |"
        )
    if tmp is not None:
        tmp.cleanup()


def pysam_index(bam: Path) -> None:
    import pysam

    pysam.index(str(bam))


if __name__ == "__main__":
    main()
