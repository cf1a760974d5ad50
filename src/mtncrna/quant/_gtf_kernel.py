"""The numba scanner behind the fast GTF path of :func:`mtncrna.quant.read_annotation`."""

from __future__ import annotations

import numpy as np

from ._jit import numba


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
