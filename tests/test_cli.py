"""The command line: help, version, demo, and that README and CI run the same test command."""

from __future__ import annotations

import json
import re
from pathlib import Path

import anndata as ad
import pandas as pd
import pytest

import mtncrna as mt

ROOT = Path(__file__).resolve().parents[1]


def test_version(run_cli):
    code, out, _ = run_cli("--version")
    assert code == 0
    assert out.strip() == f"mtncrna, version {mt.__version__}"


@pytest.mark.parametrize(
    "args",
    [
        [],
        ["import"],
        ["reference"],
        ["reference", "list"],
        ["reference", "lookup"],
        ["reference", "validate"],
        ["demo"],
    ],
)
def test_help_for_every_subcommand(run_cli, args):
    code, out, _ = run_cli(*args, "--help")
    assert code == 0
    assert out.startswith("Usage: ")


def test_import_summary(run_cli, tmp_path, counts, sheet):
    out = tmp_path / "small.h5ad"
    code, stdout, stderr = run_cli("import", counts, "-s", sheet, "-o", out)
    assert code == 0, stderr
    assert f"{out}: 4 samples x 4 features (small library, format table)" in stdout
    assert "condition: parental 2, resistant 2" in stdout
    adata = ad.read_h5ad(out)
    assert adata.obs.loc["S1", "fraction"] == "mito"
    assert adata.var.loc["hsa-miR-2392", "mt_class"] == "mitomiR"


def test_import_with_extension_reference(run_cli, tmp_path, sheet):
    from conftest import write

    counts = write(
        tmp_path / "c.tsv", "gene\tS1\tS2\tS3\tS4\nMY-LNC-1\t1\t2\t3\t4\nGAPDH\t9\t9\t9\t9\n"
    )
    ext = write(
        tmp_path / "ext.tsv",
        "reference_name\trna_class\treference_id\taliases\t"
        "localisation\tcitation\nMYLNC1\tlncRNA\tMY0001\tMY-LNC-1\t"
        "imported\tOur lab, 2026\n",
    )
    out = tmp_path / "o.h5ad"
    code, _, stderr = run_cli("import", counts, "-s", sheet, "--reference", ext, "-o", out)
    assert code == 0, stderr
    var = ad.read_h5ad(out).var
    assert var.loc["MY-LNC-1", "reference_id"] == "MY0001"
    assert var.loc["MY-LNC-1", "mt_class"] == "mito-lncRNA"


def test_demo(run_cli, tmp_path):
    code, out, stderr = run_cli("demo", "-o", tmp_path / "demo")
    assert code == 0, stderr
    assert "small-RNA: 24 samples x 362 features" in out
    assert (tmp_path / "demo" / "run.log").read_text()
    assert "concordance concordant" in out
    d = tmp_path / "demo"
    small = ad.read_h5ad(d / "small.h5ad")
    assert small.var.loc["hsa-miR-2392", "mt_class"] == "mitomiR"
    known = pd.read_csv(d / "known_mtncrnas.tsv", sep="\t")
    assert {"hsa-miR-2392", "hsa-miR-5787", "SAMMSON", "MT-TF"} <= set(known["feature"])
    conc = pd.read_csv(d / "small_concordance.tsv", sep="\t").set_index("symbol")
    assert conc.loc["hsa-miR-5787", "verdict"] == "concordant"
    prov = json.loads((d / "provenance.json").read_text())
    listed = {o["path"] for o in prov["outputs"]}
    assert listed == {p.name for p in d.iterdir()} - {
        "provenance.json",
        ".mtncrna-output",
        "run.log",
    }
    assert {"small_qc.tsv", "long_qc_pca.tsv", "signature.gmt", "report.html"} <= listed
    html = (d / "report.html").read_text()
    assert '<section id="summary">' in html
    assert not list(d.glob("*.part"))


def _readme_test_command() -> str:
    text = (ROOT / "README.md").read_text()
    blocks = re.findall(r"```bash\n(.*?)```", text, flags=re.S)
    return next(b.strip() for b in blocks if "pytest" in b)


def test_ci_runs_the_readme_test_command():
    ci = (ROOT / ".ci" / "run").read_text()
    assert _readme_test_command() in ci.splitlines()


def test_readme_main_command_runs_the_demo():
    text = (ROOT / "README.md").read_text()
    first = re.findall(r"```bash\n(.*?)```", text, flags=re.S)[0].strip()
    assert "pip install ." in first and "mtncrna demo" in first


def _config(tmp_path, **changes):
    d = mt.datasets.example_dir()
    import yaml

    cfg = yaml.safe_load((d / "config.yaml").read_text())
    for key in ("samples", "small", "long"):
        cfg[key] = str(d / cfg[key])
    cfg.update(changes)
    path = tmp_path / "config.yaml"
    path.write_text(yaml.safe_dump(cfg))
    return path


def test_run_from_config(run_cli, tmp_path):
    code, out, err = run_cli("run", _config(tmp_path, long=None), "-o", tmp_path / "out")
    assert code == 0, err
    assert "small-RNA: 24 samples" in out and "long-RNA" not in out
    assert (tmp_path / "out" / "report.html").exists()
    assert (tmp_path / "out" / "signature.gmt").exists()


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        (
            {"contrast": [["condition", "resistant", "parental"]]},
            "unknown key 'contrast' (did you mean 'contrasts'?)",
        ),
        (
            {"contrasts": [["condition", "resistent", "parental"]]},
            "contrast level 'resistent' is not a value of 'condition'",
        ),
        ({"small": "nope.tsv"}, "small: file not found"),
        ({"contrasts": "condition"}, "contrasts: must be a list"),
    ],
)
def test_run_config_errors(run_cli, tmp_path, changes, message):
    code, _, err = run_cli("run", _config(tmp_path, **changes), "-o", tmp_path / "out")
    assert code == 2
    assert message in err
    assert len(err.strip().splitlines()) == 1
    assert not (tmp_path / "out").exists() or not list((tmp_path / "out").glob("*.tsv"))


def test_run_config_not_yaml(run_cli, tmp_path):
    bad = tmp_path / "c.yaml"
    bad.write_text("samples: [unclosed\n")
    code, _, err = run_cli("run", bad, "-o", tmp_path / "out")
    assert code == 2
    assert "c.yaml" in err and "not valid YAML" in err
