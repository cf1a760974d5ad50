"""The only package that reads or writes files: count tables, sample sheets, h5ad."""

from ._atomic import atomic_path, check_output
from ._fastq_sheet import FastqSheet, read_fastq_sheet
from ._formats import FORMATS, sample_name_from_path
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
from ._tables import read_result_table
from ._write import write_provenance, write_table

__all__ = [
    "FORMATS",
    "FRACTIONS",
    "LIBRARIES",
    "FastqSheet",
    "atomic_path",
    "check_output",
    "detect_format",
    "guess_library",
    "normalise_fraction",
    "read_counts",
    "read_fastq_sheet",
    "read_h5ad",
    "read_libraries",
    "read_result_table",
    "read_sample_sheet",
    "sample_name_from_path",
    "write_h5ad",
    "write_provenance",
    "write_table",
]
