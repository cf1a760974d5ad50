"""The count model (DESeq2's maths) on arrays and frames: no AnnData, no I/O.

Every analysis that needs a negative-binomial fit asks this package, so there is one DESeq2 in
the house.
"""

from ._deseq import (
    DeseqFit,
    DispersionTrend,
    deseq,
    independent_filtering,
    lrt_test,
    size_factors,
    vst,
    wald_test,
)
from ._design import (
    check_full_rank,
    coefficient_vector,
    contrast_samples,
    contrast_vector,
    design_matrix,
    factor_variables,
    formula_variables,
    reduced_design,
)
from ._shrink import lfc_shrink, lfc_shrink_normal
from ._stats import p_adjust_bh
from ._threads import threads

__all__ = [
    "DeseqFit",
    "DispersionTrend",
    "check_full_rank",
    "coefficient_vector",
    "contrast_samples",
    "contrast_vector",
    "deseq",
    "design_matrix",
    "factor_variables",
    "formula_variables",
    "independent_filtering",
    "lfc_shrink",
    "lfc_shrink_normal",
    "lrt_test",
    "p_adjust_bh",
    "reduced_design",
    "size_factors",
    "threads",
    "vst",
    "wald_test",
]
