"""Where the bundled reference tables live."""

from __future__ import annotations

from pathlib import Path

from .._errors import ReferenceDataError


def reference_dir() -> Path:
    """Folder holding the bundled reference tables (inside the wheel, or the repository's)."""
    here = Path(__file__).resolve()
    packaged = here.parents[1] / "_data" / "reference"
    if (packaged / "VERSION").is_file():
        return packaged
    source = here.parents[3] / "reference"
    if (source / "VERSION").is_file():
        return source
    raise ReferenceDataError(
        f"bundled reference not found (looked in {packaged} and {source}); reinstall mtncrna"
    )
