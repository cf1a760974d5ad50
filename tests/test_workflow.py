"""The Snakemake workflow end to end on small simulated FASTQs (quantify -> run -> report)."""

from __future__ import annotations

import gzip
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import yaml

import mtncrna as mt

ROOT = Path(__file__).resolve().parents[1]
ADAPTER = "TGGAATTCTCGGGTGCCAAGG"


def _fastqs(tmp_path: Path) -> tuple[Path, pd.DataFrame]:
    """8 libraries (2 conditions x 2 fractions x 2 preps) of reads drawn from known counts."""
    study = mt.datasets.simulate_study(2, n_replicates=2)
    ref = mt.load_reference()
    small = study.small
    keep = [i for i, f in enumerate(small.var_names) if f.startswith("hsa-")][:120]
    seqs = ref.features.set_index("symbol").loc[small.var_names[keep], "sequence"]
    seqs = seqs.str.replace("U", "T")
    counts = small.X[:, keep]
    counts = np.floor(counts * (20000 / counts.sum(axis=1, keepdims=True))).astype(int)
    sheet = small.obs.copy()
    sheet = sheet[sheet["cell_line"] == sheet["cell_line"].iloc[0]]
    rows = []
    truth = {}
    for sample in sheet.index:
        i = list(small.obs_names).index(sample)
        path = tmp_path / f"{sample}.fastq.gz"
        with gzip.open(path, "wt") as fh:
            n = 0
            for j, seq in enumerate(seqs):
                read = seq + ADAPTER
                for _ in range(counts[i, j]):
                    n += 1
                    fh.write(f"@r{n}\n{read[:50]}\n+\n{'I' * len(read[:50])}\n")
        truth[sample] = pd.Series(counts[i], index=seqs.index)
        rows.append({"sample": sample, "fastq": str(path), **sheet.loc[sample].to_dict()})
    sheet_path = tmp_path / "samples_fastq.csv"
    pd.DataFrame(rows).to_csv(sheet_path, index=False)
    return sheet_path, pd.DataFrame(truth)


@pytest.mark.skipif(
    shutil.which("snakemake") is None and not (Path(sys.executable).parent / "snakemake").exists(),
    reason="snakemake not installed",
)
def test_workflow_end_to_end(tmp_path):
    sheet, truth = _fastqs(tmp_path)
    config = {
        "samples": str(sheet),
        "outdir": str(tmp_path / "results"),
        "kit": "illumina",
        "run": {
            "design": "~ condition",
            "contrasts": [["condition", "resistant", "parental"]],
            "interaction": "condition",
            "drug": "cisplatin",
        },
    }
    cfg = tmp_path / "config.yaml"
    cfg.write_text(yaml.safe_dump(config))
    snakemake = shutil.which("snakemake") or str(Path(sys.executable).parent / "snakemake")
    env = {"PATH": f"{Path(sys.executable).parent}:/usr/bin:/bin"}
    proc = subprocess.run(
        [
            snakemake,
            "-s",
            str(ROOT / "workflows" / "Snakefile"),
            "--configfile",
            str(cfg),
            "--cores",
            "2",
            "--directory",
            str(tmp_path),
        ],
        capture_output=True,
        text=True,
        timeout=900,
        env=env,
        check=False,
    )
    assert proc.returncode == 0, proc.stderr[-3000:]
    out = tmp_path / "results"
    assert (out / "analysis" / "report.html").exists()
    assert len(list((out / "quant").glob("*/counts_mature.tsv"))) == 8
    small = mt.read_h5ad(out / "analysis" / "small.h5ad")
    got = small.to_df().T
    common = truth.index.intersection(got.index)
    assert len(common) >= 100
    # reads drawn from exact mature sequences are recovered (miRNAs that share one sequence
    # may be split between them)
    g = got.loc[common, truth.columns].to_numpy()
    t = truth.loc[common].to_numpy()
    assert (g == t).all(axis=1).mean() >= 0.95
    assert g.sum() >= 0.96 * t.sum()
