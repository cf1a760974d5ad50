"""Analyses on an AnnData; each writes var/obs/uns and has a matching ``get.*_df``."""

from ._annotate import ANNOTATION_COLUMNS, annotate
from ._concordance import concordance, concordance_table
from ._de import contrast_name, de
from ._enrichment import enrichment

__all__ = [
    "ANNOTATION_COLUMNS",
    "annotate",
    "concordance",
    "concordance_table",
    "contrast_name",
    "de",
    "enrichment",
]
