"""Small statistical helpers shared by the engine and the analyses."""

from __future__ import annotations

import numpy as np


def p_adjust_bh(p: np.ndarray) -> np.ndarray:
    """Benjamini-Hochberg over the non-missing p-values (R's ``p.adjust(method = "BH")``).

    Missing p-values stay missing and do not count towards the number of tests. The arithmetic
    is statsmodels' ``multipletests(method="fdr_bh")`` step for step (the same numbers, without
    importing statsmodels on every DE run).
    """
    p = np.asarray(p, dtype=float)
    out = np.full(p.shape, np.nan)
    ok = ~np.isnan(p)
    if ok.any():
        q = p[ok]
        order = np.argsort(q)
        ranked = q[order]
        ecdf = np.arange(1, len(q) + 1) / float(len(q))
        adjusted = np.minimum.accumulate((ranked / ecdf)[::-1])[::-1]
        adjusted[adjusted > 1] = 1
        back = np.empty_like(adjusted)
        back[order] = adjusted
        out[ok] = back
    return out
