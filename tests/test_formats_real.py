"""Reading the outputs of the real tools (tests/data/formats, see its README for how made)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

import mtncrna as mt
from conftest import FORMATS, write

SAMPLES = ["S1", "S2", "S3", "S4"]


@pytest.fixture
def sheet(tmp_path):
    rows = ["sample,condition,fraction"] + [
        f"{s},{'resistant' if i > 1 else 'parental'},{'mito' if i % 2 == 0 else 'cytosol'}"
        for i, s in enumerate(SAMPLES)
    ]
    return write(tmp_path / "samples.csv", "\n".join(rows) + "\n")


def _independent_featurecounts(path) -> pd.DataFrame:
    fc = pd.read_csv(path, sep="\t", comment="#", index_col=0)
    counts = fc.iloc[:, 5:]
    counts.columns = [c.split("/")[-1].removesuffix(".sorted.bam") for c in counts.columns]
    return counts


def test_featurecounts(sheet):
    path = FORMATS / "featurecounts" / "counts.txt"
    adata = mt.read_counts(path, sheet)
    assert adata.uns["mtncrna"]["format"] == "featurecounts"
    assert list(adata.obs_names) == SAMPLES
    expected = _independent_featurecounts(path)
    pd.testing.assert_frame_equal(
        adata.to_df().T.loc[expected.index, SAMPLES], expected[SAMPLES], check_names=False
    )
    summary = pd.read_csv(path.with_name("counts.txt.summary"), sep="\t", index_col=0)
    assert list(adata.obs["featurecounts_Assigned"]) == summary.loc["Assigned"].tolist()
    assert adata.obs["featurecounts_Unassigned_MultiMapping"].sum() > 0
    assert adata.var.loc["ENSG00000240405", "chrom"] == "chr1"
    assert adata.var.loc["ENSG00000240405", "reference_symbol"] == "SAMMSON"
    assert adata.var.loc["ENSG00000210049", "mt_class"] == "mt-tRNA"
    assert adata.obs.loc["S1", "source"] == "bam/S1.sorted.bam"


def test_featurecounts_extra_attributes():
    adata = mt.read_counts(FORMATS / "featurecounts" / "counts_q10_extra.txt")
    assert list(adata.obs_names) == SAMPLES
    assert adata.var.loc["ENSG00000240405", "gene_name"] == "SAMMSON"
    assert adata.var.loc["ENSG00000240405", "gene_biotype"] == "lncRNA"
    assert "featurecounts_Unassigned_MappingQuality" in adata.obs


def test_htseq_per_sample_files_match_multi_column_run(sheet):
    files = sorted((FORMATS / "htseq").glob("S*.txt"))
    per_sample = mt.read_counts(files, sheet)
    multi = mt.read_counts(FORMATS / "htseq" / "multi_with_header.tsv", sheet)
    assert per_sample.uns["mtncrna"]["format"] == multi.uns["mtncrna"]["format"] == "htseq"
    pd.testing.assert_frame_equal(per_sample.to_df(), multi.to_df())
    for counter in (
        "__no_feature",
        "__ambiguous",
        "__too_low_aQual",
        "__not_aligned",
        "__alignment_not_unique",
    ):
        assert f"htseq{counter}" in per_sample.obs
        assert counter not in per_sample.var_names
    np.testing.assert_array_equal(
        per_sample.obs["htseq__no_feature"], multi.obs["htseq__no_feature"]
    )


def test_htseq_and_featurecounts_agree_outside_overlaps():
    """Two counters on the same BAMs: equal except where genes overlap (their rules differ)."""
    fc = mt.read_counts(FORMATS / "featurecounts" / "counts.txt").to_df()
    ht = mt.read_counts(sorted((FORMATS / "htseq").glob("S*.txt"))).to_df()
    diff = (fc[ht.columns] - ht).abs().sum()
    assert (diff > 0).sum() <= 1
    assert ht.to_numpy().sum() > 1000


def test_htseq_multi_without_header_names_columns_by_position():
    adata = mt.read_counts(FORMATS / "htseq" / "multi.tsv")
    assert list(adata.obs_names) == ["multi_1", "multi_2", "multi_3", "multi_4"]


def test_htseq_folder_with_duplicates_is_refused():
    with pytest.raises(mt.InputError, match=r"sample 'S1' is also in S1\.txt"):
        mt.read_counts(FORMATS / "htseq")


def test_mirge3(sheet):
    path = FORMATS / "mirge3" / "miR.Counts.csv"
    adata = mt.read_counts(path, sheet)
    assert adata.uns["mtncrna"]["format"] == "mirge3"
    assert adata.uns["mtncrna"]["library"] == "small"
    raw = pd.read_csv(path, index_col=0)
    np.testing.assert_array_equal(
        adata.to_df().T.loc[raw.index, SAMPLES].to_numpy(), raw[SAMPLES].to_numpy().astype(int)
    )
    assert adata.var.loc["hsa-let-7a-5p/7c-5p", "reference_symbol"] == "hsa-let-7a-5p"
    assert adata.var.loc["hsa-miR-2392", "mt_class"] == "mitomiR"


def test_mirge3_rpm_is_refused_with_a_hint():
    with pytest.raises(mt.InputError, match="looks like normalised values"):
        mt.read_counts(FORMATS / "mirge3" / "miR.RPM.csv")


def test_smrnaseq_edger_mature_counts(sheet):
    path = FORMATS / "smrnaseq" / "mature_counts.csv"
    adata = mt.read_counts(path, sheet)
    assert adata.uns["mtncrna"]["format"] == "smrnaseq"
    raw = pd.read_csv(path, index_col=0)  # samples as rows
    np.testing.assert_array_equal(
        adata.to_df().loc[SAMPLES, raw.columns].to_numpy(), raw.loc[SAMPLES].to_numpy()
    )


def test_smrnaseq_mirtop_tables_agree(sheet):
    mirna = mt.read_counts(FORMATS / "smrnaseq" / "mirna.tsv", sheet, format="smrnaseq")
    isomirs = mt.read_counts(FORMATS / "smrnaseq" / "joined_samples_mirtop.tsv", sheet)
    assert isomirs.uns["mtncrna"]["format"] == "smrnaseq"
    assert isomirs.var["n_isomirs"].max() > 1
    # let-7a-5p and let-7c-5p share a sequence; mirtop's two tables assign those reads differently
    common = [
        f
        for f in mirna.var_names
        if f in set(isomirs.var_names) and f not in {"hsa-let-7a-5p", "hsa-let-7c-5p"}
    ]
    assert len(common) >= 11
    pd.testing.assert_frame_equal(mirna.to_df()[common], isomirs.to_df()[common])


def test_smrnaseq_old_sample_suffix_and_r_renamed_columns(tmp_path):
    text = (FORMATS / "smrnaseq" / "mirna.tsv").read_text()
    header, rest = text.split("\n", 1)
    header = (
        header.replace("S1", "S1_seqcluster")
        .replace("S2", "S2_seqcluster")
        .replace("S3", "S3_seqcluster")
        .replace("S4", "S4_seqcluster")
    )
    adata = mt.read_counts(write(tmp_path / "mirna.tsv", header + "\n" + rest), format="smrnaseq")
    assert list(adata.obs_names) == SAMPLES
    # R's make.names turns sample "1-a" into column "X1.a"
    renamed = (
        header.replace("S1_seqcluster", "X1.a")
        .replace("S2_seqcluster", "S2")
        .replace("S3_seqcluster", "S3")
        .replace("S4_seqcluster", "S4")
    )
    sheet = write(tmp_path / "s.csv", "sample,condition\n1-a,x\nS2,x\nS3,y\nS4,y\n")
    adata = mt.read_counts(write(tmp_path / "m2.tsv", renamed + "\n" + rest), sheet)
    assert list(adata.obs_names) == ["1-a", "S2", "S3", "S4"]


@pytest.mark.parametrize("name", ["counts.tsv", "counts_crlf_bom.csv", "counts.tsv.gz"])
def test_plain_table_variants(name):
    adata = mt.read_counts(FORMATS / "table" / name)
    ref = mt.read_counts(FORMATS / "table" / "counts.tsv")
    pd.testing.assert_frame_equal(adata.to_df(), ref.to_df())
    assert list(adata.obs_names) == SAMPLES


@pytest.mark.parametrize(
    ("path", "fmt"),
    [
        ("featurecounts/counts.txt", "featurecounts"),
        ("htseq/S1.txt", "htseq"),
        ("mirge3/miR.Counts.csv", "mirge3"),
        ("smrnaseq/mature_counts.csv", "smrnaseq"),
        ("smrnaseq/joined_samples_mirtop.tsv", "smrnaseq"),
        ("table/counts_crlf_bom.csv", "table"),
    ],
)
def test_format_detection(path, fmt):
    assert mt.io.detect_format([FORMATS / path]) == fmt


def test_forcing_the_wrong_format_fails_clearly():
    with pytest.raises(mt.FormatError, match=r"is not miRge3 miR\.Counts\.csv"):
        mt.read_counts(FORMATS / "smrnaseq" / "mirna.tsv", format="mirge3")
    with pytest.raises(mt.FormatError, match="is not an nf-core/smrnaseq count table"):
        mt.read_counts(FORMATS / "mirge3" / "miR.Counts.csv", format="smrnaseq")


# --------------------------------------------------------------------------- STAR GeneCounts

STAR = FORMATS / "star"
STAR_COLUMN = {"unstranded": 1, "forward": 2, "reverse": 3}


def _star_file(path) -> pd.DataFrame:
    return pd.read_csv(path, sep="\t", header=None, index_col=0)


@pytest.mark.parametrize("library", ["unstranded", "forward", "reverse"])
def test_star_folder_detects_strandedness_and_keeps_n_rows_as_qc(library, sheet, caplog):
    caplog.set_level("INFO", logger="mtncrna")
    adata = mt.read_counts(STAR / f"star_{library}", sheet)
    assert adata.uns["mtncrna"]["format"] == "star"
    assert adata.uns["mtncrna"]["strandedness"] == library
    assert f"strandedness {library} (detected" in caplog.text
    assert list(adata.obs_names) == SAMPLES
    for s in SAMPLES:
        raw = _star_file(STAR / f"star_{library}" / s / "ReadsPerGene.out.tab")
        col = raw.iloc[:, STAR_COLUMN[library] - 1]
        genes = col[~col.index.str.startswith("N_")]
        np.testing.assert_array_equal(adata.to_df().loc[s, genes.index], genes.to_numpy())
        for row in ("N_unmapped", "N_multimapping", "N_noFeature", "N_ambiguous"):
            assert adata.obs.loc[s, f"star_{row}"] == col[row]
            assert row not in adata.var_names
        assert adata.obs.loc[s, "source"].endswith(f"{s}/ReadsPerGene.out.tab")
    assert adata.var.loc["ENSG00000240405", "reference_symbol"] == "SAMMSON"


def test_star_strandedness_option_overrides_with_a_warning(caplog):
    files = [STAR / "star_reverse" / s / "ReadsPerGene.out.tab" for s in SAMPLES]
    adata = mt.read_counts(files, strandedness="unstranded", annotate=False)
    raw = _star_file(files[0])
    assert adata.to_df().loc["S1", "ENSG00000000419"] == raw.loc["ENSG00000000419", 1]
    assert adata.uns["mtncrna"]["strandedness"] == "unstranded"
    assert "counts look reverse" in caplog.text


def test_star_nf_core_layout_and_cut_column():
    nfc = mt.read_counts(STAR / "star_salmon", annotate=False)
    ref = mt.read_counts(STAR / "star_reverse", annotate=False)
    assert list(nfc.obs_names) == SAMPLES
    pd.testing.assert_frame_equal(nfc.to_df(), ref.to_df())
    cut = mt.read_counts(STAR / "S1.reverse.cut.tab", sample_names=["S1"], annotate=False)
    assert mt.io.detect_format([STAR / "S1.reverse.cut.tab"]) == "star"
    pd.testing.assert_frame_equal(cut.to_df(), ref.to_df().loc[["S1"]])
    assert cut.obs.loc["S1", "star_N_noFeature"] == ref.obs.loc["S1", "star_N_noFeature"]
    with pytest.raises(mt.InputError, match="one count column"):
        mt.read_counts(STAR / "S1.reverse.cut.tab", strandedness="reverse", annotate=False)


def test_star_undecided_or_mixed_strandedness_asks_for_the_option(tmp_path):
    # half-way between unstranded and stranded: no honest default
    raw = _star_file(STAR / "star_reverse" / "S1" / "ReadsPerGene.out.tab")
    raw[2] = (raw[3] * 0.3).round().astype(int)
    raw.to_csv(tmp_path / "S1.ReadsPerGene.out.tab", sep="\t", header=False)
    with pytest.raises(mt.InputError, match="give --strandedness unstranded, forward or rev"):
        mt.read_counts(tmp_path / "S1.ReadsPerGene.out.tab", annotate=False)
    mixed = [
        STAR / "star_reverse" / "S1" / "ReadsPerGene.out.tab",
        STAR / "star_reverse" / "S2" / "ReadsPerGene.out.tab",
        STAR / "star_reverse" / "S3" / "ReadsPerGene.out.tab",
        STAR / "star_forward" / "S4" / "ReadsPerGene.out.tab",
    ]
    with pytest.raises(mt.InputError, match=r"differ in strandedness .*S3 reverse .*S4 forward"):
        mt.read_counts(mixed, annotate=False)
    adata = mt.read_counts(mixed, strandedness="reverse", annotate=False)
    assert adata.n_obs == 4
    with pytest.raises(mt.InputError, match="--strandedness chooses a column of STAR"):
        mt.read_counts(FORMATS / "htseq" / "S1.txt", strandedness="reverse", annotate=False)


def test_star_same_name_twice_asks_for_sample_names():
    files = [STAR / "star_reverse" / "S1" / "ReadsPerGene.out.tab"]
    with pytest.raises(mt.InputError, match="give them with --sample-names"):
        mt.read_counts(
            [files[0], STAR / "star_unstranded" / "S1" / "ReadsPerGene.out.tab"],
            strandedness="reverse",
        )
    adata = mt.read_counts(
        [files[0], STAR / "star_salmon" / "S2.ReadsPerGene.out.tab"],
        sample_names=["ctrl_1", "ctrl_2"],
        annotate=False,
    )
    assert list(adata.obs_names) == ["ctrl_1", "ctrl_2"]
    with pytest.raises(mt.InputError, match="--sample-names gives 1 names but the count data"):
        mt.read_counts(STAR / "star_salmon", sample_names=["a"], annotate=False)


# ----------------------------------------------------------------- htseq-count, several BAMs

HTSEQ_STAR = FORMATS / "htseq_star"


def _htseq_file(path, header=None) -> pd.DataFrame:
    return pd.read_csv(path, sep="\t", header=header, index_col=0, keep_default_na=False)


def test_htseq_several_bams_without_header_need_sample_names(sheet):
    path = HTSEQ_STAR / "multi.tsv"
    with pytest.raises(mt.InputError, match=r"4 count columns, no header .*--sample-names"):
        mt.read_counts(path, sheet)
    adata = mt.read_counts(path, sheet, sample_names=SAMPLES)
    raw = _htseq_file(path)
    genes = raw[~raw.index.str.startswith("__")]
    np.testing.assert_array_equal(adata.to_df().T.loc[genes.index].to_numpy(), genes.to_numpy())
    assert list(adata.obs["htseq__no_feature"]) == raw.loc["__no_feature"].tolist()
    assert (
        list(adata.obs["htseq__alignment_not_unique"]) == raw.loc["__alignment_not_unique"].tolist()
    )
    # the same counts as STAR's reverse column on the same alignments
    star = mt.read_counts(FORMATS / "star" / "star_reverse", sheet)
    pd.testing.assert_frame_equal(adata.to_df()[star.var_names], star.to_df())


def test_htseq_with_header_names_samples_from_star_layout_paths():
    adata = mt.read_counts(HTSEQ_STAR / "multi_with_header.tsv", annotate=False)
    assert list(adata.obs_names) == SAMPLES
    assert adata.obs.loc["S2", "source"] == "star_reverse/S2/Aligned.sortedByCoord.out.bam"
    ref = mt.read_counts(HTSEQ_STAR / "multi.tsv", sample_names=SAMPLES, annotate=False)
    pd.testing.assert_frame_equal(adata.to_df(), ref.to_df())


@pytest.mark.parametrize("name", ["multi_additional_attr.tsv", "multi_with_header_attr.tsv"])
def test_htseq_additional_attr_columns_go_to_var(name):
    path = HTSEQ_STAR / name
    names = SAMPLES if name == "multi_additional_attr.tsv" else None
    adata = mt.read_counts(path, sample_names=names, annotate=False)
    assert list(adata.obs_names) == SAMPLES
    raw = _htseq_file(path, header=None if names else 0)
    genes = raw[~raw.index.str.startswith("__")]
    n_attr = genes.shape[1] - 4
    assert n_attr in (1, 2)
    np.testing.assert_array_equal(
        adata.to_df().T.loc[genes.index].to_numpy(), genes.iloc[:, n_attr:].astype(int)
    )
    assert adata.var.iloc[:, 0].loc["ENSG00000240405"] == "SAMMSON"
    assert "__no_feature" not in adata.var_names
    ref = mt.read_counts(HTSEQ_STAR / "multi.tsv", sample_names=SAMPLES, annotate=False)
    pd.testing.assert_frame_equal(adata.to_df(), ref.to_df())


def test_htseq_h5ad_output_counters_are_qc(sheet):
    import anndata as ad

    path = HTSEQ_STAR / "counts.h5ad"
    raw = ad.read_h5ad(path)
    adata = mt.read_counts(path, sheet)
    assert list(adata.obs_names) == SAMPLES
    assert not any(v.startswith("__") for v in adata.var_names)
    genes = [v for v in raw.var_names if not v.startswith("__")]
    np.testing.assert_array_equal(adata.to_df()[genes].to_numpy(), raw[:, genes].X.astype(int))
    j = list(raw.var_names).index("__no_feature")
    np.testing.assert_array_equal(adata.obs["htseq__no_feature"], raw.X[:, j].astype(int))
    assert adata.obs.loc["S1", "condition"] == "parental"
    ref = mt.read_counts(HTSEQ_STAR / "multi.tsv", sample_names=SAMPLES, annotate=False)
    pd.testing.assert_frame_equal(adata.to_df()[ref.var_names], ref.to_df())


def test_headerless_two_column_files():
    path = HTSEQ_STAR / "S1.no_counters.txt"
    assert mt.io.detect_format([path]) == "htseq"
    adata = mt.read_counts(path, sample_names=["S1"], annotate=False)
    raw = _htseq_file(path)
    assert list(adata.var_names) == list(raw.index)
    np.testing.assert_array_equal(adata.X[0], raw.iloc[:, 0].to_numpy())
    # the first line is data, not a header
    assert adata.n_vars == len(raw) == 10


def test_no_common_sample_does_not_suggest_drop_unmatched(tmp_path, sheet):
    other = write(tmp_path / "s.csv", "sample,condition\nA,x\nB,y\n")
    with pytest.raises(mt.SampleSheetError) as err:
        mt.read_counts(FORMATS / "star" / "star_reverse", other)
    assert "--drop-unmatched" not in str(err.value)
    assert "no sample id in common" in str(err.value)
    assert "--sample-names" in str(err.value)
    some = write(tmp_path / "s2.csv", "sample,condition\nS1,x\nS2,y\nS9,y\n")
    with pytest.raises(mt.SampleSheetError, match="use --drop-unmatched to keep the 2 samples"):
        mt.read_counts(FORMATS / "star" / "star_reverse", some)
    assert mt.read_counts(FORMATS / "star" / "star_reverse", some, drop_unmatched=True).n_obs == 2
