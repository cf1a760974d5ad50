"""The demo: ``mtncrna run`` on the bundled example study."""

from __future__ import annotations

from pathlib import Path

from ._run import run, validate_config
from .datasets import example_dir
from .steps import StepResult

#: The run configuration of the demo (also shipped as examples/config.yaml).
DEMO_CONFIG = {
    "samples": "samples.csv",
    "small": "small_rna_counts.tsv",
    "long": "long_rna_counts.tsv",
    "design": "~ cell_line + condition",
    "contrasts": [["condition", "resistant", "parental"]],
    "interaction": "condition",
    "drug": "cisplatin",
    "title": "mtncrna demo: cisplatin resistance, mitochondria vs cytosol",
}


def run_demo(outdir: str | Path, *, progress: bool = False) -> StepResult:
    """Run every analysis on the bundled example study into ``outdir``; returns a summary.

    QC and purity, mitochondrial enrichment with the fraction x condition interaction,
    resistant-vs-parental DE in each fraction, literature concordance, a resistance
    signature with sample scores, miRNA-target integration, and ``report.html``.
    """
    d = example_dir()
    config = validate_config(DEMO_CONFIG, d / "config.yaml")
    res = run(config, outdir, progress=progress)
    res.summary = res.summary.replace("mtncrna run", "mtncrna demo", 1)
    return res
