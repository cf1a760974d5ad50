"""Concordance with the literature: vocabulary, scope of the summary, coverage, orientation."""

from __future__ import annotations

import logging

import pandas as pd
import pytest

import mtncrna as mt
from conftest import write


def _de(rows, contrast="condition_resistant_vs_parental"):
    de = pd.DataFrame(rows, columns=["feature_id", "log2FoldChange", "padj"])
    if contrast is not None:
        de.insert(1, "contrast", contrast)
    return de


DE = [
    ("hsa-miR-2392", 2.0, 1e-4),  # cisplatin, TSCC: up  -> concordant
    ("hsa-miR-5787", 1.5, 1e-3),  # cisplatin, TSCC: down -> discordant
    ("hsa-miR-125b-5p", -1.2, 1e-3),  # doxorubicin, breast: down -> concordant
    ("hsa-miR-133a-3p", 0.1, 0.8),  # doxorubicin, breast: down -> not significant
    ("GAPDH", 0.0, 0.9),
    ("ACTB", 0.2, 0.5),
    ("TP53", 0.3, 0.4),
    ("MYC", -0.1, 0.9),
]


@pytest.mark.parametrize(
    ("drug", "cancer"),
    [
        ("cisplatin", "tongue squamous cell carcinoma"),
        ("DDP", "TSCC"),
        ("CDDP", "tscc"),
        ("Cisplatin", "oral squamous cell carcinoma"),  # broader cancer matches TSCC studies
    ],
)
def test_drug_and_cancer_synonyms(drug, cancer):
    t = mt.tl.concordance_table(_de(DE), drug=drug, cancer=cancer)
    ctx = t.set_index("evidence_id")["context"]
    assert ctx["MTE0030"] == "matching" and ctx["MTE0032"] == "matching"
    assert ctx["MTE0033"] == "other"


def test_summary_counts_matching_studies_unless_asked():
    t = mt.tl.concordance_table(_de(DE), drug="DDP", cancer="TSCC")
    assert t.attrs["summary"] == {
        "concordant": 1,
        "discordant": 1,
        "not_significant": 0,
        "not_detected": 0,
    }
    assert t.attrs["summary_scope"] == "studies matching drug DDP and cancer TSCC"
    assert set(t["context"]) == {"matching", "other"}  # the others are listed, not counted
    everything = mt.tl.concordance_table(_de(DE), drug="DDP", cancer="TSCC", summary_scope="all")
    assert everything.attrs["summary"]["concordant"] == 2
    assert everything.attrs["summary"]["not_significant"] == 1
    only = mt.tl.concordance_table(_de(DE), drug="DDP", cancer="TSCC", matching_only=True)
    assert set(only["context"]) == {"matching"} and len(only) == 2


def test_coverage_states_the_share_of_the_de_used():
    t = mt.tl.concordance_table(_de(DE), drug="cisplatin")
    cov = t.attrs["coverage"]
    assert cov["n_de_features"] == 8
    assert cov["n_de_features_used"] == 2  # miR-2392 and miR-5787 (cisplatin studies)
    assert cov["share_used"] == pytest.approx(2 / 8)
    assert cov["per_verdict"] == {
        "concordant": 1,
        "discordant": 1,
        "not_significant": 0,
        "not_detected": 0,
    }
    line = mt.tl._concordance.summary_line(t)
    assert "verdicts used 2 of 8 DE features (25%)" in line


def test_contrast_orientation_is_checked(caplog):
    with pytest.raises(mt.MtncrnaError, match="parental/sensitive cells in the numerator"):
        mt.tl.concordance_table(_de(DE, "condition_parental_vs_resistant"))
    with pytest.raises(mt.MtncrnaError, match="numerator"):
        mt.tl.concordance_table(_de(DE, "status_sensitive_vs_DDP-resistant"))
    ok = mt.tl.concordance_table(_de(DE, "condition_cisR_vs_parental"))
    assert ok.attrs["params"]["orientation"] == "resistant_over_parental"
    with caplog.at_level(logging.WARNING, logger="mtncrna"):
        unk = mt.tl.concordance_table(_de(DE, "group_B_vs_A"))
    assert unk.attrs["params"]["orientation"] == "unchecked"
    assert "could not tell from the contrast name" in caplog.text


def test_duplicate_features_are_kept_and_reported(caplog):
    rows = [*DE, ("mitomiR-2392", -2.0, 1e-4)]  # a second row naming the same miRNA
    with caplog.at_level(logging.WARNING, logger="mtncrna"):
        t = mt.tl.concordance_table(_de(rows), drug="cisplatin")
    r = t[t["evidence_id"] == "MTE0030"]
    assert set(r["feature_id"]) == {"hsa-miR-2392", "mitomiR-2392"}
    assert (r["n_features_for_id"] == 2).all()
    assert set(r["verdict"]) == {"concordant", "discordant"}
    assert "several DE rows" in caplog.text


def test_pair_features_count_for_every_member():
    t = mt.tl.concordance_table(_de([("hsa-let-7a-5p/miR-125b-5p", -1.0, 1e-3)]))
    assert "hsa-miR-125b-5p" in set(t["symbol"])


def test_cli_concordance_synonyms_and_scope(run_cli, tmp_path):
    de = write(
        tmp_path / "de.tsv",
        "feature_id\tcontrast\tlog2FoldChange\tpadj\n"
        + "".join(f"{f}\tcondition_resistant_vs_parental\t{lfc}\t{p}\n" for f, lfc, p in DE),
    )
    out = tmp_path / "c.tsv"
    code, stdout, stderr = run_cli(
        "concordance", de, "--drug", "DDP", "--cancer", "TSCC", "--matching-only", "-o", out
    )
    assert code == 0, stderr
    assert "concordant 1, discordant 1" in stdout
    assert "over studies matching drug DDP and cancer TSCC" in stdout
    assert "verdicts used 2 of 8 DE features" in stdout
    table = pd.read_csv(out, sep="\t")
    assert set(table["context"]) == {"matching"}
    bad = write(
        tmp_path / "bad.tsv",
        "feature_id\tcontrast\tlog2FoldChange\tpadj\n"
        "hsa-miR-2392\tcondition_parental_vs_resistant\t2\t0.001\n",
    )
    code, _, stderr = run_cli("concordance", bad, "-o", tmp_path / "c2.tsv")
    assert code == 2 and "numerator" in stderr
    assert not (tmp_path / "c2.tsv").exists()
