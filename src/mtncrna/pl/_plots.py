"""Figures for QC, enrichment, DE and signatures (matplotlib, no global state changed).

Every function takes the AnnData a ``pp``/``tl`` function wrote (a missing analysis is a clear
:class:`~mtncrna.MtncrnaError` naming the function to run), draws into ``ax`` when given, saves
only when ``save`` is given and returns the :class:`~matplotlib.figure.Figure`, as scanpy does.
Colours are fixed per level of every design factor (:func:`level_colours`), so "resistant" has
the same colour in the PCA, the heatmap and the count plots.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from .._errors import MtncrnaError
from .._uns import main_factor

if TYPE_CHECKING:
    import anndata as ad
    from matplotlib.axes import Axes
    from matplotlib.figure import Figure

CLASS_COLOURS = {
    "mitomiR": "#d95f02",
    "mito-lncRNA": "#e7298a",
    "mt-tRNA": "#1b9e77",
    "mt-rRNA": "#66a61e",
    "mt-mRNA": "#7570b3",
    "other": "#bdbdbd",
}
#: Design factors shown on sample plots, in this order, when the sample sheet has them.
DESIGN_FACTORS = ("condition", "cell_line", "fraction", "batch", "drug")
# Colour-blind-safe qualitative palettes (Paul Tol's bright, muted and light; Okabe-Ito), one per
# factor so that a level of one factor is never confused with a level of another.
_PALETTES = (
    ("#4477AA", "#EE6677", "#228833", "#CCBB44", "#66CCEE", "#AA3377", "#BBBBBB"),
    ("#E69F00", "#56B4E9", "#009E73", "#F0E442", "#0072B2", "#D55E00", "#CC79A7", "#000000"),
    ("#117733", "#DDCC77", "#332288", "#88CCEE", "#882255", "#44AA99", "#999933", "#AA4499"),
    ("#77AADD", "#EE8866", "#EEDD88", "#FFAABB", "#99DDFF", "#44BB99", "#BBCC33", "#AAAA00"),
    ("#CC6677", "#88CCEE", "#DDCC77", "#117733", "#332288", "#AA4499", "#44AA99", "#999933"),
)
_FIXED = {
    "condition": {"parental": "#4477AA", "sensitive": "#4477AA", "resistant": "#EE6677"},
    "fraction": {"mito": "#228833", "cytosol": "#CCBB44"},
}


def level_colours(
    obs: pd.DataFrame, factors: Sequence[str] = DESIGN_FACTORS
) -> dict[str, dict[str, str]]:
    """Colour of every level of every design factor in ``obs`` (deterministic, per factor).

    Levels are sorted; "parental"/"resistant" and "mito"/"cytosol" always get the same colours.
    """
    out: dict[str, dict[str, str]] = {}
    for i, f in enumerate(c for c in factors if c in obs.columns):
        levels = sorted(obs[f].dropna().astype(str).unique())
        pal = _PALETTES[i % len(_PALETTES)]
        fixed = _FIXED.get(f, {})
        if not fixed and set(levels) & set(_FIXED["condition"]):  # a 'treatment' column
            fixed = _FIXED["condition"]
        free = [c for c in pal if c not in fixed.values()]
        cols: dict[str, str] = {}
        for lv in levels:
            cols[lv] = fixed.get(lv) or free[len([x for x in cols if x not in fixed]) % len(free)]
        out[f] = cols
    return out


def sample_factors(adata: ad.AnnData) -> list[str]:
    """Sample-sheet columns to show on sample plots: the study's main factor (the first DE
    contrast's, e.g. ``treatment``), then :data:`DESIGN_FACTORS`, those with several values."""
    main = main_factor(adata)
    factors = dict.fromkeys([*([main[0]] if main else []), *DESIGN_FACTORS])
    return [c for c in factors if c in adata.obs and adata.obs[c].astype(str).nunique() > 1]


def _figure(width: float = 6.0, height: float = 4.0) -> Figure:
    from matplotlib.figure import Figure

    return Figure(figsize=(width, height), dpi=100, layout="constrained")


def _axes(ax: Axes | None, width: float, height: float) -> tuple[Figure, Axes]:
    if ax is not None:
        return ax.get_figure(), ax  # type: ignore[return-value]
    fig = _figure(width, height)
    return fig, fig.add_subplot()


def _finish(fig: Figure, save: str | Path | None) -> Figure:
    if save is not None:
        from ..io import atomic_path

        out = Path(save)
        with atomic_path(out) as tmp:
            fig.savefig(tmp, format=out.suffix.lstrip(".") or "png")
    return fig


def _need_qc(adata: ad.AnnData, what: str) -> None:
    if "total_counts" not in adata.obs.columns:
        raise MtncrnaError(f"no QC in adata.obs (for {what}): run mtncrna.pp.qc(adata) first")


def _de_frame(
    data: ad.AnnData | pd.DataFrame, key: str, contrast: str | None
) -> tuple[pd.DataFrame, float, str]:
    """A DE table from an AnnData (``uns[key]`` of tl.de) or a DataFrame of get.de_df."""
    if isinstance(data, pd.DataFrame):
        missing = [c for c in ("log2FoldChange", "pvalue", "padj", "baseMean") if c not in data]
        if missing:
            raise MtncrnaError(
                f"the DE table lacks column(s) {', '.join(missing)}; pass mtncrna.get.de_df(...)"
                " or the AnnData that mtncrna.tl.de wrote"
            )
        return data, float("nan"), ""
    from ..get import de_df

    if key not in data.uns or "results" not in data.uns[key]:
        have = [k for k, v in data.uns.items() if isinstance(v, Mapping) and "results" in v]
        have = [k for k in have if "dispersions" in data.uns[k]]
        hint = f" (DE results are in: {', '.join(have)}; pass key=...)" if have else ""
        raise MtncrnaError(
            f"no DE results in adata.uns['{key}']: run mtncrna.tl.de(adata, ...) first{hint}"
        )
    results = data.uns[key]["results"]
    if contrast is None:
        if len(results) > 1:
            raise MtncrnaError(
                f"adata.uns['{key}'] has {len(results)} contrasts; pick one with contrast= "
                f"({', '.join(results)})"
            )
        contrast = next(iter(results))
    df = de_df(data, contrast, key=key)
    alpha = float(data.uns[key]["params"].get("alpha", float("nan")))
    return df, alpha, str(contrast)


def class_composition(
    adata: ad.AnnData, *, ax: Axes | None = None, save: str | Path | None = None
) -> Figure:
    """Stacked bars: share of reads per mt_class in every sample (needs :func:`pp.qc`)."""
    cols = [c for c in adata.obs.columns if c.startswith("pct_") and c != "pct_mt_encoded"]
    if not cols:
        raise MtncrnaError("no pct_* columns: run mtncrna.pp.qc(adata) first")
    fig, ax = _axes(ax, max(6.0, 0.3 * adata.n_obs + 2), 4.0)
    bottom = np.zeros(adata.n_obs)
    x = np.arange(adata.n_obs)
    for col in cols:
        cls = col[4:].replace("_", "-")
        vals = adata.obs[col].to_numpy(float)
        ax.bar(x, vals, bottom=bottom, label=cls, color=CLASS_COLOURS.get(cls, "#999999"))
        bottom += vals
    ax.set_xticks(x, adata.obs_names, rotation=90, fontsize=7)
    ax.set_ylabel("% of reads")
    ax.set_ylim(0, 100)
    ax.legend(fontsize=7, ncols=3, loc="upper center", bbox_to_anchor=(0.5, -0.35), frameon=False)
    ax.set_title("Library composition by RNA class")
    return _finish(fig, save)


def purity(adata: ad.AnnData, *, ax: Axes | None = None, save: str | Path | None = None) -> Figure:
    """Estimated contamination of each mito-fraction sample (needs :func:`pp.qc`)."""
    if "contamination" not in adata.obs.columns:
        raise MtncrnaError("no contamination column: run mtncrna.pp.qc(adata) first")
    obs = adata.obs[adata.obs["contamination"].notna()]
    if obs.empty:
        raise MtncrnaError(
            "no contamination estimate: the sample sheet needs mito and cytosol samples"
        )
    fig, ax = _axes(ax, max(5.0, 0.3 * len(obs) + 2), 3.2)
    main = main_factor(adata)
    factor = main[0] if main else ""
    colours = level_colours(adata.obs, [factor]).get(factor, {}) if factor else {}
    cond = obs[factor].astype(str) if factor else None
    bar_cols = [colours.get(c, "#7570b3") for c in cond] if cond is not None else "#7570b3"
    ax.bar(np.arange(len(obs)), 100 * obs["contamination"], color=bar_cols)
    ax.set_xticks(np.arange(len(obs)), obs.index, rotation=90, fontsize=7)
    ax.set_ylabel("cytosolic contamination (%)")
    ax.set_title("Purity of the mitochondrial preparations")
    if cond is not None:
        from matplotlib.patches import Patch

        ax.legend(
            handles=[Patch(color=colours[c], label=c) for c in sorted(set(cond))],
            fontsize=7,
            title=factor,
            title_fontsize=7,
        )
    return _finish(fig, save)


def pca(
    adata: ad.AnnData,
    *,
    color: str | Sequence[str] | None = None,
    components: str = "1,2",
    ax: Axes | None = None,
    save: str | Path | None = None,
) -> Figure:
    """The QC PCA (``obsm["X_pca"]`` of :func:`pp.qc`) drawn by :func:`scanpy.pl.pca`.

    ``color``: one or more sample-sheet columns; default the study's main factor (the first DE
    contrast's) and every design factor the sheet has
    (condition, cell_line, fraction, batch, drug), one panel each, with the colours of
    :func:`level_colours`. ``ax`` needs a single ``color``.
    """
    import anndata as ad
    import scanpy as sc

    if "X_pca" not in adata.obsm or "pca" not in adata.uns:
        raise MtncrnaError("no PCA in adata.obsm['X_pca']: run mtncrna.pp.qc(adata) first")
    if color is None:
        colors = sample_factors(adata) or [None]
    else:
        colors = [color] if isinstance(color, str) else list(color)
    for c in colors:
        if c is not None and c not in adata.obs.columns:
            raise MtncrnaError(
                f"color '{c}' is not a sample-sheet column ({', '.join(adata.obs.columns)})"
            )
    if ax is not None and len(colors) > 1:
        raise MtncrnaError(f"ax= draws one panel; got {len(colors)} colours: {colors}")
    # scanpy turns string columns into categoricals and stores colours in uns: do it on a copy
    cols = [c for c in colors if c is not None]
    obs = pd.DataFrame(
        {c: adata.obs[c].astype(str).astype("category") for c in cols}, index=adata.obs_names
    )
    tiny = ad.AnnData(obs=obs, obsm={"X_pca": np.asarray(adata.obsm["X_pca"])})
    tiny.uns["pca"] = {"variance_ratio": np.asarray(adata.uns["pca"]["variance_ratio"])}
    palette = level_colours(adata.obs, cols)
    for c in cols:
        tiny.uns[f"{c}_colors"] = [palette[c][lv] for lv in tiny.obs[c].cat.categories]
    if ax is None:
        n = len(colors)
        ncols = min(n, 4)
        nrows = int(np.ceil(n / ncols))
        fig = _figure(3.6 * ncols + 0.8, 3.2 * nrows)
        axes = fig.subplots(nrows, ncols, squeeze=False).ravel()
        for extra in axes[n:]:
            extra.set_visible(False)
    else:
        fig, axes = ax.get_figure(), [ax]
    for c, a in zip(colors, axes, strict=False):
        sc.pl.pca(
            tiny,
            color=c,
            components=components,
            ax=a,
            show=False,
            size=60,
            annotate_var_explained=True,
            title=c or "PCA",
            frameon=True,
        )
        a.tick_params(labelsize=7)
        if a.get_legend() is not None:
            a.get_legend().set_title(None)
    return _finish(fig, save)


def _dendrogram_order(corr: np.ndarray) -> tuple[np.ndarray, Any]:
    from scipy.cluster.hierarchy import leaves_list, linkage
    from scipy.spatial.distance import squareform

    dist = np.clip(1 - corr, 0, None)
    np.fill_diagonal(dist, 0)
    link = linkage(squareform((dist + dist.T) / 2, checks=False), method="average")
    return leaves_list(link), link


def correlation_heatmap(
    adata: ad.AnnData,
    *,
    key: str = "qc",
    annotate: Sequence[str] | None = None,
    cluster: bool = True,
    save: str | Path | None = None,
) -> Figure:
    """Sample-sample Pearson correlation of the VST matrix, clustered (average linkage on 1 - r).

    Strips above the heatmap mark the samples' design factors (``annotate``; default those of
    :data:`DESIGN_FACTORS` that vary) in the colours of :func:`level_colours`.
    """
    from matplotlib.colors import ListedColormap
    from matplotlib.patches import Patch
    from scipy.cluster.hierarchy import dendrogram

    if key not in adata.uns or "correlation" not in adata.uns[key]:
        raise MtncrnaError("no correlation matrix: run mtncrna.pp.qc(adata) first")
    corr = pd.DataFrame(adata.uns[key]["correlation"])
    n = corr.shape[0]
    if annotate is None:
        annotate = sample_factors(adata)
    annotate = [c for c in annotate if c in adata.obs.columns]
    order = np.arange(n)
    link = None
    if cluster and n > 2:
        order, link = _dendrogram_order(corr.to_numpy())
    names = corr.index[order]
    cell = 0.22
    side = max(4.0, cell * n + 1.5)
    strips = len(annotate)
    fig = _figure(side + 2.6, side + 0.9 + 0.18 * strips)
    ratios = [0.9, *([0.16] * strips), side - 0.3]
    gs = fig.add_gridspec(2 + strips, 2, height_ratios=ratios, width_ratios=[side, 2.4])
    if link is not None:
        axd = fig.add_subplot(gs[0, 0])
        dendrogram(link, ax=axd, color_threshold=0, above_threshold_color="#555555", no_labels=True)
        axd.set_axis_off()
        axd.set_title("Sample correlation (clustered)")
    palette = level_colours(adata.obs, annotate)
    handles = []
    for j, f in enumerate(annotate):
        axs = fig.add_subplot(gs[1 + j, 0])
        levels = list(palette[f])
        vals = adata.obs.loc[names, f].astype(str).map({lv: i for i, lv in enumerate(levels)})
        axs.imshow(
            vals.to_numpy()[None, :],
            aspect="auto",
            cmap=ListedColormap([palette[f][lv] for lv in levels]),
            vmin=-0.5,
            vmax=len(levels) - 0.5,
            interpolation="nearest",
        )
        axs.set_xticks([])
        axs.set_yticks([0], [f], fontsize=7)
        handles += [Patch(color=palette[f][lv], label=f"{f}: {lv}") for lv in levels]
    ax = fig.add_subplot(gs[1 + strips, 0])
    mat = corr.to_numpy()[np.ix_(order, order)]
    im = ax.imshow(mat, cmap="viridis", vmin=float(np.nanmin(mat)), vmax=1.0, aspect="auto")
    ax.set_xticks(np.arange(n), names, rotation=90, fontsize=6)
    ax.set_yticks(np.arange(n), names, fontsize=6)
    side_ax = fig.add_subplot(gs[:, 1])
    side_ax.set_axis_off()
    fig.colorbar(im, ax=side_ax, location="left", shrink=0.35, label="Pearson r", anchor=(0, 0))
    if handles:
        side_ax.legend(handles=handles, fontsize=7, loc="upper left", frameon=False)
    if link is None:
        ax.set_title("Sample correlation")
    return _finish(fig, save)


def dispersion(
    adata: ad.AnnData,
    *,
    key: str = "de",
    ax: Axes | None = None,
    save: str | Path | None = None,
) -> Figure:
    """DESeq2's dispersion plot (``plotDispEsts``): gene-wise estimates, fitted trend, final.

    Reads ``uns[key]["dispersions"]`` written by :func:`mtncrna.tl.de`.
    """
    if key not in adata.uns or "dispersions" not in adata.uns[key]:
        raise MtncrnaError(
            f"no dispersions in adata.uns['{key}']: run mtncrna.tl.de(adata, ...) first"
        )
    d = pd.DataFrame(adata.uns[key]["dispersions"])
    d = d[(d["baseMean"] > 0) & ~d.get("allZero", pd.Series(False, index=d.index)).astype(bool)]
    fig, ax = _axes(ax, 5.0, 4.0)
    final = d["dispersion"].to_numpy(float)
    floor = max(1e-8, 0.1 * float(np.nanmin(final[final > 0]))) if (final > 0).any() else 1e-8
    ax.scatter(d["baseMean"], d["dispGeneEst"].clip(lower=floor), s=5, c="black", label="gene-est")
    out = d["dispOutlier"].astype(bool) if "dispOutlier" in d else np.zeros(len(d), bool)
    ax.scatter(
        d["baseMean"][~out],
        d["dispersion"][~out].clip(lower=floor),
        s=5,
        c="#377eb8",
        label="final",
    )
    if np.any(out):
        ax.scatter(
            d["baseMean"][out],
            d["dispersion"][out].clip(lower=floor),
            s=18,
            facecolors="none",
            edgecolors="#377eb8",
            label="outlier (kept gene-est)",
        )
    o = np.argsort(d["baseMean"].to_numpy())
    ax.plot(
        d["baseMean"].to_numpy()[o], d["dispFit"].to_numpy()[o], c="#e41a1c", lw=1.5, label="fitted"
    )
    ax.set_xscale("log")
    ax.set_yscale("log")
    ax.set_xlabel("mean of normalized counts")
    ax.set_ylabel("dispersion")
    design = adata.uns[key].get("params", {}).get("design", "")
    ax.set_title(
        f"Dispersion estimates ({design})" if design else "Dispersion estimates", fontsize=9
    )
    ax.legend(fontsize=7, markerscale=2)
    return _finish(fig, save)


def counts(
    adata: ad.AnnData,
    features: Sequence[str],
    *,
    groupby: str | None = None,
    split: str | None = "fraction",
    layer: str | None = "counts",
    save: str | Path | None = None,
) -> Figure:
    """Normalized counts of a few features per sample (DESeq2's ``plotCounts``), one panel each.

    Counts are divided by median-of-ratios size factors over all samples; points are grouped by
    ``groupby`` (coloured with :func:`level_colours`) within each level of ``split``. By default
    ``groupby`` is the factor of the first DE contrast in ``uns``, else ``condition``; with
    neither, all samples form one group.
    """
    from .. import engine

    feats = [f for f in features if f in adata.var_names]
    missing = [f for f in features if f not in adata.var_names]
    if not feats:
        raise MtncrnaError(f"none of the features is in the data: {', '.join(missing)}")
    if groupby is None:
        main = main_factor(adata)
        groupby = main[0] if main else None
    elif groupby not in adata.obs.columns:
        raise MtncrnaError(f"groupby '{groupby}' is not a sample-sheet column")
    mat = adata.layers[layer] if layer and layer in adata.layers else adata.X
    mat = np.asarray(mat.toarray() if hasattr(mat, "toarray") else mat, dtype=float)
    sf = engine.size_factors(np.rint(mat).astype(np.int64), method="auto")
    norm = pd.DataFrame(mat / sf[:, None], index=adata.obs_names, columns=adata.var_names)
    groups = (
        adata.obs[groupby].astype(str)
        if groupby is not None
        else pd.Series("all samples", index=adata.obs_names)
    )
    splits = (
        adata.obs[split].astype(str)
        if split and split in adata.obs.columns
        else pd.Series("", index=adata.obs_names)
    )
    glev = sorted(groups.unique())
    slev = sorted(splits.unique())
    colours = level_colours(adata.obs, [groupby])[groupby] if groupby else {"all samples": "C0"}
    from matplotlib.figure import Figure
    from matplotlib.ticker import LogFormatterSciNotation, NullFormatter

    ncols = min(len(feats), 4)
    nrows = int(np.ceil(len(feats) / ncols))
    # no constrained layout: with many log axes it takes seconds; fixed margins do as well
    fig = Figure(figsize=(3.0 * ncols + 0.5, 2.8 * nrows), dpi=100)
    fig.subplots_adjust(left=0.08, right=0.98, top=0.93, bottom=0.12, wspace=0.4, hspace=0.55)
    axes = fig.subplots(nrows, ncols, squeeze=False).ravel()
    rng = np.random.default_rng(0)
    for f, ax in zip(feats, axes, strict=False):
        xt, xl = [], []
        for si, s in enumerate(slev):
            for gi, g in enumerate(glev):
                sel = ((groups == g) & (splits == s)).to_numpy()
                x = si * (len(glev) + 1) + gi
                v = norm.loc[sel, f].to_numpy() + 0.5
                ax.scatter(
                    x + rng.uniform(-0.2, 0.2, len(v)),
                    v,
                    s=18,
                    color=colours[g],
                    label=g if si == 0 else None,
                )
                xt.append(x)
                xl.append(f"{s}\n{g}" if s else g)
        ax.set_yscale("log")
        ax.yaxis.set_major_formatter(LogFormatterSciNotation())
        ax.yaxis.set_minor_formatter(NullFormatter())
        ax.set_xticks(xt, xl, fontsize=6)
        ax.set_title(f, fontsize=9)
        ax.set_ylabel("normalized count + 0.5", fontsize=7)
        ax.tick_params(axis="y", labelsize=7)
    for extra in axes[len(feats) :]:
        extra.set_visible(False)
    axes[0].legend(fontsize=7, title=groupby, title_fontsize=7)
    return _finish(fig, save)


def _label_points(ax: Axes, d: pd.DataFrame, x: str, y: np.ndarray, n: int = 10) -> None:
    """Label up to ``n`` points (smallest p first, known mtncRNAs first) without a pile-up."""
    if d.empty:
        return
    d = d.assign(_y=y)
    known = d["known_mtncrna"].astype(bool) if "known_mtncrna" in d else False
    pick = d.assign(_k=~known).sort_values(["_k", "pvalue"]).head(n)
    for _, r in pick.iterrows():
        ax.annotate(
            str(r["feature_id"]).removeprefix("hsa-"),
            (r[x], r["_y"]),
            xytext=(4, 3),
            textcoords="offset points",
            fontsize=7,
            bbox={"boxstyle": "round,pad=0.1", "fc": "white", "ec": "none", "alpha": 0.7},
        )


def volcano(
    data: ad.AnnData | pd.DataFrame,
    *,
    key: str = "de",
    contrast: str | None = None,
    alpha: float | None = None,
    title: str = "",
    n_labels: int = 10,
    ax: Axes | None = None,
    save: str | Path | None = None,
) -> Figure:
    """log2 fold change vs -log10 p-value; significant known mtncRNAs highlighted and labelled.

    ``data``: the AnnData :func:`mtncrna.tl.de` wrote (``key``, ``contrast``) or a table of
    :func:`mtncrna.get.de_df`. ``alpha`` defaults to the one the DE used.
    """
    d, used_alpha, name = _de_frame(data, key, contrast)
    alpha = alpha if alpha is not None else (used_alpha if used_alpha == used_alpha else 0.1)
    fig, ax = _axes(ax, 6.0, 4.8)
    d = d[d["pvalue"].notna()]
    y = -np.log10(d["pvalue"].clip(lower=1e-300)).to_numpy()
    sig = (d["padj"] < alpha).to_numpy()
    known = (
        d["known_mtncrna"].astype(bool).to_numpy()
        if "known_mtncrna" in d
        else np.zeros(len(d), bool)
    )
    lfc = d["log2FoldChange"].to_numpy()
    ax.scatter(lfc[~sig], y[~sig], s=6, color="#c7c7c7", label="not significant")
    ax.scatter(lfc[sig & ~known], y[sig & ~known], s=10, color="#377eb8", label=f"padj < {alpha}")
    ax.scatter(lfc[sig & known], y[sig & known], s=22, color="#d95f02", label="… and known mtncRNA")
    ax.scatter(lfc[~sig & known], y[~sig & known], s=14, facecolors="none", edgecolors="#d95f02")
    _label_points(ax, d[sig], "log2FoldChange", y[sig], n_labels)
    ax.axvline(0, color="black", lw=0.5)
    ax.set_xlabel("log2 fold change")
    ax.set_ylabel("-log10 p-value")
    ax.legend(fontsize=7, loc="upper left")
    ax.set_title(title or (name.replace("_", " ") if name else "Volcano plot"), fontsize=10)
    return _finish(fig, save)


def ma_plot(
    data: ad.AnnData | pd.DataFrame,
    *,
    key: str = "de",
    contrast: str | None = None,
    alpha: float | None = None,
    title: str = "",
    n_labels: int = 8,
    ax: Axes | None = None,
    save: str | Path | None = None,
) -> Figure:
    """log2 fold change vs mean of normalized counts (DESeq2's ``plotMA``), top hits labelled."""
    d, used_alpha, name = _de_frame(data, key, contrast)
    alpha = alpha if alpha is not None else (used_alpha if used_alpha == used_alpha else 0.1)
    fig, ax = _axes(ax, 6.0, 4.4)
    d = d[d["baseMean"] > 0]
    sig = (d["padj"] < alpha).to_numpy()
    ax.scatter(d["baseMean"][~sig], d["log2FoldChange"][~sig], s=6, color="#c7c7c7")
    ax.scatter(
        d["baseMean"][sig], d["log2FoldChange"][sig], s=10, color="#377eb8", label=f"padj < {alpha}"
    )
    _label_points(ax, d[sig], "baseMean", d.loc[sig, "log2FoldChange"].to_numpy(), n_labels)
    ax.set_xscale("log")
    ax.axhline(0, color="black", lw=0.5)
    ax.set_xlabel("mean of normalized counts")
    ax.set_ylabel("log2 fold change")
    if sig.any():
        ax.legend(fontsize=7)
    ax.set_title(title or (name.replace("_", " ") if name else "MA plot"), fontsize=10)
    return _finish(fig, save)


def enrichment_plot(
    data: ad.AnnData | pd.DataFrame,
    *,
    key: str = "enrichment",
    ax: Axes | None = None,
    save: str | Path | None = None,
) -> Figure:
    """Mito vs cytosol log2 enrichment against mean, coloured by class and call.

    ``data``: the AnnData :func:`mtncrna.tl.enrichment` wrote or its
    :func:`mtncrna.get.enrichment_df` table.
    """
    if isinstance(data, pd.DataFrame):
        df = data
    else:
        if key not in data.uns:
            raise MtncrnaError(
                f"no enrichment in adata.uns['{key}']: run mtncrna.tl.enrichment(adata) first"
            )
        from ..get import enrichment_df

        df = enrichment_df(data, key=key)
    fig, ax = _axes(ax, 6.0, 4.5)
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
            label="enriched in mitochondria",
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
    groupby: Sequence[str] | None = None,
    ax: Axes | None = None,
    save: str | Path | None = None,
) -> Figure:
    """Signature scores by group (strip plot), coloured by the first grouping column.

    By default the groups are the score's ``group_key`` (or the study's main factor: the first
    DE contrast's, else ``condition``) and the fraction.
    """
    if key not in adata.obs.columns:
        raise MtncrnaError(f"no obs['{key}']: run mtncrna.tl.score(adata, signature) first")
    if groupby is None:
        info = adata.uns.get(key, {})
        main = main_factor(adata)
        first = str(info.get("group_key", "")) or (main[0] if main else "")
        groupby = tuple(c for c in (first, "fraction") if c)
    cols = [c for c in groupby if c in adata.obs.columns]
    groups = (
        adata.obs[cols].astype(str).agg(" | ".join, axis=1)
        if cols
        else pd.Series("all", index=adata.obs_names)
    )
    order = sorted(groups.unique())
    fig, ax = _axes(ax, max(4.5, 1.2 * len(order) + 1.5), 4.0)
    colours = level_colours(adata.obs, cols[:1]).get(cols[0], {}) if cols else {}
    rng = np.random.default_rng(0)
    for i, g in enumerate(order):
        v = adata.obs.loc[(groups == g).to_numpy(), key].to_numpy(float)
        colour = colours.get(g.split(" | ")[0], f"C{i % 10}")
        ax.scatter(i + rng.uniform(-0.15, 0.15, len(v)), v, s=25, color=colour)
    ax.set_xticks(np.arange(len(order)), order, rotation=30, ha="right", fontsize=8)
    ax.set_ylabel("signature score")
    ax.set_title("Resistance signature score")
    return _finish(fig, save)
