"""Reading delimited text robustly (ground floor under io and reference): gzip, BOM, CRLF, quoting,
and precise error positions.

Every table reader in mtncrna goes through :func:`read_lines` and :func:`parse_delimited`, so a
malformed file produces the same kind of message everywhere: the file, the line (1-based, as an
editor shows it), the column, what was expected and what was found.
"""

from __future__ import annotations

import bz2
import csv
import gzip
import io
import os
import re
import zipfile
import zlib
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from ._errors import FormatError, InputError
from ._logging import logger

if TYPE_CHECKING:  # pandas is imported where a table is parsed: reading a FASTA does not need it
    import pandas as pd

_GZIP_MAGIC = b"\x1f\x8b"
_BZ2_MAGIC = b"BZh"
_ZIP_MAGIC = b"PK\x03\x04"
_HDF5_MAGIC = b"\x89HDF\r\n\x1a\n"
_NORMALISED_NAME = re.compile(r"(rpm|cpm|tpm|fpkm|rpkm|normali[sz]ed|vst|rlog)", re.IGNORECASE)
_INT64_LIMIT = 2.0**63
_NA_STRINGS = frozenset({"na", "nan", "n/a", "null", "none", "#n/a", "-nan"})


def file_safe(name: str) -> str:
    """A name as a file name's part: runs of anything but letters, digits, ``_.-`` become one
    ``_`` (``condition_cisplatin resistant`` -> ``condition_cisplatin_resistant``)."""
    return re.sub(r"[^A-Za-z0-9_.-]+", "_", name).strip("_")


def sniff_kind(path: Path) -> str:
    """'gzip', 'bzip2', 'zip', 'hdf5', 'empty' or 'plain', from the first bytes of ``path``."""
    with path.open("rb") as fh:
        head = fh.read(8)
    if not head:
        return "empty"
    if head.startswith(_GZIP_MAGIC):
        return "gzip"
    if head.startswith(_BZ2_MAGIC):
        return "bzip2"
    if head.startswith(_ZIP_MAGIC):
        return "zip"
    if head.startswith(_HDF5_MAGIC):
        return "hdf5"
    return "plain"


def check_readable(path: str | Path, *, what: str = "file") -> Path:
    """Resolve ``path`` and fail early, with one clear line, if it is not a readable file."""
    p = Path(path)
    if not p.exists():
        raise InputError(p, f"{what} not found")
    if p.is_dir():
        raise InputError(p, f"is a folder, expected a {what}")
    if not p.is_file():
        raise InputError(
            p,
            f"is a pipe or device; expected a regular {what} (mtncrna reads each input more "
            "than once: to check it and detect its format, then to read and checksum it; write "
            "it to a file first)",
        )
    try:
        with p.open("rb"):
            pass
    except OSError as exc:
        raise InputError(p, f"cannot open {what}: {exc.strerror or exc}") from None
    return p


def read_bytes(path: str | Path) -> bytes:
    """Read a file, transparently decompressing gzip/bzip2; corrupt archives become InputError."""
    p = check_readable(path)
    kind = sniff_kind(p)
    if kind == "zip":
        raise FormatError(
            p,
            "is a zip archive but not an Excel .xlsx workbook; expected a text table, gzip, "
            "bzip2 or .xlsx",
        )
    if kind == "hdf5":
        raise FormatError(p, "is an HDF5 file (an .h5ad?), expected a text table")
    raw = p.read_bytes()
    if kind == "gzip":
        try:
            return gzip.decompress(raw)
        except (EOFError, OSError, zlib.error) as exc:
            raise InputError(
                p, f"gzip data is truncated or corrupt ({exc}); re-copy or re-compress the file"
            ) from None
    if kind == "bzip2":
        try:
            return bz2.decompress(raw)
        except (EOFError, OSError, ValueError) as exc:
            raise InputError(p, f"bzip2 data is truncated or corrupt ({exc})") from None
    return raw


def _decode(path: Path, raw: bytes) -> str:
    if raw.startswith((b"\xff\xfe", b"\xfe\xff")):  # UTF-16 with BOM: Excel's "Unicode Text"
        try:
            return raw.decode("utf-16")
        except UnicodeDecodeError as exc:
            raise InputError(path, f"UTF-16 text is damaged at byte {exc.start}") from None
    if b"\x00" in raw[:65536]:
        raise FormatError(path, "contains binary data (NUL bytes); expected a text table")
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = raw.count(b"\n", 0, exc.start) + 1
        try:
            text = raw.decode("cp1252")
        except UnicodeDecodeError:
            raise InputError(
                path, f"byte 0x{raw[exc.start]:02x} is not UTF-8 text", line=line
            ) from None
        logger.warning(
            "%s line %d is not UTF-8; read it as Windows-1252 (save it as UTF-8 to avoid this)",
            path,
            line,
        )
    # Text tables have few control characters; random bytes have many.
    sample = text[:65536]
    if sample:
        controls = sum(1 for ch in sample if ord(ch) < 32 and ch not in "\t\r\n")
        if controls > max(3, len(sample) // 200):
            raise FormatError(path, "looks like binary data, not a text table")
    return text


@dataclass
class Lines:
    """The lines of a text file, with their 1-based line numbers in the original file."""

    path: Path
    lines: list[str]
    numbers: list[int]

    def __len__(self) -> int:
        return len(self.lines)


def read_lines(path: str | Path, *, comment: str | None = None) -> Lines:
    """Read a (possibly compressed) text file into lines.

    Handles a UTF-8 byte-order mark and LF, CRLF or CR line ends. Blank lines and, if ``comment``
    is given, lines starting with it are dropped; the original line numbers are kept for messages.
    """
    p = Path(path)
    if check_readable(p) and sniff_kind(p) == "zip" and is_xlsx(p):
        all_lines = xlsx_lines(p)
    else:
        raw = read_bytes(p)
        if not raw.strip():
            raise InputError(p, "file is empty, expected a table with a header line and data rows")
        text = _decode(p, raw)
        all_lines = re.split(r"\r\n|\r|\n", text)
    lines: list[str] = []
    numbers: list[int] = []
    for i, line in enumerate(all_lines, start=1):
        if not line.strip():
            continue
        if comment is not None and line.lstrip().startswith(comment):
            continue
        lines.append(line)
        numbers.append(i)
    if not lines:
        raise InputError(p, "file has no data lines (only comments or blank lines)")
    return Lines(p, lines, numbers)


def is_xlsx(path: Path) -> bool:
    """A zip archive holding an Excel workbook (``xl/workbook.xml``)."""
    try:
        with zipfile.ZipFile(path) as z:
            return "xl/workbook.xml" in z.namelist()
    except (zipfile.BadZipFile, OSError):
        return False


def xlsx_lines(path: Path) -> list[str]:
    """The first sheet of an .xlsx workbook as tab-separated lines, one per worksheet row.

    Line numbers are the sheet's row numbers. Whole numbers stored as floats (``45.0``) are
    written ``45``; empty cells are empty fields. Tabs or line breaks inside a cell become
    spaces.
    """
    import openpyxl

    try:
        wb = openpyxl.load_workbook(path, read_only=True, data_only=True)
    except Exception as exc:  # openpyxl raises many types for damaged workbooks
        raise InputError(path, f"cannot read the .xlsx workbook: {exc}") from None
    try:
        if not wb.worksheets:
            raise InputError(path, "the workbook has no sheets")
        ws = wb.worksheets[0]
        if hasattr(ws, "reset_dimensions"):  # some writers store a wrong sheet size
            ws.reset_dimensions()
        if len(wb.worksheets) > 1:
            logger.info("%s: read the first sheet, '%s', of %d", path, ws.title, len(wb.worksheets))
        out: list[str] = []
        for row in ws.iter_rows(values_only=True):
            cells = []
            for v in row:
                if v is None:
                    cells.append("")
                elif isinstance(v, float) and v.is_integer() and abs(v) < 2**53:
                    cells.append(str(int(v)))
                elif hasattr(v, "isoformat"):
                    cells.append(v.isoformat())
                else:
                    cells.append(re.sub(r"[\t\r\n]+", " ", str(v)))
            out.append("\t".join(cells))
    finally:
        wb.close()
    return out


def drop_empty_columns(header: list[str], body: pd.DataFrame) -> tuple[list[str], pd.DataFrame]:
    """Drop columns with no header and no value (Excel's trailing empty columns).

    ``body`` has positional column labels; a body wider than the header is compared with the
    header padded with empty names.
    """
    width = max(len(header), body.shape[1])
    names = list(header) + [""] * (width - len(header))
    keep = []
    for j in range(width):
        if names[j] != "" or j == 0:  # only a nameless column can be dropped: look no further
            keep.append(j)
            continue
        empty_values = j >= body.shape[1] or (body.iloc[:, j].astype(str).str.strip() == "").all()
        if not empty_values:
            keep.append(j)
    if len(keep) == width:
        return header, body
    kept_body = [j for j in keep if j < body.shape[1]]
    new_body = body.iloc[:, kept_body].copy()
    new_body.columns = range(new_body.shape[1])
    new_header = [names[j] for j in keep if j < len(header)]
    return new_header, new_body


def sniff_delimiter(path: Path, header: str) -> str:
    """Choose the field separator from the header line: tab, comma, semicolon, or the space of
    R's ``write.table`` defaults (quoted names separated by one space)."""
    counts = {d: header.count(d) for d in ("\t", ",", ";")}
    best = max(counts, key=lambda d: counts[d])
    if counts[best] == 0 and re.fullmatch(r'\s*"[^"]*"(\s+"[^"]*")*\s*', header) and " " in header:
        return " "
    if counts[best] == 0:
        raise FormatError(
            path,
            "header has a single column; expected fields separated by tabs, commas or semicolons",
            line=1,
        )
    if counts["\t"]:
        return "\t"
    return best


def split_header(path: Path, header: str, sep: str, line: int) -> list[str]:
    """Split the header line into cleaned cells (quotes and surrounding spaces removed)."""
    try:
        cells = next(csv.reader([header], delimiter=sep, quotechar='"'))
    except csv.Error as exc:
        raise InputError(path, f"cannot parse header: {exc}", line=line) from None
    return [c.strip() for c in cells]


def parse_delimited(lines: Lines, sep: str, *, skip: int = 1) -> pd.DataFrame:
    """Parse ``lines[skip:]`` into a frame of strings with positional integer column labels.

    Rows with more fields than the widest expected row raise an InputError naming the line.
    """
    import pandas as pd

    body = lines.lines[skip:]
    if not body:
        return pd.DataFrame()
    try:
        frame = pd.read_csv(
            io.StringIO("\n".join(body)),
            sep=sep,
            header=None,
            dtype=str,
            keep_default_na=False,
            na_filter=False,
            quotechar='"',
            skipinitialspace=False,
            engine="c",
        )
    except pd.errors.ParserError as exc:
        msg = str(exc)
        m = re.search(r"Expected (\d+) fields in line (\d+), saw (\d+)", msg)
        if m:
            idx = int(m.group(2)) - 1
            line = lines.numbers[skip + idx] if skip + idx < len(lines.numbers) else None
            raise InputError(
                lines.path,
                f"expected {m.group(1)} fields (as in the rows above), found {m.group(3)}",
                line=line,
            ) from None
        raise InputError(lines.path, f"cannot parse table: {msg.splitlines()[0]}") from None
    return frame


def parse_delimited_integers(lines: Lines, sep: str, *, skip: int = 1) -> pd.DataFrame:
    """As :func:`parse_delimited`, but a column (after the first) whose every cell the parser
    reads as a whole number comes back as int64, parsed in C with no Python string per cell.

    Count tables are almost all such cells, and holding them as strings costs several times
    the parse. Every other column holds exactly the strings :func:`parse_delimited` gives.
    """
    import pandas as pd

    body = lines.lines[skip:]
    if not body:
        return pd.DataFrame()
    try:
        frame = _parse_typed(body, sep)
    except (pd.errors.ParserError, ValueError, OverflowError):
        return parse_delimited(lines, sep, skip=skip)  # which names the problem
    dtypes = frame.dtypes.to_numpy()
    typed = [j for j in range(1, frame.shape[1]) if dtypes[j] == np.int64]
    if len(typed) < frame.shape[1] - 1:  # text, decimals, booleans: as parse_delimited has them
        text = parse_delimited(lines, sep, skip=skip)
        for j in typed:
            text[j] = frame[j]
        return text
    frame.columns = range(frame.shape[1])
    return frame


def _parse_typed(body: list[str], sep: str) -> pd.DataFrame:
    """The rows parsed by pandas' C parser with column 0 as text and the other columns typed.

    A large table without quotes is parsed in blocks of rows on the cores this process may use
    (the parser releases the GIL while it tokenizes and converts); if the blocks do not agree
    on the number of columns, as a whole.
    """
    import pandas as pd

    def parse(rows: list[str]) -> pd.DataFrame:
        return pd.read_csv(
            io.StringIO("\n".join(rows)),
            sep=sep,
            header=None,
            dtype={0: str},
            keep_default_na=False,
            na_filter=False,
            quotechar='"',
            skipinitialspace=False,
            engine="c",
        )

    try:
        cores = len(os.sched_getaffinity(0))
    except AttributeError:  # pragma: no cover - not Linux
        cores = os.cpu_count() or 1
    size = sum(map(len, body))
    n = min(cores, len(body) // 64, size // 2**20)
    if n < 2 or any('"' in row for row in body):  # a quoted cell may hold a line break
        return parse(body)
    step = -(-len(body) // n)
    with ThreadPoolExecutor(n) as pool:
        frames = list(pool.map(parse, [body[i : i + step] for i in range(0, len(body), step)]))
    if len({f.shape[1] for f in frames}) != 1:
        return parse(body)
    return pd.concat(frames, ignore_index=True)


def strip_cells(frame: pd.DataFrame) -> pd.DataFrame:
    """Strip surrounding whitespace from every string cell."""
    text = [
        c for c, dt in zip(frame.columns, frame.dtypes.to_numpy(), strict=True) if dt.kind == "O"
    ]
    if len(text) == frame.shape[1]:
        return frame.apply(lambda col: col.str.strip())
    out = frame.copy(deep=False)
    for c in text:
        out[c] = frame[c].str.strip()
    return out


def to_counts(
    values: pd.DataFrame,
    *,
    path: Path,
    line_numbers: np.ndarray,
    columns: list[str],
    non_integer: str = "error",
) -> np.ndarray:
    """Validate string cells as non-negative whole numbers and return an int64 array.

    ``values`` has one row per feature and one column per sample (strings). ``line_numbers`` are the
    file's line numbers of the rows and ``columns`` the sample names, used in messages. Whole-valued
    decimals ("12.0", "1e3") are accepted. With ``non_integer="round"`` decimals are rounded (as
    for estimated counts from salmon or RSEM); otherwise they are an error.
    """
    import pandas as pd

    n_rows, n_cols = values.shape
    if n_cols and all(dt == np.int64 for dt in values.dtypes):  # parsed as whole numbers
        whole = values.to_numpy()
        if (whole >= 0).all():
            return np.ascontiguousarray(whole)
    out = np.empty((n_rows, n_cols), dtype=np.int64)
    first_bad: tuple[int, int, str] | None = None  # (row, column, message)
    n_bad = 0
    n_rounded = 0
    for j in range(n_cols):
        col = values.iloc[:, j]
        if col.dtype == np.int64 and (col.to_numpy() >= 0).all():  # parsed as whole numbers
            out[:, j] = col.to_numpy()
            continue
        col = col.astype(str).str.strip()
        num = pd.to_numeric(col, errors="coerce").to_numpy(dtype=float)
        with np.errstate(invalid="ignore"):
            frac = np.isfinite(num) & (np.abs(num - np.rint(num)) > 1e-8)
            bad = ~np.isfinite(num) | (num < 0) | (num >= _INT64_LIMIT)
            huge = np.isfinite(num) & (num >= 2.0**53)
        for i in np.flatnonzero(huge & (num >= _INT64_LIMIT)):
            if col.iat[i].isdigit() and int(col.iat[i]) < 2**63:  # 2**63 - 1 itself
                bad[i] = False
        if non_integer == "round":
            n_rounded += int(frac.sum())
        else:
            bad |= frac
        if bad.any():
            n_bad += int(bad.sum())
            i = int(np.flatnonzero(bad)[0])
            if first_bad is None or (i, j) < first_bad[:2]:
                first_bad = (i, j, _count_problem(col.iat[i], num[i]))
            continue
        with np.errstate(invalid="ignore"):
            out[:, j] = np.rint(np.where(huge, 0.0, num)).astype(np.int64)
        for i in np.flatnonzero(huge):  # beyond float precision: exact from the digits
            cell = col.iat[i]
            out[i, j] = int(cell) if cell.isdigit() else round(float(num[i]))
    if first_bad is not None:
        i, j, msg = first_bad
        more = f" ({n_bad - 1} more invalid cells)" if n_bad > 1 else ""
        if _NORMALISED_NAME.search(path.name) and "whole number" in msg:
            msg = (
                f"'{values.iat[i, j]}' is not a whole number: the file looks like normalised "
                "values (RPM/CPM/TPM); mtncrna needs the raw counts table"
            )
        raise InputError(path, msg + more, line=int(line_numbers[i]), column=columns[j])
    if n_rounded:
        logger.warning("%s: rounded %d non-integer counts to whole numbers", path, n_rounded)
    return out


def _count_problem(cell: str, value: float) -> str:
    expected = "expected a count (a whole number >= 0)"
    fill = "; write 0 where nothing was counted, or remove the row"
    if cell == "":
        return f"empty cell, {expected}{fill}"
    if np.isnan(value):
        if cell.lower() in _NA_STRINGS:
            return f"'{cell}' is a missing value, {expected}{fill}"
        return f"'{cell}' is not a number, {expected}"
    if np.isinf(value):
        return f"'{cell}' is infinite, {expected}"
    if value >= _INT64_LIMIT:
        return f"'{cell}' is too large for a count (the limit is 2**63 - 1); check the file"
    if value < 0:
        return f"'{cell}' is negative, {expected}"
    return (
        f"'{cell}' is not a whole number, {expected}; "
        "for estimated counts (salmon, RSEM) round them as DESeq2's tximport path does: "
        "--round, or 'round: true' in a run config (non_integer='round')"
    )


#: Nucleotide letters (IUPAC) accepted in FASTA sequences.
_IUPAC = frozenset("ACGTUNRYSWKMBDHV")


def read_fasta(path: str | Path, *, what: str = "FASTA") -> list[tuple[str, str]]:
    """``(name, sequence)`` pairs; name is the header's first word, sequence upper case, U -> T.

    A header-less start, an empty record, a duplicate name or a character that is not a
    nucleotide (IUPAC) is an :class:`InputError` naming the line.
    """
    p = Path(path)
    text = read_bytes(p).decode("utf-8", errors="replace")
    records: list[tuple[str, str]] = []
    seen: dict[str, int] = {}
    name: str | None = None
    header_line = 0
    chunks: list[str] = []

    def flush() -> None:
        if name is None:
            return
        seq = "".join(chunks).upper().replace("U", "T")
        if not seq:
            raise InputError(p, f"{what} record '{name}' has no sequence", line=header_line)
        records.append((name, seq))

    for i, raw in enumerate(text.splitlines(), start=1):
        line = raw.strip()
        if not line or line.startswith(";"):
            continue
        if line.startswith(">"):
            flush()
            name = line[1:].split()[0] if line[1:].split() else ""
            if not name:
                raise InputError(p, f"{what} header without a name", line=i)
            if name in seen:
                raise InputError(
                    p, f"{what} name '{name}' appears twice (lines {seen[name]} and {i})", line=i
                )
            seen[name] = i
            header_line = i
            chunks = []
            continue
        if name is None:
            raise InputError(
                p, f"expected a {what} header starting with '>', found {line[:20]!r}", line=i
            )
        bad = set(line.upper()) - _IUPAC
        if bad:
            raise InputError(
                p,
                f"sequence of '{name}' has {', '.join(repr(c) for c in sorted(bad))}; "
                "expected nucleotides (A, C, G, T/U, N or IUPAC codes)",
                line=i,
            )
        chunks.append(line)
    flush()
    if not records:
        raise InputError(p, f"no {what} records found")
    return records
