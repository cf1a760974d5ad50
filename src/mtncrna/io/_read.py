"""``read_counts``: any supported count table + a sample sheet -> an annotated AnnData."""

from __future__ import annotations

import logging
import re
from collections.abc import Sequence
from pathlib import Path

import anndata as ad
import numpy as np
import pandas as pd

from .._constants import FORMATS
from .._errors import FormatError, InputError, SampleSheetError, UnmatchedSamplesError
from .._provenance import record
from .._text import check_readable, read_lines, sniff_kind
from ..reference import Reference, annotate_var, load_reference, name_key
from ._atomic import atomic_path, check_output
from ._formats import (
    _ALN_EXT,
    CountTable,
    is_featurecounts,
    is_headerless,
    is_htseq,
    read_featurecounts,
    read_htseq,
    read_table,
    unique_samples,
)
from ._mirna_formats import (
    is_mirdeep2,
    is_mirge3,
    is_mirtop,
    is_smrnaseq,
    read_mirdeep2,
    read_mirge3,
    read_mirtop,
    read_smrnaseq,
)
from ._names import sample_name_from_path
from ._samplesheet import read_sample_sheet
from ._star import STRANDEDNESS, is_star, read_star

logger = logging.getLogger("mtncrna")

LIBRARIES = ("small", "long")
_ALN_PATH = _ALN_EXT
#: Files in a folder of count files that are not count files (logs, summaries, alignments).
_NOT_COUNTS = re.compile(
    r"(\.summary|\.log|\.bam|\.bai|\.csi|\.sam|\.cram|\.html|\.pdf|\.png|\.json|"
    r"Log\.(final\.|progress\.)?out|SJ\.out\.tab)$"
)
PathLike = str | Path


def _expand(counts: PathLike | Sequence[PathLike]) -> list[Path]:
    items = [counts] if isinstance(counts, (str, Path)) else list(counts)
    if not items:
        raise InputError(None, "no count files given")
    paths: list[Path] = []
    for item in items:
        p = Path(item)
        if p.is_dir():
            # STAR's layout: star/S1/ReadsPerGene.out.tab (or star/S1.ReadsPerGene.out.tab)
            star = sorted(
                f
                for f in p.rglob("*ReadsPerGene.out.tab*")
                if f.is_file() and re.search(r"ReadsPerGene\.out\.tab(\.gz|\.bz2)?$", f.name)
            )
            files = star or sorted(
                f
                for f in p.iterdir()
                if f.is_file() and not f.name.startswith(".") and not _NOT_COUNTS.search(f.name)
            )
            if not files:
                raise InputError(p, "folder holds no count files")
            paths.extend(files)
        else:
            paths.append(check_readable(p, what="count file"))
    return paths


def detect_format(paths: Sequence[Path]) -> str:
    """Guess the format of count file(s) from their content (not their names).

    Several files must share one format: htseq-count files (one per sample), or tables of any
    other format whose sample columns are merged (e.g. per-sample outputs of a quantifier).
    """
    if len(paths) > 1:
        formats = {p: _detect_one(p) for p in paths}
        first = formats[paths[0]]
        for p, f in formats.items():
            if f != first:
                raise FormatError(
                    p,
                    f"is {f} but {paths[0].name} is {first}; several count files must share "
                    "one format",
                )
            if f == "h5ad":
                raise FormatError(p, "several .h5ad files cannot be combined; give one")
        return first
    return _detect_one(paths[0])


def _detect_one(p: Path) -> str:
    kind = sniff_kind(p)
    if kind == "hdf5":
        return "h5ad"
    lines = read_lines(p)
    if is_featurecounts(lines):
        return "featurecounts"
    if is_star(lines):
        return "star"
    if is_htseq(lines) or is_headerless(lines):
        return "htseq"
    if is_mirdeep2(lines):
        return "mirdeep2"
    if is_mirtop(lines):
        return "mirtop"
    if is_mirge3(lines):
        return "mirge3"
    if is_smrnaseq(lines):
        return "smrnaseq"
    return "table"


def _parse(
    paths: list[Path],
    fmt: str,
    sample_hint: Sequence[str] | None,
    non_integer: str,
    strandedness: str = "auto",
) -> CountTable:
    if fmt == "star":
        return read_star(paths, strandedness=strandedness, non_integer=non_integer)
    if fmt not in ("htseq", "h5ad") and len(paths) > 1:
        return _merge_tables([_parse([p], fmt, sample_hint, non_integer) for p in paths])
    if fmt == "featurecounts":
        return read_featurecounts(paths[0], non_integer=non_integer)
    if fmt == "htseq":
        return read_htseq(paths, non_integer=non_integer)
    if fmt == "mirge3":
        return read_mirge3(paths[0], non_integer=non_integer)
    if fmt == "mirdeep2":
        return read_mirdeep2(paths[0], non_integer=non_integer)
    if fmt == "mirtop":
        return read_mirtop(paths[0], non_integer=non_integer)
    if fmt == "smrnaseq":
        return read_smrnaseq(paths[0], non_integer=non_integer)
    if fmt == "table":
        return read_table(paths[0], sample_hint=sample_hint, non_integer=non_integer)
    raise FormatError(paths[0], f"unknown format '{fmt}'; expected one of {', '.join(FORMATS)}")


def _merge_tables(tables: list[CountTable]) -> CountTable:
    """Join per-file tables on the feature id; a feature absent from a file counts 0 there."""
    samples = unique_samples(tables)
    origin = {s: t.files[0] for t in tables for s in t.samples}
    features = list(dict.fromkeys(f for t in tables for f in t.features))
    index = {f: i for i, f in enumerate(features)}
    counts = np.zeros((len(features), len(samples)), dtype=np.int64)
    col = 0
    short = [t for t in tables if len(t.features) < len(features)]
    for t in tables:
        rows = np.array([index[f] for f in t.features])
        counts[rows, col : col + len(t.samples)] = t.counts
        col += len(t.samples)
    meta: dict[str, str] = {}
    if short:
        first, n = short[0].files[0], len(features) - len(short[0].features)
        have = set(short[0].features)
        lacking = next(f for f in features if f not in have)
        if tables[0].format == "featurecounts":  # it writes every gene of its annotation
            raise FormatError(
                first,
                f"lacks {n} of the {len(features)} genes of the other featureCounts files (e.g. "
                f"'{lacking}'): the files were counted with different annotations; count every "
                "sample with one annotation",
            )
        message = (
            f"{len(short)} of the {len(tables)} count files lack some of the {len(features)} "
            f"features ({first.name}: {n}, e.g. '{lacking}'); they were counted as 0 there (tools "
            "such as miRge, mirtop or a filtered table leave out features without reads)"
        )
        logger.warning("%s", message)
        meta["zero_filled"] = message
    frames = [t.var for t in tables if t.var.shape[1]]
    if frames:
        var = pd.concat(frames)
        var = var[~var.index.duplicated()].reindex(features)
    else:
        var = pd.DataFrame()
    qc = (
        pd.concat([t.qc for t in tables]) if any(not t.qc.empty for t in tables) else pd.DataFrame()
    )
    sources = {s: str(origin[s]) for s in samples}
    return CountTable(
        tables[0].format,
        [p for t in tables for p in t.files],
        features,
        samples,
        counts,
        var=var,
        qc=qc,
        source_columns=sources,
        meta=meta,
    )


def _name_samples(table: CountTable, names: Sequence[str] | None) -> None:
    """Apply ``sample_names`` (in column order), then require unique sample names."""
    if names is not None:
        if len(names) != len(table.samples):
            raise InputError(
                None,
                f"--sample-names gives {len(names)} names but the count data have "
                f"{len(table.samples)} sample columns ({_few(table.samples)})",
            )
        old = list(table.samples)
        rename = dict(zip(old, names, strict=True))
        table.samples = list(names)
        if not table.qc.empty:
            table.qc.index = [rename.get(s, s) for s in table.qc.index]
        table.source_columns = {
            rename.get(k, k): v for k, v in (table.source_columns or {s: s for s in old}).items()
        }
        logger.info(
            "sample names from --sample-names: %s",
            ", ".join(f"{a} -> {b}" for a, b in list(rename.items())[:6]),
        )
    seen: dict[str, int] = {}
    for j, s in enumerate(table.samples, start=1):
        if s == "":
            raise InputError(table.files[0], f"sample column {j} has an empty name")
        if s in seen:
            src = table.source_columns
            detail = f" ({src[s]} and another)" if names is None and s in src else ""
            where = " in --sample-names" if names is not None else ""
            raise InputError(
                table.files[0] if names is None else None,
                f"sample '{s}' appears twice{where} (columns {seen[s]} and {j}){detail}; "
                "sample names must be unique"
                + ("" if names is not None else ": give them with --sample-names, in order"),
            )
        seen[s] = j


def guess_library(features: Sequence[str]) -> str:
    """'small' when most feature names are miRNAs (miR-/let-/MIMAT), else 'long'."""
    if not len(features):
        return "long"
    keys = [name_key(f) for f in features]
    mirna = sum(k.startswith(("mir-", "let-", "mimat")) for k in keys)
    return "small" if mirna / len(keys) >= 0.5 else "long"


def _match_samples(
    table: CountTable, sheet: pd.DataFrame, *, drop_unmatched: bool, sheet_path: str
) -> tuple[list[str], str | None]:
    """The samples of both the sheet and the table, and what was left out (None: nothing)."""
    sheet_ids = list(sheet.index)
    _rename_r_mangled(table, sheet_ids)
    in_counts = table.samples
    counts_set, sheet_set = set(in_counts), set(sheet_ids)
    not_in_sheet = [s for s in in_counts if s not in sheet_set]
    not_in_counts = [s for s in sheet_ids if s not in counts_set]
    if not_in_sheet or not_in_counts:
        parts = [
            f"sample sheet has {len(sheet_ids)} samples but the count table has "
            f"{len(in_counts)} sample columns"
        ]
        if not_in_sheet:
            parts.append(f"not in the sample sheet: {_few(not_in_sheet)}")
        if not_in_counts:
            parts.append(f"not in the count table: {_few(not_in_counts)}")
        msg = "; ".join(parts)
        keep = [s for s in sheet_ids if s in counts_set]
        if not keep:
            hint = (
                "; no sample id in common: check that the sheet's sample column holds the names "
                "of the count columns"
            )
            if table.format in ("htseq", "star", "h5ad") or any(
                "/" in s or "\\" in s for s in in_counts
            ):
                hint += (
                    ", or name the count columns with --sample-names (in the order of the columns)"
                )
            raise SampleSheetError(sheet_path, msg + hint)
        if not drop_unmatched:
            raise UnmatchedSamplesError(sheet_path, msg, len(keep))
        logger.warning("%s; keeping the %d samples in both", msg, len(keep))
        return keep, f"{msg}; kept the {len(keep)} samples in both"
    return sheet_ids, None


def r_make_names(name: str) -> str:
    """R's ``make.names``, as applied to sample ids used as column names (``1-a`` -> ``X1.a``)."""
    out = re.sub(r"[^A-Za-z0-9._]", ".", name)
    if not out or out[0].isdigit() or (out[0] == "." and len(out) > 1 and out[1].isdigit()):
        out = "X" + out
    return out


def _rename_r_mangled(table: CountTable, sheet_ids: list[str]) -> None:
    """Undo R's renaming of sample columns when every unmatched column is a mangled sheet id."""
    sheet_set = set(sheet_ids)
    unmatched = [s for s in table.samples if s not in sheet_set]
    if not unmatched:
        return
    mangled = {r_make_names(s): s for s in sheet_ids if r_make_names(s) != s}
    if all(s in mangled for s in unmatched):
        table.samples = [mangled.get(s, s) if s in unmatched else s for s in table.samples]
        logger.info(
            "matched %d R-renamed sample columns (e.g. %s -> %s) to the sample sheet",
            len(unmatched),
            unmatched[0],
            mangled[unmatched[0]],
        )


def _few(items: Sequence[str], n: int = 6) -> str:
    shown = ", ".join(items[:n])
    return shown + (f" and {len(items) - n} more" if len(items) > n else "")


def read_counts(
    counts: PathLike | Sequence[PathLike],
    samples: PathLike | pd.DataFrame | None = None,
    *,
    library: str | None = None,
    format: str = "auto",
    non_integer: str = "error",
    drop_unmatched: bool = False,
    annotate: bool = True,
    reference: Reference | PathLike | None = None,
    strandedness: str = "auto",
    sample_names: Sequence[str] | None = None,
) -> ad.AnnData:
    """Read a count matrix and its sample sheet into an AnnData (samples x features).

    Parameters
    ----------
    counts
        A count file, several htseq-count files, or a folder of them. Formats: a plain feature x
        sample table (TSV/CSV/.gz), featureCounts output, htseq-count output, miRge3's
        ``miR.Counts.csv``, nf-core/smrnaseq's mature counts, or an ``.h5ad``.
    samples
        Sample sheet path (or an already-read frame): a ``sample`` column plus metadata such as
        condition, fraction, cell_line, drug, batch, replicate, pair.
    library
        ``"small"`` or ``"long"``; guessed from the feature names when omitted.
    format
        ``"auto"`` (detect from content) or one of table, featurecounts, htseq, mirge3, smrnaseq,
        h5ad.
    non_integer
        ``"error"`` (default) or ``"round"`` for estimated counts.
    drop_unmatched
        Keep the samples common to the table and sheet (with a warning) instead of failing.
    annotate
        Run :func:`mtncrna.tl.annotate` against the reference (adds ``var`` columns).
    reference
        A :class:`~mtncrna.reference.Reference`, or a path to an extension table merged into the
        bundled one.
    strandedness
        For STAR ``ReadsPerGene.out.tab``: which count column to use, ``"unstranded"``,
        ``"forward"`` or ``"reverse"``; ``"auto"`` (default) detects it from the counts (see
        :mod:`mtncrna.io._star`) and logs the choice.
    sample_names
        Names for the sample columns, in order, replacing the names found in (or derived from)
        the files: for tables without a header (htseq-count run on several BAMs) or paths that
        carry no sample name.

    Returns
    -------
    AnnData with raw integer counts in ``X`` and ``layers["counts"]``, the sample sheet in ``obs``
    (plus QC counters such as ``htseq__no_feature``), feature annotation in ``var`` and
    provenance in ``uns["mtncrna"]``.
    """
    if format not in FORMATS:
        raise FormatError(None, f"unknown format '{format}'; expected one of {', '.join(FORMATS)}")
    if library is not None and library not in LIBRARIES:
        raise InputError(None, f"unknown library '{library}'; expected small or long")
    if non_integer not in ("error", "round"):
        raise InputError(None, f"non_integer must be 'error' or 'round', got '{non_integer}'")
    if strandedness not in STRANDEDNESS:
        raise InputError(
            None,
            f"unknown strandedness '{strandedness}'; expected one of {', '.join(STRANDEDNESS)}",
        )
    if sample_names is not None:
        sample_names = [str(n).strip() for n in sample_names]
    paths = _expand(counts)
    sheet_path = ""
    if isinstance(samples, pd.DataFrame):
        sheet = samples
        sheet_path = str(sheet.attrs.get("path", "sample sheet"))
    elif samples is not None:
        sheet = read_sample_sheet(samples)  # fail on a bad sheet before reading big tables
        sheet_path = str(samples)
    else:
        sheet = None
    ref = _as_reference(reference) if annotate else None

    fmt = detect_format(paths) if format == "auto" else format
    if strandedness != "auto" and fmt != "star":
        raise InputError(
            None,
            f"--strandedness chooses a column of STAR ReadsPerGene.out.tab; the input is {fmt}",
        )
    table_meta: dict[str, str] = {}
    unmatched = None
    if fmt == "h5ad":
        adata = _read_h5ad_counts(paths, sample_names)
        if sheet is not None:
            keep, unmatched = _match_samples(
                CountTable(
                    "h5ad", paths, list(adata.var_names), list(adata.obs_names), np.empty((0, 0))
                ),
                sheet,
                drop_unmatched=drop_unmatched,
                sheet_path=sheet_path,
            )
            adata = adata[keep].copy()
            for col in sheet.columns:
                adata.obs[col] = sheet.loc[keep, col].to_numpy()
    else:
        hint = list(sheet.index) if sheet is not None else None
        table = _parse(paths, fmt, hint, non_integer, strandedness)
        unnamed = table.meta.pop("unnamed_columns", None)
        if unnamed and sample_names is None:
            msg = (
                f"{unnamed} (htseq-count run on several BAMs): give the sample names, in the "
                "order of the BAMs, with --sample-names (sample_names=), or rerun htseq-count "
                "with --with-header"
            )
            if sheet is not None:
                raise InputError(None, msg)
            logger.warning("%s; the columns are named %s", msg, _few(table.samples))
        _name_samples(table, sample_names)
        table_meta = table.meta
        if sheet is not None:
            keep, unmatched = _match_samples(
                table, sheet, drop_unmatched=drop_unmatched, sheet_path=sheet_path
            )
        else:
            keep = table.samples
        adata = _to_anndata(table, sheet, keep)
    lib = (
        library
        or adata.uns.get("mtncrna", {}).get("library")
        or guess_library(list(adata.var_names))
    )
    inputs = [("counts", p) for p in paths]
    if sheet_path and samples is not None and not isinstance(samples, pd.DataFrame):
        inputs.append(("samples", sheet_path))
    prov = record(
        step="import",
        inputs=inputs,
        parameters={
            "format": fmt,
            "library": lib,
            "non_integer": non_integer,
            "drop_unmatched": drop_unmatched,
            **({"unmatched": unmatched} if unmatched else {}),
            **({"zero_filled": table_meta["zero_filled"]} if "zero_filled" in table_meta else {}),
            **{k: v for k, v in table_meta.items() if k == "strandedness"},
            **({"sample_names": list(sample_names)} if sample_names is not None else {}),
        },
        reference_version=ref.version if ref is not None else None,
    )
    meta = dict(adata.uns.get("mtncrna", {}))
    meta["library"] = lib
    meta["format"] = fmt
    meta.update(table_meta)
    provenance = dict(meta.get("provenance", {}))
    provenance["import"] = prov
    meta["provenance"] = provenance
    adata.uns["mtncrna"] = meta
    if ref is not None:
        columns, summary = annotate_var(adata.var, ref)
        for col in columns.columns:
            adata.var[col] = columns[col]
        meta["annotate"] = summary
    logger.info(
        "read %d samples x %d features (%s, %s library)", adata.n_obs, adata.n_vars, fmt, lib
    )
    return adata


def _as_reference(reference: Reference | PathLike | None) -> Reference:
    if isinstance(reference, Reference):
        return reference
    return load_reference(reference)


def _to_anndata(table: CountTable, sheet: pd.DataFrame | None, keep: list[str]) -> ad.AnnData:
    col_of = {s: j for j, s in enumerate(table.samples)}
    idx = [col_of[s] for s in keep]
    X = np.ascontiguousarray(table.counts[:, idx].T)
    obs = pd.DataFrame(index=pd.Index(keep, name="sample"))
    if sheet is not None:
        obs = sheet.loc[keep].copy()
        obs.index.name = "sample"
    if not table.qc.empty:
        qc = table.qc.reindex(keep)
        for col in qc.columns:
            obs[col] = qc[col].to_numpy()
    if table.source_columns:
        obs["source"] = [table.source_columns.get(s, "") for s in keep]
    for col in obs.columns:
        if obs[col].dtype == object:
            obs[col] = obs[col].astype("string").fillna("").astype(str)
    var = table.var.copy() if not table.var.empty else pd.DataFrame(index=table.features)
    var.index = pd.Index([str(f) for f in table.features], name="feature")
    obs.index = obs.index.astype(str)
    adata = ad.AnnData(X=X, obs=obs, var=var)
    adata.layers["counts"] = X.copy()
    adata.uns["mtncrna"] = {"format": table.format}
    return adata


def _read_h5ad_counts(paths: list[Path], sample_names: Sequence[str] | None = None) -> ad.AnnData:
    """An .h5ad with raw counts: mtncrna's own, or htseq-count's ``-c counts.h5ad``.

    htseq-count writes BAM paths as ``obs_names`` (turned into sample names by
    :func:`~mtncrna.io.sample_name_from_path`) and its ``__`` counters as features (moved to
    ``obs`` as ``htseq__no_feature`` ...). It stores counts as float32, exact up to 2**24.
    """
    p = paths[0]
    try:
        adata = _read_h5ad_quietly(p)
    except Exception as exc:  # h5py raises many types for corrupt files
        raise InputError(p, f"cannot read as .h5ad: {str(exc).splitlines()[0]}") from None
    mat = adata.layers.get("counts", adata.X)
    if mat is None:
        raise InputError(p, "has no count matrix (X is empty and there is no counts layer)")
    if hasattr(mat, "toarray"):
        mat = mat.toarray()
    mat = np.asarray(mat)
    if mat.size and (
        not np.all(np.isfinite(mat)) or (mat < 0).any() or not np.allclose(mat, np.rint(mat))
    ):
        raise InputError(
            p,
            "X (or layers['counts']) does not hold raw counts: expected whole numbers >= 0 "
            "(store raw counts in layers['counts'])",
        )
    if mat.size and mat.max() >= 2.0**63:
        i, j = np.unravel_index(int(np.argmax(mat)), mat.shape)
        raise InputError(
            p,
            f"count {mat[i, j]:.6g} (sample '{adata.obs_names[i]}', feature "
            f"'{adata.var_names[j]}') is too large: counts must be below 2**63",
        )
    if mat.dtype == np.float32 and mat.size and mat.max() > 2**24:
        logger.warning(
            "%s stores counts as float32, exact only up to 16,777,216; larger counts may have "
            "been rounded by the tool that wrote it",
            p,
        )
    X = np.rint(mat).astype(np.int64)
    names = [str(n) for n in adata.obs_names]
    counters = [v.startswith("__") for v in adata.var_names]
    qc = {}
    if any(counters):  # htseq-count -c x.h5ad
        cmask = np.asarray(counters)
        for j in np.flatnonzero(cmask):
            qc[f"htseq{adata.var_names[j]}"] = X[:, j]
        adata = adata[:, ~cmask].copy()
        X = X[:, ~cmask]
    if any(_ALN_PATH.search(n) for n in names):
        sources = names
        names = [sample_name_from_path(n) for n in names]
    else:
        sources = []
    table = CountTable("h5ad", [p], list(adata.var_names), names, np.empty((0, 0)))
    table.source_columns = dict(zip(names, sources, strict=True)) if sources else {}
    _name_samples(table, sample_names)
    adata.obs_names = table.samples
    adata.obs.index.name = "sample"
    if any(qc):  # htseq-count's file: name the axes as mtncrna's own
        adata.var.index.name = "feature"
    for col, vals in qc.items():
        adata.obs[col] = vals
    if table.source_columns:
        adata.obs["source"] = [table.source_columns.get(s, "") for s in table.samples]
    if not adata.var_names.is_unique:
        dup = adata.var_names[adata.var_names.duplicated()][0]
        raise InputError(p, f"feature '{dup}' appears twice; feature ids must be unique")
    adata.X = X
    adata.layers["counts"] = X.copy()
    return adata


def read_h5ad(path: PathLike) -> ad.AnnData:
    """Read an .h5ad written by mtncrna (or anything with raw counts), with clear errors."""
    p = check_readable(path, what=".h5ad file")
    if sniff_kind(p) != "hdf5":
        raise FormatError(p, "is not an HDF5/.h5ad file")
    try:
        adata = _read_h5ad_quietly(p)
    except Exception as exc:
        raise InputError(p, f"cannot read as .h5ad: {str(exc).splitlines()[0]}") from None
    dup = adata.obs_names[adata.obs_names.duplicated()]
    if len(dup):
        raise InputError(p, f"sample '{dup[0]}' appears twice; sample names must be unique")
    return adata


def _read_h5ad_quietly(path: Path) -> ad.AnnData:
    """``anndata.read_h5ad`` without its warning about repeated names: mtncrna checks names
    itself and says so in one line."""
    import warnings

    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message=".*names are not unique", category=UserWarning)
        return ad.read_h5ad(path)


def write_h5ad(adata: ad.AnnData, path: PathLike, *, inputs: Sequence[PathLike] = ()) -> Path:
    """Write ``adata`` to ``path`` atomically (temporary name, then rename); never over an input."""
    out = check_output(path, inputs)
    with atomic_path(out) as tmp:
        adata.write_h5ad(tmp)
    return out


def read_libraries(
    samples: PathLike | pd.DataFrame,
    *,
    small: PathLike | Sequence[PathLike] | None = None,
    long: PathLike | Sequence[PathLike] | None = None,
    **kwargs: object,
) -> dict[str, ad.AnnData]:
    """Read the small-RNA and long-RNA libraries of one study, joined by sample id.

    Both tables are read against the same sample sheet (read once); the result maps
    ``"small"``/``"long"`` to one AnnData each, with identical ``obs`` columns for the shared
    samples. Samples sequenced in only one library are kept there and reported in the log.
    Other keyword arguments go to :func:`read_counts` for both.
    """
    if small is None and long is None:
        raise InputError(
            None, "give a small-RNA table (small=...), a long-RNA table (long=...) or both"
        )
    sheet = samples if isinstance(samples, pd.DataFrame) else read_sample_sheet(samples)
    if not isinstance(samples, pd.DataFrame):
        sheet.attrs["path"] = str(samples)
    kwargs.setdefault("drop_unmatched", True)
    out: dict[str, ad.AnnData] = {}
    for library, counts in (("small", small), ("long", long)):
        if counts is not None:
            out[library] = read_counts(counts, sheet, library=library, **kwargs)  # type: ignore[arg-type]
    if len(out) == 2:
        s, lg = set(out["small"].obs_names), set(out["long"].obs_names)
        if s != lg:
            logger.warning(
                "%d samples only in the small-RNA library (%s), %d only in the long-RNA one (%s)",
                len(s - lg),
                _few(sorted(s - lg)),
                len(lg - s),
                _few(sorted(lg - s)),
            )
        if not s & lg:
            raise SampleSheetError(
                sheet.attrs.get("path"), "the small-RNA and long-RNA tables share no sample id"
            )
    return out
