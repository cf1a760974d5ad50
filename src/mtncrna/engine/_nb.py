"""Negative-binomial building blocks.

Arrays are genes x samples (``y``, ``mu``), the design ``X`` is samples x coefficients. The
fits (:func:`fit_disp`, :func:`fit_disp_grid`, :func:`fit_beta`, :func:`nb_loglik`) run one
numba kernel per gene (``_kernels``) over all cores; :func:`log_posterior` and
:func:`dlog_posterior` are the same formulas vectorised with numpy over genes, kept as the
readable reference the kernels are tested against. The maths follows R DESeq2 (Love, Huber &
Anders 2014) as implemented in its C++ (fitBeta, fitDisp, fitDispGrid), so that the numbers can
be compared with R's to many digits.
"""

from __future__ import annotations

import numpy as np
from scipy.special import digamma, gammaln

from . import _kernels, _threads

#: DESeq2's defaults
MIN_DISP = 1e-8
KAPPA_0 = 1.0
DISP_TOL = 1e-6
MAXIT = 100
EPSILON = 1e-4  # Armijo constant
MINMU = 0.5
BETA_TOL = 1e-8
LARGE_BETA = 30.0


def nb_loglik(y: np.ndarray, mu: np.ndarray, alpha: np.ndarray) -> np.ndarray:
    """Per-gene NB log-likelihood, ``sum_j log dnbinom(y_j; size=1/alpha, mu=mu_j)``."""
    out = np.empty(y.shape[0])
    _threads.run_chunks(_kernels.nb_loglik_kernel, y.shape[0], _f64(y), _f64(mu), _f64(alpha), out)
    return out


def _xtwx(X: np.ndarray, w: np.ndarray) -> np.ndarray:
    """Batched X' diag(w_g) X: genes x p x p."""
    return np.einsum("np,gn,nq->gpq", X, w, X, optimize=True)


def log_posterior(
    log_alpha: np.ndarray,
    y: np.ndarray,
    mu: np.ndarray,
    X: np.ndarray,
    prior_mean: np.ndarray | None = None,
    prior_var: float = 1.0,
    use_cr: bool = True,
) -> np.ndarray:
    """Cox-Reid adjusted profile log-likelihood of log(alpha), with an optional normal prior."""
    alpha = np.exp(log_alpha)
    inv = 1.0 / alpha
    a = inv[:, None]
    ll = (gammaln(y + a) - gammaln(a) - y * np.log(mu + a) - a * np.log1p(mu * alpha[:, None])).sum(
        axis=1
    )
    if use_cr:
        w = 1.0 / (1.0 / mu + alpha[:, None])
        _, logdet = np.linalg.slogdet(_xtwx(X, w))
        ll = ll - 0.5 * logdet
    if prior_mean is not None:
        ll = ll - 0.5 * (log_alpha - prior_mean) ** 2 / prior_var
    return ll


def dlog_posterior(
    log_alpha: np.ndarray,
    y: np.ndarray,
    mu: np.ndarray,
    X: np.ndarray,
    prior_mean: np.ndarray | None = None,
    prior_var: float = 1.0,
    use_cr: bool = True,
) -> np.ndarray:
    """Derivative of :func:`log_posterior` with respect to log(alpha)."""
    alpha = np.exp(log_alpha)
    am = alpha[:, None]
    inv = 1.0 / am
    dll = (1.0 / alpha**2) * (
        digamma(inv)
        + np.log1p(mu * am)
        - mu * am / (1.0 + mu * am)
        - digamma(y + inv)
        + y / (mu + inv)
    ).sum(axis=1)
    if use_cr:
        w = 1.0 / (1.0 / mu + am)
        B = _xtwx(X, w)
        dB = _xtwx(X, -(w**2))
        # d/dalpha of -0.5 log det B = -0.5 tr(B^-1 dB)
        dcr = -0.5 * np.einsum("gii->g", np.linalg.solve(B, dB))
        dll = dll + dcr
    d = dll * alpha
    if prior_mean is not None:
        d = d - (log_alpha - prior_mean) / prior_var
    return d


def _f64(a: np.ndarray) -> np.ndarray:
    return np.ascontiguousarray(a, dtype=np.float64)


def _cells(X: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The distinct rows of the design and each sample's row: ``X == Xc[cell]``."""
    Xc, cell = np.unique(_f64(X), axis=0, return_inverse=True)
    return np.ascontiguousarray(Xc), cell.ravel().astype(np.int64)


def fit_disp(
    y: np.ndarray,
    X: np.ndarray,
    mu: np.ndarray,
    log_alpha: np.ndarray,
    *,
    prior_mean: np.ndarray | None = None,
    prior_var: float = 1.0,
    min_log_alpha: float = np.log(MIN_DISP / 10),
    kappa_0: float = KAPPA_0,
    tol: float = DISP_TOL,
    maxit: int = MAXIT,
    use_cr: bool = True,
) -> dict[str, np.ndarray]:
    """Maximise the log posterior of log(alpha) by backtracking line search (DESeq2's fitDisp).

    Each gene takes exactly the steps R's C++ loop takes (one numba kernel per gene, genes
    spread over the cores).
    """
    G = y.shape[0]
    out_la = np.empty(G)
    iters = np.zeros(G, dtype=np.int64)
    last_lp = np.empty(G)
    initial_lp = np.empty(G)
    use_prior = prior_mean is not None
    pm = _f64(prior_mean) if use_prior else np.zeros(G)
    _threads.run_chunks(
        _kernels.fit_disp_kernel,
        G,
        _f64(y),
        _f64(mu),
        *_cells(X),
        _f64(log_alpha),
        pm,
        float(prior_var),
        use_prior,
        bool(use_cr),
        float(min_log_alpha),
        float(kappa_0),
        float(tol),
        int(maxit),
        EPSILON,
        out_la,
        iters,
        last_lp,
        initial_lp,
    )
    return {"log_alpha": out_la, "iter": iters, "last_lp": last_lp, "initial_lp": initial_lp}


def fit_disp_grid(
    y: np.ndarray,
    X: np.ndarray,
    mu: np.ndarray,
    *,
    min_log_alpha: float,
    max_log_alpha: float,
    prior_mean: np.ndarray | None = None,
    prior_var: float = 1.0,
    use_cr: bool = True,
) -> np.ndarray:
    """Grid then fine-grid search of log(alpha) (DESeq2's fitDispGrid); returns alpha."""
    grid = np.linspace(min_log_alpha, max_log_alpha, 20)
    delta = grid[1] - grid[0]
    G = y.shape[0]
    out = np.empty(G)
    use_prior = prior_mean is not None
    pm = _f64(prior_mean) if use_prior else np.zeros(G)
    _threads.run_chunks(
        _kernels.fit_disp_grid_kernel,
        G,
        _f64(y),
        _f64(mu),
        *_cells(X),
        grid,
        np.linspace(-delta, delta, 20),
        pm,
        float(prior_var),
        use_prior,
        bool(use_cr),
        out,
    )
    return np.exp(out)


def fit_beta(
    y: np.ndarray,
    X: np.ndarray,
    sf: np.ndarray,
    alpha: np.ndarray,
    beta0: np.ndarray,
    *,
    lam: np.ndarray,
    tol: float = BETA_TOL,
    maxit: int = MAXIT,
    minmu: float = MINMU,
) -> dict[str, np.ndarray]:
    """IRLS for NB GLM coefficients (natural-log scale) with a small ridge (DESeq2's fitBeta).

    Returns beta (G x p), the sandwich covariance of beta (G x p x p) computed at the final,
    ``minmu``-bounded means, the hat-matrix diagonals (G x n), iterations, deviance, and the
    unbounded means ``mu`` (G x n) with the log-likelihood ``loglik`` there.
    """
    G, n = y.shape
    p = X.shape[1]
    log_nf = np.broadcast_to(np.log(sf), (G, n)) if sf.ndim == 1 else np.log(sf)
    out = {
        "beta": np.empty((G, p)),
        "cov": np.empty((G, p, p)),
        "hat": np.empty((G, n)),
        "iter": np.zeros(G, dtype=np.int64),
        "deviance": np.empty(G),
        "mu": np.empty((G, n)),
        "loglik": np.empty(G),
    }
    _threads.run_chunks(
        _kernels.fit_beta_kernel,
        G,
        _f64(y),
        log_nf.astype(np.float64, copy=False),
        *_cells(X),
        _f64(alpha),
        _f64(beta0),
        _f64(lam),
        float(tol),
        int(maxit),
        float(minmu),
        LARGE_BETA,
        out["beta"],
        out["cov"],
        out["hat"],
        out["iter"],
        out["deviance"],
        out["mu"],
        out["loglik"],
    )
    return out
