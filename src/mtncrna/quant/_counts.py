"""Counting results, and writing them as a featureCounts-style table with its summary."""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd

from ..io._atomic import atomic_group, check_output
from ..io._write import to_tsv, write_provenance

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
    result: CountResult,
    path: PathLike,
    *,
    inputs: Sequence[PathLike] = (),
    provenance: Mapping[str, Any] | None = None,
) -> list[Path]:
    """Write the counts as a featureCounts-style table and the summary beside it.

    The table has featureCounts' columns ``Geneid Chr Start End Strand Length``, then
    ``gene_name``/``gene_biotype`` where the annotation has them (as ``--extraAttributes``
    would), then one column per sample (named by sample, not by BAM path), so ``mtncrna import``
    reads it as featureCounts output together with ``<path>.summary`` (``Status`` x samples).
    With ``provenance`` (a record from :func:`mtncrna._provenance.record`), the record goes to
    ``<path stem>.provenance.json`` with the sha256 of the table and the summary.
    The files are written under temporary names and renamed into place together (the table
    last), never over an input (the BAMs and ``inputs``). Returns the paths written.
    """
    out = Path(path)
    columns = ["Chr", "Start", "End", "Strand", "Length"]
    columns += [c for c in ("gene_name", "gene_biotype") if c in result.annotation]
    table = result.annotation[columns].reindex(result.counts.index)
    table = pd.concat([table, result.counts], axis=1).reset_index()
    guard = [*result.bams, *inputs]
    summary_path = out.with_name(out.name + ".summary")
    paths = [summary_path, out]
    if provenance is not None:
        paths.insert(0, out.with_suffix(".provenance.json"))
    for p in paths:
        check_output(p, guard)
    with atomic_group(paths) as temps:
        to_tsv(result.summary.reset_index(), temps[-2])
        to_tsv(table, temps[-1])
        if provenance is not None:
            write_provenance(
                temps[0], provenance, temps[1:], names=[p.name for p in paths[1:]], atomic=False
            )
    return paths[::-1]
