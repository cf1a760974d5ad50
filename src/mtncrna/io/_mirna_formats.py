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
* mirtop's isomiR table (``joined_samples_mirtop.tsv``): ``UID Read miRNA Variant iso_*`` then
  samples; counts are summed per miRNA.
"""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import pandas as pd

from .._errors import FormatError
from .._text import Lines, parse_delimited, read_lines, split_header, to_counts
from ._formats import CountTable, _looks_like_features, read_table

_SAMPLE_SUFFIX = re.compile(r"(_seqcluster|_mature|_hairpin|\.mature|\.hairpin)$")
_MIRTOP_ISOMIR_HEADER = ["UID", "Read", "miRNA", "Variant"]


def is_mirge3(lines: Lines) -> bool:
    """A CSV whose first header cell is ``miRNA``."""
    header = lines.lines[0]
    return "," in header and header.split(",")[0].strip().strip('"').lower() == "mirna"


def _header_cells(lines: Lines) -> list[str]:
    sep = "\t" if "\t" in lines.lines[0] else ","
    return split_header(lines.path, lines.lines[0], sep, lines.numbers[0])


def is_smrnaseq(lines: Lines) -> bool:
    """edgeR's sample x miRNA CSV, mirtop's ``mirna.tsv`` or mirtop's isomiR table."""
    first = lines.lines[0]
    if first.split("\t")[:4] == _MIRTOP_ISOMIR_HEADER:
        return True
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
    return read_table(path, non_integer=non_integer, fmt="mirge3", samples_as_rows=False)


def _strip_suffixes(table: CountTable) -> CountTable:
    stripped = [_SAMPLE_SUFFIX.sub("", s) for s in table.samples]
    if stripped != table.samples and len(set(stripped)) == len(stripped):
        table.source_columns = dict(zip(stripped, table.samples, strict=True))
        table.samples = stripped
    return table


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
