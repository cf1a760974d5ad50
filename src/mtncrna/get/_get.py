"""Tidy frames for the annotation step."""

from __future__ import annotations

import anndata as ad
import pandas as pd

from .._errors import MtncrnaError
from ..reference import Reference, load_reference
from ..tl._annotate import ANNOTATION_COLUMNS


def annotation_df(adata: ad.AnnData, *, known_only: bool = False) -> pd.DataFrame:
    """One row per feature with the columns :func:`mtncrna.tl.annotate` wrote.

    ``known_only`` keeps the known mtncRNAs (mitomiRs, mito-lncRNAs, mt-tRNAs, mt-rRNAs).
    """
    missing = [c for c in ANNOTATION_COLUMNS if c not in adata.var.columns]
    if missing:
        raise MtncrnaError(
            f"adata.var lacks {', '.join(missing)}: run mtncrna.tl.annotate(adata) first"
        )
    df = adata.var[list(ANNOTATION_COLUMNS)].copy()
    df.insert(0, "feature", adata.var_names)
    df = df.reset_index(drop=True)
    if known_only:
        df = df[df["known_mtncrna"]].reset_index(drop=True)
    return df


def evidence_df(adata: ad.AnnData, *, reference: Reference | None = None) -> pd.DataFrame:
    """Literature evidence rows for the features of ``adata`` (one row per feature x study)."""
    ann = annotation_df(adata)
    ref = reference or load_reference()
    ev = ref.evidence.merge(ann[["feature", "reference_id"]], on="reference_id", how="inner")
    cols = ["feature", *[c for c in ev.columns if c != "feature"]]
    return ev[cols].reset_index(drop=True)
