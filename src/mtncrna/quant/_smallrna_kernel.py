"""Compiled pre-filter for small-RNA inserts: which distinct inserts *may* match the reference.

Most distinct inserts of a library match nothing (other RNAs, their sequencing-error copies,
degradation products); the Python rules of :mod:`mtncrna.quant._smallrna_assign` would spend several
microseconds rejecting each. This kernel rejects them in a few hundred nanoseconds and passes
every insert that can have a hit, so the calls are exactly those of the rules alone.

Why it never drops a hit: every hit of the rules (mtDNA, exact or one mismatch, with or without a
CCA/CC/C tail; a miRNA isomiR, exact or one mismatch, with 0-3 non-templated nt) is a *templated
part* of at least ``n - 3`` nt of the insert that equals a stretch of one reference string (a
strand of the mt genome or a hairpin) with at most one mismatch. So ``r[:n - 3]`` matches that
stretch with <= 1 mismatch, and of two disjoint pieces of it (``r[0:8]``/``r[8:16]`` when
``n - 3 >= 16``, else ``r[0:6]``/``r[6:12]``) one is exact. The kernel looks both pieces up in a
k-mer index of all reference strings and verifies each candidate start by counting mismatches of
``r[:n - 3]``. Inserts shorter than 16 nt or with an ``N`` are passed without a test.
"""

from __future__ import annotations

from collections.abc import Sequence

import numba
import numpy as np

_CODE = np.full(256, 4, dtype=np.uint8)  # N and anything else: 4
for _i, _c in enumerate(b"ACGT"):
    _CODE[_c] = _i
_SEP = 5  # between reference strings: equal to no insert code
MIN_TESTED = 16


def encode(strings: Sequence[str]) -> tuple[np.ndarray, np.ndarray]:
    """2-bit-able codes (A0 C1 G2 T3, else 4) of all strings joined, and their offsets."""
    data = "".join(strings).encode("ascii", errors="replace")
    codes = _CODE[np.frombuffer(data, dtype=np.uint8)]
    offsets = np.zeros(len(strings) + 1, dtype=np.int64)
    np.cumsum(np.fromiter(map(len, strings), dtype=np.int64, count=len(strings)), out=offsets[1:])
    return codes, offsets


@numba.njit(cache=True, nogil=True)
def _kmer_codes(seq: np.ndarray, k: int) -> np.ndarray:
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


def _csr(seq: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
    """Positions of every k-mer, grouped by code: ``pos[start[c]:start[c + 1]]``."""
    codes = _kmer_codes(seq, k)
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
        sep = chr(0)  # coded 4 by _CODE, then set to _SEP below
        joined = sep.join(references)
        codes = _CODE[np.frombuffer(joined.encode("ascii", errors="replace"), dtype=np.uint8)]
        codes = codes.copy()
        codes[np.frombuffer(joined.encode("ascii", errors="replace"), dtype=np.uint8) == 0] = _SEP
        self.ref = codes
        self.start8, self.pos8 = _csr(codes, 8)
        self.start6, self.pos6 = _csr(codes, 6)

    def maybe(self, inserts: Sequence[str]) -> np.ndarray:
        """Boolean per insert: False only if no rule can match it."""
        if not len(inserts):
            return np.zeros(0, dtype=np.bool_)
        codes, offsets = encode(inserts)
        return _maybe(codes, offsets, self.ref, self.start8, self.pos8, self.start6, self.pos6)


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
