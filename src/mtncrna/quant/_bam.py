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

import os
import shutil
import tempfile
import time
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any, Literal

import numpy as np
import pandas as pd

from .._errors import InputError, MtncrnaError
from .._logging import logger
from ..io._names import sample_name_from_path
from ._annotation import Annotation, read_annotation
from ._bam_input import _inflated, _Input, _open_input, _to_temp_bam
from ._counts import CountResult, write_counts
from ._features import _build_index, _contig_map, _Index

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


# ============================================================================================
# The kernel
# ============================================================================================

_ERR_CORRUPT, _ERR_WEIGHT, _ERR_PAIRED, _ERR_REFID = 1, 2, 3, 4  # as in _bam_kernel


def _kernel() -> Any:
    """The record-scanning kernel (numba compiles it once, then loads it from its cache)."""
    from ._bam_kernel import scan

    return scan


# ============================================================================================
# Counting
# ============================================================================================


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
        self.names = np.zeros(self._SLOTS * 256, dtype=np.uint8)
        self.hitbuf = np.zeros(self._SLOTS * 64 + n_features, dtype=np.int64)
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
        """Make room: a table at most a quarter full, arenas compacted and at most a quarter full
        (grown rarely: every grow walks the whole table)."""
        from ._bam_kernel import P_HLIVE, P_LIVE, P_NLIVE, pairs_rehash

        live = int(self.pst[P_LIVE])
        slots = len(self.tab)
        if (live + 1) * 2 > slots:
            while (live + 1) * 4 > slots:
                slots *= 2
            tab = np.zeros((slots, self.tab.shape[1]), dtype=np.int64)
        else:
            tab = self.tab  # compacted in place
        n_names = max(len(self.names), 4 * (int(self.pst[P_NLIVE]) + 256))
        n_hits = max(len(self.hitbuf), 4 * (int(self.pst[P_HLIVE]) + self.n_features))
        names = np.empty(n_names, dtype=np.uint8)
        hitbuf = np.empty(n_hits, dtype=np.int64)
        pairs_rehash(
            self.tab, self.names, self.hitbuf, tab, names, hitbuf, tab is self.tab, self.pst
        )
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


__all__ = [
    "SUMMARY_ROWS",
    "Annotation",
    "CountResult",
    "count_bam",
    "read_annotation",
    "write_counts",
]
