"""The small-RNA reference (mature miRNAs in their hairpins, the mt genome and its genes) and the
indexes that assign a unique insert to it.

Assignment rules (applied to each distinct insert once, in this order; the first tier with a hit
wins, so fewer mismatches always win and, at equal mismatches, mtDNA wins over miRNA):

1. mtDNA, exact: the insert minus a non-templated 3' tail CCA / CC / C whose rest ends exactly at
   the 3' end of an mt-tRNA (on the tRNA's strand), else the whole insert as an exact substring of
   either strand of the mt genome.
2. miRNA, exact: the insert minus a 3' tail of 0-3 non-templated A/T (shortest tail first) equals a
   stretch of a hairpin that starts within +-2 nt of a mature miRNA's start and ends within +-3 nt
   of its end.
3. mtDNA with one mismatch (inserts of >= 16 nt), same rules as 1.
4. miRNA with one mismatch in the templated part, same rules as 2.

Among the hits of a tier the best has the fewest non-templated nucleotides, then the smallest
|5' shift| + |3' shift|. Hits of several miRNAs that tie are reported together as one ambiguous
feature ``name1/name2`` (names sorted; never split into fractions, so counts stay integers). One
mature name found in several hairpins (hsa-let-7a-1/-2/-3) is one miRNA, not ambiguous. mtDNA hits
prefer a sense mt-tRNA/mt-rRNA, then any sense gene, then antisense, then non-coding, then the
lowest coordinate.
"""

from __future__ import annotations

import logging
import re
from collections import defaultdict
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import NamedTuple

from .._errors import InputError
from .._text import read_fasta

logger = logging.getLogger("mtncrna")

_COMP = str.maketrans("ACGTN", "TGCAN")
MT_CLASSES = ("mt-tRNA", "mt-rRNA", "mt-mRNA")
#: Largest 5' / 3' offset from the annotated mature ends, and longest non-templated A/U tail.
MAX_5P_SHIFT = 2
MAX_3P_SHIFT = 3
MAX_ADD = 3
CCA_TAILS = ("CCA", "CC", "C")
_SEED = 8  # k-mer length of the mt genome index


def revcomp(s: str) -> str:
    """Reverse complement of an upper-case DNA string."""
    return s.translate(_COMP)[::-1]


@dataclass(frozen=True)
class MtGene:
    """A gene on the mt genome (1-based, inclusive coordinates)."""

    symbol: str
    rna_class: str
    start: int
    end: int
    strand: str


@dataclass
class SmallRnaReference:
    """Mature miRNAs placed in their hairpins, and the mt genome with its genes.

    ``sites`` are ``(mature name, hairpin name, start, end)`` with 0-based, end-exclusive positions
    of the mature sequence in the hairpin; ``hairpins`` hold DNA (T) sequences. ``unplaced`` names
    the matures found in no hairpin, each its own template (their templated 3' extensions and
    5' upstream starts cannot be recognised).
    """

    mature_names: list[str]
    hairpins: dict[str, str]
    sites: list[tuple[str, str, int, int]]
    mt_name: str
    mt_genome: str
    mt_genes: list[MtGene]
    description: str
    unplaced: list[str] = field(default_factory=list)

    def mature_sequences(self) -> dict[str, str]:
        """Mature name -> DNA sequence (from its first site)."""
        out: dict[str, str] = {}
        for name, hname, s, e in self.sites:
            if name not in out:
                out[name] = self.hairpins[hname][s:e]
        return out

    def mt_derived(self) -> list[str]:
        """Matures whose whole sequence is in the mt genome (either strand), e.g. miRBase's
        hsa-miR-1973 or hsa-miR-4485-3p: the rules assign their reads to the mt genome first."""
        both = self.mt_genome + "|" + revcomp(self.mt_genome)
        return sorted(n for n, seq in self.mature_sequences().items() if seq in both)


# ------------------------------------------------------------------------------------ loading


@lru_cache(maxsize=1)
def bundled_reference() -> SmallRnaReference:
    """miRBase 22 human mature miRNAs in their hairpins, and the rCRS with its 37 genes.

    Built once per process; treat it as read-only.
    """
    import pandas as pd

    from ..reference import load_reference, reference_dir

    ref = load_reference()
    feats = ref.features
    mirna = feats[feats["rna_class"] == "miRNA"]
    mirna = mirna[mirna["sequence"].astype(str).str.len() > 0]
    pre = pd.read_csv(
        reference_dir() / "mirbase22_hsa_precursor.tsv", sep="\t", dtype=str, keep_default_na=False
    )
    hairpins = {
        n: s.upper().replace("U", "T")
        for n, s in zip(pre["precursor_name"], pre["sequence"], strict=True)
    }
    sites: list[tuple[str, str, int, int]] = []
    unplaced: list[str] = []
    names = []
    for name, seq, precursors in zip(
        mirna["symbol"], mirna["sequence"], mirna["precursor"], strict=True
    ):
        dna = str(seq).upper().replace("U", "T")
        names.append(name)
        found = False
        for p in str(precursors).split(";"):
            h = hairpins.get(p.strip())
            if h is None:
                continue
            for m in _occurrences(h, dna):
                sites.append((name, p.strip(), m, m + len(dna)))
                found = True
        if not found:
            unplaced.append(name)
            hairpins[name] = dna
            sites.append((name, name, 0, len(dna)))
    if unplaced:
        logger.warning("%d mature miRNAs not found in their hairpin; matched alone", len(unplaced))
    mt = feats[(feats["chrom"] == "NC_012920.1") & feats["start"].notna()]
    genes = [
        MtGene(s, c, int(a), int(b), st)
        for s, c, a, b, st in zip(
            mt["symbol"], mt["rna_class"], mt["start"], mt["end"], mt["strand"], strict=True
        )
    ]
    return SmallRnaReference(
        mature_names=names,
        hairpins=hairpins,
        sites=sites,
        mt_name="NC_012920.1",
        mt_genome=ref.mt_genome(),
        mt_genes=genes,
        description=f"mtncrna reference {ref.version} (miRBase 22 hsa, rCRS NC_012920.1)",
        unplaced=unplaced,
    )


def _occurrences(text: str, sub: str) -> list[int]:
    out = []
    i = text.find(sub)
    while i >= 0:
        out.append(i)
        i = text.find(sub, i + 1)
    return out


def _gene_class(name: str, biotype: str) -> str:
    b = biotype.lower()
    if "trna" in b:
        return "mt-tRNA"
    if "rrna" in b:
        return "mt-rRNA"
    if b in ("protein_coding", "mt_mrna", "mrna"):
        return "mt-mRNA"
    n = name.upper()
    if re.match(r"^(MT-?T[A-Z]|TRN[A-Z])", n) or "TRNA" in n:
        return "mt-tRNA"
    if re.match(r"^(MT-?RNR|RNR)", n) or "RRNA" in n or n in ("12S", "16S"):
        return "mt-rRNA"
    return "mt-mRNA" if biotype else "other"


_GENE_TYPES = frozenset({"gene", "ncRNA_gene", "pseudogene", "tRNA_gene", "rRNA_gene"})


def read_mt_annotation(path: str | Path, contig: str, length: int) -> list[MtGene]:
    """Genes from a GTF/GFF3 (gene lines, else exons merged per gene) or a BED6 file.

    Only rows on ``contig`` (or on any name of the mitochondrial contig) are used. Class from
    ``gene_biotype``/``gene_type``/``biotype`` (Mt_tRNA, Mt_rRNA, protein_coding), else from the
    name (MT-T*/TRN* tRNA, MT-RNR*/RNR* rRNA).
    """
    from .._text import read_bytes
    from ..reference import is_mt_contig

    p = Path(path)
    lines = read_bytes(p).decode("utf-8", errors="replace").splitlines()
    genes: dict[str, list] = {}
    order: list[str] = []
    has_gene_lines = False
    rows = []
    for i, raw in enumerate(lines, start=1):
        if not raw.strip() or raw.startswith(("#", "track", "browser")):
            continue
        f = raw.rstrip("\n\r").split("\t")
        rows.append((i, f))
        if len(f) >= 9 and f[2] in _GENE_TYPES:
            has_gene_lines = True
    if not rows:
        raise InputError(p, "annotation has no rows")
    bed = len(rows[0][1]) < 9
    for i, f in rows:
        if bed:
            if len(f) < 3:
                raise InputError(
                    p, f"BED row has {len(f)} columns, expected at least 3 (6 with strand)", line=i
                )
            chrom, name = f[0], (f[3] if len(f) > 3 else f"{f[0]}:{f[1]}-{f[2]}")
            strand = f[5] if len(f) > 5 else "+"
            try:
                start, end = int(f[1]) + 1, int(f[2])
            except ValueError:
                raise InputError(
                    p, f"BED start/end must be integers, found {f[1]!r}, {f[2]!r}", line=i
                ) from None
            biotype = ""
        else:
            if len(f) < 9:
                raise InputError(p, f"GTF/GFF row has {len(f)} columns, expected 9", line=i)
            if (f[2] not in _GENE_TYPES) if has_gene_lines else (f[2] != "exon"):
                continue
            chrom, strand = f[0], f[6]
            try:
                start, end = int(f[3]), int(f[4])
            except ValueError:
                raise InputError(
                    p, f"start/end must be integers, found {f[3]!r}, {f[4]!r}", line=i
                ) from None
            attrs = _attributes(f[8])
            name = (
                attrs.get("gene_name")
                or attrs.get("Name")
                or attrs.get("gene")
                or attrs.get("gene_id")
                or attrs.get("ID")
                or f"{chrom}:{start}-{end}"
            )
            biotype = (
                attrs.get("gene_biotype") or attrs.get("gene_type") or attrs.get("biotype") or ""
            )
        if chrom != contig and not (is_mt_contig(chrom) and is_mt_contig(contig)):
            continue
        if strand not in ("+", "-"):
            raise InputError(p, f"strand must be + or -, found {strand!r}", line=i)
        if not 1 <= start <= end <= length:
            raise InputError(
                p, f"gene {name} at {start}-{end} is outside the {length}-bp mt genome", line=i
            )
        if name not in genes:
            genes[name] = [start, end, strand, biotype]
            order.append(name)
        else:
            g = genes[name]
            g[0], g[1] = min(g[0], start), max(g[1], end)
    if not genes:
        raise InputError(
            p, f"no annotation rows on the mt genome '{contig}' (check the contig names)"
        )
    return [MtGene(n, _gene_class(n, genes[n][3]), *genes[n][:3]) for n in order]


def _attributes(text: str) -> dict[str, str]:
    out: dict[str, str] = {}
    for item in text.strip().split(";"):
        item = item.strip()
        if not item:
            continue
        if "=" in item and " " not in item.split("=")[0]:
            k, v = item.split("=", 1)
        else:
            k, _, v = item.partition(" ")
        out[k.strip()] = v.strip().strip('"')
    return out


def custom_reference(
    base: SmallRnaReference | None,
    *,
    mature: str | Path | None = None,
    hairpin: str | Path | None = None,
    mt_genome: str | Path | None = None,
    mt_annotation: str | Path | None = None,
) -> SmallRnaReference:
    """Replace parts of ``base`` (the bundled reference) with a user's FASTA/GTF/BED files.

    ``mature`` (miRBase-style mature FASTA of one species) with ``hairpin`` (its hairpins): each
    mature is placed in every hairpin that contains it. Without ``hairpin``, each mature is its
    own template (so no templated 3' extension or 5' upstream shift can be recognised).
    ``mt_genome`` (FASTA, first record) needs ``mt_annotation`` (GTF/GFF3/BED) and vice versa.
    """
    if hairpin is not None and mature is None:
        raise InputError(hairpin, "a hairpin FASTA needs the mature FASTA too (mature=...)")
    if (mt_genome is None) != (mt_annotation is None):
        given = mt_genome if mt_genome is not None else mt_annotation
        raise InputError(given, "mt_genome and mt_annotation must be given together")
    parts = []
    if mature is not None:
        mat = read_fasta(mature, what="mature miRNA FASTA")
        names = [n for n, _ in mat]
        if hairpin is not None:
            hp = dict(read_fasta(hairpin, what="hairpin FASTA"))
            sites = _place_matures(mat, hp)
            placed = {s[0] for s in sites}
            alone = [(n, s) for n, s in mat if n not in placed]
            if alone:
                logger.warning(
                    "%d of %d mature miRNAs are in no hairpin of %s; matched alone",
                    len(alone),
                    len(mat),
                    hairpin,
                )
        else:
            hp, sites, alone = {}, [], mat
        for n, s in alone:
            key = n if n not in hp else f"{n}#mature"
            hp[key] = s
            sites.append((n, key, 0, len(s)))
        parts.append(
            f"mature {Path(mature).name}" + (f", hairpin {Path(hairpin).name}" if hairpin else "")
        )
    else:
        assert base is not None
        names, hp, sites = base.mature_names, base.hairpins, base.sites
    if mt_genome is not None:
        recs = read_fasta(mt_genome, what="mt genome FASTA")
        if len(recs) > 1:
            logger.warning(
                "%s has %d records; using the first, %s", mt_genome, len(recs), recs[0][0]
            )
        mt_name, genome = recs[0]
        genes = read_mt_annotation(mt_annotation, mt_name, len(genome))  # type: ignore[arg-type]
        parts.append(f"mt genome {Path(mt_genome).name} ({mt_name}), {Path(mt_annotation).name}")  # type: ignore[arg-type]
    else:
        assert base is not None
        mt_name, genome, genes = base.mt_name, base.mt_genome, base.mt_genes
    if mature is not None:
        unplaced = [n for n, _ in alone]
    else:
        assert base is not None
        unplaced = list(base.unplaced)
    desc = "; ".join(parts) + (f"; rest from {base.description}" if base is not None else "")
    return SmallRnaReference(names, hp, sites, mt_name, genome, genes, desc, unplaced)


def _place_matures(
    mature: list[tuple[str, str]], hairpins: dict[str, str]
) -> list[tuple[str, str, int, int]]:
    k = 12
    index: dict[str, list[str]] = defaultdict(list)
    for hname, h in hairpins.items():
        seen = set()
        for i in range(len(h) - k + 1):
            kmer = h[i : i + k]
            if kmer not in seen:
                seen.add(kmer)
                index[kmer].append(hname)
    sites = []
    for name, seq in mature:
        cands = index.get(seq[:k], ()) if len(seq) >= k else list(hairpins)
        for hname in cands:
            for m in _occurrences(hairpins[hname], seq):
                sites.append((name, hname, m, m + len(seq)))
    return sites


# ---------------------------------------------------------------------------------- calls


class MirnaCall(NamedTuple):
    """An insert assigned to a miRNA (or to a tie of several, ``mirna`` = ``a/b``)."""

    mirna: str
    n_tied: int
    hairpin: str
    start: int  # templated part in the hairpin, 0-based end-exclusive
    end: int
    mature_start: int
    mature_end: int
    add: str  # non-templated 3' tail
    snv: tuple[int, str, str] | None  # (1-based position in the read, read nt, reference nt)

    @property
    def shift5(self) -> int:
        return self.start - self.mature_start

    @property
    def shift3(self) -> int:
        return self.end - self.mature_end


class MtCall(NamedTuple):
    """An insert from the mt genome: strand of the insert, 1-based templated span, CCA tail."""

    gene: str
    rna_class: str  # class of the gene, or "noncoding"
    sense: str  # sense / antisense / none
    strand: str
    start: int
    end: int
    tail: str
    hits: int
    mismatches: int

    @property
    def qc_key(self) -> str:
        if self.sense == "sense" and self.rna_class == "mt-tRNA":
            return "mt_trna"
        if self.sense == "sense" and self.rna_class == "mt-rRNA":
            return "mt_rrna"
        return "mt_other"


def _one_mismatch(a: str, b: str) -> int:
    """Index of the single mismatch between equal-length ``a`` and ``b``, or -1 (0 or >= 2)."""
    if a == b:
        return -1
    # binary search for the first mismatch (slice comparisons run in C); a[:lo] == b[:lo]
    lo, hi = 0, len(a)
    while hi - lo > 1:
        mid = (lo + hi) // 2
        if a[lo:mid] == b[lo:mid]:
            lo = mid
        else:
            hi = mid
    return lo if a[lo + 1 :] == b[lo + 1 :] else -1


_SEEDS = (16, 12, 10, 8)


class MtIndex:
    """Both strands of the mt genome indexed by 8/10/12/16-mers; knows every mt-tRNA 3' end."""

    def __init__(self, genome: str, genes: list[MtGene], *, min_body: int = 12) -> None:
        self.length = len(genome)
        self.seq = {"+": genome, "-": revcomp(genome)}
        self.genes = genes
        self.min_body = min_body
        self.seeds: dict[int, dict[str, list[tuple[str, int]]]] = {}
        for k in _SEEDS:
            idx: dict[str, list[tuple[str, int]]] = defaultdict(list)
            for st, s in self.seq.items():
                for p in range(len(s) - k + 1):
                    idx[s[p : p + k]].append((st, p))
            self.seeds[k] = dict(idx)
        # 3' ends of mt-tRNAs in the coordinates of their own strand's string (end-exclusive)
        self.trna_ends: set[tuple[str, int]] = set()
        for g in genes:
            if g.rna_class == "mt-tRNA":
                if g.strand == "+":
                    self.trna_ends.add(("+", g.end))
                else:
                    self.trna_ends.add(("-", self.length - g.start + 1))
        self._gene_cache: dict[tuple[str, int, int], tuple[int, str, str, str]] = {}

    def _find(self, q: str) -> list[tuple[str, int]]:
        """Exact occurrences ``(strand, position)`` of ``q`` on either strand."""
        n = len(q)
        if n < 8:
            return [(st, p) for st, s in self.seq.items() for p in _occurrences(s, q)]
        k = 16 if n >= 16 else 12 if n >= 12 else 10 if n >= 10 else 8
        cands = self.seeds[k].get(q[:k])
        if not cands:
            return []
        seq = self.seq
        return [(st, p) for st, p in cands if seq[st].startswith(q, p)]

    def _find1(self, q: str) -> list[tuple[str, int]]:
        """Occurrences of ``q`` with exactly one mismatch (``len(q)`` >= 16: one half is exact)."""
        n = len(q)
        if n < 16:
            return []
        k = 16 if n >= 32 else 12 if n >= 24 else 10 if n >= 20 else 8
        seeds = self.seeds[k]
        a = seeds.get(q[:k], ())
        off = n - k
        b = seeds.get(q[off:], ())
        if not a and not b:
            return []
        cands = set(a)
        cands.update((st, p - off) for st, p in b if p >= off)
        out = []
        seq, length = self.seq, self.length
        for st, p in cands:
            if p + n <= length and _one_mismatch(q, seq[st][p : p + n]) >= 0:
                out.append((st, p))
        return out

    def call(self, r: str, mismatches: int) -> MtCall | None:
        """Exact (``mismatches=0``) or one-mismatch mt call of insert ``r``, CCA tails first."""
        find = self._find if mismatches == 0 else self._find1
        last = r[-1:]
        if last == "C" or (last == "A" and r.endswith("CCA")):
            for tail in CCA_TAILS:
                if r.endswith(tail) and len(r) - len(tail) >= self.min_body:
                    q = r[: -len(tail)]
                    n = len(q)
                    hits = [(st, p) for st, p in find(q) if (st, p + n) in self.trna_ends]
                    if hits:
                        return self._make(n, hits, tail, mismatches)
        hits = find(r)
        if hits:
            return self._make(len(r), hits, "", mismatches)
        return None

    def _make(self, n: int, hits: list[tuple[str, int]], tail: str, mm: int) -> MtCall:
        best = None
        for st, p in hits:
            if st == "+":
                start, end = p + 1, p + n
            else:
                start, end = self.length - p - n + 1, self.length - p
            rank, gene, cls, sense = self._gene(st, start, end)
            key = (rank, start, st)
            if best is None or key < best[0]:
                best = (key, gene, cls, sense, st, start, end)
        assert best is not None
        _, gene, cls, sense, st, start, end = best
        return MtCall(gene, cls, sense, st, start, end, tail, len(hits), mm)

    def _gene(self, strand: str, start: int, end: int) -> tuple[int, str, str, str]:
        key = (strand, start, end)
        hit = self._gene_cache.get(key)
        if hit is not None:
            return hit
        best_sense = best_anti = None
        for g in self.genes:
            ov = min(end, g.end) - max(start, g.start) + 1
            if ov <= 0:
                continue
            if g.strand == strand:
                if best_sense is None or ov > best_sense[0]:
                    best_sense = (ov, g)
            elif best_anti is None or ov > best_anti[0]:
                best_anti = (ov, g)
        if best_sense is not None:
            g = best_sense[1]
            rank = 0 if g.rna_class in ("mt-tRNA", "mt-rRNA") else 1
            hit = (rank, g.symbol, g.rna_class, "sense")
        elif best_anti is not None:
            g = best_anti[1]
            hit = (2, g.symbol, g.rna_class, "antisense")
        else:
            hit = (3, "noncoding", "noncoding", "none")
        self._gene_cache[key] = hit
        return hit


class MirnaIndex:
    """Every templated isomiR of every mature site (5' +-2, 3' +-3), exact and by halves."""

    def __init__(self, ref: SmallRnaReference, *, min_templated: int = 12) -> None:
        self.hairpins = ref.hairpins
        self.sites = ref.sites
        self.variants: list[tuple[int, int, int]] = []  # (site, start, end)
        self.vseq: list[str] = []
        exact: dict[str, list[int]] = defaultdict(list)
        left: dict[int, dict[str, list[int]]] = defaultdict(lambda: defaultdict(list))
        right: dict[int, dict[str, list[int]]] = defaultdict(lambda: defaultdict(list))
        for si, (_, hname, ms, me) in enumerate(ref.sites):
            h = ref.hairpins[hname]
            for s in range(max(0, ms - MAX_5P_SHIFT), ms + MAX_5P_SHIFT + 1):
                for e in range(me - MAX_3P_SHIFT, min(len(h), me + MAX_3P_SHIFT) + 1):
                    if e - s < min_templated:
                        continue
                    v = h[s:e]
                    vid = len(self.vseq)
                    self.variants.append((si, s, e))
                    self.vseq.append(v)
                    exact[v].append(vid)
                    n = len(v)
                    left[n][v[: n // 2]].append(vid)
                    right[n][v[n // 2 :]].append(vid)
        self.exact = dict(exact)
        self.left = {n: dict(d) for n, d in left.items()}
        self.right = {n: dict(d) for n, d in right.items()}
        self.min_templated = min_templated

    def call(self, r: str, mismatches: int) -> MirnaCall | None:
        """Exact or one-mismatch miRNA call of insert ``r`` (see the module rules)."""
        n = len(r)
        top = min(MAX_ADD, n - self.min_templated)
        if mismatches == 0:
            exact = self.exact
            for k in range(top + 1):
                if k and r[n - k] not in "AT":
                    break
                ids = exact.get(r[: n - k])
                if ids:
                    return self._pick([(k, vid, -1) for vid in ids], r)
            return None
        cands = []
        empty: dict[str, list[int]] = {}
        for k in range(top + 1):
            if k and r[n - k] not in "AT":
                break
            m = n - k
            t = r[:m]
            h = m // 2
            a = self.left.get(m, empty).get(t[:h], ())
            b = self.right.get(m, empty).get(t[h:], ())
            if not a and not b:
                continue
            vseq = self.vseq
            for vid in set(a).union(b):
                pos = _one_mismatch(t, vseq[vid])
                if pos >= 0:
                    cands.append((k, vid, pos))
            if cands:  # a longer non-templated tail can only score worse
                return self._pick(cands, r)
        return None

    def _pick(self, cands: list[tuple[int, int, int]], r: str) -> MirnaCall:
        scored = []
        for k, vid, pos in cands:
            si, s, e = self.variants[vid]
            name, hname, ms, me = self.sites[si]
            scored.append((k, abs(s - ms) + abs(e - me), name, hname, s, e, ms, me, pos))
        scored.sort()
        best = scored[0]
        tied = sorted({c[2] for c in scored if c[:2] == best[:2]})
        k, _, _, hname, s, e, ms, me, pos = best
        snv = None
        if pos >= 0:
            snv = (pos + 1, r[pos], self.hairpins[hname][s + pos])
        return MirnaCall(
            mirna="/".join(tied),
            n_tied=len(tied),
            hairpin=hname,
            start=s,
            end=e,
            mature_start=ms,
            mature_end=me,
            add=r[len(r) - k :] if k else "",
            snv=snv,
        )


class Assigner:
    """Assign unique inserts (cached) with the tiers of the module docstring.

    A filter skips the tiers that cannot succeed: for an insert of >= 23 nt every templated part
    (>= 20 nt after at most 3 non-templated nt) starts with its first 10 nt and continues with
    the next 10, so an exact hit needs both 10-mers in the reference at those offsets and a
    one-mismatch hit needs one of them.
    """

    _FILTER_MIN = 23

    def __init__(self, ref: SmallRnaReference, *, mismatches: int = 1) -> None:
        if ref is bundled_reference():
            self.mt, self.mirna, self._first, self._second = _bundled_indexes()
        else:
            self.mt, self.mirna, self._first, self._second = _build_indexes(ref)
        self.mismatches = mismatches
        self.cache: dict[str, MirnaCall | MtCall] = {}  # assigned inserts
        self._ref = ref
        self._prefilter = None

    def assign_many(self, inserts: list[str]) -> dict[str, MirnaCall | MtCall]:
        """Calls of ``inserts`` that have one (not cached). A compiled pre-filter
        (:mod:`mtncrna.quant._smallrna_kernel`) first sets aside the inserts no rule can match;
        the calls are exactly those of :meth:`assign` on every insert."""
        if self._prefilter is None:
            self._prefilter = _prefilter(self._ref)
        keep = self._prefilter.maybe(inserts)
        assign = self.assign
        out = {}
        for r in (r for r, k in zip(inserts, keep.tolist(), strict=True) if k):
            c = assign(r)
            if c is not None:
                out[r] = c
        return out

    def assign(self, r: str) -> MirnaCall | MtCall | None:
        """The call of one insert (not cached)."""
        mt, mirna = self.mt.call, self.mirna.call
        exact = one = True
        if len(r) >= self._FILTER_MIN:
            a = r[:10] in self._first
            b = r[10:20] in self._second
            exact, one = a and b, a or b
        c = None
        if exact:
            c = mt(r, 0) or mirna(r, 0)
        if c is None and one and self.mismatches:
            c = mt(r, 1) or mirna(r, 1)
        return c


def _build_indexes(ref: SmallRnaReference) -> tuple[MtIndex, MirnaIndex, set[str], set[str]]:
    mt = MtIndex(ref.mt_genome, ref.mt_genes)
    mirna = MirnaIndex(ref)
    mt10 = set(mt.seeds[10])
    first, second = set(mt10), set(mt10)
    for _, hname, ms, _ in ref.sites:
        h = ref.hairpins[hname]
        for st in range(max(0, ms - MAX_5P_SHIFT), ms + MAX_5P_SHIFT + 1):
            first.add(h[st : st + 10])
            second.add(h[st + 10 : st + 20])
    return mt, mirna, first, second


def _prefilter(ref: SmallRnaReference):
    if ref is bundled_reference():
        return _bundled_prefilter()
    from ._smallrna_kernel import Prefilter

    return Prefilter([ref.mt_genome, revcomp(ref.mt_genome), *ref.hairpins.values()])


@lru_cache(maxsize=1)
def _bundled_prefilter():
    from ._smallrna_kernel import Prefilter

    ref = bundled_reference()
    return Prefilter([ref.mt_genome, revcomp(ref.mt_genome), *ref.hairpins.values()])


@lru_cache(maxsize=1)
def _bundled_indexes() -> tuple[MtIndex, MirnaIndex, set[str], set[str]]:
    """The bundled reference's indexes, built once per process (they are never modified)."""
    return _build_indexes(bundled_reference())
