"""Aligned reads (BAM/SAM/CRAM) -> gene counts, by featureCounts' rules and with its numbers.

:func:`read_annotation` reads a GTF, GFF3 or SAF file into meta-features (genes made of their
exons); :func:`count_bam` assigns each alignment record to at most one of them and returns the
counts and a featureCounts-style summary; :func:`write_counts` writes both.

How it works: BAM records are never turned into Python objects. The BGZF blocks are inflated with
zlib, or isa-l where installed (both release the GIL), and a numba kernel (also GIL-free, in
``_bam_kernel``) walks the raw records, cuts each
CIGAR into aligned sections exactly as featureCounts' ``parse_bin`` does, and looks every section
up with a binary search in a table of sorted, non-overlapping elementary intervals of the
annotation, each carrying the set of (meta-feature, strand) pairs that cover it. Streaming needs no
index and no particular sort order.

The rules, checked against subread's ``readSummary.c`` (``process_line_buffer`` and
``vote_and_add_count``) and against featureCounts 2.0.3 itself, single-end reads:

1. a record flagged unmapped (0x4) is ``Unassigned_Unmapped``;
2. if ``min_mapq`` > 0, MAPQ < ``min_mapq`` is ``Unassigned_MappingQuality`` (before 3, so a
   low-MAPQ multi-mapper is counted here);
3. NH > 1 is ``Unassigned_MultiMapping`` unless multi-mappers are counted (``-M``); without
   ``-M`` this includes the primary record, and every record counts, so a read with NH:2 gives 2;
   secondary records (0x100) are otherwise treated like any other record (also supplementary);
4. with ``primary_only`` (``--primary``) a secondary record is ``Unassigned_Secondary``;
5. the record's aligned sections are its CIGAR's M/=/X runs, split at every I, D and N (so a
   deletion's or an intron's bases are not covered); at most the first 10 sections are used
   (featureCounts' default ``--maxMOp 10``);
6. a meta-feature is hit if any section overlaps >= 1 base of one of its exons whose strand
   passes the strand rule (``forward``: same strand as the read, ``reverse``: opposite; exons
   with strand ``.`` never pass ``forward`` and always pass ``reverse``, as in featureCounts);
7. no hit is ``Unassigned_NoFeatures``; one hit is ``Assigned``; several hits are
   ``Unassigned_Ambiguity`` unless ``allow_multi_overlap`` (``-O``), which gives each hit one
   count (``1/n`` with ``multimap="fraction"``, i.e. ``--fraction``);
8. with ``multimap="fraction"`` a record adds ``1/NH`` in featureCounts' fixed point,
   ``(65536 // NH) / 65536``, so that sums match its output exactly.

The summary counts records (alignments), as featureCounts does; with ``weights_from_name`` every
record counts with the copy number in its name, in the counts and in the summary.

Paired-end reads (``-p --countReadPairs``; checked against featureCounts 2.0.3) count fragments:
mates are joined by read name and HI tag within the stream (``_Pairs``; no name sorting needed,
memory follows the distance between mates), a record without its mate counting alone. Per fragment
(read 1 first): both mates unmapped (by the first record's flags 0x4 and 0x8) is
``Unassigned_Unmapped``; a mate unmapped, or mates on different contigs, still count (no ``-B``,
no ``-C``); a mapped mate with NH > 1 makes the fragment ``Unassigned_MultiMapping`` (without
``-M``) and a secondary one ``Unassigned_Secondary`` (``--primary``); ``min_mapq`` needs one mate
at or above it; the strand rule sees read 1 as it is and read 2 flipped; each meta-feature scores
the number of mates hitting it and the best score wins, a tie being ``Unassigned_Ambiguity`` (with
``-O`` every meta-feature hit counts, mates not preferred); ``fraction`` uses the larger NH.
Single-end reads among pairs are fragments with an unmapped mate.
"""

from __future__ import annotations

import contextlib
import gzip
import io
import os
import re
import shutil
import sys
import tempfile
import time
import zlib
from collections import deque
from collections.abc import Iterator, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

import numpy as np
import pandas as pd

from .._errors import InputError, MtncrnaError
from .._logging import logger
from .._text import check_readable, sniff_kind
from ..io._names import sample_name_from_path
from ..io._write import write_table
from ..reference._names import is_mt_contig

PathLike = str | os.PathLike[str]
Strand = Literal["unstranded", "forward", "reverse"]
Multimap = Literal["unique", "all", "fraction"]

#: featureCounts' summary rows, in its order.
SUMMARY_ROWS = (
    "Assigned",
    "Unassigned_Unmapped",
    "Unassigned_Read_Type",
    "Unassigned_Singleton",
    "Unassigned_MappingQuality",
    "Unassigned_Chimera",
    "Unassigned_FragmentLength",
    "Unassigned_Duplicate",
    "Unassigned_MultiMapping",
    "Unassigned_Secondary",
    "Unassigned_NonSplit",
    "Unassigned_NoFeatures",
    "Unassigned_Overlapping_Length",
    "Unassigned_Ambiguity",
)
_ASSIGNED, _UNMAPPED, _MAPQ, _MULTI, _SECONDARY, _NOFEAT, _AMBIG = 0, 1, 4, 8, 9, 11, 13

_STRANDS = {"unstranded": 0, "forward": 1, "reverse": 2}
_MULTIMAP = {"unique": 0, "all": 1, "fraction": 2}
_FIXED_ONE = 65536  # featureCounts' NH_FRACTION_INT

try:  # isa-l's inflate is ~2x zlib's; it comes with cutadapt/xopen, zlib is the fallback
    from isal.isal_zlib import decompress as _inflate
    from isal.isal_zlib import error as _isal_error

    _INFLATE_ERRORS: tuple[type[Exception], ...] = (zlib.error, _isal_error)
except ImportError:  # pragma: no cover - depends on the environment
    _inflate = zlib.decompress
    _INFLATE_ERRORS = (zlib.error,)

_BGZF_EOF = bytes.fromhex("1f8b08040000000000ff0600424302001b0003000000000000000000")
_CHUNK = 1 << 19  # compressed bytes read at a time (~2-8 MB inflated)


# ============================================================================================
# Annotation
# ============================================================================================


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

    def __len__(self) -> int:
        return len(self.features)

    @property
    def contigs(self) -> list[str]:
        """Contig names in order of first appearance."""
        return list(dict.fromkeys(self.exons["chrom"].tolist()))


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
            if not line.strip() or line.startswith("#"):
                continue
            parts = line.rstrip("\r\n").split("\t")
            if parts[0].strip().lower() == "geneid" or len(parts) == 5:
                return "saf"
            if len(parts) == 9:
                attrs = parts[8]
                if gff_version or (re.match(r"\s*[^\s=;]+=", attrs) and '"' not in attrs):
                    return "gff3"
                return "gtf"
            raise InputError(
                path,
                "is not a GTF/GFF3 (9 tab-separated columns) or SAF (GeneID Chr Start End Strand) "
                f"annotation: the first data line has {len(parts)} tab-separated columns",
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
    path: PathLike, *, feature_type: str = "exon", attribute: str = "gene_id"
) -> Annotation:
    """Read a GTF, GFF3 or SAF file (format sniffed from content; gzip/bzip2 ok).

    As featureCounts' ``-t exon -g gene_id``: lines whose type (column 3) is ``feature_type``
    become features, grouped into meta-features by their ``attribute``. In GFF3 a feature without
    that attribute takes it from its ``Parent`` chain (exon -> transcript -> gene), or, for
    ``gene_id``, the top ancestor's ``ID`` (a ``gene:`` prefix dropped). SAF
    (``GeneID Chr Start End Strand``, header optional) lists the features directly.

    Raises :class:`InputError` naming the line for a wrong column count, a coordinate that is not a
    whole number, start > end, or a feature line without the attribute.
    """
    p = check_readable(path, what="annotation file")
    fmt = _sniff_annotation(p)
    parsed = _read_gtf_fast(p, feature_type, attribute) if fmt == "gtf" else None
    if parsed is None:  # SAF, GFF3, or a GTF problem that the line-by-line reader will name
        parsed = _read_lines(p, fmt, feature_type, attribute)
    chroms, starts, ends, strands, ids, extra = parsed
    if not len(ids):
        found = "features" if fmt == "saf" else f"'{feature_type}' lines"
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
    return Annotation(p, fmt, feature_type, attribute, features, exons, var)


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
    from ._bam_kernel import gtf_scan

    ftype = np.frombuffer(feature_type.encode(), dtype=np.uint8)
    key = np.frombuffer(attribute.encode(), dtype=np.uint8)
    if not len(key) or not len(ftype):
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
    if fmt == "saf":
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
            is_feature = parts[2] == feature_type
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


# --------------------------------------------------------------------------------------------
# the lookup table: elementary intervals -> (meta-feature, strand, merged interval)
# --------------------------------------------------------------------------------------------


@dataclass
class _Index:
    contigs: list[str]
    seg_off: np.ndarray  # int64[n_contigs + 1]
    seg_start: np.ndarray  # int64, 1-based inclusive
    seg_end: np.ndarray
    mem_off: np.ndarray  # int64[n_segments + 1]
    mem_feature: np.ndarray  # int64
    mem_strand: np.ndarray  # int64: 0 '+', 1 '-', -1 '.'
    mem_interval: np.ndarray  # int64, id of the merged interval the member comes from
    n_features: int


def _build_index(annotation: Annotation) -> _Index:
    ex = annotation.exons
    contigs = annotation.contigs
    cidx = {c: i for i, c in enumerate(contigs)}
    chrom = ex["chrom"].map(cidx).to_numpy(np.int64)
    strand = ex["strand"].map({"+": 0, "-": 1}).fillna(-1).to_numpy(np.int64)
    feat = ex["feature"].to_numpy(np.int64)
    start = ex["start"].to_numpy(np.int64)
    end = ex["end"].to_numpy(np.int64)
    # Merge the exons of one (contig, meta-feature, strand) that overlap (share >= 1 base). Exons
    # that only touch stay apart, so a zero-length CIGAR section between them hits as it would in
    # featureCounts (which keeps every exon).
    order = np.lexsort((end, start, strand, feat, chrom))
    chrom, strand, feat, start, end = (a[order] for a in (chrom, strand, feat, start, end))
    key_change = np.ones(len(order), dtype=bool)
    key_change[1:] = (
        (chrom[1:] != chrom[:-1]) | (feat[1:] != feat[:-1]) | (strand[1:] != strand[:-1])
    )
    group = np.cumsum(key_change) - 1
    # running max of end within each group, shifted by one row
    big = np.int64(1) << 40
    runmax = np.maximum.accumulate(end + group * big) - group * big
    prev_max = np.empty_like(runmax)
    prev_max[0] = -1
    prev_max[1:] = runmax[:-1]
    new_iv = key_change | (start > prev_max)
    first = np.flatnonzero(new_iv)
    m_chrom, m_strand, m_feat, m_start = chrom[first], strand[first], feat[first], start[first]
    m_end = np.maximum.reduceat(end, first) if len(first) else end[:0]
    # Elementary intervals per contig: cut at every start and every end + 1.
    shift = np.int64(1) << 33
    g_start = m_chrom * shift + m_start
    g_stop = m_chrom * shift + m_end + 1
    bp = np.unique(np.concatenate([g_start, g_stop]))
    k0 = np.searchsorted(bp, g_start)
    k1 = np.searchsorted(bp, g_stop)
    span = k1 - k0
    mem_iv = np.repeat(np.arange(len(m_start), dtype=np.int64), span)
    offs = np.repeat(np.cumsum(span) - span, span)
    mem_seg = np.repeat(k0, span) + (np.arange(int(span.sum()), dtype=np.int64) - offs)
    o = np.argsort(mem_seg, kind="stable")
    mem_seg, mem_iv = mem_seg[o], mem_iv[o]
    used = np.unique(mem_seg)
    seg_start_g = bp[used]
    seg_stop_g = bp[used + 1]
    seg_contig = seg_start_g // shift
    seg_start = seg_start_g - seg_contig * shift
    seg_end = seg_stop_g - seg_contig * shift - 1
    seg_off = np.searchsorted(seg_contig, np.arange(len(contigs) + 1))
    new_pos = np.searchsorted(used, mem_seg)
    mem_off = np.zeros(len(used) + 1, dtype=np.int64)
    np.add.at(mem_off, new_pos + 1, 1)
    mem_off = np.cumsum(mem_off)
    return _Index(
        contigs,
        seg_off.astype(np.int64),
        seg_start.astype(np.int64),
        seg_end.astype(np.int64),
        mem_off,
        m_feat[mem_iv].astype(np.int64),
        m_strand[mem_iv].astype(np.int64),
        mem_iv.astype(np.int64),
        len(annotation.features),
    )


def _contig_map(references: Sequence[str], contigs: Sequence[str]) -> np.ndarray:
    """BAM reference id -> annotation contig index (-1: none). Exact name first, then the
    ``chr`` prefix added or removed, then any two names of the mitochondrial contig."""
    exact = {c: i for i, c in enumerate(contigs)}
    loose: dict[str, int] = {}
    for i, c in enumerate(contigs):
        loose.setdefault(c.removeprefix("chr"), i)
    mt = [i for i, c in enumerate(contigs) if is_mt_contig(c)]
    out = np.full(len(references), -1, dtype=np.int64)
    for r, name in enumerate(references):
        if name in exact:
            out[r] = exact[name]
        elif name.removeprefix("chr") in loose:
            out[r] = loose[name.removeprefix("chr")]
        elif mt and is_mt_contig(name):
            out[r] = mt[0]
    return out


# ============================================================================================
# The kernel
# ============================================================================================

_ERR_CORRUPT, _ERR_WEIGHT, _ERR_PAIRED, _ERR_REFID = 1, 2, 3, 4  # as in _bam_kernel


def _kernel() -> Any:
    """The record-scanning kernel (numba compiles it once, then loads it from its cache)."""
    from ._bam_kernel import scan

    return scan


# ============================================================================================
# Inputs
# ============================================================================================


@dataclass
class _Input:
    path: Path
    kind: str  # bam, sam, cram
    references: list[str]
    first_record: int  # virtual offset of the first record (BAM)
    paired: bool


def _bgzf_ok(path: Path) -> bool:
    with path.open("rb") as fh:
        head = fh.read(18)
    return len(head) >= 18 and head[:4] == b"\x1f\x8b\x08\x04" and head[12:14] == b"BC"


def _open_input(path: PathLike, reference_fasta: PathLike | None) -> _Input:
    """Check one alignment file completely enough to fail now rather than mid-way."""
    import pysam

    p = check_readable(path, what="alignment file")
    with p.open("rb") as fh:
        head = fh.read(4)
    if not head:
        raise InputError(p, "is empty; expected a BAM, SAM or CRAM file")
    if head[:2] == b"\x1f\x8b":
        if not _bgzf_ok(p):
            raise InputError(
                p,
                "is gzip-compressed but not BGZF; expected a BAM file (samtools view -b), "
                "a plain SAM or a CRAM",
            )
        with p.open("rb") as fh:
            fh.seek(max(0, p.stat().st_size - 28))
            tail = fh.read(28)
        if tail != _BGZF_EOF:
            raise InputError(
                p,
                "is truncated: the BGZF end-of-file marker is missing (the file was cut short "
                "while being written or copied)",
            )
        kind = "bam"
    elif head == b"CRAM":
        kind = "cram"
    else:
        kind = "sam"
        with p.open("rb") as fh:
            first_line = fh.readline(65536)
        if not first_line.startswith(b"@") and first_line.count(b"\t") < 10:
            raise InputError(
                p,
                "is not a BAM, SAM or CRAM file: expected BGZF, 'CRAM' or SAM text (a header "
                "line starting with @ or 11 tab-separated fields), found "
                f"{first_line[:40].decode('latin-1').rstrip()!r}",
            )
    mode = {"bam": "rb", "cram": "rc", "sam": "r"}[kind]
    kwargs: dict[str, Any] = {"check_sq": False}
    if kind == "cram" and reference_fasta is not None:
        kwargs["reference_filename"] = str(reference_fasta)
    save = pysam.set_verbosity(0)
    try:
        try:
            af = pysam.AlignmentFile(str(p), mode, **kwargs)
        except Exception as exc:
            why = f" ({exc})" if isinstance(exc, (OSError, ValueError)) and str(exc) else ""
            raise InputError(p, f"is not a BAM, SAM or CRAM file{why}") from None
        try:
            if kind == "bam" and af.format != "BAM":
                kind = "sam"  # bgzip-compressed SAM
            first = af.tell() if kind == "bam" else 0
            if not af.references:
                raise InputError(
                    p,
                    "has no header naming the reference sequences (@SQ lines); write the SAM "
                    "with its header (samtools view -h) or give the BAM",
                )
            paired = False
            try:
                for i, rec in enumerate(af.fetch(until_eof=True)):
                    paired = paired or rec.is_paired
                    if i >= 999:
                        break
            except Exception as exc:
                what = "is not valid SAM" if kind == "sam" else "is truncated or corrupt"
                raise InputError(
                    p, f"{what}: its first alignment records cannot be read ({exc})"
                ) from None
            refs = list(af.references)
        finally:
            with contextlib.suppress(Exception):  # closing a half-read file may raise again
                af.close()
    finally:
        pysam.set_verbosity(save)
    return _Input(p, kind, refs, first, paired)


def _block_spans(raw: bytes | memoryview, path: Path, base: int) -> tuple[list[int], int]:
    """The complete BGZF blocks at the start of ``raw``: their offsets (block start, deflate
    data start, block end; three per block) and the bytes they take."""
    spans: list[int] = []
    off = 0
    n = len(raw)
    while off + 18 <= n:
        if raw[off] != 0x1F or raw[off + 1] != 0x8B:
            raise InputError(path, f"corrupt BGZF block header at byte {base + off}")
        xlen = raw[off + 10] | (raw[off + 11] << 8)
        bsize = -1
        x = off + 12
        while x + 4 <= off + 12 + xlen:
            slen = raw[x + 2] | (raw[x + 3] << 8)
            if raw[x] == 66 and raw[x + 1] == 67 and slen == 2:
                bsize = raw[x + 4] | (raw[x + 5] << 8)
            x += 4 + slen
        if bsize < 0:
            raise InputError(path, f"corrupt BGZF block (no BSIZE) at byte {base + off}")
        end = off + bsize + 1
        if end > n:
            break
        if end - 8 < off + 12 + xlen:
            raise InputError(path, f"corrupt BGZF block (BSIZE {bsize}) at byte {base + off}")
        spans += (off, off + 12 + xlen, end)
        off = end
    return spans, off


def _inflate_spans(raw: bytes, spans: list[int], path: Path, base: int) -> list[bytes]:
    """Inflate the BGZF blocks found by :func:`_block_spans` (releases the GIL while inflating)."""
    out: list[bytes] = []
    view = memoryview(raw)
    for k in range(0, len(spans), 3):
        off, data, end = spans[k], spans[k + 1], spans[k + 2]
        try:
            block = _inflate(view[data : end - 8], -15)
        except _INFLATE_ERRORS as exc:
            raise InputError(path, f"corrupt BGZF block at byte {base + off} ({exc})") from None
        isize = int.from_bytes(view[end - 4 : end], "little")
        if len(block) != isize:
            raise InputError(
                path,
                f"corrupt BGZF block at byte {base + off}: inflated to {len(block)} bytes, "
                f"its trailer says {isize}",
            )
        out.append(block)
    return out


def _raw_blocks(path: Path, coffset: int) -> Iterator[tuple[bytes, list[int], int]]:
    """The compressed file from ``coffset`` on, in pieces of whole BGZF blocks: ``(raw, spans,
    base)`` with ``spans`` from :func:`_block_spans` and ``base`` the file offset of ``raw``."""
    with path.open("rb") as fh:
        fh.seek(coffset)
        pending = b""
        base = coffset
        while True:
            more = fh.read(_CHUNK)
            raw = pending + more if pending else more
            if not raw:
                return
            spans, used = _block_spans(memoryview(raw), path, base)
            if not more and used != len(raw):
                raise InputError(path, "is truncated: its last BGZF block is incomplete")
            if spans:
                yield raw, spans, base
            pending = raw[used:]
            base += used
            if not more:
                return


def _inflated(path: Path, start_voffset: int, workers: int = 1) -> Iterator[list[bytes]]:
    """Decompressed record bytes from the first record on, as lists of BGZF blocks' contents.

    With ``workers`` > 1 the next pieces are inflated by that many threads while the caller works
    on this one (in order)."""
    coffset, skip = start_voffset >> 16, start_voffset & 0xFFFF
    pool = None
    if workers > 1:
        pool = ThreadPoolExecutor(workers, thread_name_prefix="mtncrna-inflate")
    ahead: deque[Future[list[bytes]]] = deque()
    try:
        for raw, spans, base in _raw_blocks(path, coffset):
            if pool is None:
                blocks = _inflate_spans(raw, spans, path, base)
            else:
                ahead.append(pool.submit(_inflate_spans, raw, spans, path, base))
                if len(ahead) <= workers:
                    continue
                blocks = ahead.popleft().result()
            if skip:
                blocks[0], skip = blocks[0][skip:], 0
            yield blocks
        while ahead:
            blocks = ahead.popleft().result()
            if skip:
                blocks[0], skip = blocks[0][skip:], 0
            yield blocks
    finally:
        if pool is not None:
            for f in ahead:
                f.cancel()
            pool.shutdown(wait=True)


def _to_temp_bam(inp: _Input, tmpdir: Path, reference_fasta: PathLike | None) -> tuple[Path, int]:
    """SAM/CRAM -> an uncompressed temporary BAM (the kernel reads only BAM records)."""
    import pysam

    mode = "rc" if inp.kind == "cram" else "r"
    kwargs: dict[str, Any] = {"check_sq": False}
    if inp.kind == "cram" and reference_fasta is not None:
        kwargs["reference_filename"] = str(reference_fasta)
    out = tmpdir / (inp.path.name + ".u.bam")
    try:
        with (
            pysam.AlignmentFile(str(inp.path), mode, **kwargs) as src,
            pysam.AlignmentFile(str(out), "wbu", template=src) as dst,
        ):
            for rec in src.fetch(until_eof=True):
                dst.write(rec)
        with pysam.AlignmentFile(str(out), "rb", check_sq=False) as af:
            first = af.tell()
    except (OSError, ValueError) as exc:
        raise InputError(inp.path, f"cannot read alignment records ({exc})") from None
    return out, first


# ============================================================================================
# Counting
# ============================================================================================


@dataclass
class CountResult:
    """Counts (meta-features x samples; int64, float64 for ``multimap="fraction"``), the
    featureCounts-style ``summary`` (status x samples), the annotation columns and parameters."""

    counts: pd.DataFrame
    summary: pd.DataFrame
    annotation: pd.DataFrame
    bams: list[Path]
    params: dict[str, Any]

    @property
    def samples(self) -> list[str]:
        return list(self.counts.columns)


class _Pairs:
    """Paired-end counting (featureCounts ``-p --countReadPairs``), all in the kernel
    (``_bam_kernel.scan_pairs``): a record waits in a hash table until its mate (same name and
    HI tag, as featureCounts' pairer) arrives, then the two are assigned as one fragment. Memory
    follows the distance between mates in the stream (small for coordinate- or name-sorted files);
    a record whose mate never comes is counted alone at the end. Here only the table grows."""

    _SLOTS = 1 << 12  # initial table size (grows as needed)

    def __init__(self, n_features: int, options: dict[str, Any]) -> None:
        from ._bam_kernel import T_COLS

        self.options = options
        self.tab = np.zeros((self._SLOTS, T_COLS), dtype=np.int64)
        self.names = np.zeros(self._SLOTS * 32, dtype=np.uint8)
        self.hitbuf = np.zeros(self._SLOTS * 4 + n_features, dtype=np.int64)
        self.pst = np.zeros(8, dtype=np.int64)
        self.score = np.zeros(n_features, dtype=np.int64)
        self.fmark = np.full(n_features, -1, dtype=np.int64)
        self.win = np.zeros(2 * n_features + 1, dtype=np.int64)
        self.n_features = n_features

    def scan(
        self,
        arr: np.ndarray,
        ref_map: np.ndarray,
        index: _Index,
        acc: np.ndarray,
        summary: np.ndarray,
        mark: np.ndarray,
        hits: np.ndarray,
        state: np.ndarray,
    ) -> int:
        """Count the fragments of the complete records in ``arr``; return the bytes used."""
        from ._bam_kernel import P_GROW, scan_pairs

        opt = self.options
        done = 0
        while True:
            used = scan_pairs(
                arr[done:],
                len(arr) - done,
                ref_map,
                index.seg_off,
                index.seg_start,
                index.seg_end,
                index.mem_off,
                index.mem_feature,
                index.mem_strand,
                index.mem_interval,
                opt["strand"],
                opt["multimap"],
                opt["min_mapq"],
                opt["allow_multi_overlap"],
                opt["primary_only"],
                opt["weights_from_name"],
                acc,
                summary,
                mark,
                hits,
                self.score,
                self.fmark,
                self.win,
                self.tab,
                self.names,
                self.hitbuf,
                self.pst,
                state,
            )
            if state[1]:
                state[2] += done
                return done + used
            done += used
            if not self.pst[P_GROW]:
                return done
            self._grow()

    def _grow(self) -> None:
        """A table at most a quarter full and arenas at most half full, after compaction."""
        from ._bam_kernel import P_HLIVE, P_LIVE, P_NLIVE, pairs_rehash

        live = int(self.pst[P_LIVE])
        slots = len(self.tab)
        while (live + 1) * 4 > slots:
            slots *= 2
        n_names = max(len(self.names), 2 * (int(self.pst[P_NLIVE]) + 256))
        n_hits = max(len(self.hitbuf), 2 * (int(self.pst[P_HLIVE]) + self.n_features))
        tab = np.zeros((slots, self.tab.shape[1]), dtype=np.int64)
        names = np.zeros(n_names, dtype=np.uint8)
        hitbuf = np.zeros(n_hits, dtype=np.int64)
        pairs_rehash(self.tab, self.names, self.hitbuf, tab, names, hitbuf, self.pst)
        self.tab, self.names, self.hitbuf = tab, names, hitbuf

    def finish(self, acc: np.ndarray, summary: np.ndarray) -> None:
        """Count the records whose mate never came, each as a fragment."""
        from ._bam_kernel import pairs_finish

        opt = self.options
        alone = pairs_finish(
            self.tab,
            self.hitbuf,
            opt["multimap"],
            opt["min_mapq"],
            opt["allow_multi_overlap"],
            opt["primary_only"],
            acc,
            summary,
            self.score,
            self.fmark,
            self.win,
            self.pst,
        )
        if alone:
            logger.info("%d paired records had no mate in the file", alone)


def _count_one(
    inp: _Input,
    index: _Index,
    options: dict[str, Any],
    workers: int,
    reference_fasta: PathLike | None,
) -> tuple[np.ndarray, np.ndarray]:
    scan = _kernel()
    ref_map = _contig_map(inp.references, index.contigs)
    if (ref_map < 0).all():
        some = ", ".join(inp.references[:5]) or "none"
        raise InputError(
            inp.path,
            f"none of its {len(inp.references)} reference sequences ({some}) matches a contig of "
            f"the annotation ({', '.join(index.contigs[:5])}); is it the right genome?",
        )
    acc = np.zeros(index.n_features, dtype=np.int64)
    summary = np.zeros(len(SUMMARY_ROWS), dtype=np.int64)
    mark = np.full(index.n_features, -1, dtype=np.int64)
    hits = np.empty(index.n_features, dtype=np.int64)
    state = np.zeros(3, dtype=np.int64)
    tmpdir = None
    t0 = time.perf_counter()
    try:
        path, first = inp.path, inp.first_record
        if inp.kind != "bam":
            tmpdir = Path(tempfile.mkdtemp(prefix="mtncrna-bam-"))
            path, first = _to_temp_bam(inp, tmpdir, reference_fasta)
        leftover = b""
        consumed_total = 0
        chunks = _inflated(path, first, workers)
        pairs = _Pairs(index.n_features, options) if options["pairs"] else None
        for blocks in chunks:
            buf = b"".join([leftover, *blocks])
            arr = np.frombuffer(buf, dtype=np.uint8)
            if pairs is not None:
                used = pairs.scan(arr, ref_map, index, acc, summary, mark, hits, state)
                if state[1]:
                    _raise_record_error(inp.path, int(state[1]), arr, int(state[2]), consumed_total)
                leftover = buf[used:]
                consumed_total += used
                continue
            used = scan(
                arr,
                len(arr),
                ref_map,
                index.seg_off,
                index.seg_start,
                index.seg_end,
                index.mem_off,
                index.mem_feature,
                index.mem_strand,
                index.mem_interval,
                options["strand"],
                options["multimap"],
                options["min_mapq"],
                options["allow_multi_overlap"],
                options["primary_only"],
                options["weights_from_name"],
                options["reject_paired"],
                acc,
                summary,
                mark,
                hits,
                state,
            )
            if state[1]:
                _raise_record_error(inp.path, int(state[1]), arr, int(state[2]), consumed_total)
            leftover = buf[used:]
            consumed_total += used
        if leftover:
            raise InputError(
                inp.path,
                f"is truncated or corrupt: {len(leftover)} bytes after the last complete record",
            )
        if pairs is not None:
            pairs.finish(acc, summary)
    finally:
        if tmpdir is not None:
            shutil.rmtree(tmpdir, ignore_errors=True)
    seconds = time.perf_counter() - t0
    logger.info(
        "%s: %d records in %.1f s (%.0f records/s)",
        inp.path,
        int(state[0]),
        seconds,
        state[0] / max(seconds, 1e-9),
    )
    return acc, summary


def _raise_record_error(path: Path, code: int, arr: np.ndarray, off: int, base: int) -> None:
    if code in (_ERR_WEIGHT, _ERR_PAIRED):
        lrn = int(arr[off + 12])
        name = bytes(arr[off + 36 : off + 36 + lrn - 1]).decode("ascii", "replace")
        if code == _ERR_WEIGHT:
            raise InputError(
                path,
                f"read name {name!r} carries no copy number; weights_from_name expects collapsed "
                "reads named like 'ID-COUNT' (fastx_collapser), 'seq_ID_xCOUNT' (seqcluster, "
                "miRDeep2) or '...;size=COUNT' (vsearch/usearch)",
            )
        raise MtncrnaError(
            f"{path}: read {name!r} is paired-end (flag 0x1) but the file's first records are "
            "single-end; count read pairs with paired=True, or keep one mate "
            "(samtools view -f 64)"
        )
    if code == _ERR_REFID:
        raise InputError(
            path,
            f"record at decompressed byte {base + off} names a reference id "
            "that the header does not have",
        )
    raise InputError(path, f"corrupt BAM record at decompressed byte {base + off}")


def count_bam(
    bams: PathLike | Sequence[PathLike],
    annotation: Annotation | PathLike,
    *,
    strand: Strand = "unstranded",
    multimap: Multimap = "unique",
    min_mapq: int = 0,
    paired: bool | None = None,
    allow_multi_overlap: bool = False,
    primary_only: bool = False,
    weights_from_name: bool = False,
    threads: int = 1,
    reference_fasta: PathLike | None = None,
) -> CountResult:
    """Count aligned reads per meta-feature, with featureCounts' default rules (see the module).

    ``strand`` is featureCounts' ``-s 0/1/2``; ``multimap`` ``"unique"`` drops records with
    NH > 1, ``"all"`` counts each (``-M``), ``"fraction"`` counts 1/NH (``-M --fraction``);
    ``min_mapq`` is ``-Q``; ``allow_multi_overlap`` is ``-O``; ``primary_only`` is
    ``--primary``. ``weights_from_name`` reads the copy number of collapsed reads from their
    names (``ID-COUNT``, ``seq_ID_xCOUNT``, ``...;size=COUNT``). ``paired=None`` counts read
    pairs as fragments (``-p --countReadPairs``) in the inputs whose first records are paired-end
    (flag 0x1), reads in the others; ``paired=True`` counts fragments in every input;
    ``paired=False`` counts single-end data only and stops on paired-end reads. Mates are paired
    by name and HI tag as they stream by, so pairs need no name sorting; each sample's mode is in
    ``params["paired"]``.

    Every input is opened and checked (format, truncation, header, first records) before any
    counting; BAMs are streamed, so they need neither an index nor a sort order. SAM and CRAM
    are read through a temporary BAM (CRAM may need ``reference_fasta``). ``threads`` > 1 counts
    several BAMs at once, or inflates one BAM's blocks ahead of the counting.

    Returns a :class:`CountResult`; sample names come from the file names (``S1.sorted.bam`` ->
    ``S1``).
    """
    if strand not in _STRANDS:
        raise MtncrnaError(f"strand must be one of {', '.join(_STRANDS)}, not {strand!r}")
    if multimap not in _MULTIMAP:
        raise MtncrnaError(f"multimap must be one of {', '.join(_MULTIMAP)}, not {multimap!r}")
    if not isinstance(min_mapq, int) or min_mapq < 0:
        raise MtncrnaError(f"min_mapq must be a whole number >= 0, not {min_mapq!r}")
    if threads < 1:
        raise MtncrnaError(f"threads must be >= 1, not {threads}")
    paths = [bams] if isinstance(bams, (str, os.PathLike)) else list(bams)
    if not paths:
        raise MtncrnaError("no BAM files given")
    # 1. every input, before any work (the alignment files first: they are quick to check)
    inputs = [_open_input(b, reference_fasta) for b in paths]
    samples = [sample_name_from_path(str(i.path)) for i in inputs]
    seen: dict[str, Path] = {}
    for s, i in zip(samples, inputs, strict=True):
        if s in seen:
            raise MtncrnaError(
                f"{seen[s]} and {i.path} both give the sample name '{s}'; rename one of them"
            )
        seen[s] = i.path
    if paired is False:
        for i in inputs:
            if i.paired:
                raise MtncrnaError(
                    f"{i.path}: paired-end reads (flag 0x1) but paired=False; count read pairs "
                    "(paired=None or True), or keep one mate (samtools view -f 64)"
                )
    ann = annotation if isinstance(annotation, Annotation) else read_annotation(annotation)
    index = _build_index(ann)
    options = {
        "strand": _STRANDS[strand],
        "multimap": _MULTIMAP[multimap],
        "min_mapq": int(min_mapq),
        "allow_multi_overlap": bool(allow_multi_overlap),
        "primary_only": bool(primary_only),
        "weights_from_name": bool(weights_from_name),
        "reject_paired": True,
        "pairs": False,
    }
    per_input = [
        {**options, "pairs": bool(paired) or (paired is None and i.paired)} for i in inputs
    ]
    # 2. count
    if len(inputs) > 1 and threads > 1:
        with ThreadPoolExecutor(max_workers=min(threads, len(inputs))) as pool:
            results = list(
                pool.map(
                    lambda i, o: _count_one(i, index, o, 1, reference_fasta), inputs, per_input
                )
            )
    else:
        results = [
            _count_one(i, index, o, threads, reference_fasta)
            for i, o in zip(inputs, per_input, strict=True)
        ]
    acc = np.column_stack([r[0] for r in results])
    summ = np.column_stack([r[1] for r in results])
    if multimap == "fraction":
        values: np.ndarray = acc / _FIXED_ONE
    else:
        values = acc // _FIXED_ONE
    counts = pd.DataFrame(values, index=pd.Index(ann.features, name="Geneid"), columns=samples)
    summary = pd.DataFrame(summ, index=pd.Index(SUMMARY_ROWS, name="Status"), columns=samples)
    params = {
        "annotation": str(ann.path) if ann.path else None,
        "feature_type": ann.feature_type,
        "attribute": ann.attribute,
        "strand": strand,
        "multimap": multimap,
        "min_mapq": min_mapq,
        "allow_multi_overlap": allow_multi_overlap,
        "primary_only": primary_only,
        "weights_from_name": weights_from_name,
        "paired": [o["pairs"] for o in per_input],
    }
    return CountResult(counts, summary, ann.var.copy(), [i.path for i in inputs], params)


def write_counts(
    result: CountResult, path: PathLike, *, inputs: Sequence[PathLike] = ()
) -> tuple[Path, Path]:
    """Write the counts as a featureCounts-style table and the summary beside it.

    The table has featureCounts' columns ``Geneid Chr Start End Strand Length``, then
    ``gene_name``/``gene_biotype`` where the annotation has them (as ``--extraAttributes``
    would), then one column per sample (named by sample, not by BAM path), so ``mtncrna import``
    reads it as featureCounts output together with ``<path>.summary`` (``Status`` x samples).
    Both are written atomically and never over an input (the BAMs and ``inputs``).
    """
    out = Path(path)
    columns = ["Chr", "Start", "End", "Strand", "Length"]
    columns += [c for c in ("gene_name", "gene_biotype") if c in result.annotation]
    table = result.annotation[columns].reindex(result.counts.index)
    table = pd.concat([table, result.counts], axis=1).reset_index()
    guard = [*result.bams, *inputs]
    write_table(table, out, inputs=guard)
    summary_path = out.with_name(out.name + ".summary")
    write_table(result.summary.reset_index(), summary_path, inputs=guard)
    return out, summary_path


__all__ = [
    "SUMMARY_ROWS",
    "Annotation",
    "CountResult",
    "count_bam",
    "read_annotation",
    "write_counts",
]
