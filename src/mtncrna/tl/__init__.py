"""Analyses on an AnnData; each writes var/obs/uns and has a matching ``get.*_df``."""

from ._annotate import ANNOTATION_COLUMNS, annotate
from ._de import contrast_name, de

__all__ = ["ANNOTATION_COLUMNS", "annotate", "contrast_name", "de"]
