#!/usr/bin/env python3
"""Fallback for make_fixtures.sh when nf-core/smrnaseq's R helpers are not at hand.

nf-core/smrnaseq (v2.4.1) turns per-sample tool output into its merged tables
with small R scripts (bin/edgeR_miRBase.r, bin/pivot_longer.R,
bin/pivot_wider.R, bin/collapse_mirtop.r). make_fixtures.sh runs those
scripts when SMRNASEQ_BIN points to a checkout's bin/ directory. Without it,
this file writes the same tables, byte for byte, from the behaviour described
in README.md. (It was checked against the real scripts on the committed
fixtures.) It shares no code with the pipeline.

  smrnaseq_layout.py mature-counts OUT.csv S1_mature.sorted.idxstats ...
      mature_counts.csv as EDGER_QC writes it: R write.csv of the transposed
      matrix, so samples are rows and miRNAs are columns.

  smrnaseq_layout.py mirtop-join OUTDIR S1_mirtop.tsv S2_mirtop.tsv ...
      OUTDIR/joined_samples_mirtop.tsv (PIVOT_LONGER + PIVOT_WIDER + sort)
      and OUTDIR/mirna.tsv (DATATABLE_MERGE, collapse_mirtop.r)
"""

import os
import re
import sys


def r_quote(s):
    return '"' + s.replace('"', '""') + '"'


def mature_counts(out, files):
    files = [f for f in files if re.search(r".mature.sorted", f)]
    samples = [re.sub(r"_mature.*", "", os.path.basename(f)) for f in files]
    names, cols = None, []
    for f in files:
        rows = [line.rstrip("\n").split("\t") for line in open(f) if line.strip()]
        if names is None:
            names = [r[0] for r in rows]
        cols.append([int(r[2]) for r in rows])
    keep_rows = [i for i, n in enumerate(names) if n != "*"]
    nonzero = [i for i in keep_rows if any(c[i] != 0 for c in cols)]
    if len(nonzero) < len(keep_rows):  # the script drops miRNAs at 0 everywhere
        keep_rows = nonzero
    keep_cols = [j for j, c in enumerate(cols) if sum(c[i] for i in keep_rows) != 0]
    with open(out, "w", newline="") as fh:
        fh.write(",".join(['""'] + [r_quote(names[i]) for i in keep_rows]) + "\n")
        for j in keep_cols:
            fh.write(",".join([r_quote(samples[j])] + [str(cols[j][i]) for i in keep_rows]) + "\n")


def fmt_double(x):
    # vroom writes whole doubles without a decimal point
    return str(int(x)) if float(x).is_integer() else repr(float(x))


def make_name(s):
    # R's make.names() as applied by read.delim(check.names = TRUE)
    s = re.sub(r"[^A-Za-z0-9._]", ".", s)
    if not re.match(r"[A-Za-z]|\.(?![0-9])", s):
        s = "X" + s
    return s


def mirtop_join(outdir, files):
    # PIVOT_LONGER: the last column of each per-sample table is the sample
    header, order, table, samples = None, [], {}, []
    for f in files:
        lines = [line.rstrip("\n").split("\t") for line in open(f) if line.rstrip("\n")]
        head, body = lines[0], lines[1:]
        if header is None:
            header = head[:-1]
        sample = head[-1]
        samples.append(sample)
        for row in body:
            key = tuple(row[:-1])
            if key not in table:
                table[key] = {}
                order.append(key)
            table[key][sample] = float(row[-1])
    # PIVOT_WIDER: id columns, then one column per sample (first-seen
    # order), missing combinations filled with 0
    out_lines = ["\t".join(header + samples)]
    for key in order:
        out_lines.append("\t".join(list(key) + [fmt_double(table[key].get(s, 0)) for s in samples]))
    # `sort -t$'\t' -k1,1` in the C locale: key = first field, ties broken by
    # the whole line, bytewise; the header line is sorted with the rest
    out_lines.sort(key=lambda l: (l.split("\t", 1)[0].encode(), l.encode()))
    joined = os.path.join(outdir, "joined_samples_mirtop.tsv")
    with open(joined, "w", newline="") as fh:
        fh.write("".join(l + "\n" for l in out_lines))
    # DATATABLE_MERGE (collapse_mirtop.r): first row per UID, column 3
    # (miRNA) and columns 13.. (samples), summed per miRNA in order of first
    # appearance, written tab-separated without quotes or row names
    rows = [l.split("\t") for l in out_lines]
    head, body = rows[0], rows[1:]
    seen, sums, morder = set(), {}, []
    for r in body:
        if r[0] in seen:
            continue
        seen.add(r[0])
        m = r[2]
        if m not in sums:
            sums[m] = [0] * (len(r) - 12)
            morder.append(m)
        sums[m] = [a + int(float(b)) for a, b in zip(sums[m], r[12:])]
    with open(os.path.join(outdir, "mirna.tsv"), "w", newline="") as fh:
        fh.write("\t".join([make_name(head[2])] + [make_name(h) for h in head[12:]]) + "\n")
        for m in morder:
            fh.write("\t".join([m] + [str(v) for v in sums[m]]) + "\n")


def main(argv):
    if len(argv) < 3 or argv[0] not in ("mature-counts", "mirtop-join"):
        sys.exit(__doc__)
    if argv[0] == "mature-counts":
        mature_counts(argv[1], argv[2:])
    else:
        mirtop_join(argv[1], argv[2:])


if __name__ == "__main__":
    main(sys.argv[1:])
