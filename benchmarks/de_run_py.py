"""mtncrna's engine on a benchmark table: prints fit time (the DESeq2 steps alone) in seconds."""

from __future__ import annotations

import sys
import time
from pathlib import Path

import pandas as pd

from mtncrna import engine

d = Path(sys.argv[1])
counts = pd.read_csv(d / "counts.tsv", sep="\t", index_col=0)
coldata = pd.read_csv(d / "coldata.tsv", sep="\t", index_col=0)
X = engine.design_matrix("~ condition", coldata, reference_levels={"condition": "A"})
t = time.perf_counter()
fit = engine.deseq(counts.T, X, size_factor_method="ratio")
res = engine.wald_test(fit, engine.contrast_vector(X, "condition", "B", "A"))
elapsed = time.perf_counter() - t
res.to_csv(d / "py_results.tsv", sep="\t")
print(f"fit_seconds {elapsed:.3f}")
