"""Small statistical helpers shared by the engine and the analyses."""

from __future__ import annotations

import numpy as np


def p_adjust_bh(p: np.ndarray) -> np.ndarray:
    """Benjamini-Hochberg over the non-missing p-values (R's ``p.adjust(method = "BH")``).

    Missing p-values stay missing and do not count towards the number of tests.
    """
    from statsmodels.stats.multitest import multipletests

    p = np.asarray(p, dtype=float)
    out = np.full(p.shape, np.nan)
    ok = ~np.isnan(p)
    if ok.any():
        out[ok] = multipletests(p[ok], method="fdr_bh")[1]
    return out
