"""Per-sample QC: library composition, purity of the mitochondrial fraction, PCA, outliers."""

from __future__ import annotations

import logging
from collections.abc import Sequence

import anndata as ad
import numpy as np
import pandas as pd

from .. import engine
from .._constants import MT_CONTIG, MT_ENCODED_CLASSES
from .._errors import MtncrnaError
from .._uns import matrix
from ..reference import load_reference

logger = logging.getLogger("mtncrna")


def _counts(adata: ad.AnnData, layer: str | None) -> np.ndarray:
    return matrix(adata, layer)


#: Sample-sheet columns that define groups of like samples when the caller names none.
DEFAULT_GROUPS = ("condition", "cell_line")


def _matched_reference(
    obs: pd.DataFrame,
    fraction_key: str,
    mito: str,
    reference: str,
    pair_key: str | None,
    groups: Sequence[str] = DEFAULT_GROUPS,
) -> dict[str, list[str]]:
    """For each mito sample, the reference-fraction samples to compare it with.

    The sample of the same preparation (``pair``) if there is one; else the reference samples
    of the same ``groups`` (e.g. condition and cell line); else all reference samples.
    """
    ref = obs[obs[fraction_key] == reference]
    out: dict[str, list[str]] = {}
    for sample, row in obs[obs[fraction_key] == mito].iterrows():
        match = ref.index[:0]
        if pair_key and pair_key in obs.columns and pd.notna(row[pair_key]):
            match = ref.index[ref[pair_key] == row[pair_key]]
        if len(match) == 0:
            sel = np.ones(len(ref), dtype=bool)
            for col in groups:
                if col in obs.columns:
                    sel &= (ref[col] == row[col]).to_numpy()
            match = ref.index[sel] if sel.any() else ref.index
        out[str(sample)] = list(match)
    return out


def qc(
    adata: ad.AnnData,
    *,
    fraction_key: str = "fraction",
    mito: str = "mito",
    versus: str = "cytosol",
    pair_key: str | None = "pair",
    groups: Sequence[str] | None = None,
    layer: str | None = "counts",
    n_pcs: int = 5,
    outlier_z: float = 3.5,
    key_added: str = "qc",
    copy: bool = False,
) -> ad.AnnData | None:
    """Per-sample QC metrics, mitochondrial purity, PCA and outlier flags.

    Writes ``obs`` columns: ``total_counts``, ``n_detected``, ``pct_<class>`` for every
    ``mt_class`` (mitomiR, mito-lncRNA, mt-tRNA, mt-rRNA, mt-mRNA, other), ``pct_mt_encoded``
    (reads on mtDNA-encoded RNAs), for samples of the ``mito`` fraction ``mt_enrichment``
    (log2 of their mtDNA-encoded share over that of the matched ``versus`` sample),
    ``contamination`` (estimated share of the library that is cytosolic RNA) and ``purity``
    (1 - contamination), and ``outlier`` with ``outlier_reason``. ``uns[key_added]`` holds the
    PCA (on the blind VST) and the sample correlation matrix.

    The PCA is also stored the scanpy way, so ``sc.pl.pca(adata, color="condition")`` works:
    ``obsm["X_pca"]`` (scores), ``varm["PCs"]`` (loadings; zero for features without counts)
    and ``uns["pca"]`` (``variance``, ``variance_ratio``, ``params``).

    Contamination is estimated from presumed cytosolic features: expressed features that are
    neither mtDNA-encoded nor known mtncRNAs. A pure mitochondrial library would not contain
    them, so in a mito library at contamination ``c`` their share is ``c`` times their share in
    the matched cytosolic library; the median of that ratio over those features estimates ``c``.

    ``groups`` are the sample-sheet columns that make samples alike (default ``condition`` and
    ``cell_line``; ``mtncrna run`` passes the design's factors): a mito sample without a
    ``pair_key`` partner is matched with the ``versus`` samples of its group, and outliers are
    judged within groups (with the fraction).
    """
    adata = adata.copy() if copy else adata
    if groups is None:
        groups = [g for g in DEFAULT_GROUPS if g in adata.obs.columns]
    else:
        groups = list(groups)
        missing = [g for g in groups if g not in adata.obs.columns]
        if missing:
            raise MtncrnaError(
                f"groups: {', '.join(repr(g) for g in missing)} is not a sample-sheet column "
                f"({', '.join(map(str, adata.obs.columns))})"
            )
    if "mt_class" not in adata.var.columns:
        raise MtncrnaError("features are not annotated: run mtncrna.tl.annotate(adata) first")
    X = _counts(adata, layer)
    obs = adata.obs
    total = X.sum(axis=1)
    obs["total_counts"] = total.astype(np.int64)
    obs["n_detected"] = (X > 0).sum(axis=1).astype(np.int64)
    mt_class = adata.var["mt_class"].astype(str).to_numpy()
    with np.errstate(divide="ignore", invalid="ignore"):
        share = X / total[:, None]
    for cls in ("mitomiR", "mito-lncRNA", "mt-tRNA", "mt-rRNA", "mt-mRNA", "other"):
        obs[f"pct_{cls.replace('-', '_')}"] = 100 * share[:, mt_class == cls].sum(axis=1)
    mt_enc = np.isin(mt_class, MT_ENCODED_CLASSES)
    if "reference_id" in adata.var.columns:
        feats = load_reference().features
        rid = adata.var["reference_id"].astype(str)
        on_mt = rid.map(feats["chrom"].to_dict()).fillna("").eq(MT_CONTIG).to_numpy()
        mt_enc |= on_mt
    obs["pct_mt_encoded"] = 100 * share[:, mt_enc].sum(axis=1)

    has_fractions = (
        fraction_key in obs.columns
        and (obs[fraction_key] == mito).any()
        and (obs[fraction_key] == versus).any()
    )
    obs["mt_enrichment"] = np.nan
    obs["contamination"] = np.nan
    obs["purity"] = np.nan
    if has_fractions:
        known = (
            adata.var["known_mtncrna"].to_numpy(bool)
            if "known_mtncrna" in adata.var
            else np.zeros(adata.n_vars, bool)
        )
        presumed_cyto = ~mt_enc & ~known
        matches = _matched_reference(obs, fraction_key, mito, versus, pair_key, groups)
        pos = {s: i for i, s in enumerate(adata.obs_names)}
        for sample, refs in matches.items():
            i = pos[sample]
            ref_share = share[[pos[r] for r in refs]].mean(axis=0)
            mt_ref = ref_share[mt_enc].sum()
            mt_here = share[i, mt_enc].sum()
            if mt_ref > 0 and mt_here > 0:
                obs.loc[sample, "mt_enrichment"] = float(np.log2(mt_here / mt_ref))
            expressed = presumed_cyto & (ref_share > np.median(ref_share[ref_share > 0]))
            if expressed.sum() >= 5:
                ratio = share[i, expressed] / ref_share[expressed]
                c = float(np.clip(np.median(ratio), 0, 1))
                obs.loc[sample, "contamination"] = c
                obs.loc[sample, "purity"] = 1 - c

    # PCA and correlation on the blind variance-stabilised matrix
    keep = X.sum(axis=0) > 0
    vst = engine.vst(
        X[:, keep].astype(np.int64),
        nsub=1000 if keep.sum() >= 1000 else None,
        size_factor_method="auto",
    )
    centred = vst - vst.mean(axis=0)
    U, S, Vt = np.linalg.svd(centred, full_matrices=False)
    k = min(n_pcs, len(S))
    signs = np.sign(Vt[:k, np.argmax(np.abs(Vt[:k]), axis=1)].diagonal())  # deterministic signs
    scores = U[:, :k] * S[:k] * signs
    var_ratio = S[:k] ** 2 / (S**2).sum()
    corr = np.corrcoef(vst)

    # outliers: low library size, or low correlation with the samples of the same group
    group_cols = [c for c in (fraction_key, *groups) if c in obs.columns]
    sample_group = (
        obs[group_cols].astype(str).agg("|".join, axis=1)
        if group_cols
        else pd.Series("all", index=obs.index)
    )
    reasons = [[] for _ in range(adata.n_obs)]
    med_total = np.median(total)
    for i in range(adata.n_obs):
        if total[i] < 0.1 * med_total:
            reasons[i].append("low_library_size")
    # a good sample correlates well with at least one replicate of its group, even when a
    # broken replicate drags the group's mean down; so the best within-group correlation
    mean_corr = np.full(adata.n_obs, np.nan)
    for i in range(adata.n_obs):
        same = np.flatnonzero((sample_group == sample_group.iloc[i]).to_numpy())
        same = same[same != i]
        if same.size:
            mean_corr[i] = corr[i, same].max()
    ok = np.isfinite(mean_corr)
    if ok.sum() >= 4:
        med = np.median(mean_corr[ok])
        mad = 1.4826 * np.median(np.abs(mean_corr[ok] - med))
        if mad > 0:
            z = (mean_corr - med) / mad
            for i in np.flatnonzero(ok & (z < -outlier_z)):
                reasons[i].append("low_correlation_with_group")
    obs["best_group_correlation"] = mean_corr
    obs["outlier"] = [bool(r) for r in reasons]
    obs["outlier_reason"] = [";".join(r) for r in reasons]
    names = list(adata.obs_names)
    loadings = np.zeros((adata.n_vars, k))
    loadings[keep] = (Vt[:k] * signs[:, None]).T
    adata.obsm["X_pca"] = scores
    adata.varm["PCs"] = loadings
    adata.uns["pca"] = {
        "variance": S[:k] ** 2 / max(adata.n_obs - 1, 1),
        "variance_ratio": var_ratio,
        "params": {"zero_center": True, "use_highly_variable": False, "mask_var": "expressed"},
    }
    adata.uns[key_added] = {
        "kind": "qc",
        "pca": pd.DataFrame(scores, index=names, columns=[f"PC{j + 1}" for j in range(k)]),
        "pca_variance_ratio": var_ratio,
        "correlation": pd.DataFrame(corr, index=names, columns=names),
        "params": {
            "fraction_key": fraction_key,
            "mito": mito,
            "versus": versus,
            "pair_key": pair_key or "",
            "groups": list(groups),
            "n_pcs": k,
            "outlier_z": outlier_z,
            "n_features_vst": int(keep.sum()),
        },
    }
    n_out = int(obs["outlier"].sum())
    if n_out:
        logger.warning(
            "%d samples flagged as outliers: %s",
            n_out,
            ", ".join(obs.index[obs["outlier"]].astype(str)),
        )
    return adata if copy else None
