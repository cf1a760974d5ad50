"""The DE engine against R DESeq2 1.38.3 on real data (golden files: tests/data/golden/).

pasilla RNA-seq (7 samples, ~ type + condition, and an interaction model) and a paired
miRNA-seq study (GSE63511: 8 papillary thyroid carcinomas and matched normal tissue, 2,576
miRNAs; ~ pair + condition, and ~ condition with and without outlier replacement).
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from mtncrna import MtncrnaError, engine

GOLDEN = Path(__file__).parent / "data" / "golden"

# (dataset, analysis folder, engine options that R's run used)
ANALYSES = [
    ("pasilla", "type_condition", {}),
    ("pasilla", "interaction", {}),
    ("thyroid_mirna", "pair_condition", {}),
    ("thyroid_mirna", "condition", {}),
    ("thyroid_mirna", "condition_noreplace", {"min_replicates_for_replace": np.inf}),
]


def _load(dataset: str, analysis: str):
    counts = pd.read_csv(GOLDEN / dataset / "counts.tsv.gz", sep="\t", index_col=0)
    coldata = pd.read_csv(GOLDEN / dataset / "coldata.tsv", sep="\t", index_col=0)
    summary = json.loads((GOLDEN / dataset / analysis / "summary.json").read_text())
    # the samples R used (a subset for some analyses), and pasilla's combined factor
    used = pd.read_csv(GOLDEN / dataset / analysis / "design_matrix.tsv", sep="\t", index_col=0)
    coldata = coldata.loc[used.index]
    if "group" in summary["factor_levels"]:
        coldata["group"] = coldata["type"].str.replace("-", "") + "_" + coldata["condition"]
    refs = {k: v[0] for k, v in summary["factor_levels"].items()}
    design = summary["design"].replace("~", "~ ")
    X = engine.design_matrix(design, coldata, reference_levels=refs)
    Xr = engine.design_matrix(summary["reduced"].replace("~", "~ "), coldata, reference_levels=refs)
    if summary["contrast"]:
        c = engine.contrast_vector(X, *summary["contrast"])
    else:  # the interaction term, R's last coefficient
        c = np.zeros(X.shape[1])
        c[-1] = 1.0
    return counts[coldata.index], X, Xr, c, summary


def _golden(dataset: str, analysis: str, name: str) -> pd.DataFrame:
    return pd.read_csv(GOLDEN / dataset / analysis / name, sep="\t", index_col=0)


def _fit(dataset, analysis, opts, test="wald"):
    counts, X, Xr, c, summary = _load(dataset, analysis)
    fit = engine.deseq(counts.T, X, test=test, **opts)
    n_vars = len(engine._design._variables(summary["design"]))
    fit.params["n_design_vars"] = n_vars
    fit.params["two_group"] = n_vars == 1 and X.shape[1] == 2
    return fit, X, Xr, c


def _compare(ours: pd.DataFrame, r: pd.DataFrame) -> None:
    ours = ours.reindex(r.index)
    for col in ("baseMean", "log2FoldChange", "lfcSE", "stat", "pvalue", "padj"):
        np.testing.assert_array_equal(
            ours[col].isna().to_numpy(),
            r[col].isna().to_numpy(),
            err_msg=f"missing values of {col} differ",
        )
    ok = r["stat"].notna()
    assert np.corrcoef(ours.loc[ok, "stat"], r.loc[ok, "stat"])[0, 1] >= 0.99999
    np.testing.assert_allclose(ours.loc[ok, "stat"], r.loc[ok, "stat"], atol=1e-3, rtol=1e-4)
    np.testing.assert_allclose(ours["baseMean"], r["baseMean"], rtol=1e-10)
    lfc_ok = r["log2FoldChange"].notna()
    np.testing.assert_allclose(
        ours.loc[lfc_ok, "log2FoldChange"], r.loc[lfc_ok, "log2FoldChange"], atol=1e-5, rtol=1e-5
    )
    padj_ok = r["padj"].notna()
    np.testing.assert_allclose(ours.loc[padj_ok, "padj"], r.loc[padj_ok, "padj"], atol=1e-4)
    a, b = set(r.index[r["padj"] < 0.1]), set(ours.index[ours["padj"] < 0.1])
    assert len(a & b) / max(1, len(a | b)) >= 0.99


@pytest.mark.parametrize(("dataset", "analysis", "opts"), ANALYSES)
def test_wald_matches_r(dataset, analysis, opts):
    fit, _, _, c = _fit(dataset, analysis, opts)
    _compare(engine.wald_test(fit, c), _golden(dataset, analysis, "results_wald.tsv.gz"))
    _compare(
        engine.wald_test(fit, c, cooks_cutoff=False, independent_filter=False),
        _golden(dataset, analysis, "results_wald_nofilter.tsv.gz"),
    )


@pytest.mark.parametrize(("dataset", "analysis", "opts"), ANALYSES)
def test_lrt_matches_r(dataset, analysis, opts):
    fit, _, Xr, c = _fit(dataset, analysis, opts, test="lrt")
    _compare(engine.lrt_test(fit, Xr, c), _golden(dataset, analysis, "results_lrt.tsv.gz"))


@pytest.mark.parametrize(("dataset", "analysis", "opts"), ANALYSES)
def test_size_factors_dispersions_and_trend(dataset, analysis, opts):
    fit, *_ = _fit(dataset, analysis, opts)
    sf = _golden(dataset, analysis, "sizeFactors.tsv").iloc[:, 0]
    np.testing.assert_allclose(fit.size_factors, sf.reindex(fit.samples).to_numpy(), rtol=1e-12)
    spec = json.loads((GOLDEN / dataset / analysis / "dispersion_fit.json").read_text())
    coefs = spec["coefficients"]
    np.testing.assert_allclose(
        fit.trend.coefficients, [coefs["asymptDisp"], coefs["extraPois"]], rtol=1e-6
    )
    np.testing.assert_allclose(fit.prior_var, spec["dispPriorVar"], rtol=1e-6)
    d = _golden(dataset, analysis, "dispersions.tsv.gz")
    ours = fit.disp.reindex(d.index)
    ok = d["dispersion"].notna()
    np.testing.assert_allclose(ours.loc[ok, "dispFit"], d.loc[ok, "dispFit"], rtol=1e-6)
    np.testing.assert_allclose(ours.loc[ok, "dispersion"], d.loc[ok, "dispersion"], rtol=1e-4)
    # the gene-wise line search agrees except where it runs to maxit near the lower bound
    ge = ok & (d["dispGeneIter"] < 100)
    np.testing.assert_allclose(ours.loc[ge, "dispGeneEst"], d.loc[ge, "dispGeneEst"], rtol=1e-4)
    np.testing.assert_array_equal(
        ours.loc[ok, "dispOutlier"].astype(bool), d.loc[ok, "dispOutlier"].astype(bool)
    )


@pytest.mark.parametrize("dataset", ["pasilla", "thyroid_mirna"])
def test_vst_matches_r(dataset):
    analysis = "type_condition" if dataset == "pasilla" else "pair_condition"
    counts, *_ = _load(dataset, analysis)
    r = pd.read_csv(GOLDEN / dataset / analysis / "vst.tsv.gz", sep="\t", index_col=0)
    kind = (GOLDEN / dataset / analysis / "vst_fit_type.txt").read_text()
    # R's vst() (nsub = 1000) where possible, varianceStabilizingTransformation() otherwise
    nsub = None if "varianceStabilizingTransformation" in kind else 1000
    ours = engine.vst(counts.T.to_numpy(), nsub=nsub)
    np.testing.assert_allclose(
        ours.T, r.loc[counts.index, counts.columns].to_numpy(), rtol=1e-8, atol=1e-8
    )


@pytest.mark.parametrize(
    ("dataset", "fit_type"),
    [
        ("pasilla", "local"),
        ("pasilla", "mean"),
        ("thyroid_mirna", "local"),
        pytest.param(
            "thyroid_mirna",
            "mean",
            marks=pytest.mark.xfail(
                strict=True,
                reason="one gene at the dispersion floor: R's line search ends at 1e-8 (minDisp), "
                "ours at 1.05e-7, just above the 10 x minDisp that R's mean trend uses, so the "
                "trimmed mean differs by 0.13% (VST up to 0.002 apart)",
            ),
        ),
    ],
)
def test_vst_with_nonparametric_trends_matches_r(dataset, fit_type):
    """R's vst()/varianceStabilizingTransformation() with fitType local (numeric integration
    and R's fmm spline) and mean (tests/data/golden/make_vst_golden.R)."""
    counts = pd.read_csv(GOLDEN / dataset / "counts.tsv.gz", sep="\t", index_col=0)
    coldata = pd.read_csv(GOLDEN / dataset / "coldata.tsv", sep="\t", index_col=0)
    counts = counts[coldata.index]
    r = pd.read_csv(GOLDEN / "vst" / f"{dataset}_{fit_type}.tsv.gz", sep="\t", index_col=0)
    made_by = (GOLDEN / "vst" / "README.txt").read_text()
    nsub = 1000 if f"{dataset}_{fit_type}: vst(" in made_by else None
    ours = engine.vst(counts.T.to_numpy(), nsub=nsub, fit_type=fit_type)
    np.testing.assert_allclose(
        ours.T, r.loc[counts.index, counts.columns].to_numpy(), rtol=1e-8, atol=1e-8
    )


def test_cooks_distances_match_r():
    fit, *_ = _fit("pasilla", "type_condition", {})
    r = _golden("pasilla", "type_condition", "cooks.tsv.gz")
    ours = pd.DataFrame(fit.cooks, index=fit.genes, columns=fit.samples).reindex(r.index)
    ok = r.notna().to_numpy()
    np.testing.assert_allclose(
        ours[r.columns].to_numpy()[ok], r.to_numpy()[ok], rtol=1e-4, atol=1e-8
    )


def test_outlier_replacement_matches_r():
    fit, *_ = _fit("thyroid_mirna", "condition", {})
    summary = json.loads((GOLDEN / "thyroid_mirna" / "condition" / "summary.json").read_text())
    assert fit.params["n_replaced"] == summary["n_replaced_outlier_genes"] == 18
    r = _golden("thyroid_mirna", "condition", "replaceCounts.tsv.gz")
    ours = pd.DataFrame(fit.fit_counts, index=fit.genes, columns=fit.samples)
    np.testing.assert_array_equal(ours.loc[r.index, r.columns].to_numpy(), r.to_numpy())


# Designs with 1-3 residual degrees of freedom, where R estimates the dispersion prior variance by
# simulation: set.seed(2), rchisq/rnorm, loess(span = 0.2). The engine draws R's own streams
# (engine/_rrng.py) and runs R's loess (engine/_loess.py), so it gets R's value exactly.
SMALL_DF = [
    ("thyroid_mirna", "pair_condition_4pairs"),  # 8 samples, 5 coefficients: df 3
    ("thyroid_mirna", "pair_condition_3pairs"),  # 6 samples, 4 coefficients: df 2
    ("pasilla", "group3"),  # 6 samples, a 3-level factor: df 3
]


def _agree(ours: pd.DataFrame, r: pd.DataFrame, stat_r: float = 0.9999, padj: bool = True) -> None:
    ours = ours.reindex(r.index)
    for col in ("log2FoldChange", "stat", "pvalue", "padj")[: 4 if padj else 3]:
        np.testing.assert_array_equal(
            ours[col].isna().to_numpy(), r[col].isna().to_numpy(), err_msg=col
        )
    ok = r["stat"].notna()
    assert np.corrcoef(ours.loc[ok, "stat"], r.loc[ok, "stat"])[0, 1] >= stat_r
    if not padj:
        return
    a, b = set(r.index[r["padj"] < 0.1]), set(ours.index[ours["padj"] < 0.1])
    assert len(a & b) / max(1, len(a | b)) >= 0.99


def _last_coefficient(X: pd.DataFrame) -> np.ndarray:
    """R's results() after an LRT reports the last coefficient's LFC, by name: without the
    all-zero rule of factor contrasts."""
    c = np.zeros(X.shape[1])
    c[-1] = 1.0
    return c


@pytest.mark.parametrize(("dataset", "analysis"), SMALL_DF)
def test_small_residual_df_matches_r(dataset, analysis):
    """R's Monte-Carlo prior variance exactly, then Wald and LRT results to 1e-5."""
    spec = json.loads((GOLDEN / dataset / analysis / "dispersion_fit.json").read_text())
    assert spec["prior_var_method"].startswith("monte_carlo")
    *_, summary = _load(dataset, analysis)
    fit, X, Xr, c = _fit(dataset, analysis, {})
    assert fit.prior_var == pytest.approx(spec["dispPriorVar"], rel=1e-12)
    groups = engine.contrast_samples(X, *summary["contrast"])
    _compare(
        engine.wald_test(fit, c, contrast_samples=groups),
        _golden(dataset, analysis, "results_wald.tsv.gz"),
    )
    fit_lrt, *_ = _fit(dataset, analysis, {}, test="lrt")
    _compare(
        engine.lrt_test(fit_lrt, Xr, _last_coefficient(X)),
        _golden(dataset, analysis, "results_lrt.tsv.gz"),
    )


def test_r_random_streams_and_loess():
    """R's runif/rnorm/rexp/rchisq after set.seed(2), and predict(loess(span = 0.2))."""
    from mtncrna.engine._loess import loess_predict
    from mtncrna.engine._rrng import RStream

    r = pd.read_csv(GOLDEN / "r_rng" / "draws.tsv", sep="\t", float_precision="round_trip")
    n = len(r)
    np.testing.assert_array_equal(RStream(2).runif(n), r["runif"])
    # normals by inversion: scipy's ndtri where R has AS241, equal to the last bits
    np.testing.assert_allclose(RStream(2).rnorm(n), r["rnorm"], rtol=1e-14)
    np.testing.assert_allclose(RStream(2).rexp(n), r["rexp"], rtol=1e-15)
    for df in (1, 2, 3):
        np.testing.assert_allclose(RStream(2).rchisq(n, df), r[f"rchisq_df{df}"], rtol=1e-13)
    s = RStream(2)
    mixed = [s.rchisq(300, 2), s.rnorm(300, 0, 0), s.rchisq(200, 2), s.rnorm(200, 0, 0.5)]
    np.testing.assert_allclose(np.concatenate(mixed), r["mixed"], rtol=1e-13, atol=1e-15)
    xy = pd.read_csv(GOLDEN / "r_rng" / "loess_input.tsv", sep="\t")
    fit = pd.read_csv(GOLDEN / "r_rng" / "loess_fit.tsv", sep="\t")
    ours = loess_predict(xy["x"], xy["y"], fit["x"], span=0.2)
    np.testing.assert_allclose(ours, fit["fit"], rtol=0, atol=1e-12)


def test_three_level_factor_contrasts_from_one_fit():
    """Every pair of levels of a 3-level factor from one fit, with R's all-zero rule (genes
    with no count in the two compared groups: LFC 0, stat 0, p-value 1)."""
    _, X, _, _, summary = _load("pasilla", "group3")
    fit, *_ = _fit("pasilla", "group3", {})
    n_zero_rule = 0
    for name, spec in summary["extra_results"].items():
        if "lfcThreshold" in spec["args"]:  # see test_threshold_tests_match_r
            continue
        factor, num, den = spec["args"]["contrast"]
        c = engine.contrast_vector(X, factor, num, den)
        groups = engine.contrast_samples(X, factor, num, den)
        r = _golden("pasilla", "group3", f"results_wald_{name}.tsv.gz")
        ours = engine.wald_test(fit, c, contrast_samples=groups).reindex(r.index)
        _agree(ours, r)
        zero = (r["stat"] == 0) & (r["pvalue"] == 1)
        n_zero_rule += int(zero.sum())
        assert (ours.loc[zero, "log2FoldChange"] == 0).all()
        assert (ours.loc[zero, "pvalue"] == 1).all()
    assert n_zero_rule > 100  # the rule matters on this design


def _close(ours: pd.DataFrame, r: pd.DataFrame, padj: bool = True) -> None:
    """R's numbers to 1e-3 in the statistic for all but 0.05 % of genes (the MAP dispersion
    line search stops at a slightly different point for a handful), and the same calls."""
    ours = ours.reindex(r.index)
    _agree(ours, r, stat_r=0.99999, padj=padj)
    ok = r["stat"].notna()
    d = (ours.loc[ok, "stat"] - r.loc[ok, "stat"]).abs()
    assert (d > 1e-3).mean() <= 5e-4 and d.max() < 0.01
    lfc = (ours.loc[ok, "log2FoldChange"] - r.loc[ok, "log2FoldChange"]).abs()
    assert (lfc > 1e-4).mean() <= 5e-4 and lfc.max() < 0.01


def test_numeric_covariate_matches_r():
    """An uncentred numeric covariate (library exon counts in millions, 10-21) beside the
    condition: the condition contrast, the covariate's coefficient, and the LRT."""
    fit, X, Xr, c = _fit("pasilla", "exon_mreads_condition", {})
    _close(
        engine.wald_test(fit, c), _golden("pasilla", "exon_mreads_condition", "results_wald.tsv.gz")
    )
    r = _golden("pasilla", "exon_mreads_condition", "results_wald_exon_mreads.tsv.gz")
    # 13 genes at padj < 0.1 in R, 14 here: the independent-filtering threshold, chosen from a
    # curve of so few rejections, then differs; so padj is not compared for this coefficient
    _close(engine.wald_test(fit, engine.coefficient_vector(X, "exon_mreads")), r, padj=False)
    fit_lrt, *_ = _fit("pasilla", "exon_mreads_condition", {}, test="lrt")
    _close(
        engine.lrt_test(fit_lrt, Xr, c),
        _golden("pasilla", "exon_mreads_condition", "results_lrt.tsv.gz"),
    )


@pytest.mark.parametrize(
    ("dataset", "analysis"),
    [
        ("pasilla", "type_condition"),
        ("thyroid_mirna", "pair_condition"),
        ("thyroid_mirna", "condition"),  # outliers replaced: R shrinks the original counts
        ("pasilla", "exon_mreads_condition"),
    ],
)
def test_lfc_shrink_normal_matches_r(dataset, analysis):
    """lfcShrink(type="normal"): prior variances, shrunken LFCs and their standard errors."""
    from mtncrna.engine._shrink import lfc_shrink_normal

    fit, *_ = _fit(dataset, analysis, {})
    summary = json.loads((GOLDEN / dataset / analysis / "summary.json").read_text())
    out = lfc_shrink_normal(fit, contrast=tuple(summary["contrast"]))
    r_prior = summary["lfc_shrink_normal"]["betaPriorVar"]
    ours_prior = {k.replace("=", "").replace("-", "."): v for k, v in out["betaPriorVar"].items()}
    assert ours_prior.keys() == r_prior.keys()
    np.testing.assert_allclose([ours_prior[k] for k in r_prior], list(r_prior.values()), rtol=1e-6)
    r = _golden(dataset, analysis, "lfc_shrink_normal.tsv.gz").reindex(fit.genes)
    for col in ("log2FoldChange", "lfcSE"):
        np.testing.assert_array_equal(np.isnan(out[col]), r[col].isna().to_numpy())
        ok = r[col].notna().to_numpy()
        # atol 1e-4: a few genes whose MAP dispersion stops at a slightly different point
        np.testing.assert_allclose(out[col][ok], r[col].to_numpy()[ok], rtol=1e-5, atol=1e-3)


def test_optim_fallback_reaches_the_optimum_with_an_uncentred_covariate():
    """From a poor start (all zeros) with an uncentred covariate (10-21), L-BFGS-B alone stops
    far from the optimum for most genes (up to 22 log2 units off); the fallback must land on
    the optimum R's IRLS reached (R's betaConv is TRUE for all these genes)."""
    from mtncrna.engine._deseq import _optim_row

    fit, X, _, _ = _fit("pasilla", "exon_mreads_condition", {})
    Xn = X.to_numpy(dtype=float)
    disp = fit.disp["dispersion"].to_numpy()
    r = _golden("pasilla", "exon_mreads_condition", "coef_wald.tsv.gz").reindex(fit.genes)
    genes = np.flatnonzero(~fit.all_zero & (fit.base_mean > 20))[:200]
    cols = ["Intercept", "exon_mreads", "condition_treated_vs_untreated"]
    off = []
    for g in genes:
        b, *_ = _optim_row(fit.counts[g], Xn, fit.size_factors, disp[g], np.zeros(3), 1e-6)
        off.append(np.abs(b - r.iloc[g][cols].to_numpy(dtype=float)).max())
    assert max(off) < 2e-3


def test_cooks_filtering_without_replacement_matches_r():
    """6 vs 6 (thyroid patients 1-6, ~ condition): cells below minReplicatesForReplace, so
    Cook's filtering with R's default cutoff, and with cooksCutoff = 2. (Its gene-wise
    dispersions are not compared here: one gene that R puts on the 1e-8 floor stops at 1.1e-8.)"""
    fit, _, Xr, c = _fit("thyroid_mirna", "condition_6v6", {})
    r = _golden("thyroid_mirna", "condition_6v6", "results_wald.tsv.gz")
    ours = engine.wald_test(fit, c)
    _compare(ours, r)
    _same_calls(ours, r)
    assert (ours["reason"] == "cooks_outlier").sum() == r[
        "pvalue"
    ].isna().sum() - fit.all_zero.sum()
    r2 = _golden("thyroid_mirna", "condition_6v6", "results_wald_cooks2.tsv.gz")
    ours2 = engine.wald_test(fit, c, cooks_cutoff=2.0)
    _compare(ours2, r2)
    _same_calls(ours2, r2)
    assert (ours2["reason"] == "cooks_outlier").sum() > (ours["reason"] == "cooks_outlier").sum()
    fit_lrt, *_ = _fit("thyroid_mirna", "condition_6v6", {}, test="lrt")
    _compare(
        engine.lrt_test(fit_lrt, Xr, c),
        _golden("thyroid_mirna", "condition_6v6", "results_lrt.tsv.gz"),
    )


# fitType = "local": R's locfit(log dispersion ~ log mean, weights = mean) (engine/_locfit.py)
LOCAL = [("pasilla", "type_condition_local"), ("thyroid_mirna", "pair_condition_local")]


def _golden_exact(dataset: str, analysis: str, name: str) -> pd.DataFrame:
    return pd.read_csv(
        GOLDEN / dataset / analysis / name, sep="\t", index_col=0, float_precision="round_trip"
    )


@pytest.mark.parametrize(("dataset", "analysis"), LOCAL)
def test_locfit_reproduces_r_bit_for_bit(dataset, analysis):
    """Given R's gene-wise estimates, the local trend is R's dispFit to the last bits: the same
    k-d tree vertices, the same local fits (locfit's Newton step and Jacobi eigen-solve, its
    sums in the same order) and the same Hermite interpolation and extrapolation."""
    from mtncrna.engine._deseq import MIN_DISP, local_trend

    d = _golden_exact(dataset, analysis, "dispersions.tsv.gz")
    nz = ~d["allZero"].astype(bool)
    use = nz & (d["dispGeneEst"] > 100 * MIN_DISP)
    fit = local_trend(d.loc[use, "baseMean"].to_numpy(), d.loc[use, "dispGeneEst"].to_numpy())
    ours = np.exp(fit(np.log(d.loc[nz, "baseMean"].to_numpy())))
    np.testing.assert_allclose(ours, d.loc[nz, "dispFit"], rtol=1e-13)
    # means below and above the fitted range are extrapolated as R does
    x = np.log(d.loc[nz, "baseMean"])
    assert ((x < fit.lo) | (x > fit.hi)).sum() > 0


@pytest.mark.parametrize(("dataset", "analysis"), LOCAL)
def test_local_trend_analysis_matches_r(dataset, analysis):
    """DESeq(fitType = "local"): trend, prior variance, dispersions, Wald and LRT results."""
    spec = json.loads((GOLDEN / dataset / analysis / "dispersion_fit.json").read_text())
    assert spec["fitType"] == "local"
    fit, _, Xr, c = _fit(dataset, analysis, {"fit_type": "local"})
    assert fit.trend.fit_type == "local"
    np.testing.assert_allclose(fit.prior_var, spec["dispPriorVar"], rtol=1e-6)
    d = _golden(dataset, analysis, "dispersions.tsv.gz")
    ours = fit.disp.reindex(d.index)
    ok = d["dispersion"].notna()
    np.testing.assert_allclose(ours.loc[ok, "dispFit"], d.loc[ok, "dispFit"], rtol=1e-7)
    np.testing.assert_allclose(ours.loc[ok, "dispersion"], d.loc[ok, "dispersion"], rtol=1e-4)
    for ours_res, name in [
        (engine.wald_test(fit, c), "results_wald.tsv.gz"),
        (
            engine.wald_test(fit, c, cooks_cutoff=False, independent_filter=False),
            "results_wald_nofilter.tsv.gz",
        ),
    ]:
        r = _golden(dataset, analysis, name)
        _compare(ours_res, r)
        _same_calls(ours_res, r)
    fit_lrt, *_ = _fit(dataset, analysis, {"fit_type": "local"}, test="lrt")
    ours_lrt = engine.lrt_test(fit_lrt, Xr, c)
    _compare(ours_lrt, _golden(dataset, analysis, "results_lrt.tsv.gz"))
    _same_calls(ours_lrt, _golden(dataset, analysis, "results_lrt.tsv.gz"))


def _same_calls(ours: pd.DataFrame, r: pd.DataFrame) -> None:
    """The same NA pattern in every column and the same padj < 0.1 set (Jaccard 1)."""
    ours = ours.reindex(r.index)
    for col in ("log2FoldChange", "lfcSE", "stat", "pvalue", "padj"):
        np.testing.assert_array_equal(ours[col].isna(), r[col].isna(), err_msg=col)
    assert set(ours.index[ours["padj"] < 0.1]) == set(r.index[r["padj"] < 0.1])


# results(lfcThreshold =, altHypothesis =): every alternative, on three fits
THRESHOLDS = (
    [
        ("pasilla", "type_condition_local", alt, f"thr1_{alt}")
        for alt in ("greaterAbs", "lessAbs", "greater", "less")
    ]
    + [
        ("thyroid_mirna", "pair_condition_local", alt, f"thr05_{alt}")
        for alt in ("greaterAbs", "lessAbs", "greater", "less")
    ]
    + [
        ("pasilla", "group3", alt, f"thr05_singleread_untreated_vs_pairedend_untreated_{alt}")
        for alt in ("lessAbs", "greater")
    ]
)


@pytest.mark.parametrize(("dataset", "analysis", "alt", "name"), THRESHOLDS)
def test_threshold_tests_match_r(dataset, analysis, alt, name):
    """R's statistic (clipped at 0 on the side of the null), p-value and padj for each
    altHypothesis; in group3, genes with no count in the two compared groups get LFC 0 first
    and are then tested against the threshold, as R does."""
    *_, summary = _load(dataset, analysis)
    args = summary["extra_results"][name]["args"]
    assert args["altHypothesis"] == alt
    opts = {"fit_type": "local"} if analysis.endswith("_local") else {}
    fit, X, _, _ = _fit(dataset, analysis, opts)
    contrast = args["contrast"]
    c = engine.contrast_vector(X, *contrast)
    groups = engine.contrast_samples(X, *contrast)
    ours = engine.wald_test(
        fit,
        c,
        lfc_threshold=args["lfcThreshold"],
        alt_hypothesis=alt,
        contrast_samples=groups,
    )
    r = _golden(dataset, analysis, f"results_wald_{name}.tsv.gz")
    _compare(ours, r)
    _same_calls(ours, r)
    ours = ours.reindex(r.index)
    ok = r["stat"].notna()
    np.testing.assert_array_equal(ours.loc[ok, "stat"] == 0, r.loc[ok, "stat"] == 0)
    if analysis == "group3":  # the all-zero rule, then the threshold test on LFC 0
        zero = (r["log2FoldChange"] == 0) & r["pvalue"].notna()
        assert zero.sum() > 100
        np.testing.assert_allclose(ours.loc[zero, "pvalue"], r.loc[zero, "pvalue"], rtol=1e-6)
        assert (r.loc[zero, "pvalue"] != 1).any()


def test_threshold_arguments_are_checked():
    fit, _, _, c = _fit("pasilla", "type_condition", {})
    with pytest.raises(MtncrnaError, match="positive lfc_threshold"):
        engine.wald_test(fit, c, alt_hypothesis="lessAbs")
    with pytest.raises(MtncrnaError, match="unknown alt_hypothesis"):
        engine.wald_test(fit, c, lfc_threshold=1, alt_hypothesis="above")
    with pytest.raises(MtncrnaError, match="0 or more"):
        engine.wald_test(fit, c, lfc_threshold=-1)


def test_r_lowess_of_independent_filtering():
    """R's lowess(numRej ~ theta, f = 1/5), which picks the independent-filtering threshold:
    the fit R stored for pasilla's Wald results, including its robustness-iteration quirks."""
    from mtncrna.engine._lowess import lowess

    for dataset, analysis in [("pasilla", "type_condition"), ("thyroid_mirna", "condition")]:
        summary = json.loads((GOLDEN / dataset / analysis / "summary.json").read_text())
        flt = summary["wald"]["filter"]
        theta = np.asarray(flt["filterNumRej"]["theta"], dtype=float)
        num_rej = np.asarray(flt["filterNumRej"]["numRej"], dtype=float)
        np.testing.assert_allclose(lowess(theta, num_rej, f=1 / 5), flt["lo_fit"]["y"], rtol=1e-13)
