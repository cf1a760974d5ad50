"""Reads -> counts: aligned reads (BAM/SAM/CRAM) per gene, with featureCounts' rules."""

from __future__ import annotations

from typing import TYPE_CHECKING

from .._lazy import attach

if TYPE_CHECKING:  # imported on first use, see __getattr__
    from ._bam import Annotation, CountResult, count_bam, read_annotation, write_counts
    from ._collapse import KITS
    from ._smallrna import SmallRnaResult, quantify_smallrna, write_smallrna

_LAZY = {
    "Annotation": "._bam",
    "CountResult": "._bam",
    "count_bam": "._bam",
    "read_annotation": "._bam",
    "write_counts": "._bam",
    "KITS": "._collapse",
    "SmallRnaResult": "._smallrna",
    "quantify_smallrna": "._smallrna",
    "write_smallrna": "._smallrna",
}

__all__ = [
    "KITS",
    "Annotation",
    "CountResult",
    "SmallRnaResult",
    "count_bam",
    "quantify_smallrna",
    "read_annotation",
    "write_counts",
    "write_smallrna",
]

__getattr__, __dir__ = attach(__name__, _LAZY, __all__)
