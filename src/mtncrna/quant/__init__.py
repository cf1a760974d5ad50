"""Reads -> counts: aligned reads (BAM/SAM/CRAM) per gene, with featureCounts' rules."""

from __future__ import annotations

from typing import TYPE_CHECKING

from .._lazy import attach

if TYPE_CHECKING:  # imported on first use, see __getattr__
    from ._annotation import Annotation, read_annotation
    from ._bam import count_bam
    from ._collapse import KITS
    from ._counts import CountResult, write_counts
    from ._smallrna import SmallRnaResult, quantify_smallrna, write_smallrna

_LAZY = {
    "Annotation": "._annotation",
    "CountResult": "._counts",
    "count_bam": "._bam",
    "read_annotation": "._annotation",
    "write_counts": "._counts",
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
