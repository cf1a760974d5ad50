"""mtncrna: profile mitochondria-associated non-coding RNAs in drug-resistant cancer cells.

The public surface::

    import mtncrna as mt
    adata = mt.read_counts("counts.tsv", samples="samples.csv")   # AnnData, annotated
    ref = mt.load_reference()                                    # the versioned mtncRNA reference
    mt.get.annotation_df(adata, known_only=True)
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from ._errors import (
    DesignError,
    FormatError,
    InputError,
    MtncrnaError,
    OutputError,
    ReferenceDataError,
    SampleSheetError,
    UnmatchedSamplesError,
)
from ._lazy import attach
from ._settings import settings
from ._version import __version__

if TYPE_CHECKING:  # imported on first use, see __getattr__
    from . import datasets, engine, get, pl, pp, report, steps, tl
    from ._run import RunConfig, load_config, run
    from .io import read_counts, read_h5ad, read_libraries, read_sample_sheet, write_h5ad
    from .reference import load_reference

_SUBPACKAGES = (
    "datasets",
    "engine",
    "get",
    "io",
    "pl",
    "pp",
    "quant",
    "reference",
    "report",
    "run",
    "steps",
    "tl",
)
_LAZY = {
    **{m: f".{m}" for m in _SUBPACKAGES},
    **dict.fromkeys(
        ("read_counts", "read_h5ad", "read_libraries", "read_sample_sheet", "write_h5ad"), ".io"
    ),
    "load_reference": ".reference",
    **dict.fromkeys(("RunConfig", "load_config", "run"), "._run"),
}

__all__ = [
    "DesignError",
    "FormatError",
    "InputError",
    "MtncrnaError",
    "OutputError",
    "ReferenceDataError",
    "RunConfig",
    "SampleSheetError",
    "UnmatchedSamplesError",
    "__version__",
    "datasets",
    "engine",
    "get",
    "load_config",
    "load_reference",
    "pl",
    "pp",
    "read_counts",
    "read_h5ad",
    "read_libraries",
    "read_sample_sheet",
    "report",
    "run",
    "settings",
    "steps",
    "tl",
    "write_h5ad",
]

__getattr__, __dir__ = attach(__name__, _LAZY, __all__)
