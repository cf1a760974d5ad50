"""The Snakemake workflow: the `test` profile end to end on the bundled data, and the sample sheet
validated before any job starts."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest

import mtncrna as mt

ROOT = Path(__file__).resolve().parents[1]
BIN = Path(sys.executable).parent
DATA = ROOT / "workflows" / "test" / "data"
needs_snakemake = pytest.mark.skipif(
    shutil.which("snakemake") is None and not (BIN / "snakemake").exists(),
    reason="snakemake not installed",
)


def _snakemake(cwd: Path, *args: str, timeout: int = 3000) -> subprocess.CompletedProcess:
    exe = shutil.which("snakemake") or str(BIN / "snakemake")
    return subprocess.run(
        [exe, *args],
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=timeout,
        env={"PATH": f"{BIN}:/usr/bin:/bin", "HOME": str(cwd)},
        check=False,
    )


@needs_snakemake
@pytest.mark.skipif(
    shutil.which("multiqc") is None and not (BIN / "multiqc").exists(),
    reason="multiqc not installed",
)
def test_test_profile_runs_end_to_end(tmp_path):
    """The command of the README, from a copy of the repository's workflows/ folder."""
    shutil.copytree(ROOT / "workflows", tmp_path / "workflows")
    cmd = ("-s", "workflows/Snakefile", "--profile", "workflows/profiles/test", "--cores", "2")
    proc = _snakemake(tmp_path, *cmd)
    assert proc.returncode == 0, proc.stderr[-4000:]
    out = tmp_path / "results"
    assert (out / "analysis" / "report.html").exists()
    # sample names come from the sheet: the Illumina-named lanes of CALP1_mito are one sample
    truth = pd.read_csv(DATA / "truth_small.tsv", sep="\t", index_col=0)
    small = mt.read_h5ad(out / "analysis" / "small.h5ad")
    assert sorted(small.obs_names) == sorted(truth.columns)
    got = small.to_df().T.reindex(truth.index).fillna(0).astype(int)[truth.columns]
    # both lanes counted; reads drawn from exact mature sequences are recovered exactly, but for
    # the few miRNAs that share their sequence with another miRBase entry or the mtDNA
    # (3 of 150 here: miR-365a-3p, miR-4463, miR-548ae-5p)
    exact = (got == truth).all(axis=1)
    assert exact.mean() >= 0.97, list(truth.index[~exact])
    assert (got.sum() >= 0.98 * truth.sum()).all()
    # long RNA from the sheet's BAMs, counted per sample with mtncrna quant bam
    long = mt.read_h5ad(out / "analysis" / "long.h5ad")
    assert sorted(long.obs_names) == sorted(truth.columns)
    assert int(long.X.sum(axis=1).min()) > 15_000  # 20,000 reads per BAM, inside exons
    assert {"sample", "condition", "fraction"} <= {"sample", *small.obs.columns}
    # scanpy-ready h5ad
    assert small.obsm["X_pca"].shape[0] == 8 and "variance_ratio" in small.uns["pca"]
    # MultiQC ran last and shows mtncrna's sections beside featureCounts' (quant bam summaries)
    mqc = out / "multiqc" / "multiqc_data"
    assert (out / "multiqc" / "multiqc_report.html").exists()
    reads = pd.read_csv(mqc / "multiqc_mtncrna_reads_plot.txt", sep="\t", index_col=0)
    assert sorted(reads.index) == sorted(truth.columns)
    assert (reads.sum(axis=1) == 6000).all()  # every read has exactly one fate
    for name in (
        "multiqc_mtncrna_lengths_plot.txt",
        "multiqc_mtncrna_small_composition_plot.txt",
        "multiqc_mtncrna_small_purity_plot.txt",
        "multiqc_featurecounts.txt",
    ):
        assert (mqc / name).exists(), name
    gs = pd.read_csv(mqc / "multiqc_general_stats.txt", sep="\t", index_col=0)
    assert gs.filter(like="small_purity").notna().sum().iloc[0] == 4  # the 4 mito libraries


def _sheet(tmp_path: Path, edit) -> Path:
    sheet = pd.read_csv(DATA / "samplesheet.csv", dtype=str, keep_default_na=False)
    sheet["fastq_1"] = [str(DATA / f) for f in sheet["fastq_1"]]
    sheet["bam"] = [str(DATA / f) for f in sheet["bam"]]
    sheet = edit(sheet)
    path = tmp_path / "samplesheet.csv"
    sheet.to_csv(path, index=False)
    return path


def test_fastq_sheet_merges_lanes_and_keeps_sheet_names(tmp_path):
    s = mt.io.read_fastq_sheet(DATA / "samplesheet.csv")
    assert len(s.design) == 8 and s.design.index.name == "sample"
    assert [p.name for p in s.fastq_1["CALP1_mito"]] == [
        "CALP1_mito_S1_L001_R1_001.fastq.gz",
        "CALP1_mito_S1_L002_R1_001.fastq.gz",
    ]
    assert s.bam["CALP1_mito"].name == "CALP1_mito.bam"
    assert "fastq_1" not in s.design.columns and s.design.loc["CALP1_mito", "fraction"] == "mito"


@pytest.mark.parametrize(
    ("edit", "message"),
    [
        (
            lambda d: d.assign(condition=["parental", "resistant", *d["condition"][2:]]),
            r"samplesheet\.csv, line 3, column condition: lane of sample 'CALP1_mito' has "
            r"condition 'resistant' but line 2 has 'parental'",
        ),
        (
            lambda d: d.assign(fastq_1=[*d["fastq_1"][:3], "/nope/x.fastq.gz", *d["fastq_1"][4:]]),
            r"line 5, column fastq_1: fastq_1 file not found: /nope/x\.fastq\.gz",
        ),
        (
            lambda d: d.assign(fastq_1=[*d["fastq_1"][:3], "reads.bam", *d["fastq_1"][4:]]),
            r"line 5, column fastq_1: fastq_1 'reads\.bam' is not a FASTQ file",
        ),
        (
            lambda d: d.assign(bam=[*d["bam"][:8], ""]),
            r"1 sample\(s\) have no bam \(CALR2_cytosol\)",
        ),
        (
            lambda d: d.assign(fraction=[*d["fraction"][:5], "nucleolus", *d["fraction"][6:]]),
            r"line 7, column fraction: fraction 'nucleolus' is not known",
        ),
        (
            lambda d: d.drop(columns="fastq_1"),
            r"no 'fastq_1' column",
        ),
    ],
)
def test_fastq_sheet_errors_name_line_and_column(tmp_path, edit, message):
    path = _sheet(tmp_path, edit)
    with pytest.raises(mt.SampleSheetError, match=message):
        mt.io.read_fastq_sheet(path)


@needs_snakemake
def test_bad_sheet_stops_the_workflow_before_any_job(tmp_path):
    path = _sheet(
        tmp_path, lambda d: d.assign(condition=["parental", "resistant", *d["condition"][2:]])
    )
    cfg = tmp_path / "config.yaml"
    cfg.write_text(f"samples: {path}\noutdir: {tmp_path / 'results'}\nannotation: x.gtf\n")
    proc = _snakemake(
        tmp_path, "-s", str(ROOT / "workflows" / "Snakefile"), "--configfile", str(cfg), "-c1"
    )
    assert proc.returncode != 0
    assert "lane of sample 'CALP1_mito' has condition 'resistant'" in proc.stderr
    assert not (tmp_path / "results").exists()
