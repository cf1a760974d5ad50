"""The numba kernel behind :func:`mtncrna.quant.count_bam`: raw BAM records -> counts.

Kept apart so that numba is imported (and the kernel compiled, or loaded from numba's cache) only
when BAMs are counted. The rules are described in :mod:`mtncrna.quant._bam`; this module mirrors
featureCounts' ``parse_bin`` (CIGAR sections) and ``vote_and_add_count`` (assignment).
"""

from __future__ import annotations

import numba
import numpy as np

MAX_SECTIONS = 10  # featureCounts' default --maxMOp
ERR_CORRUPT, ERR_WEIGHT, ERR_PAIRED, ERR_REFID = 1, 2, 3, 4


@numba.njit(cache=True, nogil=True, inline="always")
def i32(b, o):
    v = np.int64(b[o]) | (np.int64(b[o + 1]) << 8) | (np.int64(b[o + 2]) << 16)
    v |= np.int64(b[o + 3]) << 24
    if v >= 2147483648:
        v -= 4294967296
    return v


@numba.njit(cache=True, nogil=True, inline="always")
def u16(b, o):
    return np.int64(b[o]) | (np.int64(b[o + 1]) << 8)


@numba.njit(cache=True, nogil=True)
def find_nh(b, o, end):
    # walk the aux fields; return NH (1 if absent)
    while o + 3 <= end:
        t0, t1, typ = b[o], b[o + 1], b[o + 2]
        o += 3
        if typ == 65 or typ == 99 or typ == 67:  # A c C
            if t0 == 78 and t1 == 72 and typ != 65:
                v = np.int64(b[o])
                if typ == 99 and v >= 128:
                    v -= 256
                return v
            o += 1
        elif typ == 115 or typ == 83:  # s S
            if t0 == 78 and t1 == 72:
                v = u16(b, o)
                if typ == 115 and v >= 32768:
                    v -= 65536
                return v
            o += 2
        elif typ == 105 or typ == 73 or typ == 102:  # i I f
            if t0 == 78 and t1 == 72 and typ != 102:
                v = i32(b, o)
                if typ == 73 and v < 0:
                    v += 4294967296
                return v
            o += 4
        elif typ == 100:  # d
            o += 8
        elif typ == 90 or typ == 72:  # Z H
            while o < end and b[o] != 0:
                o += 1
            o += 1
        elif typ == 66:  # B
            sub = b[o]
            cnt = i32(b, o + 1)
            o += 5
            if sub == 99 or sub == 67:
                o += cnt
            elif sub == 115 or sub == 83:
                o += 2 * cnt
            else:
                o += 4 * cnt
        else:
            return 1
    return 1


@numba.njit(cache=True, nogil=True)
def name_weight(b, s, e):
    # copy number at the end of a collapsed read's name; -1 if none
    while e > s and b[e - 1] == 59:  # trailing ';'
        e -= 1
    j = e
    while j > s and 48 <= b[j - 1] <= 57:
        j -= 1
    if j == e or e - j > 15:
        return -1
    v = np.int64(0)
    for k in range(j, e):
        v = v * 10 + (b[k] - 48)
    if (
        j - s >= 5
        and b[j - 5] == 115
        and b[j - 4] == 105
        and b[j - 3] == 122
        and b[j - 2] == 101
        and b[j - 1] == 61
    ):  # "size="
        return v
    if j - s >= 2 and b[j - 1] == 120 and b[j - 2] == 95:  # "_x"
        return v
    if j - s >= 1 and b[j - 1] == 45:  # "-"
        return v
    return -1


@numba.njit(cache=True, nogil=True)
def scan(
    b,
    n,
    ref_map,
    seg_off,
    seg_start,
    seg_end,
    mem_off,
    mem_feature,
    mem_strand,
    mem_interval,
    strand_mode,
    multimap_mode,
    min_mapq,
    allow_multi,
    primary_only,
    use_weights,
    reject_paired,
    acc,
    summary,
    mark,
    hits,
    state,
):
    # state: [records seen (running), error code, error offset]
    sec_s = np.empty(MAX_SECTIONS, dtype=np.int64)
    sec_e = np.empty(MAX_SECTIONS, dtype=np.int64)
    n_refs = ref_map.shape[0]
    o = 0
    stamp = state[0]
    while o + 4 <= n:
        bs = i32(b, o)
        if bs < 32:
            state[1] = 1
            state[2] = o
            state[0] = stamp
            return o
        if o + 4 + bs > n:
            state[0] = stamp
            return o
        rec_end = o + 4 + bs
        stamp += 1
        ref = i32(b, o + 4)
        pos = i32(b, o + 8)
        lrn = np.int64(b[o + 12])
        mapq = np.int64(b[o + 13])
        ncig = u16(b, o + 16)
        flag = u16(b, o + 18)
        lseq = i32(b, o + 20)
        cig = o + 36 + lrn
        aux = cig + 4 * ncig + (lseq + 1) // 2 + lseq
        if lrn < 1 or lseq < 0 or aux > rec_end:
            state[1] = 1
            state[2] = o
            state[0] = stamp
            return o
        w = np.int64(1)
        if use_weights:
            w = name_weight(b, o + 36, o + 36 + lrn - 1)
            if w < 0:
                state[1] = 2
                state[2] = o
                state[0] = stamp
                return o
        if reject_paired and (flag & 1):
            state[1] = 3
            state[2] = o
            state[0] = stamp
            return o
        o = rec_end
        if flag & 4:
            summary[1] += w
            continue
        if min_mapq > 0 and mapq < min_mapq:
            summary[4] += w
            continue
        nh = find_nh(b, aux, rec_end)
        if nh > 1 and multimap_mode == 0:
            summary[8] += w
            continue
        if nh < 1:
            nh = 1
        if primary_only and (flag & 256):
            summary[9] += w
            continue
        if ref < -1 or ref >= n_refs:
            state[1] = 4
            state[2] = o - 4 - bs
            state[0] = stamp
            return o - 4 - bs
        c = ref_map[ref] if ref >= 0 else -1
        nhits = 0
        if c >= 0:
            # CIGAR -> sections, as featureCounts' parse_bin
            nsec = 0
            chro = pos + 1
            sec_begin = chro
            sec_len = 0
            for k in range(ncig):
                op_word = i32(b, cig + 4 * k)
                if op_word < 0:
                    op_word += 4294967296
                op = op_word & 15
                ln = op_word >> 4
                if op == 0 or op == 7 or op == 8:
                    chro += ln
                    sec_len += ln
                elif op == 1 or op == 2 or op == 3:
                    if nsec < MAX_SECTIONS:
                        sec_s[nsec] = sec_begin
                        sec_e[nsec] = sec_begin + sec_len - 1
                        nsec += 1
                    if op != 1:
                        chro += ln
                    sec_begin = chro
                    sec_len = 0
            if sec_len > 0 and nsec < MAX_SECTIONS:
                sec_s[nsec] = sec_begin
                sec_e[nsec] = sec_begin + sec_len - 1
                nsec += 1
            rev = 1 if (flag & 16) else 0
            lo0 = seg_off[c]
            hi = seg_off[c + 1]
            for si in range(nsec):
                qs = sec_s[si]
                qe = sec_e[si]
                zero = qe < qs
                if zero:
                    qs = qe  # look from the base before the boundary
                # first segment with seg_end >= qs
                lo = lo0
                h = hi
                while lo < h:
                    mid = (lo + h) >> 1
                    if seg_end[mid] < qs:
                        lo = mid + 1
                    else:
                        h = mid
                if zero:
                    # hits need one merged interval covering both qe and qe + 1
                    k1 = lo
                    if k1 >= hi or seg_start[k1] > qe:
                        continue
                    k2 = k1 if seg_end[k1] > qe else k1 + 1
                    if k2 >= hi or seg_start[k2] > qe + 1:
                        continue
                    for m in range(mem_off[k1], mem_off[k1 + 1]):
                        ok = k2 == k1
                        if not ok:
                            for m2 in range(mem_off[k2], mem_off[k2 + 1]):
                                if mem_interval[m2] == mem_interval[m]:
                                    ok = True
                                    break
                        if not ok:
                            continue
                        st = mem_strand[m]
                        if strand_mode == 1 and st != rev:
                            continue
                        if strand_mode == 2 and st == rev:
                            continue
                        f = mem_feature[m]
                        if mark[f] != stamp:
                            mark[f] = stamp
                            hits[nhits] = f
                            nhits += 1
                    continue
                k = lo
                while k < hi and seg_start[k] <= qe:
                    for m in range(mem_off[k], mem_off[k + 1]):
                        st = mem_strand[m]
                        if strand_mode == 1 and st != rev:
                            continue
                        if strand_mode == 2 and st == rev:
                            continue
                        f = mem_feature[m]
                        if mark[f] != stamp:
                            mark[f] = stamp
                            hits[nhits] = f
                            nhits += 1
                    k += 1
        if nhits == 0:
            summary[11] += w
            continue
        fixed = np.int64(65536)
        if multimap_mode == 2 and not primary_only:
            fixed = np.int64(65536) // nh  # calc_fixed_fraction
        if nhits == 1:
            acc[hits[0]] += w * fixed
            summary[0] += w
        elif allow_multi:
            add = fixed // nhits if multimap_mode == 2 else fixed
            for h in range(nhits):
                acc[hits[h]] += w * add
            summary[0] += w
        else:
            summary[13] += w
    state[0] = stamp
    return o
