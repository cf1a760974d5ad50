"""Plots and the HTML report: self-contained, every section present, renders in a browser."""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
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
        mt.pl.volcano(a),  # the AnnData tl.de wrote
        mt.pl.volcano(de),  # or its get.de_df table
        mt.pl.ma_plot(a),
        mt.pl.dispersion(a),
        mt.pl.counts(a, ["hsa-miR-2392", "hsa-miR-5787"]),
        mt.pl.enrichment_plot(a),
        mt.pl.enrichment_plot(mt.get.enrichment_df(a)),
        mt.pl.signature_scores(a),
    ]
    assert all(isinstance(f, Figure) for f in figs)
    assert not list(tmp_path.iterdir())
    out = tmp_path / "pca.png"
    mt.pl.pca(a, save=out)
    assert out.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_plots_draw_into_a_given_ax_and_return_its_figure(analysed):
    from matplotlib.figure import Figure as F

    libs, _, _ = analysed
    a = libs["small"]
    fig = F()
    axes = fig.subplots(2, 4).ravel()
    calls = [
        lambda ax: mt.pl.class_composition(a, ax=ax),
        lambda ax: mt.pl.purity(a, ax=ax),
        lambda ax: mt.pl.pca(a, color="condition", ax=ax),
        lambda ax: mt.pl.volcano(a, ax=ax),
        lambda ax: mt.pl.ma_plot(a, ax=ax),
        lambda ax: mt.pl.dispersion(a, ax=ax),
        lambda ax: mt.pl.enrichment_plot(a, ax=ax),
        lambda ax: mt.pl.signature_scores(a, ax=ax),
    ]
    for ax, call in zip(axes, calls, strict=True):
        assert call(ax) is fig
        assert ax.has_data() or ax.collections or ax.patches


def test_pca_is_stored_the_scanpy_way(analysed):
    import scanpy as sc

    a = analysed[0]["small"]
    assert a.obsm["X_pca"].shape == (a.n_obs, 5)
    assert a.varm["PCs"].shape == (a.n_vars, 5)
    np.testing.assert_allclose(a.uns["pca"]["variance_ratio"], a.uns["qc"]["pca_variance_ratio"])
    np.testing.assert_allclose(a.obsm["X_pca"], pd.DataFrame(a.uns["qc"]["pca"]).to_numpy())
    # PC1 separates the fractions in the simulated study
    pc1 = pd.Series(a.obsm["X_pca"][:, 0], index=a.obs_names)
    by = pc1.groupby(a.obs["fraction"].astype(str), observed=True).mean()
    assert (
        abs(by["mito"] - by["cytosol"])
        > 3 * pc1.groupby(a.obs["fraction"].astype(str), observed=True).std().max()
    )
    fig = sc.pl.pca(a.copy(), color=["condition", "cell_line"], show=False, return_fig=True)
    assert len([ax for ax in fig.axes if ax.collections]) == 2


def test_plot_needs_its_analysis():
    a = mt.datasets.simulate_study(1).small
    with pytest.raises(mt.MtncrnaError, match=r"run mtncrna\.pp\.qc"):
        mt.pl.pca(a)
    mt.tl.annotate(a)
    mt.pp.qc(a)
    for call in (mt.pl.volcano, mt.pl.ma_plot, mt.pl.dispersion):
        with pytest.raises(mt.MtncrnaError, match=r"run mtncrna\.tl\.de"):
            call(a)
    with pytest.raises(mt.MtncrnaError, match=r"run mtncrna\.tl\.enrichment"):
        mt.pl.enrichment_plot(a)
    with pytest.raises(mt.MtncrnaError, match="not a sample-sheet column"):
        mt.pl.pca(a, color="nope")


def test_report_is_self_contained_with_all_sections(analysed, tmp_path):
    libs, sig, pairs = analysed
    out = mt.report.render(
        libs, tmp_path / "report.html", pairs=pairs, signature=sig, title="Test <report>"
    )
    html = out.read_text()
    for sid in SECTION_IDS:
        assert f'<section id="{sid}">' in html
    assert "Test &lt;report&gt;" in html  # escaped
    # nothing is loaded from the web (citation links are plain <a> links, opened on click)
    assert not re.search(r"""src=["']https?://|<link[^>]+https?://|@import|url\(https?:""", html)
    assert html.count("data:image/png;base64,") >= 10
    assert "hsa-miR-5787" in html and "Chen et al., 2019" in html
    # every row of every table is in the page (as JSON), not the first 300
    assert html.count('"hsa-miR-') > 2 * 368
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


# Injected into a copy of the report: records console errors and uncaught exceptions from the
# first moment, then after load measures the page, and drives the first DE table as a user would
# (paging, sorting, searching), writing what it saw into <pre id="probe"> for --dump-dom.
PROBE_HEAD = """<script>
window.__errors = [];
(function () {
  var orig = console.error;
  console.error = function () { window.__errors.push(Array.prototype.join.call(arguments, " ")); orig.apply(console, arguments); };
  window.addEventListener("error", function (e) { window.__errors.push(String(e.message || e)); });
})();
</script>"""
PROBE_TAIL = """<script>
window.addEventListener("load", function () {
  var res = {height: document.documentElement.scrollHeight, width: document.documentElement.scrollWidth};
  var box = document.querySelector('div.tablebox[data-table^="de-small-de_mito"]');
  var table = box.querySelector("table");
  var n = JSON.parse(box.querySelector("script.tabledata").textContent).rows.length;
  var cols = Array.prototype.map.call(table.tHead.rows[0].cells, function (th) { return th.textContent; });
  function col(name) { return cols.indexOf(name); }
  function allPages(j) {
    var vals = [], guard = 0;
    while (!box.querySelector(".prev").disabled && guard++ < 1000) { box.querySelector(".prev").click(); }
    for (guard = 0; guard < 1000; guard++) {
      Array.prototype.forEach.call(table.tBodies[0].rows, function (r) { vals.push(r.cells[j].textContent); });
      if (box.querySelector(".next").disabled) { break; }
      box.querySelector(".next").click();
    }
    return vals;
  }
  res.n = n;
  res.rowsShown = table.tBodies[0].rows.length;
  res.firstPadj = allPages(col("padj")).slice(0, 30);
  var ids = allPages(col("feature_id"));
  res.pagedIds = ids.length; res.pagedUnique = new Set(ids).size;
  var th = table.tHead.rows[0].cells[col("log2FoldChange")];
  th.click(); th.click();  // descending
  res.lfcDesc = allPages(col("log2FoldChange"));
  var search = box.querySelector("input[type=search]");
  search.value = "miR-2392"; search.dispatchEvent(new Event("input"));
  res.searchRows = Array.prototype.map.call(table.tBodies[0].rows, function (r) { return r.cells[col("feature_id")].textContent; });
  res.searchInfo = box.querySelector(".info").textContent;
  res.tables = document.querySelectorAll("div.tablebox").length;
  res.emptyTables = Array.prototype.filter.call(document.querySelectorAll("div.tablebox table"), function (t) { return t.tBodies[0].rows.length === 0; }).length;
  res.errors = window.__errors;
  var pre = document.createElement("pre"); pre.id = "probe"; pre.textContent = JSON.stringify(res);
  document.body.appendChild(pre);
});
</script>"""

CHROMIUM_FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--hide-scrollbars",
]


def test_demo_report_in_headless_chromium(demo, tmp_path, chromium):
    """At 1,400 px the demo report is at most 15,000 px tall; every table pages, sorts and
    searches over all its rows; no console error; screenshots of the top and of a table."""
    import json

    html = (demo / "report.html").read_text()
    probe = tmp_path / "probe.html"
    probe.write_text(
        html.replace("<head>", "<head>" + PROBE_HEAD, 1).replace("</body>", PROBE_TAIL + "</body>")
    )
    flags = [*CHROMIUM_FLAGS, f"--user-data-dir={tmp_path / 'profile'}", "--window-size=1400,1000"]
    proc = subprocess.run(
        [
            chromium,
            *flags,
            "--virtual-time-budget=10000",
            "--enable-logging=stderr",
            "--dump-dom",
            probe.as_uri(),
        ],
        capture_output=True,
        text=True,
        timeout=180,
        check=True,
    )
    m = re.search(r'<pre id="probe">(.*?)</pre>', proc.stdout, re.S)
    assert m, proc.stdout[-2000:]
    import html as htmllib

    res = json.loads(htmllib.unescape(m.group(1)))
    assert res["errors"] == []
    assert not re.search(r"Uncaught|CONSOLE.*(Error|error)", proc.stderr), proc.stderr[-2000:]
    assert res["width"] <= 1400  # no horizontal scrolling of the page
    assert res["height"] <= 15_000, res["height"]
    # paging reaches every row exactly once, not just the first 300
    assert res["n"] == 368 and res["rowsShown"] == 10
    assert res["pagedIds"] == res["n"] == res["pagedUnique"]
    # significant rows first: the DE table starts with the smallest padj
    padj = [float(x) for x in res["firstPadj"] if x]
    assert padj[:10] == sorted(padj[:10]) and padj[0] < 1e-3
    # sorting is over all rows, numeric, descending; empty cells last
    lfc = [float(x) for x in res["lfcDesc"] if x]
    assert len(res["lfcDesc"]) == res["n"] and lfc == sorted(lfc, reverse=True)
    assert res["searchRows"] == ["hsa-miR-2392"] and "filtered from 368" in res["searchInfo"]
    assert res["tables"] >= 10 and res["emptyTables"] == 0
    for name, size in (("top", "1400,1600"), ("full", f"1400,{res['height']}")):
        shot = tmp_path / f"{name}.png"
        subprocess.run(
            [
                chromium,
                *flags[:-1],
                f"--window-size={size}",
                f"--screenshot={shot}",
                (demo / "report.html").as_uri(),
            ],
            capture_output=True,
            timeout=180,
            check=True,
        )
        assert shot.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" and shot.stat().st_size > 50_000


def test_demo_report_reads_as_conclusions(demo):
    html = (demo / "report.html").read_text()
    summary = html[html.index('<section id="summary">') : html.index('<section id="samples-qc">')]
    import html as htmllib

    text = htmllib.unescape(re.sub(r"<[^>]+>", "", summary))
    # what was tested, where, with which design, what was found, what the literature says
    assert re.search(
        r"In the mitochondrial fraction, \d+ small RNAs are lower and \d+ higher in resistant "
        r"cells than in parental cells \(DESeq2, ~ cell_line \+ condition, 12 samples, padj < 0\.1\)",
        text,
    )
    assert re.search(
        r"miR-2392 up and miR-5787 down in resistant cells .*as reported in cisplatin-resistant",
        text,
    )
    assert "Fan et al., 2019" in text and "Chen et al., 2019" in text
    assert 'href="https://pubmed.ncbi.nlm.nih.gov/?term=' in summary
    # the TSV beside the report is linked, and the methods say which DE the verdicts used
    assert 'href="small_de_mito_condition_resistant_vs_parental.tsv"' in html
    assert "literature verdicts use the DE in the cytosolic fraction" in html
    # the design shows in the figures: PCA and heatmap per library, dispersion per DE
    assert html.count("marked by every design factor</figcaption>") == 2
    assert html.count("clustered</figcaption>") == 2
    assert html.count("dispersion estimates</figcaption>") == 4
    assert "normalized counts of the headline ncRNAs" in html


@pytest.mark.skipif(
    shutil.which("multiqc") is None and not (Path(sys.executable).parent / "multiqc").exists(),
    reason="multiqc not installed",
)
def test_multiqc_shows_mtncrna_sections_on_the_demo(demo, tmp_path):
    """`multiqc results/` finds mtncrna's custom content: general statistics columns, library
    composition by class and mitochondrial purity, with the numbers of the QC tables."""
    exe = shutil.which("multiqc") or str(Path(sys.executable).parent / "multiqc")
    proc = subprocess.run(
        [exe, str(demo), "-o", str(tmp_path / "mqc"), "--no-ansi", "-f"],
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    assert proc.returncode == 0, proc.stderr[-2000:]
    data = tmp_path / "mqc" / "multiqc_data"
    assert (tmp_path / "mqc" / "multiqc_report.html").exists()
    gs = pd.read_csv(data / "multiqc_general_stats.txt", sep="\t", index_col=0)
    qc = pd.read_csv(demo / "small_qc.tsv", sep="\t", index_col=0)
    purity = gs.filter(like="small_purity").iloc[:, 0]
    mito = qc["purity"].dropna()
    np.testing.assert_allclose(purity.loc[mito.index], 100 * mito, atol=1e-3)
    assert (
        gs.filter(like="small_reads").iloc[:, 0].loc[qc.index].tolist()
        == qc["total_counts"].tolist()
    )
    comp = pd.read_csv(data / "multiqc_mtncrna_small_composition_plot.txt", sep="\t", index_col=0)
    np.testing.assert_allclose(comp.sum(axis=1).loc[qc.index], qc["total_counts"], rtol=1e-5)
    pur = pd.read_csv(data / "multiqc_mtncrna_small_purity_plot.txt", sep="\t", index_col=0)
    assert set(pur.index) == set(mito.index)
    for lib in ("small", "long"):
        assert (
            f"mtncrna: {lib}-RNA composition" in proc.stderr + proc.stdout
            or (data / f"multiqc_mtncrna_{lib}_composition_plot.txt").exists()
        )


def test_skipped_sections_say_why(tmp_path):
    a = mt.datasets.simulate_study(0).small
    a = a[a.obs["fraction"] == "cytosol"].copy()
    mt.tl.annotate(a)
    mt.pp.qc(a)
    out = mt.report.render({"small": a}, tmp_path / "r.html", de_keys=())
    import html as htmllib

    text = htmllib.unescape(re.sub(r"<[^>]+>", "", out.read_text()))
    assert (
        "enrichment not run: it needs samples of both the mitochondrial and the cytosolic fraction"
        in text
    )
    assert "no DE was run" in text
    assert "Not run: it needs a small-RNA and a long-RNA library of the same samples" in text
    assert "No resistance signature" in text


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


def test_signature_gmt_reads_the_same_in_gseapy_and_decoupler(tmp_path):
    """decoupler's read_gmt splits lines on any whitespace, gseapy's on tabs: both must read
    exactly the signature's members (a description with spaces added bogus members)."""
    gseapy = pytest.importorskip("gseapy")
    dc = pytest.importorskip("decoupler")
    sig = pd.DataFrame(
        {
            "feature_id": ["hsa-miR-2392", "MT-RNR2", "hsa-miR-5787", "SAMMSON", "hsa-miR-206"],
            "direction": ["up", "up", "down", "down", "down"],
        }
    )
    path = tmp_path / "signature.gmt"
    path.write_text(mt.tl.to_gmt(sig))
    expected = {
        "mtncrna_resistance_UP": ["hsa-miR-2392", "MT-RNR2"],
        "mtncrna_resistance_DOWN": ["hsa-miR-5787", "SAMMSON", "hsa-miR-206"],
    }
    assert gseapy.read_gmt(str(path)) == expected
    net = dc.pp.read_gmt(str(path))
    assert {k: g["target"].tolist() for k, g in net.groupby("source", sort=False)} == expected
    # one direction empty: its line is left out rather than written without members
    only_up = mt.tl.to_gmt(sig[sig["direction"] == "up"])
    assert only_up.count("\n") == 1 and only_up.startswith("mtncrna_resistance_UP\t")
    with pytest.raises(mt.MtncrnaError, match="whitespace"):
        mt.tl.to_gmt(sig.assign(feature_id=["a b", "x", "y", "z", "w"]))
    with pytest.raises(mt.MtncrnaError, match="whitespace"):
        mt.tl.to_gmt(sig, name="my set")


def test_run_notes_come_before_the_conclusions(tmp_path):
    """What differs from what was asked (a sample left out, a covariate) is read first."""
    a = mt.datasets.simulate_study(0).small
    mt.tl.annotate(a)
    mt.pp.qc(a)
    note = "2 samples of the sheet have no count column and were left out (drop_unmatched)"
    out = mt.report.render({"small": a}, tmp_path / "r.html", de_keys=(), messages=[note])
    summary = out.read_text().split('<section id="summary">')[1].split("</section>")[0]
    assert note in summary
    assert '<ul class="conclusions">' in summary
    assert summary.index(note) < summary.index('<ul class="conclusions">')
