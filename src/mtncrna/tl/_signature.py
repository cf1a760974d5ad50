"""Resistance signatures: consensus up/down sets from DE tables, and scoring samples with them."""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence

import anndata as ad
import numpy as np
import pandas as pd

from .. import engine
from .._errors import MtncrnaError
from .._uns import de_frame, matrix

logger = logging.getLogger("mtncrna")

SIGNATURE_COLUMNS = (
    "feature_id",
    "direction",
    "weight",
    "n_contrasts",
    "n_significant",
    "sign_agreement",
    "mean_log2FoldChange",
    "combined_pvalue",
    "combined_padj",
)


def _as_tables(
    de_tables: Mapping[str, pd.DataFrame] | Sequence[pd.DataFrame],
) -> dict[str, pd.DataFrame]:
    if isinstance(de_tables, Mapping):
        tables = dict(de_tables)
    else:
        tables = {f"contrast{i + 1}": t for i, t in enumerate(de_tables)}
    if not tables:
        raise MtncrnaError("give at least one DE table")
    out: dict[str, pd.DataFrame] = {}
    for name, t in tables.items():
        missing = [c for c in ("feature_id", "log2FoldChange", "padj") if c not in t.columns]
        if missing:
            raise MtncrnaError(f"DE table '{name}' lacks column(s) {', '.join(missing)}")
        # a table of several contrasts (get.de_df of a 3-level factor): one contrast each
        parts = (
            {f"{name}:{c}": g for c, g in t.groupby("contrast", sort=False)}
            if "contrast" in t.columns and t["contrast"].nunique() > 1
            else {name: t}
        )
        for part, g in parts.items():
            dup = g["feature_id"][g["feature_id"].duplicated()]
            if len(dup):
                raise MtncrnaError(
                    f"DE table '{part}' has feature '{dup.iloc[0]}' more than once; give one "
                    "row per feature (one table per contrast)"
                )
            out[part] = g
    return out


def signature(
    de_tables: Mapping[str, pd.DataFrame] | Sequence[pd.DataFrame],
    *,
    alpha: float = 0.05,
    lfc_threshold: float = 1.0,
    min_significant: int = 1,
    min_agreement: float = 1.0,
) -> pd.DataFrame:
    """Consensus resistance signature from one or more DE tables (several drugs, lines, ...).

    A feature enters when it is significant (padj < ``alpha`` and |log2FC| >= ``lfc_threshold``)
    in at least ``min_significant`` contrasts and at least ``min_agreement`` of the contrasts
    that measured it agree on the sign. Per feature: ``direction`` (up/down), the Stouffer
    combination of the one-sided p-values in that direction across contrasts
    (``combined_pvalue``, BH-adjusted ``combined_padj``), ``mean_log2FoldChange`` and a
    signed ``weight`` = mean log2FC x sign agreement (for scoring). Sorted by |weight|.
    """
    tables = _as_tables(de_tables)
    lfc = pd.concat(
        {n: t.set_index("feature_id")["log2FoldChange"] for n, t in tables.items()}, axis=1
    )
    padj = pd.concat({n: t.set_index("feature_id")["padj"] for n, t in tables.items()}, axis=1)
    pvals = pd.concat(
        {
            n: t.set_index("feature_id")["pvalue"]
            if "pvalue" in t.columns
            else t.set_index("feature_id")["padj"]
            for n, t in tables.items()
        },
        axis=1,
    )
    measured = lfc.notna()
    sig = (padj < alpha) & (lfc.abs() >= lfc_threshold)
    n_sig = sig.sum(axis=1)
    mean_lfc = lfc.mean(axis=1)
    direction = np.sign(mean_lfc)
    agree = (np.sign(lfc).eq(direction, axis=0) & measured).sum(axis=1) / measured.sum(
        axis=1
    ).replace(0, np.nan)
    # one-sided p in the consensus direction, from the two-sided p and the sign
    one_sided = pd.DataFrame(
        np.where(np.sign(lfc).eq(direction, axis=0), pvals / 2, 1 - pvals / 2),
        index=lfc.index,
        columns=lfc.columns,
    )
    from scipy import stats  # here, not at import: it costs every command ~0.5 s

    z = stats.norm.isf(one_sided.clip(1e-300, 1 - 1e-16))
    z = pd.DataFrame(z, index=lfc.index, columns=lfc.columns).where(measured & pvals.notna())
    combined_z = z.sum(axis=1) / np.sqrt(z.notna().sum(axis=1).replace(0, np.nan))
    combined_p = stats.norm.sf(combined_z)
    keep = (n_sig >= min_significant) & (agree >= min_agreement - 1e-12)
    out = pd.DataFrame(
        {
            "feature_id": lfc.index,
            "direction": np.where(direction > 0, "up", "down"),
            "weight": (mean_lfc * agree).to_numpy(),
            "n_contrasts": measured.sum(axis=1).to_numpy(),
            "n_significant": n_sig.to_numpy(),
            "sign_agreement": agree.to_numpy(),
            "mean_log2FoldChange": mean_lfc.to_numpy(),
            "combined_pvalue": combined_p,
        }
    )
    out["combined_padj"] = engine.p_adjust_bh(out["combined_pvalue"].to_numpy(float))
    out = out[keep.to_numpy()]
    out = out.reindex(out["weight"].abs().sort_values(ascending=False).index)
    out = out.reset_index(drop=True)[list(SIGNATURE_COLUMNS)]
    out.attrs["params"] = {
        "alpha": alpha,
        "lfc_threshold": lfc_threshold,
        "min_significant": min_significant,
        "min_agreement": min_agreement,
        "contrasts": list(tables),
    }
    return out


def to_gmt(sig: pd.DataFrame, *, name: str = "mtncrna_resistance", up_in: str = "resistant") -> str:
    """The signature as GMT text: a ``<name>_UP`` and a ``<name>_DOWN`` gene set.

    ``up_in`` names the contrasts' numerator (the cells in which ``up`` features are higher).
    One set per line: name, description, members, tab-separated. The description has no
    whitespace (``mtncrna:up_in_resistant``), because decoupler's ``read_gmt`` splits lines on
    any whitespace while gseapy's splits on tabs; both then read the same members. A direction
    without members is left out (gseapy skips a line with fewer than three fields).
    """
    import re

    if not name or re.search(r"\s", name):
        raise MtncrnaError(f"gene set name {name!r} must be non-empty without whitespace")
    up_in = re.sub(r"\s+", "_", str(up_in).strip()) or "numerator"
    members_all = sig["feature_id"].astype(str)
    bad = members_all[members_all.str.contains(r"\s|^$", regex=True)]
    if len(bad):
        raise MtncrnaError(
            f"{len(bad)} signature feature id(s) are empty or contain whitespace, which GMT "
            f"readers split on: {', '.join(repr(b) for b in bad[:5])}"
        )
    lines = []
    for direction in ("up", "down"):
        members = members_all[sig["direction"] == direction].tolist()
        if members:
            lines.append(
                "\t".join(
                    [f"{name}_{direction.upper()}", f"mtncrna:{direction}_in_{up_in}", *members]
                )
            )
    return "\n".join(lines) + "\n" if lines else ""


def _vst(adata: ad.AnnData, layer: str | None) -> np.ndarray:
    mat = matrix(adata, layer)
    keep = mat.sum(axis=0) > 0
    out = np.full(mat.shape, np.nan)
    out[:, keep] = engine.vst(
        np.rint(mat[:, keep]).astype(np.int64),
        nsub=1000 if keep.sum() >= 1000 else None,
        size_factor_method="auto",
    )
    return out


#: Below this share of signature features found in the data, :func:`score` warns.
MIN_SHARE_FOUND = 0.5


def score(
    adata: ad.AnnData,
    sig: pd.DataFrame,
    *,
    layer: str | None = "counts",
    group_key: str | None = "condition",
    positive: str = "resistant",
    key_added: str = "signature_score",
    copy: bool = False,
) -> ad.AnnData | None:
    """Score every sample with a signature (``obs[key_added]``).

    Signature features are found among ``adata``'s features by name, then through the
    reference (miRNA spellings and accessions) and the human gene map (a signature in symbols
    scores a table in versioned Ensembl ids, and the reverse). On the variance-stabilised
    matrix, each found feature is z-scored across samples and the score is the weighted mean
    (weights from the signature, sign = direction). ``uns[key_added]`` records how many
    signature features were found (``n_features_found``, ``share_found``, ``matched_by``),
    how many entered the score (``n_features_used``: found and not constant) and, with
    ``group_key``, the AUC of the score for ``positive`` versus the other samples (in-sample;
    see :func:`signature_cv` for a cross-validated AUC). A warning is logged when fewer than
    half of the signature's features are found.
    """
    from ..reference import load_reference
    from ..reference._match import match_names, naming_of

    adata = adata.copy() if copy else adata
    if not {"feature_id", "weight"}.issubset(sig.columns):
        raise MtncrnaError("a signature needs feature_id and weight columns")
    if len(sig) == 0:
        raise MtncrnaError("the signature has no features")
    names = sig["feature_id"].astype(str).tolist()
    direct = pd.Index(adata.var_names).get_indexer(names)
    if (direct >= 0).all():
        matched = pd.DataFrame({"query": names, "feature": names, "how": "same_name"})
    else:
        matched = match_names(names, adata.var_names, reference=load_reference())
    found = matched["feature"].notna().to_numpy()
    n_found = int(found.sum())
    if n_found == 0:
        raise MtncrnaError(
            f"none of the signature's {len(sig)} features is in the data (signature: "
            f"{naming_of(names)}; data: {naming_of(adata.var_names)})"
        )
    share = n_found / len(sig)
    if share < MIN_SHARE_FOUND:
        logger.warning(
            "score: only %d of %d signature features (%.0f%%) are in the data; the score "
            "rests on a small part of the signature",
            n_found,
            len(sig),
            100 * share,
        )
    feats = matched.loc[found, "feature"].astype(str)
    dup = feats[feats.duplicated(keep=False)]
    if len(dup):
        raise MtncrnaError(
            "several signature features name the same feature of the data: "
            + ", ".join(sorted(set(dup))[:5])
        )
    idx = pd.Index(adata.var_names).get_indexer(feats.tolist())
    v = _vst(adata, layer)[:, idx]
    w = sig["weight"].to_numpy(float)[found]
    sd = np.nanstd(v, axis=0)
    ok = np.isfinite(sd) & (sd > 0) & np.isfinite(w)
    if not ok.any():
        raise MtncrnaError(
            f"the {n_found} signature features found in the data are constant (or all zero) "
            "across samples; nothing to score"
        )
    z = (v[:, ok] - np.nanmean(v[:, ok], axis=0)) / sd[ok]
    s = z @ w[ok] / np.abs(w[ok]).sum()
    adata.obs[key_added] = s
    info: dict = {
        "kind": "score",
        "n_features_signature": len(sig),
        "n_features_found": n_found,
        "share_found": float(share),
        "n_features_used": int(ok.sum()),
        "matched_by": {str(k): int(v) for k, v in matched.loc[found, "how"].value_counts().items()},
        "signature": sig.reset_index(drop=True).astype(
            {c: str for c in sig.columns if sig[c].dtype == object}
        ),
    }
    if group_key and group_key in adata.obs.columns:
        y = (adata.obs[group_key].astype(str) == positive).to_numpy()
        if 0 < y.sum() < len(y):
            info["auc_in_sample"] = _auc(s, y)
            info["group_key"], info["positive"] = group_key, positive
    adata.uns[key_added] = info
    return adata if copy else None


def _auc(score: np.ndarray, y: np.ndarray) -> float:
    """Area under the ROC curve (Mann-Whitney U / n1 n0)."""
    from scipy import stats  # here, not at import: it costs every command ~0.5 s

    ranks = stats.rankdata(score)
    n1, n0 = int(y.sum()), int((~y).sum())
    return float((ranks[y].sum() - n1 * (n1 + 1) / 2) / (n1 * n0))


def signature_cv(
    adata: ad.AnnData,
    *,
    design: str,
    contrast: tuple[str, str, str],
    folds_key: str = "replicate",
    subset: dict[str, str] | None = None,
    alpha: float = 0.05,
    lfc_threshold: float = 1.0,
    layer: str | None = "counts",
) -> pd.DataFrame:
    """Cross-validated separation: derive the signature without one fold, score that fold.

    Folds are the values of ``folds_key`` (e.g. the replicate preparation), so the held-out
    samples never inform the signature that scores them. Returns one row per fold with the
    held-out AUC and the signature size; ``attrs["auc"]`` is the AUC over all held-out scores.
    """
    from ._de import de

    factor, num, den = contrast
    data = adata
    if subset:
        keep = np.ones(adata.n_obs, dtype=bool)
        for k, v in subset.items():
            keep &= (adata.obs[k].astype(str) == v).to_numpy()
        data = adata[keep].copy()
    if folds_key not in data.obs.columns:
        raise MtncrnaError(f"no '{folds_key}' column to define cross-validation folds")
    folds = sorted(data.obs[folds_key].astype(str).unique())
    if len(folds) < 2:
        raise MtncrnaError(f"'{folds_key}' has a single value; need at least 2 folds")
    held_scores = pd.Series(np.nan, index=data.obs_names)
    rows = []
    for fold in folds:
        test = (data.obs[folds_key].astype(str) == fold).to_numpy()
        train = data[~test].copy()
        de(train, design=design, contrasts=[contrast], layer=layer, key_added="_cv")

        sig = signature([de_frame(train, key="_cv")], alpha=alpha, lfc_threshold=lfc_threshold)
        if sig.empty:
            rows.append({"fold": fold, "n_features": 0, "auc": np.nan})
            continue
        scored = data.copy()
        score(scored, sig, layer=layer, group_key=None)
        s = scored.obs["signature_score"].to_numpy()
        held_scores[test] = s[test]
        y = (data.obs[factor].astype(str) == num).to_numpy()[test]
        auc = _auc(s[test], y) if 0 < y.sum() < len(y) else np.nan
        rows.append({"fold": fold, "n_features": len(sig), "auc": auc})
    out = pd.DataFrame(rows)
    y_all = (data.obs[factor].astype(str) == num).to_numpy()
    ok = held_scores.notna().to_numpy()
    out.attrs["auc"] = _auc(held_scores.to_numpy()[ok], y_all[ok]) if ok.any() else np.nan
    out.attrs["contrast"] = "|".join(contrast)
    _ = den
    return out
