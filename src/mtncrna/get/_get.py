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


def de_df(
    adata: ad.AnnData,
    contrast: str | None = None,
    *,
    key: str = "de",
    annotate: bool = True,
) -> pd.DataFrame:
    """Tidy DE results written by :func:`mtncrna.tl.de`: one row per feature (x contrast).

    Columns: ``feature_id, contrast, baseMean, log2FoldChange, lfcSE, stat, pvalue, padj,
    reason`` and, when the features are annotated, ``mt_class, known_mtncrna, reference_id``.
    ``contrast`` picks one contrast by name (see ``adata.uns[key]["results"]``).
    """
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
    cols = [c for c in ("mt_class", "known_mtncrna", "reference_id") if c in adata.var.columns]
    if annotate and cols:
        ann = adata.var[cols]
        out = out.join(ann, on="feature_id")
    return out
