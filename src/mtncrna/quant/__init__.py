"""Reads -> counts: aligned reads (BAM/SAM/CRAM) per gene, with featureCounts' rules."""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # imported on first use, see __getattr__
    from ._bam import Annotation, CountResult, count_bam, read_annotation, write_counts
    from ._collapse import KITS
    from ._smallrna import SmallRnaResult, quantify_smallrna, write_smallrna

_LAZY = {
    "Annotation": "._bam",
    "CountResult": "._bam",
    "count_bam": "._bam",
    "read_annotation": "._bam",
    "write_counts": "._bam",
    "KITS": "._collapse",
    "SmallRnaResult": "._smallrna",
    "quantify_smallrna": "._smallrna",
    "write_smallrna": "._smallrna",
}

__all__ = [
    "KITS",
    "Annotation",
    "CountResult",
    "SmallRnaResult",
    "count_bam",
    "quantify_smallrna",
    "read_annotation",
    "write_counts",
    "write_smallrna",
]


def __getattr__(name: str) -> Any:
    """Import a public name's module on first use (PEP 562): a command that needs one corner of
    the package does not import all of it."""
    where = _LAZY.get(name)
    if where is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(importlib.import_module(where, __name__), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted({*globals(), *__all__})
