"""Tidy DataFrames out of what ``tl`` wrote."""

from ._get import annotation_df, de_df, evidence_df

__all__ = ["annotation_df", "de_df", "evidence_df"]
