"""Seeded negative-binomial count tables for the DE benchmark (two groups, DESeq2-like trend)."""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import pandas as pd


def simulate(n_samples: int, n_genes: int, seed: int = 0) -> tuple[pd.DataFrame, pd.DataFrame]:
    rng = np.random.default_rng(seed)
    base = np.exp(rng.normal(4.0, 2.0, n_genes))
    disp = 0.05 + 2.0 / base
    lfc = np.where(rng.random(n_genes) < 0.1, rng.normal(0, 1.5, n_genes), 0.0)
    group = np.array(["A", "B"] * (n_samples // 2) + ["A"] * (n_samples % 2))
    sf = np.exp(rng.normal(0, 0.2, n_samples))
    mu = sf[:, None] * base[None, :] * np.exp2(np.where(group[:, None] == "B", lfc[None, :], 0))
    r = 1.0 / disp
    counts = rng.negative_binomial(r[None, :], r[None, :] / (r[None, :] + mu))
    samples = [f"s{i + 1}" for i in range(n_samples)]
    genes = [f"g{j + 1}" for j in range(n_genes)]
    table = pd.DataFrame(counts.T, index=pd.Index(genes, name="feature_id"), columns=samples)
    coldata = pd.DataFrame({"sample": samples, "condition": group})
    return table, coldata


if __name__ == "__main__":
    n, g, out = int(sys.argv[1]), int(sys.argv[2]), Path(sys.argv[3])
    out.mkdir(parents=True, exist_ok=True)
    table, coldata = simulate(n, g)
    table.to_csv(out / "counts.tsv", sep="\t")
    coldata.to_csv(out / "coldata.tsv", sep="\t", index=False)
