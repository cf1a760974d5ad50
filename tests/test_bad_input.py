"""Every bad input: one line naming file/line/column, exit code 2, no traceback, nothing written."""

from __future__ import annotations

import gzip
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from conftest import COUNTS, SHEET, write


def _assert_clean_failure(run_cli, tmp_path: Path, args: list, *expected: str) -> str:
    out = tmp_path / "out.h5ad"
    before = {p.name for p in tmp_path.iterdir()}
    code, stdout, stderr = run_cli("import", *args, "-o", out)
    assert code == 2, (code, stdout, stderr)
    lines = [ln for ln in stderr.splitlines() if ln.strip()]
    assert len(lines) == 1, stderr
    assert lines[0].startswith("mtncrna: error: ")
    assert "Traceback" not in stderr
    for e in expected:
        assert e in lines[0], lines[0]
    assert not out.exists()
    after = {p.name for p in tmp_path.iterdir()}
    assert after == before, f"left behind: {after - before}"
    return lines[0]


def _counts_with(cell: str) -> str:
    return COUNTS.replace("\t30\t", f"\t{cell}\t")


@pytest.mark.parametrize(
    ("cell", "message"),
    [
        ("12.5", "'12.5' is not a whole number"),
        ("-3", "'-3' is negative"),
        ("NaN", "'NaN' is a missing value"),
        ("NA", "'NA' is a missing value"),
        ("", "empty cell"),
        ("abc", "'abc' is not a number"),
        ("inf", "'inf' is infinite"),
    ],
)
def test_bad_count_cells(run_cli, tmp_path, sheet, cell, message):
    counts = write(tmp_path / "counts.tsv", _counts_with(cell))
    line = _assert_clean_failure(run_cli, tmp_path, [counts, "-s", sheet], message)
    # hsa-miR-2392 is on line 2 of the file, S3 is the column
    assert f"counts.tsv, line 2, column S3: {message}" in line


def test_bad_cell_reports_first_in_file_order(run_cli, tmp_path, sheet):
    text = COUNTS.replace("\t120\t", "\t1.5\t").replace("\t30\t", "\t-1\t")
    counts = write(tmp_path / "counts.tsv", text)
    _assert_clean_failure(
        run_cli, tmp_path, [counts, "-s", sheet], "line 2, column S3", "1 more invalid cells"
    )


def test_round_option_accepts_estimated_counts(run_cli, tmp_path, sheet):
    counts = write(tmp_path / "counts.tsv", _counts_with("12.5"))
    code, _, stderr = run_cli("import", counts, "-s", sheet, "--round", "-o", tmp_path / "o.h5ad")
    assert code == 0, stderr
    import anndata as ad

    a = ad.read_h5ad(tmp_path / "o.h5ad")
    assert a["S3", "hsa-miR-2392"].X.item() == 12  # numpy rounds half to even


def test_duplicate_feature(run_cli, tmp_path, sheet):
    counts = write(tmp_path / "counts.tsv", COUNTS + "hsa-miR-2392\t1\t1\t1\t1\n")
    _assert_clean_failure(
        run_cli,
        tmp_path,
        [counts, "-s", sheet],
        "line 6",
        "feature id 'hsa-miR-2392' appears again (first on line 2)",
    )


def test_duplicate_sample_column(run_cli, tmp_path, sheet):
    counts = write(tmp_path / "counts.tsv", COUNTS.replace("S4\n", "S3\n", 1))
    _assert_clean_failure(run_cli, tmp_path, [counts], "sample column 'S3' appears twice")


def test_sheet_count_mismatch(run_cli, tmp_path):
    sheet = write(tmp_path / "samples.csv", SHEET.replace("S4,", "S5,"))
    counts = write(tmp_path / "counts.tsv", COUNTS)
    _assert_clean_failure(
        run_cli,
        tmp_path,
        [counts, "-s", sheet],
        "samples.csv",
        "not in the sample sheet: S4",
        "not in the count table: S5",
    )


def test_drop_unmatched_keeps_common_samples(run_cli, tmp_path):
    sheet = write(tmp_path / "samples.csv", SHEET.replace("S4,", "S5,"))
    counts = write(tmp_path / "counts.tsv", COUNTS)
    code, _, stderr = run_cli(
        "import", counts, "-s", sheet, "--drop-unmatched", "-o", tmp_path / "o.h5ad"
    )
    assert code == 0
    assert "keeping the 3 samples" in stderr
    import anndata as ad

    assert list(ad.read_h5ad(tmp_path / "o.h5ad").obs_names) == ["S1", "S2", "S3"]


def test_unknown_format_forced(run_cli, tmp_path, counts):
    _assert_clean_failure(
        run_cli,
        tmp_path,
        [counts, "--format", "featurecounts"],
        "is not featureCounts output",
        "Geneid Chr Start End Strand Length",
    )


def test_unknown_format_name(run_cli, tmp_path, counts):
    code, _, stderr = run_cli("import", counts, "--format", "excel", "-o", tmp_path / "o.h5ad")
    assert code == 2
    assert "Invalid value for '--format'" in stderr


def test_empty_file(run_cli, tmp_path):
    counts = write(tmp_path / "counts.tsv", "")
    _assert_clean_failure(run_cli, tmp_path, [counts], "counts.tsv: file is empty")


def test_whitespace_only_file(run_cli, tmp_path):
    counts = write(tmp_path / "counts.tsv", "\n\n  \n")
    _assert_clean_failure(run_cli, tmp_path, [counts], "file is empty")


def test_header_only(run_cli, tmp_path):
    counts = write(tmp_path / "counts.tsv", "miRNA\tS1\tS2\n")
    _assert_clean_failure(run_cli, tmp_path, [counts], "has a header line but no data rows")


def test_truncated_gzip(run_cli, tmp_path):
    data = gzip.compress(COUNTS.encode() * 50)
    (tmp_path / "counts.tsv.gz").write_bytes(data[: len(data) // 2])
    _assert_clean_failure(
        run_cli,
        tmp_path,
        [tmp_path / "counts.tsv.gz"],
        "counts.tsv.gz",
        "gzip data is truncated or corrupt",
    )


def test_binary_garbage(run_cli, tmp_path):
    rng = np.random.default_rng(1)
    (tmp_path / "counts.tsv").write_bytes(rng.integers(0, 256, 4096, dtype=np.uint8).tobytes())
    _assert_clean_failure(run_cli, tmp_path, [tmp_path / "counts.tsv"], "counts.tsv")


def test_binary_without_nul(run_cli, tmp_path):
    rng = np.random.default_rng(2)
    raw = rng.integers(1, 32, 4096, dtype=np.uint8).tobytes()
    (tmp_path / "counts.tsv").write_bytes(raw)
    _assert_clean_failure(run_cli, tmp_path, [tmp_path / "counts.tsv"], "binary data")


def test_damaged_excel_workbook(run_cli, tmp_path):
    # real .xlsx workbooks are read (tests/test_formats_real.py); a damaged one is refused
    (tmp_path / "counts.xlsx").write_bytes(b"PK\x03\x04" + b"\x00" * 100)
    _assert_clean_failure(
        run_cli,
        tmp_path,
        [tmp_path / "counts.xlsx"],
        "zip archive",
        "not an Excel .xlsx workbook",
    )


def test_missing_file(run_cli, tmp_path):
    _assert_clean_failure(
        run_cli, tmp_path, [tmp_path / "nope.tsv"], "nope.tsv: count file not found"
    )


def test_ragged_row(run_cli, tmp_path):
    counts = write(tmp_path / "counts.tsv", COUNTS + "hsa-miR-1\t1\t2\t3\t4\t5\n")
    _assert_clean_failure(run_cli, tmp_path, [counts], "line 6", "expected 5 fields", "found 6")


def test_short_row(run_cli, tmp_path):
    counts = write(tmp_path / "counts.tsv", COUNTS + "hsa-miR-1\t1\t2\n")
    _assert_clean_failure(run_cli, tmp_path, [counts], "line 6, column S3", "empty cell")


def test_all_text_columns(run_cli, tmp_path):
    counts = write(tmp_path / "counts.tsv", "id\tname\nx\ty\nz\tw\n")
    _assert_clean_failure(run_cli, tmp_path, [counts], "no count columns found")


def test_never_overwrites_input(run_cli, tmp_path, counts, sheet):
    before = counts.read_bytes()
    code, _, stderr = run_cli("import", counts, "-s", sheet, "-o", counts)
    assert code == 2
    assert "refusing to overwrite the input" in stderr
    assert counts.read_bytes() == before


def test_output_folder_missing(run_cli, tmp_path, counts):
    code, _, stderr = run_cli("import", counts, "-o", tmp_path / "no" / "out.h5ad")
    assert code == 2
    assert "does not exist" in stderr


def test_failed_run_keeps_previous_output(run_cli, tmp_path, sheet):
    good = write(tmp_path / "counts.tsv", COUNTS)
    out = tmp_path / "out.h5ad"
    assert run_cli("import", good, "-s", sheet, "-o", out)[0] == 0
    before = out.read_bytes()
    bad = write(tmp_path / "bad.tsv", _counts_with("x"))
    code, _, _ = run_cli("import", bad, "-s", sheet, "-o", out)
    assert code == 2
    assert out.read_bytes() == before
    assert not [p for p in tmp_path.iterdir() if p.name.endswith(".part")]


def test_real_process_exit_code_and_no_traceback(tmp_path):
    counts = write(tmp_path / "counts.tsv", _counts_with("12.5"))
    env = dict(os.environ)
    proc = subprocess.run(
        [
            sys.executable,
            "-m",
            "mtncrna.cli",
            "import",
            str(counts),
            "-o",
            str(tmp_path / "o.h5ad"),
        ],
        capture_output=True,
        text=True,
        env=env,
        check=False,
    )
    assert proc.returncode == 2
    assert proc.stderr.count("\n") == 1
    assert "Traceback" not in proc.stderr
    assert "line 2, column S3: '12.5' is not a whole number" in proc.stderr
