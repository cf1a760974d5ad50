"""The HTML report: Python gathers the data per section, a jinja2 template renders it."""

from ._merge import de_keys, merge_libraries
from ._render import SECTION_IDS, build_sections, render

__all__ = ["SECTION_IDS", "build_sections", "de_keys", "merge_libraries", "render"]
