"""Sample sheet validation: ids, duplicates, empty design values, fraction vocabulary."""

from __future__ import annotations

import pytest

import mtncrna as mt
from conftest import FORMATS, SHEET, write


def test_reads_and_normalises(tmp_path):
    text = SHEET.replace("mito,CAL-27,", "Mitochondria,CAL-27,", 1).replace(
        "cytosol,CAL-27,", "cyto,CAL-27,", 1
    )
    sheet = mt.read_sample_sheet(write(tmp_path / "s.csv", text))
    assert list(sheet.index) == ["S1", "S2", "S3", "S4"]
    assert list(sheet["fraction"]) == ["mito", "cytosol", "mito", "cytosol"]
    assert list(sheet["fraction_label"])[:2] == ["Mitochondria", "cyto"]
    assert sheet.index.name == "sample"


def test_tsv_bom_crlf_quoted_and_column_names(tmp_path):
    text = '"Sample ID"\t"Condition"\t"Fraction"\r\n"A"\t"resistant"\t"whole cell"\r\n'
    path = tmp_path / "s.tsv"
    path.write_bytes(b"\xef\xbb\xbf" + text.encode())
    sheet = mt.read_sample_sheet(path)
    assert list(sheet.index) == ["A"]
    assert sheet.loc["A", "condition"] == "resistant"
    assert sheet.loc["A", "fraction"] == "whole"


def test_semicolon_separated(tmp_path):
    sheet = mt.read_sample_sheet(write(tmp_path / "s.csv", "sample;condition\nA;x\nB;y\n"))
    assert list(sheet["condition"]) == ["x", "y"]


def test_optional_empty_cells_become_missing(tmp_path):
    sheet = mt.read_sample_sheet(write(tmp_path / "s.csv", "sample,pair,note\nA,,\nB,p1,ok\n"))
    assert sheet["pair"].isna().tolist() == [True, False]


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("id2,condition\nA,x\n", "no sample id column: expected one named 'sample'"),
        (
            "sample,condition\nA,x\nA,y\n",
            "line 3, column sample: sample 'A' appears again (first on line 2)",
        ),
        ("sample,condition\nA,x\n,y\n", "line 3, column sample: empty sample id"),
        ("sample,condition\nA,x\nB,\n", "line 3, column condition: empty condition for sample 'B'"),
        (
            "sample,fraction\nA,mito\nB,golgi\n",
            "line 3, column fraction: fraction 'golgi' is not known; expected one of mito, mitoplast, cytosol, whole, nucleus",
        ),
        ("sample,condition,condition\nA,x,y\n", "column 'condition' appears twice"),
        ("sample,condition\n", "has a header line but no sample rows"),
        ("sample,condition\nA,x,extra\n", "header has 2 fields but the rows have 3"),
        ("", "file is empty"),
    ],
)
def test_errors(run_cli, tmp_path, counts, text, message):
    sheet = write(tmp_path / "s.csv", text)
    code, _, stderr = run_cli("import", counts, "-s", sheet, "-o", tmp_path / "o.h5ad")
    assert code == 2
    assert message in stderr, stderr
    assert "s.csv" in stderr
    assert not (tmp_path / "o.h5ad").exists()


@pytest.mark.parametrize(
    "label",
    [
        "mito",
        "Mitochondrial",
        "MT",
        "mitoplast",
        "cytosol",
        "Cytoplasm",
        "whole_cell",
        "Whole-cell",
        "total",
        "nuclear",
    ],
)
def test_fraction_vocabulary(label):
    assert mt.io.normalise_fraction(label) in mt.io.FRACTIONS


RTABLES = FORMATS / "rtables"


@pytest.mark.parametrize(
    "name",
    [
        "samples.xlsx",
        "samples_write_csv.csv",
        "samples_rownames.csv",
        "samples_trailing_empty.csv",
        "samples_unicode_text.txt",
    ],
)
def test_sheets_saved_by_r_and_excel(name):
    sheet = mt.read_sample_sheet(RTABLES / name)
    assert list(sheet.index) == ["S1", "S2", "S3", "S4"]
    assert list(sheet["condition"]) == ["parental", "parental", "resistant", "resistant"]
    assert list(sheet["fraction"]) == ["cytosol", "mito", "cytosol", "mito"]
    assert "" not in sheet.columns and not any(c.startswith("unnamed") for c in sheet.columns)
    if name != "samples_unicode_text.txt":
        assert [float(x) for x in sheet["dose"]] == [0, 0, 1.5, 3]


def test_nameless_first_column_that_is_not_row_names_is_refused(tmp_path):
    path = tmp_path / "s.csv"
    path.write_text('"","sample","condition"\n"a","S1","x"\n"b","S2","y"\n')
    with pytest.raises(mt.SampleSheetError, match="column 1 has no name"):
        mt.read_sample_sheet(path)


def test_sheet_in_r_write_table_defaults(tmp_path):
    path = tmp_path / "s.txt"
    path.write_text('"sample" "condition"\n"1" "S1" "x y"\n"2" "S2" "z"\n')
    sheet = mt.read_sample_sheet(path)
    assert list(sheet.index) == ["S1", "S2"]
    assert sheet.loc["S1", "condition"] == "x y"
