"""LFC shrinkage: R DESeq2's normal prior (``lfcShrink(type="normal")``), and an adaptive Cauchy
prior (apeglm's model, as ``lfcShrink(type="apeglm")``).

Normal prior (:func:`lfc_shrink_normal`): DESeq2's own code path, reproduced step by step and
compared with R's output (golden files in tests/data/golden).

Cauchy prior (:func:`lfc_shrink`): for the coefficient of interest the prior is Cauchy(0, S),
with S^2 estimated from all genes' maximum-likelihood estimates and standard errors (apeglm's
``priorVar``); the other coefficients get a wide normal prior (sd 15). The posterior mode is
found for all genes at once by damped Newton steps; the standard error is from the Hessian at
the mode. Works for any contrast: the design is re-parametrised so that the contrast is one
coefficient. This follows apeglm's model, not its code (apeglm is not packaged in Debian, so no
R golden exists): it was checked by the posterior mode being a stationary point and against a
hand computation of the prior variance (tests/test_de.py).
"""

from __future__ import annotations

import numpy as np
from scipy.special import gammaln, ndtri

from .._errors import MtncrnaError

NO_SHRINK_SCALE = 15.0


def prior_variance(
    mle: np.ndarray, se: np.ndarray, min_var: float = 1e-6, max_var: float = 400.0
) -> float:
    """apeglm's priorVar: the normal-approximation variance of the effects (natural log)."""
    ok = np.isfinite(mle) & np.isfinite(se)
    S, D = mle[ok] ** 2, se[ok] ** 2

    def objective(a: float) -> float:
        w = 1.0 / (2.0 * (a + D) ** 2)
        return float(((S - D) * w).sum() / w.sum() - a)

    if objective(min_var) < 0:
        return min_var
    if objective(max_var) > 0:
        return max_var
    from scipy.optimize import brentq

    return float(brentq(objective, min_var, max_var))


def _neg_log_post(
    beta: np.ndarray,
    y: np.ndarray,
    X: np.ndarray,
    log_sf: np.ndarray,
    alpha: np.ndarray,
    k: int,
    scale: float,
) -> np.ndarray:
    eta = beta @ X.T + log_sf[None, :]
    mu = np.exp(eta)
    size = 1.0 / alpha[:, None]
    ll = (
        gammaln(y + size)
        - gammaln(size)
        - size * np.log1p(mu / size)
        + y * (eta - np.log(size + mu))
    ).sum(axis=1)
    prior = np.log1p((beta[:, k] / scale) ** 2)
    others = np.delete(beta, k, axis=1)
    prior = prior + (others**2).sum(axis=1) / (2 * NO_SHRINK_SCALE**2)
    return -ll + prior


def _newton(
    beta: np.ndarray,
    y: np.ndarray,
    X: np.ndarray,
    log_sf: np.ndarray,
    alpha: np.ndarray,
    k: int,
    scale: float,
    prec: np.ndarray,
    ok: np.ndarray,
    maxit: int,
    tol: float,
) -> tuple[np.ndarray, np.ndarray]:
    """Damped Newton descent of the negative log posterior from ``beta`` (all genes at once)."""
    beta = beta.copy()
    G = y.shape[0]
    active = ok.copy()
    f = np.full(G, np.inf)
    f[ok] = _neg_log_post(beta[ok], y[ok], X, log_sf, alpha[ok], k, scale)
    for _ in range(maxit):
        idx = np.flatnonzero(active)
        if idx.size == 0:
            break
        b = beta[idx]
        mu = np.exp(b @ X.T + log_sf[None, :])
        a = alpha[idx, None]
        resid = (y[idx] - mu) / (1.0 + a * mu)  # d ll / d eta
        w = mu * (1.0 + a * y[idx]) / (1.0 + a * mu) ** 2  # -d2 ll / d eta2
        bk = b[:, k]
        grad_prior = b * prec[None, :]
        grad_prior[:, k] = 2 * bk / (scale**2 + bk**2)
        grad = -(resid @ X) + grad_prior
        hess = np.einsum("np,gn,nq->gpq", X, w, X)
        hp = np.broadcast_to(np.diag(prec), hess.shape).copy()
        hk = 2 * (scale**2 - bk**2) / (scale**2 + bk**2) ** 2
        hp[:, k, k] = np.maximum(hk, 0.0)  # keep the step a descent direction
        step = np.linalg.solve(hess + hp, grad[..., None])[..., 0]
        t = np.ones(idx.size)
        f0 = f[idx]
        new = b - step
        fn = _neg_log_post(new, y[idx], X, log_sf, alpha[idx], k, scale)
        for _ in range(30):
            worse = ~(fn <= f0 + 1e-12) | ~np.isfinite(fn)
            if not worse.any():
                break
            t[worse] /= 2
            new[worse] = b[worse] - t[worse, None] * step[worse]
            fn[worse] = _neg_log_post(
                new[worse], y[idx][worse], X, log_sf, alpha[idx][worse], k, scale
            )
        better = fn <= f0 + 1e-12
        beta[idx[better]] = new[better]
        f[idx[better]] = fn[better]
        done = (
            ~better
            | (np.abs(t[:, None] * step).max(axis=1) < tol)
            | (np.abs(f0 - fn) < tol * (np.abs(fn) + tol))
        )
        active[idx[done]] = False
    return beta, f


def shrink(
    y: np.ndarray,
    X: np.ndarray,
    sf: np.ndarray,
    alpha: np.ndarray,
    beta_mle: np.ndarray,
    se_mle: np.ndarray,
    k: int,
    *,
    maxit: int = 100,
    tol: float = 1e-8,
) -> dict[str, np.ndarray | float]:
    """Posterior mode of coefficient ``k`` (genes x samples ``y``; betas in natural log).

    Returns the shrunken coefficient and its standard error (log2 scale) and the prior scale.
    """
    if not 0 <= k < X.shape[1]:
        raise MtncrnaError(f"coefficient index {k} is outside the design")
    log_sf = np.log(sf)
    ok = np.isfinite(beta_mle).all(axis=1)
    prior_var = prior_variance(beta_mle[ok, k], se_mle[ok, k])
    scale = float(min(np.sqrt(prior_var), 1.0))  # as apeglm via DESeq2's lfcShrink
    prec = np.full(X.shape[1], 1.0 / NO_SHRINK_SCALE**2)
    start_mle = np.clip(np.where(np.isfinite(beta_mle), beta_mle, 0.0), -30, 30)
    # The Cauchy prior can make the posterior bimodal for weakly expressed genes (one mode near
    # the MLE, one near zero): search from both and keep the higher posterior.
    start_zero = start_mle.copy()
    start_zero[:, k] = 0.0
    b1, f1 = _newton(start_mle, y, X, log_sf, alpha, k, scale, prec, ok, maxit, tol)
    b2, f2 = _newton(start_zero, y, X, log_sf, alpha, k, scale, prec, ok, maxit, tol)
    beta = np.where((f2 < f1)[:, None], b2, b1)
    # standard error from the Hessian at the mode
    mu = np.exp(beta @ X.T + log_sf[None, :])
    a = alpha[:, None]
    w = mu * (1.0 + a * y) / (1.0 + a * mu) ** 2
    hess = np.einsum("np,gn,nq->gpq", X, w, X) + np.diag(prec)[None]
    bk = beta[:, k]
    hess[:, k, k] += 2 * (scale**2 - bk**2) / (scale**2 + bk**2) ** 2 - prec[k]
    with np.errstate(invalid="ignore"):
        cov = np.linalg.pinv(hess)
    ln2 = np.log2(np.e)
    lfc = np.where(ok, beta[:, k] * ln2, np.nan)
    se = np.where(ok, np.sqrt(np.maximum(cov[:, k, k], 0)) * ln2, np.nan)
    return {"log2FoldChange": lfc, "lfcSE": se, "prior_scale": scale * ln2}


def lfc_shrink(fit, design, k: int) -> dict[str, np.ndarray | float]:
    """Shrink coefficient ``k`` of ``design`` (a re-parametrisation of ``fit.design``).

    The MLE is refitted on ``design`` with the dispersions of ``fit``, then shrunk.
    """
    from ._deseq import fit_glm

    nz = ~fit.all_zero
    X = design.to_numpy(dtype=float)
    disp = fit.disp["dispersion"].to_numpy()[nz]
    mle = fit_glm(fit.fit_counts[nz], X, fit.size_factors, disp)
    ln2 = np.log(2.0)
    res = shrink(
        fit.fit_counts[nz], X, fit.size_factors, disp, mle["beta"] * ln2, mle["se"] * ln2, k
    )
    out = {}
    for key in ("log2FoldChange", "lfcSE"):
        full = np.full(len(fit.genes), np.nan)
        full[nz] = res[key]
        out[key] = full
    out["prior_scale"] = res["prior_scale"]
    return out


# ------------------------------------------------------------------- normal prior (DESeq2)


def _wtd_upper_quantile_var(x: np.ndarray, w: np.ndarray, upper: float = 0.05) -> float:
    """DESeq2's matchWeightedUpperQuantileForVariance (Hmisc's wtd.quantile, normwt=TRUE)."""
    keep = ~(np.isnan(w) | (w == 0)) & ~np.isnan(x)
    x, w = np.abs(x[keep]), w[keep]
    w = w * len(x) / w.sum()
    xs, inv = np.unique(x, return_inverse=True)
    wts = np.bincount(inv, weights=w)
    n = wts.sum()
    order = 1 + (n - 1) * (1 - upper)
    low = max(np.floor(order), 1)
    high = min(low + 1, n)
    frac = order % 1
    cw = np.cumsum(wts)
    # approx(cumsum(wts), x, method="constant", f=1, rule=2)
    q = xs[np.clip(np.searchsorted(cw, [low, high], side="left"), 0, len(xs) - 1)]
    value = (1 - frac) * q[0] + frac * q[1]
    return float((value / ndtri(1 - upper / 2)) ** 2)


def _factor_levels(design) -> dict[str, list[str]]:
    """Levels of every factor of a treatment-coded design, the reference first."""
    refs = design.attrs.get("reference_levels", {})
    cols = list(design.columns)
    out = {}
    for f, ref in refs.items():
        prefix = f"{f}[T."
        out[f] = [ref] + [
            c[len(prefix) : -1] for c in cols if c.startswith(prefix) and ":" not in c
        ]
    return out


def beta_prior_variance(fit, expanded: bool) -> dict[str, float]:
    """DESeq2's estimateBetaPriorVar (method "weighted", upper quantile 0.05), log2 scale.

    Keys are the columns of the standard design, or with ``expanded`` the columns of DESeq2's
    expanded design: ``Intercept``, ``factor=level`` for every level, numeric covariates.
    """
    nz = ~fit.all_zero
    cols = list(fit.design.columns)
    beta = fit.beta[nz]
    base_mean = fit.base_mean[nz]
    disp_fit = fit.disp["dispFit"].to_numpy()[nz]
    w = 1.0 / (1.0 / base_mean + disp_fit)

    def pv(x: np.ndarray) -> float:
        finite = np.abs(x) < 10
        if not finite.any():
            return 1e6
        return _wtd_upper_quantile_var(x[finite], w[finite])

    std = {c: (1e6 if _is_intercept(c) else pv(beta[:, i])) for i, c in enumerate(cols)}
    if not expanded:
        return std
    out: dict[str, float] = {}
    levels = _factor_levels(fit.design)
    in_factor = set()
    for f, lv in levels.items():
        idx = [cols.index(f"{f}[T.{level}]") for level in lv[1:]]
        in_factor.update(idx)
        values = [std[cols[i]] for i in idx]
        if len(idx) > 1:  # DESeq2's addAllContrasts: every difference of two non-reference levels
            for a in range(1, len(idx)):
                for b in range(a):
                    values.append(pv(beta[:, idx[a]] - beta[:, idx[b]]))
        mean = float(np.mean(values))
        for level in lv:
            out[f"{f}={level}"] = mean
    for i, c in enumerate(cols):
        if i not in in_factor:
            out["Intercept" if _is_intercept(c) else c] = std[c]
    return out


def _is_intercept(name: str) -> bool:
    return name in ("Intercept", "(Intercept)")


def _expanded_design(fit, prior: dict[str, float]):
    """DESeq2's expanded model matrix (intercept, one column per level of every factor)."""
    import pandas as pd

    X = fit.design
    cols = list(X.columns)
    levels = _factor_levels(X)
    data = {}
    for name in prior:
        if name == "Intercept":
            data[name] = np.ones(len(X))
        elif "=" in name and name.split("=", 1)[0] in levels:
            f, level = name.split("=", 1)
            main = [c for c in cols if c.startswith(f"{f}[T.") and ":" not in c]
            if level == levels[f][0]:
                data[name] = (X[main].to_numpy() == 0).all(axis=1).astype(float)
            else:
                data[name] = X[f"{f}[T.{level}]"].to_numpy(dtype=float)
        else:
            data[name] = X[name].to_numpy(dtype=float)
    return pd.DataFrame(data, index=X.index)


def lfc_shrink_normal(
    fit,
    *,
    contrast: tuple[str, str, str] | None = None,
    coef: str | None = None,
) -> dict:
    """R DESeq2's ``lfcShrink(dds, contrast=/coef=, type="normal")``.

    The prior variance of each coefficient is matched to the weighted upper 5 % quantile of the
    maximum-likelihood estimates (``estimateBetaPriorVar``); for a ``contrast`` the model is
    refitted on DESeq2's expanded design (every factor level its own column, the prior variance
    averaged over a factor's levels and level differences), for a ``coef`` on the standard
    design; then the ridge-penalised fit (``nbinomWaldTest(betaPrior=TRUE)``) gives the shrunken
    LFC and its standard error. As R, designs with interaction terms are refused.

    Returns ``log2FoldChange``, ``lfcSE`` (genes), the contrast vector ``c`` over the refitted
    design, and ``betaPriorVar`` (a dict, log2 scale).
    """
    from ._deseq import fit_glm

    if (contrast is None) == (coef is None):
        raise MtncrnaError("give either a contrast or a coefficient to shrink")
    if any(":" in c for c in fit.design.columns):
        raise MtncrnaError(
            "normal-prior shrinkage (DESeq2's type='normal') is not defined for designs with "
            "interaction terms; use the adaptive Cauchy prior (apeglm's model) instead"
        )
    expanded = contrast is not None
    prior = beta_prior_variance(fit, expanded)
    if expanded:
        f, num, den = contrast
        levels = _factor_levels(fit.design)
        if f not in levels or num not in levels[f] or den not in levels[f]:
            raise MtncrnaError(f"contrast {contrast} does not name two levels of a design factor")
        Xs = _expanded_design(fit, prior)
        c = np.zeros(Xs.shape[1])
        c[list(Xs.columns).index(f"{f}={num}")] = 1.0
        c[list(Xs.columns).index(f"{f}={den}")] = -1.0
    else:
        if coef not in fit.design.columns:
            raise MtncrnaError(f"coefficient '{coef}' is not in the design")
        Xs = fit.design
        c = np.zeros(Xs.shape[1])
        c[list(Xs.columns).index(coef)] = 1.0
        prior = {("Intercept" if _is_intercept(k) else k): v for k, v in prior.items()}
    lam = 1.0 / np.array(list(prior.values()))
    nz = ~fit.all_zero
    disp = fit.disp["dispersion"].to_numpy()[nz]
    # R refits counts(dds), the counts before any outlier replacement
    res = fit_glm(fit.counts[nz], Xs.to_numpy(dtype=float), fit.size_factors, disp, lambda_log2=lam)
    lfc = np.full(len(fit.genes), np.nan)
    se = np.full(len(fit.genes), np.nan)
    lfc[nz] = res["beta"] @ c
    se[nz] = np.sqrt(np.maximum(np.einsum("p,gpq,q->g", c, res["cov"], c), 0))
    return {"log2FoldChange": lfc, "lfcSE": se, "c": c, "betaPriorVar": prior}
