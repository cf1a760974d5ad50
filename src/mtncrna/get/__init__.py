"""Tidy DataFrames out of what ``tl`` wrote."""

from ._get import annotation_df, evidence_df

__all__ = ["annotation_df", "evidence_df"]
