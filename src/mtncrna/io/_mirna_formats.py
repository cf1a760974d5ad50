"""Small-RNA pipeline outputs: miRge3's ``miR.Counts.csv`` and nf-core/smrnaseq's count tables.

Layouts (checked against real runs of miRge3 0.1.4 and of nf-core/smrnaseq 2.4.1's steps; see
``tests/data/formats/README.md``):

* miRge3 ``miR.Counts.csv``: comma-separated, first header cell ``miRNA``, one column per FASTQ
  (name without ``.fastq[.gz]``), whole-valued floats (``36.0``), identical-sequence miRNAs
  merged as ``hsa-let-7a-5p/7c-5p``.
* smrnaseq ``mature_counts.csv`` / ``hairpin_counts.csv`` (edgeR step): samples as rows, miRNAs
  as columns, first header cell ``""``, everything quoted.
* smrnaseq ``mirna.tsv`` (mirtop): tab-separated, ``miRNA`` then samples; releases 2.0-2.3 name
  the columns ``S1_seqcluster``.
* mirtop's isomiR table (``mirtop counts``; smrnaseq's ``joined_samples_mirtop.tsv``):
  ``UID Read miRNA Variant iso_*`` then samples; counts are summed per miRNA. mirtop 0.4.30 run
  on several samples writes the sample names, and each row's counts, as one quoted cell
  (``"S1<TAB>S2"``); both layouts are read.
* mirtop's mirGFF3 (``mirtop gff``): ``## COLDATA: S1,S2`` names the samples; each line's
  ``Expression`` attribute holds its counts; they are summed per ``Name`` (mature miRNA), as
  for the isomiR table (a sequence annotated to two miRNAs counts for both).
* miRDeep2 quantifier's ``miRNAs_expressed_all_samples_<time>.csv`` (tab-separated despite the
  name): ``#miRNA read_count precursor total`` then one column per sample code and one
  ``code(norm)`` column each, one row per mature x precursor. quantifier counts a read on every
  precursor it maps to, so a mature with two precursors (hsa-miR-16-5p on mir-16-1 and -2) has
  the same reads on both rows: the rows are collapsed to one per mature by taking, per sample,
  the **maximum** over its precursors (summing would count those reads twice; the maximum
  undercounts only reads that fit one precursor's flank and not the other's). The precursors
  are kept in ``var["precursors"]``. A file with one sample column named by quantifier's
  default code (``seq``) takes its sample name from the file name
  (``miRNAs_expressed_all_samples_S1.csv`` -> S1) unless that part is a timestamp.
* miRge1/miRge2 ``miR.Counts.csv``: like miRge3's, but with a ``miRNAtotal`` row (the sample's
  miRNA reads, a total, kept as ``mirge_miRNAtotal`` in ``obs``), sample columns named by the
  FASTQ file (``S1.fastq``, named S1 by :func:`~mtncrna.io.sample_name_from_path`) and, for
  miRge1, ``", "`` between fields.
"""

from __future__ import annotations

import logging
import re
from pathlib import Path

import numpy as np
import pandas as pd

from .._errors import FormatError, InputError
from .._text import Lines, parse_delimited, read_lines, split_header, to_counts
from ._formats import CountTable, _looks_like_features, read_table
from ._names import sample_name_from_path

logger = logging.getLogger("mtncrna")

_SAMPLE_SUFFIX = re.compile(r"(_seqcluster|_mature|_hairpin|\.mature|\.hairpin)$")
_MIRTOP_ISOMIR_HEADER = ["UID", "Read", "miRNA", "Variant"]
_MIRDEEP2_HEADER = "#miRNA\tread_count\tprecursor\ttotal"
_FASTQ_NAME = re.compile(r"\.(fastq|fq)(\.gz|\.bz2)?$", re.IGNORECASE)


def is_mirge3(lines: Lines) -> bool:
    """A CSV whose first header cell is ``miRNA``."""
    header = lines.lines[0]
    return "," in header and header.split(",")[0].strip().strip('"').lower() == "mirna"


def _header_cells(lines: Lines) -> list[str]:
    sep = "\t" if "\t" in lines.lines[0] else ","
    return split_header(lines.path, lines.lines[0], sep, lines.numbers[0])


def is_mirtop(lines: Lines) -> bool:
    """mirtop's mirGFF3 or its isomiR count table."""
    first = lines.lines[0]
    return first.startswith("## mirGFF3") or first.split("\t")[:4] == _MIRTOP_ISOMIR_HEADER


def is_mirdeep2(lines: Lines) -> bool:
    return lines.lines[0].startswith(_MIRDEEP2_HEADER)


def is_smrnaseq(lines: Lines) -> bool:
    """edgeR's sample x miRNA CSV or mirtop's ``mirna.tsv`` (as nf-core/smrnaseq names it)."""
    first = lines.lines[0]
    if first.startswith("miRNA\t"):
        # mirtop's mirna.tsv of smrnaseq 2.0-2.3; later ones look like any plain table
        return any(c.endswith("_seqcluster") for c in first.split("\t"))
    if first.startswith('"",'):
        return _looks_like_features(_header_cells(lines)[1:]) >= 0.5
    return False


def read_mirge3(path: Path, *, non_integer: str = "error") -> CountTable:
    """miRge3 ``miR.Counts.csv``: a ``miRNA`` column, then one column per FASTQ."""
    lines = read_lines(path)
    if not is_mirge3(lines):
        raise FormatError(
            path,
            "is not miRge3 miR.Counts.csv: expected a CSV whose first header cell is 'miRNA', "
            f"found {lines.lines[0][:40]!r}",
            line=lines.numbers[0],
        )
    table = read_table(path, non_integer=non_integer, fmt="mirge3", samples_as_rows=False)
    if "miRNAtotal" in table.features:  # miRge1/2: a total, not a miRNA
        i = table.features.index("miRNAtotal")
        table.qc = pd.DataFrame({"mirge_miRNAtotal": table.counts[i]}, index=table.samples)
        keep = [k for k in range(len(table.features)) if k != i]
        table.counts = table.counts[keep]
        table.features = [table.features[k] for k in keep]
        table.var = table.var.drop(index="miRNAtotal") if len(table.var) else table.var
    if any(_FASTQ_NAME.search(s) for s in table.samples):
        names = [sample_name_from_path(s) if _FASTQ_NAME.search(s) else s for s in table.samples]
        table.source_columns = dict(zip(names, table.samples, strict=True))
        if not table.qc.empty:
            table.qc.index = names
        table.samples = names
    return table


def _strip_suffixes(table: CountTable) -> CountTable:
    stripped = [_SAMPLE_SUFFIX.sub("", s) for s in table.samples]
    if stripped != table.samples and len(set(stripped)) == len(stripped):
        table.source_columns = dict(zip(stripped, table.samples, strict=True))
        table.samples = stripped
    return table


def read_mirtop(path: Path, *, non_integer: str = "error") -> CountTable:
    """mirtop's mirGFF3 (``mirtop gff``) or isomiR count table (``mirtop counts``)."""
    lines = read_lines(path)
    if lines.lines[0].startswith("## mirGFF3"):
        return _read_mirgff3(lines, non_integer=non_integer)
    if lines.lines[0].split("\t")[:4] == _MIRTOP_ISOMIR_HEADER:
        table = _read_mirtop_isomirs(lines, non_integer=non_integer)
        table.format = "mirtop"
        return table
    raise FormatError(
        path,
        "is not mirtop output: expected a mirGFF3 file ('## mirGFF3' first) or a "
        f"'mirtop counts' table (UID Read miRNA Variant ...), found {lines.lines[0][:40]!r}",
        line=lines.numbers[0],
    )


def _read_mirgff3(lines: Lines, *, non_integer: str) -> CountTable:
    path = lines.path
    samples: list[str] = []
    names: list[str] = []
    values: list[list[str]] = []
    numbers: list[int] = []
    for line, number in zip(lines.lines, lines.numbers, strict=True):
        if line.startswith("#"):
            if line.startswith("## COLDATA:"):
                samples = [s.strip() for s in line.split(":", 1)[1].split(",") if s.strip()]
            continue
        fields = line.split("\t")
        if len(fields) != 9:
            raise InputError(
                path, f"expected 9 tab-separated GFF fields, found {len(fields)}", line=number
            )
        attrs = {}
        for item in fields[8].split(";"):
            key, _, value = item.strip().partition(" ")
            if key:
                attrs[key] = value.strip()
        if "Name" not in attrs or "Expression" not in attrs:
            raise InputError(path, "GFF line has no Name or Expression attribute", line=number)
        names.append(attrs["Name"])
        values.append([v.strip() for v in attrs["Expression"].split(",")])
        numbers.append(number)
    if not samples:
        raise FormatError(path, "mirGFF3 file has no '## COLDATA:' line naming the samples")
    if not names:
        raise InputError(path, "mirGFF3 file has no isomiR lines")
    for v, number in zip(values, numbers, strict=True):
        if len(v) != len(samples):
            raise InputError(
                path,
                f"Expression has {len(v)} values but COLDATA names {len(samples)} samples",
                line=number,
            )
    counts = to_counts(
        pd.DataFrame(values),
        path=path,
        line_numbers=np.asarray(numbers),
        columns=samples,
        non_integer=non_integer,
    )
    summed = pd.DataFrame(counts, columns=samples).groupby(np.asarray(names), sort=True).sum()
    n_iso = pd.Series(names).value_counts().reindex(summed.index).to_numpy()
    var = pd.DataFrame({"n_isomirs": n_iso}, index=pd.Index(summed.index, name="miRNA"))
    table = CountTable(
        "mirtop", [path], list(summed.index), samples, summed.to_numpy(dtype=np.int64), var=var
    )
    return _strip_suffixes(table)


def read_mirdeep2(path: Path, *, non_integer: str = "error") -> CountTable:
    """miRDeep2 quantifier's miRNAs_expressed_all_samples_*.csv (see the module docstring)."""
    lines = read_lines(path)
    if not is_mirdeep2(lines):
        raise FormatError(
            path,
            "is not miRDeep2's miRNAs_expressed_all_samples_*.csv: expected the header "
            f"'#miRNA read_count precursor total ...', found {lines.lines[0][:40]!r}",
            line=lines.numbers[0],
        )
    header = [h.strip() for h in lines.lines[0].split("\t")]
    if len(lines) < 2:
        raise InputError(path, "has a header line but no data rows")
    body = parse_delimited(lines, "\t").apply(lambda c: c.str.strip())
    if body.shape[1] != len(header):
        raise InputError(
            path,
            f"header has {len(header)} fields but the data rows have {body.shape[1]}",
            line=lines.numbers[0],
        )
    sample_cols = [j for j in range(4, len(header)) if not header[j].endswith("(norm)")]
    if not sample_cols:
        raise FormatError(path, "has no sample columns after 'total'", line=lines.numbers[0])
    codes = [header[j] for j in sample_cols]
    line_numbers = np.asarray(lines.numbers[1:])
    counts = to_counts(
        body[sample_cols],
        path=path,
        line_numbers=line_numbers,
        columns=codes,
        non_integer=non_integer,
    )
    mature = body[0].to_numpy()
    precursor = body[2].to_numpy()
    frame = pd.DataFrame(counts, columns=codes)
    collapsed = frame.groupby(mature, sort=False).max()
    rows_per = pd.Series(mature).value_counts()
    differ = [
        m for m in rows_per.index[rows_per > 1] if (frame[mature == m].nunique(axis=0) > 1).any()
    ]
    precursors = (
        pd.Series(precursor).groupby(mature, sort=False).agg(lambda p: ";".join(dict.fromkeys(p)))
    )
    var = pd.DataFrame(
        {"precursors": precursors.reindex(collapsed.index).to_numpy()},
        index=pd.Index(collapsed.index, name="miRNA"),
    )
    n_multi = int((rows_per > 1).sum())
    if n_multi:
        logger.info(
            "%s: %d miRNAs are on several precursors; kept the largest count per sample "
            "(quantifier counts a read on every precursor it maps to)%s",
            path,
            n_multi,
            f"; the precursors' counts differ for {', '.join(differ[:5])}" if differ else "",
        )
    samples = codes
    m = re.match(r"miRNAs_expressed_all_samples_(.+)\.csv$", path.name)
    if len(codes) == 1 and m and not m.group(1).isdigit():
        samples = [m.group(1)]
    return CountTable(
        "mirdeep2",
        [path],
        list(collapsed.index),
        samples,
        collapsed.to_numpy(dtype=np.int64),
        var=var,
        source_columns={s: f"{path.name}:{c}" for s, c in zip(samples, codes, strict=True)},
        meta={"mirdeep2_collapse": "max over precursors"},
    )


def read_smrnaseq(path: Path, *, non_integer: str = "error") -> CountTable:
    """nf-core/smrnaseq mature (or hairpin) miRNA counts, in any of the layouts above."""
    lines = read_lines(path)
    if lines.lines[0].split("\t")[:4] == _MIRTOP_ISOMIR_HEADER:
        return _read_mirtop_isomirs(lines, non_integer=non_integer)
    if not (is_smrnaseq(lines) or lines.lines[0].startswith("miRNA\t")):
        raise FormatError(
            path,
            "is not an nf-core/smrnaseq count table: expected edgeR's mature_counts.csv "
            '(first header cell "", miRNAs as columns) or mirtop\'s mirna.tsv (first header '
            f"cell miRNA), found {lines.lines[0][:40]!r}",
            line=lines.numbers[0],
        )
    orientation = lines.lines[0].startswith('"",')
    table = read_table(path, non_integer=non_integer, fmt="smrnaseq", samples_as_rows=orientation)
    return _strip_suffixes(table)


def _read_mirtop_isomirs(lines: Lines, *, non_integer: str) -> CountTable:
    path = lines.path
    if '"' in lines.lines[0]:  # mirtop counts on several samples: one quoted cell
        lines = Lines(path, [ln.replace('"', "") for ln in lines.lines], lines.numbers)
    header = [h.strip() for h in lines.lines[0].split("\t")]
    body = parse_delimited(lines, "\t")
    if body.shape[1] != len(header):
        raise FormatError(
            path,
            f"header has {len(header)} fields but rows have {body.shape[1]}",
            line=lines.numbers[0],
        )
    annot = {"UID", "Read", "miRNA", "Variant"} | {h for h in header if h.startswith("iso_")}
    sample_cols = [j for j, h in enumerate(header) if h not in annot]
    if not sample_cols:
        raise FormatError(path, "mirtop table has no sample columns after the iso_* columns")
    samples = [header[j] for j in sample_cols]
    counts = to_counts(
        body[sample_cols],
        path=path,
        line_numbers=np.asarray(lines.numbers[1:]),
        columns=samples,
        non_integer=non_integer,
    )
    mirna = body[header.index("miRNA")].str.strip().to_numpy()
    summed = pd.DataFrame(counts, columns=samples).groupby(mirna, sort=True).sum()
    n_iso = pd.Series(mirna).value_counts().reindex(summed.index).to_numpy()
    var = pd.DataFrame({"n_isomirs": n_iso}, index=pd.Index(summed.index, name="miRNA"))
    table = CountTable(
        "smrnaseq", [path], list(summed.index), samples, summed.to_numpy(dtype=np.int64), var=var
    )
    return _strip_suffixes(table)
