"""Plots: every function returns a matplotlib Figure and saves only when ``save`` is given."""

from ._plots import (
    class_composition,
    correlation_heatmap,
    enrichment_plot,
    ma_plot,
    pca,
    purity,
    signature_scores,
    volcano,
)

__all__ = [
    "class_composition",
    "correlation_heatmap",
    "enrichment_plot",
    "ma_plot",
    "pca",
    "purity",
    "signature_scores",
    "volcano",
]
