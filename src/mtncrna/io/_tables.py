"""Reading result tables (DE tables, signatures, miRNA-target pairs) back in, with clear errors."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path

import numpy as np
import pandas as pd

from .._errors import InputError
from .._text import parse_delimited, read_lines, sniff_delimiter, split_header

_MISSING = frozenset({"", "na", "nan", "n/a", "null", "none"})


#: Names of a first column that holds the feature ids of a result table written by R or pandas
#: (``write.csv`` leaves it empty, DESeq2's ``results(tidy=TRUE)`` calls it ``row``).
_ID_COLUMNS = frozenset(
    {"", "row", "x", "...1", "unnamed: 0", "id", "gene", "gene_id", "geneid", "feature", "mirna"}
)


#: Other names of a miRNA-target table's two columns (miRTarBase's export, TargetScan, tables
#: written by hand).
TARGET_ALIASES: dict[str, tuple[str, ...]] = {
    "mirna": ("mirna_name", "mature_mirna", "mirna_id", "mir"),
    "target": ("target gene", "target_gene", "target_symbol", "gene symbol", "gene_symbol", "gene"),
}


def read_result_table(
    path: str | Path,
    *,
    required: Sequence[str],
    numeric: Sequence[str] = (),
    what: str = "a table",
    unique: str | Sequence[str] | None = None,
    ranges: Mapping[str, tuple[float, float]] | None = None,
    aliases: Mapping[str, Sequence[str]] | None = None,
) -> pd.DataFrame:
    """Read a TSV/CSV with a header; check ``required`` columns and parse ``numeric`` ones.

    ``aliases[column]`` lists other names (any case) under which a file may hold ``column``
    (miRTarBase's ``Target Gene`` for ``target``); the first present is renamed to ``column``.

    Missing values (empty, NA, NaN) become NaN; any other non-number in a ``numeric`` column is
    an :class:`InputError` naming the line and column. Other columns stay text. A column named
    twice in the header is an error; so is a repeated value in the ``unique`` column(s) and a value
    outside ``ranges[column] = (low, high)``.
    """
    p = Path(path)
    lines = read_lines(p)
    sep = sniff_delimiter(p, lines.lines[0])
    header = split_header(p, lines.lines[0], sep, lines.numbers[0])
    seen: dict[str, int] = {}
    for j, h in enumerate(header, start=1):
        if h in seen:
            raise InputError(
                p,
                f"column '{h}' appears twice (fields {seen[h]} and {j}); expected {what}",
                line=lines.numbers[0],
            )
        seen[h] = j
    for column, names in (aliases or {}).items():
        if column in header:
            continue
        wanted = {n.lower() for n in (column, *names)}
        j = next((j for j, h in enumerate(header) if h.strip().lower() in wanted), None)
        if j is not None:
            header = [*header[:j], column, *header[j + 1 :]]
    rownames = False
    if "feature_id" in required and "feature_id" not in header:
        if header and header[0].strip().lower() in _ID_COLUMNS:
            # R's write.csv(results(dds)) ("" first), DESeq2's tidy "row", a pandas index
            header = ["feature_id", *header[1:]]
        else:
            rownames = True  # R's write.table: the header is one field short (checked below)
    missing = [c for c in required if c not in header and not (rownames and c == "feature_id")]
    if missing:
        raise InputError(
            p,
            f"no column(s) {', '.join(missing)}; expected {what} (found {', '.join(header)})",
            line=lines.numbers[0],
        )
    body = parse_delimited(lines, sep)
    if body.empty:
        return pd.DataFrame(columns=header)
    if rownames and body.shape[1] == len(header) + 1:
        header = ["feature_id", *header]
    if "feature_id" in required and "feature_id" not in header:
        raise InputError(
            p,
            f"no column(s) feature_id; expected {what} (found {', '.join(header)})",
            line=lines.numbers[0],
        )
    if body.shape[1] != len(header):
        raise InputError(
            p,
            f"header has {len(header)} fields but the rows have {body.shape[1]}",
            line=lines.numbers[0],
        )
    body.columns = header
    body = body.apply(lambda c: c.str.strip())
    line_numbers = np.asarray(lines.numbers[1:])
    for col in numeric:
        if col not in body.columns:
            continue
        text = body[col]
        is_missing = text.str.lower().isin(_MISSING)
        values = pd.to_numeric(text.where(~is_missing), errors="coerce")
        bad = values.isna() & ~is_missing
        if bad.any():
            i = int(np.flatnonzero(bad.to_numpy())[0])
            raise InputError(
                p,
                f"'{text.iat[i]}' is not a number (expected a number or NA)",
                line=int(line_numbers[i]),
                column=col,
            )
        body[col] = values.astype(float)
        low, high = (ranges or {}).get(col, (-np.inf, np.inf))
        out = (values < low) | (values > high)
        if out.any():
            i = int(np.flatnonzero(out.to_numpy())[0])
            raise InputError(
                p,
                f"'{text.iat[i]}' is outside [{low:g}, {high:g}]",
                line=int(line_numbers[i]),
                column=col,
            )
    keys = [c for c in ([unique] if isinstance(unique, str) else unique or []) if c in body]
    if keys:
        dup = body.duplicated(keys)
        if dup.any():
            i = int(np.flatnonzero(dup.to_numpy())[0])
            same = (body[keys] == body[keys].iloc[i]).all(axis=1).to_numpy()
            first = int(line_numbers[int(np.flatnonzero(same)[0])])
            value = " / ".join(str(body[k].iat[i]) for k in keys)
            raise InputError(
                p,
                f"'{value}' appears again (first on line {first}); each {' x '.join(keys)} "
                "must be listed once",
                line=int(line_numbers[i]),
                column=keys[0],
            )
    return body
