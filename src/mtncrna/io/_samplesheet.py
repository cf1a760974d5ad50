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
from .._text import parse_delimited, read_lines, sniff_delimiter, split_header

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


def read_sample_sheet(path: str | Path) -> pd.DataFrame:
    """Read and validate a sample sheet (CSV/TSV/semicolon, optionally gzipped).

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
    columns = [h.strip().lower().replace(" ", "_").replace("-", "_") for h in header]
    if len(lines) < 2:
        raise SampleSheetError(p, "has a header line but no sample rows", line=lines.numbers[0])
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
    body = parse_delimited(lines, sep)
    if body.shape[1] != len(columns):
        raise SampleSheetError(
            p,
            f"header has {len(columns)} fields but the rows have {body.shape[1]}",
            line=lines.numbers[0],
        )
    body.columns = columns
    body = body.apply(lambda c: c.str.strip())
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
