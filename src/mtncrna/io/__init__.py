"""The only package that reads or writes files: count tables, sample sheets, h5ad."""

from __future__ import annotations

from typing import TYPE_CHECKING

from .._constants import FORMATS
from .._lazy import attach

if TYPE_CHECKING:  # imported on first use, see __getattr__
    from .._constants import FORMATS
    from ._atomic import atomic_group, atomic_path, check_output
    from ._fastq_sheet import FastqSheet, read_fastq_sheet
    from ._names import sample_name_from_path
    from ._publish import MARKER, Staged, check_folder, publish
    from ._read import (
        LIBRARIES,
        detect_format,
        guess_library,
        read_counts,
        read_h5ad,
        read_libraries,
        write_h5ad,
    )
    from ._samplesheet import FRACTIONS, normalise_fraction, read_sample_sheet
    from ._tables import TARGET_ALIASES, read_result_table
    from ._write import to_tsv, write_provenance, write_table

_LAZY = {
    "FastqSheet": "._fastq_sheet",
    "read_fastq_sheet": "._fastq_sheet",
    "MARKER": "._publish",
    "Staged": "._publish",
    "check_folder": "._publish",
    "publish": "._publish",
    "atomic_group": "._atomic",
    "atomic_path": "._atomic",
    "check_output": "._atomic",
    "sample_name_from_path": "._names",
    "LIBRARIES": "._read",
    "detect_format": "._read",
    "guess_library": "._read",
    "read_counts": "._read",
    "read_h5ad": "._read",
    "read_libraries": "._read",
    "write_h5ad": "._read",
    "FRACTIONS": "._samplesheet",
    "normalise_fraction": "._samplesheet",
    "read_sample_sheet": "._samplesheet",
    "read_result_table": "._tables",
    "TARGET_ALIASES": "._tables",
    "to_tsv": "._write",
    "write_provenance": "._write",
    "write_table": "._write",
}

__all__ = [
    "FORMATS",
    "FRACTIONS",
    "LIBRARIES",
    "MARKER",
    "TARGET_ALIASES",
    "FastqSheet",
    "Staged",
    "atomic_group",
    "atomic_path",
    "check_folder",
    "check_output",
    "detect_format",
    "guess_library",
    "normalise_fraction",
    "publish",
    "read_counts",
    "read_fastq_sheet",
    "read_h5ad",
    "read_libraries",
    "read_result_table",
    "read_sample_sheet",
    "sample_name_from_path",
    "to_tsv",
    "write_h5ad",
    "write_provenance",
    "write_table",
]

__getattr__, __dir__ = attach(__name__, _LAZY, __all__)
