"""Compiled collapse and trim of small-RNA reads: FASTQ bytes -> distinct reads -> inserts.

:func:`collapse_fastq` counts identical reads straight from the (inflated) FASTQ bytes: a numba
kernel walks the records of each block, checks them (``@`` header, ``+`` line, as many qualities
as bases, only A/C/G/T/N) and hashes each sequence into an open-addressing table whose distinct
sequences sit in one byte arena, so no Python object is made per read. The kernel releases the
GIL, so with ``threads=1`` ISA-L inflates the next block in another thread meanwhile (two cores
busy). A file the kernel does not take as it is (a malformed record, lower-case or other
characters, Windows line ends, a truncated stream) is read again by the reference reader
(:func:`mtncrna.quant._collapse.collapse`, dnaio), which folds lower case or raises the error
that names the line, so results and messages are the same either way.

:func:`adapter_hits` finds the kit's whole adapter in every distinct read (leftmost exact
occurrence, what cutadapt's aligner would report for it); only reads without it are aligned,
by :func:`locate_back` (cutadapt's alignment, compiled). :func:`group_inserts` counts the inserts
cut from the distinct reads in a second table.
"""

from __future__ import annotations

import numpy as np
from llvmlite import ir
from numba import types
from numba.extending import intrinsic

from ._jit import numba

#: bytes of inflated FASTQ handed to the kernel at a time
BLOCK = 4 << 20

_OK = np.zeros(256, dtype=np.bool_)
for _c in b"ACGTN":
    _OK[_c] = True

# state slots shared between Python and the kernel
_S_USED, _S_DISTINCT, _S_RECORDS, _S_STATUS, _S_POS, _S_TOUCHED = range(6)
#: kernel status: all complete records of the block done / tables full / not for the kernel
DONE, GROW, FALLBACK = 0, 1, 2


_K1 = np.uint64(0x9E3779B97F4A7C15)
_M1 = np.uint64(0xFF51AFD7ED558CCD)
_M2 = np.uint64(0xC4CEB9FE1A85EC53)


@numba.njit(cache=True, nogil=True, inline="always")
def _mix(h: np.uint64, w: np.uint64) -> np.uint64:
    """Fold an 8-byte word into the hash (every input bit reaches the low bits)."""
    h = (h ^ w) * _K1
    return h ^ (h >> np.uint64(32))


@numba.njit(cache=True, nogil=True, inline="always")
def _final(h: np.uint64, length: int) -> np.uint64:
    """murmur3's 64-bit finaliser over the hash and the length."""
    h ^= np.uint64(length)
    h ^= h >> np.uint64(33)
    h *= _M1
    h ^= h >> np.uint64(33)
    h *= _M2
    return h ^ (h >> np.uint64(33))


@numba.njit(cache=True, nogil=True, inline="always")
def _hash(buf: np.ndarray, a: int, b: int) -> np.uint64:
    h = np.uint64(0)
    w = np.uint64(0)
    for i in range(a, b):
        w = (w << np.uint64(8)) | np.uint64(buf[i])
        if (i - a) & 7 == 7:
            h = _mix(h, w)
            w = np.uint64(0)
    return _final(_mix(h, w), b - a)


_NL8 = np.uint64(0x0A0A0A0A0A0A0A0A)  # '\n' in every byte
_LO8 = np.uint64(0x0101010101010101)
_HI8 = np.uint64(0x8080808080808080)


@intrinsic
def _cttz(typingctx, x):
    """Trailing zero bits of a uint64 (LLVM's cttz)."""
    sig = types.uint64(types.uint64)

    def codegen(context, builder, signature, args):
        return builder.cttz(args[0], ir.Constant(ir.IntType(1), 0))

    return sig, codegen


@numba.njit(cache=True, nogil=True, inline="always")
def _newline(words: np.ndarray, j: int, n: int) -> int:
    """The first line end at or after ``j`` in the bytes ``words`` views (8 at a time), or ``n``
    if there is none before ``n``."""
    k = j >> 3
    r = j & 7
    w = words[k] ^ _NL8  # a line end is a zero byte now
    if r:
        w |= (np.uint64(1) << np.uint64(8 * r)) - np.uint64(1)  # bytes before j: not zero
    while True:
        z = (w - _LO8) & ~w & _HI8  # the lowest set bit marks the first zero byte
        if z:
            return min((k << 3) + np.int64(_cttz(z) >> np.uint64(3)), n)
        k += 1
        if k << 3 >= n:
            return n
        w = words[k] ^ _NL8


@numba.njit(cache=True, nogil=True, inline="always")
def _hash_at(words: np.ndarray, a: int, length: int) -> np.uint64:
    """Hash of the ``length`` bytes at ``a`` (of the bytes ``words`` views), 8 bytes to a word
    whatever their alignment: equal sequences hash alike wherever they lie."""
    h = np.uint64(0)
    k = a >> 3
    full = length >> 3
    r = np.uint64(8 * (a & 7))
    if r == 0:
        for t in range(full):
            h = _mix(h, words[k + t])
        last = words[k + full]
    else:
        left = np.uint64(64) - r
        lo = words[k]
        for t in range(full):
            hi = words[k + t + 1]
            h = _mix(h, (lo >> r) | (hi << left))
            lo = hi
        last = (lo >> r) | (words[k + full + 1] << left)
    rem = length & 7
    if rem:
        h = _mix(h, last & ((np.uint64(1) << np.uint64(8 * rem)) - np.uint64(1)))
    return _final(h, length)


BATCH = 32


@numba.njit(cache=True, nogil=True)
def _collapse_block(
    buf: np.ndarray,
    words: np.ndarray,
    n: int,
    start: int,
    ok: np.ndarray,
    table: np.ndarray,
    ent: np.ndarray,
    arena: np.ndarray,
    state: np.ndarray,
) -> None:
    """Count the complete records of ``buf[start:]``; ``state`` says where it stopped and why.

    ``table`` slots hold ``tag << 32 | id`` (tag: the hash's top 31 bits; -1 empty), so that a
    probe reads one slot; ``ent[id]`` is (offset in ``arena``, length, count, hash), one cache
    line. Records are parsed ``BATCH`` at a time and their table slots, entries and arena bytes
    read ahead in independent loads (the tables outgrow the CPU caches: the loads of a batch
    wait for memory together, not one after the other); then they are counted in order."""
    mask = table.shape[0] - 1
    limit = (table.shape[0] * 5) // 8
    used = state[_S_USED]
    distinct = state[_S_DISTINCT]
    records = state[_S_RECORDS]
    i = start
    status = DONE
    rec = np.empty(BATCH, dtype=np.int64)  # where each record of the batch starts
    seq = np.empty(BATCH, dtype=np.int64)
    lens = np.empty(BATCH, dtype=np.int64)
    hs = np.empty(BATCH, dtype=np.uint64)
    slots = np.empty(BATCH, dtype=np.int64)
    seen = np.empty(BATCH, dtype=np.int64)  # arena offset of the entry a slot points to
    touched = np.int64(0)
    while True:
        # 1. parse (and check) up to BATCH complete records
        nb = 0
        stop = DONE
        while nb < BATCH and i < n:
            if buf[i] != 64:  # '@'
                stop = FALLBACK  # the reference reader names what is wrong
                break
            e1 = _newline(words, i + 1, n)
            if e1 >= n:
                break  # an incomplete record waits for the next block
            s0 = e1 + 1
            s1 = _newline(words, s0, n)
            if s1 >= n:
                break
            length = s1 - s0
            h = _hash_at(words, s0, length)
            p = s1 + 1  # the '+' line, bare
            if p + 1 >= n:
                break
            if buf[p] != 43 or buf[p + 1] != 10:
                stop = FALLBACK
                break
            q0 = p + 2
            e4 = q0 + length
            if e4 >= n:
                break
            if buf[e4] != 10:
                stop = FALLBACK
                break
            newlines = 0  # no early exit: the loop vectorises
            for j in range(q0, e4):
                newlines += buf[j] == 10
            if newlines:
                stop = FALLBACK
                break
            rec[nb] = i
            seq[nb] = s0
            lens[nb] = length
            hs[nb] = h
            slots[nb] = np.int64(h & np.uint64(mask))
            nb += 1
            i = e4 + 1
        # 2. read ahead: the batch's slots, then their entries, then their arena bytes
        for k in range(nb):
            touched += table[slots[k]]
        for k in range(nb):
            v = table[slots[k]]
            seen[k] = -1
            if v >= 0 and (v >> 32) == np.int64(hs[k] >> np.uint64(33)):
                seen[k] = ent[v & 0xFFFFFFFF, 0]
        for k in range(nb):
            if seen[k] >= 0:
                touched += arena[seen[k]]
        # 3. count, in order
        for k in range(nb):
            h = hs[k]
            s0 = seq[k]
            length = lens[k]
            slot = slots[k]
            tag = np.int64(h >> np.uint64(33))
            d = -1
            while True:
                v = table[slot]
                if v < 0:
                    break
                if (v >> 32) == tag:
                    d = v & 0xFFFFFFFF
                    if ent[d, 1] == length:
                        o = ent[d, 0]
                        diff = 0  # no early exit: the loop vectorises
                        for j in range(length):
                            diff |= arena[o + j] ^ buf[s0 + j]
                        if diff == 0:
                            break
                    d = -1
                slot = (slot + 1) & mask
            if d >= 0:
                ent[d, 2] += 1
            else:
                if distinct >= limit or distinct >= ent.shape[0] or used + length > arena.shape[0]:
                    status = GROW
                    i = rec[k]
                    break
                bad = False  # a new sequence is checked (a repeat is the same bytes)
                for j in range(length):
                    bad |= not ok[buf[s0 + j]]
                if bad:  # lower case, '.', CR...: the reference reader folds or names it
                    status = FALLBACK
                    i = rec[k]
                    break
                for j in range(length):
                    arena[used + j] = buf[s0 + j]
                ent[distinct, 0] = used
                ent[distinct, 1] = length
                ent[distinct, 2] = 1
                ent[distinct, 3] = np.int64(h)  # the same 64 bits
                table[slot] = (tag << 32) | distinct
                distinct += 1
                used += length
            records += 1
        if status != DONE:
            break
        if stop == FALLBACK:
            status = FALLBACK
            break
        if nb < BATCH:
            break  # the block's complete records are done
    state[_S_USED] = used
    state[_S_DISTINCT] = distinct
    state[_S_RECORDS] = records
    state[_S_STATUS] = status
    state[_S_POS] = i
    state[_S_TOUCHED] = touched


@numba.njit(cache=True, nogil=True)
def _fill_table(table: np.ndarray, ent: np.ndarray, n: int) -> None:
    """Slots of the first ``n`` entries in a larger table (``ent[:, 3]`` keeps the hash)."""
    mask = table.shape[0] - 1
    for d in range(n):
        h = np.uint64(ent[d, 3])
        slot = np.int64(h & np.uint64(mask))
        while table[slot] >= 0:
            slot = (slot + 1) & mask
        table[slot] = (np.int64(h >> np.uint64(33)) << 32) | d


class Distinct:
    """Distinct reads in order of first appearance: ``arena[off[i]:off[i] + length[i]]`` read
    ``count[i]`` times; ``n_reads`` records in all."""

    def __init__(
        self,
        arena: np.ndarray,
        off: np.ndarray,
        length: np.ndarray,
        count: np.ndarray,
        n_reads: int,
    ) -> None:
        self.arena, self.off, self.length, self.count = arena, off, length, count
        self.n_reads = n_reads

    def __len__(self) -> int:
        return len(self.off)

    @classmethod
    def from_counts(cls, counts: dict[str, int], n_reads: int) -> Distinct:
        seqs = list(counts)
        arena = np.frombuffer("".join(seqs).encode("ascii"), dtype=np.uint8)
        length = np.fromiter(map(len, seqs), dtype=np.int64, count=len(seqs))
        off = np.zeros(len(seqs), dtype=np.int64)
        if len(seqs):
            np.cumsum(length[:-1], out=off[1:])
        count = np.fromiter(counts.values(), dtype=np.int64, count=len(seqs))
        return cls(arena, off, length, count, n_reads)

    def sequences(self, which: np.ndarray | None = None) -> list[str]:
        """The reads (all, or those at the indexes ``which``) as strings."""
        off, length = (
            (self.off, self.length) if which is None else (self.off[which], self.length[which])
        )
        return _strings(self.arena, off, length)

    def strings(self, off: np.ndarray, length: np.ndarray) -> list[str]:
        """Stretches ``arena[off[i]:off[i] + length[i]]`` (e.g. inserts) as strings."""
        return _strings(self.arena, off, length)


def _strings(arena: np.ndarray, off: np.ndarray, length: np.ndarray) -> list[str]:
    """Slices of ``arena`` as strings, joined by newlines in one buffer and split once."""
    if not len(off):
        return []
    total = int(length.sum()) + len(off)
    out = np.empty(total, dtype=np.uint8)
    _gather(arena, off.astype(np.int64), length.astype(np.int64), out)
    return out[:-1].tobytes().decode("ascii").split("\n")


@numba.njit(cache=True, nogil=True)
def _gather(arena: np.ndarray, off: np.ndarray, length: np.ndarray, out: np.ndarray) -> None:
    p = 0
    for i in range(off.shape[0]):
        o = off[i]
        for j in range(length[i]):
            out[p] = arena[o + j]
            p += 1
        out[p] = 10
        p += 1


def _fill(stream, view: np.ndarray) -> int:
    """Read into ``view`` until it is full or the stream ends; the bytes read."""
    readinto = getattr(stream, "readinto", None)
    got = 0
    while got < len(view):
        if readinto is not None:
            n = readinto(view[got:])
        else:
            piece = stream.read(len(view) - got)
            n = len(piece)
            view[got : got + n] = np.frombuffer(piece, dtype=np.uint8)
        if not n:
            break
        got += n
    return got


def load_kernel() -> None:
    """Load the collapse kernel now (from numba's cache, or compile it on first use)."""
    import io

    collapse_fastq(io.BytesIO(b"@r\nACGT\n+\nFFFF\n"))


def _buffer(size: int) -> np.ndarray:
    """Room for ``size`` bytes, whole 8-byte words of it and one more (the kernel reads a
    record's bytes 8 at a time, up to the word after the last byte it needs)."""
    return np.empty(((size + 7) // 8 + 1) * 8, dtype=np.uint8)


def collapse_fastq(stream, *, expect: int = 1 << 16) -> Distinct | None:
    """Distinct reads of an open binary FASTQ ``stream`` (already inflated), or None when the
    kernel leaves the file to the reference reader (see the module docstring).

    The stream is read into one buffer, ``BLOCK`` bytes at a time behind the record cut at the
    previous block's end (moved to the buffer's start)."""
    cap = 1 << max(16, int(expect * 2).bit_length())
    table = np.full(cap, -1, dtype=np.int64)
    ent = np.empty(((cap * 5) // 8, 4), dtype=np.int64)
    arena = np.empty(max(1 << 20, 64 * len(ent)), dtype=np.uint8)
    state = np.zeros(6, dtype=np.int64)
    buf = _buffer(BLOCK + (1 << 16))
    kept = 0  # bytes of an incomplete record at the buffer's start
    while True:
        if kept + BLOCK + 1 > len(buf):  # a record longer than the room left
            bigger = _buffer(kept + BLOCK + (1 << 16))
            bigger[:kept] = buf[:kept]
            buf = bigger
        got = _fill(stream, buf[kept : kept + BLOCK])
        end = kept + got
        eof = got < BLOCK
        if eof and end and buf[end - 1] != 10:
            buf[end] = 10  # the last record may lack its line end, as dnaio allows
            end += 1
        if not end:
            break
        words = buf.view(np.uint64)
        pos = 0
        while True:
            _collapse_block(buf, words, end, pos, _OK, table, ent, arena, state)
            status, pos = int(state[_S_STATUS]), int(state[_S_POS])
            if status == FALLBACK:
                return None
            if status == DONE:
                break
            n = int(state[_S_DISTINCT])
            if n >= (table.shape[0] * 5) // 8 or n >= len(ent):
                cap = table.shape[0] * 2
                table = np.full(cap, -1, dtype=np.int64)
                _fill_table(table, ent, n)
                grown = np.empty(((cap * 5) // 8, 4), dtype=np.int64)
                grown[:n] = ent[:n]
                ent = grown
            if int(state[_S_USED]) + end - pos > arena.shape[0]:
                arena = np.resize(arena, 2 * arena.shape[0] + end)
        if eof:
            if pos < end:  # a record without all its lines
                return None
            break
        kept = end - pos
        buf[:kept] = buf[pos:end].copy()
    n = int(state[_S_DISTINCT])
    used = int(state[_S_USED])
    return Distinct(
        arena[:used].copy(),
        ent[:n, 0].copy(),
        ent[:n, 1].copy(),
        ent[:n, 2].copy(),
        int(state[_S_RECORDS]),
    )


# ------------------------------------------------------------------------------- trimming


@numba.njit(cache=True, nogil=True)
def adapter_hits(
    arena: np.ndarray, off: np.ndarray, length: np.ndarray, adapter: np.ndarray
) -> np.ndarray:
    """Leftmost exact occurrence of the whole ``adapter`` in each read (``str.find``), or -1."""
    m = adapter.shape[0]
    out = np.full(off.shape[0], -1, dtype=np.int64)
    a0 = adapter[0]
    for i in range(off.shape[0]):
        o = off[i]
        for p in range(length[i] - m + 1):
            if arena[o + p] != a0:
                continue
            same = True
            for j in range(1, m):
                if arena[o + p + j] != adapter[j]:
                    same = False
                    break
            if same:
                out[i] = p
                break
    return out


@numba.njit(cache=True, nogil=True, inline="always")
def _better(
    i: int,
    cost: int,
    score: int,
    origin: int,
    first: bool,
    b_ref_stop: int,
    b_score: int,
    b_origin: int,
    m: int,
    min_overlap: int,
    max_error_rate: float,
) -> bool:
    """cutadapt's rule for taking the hit ending at adapter position ``i`` over the best so far:
    long enough, within the error rate, and the first, or overlapping the best (origin within
    m // 2) with a higher score, or longer with a higher score."""
    length = i + min(origin, 0)
    if length < min_overlap or cost > length * max_error_rate:
        return False
    return (
        first
        or (origin <= b_origin + m // 2 and score > b_score)
        or (length > b_ref_stop + min(b_origin, 0) and score > b_score)
    )


@numba.njit(cache=True, nogil=True)
def _locate_back(
    ad: np.ndarray,
    read: np.ndarray,
    a: int,
    n: int,
    max_error_rate: float,
    min_overlap: int,
    cost: np.ndarray,
    origin: np.ndarray,
    score: np.ndarray,
) -> tuple[int, int]:
    """cutadapt's alignment of a regular 3' adapter ``ad`` to ``read[a:a + n]``: (start, stop)
    in the read, or (-1, -1).

    The same dynamic programme as cutadapt's ``Aligner.locate`` (cutadapt 5, MIT licence) with
    the flags of a ``BackAdapter`` (the adapter's start aligned, the read's start and end and
    the adapter's end free): edit costs 1, scores +1 match / -1 mismatch / -2 indel, one column
    kept with the cell above-left remembered, Ukkonen's cut-off at ``k = int(rate * m)`` errors,
    a full-adapter hit taken when it is the first, overlaps the best (origin within m // 2) with
    a higher score, or is longer with a higher score, stopping at an exact one; then the last
    column's partial hits by the same rule. Characters compare as equal bytes (cutadapt's plain
    ASCII mode, used for adapters of A/C/G/T only); an N in the read matches nothing."""
    m = ad.shape[0]
    k = np.int64(max_error_rate * m)
    for i in range(m + 1):
        score[i] = -2 * i
        cost[i] = i
        origin[i] = 0
    none = m + n + 1
    b_cost = none
    b_origin = 0
    b_score = 0
    b_ref_stop = m
    b_query_stop = n
    last = min(m, k + 1)
    last_filled = 0
    for j in range(1, n + 1):
        d_cost, d_origin, d_score = cost[0], origin[0], score[0]
        origin[0] += 1
        c = read[a + j - 1]
        for i in range(1, last + 1):
            if ad[i - 1] == c:
                nc, no, ns = d_cost, d_origin, d_score + 1
            else:
                c_diag = d_cost + 1
                c_ins = cost[i] + 1
                c_del = cost[i - 1] + 1
                if c_diag <= c_del and c_diag <= c_ins:
                    nc, no, ns = c_diag, d_origin, d_score - 1
                elif c_del <= c_ins:
                    nc, no, ns = c_del, origin[i - 1], score[i - 1] - 2
                else:
                    nc, no, ns = c_ins, origin[i], score[i] - 2
            d_cost, d_origin, d_score = cost[i], origin[i], score[i]
            cost[i], origin[i], score[i] = nc, no, ns
        last_filled = last
        while last >= 0 and cost[last] > k:
            last -= 1
        if last < m:
            last += 1
        else:
            cc, sc, og = cost[m], score[m], origin[m]
            if _better(
                m,
                cc,
                sc,
                og,
                b_cost == none,
                b_ref_stop,
                b_score,
                b_origin,
                m,
                min_overlap,
                max_error_rate,
            ):
                b_score, b_cost, b_origin, b_ref_stop, b_query_stop = sc, cc, og, m, j
                if cc == 0 and og >= 0:
                    break
    for i in range(last_filled, -1, -1):
        cc, sc = cost[i], score[i]
        if _better(
            i,
            cc,
            sc,
            origin[i],
            b_cost == none,
            b_ref_stop,
            b_score,
            b_origin,
            m,
            min_overlap,
            max_error_rate,
        ):
            b_score, b_cost, b_origin, b_ref_stop, b_query_stop = sc, cc, origin[i], i, n
    if b_cost == none:
        return -1, -1
    return (b_origin if b_origin >= 0 else 0), b_query_stop


@numba.njit(cache=True, nogil=True)
def locate_back(
    arena: np.ndarray,
    off: np.ndarray,
    length: np.ndarray,
    adapter: np.ndarray,
    max_error_rate: float,
    min_overlap: int,
) -> tuple[np.ndarray, np.ndarray]:
    """:func:`_locate_back` of every read ``arena[off[i]:off[i] + length[i]]``: start and stop
    arrays (-1 where there is no acceptable alignment)."""
    n = off.shape[0]
    start = np.full(n, -1, dtype=np.int64)
    stop = np.full(n, -1, dtype=np.int64)
    m = adapter.shape[0]
    cost = np.empty(m + 1, dtype=np.int64)
    origin = np.empty(m + 1, dtype=np.int64)
    score = np.empty(m + 1, dtype=np.int64)
    for r in range(n):
        start[r], stop[r] = _locate_back(
            adapter, arena, off[r], length[r], max_error_rate, min_overlap, cost, origin, score
        )
    return start, stop


@numba.njit(cache=True, nogil=True)
def group_inserts(
    arena: np.ndarray,
    off: np.ndarray,
    ins_start: np.ndarray,
    ins_len: np.ndarray,
    count: np.ndarray,
    keep: np.ndarray,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Distinct inserts among the kept reads (``arena[off + ins_start : ... + ins_len]``), in order
    of first appearance: (offset in arena, length, summed count) of each."""
    n = off.shape[0]
    cap = 1 << 4
    while cap < 2 * n + 2:
        cap <<= 1
    mask = cap - 1
    table = np.full(cap, -1, dtype=np.int64)
    g_off = np.empty(n, dtype=np.int64)
    g_len = np.empty(n, dtype=np.int64)
    g_cnt = np.zeros(n, dtype=np.int64)
    g_hash = np.empty(n, dtype=np.uint64)
    k = 0
    for i in range(n):
        if not keep[i]:
            continue
        a = off[i] + ins_start[i]
        length = ins_len[i]
        h = _hash(arena, a, a + length)
        slot = np.int64(h & np.uint64(mask))
        while True:
            d = table[slot]
            if d < 0:
                break
            if g_hash[d] == h and g_len[d] == length:
                o = g_off[d]
                same = True
                for j in range(length):
                    if arena[o + j] != arena[a + j]:
                        same = False
                        break
                if same:
                    break
            slot = (slot + 1) & mask
        if d < 0:
            d = k
            k += 1
            g_off[d] = a
            g_len[d] = length
            g_hash[d] = h
            table[slot] = d
        g_cnt[d] += count[i]
    return g_off[:k], g_len[:k], g_cnt[:k]


@numba.njit(cache=True, nogil=True)
def prefix_parts(
    arena: np.ndarray, off: np.ndarray, length: np.ndarray, start: int, k: int, parts: int
) -> np.ndarray:
    """A part in ``0..parts-1`` for each read, from the hash of its bases ``start:start + k``
    (fewer if the read is shorter): reads whose inserts begin with the same ``k`` bases at
    ``start`` fall in the same part."""
    out = np.empty(off.shape[0], dtype=np.int64)
    for i in range(off.shape[0]):
        a = off[i] + min(start, length[i])
        b = off[i] + min(start + k, length[i])
        out[i] = np.int64(_hash(arena, a, b) % np.uint64(parts))
    return out
