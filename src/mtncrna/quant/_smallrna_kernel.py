"""Compiled search of the small-RNA assignment rules, and UMI deduplication.

:class:`AssignIndex` holds the reference as bytes with k-mer indexes, and :meth:`AssignIndex.search`
finds, for every distinct insert, the first tier of the rules of
:mod:`mtncrna.quant._smallrna_assign` that has hits and *all* hits of that tier: mtDNA positions
``(strand, position)`` (exact or with exactly one mismatch, after a CCA/CC/C tail on an mt-tRNA
3' end or whole), or miRNA variants ``(site, start, end, mismatch position)`` (5' end within
+-2 nt and 3' end within +-3 nt of the mature's, after 0-3 non-templated A/T). The Python rules
then pick the best hit of those (:meth:`MtIndex._make`, :meth:`MirnaIndex._pick`), so the calls
are the rules' own; a test compares them with the Python search on every insert. A pre-filter
(:class:`Prefilter`) first sets aside, in well under a microsecond each, the ~86% of distinct
inserts that no rule can match.

Why the seeds find every hit: characters are compared as bytes (``N`` equals ``N``, as in the
Python rules) and k-mers are indexed in base 5 (A C G T N; any other reference letter is never
part of a seed). An exact hit starts with its first k-mer. A hit with one mismatch of ``n`` bases
has an exact first or last k-mer when ``2k <= n``: 8-mers for mtDNA (inserts >= 16 nt, as the
rules ask) and 6-mers for miRNAs (templated parts >= 12 nt), looked up among the mt genome's
positions and among the allowed variant starts and ends of each mature site.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from ._jit import numba

#: The rules' numbers (:mod:`mtncrna.quant._smallrna_assign`): largest 5' / 3' offset from the
#: annotated mature ends, longest non-templated A/U tail, shortest templated part of a miRNA hit
#: and of an mt hit left of a CCA tail.
MAX_5P_SHIFT = 2
MAX_3P_SHIFT = 3
MAX_ADD = 3
MIN_TEMPLATED = 12
MIN_BODY = 12

_CODE = np.full(256, 5, dtype=np.int64)  # A0 C1 G2 T3 N4; anything else 5 (in no seed)
for _i, _c in enumerate(b"ACGTN"):
    _CODE[_c] = _i
MT_K = 8
MIR_K = 6


def _as_bytes(strings: Sequence[str]) -> tuple[np.ndarray, np.ndarray]:
    """All strings joined as bytes, and their offsets."""
    data = np.frombuffer("".join(strings).encode("ascii", errors="replace"), dtype=np.uint8)
    offsets = np.zeros(len(strings) + 1, dtype=np.int64)
    np.cumsum(np.fromiter(map(len, strings), dtype=np.int64, count=len(strings)), out=offsets[1:])
    return data, offsets


@numba.njit(cache=True, nogil=True)
def _code_at(seq: np.ndarray, a: int, k: int, code: np.ndarray) -> int:
    """Base-5 code of ``seq[a:a + k]``, or -1 if it holds a letter outside A C G T N."""
    c = 0
    for j in range(k):
        x = code[seq[a + j]]
        if x > 4:
            return -1
        c = c * 5 + x
    return c


@numba.njit(cache=True, nogil=True)
def _codes_at(seq: np.ndarray, starts: np.ndarray, k: int, code: np.ndarray) -> np.ndarray:
    out = np.empty(starts.shape[0], dtype=np.int64)
    for i in range(starts.shape[0]):
        out[i] = _code_at(seq, starts[i], k, code)
    return out


def _csr(keys: np.ndarray, values: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
    """``values`` grouped by ``keys`` (base-5 k-mer codes; -1 left out):
    ``out[start[c]:start[c + 1]]``, in the order of ``values``."""
    ok = keys >= 0
    keys, values = keys[ok], values[ok]
    order = np.argsort(keys, kind="stable")
    start = np.zeros(5**k + 1, dtype=np.int64)
    np.cumsum(np.bincount(keys, minlength=5**k), out=start[1:])
    return start, values[order].astype(np.int64)


@numba.njit(cache=True, nogil=True, inline="always")
def _mismatches(a: np.ndarray, i: int, b: np.ndarray, j: int, n: int, limit: int) -> int:
    """Mismatches of ``a[i:i + n]`` and ``b[j:j + n]``, counted up to ``limit + 1``."""
    mm = 0
    for x in range(n):
        if a[i + x] != b[j + x]:
            mm += 1
            if mm > limit:
                break
    return mm


@numba.njit(cache=True, nogil=True, inline="always")
def _first_mismatch(a: np.ndarray, i: int, b: np.ndarray, j: int, n: int) -> int:
    for x in range(n):
        if a[i + x] != b[j + x]:
            return x
    return -1


@numba.njit(cache=True, nogil=True)
def _mt_hits(
    r: np.ndarray,
    a: int,
    n: int,
    mm: int,
    trna_only: bool,
    mt: np.ndarray,
    length: int,
    code: np.ndarray,
    mt_start: np.ndarray,
    mt_pos: np.ndarray,
    trna_end: np.ndarray,
    out: np.ndarray,
) -> int:
    """Hits ``strand * (length + 1) + position`` of ``r[a:a + n]`` on either strand of the mt
    genome (``mt`` is strand + then strand -, one separator between), with exactly ``mm``
    mismatches (at most 1; n >= 16 for 1), only those ending at an mt-tRNA 3' end if
    ``trna_only``. Returns the number written to ``out`` (-1 if ``out`` is too small)."""
    k = MT_K
    found = 0
    if mm == 0 and n < k:  # short: every position
        for st in range(2):
            base = st * (length + 1)
            for p in range(length - n + 1):
                if trna_only and not trna_end[st, p + n]:
                    continue
                if _mismatches(r, a, mt, base + p, n, 0) == 0:
                    if found >= out.shape[0]:
                        return -1
                    out[found] = base + p
                    found += 1
        return found
    if mm == 1 and n < 2 * k:
        return 0
    for seed in range(1 + mm):
        off = 0 if seed == 0 else n - k
        c = _code_at(r, a + off, k, code)
        if c < 0:
            continue
        for h in range(mt_start[c], mt_start[c + 1]):
            g = mt_pos[h] - off
            st = 0 if g <= length else 1
            base = st * (length + 1)
            p = g - base
            if p < 0 or p + n > length:
                continue
            if trna_only and not trna_end[st, p + n]:
                continue
            if seed == 1 and _mismatches(r, a, mt, g, k, 0) == 0:
                continue  # its first k-mer is exact too: found by the first seed
            if _mismatches(r, a, mt, g, n, mm) != mm:
                continue
            if found >= out.shape[0]:
                return -1
            out[found] = g
            found += 1
    return found


@numba.njit(cache=True, nogil=True)
def _mirna_hits(
    r: np.ndarray,
    a: int,
    m: int,
    mm: int,
    hp: np.ndarray,
    code: np.ndarray,
    site_hp: np.ndarray,
    site_ms: np.ndarray,
    site_me: np.ndarray,
    hp_off: np.ndarray,
    s_start: np.ndarray,
    s_entry: np.ndarray,
    e_start: np.ndarray,
    e_entry: np.ndarray,
    e_site: np.ndarray,
    e_pos: np.ndarray,
    out: np.ndarray,
) -> int:
    """Variants ``(site, start, end, mismatch position or -1)`` equal to ``r[a:a + m]`` with
    exactly ``mm`` mismatches. Start entries ``e_*[s_entry[...]]`` hold (site, start), end
    entries (site, end). Returns the number of rows written to ``out`` (-1: too small)."""
    k = MIR_K
    found = 0
    for seed in range(1 + mm):
        if seed == 0:
            c = _code_at(r, a, k, code)
            start, entry = s_start, s_entry
        else:
            c = _code_at(r, a + m - k, k, code)
            start, entry = e_start, e_entry
        if c < 0:
            continue
        for h in range(start[c], start[c + 1]):
            x = entry[h]
            si = e_site[x]
            hi = site_hp[si]
            ms, me = site_ms[si], site_me[si]
            hlen = hp_off[hi + 1] - hp_off[hi]
            if seed == 0:
                s = e_pos[x]
                e = s + m
            else:
                e = e_pos[x]
                s = e - m
            if s < max(0, ms - MAX_5P_SHIFT) or s > ms + MAX_5P_SHIFT:
                continue
            if e < me - MAX_3P_SHIFT or e > min(hlen, me + MAX_3P_SHIFT):
                continue
            g = hp_off[hi] + s
            if seed == 1 and _mismatches(r, a, hp, g, k, 0) == 0:
                continue  # found by the start seed
            if _mismatches(r, a, hp, g, m, mm) != mm:
                continue
            if found >= out.shape[0]:
                return -1
            out[found, 0] = si
            out[found, 1] = s
            out[found, 2] = e
            out[found, 3] = _first_mismatch(r, a, hp, g, m) if mm else -1
            found += 1
    return found


@numba.njit(cache=True, nogil=True)
def _search(
    r: np.ndarray,
    r_off: np.ndarray,
    mismatches: int,
    code: np.ndarray,
    mt: np.ndarray,
    length: int,
    mt_start: np.ndarray,
    mt_pos: np.ndarray,
    trna_end: np.ndarray,
    hp: np.ndarray,
    site_hp: np.ndarray,
    site_ms: np.ndarray,
    site_me: np.ndarray,
    hp_off: np.ndarray,
    s_start: np.ndarray,
    s_entry: np.ndarray,
    e_start: np.ndarray,
    e_entry: np.ndarray,
    e_site: np.ndarray,
    e_pos: np.ndarray,
    tier: np.ndarray,
    aux: np.ndarray,
    hit_off: np.ndarray,
    hits: np.ndarray,
    buf: np.ndarray,
    buf2: np.ndarray,
) -> int:
    """Fill ``tier`` (0 none, 1 mt exact, 2 miRNA exact, 3 mt one mismatch, 4 miRNA one
    mismatch), ``aux`` (mt: tail length; miRNA: non-templated nt) and the hits of each insert
    (rows ``hits[hit_off[i]:hit_off[i + 1]]``: mt ``(g, 0, 0, 0)``, miRNA ``(site, start, end,
    mismatch)``). Returns -1 when ``hits`` is too small (call again with more room)."""
    nh = 0
    for i in range(r_off.shape[0] - 1):
        a = r_off[i]
        n = r_off[i + 1] - a
        hit_off[i] = nh
        tier[i] = 0
        aux[i] = 0
        done = False
        for mm in range(1 + mismatches):
            # mtDNA: CCA / CC / C tail on an mt-tRNA 3' end first, then the whole insert
            last = r[a + n - 1] if n > 0 else 0
            cca = n >= 3 and r[a + n - 3] == 67 and r[a + n - 2] == 67 and last == 65
            if last == 67 or cca:
                for t in range(3, 0, -1):  # CCA, CC, C
                    if t == 3 and not cca:
                        continue
                    if t == 2 and not (n >= 2 and r[a + n - 2] == 67 and last == 67):
                        continue
                    if t == 1 and last != 67:
                        continue
                    if n - t < MIN_BODY:
                        continue
                    f = _mt_hits(r, a, n - t, mm, True, mt, length, code, mt_start, mt_pos,
                                 trna_end, buf)  # fmt: skip
                    if f > 0:
                        if nh + f > hits.shape[0]:
                            return -1
                        for x in range(f):
                            hits[nh + x, 0] = buf[x]
                            hits[nh + x, 1:] = 0
                        nh += f
                        tier[i] = 1 + 2 * mm
                        aux[i] = t
                        done = True
                        break
            if done:
                break
            f = _mt_hits(r, a, n, mm, False, mt, length, code, mt_start, mt_pos, trna_end, buf)
            if f > 0:
                if nh + f > hits.shape[0]:
                    return -1
                for x in range(f):
                    hits[nh + x, 0] = buf[x]
                    hits[nh + x, 1:] = 0
                nh += f
                tier[i] = 1 + 2 * mm
                break
            # miRNA: 0-3 non-templated A/T, the shortest tail first
            top = min(MAX_ADD, n - MIN_TEMPLATED)
            for kk in range(top + 1):
                if kk and r[a + n - kk] != 65 and r[a + n - kk] != 84:
                    break
                f = _mirna_hits(
                    r, a, n - kk, mm, hp, code, site_hp, site_ms, site_me, hp_off,
                    s_start, s_entry, e_start, e_entry, e_site, e_pos, buf2,
                )  # fmt: skip
                if f > 0:
                    if nh + f > hits.shape[0]:
                        return -1
                    hits[nh : nh + f] = buf2[:f]
                    nh += f
                    tier[i] = 2 + 2 * mm
                    aux[i] = kk
                    done = True
                    break
            if done:
                break
    hit_off[r_off.shape[0] - 1] = nh
    return nh


# ------------------------------------------------------------------------------ pre-filter
# Most distinct inserts of a library match nothing; this rejects them before the search. Every
# hit of the rules is a templated part of at least ``n - 3`` nt of the insert equal to a stretch
# of one reference string (a strand of the mt genome or a hairpin) with at most one mismatch, so
# ``r[:n - 3]`` matches that stretch with <= 1 mismatch, and of two disjoint pieces of it
# (``r[0:8]``/``r[8:16]`` when ``n - 3 >= 16``, else ``r[0:6]``/``r[6:12]``) one is exact. The
# pieces are looked up in a k-mer index of all reference strings and each candidate start is
# verified by counting mismatches of ``r[:n - 3]``. Inserts shorter than 16 nt or with an ``N``
# are passed without a test.

_PF_CODE = np.full(256, 4, dtype=np.uint8)  # N and anything else: 4
for _i, _c in enumerate(b"ACGT"):
    _PF_CODE[_c] = _i
_PF_SEP = 5  # between reference strings: equal to no insert code
MIN_TESTED = 16


def _pf_encode(strings: Sequence[str]) -> tuple[np.ndarray, np.ndarray]:
    """2-bit-able codes (A0 C1 G2 T3, else 4) of all strings joined, and their offsets."""
    data = "".join(strings).encode("ascii", errors="replace")
    codes = _PF_CODE[np.frombuffer(data, dtype=np.uint8)]
    offsets = np.zeros(len(strings) + 1, dtype=np.int64)
    np.cumsum(np.fromiter(map(len, strings), dtype=np.int64, count=len(strings)), out=offsets[1:])
    return codes, offsets


@numba.njit(cache=True, nogil=True)
def _pf_kmer_codes(seq: np.ndarray, k: int) -> np.ndarray:
    """Code of the k-mer starting at each position (-1 when it holds a non-ACGT)."""
    n = seq.shape[0] - k + 1
    out = np.full(max(n, 0), -1, dtype=np.int64)
    for i in range(n):
        c = 0
        ok = True
        for j in range(k):
            b = seq[i + j]
            if b > 3:
                ok = False
                break
            c = (c << 2) | b
        if ok:
            out[i] = c
    return out


def _pf_csr(seq: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
    """Positions of every k-mer, grouped by code: ``pos[start[c]:start[c + 1]]``."""
    codes = _pf_kmer_codes(seq, k)
    valid = np.flatnonzero(codes >= 0)
    order = np.argsort(codes[valid], kind="stable")
    pos = valid[order].astype(np.int64)
    counts = np.bincount(codes[valid], minlength=4**k)
    start = np.zeros(4**k + 1, dtype=np.int64)
    np.cumsum(counts, out=start[1:])
    return start, pos


@numba.njit(cache=True, nogil=True)
def _maybe(
    codes: np.ndarray,
    offsets: np.ndarray,
    ref: np.ndarray,
    start8: np.ndarray,
    pos8: np.ndarray,
    start6: np.ndarray,
    pos6: np.ndarray,
) -> np.ndarray:
    n_ins = offsets.shape[0] - 1
    out = np.zeros(n_ins, dtype=np.bool_)
    n_ref = ref.shape[0]
    for i in range(n_ins):
        a = offsets[i]
        n = offsets[i + 1] - a
        if n < MIN_TESTED:
            out[i] = True
            continue
        has_n = False
        for j in range(n):
            if codes[a + j] > 3:
                has_n = True
                break
        if has_n:
            out[i] = True
            continue
        length = n - 3
        k = 8 if length >= 16 else 6
        found = False
        for piece in range(2):
            off = piece * k
            c = 0
            for j in range(k):
                c = (c << 2) | codes[a + off + j]
            if k == 8:
                lo, hi, pos = start8[c], start8[c + 1], pos8
            else:
                lo, hi, pos = start6[c], start6[c + 1], pos6
            for h in range(lo, hi):
                s = pos[h] - off
                if s < 0 or s + length > n_ref:
                    continue
                mm = 0
                for j in range(length):
                    if codes[a + j] != ref[s + j]:
                        mm += 1
                        if mm > 1:
                            break
                if mm <= 1:
                    found = True
                    break
            if found:
                break
        out[i] = found
    return out


class Prefilter:
    """A k-mer index (8- and 6-mers) of reference strings that answers :meth:`maybe`."""

    def __init__(self, references: Sequence[str]) -> None:
        sep = chr(0)  # coded 4 by _PF_CODE, then set to _PF_SEP below
        joined = sep.join(references)
        codes = _PF_CODE[np.frombuffer(joined.encode("ascii", errors="replace"), dtype=np.uint8)]
        codes = codes.copy()
        codes[np.frombuffer(joined.encode("ascii", errors="replace"), dtype=np.uint8) == 0] = (
            _PF_SEP
        )
        self.ref = codes
        self.start8, self.pos8 = _pf_csr(codes, 8)
        self.start6, self.pos6 = _pf_csr(codes, 6)

    def maybe(self, inserts: Sequence[str]) -> np.ndarray:
        """Boolean per insert: False only if no rule can match it."""
        if not len(inserts):
            return np.zeros(0, dtype=np.bool_)
        codes, offsets = _pf_encode(inserts)
        return _maybe(codes, offsets, self.ref, self.start8, self.pos8, self.start6, self.pos6)


class AssignIndex:
    """The reference as bytes with the seed indexes of :meth:`search`."""

    def __init__(
        self,
        mt_genome: str,
        mt_minus: str,
        trna_ends: set[tuple[str, int]],
        hairpins: dict[str, str],
        sites: Sequence[tuple[str, str, int, int]],
    ) -> None:
        self.length = n = len(mt_genome)
        both = (mt_genome + "\x00" + mt_minus).encode("ascii", "replace")
        self.mt = np.frombuffer(both, dtype=np.uint8)
        self.trna_end = np.zeros((2, n + 1), dtype=np.bool_)
        for st, end in trna_ends:
            self.trna_end[0 if st == "+" else 1, end] = True
        pos = np.arange(len(self.mt) - MT_K + 1, dtype=np.int64)
        self.mt_start, self.mt_pos = _csr(_codes_at(self.mt, pos, MT_K, _CODE), pos, MT_K)
        names = list(hairpins)
        index = {h: i for i, h in enumerate(names)}
        self.hp, self.hp_off = _as_bytes([hairpins[h] for h in names])
        self.site_hp = np.array([index[h] for _, h, _, _ in sites], dtype=np.int64)
        self.site_ms = np.array([s for _, _, s, _ in sites], dtype=np.int64)
        self.site_me = np.array([e for _, _, _, e in sites], dtype=np.int64)
        hlen = np.diff(self.hp_off)[self.site_hp]
        # allowed starts (and 6-mer starting there) and ends (6-mer ending there) of each site
        d5 = np.arange(-MAX_5P_SHIFT, MAX_5P_SHIFT + 1)
        d3 = np.arange(-MAX_3P_SHIFT, MAX_3P_SHIFT + 1)
        si = np.arange(len(sites), dtype=np.int64)
        s_site = np.repeat(si, len(d5))
        s_pos = (self.site_ms[:, None] + d5[None, :]).ravel()
        ok = (s_pos >= 0) & (s_pos + MIR_K <= hlen[s_site])
        s_site, s_pos = s_site[ok], s_pos[ok]
        e_site = np.repeat(si, len(d3))
        e_pos = (self.site_me[:, None] + d3[None, :]).ravel()
        ok = (e_pos - MIR_K >= 0) & (e_pos <= hlen[e_site])
        e_site, e_pos = e_site[ok], e_pos[ok]
        self.e_site = np.concatenate([s_site, e_site]).astype(np.int64)
        self.e_pos = np.concatenate([s_pos, e_pos]).astype(np.int64)
        ns = len(s_site)
        base = self.hp_off[self.site_hp]
        s_codes = _codes_at(self.hp, (base[s_site] + s_pos).astype(np.int64), MIR_K, _CODE)
        e_codes = _codes_at(self.hp, (base[e_site] + e_pos - MIR_K).astype(np.int64), MIR_K, _CODE)
        self.s_start, self.s_entry = _csr(s_codes, np.arange(ns, dtype=np.int64), MIR_K)
        self.e_start, self.e_entry = _csr(
            e_codes, np.arange(ns, ns + len(e_site), dtype=np.int64), MIR_K
        )
        self.prefilter = Prefilter([mt_genome, mt_minus, *hairpins.values()])
        # room for all hits of one query: every mt position, every variant start
        self._buf = np.empty(2 * (n + 1), dtype=np.int64)
        self._buf2 = np.empty((len(self.e_site) + 1, 4), dtype=np.int64)

    def search(
        self, inserts: Sequence[str], mismatches: int
    ) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
        """``(tier, aux, hit_off, hits)`` of every insert (see :func:`_search`); the inserts the
        pre-filter sets aside have tier 0 and no hits."""
        keep = np.flatnonzero(self.prefilter.maybe(inserts))
        tier, aux, hit_off, hits = self._search([inserts[i] for i in keep.tolist()], mismatches)
        n = len(inserts)
        out_tier = np.zeros(n, dtype=np.int64)
        out_aux = np.zeros(n, dtype=np.int64)
        out_tier[keep], out_aux[keep] = tier, aux
        per = np.zeros(n, dtype=np.int64)
        per[keep] = np.diff(hit_off)
        out_off = np.zeros(n + 1, dtype=np.int64)
        np.cumsum(per, out=out_off[1:])
        return out_tier, out_aux, out_off, hits

    def _search(
        self, inserts: Sequence[str], mismatches: int
    ) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
        r, r_off = _as_bytes(inserts)
        n = len(inserts)
        tier = np.zeros(n, dtype=np.int64)
        aux = np.zeros(n, dtype=np.int64)
        hit_off = np.zeros(n + 1, dtype=np.int64)
        room = max(1024, n // 2)
        while True:
            hits = np.empty((room, 4), dtype=np.int64)
            got = _search(
                r, r_off, mismatches, _CODE, self.mt, self.length, self.mt_start, self.mt_pos,
                self.trna_end, self.hp, self.site_hp, self.site_ms, self.site_me, self.hp_off,
                self.s_start, self.s_entry, self.e_start, self.e_entry, self.e_site, self.e_pos,
                tier, aux, hit_off, hits, self._buf, self._buf2,
            )  # fmt: skip
            if got >= 0:
                return tier, aux, hit_off, hits[:got]
            room *= 4


# ------------------------------------------------------------------------- UMI deduplication

_UMI_CODE = np.full(256, 4, dtype=np.int64)  # 3 bits per base: A0 C1 G2 T3, N/other 4
for _i, _c in enumerate(b"ACGT"):
    _UMI_CODE[_c] = _i


def umi_codes(umis: Sequence[str], length: int) -> np.ndarray:
    """Each UMI (``length`` nt, <= 20) as an integer, 3 bits per base."""
    data = np.frombuffer("".join(umis).encode("ascii", errors="replace"), dtype=np.uint8)
    codes = _UMI_CODE[data].reshape(len(umis), length)
    shifts = (3 * np.arange(length - 1, -1, -1)).astype(np.int64)
    return (codes << shifts).sum(axis=1)


def one_substitution_pairs(group: np.ndarray, code: np.ndarray, length: int) -> np.ndarray:
    """All pairs ``(i, j)``, i < j, of one group (feature) whose UMIs differ at exactly one base.

    Two different UMIs differ at exactly one base iff they are equal once that base is masked,
    so for each position the masked keys are sorted and equal neighbours paired.
    """
    pairs = []
    for pos in range(length):
        mask = ~np.int64(7 << (3 * pos))
        key = (group << np.int64(3 * length)) | (code & mask)
        order = np.argsort(key, kind="stable")
        k = key[order]
        bounds = np.flatnonzero(k[1:] != k[:-1]) + 1
        starts = np.concatenate(([0], bounds))
        lens = np.diff(np.concatenate((starts, [len(k)])))
        two = starts[lens == 2]
        if len(two):
            pairs.append(np.stack([order[two], order[two + 1]], axis=1))
        for st, ln in zip(starts[lens > 2].tolist(), lens[lens > 2].tolist(), strict=True):
            run = order[st : st + ln].tolist()  # several UMIs one base apart: every pair
            many = [(run[x], run[y]) for x in range(ln) for y in range(x + 1, ln)]
            pairs.append(np.array(many, dtype=np.int64))
    if not pairs:
        return np.zeros((0, 2), dtype=np.int64)
    out = np.concatenate(pairs)
    return np.sort(out, axis=1)


@numba.njit(cache=True, nogil=True)
def _directional_heads(
    order: np.ndarray, adj_start: np.ndarray, adj: np.ndarray, n: int
) -> np.ndarray:
    """umi_tools' directional grouping: visit nodes in ``order``; a node not yet reached starts
    a molecule and everything reachable from it along the directed edges is reached."""
    found = np.zeros(n, dtype=np.bool_)
    stamp = np.full(n, -1, dtype=np.int64)
    head = np.zeros(n, dtype=np.bool_)
    stack = np.empty(n, dtype=np.int64)
    for v in order:
        if found[v]:
            continue
        head[v] = True
        top = 0
        stack[top] = v
        top += 1
        stamp[v] = v
        found[v] = True
        while top > 0:
            top -= 1
            u = stack[top]
            for e in range(adj_start[u], adj_start[u + 1]):
                w = adj[e]
                if stamp[w] != v:
                    stamp[w] = v
                    found[w] = True
                    stack[top] = w
                    top += 1
    return head


def directional_heads(group: np.ndarray, code: np.ndarray, count: np.ndarray, length: int):
    """Which (group, UMI) nodes head a molecule under umi_tools' ``directional`` method.

    Within a group, an edge runs from UMI ``a`` to UMI ``b`` when they differ at one base and
    ``count[a] >= 2 * count[b] - 1``; nodes are visited by decreasing count (ties: smaller UMI
    code first) and each node not reachable from an earlier head is a molecule of its own.
    Returns a boolean array (one molecule per True).
    """
    n = len(group)
    pairs = one_substitution_pairs(group, code, length)
    a, b = pairs[:, 0], pairs[:, 1]
    fwd = count[a] >= 2 * count[b] - 1
    back = count[b] >= 2 * count[a] - 1
    src = np.concatenate([a[fwd], b[back]])
    dst = np.concatenate([b[fwd], a[back]])
    o = np.argsort(src, kind="stable")
    src, dst = src[o], dst[o]
    adj_start = np.zeros(n + 1, dtype=np.int64)
    np.cumsum(np.bincount(src, minlength=n), out=adj_start[1:])
    order = np.lexsort((code, -count, group)).astype(np.int64)
    return _directional_heads(order, adj_start, dst.astype(np.int64), n)


# ------------------------------------------------------------------------------ mirGFF3 CIGAR


@numba.njit(cache=True, nogil=True)
def _cigars(
    rd: np.ndarray,
    r_off: np.ndarray,
    r_len: np.ndarray,
    rf: np.ndarray,
    f_off: np.ndarray,
    f_len: np.ndarray,
    out: np.ndarray,
) -> int:
    """:func:`mtncrna.quant._mirgff.cigar` of each read against its reference stretch (which
    may be shorter: ``S`` past its end), written into ``out`` one per line; returns the bytes
    written."""
    p = 0
    digits = np.empty(20, dtype=np.uint8)
    for i in range(r_off.shape[0]):
        n, m, ro, fo = r_len[i], f_len[i], r_off[i], f_off[i]
        prev = 0
        for k in range(n + 1):
            if k < n and k < m and rd[ro + k] == rf[fo + k]:
                continue
            run = k - prev
            if run > 0:  # "<run>M"
                nd = 0
                while run > 0:
                    digits[nd] = 48 + run % 10
                    run //= 10
                    nd += 1
                for d in range(nd - 1, -1, -1):
                    out[p] = digits[d]
                    p += 1
                out[p] = 77  # M
                p += 1
            if k < n:
                out[p] = rf[fo + k] if k < m else 83  # the reference's nucleotide, or S
                p += 1
            prev = k + 1
        out[p] = 10
        p += 1
    return p


def cigars(reads: Sequence[str], refs: Sequence[str]) -> list[str]:
    """mirGFF3 CIGARs of ``reads`` laid on ``refs`` (the hairpin from the read's start, as long
    as the read or cut by the hairpin's end), as :func:`mtncrna.quant._mirgff.cigar` writes
    them, in one compiled pass."""
    from ._mirgff import cigar

    if not len(reads):
        return []
    if not ("".join(reads).isascii() and "".join(refs).isascii()):  # one byte per letter
        return [cigar(r, f, 0) for r, f in zip(reads, refs, strict=True)]
    rd, r_off = _as_bytes(reads)
    rf, f_off = _as_bytes(refs)
    out = np.empty(4 * len(rd) + 2 * len(reads) + 16, dtype=np.uint8)
    p = _cigars(rd, r_off[:-1], np.diff(r_off), rf, f_off[:-1], np.diff(f_off), out)
    return out[: p - 1].tobytes().decode("ascii").split("\n")
