"""Reads -> counts: aligned reads (BAM/SAM/CRAM) per gene, with featureCounts' rules."""

from ._bam import Annotation, CountResult, count_bam, read_annotation, write_counts
from ._collapse import KITS
from ._smallrna import SmallRnaResult, quantify_smallrna, write_smallrna

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
