"""Writing result tables and provenance, atomically."""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from .._provenance import sha256
from ._atomic import atomic_path, check_output


def write_table(
    df: pd.DataFrame, path: str | Path, *, inputs: Sequence[str | Path] = (), index: bool = False
) -> Path:
    """Write a tab-separated table atomically (never over an input); NA is written as ``NA``."""
    out = check_output(path, inputs)
    with atomic_path(out) as tmp:
        df.to_csv(tmp, sep="\t", index=index, na_rep="NA", float_format="%.10g")
    return out


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
    path: str | Path, record: Mapping[str, Any], outputs: Sequence[str | Path] = ()
) -> Path:
    """Write a provenance record (with the sha256 of each output) as JSON, atomically."""
    data = dict(_jsonable(record))
    data["outputs"] = [{"path": str(Path(o).name), "sha256": sha256(o)} for o in outputs]
    out = Path(path)
    with atomic_path(out) as tmp:
        tmp.write_text(json.dumps(data, indent=1, sort_keys=True) + "\n")
    return out
