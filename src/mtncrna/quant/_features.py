"""The lookup table of an annotation: sorted elementary intervals, each with the (meta-feature,
strand) pairs covering it, and the map from BAM reference ids to annotation contigs.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, fields
from typing import Any

import numpy as np

from ..reference._names import is_mt_contig

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


def _build_index(annotation: Any) -> _Index:
    """The lookup table of an :class:`~mtncrna.quant.Annotation` (built once, then kept on it)."""
    if getattr(annotation, "_index", None) is not None:
        return annotation._index
    annotation._index = _make_index(annotation)
    return annotation._index


def _make_index(annotation: Any) -> _Index:
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


def _index_arrays(index: _Index) -> dict[str, np.ndarray]:
    """The table as arrays (for the annotation cache)."""
    out = {f"ix_{f.name}": getattr(index, f.name) for f in fields(index)}
    del out["ix_contigs"], out["ix_n_features"]
    return out


def _index_from_arrays(contigs: list[str], n_features: int, a: dict[str, np.ndarray]) -> _Index:
    """The table back from :func:`_index_arrays` (KeyError/ValueError if it does not fit)."""
    index = _Index(
        contigs, **{f.name: a[f"ix_{f.name}"].astype(np.int64) for f in fields(_Index) if
                    f.name not in ("contigs", "n_features")}, n_features=n_features
    )  # fmt: skip
    n_seg, n_mem = len(index.seg_start), len(index.mem_feature)
    if (
        len(index.seg_off) != len(contigs) + 1
        or index.seg_off[-1] != n_seg
        or len(index.seg_end) != n_seg
        or len(index.mem_off) != n_seg + 1
        or index.mem_off[-1] != n_mem
        or len(index.mem_strand) != n_mem
        or len(index.mem_interval) != n_mem
        or (n_mem and (index.mem_feature.min() < 0 or index.mem_feature.max() >= n_features))
    ):
        raise ValueError("lookup table arrays do not fit together")
    return index


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
