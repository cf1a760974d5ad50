"""The bundled reference: counts, genome, aliases, evidence, flags, extension tables, CLI."""

from __future__ import annotations

import json

import pandas as pd
import pytest

import mtncrna as mt
from conftest import write
from mtncrna.reference import is_mt_contig
from mtncrna.reference._manifest import verify_manifest

# Every ncRNA the review (shared/seeds/002) names, as the review spells it.
SEED_NAMES = [
    "mitomiR-2392",
    "mitomiR-5787",
    "miR-485-5p",
    "miR-125b",
    "miR-133a",
    "miR-210-5p",
    "miR-24",
    "miR-30a-5p",
    "miR-3689a-3p",
    "miR-26a",
    "miR-98",
    "miR-193a-3p",
    "miR-27a",
    "SAMMSON",
    "MPRL",
    "miR-18c",
    "miR-206",
    "miR-141-3p",
    "miR-33b-3p",
    "LINC00680",
    "CYTOR",
    "HOTAIR",
    "LINC00673",
    "NEAT1",
    "CRNDE",
    "miR-221",
    "miR-222",
]


def test_mt_genes(reference):
    f = reference.features
    mtg = f[f["rna_class"].isin(["mt-tRNA", "mt-rRNA", "mt-mRNA"])]
    assert len(mtg) == 37
    assert mtg["rna_class"].value_counts().to_dict() == {"mt-tRNA": 22, "mt-mRNA": 13, "mt-rRNA": 2}
    assert (mtg["chrom"] == "NC_012920.1").all()
    assert (mtg["start"] >= 1).all() and (mtg["end"] <= 16569).all()
    assert set(mtg["strand"]) == {"+", "-"}
    # MT-ND6 and 8 tRNAs are on the light (minus) strand
    assert mtg.loc[mtg["strand"] == "-", "symbol"].tolist().count("MT-ND6") == 1
    assert (mtg["strand"] == "-").sum() == 9


def test_rcrs_and_coordinates_agree(reference):
    seq = reference.mt_genome()
    assert len(seq) == 16569
    assert seq.startswith("GATCACAGGTCTATCACCCTATTAACCACTCACGGGAGCTCTCCATGCATTTGG")
    assert seq[3106] == "N"
    comp = str.maketrans("ACGT", "TGCA")
    f = reference.features
    for row in f[f["rna_class"] == "mt-mRNA"].itertuples():
        gene = seq[int(row.start) - 1 : int(row.end)]
        if row.strand == "-":
            gene = gene.translate(comp)[::-1]
        assert gene[:3] in {"ATG", "ATA", "ATT"}, (row.symbol, gene[:3])
    co1 = f[f["symbol"] == "MT-CO1"].iloc[0]
    assert (co1.start, co1.end, co1.strand) == (5904, 7445, "+")


def test_mirbase(reference):
    f = reference.features
    mirs = f[f["rna_class"] == "miRNA"]
    assert len(mirs[mirs.index.str.startswith("MIMAT")]) == 2656
    assert f.loc["MIMAT0019043", "symbol"] == "hsa-miR-2392"
    assert f.loc["MIMAT0023252", "symbol"] == "hsa-miR-5787"
    assert set(mirs.loc[mirs.index.str.startswith("MIMAT"), "sequence"].str.cat()) <= set("ACGU")


@pytest.mark.parametrize("name", SEED_NAMES)
def test_every_seed_ncrna_resolves(reference, name):
    res = reference.resolve(name)
    assert res.reference_id is not None, res
    hit = reference.lookup(name)
    # the evidence is on the resolved entity, or (for a name the curators corrected, such as
    # the review's "miR-485-5p" = miR-483-5p of the primary paper) shown as curated elsewhere
    assert hit["evidence"] or hit["curated_elsewhere"], hit


def test_corrected_name_points_to_curated_entity(reference):
    hit = reference.lookup("miR-485-5p")
    assert hit["reference_id"] == "MIMAT0002175"  # the real hsa-miR-485-5p
    # the review writes miR-485-5p for Fan 2015 (miR-593-5p/MFF) and Tian 2019 (miR-483-5p/FIS1)
    assert {r["reference_name"] for r in hit["curated_elsewhere"]} == {
        "hsa-miR-593-5p",
        "hsa-miR-483-5p",
    }
    assert all("ambiguous_name" in r["flags"] for r in hit["curated_elsewhere"])


def test_historic_armless_names(reference):
    # old miRBase names without arm, pinned by the curated evidence
    assert (
        reference.resolve("miR-133a").reference_id
        == reference.resolve("hsa-miR-133a-3p").reference_id
    )
    assert (
        reference.resolve("miR-27a").reference_id
        == reference.resolve("hsa-miR-27a-3p").reference_id
    )


@pytest.mark.parametrize(
    ("alias", "expected"),
    [
        ("hsa-miR-2392", "MIMAT0019043"),
        ("miR-2392", "MIMAT0019043"),
        ("MIMAT0019043", "MIMAT0019043"),
        ("mitomiR-2392", "MIMAT0019043"),
        ("hsa-mir-2392", "MIMAT0019043"),
        ("miRNA-2392", "MIMAT0019043"),
        ("HSA-MIR-2392", "MIMAT0019043"),
        ("SAMMSON", "ENSG00000240405"),
        ("LINC01212", "ENSG00000240405"),
        ("ENSG00000240405", "ENSG00000240405"),
        ("ENSG00000240405.7", "ENSG00000240405"),
        ("ENSG00000240405.7|SAMMSON", "ENSG00000240405"),
        ("MT-TF", "ENSG00000210049"),
        ("mt-tRNA-Phe", "ENSG00000210049"),
        ("TRNF", "ENSG00000210049"),
        ("MT_TF", "ENSG00000210049"),
        ("LINC00152", "ENSG00000222041"),
        ("miR-125b", "MIMAT0000423"),  # arm-less historic name with a single 5p arm
        ("hsa-let-7a-5p/7c-5p", "MIMAT0000062"),  # miRge3 collapsed name
    ],
)
def test_aliases(reference, alias, expected):
    assert reference.resolve(alias).reference_id == expected


def test_ambiguous_and_unknown(reference):
    res = reference.resolve("hsa-miR-17")  # both hsa-miR-17-5p and -3p exist
    assert res.status == "ambiguous"
    assert set(res.candidates) == {"MIMAT0000070", "MIMAT0000071"}
    assert reference.resolve("tRNA-Leu").status == "unknown"  # two Leu tRNAs: never guessed
    assert reference.resolve("not-a-gene").status == "unknown"
    # species prefixes other than hsa are not silently mapped to human
    assert reference.resolve("mmu-miR-2392").reference_id is None


@pytest.mark.parametrize(
    "name", ["chrM", "MT", "M", "NC_012920.1", "chrMT", "rCRS", "gi|251831106|ref|NC_012920.1|"]
)
def test_mt_contig_names(name):
    assert is_mt_contig(name)


def test_not_mt_contig():
    assert not is_mt_contig("chr1") and not is_mt_contig("chrX")


def test_weak_entries_are_flagged(reference):
    ev = reference.evidence
    m18c = ev[ev["name_in_source"] == "miR-18c"]
    assert len(m18c) == 1
    assert "not_in_mirbase22" in m18c["flags"].iat[0]
    assert m18c["confidence"].iat[0] == "low"
    for name in ("hsa-miR-2392", "hsa-miR-5787"):
        assert ev.loc[ev["reference_name"] == name, "flags"].str.contains("not_in_mirgenedb").all()


def test_literature_directions(reference):
    ev = reference.evidence
    d = dict(zip(ev["reference_name"], ev["direction_in_resistant"], strict=False))
    assert d["hsa-miR-2392"] == "up"
    assert d["hsa-miR-5787"] == "down"
    sam = ev[ev["reference_name"] == "SAMMSON"]
    assert sam["drug"].str.contains("doxorubicin").any()
    assert sam["target_partner"].str.contains("C1QBP").any()


def test_evidence_schema(reference):
    ev = reference.evidence
    assert len(ev) >= 40
    assert ev["evidence_id"].is_unique
    assert set(ev["localisation"]) <= {
        "imported",
        "mtDNA-encoded",
        "acts-on-mitochondria",
        "no-mito-mechanism",
        "unknown",
    }
    assert set(ev["evidence_type"]) <= {
        "fractionation",
        "in_situ_hybridisation",
        "import_assay",
        "functional",
        "clinical",
        "review_statement",
    }
    assert set(ev["direction_in_resistant"]) <= {"up", "down", "none", "na"}
    assert set(ev["confidence"]) <= {"high", "medium", "low"}
    assert (ev["citation"] != "").all()
    # only class-level facts lack an entity
    no_id = ev[ev["reference_id"] == ""]
    assert no_id["flags"].str.contains("class_level").all()


def test_fractionation(reference):
    fr = reference.fractionation
    assert {"Barrey", "Bandiera", "Sripada"} <= {s.split()[0] for s in fr["study"]}
    assert set(fr["confidence"]) <= {"high", "medium", "low"}
    # miR-1974 was reported mito-enriched but is not a miRBase 22 miRNA: kept and flagged
    rid = reference.resolve("hsa-miR-1974").reference_id
    assert rid.startswith("MTNC")
    assert reference.features.loc[rid, "confidence"] == "low"


def test_classes(reference):
    f = reference.features
    assert f.loc["MIMAT0019043", "mt_class"] == "mitomiR"
    assert f.loc["ENSG00000240405", "mt_class"] == "mito-lncRNA"
    assert f.loc["ENSG00000210049", "mt_class"] == "mt-tRNA"
    assert bool(f.loc["ENSG00000210049", "known_mtncrna"])
    assert not bool(f.loc["ENSG00000198804", "known_mtncrna"])  # MT-CO1 codes for a protein
    lnc = f[f["symbol"] == "lncND5"].iloc[0]
    assert lnc["mt_class"] == "mito-lncRNA"


def test_manifest_matches(reference):
    assert verify_manifest(reference.directory) >= 8


def test_load_returns_independent_copies():
    a = mt.load_reference()
    a.features.loc["MIMAT0019043", "symbol"] = "changed"
    assert mt.load_reference().features.loc["MIMAT0019043", "symbol"] == "hsa-miR-2392"


# ------------------------------------------------------------------------ extension tables

EXT = (
    "reference_name\trna_class\treference_id\taliases\tlocalisation\tdrug\tdirection_in_resistant"
    "\tcitation\n"
    "hsa-miR-2392\tmiRNA\t\t\timported\toxaliplatin\tup\tOur lab, 2026\n"
    "MYLNC1\tlncRNA\tENSG00000999999\tMY-LNC-1\timported\tcisplatin\tdown\tOur lab, 2026\n"
)


def test_extension_merge(tmp_path):
    ext = write(tmp_path / "ext.tsv", EXT)
    ref = mt.load_reference(ext)
    assert ref.resolve("MY-LNC-1").reference_id == "ENSG00000999999"
    assert ref.features.loc["ENSG00000999999", "mt_class"] == "mito-lncRNA"
    base = mt.load_reference()
    n = (ref.evidence["reference_id"] == "MIMAT0019043").sum()
    assert n == (base.evidence["reference_id"] == "MIMAT0019043").sum() + 1


@pytest.mark.parametrize(
    ("text", "message"),
    [
        (
            EXT.replace("\tup\t", "\tupward\t"),
            "line 2, column direction_in_resistant: 'upward' is not allowed",
        ),
        (
            EXT.replace("MYLNC1\tlncRNA\tENSG00000999999", "MYLNC1\tlncRNA\t"),
            "line 3, column reference_name: 'MYLNC1' is not in the reference",
        ),
        (EXT.replace("rna_class", "klass"), "missing required column(s) rna_class"),
        (
            EXT.replace("\tcitation", "\tcitation\tcolour").replace("2026\n", "2026\tred\n"),
            "unknown column(s) colour",
        ),
        (EXT.replace("hsa-miR-2392\tmiRNA", "hsa-miR-17\tmiRNA"), "is ambiguous"),
    ],
)
def test_extension_errors(run_cli, tmp_path, text, message):
    ext = write(tmp_path / "ext.tsv", text)
    code, _, stderr = run_cli("reference", "validate", ext)
    assert code == 2
    assert message in stderr
    assert len(stderr.strip().splitlines()) == 1


def test_cli_validate(run_cli, tmp_path):
    code, out, _ = run_cli("reference", "validate")
    assert code == 0 and "match MANIFEST" in out
    ext = write(tmp_path / "ext.tsv", EXT)
    code, out, _ = run_cli("reference", "validate", ext)
    assert code == 0 and "2 evidence rows (1 new entities)" in out


def test_cli_lookup(run_cli):
    code, out, _ = run_cli("reference", "lookup", "mitomiR-2392", "LINC01212", "TRNF")
    assert code == 0
    assert "mitomiR-2392 -> MIMAT0019043 hsa-miR-2392 [miRNA, mitomiR]" in out
    assert "LINC01212 -> ENSG00000240405 SAMMSON" in out
    assert "TRNF -> ENSG00000210049 MT-TF [mt-tRNA, mt-tRNA]" in out
    code, out, _ = run_cli("reference", "lookup", "miR-0000")
    assert code == 1
    assert "miR-0000: unknown" in out
    code, out, _ = run_cli("reference", "lookup", "--format", "json", "SAMMSON")
    data = json.loads(out)
    assert data["results"][0]["reference_id"] == "ENSG00000240405"
    assert len(data["results"][0]["evidence"]) >= 1


def test_cli_list(run_cli, tmp_path):
    code, out, _ = run_cli("reference", "list")
    assert code == 0
    lines = out.splitlines()
    assert lines[0].startswith("# mtncrna reference ")
    (tmp_path / "l.tsv").write_text("\n".join(lines[1:]))
    table = pd.read_csv(tmp_path / "l.tsv", sep="\t")
    assert {"hsa-miR-2392", "SAMMSON", "MT-TF"} <= set(table["symbol"])
    assert "hsa-let-7a-3p" not in set(table["symbol"])  # no evidence, not listed by default
    code, out, _ = run_cli("reference", "list", "--format", "json", "--evidence")
    data = json.loads(out)
    assert len(data["rows"]) >= 40


# ------------------------------------------------------------------ second edition (issue 13)


def test_mito_classes_need_mitochondrial_evidence(reference):
    f = reference.features.set_index("symbol")
    # rows of the review's general section (DNA repair, autophagy, sponges, epigenetics)
    for sym in ("hsa-miR-520g-3p", "hsa-miR-520h", "hsa-miR-33b-3p", "hsa-miR-222-3p"):
        assert f.loc[sym, "mt_class"] == "other", sym
        assert f.loc[sym, "mito_evidence"] == "no-mito-mechanism", sym
    for sym in ("LINC00680", "CYTOR", "HOTAIR", "LINC00673", "CRNDE"):
        assert f.loc[sym, "mt_class"] == "other", sym
    # acting on mitochondria from the cytosol: recorded, not a mitomiR
    for sym in ("hsa-miR-210-5p", "hsa-miR-3689a-3p", "hsa-miR-98-5p"):
        assert f.loc[sym, "mt_class"] == "other" and not f.loc[sym, "known_mtncrna"]
        assert f.loc[sym, "mito_evidence"] == "acts-on-mitochondria", sym
    assert f.loc["MPRL", "mito_evidence"] == "acts-on-mitochondria"
    # inside mitochondria: fractionation, in situ or import
    for sym in ("hsa-miR-2392", "hsa-let-7b-5p", "hsa-miR-494-3p", "hsa-miR-378a-3p"):
        assert f.loc[sym, "mt_class"] == "mitomiR" and f.loc[sym, "mito_evidence"] == "inside"
    assert f.loc["hsa-miR-221-3p", "mt_class"] == "mitomiR"  # Sripada 2012 fractionation
    for sym in ("SAMMSON", "GAS5", "MALAT1", "NEAT1", "lncND5"):
        assert f.loc[sym, "mt_class"] == "mito-lncRNA", sym
    for sym in ("RMRP", "RPPH1", "RNA5S1", "RNA5S17"):
        assert bool(f.loc[sym, "known_mtncrna"]) and f.loc[sym, "mito_evidence"] == "inside"
    # retired miRBase entries of mtDNA origin are not lncRNAs
    for sym in ("hsa-miR-1974", "hsa-miR-1977", "hsa-miR-1978"):
        assert f.loc[sym, "mt_class"] == "other"
        assert {"retired_mirbase", "mtDNA_fragment"} <= set(f.loc[sym, "flags"].split(";"))


def test_every_localisation_is_explained_in_the_readme(reference):
    text = (reference.directory / "README.md").read_text()
    for value in ("imported", "mtDNA-encoded", "acts-on-mitochondria", "no-mito-mechanism"):
        assert f"`{value}`" in text


def test_mtdna_fragments_computed_from_sequences(reference):
    frag = reference.mtdna_fragments().set_index("symbol")
    assert set(frag.index) == {
        "hsa-miR-1973",
        "hsa-miR-4284",
        "hsa-miR-4463",
        "hsa-miR-4485-3p",
        "hsa-miR-4485-5p",
        "hsa-miR-12136",
    }
    genome = reference.mt_genome()
    comp = str.maketrans("ACGT", "TGCA")
    for sym, row in frag.iterrows():
        rid = row["reference_id"]
        seq = reference.features.at[rid, "sequence"].replace("U", "T")
        piece = genome[int(row["start"]) - 1 : int(row["end"])]
        assert (piece if row["strand"] == "+" else piece.translate(comp)[::-1]) == seq, sym
        assert "mtDNA_fragment" in reference.features.at[rid, "flags"]
    assert frag.loc["hsa-miR-4284", "mt_gene"] == "MT-TF"


@pytest.mark.parametrize(
    ("name", "members"),
    [
        ("miR-221/222", ["hsa-miR-221-3p", "hsa-miR-222-3p"]),
        ("miRNA-520g/h", ["hsa-miR-520g-3p", "hsa-miR-520h"]),
        ("miR-520g/h", ["hsa-miR-520g-3p", "hsa-miR-520h"]),
        ("hsa-let-7a-5p/7c-5p", ["hsa-let-7a-5p", "hsa-let-7c-5p"]),
    ],
)
def test_pairs_and_ranges_resolve_to_every_member(reference, name, members):
    res = reference.resolve(name)
    assert res.status == "group"
    got = [reference.features.at[r, "symbol"] for r in res.candidates]
    assert got == members


def test_names_users_type(reference):
    sym = reference.features["symbol"]
    assert reference.resolve("tRNA").status == "unknown"  # a class of RNA, not MT-TA
    assert reference.resolve("miRNA").status == "unknown"
    assert sym[reference.resolve("TRNA").reference_id] == "MT-TA"  # NCBI's exact symbol
    assert reference.resolve("MIR4435-1HG").reference_id is None  # paralogue of CYTOR
    assert sym[reference.resolve("LINC00152").reference_id] == "CYTOR"
    # names copied from the review
    for name, expected in (
        ("miR-365", {"hsa-miR-365a-3p", "hsa-miR-365b-3p"}),
        ("miR-125-5p", {"hsa-miR-125a-5p", "hsa-miR-125b-5p"}),
        ("miR-34", {"hsa-miR-34a-5p", "hsa-miR-34b-5p", "hsa-miR-34c-5p"}),
        ("miR-514", {"hsa-miR-514a-3p", "hsa-miR-514b-3p"}),
    ):
        res = reference.resolve(name)
        assert res.status == "ambiguous", name
        assert expected <= {sym[r] for r in res.candidates}, name
    assert sym[reference.resolve("miR-125 b").reference_id] == "hsa-miR-125b-5p"
    assert sym[reference.resolve("pre-miR-485-5p").reference_id] == "hsa-miR-485-5p"
    # accessions and ids
    assert reference.resolve("MI0000060").status == "ambiguous"  # hairpin: both arms
    assert set(reference.resolve("MI0000060").candidates) == {"MIMAT0000062", "MIMAT0004481"}
    assert reference.resolve("MI0016811").reference_id == "MIMAT0018987"  # one-arm hairpin
    assert reference.resolve("ENSG00000266461").reference_id == "MIMAT0019043"  # MIR2392 gene
    assert reference.resolve("ENSG00000266461.1").reference_id == "MIMAT0019043"
    assert reference.resolve("ENSG00000215190").reference_id == "ENSG00000215190"  # LINC00680
    assert reference.resolve("LINC00673").reference_id == "ENSG00000227036"
    assert reference.resolve("SLNCR1").reference_id == "ENSG00000227036"
    assert reference.resolve("MTNC10002").reference_id == "ENSG00000215190"  # retired id
    assert reference.resolve("NR_034085").reference_id == "ENSG00000177738"  # MPRL
    from mtncrna.reference._genes import load_gene_map

    tx = load_gene_map().table.loc["106660612", "ensembl_transcript_id"]  # LINC00680
    if tx:
        assert reference.resolve(tx.split(";")[0] + ".2").reference_id == "ENSG00000215190"


def test_audit_fixes(reference):
    ev = reference.evidence.set_index("evidence_id")
    fan = ev.loc["MTE0031"]
    assert fan["reference_name"] == "hsa-miR-593-5p" and fan["target_partner"] == "MFF"
    assert fan["name_in_source"] == "miR-485-5p"
    mir24 = ev.loc["MTE0036"]
    assert mir24["drug"] == "" and mir24["effect_on_drug_response"] == "na"
    assert "not_drug_resistance" in mir24["flags"]
    assert ev.loc["MTE0049", "organism"] == "human"
    seven_s = reference.features.set_index("symbol").loc["7S RNA", "source"]
    assert "Cell" in seven_s and "Mol Cell" not in seven_s
    assert "10.1016/j.cell.2022.05.006" in seven_s


def test_evidence_of_new_sources_is_cited(reference):
    ev = reference.evidence
    new = ev[ev["reference_name"].isin(["RMRP", "RPPH1", "GAS5", "MALAT1", "RNA5S3"])]
    assert set(new["localisation"]) == {"imported"}
    assert (new["citation"] != "").all() and (new["evidence_type"] != "").all()
    fr = reference.fractionation
    assert {"Jagannathan", "Zhang", "Bian"} <= {s.split()[0] for s in fr["study"]}
    assert (fr["method"] != "").all()
    # unverified attributions and PMIDs say so
    bian = fr[fr["study"].str.startswith("Bian")]
    assert (bian["confidence"] == "low").all() and bian["study"].str.contains("unverified").all()


def test_lookup_shows_curated_rows_for_every_resolution(run_cli):
    code, out, _ = run_cli("reference", "lookup", "miR-221/222")
    assert code == 0
    assert "miR-221/222: 2 members" in out
    assert "MIMAT0000278 hsa-miR-221-3p" in out and "MIMAT0000279 hsa-miR-222-3p" in out
    assert "MTE0011 [no-mito-mechanism]" in out and "MTE0012 [no-mito-mechanism]" in out
    code, out, _ = run_cli("reference", "lookup", "miR-365")
    assert code == 1
    assert "miR-365: ambiguous (miRNA family): hsa-miR-365a-3p" in out
    assert "Barrey et al., 2011" in out  # curated rows of the candidates are shown
    code, out, _ = run_cli("reference", "lookup", "tRNA")
    assert code == 1 and "a class of RNA, not one gene" in out


def test_lookup_json_has_no_nan(run_cli):
    code, out, _ = run_cli(
        "reference", "lookup", "--format", "json", "miR-2392", "MT-TF", "miR-365", "SAMMSON"
    )
    assert code == 1  # miR-365 is ambiguous
    assert "NaN" not in out
    data = json.loads(out)
    assert data["results"][0]["feature"]["start"] is None  # a miRNA has no chrM span
    assert data["results"][1]["feature"]["start"] == 577
    assert len(data["results"][2]["members"]) == 4


def test_vocabulary(reference):
    voc = reference.vocabulary
    for term in ("DDP", "CDDP", "cisplatin", "Cisplatin"):
        assert voc.canonical("drug", term) == "cisplatin"
    assert voc.canonical("drug", "5-FU") == voc.canonical("drug", "5fu") == "5-fluorouracil"
    assert voc.canonical("drug", "adriamycin") == "doxorubicin"
    assert voc.canonical("cancer", "TSCC") == "tongue squamous cell carcinoma"
    assert voc.canonical("cancer", "hcc") == "hepatocellular carcinoma"
    assert voc.lineage("cancer", "LUAD") == [
        "lung adenocarcinoma",
        "non-small cell lung cancer",
        "lung cancer",
    ]
    assert voc.matches("cancer", "lung cancer", "non-small cell lung cancer")
    assert not voc.matches("cancer", "NSCLC", "lung cancer")
    # every drug and cancer the evidence names is in the vocabulary
    for kind in ("drug", "cancer"):
        for v in reference.evidence[kind]:
            for term in filter(None, str(v).split(";")):
                assert voc.known(kind, term), (kind, term)


def test_short_reads_on_chrm_are_placed_by_overlap(reference):
    from mtncrna.reference import annotate_var

    var = pd.DataFrame(
        {
            "chrom": ["chrM", "chrM", "chrM", "MT", "chrM"],
            "start": [600, 600, 640, 3000, 577],
            "end": [621, 621, 661, 3400, 647],
            "strand": ["+", "-", "+", "+", "+"],
        },
        index=["read_in_TF", "antisense_read", "read_across_TF_RNR1", "long_in_RNR2", "tf_span"],
    )
    out, _ = annotate_var(var, reference)
    sym = out["reference_symbol"]
    assert sym["read_in_TF"] == "MT-TF"  # a 22-nt read inside a 71-nt tRNA
    assert sym["antisense_read"] == ""  # the other strand is not the gene
    assert sym["read_across_TF_RNR1"] == "MT-RNR1"  # most of the read is in MT-RNR1
    assert sym["long_in_RNR2"] == ""  # 401 of 1,559 nt: a long feature needs 50% reciprocal
    assert sym["tf_span"] == "MT-TF"
    assert (out["name_match"] == "coordinates").sum() == 3


def test_extension_legacy_localisation_is_read_and_warned(tmp_path, caplog):
    import logging

    ext = write(
        tmp_path / "ext.tsv",
        "reference_name\trna_class\treference_id\tlocalisation\tcitation\n"
        "MYLNC2\tlncRNA\tENSG00000999998\tcytosolic-acting\tOur lab, 2026\n",
    )
    with caplog.at_level(logging.WARNING, logger="mtncrna"):
        ref = mt.load_reference(ext)
    row = ref.evidence[ref.evidence["reference_id"] == "ENSG00000999998"].iloc[0]
    assert row["localisation"] == "acts-on-mitochondria"
    assert ref.features.loc["ENSG00000999998", "mt_class"] == "other"
    assert ref.features.loc["ENSG00000999998", "mito_evidence"] == "acts-on-mitochondria"
    assert "read as 'acts-on-mitochondria'" in caplog.text


def test_gene_map_is_public():
    from mtncrna.reference import load_gene_map, match_names

    assert load_gene_map().resolve("TP53").entrez_id == "7157"
    assert match_names(["TP53"], ["ENSG00000141510.17"])["feature"].iat[0] == "ENSG00000141510.17"
