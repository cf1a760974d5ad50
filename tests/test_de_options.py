"""The DESeq2 options users set (fitType, lfcThreshold/altHypothesis, lfcShrink type,
cooksCutoff) from the CLI, the API and a run config, against R DESeq2 1.38.3 golden files
(tests/data/golden/, made by make_golden.R with Debian's R)."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import yaml

import mtncrna as mt
from mtncrna._run import load_config

GOLDEN = Path(__file__).parent / "data" / "golden"
PASILLA = GOLDEN / "pasilla"
THYROID = GOLDEN / "thyroid_mirna"


def _r(folder: Path, name: str) -> pd.DataFrame:
    return pd.read_csv(folder / name, sep="\t", index_col=0)


def _ours(out: Path, name: str) -> pd.DataFrame:
    return pd.read_csv(out / f"de_{name}.tsv", sep="\t", index_col=0)


def _agrees(ours: pd.DataFrame, r: pd.DataFrame, cols=("log2FoldChange", "stat", "padj")) -> None:
    """R's numbers, the same NAs and the same padj < 0.1 calls. The CLI's design takes the
    alphabetical reference level (pasilla: treated) where the golden R run set untreated: the
    same model in another parametrisation, so the fit stops at another point within its
    convergence tolerance for a few low-count genes (4 of 14,599 differ by more than 1e-4 in
    LFC, at most 7e-4); every other value agrees to 1e-4."""
    ours = ours.reindex(r.index)
    for col in cols:
        np.testing.assert_array_equal(ours[col].isna(), r[col].isna(), err_msg=col)
        ok = r[col].notna()
        d = (ours.loc[ok, col] - r.loc[ok, col]).abs()
        assert (d > 1e-4).mean() <= 5e-4 and d.max() < 2e-3, (col, d.max(), (d > 1e-4).sum())
    if "padj" in cols:
        assert set(ours.index[ours["padj"] < 0.1]) == set(r.index[r["padj"] < 0.1])


PASILLA_ARGS = [
    "de",
    PASILLA / "counts.tsv.gz",
    "-s",
    PASILLA / "coldata.tsv",
    "--design",
    "~ type + condition",
    "--contrast",
    "condition",
    "treated",
    "untreated",
]


def test_cli_fit_type_local_threshold_and_normal_shrinkage_match_r(run_cli, tmp_path):
    """`mtncrna de --fit-type local --lfc-threshold 1 --alt-hypothesis lessAbs --shrink-type
    normal`: R's DESeq(fitType="local"), results(lfcThreshold=1, altHypothesis="lessAbs") and
    lfcShrink(type="normal"), recorded in the provenance."""
    out = tmp_path / "de"
    code, stdout, stderr = run_cli(
        *PASILLA_ARGS,
        "--fit-type",
        "local",
        "--lfc-threshold",
        "1",
        "--alt-hypothesis",
        "lessAbs",
        "--shrink-type",
        "normal",
        "-o",
        out,
    )
    assert code == 0, stderr
    golden = PASILLA / "type_condition_local"
    ours = _ours(out, "condition_treated_vs_untreated")
    _agrees(ours, _r(golden, "results_wald_thr1_lessAbs.tsv.gz"))
    shrunk = _r(golden, "lfc_shrink_normal.tsv.gz")
    _agrees(
        ours.rename(columns={"log2FoldChange_shrunk": "s", "lfcSE_shrunk": "se"}),
        shrunk.rename(columns={"log2FoldChange": "s", "lfcSE": "se"}),
        cols=("s", "se"),
    )
    n_r = int((_r(golden, "results_wald_thr1_lessAbs.tsv.gz")["padj"] < 0.1).sum())
    assert f"{n_r} with |LFC| < 1.0 at padj < 0.1" in stdout
    params = json.loads((out / "provenance.json").read_text())["parameters"]
    assert params["fit_type"] == "local" and params["alt_hypothesis"] == "lessAbs"
    assert params["lfc_threshold"] == 1.0 and params["shrink"].startswith("normal")


@pytest.mark.parametrize("alt", ["greaterAbs", "greater", "less"])
def test_cli_alt_hypotheses_match_r(run_cli, tmp_path, alt):
    out = tmp_path / "de"
    args = ["--fit-type", "local", "--lfc-threshold", "1", "--alt-hypothesis", alt, "-o", out]
    code, _, stderr = run_cli(*PASILLA_ARGS, *args)
    assert code == 0, stderr
    r = _r(PASILLA / "type_condition_local", f"results_wald_thr1_{alt}.tsv.gz")
    _agrees(_ours(out, "condition_treated_vs_untreated"), r)


def test_cli_cooks_cutoff_number_matches_r(run_cli, tmp_path):
    """--cooks-cutoff 2 on the unpaired thyroid design, patients 1-6 (6 vs 6: no outlier
    replacement): R's results(cooksCutoff = 2), which sets more p-values to NA than R's default
    cutoff, and the default itself."""
    golden = THYROID / "condition_6v6"
    summary = json.loads((golden / "summary.json").read_text())
    spec = summary["extra_results"]["cooks2"]
    assert spec["args"]["cooksCutoff"] == 2
    # p-values set to NA beyond the all-zero features: Cook's filtering (summary.json's
    # n_cooks_outlier counts use R's default cutoff, so they are not read here)
    n_cooks2 = spec["n_pvalue_NA"] - spec["n_allZero"]
    n_default = summary["wald"]["n_pvalue_NA"] - summary["wald"]["n_allZero"]
    assert n_cooks2 > n_default > 0
    args = ["de", THYROID / "counts.tsv.gz", "-s", THYROID / "coldata.tsv"]
    args += ["--design", "~ condition", "--contrast", "condition", "PTC", "NTH"]
    args += ["--subset", "pair=" + ",".join(f"patient{i}" for i in range(1, 7))]
    for extra, name, n_cooks in [
        (["--cooks-cutoff", "2"], "results_wald_cooks2.tsv.gz", n_cooks2),
        ([], "results_wald.tsv.gz", n_default),
    ]:
        out = tmp_path / name.split(".")[0]
        code, _, stderr = run_cli(*args, *extra, "-o", out)
        assert code == 0, stderr
        ours = _ours(out, "condition_PTC_vs_NTH")
        _agrees(ours, _r(golden, name), cols=("log2FoldChange", "pvalue", "padj"))
        assert (ours["reason"] == "cooks_outlier").sum() == n_cooks


def test_bad_options_are_one_line_errors(run_cli, tmp_path):
    out = tmp_path / "de"
    code, _, err = run_cli(*PASILLA_ARGS, "--alt-hypothesis", "lessAbs", "-o", out)
    assert code == 2 and "positive lfc_threshold" in err and len(err.strip().splitlines()) == 1
    code, _, err = run_cli(*PASILLA_ARGS, "--no-cooks", "--cooks-cutoff", "3", "-o", out)
    assert code == 2 and "not both" in err
    code, _, err = run_cli(
        *PASILLA_ARGS, "--test", "lrt", "--reduced", "~ type", "--lfc-threshold", "1", "-o", out
    )
    assert code == 2 and "Wald tests" in err
    code, _, err = run_cli(*PASILLA_ARGS, "--lfc-threshold", "-1", "-o", out)
    assert code == 2
    assert not out.exists()


def test_pydeseq2_engine_gets_the_threshold_or_refuses(tmp_path):
    """engine="pydeseq2" passes lfcThreshold/altHypothesis to pydeseq2 (lfc_null,
    alt_hypothesis) and refuses what pydeseq2 cannot do (the local trend, a numeric cutoff)."""
    import anndata as ad

    counts = pd.read_csv(THYROID / "counts.tsv.gz", sep="\t", index_col=0)
    obs = pd.read_csv(THYROID / "coldata.tsv", sep="\t", index_col=0)
    a = ad.AnnData(counts[obs.index].T.astype(np.int64), obs=obs)
    a.layers["counts"] = a.X.copy()
    kw = {"design": "~ pair + condition", "contrasts": ("condition", "PTC", "NTH")}
    kw["reference_levels"] = {"condition": "NTH", "pair": "patient1"}
    with pytest.raises(mt.MtncrnaError, match="fit_type='local'"):
        mt.tl.de(a, **kw, engine="pydeseq2", fit_type="local")
    with pytest.raises(mt.MtncrnaError, match="numeric cooks_cutoff"):
        mt.tl.de(a, **kw, engine="pydeseq2", cooks_cutoff=2.0)
    mt.tl.de(a, **kw, engine="pydeseq2", lfc_threshold=0.5, alt_hypothesis="greater")
    df = mt.get.de_df(a, annotate=False)
    assert a.uns["de"]["params"]["alt_hypothesis"] == "greater"
    assert (df["stat"].dropna() >= 0).all()  # one-sided: clipped at 0 as R and pydeseq2 do


# ---------------------------------------------------------------------------------- run config


def _config(tmp_path: Path, **changes) -> Path:
    d = mt.datasets.example_dir()
    cfg = yaml.safe_load((d / "config.yaml").read_text())
    for key in ("samples", "small", "long"):
        cfg[key] = str(d / cfg[key])
    cfg.pop("long")
    cfg.update(changes)
    path = tmp_path / "config.yaml"
    path.write_text(yaml.safe_dump(cfg, sort_keys=False))
    return path


@pytest.mark.parametrize(
    ("key", "value", "message"),
    [
        ("de_fit_type", "loess", "expected parametric, local or mean"),
        ("de_lfc_threshold", -1, "expected a number >= 0"),
        ("de_lfc_threshold", "one", "expected a number >= 0"),
        ("de_alt_hypothesis", "above", "expected greaterAbs, greater or less"),
        ("de_alt_hypothesis", "lessAbs", "not for the run"),
        ("de_shrink", "ashr", r"expected false, apeglm \(or true\) or normal"),
        ("de_cooks_cutoff", "high", "expected true, false or a number >= 0"),
    ],
)
def test_run_config_de_options_are_validated(tmp_path, key, value, message):
    path = _config(tmp_path, **{key: value})
    with pytest.raises(mt.InputError, match=message) as info:
        load_config(path)
    line = (
        path.read_text()
        .splitlines()
        .index(next(x for x in path.read_text().splitlines() if x.startswith(f"{key}:")))
        + 1
    )
    assert f"line {line}" in str(info.value) and key in str(info.value)


def test_run_passes_de_options_to_tl_de(tmp_path, monkeypatch):
    """The run adds nothing: its keys reach tl.de as they are."""
    seen = {}

    class Stop(Exception):
        pass

    def fake_de(adata, **kwargs):
        seen.update(kwargs)
        raise Stop

    monkeypatch.setattr(mt.tl, "de", fake_de)
    path = _config(
        tmp_path,
        de_fit_type="local",
        de_lfc_threshold=0.5,
        de_alt_hypothesis="greater",
        de_shrink="normal",
        de_cooks_cutoff=4.5,
    )
    with pytest.raises(Stop):
        mt.run(path, tmp_path / "out")
    assert seen["fit_type"] == "local" and seen["lfc_threshold"] == 0.5
    assert seen["alt_hypothesis"] == "greater" and seen["shrink"] == "normal"
    assert seen["cooks_cutoff"] == 4.5
