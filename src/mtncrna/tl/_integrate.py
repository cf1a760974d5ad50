"""Small-RNA / long-RNA integration: are miRNAs and their targets coupled beyond the design?"""

from __future__ import annotations

import anndata as ad
import numpy as np
import pandas as pd
from scipy import stats

from .. import engine
from .._errors import MtncrnaError
from .._uns import de_frame, matrix
from ..reference import load_reference

PAIR_COLUMNS = (
    "mirna",
    "target",
    "source",
    "n_samples",
    "partial_r",
    "pvalue",
    "padj",
    "coupled",
    "mirna_log2FC",
    "target_log2FC",
    "de_agreement",
)


def _vst(adata: ad.AnnData, layer: str | None) -> pd.DataFrame:
    mat = matrix(adata, layer)
    keep = mat.sum(axis=0) > 0
    v = engine.vst(
        np.rint(mat[:, keep]).astype(np.int64),
        nsub=1000 if keep.sum() >= 1000 else None,
        size_factor_method="auto",
    )
    return pd.DataFrame(v, index=adata.obs_names, columns=adata.var_names[keep])


def default_pairs(small: ad.AnnData, long: ad.AnnData) -> pd.DataFrame:
    """The reference's literature miRNA -> target pairs present in both libraries."""
    pairs = load_reference().target_pairs()
    pairs = pairs[pairs["mirna"].isin(small.var_names) & pairs["target"].isin(long.var_names)]
    return pairs.assign(source="reference: " + pairs["citation"])[["mirna", "target", "source"]]


def integrate(
    small: ad.AnnData,
    long: ad.AnnData,
    *,
    pairs: pd.DataFrame | None = None,
    design: str | None = None,
    layer: str | None = "counts",
    alpha: float = 0.1,
    de_key: str | None = None,
    key_added: str = "integrate",
) -> pd.DataFrame:
    """Test each miRNA -> target pair for coupling across the shared samples.

    Both libraries are variance-stabilised; the design effects (``design``, by default every
    sample-sheet factor among fraction, condition, cell_line and batch that varies) are
    regressed out of every feature, and the partial correlation of the residuals is tested
    (t-test with n - p - 2 degrees of freedom), so that a fraction or condition that moves a
    miRNA and a target together does not count as coupling. ``coupled`` is padj < ``alpha``
    with a negative correlation (repression). ``pairs`` has columns ``mirna`` and ``target``
    (feature names of ``small`` and ``long``); by default the reference's literature pairs.
    With ``de_key`` (a :func:`mtncrna.tl.de` result present in both objects) the DE-level
    agreement is added: ``de_agreement`` is True when the miRNA and its target change in
    opposite directions.

    Returns the pair table and stores it in ``small.uns[key_added]`` (read it back with
    :func:`mtncrna.get.integrate_df`).
    """
    shared = small.obs_names.intersection(long.obs_names)
    if len(shared) < 5:
        raise MtncrnaError(
            f"the small and long libraries share {len(shared)} samples; need at least 5"
        )
    s = small[shared]
    lg = long[shared]
    if pairs is None:
        pairs = default_pairs(s, lg)
    else:
        missing = [c for c in ("mirna", "target") if c not in pairs.columns]
        if missing:
            raise MtncrnaError(f"the pair table lacks column(s) {', '.join(missing)}")
        pairs = pairs.assign(source=pairs.get("source", "user"))
    if pairs.empty:
        raise MtncrnaError("no miRNA-target pair has both partners in the data")
    obs = s.obs
    if design is None:
        terms = [
            c
            for c in ("fraction", "condition", "cell_line", "batch")
            if c in obs.columns and obs[c].nunique() > 1
        ]
        design = "~ " + (" + ".join(terms) if terms else "1")
    X = (
        engine.design_matrix(design, obs).to_numpy()
        if design.strip() != "~ 1"
        else np.ones((len(shared), 1))
    )
    vs, vl = _vst(s, layer), _vst(lg, layer)
    H = X @ np.linalg.pinv(X)
    res_s = vs - H @ vs.to_numpy()
    res_l = vl - H @ vl.to_numpy()
    n, p = X.shape
    df = n - p - 2
    if df < 1:
        raise MtncrnaError(f"{n} samples for {p} design coefficients: no residual df to test")
    rows = []
    for row in pairs.itertuples():
        if row.mirna not in res_s.columns or row.target not in res_l.columns:
            rows.append(
                {
                    "mirna": row.mirna,
                    "target": row.target,
                    "source": row.source,
                    "n_samples": n,
                    "partial_r": np.nan,
                    "pvalue": np.nan,
                }
            )
            continue
        a, b = res_s[row.mirna].to_numpy(), res_l[row.target].to_numpy()
        r = np.nan if a.std() == 0 or b.std() == 0 else float(np.corrcoef(a, b)[0, 1])
        t = r * np.sqrt(df / max(1e-300, 1 - r**2)) if np.isfinite(r) else np.nan
        pval = float(2 * stats.t.sf(abs(t), df)) if np.isfinite(t) else np.nan
        rows.append(
            {
                "mirna": row.mirna,
                "target": row.target,
                "source": row.source,
                "n_samples": n,
                "partial_r": r,
                "pvalue": pval,
            }
        )
    out = pd.DataFrame(rows)
    out["padj"] = engine.p_adjust_bh(out["pvalue"].to_numpy(float))
    out["coupled"] = (out["padj"] < alpha) & (out["partial_r"] < 0)
    out["mirna_log2FC"] = np.nan
    out["target_log2FC"] = np.nan
    out["de_agreement"] = pd.NA
    if de_key and de_key in small.uns and de_key in long.uns:
        ds = de_frame(small, key=de_key).drop_duplicates("feature_id").set_index("feature_id")
        dl = de_frame(long, key=de_key).drop_duplicates("feature_id").set_index("feature_id")
        out["mirna_log2FC"] = ds["log2FoldChange"].reindex(out["mirna"]).to_numpy()
        out["target_log2FC"] = dl["log2FoldChange"].reindex(out["target"]).to_numpy()
        both = out["mirna_log2FC"].notna() & out["target_log2FC"].notna()
        out.loc[both, "de_agreement"] = np.sign(out.loc[both, "mirna_log2FC"]) == -np.sign(
            out.loc[both, "target_log2FC"]
        )
    out = out.sort_values("pvalue", na_position="last").reset_index(drop=True)[list(PAIR_COLUMNS)]
    params = {"design": design, "alpha": alpha, "n_samples": n, "df": df}
    out.attrs["params"] = params
    small.uns[key_added] = {
        "kind": "integrate",
        "pairs": out.astype({"de_agreement": "string"}),
        "params": params,
    }
    return out
