"""The numba kernels of the DE engine against the numpy formulas and scipy they replace.

R agreement of the whole fit is checked in test_engine_golden.py; these tests pin the pieces:
the per-gene log posterior and its derivative equal the genes-vectorised numpy reference,
``digamma``/``log1p`` equal scipy/numpy, the distinct-count compression gives the same sums
for whole and non-whole counts, and splitting genes over threads changes no number.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from scipy.special import digamma, gammaln

from mtncrna.engine import _kernels, _nb, _threads


def _data(G: int = 40, n: int = 30, p: int = 3, seed: int = 0):
    rng = np.random.default_rng(seed)
    X = np.column_stack([np.ones(n), rng.integers(0, 2, n), rng.normal(size=n)])[:, :p]
    mu = np.exp(rng.normal(2.0, 2.0, (G, 1)) + 0.3 * rng.normal(size=(G, n)))
    y = rng.negative_binomial(5, 5 / (5 + mu)).astype(float)
    y[0] = 0.0  # an all-zero gene
    y[1, ::2] = 10_000.0  # counts above the tally range (sorted path)
    return y, np.maximum(mu, 0.5), X, rng


@pytest.mark.parametrize("p", [1, 2, 3])
@pytest.mark.parametrize("use_prior", [False, True])
def test_log_posterior_and_derivative_equal_numpy_reference(p, use_prior):
    y, mu, X, rng = _data(p=p)
    G, n = y.shape
    la = rng.normal(-1.5, 2.5, G)
    pm = rng.normal(-2, 1, G)
    ref = _nb.log_posterior(la, y, mu, X, pm if use_prior else None, 0.7)
    dref = _nb.dlog_posterior(la, y, mu, X, pm if use_prior else None, 0.7)
    u, c, tally = _kernels._count_buffers(n)
    B, dB, Binv, piv, work = _kernels._matrix_buffers(p)
    Xc, cell = _nb._cells(X)
    np.testing.assert_array_equal(Xc[cell], X)
    sw, sw2 = np.empty(len(Xc)), np.empty(len(Xc))
    for g in range(G):
        k = _kernels._runs(y[g], u, c, tally)
        lp = _kernels.log_posterior(
            la[g], y[g], mu[g], u, c, k, y[g].sum(), Xc, cell, pm[g], 0.7, use_prior, True,
            B, piv, sw,
        )  # fmt: skip
        dlp = _kernels.dlog_posterior(
            la[g], y[g], mu[g], u, c, k, Xc, cell, pm[g], 0.7, use_prior, True,
            B, dB, Binv, piv, work, sw, sw2,
        )  # fmt: skip
        assert lp == pytest.approx(ref[g], rel=1e-12, abs=1e-9)
        assert dlp == pytest.approx(dref[g], rel=1e-9, abs=1e-8)


def test_nb_loglik_equals_scipy_formula():
    y, mu, _, rng = _data()
    alpha = np.exp(rng.normal(-2, 2, y.shape[0]))
    size = 1 / alpha[:, None]
    ref = (
        gammaln(y + size)
        - gammaln(size)
        - gammaln(y + 1)
        + size * np.log(size / (size + mu))
        + y * np.log(mu / (size + mu))
    ).sum(axis=1)
    np.testing.assert_allclose(_nb.nb_loglik(y, mu, alpha), ref, rtol=1e-12)


def test_scalar_functions_equal_scipy():
    x = np.concatenate([np.logspace(-9, 12, 3000), np.arange(1, 200) + 0.25])
    ours = np.array([_kernels.digamma(v) for v in x])
    np.testing.assert_allclose(ours, digamma(x), rtol=2e-15, atol=2e-15)
    x = np.concatenate([np.logspace(-20, 15, 3000), -np.logspace(-20, -0.01, 1000)])
    ours = np.array([_kernels.log1p(v) for v in x])
    np.testing.assert_allclose(ours, np.log1p(x), rtol=1e-15)


def test_distinct_counts():
    u, c, tally = np.empty(6), np.empty(6), np.zeros(8, dtype=np.int64)
    k = _kernels._runs(np.array([3.0, 0.0, 3.0, 1.0, 0.0, 3.0]), u, c, tally)  # tallied
    assert (u[:k].tolist(), c[:k].tolist()) == ([0.0, 1.0, 3.0], [2.0, 1.0, 3.0])
    k = _kernels._runs(np.array([2.5, 9.0, 2.5, 100.0, 9.0, 9.0]), u, c, tally)  # sorted
    assert (u[:k].tolist(), c[:k].tolist()) == ([2.5, 9.0, 100.0], [2.0, 3.0, 1.0])


def test_threads_change_no_number(monkeypatch):
    y, mu, X, rng = _data(G=300, n=20, p=2)
    la = np.log(np.full(y.shape[0], 0.1))
    sf = np.exp(rng.normal(0, 0.2, y.shape[1]))
    beta0 = np.column_stack([np.log(y.mean(axis=1) + 0.1), np.zeros(y.shape[0])])
    lam = np.full(2, 1e-6)

    def run():
        d = _nb.fit_disp(y, X, mu, la, prior_mean=la - 0.5, prior_var=0.5)
        b = _nb.fit_beta(y, X, sf, np.exp(d["log_alpha"]), beta0, lam=lam)
        return d, b

    monkeypatch.setattr(_threads, "n_threads", lambda: 3)
    many = run()
    monkeypatch.setattr(_threads, "n_threads", lambda: 1)
    one = run()
    for a, b in zip(many, one, strict=True):
        for key in a:
            np.testing.assert_array_equal(a[key], b[key])


def _fit_arrays(fit) -> dict[str, np.ndarray]:
    out = {k: getattr(fit, k) for k in ("size_factors", "base_mean", "base_var", "beta", "cov")}
    out |= {k: getattr(fit, k) for k in ("mu", "hat", "cooks", "max_cooks", "mu_disp")}
    out |= {f"disp.{c}": fit.disp[c].to_numpy(dtype=float) for c in fit.disp.columns}
    return out


@pytest.mark.parametrize(("design", "reduced"), [("~ g", "~ 1"), ("~ x + g", "~ x")])
def test_whole_fit_same_numbers_with_any_thread_count(monkeypatch, design, reduced):
    """The numpy steps run in blocks of genes on the engine's threads, the kernels in chunks:
    1, 2 or 3 threads give the same bits (blocks of 7 genes so that there are many). ``~ g``
    replaces outliers and refits; ``~ x + g`` starts the dispersions from a GLM fit."""
    from mtncrna import engine

    rng = np.random.default_rng(3)
    n, G = 24, 150
    mu = np.exp(rng.normal(3.0, 2.0, G))[None, :] * np.exp(rng.normal(0, 0.2, n))[:, None]
    counts = rng.negative_binomial(4, 4 / (4 + mu))
    counts[:, 0] = 0  # an all-zero gene
    counts[3, 5:40] *= 30  # outliers: the replace-and-refit path runs
    sheet = pd.DataFrame({"g": ["a", "b"] * (n // 2), "x": rng.normal(size=n)})
    X = engine.design_matrix(design, sheet)
    monkeypatch.setattr(_threads, "block_size", lambda n_samples, cells=0: 7)
    fits = {t: engine.deseq(counts, X, threads=t) for t in (1, 2, 3)}
    assert (fits[1].params["n_replaced"] > 0) == (design == "~ g")
    c = engine.contrast_vector(X, "g", "b", "a")
    for t in (2, 3):
        a, b = _fit_arrays(fits[1]), _fit_arrays(fits[t])
        for key in a:
            np.testing.assert_array_equal(a[key], b[key], err_msg=key)
        pd.testing.assert_frame_equal(
            engine.wald_test(fits[1], c), engine.wald_test(fits[t], c), check_exact=True
        )
        Xr = engine.design_matrix(reduced, sheet)
        pd.testing.assert_frame_equal(
            engine.lrt_test(fits[1], Xr, c, threads=1),
            engine.lrt_test(fits[t], Xr, c, threads=t),
            check_exact=True,
        )


@pytest.mark.parametrize("method", ["ratio", "poscounts"])
def test_size_factor_kernel_equals_numpy_median(method):
    from mtncrna.engine import _deseq

    rng = np.random.default_rng(5)
    y = rng.negative_binomial(2, 0.05, size=(41, 300)).astype(float)
    y[:, :150][rng.random((41, 150)) < 0.3] = 0.0
    with np.errstate(divide="ignore"):
        logy = np.log(y)
    if method == "ratio":
        loggeo = logy.mean(axis=0)
        use = np.isfinite(loggeo)
    else:
        loggeo = np.where(y > 0, logy, 0.0).sum(axis=0) / y.shape[0]
        use = np.isfinite(loggeo) & (loggeo > 0)
    med = np.array(
        [np.median(logy[i, use & (y[i] > 0)] - loggeo[use & (y[i] > 0)]) for i in range(41)]
    )
    expected = np.exp(med) if method == "ratio" else np.exp(med) / np.exp(np.mean(med))
    got = _deseq.size_factors(y, method)
    if method == "ratio":
        np.testing.assert_array_equal(got, expected)
    else:
        np.testing.assert_allclose(got, expected, rtol=1e-14)


@pytest.mark.parametrize("bad", [0, -1, 1.5, True, "2"])
def test_threads_must_be_a_positive_whole_number(bad):
    from mtncrna import MtncrnaError, engine

    X = pd.DataFrame({"Intercept": np.ones(4), "g": [0.0, 1, 0, 1]})
    with pytest.raises(MtncrnaError, match="threads must be a whole number"):
        engine.deseq(np.ones((4, 3), dtype=int) * 5, X, threads=bad)


def test_bh_equals_statsmodels_and_keeps_missing():
    from statsmodels.stats.multitest import multipletests

    from mtncrna.engine import p_adjust_bh

    rng = np.random.default_rng(2)
    p = np.concatenate([rng.random(500) ** 3, [0.0, 1.0, 0.5, 0.5, 0.5]])
    p[[3, 17, 200]] = np.nan
    ok = ~np.isnan(p)
    got = p_adjust_bh(p)
    np.testing.assert_array_equal(got[ok], multipletests(p[ok], method="fdr_bh")[1])
    assert np.isnan(got[~ok]).all()
    assert np.isnan(p_adjust_bh(np.array([np.nan]))).all()
