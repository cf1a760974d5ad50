"""Small-RNA pipeline outputs: miRge3's ``miR.Counts.csv`` and nf-core/smrnaseq mature counts."""

from __future__ import annotations

from pathlib import Path

from .._errors import FormatError
from ._formats import CountTable, read_table
from ._text import Lines, read_lines


def is_mirge3(lines: Lines) -> bool:
    first = lines.lines[0].split(",")[0].strip().strip('"').lower()
    return first == "mirna" and "," in lines.lines[0]


def is_smrnaseq(lines: Lines) -> bool:
    return False


def read_mirge3(path: Path, *, non_integer: str = "error") -> CountTable:
    """miRge3 ``miR.Counts.csv``: a ``miRNA`` column, then one column per FASTQ."""
    lines = read_lines(path)
    if not is_mirge3(lines):
        raise FormatError(
            path,
            "is not miRge3 miR.Counts.csv: expected a CSV whose first header cell is 'miRNA'",
            line=lines.numbers[0],
        )
    return read_table(path, non_integer=non_integer, fmt="mirge3", samples_as_rows=False)


def read_smrnaseq(path: Path, *, non_integer: str = "error") -> CountTable:
    """nf-core/smrnaseq mature miRNA counts."""
    return read_table(path, non_integer=non_integer, fmt="smrnaseq")
