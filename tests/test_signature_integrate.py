"""Resistance signatures, scoring, cross-validation, and small/long RNA integration."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

import mtncrna as mt


@pytest.fixture(scope="module")
def study():
    s = mt.datasets.simulate_study(0)
    for a in (s.small, s.long):
        mt.tl.annotate(a)
    return s


@pytest.fixture(scope="module")
def de_tables(study):
    a = study.small.copy()
    tables = {}
    for fraction in ("cytosol", "mito"):
        mt.tl.de(
            a,
            design="~ cell_line + condition",
            contrasts=("condition", "resistant", "parental"),
            subset={"fraction": fraction},
            key_added=f"de_{fraction}",
        )
        tables[fraction] = mt.get.de_df(a, key=f"de_{fraction}")
    return tables


def test_signature_recovers_planted_resistance_changes(study, de_tables):
    sig = mt.tl.signature(de_tables)
    truth = study.truth_small
    # a change of the mitochondrial pool with resistance is a resistance change of the mito
    # fraction, so the signature over both fractions rightly carries it
    planted = set(truth.index[(truth["resistance_lfc"] != 0) | (truth["mito_pool_lfc"] != 0)])
    assert len(set(sig["feature_id"]) & planted) / len(sig) >= 0.9
    row = sig.set_index("feature_id")
    assert row.loc["hsa-miR-2392", "direction"] == "up"
    assert row.loc["hsa-miR-5787", "direction"] == "down"
    assert (row["sign_agreement"] == 1.0).all()
    # Stouffer over both fractions: nearly every member is supported by the combined evidence
    assert (row["combined_padj"] < 0.05).mean() >= 0.9
    assert list(sig.columns) == list(mt.tl._signature.SIGNATURE_COLUMNS)
    # sorted by |weight|
    assert (np.diff(sig["weight"].abs().to_numpy()) <= 1e-12).all()


def test_signature_consistency_filter():
    a = pd.DataFrame(
        {
            "feature_id": ["x", "y"],
            "log2FoldChange": [2.0, 2.0],
            "pvalue": [1e-6, 1e-6],
            "padj": [1e-5, 1e-5],
        }
    )
    b = pd.DataFrame(
        {
            "feature_id": ["x", "y"],
            "log2FoldChange": [1.5, -1.5],
            "pvalue": [1e-4, 1e-4],
            "padj": [1e-3, 1e-3],
        }
    )
    sig = mt.tl.signature({"a": a, "b": b})
    assert list(sig["feature_id"]) == ["x"]  # y changes sign between contrasts
    loose = mt.tl.signature({"a": a, "b": b}, min_agreement=0.5)
    assert set(loose["feature_id"]) == {"x", "y"}
    gmt = mt.tl.to_gmt(sig, name="test")
    assert gmt.splitlines()[0].split("\t") == [
        "test_UP",
        "mtncrna:up_in_resistant",
        "x",
    ]
    # contrasts with another numerator (parental over resistant) say so
    assert mt.tl.to_gmt(sig, name="t", up_in="parental").split("\t")[1] == "mtncrna:up_in_parental"


def test_signature_of_a_table_with_several_contrasts():
    """get.de_df of a 3-level factor stacks two contrasts: each counts as one contrast (as two
    tables would), never as a feature twice; a repeated feature in one contrast is an error."""
    a = pd.DataFrame(
        {"feature_id": ["x", "y"], "log2FoldChange": [2.0, 2.0], "pvalue": [1e-6] * 2,
         "padj": [1e-5] * 2}
    )  # fmt: skip
    b = a.assign(log2FoldChange=[1.5, -1.5], pvalue=[1e-4] * 2, padj=[1e-3] * 2)
    stacked = pd.concat([a.assign(contrast="c_hi_vs_p"), b.assign(contrast="c_lo_vs_p")])
    sig = mt.tl.signature({"de": stacked})
    expected = mt.tl.signature({"a": a, "b": b})
    assert list(sig["feature_id"]) == ["x"] and (sig["n_contrasts"] == 2).all()
    pd.testing.assert_frame_equal(sig.reset_index(drop=True), expected.reset_index(drop=True))
    with pytest.raises(mt.MtncrnaError, match="has feature 'x' more than once"):
        mt.tl.signature({"de": pd.concat([a, a])})


def test_score_and_cross_validation(study, de_tables):
    a = study.small.copy()
    sig = mt.tl.signature(de_tables)
    mt.tl.score(a, sig)
    s = a.obs["signature_score"]
    res = a.obs["condition"] == "resistant"
    assert s[res].min() > s[~res].max()
    assert a.uns["signature_score"]["auc_in_sample"] == 1.0
    cv = mt.tl.signature_cv(
        a,
        design="~ cell_line + condition",
        contrast=("condition", "resistant", "parental"),
        subset={"fraction": "cytosol"},
    )
    assert list(cv["fold"]) == ["1", "2", "3"]
    assert cv.attrs["auc"] >= 0.9
    assert (cv["n_features"] > 5).all()


def test_cv_on_null_data_is_near_chance():
    s = mt.datasets.simulate_study(4)
    a = s.small
    mt.tl.annotate(a)
    # shuffle the condition labels within cell line: no real signal left
    rng = np.random.default_rng(0)
    obs = a.obs.copy()
    for line in obs["cell_line"].unique():
        prep = obs.loc[obs["cell_line"] == line, "pair"].unique()
        perm = dict(
            zip(
                prep,
                rng.permutation(
                    obs.drop_duplicates("pair").set_index("pair").loc[prep, "condition"].to_numpy()
                ),
                strict=True,
            )
        )
        obs.loc[obs["cell_line"] == line, "condition"] = obs.loc[
            obs["cell_line"] == line, "pair"
        ].map(perm)
    a.obs = obs
    cv = mt.tl.signature_cv(
        a,
        design="~ cell_line + condition",
        contrast=("condition", "resistant", "parental"),
        subset={"fraction": "cytosol"},
        alpha=0.01,
    )
    assert np.isnan(cv.attrs["auc"]) or cv.attrs["auc"] < 0.95


def test_integrate_p_is_the_partial_correlation_test(study):
    """p of each pair = the textbook partial correlation t-test, df = n - rank(design) - 1."""
    from scipy import stats

    out = mt.tl.integrate(study.small, study.long)
    df = (
        mt.get.integrate_df(study.small).attrs.get("params", {}).get("df")
        or (study.small.uns["integrate"]["params"]["df"])
    )
    assert (
        df
        == out["n_samples"].iloc[0]
        - np.linalg.matrix_rank(
            mt.engine.design_matrix(
                study.small.uns["integrate"]["params"]["design"], study.small.obs
            ).to_numpy()
        )
        - 1
    )
    r = out["partial_r"].to_numpy(float)
    t = r * np.sqrt(df / (1 - r**2))
    ok = np.isfinite(r)
    np.testing.assert_allclose(out["pvalue"][ok], 2 * stats.t.sf(np.abs(t[ok]), df), rtol=1e-8)


def test_integrate_finds_coupled_pairs(study):
    out = mt.tl.integrate(study.small, study.long)
    assert list(out.columns[:8]) == [
        "mirna",
        "target",
        "source",
        "n_samples",
        "partial_r",
        "pvalue",
        "padj",
        "coupled",
    ]
    coupled = set(
        zip(out.loc[out["coupled"], "mirna"], out.loc[out["coupled"], "target"], strict=True)
    )
    # pairs sharing a target: the simulator couples the target to the last miRNA listed
    truth = study.pairs.drop_duplicates("target", keep="last")
    planted = set(zip(truth["mirna"], truth["target"], strict=True))
    assert len(coupled & planted) >= 0.7 * len(planted)
    assert len(coupled - planted) <= 1
    assert out.attrs["params"]["design"] == "~ fraction + condition + cell_line + batch"
    stored = mt.get.integrate_df(study.small)
    assert len(stored) == len(out)


def test_integrate_design_effects_are_not_coupling(study):
    """A miRNA and a gene that both differ only between fractions are not 'coupled'."""
    small, long_ = study.small.copy(), study.long.copy()
    pairs = pd.DataFrame({"mirna": ["MT-TF"], "target": ["MT-CO1"]})  # both mito-enriched
    out = mt.tl.integrate(small, long_, pairs=pairs)
    assert not out["coupled"].any()
    raw = np.corrcoef(
        np.log1p(small[:, "MT-TF"].X.ravel()), np.log1p(long_[:, "MT-CO1"].X.ravel())
    )[0, 1]
    assert raw > 0.8  # the raw correlation is high, driven by the fraction


def test_integrate_user_pairs_and_errors(study):
    with pytest.raises(mt.MtncrnaError, match="lacks column"):
        mt.tl.integrate(study.small, study.long, pairs=pd.DataFrame({"a": [1]}))
    with pytest.raises(mt.MtncrnaError, match="no miRNA-target pair to test"):
        mt.tl.integrate(study.small, study.long, pairs=pd.DataFrame({"mirna": [], "target": []}))


def test_cli_signature_score_integrate(run_cli, tmp_path):
    d = mt.datasets.example_dir()
    counts, sheet = d / "small_rna_counts.tsv", d / "samples.csv"
    for fraction in ("mito", "cytosol"):
        code, _, err = run_cli(
            "de",
            counts,
            "-s",
            sheet,
            "--design",
            "~ cell_line + condition",
            "--contrast",
            "condition",
            "resistant",
            "parental",
            "--subset",
            f"fraction={fraction}",
            "-o",
            tmp_path / fraction,
        )
        assert code == 0, err
        (tmp_path / f"{fraction}.tsv").write_bytes(
            (tmp_path / fraction / "de_condition_resistant_vs_parental.tsv").read_bytes()
        )
    code, out, err = run_cli(
        "signature", tmp_path / "mito.tsv", tmp_path / "cytosol.tsv", "-o", tmp_path / "sig"
    )
    assert code == 0, err
    sig = pd.read_csv(tmp_path / "sig" / "signature.tsv", sep="\t")
    assert {"hsa-miR-2392", "hsa-miR-5787"} <= set(sig["feature_id"])
    gmt = (tmp_path / "sig" / "signature.gmt").read_text().splitlines()
    assert gmt[0].startswith("mtncrna_resistance_UP\t")
    code, out, err = run_cli(
        "score",
        counts,
        "-s",
        sheet,
        "--signature",
        tmp_path / "sig" / "signature.tsv",
        "-o",
        tmp_path / "scores.tsv",
    )
    assert code == 0, err
    assert "in-sample AUC resistant vs rest 1.00" in out
    code, out, err = run_cli(
        "integrate",
        "--small",
        counts,
        "--long",
        d / "long_rna_counts.tsv",
        "-s",
        sheet,
        "-o",
        tmp_path / "pairs.tsv",
    )
    assert code == 0, err
    pairs = pd.read_csv(tmp_path / "pairs.tsv", sep="\t")
    assert pairs["coupled"].sum() >= 8
    bad = tmp_path / "targets.tsv"
    bad.write_text("first\ttarget\nx\ty\n")
    code, _, err = run_cli(
        "integrate",
        "--small",
        counts,
        "--long",
        d / "long_rna_counts.tsv",
        "-s",
        sheet,
        "--targets",
        bad,
        "-o",
        tmp_path / "p2.tsv",
    )
    assert code == 2
    assert "targets.tsv, line 1: no column(s) mirna" in err


def test_cli_score_bad_weight(run_cli, tmp_path):
    d = mt.datasets.example_dir()
    sig = tmp_path / "sig.tsv"
    sig.write_text("feature_id\tdirection\tweight\nhsa-miR-2392\tup\tx\n")
    code, _, err = run_cli(
        "score",
        d / "small_rna_counts.tsv",
        "-s",
        d / "samples.csv",
        "--signature",
        sig,
        "-o",
        tmp_path / "s.tsv",
    )
    assert code == 2
    assert "sig.tsv, line 2, column weight: 'x' is not a number" in err
    assert not (tmp_path / "s.tsv").exists()


def test_mirtarbase_export_is_a_target_table(tmp_path):
    """miRTarBase's export (its own column names, 'miRNA' and 'Target Gene') is read as the
    (mirna, target) table the integration takes."""
    from mtncrna.io import TARGET_ALIASES, read_result_table

    path = tmp_path / "hsa_MTI.csv"
    path.write_text(
        "miRTarBase ID,miRNA,Species (miRNA),Target Gene,Target Gene (Entrez ID),"
        "Species (Target Gene),Experiments,Support Type,References (PMID)\n"
        "MIRT000002,hsa-miR-20a-5p,Homo sapiens,HIF1A,3091,Homo sapiens,Luciferase reporter assay,"
        "Functional MTI,18632605\n"
        "MIRT000006,hsa-miR-146a-5p,Homo sapiens,CXCR4,7852,Homo sapiens,qRT-PCR,"
        "Functional MTI,18568019\n"
    )
    t = read_result_table(
        path, required=("mirna", "target"), what="a miRNA-target table", aliases=TARGET_ALIASES
    )
    assert t[["mirna", "target"]].values.tolist() == [
        ["hsa-miR-20a-5p", "HIF1A"],
        ["hsa-miR-146a-5p", "CXCR4"],
    ]
