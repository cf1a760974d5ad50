"""Reading count tables of every supported format into AnnData."""

from __future__ import annotations

import gzip
from pathlib import Path

import anndata as ad
import numpy as np
import pandas as pd
import pytest

import mtncrna as mt
from conftest import COUNTS, SHEET, write
from mtncrna._provenance import sha256

EXPECTED = pd.DataFrame(
    [[10, 2, 30, 4], [8, 9, 1, 2], [100, 120, 90, 110], [50, 60, 70, 80]],
    index=["hsa-miR-2392", "hsa-miR-5787", "hsa-let-7a-5p", "hsa-miR-21-5p"],
    columns=["S1", "S2", "S3", "S4"],
)


def _check(adata: ad.AnnData) -> None:
    assert list(adata.obs_names) == ["S1", "S2", "S3", "S4"]
    got = adata.to_df().T.loc[EXPECTED.index, EXPECTED.columns]
    np.testing.assert_array_equal(got.to_numpy(), EXPECTED.to_numpy())
    assert adata.X.dtype == np.int64
    np.testing.assert_array_equal(adata.X, adata.layers["counts"])


def test_plain_table(counts, sheet):
    adata = mt.read_counts(counts, sheet)
    _check(adata)
    assert adata.obs.loc["S3", "condition"] == "resistant"
    assert adata.obs.loc["S3", "fraction"] == "mito"
    meta = adata.uns["mtncrna"]
    assert meta["library"] == "small" and meta["format"] == "table"


def test_csv_crlf_bom_quoted(tmp_path, sheet):
    text = COUNTS.replace("\t", ",").replace("\n", "\r\n")
    text = text.replace("miRNA,S1,S2,S3,S4", '"miRNA","S1","S2","S3","S4"')
    path = tmp_path / "counts.csv"
    path.write_bytes(b"\xef\xbb\xbf" + text.encode())
    _check(mt.read_counts(path, sheet))


def test_gzip(tmp_path, sheet):
    path = write(tmp_path / "counts.tsv.gz", COUNTS, gz=True)
    _check(mt.read_counts(path, sheet))


def test_r_write_table_header_without_id_cell(tmp_path, sheet):
    # R's write.table(row.names=TRUE) writes one header field fewer than the rows
    text = "\n".join(["S1\tS2\tS3\tS4", *COUNTS.splitlines()[1:]]) + "\n"
    _check(mt.read_counts(write(tmp_path / "c.tsv", text), sheet))


def test_samples_as_rows_detected_from_sheet(tmp_path, sheet):
    t = EXPECTED.T
    t.index.name = "sample"
    t.to_csv(tmp_path / "t.csv")
    _check(mt.read_counts(tmp_path / "t.csv", sheet))


def test_samples_as_rows_detected_from_names(tmp_path):
    t = EXPECTED.T
    t.to_csv(tmp_path / "t.csv")
    adata = mt.read_counts(tmp_path / "t.csv")
    assert adata.n_obs == 4 and adata.n_vars == 4


def test_annotation_columns_go_to_var(tmp_path):
    text = (
        "gene_id\tgene_name\tLength\tS1\tS2\nENSG00000240405.7\tSAMMSON\t1200\t5\t6\n"
        "ENSG00000210049.1\tMT-TF\t71\t100\t200\n"
    )
    adata = mt.read_counts(write(tmp_path / "c.tsv", text))
    assert list(adata.obs_names) == ["S1", "S2"]
    assert list(adata.var["gene_name"]) == ["SAMMSON", "MT-TF"]
    assert list(adata.var["reference_symbol"]) == ["SAMMSON", "MT-TF"]
    assert adata.uns["mtncrna"]["library"] == "long"


def test_whole_valued_decimals_accepted(tmp_path):
    text = COUNTS.replace("\t30\t", "\t30.0\t").replace("\t100\t", "\t1e2\t")
    adata = mt.read_counts(write(tmp_path / "c.tsv", text))
    assert adata["S3", "hsa-miR-2392"].X.item() == 30
    assert adata["S1", "hsa-let-7a-5p"].X.item() == 100


def test_provenance(counts, sheet):
    adata = mt.read_counts(counts, sheet)
    prov = adata.uns["mtncrna"]["provenance"]["import"]
    inputs = dict(zip(prov["inputs"]["path"], prov["inputs"]["sha256"], strict=True))
    assert inputs[str(counts)] == sha256(counts)
    assert inputs[str(sheet)] == sha256(sheet)
    assert prov["versions"]["mtncrna"] == mt.__version__
    assert prov["versions"]["pydeseq2"]
    assert prov["reference_version"] == mt.load_reference().version
    assert prov["parameters"]["format"] == "table"


def test_h5ad_round_trip(tmp_path, counts, sheet):
    adata = mt.read_counts(counts, sheet)
    out = mt.write_h5ad(adata, tmp_path / "a.h5ad")
    back = mt.read_counts(out)
    _check(back)
    assert back.uns["mtncrna"]["format"] == "h5ad"
    assert back.obs.loc["S1", "condition"] == "parental"
    assert back.var.loc["hsa-miR-2392", "mt_class"] == "mitomiR"
    # the new import records the earlier one too
    assert "import" in back.uns["mtncrna"]["provenance"]


def test_h5ad_with_normalised_x_uses_counts_layer(tmp_path, counts):
    adata = mt.read_counts(counts)
    adata.X = adata.X / 3.0
    adata.write_h5ad(tmp_path / "n.h5ad")
    back = mt.read_counts(tmp_path / "n.h5ad")
    assert back["S3", "hsa-miR-2392"].X.item() == 30


def test_h5ad_without_raw_counts_fails(tmp_path, counts):
    adata = mt.read_counts(counts)
    del adata.layers["counts"]
    adata.X = adata.X / 3.0
    adata.write_h5ad(tmp_path / "n.h5ad")
    with pytest.raises(mt.InputError, match="does not hold raw counts"):
        mt.read_counts(tmp_path / "n.h5ad")


def test_annotate_columns(counts):
    adata = mt.read_counts(counts)
    v = adata.var
    assert v.loc["hsa-miR-2392", "reference_id"] == "MIMAT0019043"
    assert v.loc["hsa-miR-2392", "mt_class"] == "mitomiR"
    assert bool(v.loc["hsa-miR-2392", "known_mtncrna"])
    assert v.loc["hsa-miR-2392", "n_evidence"] >= 2
    assert v.loc["hsa-miR-2392", "name_match"] == "exact"
    assert v.loc["hsa-let-7a-5p", "mt_class"] in {"mitomiR", "other"}
    df = mt.get.annotation_df(adata, known_only=True)
    assert "hsa-miR-2392" in set(df["feature"])
    ev = mt.get.evidence_df(adata)
    directions = set(ev.loc[ev["feature"] == "hsa-miR-2392", "direction_in_resistant"])
    assert "up" in directions and "down" not in directions


def test_no_annotate(counts):
    adata = mt.read_counts(counts, annotate=False)
    assert "mt_class" not in adata.var.columns
    with pytest.raises(mt.MtncrnaError, match=r"run mtncrna\.tl\.annotate"):
        mt.get.annotation_df(adata)
    mt.tl.annotate(adata)
    assert "mt_class" in adata.var.columns


def test_annotate_copy(counts):
    adata = mt.read_counts(counts, annotate=False)
    out = mt.tl.annotate(adata, copy=True)
    assert "mt_class" in out.var.columns and "mt_class" not in adata.var.columns


def test_coordinate_match_for_unnamed_mt_features(tmp_path):
    # A GTF with its own names: features on chrM are matched to mt genes by position.
    text = (
        "# Program:featureCounts v2.0.3\n"
        "Geneid\tChr\tStart\tEnd\tStrand\tLength\tA.bam\tB.bam\n"
        "gene-1\tchrM\t577\t647\t+\t71\t5\t6\n"
        "gene-2\tMT\t5904\t7445\t+\t1542\t50\t60\n"
        "gene-3\tchr1\t100\t900\t+\t801\t1\t2\n"
    )
    adata = mt.read_counts(write(tmp_path / "fc.txt", text))
    v = adata.var
    assert v.loc["gene-1", "reference_symbol"] == "MT-TF"
    assert v.loc["gene-1", "name_match"] == "coordinates"
    assert v.loc["gene-2", "mt_class"] == "mt-mRNA"
    assert v.loc["gene-3", "name_match"] == "unknown"


def test_featurecounts_inline(tmp_path):
    text = (
        '# Program:featureCounts v2.0.3; Command:"featureCounts" "-a" "g.gtf" "-o" "c.txt"\n'
        "Geneid\tChr\tStart\tEnd\tStrand\tLength\t/data/run1/S1.Aligned.sortedByCoord.out.bam"
        "\tbam/S2.sorted.bam\n"
        "ENSG00000240405\tchr3;chr3\t100;500\t200;900\t-;-\t502\t7\t8\n"
        "ENSG00000210049\tchrM\t577\t647\t+\t71\t9\t10\n"
    )
    path = write(tmp_path / "counts.txt", text)
    write(
        tmp_path / "counts.txt.summary",
        "Status\t/data/run1/S1.Aligned.sortedByCoord.out.bam\tbam/S2.sorted.bam\n"
        "Assigned\t16\t18\nUnassigned_NoFeatures\t3\t4\nUnassigned_Unmapped\t0\t0\n",
    )
    adata = mt.read_counts(path)
    assert list(adata.obs_names) == ["S1", "S2"]
    assert adata.var.loc["ENSG00000240405", "chrom"] == "chr3"
    assert adata.var.loc["ENSG00000240405", "start"] == 100
    assert adata.var.loc["ENSG00000240405", "end"] == 900
    assert adata.var.loc["ENSG00000240405", "length"] == 502
    assert list(adata.obs["featurecounts_Assigned"]) == [16, 18]
    assert "featurecounts_Unassigned_Unmapped" not in adata.obs  # all-zero counters dropped
    assert adata.obs.loc["S1", "source"] == "/data/run1/S1.Aligned.sortedByCoord.out.bam"


@pytest.mark.parametrize(
    ("path", "sample"),
    [
        ("/x/S1.bam", "S1"),
        ("S1.sorted.bam", "S1"),
        ("a/b/S1.Aligned.sortedByCoord.out.bam", "S1"),
        ("S1.markdup.sorted.bam", "S1"),
        ("S1_sorted.bam", "S1"),
        ("S1.cram", "S1"),
        ("C:\\data\\S1.bam", "S1"),
        ("S1", "S1"),
    ],
)
def test_sample_names_from_bam_paths(path, sample):
    assert mt.io.sample_name_from_path(path) == sample


def test_htseq_files_inline(tmp_path, sheet):
    d = tmp_path / "htseq"
    d.mkdir()
    for j, s in enumerate(["S1", "S2", "S3", "S4"]):
        rows = [f"{f}\t{EXPECTED.loc[f, s]}" for f in sorted(EXPECTED.index)]
        rows += [
            f"__no_feature\t{j}",
            "__ambiguous\t1",
            "__too_low_aQual\t0",
            "__not_aligned\t2",
            "__alignment_not_unique\t3",
        ]
        write(d / f"{s}.htseq.counts.txt", "\n".join(rows) + "\n")
    adata = mt.read_counts(d, sheet)
    _check(adata)
    assert list(adata.obs["htseq__no_feature"]) == [0, 1, 2, 3]
    assert "__no_feature" not in adata.var_names
    # the same files listed one by one
    files = sorted(d.iterdir())
    _check(mt.read_counts(files, sheet))


def test_htseq_files_with_different_features(tmp_path):
    d = tmp_path / "htseq"
    d.mkdir()
    write(d / "A.txt", "g1\t1\ng2\t2\n__no_feature\t0\n")
    write(d / "B.txt", "g1\t1\ng3\t2\n__no_feature\t0\n")
    with pytest.raises(
        mt.InputError, match=r"B\.txt: features differ from A.txt \(missing 1 \(e.g. g2\); extra 1"
    ):
        mt.read_counts(d)


def test_mirge3_inline(tmp_path):
    text = "miRNA,SRR1,SRR2\nhsa-let-7a-5p/7c-5p,100,200\nhsa-miR-2392,3,4\n"
    adata = mt.read_counts(write(tmp_path / "miR.Counts.csv", text))
    assert adata.uns["mtncrna"]["format"] == "mirge3"
    assert adata.var.loc["hsa-let-7a-5p/7c-5p", "reference_symbol"] == "hsa-let-7a-5p"


def test_library_forced(counts):
    assert mt.read_counts(counts, library="long").uns["mtncrna"]["library"] == "long"


def test_bad_parameters(counts):
    with pytest.raises(mt.MtncrnaError, match="unknown library 'medium'"):
        mt.read_counts(counts, library="medium")
    with pytest.raises(mt.MtncrnaError, match="unknown format 'xls'"):
        mt.read_counts(counts, format="xls")


def test_same_input_same_output(tmp_path, counts, sheet):
    a = mt.read_counts(counts, sheet)
    b = mt.read_counts(counts, sheet)
    pd.testing.assert_frame_equal(a.to_df(), b.to_df())
    pd.testing.assert_frame_equal(a.var, b.var)
    pd.testing.assert_frame_equal(a.obs, b.obs)


def test_gzip_sheet(tmp_path, counts):
    sheet = write(tmp_path / "s.csv.gz", SHEET, gz=True)
    assert mt.read_counts(counts, sheet).n_obs == 4
    assert gzip.decompress(sheet.read_bytes()).decode() == SHEET


def test_read_libraries_joined_by_sample(tmp_path, sheet):
    small = write(tmp_path / "small.tsv", COUNTS)
    long_ = write(
        tmp_path / "long.tsv", "gene\tS1\tS2\tS3\tS5\nMT-TF\t5\t6\t7\t8\nGAPDH\t1\t2\t3\t4\n"
    )
    libs = mt.read_libraries(sheet, small=small, long=long_)
    assert set(libs) == {"small", "long"}
    assert list(libs["small"].obs_names) == ["S1", "S2", "S3", "S4"]
    assert list(libs["long"].obs_names) == ["S1", "S2", "S3"]  # S5 is not in the sheet
    assert libs["long"].uns["mtncrna"]["library"] == "long"
    pd.testing.assert_frame_equal(
        libs["small"].obs.loc[["S1", "S2", "S3"], ["condition"]], libs["long"].obs[["condition"]]
    )
    with pytest.raises(mt.InputError, match="give a small-RNA table"):
        mt.read_libraries(sheet)


def test_several_tables_are_merged_on_feature_id(tmp_path, sheet):
    a = write(tmp_path / "a.tsv", "miRNA\tS1\tS2\nhsa-miR-2392\t10\t2\nhsa-let-7a-5p\t100\t120\n")
    b = write(tmp_path / "b.tsv", "miRNA\tS3\tS4\nhsa-let-7a-5p\t90\t110\nhsa-miR-5787\t1\t2\n")
    adata = mt.read_counts([a, b], sheet)
    assert list(adata.obs_names) == ["S1", "S2", "S3", "S4"]
    assert list(adata.var_names) == ["hsa-miR-2392", "hsa-let-7a-5p", "hsa-miR-5787"]
    df = adata.to_df()
    assert df.loc["S3", "hsa-miR-2392"] == 0  # absent from b.tsv
    assert df.loc["S4", "hsa-let-7a-5p"] == 110
    assert df.loc["S1", "hsa-miR-5787"] == 0
    # said, and recorded where a run's summary finds it
    said = adata.uns["mtncrna"]["provenance"]["import"]["parameters"]["zero_filled"]
    assert "2 of the 2 count files lack some of the 3 features" in said


def test_featurecounts_files_of_different_annotations_are_refused(tmp_path):
    """featureCounts writes every gene of its annotation: files with other genes were counted
    with another annotation, and zeros for the missing genes would be false."""
    fc = Path(__file__).parent / "data" / "formats" / "featurecounts" / "counts.txt"
    lines = fc.read_text().splitlines()
    a = write(tmp_path / "a.txt", "\n".join(lines) + "\n")
    b = write(tmp_path / "b.txt", "\n".join(lines[:2] + lines[3:]).replace("bam/S", "bam/T") + "\n")
    with pytest.raises(mt.FormatError, match=r"lacks 1 of the .* genes .* different annotations"):
        mt.read_counts([a, b])


def test_several_files_must_share_a_format(tmp_path, counts):
    fc = write(
        tmp_path / "fc.txt",
        "# Program:featureCounts v2.0.3\nGeneid\tChr\tStart\tEnd\t"
        "Strand\tLength\tX.bam\ng1\tchr1\t1\t10\t+\t10\t5\n",
    )
    with pytest.raises(mt.FormatError, match="several count files must share one format"):
        mt.read_counts([counts, fc])


def test_same_sample_in_two_files(tmp_path, counts):
    other = write(tmp_path / "c2.tsv", COUNTS)
    with pytest.raises(mt.InputError, match=r"sample 'S1' is also in counts\.tsv"):
        mt.read_counts([counts, other])


@pytest.mark.parametrize(
    ("path", "name"),
    [
        ("star/S1/Aligned.sortedByCoord.out.bam", "S1"),
        ("/data/run/star/S1/ReadsPerGene.out.tab", "S1"),
        ("star_salmon/S1.ReadsPerGene.out.tab", "S1"),
        ("star_salmon/S1.markdup.sorted.bam", "S1"),
        ("/data/S1.Aligned.sortedByCoord.out.bam", "S1"),
        ("fastq/S1_S1_L001_R1_001.fastq.gz", "S1"),
        ("ctrl-2_S12_R1_001.fastq.gz", "ctrl-2"),
        ("X_1.fastq.gz", "X_1"),
        ("X_2.fastq.gz", "X_2"),
        ("X_1.sorted.bam", "X_1"),
        ("sample_R1.fq", "sample_R1"),
        ("htseq/S1.htseq.counts.txt", "S1"),
        ("salmon/S3/quant.sf", "S3"),
        ("a.b.fastq", "a.b"),
        ("C:\\data\\S4.bam", "S4"),
        ("S1_trimmed.fq.gz", "S1"),
    ],
)
def test_sample_name_from_path_one_rule(path, name):
    assert mt.io.sample_name_from_path(path) == name


def test_quant_uses_the_same_name_rule():
    from mtncrna.quant._smallrna import _named_inputs

    paths = ["X_1.fastq.gz", "X_2.fastq.gz", "S1_S1_L001_R1_001.fastq.gz", "run/S5/reads.fq"]
    names = [n for n, _ in _named_inputs(paths)]
    assert names == [mt.io.sample_name_from_path(p) for p in paths]
    assert names[:3] == ["X_1", "X_2", "S1"]


@pytest.mark.parametrize(
    "rows",
    [
        # whole numbers everywhere: the C parser's int64 columns
        ["id\tlength\tS1\tS2", "a\t0012\t1\t2", "b\t7\t0\t3"],
        # spaces, '+', a decimal and a quoted cell: those columns go the text way
        ["id\tgene_name\tS1\tS2", "a\tX\t 1 \t2.0", 'b\tY\t+0\t"3"'],
        # R write.table layout (header one short), a 1e3 and a trailing empty column
        ['"S1","S2"', '"a",1e3,2,', '"b",4,5,'],
    ],
)
def test_whole_number_columns_read_as_by_the_text_path(tmp_path, monkeypatch, rows):
    """Count columns parsed straight to int64 give the same table as the cell-by-cell path."""
    from mtncrna import _text
    from mtncrna.io import _formats

    path = tmp_path / ("t.csv" if "," in rows[0] else "t.tsv")
    path.write_text("\n".join(rows) + "\n")
    fast = _formats.read_table(path)
    monkeypatch.setattr(_formats, "parse_delimited_integers", _text.parse_delimited)
    slow = _formats.read_table(path)
    assert (fast.features, fast.samples) == (slow.features, slow.samples)
    np.testing.assert_array_equal(fast.counts, slow.counts)
    assert fast.counts.dtype == np.int64
    pd.testing.assert_frame_equal(fast.var, slow.var)


def test_negative_count_named_with_line_and_column_on_the_int_path(tmp_path):
    path = tmp_path / "t.tsv"
    path.write_text("id\tS1\tS2\na\t1\t2\nb\t3\t-4\n")
    with pytest.raises(mt.MtncrnaError, match=r"line 3.*S2|S2.*line 3") as exc:
        mt.read_counts(path)
    assert "'-4' is negative" in str(exc.value)


def test_large_table_parsed_in_blocks_of_rows_same_as_whole(tmp_path, monkeypatch):
    """A big table is parsed in blocks of rows on several threads: the same table as one parse,
    also when a block holds a cell that makes its column text ('x' far down column S7)."""
    from mtncrna import _text
    from mtncrna.io import _formats

    rng = np.random.default_rng(0)
    values = rng.integers(0, 5000, size=(400, 1500))
    rows = ["id\t" + "\t".join(f"S{j}" for j in range(1500))]
    rows += [f"g{i}\t" + "\t".join(map(str, v)) for i, v in enumerate(values)]
    path = tmp_path / "big.tsv"
    path.write_text("\n".join(rows) + "\n")
    monkeypatch.setattr(_text.os, "sched_getaffinity", lambda pid: {0, 1, 2})
    blocks = _formats.read_table(path)
    np.testing.assert_array_equal(blocks.counts, values)
    assert blocks.features == [f"g{i}" for i in range(400)]
    rows[350] = rows[350].replace("\t", "\tx\t", 1).rsplit("\t", 1)[0]  # text far down, same width
    path.write_text("\n".join(rows) + "\n")
    lines = _text.read_lines(path)
    typed = _text.parse_delimited_integers(lines, "\t")
    monkeypatch.setattr(_text.os, "sched_getaffinity", lambda pid: {0})
    whole = _text.parse_delimited_integers(lines, "\t")
    pd.testing.assert_frame_equal(typed, whole)
    assert typed[1].dtype == object and typed[2].dtype == np.int64
