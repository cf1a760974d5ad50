"""Distinct inserts -> calls: the indexes over the small-RNA reference
(:mod:`mtncrna.quant._smallrna_reference`) and the rules that assign an insert to it.

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
from collections import defaultdict
from functools import lru_cache
from typing import NamedTuple

import numpy as np

from ._smallrna_kernel import (
    MAX_3P_SHIFT,
    MAX_5P_SHIFT,
    MAX_ADD,
    MIN_BODY,
    MIN_TEMPLATED,
    AssignIndex,
)
from ._smallrna_reference import (
    MtGene,
    SmallRnaReference,
    bundled_reference,
    occurrences,
    revcomp,
)

logger = logging.getLogger("mtncrna")

CCA_TAILS = ("CCA", "CC", "C")


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


def trna_ends(length: int, genes: list[MtGene]) -> set[tuple[str, int]]:
    """3' ends of the mt-tRNAs in the coordinates of their own strand's string (end-exclusive)."""
    ends: set[tuple[str, int]] = set()
    for g in genes:
        if g.rna_class == "mt-tRNA":
            ends.add(("+", g.end) if g.strand == "+" else ("-", length - g.start + 1))
    return ends


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

    def __init__(self, genome: str, genes: list[MtGene], *, min_body: int = MIN_BODY) -> None:
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
        self.trna_ends = trna_ends(self.length, genes)
        self._gene_cache: dict[tuple[str, int, int], tuple[int, str, str, str]] = {}

    def _find(self, q: str) -> list[tuple[str, int]]:
        """Exact occurrences ``(strand, position)`` of ``q`` on either strand."""
        n = len(q)
        if n < 8:
            return [(st, p) for st, s in self.seq.items() for p in occurrences(s, q)]
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

    def __init__(self, ref: SmallRnaReference, *, min_templated: int = MIN_TEMPLATED) -> None:
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
                    return self._pick([(k, *self.variants[vid], -1) for vid in ids], r)
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
                    cands.append((k, *self.variants[vid], pos))
            if cands:  # a longer non-templated tail can only score worse
                return self._pick(cands, r)
        return None

    def _pick(self, cands: list[tuple[int, int, int, int, int]], r: str) -> MirnaCall:
        """The call from the hits ``(non-templated nt, site, start, end, mismatch or -1)``."""
        if len(cands) == 1:  # what the general path below gives for one hit, sooner
            k, si, s, e, pos = cands[0]
            name, hname, ms, me = self.sites[si]
            snv = (pos + 1, r[pos], self.hairpins[hname][s + pos]) if pos >= 0 else None
            add = r[len(r) - k :] if k else ""
            return MirnaCall(name, 1, hname, s, e, ms, me, add, snv)
        scored = []
        for k, si, s, e, pos in cands:
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

    :meth:`assign_many` finds the hits with the compiled search
    (:class:`mtncrna.quant._smallrna_kernel.AssignIndex`) and picks the call among them with
    the rules' own code; :meth:`assign` is the rules in Python, one insert at a time (the
    reference the compiled search is tested against; its indexes are built on first use).

    In :meth:`assign`, a filter skips the tiers that cannot succeed: for an insert of >= 23 nt
    every templated part (>= 20 nt after at most 3 non-templated nt) starts with its first 10 nt
    and continues with the next 10, so an exact hit needs both 10-mers in the reference at those
    offsets and a one-mismatch hit needs one of them.
    """

    _FILTER_MIN = 23

    def __init__(self, ref: SmallRnaReference, *, mismatches: int = 1) -> None:
        self.mismatches = mismatches
        self.cache: dict[str, MirnaCall | MtCall] = {}  # assigned inserts
        self._ref = ref
        self._python: tuple[MtIndex, MirnaIndex, set[str], set[str]] | None = None
        self._index = None
        self._genes: dict[tuple[str, int, int], tuple[int, str, str, str]] = {}

    @property
    def index(self) -> AssignIndex:
        """The compiled search's index (built once per process for the bundled reference)."""
        if self._ref is bundled_reference():
            return _bundled_index()
        if self._index is None:
            self._index = _assign_index(self._ref)
        return self._index

    def _indexes(self) -> tuple[MtIndex, MirnaIndex, set[str], set[str]]:
        if self._python is None:
            ref = self._ref
            self._python = _bundled_indexes() if ref is bundled_reference() else _build_indexes(ref)
        return self._python

    @property
    def hairpins(self) -> dict[str, str]:
        return self._ref.hairpins

    @property
    def reference(self) -> SmallRnaReference:
        return self._ref

    @property
    def mt(self) -> MtIndex:
        return self._indexes()[0]

    @property
    def mirna(self) -> MirnaIndex:
        return self._indexes()[1]

    def assign_many(self, inserts: list[str]) -> dict[str, MirnaCall | MtCall]:
        """Calls of ``inserts`` that have one (not cached); exactly :meth:`assign` of each."""
        if not inserts:
            return {}
        index = self.index
        tier, aux, hit_off, hits = index.search(inserts, self.mismatches)
        picker = _Picker(self._ref, index.length, self._genes)
        out: dict[str, MirnaCall | MtCall] = {}
        found = np.flatnonzero(tier)
        lo, hi = hit_off[found].tolist(), hit_off[found + 1].tolist()
        rows = hits.tolist()
        for i, t, k, a, b in zip(
            found.tolist(), tier[found].tolist(), aux[found].tolist(), lo, hi, strict=True
        ):
            r = inserts[i]
            mm = 0 if t <= 2 else 1
            if t & 1:  # mtDNA
                out[r] = picker.mt(
                    len(r) - k, [row[0] for row in rows[a:b]], r[len(r) - k :] if k else "", mm
                )
            else:
                out[r] = picker.mirna([(k, *row) for row in rows[a:b]], r)
        return out

    def assign(self, r: str) -> MirnaCall | MtCall | None:
        """The call of one insert (not cached), by the rules in Python."""
        mt_index, mirna_index, first, second = self._indexes()
        mt, mirna = mt_index.call, mirna_index.call
        exact = one = True
        if len(r) >= self._FILTER_MIN:
            a = r[:10] in first
            b = r[10:20] in second
            exact, one = a and b, a or b
        c = None
        if exact:
            c = mt(r, 0) or mirna(r, 0)
        if c is None and one and self.mismatches:
            c = mt(r, 1) or mirna(r, 1)
        return c


class _Picker:
    """The best hit of a tier, by the rules' own code (:meth:`MtIndex._make`,
    :meth:`MirnaIndex._pick`) without building their seed indexes."""

    def __init__(
        self, ref: SmallRnaReference, length: int, genes: dict[tuple[str, int, int], tuple]
    ) -> None:
        mt = MtIndex.__new__(MtIndex)
        mt.length, mt.genes, mt._gene_cache = length, ref.mt_genes, genes
        mirna = MirnaIndex.__new__(MirnaIndex)
        mirna.hairpins, mirna.sites = ref.hairpins, ref.sites
        self._mt, self._mirna = mt, mirna
        self._length = length

    def mt(self, n: int, positions: list[int], tail: str, mm: int) -> MtCall:
        """``positions`` on the joined strands (+, separator, -) of the compiled index."""
        step = self._length + 1
        hits = [("+", g) if g < step else ("-", g - step) for g in positions]
        return self._mt._make(n, hits, tail, mm)

    def mirna(self, cands: list[tuple[int, int, int, int, int]], r: str) -> MirnaCall:
        return self._mirna._pick(cands, r)


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


def _assign_index(ref: SmallRnaReference) -> AssignIndex:
    minus = revcomp(ref.mt_genome)
    ends = trna_ends(len(ref.mt_genome), ref.mt_genes)
    return AssignIndex(ref.mt_genome, minus, ends, ref.hairpins, ref.sites)


@lru_cache(maxsize=1)
def _bundled_index() -> AssignIndex:
    """The bundled reference's compiled index, built once per process."""
    return _assign_index(bundled_reference())


@lru_cache(maxsize=1)
def _bundled_indexes() -> tuple[MtIndex, MirnaIndex, set[str], set[str]]:
    """The bundled reference's Python indexes, built once per process (never modified)."""
    return _build_indexes(bundled_reference())
