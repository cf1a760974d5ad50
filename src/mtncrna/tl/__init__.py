"""Analyses on an AnnData; each writes var/obs/uns and has a matching ``get.*_df``."""

from ._annotate import ANNOTATION_COLUMNS, annotate

__all__ = ["ANNOTATION_COLUMNS", "annotate"]
