"""The bundled, versioned mtncRNA reference: known mitomiRs, mito-lncRNAs, mtDNA-encoded ncRNAs."""

from __future__ import annotations

from typing import TYPE_CHECKING

from .._lazy import attach

if TYPE_CHECKING:  # imported on first use, see __getattr__
    from ._annotate import ANNOTATION_COLUMNS, NAME_MATCH_STATUSES, annotate_var
    from ._extension import EXTENSION_COLUMNS, read_extension
    from ._genes import GeneMap, load_gene_map
    from ._load import load_reference
    from ._match import match_names
    from ._names import is_mt_contig, name_key
    from ._paths import reference_dir
    from ._reference import (
        MT_CLASSES,
        Reference,
        Resolution,
    )

_LAZY = {
    "ANNOTATION_COLUMNS": "._annotate",
    "NAME_MATCH_STATUSES": "._annotate",
    "annotate_var": "._annotate",
    "EXTENSION_COLUMNS": "._extension",
    "read_extension": "._extension",
    "load_reference": "._load",
    "is_mt_contig": "._names",
    "name_key": "._names",
    "MT_CLASSES": "._reference",
    "Reference": "._reference",
    "Resolution": "._reference",
    "reference_dir": "._paths",
    "GeneMap": "._genes",
    "load_gene_map": "._genes",
    "match_names": "._match",
}

__all__ = [
    "ANNOTATION_COLUMNS",
    "EXTENSION_COLUMNS",
    "MT_CLASSES",
    "NAME_MATCH_STATUSES",
    "GeneMap",
    "Reference",
    "Resolution",
    "annotate_var",
    "is_mt_contig",
    "load_gene_map",
    "load_reference",
    "match_names",
    "name_key",
    "read_extension",
    "reference_dir",
]

__getattr__, __dir__ = attach(__name__, _LAZY, __all__)
