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
    assert isomirs.uns["mtncrna"]["format"] == "mirtop"
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
        ("smrnaseq/joined_samples_mirtop.tsv", "mirtop"),
        ("star/star_reverse/S1/ReadsPerGene.out.tab", "star"),
        ("star/S1.reverse.cut.tab", "star"),
        ("htseq_star/S1.no_counters.txt", "htseq"),
        ("htseq_star/multi_additional_attr.tsv", "htseq"),
        ("htseq_star/counts.h5ad", "h5ad"),
        ("featurecounts/counts_star_extra.txt", "featurecounts"),
        ("rsem/rsem.merged.gene_counts.tsv", "table"),
        ("mirdeep2/miRNAs_expressed_all_samples_1700000000.csv", "mirdeep2"),
        ("mirtop/mirtop.gff", "mirtop"),
        ("mirtop/mirtop.tsv", "mirtop"),
        ("mirge2/miR.Counts.csv", "mirge3"),
        ("mirge2/miRge1.miR.Counts.csv", "mirge3"),
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
    with pytest.raises(
        mt.UnmatchedSamplesError, match="use --drop-unmatched to keep the 2 samples"
    ):
        mt.read_counts(FORMATS / "star" / "star_reverse", some)
    assert mt.read_counts(FORMATS / "star" / "star_reverse", some, drop_unmatched=True).n_obs == 2


@pytest.mark.parametrize("edited", [False, True])
def test_featurecounts_numeric_extra_attributes_are_not_samples(edited, tmp_path, sheet):
    path = FORMATS / "featurecounts" / "counts_star_extra.txt"
    if edited:  # the '# Program' line removed and the BAM paths renamed by hand
        text = path.read_text().split("\n", 1)[1]
        for s in SAMPLES:
            text = text.replace(f"/data/run/star_reverse/{s}/Aligned.sortedByCoord.out.bam", s)
        path = write(tmp_path / "counts.txt", text)
    adata = mt.read_counts(path, sheet)
    assert list(adata.obs_names) == SAMPLES
    raw = pd.read_csv(path, sep="\t", comment="#", index_col=0)
    assert list(raw.columns[5:8]) == ["gene_name", "gene_version", "level"]
    np.testing.assert_array_equal(
        adata.to_df().T.loc[raw.index].to_numpy(), raw.iloc[:, 8:].to_numpy()
    )
    assert adata.var.loc["ENSG00000240405", "gene_version"] == "5"
    assert adata.var.loc["ENSG00000240405", "level"] == "2"
    if not edited:
        assert adata.obs.loc["S1", "source"].startswith("/data/run/star_reverse/S1/")
        summary = pd.read_csv(path.with_name(path.name + ".summary"), sep="\t", index_col=0)
        assert list(adata.obs["featurecounts_Assigned"]) == summary.loc["Assigned"].tolist()
    # featureCounts -s 2 and STAR's reverse column agree on these alignments
    star = mt.read_counts(FORMATS / "star" / "star_reverse", annotate=False)
    pd.testing.assert_frame_equal(
        adata.to_df()[star.var_names], star.to_df(), check_names=False, check_dtype=False
    )


# ------------------------------------------------------------------ nf-core/rnaseq RSEM

RSEM = FORMATS / "rsem"


@pytest.mark.parametrize(
    ("name", "annotation"),
    [
        ("rsem.merged.gene_counts.tsv", "transcript_id(s)"),
        ("rsem.merged.transcript_counts.tsv", "gene_id"),
    ],
)
def test_rsem_merged_tables_with_whole_numbers_written_as_decimals(name, annotation, sheet):
    path = RSEM / name
    assert "16.00" in path.read_text()
    adata = mt.read_counts(path, sheet)
    raw = pd.read_csv(path, sep="\t", index_col=0)
    assert list(adata.obs_names) == SAMPLES
    np.testing.assert_array_equal(adata.to_df().T.loc[raw.index].to_numpy(), raw[SAMPLES])
    assert adata.X.dtype == np.int64
    assert list(adata.var[annotation].loc[raw.index]) == raw[annotation].tolist()
    # RSEM's expected counts on the same STAR alignments as the STAR GeneCounts reverse column
    if name.startswith("rsem.merged.gene"):
        per_gene = pd.read_csv(RSEM / "S1.genes.results", sep="\t", index_col=0)
        np.testing.assert_array_equal(
            adata.to_df().loc["S1", per_gene.index], per_gene["expected_count"]
        )


def test_rsem_fractions_need_round_and_round_helps(tmp_path):
    text = (RSEM / "rsem.merged.gene_counts.tsv").read_text().replace("\t65.00\t", "\t64.57\t")
    path = write(tmp_path / "rsem.merged.gene_counts.tsv", text)
    with pytest.raises(mt.InputError, match=r"line 4, column S1: '64.57' is not a whole.*--round"):
        mt.read_counts(path)
    adata = mt.read_counts(path, non_integer="round", annotate=False)
    assert adata.to_df().loc["S1", "ENSG00000000419"] == 65


def test_exon_level_featurecounts_is_refused_with_what_to_do():
    with pytest.raises(mt.FormatError, match="rerun featureCounts without -f"):
        mt.read_counts(FORMATS / "featurecounts" / "counts_exons.txt")


def test_exon_rows_in_a_plain_table_say_what_to_do(tmp_path):
    text = "gene_id\tS1\tS2\nG1\t1\t2\nG1\t3\t4\n"
    with pytest.raises(mt.InputError, match=r"line 3: feature id 'G1' appears again.*per gene"):
        mt.read_counts(write(tmp_path / "exons.tsv", text))


@pytest.mark.parametrize("cell", ["1e20", "9223372036854775808", "18446744073709551616"])
def test_counts_beyond_int64_are_an_error_naming_the_cell(tmp_path, cell):
    text = f"gene_id\tS1\tS2\nG1\t1\t2\nG2\t3\t{cell}\n"
    with pytest.raises(mt.InputError, match=rf"line 3, column S2: '{cell}' is too large"):
        mt.read_counts(write(tmp_path / "big.tsv", text))


def test_largest_int64_count_is_kept_exactly(tmp_path):
    text = "gene_id\tS1\tS2\nG1\t9223372036854775807\t2\nG2\t3\t8e18\n"
    adata = mt.read_counts(write(tmp_path / "big.tsv", text), annotate=False)
    assert adata.X[0, 0] == 2**63 - 1
    assert adata.X[1, 1] == 8 * 10**18


def test_h5ad_with_duplicate_sample_names_is_an_error(tmp_path):
    import anndata as ad

    with pytest.warns(UserWarning, match="not unique"):
        a = ad.AnnData(
            X=np.ones((2, 3), dtype=np.int64),
            obs=pd.DataFrame(index=["S1", "S1"]),
            var=pd.DataFrame(index=["G1", "G2", "G3"]),
        )
        a.write_h5ad(tmp_path / "dup.h5ad")
    with pytest.raises(mt.InputError, match=r"sample 'S1' appears twice \(columns 1 and 2\)"):
        mt.read_counts(tmp_path / "dup.h5ad", annotate=False)


def test_h5ad_count_too_large_is_an_error(tmp_path):
    import anndata as ad

    a = ad.AnnData(
        X=np.array([[1.0, 1e20], [2.0, 3.0]]),
        obs=pd.DataFrame(index=["S1", "S2"]),
        var=pd.DataFrame(index=["G1", "G2"]),
    )
    a.write_h5ad(tmp_path / "big.h5ad")
    with pytest.raises(mt.InputError, match=r"1e\+20 \(sample 'S1', feature 'G2'\) is too large"):
        mt.read_counts(tmp_path / "big.h5ad", annotate=False)


# ------------------------------------------------------------------ small-RNA tools

MIRDEEP2 = FORMATS / "mirdeep2"


def _mirdeep2_file(path) -> pd.DataFrame:
    return pd.read_csv(path, sep="\t")


def test_mirdeep2_collapses_precursor_rows_by_the_maximum(sheet):
    path = MIRDEEP2 / "miRNAs_expressed_all_samples_1700000000.csv"
    codes = ["s01", "s02", "s03", "s04"]
    adata = mt.read_counts(path, sheet, sample_names=SAMPLES)
    assert adata.uns["mtncrna"]["format"] == "mirdeep2"
    assert adata.uns["mtncrna"]["library"] == "small"
    raw = _mirdeep2_file(path)
    assert raw["#miRNA"].duplicated().any()  # one row per mature x precursor
    expected = raw.groupby("#miRNA")[codes].max()
    assert adata.n_vars == len(expected)
    np.testing.assert_array_equal(
        adata.to_df().T.loc[expected.index, SAMPLES].to_numpy(), expected.to_numpy()
    )
    mir16 = raw[raw["#miRNA"] == "hsa-miR-16-5p"]
    assert len(mir16) == 2 and mir16[codes].sum().sum() == 2 * mir16[codes].iloc[0].sum()
    assert adata.var.loc["hsa-miR-16-5p", "precursors"] == "hsa-mir-16-1;hsa-mir-16-2"
    assert adata.obs.loc["S1", "source"].endswith(":s01")
    assert not any(c.endswith("(norm)") for c in adata.obs_names)
    assert adata.uns["mtncrna"]["mirdeep2_collapse"] == "max over precursors"


def test_mirdeep2_single_sample_named_from_the_file_and_agrees_with_mirtop():
    one = mt.read_counts(MIRDEEP2 / "miRNAs_expressed_all_samples_S1.csv", annotate=False)
    assert list(one.obs_names) == ["S1"]
    allsamples = mt.read_counts(
        MIRDEEP2 / "miRNAs_expressed_all_samples_1700000000.csv",
        sample_names=SAMPLES,
        annotate=False,
    )
    pd.testing.assert_frame_equal(one.to_df(), allsamples.to_df().loc[["S1"]])
    gff = mt.read_counts(FORMATS / "mirtop" / "mirtop.gff", annotate=False)
    both = [m for m in gff.var_names if m in set(allsamples.var_names)]
    assert len(both) >= 10
    np.testing.assert_array_equal(gff.to_df()[both], allsamples.to_df()[both])


def _gff_expression(path) -> pd.DataFrame:
    rows = []
    for line in path.read_text().splitlines():
        if line.startswith("## COLDATA:"):
            samples = line.split(":", 1)[1].strip().split(",")
        elif not line.startswith("#"):
            attrs = dict(
                a.strip().split(" ", 1) for a in line.split("\t")[8].split(";") if a.strip()
            )
            rows.append([attrs["Name"], *map(int, attrs["Expression"].split(","))])
    return pd.DataFrame(rows, columns=["Name", *samples]).groupby("Name").sum()


def test_mirtop_gff_and_counts_tables_with_several_samples(sheet):
    gff = mt.read_counts(FORMATS / "mirtop" / "mirtop.gff", sheet)
    assert gff.uns["mtncrna"]["format"] == "mirtop"
    expected = _gff_expression(FORMATS / "mirtop" / "mirtop.gff")
    np.testing.assert_array_equal(
        gff.to_df().T.loc[expected.index, SAMPLES].to_numpy(), expected[SAMPLES].to_numpy()
    )
    for name in ("mirtop.tsv", "mirtop_add_extra.tsv"):
        path = FORMATS / "mirtop" / name
        assert '"S1\tS2\tS3\tS4"' in path.read_text()  # mirtop 0.4.30's one quoted cell
        table = mt.read_counts(path, sheet)
        assert list(table.obs_names) == SAMPLES
        pd.testing.assert_frame_equal(table.to_df(), gff.to_df())
        assert table.var["n_isomirs"].sum() == len(
            [ln for ln in path.read_text().splitlines()[1:] if ln]
        )


@pytest.mark.parametrize("name", ["miR.Counts.csv", "miRge1.miR.Counts.csv"])
def test_mirge2_and_mirge1_total_row_is_qc_and_fastq_suffix_dropped(name, sheet):
    path = FORMATS / "mirge2" / name
    adata = mt.read_counts(path, sheet)
    assert list(adata.obs_names) == SAMPLES
    raw = pd.read_csv(path, index_col=0, skipinitialspace=True)
    assert "miRNAtotal" not in adata.var_names
    assert list(adata.obs["mirge_miRNAtotal"]) == raw.loc["miRNAtotal"].tolist()
    mirnas = raw.drop(index="miRNAtotal")
    np.testing.assert_array_equal(adata.to_df().T.loc[mirnas.index].to_numpy(), mirnas.to_numpy())
    assert adata.obs.loc["S1", "source"] == "S1.fastq"
    mirge3 = mt.read_counts(FORMATS / "mirge3" / "miR.Counts.csv", sheet)
    pd.testing.assert_frame_equal(adata.to_df(), mirge3.to_df()[adata.var_names])


# ------------------------------------------------------------- tables as R and Excel save them

RTABLES = FORMATS / "rtables"


@pytest.mark.parametrize(
    "name",
    [
        "counts_write_table.txt",
        "counts_write_csv.csv",
        "counts.xlsx",
        "counts_unicode_text.txt",
    ],
)
def test_counts_saved_by_r_and_excel(name, sheet):
    path = RTABLES / name
    adata = mt.read_counts(path, sheet)
    assert list(adata.obs_names) == SAMPLES
    if name.endswith(".xlsx"):
        raw = pd.read_excel(path, index_col=0)
    elif name == "counts_write_table.txt":
        raw = pd.read_csv(path, sep=" ")  # R's header one short: row names become the index
    elif name == "counts_unicode_text.txt":
        assert path.read_bytes()[:2] == b"\xff\xfe"
        raw = pd.read_csv(path, sep="\t", index_col=0, encoding="utf-16")
    else:
        raw = pd.read_csv(path, index_col=0)
    np.testing.assert_array_equal(adata.to_df().T.loc[raw.index, SAMPLES], raw[SAMPLES])
    ref = mt.read_counts(FORMATS / "table" / "counts.tsv", sheet)
    pd.testing.assert_frame_equal(adata.to_df(), ref.to_df())


def test_non_xlsx_zip_is_refused(tmp_path):
    import zipfile

    with zipfile.ZipFile(tmp_path / "c.zip", "w") as z:
        z.writestr("counts.tsv", "gene\tS1\nG1\t1\n")
    with pytest.raises(mt.FormatError, match=r"zip archive but not an Excel \.xlsx"):
        mt.read_counts(tmp_path / "c.zip")


def test_xlsx_bad_cell_names_the_sheet_row(tmp_path):
    import openpyxl

    wb = openpyxl.Workbook()
    ws = wb.active
    for row in (["gene_id", "S1", "S2"], ["G1", 1, 2], ["G2", 3, "NA"]):
        ws.append(row)
    wb.create_sheet("notes")
    wb.save(tmp_path / "c.xlsx")
    with pytest.raises(mt.InputError, match=r"line 3, column S2: 'NA' is a missing value"):
        mt.read_counts(tmp_path / "c.xlsx")


def test_salmon_merged_layout_with_gene_names_needs_round(tmp_path):
    # nf-core/rnaseq salmon.merged.gene_counts.tsv: gene_id, gene_name, samples, estimated counts
    raw = pd.read_csv(RSEM / "rsem.merged.gene_counts.tsv", sep="\t", index_col=0)
    names = {"ENSG00000240405": "SAMMSON", "ENSG00000000419": "DPM1"}
    frame = raw[SAMPLES].astype(float)
    frame.insert(0, "gene_name", [names.get(g, g) for g in frame.index])
    frame.loc["ENSG00000000419", "S2"] += 0.437
    path = tmp_path / "salmon.merged.gene_counts.tsv"
    frame.to_csv(path, sep="\t", index_label="gene_id")
    with pytest.raises(mt.InputError, match=r"column S2: '78.437' is not a whole number.*--round"):
        mt.read_counts(path)
    adata = mt.read_counts(path, non_integer="round", annotate=False)
    assert list(adata.obs_names) == SAMPLES
    assert adata.var.loc["ENSG00000240405", "gene_name"] == "SAMMSON"
    assert adata.to_df().loc["S2", "ENSG00000000419"] == 78


def test_star_gzipped_files_in_a_folder(tmp_path):
    import gzip
    import shutil

    for s in SAMPLES:
        (tmp_path / "star" / s).mkdir(parents=True)
        src = STAR / "star_reverse" / s / "ReadsPerGene.out.tab"
        with (
            open(src, "rb") as fi,
            gzip.open(tmp_path / "star" / s / "ReadsPerGene.out.tab.gz", "wb") as fo,
        ):
            shutil.copyfileobj(fi, fo)
        (tmp_path / "star" / s / "Log.final.out").write_text("not counts\n")
    adata = mt.read_counts(tmp_path / "star", annotate=False)
    ref = mt.read_counts(STAR / "star_reverse", annotate=False)
    assert list(adata.obs_names) == SAMPLES
    pd.testing.assert_frame_equal(adata.to_df(), ref.to_df())


def test_featurecounts_cut_to_id_and_bam_columns(tmp_path, sheet):
    # `cut -f1,10-` of featureCounts output: the '# Program' line, Geneid, full BAM paths
    src = FORMATS / "featurecounts" / "counts_star_extra.txt"
    lines = src.read_text().splitlines()
    cut = [lines[0]] + ["\t".join([ln.split("\t")[0], *ln.split("\t")[9:]]) for ln in lines[1:]]
    path = write(tmp_path / "counts.tsv", "\n".join(cut) + "\n")
    adata = mt.read_counts(path, sheet)
    assert list(adata.obs_names) == SAMPLES
    ref = mt.read_counts(src, sheet)
    pd.testing.assert_frame_equal(adata.to_df(), ref.to_df(), check_names=False)
    assert (
        adata.obs.loc["S3", "source"] == "/data/run/star_reverse/S3/Aligned.sortedByCoord.out.bam"
    )


def test_mirdeep2_weighted_fractions_need_round(tmp_path):
    # quantifier -W weighs multi-mapping reads: fractional counts
    src = MIRDEEP2 / "miRNAs_expressed_all_samples_1700000000.csv"
    text = src.read_text().replace("\t62.00\t", "\t61.50\t", 1)
    path = write(tmp_path / "miRNAs_expressed_all_samples_1.csv", text)
    with pytest.raises(mt.InputError, match=r"column s01: '61.50' is not a whole number.*--round"):
        mt.read_counts(path)
    adata = mt.read_counts(path, non_integer="round", annotate=False)
    assert adata.to_df().loc["s01", "hsa-miR-21-5p"] == 62


def test_cli_import_strandedness_and_sample_names(run_cli, tmp_path, sheet):
    out = tmp_path / "star.h5ad"
    code, stdout, stderr = run_cli("import", STAR / "star_reverse", "-s", sheet, "-o", out)
    assert code == 0, stderr
    assert "format star" in stdout and "strandedness reverse (detected: 3.3%" in stdout
    code, stdout, stderr = run_cli(
        "import", STAR / "star_reverse", "--strandedness", "forward", "-o", tmp_path / "f.h5ad"
    )
    assert code == 0 and "strandedness forward (as given" in stdout
    code, _, stderr = run_cli(
        "import", HTSEQ_STAR / "multi.tsv", "-s", sheet, "-o", tmp_path / "h.h5ad"
    )
    assert code == 2 and "--sample-names" in stderr and not (tmp_path / "h.h5ad").exists()
    code, stdout, stderr = run_cli(
        "import",
        HTSEQ_STAR / "multi.tsv",
        "-s",
        sheet,
        "--sample-names",
        "S1,S2,S3,S4",
        "-o",
        tmp_path / "h.h5ad",
    )
    assert code == 0, stderr
    adata = mt.read_h5ad(tmp_path / "h.h5ad")
    star = mt.read_h5ad(out)
    pd.testing.assert_frame_equal(adata.to_df()[star.var_names], star.to_df())
