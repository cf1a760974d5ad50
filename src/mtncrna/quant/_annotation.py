"""Annotation files (GTF, GFF3, SAF, BED) -> meta-features made of features, as featureCounts
reads them; :func:`read_annotation` is the one reader for ``quant bam`` and ``quant smallrna``.
"""

from __future__ import annotations

import gzip
import io
import os
import re
import sys
import zlib
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from .._errors import InputError
from .._logging import logger
from .._text import check_readable, sniff_kind
from . import _annotation_cache as _cache
from ._features import _build_index, _index_arrays, _index_from_arrays

PathLike = str | os.PathLike[str]


@dataclass
class Annotation:
    """Meta-features (genes) made of features (exons), 1-based inclusive coordinates.

    ``features`` are the meta-feature ids in order of first appearance; ``exons`` has one row per
    feature line: ``chrom``, ``start``, ``end``, ``strand`` (``+``, ``-`` or ``.``) and
    ``feature`` (position in ``features``); ``var`` is indexed by the ids and has featureCounts'
    ``Chr``, ``Start``, ``End``, ``Strand`` (``;``-joined per exon) and ``Length`` (bases covered by
    the merged exons), plus ``gene_name``/``gene_biotype`` where the file has them.
    """

    path: Path | None
    format: str
    feature_type: str
    attribute: str
    features: list[str]
    exons: pd.DataFrame
    var: pd.DataFrame = field(repr=False)
    #: the lookup table for counting, built on first use (or loaded from the cache)
    _index: Any = field(default=None, init=False, repr=False, compare=False)

    def __len__(self) -> int:
        return len(self.features)

    @property
    def contigs(self) -> list[str]:
        """Contig names in order of first appearance."""
        return [str(c) for c in pd.unique(self.exons["chrom"].to_numpy())]


_GTF_ATTR = re.compile(r'\s*([^\s";]+)\s+(?:"((?:[^"\\]|\\.)*)"|([^;\s]+))\s*;?')


def _open_text(path: Path) -> io.TextIOBase:
    kind = sniff_kind(path)
    if kind == "gzip":
        return io.TextIOWrapper(gzip.open(path, "rb"), encoding="utf-8", errors="replace")
    if kind == "bzip2":
        import bz2

        return io.TextIOWrapper(bz2.open(path, "rb"), encoding="utf-8", errors="replace")
    if kind in ("zip", "hdf5"):
        raise InputError(path, f"is a {kind} file; expected a GTF, GFF3 or SAF annotation")
    return path.open(encoding="utf-8", errors="replace")


def _iter_lines(path: Path) -> Iterator[tuple[int, str]]:
    """Non-blank, non-comment lines with their 1-based line numbers."""
    try:
        with _open_text(path) as fh:
            for n, line in enumerate(fh, 1):
                line = line.rstrip("\r\n")
                if n == 1:
                    line = line.lstrip("\ufeff")
                if not line.strip() or line.startswith("#"):
                    if line.startswith("##FASTA"):
                        return  # GFF3 with sequences appended
                    continue
                if "\x00" in line:
                    raise InputError(path, "contains binary data; expected annotation text", line=n)
                yield n, line
    except (EOFError, OSError, zlib.error) as exc:
        raise InputError(path, f"compressed data is truncated or corrupt ({exc})") from None


def _sniff_annotation(path: Path) -> str:
    gff_version = False
    with _open_text(path) as fh:
        for n, line in enumerate(fh, 1):
            if n > 200:
                break
            line = line.lstrip("\ufeff") if n == 1 else line
            if line.startswith("##gff-version"):
                gff_version = line.split()[1:2] == ["3"] if len(line.split()) > 1 else True
                continue
            if not line.strip() or line.startswith(("#", "track", "browser")):
                continue
            parts = line.rstrip("\r\n").split("\t")
            if parts[0].strip().lower() == "geneid":
                return "saf"
            if len(parts) in (3, 4, 5, 6, 12) and all(p.strip().isdigit() for p in parts[1:3]):
                return "bed"
            if len(parts) == 5:
                return "saf"
            if len(parts) == 9:
                attrs = parts[8]
                if gff_version or (re.match(r"\s*[^\s=;]+=", attrs) and '"' not in attrs):
                    return "gff3"
                return "gtf"
            raise InputError(
                path,
                "is not a GTF/GFF3 (9 tab-separated columns), SAF (GeneID Chr Start End Strand) "
                "or BED (chrom start end [name score strand ... blocks]) annotation: the first "
                f"data line has {len(parts)} tab-separated columns",
                line=n,
            )
    raise InputError(path, "has no annotation lines (only comments or blank lines)")


def _coords(path: Path, n: int, chrom: str, start: str, end: str) -> tuple[int, int]:
    try:
        s, e = int(start), int(end)
    except ValueError:
        bad = start if not start.strip().lstrip("-").isdigit() else end
        raise InputError(
            path, f"start and end must be whole numbers, found {bad!r}", line=n
        ) from None
    if s < 1 or s > e:
        raise InputError(
            path,
            f"feature {chrom}:{start}-{end} has start {s} > end {e}"
            if s > e
            else f"feature {chrom}:{start}-{end} has start {s}; coordinates are 1-based",
            line=n,
        )
    if not chrom:
        raise InputError(path, "empty sequence name in column 1", line=n)
    return s, e


def _gtf_attrs(text: str) -> dict[str, str]:
    out: dict[str, str] = {}
    for m in _GTF_ATTR.finditer(text):
        key, quoted, bare = m.groups()
        out.setdefault(key, quoted if quoted is not None else bare)
    return out


def _gff3_attrs(text: str) -> dict[str, str]:
    from urllib.parse import unquote

    out: dict[str, str] = {}
    for item in text.strip().strip(";").split(";"):
        if "=" in item:
            k, v = item.split("=", 1)
            out.setdefault(k.strip(), unquote(v.strip()))
    return out


def read_annotation(
    path: PathLike, *, feature_type: str = "exon", attribute: str = "gene_id", cache: bool = True
) -> Annotation:
    """Read a GTF, GFF3, SAF or BED file (format sniffed from content; gzip/bzip2 ok).

    This is the one annotation reader of :mod:`mtncrna.quant` (BAM counting and small-RNA
    quantification); its signature and :class:`Annotation` are stable.

    As featureCounts' ``-t exon -g gene_id``: lines whose type (column 3) is ``feature_type``
    become features, grouped into meta-features by their ``attribute``. In GFF3 a feature without
    that attribute takes it from its ``Parent`` chain (exon -> transcript -> gene), or, for
    ``gene_id``, the top ancestor's ``ID`` (a ``gene:`` prefix dropped). SAF
    (``GeneID Chr Start End Strand``, header optional) lists the features directly; so does BED
    (0-based half-open; ``name`` is the meta-feature, unnamed lines are ``chrom:start-end``,
    strand ``.`` if absent; a BED12 line contributes its blocks as features, i.e. a transcript's
    exons). ``feature_type`` and ``attribute`` apply to GTF/GFF3 only; ``feature_type`` may name
    several types separated by commas, as featureCounts' ``-t exon,CDS`` (``quant smallrna`` reads
    an mt annotation's ``gene,ncRNA_gene,...`` lines so).

    Raises :class:`InputError` naming the line for a wrong column count, a coordinate that is not a
    whole number, start > end, or a feature line without the attribute.

    With ``cache`` (the default), an annotation file of 16 MB or more is parsed once: the result
    is kept beside it (or in the user's cache folder) as ``.<name>.<key>.mtncrna-annotation``,
    keyed by the file's size and CRC-32 and the options, written atomically, and ignored if it
    does not match or is damaged (see :mod:`mtncrna.quant._annotation_cache`).
    """
    p = check_readable(path, what="annotation file")
    cached = None
    if cache and p.stat().st_size >= _cache.MIN_BYTES:
        cached = _cache.Cached(p, feature_type, attribute)
        arrays = cached.load()
        if arrays is not None:
            ann = _from_arrays(p, feature_type, attribute, arrays)
            if ann is not None:
                return ann
    fmt = _sniff_annotation(p)
    parsed = _read_gtf_fast(p, feature_type, attribute) if fmt == "gtf" else None
    if parsed is None:  # SAF, GFF3, or a GTF problem that the line-by-line reader will name
        parsed = _read_lines(p, fmt, feature_type, attribute)
    chroms, starts, ends, strands, ids, extra = parsed
    if not len(ids):
        found = "features" if fmt in ("saf", "bed") else f"'{feature_type}' lines"
        raise InputError(p, f"has no {found}; nothing to count against")
    if isinstance(ids, pd.Categorical):  # categories already in order of first appearance
        codes, features = ids.codes, [str(f) for f in ids.categories]
    else:
        codes, uniques = pd.factorize(pd.Series(ids, dtype=object), sort=False)
        features = [str(f) for f in uniques]
    exons = pd.DataFrame(
        {
            "chrom": pd.Series(chroms, dtype=object).to_numpy(),
            "start": np.asarray(starts, dtype=np.int64),
            "end": np.asarray(ends, dtype=np.int64),
            "strand": pd.Series(strands, dtype=object).to_numpy(),
            "feature": codes.astype(np.int64),
        }
    )
    var = _annotation_var(features, exons, extra)
    logger.info(
        "%s: %s, %d %s features in %d meta-features on %d contigs",
        p,
        fmt.upper(),
        len(exons),
        feature_type,
        len(features),
        exons["chrom"].nunique(),
    )
    ann = Annotation(p, fmt, feature_type, attribute, features, exons, var)
    if cached is not None:
        cached.store({**_to_arrays(ann), **_index_arrays(_build_index(ann))})
    return ann


_VAR_TEXT = ("Chr", "Start", "End", "Strand")
_VAR_NAMES = ("gene_name", "gene_biotype")
_STRAND_CODES = np.array(["+", "-", "."], dtype=object)


def _blob(values: list[str | None]) -> np.ndarray:
    """Strings as one UTF-8 array, newline-separated (None as NUL; no value holds either)."""
    text = "\n".join("\x00" if v is None else v for v in values)
    return np.frombuffer(text.encode("utf-8"), dtype=np.uint8)


def _unblob(arr: np.ndarray, n: int) -> list[str | None]:
    values: list[str | None] = arr.tobytes().decode("utf-8").split("\n") if n else []
    if len(values) != n:
        raise ValueError(f"{len(values)} values where {n} were expected")
    return [None if v == "\x00" else v for v in values]


def _to_arrays(ann: Annotation) -> dict[str, np.ndarray]:
    ex = ann.exons
    chrom_codes, contigs = pd.factorize(ex["chrom"], sort=False)
    strand = ex["strand"].map({"+": 0, "-": 1}).fillna(2).to_numpy(np.int8)
    out = {
        "format": _blob([ann.format]),
        "features": _blob(ann.features),
        "contigs": _blob([str(c) for c in contigs]),
        "ex_chrom": chrom_codes.astype(np.int32),
        "ex_start": ex["start"].to_numpy(np.int64),
        "ex_end": ex["end"].to_numpy(np.int64),
        "ex_strand": strand,
        "ex_feature": ex["feature"].to_numpy(np.int64),
        "var_Length": ann.var["Length"].to_numpy(np.int64),
    }
    for c in _VAR_TEXT:
        out[f"var_{c}"] = _blob(ann.var[c].tolist())
    for c in _VAR_NAMES:
        if c in ann.var:
            out[f"var_{c}"] = _blob(ann.var[c].tolist())
    return out


def _from_arrays(
    path: Path, feature_type: str, attribute: str, a: dict[str, np.ndarray]
) -> Annotation | None:
    """The annotation back from its cached arrays; None if they do not fit together."""
    try:
        features = _unblob(a["features"], len(a["var_Length"]))
        n_ex = len(a["ex_start"])
        contigs = np.asarray(_unblob(a["contigs"], int(a["ex_chrom"].max(initial=-1)) + 1), object)
        codes = a["ex_chrom"].astype(np.int64)
        feature = a["ex_feature"].astype(np.int64)
        if not all(len(a[k]) == n_ex for k in ("ex_end", "ex_strand", "ex_chrom", "ex_feature")):
            raise ValueError("exon arrays of different lengths")
        if n_ex and (codes.min() < 0 or feature.min() < 0 or feature.max() >= len(features)):
            raise ValueError("exon codes out of range")
        exons = pd.DataFrame(
            {
                "chrom": contigs[codes],
                "start": a["ex_start"].astype(np.int64),
                "end": a["ex_end"].astype(np.int64),
                "strand": _STRAND_CODES[a["ex_strand"].astype(np.int64)],
                "feature": feature,
            }
        )
        cols: dict[str, object] = {c: _unblob(a[f"var_{c}"], len(features)) for c in _VAR_TEXT}
        var = pd.DataFrame(cols, index=pd.Index(features, name="Geneid"))
        var["Length"] = a["var_Length"].astype(np.int64)
        for c in _VAR_NAMES:
            if f"var_{c}" in a:
                var[c] = _unblob(a[f"var_{c}"], len(features))
        (fmt,) = _unblob(a["format"], 1)
        ann = Annotation(path, str(fmt), feature_type, attribute, list(features), exons, var)
        ann._index = _index_from_arrays([str(c) for c in contigs], len(features), a)
    except (KeyError, ValueError, IndexError, UnicodeDecodeError) as exc:
        logger.warning("ignoring an annotation cache for %s that does not fit (%s)", path, exc)
        return None
    return ann


_Parsed = tuple[Any, Any, Any, Any, Any, dict[str, dict[str, str]]]


def _attr_pattern(name: str) -> str:
    return rf'(?:^|;)\s*{re.escape(name)}\s+(?:"([^"]*)"|([^;\s]+))'


def _gtf_names(attrs: dict[str, str]) -> dict[str, str]:
    out = {}
    if attrs.get("gene_name"):
        out["gene_name"] = attrs["gene_name"]
    biotype = attrs.get("gene_biotype") or attrs.get("gene_type")  # Ensembl / GENCODE
    if biotype:
        out["gene_biotype"] = biotype
    return out


_NAME_PATTERNS = {
    k: re.compile(_attr_pattern(k)) for k in ("gene_name", "gene_biotype", "gene_type")
}


_TEXT_CHUNK = 32 << 20


def _text_chunks(path: Path) -> Iterator[tuple[bytes, int]]:
    """The (decompressed) file in pieces: ``(buffer, end)`` where ``buffer[:end]`` ends at a
    line end (the last piece at the end of the file)."""
    kind = sniff_kind(path)
    if kind == "gzip":
        opener: Any = gzip.open
    elif kind == "bzip2":
        import bz2

        opener = bz2.open
    else:
        opener = open
    tail = b""
    try:
        with opener(path, "rb") as fh:
            while True:
                piece = fh.read(_TEXT_CHUNK)
                if not piece:
                    break
                data = tail + piece if tail else piece
                cut = data.rfind(b"\n") + 1
                tail = data[cut:]
                if cut:
                    yield data, cut
    except (EOFError, OSError, zlib.error) as exc:
        raise InputError(path, f"compressed data is truncated or corrupt ({exc})") from None
    if tail:
        yield tail, len(tail)


def _read_gtf_fast(path: Path, feature_type: str, attribute: str) -> _Parsed | None:
    """A GTF scanned by numba (several times faster than Python line by line); None if a line
    needs explaining, which the line-by-line reader then does."""
    from ._gtf_kernel import gtf_scan

    ftype = np.frombuffer(feature_type.encode(), dtype=np.uint8)
    key = np.frombuffer(attribute.encode(), dtype=np.uint8)
    if not len(key) or not len(ftype) or "," in feature_type:  # several types: line by line
        return None
    parts_int: list[np.ndarray] = []
    chrom_names: list[str] = []
    id_names: list[str] = []
    first_attrs: dict[str, bytes] = {}
    run_index: list[np.ndarray] = []  # per chunk: run number -> position in chrom/id names
    line0 = 0
    counts = np.zeros(3, dtype=np.int64)
    err = np.zeros(2, dtype=np.int64)
    for chunk, end in _text_chunks(path):
        arr = np.frombuffer(chunk, dtype=np.uint8)
        cap = end // 17 + 2  # a GTF line has 9 columns: at least 17 bytes
        f_int = np.empty((cap, 5), dtype=np.int64)
        runs = np.empty((2 * cap, 5), dtype=np.int64)  # untouched pages cost nothing
        gtf_scan(arr, end, line0, ftype, key, f_int, runs, counts, err)
        if err[0]:
            return None
        nf, nr = int(counts[0]), int(counts[1])
        runs = runs[:nr]
        where = np.empty(nr, dtype=np.int64)
        for r, (kind, vs, ve, a, ae) in enumerate(runs.tolist()):
            value = chunk[vs:ve].decode("utf-8", "replace")
            if kind == 0:
                where[r] = len(chrom_names)
                chrom_names.append(value)
            else:
                where[r] = len(id_names)
                id_names.append(value)
                if value not in first_attrs:
                    first_attrs[value] = chunk[a:ae]
        parts_int.append(f_int[:nf])
        run_index.append(where)
        line0 = int(counts[2])
    if not parts_int:
        return None
    f = np.concatenate(parts_int)
    chrom_pos = np.concatenate([w[p[:, 3]] for w, p in zip(run_index, parts_int, strict=True)])
    id_pos = np.concatenate([w[p[:, 4]] for w, p in zip(run_index, parts_int, strict=True)])
    chroms = np.asarray(chrom_names, dtype=object)[chrom_pos]
    run_codes, uniques = pd.factorize(pd.Series(id_names, dtype=object), sort=False)
    ids = pd.Categorical.from_codes(run_codes[id_pos], categories=pd.Index(uniques, dtype=object))
    strands = np.array(["+", "-", "."], dtype=object)[f[:, 2]]
    extra: dict[str, dict[str, str]] = {}
    for gid, raw in first_attrs.items():
        text = raw.decode("utf-8", "replace")
        found = {}
        for k, pattern in _NAME_PATTERNS.items():
            m = pattern.search(text)
            if m:
                found[k] = m.group(1) if m.group(1) is not None else m.group(2)
        extra[gid] = _gtf_names(found)
    return chroms, f[:, 0], f[:, 1], strands, ids, extra


def _read_lines(path: Path, fmt: str, feature_type: str, attribute: str) -> _Parsed:
    """Features line by line (faster than pandas' parser with string columns, and exact about
    which line is wrong)."""
    p = path
    chroms: list[str] = []
    starts: list[int] = []
    ends: list[int] = []
    strands: list[str] = []
    ids: list[str] = []
    extra: dict[str, dict[str, str]] = {}
    if fmt == "bed":
        for n, line in _iter_lines(p):
            if line.startswith(("track", "browser")):
                continue
            for chrom, s, e, strand, gid in _bed_features(p, n, line):
                chroms.append(chrom)
                starts.append(s)
                ends.append(e)
                strands.append(strand)
                ids.append(gid)
    elif fmt == "saf":
        for n, line in _iter_lines(p):
            parts = line.split("\t")
            if parts[0].strip().lower() == "geneid":
                continue
            if len(parts) < 4:
                raise InputError(
                    p,
                    f"SAF lines need 5 tab-separated columns (GeneID Chr Start End Strand), "
                    f"found {len(parts)}",
                    line=n,
                )
            gid, chrom = parts[0].strip(), parts[1].strip()
            s, e = _coords(p, n, chrom, parts[2].strip(), parts[3].strip())
            strand = parts[4].strip() if len(parts) > 4 else "."
            if not gid:
                raise InputError(p, "empty GeneID in column 1", line=n)
            chroms.append(chrom)
            starts.append(s)
            ends.append(e)
            strands.append(strand if strand in ("+", "-") else ".")
            ids.append(gid)
    else:
        key = re.compile(_attr_pattern(attribute))
        types = set(feature_type.split(","))
        # GFF3: every line with an ID, to resolve Parent chains; features wait for the end.
        gff_nodes: dict[str, dict[str, str]] = {}
        pending: list[tuple[int, dict[str, str]]] = []
        for n, line in _iter_lines(p):
            parts = line.split("\t")
            if len(parts) != 9:
                raise InputError(
                    p,
                    f"{fmt.upper()} lines need 9 tab-separated columns, found {len(parts)}",
                    line=n,
                )
            chrom = sys.intern(parts[0])
            s, e = _coords(p, n, chrom, parts[3].strip(), parts[4].strip())
            is_feature = parts[2] in types
            if fmt == "gtf":
                if not is_feature:
                    continue
                m = key.search(parts[8])
                gid = (m.group(1) if m.group(1) is not None else m.group(2)) if m else None
                if not gid:
                    found = ", ".join(_gtf_attrs(parts[8])) or "none"
                    raise InputError(
                        p,
                        f"{feature_type} line has no '{attribute}' attribute; found {found} "
                        "(choose another with attribute=...)",
                        line=n,
                    )
                ids.append(sys.intern(gid))
                if gid not in extra:
                    extra[gid] = _gtf_names(_gtf_attrs(parts[8]))
            else:
                attrs = _gff3_attrs(parts[8])
                if "ID" in attrs:
                    gff_nodes.setdefault(attrs["ID"], attrs)
                if not is_feature:
                    continue
                pending.append((n, attrs))
                ids.append("")
            strand = parts[6].strip()
            chroms.append(chrom)
            starts.append(s)
            ends.append(e)
            strands.append(strand if strand in ("+", "-") else ".")
        if fmt == "gff3":
            for i, (n, attrs) in enumerate(pending):
                gid, top = _gff3_id(attrs, attribute, gff_nodes)
                if not gid:
                    raise InputError(
                        p,
                        f"{feature_type} line has no '{attribute}' attribute, neither itself nor "
                        f"through its Parent chain; found {', '.join(attrs) or 'none'}",
                        line=n,
                    )
                ids[i] = gid
                if gid not in extra:
                    names = {"gene_name": top.get("Name") or top.get("gene_name")}
                    names["gene_biotype"] = top.get("biotype") or top.get("gene_biotype")
                    extra[gid] = {k: v for k, v in names.items() if v}
    return chroms, starts, ends, strands, ids, extra


def _bed_features(path: Path, n: int, line: str) -> list[tuple[str, int, int, str, str]]:
    """One BED line as features: the whole interval, or its blocks (BED12: the exons of the
    ``name``). BED is 0-based half-open; features are 1-based inclusive."""
    parts = line.split("\t")
    if len(parts) < 3:
        raise InputError(
            path, f"BED lines need at least 3 tab-separated columns, found {len(parts)}", line=n
        )
    chrom = parts[0].strip()
    try:
        start0, end = int(parts[1]), int(parts[2])
    except ValueError:
        found = f"{parts[1]!r}, {parts[2]!r}"
        msg = f"BED start and end must be whole numbers, found {found}"
        raise InputError(path, msg, line=n) from None
    if start0 < 0 or end <= start0:
        raise InputError(
            path, f"BED interval {chrom}:{start0}-{end} is empty or negative (0-based, half-open)",
            line=n,
        )  # fmt: skip
    if not chrom:
        raise InputError(path, "empty sequence name in column 1", line=n)
    name = parts[3].strip() if len(parts) > 3 else ""
    name = name or f"{chrom}:{start0 + 1}-{end}"
    strand = parts[5].strip() if len(parts) > 5 else "."
    strand = strand if strand in ("+", "-") else "."
    if len(parts) < 12:
        return [(chrom, start0 + 1, end, strand, name)]
    try:
        count = int(parts[9])
        sizes = [int(x) for x in parts[10].strip().strip(",").split(",")]
        offsets = [int(x) for x in parts[11].strip().strip(",").split(",")]
    except ValueError:
        raise InputError(path, "BED12 block columns must hold whole numbers", line=n) from None
    if count < 1 or len(sizes) != count or len(offsets) != count:
        raise InputError(
            path, f"BED12 line has blockCount {count} but {len(sizes)} sizes and "
            f"{len(offsets)} starts", line=n,
        )  # fmt: skip
    out = []
    for size, off in zip(sizes, offsets, strict=True):
        if size < 1 or off < 0 or start0 + off + size > end:
            raise InputError(path, f"BED12 block {off},{size} lies outside {start0}-{end}", line=n)
        out.append((chrom, start0 + off + 1, start0 + off + size, strand, name))
    return out


def _gff3_id(
    attrs: dict[str, str], attribute: str, nodes: dict[str, dict[str, str]]
) -> tuple[str | None, dict[str, str]]:
    """The attribute's value on the feature or up its Parent chain, and the top ancestor."""
    node, seen = attrs, 0
    value = node.get(attribute)
    while not value and "Parent" in node and seen < 50:
        parent = nodes.get(node["Parent"].split(",")[0])
        if parent is None:
            break
        node, seen = parent, seen + 1
        value = node.get(attribute)
    while "Parent" in node and seen < 50:  # climb to the top for names
        parent = nodes.get(node["Parent"].split(",")[0])
        if parent is None:
            break
        node, seen = parent, seen + 1
    if not value and attribute == "gene_id" and node is not attrs and "ID" in node:
        value = node["ID"].removeprefix("gene:")
    return value, node


def _annotation_var(
    features: list[str], exons: pd.DataFrame, extra: dict[str, dict[str, str]]
) -> pd.DataFrame:
    """featureCounts' annotation columns: each meta-feature's distinct exons grouped by
    (chr, strand) in order of appearance, sorted by start; Length counts the bases covered."""
    ex = exons.drop_duplicates(["feature", "chrom", "strand", "start", "end"])
    group = ex.groupby(["feature", "chrom", "strand"], sort=False).ngroup().to_numpy(np.int64)
    feature = ex["feature"].to_numpy(np.int64)
    start = ex["start"].to_numpy(np.int64)
    end = ex["end"].to_numpy(np.int64)
    order = np.lexsort((end, start, group, feature))
    feature, group, start, end = feature[order], group[order], start[order], end[order]
    # bases covered: each exon adds what reaches past the running max end of its group
    rank = np.cumsum(np.r_[True, group[1:] != group[:-1]]) - 1
    big = np.int64(1) << 33
    runmax = np.maximum.accumulate(end + rank * big) - rank * big
    prev = np.r_[np.int64(-1), runmax[:-1]]
    prev[np.r_[True, rank[1:] != rank[:-1]]] = -1
    gain = np.maximum(0, end - np.maximum(start - 1, prev))
    length = np.bincount(feature, weights=gain, minlength=len(features)).astype(np.int64)
    bounds = np.searchsorted(feature, np.arange(len(features) + 1))
    chr_l = ex["chrom"].to_numpy()[order].tolist()
    strand_l = ex["strand"].to_numpy()[order].tolist()
    start_l = list(map(str, start.tolist()))
    end_l = list(map(str, end.tolist()))
    cols: dict[str, list[str]] = {"Chr": [], "Start": [], "End": [], "Strand": []}
    for i in range(len(features)):
        lo, hi = bounds[i], bounds[i + 1]
        cols["Chr"].append(";".join(chr_l[lo:hi]))
        cols["Start"].append(";".join(start_l[lo:hi]))
        cols["End"].append(";".join(end_l[lo:hi]))
        cols["Strand"].append(";".join(strand_l[lo:hi]))
    var = pd.DataFrame(cols, index=pd.Index(features, name="Geneid"))
    var["Length"] = length
    for key in ("gene_name", "gene_biotype"):
        values = [extra.get(g, {}).get(key) for g in features]
        if any(values):
            var[key] = values
    return var
