"""The numba kernel behind :func:`mtncrna.quant.count_bam`: raw BAM records -> counts.

Kept apart so that numba is imported (and the kernel compiled, or loaded from numba's cache) only
when BAMs are counted. The rules are described in :mod:`mtncrna.quant._bam`; this module mirrors
featureCounts' ``parse_bin`` (CIGAR sections) and ``vote_and_add_count`` (assignment).
"""

from __future__ import annotations

import numpy as np

from ._jit import numba

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


# --------------------------------------------------------------------------------------------
# paired-end: mates joined in the kernel, fragments assigned as featureCounts does
# --------------------------------------------------------------------------------------------

# A record waiting for its mate is a row of the open-addressing table ``tab`` (linear probing,
# backward-shift deletion), columns T_*; its name bytes and hits live in two append-only arenas
# that the driver compacts when they fill up (``pairs_rehash``).
T_KEY, T_FLAG, T_MAPQ, T_NH, T_W, T_HI, T_NOFF, T_NLEN, T_HOFF, T_HLEN = range(10)
T_COLS = 10
# ``pst``: [live records, name arena used, hit arena used, live name bytes, live hits,
#           needs room (1), mark stamp, fragment stamp]
P_LIVE, P_NUSED, P_HUSED, P_NLIVE, P_HLIVE, P_GROW, P_STAMP, P_FSTAMP = range(8)


@numba.njit(cache=True, nogil=True, inline="always")
def _name_key(b, s, e, hi):
    h = np.uint64(14695981039346656037)
    for i in range(s, e):
        h ^= np.uint64(b[i])
        h *= np.uint64(1099511628211)
    h ^= np.uint64(hi + 2)
    h *= np.uint64(1099511628211)
    h ^= h >> np.uint64(31)
    h *= np.uint64(0x94D049BB133111EB)
    h ^= h >> np.uint64(29)
    return np.int64(h >> np.uint64(2)) + 1  # > 0; 0 marks an empty slot


@numba.njit(cache=True, nogil=True, inline="always")
def fragment(
    fl1,
    mq1,
    nh1,
    w,
    h1,
    h1s,
    h1e,
    fl2,
    mq2,
    nh2,
    h2,
    h2s,
    h2e,
    multimap_mode,
    min_mapq,
    allow_multi,
    primary_only,
    acc,
    summary,
    score,
    fmark,
    fstamp,
    win,
):
    """One fragment, by featureCounts' ``process_line_buffer`` and ``vote_and_add_count``:
    read 1 (``fl1``...; hits ``h1[h1s:h1e]``) first; a lone record has ``fl2 = 4 | 8``."""
    if not fl1 & 1:  # a single-end read: as a pair with its mate unmapped
        fl1 |= 8
    # by the flags of the first record, as featureCounts
    if fl1 & 4 and fl1 & 8:
        summary[1] += w
        return
    max_nh = 1
    if not fl1 & 4:
        if nh1 > 1 and multimap_mode == 0:
            summary[8] += w
            return
        if nh1 > max_nh:
            max_nh = nh1
        if primary_only and fl1 & 256:
            summary[9] += w
            return
    if min_mapq > 0 and max(mq1, mq2) < min_mapq:
        summary[4] += w
        return
    if not fl2 & 4:
        if nh2 > 1 and multimap_mode == 0:
            summary[8] += w
            return
        if nh2 > max_nh:
            max_nh = nh2
        if primary_only and fl2 & 256:
            summary[9] += w
            return
    if fl1 & 4:
        h1e = h1s
    if fl2 & 4:
        h2e = h2s
    if h1e == h1s and h2e == h2s:
        summary[11] += w
        return
    nw = 0
    for i in range(h1s, h1e):
        f = h1[i]
        if fmark[f] != fstamp:
            fmark[f] = fstamp
            score[f] = 1
            win[nw] = f
            nw += 1
    for i in range(h2s, h2e):
        f = h2[i]
        if fmark[f] != fstamp:
            fmark[f] = fstamp
            score[f] = 1
            win[nw] = f
            nw += 1
        elif not allow_multi:
            score[f] += 1
    best = 0
    for i in range(nw):
        if score[win[i]] > best:
            best = score[win[i]]
    nbest = 0
    for i in range(nw):
        if score[win[i]] == best:
            win[nbest] = win[i]
            nbest += 1
    fixed = np.int64(65536)
    if multimap_mode == 2 and not primary_only:
        fixed = np.int64(65536) // max_nh
    if nbest == 1:
        acc[win[0]] += w * fixed
        summary[0] += w
    elif allow_multi:
        add = fixed // nbest if multimap_mode == 2 else fixed
        for i in range(nbest):
            acc[win[i]] += w * add
        summary[0] += w
    else:
        summary[13] += w


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
    multimap_mode,
    min_mapq,
    allow_multi,
    primary_only,
    use_weights,
    acc,
    summary,
    mark,
    hits,
    score,
    fmark,
    win,
    tab,
    names,
    hitbuf,
    pst,
    state,
):
    """Paired-end mode (``-p --countReadPairs``): count the fragments of the complete BAM records
    in ``b[:n]``; return the offset of the first record left.

    Each record's hits are the meta-features its aligned sections overlap on the strand the rule
    asks for, the read's own strand for read 1 (and single-end reads) and the opposite for read 2.
    A record waits in ``tab`` until the record with the same name and HI tag comes (HI -1 if
    absent), then the two are assigned as one fragment (read 1 first); a single-end record is a
    fragment alone. Stops early with ``pst[P_GROW] = 1`` when ``tab`` or an arena is too full to
    take the next record (the driver makes room and calls again). ``state`` as for ``scan``.
    """
    sec_s = np.empty(MAX_SECTIONS, dtype=np.int64)
    sec_e = np.empty(MAX_SECTIONS, dtype=np.int64)
    n_refs = ref_map.shape[0]
    cap = tab.shape[0]
    mask = cap - 1
    o = 0
    stamp = pst[P_STAMP]
    fstamp = pst[P_FSTAMP]
    nrec = state[0]
    pst[P_GROW] = 0
    while o + 4 <= n:
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
        ns = o + 36
        ne = o + 36 + lrn - 1
        w = np.int64(1)
        if use_weights:
            w = name_weight(b, ns, ne)
            if w < 0:
                state[1] = 2
                state[2] = o
                break
        if ref < -1 or ref >= n_refs:
            state[1] = 4
            state[2] = o
            break
        # room for this record to wait, before anything is changed
        if (pst[P_LIVE] + 1) * 2 > cap or pst[P_NUSED] + lrn > names.shape[0]:
            pst[P_GROW] = 1
            break
        stamp += 1
        nh = find_nh(b, aux, rec_end)
        hi = find_tag(b, aux, rec_end, 72, 73, -1)  # HI, -1 if absent
        nhits = 0
        c = ref_map[ref] if ref >= 0 else -1
        if c >= 0 and not (flag & 4):
            rev = 1 if (flag & 16) else 0
            if flag & 128:
                rev = 1 - rev
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
        if pst[P_HUSED] + nhits > hitbuf.shape[0]:
            pst[P_GROW] = 1
            break
        o = rec_end
        nrec += 1
        if not flag & 1:  # a single-end read among pairs: a fragment alone
            fstamp += 1
            fragment(
                flag, mapq, nh, w, hits, 0, nhits, 12, 0, 1, hits, 0, 0,
                multimap_mode, min_mapq, allow_multi, primary_only,
                acc, summary, score, fmark, fstamp, win,
            )  # fmt: skip
            continue
        key = _name_key(b, ns, ne, hi)
        ln = ne - ns
        slot = key & mask
        found = -1
        while tab[slot, T_KEY] != 0:
            if tab[slot, T_KEY] == key and tab[slot, T_HI] == hi and tab[slot, T_NLEN] == ln:
                no = tab[slot, T_NOFF]
                same = True
                for i in range(ln):
                    if names[no + i] != b[ns + i]:
                        same = False
                        break
                if same:
                    found = slot
                    break
            slot = (slot + 1) & mask
        if found < 0:  # the first mate: wait (slot is the empty slot reached)
            no = pst[P_NUSED]
            for i in range(ln):
                names[no + i] = b[ns + i]
            ho = pst[P_HUSED]
            for i in range(nhits):
                hitbuf[ho + i] = hits[i]
            tab[slot, T_KEY] = key
            tab[slot, T_FLAG] = flag
            tab[slot, T_MAPQ] = mapq
            tab[slot, T_NH] = nh
            tab[slot, T_W] = w
            tab[slot, T_HI] = hi
            tab[slot, T_NOFF] = no
            tab[slot, T_NLEN] = ln
            tab[slot, T_HOFF] = ho
            tab[slot, T_HLEN] = nhits
            pst[P_NUSED] = no + ln
            pst[P_HUSED] = ho + nhits
            pst[P_LIVE] += 1
            pst[P_NLIVE] += ln
            pst[P_HLIVE] += nhits
            continue
        # the second mate: one fragment, read 1 first
        mflag = tab[found, T_FLAG]
        ho = tab[found, T_HOFF]
        hl = tab[found, T_HLEN]
        fstamp += 1
        if flag & 64 or not mflag & 64:
            fragment(
                flag, mapq, nh, w, hits, 0, nhits,
                mflag, tab[found, T_MAPQ], tab[found, T_NH], hitbuf, ho, ho + hl,
                multimap_mode, min_mapq, allow_multi, primary_only,
                acc, summary, score, fmark, fstamp, win,
            )  # fmt: skip
        else:
            fragment(
                mflag, tab[found, T_MAPQ], tab[found, T_NH], tab[found, T_W], hitbuf, ho, ho + hl,
                flag, mapq, nh, hits, 0, nhits,
                multimap_mode, min_mapq, allow_multi, primary_only,
                acc, summary, score, fmark, fstamp, win,
            )  # fmt: skip
        pst[P_LIVE] -= 1
        pst[P_NLIVE] -= ln
        pst[P_HLIVE] -= hl
        # backward-shift deletion keeps every probe chain unbroken
        i = found
        j = found
        while True:
            j = (j + 1) & mask
            if tab[j, T_KEY] == 0:
                break
            home = tab[j, T_KEY] & mask
            if i <= j:
                if i < home <= j:
                    continue
            elif i < home or home <= j:
                continue
            for k in range(T_COLS):
                tab[i, k] = tab[j, k]
            i = j
        tab[i, T_KEY] = 0
    pst[P_STAMP] = stamp
    pst[P_FSTAMP] = fstamp
    state[0] = nrec
    return o


@numba.njit(cache=True, nogil=True)
def pairs_rehash(tab, names, hitbuf, new_tab, new_names, new_hits, same, pst):
    """Move the waiting records into ``new_tab`` (bigger; ``same``: ``tab`` itself, compacted
    only) and their names and hits into the new arenas, packed."""
    mask = new_tab.shape[0] - 1
    nu = 0
    hu = 0
    for s in range(tab.shape[0]):
        if tab[s, T_KEY] == 0:
            continue
        slot = s
        if not same:
            slot = tab[s, T_KEY] & mask
            while new_tab[slot, T_KEY] != 0:
                slot = (slot + 1) & mask
            for k in range(T_COLS):
                new_tab[slot, k] = tab[s, k]
        no = tab[s, T_NOFF]
        ln = tab[s, T_NLEN]
        for i in range(ln):
            new_names[nu + i] = names[no + i]
        new_tab[slot, T_NOFF] = nu
        nu += ln
        ho = tab[s, T_HOFF]
        hl = tab[s, T_HLEN]
        for i in range(hl):
            new_hits[hu + i] = hitbuf[ho + i]
        new_tab[slot, T_HOFF] = hu
        hu += hl
    pst[P_NUSED] = nu
    pst[P_HUSED] = hu


@numba.njit(cache=True, nogil=True)
def pairs_finish(
    tab, hitbuf, multimap_mode, min_mapq, allow_multi, primary_only, acc, summary, score, fmark,
    win, pst,
):  # fmt: skip
    """Count each record whose mate never came as a fragment alone; return how many."""
    fstamp = pst[P_FSTAMP]
    n = 0
    for s in range(tab.shape[0]):
        if tab[s, T_KEY] == 0:
            continue
        fstamp += 1
        ho = tab[s, T_HOFF]
        fragment(
            tab[s, T_FLAG], tab[s, T_MAPQ], tab[s, T_NH], tab[s, T_W], hitbuf, ho,
            ho + tab[s, T_HLEN], 12, 0, 1, hitbuf, 0, 0,
            multimap_mode, min_mapq, allow_multi, primary_only,
            acc, summary, score, fmark, fstamp, win,
        )  # fmt: skip
        tab[s, T_KEY] = 0
        n += 1
    pst[P_FSTAMP] = fstamp
    pst[P_LIVE] = 0
    return n
