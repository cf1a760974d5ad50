"""Example data: the bundled example study and the seeded study simulator.

``simulate_study(seed=0)`` simulates a mitochondrial fractionation study with planted answers;
``toy(library, seed)`` is one of its libraries; ``example()`` reads the bundled files (written
once by ``examples/make_example_data.py`` from ``simulate_study(0)``) through the real readers,
as a user's data would be.
"""

from __future__ import annotations

from pathlib import Path

import anndata as ad

from .._errors import MtncrnaError
from ._simulate import Study, simulate_study, study_design

__all__ = [
    "Study",
    "example",
    "example_dir",
    "simulate_study",
    "study_design",
    "toy",
]


def toy(library: str = "small", *, seed: int = 0, n_replicates: int = 3) -> ad.AnnData:
    """One library of a seeded simulated study (see :func:`simulate_study`), unannotated.

    ``"small"`` (miRNAs and mt-tRNA/rRNA fragments) or ``"long"`` (mtDNA genes, lncRNAs and
    nuclear genes). Same seed, same counts; tests, docs and notebooks share it.
    """
    if library not in ("small", "long"):
        raise MtncrnaError(f"unknown library '{library}'; expected small or long")
    study = simulate_study(seed, n_replicates=n_replicates)
    return study.small if library == "small" else study.long


def example_dir() -> Path:
    """Folder of the bundled example study (counts tables and sample sheet)."""
    here = Path(__file__).resolve()
    for cand in (here.parents[1] / "_data" / "examples", here.parents[3] / "examples" / "data"):
        if (cand / "samples.csv").is_file():
            return cand
    raise MtncrnaError("bundled example data not found; reinstall mtncrna")


def example(library: str = "small") -> ad.AnnData:
    """Read the bundled example study's ``small`` or ``long`` library with the real readers."""
    from ..io import read_counts

    d = example_dir()
    files = {"small": "small_rna_counts.tsv", "long": "long_rna_counts.tsv"}
    if library not in files:
        raise MtncrnaError(f"unknown library '{library}'; expected small or long")
    return read_counts(d / files[library], d / "samples.csv", library=library)
