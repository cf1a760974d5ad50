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

from mtncrna import engine

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
    n_vars = len(summary["factor_levels"]) if "+" in summary["design"] else 1
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
