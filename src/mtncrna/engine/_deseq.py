"""The DESeq2 pipeline on arrays: size factors, dispersions, GLM fit, Wald and LRT tests.

Inputs are a samples x genes count matrix and a samples x coefficients design matrix; outputs
are arrays and DataFrames. Each step reproduces R DESeq2 (1.38-1.42) including the details that
decide agreement on real data: the dispersion trend is fitted only on genes whose gene-wise
estimate exceeds 100 x minDisp, the prior variance uses trigamma of the residual degrees of
freedom, means are bounded below by 0.5 when the Wald covariance is computed, and Cook's
distances use the trimmed robust method-of-moments dispersion.
"""

from __future__ import annotations

import logging
import warnings
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
from scipy.special import chdtrc, fdtri, ndtr, polygamma

from .._errors import MtncrnaError
from . import _kernels, _nb, _threads
from ._design import check_full_rank
from ._locfit import Locfit
from ._lowess import lowess as r_lowess
from ._nb import MIN_DISP
from ._stats import p_adjust_bh as _bh

logger = logging.getLogger("mtncrna")


# ------------------------------------------------------------------------------ size factors


def size_factors(counts: np.ndarray, method: str = "ratio") -> np.ndarray:
    """Median-of-ratios size factors (``counts`` is samples x genes).

    ``method="ratio"`` is DESeq2's default and needs genes with no zero; ``"poscounts"`` (as
    ``estimateSizeFactors(type="poscounts")``) copes with sparse small-RNA data; ``"auto"`` uses
    ratio when at least one gene has no zero count, else poscounts.
    """
    y = np.asarray(counts, dtype=float)
    if method == "auto":
        method = "ratio" if (y > 0).all(axis=0).any() else "poscounts"
    with np.errstate(divide="ignore"):
        logy = np.log(y)
    if method == "ratio":
        loggeo = logy.mean(axis=0)
        use = np.isfinite(loggeo)
        if not use.any():
            raise MtncrnaError(
                "every gene has at least one zero count, so median-of-ratios size factors are "
                "undefined; use size_factors='poscounts'"
            )
        return np.exp(_median_log_ratios(logy, y, loggeo, use))
    if method == "poscounts":
        logpos = np.where(y > 0, logy, 0.0)
        loggeo = logpos.sum(axis=0) / y.shape[0]
        use = np.isfinite(loggeo) & (loggeo > 0)
        med = _median_log_ratios(logy, y, loggeo, use)
        sf = np.exp(med)  # NaN where a sample has no count on the genes used
        if not np.isfinite(sf).all():
            bad = np.flatnonzero(~np.isfinite(sf))
            raise MtncrnaError(
                f"{len(bad)} sample(s) (positions {', '.join(str(b + 1) for b in bad[:5])}) "
                "have no counts on the features used for size factors; remove empty libraries"
            )
        return sf / np.exp(np.mean(np.log(sf)))
    raise MtncrnaError(f"unknown size factor method '{method}'; expected ratio, poscounts, auto")


def _median_log_ratios(
    logy: np.ndarray, y: np.ndarray, loggeo: np.ndarray, use: np.ndarray
) -> np.ndarray:
    """Per sample, the median over used genes with a count of log(count) - log geometric mean
    (one numba kernel per block of samples, on the engine's threads)."""
    out = np.empty(y.shape[0])
    _threads.run_chunks(
        _kernels.median_ratio_kernel,
        y.shape[0],
        np.ascontiguousarray(logy),
        np.ascontiguousarray(y),
        np.ascontiguousarray(loggeo),
        np.ascontiguousarray(use),
        out,
    )
    return out


# ------------------------------------------------------------------------------- dispersions


def _linear_model_mu(yn: np.ndarray, X: np.ndarray, pinv: np.ndarray | None = None) -> np.ndarray:
    """Fitted normalized counts of a least-squares fit of each gene on X (genes x samples)."""
    # (yn X^+') X' rather than yn (X X^+)': never forms the samples x samples hat matrix
    pinv = np.linalg.pinv(X) if pinv is None else pinv
    return (yn @ pinv.T) @ X.T


def rough_disp(yn: np.ndarray, X: np.ndarray, pinv: np.ndarray | None = None) -> np.ndarray:
    """DESeq2's roughDispEstimate: moments of the residuals of a linear model."""
    m, p = X.shape
    mu = np.maximum(_linear_model_mu(yn, X, pinv), 1.0)
    est = (((yn - mu) ** 2 - mu) / mu**2).sum(axis=1) / (m - p)
    return np.maximum(est, 0.0)


def moments_disp(yn: np.ndarray, sf: np.ndarray) -> np.ndarray:
    """DESeq2's momentsDispEstimate."""
    xim = np.mean(1.0 / sf)
    bm = yn.mean(axis=1)
    bv = yn.var(axis=1, ddof=1)
    with np.errstate(divide="ignore", invalid="ignore"):
        return (bv - xim * bm) / bm**2


def _unique_rows(X: np.ndarray) -> int:
    return np.unique(np.round(X, 12), axis=0).shape[0]


def gene_wise_dispersions(
    y: np.ndarray, X: np.ndarray, sf: np.ndarray, *, maxit: int = _nb.MAXIT
) -> dict[str, np.ndarray]:
    """Gene-wise dispersion estimates (DESeq2's estimateDispersionsGeneEst), genes x samples y."""
    G, m = y.shape
    max_disp = max(10.0, float(m))
    pinv = np.linalg.pinv(X)
    linear_mu = _unique_rows(X) == X.shape[1]
    alpha_init = np.empty(G)
    mu = np.empty((G, m)) if linear_mu else None

    def block(lo: int, hi: int) -> None:
        yn = y[lo:hi] / sf[None, :]
        rough = rough_disp(yn, X, pinv)
        mom = moments_disp(yn, sf)
        alpha = np.minimum(rough, mom)
        alpha = np.where(np.isnan(alpha), rough, alpha)
        alpha_init[lo:hi] = np.clip(alpha, MIN_DISP, max_disp)
        if mu is not None:
            mu[lo:hi] = np.maximum(_linear_model_mu(yn, X, pinv) * sf[None, :], _nb.MINMU)

    _threads.run_blocks(block, G, _threads.block_size(m))
    if mu is None:
        fit = fit_glm(y, X, sf, alpha_init)
        mu = np.maximum(fit["mu"], _nb.MINMU)
    res = _nb.fit_disp(
        y,
        X,
        mu,
        np.log(alpha_init),
        prior_mean=None,
        min_log_alpha=np.log(MIN_DISP / 10),
        maxit=maxit,
    )
    est = np.minimum(np.exp(res["log_alpha"]), max_disp)
    no_increase = res["last_lp"] < res["initial_lp"] + np.abs(res["initial_lp"]) / 1e6
    est = np.where(no_increase, alpha_init, est)
    conv = (res["iter"] < maxit) & ~(res["iter"] == 1)
    refit = ~conv & (est > MIN_DISP * 10)
    if refit.any():
        est[refit] = _nb.fit_disp_grid(
            y[refit],
            X,
            mu[refit],
            min_log_alpha=np.log(MIN_DISP),
            max_log_alpha=np.log(max_disp),
        )
    est = np.clip(est, MIN_DISP, max_disp)
    return {"dispGeneEst": est, "dispGeneIter": res["iter"], "mu": mu, "dispInit": alpha_init}


@dataclass
class DispersionTrend:
    """The fitted mean-dispersion relation: ``asymptDisp + extraPois / mean`` (parametric)."""

    fit_type: str
    coefficients: tuple[float, float] = (np.nan, np.nan)
    mean_disp: float = np.nan
    var_log_disp: float = np.nan
    n_used: int = 0
    local_fit: Locfit | None = None  # locfit(log disp ~ log mean, weights = mean)

    def __call__(self, means: np.ndarray) -> np.ndarray:
        means = np.asarray(means, dtype=float)
        if self.fit_type == "parametric":
            a0, a1 = self.coefficients
            return a0 + a1 / means
        if self.fit_type == "local" and self.local_fit is not None:
            with np.errstate(divide="ignore", invalid="ignore"):
                return np.exp(self.local_fit(np.log(means)))
        return np.full(np.shape(means), self.mean_disp)


def _gamma_identity_glm(
    y: np.ndarray, x: np.ndarray, start: np.ndarray, maxit: int = 25, eps: float = 1e-8
) -> tuple[np.ndarray, bool]:
    """R's glm(y ~ x, family=Gamma(link='identity'), start=start) via IRLS."""
    A = np.column_stack([np.ones_like(x), x])
    coef = start.astype(float)
    mu = A @ coef
    if (mu <= 0).any():
        raise FloatingPointError("invalid start")

    def deviance(mu: np.ndarray) -> float:
        return float(-2.0 * np.sum(np.log(y / mu) - (y - mu) / mu))

    dev_old = deviance(mu)
    for _ in range(maxit):
        w = 1.0 / mu**2
        coef_new = np.linalg.solve(A.T @ (A * w[:, None]), A.T @ (w * y))
        mu_new = A @ coef_new
        halvings = 0
        while (mu_new <= 0).any() or not np.isfinite(deviance(mu_new)):
            halvings += 1
            if halvings > 30:
                raise FloatingPointError("step halving failed")
            coef_new = (coef_new + coef) / 2.0
            mu_new = A @ coef_new
        coef, mu = coef_new, mu_new
        dev = deviance(mu)
        if abs(dev - dev_old) / (abs(dev) + 0.1) < eps:
            return coef, True
        dev_old = dev
    return coef, False


def parametric_trend(means: np.ndarray, disps: np.ndarray) -> tuple[float, float]:
    """DESeq2's parametricDispersionFit; raises FloatingPointError when it fails."""
    coefs = np.array([0.1, 1.0])
    for _ in range(11):
        resid = disps / (coefs[0] + coefs[1] / means)
        good = (resid > 1e-4) & (resid < 15)
        new, converged = _gamma_identity_glm(disps[good], 1.0 / means[good], coefs)
        if not (new > 0).all():
            raise FloatingPointError("parametric dispersion fit failed")
        change = np.sum(np.log(new / coefs) ** 2)
        coefs = new
        if change < 1e-6 and converged:
            return float(coefs[0]), float(coefs[1])
    raise FloatingPointError("dispersion fit did not converge")


def local_trend(means: np.ndarray, disps: np.ndarray) -> Locfit:
    """DESeq2's ``localDispersionFit``: ``locfit(log(disps) ~ log(means), weights = means)``
    on the genes with dispersion >= 10 x minDisp, with locfit's defaults (see
    :mod:`mtncrna.engine._locfit`); evaluate it on log means."""
    keep = disps >= MIN_DISP * 10
    return Locfit(np.log(means[keep]), np.log(disps[keep]), means[keep])


def _mad2(x: np.ndarray) -> float:
    return float((1.4826 * np.median(np.abs(x - np.median(x)))) ** 2)


def fit_trend(
    base_mean: np.ndarray, disp_gene: np.ndarray, fit_type: str = "parametric"
) -> DispersionTrend:
    """Fit the dispersion trend on genes with dispGeneEst > 100 x minDisp, as R does."""
    use = disp_gene > 100 * MIN_DISP
    if not use.any():
        raise MtncrnaError(
            "all gene-wise dispersion estimates are within 2 orders of magnitude of the minimum "
            "value (1e-8): the counts look like Poisson or simulated data; no trend can be fitted"
        )
    trend = DispersionTrend(fit_type, n_used=int(use.sum()))
    if fit_type == "parametric":
        try:
            trend.coefficients = parametric_trend(base_mean[use], disp_gene[use])
        except (FloatingPointError, np.linalg.LinAlgError):
            logger.info(
                "the parametric dispersion trend was not well captured; using a local "
                "regression of log dispersion on log mean instead (as R DESeq2 does)"
            )
            trend.fit_type = fit_type = "local"
    if fit_type == "local":
        trend.local_fit = local_trend(base_mean[use], disp_gene[use])
    elif fit_type == "mean":
        use_mean = disp_gene > 10 * MIN_DISP
        from scipy import stats

        trend.mean_disp = float(stats.trim_mean(disp_gene[use_mean], 0.001))
    elif fit_type != "parametric":
        raise MtncrnaError(f"unknown fit_type '{fit_type}'; expected parametric, local or mean")
    resid = np.log(disp_gene[use]) - np.log(trend(base_mean[use]))
    trend.var_log_disp = _mad2(resid)
    return trend


def prior_variance(
    disp_gene: np.ndarray, disp_fit: np.ndarray, m: int, p: int, var_log_disp: float
) -> float:
    """DESeq2's estimateDispersionsPriorVar (the Monte Carlo branch for 1-3 residual df)."""
    above = disp_gene >= MIN_DISP * 100
    if m > p and (m - p) <= 3:
        return _prior_var_small_df(np.log(disp_gene[above]) - np.log(disp_fit[above]), m - p)
    if m > p:
        exp_var = float(polygamma(1, (m - p) / 2.0))
        return max(var_log_disp - exp_var, 0.25)
    return var_log_disp


def _r_hist_density(values: np.ndarray, brks: np.ndarray) -> np.ndarray:
    """R's ``hist(values, breaks=brks)$density``: right-closed bins, the first one closed, and
    R's fuzz (breaks moved up by 1e-7 x the median bin width, the first one down)."""
    fuzz = 1e-7 * np.median(np.diff(brks))
    fb = brks + fuzz
    fb[0] = brks[0] - fuzz
    idx = np.searchsorted(fb, values, side="left") - 1
    counts = np.bincount(idx[(idx >= 0) & (idx < len(brks) - 1)], minlength=len(brks) - 1)
    return counts / (len(values) * np.diff(brks))


def _prior_var_small_df(obs: np.ndarray, df: int) -> float:
    """DESeq2's Monte-Carlo prior variance for 1-3 residual degrees of freedom.

    As R: the histogram of the log residuals is compared (KL divergence) with that of
    log(chi2_df / df) + N(0, v) for v on a grid of 200 values in [0, 8], 10,000 draws each; the
    KL curve is smoothed with R's ``loess(span = 0.2)`` (see :mod:`._loess`, which reproduces R's
    to 1e-15), evaluated on 1,000 points, and the argmin is the prior variance (at least 0.25).
    The draws are R's own after ``set.seed(2)`` (:mod:`._rrng` reproduces R's Mersenne-Twister,
    inversion normals and rgamma draw for draw), so the value is R's.
    """
    from ._rrng import RStream

    rng = RStream(2)
    brks = np.arange(-20, 21) / 2.0
    obs = obs[(obs > brks.min()) & (obs < brks.max())]
    obs_hist = _r_hist_density(obs, brks)
    grid = np.linspace(0, 8, 200)
    kl = np.empty(len(grid))
    for i, v in enumerate(grid):
        rand = np.log(rng.rchisq(10000, df)) + rng.rnorm(10000, 0.0, np.sqrt(v)) - np.log(df)
        rand = rand[(rand > brks.min()) & (rand < brks.max())]
        rand_hist = _r_hist_density(rand, brks)
        z = np.concatenate([obs_hist, rand_hist])
        small = z[z > 0].min()
        kl[i] = np.sum(obs_hist * (np.log(obs_hist + small) - np.log(rand_hist + small)))
    from ._loess import loess_predict

    fine = np.linspace(0, 8, 1000)
    arg = fine[np.argmin(loess_predict(grid, kl, fine, span=0.2))]
    return max(float(arg), 0.25)


def map_dispersions(
    y: np.ndarray,
    X: np.ndarray,
    mu: np.ndarray,
    disp_gene: np.ndarray,
    disp_fit: np.ndarray,
    prior_var: float,
    var_log_disp: float,
    *,
    maxit: int = _nb.MAXIT,
    outlier_sd: float = 2.0,
) -> dict[str, np.ndarray]:
    """Shrink gene-wise estimates towards the trend (DESeq2's estimateDispersionsMAP)."""
    m = y.shape[1]
    max_disp = max(10.0, float(m))
    init = np.where(disp_gene > 0.1 * disp_fit, disp_gene, disp_fit)
    res = _nb.fit_disp(
        y,
        X,
        mu,
        np.log(init),
        prior_mean=np.log(disp_fit),
        prior_var=prior_var,
        min_log_alpha=np.log(MIN_DISP / 10),
        maxit=maxit,
    )
    disp = np.exp(res["log_alpha"])
    refit = ~(res["iter"] < maxit)
    if refit.any():
        disp[refit] = _nb.fit_disp_grid(
            y[refit],
            X,
            mu[refit],
            min_log_alpha=np.log(MIN_DISP),
            max_log_alpha=np.log(max_disp),
            prior_mean=np.log(disp_fit[refit]),
            prior_var=prior_var,
        )
    disp = np.clip(disp, MIN_DISP, max_disp)
    outlier = np.log(disp_gene) > np.log(disp_fit) + outlier_sd * np.sqrt(var_log_disp)
    final = np.where(outlier, disp_gene, disp)
    return {
        "dispMAP": disp,
        "dispersion": final,
        "dispOutlier": outlier,
        "dispMAPIter": res["iter"],
    }


# ------------------------------------------------------------------------------------ GLM fit


def fit_glm(
    y: np.ndarray,
    X: np.ndarray,
    sf: np.ndarray,
    alpha: np.ndarray,
    *,
    lambda_log2: float | np.ndarray = 1e-6,
    maxit: int = _nb.MAXIT,
) -> dict[str, np.ndarray]:
    """Fit the NB GLM for every gene (DESeq2's fitNbinomGLMs without a beta prior).

    Coefficients and standard errors are returned on the log2 scale, as DESeq2 reports them.
    """
    p = X.shape[1]
    if p == 1 and np.all(X == 1) and np.all(np.asarray(lambda_log2) <= 1e-6):
        return _fit_intercept_only(y, y / sf[None, :], sf, alpha)
    beta0 = np.zeros((y.shape[0], p))
    full_rank = np.linalg.matrix_rank(X) == p
    if full_rank:
        Q, R = np.linalg.qr(X)
    intercept = np.flatnonzero((X == 1).all(axis=0))[:1]

    def start(lo: int, hi: int) -> None:
        yn = y[lo:hi] / sf[None, :]
        if full_rank:
            beta0[lo:hi] = np.linalg.solve(R, Q.T @ np.log(yn + 0.1).T).T
        else:  # R's start for a rank-deficient (expanded) design: log mean on the intercept
            beta0[lo:hi, intercept] = np.log(yn.mean(axis=1))[:, None]

    _threads.run_blocks(start, y.shape[0], _threads.block_size(y.shape[1]))
    lam = np.broadcast_to(np.asarray(lambda_log2, dtype=float) / np.log(2) ** 2, (p,)).copy()
    fit = _nb.fit_beta(y, X, sf, alpha, beta0, lam=lam, maxit=maxit)
    ln2 = np.log2(np.e)
    beta = fit["beta"] * ln2  # log2 scale
    cov = fit["cov"] * ln2**2
    mu = fit["mu"]
    loglik = fit["loglik"]
    conv = fit["iter"] < maxit
    var = np.einsum("gii->gi", fit["cov"])
    stable = np.isfinite(beta).all(axis=1)
    var_pos = (var > 0).all(axis=1)
    for g in np.flatnonzero(~conv | ~stable | ~var_pos):
        start = beta[g] if stable[g] and (np.abs(beta[g]) < _nb.LARGE_BETA).all() else beta0[g]
        b, ok, c, m_g, ll = _optim_row(y[g], X, sf, alpha[g], start, lambda_log2)
        beta[g], cov[g], mu[g], loglik[g] = b, c, m_g, ll
        conv[g] = conv[g] or ok
    var = np.einsum("gii->gi", cov)
    return {
        "beta": beta,
        "cov": cov,
        "se": np.sqrt(np.maximum(var, 0)),
        "mu": mu,
        "hat": fit["hat"],
        "converged": conv,
        "iter": fit["iter"],
        "loglik": loglik,
    }


def _fit_intercept_only(
    y: np.ndarray, yn: np.ndarray, sf: np.ndarray, alpha: np.ndarray
) -> dict[str, np.ndarray]:
    """R's shortcut for ``~ 1``: the coefficient is log2 of the mean normalized count."""
    with np.errstate(divide="ignore"):
        beta = np.log2(yn.mean(axis=1))[:, None]
    mu = sf[None, :] * np.exp2(beta)
    w = 1.0 / (1.0 / mu + alpha[:, None])
    xtwx = w.sum(axis=1)
    sigma = (1.0 / xtwx)[:, None, None] * np.log2(np.e) ** 2
    return {
        "beta": beta,
        "cov": sigma,
        "se": np.sqrt(sigma[:, :, 0]),
        "mu": mu,
        "hat": w / xtwx[:, None],
        "converged": np.ones(y.shape[0], dtype=bool),
        "iter": np.ones(y.shape[0], dtype=int),
        "loglik": _nb.nb_loglik(y, mu, alpha),
    }


def _optim_row(
    k: np.ndarray,
    X: np.ndarray,
    sf: np.ndarray,
    alpha: float,
    start: np.ndarray,
    lam: float | np.ndarray,
) -> tuple[np.ndarray, bool, np.ndarray, np.ndarray, float]:
    """DESeq2's fitNbinomGLMsOptim for one gene: L-BFGS-B on the log2-scale coefficients with
    R optim's central-difference gradient (ndeps 1e-3), box [-30, 30]."""
    from scipy import stats
    from scipy.optimize import minimize

    size = 1.0 / alpha
    sd = np.sqrt(1.0 / lam)
    large = _nb.LARGE_BETA
    kk = k[None, :]

    def objective(pmat: np.ndarray) -> np.ndarray:  # rows of parameter vectors
        mu = sf[None, :] * np.exp2(pmat @ X.T)
        ll = stats.nbinom.logpmf(kk, size, size / (size + mu)).sum(axis=1)
        lp = stats.norm.logpdf(pmat, 0, sd).sum(axis=1)
        val = -(ll + lp)
        return np.where(np.isfinite(val), val, 1e300)

    def fun(p: np.ndarray) -> float:
        return float(objective(p[None, :])[0])

    def jac(p: np.ndarray) -> np.ndarray:
        eps = 1e-3
        hi = np.minimum(p + eps, large)
        lo = np.maximum(p - eps, -large)
        eye = np.eye(len(p))
        ph = p[None, :] + eye * (hi - p)[None, :]
        pl = p[None, :] + eye * (lo - p)[None, :]
        return (objective(ph) - objective(pl)) / (hi - lo)

    res = minimize(
        fun,
        np.clip(start, -large, large),
        jac=jac,
        method="L-BFGS-B",
        bounds=[(-large, large)] * len(start),
        options={"maxiter": 100, "ftol": 1e7 * np.finfo(float).eps, "gtol": 0.0, "maxcor": 5},
    )
    # polish L-BFGS-B's answer, and also scoring from the least-squares start on log2(counts);
    # keep the better (the optimum is unique, so both usually land on it)
    ls_start = np.linalg.lstsq(X, np.log2(k / sf + 0.1), rcond=None)[0]
    cands = [
        _newton_polish(res.x, k, X, sf, alpha, sd, large, fun),
        _newton_polish(np.clip(ls_start, -large, large), k, X, sf, alpha, sd, large, fun),
    ]
    b = min(cands, key=fun)
    # R's own stopping point wherever it is as good (so results match R's to its tolerance);
    # the polished optimum only where L-BFGS-B stopped clearly short of it
    if res.fun - fun(b) <= 1e-4 * (abs(res.fun) + 1.0):
        b = res.x
    mu = sf * np.exp2(X @ b)
    mu_c = np.maximum(mu, _nb.MINMU)
    w = 1.0 / (1.0 / mu_c + alpha)
    xtwx = X.T @ (X * w[:, None])
    # R's ridge here is on the natural-log scale (lambda / log(2)^2), as in its IRLS
    inv = np.linalg.inv(xtwx + np.diag(np.full(len(b), lam) / np.log(2) ** 2))
    sigma = inv @ xtwx @ inv * np.log2(np.e) ** 2
    ll = float(stats.nbinom.logpmf(k, size, size / (size + mu_c)).sum())
    return b, bool(res.status == 0), sigma, mu, ll


def _newton_polish(
    b: np.ndarray,
    k: np.ndarray,
    X: np.ndarray,
    sf: np.ndarray,
    alpha: float,
    sd: np.ndarray | float,
    large: float,
    fun,
    maxit: int = 50,
) -> np.ndarray:
    """Finish L-BFGS-B's answer with Fisher-scoring steps on the same penalised likelihood.

    The objective is concave in the coefficients, so its optimum is unique; with an uncentred
    numeric covariate the surface is a long narrow valley where L-BFGS-B with a finite-difference
    gradient can stop far from the optimum (R's optim reaches it there). Steps are halved until
    the objective decreases and kept inside R's box [-30, 30]; the result is never worse than
    L-BFGS-B's.
    """
    ln2 = np.log(2.0)
    prec = np.broadcast_to(1.0 / np.asarray(sd, dtype=float) ** 2, b.shape)
    f = fun(b)
    for _ in range(maxit):
        mu = sf * np.exp2(X @ b)
        grad = ln2 * X.T @ ((k - mu) / (1.0 + alpha * mu)) - prec * b  # of the log posterior
        w = mu / (1.0 + alpha * mu)
        info = ln2**2 * (X.T @ (X * w[:, None])) + np.diag(prec)
        try:
            step = np.linalg.solve(info, grad)
        except np.linalg.LinAlgError:
            break
        t = 1.0
        for _ in range(30):
            new = np.clip(b + t * step, -large, large)
            f_new = fun(new)
            if f_new <= f:
                break
            t /= 2.0
        else:
            break
        if f - f_new < 1e-12 * (abs(f) + 1e-12):
            if f_new <= f:
                b = new
            break
        b, f = new, f_new
    return b


# ------------------------------------------------------------------------------ Cook's distance


def _trimmed_mean(x: np.ndarray, trim: float) -> np.ndarray:
    """R's mean(x, trim=) along axis 1: as R, a partial sort (linear in n, not n log n) puts
    the kept middle values between positions k and n - k."""
    n = x.shape[1]
    k = int(np.floor(n * trim))
    s = np.partition(x, sorted({k, n - k - 1}), axis=1)
    return s[:, k : n - k].mean(axis=1)


def _cells(X: np.ndarray) -> np.ndarray:
    _, inv = np.unique(np.round(X, 12), axis=0, return_inverse=True)
    return inv.ravel()


def n_or_more_in_cell(X: np.ndarray, n: int) -> np.ndarray:
    cells = _cells(X)
    counts = np.bincount(cells)
    return counts[cells] >= n


def robust_mom_disp(yn: np.ndarray, X: np.ndarray) -> np.ndarray:
    """DESeq2's robustMethodOfMomentsDisp (used only for Cook's distances)."""
    three = n_or_more_in_cell(X, 3)
    if three.any():
        cells = _cells(X)
        keep = three
        sub = yn[:, keep]
        cs = cells[keep]
        levels = np.unique(cs)
        trim_ratio = np.array([1 / 3, 1 / 4, 1 / 8])
        scale_c = np.array([2.04, 1.86, 1.51])

        def tf(k: int) -> int:
            return 0 if k <= 3.5 else (1 if k <= 23.5 else 2)

        means = np.column_stack(
            [_trimmed_mean(sub[:, cs == lv], trim_ratio[tf((cs == lv).sum())]) for lv in levels]
        )
        qmat = means[:, np.searchsorted(levels, cs)]
        sq = (sub - qmat) ** 2
        var = np.column_stack(
            [
                scale_c[tf((cs == lv).sum())]
                * _trimmed_mean(sq[:, cs == lv], trim_ratio[tf((cs == lv).sum())])
                for lv in levels
            ]
        )
        v = var.max(axis=1)
    else:
        rm = _trimmed_mean(yn, 1 / 8)
        v = 1.51 * _trimmed_mean((yn - rm[:, None]) ** 2, 1 / 8)
    m = yn.mean(axis=1)
    with np.errstate(divide="ignore", invalid="ignore"):
        alpha = (v - m) / m**2
    return np.maximum(alpha, 0.04)


def cooks_distance(
    y: np.ndarray, X: np.ndarray, sf: np.ndarray, mu: np.ndarray, hat: np.ndarray
) -> np.ndarray:
    """Cook's distance of every count (genes x samples), in blocks of genes so that the
    temporaries stay small."""
    p = X.shape[1]
    out = np.empty(y.shape)

    def block(lo: int, hi: int) -> None:
        b = slice(lo, hi)
        disp = robust_mom_disp(y[b] / sf[None, :], X)
        V = mu[b] + disp[:, None] * mu[b] ** 2
        pr2 = (y[b] - mu[b]) ** 2 / V
        out[b] = pr2 / p * hat[b] / (1 - hat[b]) ** 2

    _threads.run_blocks(block, y.shape[0], _threads.block_size(y.shape[1]))
    return out


# ----------------------------------------------------------------------------- the full fit


@dataclass
class DeseqFit:
    """Everything one DESeq2 fit produces; genes are the columns of the input counts."""

    genes: pd.Index
    samples: pd.Index
    design: pd.DataFrame
    size_factors: np.ndarray
    counts: np.ndarray  # genes x samples (all genes)
    all_zero: np.ndarray
    base_mean: np.ndarray
    base_var: np.ndarray
    disp: pd.DataFrame  # per gene: dispGeneEst, dispFit, dispersion, dispOutlier, ...
    trend: DispersionTrend
    prior_var: float
    beta: np.ndarray  # genes x p, log2 scale (NaN for all-zero genes)
    cov: np.ndarray  # genes x p x p, log2 scale
    mu: np.ndarray  # genes x samples
    hat: np.ndarray
    converged: np.ndarray
    loglik: np.ndarray
    cooks: np.ndarray
    max_cooks: np.ndarray
    mu_disp: np.ndarray  # the means of the dispersion stage (R's "mu" assay before the tests)
    fit_counts: np.ndarray  # the counts the model was fitted to (outliers replaced)
    params: dict = field(default_factory=dict)

    @property
    def coef_names(self) -> list[str]:
        return list(self.design.columns)


def deseq(
    counts: np.ndarray | pd.DataFrame,
    design: pd.DataFrame,
    *,
    size_factor_method: str = "ratio",
    fit_type: str = "parametric",
    min_replicates_for_replace: float = 7,
    test: str = "wald",
    control_features: np.ndarray | None = None,
    sample_size_factors: np.ndarray | None = None,
    threads: int | None = None,
) -> DeseqFit:
    """Run DESeq2's ``DESeq()`` steps (Wald fit) on a samples x genes count matrix.

    ``design`` is the samples x coefficients model matrix (see :func:`design_matrix`). As in R,
    counts with a large Cook's distance in design cells of at least
    ``min_replicates_for_replace`` samples are replaced by the trimmed mean and those genes are
    refitted (``np.inf`` turns this off). ``test="lrt"`` reproduces ``DESeq(test="LRT")``,
    whose Cook's distances (and so replacements) use the means of the dispersion stage.
    ``control_features`` (a boolean mask over genes) restricts the size-factor estimation to
    those genes, as R's ``estimateSizeFactors(controlGenes=)``; ``sample_size_factors`` gives
    them directly (R's ``sizeFactors(dds) <-``). ``threads`` is how many threads work on the
    genes (default: every core this process may use); it changes no number.
    """
    with _threads.threads(threads):
        return _deseq(
            counts,
            design,
            size_factor_method=size_factor_method,
            fit_type=fit_type,
            min_replicates_for_replace=min_replicates_for_replace,
            test=test,
            control_features=control_features,
            sample_size_factors=sample_size_factors,
        )


def _deseq(
    counts: np.ndarray | pd.DataFrame,
    design: pd.DataFrame,
    *,
    size_factor_method: str,
    fit_type: str,
    min_replicates_for_replace: float,
    test: str,
    control_features: np.ndarray | None,
    sample_size_factors: np.ndarray | None,
) -> DeseqFit:
    if isinstance(counts, pd.DataFrame):
        genes = pd.Index(counts.columns)
        samples = pd.Index(counts.index)
        Y = counts.to_numpy()
    else:
        Y = np.asarray(counts)
        genes = pd.RangeIndex(Y.shape[1])
        samples = pd.RangeIndex(Y.shape[0])
    X = design.to_numpy(dtype=float)
    m, p = X.shape
    if Y.shape[0] != m:
        raise MtncrnaError(f"design has {m} rows but the counts have {Y.shape[0]} samples")
    check_full_rank(design if isinstance(design, pd.DataFrame) else pd.DataFrame(X))
    if m <= p:
        raise MtncrnaError(
            f"{m} samples for {p} coefficients: there are no residual degrees of freedom "
            "to estimate dispersions; add replicates or simplify the design"
        )
    y_all = np.ascontiguousarray(Y.T, dtype=float)  # genes x samples
    if sample_size_factors is not None:
        sf = np.asarray(sample_size_factors, dtype=float)
        if sf.shape != (m,) or not (np.isfinite(sf) & (sf > 0)).all():
            raise MtncrnaError(f"size factors must be {m} positive numbers")
    elif control_features is not None:
        ctrl = np.asarray(control_features, dtype=bool)
        if ctrl.sum() < 1:
            raise MtncrnaError("no control features left for size factor estimation")
        sf = size_factors(Y[:, ctrl], size_factor_method)
    else:
        sf = size_factors(Y, size_factor_method)
    G = y_all.shape[0]
    base_mean, base_var, all_zero = np.empty(G), np.empty(G), np.empty(G, dtype=bool)

    def moments(lo: int, hi: int) -> None:
        yn = y_all[lo:hi] / sf[None, :]
        base_mean[lo:hi] = yn.mean(axis=1)
        base_var[lo:hi] = yn.var(axis=1, ddof=1)
        all_zero[lo:hi] = y_all[lo:hi].sum(axis=1) == 0

    _threads.run_blocks(moments, G, _threads.block_size(m))
    nz = ~all_zero
    y = y_all if nz.all() else y_all[nz]

    gw = gene_wise_dispersions(y, X, sf)
    trend = fit_trend(base_mean[nz], gw["dispGeneEst"], fit_type)
    disp_fit = trend(base_mean[nz])
    pv = prior_variance(gw["dispGeneEst"], disp_fit, m, p, trend.var_log_disp)
    mp = map_dispersions(y, X, gw["mu"], gw["dispGeneEst"], disp_fit, pv, trend.var_log_disp)
    fit = fit_glm(y, X, sf, mp["dispersion"])
    lrt_cooks = test == "lrt"
    cooks = cooks_distance(y, X, sf, gw["mu"] if lrt_cooks else fit["mu"], fit["hat"])
    max_cooks = _max_cooks(cooks, X)
    mu_disp = gw["mu"]
    fit_counts = y_all
    replaceable = (
        n_or_more_in_cell(X, min_replicates_for_replace)
        if np.isfinite(min_replicates_for_replace)
        else np.zeros(m, dtype=bool)
    )
    n_replaced = 0
    if replaceable.any():
        cutoff = _f_quantile_99(p, m - p)
        idx = (cooks > cutoff) & replaceable[None, :]
        rows = idx.any(axis=1)
        n_replaced = int(rows.sum())
        if n_replaced:
            yn = y / sf[None, :]
            trim_mean = _trimmed_mean(yn, 0.2)
            replacement = np.floor(trim_mean[:, None] * sf[None, :])
            y_rep = np.where(idx, replacement, y)
            fit_counts = y_all.copy()
            fit_counts[nz] = y_rep
            nz_idx = np.flatnonzero(nz)
            yn_rep = y_rep[rows] / sf[None, :]
            base_mean[nz_idx[rows]] = yn_rep.mean(axis=1)
            base_var[nz_idx[rows]] = yn_rep.var(axis=1, ddof=1)
            new_zero = rows & (y_rep.sum(axis=1) == 0)
            refit = rows & ~new_zero
            if refit.any():
                yr = y_rep[refit]
                gw_r = gene_wise_dispersions(yr, X, sf)
                fit_r = trend((yr / sf[None, :]).mean(axis=1))
                mp_r = map_dispersions(
                    yr, X, gw_r["mu"], gw_r["dispGeneEst"], fit_r, pv, trend.var_log_disp
                )
                glm_r = fit_glm(yr, X, sf, mp_r["dispersion"])
                for key in ("dispGeneEst", "dispGeneIter"):
                    gw[key][refit] = gw_r[key]
                mu_disp = mu_disp.copy()
                mu_disp[refit] = gw_r["mu"]
                disp_fit[refit] = fit_r
                for key in ("dispersion", "dispMAPIter", "dispOutlier"):
                    mp[key][refit] = mp_r[key]
                for key in ("beta", "cov", "mu", "hat", "converged", "loglik"):
                    fit[key][refit] = glm_r[key]
                cooks[refit] = cooks_distance(
                    yr, X, sf, gw_r["mu"] if lrt_cooks else glm_r["mu"], glm_r["hat"]
                )
            if new_zero.any():
                for key in ("beta", "cov"):
                    fit[key][new_zero] = np.nan
            if replaceable.all():
                max_cooks = np.full(y.shape[0], np.nan)
            else:
                rc = cooks.copy()
                rc[:, replaceable] = 0.0
                max_cooks = _max_cooks(rc, X)
            logger.info("replaced outlier counts in %d genes and refitted them", n_replaced)

    def expand(a: np.ndarray, fill: float = np.nan) -> np.ndarray:
        if not all_zero.any():
            return a.astype(float, copy=False)
        out = np.full((G, *a.shape[1:]), fill, dtype=float)
        out[nz] = a
        return out

    disp = pd.DataFrame(
        {
            "baseMean": base_mean,
            "baseVar": base_var,
            "allZero": all_zero,
            "dispGeneEst": expand(gw["dispGeneEst"]),
            "dispGeneIter": expand(gw["dispGeneIter"]),
            "dispFit": expand(disp_fit),
            "dispersion": expand(mp["dispersion"]),
            "dispMAPIter": expand(mp["dispMAPIter"]),
            "dispOutlier": expand(mp["dispOutlier"].astype(float)) == 1.0,
            "maxCooks": expand(max_cooks),
        },
        index=genes,
    )
    if not fit["converged"].all():
        logger.warning("%d genes did not converge in the GLM fit", int((~fit["converged"]).sum()))
    return DeseqFit(
        genes=genes,
        samples=samples,
        design=design,
        size_factors=sf,
        counts=y_all,
        all_zero=all_zero,
        base_mean=base_mean,
        base_var=base_var,
        disp=disp,
        trend=trend,
        prior_var=pv,
        beta=expand(fit["beta"]),
        cov=expand(fit["cov"]),
        mu=expand(fit["mu"]),
        hat=expand(fit["hat"]),
        converged=expand(fit["converged"].astype(float)) == 1.0,
        loglik=expand(fit["loglik"]),
        cooks=expand(cooks),
        max_cooks=expand(max_cooks),
        mu_disp=expand(mu_disp),
        fit_counts=fit_counts,
        params={
            "size_factor_method": size_factor_method,
            "fit_type": trend.fit_type,
            "n_replaced": n_replaced,
            "replaceable": replaceable,
            "test": test,
        },
    )


# ------------------------------------------------------------------------------------- tests


def independent_filtering(
    base_mean: np.ndarray, pvalue: np.ndarray, alpha: float = 0.1
) -> tuple[np.ndarray, float, float]:
    """DESeq2's independent filtering on the mean of normalized counts.

    Returns (padj, filter threshold, theta).
    """
    filt = base_mean
    lower = np.mean(filt == 0)
    upper = 0.95 if lower < 0.95 else 1.0
    theta = np.linspace(lower, upper, 50)
    cutoffs = np.quantile(filt, theta)
    padj_mat = np.full((len(pvalue), len(theta)), np.nan)
    for j, c in enumerate(cutoffs):
        use = filt >= c
        if use.any():
            padj_mat[use, j] = _bh(pvalue[use])
    num_rej = np.nansum(padj_mat < alpha, axis=0)
    if num_rej.max() <= 10:
        j = 0
    else:
        fitted = r_lowess(theta, num_rej.astype(float), f=1 / 5)  # R's lowess, not statsmodels'
        pos = num_rej > 0
        resid = num_rej[pos] - fitted[pos] if pos.any() else np.array([0.0])
        thresh = fitted.max() - np.sqrt(np.mean(resid**2))
        above = np.flatnonzero(num_rej > thresh)
        j = int(above[0]) if above.size else 0
    return padj_mat[:, j], float(cutoffs[j]), float(theta[j])


def _f_quantile_99(dfn: int, dfd: int) -> float:
    """The 0.99 quantile of the F distribution (R's ``qf(0.99, p, m - p)``)."""
    return float(fdtri(dfn, dfd, 0.99))


def _max_cooks(cooks: np.ndarray, X: np.ndarray) -> np.ndarray:
    use = n_or_more_in_cell(X, 3)
    if X.shape[0] > X.shape[1] and use.all():
        return cooks.max(axis=1)
    if X.shape[0] > X.shape[1] and use.any():
        return cooks[:, use].max(axis=1)
    return np.full(cooks.shape[0], np.nan)


def _cooks_outliers(
    fit: DeseqFit,
    cutoff: float | bool | None,
    max_cooks: np.ndarray | None = None,
    cooks: np.ndarray | None = None,
) -> np.ndarray:
    max_cooks = fit.max_cooks if max_cooks is None else max_cooks
    cooks = fit.cooks if cooks is None else cooks
    m, p = fit.design.shape
    out = np.zeros(len(fit.genes), dtype=bool)
    if cutoff is False or m <= p:
        return out
    if cutoff is None or cutoff is True:
        cutoff = _f_quantile_99(p, m - p)
    with np.errstate(invalid="ignore"):
        out = max_cooks > cutoff
    out &= ~np.isnan(max_cooks)
    # R's heuristic for two-group designs with one variable: keep genes where >= 3 counts
    # exceed the outlier count
    if out.any() and fit.params.get("n_design_vars") == 1 and fit.params.get("two_group"):
        for g in np.flatnonzero(out):
            out_count = fit.counts[g, np.nanargmax(cooks[g])]
            if (fit.counts[g] > out_count).sum() >= 3:
                out[g] = False
    return out


def wald_test(
    fit: DeseqFit,
    contrast: np.ndarray,
    *,
    alpha: float = 0.1,
    cooks_cutoff: float | bool | None = None,
    independent_filter: bool = True,
    lfc_threshold: float = 0.0,
    alt_hypothesis: str = "greaterAbs",
    contrast_samples: np.ndarray | None = None,
) -> pd.DataFrame:
    """Wald test of a contrast vector (log2 scale), with DESeq2's p-value/padj conventions.

    ``lfc_threshold``/``alt_hypothesis`` as in R's ``results()``: ``greaterAbs`` tests
    |LFC| > threshold, ``lessAbs`` |LFC| < threshold (the larger of the two one-sided p-values),
    ``greater`` LFC > threshold, ``less`` LFC < -threshold. As R, the statistic is then the
    distance to the threshold in standard errors, clipped at 0 on the side of the null
    (``greater``: max((LFC - T) / SE, 0), ``less``: min((LFC + T) / SE, 0), ``greaterAbs``:
    sign(LFC) x max((|LFC| - T) / SE, 0), ``lessAbs``: the smaller of max((T - LFC) / SE, 0)
    and max((LFC + T) / SE, 0)).

    ``contrast_samples`` (a boolean mask of the samples in the two compared groups, see
    :func:`contrast_samples`): as R's ``results(contrast = c(factor, a, b))``, genes whose counts
    are zero in all of them get LFC 0, statistic 0 and p-value 1; a threshold test then
    recomputes their statistic and p-value from LFC 0, as R does.

    Adds a ``reason`` column saying why a p-value or padj is missing: ``all_zero``,
    ``cooks_outlier``, ``low_counts`` (independent filtering) or empty.
    """
    alts = ("greaterAbs", "lessAbs", "greater", "less")
    if alt_hypothesis not in alts:
        raise MtncrnaError(
            f"unknown alt_hypothesis '{alt_hypothesis}'; expected one of {', '.join(alts)}"
        )
    t = float(lfc_threshold)
    if not t >= 0:
        raise MtncrnaError(f"lfc_threshold must be 0 or more; got {lfc_threshold}")
    if t == 0 and alt_hypothesis == "lessAbs":
        raise MtncrnaError(
            "alt_hypothesis='lessAbs' needs a positive lfc_threshold (|LFC| < 0 cannot hold)"
        )
    c = np.asarray(contrast, dtype=float)
    lfc = fit.beta @ c
    se = np.sqrt(np.maximum(np.einsum("p,gpq,q->g", c, fit.cov, c), 0))
    with np.errstate(divide="ignore", invalid="ignore"):
        stat = lfc / se
        pvalue = 2 * ndtr(-np.abs(stat))
    zero = _contrast_all_zero(fit, contrast_samples)
    lfc[zero], stat[zero], pvalue[zero] = 0.0, 0.0, 1.0
    if not (t == 0 and alt_hypothesis == "greaterAbs"):
        stat, pvalue = _threshold_test(lfc, se, t, alt_hypothesis)
    return _finish(fit, lfc, se, stat, pvalue, alpha, cooks_cutoff, independent_filter)


def _threshold_test(
    lfc: np.ndarray, se: np.ndarray, t: float, alt: str
) -> tuple[np.ndarray, np.ndarray]:
    """R ``results()``'s statistics and p-values against a log2 fold-change threshold."""

    def upper(z: np.ndarray) -> np.ndarray:  # the normal upper tail (scipy.stats.norm.sf)
        return ndtr(-z)

    with np.errstate(divide="ignore", invalid="ignore"):
        if alt == "greaterAbs":
            z = (np.abs(lfc) - t) / se
            return np.sign(lfc) * np.maximum(z, 0), np.minimum(1.0, 2 * upper(z))
        if alt == "lessAbs":
            above, below = (t - lfc) / se, (lfc + t) / se
            stat = np.minimum(np.maximum(above, 0), np.maximum(below, 0))
            return stat, np.maximum(upper(above), upper(below))
        if alt == "greater":
            z = (lfc - t) / se
            return np.maximum(z, 0), upper(z)
        z = (lfc + t) / se  # less
        return np.minimum(z, 0), upper((-t - lfc) / se)


def lrt_test(
    fit: DeseqFit,
    reduced: pd.DataFrame,
    contrast: np.ndarray,
    *,
    alpha: float = 0.1,
    cooks_cutoff: float | bool | None = None,
    independent_filter: bool = True,
    contrast_samples: np.ndarray | None = None,
    threads: int | None = None,
) -> pd.DataFrame:
    """Likelihood-ratio test of the full design against ``reduced`` (DESeq2's nbinomLRT).

    log2FoldChange/lfcSE are the Wald estimate of ``contrast`` from the full model (0 for genes
    with no count in ``contrast_samples``, as R). ``threads`` as in :func:`deseq`.
    """
    nz = ~fit.all_zero
    Xr = reduced.to_numpy(dtype=float)
    df = fit.design.shape[1] - Xr.shape[1]
    if df < 1:
        raise MtncrnaError("the reduced design must have fewer coefficients than the full one")
    disp = fit.disp["dispersion"].to_numpy()
    with _threads.threads(threads):
        red = fit_glm(fit.fit_counts[nz], Xr, fit.size_factors, disp[nz])
    stat = np.full(len(fit.genes), np.nan)
    stat[nz] = 2.0 * (fit.loglik[nz] - red["loglik"])
    pvalue = np.where(stat < 0, 1.0, chdtrc(df, np.maximum(stat, 0.0)))
    c = np.asarray(contrast, dtype=float)
    lfc = fit.beta @ c
    se = np.sqrt(np.maximum(np.einsum("p,gpq,q->g", c, fit.cov, c), 0))
    lfc[_contrast_all_zero(fit, contrast_samples)] = 0.0
    # as R's nbinomLRT: Cook's distances from the full model's hat values and the means of the
    # dispersion stage
    X = fit.design.to_numpy(dtype=float)
    cooks = np.full_like(fit.cooks, np.nan)
    with _threads.threads(threads):
        cooks[nz] = cooks_distance(
            fit.fit_counts[nz], X, fit.size_factors, fit.mu_disp[nz], fit.hat[nz]
        )
    replaceable = fit.params.get("replaceable", np.zeros(X.shape[0], dtype=bool))
    if fit.params.get("n_replaced") and replaceable.all():
        max_cooks = np.full(len(fit.genes), np.nan)
    elif fit.params.get("n_replaced"):
        rc = cooks.copy()
        rc[:, replaceable] = 0.0
        max_cooks = _max_cooks(rc, X)
    else:
        max_cooks = _max_cooks(cooks, X)
    return _finish(
        fit,
        lfc,
        se,
        stat,
        pvalue,
        alpha,
        cooks_cutoff,
        independent_filter,
        max_cooks=max_cooks,
        cooks=cooks,
    )


def _contrast_all_zero(fit: DeseqFit, samples: np.ndarray | None) -> np.ndarray:
    """Genes (not all-zero) whose counts (before any outlier replacement, as R's
    ``counts(dds)``) are zero in every sample of the contrast."""
    if samples is None:
        return np.zeros(len(fit.genes), dtype=bool)
    samples = np.asarray(samples, dtype=bool)
    return (fit.counts[:, samples] == 0).all(axis=1) & ~fit.all_zero


def _finish(
    fit: DeseqFit,
    lfc: np.ndarray,
    se: np.ndarray,
    stat: np.ndarray,
    pvalue: np.ndarray,
    alpha: float,
    cooks_cutoff: float | bool | None,
    independent_filter: bool,
    max_cooks: np.ndarray | None = None,
    cooks: np.ndarray | None = None,
) -> pd.DataFrame:
    pvalue = pvalue.copy()
    reason = np.full(len(fit.genes), "", dtype=object)
    reason[fit.all_zero] = "all_zero"
    outliers = _cooks_outliers(fit, cooks_cutoff, max_cooks, cooks)
    pvalue[outliers] = np.nan
    reason[outliers] = "cooks_outlier"
    pvalue[fit.all_zero] = np.nan
    threshold = np.nan
    if independent_filter:
        padj, threshold, _ = independent_filtering(fit.base_mean, pvalue, alpha)
        filtered = np.isnan(padj) & ~np.isnan(pvalue)
        reason[filtered] = "low_counts"
    else:
        padj = _bh(pvalue)
    res = pd.DataFrame(
        {
            "baseMean": fit.base_mean,
            "log2FoldChange": lfc,
            "lfcSE": se,
            "stat": stat,
            "pvalue": pvalue,
            "padj": padj,
            "reason": reason,
        },
        index=fit.genes,
    )
    res.attrs["filter_threshold"] = threshold
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        res.loc[fit.all_zero, ["log2FoldChange", "lfcSE", "stat"]] = np.nan
    return res


# ---------------------------------------------------------------------------------------- vst


def vst(
    counts: np.ndarray,
    *,
    nsub: int | None = 1000,
    trend: DispersionTrend | None = None,
    size_factor_method: str = "ratio",
    fit_type: str = "parametric",
) -> np.ndarray:
    """Variance-stabilising transformation, blind to the design (DESeq2's ``vst``).

    ``counts`` is samples x genes; returns samples x genes on the log2 scale. As R's ``vst``,
    the trend is fitted on ``nsub`` genes spread over the range of means (mean normalized count
    > 5); with fewer such genes, or ``nsub=None``, on all genes (R's
    ``varianceStabilizingTransformation``).
    """
    Y = np.asarray(counts, dtype=float)
    sf = size_factors(Y, size_factor_method)
    yn = Y / sf[:, None]
    if trend is None:
        base_mean = yn.mean(axis=0)
        X = np.ones((Y.shape[0], 1))
        if nsub is not None and (base_mean > 5).sum() >= nsub:
            cand = np.flatnonzero(base_mean > 5)
            order = cand[np.argsort(base_mean[cand], kind="stable")]
            pos = np.round(np.linspace(1, len(order), nsub)).astype(int) - 1
            use = order[pos]
        else:
            if nsub is not None:
                logger.info(
                    "fewer than %d features with mean normalized count > 5: "
                    "fitting the VST trend on all features",
                    nsub,
                )
            use = np.flatnonzero(Y.sum(axis=0) > 0)
        gw = gene_wise_dispersions(Y[:, use].T, X, sf)
        trend = fit_trend(base_mean[use], gw["dispGeneEst"], fit_type)
    if trend.fit_type == "parametric":
        a0, a1 = trend.coefficients
        return np.log(
            (1 + a1 + 2 * a0 * yn + 2 * np.sqrt(a0 * yn * (1 + a1 + a0 * yn))) / (4 * a0)
        ) / np.log(2)
    if trend.fit_type == "local":
        return _vst_numeric(yn, sf, trend)
    a = trend.mean_disp
    return (2 * np.arcsinh(np.sqrt(a * yn)) - np.log(a) - np.log(4)) / np.log(2)


def _fmm_spline(x: np.ndarray, y: np.ndarray):
    """The interpolating cubic spline of R's ``splinefun(x, y)`` (method "fmm", Forsythe,
    Malcolm & Moler): at each end the spline's third derivative is that of the cubic through
    the four end points; outside the knots the end pieces continue (as R evaluates it)."""
    from scipy.interpolate import PPoly
    from scipy.linalg import solve_banded

    n = len(x)
    h = np.diff(x)
    delta = np.diff(y) / h
    # second derivatives M, inside:
    # h[i-1] M[i-1] + 2 (h[i-1] + h[i]) M[i] + h[i] M[i+1] = 6 (delta[i] - delta[i-1])
    ab = np.zeros((3, n))
    rhs = np.zeros(n)
    ab[0, 2:] = h[1:]
    ab[1, 1:-1] = 2 * (h[:-1] + h[1:])
    ab[2, :-2] = h[:-1]
    rhs[1:-1] = 6 * (delta[1:] - delta[:-1])

    def third_difference(i: int) -> float:  # f[x_i, .., x_{i+3}]
        d2a = (delta[i + 1] - delta[i]) / (x[i + 2] - x[i])
        d2b = (delta[i + 2] - delta[i + 1]) / (x[i + 3] - x[i + 1])
        return (d2b - d2a) / (x[i + 3] - x[i])

    # ends: M[1] - M[0] = 6 h[0] f[x0..x3]; M[n-1] - M[n-2] = 6 h[n-2] f[x_{n-4}..x_{n-1}]
    ab[1, 0], ab[0, 1], rhs[0] = -1.0, 1.0, 6 * h[0] * third_difference(0)
    ab[2, n - 2], ab[1, n - 1], rhs[n - 1] = -1.0, 1.0, 6 * h[-1] * third_difference(n - 4)
    m = solve_banded((1, 1), ab, rhs)
    coef = np.vstack(
        [
            (m[1:] - m[:-1]) / (6 * h),
            m[:-1] / 2,
            delta - h * (2 * m[:-1] + m[1:]) / 6,
            y[:-1],
        ]
    )
    return PPoly(coef, x, extrapolate=True)


def _vst_numeric(yn: np.ndarray, sf: np.ndarray, trend: DispersionTrend) -> np.ndarray:
    """R's getVarianceStabilizedData for a non-parametric trend: integrate 1/sqrt(variance)."""
    xg = np.sinh(np.linspace(np.arcsinh(0), np.arcsinh(yn.max()), 1000))[1:]
    xim = np.mean(1.0 / sf)
    integrand = 1.0 / np.sqrt(trend(xg) * xg**2 + xim * xg)
    mid = np.arcsinh((xg[1:] + xg[:-1]) / 2)
    cum = np.cumsum((xg[1:] - xg[:-1]) * (integrand[1:] + integrand[:-1]) / 2)
    splf = _fmm_spline(mid, cum)
    rm = yn.mean(axis=0)
    h1, h2 = np.quantile(rm, 0.95), np.quantile(rm, 0.999)
    eta = (np.log2(h2) - np.log2(h1)) / (splf(np.arcsinh(h2)) - splf(np.arcsinh(h1)))
    xi = np.log2(h1) - eta * splf(np.arcsinh(h1))
    return eta * splf(np.arcsinh(yn)) + xi
