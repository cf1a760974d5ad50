"""R's ``lowess()`` (Cleveland's LOWESS as R's ``stats`` package runs it), which DESeq2's
independent filtering fits to the number of rejections over the filter quantiles
(``lowess(numRej ~ theta, f = 1/5)``).

Written from the description of R's ``clowess``: local linear fits on the ``floor(f * n)``
nearest points with tricube weights (weight 1 within 0.001 x the radius, 0 beyond 0.999 x),
fitted values at points closer than ``delta`` to the last fitted one interpolated linearly,
points whose neighbourhood has no weight left copying their own ``y``, and ``iter``
robustness iterations with bisquare weights of the residuals over 6 x their median
(1 below 0.001 x, 0 above 0.999 x that; stopped once that scale is below 1e-7 x the mean
absolute residual). statsmodels' ``lowess`` differs in these details, and so, on some
curves, in the filter threshold that DESeq2 picks.
"""

from __future__ import annotations

import math

import numpy as np


def _lowest(
    x: list[float],
    y: list[float],
    n: int,
    xs: float,
    nleft: int,
    nright: int,
    w: list[float],
    rw: list[float] | None,
) -> float | None:
    """The local linear fit at ``xs`` on points ``nleft..nright`` (1-based), or None when
    every weight is 0."""
    rng = x[n] - x[1]
    h = max(xs - x[nleft], x[nright] - xs)
    h9, h1 = 0.999 * h, 0.001 * h
    a = 0.0
    j = nleft
    while j <= n:
        w[j] = 0.0
        r = abs(x[j] - xs)
        if r <= h9:
            if r <= h1:
                w[j] = 1.0
            else:
                q = r / h
                q = 1.0 - q * q * q
                w[j] = q * q * q
            if rw is not None:
                w[j] *= rw[j]
            a += w[j]
        elif x[j] > xs:
            break
        j += 1
    nrt = j - 1
    if a <= 0.0:
        return None
    for j in range(nleft, nrt + 1):
        w[j] /= a
    if h > 0.0:
        a = 0.0
        for j in range(nleft, nrt + 1):
            a += w[j] * x[j]
        b = xs - a
        c = 0.0
        for j in range(nleft, nrt + 1):
            c += w[j] * ((x[j] - a) * (x[j] - a))
        if math.sqrt(c) > 0.001 * rng:
            b /= c
            for j in range(nleft, nrt + 1):
                w[j] *= b * (x[j] - a) + 1.0
    ys = 0.0
    for j in range(nleft, nrt + 1):
        ys += w[j] * y[j]
    return ys


def lowess(
    x: np.ndarray,
    y: np.ndarray,
    *,
    f: float = 2 / 3,
    iter: int = 3,
    delta: float | None = None,
) -> np.ndarray:
    """``lowess(x, y, f, iter, delta)$y`` of R, returned in the order of the input points
    (R returns them sorted by ``x``). ``delta`` defaults to 1 % of the range of ``x``."""
    xa = np.asarray(x, dtype=float)
    ya = np.asarray(y, dtype=float)
    n = len(xa)
    order = np.argsort(xa, kind="stable")
    if delta is None:
        delta = 0.01 * float(xa.max() - xa.min()) if n else 0.0
    out = np.empty(n)
    if n < 2:
        out[:] = ya
        return out
    # 1-based copies, as the algorithm is described
    X = [0.0, *xa[order].tolist()]
    Y = [0.0, *ya[order].tolist()]
    ys = [0.0] * (n + 1)
    w = [0.0] * (n + 1)
    rw: list[float] | None = None
    res = [0.0] * n
    ns = max(2, min(n, int(f * n + 1e-7)))
    it = 1
    while it <= iter + 1:
        nleft, nright, last, i = 1, ns, 0, 1
        while True:
            if nright < n:
                d1 = X[i] - X[nleft]
                d2 = X[nright + 1] - X[i]
                if d1 > d2:
                    nleft += 1
                    nright += 1
                    continue
            fit = _lowest(X, Y, n, X[i], nleft, nright, w, rw if it > 1 else None)
            ys[i] = Y[i] if fit is None else fit
            if last < i - 1:
                denom = X[i] - X[last]
                for j in range(last + 1, i):
                    alpha = (X[j] - X[last]) / denom
                    ys[j] = alpha * ys[i] + (1.0 - alpha) * ys[last]
            last = i
            cut = X[last] + delta
            i = last + 1
            while i <= n:
                if X[i] > cut:
                    break
                if X[i] == X[last]:
                    ys[i] = ys[last]
                    last = i
                i += 1
            i = max(last + 1, i - 1)
            if last >= n:
                break
        res = [Y[k + 1] - ys[k + 1] for k in range(n)]
        sc = sum(abs(r) for r in res) / n
        if it > iter:
            break
        ares = sorted(abs(r) for r in res)
        m1 = n // 2
        cmad = 3.0 * (ares[m1] + ares[n - m1 - 1]) if n % 2 == 0 else 6.0 * ares[m1]
        if cmad < 1e-7 * sc:
            break
        c9, c1 = 0.999 * cmad, 0.001 * cmad
        rw = [0.0] * (n + 1)
        for k in range(n):
            r = abs(res[k])
            if r <= c1:
                rw[k + 1] = 1.0
            elif r <= c9:
                q = r / cmad
                q = 1.0 - q * q
                rw[k + 1] = q * q
            else:
                rw[k + 1] = 0.0
        it += 1
    out[order] = ys[1:]
    return out
