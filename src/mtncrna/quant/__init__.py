"""Reads -> counts: aligned reads (BAM/SAM/CRAM) per gene, with featureCounts' rules."""

from ._bam import Annotation, CountResult, count_bam, read_annotation, write_counts

__all__ = ["Annotation", "CountResult", "count_bam", "read_annotation", "write_counts"]
