"""Seeded small-RNA FASTQ with known truth, for the tests and the quantification benchmark.

    python benchmarks/simulate_smallrna.py OUT.fastq.gz [--reads 100000] [--seed 0]
        [--kit illumina|nextflex|qiaseq] [--error-rate 0.001]

Writes ``OUT.fastq.gz`` (or plain ``.fastq``) and ``OUT.truth.tsv``. Every molecule comes from one
of these sources (fractions in :data:`COMPOSITION`):

* ``miRNA``: real miRBase 22 human mature miRNAs (``reference/mirbase22_hsa_*.tsv``), each with an
  isomiR spectrum cut from its hairpin: canonical, 3' trimmed (-1..-3) or templated-extended
  (+1, +2), 5' shifted (+-1, +-2), and non-templated 3' A/U additions (1-2 nt). miRNAs whose mature
  sequence occurs in the mitochondrial genome (e.g. the rRNA-derived hsa-miR-4485) are not drawn:
  the quantifier assigns mtDNA first, as documented, so they would not be miRNA truth.
* ``mt-tRNA``: fragments of the 22 mt-tRNAs of both strands of the rCRS: 3' halves and 3' tRFs with
  the non-templated CCA (or CC / C / no) tail, and 5' halves.
* ``mt-rRNA``: sense fragments (18-35 nt) of MT-RNR1 and MT-RNR2.
* ``other``: random sequences (18-40 nt) from a pool of "other RNA" species that match neither
  (n_reads / 7 species, so that 10 M reads hold ~1.2 M distinct sequences, as real libraries).
* ``dimer``: adapter dimers (empty insert); ``too_short`` (5-15 nt) and ``too_long`` (46-70 nt)
  random inserts.

Reads are ``insert + 3' adapter + downstream library sequence`` cut to the read length, with the
kit's extra bases (NEXTflex: 4 random nt on both sides of the insert; QIAseq: a 12-nt UMI after the
adapter, PCR duplicates of each molecule) and substitutions at ``error_rate`` per base. The truth
table has one row per simulated species: ``category``, ``feature`` (miRNA name or mt gene),
``strand``, ``start``, ``end`` (1-based rCRS coordinates for mt), ``tail``, ``variant``,
``insert`` (DNA), ``reads`` and ``molecules`` (UMIs; equal to reads for kits without UMIs).
"""

from __future__ import annotations

import argparse
import gzip
import sys
from pathlib import Path

import numpy as np
import pandas as pd

ADAPTERS = {
    "illumina": "TGGAATTCTCGGGTGCCAAGG",
    "nextflex": "TGGAATTCTCGGGTGCCAAGG",
    "qiaseq": "AACTGTAGGCACCATCAAT",
}
# What follows the 3' adapter in the read: the TruSeq small-RNA RNA PCR primer with an index,
# and for QIAseq the Illumina universal adapter after the UMI.
DOWNSTREAM = {
    "illumina": "AACTCCAGTCACATCACGATCTCGTATGCCGTCTTCTGCTTGAAAAAAAAAAAAAAAAAAAAAAAAA",
    "nextflex": "AACTCCAGTCACATCACGATCTCGTATGCCGTCTTCTGCTTGAAAAAAAAAAAAAAAAAAAAAAAAA",
    "qiaseq": "AGATCGGAAGAGCACACGTCTGAACTCCAGTCACATCACGATCTCGTATGCCGTCTTCTGCTTG",
}
READ_LENGTH = {"illumina": 50, "nextflex": 75, "qiaseq": 75}
COMPOSITION = {
    "miRNA": 0.70,
    "mt-tRNA": 0.08,
    "mt-rRNA": 0.04,
    "other": 0.12,
    "dimer": 0.03,
    "too_short": 0.02,
    "too_long": 0.01,
}
_COMP = str.maketrans("ACGTN", "TGCAN")


def revcomp(s: str) -> str:
    return s.translate(_COMP)[::-1]


def _reference_dir() -> Path:
    from mtncrna.reference import reference_dir

    return reference_dir()


def _rand_seq(rng: np.random.Generator, n: int) -> str:
    return "".join(np.array(list("ACGT"))[rng.integers(0, 4, n)])


def _weights(rng: np.random.Generator, n: int, sigma: float) -> np.ndarray:
    w = rng.lognormal(0.0, sigma, n)
    return w / w.sum()


def _mirna_species(
    rng: np.random.Generator, n_mirnas: int, mt_both: str, names: list[str] | None = None
) -> list[dict]:
    ref = _reference_dir()
    mature = pd.read_csv(ref / "mirbase22_hsa_mature.tsv", sep="\t", dtype=str)
    hairpins = pd.read_csv(ref / "mirbase22_hsa_precursor.tsv", sep="\t", dtype=str)
    hp = dict(
        zip(hairpins["precursor_name"], hairpins["sequence"].str.replace("U", "T"), strict=True)
    )
    candidates = []
    for row in mature.itertuples():
        seq = row.sequence.replace("U", "T")
        if len(seq) < 19 or seq in mt_both:
            continue
        for pre in row.precursor_name.split(";"):
            h = hp.get(pre)
            if h and seq in h:
                candidates.append((row.name, seq, h, h.index(seq)))
                break
    if names is not None:
        pick = np.array([i for i, c in enumerate(candidates) if c[0] in set(names)])
    else:
        pick = rng.choice(len(candidates), size=min(n_mirnas, len(candidates)), replace=False)
    abundance = _weights(rng, len(pick), 2.0)
    # (5' shift, 3' shift, non-templated tail, weight)
    variants = [
        (0, 0, "", 0.45),
        (0, -1, "", 0.12),
        (0, -2, "", 0.06),
        (0, -3, "", 0.02),
        (0, 1, "", 0.06),
        (0, 2, "", 0.02),
        (-1, 0, "", 0.03),
        (1, 0, "", 0.03),
        (-2, 0, "", 0.01),
        (2, 0, "", 0.01),
        (0, 0, "A", 0.04),
        (0, 0, "T", 0.04),
        (0, 0, "AA", 0.01),
        (0, 0, "TT", 0.01),
        (0, -1, "A", 0.02),
        (0, -1, "T", 0.02),
        (1, -1, "", 0.01),
        (0, 1, "T", 0.01),
    ]
    species = []
    for k, i in enumerate(pick):
        name, seq, h, ms = candidates[i]
        me = ms + len(seq)
        for d5, d3, tail, w in variants:
            s, e = ms + d5, me + d3
            if s < 0 or e > len(h):
                continue
            insert = h[s:e] + tail
            if len(insert) < 17:
                continue
            parts = []
            if d5:
                parts.append(f"iso_5p:{d5:+d}")
            if d3:
                parts.append(f"iso_3p:{d3:+d}")
            if tail:
                parts.append(f"iso_add3p:{len(tail)}")
            species.append(
                {
                    "category": "miRNA",
                    "feature": name,
                    "variant": ",".join(sorted(parts)) or "NA",
                    "insert": insert,
                    "weight": abundance[k] * w,
                }
            )
    return species


def _mt_genes() -> pd.DataFrame:
    genes = pd.read_csv(_reference_dir() / "mt_genes.tsv", sep="\t", dtype=str)
    genes = genes[genes["start"].str.len() > 0].copy()
    genes["start"] = genes["start"].astype(int)
    genes["end"] = genes["end"].astype(int)
    return genes


def _mt_species(rng: np.random.Generator, genome: str) -> tuple[list[dict], list[dict]]:
    genes = _mt_genes()
    trna, rrna = [], []
    trnas = genes[genes["mt_class"] == "mt-tRNA"]
    w_trna = _weights(rng, len(trnas), 1.2)
    for g, wg in zip(trnas.itertuples(), w_trna, strict=True):
        plus = genome[g.start - 1 : g.end]
        rna = plus if g.strand == "+" else revcomp(plus)
        n = len(rna)
        frags = []  # (offset in RNA, length, tail, weight)
        half = n // 2
        for d in (-2, -1, 0, 1, 2):
            for tail, wt in (("CCA", 0.7), ("CC", 0.1), ("C", 0.05), ("", 0.15)):
                frags.append((half + d, n - half - d, tail, 0.5 / 5 * wt))
        for ln in (18, 20, 22):
            for tail, wt in (("CCA", 0.8), ("", 0.2)):
                frags.append((n - ln, ln, tail, 0.25 / 3 * wt))
        for d in (-2, 0, 2):
            frags.append((0, half + d, "", 0.25 / 3))
        for off, ln, tail, w in frags:
            body = rna[off : off + ln]
            if g.strand == "+":
                start, end = g.start + off, g.start + off + ln - 1
            else:
                end = g.end - off
                start = end - ln + 1
            trna.append(
                {
                    "category": "mt-tRNA",
                    "feature": g.symbol,
                    "strand": g.strand,
                    "start": start,
                    "end": end,
                    "tail": tail,
                    "insert": body + tail,
                    "weight": wg * w,
                }
            )
    for g in genes[genes["mt_class"] == "mt-rRNA"].itertuples():
        n_frag = 150
        w = _weights(rng, n_frag, 1.5)
        for k in range(n_frag):
            ln = int(rng.integers(18, 36))
            off = int(rng.integers(0, g.end - g.start + 1 - ln))
            rrna.append(
                {
                    "category": "mt-rRNA",
                    "feature": g.symbol,
                    "strand": g.strand,
                    "start": g.start + off,
                    "end": g.start + off + ln - 1,
                    "tail": "",
                    "insert": genome[g.start - 1 + off : g.start - 1 + off + ln],
                    "weight": w[k],
                }
            )
    return trna, rrna


def _quality_pool(rng: np.random.Generator, n: int, length: int) -> list[str]:
    # NovaSeq-like binned qualities: mostly F, some : and ,
    chars = np.array(list("F:,"))
    return ["".join(chars[rng.choice(3, length, p=[0.9, 0.08, 0.02])]) for _ in range(n)]


def simulate(
    out: str | Path,
    *,
    n_reads: int = 100_000,
    seed: int = 0,
    kit: str = "illumina",
    error_rate: float = 0.001,
    n_mirnas: int = 300,
    composition: dict[str, float] | None = None,
    mean_duplicates: float = 2.5,
    trimmed: bool = False,
    mirnas: list[str] | None = None,
) -> pd.DataFrame:
    """Write a simulated FASTQ(.gz) to ``out`` and ``<out stem>.truth.tsv``; return the truth.

    ``trimmed=True`` writes what ``cutadapt -a ADAPTER`` (without ``-m``) leaves of each read:
    the insert alone (cut to the read length; adapter dimers become empty reads), as FASTQs are
    often deposited. ``mirnas`` draws these miRNAs instead of ``n_mirnas`` random ones.
    """
    if kit not in ADAPTERS:
        raise ValueError(f"kit must be one of {', '.join(ADAPTERS)}")
    if trimmed and kit != "illumina":
        raise ValueError("trimmed=True simulates TruSeq reads (kit='illumina') only")
    rng = np.random.default_rng(seed)
    comp = dict(COMPOSITION if composition is None else composition)
    genome = "".join(
        ln.strip()
        for ln in (_reference_dir() / "NC_012920.1.fa").read_text().splitlines()
        if not ln.startswith(">")
    ).upper()
    both = genome + "|" + revcomp(genome)
    mirna = _mirna_species(rng, n_mirnas, both, names=mirnas)
    trna, rrna = _mt_species(rng, genome)
    n_other = max(200, n_reads // 7)
    other_w = _weights(rng, n_other, 1.0)
    other = [
        {"category": "other", "insert": _rand_seq(rng, int(rng.integers(18, 41))), "weight": w}
        for w in other_w
    ]
    short = [
        {"category": "too_short", "insert": _rand_seq(rng, int(rng.integers(5, 16))), "weight": 1}
        for _ in range(200)
    ]
    long_ = [
        {"category": "too_long", "insert": _rand_seq(rng, int(rng.integers(46, 71))), "weight": 1}
        for _ in range(200)
    ]
    groups = {
        "miRNA": mirna,
        "mt-tRNA": trna,
        "mt-rRNA": rrna,
        "other": other,
        "dimer": [{"category": "dimer", "insert": "", "weight": 1.0}],
        "too_short": short,
        "too_long": long_,
    }
    species: list[dict] = []
    probs: list[float] = []
    total = sum(comp.values())
    for cat, items in groups.items():
        w = np.array([it["weight"] for it in items], dtype=float)
        w = w / w.sum() * comp.get(cat, 0.0) / total
        species.extend(items)
        probs.extend(w)
    p = np.asarray(probs)
    p /= p.sum()

    umi = kit == "qiaseq"
    if umi:
        n_mol = max(1, round(n_reads / mean_duplicates))
        mol_species = rng.choice(len(species), size=n_mol, p=p)
        dup = 1 + rng.poisson(mean_duplicates - 1, n_mol)
        # trim so the total read count is exactly n_reads
        csum = np.cumsum(dup)
        keep = int(np.searchsorted(csum, n_reads, side="left")) + 1
        mol_species, dup = mol_species[:keep], dup[:keep]
        dup[-1] -= int(dup.sum() - n_reads)
        if dup[-1] <= 0:
            mol_species, dup = mol_species[:-1], dup[:-1]
        read_species = np.repeat(mol_species, dup)
        umis = [_rand_seq(rng, 12) for _ in range(len(mol_species))]
        read_umi = np.repeat(np.arange(len(mol_species)), dup)
        molecules = np.bincount(mol_species, minlength=len(species))
    else:
        read_species = rng.choice(len(species), size=n_reads, p=p)
        read_umi = None
        umis = []
        molecules = None
    order = rng.permutation(len(read_species))
    read_species = read_species[order]
    if read_umi is not None:
        read_umi = read_umi[order]
    reads_per = np.bincount(read_species, minlength=len(species))

    adapter, downstream, length = ADAPTERS[kit], DOWNSTREAM[kit], READ_LENGTH[kit]
    inserts = [s["insert"] for s in species]
    n = len(read_species)
    if kit == "nextflex":
        rand8 = rng.integers(0, 4, (n, 8))
        letters = np.array(list("ACGT"))
        flank = ["".join(letters[r]) for r in rand8]
        seqs = [
            (flank[i][:4] + inserts[s] + flank[i][4:] + adapter + downstream)[:length]
            for i, s in enumerate(read_species.tolist())
        ]
    elif umi:
        seqs = [
            (inserts[s] + adapter + umis[u] + downstream)[:length]
            for s, u in zip(read_species.tolist(), read_umi.tolist(), strict=True)
        ]
    else:
        full = [(ins if trimmed else ins + adapter + downstream)[:length] for ins in inserts]
        seqs = [full[s] for s in read_species.tolist()]
    # sequencing errors: substitutions at error_rate per base
    if trimmed:
        lens = np.fromiter(map(len, seqs), dtype=np.int64, count=n)
        n_err = rng.binomial(lens, error_rate)
    else:
        n_err = rng.binomial(length, error_rate, n)
    subst = {"A": "CGT", "C": "AGT", "G": "ACT", "T": "ACG"}
    for i in np.flatnonzero(n_err).tolist():
        s = list(seqs[i])
        for pos in rng.choice(len(s), n_err[i], replace=False).tolist():
            s[pos] = subst.get(s[pos], "ACG")[int(rng.integers(0, 3))]
        seqs[i] = "".join(s)

    quals = _quality_pool(rng, 997, length)
    out = Path(out)
    opener = _open_out(out)
    with opener as fh:
        step = 200_000
        for a in range(0, n, step):
            chunk = "".join(
                f"@r{i + 1}\n{seqs[i]}\n+\n{quals[i % 997][: len(seqs[i])]}\n"
                for i in range(a, min(n, a + step))
            )
            fh.write(chunk.encode())
    truth = pd.DataFrame(
        {
            "category": [s["category"] for s in species],
            "feature": [s.get("feature", "") for s in species],
            "strand": [s.get("strand", "") for s in species],
            "start": [s.get("start", 0) for s in species],
            "end": [s.get("end", 0) for s in species],
            "tail": [s.get("tail", "") for s in species],
            "variant": [s.get("variant", "") for s in species],
            "insert": inserts,
            "reads": reads_per,
            "molecules": molecules if molecules is not None else reads_per,
        }
    )
    truth = truth[truth["reads"] > 0].reset_index(drop=True)
    truth.to_csv(truth_path(out), sep="\t", index=False)
    return truth


def score(counts: pd.Series, truth: pd.DataFrame, *, unit: str = "reads") -> dict[str, float]:
    """Compare one sample's feature counts with the truth, per category.

    For each category (miRNA, mt-tRNA, mt-rRNA) and each feature, ``min(truth, observed)`` is
    what was recovered; ``recovered`` is its sum over the truth total and ``false`` the excess
    (observed beyond the truth) over the observed total. miRNAs reported together as a tie
    (``a/b``) are scored together with their members: the truth and the counts of every name
    linked by a tie are pooled first.
    """
    out: dict[str, float] = {}
    parent: dict[str, str] = {}

    def find(x: str) -> str:
        while parent.get(x, x) != x:
            x = parent[x]
        return x

    for feat in counts.index:
        if "/" in feat:
            names = feat.split("/")
            for n in names[1:]:
                parent[find(n)] = find(names[0])
    for cat in ("miRNA", "mt-tRNA", "mt-rRNA"):
        t = truth[truth["category"] == cat].groupby("feature")[unit].sum()
        if cat == "miRNA":
            obs = counts[[("/" in f) or f.startswith(("hsa-", "MIMAT")) for f in counts.index]]
            key = lambda f: find(f.split("/")[0])  # noqa: E731
        else:
            prefix = "MT-T" if cat == "mt-tRNA" else "MT-RNR"
            obs = counts[[f.startswith(prefix) for f in counts.index]]
            key = lambda f: f  # noqa: E731
        tc = t.groupby([key(f) for f in t.index]).sum() if len(t) else t
        oc = obs.groupby([key(f) for f in obs.index]).sum()
        both = pd.concat([tc.rename("truth"), oc.rename("obs")], axis=1).fillna(0)
        rec = np.minimum(both["truth"], both["obs"]).sum()
        out[f"{cat} truth"] = float(both["truth"].sum())
        out[f"{cat} observed"] = float(both["obs"].sum())
        out[f"{cat} recovered"] = float(rec / max(both["truth"].sum(), 1))
        out[f"{cat} false"] = float(
            (both["obs"] - both["truth"]).clip(lower=0).sum() / max(both["obs"].sum(), 1)
        )
    return out


def truth_path(out: str | Path) -> Path:
    out = Path(out)
    stem = out.name.removesuffix(".gz").removesuffix(".fastq").removesuffix(".fq")
    return out.with_name(stem + ".truth.tsv")


def _open_out(out: Path):
    if out.suffix != ".gz":
        return out.open("wb")
    try:  # a threaded compressor when xopen (a cutadapt dependency) is there
        from xopen import xopen

        return xopen(out, "wb", compresslevel=1, threads=1)
    except ImportError:  # pragma: no cover
        return gzip.open(out, "wb", compresslevel=1)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("out")
    ap.add_argument("--reads", type=int, default=100_000)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--kit", default="illumina", choices=sorted(ADAPTERS))
    ap.add_argument("--error-rate", type=float, default=0.001)
    ap.add_argument("--mirnas", type=int, default=300)
    ap.add_argument("--trimmed", action="store_true", help="write adapter-trimmed reads")
    args = ap.parse_args(argv)
    truth = simulate(
        args.out,
        n_reads=args.reads,
        seed=args.seed,
        kit=args.kit,
        error_rate=args.error_rate,
        n_mirnas=args.mirnas,
        trimmed=args.trimmed,
    )
    print(truth.groupby("category")[["reads", "molecules"]].sum().to_string())
    return 0


if __name__ == "__main__":
    sys.exit(main())
