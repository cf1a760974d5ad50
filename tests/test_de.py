"""tl.de / get.de_df / mtncrna de on the example study: API, CLI, errors."""

from __future__ import annotations

import json
from pathlib import Path

import anndata as ad
import numpy as np
import pandas as pd
import pytest

import mtncrna as mt
from mtncrna import engine
from mtncrna.tl._de import RESULT_COLUMNS


@pytest.fixture(scope="module")
def small():
    return mt.datasets.example("small")


def test_de_recovers_literature_directions(small):
    a = small.copy()
    mt.tl.de(
        a,
        design="~ batch + condition",
        contrasts=[("condition", "resistant", "parental")],
        subset={"fraction": "cytosol"},
    )
    df = mt.get.de_df(a).set_index("feature_id")
    assert df.loc["hsa-miR-5787", "log2FoldChange"] < -1
    assert df.loc["hsa-miR-5787", "padj"] < 0.01
    assert df.loc["hsa-miR-2392", "log2FoldChange"] > 1
    assert set(df.columns) >= {
        "baseMean",
        "log2FoldChange",
        "lfcSE",
        "stat",
        "pvalue",
        "padj",
        "reason",
        "mt_class",
        "known_mtncrna",
        "reference_id",
    }
    params = a.uns["de"]["params"]
    assert params["design"] == "~ batch + condition"
    assert params["n_samples"] == 12


def test_fraction_contrast_finds_mito_enriched_mitomirs(small):
    a = small.copy()
    mt.tl.de(a, design="~ pair + fraction", contrasts=("fraction", "mito", "cytosol"))
    df = mt.get.de_df(a)
    sig = df[(df["padj"] < 0.05) & (df["log2FoldChange"] > 0)]
    assert sig["mt_class"].isin(["mitomiR", "mt-tRNA", "mt-rRNA"]).mean() > 0.8
    mito = df[df["mt_class"] == "mitomiR"]
    assert (mito["log2FoldChange"] > 0).mean() > 0.9


def test_reason_column(small):
    a = small.copy()
    counts = a.layers["counts"].copy()
    counts[:, 0] = 0  # an all-zero feature
    a.layers["counts"] = counts
    mt.tl.de(a, design="~ condition", contrasts=("condition", "resistant", "parental"))
    df = mt.get.de_df(a).set_index("feature_id")
    first = a.var_names[0]
    assert df.loc[first, "reason"] == "all_zero"
    assert np.isnan(df.loc[first, "pvalue"])
    filtered = df[df["reason"] == "low_counts"]
    assert filtered["pvalue"].notna().all() and filtered["padj"].isna().all()
    assert (df.loc[df["reason"] == "", "padj"].notna()).all()


def test_several_contrasts_from_one_fit_and_interaction(small):
    a = small.copy()
    mt.tl.de(
        a,
        design="~ fraction + condition + fraction:condition",
        contrasts=[("condition", "resistant", "parental"), ("fraction", "mito", "cytosol")],
        coefficients=["fraction[T.mito]:condition[T.resistant]"],
    )
    names = list(a.uns["de"]["results"])
    assert names == [
        "condition_resistant_vs_parental",
        "fraction_mito_vs_cytosol",
        "fraction_T.mito_condition_T.resistant",
    ]
    df = mt.get.de_df(a)
    assert df["contrast"].nunique() == 3


def test_lrt(small):
    a = small.copy()
    mt.tl.de(
        a,
        design="~ batch + condition",
        reduced="~ batch",
        test="lrt",
        contrasts=("condition", "resistant", "parental"),
        subset={"fraction": "mito"},
    )
    df = mt.get.de_df(a).set_index("feature_id")
    assert list(a.uns["de"]["results"]) == ["condition_resistant_vs_parental_lrt"]
    assert df.loc["hsa-miR-5787", "pvalue"] < 1e-3
    assert (df["stat"].dropna() >= -1e-8).all()  # a likelihood-ratio statistic


def test_swapped_contrast_flips_sign(small):
    a = small.copy()
    b = small.copy()
    mt.tl.de(a, design="~ condition", contrasts=("condition", "resistant", "parental"))
    mt.tl.de(b, design="~ condition", contrasts=("condition", "parental", "resistant"))
    x = mt.get.de_df(a)["log2FoldChange"].to_numpy()
    y = mt.get.de_df(b)["log2FoldChange"].to_numpy()
    np.testing.assert_allclose(x, -y, rtol=1e-6, atol=1e-8)


def test_h5ad_round_trip_keeps_results(small, tmp_path):
    a = small.copy()
    mt.tl.de(a, design="~ condition", contrasts=("condition", "resistant", "parental"))
    a.write_h5ad(tmp_path / "a.h5ad")
    b = ad.read_h5ad(tmp_path / "a.h5ad")
    pd.testing.assert_frame_equal(
        mt.get.de_df(a), mt.get.de_df(b), check_dtype=False, check_categorical=False
    )


def test_deterministic(small):
    a, b = small.copy(), small.copy()
    for x in (a, b):
        mt.tl.de(x, design="~ pair + fraction", contrasts=("fraction", "mito", "cytosol"))
    pd.testing.assert_frame_equal(mt.get.de_df(a), mt.get.de_df(b))


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        (
            {"design": "~ colour", "contrasts": ("condition", "resistant", "parental")},
            "uses colour, which the sample sheet does not have",
        ),
        (
            {"design": "~ condition", "contrasts": ("condition", "resistent", "parental")},
            "'resistent' is not a level of 'condition'",
        ),
        (
            {"design": "~ condition", "contrasts": ("fraction", "mito", "cytosol")},
            "'fraction' is not a factor of the design",
        ),
        (
            {
                "design": "~ pair + condition",
                "contrasts": ("condition", "resistant", "parental"),
            },
            "not full rank",
        ),
        ({"design": "~ drug", "contrasts": ("drug", "a", "b")}, "has a single value"),
        (
            {"design": "condition", "contrasts": ("condition", "resistant", "parental")},
            "is not a formula",
        ),
        (
            {
                "design": "~ condition",
                "contrasts": ("condition", "resistant", "parental"),
                "subset": {"fraction": "golgi"},
            },
            "subset fraction=golgi matches no sample",
        ),
        (
            {
                "design": "~ condition",
                "contrasts": ("condition", "resistant", "parental"),
                "test": "lrt",
            },
            "the LRT needs a reduced design",
        ),
    ],
)
def test_de_errors(small, kwargs, message):
    with pytest.raises(mt.MtncrnaError, match=message):
        mt.tl.de(small.copy(), **kwargs)


def test_get_de_df_errors(small):
    with pytest.raises(mt.MtncrnaError, match=r"run mtncrna\.tl\.de first"):
        mt.get.de_df(small)


def test_cli_de(run_cli, tmp_path):
    d = mt.datasets.example_dir()
    out = tmp_path / "de"
    code, stdout, stderr = run_cli(
        "de",
        d / "small_rna_counts.tsv",
        "-s",
        d / "samples.csv",
        "--design",
        "~ batch + condition",
        "--contrast",
        "condition",
        "resistant",
        "parental",
        "--subset",
        "fraction=cytosol",
        "-o",
        out,
    )
    assert code == 0, stderr
    table = pd.read_csv(out / "de_condition_resistant_vs_parental.tsv", sep="\t")
    assert list(table.columns[:8]) == [
        "feature_id",
        "baseMean",
        "log2FoldChange",
        "lfcSE",
        "stat",
        "pvalue",
        "padj",
        "reason",
    ]
    assert "down at padj < 0.1" in stdout
    prov = json.loads((out / "provenance.json").read_text())
    assert prov["parameters"]["design"] == "~ batch + condition"
    assert {o["path"] for o in prov["outputs"]} == {
        "de_condition_resistant_vs_parental.tsv",
        "de.h5ad",
    }
    assert prov["reference_version"]


def test_cli_de_from_h5ad_and_bad_level(run_cli, tmp_path):
    d = mt.datasets.example_dir()
    h5 = tmp_path / "small.h5ad"
    assert run_cli("import", d / "small_rna_counts.tsv", "-s", d / "samples.csv", "-o", h5)[0] == 0
    code, _, stderr = run_cli(
        "de",
        h5,
        "--design",
        "~ condition",
        "--contrast",
        "condition",
        "resistent",
        "parental",
        "-o",
        tmp_path / "o",
    )
    assert code == 2
    assert stderr.strip() == (
        "mtncrna: error: 'resistent' is not a level of 'condition' "
        "(levels: resistant and the reference level)"
    )
    assert not list((tmp_path / "o").glob("*.tsv"))


def test_engine_design_reference_levels():
    md = pd.DataFrame({"condition": ["b", "b", "a", "a"]}, index=list("wxyz"))
    X = engine.design_matrix("~ condition", md)
    assert list(X.columns) == ["Intercept", "condition[T.b]"]
    X = engine.design_matrix("~ condition", md, reference_levels={"condition": "b"})
    assert list(X.columns) == ["Intercept", "condition[T.a]"]
    np.testing.assert_array_equal(engine.contrast_vector(X, "condition", "a", "b"), [0, 1])
    np.testing.assert_array_equal(engine.contrast_vector(X, "condition", "b", "a"), [0, -1])


def test_vst_is_log2_like_for_large_counts():
    a = mt.datasets.toy("small", seed=1)
    counts = a.layers["counts"][(a.obs["fraction"] == "cytosol").to_numpy()]
    counts = counts[:, counts.sum(axis=0) > 0]
    v = engine.vst(counts, nsub=None)
    sf = engine.size_factors(counts)
    norm = counts / sf[:, None]
    big = norm > 1000
    assert np.abs(v[big] - np.log2(norm[big])).max() < 0.5


def test_shrunken_lfcs(small):
    a = small.copy()
    mt.tl.de(
        a,
        design="~ cell_line + condition",
        contrasts=("condition", "resistant", "parental"),
        subset={"fraction": "cytosol"},
        shrink=True,
    )
    df = mt.get.de_df(a)
    assert a.uns["de"]["params"]["shrink"].startswith("apeglm")
    ok = df["log2FoldChange_shrunk"].notna()
    assert ok.sum() == df["log2FoldChange"].notna().sum()
    # shrinkage pulls towards zero, most for the least certain estimates
    assert (
        df.loc[ok, "log2FoldChange_shrunk"].abs() <= df.loc[ok, "log2FoldChange"].abs() + 0.05
    ).mean() > 0.95
    noisy = df[ok & (df["lfcSE"] > df.loc[ok, "lfcSE"].quantile(0.9))]
    precise = df[ok & (df["lfcSE"] < df.loc[ok, "lfcSE"].quantile(0.1))]
    ratio_noisy = (noisy["log2FoldChange_shrunk"].abs() / noisy["log2FoldChange"].abs()).median()
    ratio_precise = (
        precise["log2FoldChange_shrunk"].abs() / precise["log2FoldChange"].abs()
    ).median()
    assert ratio_noisy < ratio_precise
    # a contrast between two non-reference levels works too (re-parametrised)
    b = small.copy()
    mt.tl.de(
        b,
        design="~ cell_line + condition",
        contrasts=("condition", "parental", "resistant"),
        subset={"fraction": "cytosol"},
        shrink=True,
    )
    flipped = mt.get.de_df(b)["log2FoldChange_shrunk"].to_numpy()
    np.testing.assert_allclose(flipped[ok], -df.loc[ok, "log2FoldChange_shrunk"], atol=0.01)


def test_shrinkage_prior_variance_hand_case():
    # effects with SE 0: the prior variance is the (weighted) mean square of the effects
    mle = np.array([1.0, -1.0, 2.0, -2.0])
    assert engine._shrink.prior_variance(mle, np.zeros(4)) == pytest.approx(2.5)
    # effects no larger than their noise: the lower bound
    assert engine._shrink.prior_variance(np.zeros(4), np.ones(4)) == pytest.approx(1e-6)


def test_pydeseq2_engine_equals_pydeseq2_run_directly():
    """engine="pydeseq2" runs pydeseq2 itself: its numbers, the project's tables and getters."""
    import warnings

    from pydeseq2.dds import DeseqDataSet
    from pydeseq2.ds import DeseqStats

    golden = Path(__file__).parent / "data" / "golden" / "thyroid_mirna"
    counts = pd.read_csv(golden / "counts.tsv.gz", sep="\t", index_col=0)
    obs = pd.read_csv(golden / "coldata.tsv", sep="\t", index_col=0)
    adata = ad.AnnData(counts[obs.index].T.astype(np.int64), obs=obs)
    adata.layers["counts"] = adata.X.copy()
    refs = {"condition": "NTH", "pair": "patient1"}
    contrast = ("condition", "PTC", "NTH")
    mt.tl.de(
        adata,
        design="~ pair + condition",
        contrasts=contrast,
        reference_levels=refs,
        size_factors="ratio",
        engine="pydeseq2",
    )
    ours = mt.get.de_df(adata, "condition_PTC_vs_NTH", annotate=False).set_index("feature_id")
    assert adata.uns["de"]["params"]["engine"] == "pydeseq2"

    md = obs.copy()
    md["condition"] = pd.Categorical(md["condition"], categories=["NTH", "PTC"])
    md["pair"] = pd.Categorical(md["pair"], categories=[f"patient{i}" for i in range(1, 9)])
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        dds = DeseqDataSet(
            counts=counts[obs.index].T, metadata=md, design="~pair+condition", quiet=True
        )
        dds.deseq2()
        st = DeseqStats(dds, contrast=list(contrast), alpha=0.1, quiet=True)
        st.summary()
    direct = st.results_df.reindex(ours.index)
    for col in ("baseMean", "log2FoldChange", "lfcSE", "stat", "pvalue", "padj"):
        np.testing.assert_allclose(ours[col], direct[col], rtol=1e-12, equal_nan=True, err_msg=col)
    # the reason column from where pydeseq2 left NaN
    all_zero = (counts[obs.index] == 0).all(axis=1).reindex(ours.index)
    assert (ours.loc[all_zero, "reason"] == "all_zero").all()
    low = ours["padj"].isna() & ours["pvalue"].notna()
    assert low.sum() > 0 and (ours.loc[low, "reason"] == "low_counts").all()
    assert (ours.loc[ours["padj"].notna(), "reason"] == "").all()
    np.testing.assert_allclose(
        adata.uns["de"]["size_factors"]["size_factor"], dds.obs["size_factors"], rtol=1e-12
    )


def test_pydeseq2_engine_refuses_what_it_cannot_do(small):
    with pytest.raises(mt.MtncrnaError, match="does not support test='lrt'"):
        mt.tl.de(
            small,
            design="~ condition",
            contrasts=("condition", "resistant", "parental"),
            test="lrt",
            reduced="~ 1",
            engine="pydeseq2",
        )
    with pytest.raises(mt.MtncrnaError, match="unknown engine"):
        mt.tl.de(small, design="~ condition", contrasts=("condition", "a", "b"), engine="edger")


def test_cli_de_engine_pydeseq2(run_cli, tmp_path):
    d = mt.datasets.example_dir()
    out = tmp_path / "de"
    args = ["de", d / "small_rna_counts.tsv", "-s", d / "samples.csv", "--design", "~ condition"]
    args += ["--contrast", "condition", "resistant", "parental", "--subset", "fraction=cytosol"]
    code, _, stderr = run_cli(*args, "--engine", "pydeseq2", "-o", out)
    assert code == 0, stderr
    table = pd.read_csv(out / "de_condition_resistant_vs_parental.tsv", sep="\t")
    assert list(table.columns[:8]) == list(("feature_id", *RESULT_COLUMNS))
    prov = json.loads((out / "provenance.json").read_text())
    assert prov["parameters"]["engine"] == "pydeseq2"
    code, _, stderr = run_cli(*args, "--engine", "pydeseq2", "--test", "lrt", "-o", out)
    assert code == 2 and "does not support test='lrt'" in stderr


def test_cli_de_threads_change_no_number(run_cli, tmp_path):
    """`mtncrna de --threads N` (tl.de's threads=): the same tables with 1 or 2 threads."""
    d = mt.datasets.example_dir()
    args = ["de", d / "small_rna_counts.tsv", "-s", d / "samples.csv", "--design", "~ condition"]
    args += ["--contrast", "condition", "resistant", "parental", "--subset", "fraction=cytosol"]
    tables = []
    for n in (1, 2):
        code, _, stderr = run_cli(*args, "--threads", str(n), "-o", tmp_path / f"t{n}")
        assert code == 0, stderr
        tables.append((tmp_path / f"t{n}" / "de_condition_resistant_vs_parental.tsv").read_text())
    assert tables[0] == tables[1]
    code, _, stderr = run_cli(*args, "--threads", "0", "-o", tmp_path / "t0")
    assert code == 2 and "--threads" in stderr


def test_shrink_normal_through_tl_de(small):
    """shrink="normal" is R's lfcShrink(type="normal") (checked against R in
    test_engine_golden.py); through tl.de it fills the same columns and records the method."""
    a = small.copy()
    mt.tl.de(
        a,
        design="~ cell_line + condition",
        contrasts=("condition", "resistant", "parental"),
        subset={"fraction": "cytosol"},
        shrink="normal",
    )
    df = mt.get.de_df(a)
    assert a.uns["de"]["params"]["shrink"].startswith("normal")
    ok = df["log2FoldChange_shrunk"].notna()
    assert ok.sum() == df["log2FoldChange"].notna().sum()
    assert (
        df.loc[ok, "log2FoldChange_shrunk"].abs() <= df.loc[ok, "log2FoldChange"].abs() + 1e-6
    ).mean() > 0.95
    with pytest.raises(mt.MtncrnaError, match="unknown shrink"):
        mt.tl.de(a, design="~ condition", contrasts=("condition", "a", "b"), shrink="ashr")


@pytest.mark.parametrize(
    ("contrasts", "coefficients", "message"),
    [
        (
            [("condition", "resistant", "parental")] * 2,
            [],
            "two contrasts have the name condition_resistant_vs_parental",
        ),
        ([("condition", "resistant", "resistant")], [], "compares 'resistant' with itself"),
        ([("condition", "resistant")], [], "a contrast is (factor, numerator, denominator)"),
    ],
)
def test_contrasts_given_twice_or_with_themselves_are_refused(
    small, contrasts, coefficients, message
):
    """One result per contrast name: a second copy would silently replace the first."""
    with pytest.raises(mt.MtncrnaError, match=message.replace("(", r"\(").replace(")", r"\)")):
        mt.tl.de(small.copy(), design="~ condition", contrasts=contrasts, coefficients=coefficients)


def test_cli_de_refuses_a_contrast_given_twice(run_cli, tmp_path):
    d = mt.datasets.example_dir()
    out = tmp_path / "de"
    contrast = ["--contrast", "condition", "resistant", "parental"]
    code, _stdout, stderr = run_cli(
        "de",
        d / "small_rna_counts.tsv",
        "-s",
        d / "samples.csv",
        "--design",
        "~ condition",
        *contrast,
        *contrast,
        "-o",
        out,
    )
    assert code == 2
    assert "given twice" in stderr and "Traceback" not in stderr
    assert len(stderr.strip().splitlines()) == 1
    assert not out.exists()
