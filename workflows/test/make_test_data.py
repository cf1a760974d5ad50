"""Make the workflow's `test` profile data (committed; rerun to regenerate, output is identical).

    python workflows/test/make_test_data.py

8 libraries of one cell line (parental/resistant x mito/cytosol x 2 preparations), drawn from
mtncrna's study simulator (seed 2):
- small RNA: single-end FASTQs of mature miRNA sequences + the Illumina TruSeq small-RNA adapter,
  6,000 reads per library; the first library is split over two lanes with Illumina file names
  (``..._S1_L001_R1_001.fastq.gz``, ``..._L002_...``), so the workflow must merge lanes and take
  the sample name from the sheet;
- long RNA: one BAM per library, 50-nt single-end alignments (no sequence stored) placed inside
  the exons of a toy annotation (``genes.gtf``): the real rCRS coordinates of the mtDNA genes on
  chrM and one 2-kb contig per nuclear gene, 20,000 reads per library;
- ``truth_small.tsv``: the reads drawn per miRNA and library (what quantification must recover);
- ``samplesheet.csv``: nf-core style, ``sample,fastq_1,fastq_2,bam`` + the design.
"""

from __future__ import annotations

import gzip
from pathlib import Path

import numpy as np
import pandas as pd
import pysam

import mtncrna as mt

HERE = Path(__file__).resolve().parent / "data"
ADAPTER = "TGGAATTCTCGGGTGCCAAGG"
SMALL_READS = 6000
LONG_READS = 20000
READ_LEN = 50


def _gzip_text(path: Path, text: str) -> None:
    # mtime=0 and no file name in the header: the same bytes on every run
    with path.open("wb") as raw, gzip.GzipFile(fileobj=raw, mode="wb", mtime=0, filename="") as fh:
        fh.write(text.encode())


def _draw(counts: np.ndarray, total: int, rng: np.random.Generator) -> np.ndarray:
    p = counts / counts.sum()
    return rng.multinomial(total, p)


def main() -> None:
    HERE.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(2)
    study = mt.datasets.simulate_study(2, n_replicates=2)
    ref = mt.load_reference()
    keep = study.small.obs["cell_line"] == study.small.obs["cell_line"].iloc[0]
    small = study.small[keep.to_numpy()].copy()
    long = study.long[keep.to_numpy()].copy()
    # small RNA: 150 miRNAs with distinct mature sequences
    feats = ref.features.set_index("symbol")
    mirs = [f for f in small.var_names if f.startswith("hsa-") and f in feats.index]
    seqs = feats.loc[mirs, "sequence"].str.replace("U", "T")
    uniq = ~seqs.duplicated(keep=False)
    mirs = [m for m, u in zip(mirs, uniq, strict=True) if u][:150]
    seqs = seqs.loc[mirs]
    truth = {}
    rows = []
    for si, sample in enumerate(small.obs_names):
        i = list(small.obs_names).index(sample)
        x = np.asarray(small[:, mirs].X[i], dtype=float).ravel()
        n = _draw(x, SMALL_READS, rng)
        truth[sample] = pd.Series(n, index=mirs)
        reads = []
        for j, seq in enumerate(seqs):
            read = (seq + ADAPTER)[:READ_LEN]
            reads += [read] * int(n[j])
        order = rng.permutation(len(reads))
        lanes = [order] if si else [order[: len(order) // 2], order[len(order) // 2 :]]
        names = (
            [f"{sample}.fastq.gz"]
            if si
            else [f"{sample}_S1_L00{k + 1}_R1_001.fastq.gz" for k in range(len(lanes))]
        )
        for lane, name in zip(lanes, names, strict=True):
            text = "".join(
                f"@{sample}:{k}\n{reads[r]}\n+\n{'I' * len(reads[r])}\n" for k, r in enumerate(lane)
            )
            _gzip_text(HERE / name, text)
            rows.append({"sample": sample, "fastq_1": name, "fastq_2": ""})
    pd.DataFrame(truth).rename_axis("feature").to_csv(HERE / "truth_small.tsv", sep="\t")

    # long RNA: a toy genome of chrM (rCRS coordinates) + one contig per nuclear gene
    mtg = pd.read_csv(Path(__file__).resolve().parents[2] / "reference" / "mt_genes.tsv", sep="\t")
    mtg = mtg.set_index("symbol")
    contigs = [("chrM", 16569)]
    exons = {}
    for g in long.var_names:
        if g in mtg.index:
            exons[g] = ("chrM", int(mtg.at[g, "start"]), int(mtg.at[g, "end"]), mtg.at[g, "strand"])
        else:
            contigs.append((f"chr_{g}", 2000))
            exons[g] = (f"chr_{g}", 101, 1900, "+")
    gtf = []
    for g, (chrom, start, end, strand) in exons.items():
        attrs = f'gene_id "{g}"; transcript_id "{g}.1"; gene_name "{g}";'
        gtf.append(f"{chrom}\ttest\texon\t{start}\t{end}\t.\t{strand}\t.\t{attrs}")
    (HERE / "genes.gtf").write_text("\n".join(gtf) + "\n")
    header = {
        "HD": {"VN": "1.6", "SO": "coordinate"},
        "SQ": [{"SN": n, "LN": ln} for n, ln in contigs],
    }
    tid = {n: k for k, (n, _) in enumerate(contigs)}
    genes = list(long.var_names)
    for i, sample in enumerate(long.obs_names):
        n = _draw(np.asarray(long.X[i], dtype=float).ravel(), LONG_READS, rng)
        recs = []
        for g, k in zip(genes, n, strict=True):
            chrom, start, end, _ = exons[g]
            span = max(end - start + 1 - READ_LEN, 1)
            for pos in rng.integers(0, span, size=int(k)):
                recs.append((tid[chrom], start - 1 + int(pos)))
        recs.sort()
        bam = HERE / f"{sample}.bam"
        with pysam.AlignmentFile(str(bam), "wb", header=header) as out:
            for k, (t, pos) in enumerate(recs):
                a = pysam.AlignedSegment()
                a.query_name = f"{sample}:{k}"
                a.flag = 0
                a.reference_id = t
                a.reference_start = pos
                a.mapping_quality = 60
                a.cigarstring = f"{READ_LEN}M"
                a.set_tag("NH", 1)
                out.write(a)
        for r in rows:
            if r["sample"] == sample:
                r["bam"] = bam.name
    sheet = pd.DataFrame(rows)
    design = small.obs.drop(columns=["drug"]).astype(str)
    sheet = sheet.join(design, on="sample")
    sheet.to_csv(HERE / "samplesheet.csv", index=False)


if __name__ == "__main__":
    main()
