"""The bundled, versioned mtncRNA reference: known mitomiRs, mito-lncRNAs, mtDNA-encoded ncRNAs."""

from ._extension import EXTENSION_COLUMNS, read_extension
from ._names import is_mt_contig, name_key
from ._reference import (
    MT_CLASSES,
    Reference,
    Resolution,
    load_reference,
    reference_dir,
)

__all__ = [
    "EXTENSION_COLUMNS",
    "MT_CLASSES",
    "Reference",
    "Resolution",
    "is_mt_contig",
    "load_reference",
    "name_key",
    "read_extension",
    "reference_dir",
]
