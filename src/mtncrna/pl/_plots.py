"""Figures for QC, enrichment, DE and signatures (matplotlib, no global state changed)."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from .._errors import MtncrnaError

if TYPE_CHECKING:
    import anndata as ad
    from matplotlib.figure import Figure

CLASS_COLOURS = {
    "mitomiR": "#d95f02",
    "mito-lncRNA": "#e7298a",
    "mt-tRNA": "#1b9e77",
    "mt-rRNA": "#66a61e",
    "mt-mRNA": "#7570b3",
    "other": "#bdbdbd",
}


def _figure(width: float = 6.0, height: float = 4.0) -> Figure:
    from matplotlib.figure import Figure

    return Figure(figsize=(width, height), dpi=100, layout="constrained")


def _finish(fig: Figure, save: str | Path | None) -> Figure:
    if save is not None:
        from ..io import atomic_path

        out = Path(save)
        with atomic_path(out) as tmp:
            fig.savefig(tmp, format=out.suffix.lstrip(".") or "png")
    return fig


def class_composition(adata: ad.AnnData, *, save: str | Path | None = None) -> Figure:
    """Stacked bars: share of reads per mt_class in every sample (needs :func:`pp.qc`)."""
    cols = [c for c in adata.obs.columns if c.startswith("pct_") and c != "pct_mt_encoded"]
    if not cols:
        raise MtncrnaError("no pct_* columns: run mtncrna.pp.qc(adata) first")
    fig = _figure(max(6.0, 0.3 * adata.n_obs + 2), 4.0)
    ax = fig.add_subplot()
    bottom = np.zeros(adata.n_obs)
    x = np.arange(adata.n_obs)
    for col in cols:
        cls = col[4:].replace("_", "-")
        vals = adata.obs[col].to_numpy(float)
        ax.bar(x, vals, bottom=bottom, label=cls, color=CLASS_COLOURS.get(cls, "#999999"))
        bottom += vals
    ax.set_xticks(x, adata.obs_names, rotation=90, fontsize=7)
    ax.set_ylabel("% of reads")
    ax.legend(fontsize=7, ncols=3, loc="upper right")
    ax.set_title("Library composition by class")
    return _finish(fig, save)


def purity(adata: ad.AnnData, *, save: str | Path | None = None) -> Figure:
    """Estimated contamination of each mito-fraction sample (needs :func:`pp.qc`)."""
    if "contamination" not in adata.obs.columns:
        raise MtncrnaError("no contamination column: run mtncrna.pp.qc(adata) first")
    obs = adata.obs[adata.obs["contamination"].notna()]
    fig = _figure(max(5.0, 0.35 * len(obs) + 2), 3.5)
    ax = fig.add_subplot()
    ax.bar(np.arange(len(obs)), 100 * obs["contamination"], color="#7570b3")
    ax.set_xticks(np.arange(len(obs)), obs.index, rotation=90, fontsize=7)
    ax.set_ylabel("cytosolic contamination (%)")
    ax.set_title("Purity of the mitochondrial preparations")
    return _finish(fig, save)


def pca(
    adata: ad.AnnData, *, color: str = "fraction", key: str = "qc", save: str | Path | None = None
) -> Figure:
    """PC1 vs PC2 of the QC PCA, coloured by a sample-sheet column."""
    if key not in adata.uns or "pca" not in adata.uns[key]:
        raise MtncrnaError("no PCA: run mtncrna.pp.qc(adata) first")
    scores = pd.DataFrame(adata.uns[key]["pca"])
    var = np.asarray(adata.uns[key]["pca_variance_ratio"])
    fig = _figure(5.5, 4.5)
    ax = fig.add_subplot()
    groups = (
        adata.obs[color].astype(str)
        if color in adata.obs
        else pd.Series("all", index=adata.obs_names)
    )
    for i, g in enumerate(sorted(groups.unique())):
        sel = (groups == g).to_numpy()
        ax.scatter(scores.iloc[sel, 0], scores.iloc[sel, 1], label=g, s=30, color=f"C{i % 10}")
    ax.set_xlabel(f"PC1 ({100 * var[0]:.0f} %)")
    ax.set_ylabel(f"PC2 ({100 * var[1]:.0f} %)" if len(var) > 1 else "PC2")
    ax.legend(fontsize=8, title=color)
    ax.set_title("PCA of variance-stabilised counts")
    return _finish(fig, save)


def correlation_heatmap(
    adata: ad.AnnData, *, key: str = "qc", save: str | Path | None = None
) -> Figure:
    """Sample-sample Pearson correlation of the VST matrix."""
    if key not in adata.uns or "correlation" not in adata.uns[key]:
        raise MtncrnaError("no correlation matrix: run mtncrna.pp.qc(adata) first")
    corr = pd.DataFrame(adata.uns[key]["correlation"])
    n = corr.shape[0]
    fig = _figure(max(5.0, 0.25 * n + 2.5), max(4.0, 0.25 * n + 1.5))
    ax = fig.add_subplot()
    im = ax.imshow(
        corr.to_numpy(), cmap="viridis", vmin=float(np.nanmin(corr.to_numpy())), vmax=1.0
    )
    ax.set_xticks(np.arange(n), corr.columns, rotation=90, fontsize=6)
    ax.set_yticks(np.arange(n), corr.index, fontsize=6)
    fig.colorbar(im, ax=ax, shrink=0.8, label="Pearson r")
    ax.set_title("Sample correlation")
    return _finish(fig, save)


def volcano(
    df: pd.DataFrame, *, alpha: float = 0.1, title: str = "", save: str | Path | None = None
) -> Figure:
    """log2 fold change vs -log10 p-value; known mtncRNAs highlighted and labelled."""
    fig = _figure(5.5, 4.5)
    ax = fig.add_subplot()
    d = df[df["pvalue"].notna()]
    y = -np.log10(d["pvalue"].clip(lower=1e-300))
    sig = (d["padj"] < alpha).to_numpy()
    known = (
        d["known_mtncrna"].astype(bool).to_numpy()
        if "known_mtncrna" in d
        else np.zeros(len(d), bool)
    )
    ax.scatter(d["log2FoldChange"][~sig], y[~sig], s=6, color="#bdbdbd", label="not significant")
    ax.scatter(
        d["log2FoldChange"][sig & ~known],
        y[sig & ~known],
        s=8,
        color="#377eb8",
        label=f"padj < {alpha}",
    )
    ax.scatter(d["log2FoldChange"][known], y[known], s=14, color="#d95f02", label="known mtncRNA")
    top = d[known & sig].nsmallest(8, "pvalue")
    for _, r in top.iterrows():
        ax.annotate(
            str(r["feature_id"]),
            (r["log2FoldChange"], -np.log10(max(r["pvalue"], 1e-300))),
            fontsize=6,
        )
    ax.set_xlabel("log2 fold change")
    ax.set_ylabel("-log10 p-value")
    ax.legend(fontsize=7)
    ax.set_title(title or "Volcano plot")
    return _finish(fig, save)


def ma_plot(
    df: pd.DataFrame, *, alpha: float = 0.1, title: str = "", save: str | Path | None = None
) -> Figure:
    """log2 fold change vs mean of normalized counts."""
    fig = _figure(5.5, 4.0)
    ax = fig.add_subplot()
    d = df[df["baseMean"] > 0]
    sig = (d["padj"] < alpha).to_numpy()
    ax.scatter(d["baseMean"][~sig], d["log2FoldChange"][~sig], s=6, color="#bdbdbd")
    ax.scatter(d["baseMean"][sig], d["log2FoldChange"][sig], s=8, color="#377eb8")
    ax.set_xscale("log")
    ax.axhline(0, color="black", lw=0.5)
    ax.set_xlabel("mean of normalized counts")
    ax.set_ylabel("log2 fold change")
    ax.set_title(title or "MA plot")
    return _finish(fig, save)


def enrichment_plot(df: pd.DataFrame, *, save: str | Path | None = None) -> Figure:
    """Mito vs cytosol log2 enrichment against mean, coloured by class and call."""
    fig = _figure(6.0, 4.5)
    ax = fig.add_subplot()
    d = df[df["baseMean"] > 0]
    classes = d["mt_class"].astype(str) if "mt_class" in d else pd.Series("other", index=d.index)
    for cls in CLASS_COLOURS:
        sel = (classes == cls).to_numpy()
        if sel.any():
            ax.scatter(
                d["baseMean"][sel],
                d["log2FoldChange"][sel],
                s=10,
                color=CLASS_COLOURS[cls],
                label=cls,
            )
    enriched = d["mito_enriched"].astype(bool).to_numpy() if "mito_enriched" in d else None
    if enriched is not None and enriched.any():
        ax.scatter(
            d["baseMean"][enriched],
            d["log2FoldChange"][enriched],
            s=30,
            facecolors="none",
            edgecolors="black",
            lw=0.6,
            label="mito_enriched",
        )
    ax.axhline(0, color="black", lw=0.5)
    ax.set_xscale("log")
    ax.set_xlabel("mean of normalized counts")
    ax.set_ylabel("log2 mito / cytosol")
    ax.legend(fontsize=7, ncols=2)
    ax.set_title("Mitochondrial enrichment")
    return _finish(fig, save)


def signature_scores(
    adata: ad.AnnData,
    *,
    key: str = "signature_score",
    groupby: tuple[str, ...] = ("condition", "fraction"),
    save: str | Path | None = None,
) -> Figure:
    """Signature scores by group (strip plot)."""
    if key not in adata.obs.columns:
        raise MtncrnaError(f"no obs['{key}']: run mtncrna.tl.score first")
    cols = [c for c in groupby if c in adata.obs.columns]
    groups = (
        adata.obs[cols].astype(str).agg(" | ".join, axis=1)
        if cols
        else pd.Series("all", index=adata.obs_names)
    )
    order = sorted(groups.unique())
    fig = _figure(max(4.5, 1.2 * len(order) + 1.5), 4.0)
    ax = fig.add_subplot()
    rng = np.random.default_rng(0)
    for i, g in enumerate(order):
        v = adata.obs.loc[(groups == g).to_numpy(), key].to_numpy(float)
        ax.scatter(i + rng.uniform(-0.15, 0.15, len(v)), v, s=25, color=f"C{i % 10}")
    ax.set_xticks(np.arange(len(order)), order, rotation=30, ha="right", fontsize=8)
    ax.set_ylabel("signature score")
    ax.set_title("Resistance signature score")
    return _finish(fig, save)
