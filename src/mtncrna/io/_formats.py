"""Parsers for the count-table formats users bring: each returns a :class:`CountTable`.

A parser only turns a file into features x samples integers plus whatever per-feature annotation
and per-sample QC counters the format carries; matching to the sample sheet and building the
AnnData happens in :mod:`mtncrna.io._read`.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from .._errors import FormatError, InputError
from .._text import (
    Lines,
    drop_empty_columns,
    parse_delimited,
    parse_delimited_integers,
    read_lines,
    sniff_delimiter,
    split_header,
    strip_cells,
    to_counts,
)
from ._names import sample_name_from_path

_ALN_EXT = re.compile(r"\.(bam|sam|cram)$", re.IGNORECASE)
_ANNOTATION_COLUMNS = {
    "gene_name",
    "gene_symbol",
    "symbol",
    "gene_type",
    "gene_biotype",
    "biotype",
    "description",
    "length",
    "chr",
    "chrom",
    "start",
    "end",
    "strand",
    "name",
    "transcript_id",
    "transcript_id(s)",
    "effective_length",
}


@dataclass
class CountTable:
    """What a parser read: ``counts`` is features x samples (int64)."""

    format: str
    files: list[Path]
    features: list[str]
    samples: list[str]
    counts: np.ndarray
    var: pd.DataFrame = field(default_factory=pd.DataFrame)
    qc: pd.DataFrame = field(default_factory=pd.DataFrame)
    source_columns: dict[str, str] = field(default_factory=dict)
    meta: dict[str, str] = field(default_factory=dict)


def _check_unique(path: Path, names: Sequence[str], what: str, *, positions: Sequence[int]) -> None:
    seen: dict[str, int] = {}
    for name, pos in zip(names, positions, strict=True):
        if name == "":
            raise InputError(
                path, f"empty {what}", line=pos if what.startswith("feature") else None
            )
        if name in seen:
            if what.startswith("feature"):
                raise InputError(
                    path,
                    f"feature id '{name}' appears again (first on line {seen[name]}); "
                    "feature ids must be unique: a table with a row per exon or per transcript "
                    "of a gene must be counted per gene instead (featureCounts without -f)",
                    line=pos,
                )
            raise InputError(
                path,
                f"sample column '{name}' appears twice (columns {seen[name]} and {pos}); "
                "sample ids must be unique",
                line=1,
            )
        seen[name] = pos


def _numeric_fraction(col: pd.Series) -> float:
    if col.dtype == np.int64:  # parsed as whole numbers
        return 1.0
    s = col.astype(str).str.strip()
    return float(pd.to_numeric(s, errors="coerce").notna().mean()) if len(s) else 0.0


def _leading_comments(lines: Lines) -> Lines:
    """Drop leading '#' lines that are comments rather than a '#'-prefixed header."""
    k = 0
    while k + 1 < len(lines) and lines.lines[k].startswith("#"):
        nxt = lines.lines[k + 1]
        sep = "\t" if "\t" in nxt else ","
        if lines.lines[k].count(sep) == nxt.count(sep) and not nxt.startswith("#"):
            break
        k += 1
    if k:
        return Lines(lines.path, lines.lines[k:], lines.numbers[k:])
    return lines


# --------------------------------------------------------------------------------------------
# plain tables
# --------------------------------------------------------------------------------------------


def read_table(
    path: Path,
    *,
    sample_hint: Sequence[str] | None = None,
    non_integer: str = "error",
    fmt: str = "table",
    samples_as_rows: bool | None = None,
) -> CountTable:
    """A feature x sample table, or a sample x feature one (``samples_as_rows``).

    Orientation is detected when not given: samples are the side where the sample sheet's ids
    are; without a sheet, the side that does not hold miRNA/gene-like names.
    """
    lines = _leading_comments(read_lines(path))
    sep = sniff_delimiter(path, lines.lines[0])
    header = split_header(path, lines.lines[0], sep, lines.numbers[0])
    if header[0].startswith("#"):
        header[0] = header[0].lstrip("#").strip()
    if len(lines) < 2:
        raise InputError(path, "has a header line but no data rows")
    header_line = list(header)
    # count columns as int64 (parsed in C), the rest as text
    header, body = _table_body(path, lines, sep, header, parse_delimited_integers)
    line_numbers = np.asarray(lines.numbers[1:])

    if samples_as_rows is None:
        samples_as_rows = _samples_are_rows(header, body[0].tolist(), sample_hint)
    if samples_as_rows:
        return _read_transposed(path, header, body, line_numbers, non_integer, fmt)

    features = body[0].tolist()
    _check_unique(path, features, "feature id", positions=line_numbers.tolist())
    count_cols: list[int] = []
    annot_cols: list[int] = []
    hint_set = set(sample_hint or ())
    for j in range(1, len(header)):
        name = header[j]
        if name in hint_set:
            count_cols.append(j)
        elif name.lower() in _ANNOTATION_COLUMNS or _numeric_fraction(body[j]) < 0.5:
            annot_cols.append(j)
        else:
            count_cols.append(j)
    if any(body[j].dtype == np.int64 for j in annot_cols):  # annotation keeps its text ("0012")
        _, body = _table_body(path, lines, sep, header_line, parse_delimited)
    if not count_cols:
        raise InputError(
            path, "no count columns found: every column after the first holds text, not numbers"
        )
    sources = [header[j] for j in count_cols]
    # alignment paths as column names (featureCounts output after a `cut`): the one name rule
    samples = [sample_name_from_path(h) if _ALN_EXT.search(h) else h for h in sources]
    _check_unique(path, samples, "sample column", positions=[j + 1 for j in count_cols])
    counts = to_counts(
        body[count_cols],
        path=path,
        line_numbers=line_numbers,
        columns=sources,
        non_integer=non_integer,
    )
    var = pd.DataFrame(
        {header[j] or f"column_{j + 1}": body[j].to_numpy() for j in annot_cols},
        index=pd.Index(features, name=header[0] or "feature"),
    )
    renamed = {s: h for s, h in zip(samples, sources, strict=True) if s != h}
    return CountTable(fmt, [path], features, samples, counts, var=var, source_columns=renamed)


def _table_body(
    path: Path,
    lines: Lines,
    sep: str,
    header: list[str],
    parse: Callable[[Lines, str], pd.DataFrame],
) -> tuple[list[str], pd.DataFrame]:
    """The data rows as a frame with positional columns, stripped, and the header aligned to
    them (empty trailing columns dropped; R's one-short header given an empty first name)."""
    header, body = drop_empty_columns(header, parse(lines, sep))
    if body.shape[1] != len(header):
        # A header with one cell fewer than the rows is R's write.table(row.names=TRUE) layout.
        if body.shape[1] == len(header) + 1:
            header = ["", *header]
        else:
            raise InputError(
                path,
                f"header has {len(header)} fields but the data rows have {body.shape[1]}",
                line=lines.numbers[0],
            )
    body.columns = range(body.shape[1])
    return header, strip_cells(body)


def _looks_like_features(names: Sequence[str]) -> float:
    from ..reference._names import name_key

    if not names:
        return 0.0
    pat = re.compile(r"^(mir-|let-|mimat|ens[a-z]*g\d|mt-|lnc|linc|snord|trn|rnu)")
    return sum(bool(pat.match(name_key(n))) for n in names) / len(names)


def _samples_are_rows(
    header: list[str], first_col: list[str], sample_hint: Sequence[str] | None
) -> bool:
    if sample_hint:
        hint = set(sample_hint)
        in_header = len(hint.intersection(header[1:]))
        in_rows = len(hint.intersection(first_col))
        if in_rows != in_header:
            return in_rows > in_header
    return _looks_like_features(header[1:]) >= 0.5 > _looks_like_features(first_col)


def _read_transposed(
    path: Path,
    header: list[str],
    body: pd.DataFrame,
    line_numbers: np.ndarray,
    non_integer: str,
    fmt: str,
) -> CountTable:
    samples = body[0].tolist()
    _check_unique(path, samples, "sample id", positions=line_numbers.tolist())
    features = header[1:]
    positions = list(range(2, len(header) + 1))
    seen: dict[str, int] = {}
    for f, pos in zip(features, positions, strict=True):
        if f == "":
            raise InputError(path, f"empty feature name in header column {pos}", line=1)
        if f in seen:
            raise InputError(
                path,
                f"feature '{f}' appears twice in the header (columns {seen[f]} and {pos})",
                line=1,
            )
        seen[f] = pos
    # a bad cell is reported with its sample row's line and its feature column
    counts_t = to_counts(
        body.iloc[:, 1:],
        path=path,
        line_numbers=line_numbers,
        columns=features,
        non_integer=non_integer,
    )
    return CountTable(fmt, [path], features, samples, np.ascontiguousarray(counts_t.T))


# --------------------------------------------------------------------------------------------
# featureCounts
# --------------------------------------------------------------------------------------------

_FC_ANNOT = ["Geneid", "Chr", "Start", "End", "Strand", "Length"]


def is_featurecounts(lines: Lines) -> bool:
    """The header (after featureCounts' '# Program' line) starts Geneid Chr Start End Strand
    Length; a table cut from it (Geneid and the BAM columns) is a plain table."""
    header = next((ln for ln in lines.lines if not ln.startswith("#")), "")
    return [h.strip() for h in header.split("\t")[:6]] == _FC_ANNOT


def read_featurecounts(path: Path, *, non_integer: str = "error") -> CountTable:
    """featureCounts output: a '# Program' line, then Geneid Chr Start End Strand Length, BAMs.

    ``--extraAttributes`` columns go to ``var``; the ``.summary`` file beside it, if present,
    becomes ``featurecounts_*`` QC columns in ``obs``.
    """
    raw = read_lines(path)
    program = raw.lines[0] if raw.lines[0].startswith("# Program:featureCounts") else ""
    keep = [i for i, line in enumerate(raw.lines) if not line.lstrip().startswith("#")]
    if not keep:
        raise InputError(path, "file has no data lines (only comments or blank lines)")
    if re.search(r'"-f"', program):
        raise FormatError(
            path,
            "counts exons, one row each (featureCounts -f): mtncrna needs one row per gene; "
            "rerun featureCounts without -f (summing the exon rows would count a read that "
            "spans two exons twice, or not at all)",
            line=raw.numbers[0],
        )
    lines = Lines(path, [raw.lines[i] for i in keep], [raw.numbers[i] for i in keep])
    header = lines.lines[0].split("\t")
    if [h.strip() for h in header[:6]] != _FC_ANNOT:
        raise FormatError(
            path,
            "is not featureCounts output: expected the header to start with "
            f"{' '.join(_FC_ANNOT)}, found {' '.join(header[:6])!r}",
            line=lines.numbers[0],
        )
    if len(lines) < 2:
        raise InputError(path, "has a header line but no data rows")
    body = parse_delimited(lines, "\t")
    if body.shape[1] != len(header):
        raise InputError(
            path,
            f"header has {len(header)} fields but the data rows have {body.shape[1]}",
            line=lines.numbers[0],
        )
    line_numbers = np.asarray(lines.numbers[1:])
    features = body[0].str.strip().tolist()
    _check_unique(path, features, "feature id", positions=line_numbers.tolist())
    n_extra = _featurecounts_n_extra(path, program, header, body, lines.numbers[0])
    extra_cols = list(range(6, 6 + n_extra))  # --extraAttributes columns
    count_cols = list(range(6 + n_extra, len(header)))
    if not count_cols:
        raise InputError(path, "featureCounts table has no sample columns after Length")
    sources = [header[j].strip() for j in count_cols]
    samples = [sample_name_from_path(s) for s in sources]
    _check_unique(path, samples, "sample column", positions=[j + 1 for j in count_cols])
    counts = to_counts(
        body[count_cols],
        path=path,
        line_numbers=line_numbers,
        columns=sources,
        non_integer=non_integer,
    )

    def collapse(col: pd.Series) -> list[str]:
        return [";".join(dict.fromkeys(v.split(";"))) for v in col.astype(str)]

    var = pd.DataFrame(index=pd.Index(features, name="Geneid"))
    var["chrom"] = collapse(body[1])
    starts = body[2].astype(str).str.split(";")
    ends = body[3].astype(str).str.split(";")
    var["start"] = [min(int(x) for x in s) if all(x.isdigit() for x in s) else -1 for s in starts]
    var["end"] = [max(int(x) for x in e) if all(x.isdigit() for x in e) else -1 for e in ends]
    var["strand"] = collapse(body[4])
    var["length"] = pd.to_numeric(body[5], errors="coerce").fillna(-1).astype(np.int64).to_numpy()
    for j in extra_cols:
        var[header[j].strip()] = body[j].to_numpy()
    qc = _featurecounts_summary(path, sources, samples)
    return CountTable(
        "featurecounts",
        [path],
        features,
        samples,
        counts,
        var=var,
        qc=qc,
        source_columns=dict(zip(samples, sources, strict=True)),
    )


#: GTF attributes that hold numbers (Ensembl, GENCODE): never sample columns.
_NUMERIC_ATTRIBUTES = {
    "gene_version",
    "transcript_version",
    "exon_version",
    "protein_version",
    "exon_number",
    "level",
    "transcript_support_level",
    "havana_gene_version",
    "havana_transcript_version",
    "ccdsid",
    "ont",
}
_EXTRA_ATTRIBUTES = re.compile(r'"--extraAttributes"\s+"([^"]*)"')


def _featurecounts_n_extra(
    path: Path, program: str, header: list[str], body: pd.DataFrame, header_line: int
) -> int:
    """How many ``--extraAttributes`` columns follow Length.

    featureCounts' own first line records the command; its ``--extraAttributes`` list is exact.
    Without that line (a table someone edited), the extra columns are those before the first
    BAM-path column, or, when no column is a path, the leading columns that hold text or carry a
    GTF attribute's name (``gene_version``, GENCODE's ``level``, ...).
    """
    if program:
        m = _EXTRA_ATTRIBUTES.search(program)
        if m is None:
            return 0
        n = len([a for a in m.group(1).split(",") if a.strip()])
        if 6 + n > len(header):
            raise FormatError(
                path,
                f"the command line asks for {n} --extraAttributes columns but the header has "
                f"only {len(header) - 6} columns after Length",
                line=header_line,
            )
        return n
    cols = list(range(6, len(header)))
    paths = [j for j in cols if _ALN_EXT.search(header[j].strip())]
    if paths:
        return paths[0] - 6
    n = 0
    for j in cols:
        h = header[j].strip().lower()
        if h in _NUMERIC_ATTRIBUTES or h in _ANNOTATION_COLUMNS or _numeric_fraction(body[j]) < 0.5:
            n += 1
        else:
            break
    return n


def _featurecounts_summary(path: Path, sources: list[str], samples: list[str]) -> pd.DataFrame:
    summary = path.with_name(path.name + ".summary")
    if not summary.is_file():
        return pd.DataFrame(index=samples)
    lines = read_lines(summary)
    header = lines.lines[0].split("\t")
    if not header or header[0] != "Status":
        raise FormatError(
            summary, "expected a featureCounts summary starting with 'Status'", line=1
        )
    body = parse_delimited(lines, "\t")
    by_source = {h.strip(): j for j, h in enumerate(header)}
    qc = pd.DataFrame(index=pd.Index(samples))
    statuses = body[0].tolist()
    for src in sources:
        if src not in by_source:
            raise InputError(summary, f"no column for '{src}', which the count table has", line=1)
    for i, status in enumerate(statuses):
        vals = [body.iat[i, by_source[src]] for src in sources]
        qc[f"featurecounts_{status}"] = pd.to_numeric(pd.Series(vals), errors="coerce").to_numpy()
    qc = qc.loc[:, (qc.fillna(0) != 0).any(axis=0)] if qc.shape[1] else qc
    return qc.fillna(0).astype(np.int64)


# --------------------------------------------------------------------------------------------
# htseq-count
# --------------------------------------------------------------------------------------------


def is_htseq(lines: Lines) -> bool:
    return any(line.startswith("__") for line in lines.lines[-8:])


def read_htseq(paths: Sequence[Path], *, non_integer: str = "error") -> CountTable:
    """htseq-count output: one file per sample, or one file with a column per BAM.

    The special counters (``__no_feature``, ``__ambiguous``, ...) become per-sample QC columns.
    """
    tables = [_read_one_htseq(p, non_integer=non_integer) for p in paths]
    if len(tables) == 1:
        return tables[0]
    ref = tables[0]
    ref_set = set(ref.features)
    for t in tables[1:]:
        if t.features != ref.features:
            missing = [f for f in ref.features if f not in set(t.features)]
            extra = [f for f in t.features if f not in ref_set]
            detail = []
            if missing:
                detail.append(f"missing {len(missing)} (e.g. {', '.join(missing[:3])})")
            if extra:
                detail.append(f"extra {len(extra)} (e.g. {', '.join(extra[:3])})")
            if not detail:
                detail.append("same features in a different order")
            raise InputError(
                t.files[0],
                f"features differ from {ref.files[0].name} ({'; '.join(detail)}); "
                "htseq-count files of one run must come from the same annotation",
            )
    samples = unique_samples(tables)
    files = [t.files[0] for t in tables]
    counts = np.hstack([t.counts for t in tables])
    qc = pd.concat([t.qc for t in tables])
    sources = {s: str(t.files[0]) for t in tables for s in t.samples}
    meta = {k: v for t in tables for k, v in t.meta.items()}
    return CountTable(
        "htseq",
        files,
        ref.features,
        samples,
        counts,
        var=ref.var,
        qc=qc,
        source_columns=sources,
        meta=meta,
    )


def unique_samples(tables: Sequence[CountTable]) -> list[str]:
    """The samples of several per-file tables, in order; a sample in two files is an error."""
    origin: dict[str, Path] = {}
    for t in tables:
        for s in t.samples:
            if s in origin:
                raise InputError(
                    t.files[0],
                    f"sample '{s}' is also in {origin[s].name}; each sample must come from one "
                    "file (one file per sample, or one multi-sample table)",
                )
            origin[s] = t.files[0]
    return list(origin)


def is_headerless(lines: Lines) -> bool:
    """A tab-separated table whose first line is data: an id, then numbers (htseq-count output
    without its ``__`` lines, a STAR file cut to one column, ...)."""
    first = lines.lines[0].split("\t")
    if len(first) < 2 or first[0].strip().lower() in _ID_HEADERS:
        return False
    try:
        float(first[0])
        return False
    except ValueError:
        pass
    try:
        [float(x) for x in first[1:]]
    except ValueError:
        return False
    return True


_ID_HEADERS = {"", "gene", "gene_id", "geneid", "id", "feature", "feature_id", "name", "mirna"}


def _read_one_htseq(path: Path, *, non_integer: str) -> CountTable:
    """One htseq-count output file: ``id [attr ...] count [count ...]``, ``__`` counters last.

    ``--additional-attr`` columns (text) go to ``var``; ``--with-header`` names the count columns
    with the BAM paths (an empty cell above each attribute column).
    """
    lines = read_lines(path)
    sep = "\t"
    first = lines.lines[0].split(sep)
    if len(first) < 2:
        raise FormatError(
            path,
            f"expected htseq-count output (feature<TAB>count), found {len(first)} field(s)",
            line=lines.numbers[0],
        )
    body = parse_delimited(lines, sep, skip=0)
    body = body.apply(lambda c: c.str.strip())
    n_fields = body.shape[1]
    special_all = body[0].str.startswith("__").to_numpy()

    def numeric(cell: str) -> bool:
        try:
            float(cell)
        except ValueError:
            return False
        return True

    # the header is a first line whose last cell is not a number
    has_header = not numeric(body.iat[0, n_fields - 1])
    rows = body.iloc[1:] if has_header else body
    header = body.iloc[0].tolist() if has_header else []
    line_numbers = np.asarray(lines.numbers[1 if has_header else 0 :])
    special = special_all[1:] if has_header else special_all
    feat_rows = ~special
    # --additional-attr columns: text in most feature rows (empty in the __ rows)
    attr_cols = [j for j in range(1, n_fields) if _numeric_fraction(rows.loc[feat_rows, j]) < 0.5]
    if attr_cols and attr_cols != list(range(1, len(attr_cols) + 1)):
        raise FormatError(
            path,
            "expected htseq-count's layout: the gene id, its --additional-attr columns, then "
            "the counts",
            line=lines.numbers[0],
        )
    count_cols = list(range(1 + len(attr_cols), n_fields))
    if not count_cols:
        raise InputError(path, "has no count column: every column after the id holds text")
    names = rows[0]
    if has_header:
        sources = [header[j] for j in count_cols]
        samples = [sample_name_from_path(s) for s in sources]
    elif len(count_cols) == 1:
        sources = [str(path)]
        samples = [sample_name_from_path(path)]
    else:
        sources = [f"{path.name}:column {j + 1}" for j in count_cols]
        samples = [f"{sample_name_from_path(path)}_{k + 1}" for k in range(len(count_cols))]
    features = names[feat_rows].tolist()
    if not features:
        raise InputError(path, "has only __ counters and no feature rows")
    _check_unique(path, features, "feature id", positions=line_numbers[feat_rows].tolist())
    values = rows[count_cols]
    counts = to_counts(
        values[feat_rows].reset_index(drop=True),
        path=path,
        line_numbers=line_numbers[feat_rows],
        columns=samples,
        non_integer=non_integer,
    )
    qc = pd.DataFrame(index=pd.Index(samples))
    if special.any():
        spec_counts = to_counts(
            values[special].reset_index(drop=True),
            path=path,
            line_numbers=line_numbers[special],
            columns=samples,
        )
        for i, name in enumerate(names[special]):
            qc[f"htseq{name}"] = spec_counts[i]
    var = pd.DataFrame(index=pd.Index(features, name="gene_id"))
    for k, j in enumerate(attr_cols):
        label = (header[j] if has_header else "") or f"attribute_{k + 1}"
        var[label] = rows.loc[feat_rows, j].to_numpy()
    meta = {}
    if not has_header and len(count_cols) > 1:
        meta["unnamed_columns"] = f"{path.name}: {len(count_cols)} count columns, no header"
    return CountTable(
        "htseq",
        [path],
        features,
        samples,
        counts,
        var=var,
        qc=qc,
        source_columns=dict(zip(samples, sources, strict=True)),
        meta=meta,
    )
