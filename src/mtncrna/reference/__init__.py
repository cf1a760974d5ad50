"""The bundled, versioned mtncRNA reference: known mitomiRs, mito-lncRNAs, mtDNA-encoded ncRNAs."""

from ._annotate import ANNOTATION_COLUMNS, NAME_MATCH_STATUSES, annotate_var
from ._extension import EXTENSION_COLUMNS, read_extension
from ._load import load_reference
from ._names import is_mt_contig, name_key
from ._paths import reference_dir
from ._reference import (
    MT_CLASSES,
    Reference,
    Resolution,
)

__all__ = [
    "ANNOTATION_COLUMNS",
    "EXTENSION_COLUMNS",
    "MT_CLASSES",
    "NAME_MATCH_STATUSES",
    "Reference",
    "Resolution",
    "annotate_var",
    "is_mt_contig",
    "load_reference",
    "name_key",
    "read_extension",
    "reference_dir",
]
