"""The sample sheet: one row per sequencing library, a ``sample`` column plus the design.

Recognised columns (all optional except ``sample``): ``condition`` (e.g. resistant, parental),
``fraction`` (see :data:`FRACTIONS`), ``cell_line``, ``drug``, ``batch``, ``replicate``, ``pair``
(libraries made from the same cell culture, e.g. the mito and cytosol fractions of one
preparation). Any other column is kept as sample metadata.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from .._errors import InputError, SampleSheetError
from .._text import (
    drop_empty_columns,
    parse_delimited,
    read_lines,
    sniff_delimiter,
    split_header,
)

#: Canonical fraction names and the spellings accepted for each.
FRACTIONS: dict[str, tuple[str, ...]] = {
    "mito": (
        "mito",
        "mitochondria",
        "mitochondrion",
        "mitochondrial",
        "mt",
        "mito_fraction",
        "crude_mito",
        "purified_mito",
    ),
    "mitoplast": ("mitoplast", "mitoplasts", "rnase_treated_mito", "mito_rnase"),
    "cytosol": ("cytosol", "cyto", "cytosolic", "cytoplasm", "cytoplasmic", "cyt"),
    "whole": ("whole", "whole_cell", "wholecell", "total", "wc", "cell", "input"),
    "nucleus": ("nucleus", "nuclear", "nuc"),
}
_FRACTION_LOOKUP = {alias: canon for canon, aliases in FRACTIONS.items() for alias in aliases}

#: Column names accepted for the sample id, in order of preference.
SAMPLE_COLUMNS = ("sample", "sample_id", "sampleid", "sample_name", "samplename", "id", "library")
#: Design columns that must not be left empty when present.
REQUIRED_IF_PRESENT = ("condition", "fraction", "cell_line", "drug", "batch")


def normalise_fraction(value: str) -> str | None:
    """Map a user's fraction label to its canonical name, or None if it is not known."""
    key = value.strip().lower().replace("-", "_").replace(" ", "_")
    return _FRACTION_LOOKUP.get(key)


def _looks_like_row_names(header: list[str], body: pd.DataFrame) -> bool:
    """R's row names in a nameless first column: 1..n, or the sample ids."""
    first = body.iloc[:, 0].str.strip().tolist()
    if first == [str(i) for i in range(1, len(first) + 1)]:
        return True
    names = [h.strip().lower().replace(" ", "_").replace("-", "_") for h in header]
    sample_col = next((c for c in SAMPLE_COLUMNS if c in names[1:]), None)
    if sample_col is None:
        return len(set(first)) == len(first)
    return first == body.iloc[:, names.index(sample_col)].str.strip().tolist()


def _r_row_names(
    path: Path, columns: list[str], body: pd.DataFrame, header_line: int
) -> tuple[list[str], pd.DataFrame]:
    """A first column with no name: R's row names (``write.csv``, ``write.table``).

    Row numbers 1..n are dropped; other row names are the sample ids when the sheet has no
    sample column (``write.csv(colData(dds))``), and are dropped when they equal it.
    """
    first = body.iloc[:, 0]
    rest = columns[1:]
    sample_col = next((c for c in SAMPLE_COLUMNS if c in rest), None)
    if first.tolist() == [str(i) for i in range(1, len(first) + 1)]:
        body = body.iloc[:, 1:]
        body.columns = range(body.shape[1])
        return rest, body
    if sample_col is None:
        return ["sample", *rest], body
    if first.tolist() == body.iloc[:, 1 + rest.index(sample_col)].tolist():
        body = body.iloc[:, 1:]
        body.columns = range(body.shape[1])
        return rest, body
    raise SampleSheetError(
        path,
        f"column 1 has no name and holds row names that are not the '{sample_col}' column; "
        "remove it or give it a name",
        line=header_line,
    )


def read_sample_sheet(path: str | Path) -> pd.DataFrame:
    """Read and validate a sample sheet (CSV/TSV/semicolon/space, optionally gzipped, UTF-16
    "Unicode Text" or an .xlsx workbook's first sheet).

    R's row names (``write.csv``/``write.table``) and Excel's trailing empty columns are
    dropped; a nameless first column of sample ids (``write.csv`` of a frame indexed by
    sample) becomes the ``sample`` column.

    Returns a DataFrame indexed by sample id (index name ``sample``). Column names are lower-cased
    with spaces turned into underscores; ``fraction`` values are mapped to their canonical names
    (mito, mitoplast, cytosol, whole, nucleus) and the original spelling is kept in
    ``fraction_label``. Raises :class:`~mtncrna.SampleSheetError` naming the line and column of the
    first problem.
    """
    p = Path(path)
    try:
        lines = read_lines(p, comment="#")
    except InputError as exc:  # the same message, as a sample-sheet error
        raise SampleSheetError(exc.path, exc.detail, line=exc.line, column=exc.column) from None
    sep = sniff_delimiter(p, lines.lines[0])
    header = split_header(p, lines.lines[0], sep, lines.numbers[0])
    if len(lines) < 2:
        raise SampleSheetError(p, "has a header line but no sample rows", line=lines.numbers[0])
    body = parse_delimited(lines, sep)
    header, body = drop_empty_columns(header, body)
    one_short = body.shape[1] == len(header) + 1
    if one_short:
        header = ["", *header]  # R's write.table(): row names under no header cell
    if body.shape[1] != len(header) or (one_short and not _looks_like_row_names(header, body)):
        n_header = len(header) - 1 if one_short else len(header)
        raise SampleSheetError(
            p,
            f"header has {n_header} fields but the rows have {body.shape[1]}",
            line=lines.numbers[0],
        )
    body = body.apply(lambda c: c.str.strip())
    columns = [h.strip().lower().replace(" ", "_").replace("-", "_") for h in header]
    if columns and columns[0] == "":
        columns, body = _r_row_names(p, columns, body, lines.numbers[0])
    sample_col = next((c for c in SAMPLE_COLUMNS if c in columns), None)
    if sample_col is None:
        raise SampleSheetError(
            p,
            f"no sample id column: expected one named 'sample', found {', '.join(header)}",
            line=lines.numbers[0],
        )
    seen_cols: dict[str, int] = {}
    for j, c in enumerate(columns, start=1):
        if c == "":
            raise SampleSheetError(p, f"column {j} has an empty name", line=lines.numbers[0])
        if c in seen_cols:
            raise SampleSheetError(
                p,
                f"column '{c}' appears twice (columns {seen_cols[c]} and {j})",
                line=lines.numbers[0],
            )
        seen_cols[c] = j
    body.columns = columns
    line_numbers = np.asarray(lines.numbers[1:])

    ids = body[sample_col]
    first_line: dict[str, int] = {}
    for sid, ln in zip(ids, line_numbers, strict=True):
        if sid == "":
            raise SampleSheetError(p, "empty sample id", line=int(ln), column=sample_col)
        if sid in first_line:
            raise SampleSheetError(
                p,
                f"sample '{sid}' appears again (first on line {first_line[sid]}); "
                "sample ids must be unique",
                line=int(ln),
                column=sample_col,
            )
        first_line[sid] = int(ln)

    for col in REQUIRED_IF_PRESENT:
        if col in body.columns:
            empty = (body[col] == "").to_numpy()
            if empty.any():
                i = int(np.flatnonzero(empty)[0])
                raise SampleSheetError(
                    p,
                    f"empty {col} for sample '{ids.iat[i]}'; every sample needs a {col} value "
                    f"({int(empty.sum())} empty)",
                    line=int(line_numbers[i]),
                    column=col,
                )

    if "fraction" in body.columns:
        canon = []
        for value, ln in zip(body["fraction"], line_numbers, strict=True):
            c = normalise_fraction(value)
            if c is None:
                allowed = ", ".join(FRACTIONS)
                raise SampleSheetError(
                    p,
                    f"fraction '{value}' is not known; expected one of {allowed} "
                    "(or a synonym such as mitochondria, cyto, whole_cell)",
                    line=int(ln),
                    column="fraction",
                )
            canon.append(c)
        body["fraction_label"] = body["fraction"]
        body["fraction"] = canon

    sheet = body.set_index(sample_col)
    sheet.index.name = "sample"
    # Empty optional cells become missing values rather than empty strings.
    sheet = sheet.replace("", pd.NA)
    sheet.attrs["path"] = str(p)
    sheet.attrs["line_numbers"] = dict(zip(sheet.index, line_numbers.tolist(), strict=True))
    return sheet
