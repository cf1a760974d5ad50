"""QC/purity, enrichment, interaction and concordance on simulated studies with known answers."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest

import mtncrna as mt


@pytest.fixture(scope="module", params=[0, 1])
def study(request):
    s = mt.datasets.simulate_study(request.param)
    for a in (s.small, s.long):
        mt.tl.annotate(a)
    return s


def test_simulator_is_deterministic():
    a = mt.datasets.simulate_study(5)
    b = mt.datasets.simulate_study(5)
    np.testing.assert_array_equal(a.small.X, b.small.X)
    np.testing.assert_array_equal(a.long.X, b.long.X)
    design = a.small.obs
    assert design.shape[0] == 24
    assert (design.groupby(["cell_line", "condition", "fraction"]).size() == 3).all()


def test_qc_estimates_contamination(study):
    a = study.small.copy()
    mt.pp.qc(a)
    q = mt.get.qc_df(a).set_index("sample")
    mito = q[a.obs["fraction"] == "mito"]
    truth = study.contamination.reindex(a.obs.loc[mito.index, "pair"]).to_numpy()
    np.testing.assert_allclose(mito["contamination"].to_numpy(), truth, atol=0.04)
    np.testing.assert_allclose(mito["purity"], 1 - mito["contamination"])
    assert (mito["mt_enrichment"] > 3).all()  # mtDNA-encoded RNAs strongly enriched
    assert q.loc[a.obs["fraction"] == "cytosol", "purity"].isna().all()
    assert not q["outlier"].any()
    assert a.uns["qc"]["pca"].shape == (24, 5)
    # the first PC separates the fractions
    pc1 = pd.DataFrame(a.uns["qc"]["pca"])["PC1"]
    frac = a.obs["fraction"]
    assert pc1[frac == "mito"].mean() * pc1[frac == "cytosol"].mean() < 0


def test_qc_flags_a_broken_sample(study):
    a = study.small.copy()
    rng = np.random.default_rng(0)
    counts = a.layers["counts"].copy()
    counts[3] = rng.permutation(counts[3])  # a sample whose counts are scrambled
    a.layers["counts"] = counts
    mt.pp.qc(a)
    q = mt.get.qc_df(a).set_index("sample")
    flagged = list(q.index[q["outlier"]])
    assert flagged == [a.obs_names[3]]
    assert q.loc[a.obs_names[3], "outlier_reason"] == "low_correlation_with_group"


def test_enrichment_recovers_mitochondrial_ncrnas(study):
    a = study.small.copy()
    mt.tl.enrichment(a)
    e = mt.get.enrichment_df(a).set_index("feature_id")
    truth = study.truth_small
    called = set(e.index[e["mito_enriched"]])
    true = set(truth.index[truth["mito_localised"]])
    assert len(called & true) / len(true) >= 0.85
    assert len(called - true) <= 1
    # the "novel" imported miRNAs (not in the reference) are found too
    novel = set(truth.index[truth["novel_import"]])
    assert len(called & novel) >= 3
    assert a.uns["enrichment"]["params"]["paired"] is True
    assert a.uns["enrichment"]["params"]["design"] == "~ pair + fraction"


def test_enrichment_is_robust_to_contamination():
    """More contamination lowers power but does not create false enrichment calls."""
    s = mt.datasets.simulate_study(3, contamination=(0.4, 0.6))
    a = s.small
    mt.tl.annotate(a)
    mt.tl.enrichment(a)
    e = mt.get.enrichment_df(a).set_index("feature_id")
    called = set(e.index[e["mito_enriched"]])
    true = set(s.truth_small.index[s.truth_small["mito_localised"]])
    assert len(called - true) <= 1
    assert len(called & true) >= 0.5 * len(true)


def test_interaction_finds_mito_pool_changes(study):
    a = study.small.copy()
    mt.tl.enrichment(a, interaction="condition")
    i = mt.get.enrichment_df(a, interaction="condition_resistant").set_index("feature_id")
    truth = study.truth_small
    sig = set(i.index[i["padj"] < 0.05])
    planted = set(truth.index[truth["mito_pool_lfc"] != 0])
    # every planted pool change is estimated in its direction and at least half its size ...
    est = i.loc[sorted(planted), "log2FoldChange"]
    assert (np.sign(est) == np.sign(truth.loc[est.index, "mito_pool_lfc"])).all()
    assert (est.abs() >= 0.5 * truth.loc[est.index, "mito_pool_lfc"].abs()).all()
    # ... and called at padj < 0.05 for at least 2 of the 6 (seeds 1-3: 6, 5, 4; seed 0 with
    # reference 2026.11.1: 2, its planted features being the least expressed), with at most one
    # false call
    assert len(sig & planted) >= 2
    assert len(sig - planted) <= 1
    # and the sign is right
    for f in sig & planted:
        assert np.sign(i.loc[f, "log2FoldChange"]) == np.sign(truth.loc[f, "mito_pool_lfc"])
    # features that change in total (both compartments) are not interaction hits
    total_only = set(truth.index[(truth["resistance_lfc"] != 0) & (truth["mito_pool_lfc"] == 0)])
    assert len(sig & total_only) <= 1


def test_de_recovers_resistance_changes(study):
    a = study.small.copy()
    mt.tl.de(
        a,
        design="~ cell_line + condition",
        contrasts=("condition", "resistant", "parental"),
        subset={"fraction": "cytosol"},
    )
    df = mt.get.de_df(a).set_index("feature_id")
    truth = study.truth_small
    sig = set(df.index[df["padj"] < 0.1])
    planted = set(truth.index[(truth["resistance_lfc"] != 0) & ~truth.index.str.startswith("MT-")])
    assert len(sig & planted) / len(planted) >= 0.7
    assert len(sig - planted) <= 0.3 * len(sig)


def test_concordance_on_simulated_study(study):
    a = study.small.copy()
    mt.tl.de(
        a,
        design="~ cell_line + condition",
        contrasts=("condition", "resistant", "parental"),
        subset={"fraction": "cytosol"},
    )
    mt.tl.concordance(a, drug="cisplatin")
    c = mt.get.concordance_df(a).set_index("symbol")
    assert c.loc["hsa-miR-2392", "verdict"] == "concordant"
    assert c.loc["hsa-miR-5787", "verdict"] == "concordant"
    assert c.loc["hsa-miR-2392", "context"] == "matching"
    assert c.loc["hsa-miR-2392", "citation"] == "Fan et al., 2019"
    assert (c["verdict"] != "discordant").all()


def test_concordance_verdicts_hand_case():
    de = pd.DataFrame(
        {
            "feature_id": ["hsa-miR-2392", "hsa-miR-5787", "hsa-miR-133a-3p", "CYTOR", "GAPDH"],
            "log2FoldChange": [1.5, 1.0, -0.2, np.nan, 3.0],
            "padj": [0.001, 0.01, 0.5, np.nan, 1e-10],
        }
    )
    t = mt.tl.concordance_table(de, drug="cisplatin").set_index("symbol")
    assert t.loc["hsa-miR-2392", "verdict"] == "concordant"  # up, reported up
    assert t.loc["hsa-miR-5787", "verdict"] == "discordant"  # up, reported down
    assert t.loc["hsa-miR-133a-3p", "verdict"] == "not_significant"
    assert set(t.loc[["CYTOR"], "verdict"]) == {"not_detected"}
    assert "GAPDH" not in t.index  # not a known mtncRNA
    assert t.loc["hsa-miR-133a-3p", "context"] == "other"  # a doxorubicin/other-drug study
    absent = mt.tl.concordance_table(de.iloc[:1], include_absent=True)
    assert (absent["verdict"] == "not_detected").sum() >= 5


def test_analysis_errors(study):
    a = study.small.copy()
    with pytest.raises(mt.MtncrnaError, match="no samples with fraction=whole"):
        mt.tl.enrichment(a, versus="whole")
    with pytest.raises(mt.MtncrnaError, match="interaction factor 'colour'"):
        mt.tl.enrichment(a, interaction="colour")
    b = study.small.copy()
    del b.var["mt_class"]
    with pytest.raises(mt.MtncrnaError, match=r"run mtncrna\.tl\.annotate"):
        mt.pp.qc(b)
    with pytest.raises(mt.MtncrnaError, match=r"run mtncrna\.tl\.concordance"):
        mt.get.concordance_df(a)


def test_cli_qc_enrich_concordance(run_cli, tmp_path):
    d = mt.datasets.example_dir()
    counts, sheet = d / "small_rna_counts.tsv", d / "samples.csv"
    code, out, err = run_cli("qc", counts, "-s", sheet, "-o", tmp_path / "qc")
    assert code == 0, err
    q = pd.read_csv(tmp_path / "qc" / "qc_samples.tsv", sep="\t")
    assert {"sample", "total_counts", "pct_mt_encoded", "purity", "outlier"} <= set(q.columns)
    assert "fraction purity: median" in out
    code, out, err = run_cli(
        "enrich",
        counts,
        "-s",
        sheet,
        "--versus",
        "cyto",
        "--interaction",
        "condition",
        "-o",
        tmp_path / "en",
    )
    assert code == 0, err
    e = pd.read_csv(tmp_path / "en" / "enrichment_mito_vs_cyto.tsv", sep="\t")
    assert list(e.columns[:8]) == [
        "feature_id",
        "baseMean",
        "log2FoldChange",
        "lfcSE",
        "stat",
        "pvalue",
        "padj",
        "reason",
    ]
    assert e["mito_enriched"].sum() > 30
    assert (tmp_path / "en" / "interaction_condition_resistant.tsv").exists()
    prov = json.loads((tmp_path / "en" / "provenance.json").read_text())
    assert prov["parameters"]["interaction"] == "condition"
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
        "fraction=cytosol",
        "-o",
        tmp_path / "de",
    )
    assert code == 0, err
    code, out, err = run_cli(
        "concordance",
        tmp_path / "de" / "de_condition_resistant_vs_parental.tsv",
        "--drug",
        "cisplatin",
        "-o",
        tmp_path / "conc.tsv",
    )
    assert code == 0, err
    c = pd.read_csv(tmp_path / "conc.tsv", sep="\t")
    assert {"expected_direction", "log2FoldChange", "padj", "verdict", "citation"} <= set(c.columns)
    assert "concordant" in out


def test_cli_concordance_bad_table(run_cli, tmp_path):
    bad = tmp_path / "de.tsv"
    bad.write_text("feature_id\tlfc\nx\t1\n")
    code, _, err = run_cli("concordance", bad, "-o", tmp_path / "c.tsv")
    assert code == 2
    assert (
        "de.tsv, line 1: no column(s) log2FoldChange, padj; expected a table from mtncrna de" in err
    )
    assert not (tmp_path / "c.tsv").exists()


@pytest.mark.parametrize(
    ("text", "message"),
    [
        (
            "feature_id\tlog2FoldChange\tpadj\nhsa-miR-2392\t1.5\tabc\n",
            "de.tsv, line 2, column padj: 'abc' is not a number",
        ),
        (
            "feature_id\tlog2FoldChange\tpadj\nhsa-miR-2392\t1.5\tNA\nhsa-miR-5787\t,\t0.1\n",
            "de.tsv, line 3, column log2FoldChange: ',' is not a number",
        ),
    ],
)
def test_cli_concordance_bad_cells(run_cli, tmp_path, text, message):
    de = tmp_path / "de.tsv"
    de.write_text(text)
    code, _, err = run_cli("concordance", de, "-o", tmp_path / "c.tsv")
    assert code == 2
    assert message in err
    assert len(err.strip().splitlines()) == 1
    assert not (tmp_path / "c.tsv").exists()
