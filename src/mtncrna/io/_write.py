"""Writing result tables and provenance, atomically."""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from .._provenance import sha256
from ._atomic import atomic_path, check_output

if TYPE_CHECKING:  # only the frames given need pandas (write_provenance does not)
    import pandas as pd


def write_table(
    df: pd.DataFrame, path: str | Path, *, inputs: Sequence[str | Path] = (), index: bool = False
) -> Path:
    """Write a tab-separated table atomically (never over an input); NA is written as ``NA``."""
    out = check_output(path, inputs)
    with atomic_path(out) as tmp:
        to_tsv(df, tmp, index=index)
    return out


def to_tsv(df: pd.DataFrame, path: str | Path, *, index: bool = False) -> None:
    """The project's table layout: tab-separated, NA as ``NA``, 10 significant digits."""
    df.to_csv(path, sep="\t", index=index, na_rep="NA", float_format="%.10g")


def _jsonable(v: Any) -> Any:
    if isinstance(v, Mapping):
        return {str(k): _jsonable(x) for k, x in v.items()}
    if isinstance(v, (list, tuple, np.ndarray)):
        return [_jsonable(x) for x in v]
    if isinstance(v, np.generic):
        return v.item()
    if isinstance(v, Path):
        return str(v)
    if isinstance(v, float) and not np.isfinite(v):
        return None
    return v


def write_provenance(
    path: str | Path,
    record: Mapping[str, Any],
    outputs: Sequence[str | Path] = (),
    *,
    names: Sequence[str] | None = None,
    atomic: bool = True,
) -> Path:
    """Write a provenance record (with the sha256 of each output) as JSON, atomically.

    ``names`` are the outputs' file names when ``outputs`` are still temporary files (written
    with :func:`~mtncrna.io.atomic_group`); ``atomic=False`` writes ``path`` directly (it is
    itself such a temporary file).
    """
    data = dict(_jsonable(record))
    shown = [Path(o).name for o in outputs] if names is None else list(names)
    data["outputs"] = [
        {"path": n, "sha256": sha256(o)} for n, o in zip(shown, outputs, strict=True)
    ]
    out = Path(path)
    text = json.dumps(data, indent=1, sort_keys=True) + "\n"
    if not atomic:
        out.write_text(text)
        return out
    with atomic_path(out) as tmp:
        tmp.write_text(text)
    return out
