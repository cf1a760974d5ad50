"""pydeseq2 (the Python tool users would otherwise pick) on a benchmark table."""

from __future__ import annotations

import sys
import time
import warnings
from pathlib import Path

import pandas as pd
from pydeseq2.dds import DeseqDataSet
from pydeseq2.default_inference import DefaultInference
from pydeseq2.ds import DeseqStats

warnings.simplefilter("ignore")
d = Path(sys.argv[1])
counts = pd.read_csv(d / "counts.tsv", sep="\t", index_col=0).T
coldata = pd.read_csv(d / "coldata.tsv", sep="\t", index_col=0)
t = time.perf_counter()
dds = DeseqDataSet(
    counts=counts,
    metadata=coldata,
    design="~condition",
    quiet=True,
    inference=DefaultInference(n_cpus=2),
)
dds.deseq2()
st = DeseqStats(
    dds, contrast=["condition", "B", "A"], quiet=True, inference=DefaultInference(n_cpus=2)
)
st.summary()
elapsed = time.perf_counter() - t
st.results_df.to_csv(d / "pydeseq2_results.tsv", sep="\t")
print(f"fit_seconds {elapsed:.3f}")
