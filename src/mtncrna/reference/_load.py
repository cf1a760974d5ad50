"""Loading the bundled reference, with a user's extension table merged in."""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

from ._extension import merge_extension
from ._paths import reference_dir
from ._reference import Reference, _build


@lru_cache(maxsize=4)
def _load_cached(directory: str) -> Reference:
    return _build(Path(directory))


def load_reference(extension: str | Path | None = None) -> Reference:
    """Load the bundled mtncRNA reference, optionally merged with a user's extension table.

    Parameters
    ----------
    extension
        A TSV/CSV in the evidence schema (see ``reference/README.md``) with the user's own
        mtncRNA evidence; validated with :func:`validate_extension` and merged in.

    Returns
    -------
    Reference
        A fresh copy each call, safe to modify.
    """
    base = _load_cached(str(reference_dir()))
    ref = Reference(
        version=base.version,
        features=base.features.copy(),
        evidence=base.evidence.copy(),
        fractionation=base.fractionation.copy(),
        aliases=base.aliases.copy(),
        directory=base.directory,
        vocabulary=base.vocabulary,
    )
    if extension is not None:
        ref = merge_extension(ref, Path(extension))
    return ref
