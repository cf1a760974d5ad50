"""The HTML report and MultiQC custom content: Python gathers the data per section, a jinja2
template renders it."""

from __future__ import annotations

from typing import TYPE_CHECKING

from .._lazy import attach

if TYPE_CHECKING:  # imported on first use, see __getattr__
    from ._merge import de_keys, merge_libraries
    from ._multiqc import multiqc_files, multiqc_read_qc
    from ._render import SECTION_IDS, build_sections, render

_LAZY = {
    "SECTION_IDS": "._render",
    "build_sections": "._render",
    "de_keys": "._merge",
    "merge_libraries": "._merge",
    "multiqc_files": "._multiqc",
    "multiqc_read_qc": "._multiqc",
    "render": "._render",
}

__all__ = [
    "SECTION_IDS",
    "build_sections",
    "de_keys",
    "merge_libraries",
    "multiqc_files",
    "multiqc_read_qc",
    "render",
]

__getattr__, __dir__ = attach(__name__, _LAZY, __all__)
