"""The HTML report and MultiQC custom content: Python gathers the data per section, a jinja2
template renders it."""

from ._merge import de_keys, merge_libraries
from ._multiqc import multiqc_files, multiqc_read_qc
from ._render import SECTION_IDS, build_sections, render

__all__ = [
    "SECTION_IDS",
    "build_sections",
    "de_keys",
    "merge_libraries",
    "multiqc_files",
    "multiqc_read_qc",
    "render",
]
