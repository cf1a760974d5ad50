"""Tidy DataFrames out of what ``pp``/``tl`` wrote (one ``get.x_df`` for each ``tl.x``)."""

from ._get import (
    annotation_df,
    concordance_df,
    de_df,
    enrichment_df,
    evidence_df,
    integrate_df,
    qc_df,
    score_df,
    signature_df,
)

__all__ = [
    "annotation_df",
    "concordance_df",
    "de_df",
    "enrichment_df",
    "evidence_df",
    "integrate_df",
    "qc_df",
    "score_df",
    "signature_df",
]
