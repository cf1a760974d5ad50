"""Counting results, and writing them as a featureCounts-style table with its summary."""

from __future__ import annotations

import os
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd

from ..io._write import write_table

PathLike = str | os.PathLike[str]


@dataclass
class CountResult:
    """Counts (meta-features x samples; int64, float64 for ``multimap="fraction"``), the
    featureCounts-style ``summary`` (status x samples), the annotation columns and parameters."""

    counts: pd.DataFrame
    summary: pd.DataFrame
    annotation: pd.DataFrame
    bams: list[Path]
    params: dict[str, Any]

    @property
    def samples(self) -> list[str]:
        return list(self.counts.columns)


def write_counts(
    result: CountResult, path: PathLike, *, inputs: Sequence[PathLike] = ()
) -> tuple[Path, Path]:
    """Write the counts as a featureCounts-style table and the summary beside it.

    The table has featureCounts' columns ``Geneid Chr Start End Strand Length``, then
    ``gene_name``/``gene_biotype`` where the annotation has them (as ``--extraAttributes``
    would), then one column per sample (named by sample, not by BAM path), so ``mtncrna import``
    reads it as featureCounts output together with ``<path>.summary`` (``Status`` x samples).
    Both are written atomically and never over an input (the BAMs and ``inputs``).
    """
    out = Path(path)
    columns = ["Chr", "Start", "End", "Strand", "Length"]
    columns += [c for c in ("gene_name", "gene_biotype") if c in result.annotation]
    table = result.annotation[columns].reindex(result.counts.index)
    table = pd.concat([table, result.counts], axis=1).reset_index()
    guard = [*result.bams, *inputs]
    write_table(table, out, inputs=guard)
    summary_path = out.with_name(out.name + ".summary")
    write_table(result.summary.reset_index(), summary_path, inputs=guard)
    return out, summary_path
