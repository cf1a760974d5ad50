"""Tidy frames for the annotation step."""

from __future__ import annotations

import anndata as ad
import pandas as pd

from .._errors import MtncrnaError
from .._uns import de_frame, join_annotation, need
from ..reference import ANNOTATION_COLUMNS, Reference, load_reference


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
    return de_frame(adata, contrast, key=key, annotate=annotate)


def qc_df(adata: ad.AnnData) -> pd.DataFrame:
    """Per-sample QC metrics written by :func:`mtncrna.pp.qc` (one row per sample)."""
    if "total_counts" not in adata.obs.columns:
        raise MtncrnaError("no QC metrics in adata.obs: run mtncrna.pp.qc(adata) first")
    cols = ["total_counts", "n_detected"] + [c for c in adata.obs.columns if c.startswith("pct_")]
    cols += [
        c
        for c in (
            "mt_enrichment",
            "contamination",
            "purity",
            "best_group_correlation",
            "outlier",
            "outlier_reason",
        )
        if c in adata.obs.columns
    ]
    df = adata.obs[cols].copy()
    df.insert(0, "sample", adata.obs_names)
    return df.reset_index(drop=True)


def enrichment_df(
    adata: ad.AnnData, *, key: str = "enrichment", interaction: str | None = None
) -> pd.DataFrame:
    """Enrichment (mito vs reference fraction) from :func:`mtncrna.tl.enrichment`.

    With ``interaction`` (a name from ``uns[key]["interaction"]``, e.g. ``condition_resistant``)
    the fraction x factor interaction table instead.
    """
    u = need(adata, key, "tl.enrichment")
    if interaction is None:
        df = pd.DataFrame(u["results"]).copy()
    else:
        inter = u.get("interaction", {})
        if interaction not in inter:
            raise MtncrnaError(
                f"no interaction '{interaction}'; available: "
                f"{', '.join(inter) or 'none (run with interaction=...)'}"
            )
        df = pd.DataFrame(inter[interaction]).copy()
    df.index.name = "feature_id"
    df = df.reset_index()
    return join_annotation(df, adata)


def concordance_df(adata: ad.AnnData, *, key: str = "concordance") -> pd.DataFrame:
    """The literature concordance table from :func:`mtncrna.tl.concordance`."""
    return pd.DataFrame(need(adata, key, "tl.concordance")["table"]).copy()


def integrate_df(adata: ad.AnnData, *, key: str = "integrate") -> pd.DataFrame:
    """The miRNA-target pair table of :func:`mtncrna.tl.integrate` (stored on the small-RNA
    object)."""
    out = pd.DataFrame(need(adata, key, "tl.integrate")["pairs"]).copy()
    if "de_agreement" in out:  # stored as text so that the .h5ad can hold it
        text = out["de_agreement"].astype(str)
        out["de_agreement"] = pd.array(
            [True if t == "True" else False if t == "False" else pd.NA for t in text],
            dtype="boolean",
        )
    return out


def score_df(adata: ad.AnnData, *, key: str = "signature_score") -> pd.DataFrame:
    """Per-sample signature scores of :func:`mtncrna.tl.score` with the design columns."""
    need(adata, key, "tl.score")
    if key not in adata.obs.columns:
        raise MtncrnaError(f"adata.obs has no '{key}' column: run mtncrna.tl.score first")
    info = adata.uns[key]
    group = str(info.get("group_key", ""))
    cols = [c for c in ("condition", "fraction", "cell_line", group) if c and c in adata.obs]
    table = adata.obs[[*dict.fromkeys(cols), key]].rename(columns={key: "signature_score"})
    return table.rename_axis("sample").reset_index()


def signature_df(adata: ad.AnnData, *, key: str = "signature_score") -> pd.DataFrame:
    """The signature :func:`mtncrna.tl.score` scored the samples with (one row per feature)."""
    info = need(adata, key, "tl.score")
    if "signature" not in info:
        raise MtncrnaError(f"adata.uns['{key}'] holds no signature: run mtncrna.tl.score first")
    return pd.DataFrame(info["signature"]).reset_index(drop=True)
