"""Analyses on an AnnData; each writes var/obs/uns and has a matching ``get.*_df``."""

from ..reference import ANNOTATION_COLUMNS
from ._annotate import annotate
from ._concordance import concordance, concordance_table
from ._de import contrast_name, de
from ._enrichment import enrichment
from ._integrate import integrate
from ._signature import score, signature, signature_cv, to_gmt

__all__ = [
    "ANNOTATION_COLUMNS",
    "annotate",
    "concordance",
    "concordance_table",
    "contrast_name",
    "de",
    "enrichment",
    "integrate",
    "score",
    "signature",
    "signature_cv",
    "to_gmt",
]
