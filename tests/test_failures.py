"""Every command, every failure: one clear line, exit 2, no traceback, and nothing lost.

A table of hostile inputs over all subcommands (each asserts exit code 2, one stderr line naming
the file or option and what was expected, no traceback, and no new or changed file), then the
data-safety experiments on the output publisher: a failed rerun, two runs at once, and kills at
several moments of ``mtncrna run``.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import signal
import subprocess
import sys
import time
import warnings
from pathlib import Path

import anndata as ad
import numpy as np
import pandas as pd
import pytest
import yaml

import mtncrna as mt
from conftest import COUNTS, SHEET, write

EXAMPLE = mt.datasets.example_dir()

DE_TABLE = (
    "feature_id\tbaseMean\tlog2FoldChange\tlfcSE\tstat\tpvalue\tpadj\n"
    "hsa-miR-2392\t100\t2.0\t0.3\t6.6\t1e-10\t1e-8\n"
    "hsa-miR-5787\t80\t-1.5\t0.3\t-5\t1e-6\t1e-5\n"
    "hsa-let-7a-5p\t500\t0.1\t0.2\t0.5\t0.6\t0.8\n"
)


def _snapshot(folder: Path) -> dict[str, str]:
    out = {}
    for p in sorted(folder.rglob("*")):
        if p.is_file():
            out[str(p.relative_to(folder))] = hashlib.sha256(p.read_bytes()).hexdigest()
        elif p.is_dir():
            out[str(p.relative_to(folder)) + "/"] = ""
    return out


def _config(tmp_path: Path, **changes) -> Path:
    cfg = yaml.safe_load((EXAMPLE / "config.yaml").read_text())
    cfg["samples"] = str(EXAMPLE / "samples.csv")
    cfg["small"] = str(EXAMPLE / "small_rna_counts.tsv")
    cfg.pop("long", None)
    cfg.update(changes)
    cfg = {k: v for k, v in cfg.items() if v is not None}
    path = tmp_path / "config.yaml"
    path.write_text(yaml.safe_dump(cfg, sort_keys=False))
    return path


def _files(tmp_path: Path) -> dict[str, Path]:
    d = tmp_path / "in"
    d.mkdir()
    f = {
        "counts": write(d / "counts.tsv", COUNTS),
        "sheet": write(d / "samples.csv", SHEET),
        "de": write(d / "de.tsv", DE_TABLE),
        "prov": write(d / "de.provenance.json", "{}\n"),
        "afile": write(d / "afile.txt", "x\n"),
        "de_padj": write(d / "de_padj.tsv", DE_TABLE.replace("\t1e-5\n", "\t7.5\n")),
        "de_dup": write(d / "de_dup.tsv", DE_TABLE + DE_TABLE.splitlines()[1] + "\n"),
        "de_dupcol": write(d / "de_dupcol.tsv", DE_TABLE.replace("\tpadj\n", "\tpadj\tpadj\n", 1)),
        "small": EXAMPLE / "small_rna_counts.tsv",
        "esheet": EXAMPLE / "samples.csv",
    }
    f["nohdr_sam"] = write(
        d / "nohdr.sam", "r1\t0\tchr1\t100\t255\t10M\t*\t0\t0\tACGTACGTAC\tIIIIIIIIII\n"
    )
    f["gtf"] = write(d / "a.gtf", 'chr1\tt\texon\t90\t200\t.\t+\t.\tgene_id "G1";\n')
    f["empty_fq"] = write(d / "empty.fastq", "")
    f["huge"] = write(d / "huge.tsv", COUNTS.replace("\t30\t", "\t1e20\t"))
    os.mkfifo(d / "pipe")  # as bash's <(zcat ...) gives one; no writer: it must not be opened
    f["pipe"] = d / "pipe"
    dup = ad.AnnData(
        np.ones((3, 2)),
        obs=pd.DataFrame(index=["S1", "S1", "S2"]),
        var=pd.DataFrame(index=["hsa-miR-21-5p", "hsa-let-7a-5p"]),
    )
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # anndata warns about the repeated names we want
        dup.write_h5ad(d / "dup.h5ad")
    f["dup_h5ad"] = d / "dup.h5ad"
    long_level = "r" * 260
    f["longsheet"] = write(
        d / "long_levels.csv",
        (EXAMPLE / "samples.csv").read_text().replace("resistant", long_level),
    )
    f["long_level"] = long_level  # type: ignore[assignment]
    return f


CONTRAST = ["--contrast", "condition", "resistant", "parental"]

# (id, args built from the file dict and tmp_path, expected text in the one error line)
CASES = [
    (
        "formula-trailing-plus",
        lambda f, t: [
            "de",
            f["small"],
            "-s",
            f["esheet"],
            "--design",
            "~ condition +",
            *CONTRAST,
            "-o",
            t / "o",
        ],
        "is not a valid formula",
    ),
    (
        "design-typo",
        lambda f, t: [
            "de",
            f["small"],
            "-s",
            f["esheet"],
            "--design",
            "~ cell_lin + condition",
            *CONTRAST,
            "-o",
            t / "o",
        ],
        "cell_lin",
    ),
    (
        "design-no-tilde",
        lambda f, t: [
            "de",
            f["small"],
            "-s",
            f["esheet"],
            "--design",
            "condition",
            *CONTRAST,
            "-o",
            t / "o",
        ],
        "is not a formula",
    ),
    (
        "alpha-out-of-range",
        lambda f, t: [
            "de",
            f["small"],
            "-s",
            f["esheet"],
            "--design",
            "~ condition",
            *CONTRAST,
            "--alpha",
            "5",
            "-o",
            t / "o",
        ],
        "--alpha",
    ),
    (
        "outdir-is-a-file",
        lambda f, t: [
            "de",
            f["small"],
            "-s",
            f["esheet"],
            "--design",
            "~ condition",
            *CONTRAST,
            "-o",
            f["afile"],
        ],
        "is not a folder",
    ),
    (
        "outdir-holds-input",
        lambda f, t: ["qc", f["counts"], "-s", f["sheet"], "-o", f["counts"].parent],
        "holds the input",
    ),
    (
        "no-contrast",
        lambda f, t: [
            "de",
            f["small"],
            "-s",
            f["esheet"],
            "--design",
            "~ condition",
            "-o",
            t / "o",
        ],
        "--contrast",
    ),
    (
        "missing-option",
        lambda f, t: ["de", f["small"], "-s", f["esheet"], *CONTRAST, "-o", t / "o"],
        "--design",
    ),
    (
        "unknown-option",
        lambda f, t: ["qc", f["small"], "--frobnicate", "-o", t / "o"],
        "frobnicate",
    ),
    (
        "missing-input",
        lambda f, t: ["qc", t / "nope.tsv", "-o", t / "o"],
        "nope.tsv",
    ),
    (
        "too-long-file-name",
        lambda f, t: [
            "de",
            f["small"],
            "-s",
            f["longsheet"],
            "--design",
            "~ cell_line + condition",
            "--contrast",
            "condition",
            f["long_level"],
            "parental",
            "-o",
            t / "o",
        ],
        "File name too long",
    ),
    (
        "gmt-name-with-tab",
        lambda f, t: ["signature", f["de"], "--name", "a\tb", "-o", t / "o"],
        "gene-set name",
    ),
    (
        "min-agreement-2",
        lambda f, t: ["signature", f["de"], "--min-agreement", "2", "-o", t / "o"],
        "--min-agreement",
    ),
    (
        "signature-padj-7.5",
        lambda f, t: ["signature", f["de_padj"], "-o", t / "o"],
        "'7.5' is outside [0, 1]",
    ),
    (
        "concordance-duplicate-feature",
        lambda f, t: ["concordance", f["de_dup"], "-o", t / "c.tsv"],
        "appears again",
    ),
    (
        "concordance-duplicate-column",
        lambda f, t: ["concordance", f["de_dupcol"], "-o", t / "c.tsv"],
        "column 'padj' appears twice",
    ),
    (
        "sidecar-over-input",
        lambda f, t: ["concordance", f["prov"], "-o", f["prov"].with_name("de.tsv")],
        "refusing to overwrite the input",
    ),
    (
        "sam-without-header",
        lambda f, t: ["quant", "bam", f["nohdr_sam"], "-a", f["gtf"], "-o", t / "c.txt"],
        "no header naming the reference sequences",
    ),
    (
        "zero-byte-fastq",
        lambda f, t: ["quant", "smallrna", f["empty_fq"], "-o", t / "q"],
        "holds no reads",
    ),
    (
        "pipe-as-count-table",
        lambda f, t: ["import", f["pipe"], "-s", f["sheet"], "-o", t / "p.h5ad"],
        "is a pipe or device; expected a regular count file",
    ),
    (
        "pipe-as-bam",
        lambda f, t: ["quant", "bam", f["pipe"], "-a", f["gtf"], "-o", t / "c.txt"],
        "is a pipe or device; expected a regular alignment file",
    ),
    (
        "pipe-as-annotation",
        lambda f, t: ["quant", "bam", f["nohdr_sam"], "-a", f["pipe"], "-o", t / "c.txt"],
        "is a pipe or device; expected a regular annotation file",
    ),
    (
        "pipe-as-fastq",
        lambda f, t: ["quant", "smallrna", f["pipe"], "-o", t / "q"],
        "is a pipe or device; expected a regular FASTQ file",
    ),
    (
        "count-beyond-int64",
        lambda f, t: ["import", f["huge"], "-s", f["sheet"], "-o", t / "h.h5ad"],
        "'1e20' is too large for a count",
    ),
    (
        "h5ad-duplicate-samples",
        lambda f, t: ["report", f["dup_h5ad"], "-o", t / "r.html"],
        "sample 'S1' appears twice",
    ),
    (
        "score-signature-missing-column",
        lambda f, t: [
            "score",
            f["small"],
            "-s",
            f["esheet"],
            "--signature",
            f["de"],
            "-o",
            t / "s.tsv",
        ],
        "weight",
    ),
]


@pytest.mark.parametrize(("args", "expected"), [c[1:] for c in CASES], ids=[c[0] for c in CASES])
def test_hostile_input(run_cli, tmp_path, args, expected):
    f = _files(tmp_path)
    before = _snapshot(tmp_path)
    code, out, err = run_cli(*args(f, tmp_path))
    lines = [ln for ln in err.splitlines() if ln.strip()]
    assert code == 2, (code, out, err)
    assert len(lines) == 1, err
    assert lines[0].startswith("mtncrna: error: "), err
    assert "Traceback" not in err
    assert expected in lines[0], lines[0]
    assert _snapshot(tmp_path) == before


RUN_CASES = [
    ("alpha-text", {"alpha": "high"}, "alpha: expected a number between 0 and 1"),
    ("alpha-5", {"alpha": 5}, "alpha: expected a number between 0 and 1"),
    ("design-number", {"design": 5}, "design: expected text"),
    ("design-no-tilde", {"design": "condition"}, "is not a formula"),
    (
        "design-typo",
        {"design": "~ cell_lin + condition"},
        "'cell_lin' in '~ cell_lin + condition' is not a sample sheet column (did you mean 'cell_line'?)",
    ),
    ("samples-list", {"samples": ["a.csv", "b.csv"]}, "samples: expected one file name"),
    ("bool-as-text", {"de_by_fraction": "no"}, "de_by_fraction: expected true or false"),
    (
        "contrast-typo",
        {"contrasts": [["condition", "resistent", "parental"]]},
        "contrast level 'resistent'",
    ),
    ("contrast-not-in-design", {"contrasts": [["batch", "day1", "day2"]]}, "is not in the design"),
    ("versus-absent", {"versus": "whole"}, "no 'whole' library in the sample sheet"),
    ("unknown-fraction", {"mito": "golgi"}, "'golgi' is not a fraction"),
    ("gmt-name", {"signature_name": "bad\tname"}, "gene-set name"),
    ("de-engine", {"de_engine": "edgeR"}, "de_engine: expected mtncrna or pydeseq2"),
    ("threads-zero", {"threads": 0}, "threads: expected a whole number >= 1"),
    ("factors-not-a-column", {"factors": ["dose"]}, "factors: 'dose' is not a sample sheet column"),
    (
        "contrast-with-itself",
        {"contrasts": [["condition", "resistant", "resistant"]]},
        "compares 'resistant' with itself",
    ),
    (
        "contrast-twice",
        {"contrasts": [["condition", "resistant", "parental"]] * 2},
        "contrast condition_resistant_vs_parental is given twice",
    ),
    ("round-as-text", {"round": "yes"}, "round: expected true or false"),
]


@pytest.mark.parametrize(
    ("changes", "expected"), [c[1:] for c in RUN_CASES], ids=[c[0] for c in RUN_CASES]
)
def test_run_config_refused_before_any_work(run_cli, tmp_path, changes, expected):
    cfg = _config(tmp_path, **changes)
    before = _snapshot(tmp_path)
    code, _, err = run_cli("run", cfg, "-o", tmp_path / "out")
    lines = [ln for ln in err.splitlines() if ln.strip()]
    assert code == 2, err
    assert len(lines) == 1 and "Traceback" not in err, err
    assert expected in lines[0], lines[0]
    assert "config.yaml, line " in lines[0] or "samples.csv" in lines[0], lines[0]
    assert _snapshot(tmp_path) == before


def test_run_config_duplicate_key_and_encoding(run_cli, tmp_path):
    cfg = _config(tmp_path)
    text = cfg.read_text()
    cfg.write_text(text + "alpha: 0.05\nalpha: 0.1\n")
    code, _, err = run_cli("run", cfg, "-o", tmp_path / "out")
    assert code == 2 and "key 'alpha' appears twice" in err and "config.yaml, line" in err
    cfg.write_bytes(text.encode() + "title: caf\xe9\n".encode("latin-1"))
    code, _, err = run_cli("run", cfg, "-o", tmp_path / "out")
    assert code == 2 and "is not UTF-8" in err
    assert not (tmp_path / "out").exists()


def test_run_unmatched_samples_stop_unless_asked(run_cli, tmp_path):
    sheet = tmp_path / "samples.csv"
    rows = (EXAMPLE / "samples.csv").read_text().splitlines()
    sheet.write_text("\n".join(rows[:-2]) + "\n")  # two libraries missing from the sheet
    code, _, err = run_cli("run", _config(tmp_path, samples=str(sheet)), "-o", tmp_path / "out")
    assert code == 2 and "drop_unmatched: true" in err, err
    assert "--drop-unmatched" not in err and len(err.strip().splitlines()) == 1, err
    assert not (tmp_path / "out").exists()


def test_run_mito_synonym_and_whole_cell_reference(run_cli, tmp_path):
    """A whole-cell study: purity and enrichment run against the whole-cell libraries."""
    sheet = tmp_path / "samples.csv"
    sheet.write_text((EXAMPLE / "samples.csv").read_text().replace(",cytosol,", ",whole_cell,"))
    cfg = _config(tmp_path, samples=str(sheet), mito="mitochondria", interaction=None)
    code, out, err = run_cli("run", cfg, "-o", tmp_path / "out")
    assert code == 0, err
    assert "enrichment_mito_vs_whole" in " ".join(p.name for p in (tmp_path / "out").iterdir())
    assert "purity" in out and "skipped" not in out.split("integration")[0]


def test_run_says_what_it_skipped(run_cli, tmp_path):
    sheet = tmp_path / "samples.csv"
    lines = (EXAMPLE / "samples.csv").read_text().splitlines()
    keep = [lines[0]] + [ln for ln in lines[1:] if ",mito," in ln]
    sheet.write_text("\n".join(keep) + "\n")
    cfg = _config(  # and the contrast the other way round: no literature concordance
        tmp_path,
        samples=str(sheet),
        drop_unmatched=True,
        contrasts=[["condition", "parental", "resistant"]],
    )
    code, out, err = run_cli("run", cfg, "-o", tmp_path / "out")
    assert code == 0, err
    assert "enrichment mito vs cytosol skipped: no 'cytosol' library" in out
    assert "small: literature concordance skipped: contrast condition_parental_vs_resistant" in out
    # the cytosol libraries left out by drop_unmatched are said in the summary and the report
    said = "not in the sample sheet: CALP1_cytosol"
    assert "note: small-RNA: sample sheet has 12 samples" in out and said in out, out
    assert "kept the 12 samples in both (drop_unmatched)" in out
    assert said in (tmp_path / "out" / "report.html").read_text()
    assert (tmp_path / "out" / "small_de_mito_condition_parental_vs_resistant.tsv").exists()
    log = (tmp_path / "out" / "run.log").read_text()
    assert "enrichment mito vs cytosol skipped" in log
    html = (tmp_path / "out" / "report.html").read_text()
    assert "small: enrichment mito vs cytosol not run: no &#39;cytosol&#39; library" in html or (
        "small: enrichment mito vs cytosol not run: no 'cytosol' library" in html
    )


def test_failed_rerun_leaves_the_earlier_folder(tmp_path, monkeypatch):
    out = tmp_path / "out"
    mt.run(_config(tmp_path), out)
    before = _snapshot(out)
    assert "report.html" in before and "run.log" in before

    def boom(*a, **k):
        raise RuntimeError("a bug in the middle of the run")

    monkeypatch.setattr(mt.tl, "signature", boom)
    with pytest.raises(RuntimeError):
        mt.run(_config(tmp_path, design="~ condition"), out)
    assert _snapshot(out) == before
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith(".")] == []


def _start_run(cfg: Path, out: Path) -> subprocess.Popen:
    return subprocess.Popen(
        [sys.executable, "-m", "mtncrna.cli", "run", str(cfg), "-o", str(out)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def test_two_runs_into_one_folder(tmp_path):
    cfg, out = _config(tmp_path), tmp_path / "out"
    first = _start_run(cfg, out)
    lock = tmp_path / ".out.lock"
    deadline = time.time() + 120
    while not lock.exists() and first.poll() is None and time.time() < deadline:
        time.sleep(0.05)
    second = _start_run(cfg, out)
    _, err2 = second.communicate(timeout=300)
    _, err1 = first.communicate(timeout=600)
    assert first.returncode == 0, err1
    assert second.returncode == 2, err2
    assert "another mtncrna command (pid" in err2 and str(out) in err2
    assert len(err2.strip().splitlines()) == 1
    prov = json.loads((out / "provenance.json").read_text())
    assert {o["path"] for o in prov["outputs"]} <= {p.name for p in out.iterdir()}


def _complete(folder: Path) -> bool:
    """Every output a set's provenance lists is there with its checksum."""
    try:
        prov = json.loads((folder / "provenance.json").read_text())
    except (OSError, ValueError):
        return False
    for o in prov["outputs"]:
        p = folder / o["path"]
        if not p.exists() or hashlib.sha256(p.read_bytes()).hexdigest() != o["sha256"]:
            return False
    return (folder / "run.log").exists()


def test_kill_at_any_moment_leaves_a_whole_set(tmp_path):
    out = tmp_path / "out"
    mt.run(_config(tmp_path), out)
    earlier = _snapshot(out)
    cfg2 = _config(tmp_path, design="~ condition")
    for delay in (0.3, 1.5, 4.0, 8.0):
        proc = _start_run(cfg2, out)
        time.sleep(delay)
        proc.send_signal(signal.SIGKILL)
        proc.wait()
        now = _snapshot(out)
        assert now == earlier or _complete(out), f"mixed folder after a kill at {delay}s"
        if now != earlier:
            earlier = now
    # the next run cleans what the killed ones left and publishes a whole set
    res = mt.run(cfg2, out)
    assert _complete(out) and res.outputs
    leftovers = [p.name for p in tmp_path.iterdir() if p.name.startswith(".out.")]
    assert leftovers == [], leftovers


def test_cli_errors_are_one_line_in_a_real_process(tmp_path):
    proc = subprocess.run(
        [sys.executable, "-m", "mtncrna.cli", "de", str(tmp_path / "nope.h5ad"), "--design", "~ x"],
        capture_output=True,
        text=True,
        check=False,
    )
    assert proc.returncode == 2
    assert proc.stderr.count("\n") == 1 and "Traceback" not in proc.stderr
    assert proc.stderr.startswith("mtncrna: error: mtncrna de: ")


def test_a_bug_keeps_its_traceback(run_cli, tmp_path, monkeypatch):
    monkeypatch.setattr(mt.steps, "qc", lambda *a, **k: 1 / 0)
    with pytest.raises(ZeroDivisionError):
        run_cli(
            "qc",
            EXAMPLE / "small_rna_counts.tsv",
            "-s",
            EXAMPLE / "samples.csv",
            "-o",
            tmp_path / "o",
        )


def test_rerun_replaces_only_mtncrna_folders(run_cli, tmp_path):
    mine = tmp_path / "results"
    mine.mkdir()
    (mine / "notes.txt").write_text("my notes")
    code, _, err = run_cli(
        "qc", EXAMPLE / "small_rna_counts.tsv", "-s", EXAMPLE / "samples.csv", "-o", mine
    )
    assert code == 2 and "holds files mtncrna did not write (notes.txt)" in err
    assert (mine / "notes.txt").read_text() == "my notes"
    out = tmp_path / "qc"
    for _ in range(2):
        code, _, err = run_cli(
            "qc", EXAMPLE / "small_rna_counts.tsv", "-s", EXAMPLE / "samples.csv", "-o", out
        )
        assert code == 0, err
    assert {"qc_samples.tsv", "qc.h5ad", "provenance.json"} <= {p.name for p in out.iterdir()}
    shutil.rmtree(out)


def test_missing_parent_folders_are_made_and_removed_on_failure(run_cli, tmp_path):
    counts, sheet = EXAMPLE / "small_rna_counts.tsv", EXAMPLE / "samples.csv"
    code, _, err = run_cli("qc", counts, "-s", sheet, "-o", tmp_path / "a" / "b" / "qc")
    assert code == 0, err
    assert (tmp_path / "a" / "b" / "qc" / "qc_samples.tsv").exists()
    before = _snapshot(tmp_path)
    code, _, err = run_cli(
        "de", counts, "-s", sheet, "--design", "~ nope", "--contrast", "condition", "resistant",
        "parental", "-o", tmp_path / "x" / "y" / "de",
    )  # fmt: skip
    assert code == 2 and "nope" in err
    assert _snapshot(tmp_path) == before  # x/y made for the output, removed again


def test_run_confounded_design_stops_before_any_analysis(run_cli, tmp_path):
    """Two drugs, each on its own cell line: '~ drug + cell_line + condition' cannot be fitted.
    R's DESeq2 stops; so does the run, naming the confounded columns, before writing anything."""
    sheet = tmp_path / "samples.csv"
    sheet.write_text(
        (EXAMPLE / "samples.csv").read_text().replace("SCC-9,cisplatin", "SCC-9,doxorubicin")
    )
    cfg = _config(tmp_path, samples=str(sheet), design="~ drug + cell_line + condition")
    code, _, err = run_cli("run", cfg, "-o", tmp_path / "out")
    assert code == 2 and len(err.strip().splitlines()) == 1, err
    assert "design" in err and "line" in err
    assert "drug[T.doxorubicin] and cell_line[T.SCC-9] are confounded" in err
    assert not (tmp_path / "out").exists()


def test_design_rank_names_the_columns():
    from mtncrna import DesignError, engine

    meta = pd.DataFrame(
        {"a": ["x", "x", "y", "y", "z", "z"], "b": [1.0, 1, 2, 2, 3, 3], "c": list("pqpqpq")}
    )
    X = engine.design_matrix("~ a + b + c", meta)
    with pytest.raises(DesignError, match=r"a\[T.y\], a\[T.z\] and b are confounded"):
        engine.check_full_rank(X)
    engine.check_full_rank(engine.design_matrix("~ a + c", meta))
