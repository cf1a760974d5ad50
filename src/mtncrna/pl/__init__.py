"""Plots: every function takes the AnnData a pp/tl function wrote, accepts ``ax=`` where it draws
one panel, returns a matplotlib Figure and saves only when ``save`` is given."""

from ._plots import (
    CLASS_COLOURS,
    DESIGN_FACTORS,
    class_composition,
    correlation_heatmap,
    counts,
    dispersion,
    enrichment_plot,
    level_colours,
    ma_plot,
    pca,
    purity,
    signature_scores,
    volcano,
)

__all__ = [
    "CLASS_COLOURS",
    "DESIGN_FACTORS",
    "class_composition",
    "correlation_heatmap",
    "counts",
    "dispersion",
    "enrichment_plot",
    "level_colours",
    "ma_plot",
    "pca",
    "purity",
    "signature_scores",
    "volcano",
]
