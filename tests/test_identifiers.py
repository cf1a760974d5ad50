"""Identifiers that meet across tables: the gene map, and integrate/score across namings."""

from __future__ import annotations

import logging

import numpy as np
import pandas as pd
import pytest

import mtncrna as mt
from mtncrna.reference._genes import load_gene_map
from mtncrna.reference._match import match_names


@pytest.fixture(scope="module")
def genes():
    return load_gene_map()


# ------------------------------------------------------------------------------- gene map


def test_gene_map_is_the_shipped_ncbi_table(genes):
    assert len(genes) > 70_000
    assert "NCBI Gene 2022-Sep12" in genes.source
    assert "org.Hs.eg.db" in genes.source


@pytest.mark.parametrize(
    "name",
    [
        "TP53",
        "tp53",
        "ENSG00000141510",
        "ENSG00000141510.17",
        "7157",
        "Entrez:7157",
        "ENSG00000141510.17|TP53",
        "ENSG00000141510_TP53",
        "TP53|ENSG00000141510",
        "P53",  # an alias that belongs to one gene only
    ],
)
def test_gene_names_resolve_to_one_gene(genes, name):
    hit = genes.resolve(name)
    assert hit.entrez_id == "7157", hit
    assert hit.symbol == "TP53"


def test_gene_map_transcripts_and_verified_ids(genes):
    # a transcript id (with version) names its gene
    tx = genes.table.loc["7157", "ensembl_transcript_id"].split(";")
    if tx[0]:
        assert genes.resolve(tx[0] + ".3").entrez_id == "7157"
    assert genes.resolve("LINC00680").symbol == "LINC00680"
    assert "ENSG00000215190" in genes.ensembl_of(genes.resolve("LINC00680").entrez_id)
    assert "ENSG00000227036" in genes.ensembl_of(genes.resolve("LINC00673").entrez_id)


def test_gene_map_never_guesses(genes):
    # NCBI lists ENSG00000227036 for LINC00511 and LINC00673: ambiguous, not one of them
    hit = genes.resolve("ENSG00000227036")
    assert hit.entrez_id is None and hit.status == "ambiguous" and len(hit.candidates) == 2
    assert genes.resolve("MIR4435-1HG").symbol == "MIR4435-2HG"  # previous symbol, not CYTOR
    assert genes.resolve("LINC00152").symbol == "CYTOR"
    assert genes.resolve("not-a-gene-xyz").status == "unknown"
    assert genes.resolve("ENSG00000000000").status == "unknown"


def test_match_names_across_namings(genes):
    feats = ["ENSG00000141510.17", "ENSG00000171791.14", "hsa-miR-2392"]
    out = match_names(
        ["TP53", "BCL2", "mitomiR-2392", "MYC", "ENSG00000141510.17"],
        feats,
        reference=mt.load_reference(),
    )
    assert out["feature"].tolist() == [
        "ENSG00000141510.17",
        "ENSG00000171791.14",
        "hsa-miR-2392",
        None,
        "ENSG00000141510.17",
    ]
    assert out["how"].tolist() == ["gene", "gene", "reference", "absent", "same_name"]
    # two versions of one gene in a table: ambiguous, never a silent pick
    amb = match_names(["TP53"], ["ENSG00000141510.16", "ENSG00000141510.17"])
    assert amb["feature"].isna().all() and amb["how"].iat[0] == "ambiguous"


# ------------------------------------------------------------------------- integrate / score


@pytest.fixture(scope="module")
def study():
    return mt.datasets.simulate_study(0)


def _ensembl_named(adata, genes):
    """The long-RNA object with its genes renamed to versioned Ensembl ids (as from GENCODE)."""
    names = []
    for sym in adata.var_names:
        hit = genes.resolve(sym)
        ens = genes.ensembl_of(hit.entrez_id) if hit.entrez_id else []
        names.append(f"{ens[0]}.7" if len(ens) == 1 else sym)
    out = adata.copy()
    out.var_names = pd.Index(names)
    out.var_names_make_unique()
    return out


def test_integrate_symbol_targets_meet_versioned_ensembl(study, genes):
    pairs = study.pairs[["mirna", "target"]].copy()
    by_symbol = mt.tl.integrate(study.small.copy(), study.long.copy(), pairs=pairs)
    long_ens = _ensembl_named(study.long, genes)
    assert long_ens.var_names.str.startswith("ENSG").sum() > 80
    by_ens = mt.tl.integrate(study.small.copy(), long_ens, pairs=pairs)
    assert by_ens["target_found"].all() and by_ens["mirna_found"].all()
    assert by_ens["pvalue"].notna().all()
    assert by_ens["target_feature"].isin(long_ens.var_names).all()
    assert by_ens["target_feature"].str.match(r"ENSG\d{11}\.7").sum() >= 15
    a = by_symbol.set_index(["mirna", "target"])["partial_r"]
    b = by_ens.set_index(["mirna", "target"])["partial_r"]
    np.testing.assert_allclose(b.reindex(a.index).to_numpy(), a.to_numpy())
    assert by_ens.attrs["params"]["n_pairs_tested"] == len(pairs)


def test_integrate_reports_each_partner(study, genes):
    pairs = pd.DataFrame(
        {
            "mirna": ["mitomiR-2392", "hsa-miR-206", "hsa-miR-9999"],
            "target": ["FIS1", "NOTAGENE1", "BCL2"],
        }
    )
    out = mt.tl.integrate(study.small.copy(), _ensembl_named(study.long, genes), pairs=pairs)
    row = out.set_index("mirna")
    assert bool(row.loc["mitomiR-2392", "mirna_found"]) and bool(
        row.loc["mitomiR-2392", "target_found"]
    )
    assert row.loc["mitomiR-2392", "mirna_feature"] == "hsa-miR-2392"
    assert not row.loc["hsa-miR-206", "target_found"]
    assert np.isnan(row.loc["hsa-miR-206", "pvalue"])
    assert "target absent" in row.loc["hsa-miR-206", "match_note"]
    assert not row.loc["hsa-miR-9999", "mirna_found"]


def test_integrate_no_pair_matched_is_a_clear_error(study):
    pairs = pd.DataFrame({"mirna": ["hsa-miR-206"], "target": ["NOTAGENE1"]})
    with pytest.raises(mt.MtncrnaError, match=r"none of the 1 miRNA-target pairs") as e:
        mt.tl.integrate(study.small.copy(), study.long.copy(), pairs=pairs)
    assert "0 of their targets" in str(e.value)


def test_score_signature_in_other_naming(study, genes, caplog):
    a = study.long.copy()
    sig = pd.DataFrame(
        {"feature_id": ["BCL2", "TP53", "FIS1", "MFF", "SRF"], "weight": [1, -1, 1, 1, -1]}
    )
    mt.tl.score(a, sig)
    ref_score = a.obs["signature_score"].to_numpy()
    b = _ensembl_named(study.long, genes)
    mt.tl.score(b, sig)
    np.testing.assert_allclose(b.obs["signature_score"].to_numpy(), ref_score)
    info = b.uns["signature_score"]
    assert info["n_features_found"] == 5 and info["share_found"] == 1.0
    assert info["matched_by"] == {"gene": 5}
    # the reverse: a signature in Ensembl ids scores a table in symbols
    sig_ens = sig.assign(
        feature_id=[b.var_names[a.var_names.get_loc(s)] for s in sig["feature_id"]]
    )
    c = study.long.copy()
    mt.tl.score(c, sig_ens)
    np.testing.assert_allclose(c.obs["signature_score"].to_numpy(), ref_score)
    # a small share found: said in uns and warned
    few = pd.concat(
        [sig.iloc[:2], pd.DataFrame({"feature_id": [f"NOGENE{i}" for i in range(6)], "weight": 1})]
    )
    with caplog.at_level(logging.WARNING, logger="mtncrna"):
        mt.tl.score(c, few)
    assert c.uns["signature_score"]["n_features_found"] == 2
    assert "only 2 of 8 signature features" in caplog.text
    with pytest.raises(mt.MtncrnaError, match="none of the signature's 2 features"):
        mt.tl.score(c, pd.DataFrame({"feature_id": ["NOGENE1", "NOGENE2"], "weight": [1, 1]}))


def test_reference_reads_gene_ids_through_the_gene_map():
    ref = mt.load_reference()
    # genes with two Ensembl ids (RN7SK) must not send resolution round in circles
    res = ref.resolve("ENSG00000283293.1")
    assert res.status == "unknown" and "RN7SK" in res.note
    assert ref.resolve("ENSG00000285166").reference_id == "ENSG00000199352"  # RNA5S1
    hit = ref.resolve("ENSG00000207588")  # MIR593: both arms of the hairpin
    assert hit.status == "ambiguous" and len(hit.candidates) == 2
    # a long-RNA table in versioned Ensembl ids is annotated through the same rules
    from mtncrna.reference import annotate_var

    ids = ["ENSG00000198804.2", "ENSG00000240405.7", "ENSG00000141510.17", "ENSG00000266461.1"]
    out, summary = annotate_var(pd.DataFrame(index=ids), ref)
    assert out["reference_symbol"].tolist() == ["MT-CO1", "SAMMSON", "", "hsa-miR-2392"]
    assert summary["n_resolved"] == 3
