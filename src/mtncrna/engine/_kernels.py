"""numba kernels for the per-gene negative-binomial fits (one gene at a time, fused loops).

R DESeq2 fits each gene in C++ (fitDisp, fitDispGrid, fitBeta); these kernels take exactly the
same steps per gene, so the numbers agree with R's to rounding, but:

- the log posterior and its derivative are one pass over the samples with no genes x samples
  temporaries, and the log posterior at an accepted step is not evaluated a second time;
- ``lgamma``/``digamma`` of ``y + 1/alpha`` are evaluated once per *distinct* count of a gene
  (a gene of 5,000 samples typically has a few hundred distinct counts), weighted by how often
  it occurs;
- genes are split into chunks run by a pool of threads (``_threads``; the kernels release the
  GIL), so every core works and memory stays at the size of the inputs and outputs.

Each kernel takes a gene range ``[lo, hi)`` and writes its rows of preallocated outputs.
"""

from __future__ import annotations

import math

import numba
import numpy as np

_jit = numba.njit(cache=True, nogil=True)


# ----------------------------------------------------------------------------------- scalars


@_jit
def digamma(x: float) -> float:
    """psi(x) for x > 0: recurrence up to x >= 10, then the asymptotic series (|error| < 1e-16)."""
    res = 0.0
    while x < 10.0:
        res -= 1.0 / x
        x += 1.0
    f = 1.0 / (x * x)
    t = f * (
        -1.0 / 12
        + f
        * (
            1.0 / 120
            + f
            * (
                -1.0 / 252
                + f * (1.0 / 240 + f * (-1.0 / 132 + f * (691.0 / 32760 + f * (-1.0 / 12))))
            )
        )
    )
    return res + math.log(x) - 0.5 / x + t


@numba.njit(cache=True, nogil=True, inline="always")
def log1p(x: float) -> float:
    """log(1 + x) to a few ulp with one ``log`` (glibc's log1p costs three times as much)."""
    v = 1.0 + x
    if v == 1.0:
        return x
    return math.log(v) * x / (v - 1.0)


@_jit
def _runs(y: np.ndarray, u: np.ndarray, c: np.ndarray, tally: np.ndarray) -> int:
    """Distinct values of ``y`` into ``u`` (ascending) and their multiplicities into ``c``;
    returns how many. Whole counts below ``len(tally)`` are tallied, others sorted."""
    n = y.shape[0]
    top = 0.0
    whole = True
    for v in y:
        if v > top:
            top = v
        if v < 0.0 or v != math.floor(v):
            whole = False
    if whole and top < tally.shape[0]:
        t = int(top)
        tally[: t + 1] = 0
        for v in y:
            tally[int(v)] += 1
        k = 0
        for i in range(t + 1):
            if tally[i] > 0:
                u[k] = i
                c[k] = tally[i]
                k += 1
        return k
    s = np.sort(y)
    k = 0
    for i in range(n):
        v = s[i]
        if k > 0 and v == u[k - 1]:
            c[k - 1] += 1.0
        else:
            u[k] = v
            c[k] = 1.0
            k += 1
    return k


@_jit
def _lu_inplace(A: np.ndarray, piv: np.ndarray) -> float:
    """LU with partial pivoting of a small square matrix; returns log|det| (-inf if singular)."""
    p = A.shape[0]
    logdet = 0.0
    for k in range(p):
        best = k
        for i in range(k + 1, p):
            if abs(A[i, k]) > abs(A[best, k]):
                best = i
        piv[k] = best
        if best != k:
            for j in range(p):
                tmp = A[k, j]
                A[k, j] = A[best, j]
                A[best, j] = tmp
        d = A[k, k]
        if d == 0.0:
            return -np.inf
        logdet += math.log(abs(d))
        for i in range(k + 1, p):
            A[i, k] /= d
            for j in range(k + 1, p):
                A[i, j] -= A[i, k] * A[k, j]
    return logdet


@_jit
def _lu_solve(LU: np.ndarray, piv: np.ndarray, b: np.ndarray) -> None:
    """Solve in place with the factors of :func:`_lu_inplace`."""
    p = LU.shape[0]
    for k in range(p):
        j = piv[k]
        if j != k:
            tmp = b[k]
            b[k] = b[j]
            b[j] = tmp
    for i in range(p):
        for j in range(i):
            b[i] -= LU[i, j] * b[j]
    for i in range(p - 1, -1, -1):
        for j in range(i + 1, p):
            b[i] -= LU[i, j] * b[j]
        b[i] /= LU[i, i]


@_jit
def _inverse(A: np.ndarray, out: np.ndarray, piv: np.ndarray, work: np.ndarray) -> None:
    """``out = inv(A)`` (``A`` is overwritten by its LU factors)."""
    p = A.shape[0]
    _lu_inplace(A, piv)
    for j in range(p):
        for i in range(p):
            work[i] = 1.0 if i == j else 0.0
        _lu_solve(A, piv, work)
        for i in range(p):
            out[i, j] = work[i]


# --------------------------------------------------------------- dispersion: log posterior


@_jit
def _symmetrize(B: np.ndarray) -> None:
    p = B.shape[0]
    for a in range(p):
        for b in range(a):
            B[b, a] = B[a, b]


@_jit
def _cell_outer_sum(Xc: np.ndarray, sw: np.ndarray, B: np.ndarray) -> None:
    """``B = sum_c sw[c] Xc[c] Xc[c]'`` (X' diag(w) X with w summed within design cells)."""
    p = Xc.shape[1]
    B[:, :] = 0.0
    for ci in range(Xc.shape[0]):
        s = sw[ci]
        for a in range(p):
            xa = s * Xc[ci, a]
            for b in range(a + 1):
                B[a, b] += xa * Xc[ci, b]
    _symmetrize(B)


@_jit
def log_posterior(
    la: float,
    y: np.ndarray,
    mu: np.ndarray,
    u: np.ndarray,
    c: np.ndarray,
    k: int,
    sum_y: float,
    Xc: np.ndarray,
    cell: np.ndarray,
    prior_mean: float,
    prior_var: float,
    use_prior: bool,
    use_cr: bool,
    B: np.ndarray,
    piv: np.ndarray,
    sw: np.ndarray,
) -> float:
    """Cox-Reid adjusted log posterior of log(alpha) for one gene (DESeq2's log_posterior).

    Per sample ``-y log(mu + 1/a) - (1/a) log(1 + mu a)`` is computed as
    ``-(y + 1/a) log1p(mu a) + y log(a)`` (one logarithm per sample). The design is given by
    its distinct rows ``Xc`` and each sample's row ``cell``: the Cox-Reid matrix
    ``X' diag(w) X`` is ``sum_c (sum of w in cell c) Xc[c] Xc[c]'``, so a sample adds one number.
    """
    alpha = math.exp(la)
    r = 1.0 / alpha
    lgr = math.lgamma(r)
    ll = 0.0
    for i in range(k):
        if u[i] != 0.0:
            ll += c[i] * (math.lgamma(u[i] + r) - lgr)
    if use_cr:
        sw[:] = 0.0
    acc = 0.0
    for j in range(y.shape[0]):
        m = mu[j]
        v = 1.0 + m * alpha
        acc += (y[j] + r) * log1p(m * alpha)
        if use_cr:
            sw[cell[j]] += m / v
    ll -= acc + sum_y * math.log(r)
    if use_cr:
        _cell_outer_sum(Xc, sw, B)
        ll -= 0.5 * _lu_inplace(B, piv)
    if use_prior:
        ll -= 0.5 * (la - prior_mean) ** 2 / prior_var
    return ll


@_jit
def dlog_posterior(
    la: float,
    y: np.ndarray,
    mu: np.ndarray,
    u: np.ndarray,
    c: np.ndarray,
    k: int,
    Xc: np.ndarray,
    cell: np.ndarray,
    prior_mean: float,
    prior_var: float,
    use_prior: bool,
    use_cr: bool,
    B: np.ndarray,
    dB: np.ndarray,
    Binv: np.ndarray,
    piv: np.ndarray,
    work: np.ndarray,
    sw: np.ndarray,
    sw2: np.ndarray,
) -> float:
    """Derivative of :func:`log_posterior` in log(alpha) (DESeq2's dlog_posterior)."""
    p = Xc.shape[1]
    alpha = math.exp(la)
    r = 1.0 / alpha
    dgr = digamma(r)
    s = 0.0
    for i in range(k):
        if u[i] != 0.0:
            s += c[i] * (dgr - digamma(u[i] + r))
    if use_cr:
        sw[:] = 0.0
        sw2[:] = 0.0
    for j in range(y.shape[0]):
        ma = mu[j] * alpha
        inv1 = 1.0 / (1.0 + ma)
        # log1p(mu a) - mu a / (1 + mu a) + y / (mu + 1/a)
        s += log1p(ma) + (y[j] * alpha - ma) * inv1
        if use_cr:
            w = mu[j] * inv1
            sw[cell[j]] += w
            sw2[cell[j]] -= w * w
    dll = s / (alpha * alpha)
    if use_cr:
        _cell_outer_sum(Xc, sw, B)
        _cell_outer_sum(Xc, sw2, dB)
        _inverse(B, Binv, piv, work)
        tr = 0.0
        for a in range(p):
            for b in range(p):
                tr += Binv[a, b] * dB[b, a]
        dll -= 0.5 * tr
    d = dll * alpha
    if use_prior:
        d -= (la - prior_mean) / prior_var
    return d


@_jit
def _count_buffers(n: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Distinct counts, their multiplicities, and the tally of :func:`_runs`."""
    return np.empty(n), np.empty(n), np.empty(4 * n + 64, dtype=np.int64)


@_jit
def _matrix_buffers(p: int) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Two p x p matrices and an inverse, a pivot vector and a work vector."""
    return (
        np.empty((p, p)),
        np.empty((p, p)),
        np.empty((p, p)),
        np.empty(p, dtype=np.int64),
        np.empty(p),
    )


@_jit
def fit_disp_kernel(
    lo: int,
    hi: int,
    y: np.ndarray,
    mu: np.ndarray,
    Xc: np.ndarray,
    cell: np.ndarray,
    log_alpha: np.ndarray,
    prior_mean: np.ndarray,
    prior_var: float,
    use_prior: bool,
    use_cr: bool,
    min_log_alpha: float,
    kappa_0: float,
    tol: float,
    maxit: int,
    epsilon: float,
    out_la: np.ndarray,
    out_iter: np.ndarray,
    out_last_lp: np.ndarray,
    out_initial_lp: np.ndarray,
) -> None:
    """DESeq2's fitDisp (backtracking line search on log alpha), genes ``lo:hi``.

    The log posterior at an accepted point is the one just computed for the Armijo test (R
    evaluates it a second time, to the same value).
    """
    n = y.shape[1]
    p = Xc.shape[1]
    u, c, tally = _count_buffers(n)
    B, dB, Binv, piv, work = _matrix_buffers(p)
    sw = np.empty(Xc.shape[0])
    sw2 = np.empty(Xc.shape[0])
    for g in range(lo, hi):
        yg = y[g]
        mg = mu[g]
        k = _runs(yg, u, c, tally)
        sy = 0.0
        for v in yg:
            sy += v
        pm = prior_mean[g]
        a = log_alpha[g]
        lp = log_posterior(
            a, yg, mg, u, c, k, sy, Xc, cell, pm, prior_var, use_prior, use_cr, B, piv, sw
        )
        dlp = dlog_posterior(
            a,
            yg,
            mg,
            u,
            c,
            k,
            Xc,
            cell,
            pm,
            prior_var,
            use_prior,
            use_cr,
            B,
            dB,
            Binv,
            piv,
            work,
            sw,
            sw2,
        )
        out_initial_lp[g] = lp
        kappa = kappa_0
        iters = 0
        accepts = 0
        for _ in range(maxit):
            iters += 1
            prop = a + kappa * dlp
            if prop < -30.0:
                kappa = (-30.0 - a) / dlp
            if prop > 10.0:
                kappa = (10.0 - a) / dlp
            a_new = a + kappa * dlp
            lp_new = log_posterior(
                a_new, yg, mg, u, c, k, sy, Xc, cell, pm, prior_var, use_prior, use_cr, B, piv, sw
            )
            theta_kappa = -lp_new
            theta_hat = -lp - kappa * epsilon * dlp * dlp
            if theta_kappa <= theta_hat:
                accepts += 1
                a = a_new
                change = lp_new - lp
                if change < tol:
                    lp = lp_new
                    break
                if a < min_log_alpha:
                    break
                lp = lp_new
                dlp = dlog_posterior(
                    a,
                    yg,
                    mg,
                    u,
                    c,
                    k,
                    Xc,
                    cell,
                    pm,
                    prior_var,
                    use_prior,
                    use_cr,
                    B,
                    dB,
                    Binv,
                    piv,
                    work,
                    sw,
                    sw2,
                )
                kappa = min(kappa * 1.1, kappa_0)
                if accepts % 5 == 0:
                    kappa = kappa / 2.0
            else:
                kappa = kappa / 2.0
        out_la[g] = a
        out_iter[g] = iters
        out_last_lp[g] = lp


@_jit
def fit_disp_grid_kernel(
    lo: int,
    hi: int,
    y: np.ndarray,
    mu: np.ndarray,
    Xc: np.ndarray,
    cell: np.ndarray,
    grid: np.ndarray,
    fine_offsets: np.ndarray,
    prior_mean: np.ndarray,
    prior_var: float,
    use_prior: bool,
    use_cr: bool,
    out_la: np.ndarray,
) -> None:
    """DESeq2's fitDispGrid: best point of a grid, then of a finer grid around it."""
    n = y.shape[1]
    p = Xc.shape[1]
    u, c, tally = _count_buffers(n)
    B, _, _, piv, _ = _matrix_buffers(p)
    sw = np.empty(Xc.shape[0])
    for g in range(lo, hi):
        yg = y[g]
        mg = mu[g]
        k = _runs(yg, u, c, tally)
        sy = 0.0
        for v in yg:
            sy += v
        pm = prior_mean[g]
        best = grid[0]
        best_lp = -np.inf
        for a in grid:
            lp = log_posterior(
                a, yg, mg, u, c, k, sy, Xc, cell, pm, prior_var, use_prior, use_cr, B, piv, sw
            )
            if lp > best_lp:  # the first maximum, as R's which.max
                best_lp = lp
                best = a
        centre = best
        best_lp = -np.inf
        for off in fine_offsets:
            a = centre + off
            lp = log_posterior(
                a, yg, mg, u, c, k, sy, Xc, cell, pm, prior_var, use_prior, use_cr, B, piv, sw
            )
            if lp > best_lp:
                best_lp = lp
                best = a
        out_la[g] = best


# -------------------------------------------------------------------- GLM: IRLS and loglik


@_jit
def _lgamma_part(u: np.ndarray, c: np.ndarray, k: int, size: float) -> float:
    """``sum_j lgamma(y_j + size) - lgamma(size) - lgamma(y_j + 1)`` over the distinct counts."""
    lgs = math.lgamma(size)
    s = 0.0
    for i in range(k):
        if u[i] != 0.0:
            s += c[i] * (math.lgamma(u[i] + size) - lgs - math.lgamma(u[i] + 1.0))
    return s


@_jit
def nb_loglik_kernel(
    lo: int, hi: int, y: np.ndarray, mu: np.ndarray, alpha: np.ndarray, out: np.ndarray
) -> None:
    """``sum_j log dnbinom(y_j; size=1/alpha, mu=mu_j)`` per gene, as
    ``lgamma terms - (y + size) log1p(mu alpha) + y log(mu alpha)``."""
    n = y.shape[1]
    u, c, tally = _count_buffers(n)
    for g in range(lo, hi):
        yg = y[g]
        mg = mu[g]
        a = alpha[g]
        size = 1.0 / a
        k = _runs(yg, u, c, tally)
        ll = _lgamma_part(u, c, k, size)
        for j in range(n):
            ma = mg[j] * a
            ll -= (yg[j] + size) * log1p(ma)
            if yg[j] > 0.0:
                ll += yg[j] * math.log(ma)
        out[g] = ll


@_jit
def fit_beta_kernel(
    lo: int,
    hi: int,
    y: np.ndarray,
    log_nf: np.ndarray,
    Xc: np.ndarray,
    cell: np.ndarray,
    alpha: np.ndarray,
    beta0: np.ndarray,
    lam: np.ndarray,
    tol: float,
    maxit: int,
    minmu: float,
    large: float,
    out_beta: np.ndarray,
    out_cov: np.ndarray,
    out_hat: np.ndarray,
    out_iter: np.ndarray,
    out_dev: np.ndarray,
    out_mu: np.ndarray,
    out_loglik: np.ndarray,
) -> None:
    """DESeq2's fitBeta (IRLS with a ridge ``lam``), then the sandwich covariance and hat values
    at the final ``minmu``-bounded means, genes ``lo:hi``; ``out_mu`` and ``out_loglik`` get
    the unbounded means ``nf exp(X beta)`` and the log-likelihood there (what R reports).

    The design is given by its distinct rows ``Xc`` and each sample's row ``cell``: the linear
    predictor is computed once per cell, and ``X' W X``, ``X' W z`` from per-cell sums.
    ``log(mu / nf)`` is kept from the linear predictor rather than recomputed with a logarithm,
    and the deviance uses one ``log1p`` per sample (see :func:`nb_loglik_kernel`).
    """
    n = y.shape[1]
    C, p = Xc.shape
    u, c, tally = _count_buffers(n)
    A, xtwx, inv, piv, work = _matrix_buffers(p)
    mu = np.empty(n)
    lmu = np.empty(n)  # log(mu / nf)
    w = np.empty(n)
    b = np.empty(p)
    beta = np.empty(p)
    tmp = np.empty((p, p))
    eta_c = np.empty(C)
    sw = np.empty(C)
    swz = np.empty(C)
    quad = np.empty(C)
    log_minmu = math.log(minmu)
    for g in range(lo, hi):
        yg = y[g]
        lnf = log_nf[g]
        ag = alpha[g]
        size = 1.0 / ag
        la = math.log(ag)
        k = _runs(yg, u, c, tally)
        lg_part = _lgamma_part(u, c, k, size)
        for a in range(p):
            beta[a] = beta0[g, a]
        for ci in range(C):
            e = 0.0
            for a in range(p):
                e += Xc[ci, a] * beta[a]
            eta_c[ci] = e
        for j in range(n):
            eta = eta_c[cell[j]]
            m = math.exp(lnf[j] + eta)
            if m < minmu:
                mu[j] = minmu
                lmu[j] = log_minmu - lnf[j]
            else:
                mu[j] = m
                lmu[j] = eta
        dev_old = 0.0
        dev = 0.0
        iters = 0
        for t in range(maxit):
            iters += 1
            sw[:] = 0.0
            swz[:] = 0.0
            for j in range(n):
                m = mu[j]
                wj = m / (1.0 + ag * m)
                z = lmu[j] + (yg[j] - m) / m
                sw[cell[j]] += wj
                swz[cell[j]] += wj * z
            _cell_outer_sum(Xc, sw, A)
            b[:] = 0.0
            for ci in range(C):
                for a in range(p):
                    b[a] += swz[ci] * Xc[ci, a]
            for a in range(p):
                A[a, a] += lam[a]
            _lu_inplace(A, piv)
            _lu_solve(A, piv, b)
            blown = False
            for a in range(p):
                beta[a] = b[a]
                if abs(b[a]) > large:
                    blown = True
            for ci in range(C):
                e = 0.0
                for a in range(p):
                    e += Xc[ci, a] * beta[a]
                eta_c[ci] = e
            ll = lg_part
            for j in range(n):
                eta = eta_c[cell[j]]
                m = math.exp(lnf[j] + eta)
                if m < minmu:
                    m = minmu
                    lmu[j] = log_minmu - lnf[j]
                else:
                    lmu[j] = eta
                mu[j] = m
                ll -= (yg[j] + size) * log1p(m * ag)
                if yg[j] > 0.0:
                    ll += yg[j] * (lmu[j] + lnf[j] + la)
            dev = -2.0 * ll
            conv = abs(dev - dev_old) / (abs(dev) + 0.1)
            if math.isnan(conv) or blown:
                iters = maxit
                break
            if t > 0 and conv < tol:
                break
            dev_old = dev
        # covariance and hat values at the final means (as R recomputes them from beta), and
        # the log-likelihood at the unbounded means
        for ci in range(C):
            e = 0.0
            for a in range(p):
                e += Xc[ci, a] * beta[a]
            eta_c[ci] = e
        sw[:] = 0.0
        ll = lg_part
        for j in range(n):
            m = math.exp(lnf[j] + eta_c[cell[j]])
            out_mu[g, j] = m
            ma = m * ag
            ll -= (yg[j] + size) * log1p(ma)
            if yg[j] > 0.0:
                ll += yg[j] * math.log(ma)
            m = max(m, minmu)
            wj = m / (1.0 + ag * m)
            w[j] = wj
            sw[cell[j]] += wj
        _cell_outer_sum(Xc, sw, xtwx)
        for a in range(p):
            for q in range(p):
                A[a, q] = xtwx[a, q] + (lam[a] if a == q else 0.0)
        _inverse(A, inv, piv, work)
        for a in range(p):
            for q in range(p):
                s = 0.0
                for r in range(p):
                    s += xtwx[a, r] * inv[r, q]
                tmp[a, q] = s
        for a in range(p):
            for q in range(p):
                s = 0.0
                for r in range(p):
                    s += inv[a, r] * tmp[r, q]
                out_cov[g, a, q] = s
        for ci in range(C):
            h = 0.0
            for a in range(p):
                s = 0.0
                for q in range(p):
                    s += inv[a, q] * Xc[ci, q]
                h += Xc[ci, a] * s
            quad[ci] = h
        for j in range(n):
            out_hat[g, j] = quad[cell[j]] * w[j]
        for a in range(p):
            out_beta[g, a] = beta[a]
        out_iter[g] = iters
        out_dev[g] = dev
        out_loglik[g] = ll


# ----------------------------------------------------------------------------- size factors


@_jit
def median_ratio_kernel(
    lo: int,
    hi: int,
    logy: np.ndarray,
    y: np.ndarray,
    loggeo: np.ndarray,
    use: np.ndarray,
    out: np.ndarray,
) -> None:
    """Samples ``lo..hi``: median of ``logy[i, j] - loggeo[j]`` over genes with ``use[j]`` and a
    positive count (the log of the median-of-ratios size factor); NaN when there is none."""
    G = logy.shape[1]
    buf = np.empty(G)
    for i in range(lo, hi):
        k = 0
        for j in range(G):
            if use[j] and y[i, j] > 0:
                buf[k] = logy[i, j] - loggeo[j]
                k += 1
        out[i] = np.median(buf[:k]) if k else np.nan
