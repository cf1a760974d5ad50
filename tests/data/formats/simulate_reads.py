#!/usr/bin/env python3
"""Build the tiny, seeded "world" used to make the count-format fixtures.

Writes, under OUTDIR (default: current directory):

  world/genome.fa        3 contigs (chr1 5 kb, chr2 3 kb, chrM 2 kb), random, seeded
  world/genes.gtf        10 genes (gene/transcript/exon lines, some multi-exon)
  sam/S1.sam .. S4.sam   single-end 50 bp alignments (unsorted SAM), including
                         spliced reads, reads on an overlap of two genes
                         (ambiguous), intergenic reads (no feature), MAPQ-3
                         reads (too low aQual), unmapped reads and
                         multi-mapping reads (NH:i:2, primary + secondary)
  mirna/hairpin.fa       miRBase-style hairpin (precursor) FASTA, U alphabet
  mirna/mature.fa        miRBase-style mature FASTA, U alphabet
  mirna/mirna.gff3       miRBase-style GFF3 (miRNA_primary_transcript + miRNA)
                         on a pseudo chromosome made of the hairpins
  mirna/S1.fastq .. S4.fastq
                         small-RNA reads (adapter already removed) drawn from
                         the mature sequences with 3' trimming / non-templated
                         additions, plus a few reads matching nothing
  mirna/other_small_rna/*.fa
                         two random sequences per non-miRNA class (tRNA,
                         snoRNA, rRNA, ...) for the miRge3 library

Only the Python standard library is used; everything is a pure function of
the seed, so the output is byte-identical on every run.

Usage: python3 simulate_reads.py [OUTDIR] [--seed N]
"""

import math
import os
import random
import sys

SEED = 20240531
READ_LEN = 50
SAMPLES = ["S1", "S2", "S3", "S4"]

CONTIGS = [("chr1", 5000), ("chr2", 3000), ("chrM", 2000)]

# gene_id, gene_name, biotype, contig, strand, [(start, end), ...] 1-based incl.
GENES = [
    ("ENSG00000240405", "SAMMSON", "lncRNA", "chr1", "+", [(201, 500), (801, 1100)]),
    ("ENSG00000000003", "TSPAN6", "protein_coding", "chr1", "-", [(1301, 1700)]),
    # TNMD overlaps TSPAN6 on 1601-1700 (opposite strand): unstranded
    # counting makes reads there ambiguous.
    ("ENSG00000000005", "TNMD", "protein_coding", "chr1", "+", [(1601, 2000)]),
    (
        "ENSG00000000419",
        "DPM1",
        "protein_coding",
        "chr1",
        "+",
        [(2501, 2800), (3001, 3200), (3401, 3600)],
    ),
    ("ENSG00000000457", "SCYL3", "protein_coding", "chr1", "-", [(4001, 4600)]),
    ("ENSG00000000460", "C1orf112", "protein_coding", "chr2", "+", [(301, 900), (1201, 1500)]),
    ("ENSG00000001036", "FUCA2", "protein_coding", "chr2", "-", [(2001, 2600)]),
    # never gets a read: an all-zero row in every table
    ("ENSG00000001084", "GCLC", "protein_coding", "chr2", "-", [(2701, 2950)]),
    ("ENSG00000210049", "MT-TF", "Mt_tRNA", "chrM", "+", [(1, 71)]),
    ("ENSG00000211459", "MT-RNR1", "Mt_rRNA", "chrM", "+", [(72, 1025)]),
]

# mean reads per gene (before the per-sample factor); GCLC gets none
GENE_MEAN = {
    "ENSG00000240405": 40,
    "ENSG00000000003": 25,
    "ENSG00000000005": 12,
    "ENSG00000000419": 60,
    "ENSG00000000457": 18,
    "ENSG00000000460": 30,
    "ENSG00000001036": 8,
    "ENSG00000001084": 0,
    "ENSG00000210049": 6,
    "ENSG00000211459": 90,
}
SAMPLE_FACTOR = {"S1": 1.0, "S2": 1.5, "S3": 0.6, "S4": 1.2}

# intergenic windows (no annotation at all)
INTERGENIC = [("chr1", 4700, 4990), ("chr2", 1, 290), ("chrM", 1100, 1990)]
# overlap of TSPAN6 and TNMD
AMBIGUOUS = ("chr1", 1610, 1690)
# a duplicated region used for multi-mappers: chr2:1221-1280 is copied
# onto chr1:4721-4780 when the genome is built
DUP_SRC = ("chr2", 1221)
DUP_DST = ("chr1", 4721)
DUP_LEN = 60

# ---------------------------------------------------------------- miRNAs
# mature name, precursor name. The first three names share one mature
# sequence in pairs (hsa-let-7a-5p / hsa-let-7c-5p style duplicates).
MIRNAS = [
    ("hsa-let-7a-5p", "hsa-let-7a-1"),
    ("hsa-let-7c-5p", "hsa-let-7c"),  # same mature sequence as let-7a-5p
    ("hsa-let-7b-5p", "hsa-let-7b"),
    ("hsa-miR-21-5p", "hsa-mir-21"),
    ("hsa-miR-125b-5p", "hsa-mir-125b-1"),
    ("hsa-miR-485-5p", "hsa-mir-485"),
    ("hsa-miR-485-3p", "hsa-mir-485"),
    ("hsa-miR-2392", "hsa-mir-2392"),
    ("hsa-miR-5787", "hsa-mir-5787"),
    ("hsa-miR-16-5p", "hsa-mir-16-1"),
    ("hsa-miR-191-5p", "hsa-mir-191"),
    ("hsa-miR-27a-3p", "hsa-mir-27a"),
    ("hsa-miR-27b-3p", "hsa-mir-27b"),  # same mature sequence as 27a-3p
    ("hsa-miR-122-5p", "hsa-mir-122"),
    ("hsa-miR-451a", "hsa-mir-451a"),
    ("hsa-miR-1-3p", "hsa-mir-1-1"),  # never expressed
]
# Never-expressed miRNAs, present in the references only. They make the
# libraries big enough for miRge3's HTML report (it tiles the top 40 miRNAs
# of every sample and fails with fewer than 40 in its library) and show up as
# all-zero rows in miRge3's tables.
UNEXPRESSED = [
    "hsa-miR-7-5p",
    "hsa-miR-9-5p",
    "hsa-miR-10a-5p",
    "hsa-miR-10b-5p",
    "hsa-miR-15a-5p",
    "hsa-miR-17-5p",
    "hsa-miR-18a-5p",
    "hsa-miR-19a-3p",
    "hsa-miR-20a-5p",
    "hsa-miR-22-3p",
    "hsa-miR-23a-3p",
    "hsa-miR-24-3p",
    "hsa-miR-25-3p",
    "hsa-miR-26a-5p",
    "hsa-miR-29a-3p",
    "hsa-miR-30a-5p",
    "hsa-miR-31-5p",
    "hsa-miR-32-5p",
    "hsa-miR-33a-5p",
    "hsa-miR-34a-5p",
    "hsa-miR-92a-3p",
    "hsa-miR-93-5p",
    "hsa-miR-99a-5p",
    "hsa-miR-100-5p",
    "hsa-miR-101-3p",
    "hsa-miR-103a-3p",
    "hsa-miR-106a-5p",
    "hsa-miR-107",
    "hsa-miR-124-3p",
    "hsa-miR-126-3p",
]
MIRNAS += [(m, "hsa-mir-" + m.split("-")[2]) for m in UNEXPRESSED]
SAME_SEQ = {"hsa-let-7c-5p": "hsa-let-7a-5p", "hsa-miR-27b-3p": "hsa-miR-27a-3p"}
MIRNA_MEAN = {
    "hsa-let-7a-5p": 40,
    "hsa-let-7c-5p": 0,
    "hsa-let-7b-5p": 25,
    "hsa-miR-21-5p": 60,
    "hsa-miR-125b-5p": 20,
    "hsa-miR-485-5p": 8,
    "hsa-miR-485-3p": 5,
    "hsa-miR-2392": 6,
    "hsa-miR-5787": 4,
    "hsa-miR-16-5p": 30,
    "hsa-miR-191-5p": 15,
    "hsa-miR-27a-3p": 12,
    "hsa-miR-27b-3p": 0,
    "hsa-miR-122-5p": 10,
    "hsa-miR-451a": 18,
    "hsa-miR-1-3p": 0,
}
MIRNA_MEAN.update({m: 0 for m in UNEXPRESSED})
# hsa-miR-5787 is absent from S3 (sample-specific zero)
MIRNA_ZERO = {("hsa-miR-5787", "S3")}
MIMAT = {name: "MIMAT%07d" % (1000 + i) for i, (name, _) in enumerate(MIRNAS)}
MI = {}


def rand_seq(rng, n, alphabet="ACGT"):
    return "".join(rng.choice(alphabet) for _ in range(n))


def revcomp(s):
    return s[::-1].translate(str.maketrans("ACGTN", "TGCAN"))


def poisson(rng, lam):
    """Knuth's Poisson sampler (lam is small here)."""
    if lam <= 0:
        return 0

    limit, k, p = math.exp(-lam), 0, 1.0
    while True:
        p *= rng.random()
        if p <= limit:
            return k
        k += 1


def build_genome(rng):
    genome = {}
    for name, length in CONTIGS:
        genome[name] = list(rand_seq(rng, length))
    src = genome[DUP_SRC[0]][DUP_SRC[1] - 1 : DUP_SRC[1] - 1 + DUP_LEN]
    genome[DUP_DST[0]][DUP_DST[1] - 1 : DUP_DST[1] - 1 + DUP_LEN] = src
    return {k: "".join(v) for k, v in genome.items()}


def write_fasta(path, records, width=60):
    with open(path, "w") as fh:
        for name, seq in records:
            fh.write(">%s\n" % name)
            for i in range(0, len(seq), width):
                fh.write(seq[i : i + width] + "\n")


def write_gtf(path):
    with open(path, "w") as fh:
        fh.write("#!genome-build mtncrna-tiny-world\n")
        for gid, gname, btype, chrom, strand, exons in GENES:
            tid = gid.replace("ENSG", "ENST")
            gstart, gend = exons[0][0], exons[-1][1]
            gattr = 'gene_id "%s"; gene_name "%s"; gene_biotype "%s";' % (gid, gname, btype)
            tattr = 'gene_id "%s"; transcript_id "%s"; gene_name "%s"; gene_biotype "%s";' % (
                gid,
                tid,
                gname,
                btype,
            )
            fh.write(
                "\t".join([chrom, "sim", "gene", str(gstart), str(gend), ".", strand, ".", gattr])
                + "\n"
            )
            fh.write(
                "\t".join(
                    [chrom, "sim", "transcript", str(gstart), str(gend), ".", strand, ".", tattr]
                )
                + "\n"
            )
            for n, (s, e) in enumerate(exons, 1):
                eattr = tattr + ' exon_number "%d";' % n
                fh.write(
                    "\t".join([chrom, "sim", "exon", str(s), str(e), ".", strand, ".", eattr])
                    + "\n"
                )


def place_on_transcript(rng, exons):
    """Pick a 50 bp window on the spliced transcript; return (pos, cigar)."""
    tlen = sum(e - s + 1 for s, e in exons)
    off = rng.randint(0, tlen - READ_LEN)
    # walk exons to find the genomic blocks
    blocks, need, skip = [], READ_LEN, off
    for s, e in exons:
        elen = e - s + 1
        if skip >= elen:
            skip -= elen
            continue
        bstart = s + skip
        take = min(need, e - bstart + 1)
        blocks.append((bstart, take))
        need -= take
        skip = 0
        if need == 0:
            break
    cigar, prev_end = "", None
    for bstart, take in blocks:
        if prev_end is not None:
            cigar += "%dN" % (bstart - prev_end - 1)
        cigar += "%dM" % take
        prev_end = bstart + take - 1
    return blocks[0][0], cigar, blocks


def seq_for(genome, chrom, blocks):
    return "".join(genome[chrom][b - 1 : b - 1 + n] for b, n in blocks)


def simulate_sample(rng, genome, sample):
    recs = []  # (qname, flag, rname, pos, mapq, cigar, seq, tags)
    qual = "I" * READ_LEN
    n = 0

    def name():
        nonlocal n
        n += 1
        return "%s_r%04d" % (sample, n)

    f = SAMPLE_FACTOR[sample]
    for gid, _gname, _bt, chrom, _strand, exons in GENES:
        k = poisson(rng, GENE_MEAN[gid] * f)
        for _ in range(k):
            pos, cigar, blocks = place_on_transcript(rng, exons)
            # keep gene-body reads off the TSPAN6/TNMD overlap so that
            # ambiguity only comes from the dedicated reads below
            if (
                chrom == AMBIGUOUS[0]
                and pos + READ_LEN > AMBIGUOUS[1] - 10
                and pos < AMBIGUOUS[2] + 10
            ):
                continue
            flag = 16 if rng.random() < 0.5 else 0
            recs.append(
                (name(), flag, chrom, pos, 60, cigar, seq_for(genome, chrom, blocks), "NH:i:1")
            )
    # ambiguous: fully inside the two-gene overlap
    for _ in range(poisson(rng, 6 * f)):
        chrom, lo, hi = AMBIGUOUS
        pos = rng.randint(lo, hi - READ_LEN + 1)
        flag = 16 if rng.random() < 0.5 else 0
        recs.append(
            (
                name(),
                flag,
                chrom,
                pos,
                60,
                "%dM" % READ_LEN,
                genome[chrom][pos - 1 : pos - 1 + READ_LEN],
                "NH:i:1",
            )
        )
    # intergenic: no feature
    for _ in range(poisson(rng, 10 * f)):
        chrom, lo, hi = INTERGENIC[rng.randrange(len(INTERGENIC))]
        if chrom == DUP_DST[0] and lo <= DUP_DST[1] + DUP_LEN:
            lo = DUP_DST[1] + DUP_LEN  # stay off the duplicated block
        pos = rng.randint(lo, hi - READ_LEN + 1)
        recs.append(
            (
                name(),
                0,
                chrom,
                pos,
                60,
                "%dM" % READ_LEN,
                genome[chrom][pos - 1 : pos - 1 + READ_LEN],
                "NH:i:1",
            )
        )
    # low mapping quality inside DPM1 exon 1
    for _ in range(poisson(rng, 3 * f) + 1):
        pos = rng.randint(2501, 2800 - READ_LEN + 1)
        recs.append(
            (
                name(),
                0,
                "chr1",
                pos,
                3,
                "%dM" % READ_LEN,
                genome["chr1"][pos - 1 : pos - 1 + READ_LEN],
                "NH:i:1",
            )
        )
    # multi-mappers: primary on C1orf112 exon 2 copy, secondary on chr1 copy
    for _ in range(poisson(rng, 4 * f) + 1):
        off = rng.randint(0, DUP_LEN - READ_LEN)
        p1, p2 = DUP_SRC[1] + off, DUP_DST[1] + off
        seq = genome["chr2"][p1 - 1 : p1 - 1 + READ_LEN]
        q = name()
        recs.append((q, 0, "chr2", p1, 1, "%dM" % READ_LEN, seq, "NH:i:2\tHI:i:1"))
        recs.append((q, 256, "chr1", p2, 1, "%dM" % READ_LEN, seq, "NH:i:2\tHI:i:2"))
    # unmapped
    for _ in range(poisson(rng, 5 * f) + 1):
        recs.append((name(), 4, "*", 0, 0, "*", rand_seq(rng, READ_LEN), ""))
    lines = []
    for q, flag, rname, pos, mapq, cigar, seq, tags in recs:
        fields = [q, str(flag), rname, str(pos), str(mapq), cigar, "*", "0", "0", seq, qual]
        if tags:
            fields.append(tags)
        lines.append("\t".join(fields))
    return lines


def write_sam(path, sample, lines):
    with open(path, "w") as fh:
        fh.write("@HD\tVN:1.6\tSO:unsorted\n")
        for name, length in CONTIGS:
            fh.write("@SQ\tSN:%s\tLN:%d\n" % (name, length))
        fh.write("@RG\tID:%s\tSM:%s\n" % (sample, sample))
        fh.write("@PG\tID:simulate_reads\tPN:simulate_reads.py\tVN:1\n")
        for line in lines:
            fh.write(line + "\tRG:Z:%s\n" % sample)


# ------------------------------------------------------------ small RNA
def build_mirnas(rng):
    """Return hairpins {pre: seq}, matures {mature: seq}, coords {mature: (pre, start, end)}."""
    pre_mats = {}
    for mat, pre in MIRNAS:
        pre_mats.setdefault(pre, []).append(mat)
    mature_seq = {}
    for mat, _ in MIRNAS:
        if mat in SAME_SEQ:
            continue
        mature_seq[mat] = rand_seq(rng, 22)
    for mat, src in SAME_SEQ.items():
        mature_seq[mat] = mature_seq[src]
    hairpins, coords = {}, {}
    for i, (pre, mats) in enumerate(pre_mats.items()):
        MI[pre] = "MI%07d" % (100 + i)
        five = [m for m in mats if not m.endswith("-3p")]
        three = [m for m in mats if m.endswith("-3p")]
        left = rand_seq(rng, 12)
        loop = rand_seq(rng, 16)
        right = rand_seq(rng, 12)
        arm5 = mature_seq[five[0]] if five else rand_seq(rng, 22)
        arm3 = mature_seq[three[0]] if three else rand_seq(rng, 22)
        seq = left + arm5 + loop + arm3 + right
        hairpins[pre] = seq
        if five:
            s = len(left) + 1
            coords[five[0]] = (pre, s, s + 21)
        if three:
            s = len(left) + 22 + len(loop) + 1
            coords[three[0]] = (pre, s, s + 21)
    return hairpins, mature_seq, coords


def write_mirna_refs(outdir, hairpins, mature_seq, coords):
    to_u = str.maketrans("T", "U")
    write_fasta(
        os.path.join(outdir, "hairpin.fa"),
        [
            ("%s %s Homo sapiens %s stem-loop" % (p, MI[p], p[4:]), s.translate(to_u))
            for p, s in hairpins.items()
        ],
        width=80,
    )
    write_fasta(
        os.path.join(outdir, "mature.fa"),
        [
            ("%s %s Homo sapiens %s" % (m, MIMAT[m], m[4:]), mature_seq[m].translate(to_u))
            for m, _ in MIRNAS
        ],
        width=80,
    )
    # GFF3 in miRBase layout, on one pseudo chromosome built from the
    # hairpins laid end to end with 100 nt spacers
    with open(os.path.join(outdir, "mirna.gff3"), "w") as fh:
        fh.write(
            "##gff-version 3\n##date 2024-05-31\n#\n# Chromosomal coordinates of "
            "Homo sapiens microRNAs (tiny simulated world)\n# genome-build-id:    "
            "mtncrna-tiny\n#\n"
        )
        pos = 1
        for pre, seq in hairpins.items():
            start, end = pos, pos + len(seq) - 1
            fh.write(
                "\t".join(
                    [
                        "chrMIR",
                        ".",
                        "miRNA_primary_transcript",
                        str(start),
                        str(end),
                        ".",
                        "+",
                        ".",
                        "ID=%s;Alias=%s;Name=%s" % (MI[pre], MI[pre], pre),
                    ]
                )
                + "\n"
            )
            for mat, (p, s, e) in coords.items():
                if p != pre:
                    continue
                fh.write(
                    "\t".join(
                        [
                            "chrMIR",
                            ".",
                            "miRNA",
                            str(start + s - 1),
                            str(start + e - 1),
                            ".",
                            "+",
                            ".",
                            "ID=%s;Alias=%s;Name=%s;Derives_from=%s"
                            % (MIMAT[mat], MIMAT[mat], mat, MI[pre]),
                        ]
                    )
                    + "\n"
                )
            pos = end + 101


def simulate_small_rna(rng, outdir, mature_seq):
    for sample in SAMPLES:
        f = SAMPLE_FACTOR[sample]
        reads = []
        for mat, _ in MIRNAS:
            if (mat, sample) in MIRNA_ZERO:
                continue
            for _ in range(poisson(rng, MIRNA_MEAN[mat] * f)):
                s = mature_seq[mat]
                r = rng.random()
                if r < 0.15:
                    s = s[:-1]  # 3' trimmed isomiR
                elif r < 0.25:
                    s = s + rng.choice("AT")  # non-templated 3' addition
                reads.append(s)
        for _ in range(poisson(rng, 8 * f)):
            reads.append(rand_seq(rng, rng.randint(18, 26)))  # maps nowhere
        with open(os.path.join(outdir, "%s.fastq" % sample), "w") as fh:
            for i, s in enumerate(reads, 1):
                fh.write("@%s_%d\n%s\n+\n%s\n" % (sample, i, s, "I" * len(s)))


def write_other_small_rna(rng, outdir):
    """Two random sequences per non-miRNA class for the miRge3 library."""
    os.makedirs(outdir, exist_ok=True)
    for cls in ("mature_trna", "pre_trna", "snorna", "rrna", "ncrna_others", "mrna"):
        write_fasta(
            os.path.join(outdir, "%s.fa" % cls),
            [("%s_%d" % (cls, i), rand_seq(rng, 120)) for i in (1, 2)],
            width=200,
        )


def main(argv):
    outdir, seed = ".", SEED
    args = list(argv)
    if "--seed" in args:
        i = args.index("--seed")
        seed = int(args[i + 1])
        del args[i : i + 2]
    if args:
        outdir = args[0]
    rng = random.Random(seed)
    for sub in ("world", "sam", "mirna"):
        os.makedirs(os.path.join(outdir, sub), exist_ok=True)
    genome = build_genome(rng)
    write_fasta(os.path.join(outdir, "world", "genome.fa"), [(n, genome[n]) for n, _ in CONTIGS])
    write_gtf(os.path.join(outdir, "world", "genes.gtf"))
    for sample in SAMPLES:
        lines = simulate_sample(rng, genome, sample)
        write_sam(os.path.join(outdir, "sam", "%s.sam" % sample), sample, lines)
    hairpins, mature_seq, coords = build_mirnas(rng)
    write_mirna_refs(os.path.join(outdir, "mirna"), hairpins, mature_seq, coords)
    simulate_small_rna(rng, os.path.join(outdir, "mirna"), mature_seq)
    write_other_small_rna(rng, os.path.join(outdir, "mirna", "other_small_rna"))


if __name__ == "__main__":
    main(sys.argv[1:])
