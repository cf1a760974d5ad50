"""R's ``loess()`` for one predictor, as DESeq2 uses it (``loess(y ~ x, span=)``, then
``predict()``).

R's defaults: local quadratic fits (``degree = 2``), tricube weights over the ``floor(n * span)``
nearest points, ``family = "gaussian"`` (no robustness iterations) and
``surface = "interpolate"``: the local fit is computed only at the vertices of a k-d tree
(cells are split at the median point until they hold at most ``floor(n * span * cell)`` points,
``cell = 0.2``; the bounding box is widened by 0.5 % of the range on each side), each vertex
keeps the fitted value and slope, and predictions are cubic Hermite interpolants between the two
vertices of the leaf cell. This is Cleveland, Grosse and Shyu's dloess algorithm as R's
``stats`` package runs it, written here from its description for one dimension. It is not
statsmodels' ``lowess`` (local linear, robustness iterations, no k-d tree).
"""

from __future__ import annotations

import numpy as np


def _local_fit(x: np.ndarray, y: np.ndarray, q: float, nf: int) -> tuple[float, float]:
    """Weighted quadratic fit around ``q`` on the ``nf`` nearest points: (value, slope)."""
    dist = (x - q) ** 2
    order = np.argsort(dist, kind="stable")[:nf]
    rho = dist[order[-1]]
    w = np.sqrt((1.0 - np.sqrt(dist[order] / rho) ** 3) ** 3)
    dx = x[order] - q
    A = np.column_stack([np.ones(nf), dx, dx**2]) * w[:, None]
    coef, *_ = np.linalg.lstsq(A, y[order] * w, rcond=None)
    return float(coef[0]), float(coef[1])


def _kd_vertices(x: np.ndarray, fc: int) -> np.ndarray:
    """Split values of R's k-d tree over sorted ``x`` (cells of at most ``fc`` points)."""
    xs = np.sort(x)
    span = xs[-1] - xs[0]
    mu = 0.005 * max(span, 1e-10 * max(abs(xs[0]), abs(xs[-1])) + 1e-30)
    vertices = [xs[0] - mu, xs[-1] + mu]
    cells = [(0, len(xs) - 1, xs[0] - mu, xs[-1] + mu)]
    while cells:
        lo, hi, left, right = cells.pop()
        if hi - lo + 1 <= fc:
            continue
        m = (lo + hi) // 2  # R's m = (l + u) / 2 on 1-based indices, the same cell point
        # ties go with the upper cell: move the split to a point that differs from the next
        offset = 0
        while lo <= m + offset < hi and xs[m + offset] == xs[m + offset + 1]:
            offset = -offset + (1 if -offset >= 0 else 0)
        if lo <= m + offset < hi:
            m = m + offset
        split = xs[m]
        if split in (left, right):
            continue
        vertices.append(split)
        cells.append((lo, m, left, split))
        cells.append((m + 1, hi, split, right))
    return np.unique(vertices)


def loess_predict(
    x: np.ndarray,
    y: np.ndarray,
    new_x: np.ndarray,
    *,
    span: float = 0.75,
    cell: float = 0.2,
) -> np.ndarray:
    """``predict(loess(y ~ x, span = span), new_x)`` with R's defaults (degree 2, gaussian,
    interpolate); values outside the data range are NaN, as in R."""
    x = np.asarray(x, dtype=float)
    y = np.asarray(y, dtype=float)
    new_x = np.asarray(new_x, dtype=float)
    n = len(x)
    nf = min(n, int(np.floor(n * span + 1e-5)))
    if nf < 4:
        raise ValueError(f"span {span} is too small for {n} points")
    fc = int(np.floor(n * span * cell))
    verts = _kd_vertices(x, fc)
    fits = np.array([_local_fit(x, y, v, nf) for v in verts])
    val, slope = fits[:, 0], fits[:, 1]
    # the leaf cell of each point: a point on a split value belongs to the lower cell
    j = np.clip(np.searchsorted(verts, new_x, side="left") - 1, 0, len(verts) - 2)
    v0, v1 = verts[j], verts[j + 1]
    width = v1 - v0
    h = (new_x - v0) / width
    phi0 = (1 - h) ** 2 * (1 + 2 * h)
    phi1 = h**2 * (3 - 2 * h)
    psi0 = h * (1 - h) ** 2
    psi1 = h**2 * (h - 1)
    out = phi0 * val[j] + phi1 * val[j + 1] + (psi0 * slope[j] + psi1 * slope[j + 1]) * width
    out[(new_x < x.min()) | (new_x > x.max())] = np.nan
    return out
