"""R's ``locfit()`` for one predictor, as DESeq2's ``localDispersionFit`` uses it:
``locfit(logDisps ~ logMeans, weights = means)`` and then ``predict()``.

Written from the description and the C source of the locfit R package (Catherine Loader,
version 1.5-9.7 as Debian ships it); only what that call uses is here. Its defaults:

* local quadratic fits (``deg = 2``) with the basis ``1, (x - t), (x - t)^2 / 2`` around the
  fitting point ``t``, family ``qgaussian`` with the identity link (weighted least squares),
  the prior ``weights`` multiplying the kernel weights;
* tricube kernel weights over a nearest-neighbour bandwidth ``nn = 0.7``: ``h`` is the distance
  to the ``floor(n * 0.7)``-th nearest data point; points at distance ``h`` or more get 0;
* a parametric component: one global weighted quadratic fit around the weighted mean of ``x``
  is subtracted from every local fit and added back at prediction time (in one dimension this
  changes only what is extrapolated beyond the data);
* the evaluation structure ``ev = rbox(cut = 0.8)``, the adaptive tree: the local fit is
  computed at the two ends of the data range; a cell is halved while its width exceeds
  ``cut`` times the smaller bandwidth at its two vertices; each vertex keeps the fitted value
  and slope, and a prediction is the cubic Hermite interpolant in its leaf cell (linear
  beyond the data range, plus the parametric component);
* each local system is solved as locfit does: one Newton step from the weighted mean, with
  the Hessian scaled to unit diagonal, eigen-decomposed, and directions whose eigenvalue is
  below ``1e-8`` times the largest dropped.
"""

from __future__ import annotations

import math

import numpy as np

from .._errors import MtncrnaError

_E_TOL = 1e-8  # locfit's m_eigen.c: eigenvalues below E_TOL * max are treated as zero


def _basis(d: np.ndarray) -> np.ndarray:
    """locfit's degree-2 basis in one dimension: 1, d, d^2/2."""
    return np.column_stack([np.ones_like(d), d, d * d / 2.0])


def _seqsum(v: np.ndarray) -> float:
    """A left-to-right sum, in the order locfit's C loops add (numpy's sum is pairwise)."""
    return float(np.cumsum(v)[-1]) if len(v) else 0.0


def _eig_dec(X: list[list[float]]) -> tuple[list[list[float]], list[list[float]]]:
    """locfit's ``eig_dec``: cyclic Jacobi rotations on a symmetric matrix, stopping when every
    squared off-diagonal is below 1e-15 x the product of its diagonals (so the eigenvectors are
    good to ~3e-8 only; R's fits carry that, and it is reproduced here step by step)."""
    d = len(X)
    X = [row[:] for row in X]
    P = [[1.0 if i == j else 0.0 for j in range(d)] for i in range(d)]
    for _ in range(20):
        moved = False
        for i in range(d):
            for j in range(i + 1, d):
                if X[i][j] * X[i][j] > 1.0e-15 * abs(X[i][i] * X[j][j]):
                    c = (X[j][j] - X[i][i]) / 2
                    s = -X[i][j]
                    r = math.sqrt(c * c + s * s)
                    c /= r
                    s = math.sqrt((1 - c) / 2) * (2 * (s > 0) - 1)
                    c = math.sqrt((1 + c) / 2)
                    for k in range(d):
                        u, v = X[i][k], X[j][k]
                        X[i][k] = u * c + v * s
                        X[j][k] = v * c - u * s
                    for k in range(d):
                        u, v = X[k][i], X[k][j]
                        X[k][i] = u * c + v * s
                        X[k][j] = v * c - u * s
                    X[i][j] = X[j][i] = 0.0
                    for k in range(d):
                        u, v = P[k][i], P[k][j]
                        P[k][i] = u * c + v * s
                        P[k][j] = v * c - u * s
                    moved = True
        if not moved:
            break
    return X, P


def _newton_wls(X: np.ndarray, kern: np.ndarray, pw: np.ndarray, y: np.ndarray) -> list[float]:
    """Weighted least squares as locfit's ``lfiter`` runs it for the gaussian family with the
    identity link: start at the weighted mean, take one Newton step (``max_nr``), solving with
    ``jacob_solve`` (Hessian scaled to unit diagonal, Jacobi eigen-decomposition, eigenvalues
    below 1e-8 x the largest left undivided as ``eig_solve`` does). Sums run in the order of
    the rows, as the C loops add."""
    p = X.shape[1]
    s0 = _seqsum(kern * pw)
    if s0 == 0:
        raise MtncrnaError("locfit: no points with non-zero weight")
    cf0 = _seqsum(kern * (pw * y)) / s0
    link = pw * (y - cf0)
    f1 = [_seqsum((X[:, j] * kern) * link) for j in range(p)]
    c = kern * pw
    Z = [[_seqsum((c * X[:, a]) * X[:, b]) for b in range(p)] for a in range(p)]
    dg = [0.0 if Z[i][i] <= 0 else 1 / math.sqrt(Z[i][i]) for i in range(p)]
    Zs = [[Z[i][j] * (dg[i] * dg[j]) for j in range(p)] for i in range(p)]
    D, Q = _eig_dec(Zs)
    v = [f1[i] * dg[i] for i in range(p)]
    tol = _E_TOL * max(D[i][i] for i in range(p))
    w = [0.0] * p
    for i in range(p):
        acc = 0.0
        for j in range(p):
            acc += Q[j][i] * v[j]
        w[i] = acc / D[i][i] if D[i][i] > tol else acc
    delta = [0.0] * p
    for i in range(p):
        acc = 0.0
        for j in range(p):
            acc += Q[i][j] * w[j]
        delta[i] = acc * dg[i]
    start = [cf0] + [0.0] * (p - 1)
    return [start[i] + 1.0 * delta[i] for i in range(p)]


class Locfit:
    """``locfit(y ~ x, weights = w)`` with locfit's defaults; call it to ``predict()``."""

    def __init__(
        self,
        x: np.ndarray,
        y: np.ndarray,
        weights: np.ndarray | None = None,
        *,
        nn: float = 0.7,
        cut: float = 0.8,
        maxk: int = 100,
    ) -> None:
        self.x = np.asarray(x, dtype=float)
        self.y = np.asarray(y, dtype=float)
        n = len(self.x)
        if n == 0:
            raise MtncrnaError("locfit: fewer than one row in the data")
        self.w = np.ones(n) if weights is None else np.asarray(weights, dtype=float)
        self.nn = nn
        self.cut = cut
        self.k = int(n * nn + 1e-12)  # locfit.c: (int)(lfd->n * nn(sp) + 1e-12)
        self.lo, self.hi = float(self.x.min()), float(self.x.max())
        self._ordered = bool(np.all(np.diff(self.x) >= 0))
        # the parametric component: a global quadratic around the weighted mean of x
        self.xbar = _seqsum(self.x * self.w) / _seqsum(self.w)
        self.pc = _newton_wls(_basis(self.x - self.xbar), np.ones(n), self.w, self.y)
        # room for vertices as locfit's atree_guessnv (R stops when a fit needs more)
        a0 = 1.0 if nn > 1 else 1.0 / nn
        cu = min(1.0, max(cut, 0.01))
        self._max_vertices = int(int((5 * a0 / cu + 1) * 2) * (maxk / 100.0))
        self.vertices: dict[float, tuple[float, float, float]] = {}  # x -> (value, slope, h)
        self._children: dict[tuple[float, float], float] = {}  # cell -> split point
        for v in (self.lo, self.hi):
            self._fit_vertex(v)
        self._grow(self.lo, self.hi)

    # ------------------------------------------------------------------------------ fitting

    def _parametric(self, t: np.ndarray | float) -> tuple[np.ndarray, np.ndarray]:
        d = np.asarray(t, dtype=float) - self.xbar
        c0, c1, c2 = self.pc
        return c0 + c1 * d + c2 * (d * d / 2.0), c1 + c2 * d

    def _fit_vertex(self, t: float) -> None:
        if len(self.vertices) >= self._max_vertices:
            raise MtncrnaError("locfit: newsplit: out of vertex space")
        n = len(self.x)
        dist = np.abs(self.x - t)
        if self.k < 1:
            h = 0.0
        elif self.k < n:
            h = float(np.partition(dist, self.k - 1)[self.k - 1])
        else:
            h = float(dist.max() * (self.k / n))
        if h > 0:
            u = dist / h
            u = 1.0 - u * u * u
            kern = np.where(dist < h, u * u * u, 0.0)
        else:
            kern = (dist == 0).astype(float)
        if self._ordered:
            # nbhd1's order for sorted data: from the closest point at or below t leftwards,
            # then rightwards
            z = int(np.searchsorted(self.x, t, side="right")) - 1
            if 0 <= z + 1 < n and z >= 0 and (t - self.x[z]) > (self.x[z + 1] - t):
                z += 1
            if z >= 0 and self.x[z] > t:
                z -= 1
            order = np.concatenate([np.arange(z, -1, -1), np.arange(z + 1, n)])
        else:
            order = np.arange(n)
        order = order[kern[order] > 0]
        d = self.x[order] - t
        coef = _newton_wls(_basis(d), kern[order], self.w[order], self.y[order])
        q, dq = self._parametric(t)
        self.vertices[t] = (float(coef[0] - q), float(coef[1] - dq), h)

    def _split(self, ll: float, ur: float) -> bool:
        """locfit's atree_split: halve a cell wider than ``cut`` x the smaller bandwidth."""
        hs = [self.vertices[v][2] for v in (ll, ur)]
        positive = [h for h in hs if h > 0]
        # with no positive bandwidth, locfit compares the cell with the whole box
        score = (ur - ll) / min(positive) if positive else 2 * (ur - ll) / (self.hi - self.lo)
        return self.cut < score

    def _grow(self, ll: float, ur: float) -> None:
        if not self._split(ll, ur):
            return
        mid = (ll + ur) / 2
        if mid not in self.vertices:
            self._fit_vertex(mid)
        self._children[(ll, ur)] = mid
        self._grow(ll, mid)
        self._grow(mid, ur)

    # --------------------------------------------------------------------------- prediction

    def __call__(self, new_x: np.ndarray) -> np.ndarray:
        """``predict(fit, new_x)``: Hermite interpolation in the leaf cell of the tree."""
        xq = np.asarray(new_x, dtype=float)
        flat = xq.ravel()
        ll = np.empty_like(flat)
        ur = np.empty_like(flat)
        stack = [(self.lo, self.hi, np.arange(flat.size))]
        while stack:
            a, b, idx = stack.pop()
            mid = self._children.get((a, b))
            if mid is None:
                ll[idx], ur[idx] = a, b
                continue
            lower = 2 * (flat[idx] - a) < (b - a)  # atree_int's descent
            stack.append((a, mid, idx[lower]))
            stack.append((mid, b, idx[~lower]))
        f0 = np.array([self.vertices[v][0] for v in ll]) if flat.size else np.empty(0)
        d0 = np.array([self.vertices[v][1] for v in ll]) if flat.size else np.empty(0)
        f1 = np.array([self.vertices[v][0] for v in ur]) if flat.size else np.empty(0)
        d1 = np.array([self.vertices[v][1] for v in ur]) if flat.size else np.empty(0)
        width = ur - ll
        with np.errstate(divide="ignore", invalid="ignore"):
            h = (flat - ll) / width
        # ev_interp.c's hermite2, including its linear continuation outside [0, 1]
        phi1 = h * h * (3 - 2 * h)
        phi0 = 1 - phi1
        phi2 = h * (1 - h) * (1 - h)
        phi3 = h * h * (h - 1)
        below, above = h < 0, h > 1
        phi0 = np.where(below, 1.0, np.where(above, 0.0, phi0))
        phi1 = np.where(below, 0.0, np.where(above, 1.0, phi1))
        phi2 = np.where(below, h, np.where(above, 0.0, phi2))
        phi3 = np.where(below, 0.0, np.where(above, h - 1, phi3))
        flat_cell = width == 0  # hermite2 with z == 0: the vertex value
        phi0 = np.where(flat_cell, 1.0, phi0)
        phi1, phi2, phi3 = (np.where(flat_cell, 0.0, p) for p in (phi1, phi2, phi3))
        out = phi0 * f0 + phi1 * f1 + (phi2 * width) * d0 + (phi3 * width) * d1
        out = out + self._parametric(flat)[0]
        return out.reshape(xq.shape)
