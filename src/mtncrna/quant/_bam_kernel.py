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
def find_tag(b, o, end, x0, x1, default):
    # walk the aux fields; return integer tag x0x1 (``default`` if absent)
    while o + 3 <= end:
        t0, t1, typ = b[o], b[o + 1], b[o + 2]
        o += 3
        if typ == 65 or typ == 99 or typ == 67:  # A c C
            if t0 == x0 and t1 == x1 and typ != 65:
                v = np.int64(b[o])
                if typ == 99 and v >= 128:
                    v -= 256
                return v
            o += 1
        elif typ == 115 or typ == 83:  # s S
            if t0 == x0 and t1 == x1:
                v = u16(b, o)
                if typ == 115 and v >= 32768:
                    v -= 65536
                return v
            o += 2
        elif typ == 105 or typ == 73 or typ == 102:  # i I f
            if t0 == x0 and t1 == x1 and typ != 102:
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
            return default
    return default


@numba.njit(cache=True, nogil=True)
def find_nh(b, o, end):
    return find_tag(b, o, end, 78, 72, 1)  # NH, 1 if absent


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
def record_hits(
    b,
    cig,
    ncig,
    pos,
    c,
    rev,
    strand_mode,
    seg_off,
    seg_start,
    seg_end,
    mem_off,
    mem_feature,
    mem_strand,
    mem_interval,
    mark,
    hits,
    stamp,
    sec_s,
    sec_e,
):
    """The meta-features hit by one record's aligned sections (annotation contig ``c``, read
    strand ``rev``), written to ``hits``; returns how many. ``mark[f] == stamp`` once hit."""
    nhits = 0
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
    return nhits


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
    """Count the complete BAM records in ``b[:n]``; return the offset of the first one left.

    ``acc`` (per meta-feature, in 1/65536 units) and ``summary`` (featureCounts' rows) are added
    to; ``mark``/``hits`` are scratch space; ``state`` is [records so far, error code, byte
    offset of the bad record]. Modes: strand 0/1/2 as ``-s``; multimap 0 unique, 1 all
    (``-M``), 2 fraction (``-M --fraction``).
    """
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
            rev = 1 if (flag & 16) else 0
            nhits = record_hits(
                b,
                cig,
                ncig,
                pos,
                c,
                rev,
                strand_mode,
                seg_off,
                seg_start,
                seg_end,
                mem_off,
                mem_feature,
                mem_strand,
                mem_interval,
                mark,
                hits,
                stamp,
                sec_s,
                sec_e,
            )
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


# record fields that scan_pairs hands back, one row per record
R_FLAG, R_REF, R_POS, R_HI, R_UNUSED, R_MAPQ, R_NH, R_NAME_S, R_NAME_E, R_HIT_S, R_HIT_E, R_W = (
    range(12)
)


@numba.njit(cache=True, nogil=True)
def scan_pairs(
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
    use_weights,
    mark,
    hits,
    recs,
    rec_hits,
    counts,
    state,
):
    """Paired-end mode: describe the complete BAM records in ``b[:n]`` for pairing by name.

    Per record, a row of ``recs`` (fields ``R_*``: flag, reference, position, HI tag (-1 if
    absent), 0, MAPQ, NH, the name's span in ``b``, its hits' span in ``rec_hits``, weight); the
    hits are the meta-features its aligned sections overlap on the strand that the strand rule
    asks for, the strand being the read's own for read 1 (and unpaired reads) and the opposite
    for read 2, as in featureCounts. ``counts`` = [records, hits] written; stops early (returns
    the offset of the first record not described) when ``recs`` or ``rec_hits`` is full.
    """
    sec_s = np.empty(MAX_SECTIONS, dtype=np.int64)
    sec_e = np.empty(MAX_SECTIONS, dtype=np.int64)
    n_refs = ref_map.shape[0]
    n_features = mark.shape[0]
    o = 0
    stamp = state[0]
    nr = 0
    nhit = 0
    counts[0] = 0
    counts[1] = 0
    while o + 4 <= n:
        if nr >= recs.shape[0] or nhit + n_features > rec_hits.shape[0]:
            break
        bs = i32(b, o)
        if bs < 32:
            state[1] = 1
            state[2] = o
            break
        if o + 4 + bs > n:
            break
        rec_end = o + 4 + bs
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
            break
        w = np.int64(1)
        if use_weights:
            w = name_weight(b, o + 36, o + 36 + lrn - 1)
            if w < 0:
                state[1] = 2
                state[2] = o
                break
        if ref < -1 or ref >= n_refs:
            state[1] = 4
            state[2] = o
            break
        stamp += 1
        nh = find_nh(b, aux, rec_end)
        hi = find_tag(b, aux, rec_end, 72, 73, -1)  # HI, -1 if absent
        nh_hits = 0
        c = ref_map[ref] if ref >= 0 else -1
        if c >= 0 and not (flag & 4):
            rev = 1 if (flag & 16) else 0
            if flag & 128:
                rev = 1 - rev
            nh_hits = record_hits(
                b,
                cig,
                ncig,
                pos,
                c,
                rev,
                strand_mode,
                seg_off,
                seg_start,
                seg_end,
                mem_off,
                mem_feature,
                mem_strand,
                mem_interval,
                mark,
                hits,
                stamp,
                sec_s,
                sec_e,
            )
        for h in range(nh_hits):
            rec_hits[nhit + h] = hits[h]
        recs[nr, 0] = flag
        recs[nr, 1] = ref
        recs[nr, 2] = pos
        recs[nr, 3] = hi
        recs[nr, 4] = 0
        recs[nr, 5] = mapq
        recs[nr, 6] = nh
        recs[nr, 7] = o + 36
        recs[nr, 8] = o + 36 + lrn - 1
        recs[nr, 9] = nhit
        recs[nr, 10] = nhit + nh_hits
        recs[nr, 11] = w
        nhit += nh_hits
        nr += 1
        o = rec_end
    counts[0] = nr
    counts[1] = nhit
    state[0] = stamp
    return o


# --------------------------------------------------------------------------------------------
# GTF lines -> feature arrays
# --------------------------------------------------------------------------------------------


@numba.njit(cache=True, inline="always")
def _is_space(c):
    return c == 32 or c == 9 or c == 13 or c == 11 or c == 12


@numba.njit(cache=True)
def _parse_uint(b, s, e):
    # digits with optional surrounding spaces; -1 if anything else
    while s < e and _is_space(b[s]):
        s += 1
    while e > s and _is_space(b[e - 1]):
        e -= 1
    if s == e or e - s > 12:
        return -1
    v = np.int64(0)
    for i in range(s, e):
        c = b[i]
        if c < 48 or c > 57:
            return -1
        v = v * 10 + (c - 48)
    return v


@numba.njit(cache=True)
def gtf_scan(b, n, line0, ftype, key, f_int, runs, counts, err):
    """Scan complete GTF lines in ``b[:n]`` (line numbers from ``line0`` + 1).

    For each line of type ``ftype``: ``f_int[i] = (start, end, strand 0/1/2, chrom run, id run)``;
    a run is a stretch of feature lines with the same contig (or ``key`` value), recorded once in
    ``runs`` as (kind 0 contig / 1 id, value start, value end, column 9 start, column 9 end).
    ``counts`` = [features, runs, last line number]; ``err`` = [code, line] for the first line
    the line-by-line reader must explain (columns, coordinates, missing attribute).
    """
    col_s = np.empty(9, dtype=np.int64)
    col_e = np.empty(9, dtype=np.int64)
    nf = 0
    nr = 0
    chrom_run = -1
    id_run = -1
    pcs = -1
    pce = -1
    pis = -1
    pie = -1
    line = line0
    pos = 0
    if line0 == 0 and n >= 3 and b[0] == 239 and b[1] == 187 and b[2] == 191:
        pos = 3  # UTF-8 byte-order mark
    kl = key.shape[0]
    fl = ftype.shape[0]
    while pos < n:
        e = pos
        while e < n and b[e] != 10:
            e += 1
        line += 1
        le = e
        if le > pos and b[le - 1] == 13:
            le -= 1
        start_next = e + 1
        blank = True
        for i in range(pos, le):
            if not _is_space(b[i]):
                blank = False
                break
        if blank or b[pos] == 35:  # '#'
            pos = start_next
            continue
        k = 0
        col_s[0] = pos
        for i in range(pos, le):
            if b[i] == 9:
                if k < 8:
                    col_e[k] = i
                    col_s[k + 1] = i + 1
                k += 1
        if k != 8 or nf >= f_int.shape[0]:
            err[0] = 1
            err[1] = line
            return
        col_e[8] = le
        s = _parse_uint(b, col_s[3], col_e[3])
        en = _parse_uint(b, col_s[4], col_e[4])
        if s < 0 or en < 0:
            err[0] = 2
            err[1] = line
            return
        if s < 1 or s > en or col_s[0] == col_e[0]:
            err[0] = 3
            err[1] = line
            return
        is_feature = col_e[2] - col_s[2] == fl
        if is_feature:
            for i in range(fl):
                if b[col_s[2] + i] != ftype[i]:
                    is_feature = False
                    break
        if not is_feature:
            pos = start_next
            continue
        # the attribute: (^|;) spaces KEY spaces+ ("value" | value)
        vs = -1
        ve = -1
        a = col_s[8]
        ae = col_e[8]
        seg = a
        while seg < ae and vs < 0:
            p = seg
            while p < ae and _is_space(b[p]):
                p += 1
            ok = p + kl < ae
            if ok:
                for i in range(kl):
                    if b[p + i] != key[i]:
                        ok = False
                        break
            if ok and _is_space(b[p + kl]):
                q = p + kl
                while q < ae and _is_space(b[q]):
                    q += 1
                if q < ae and b[q] == 34:  # '"'
                    r = q + 1
                    while r < ae and b[r] != 34:
                        r += 1
                    if r < ae:
                        vs = q + 1
                        ve = r
                if vs < 0:
                    r = q
                    while r < ae and b[r] != 59 and not _is_space(b[r]):
                        r += 1
                    if r > q:
                        vs = q
                        ve = r
            if vs < 0:
                while seg < ae and b[seg] != 59:  # next ';'
                    seg += 1
                seg += 1
        if vs < 0 or ve == vs:
            err[0] = 4
            err[1] = line
            return
        # runs of equal contig / id values
        same = pce - pcs == col_e[0] - col_s[0]
        if same:
            for i in range(pce - pcs):
                if b[pcs + i] != b[col_s[0] + i]:
                    same = False
                    break
        if not same:
            chrom_run = nr
            runs[nr, 0] = 0
            runs[nr, 1] = col_s[0]
            runs[nr, 2] = col_e[0]
            nr += 1
            pcs = col_s[0]
            pce = col_e[0]
        same = pie - pis == ve - vs
        if same:
            for i in range(pie - pis):
                if b[pis + i] != b[vs + i]:
                    same = False
                    break
        if not same:
            id_run = nr
            runs[nr, 0] = 1
            runs[nr, 1] = vs
            runs[nr, 2] = ve
            runs[nr, 3] = a
            runs[nr, 4] = ae
            nr += 1
            pis = vs
            pie = ve
        # strand: column 7 stripped
        ss = col_s[6]
        se = col_e[6]
        while ss < se and _is_space(b[ss]):
            ss += 1
        while se > ss and _is_space(b[se - 1]):
            se -= 1
        strand = 2
        if se - ss == 1 and b[ss] == 43:
            strand = 0
        elif se - ss == 1 and b[ss] == 45:
            strand = 1
        f_int[nf, 0] = s
        f_int[nf, 1] = en
        f_int[nf, 2] = strand
        f_int[nf, 3] = chrom_run
        f_int[nf, 4] = id_run
        nf += 1
        pos = start_next
    counts[0] = nf
    counts[1] = nr
    counts[2] = line
