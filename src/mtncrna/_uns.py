"""Reading what the analyses stored on an AnnData: the count matrix and the results in ``uns``.

One place for the lookups that ``pp``, ``tl``, ``get``, ``pl`` and ``report`` all need, so each
rule (a missing layer is an error; results are found by their ``kind``) is written once.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import anndata as ad
import numpy as np
import pandas as pd

from ._constants import UNS_DE
from ._errors import MtncrnaError

#: The annotation columns copied next to result tables when ``var`` has them.
_ANNOTATION_JOIN = ("mt_class", "known_mtncrna", "reference_id")


def matrix(adata: ad.AnnData, layer: str | None = "counts") -> np.ndarray:
    """The samples x features matrix in ``layer`` (``None``: ``X``), dense, as float.

    ``layer="counts"`` (the default everywhere) falls back to ``X`` when the AnnData has no
    layers at all (a table built by hand); any other layer that is missing is an error naming the
    layers there are, never a silent fallback.
    """
    if layer is None:
        mat = adata.X
    elif layer in adata.layers:
        mat = adata.layers[layer]
    elif layer == "counts" and not len(adata.layers):
        mat = adata.X
    else:
        have = ", ".join(adata.layers) or "none"
        raise MtncrnaError(
            f"no layer '{layer}' in the AnnData (layers: {have}); use layer=None for X"
        )
    if mat is None:
        raise MtncrnaError("the AnnData has no matrix X")
    mat = mat.toarray() if hasattr(mat, "toarray") else np.asarray(mat)
    return mat.astype(float)


def need(adata: ad.AnnData, key: str, what: str) -> Mapping[str, Any]:
    """``adata.uns[key]``, or an error saying which function writes it."""
    if key not in adata.uns:
        raise MtncrnaError(f"adata.uns['{key}'] is missing: run mtncrna.{what} first")
    return adata.uns[key]


def keys_of_kind(adata: ad.AnnData, kind: str) -> list[str]:
    """The ``uns`` keys holding results of ``kind`` (``"de"``, ``"enrichment"``, ...), in order."""
    return [
        k for k, v in adata.uns.items() if isinstance(v, Mapping) and str(v.get("kind", "")) == kind
    ]


def main_factor(adata: ad.AnnData) -> tuple[str, str] | None:
    """(factor, level of interest) of a study, for grouping and colouring samples.

    The factor and numerator of the first contrast of the first DE result in ``uns``
    (``treatment``/``resistant`` for ``--contrast treatment resistant sensitive``); else
    ``condition``/``resistant`` when the sample sheet has a ``condition`` column; else None.
    """
    for key in keys_of_kind(adata, "de"):
        for spec in list(adata.uns[key].get("params", {}).get("contrasts", [])):
            factor, numerator, _ = [*str(spec).split("|"), "", ""][:3]
            if factor in adata.obs.columns:
                return factor, numerator
    if "condition" in adata.obs.columns:
        return "condition", "resistant"
    return None


def join_annotation(df: pd.DataFrame, adata: ad.AnnData, on: str = "feature_id") -> pd.DataFrame:
    """Add the reference annotation columns of ``adata.var`` to a per-feature table."""
    cols = [c for c in _ANNOTATION_JOIN if c in adata.var.columns]
    return df.join(adata.var[cols], on=on) if cols else df


def de_frame(
    adata: ad.AnnData, contrast: str | None = None, *, key: str = UNS_DE, annotate: bool = True
) -> pd.DataFrame:
    """DE results in ``uns[key]`` as one tidy frame (see :func:`mtncrna.get.de_df`)."""
    if key not in adata.uns or "results" not in adata.uns[key]:
        raise MtncrnaError(f"adata.uns['{key}'] has no DE results: run mtncrna.tl.de first")
    results = adata.uns[key]["results"]
    names = list(results)
    if contrast is not None:
        if contrast not in results:
            raise MtncrnaError(f"no contrast '{contrast}'; available: {', '.join(names)}")
        names = [contrast]
    frames = []
    for name in names:
        df = pd.DataFrame(results[name]).copy()
        df.index.name = "feature_id"
        df = df.reset_index()
        df.insert(1, "contrast", name)
        frames.append(df)
    out = pd.concat(frames, ignore_index=True)
    return join_annotation(out, adata) if annotate else out
