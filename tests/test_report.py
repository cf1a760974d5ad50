"""Plots and the HTML report: self-contained, every section present, renders in a browser."""

from __future__ import annotations

import re
import shutil
import subprocess

import pytest
from matplotlib.figure import Figure

import mtncrna as mt
from mtncrna.report import SECTION_IDS


@pytest.fixture(scope="module")
def analysed():
    s = mt.datasets.simulate_study(0)
    libs = {"small": s.small, "long": s.long}
    for a in libs.values():
        mt.tl.annotate(a)
        mt.pp.qc(a)
        mt.tl.enrichment(a, interaction="condition")
        mt.tl.de(
            a,
            design="~ cell_line + condition",
            contrasts=("condition", "resistant", "parental"),
            subset={"fraction": "cytosol"},
        )
        mt.tl.concordance(a, drug="cisplatin")
    sig = mt.tl.signature([mt.get.de_df(libs["small"])])
    mt.tl.score(libs["small"], sig)
    pairs = mt.tl.integrate(libs["small"], libs["long"])
    return libs, sig, pairs


def test_plots_return_figures_and_save_only_when_asked(analysed, tmp_path):
    libs, _, _ = analysed
    a = libs["small"]
    de = mt.get.de_df(a)
    figs = [
        mt.pl.class_composition(a),
        mt.pl.purity(a),
        mt.pl.pca(a),
        mt.pl.correlation_heatmap(a),
        mt.pl.volcano(de),
        mt.pl.ma_plot(de),
        mt.pl.enrichment_plot(mt.get.enrichment_df(a)),
        mt.pl.signature_scores(a),
    ]
    assert all(isinstance(f, Figure) for f in figs)
    assert not list(tmp_path.iterdir())
    out = tmp_path / "pca.png"
    mt.pl.pca(a, save=out)
    assert out.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_plot_needs_its_analysis():
    a = mt.datasets.simulate_study(1).small
    with pytest.raises(mt.MtncrnaError, match=r"run mtncrna\.pp\.qc"):
        mt.pl.pca(a)


def test_report_is_self_contained_with_all_sections(analysed, tmp_path):
    libs, sig, pairs = analysed
    out = mt.report.render(
        libs, tmp_path / "report.html", pairs=pairs, signature=sig, title="Test <report>"
    )
    html = out.read_text()
    for sid in SECTION_IDS:
        assert f'<section id="{sid}">' in html
    assert "Test &lt;report&gt;" in html  # escaped
    assert not re.search(r"""(src|href)=["']https?://""", html)  # nothing loaded from the web
    assert html.count("data:image/png;base64,") >= 10
    assert "hsa-miR-5787" in html and "Chen et al., 2019" in html
    assert 'class="verdict-concordant"' in html
    assert not list(tmp_path.glob("*.part"))


@pytest.fixture(scope="session")
def chromium():
    """Debian's chromium; the tests' setup installs it when missing and apt-get is usable (CI)."""
    import os

    exe = shutil.which("chromium")
    if exe is None and shutil.which("apt-get") and hasattr(os, "geteuid") and os.geteuid() == 0:
        env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
        for cmd in (
            ["apt-get", "update", "-qq"],
            ["apt-get", "install", "-y", "-qq", "--no-install-recommends", "chromium"],
        ):
            try:
                subprocess.run(cmd, env=env, capture_output=True, timeout=900, check=True)
            except (subprocess.SubprocessError, OSError):
                break
        exe = shutil.which("chromium")
    if exe is None:
        pytest.skip("Debian's chromium is not installed and could not be installed here")
    return exe


def test_report_renders_in_headless_chromium(analysed, tmp_path, chromium):
    libs, sig, pairs = analysed
    out = mt.report.render(libs, tmp_path / "report.html", pairs=pairs, signature=sig)
    shot = tmp_path / "shot.png"
    flags = [
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-quic",
        "--no-first-run",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        f"--user-data-dir={tmp_path / 'profile'}",
    ]
    dom = subprocess.run(
        [chromium, *flags, "--dump-dom", out.as_uri()],
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    ).stdout
    for sid in SECTION_IDS:
        assert f'id="{sid}"' in dom
    subprocess.run(
        [chromium, *flags, "--window-size=1280,1600", f"--screenshot={shot}", out.as_uri()],
        capture_output=True,
        timeout=120,
        check=True,
    )
    data = shot.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n" and len(data) > 50_000  # a page with figures


def test_cli_report_from_step_outputs(run_cli, tmp_path):
    d = mt.datasets.example_dir()
    counts, sheet = d / "small_rna_counts.tsv", d / "samples.csv"
    assert run_cli("qc", counts, "-s", sheet, "-o", tmp_path / "qc")[0] == 0
    assert run_cli("enrich", counts, "-s", sheet, "-o", tmp_path / "en")[0] == 0
    code, _, err = run_cli(
        "report",
        tmp_path / "qc" / "qc.h5ad",
        tmp_path / "en" / "enrichment.h5ad",
        "-o",
        tmp_path / "r.html",
    )
    assert code == 0, err
    html = (tmp_path / "r.html").read_text()
    assert "Purity of the mitochondrial" in html or "purity" in html.lower()
    assert "Mitochondrial enrichment" in html
