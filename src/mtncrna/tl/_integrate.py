"""Small-RNA / long-RNA integration: are miRNAs and their targets coupled beyond the design?"""

from __future__ import annotations

import logging

import anndata as ad
import numpy as np
import pandas as pd

from .. import engine
from .._errors import MtncrnaError
from .._uns import de_frame, matrix
from ..reference import load_reference
from ..reference._match import match_names, naming_of

logger = logging.getLogger("mtncrna")

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
    "mirna_feature",
    "target_feature",
    "mirna_found",
    "target_found",
    "match_note",
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
    """The reference's literature miRNA -> target pairs whose partners are in both libraries."""
    pairs = load_reference().target_pairs()
    pairs = pairs.assign(source="reference: " + pairs["citation"])[["mirna", "target", "source"]]
    matched = match_pairs(pairs, small, long)
    return matched[matched["mirna_found"] & matched["target_found"]].reset_index(drop=True)


def match_pairs(pairs: pd.DataFrame, small: ad.AnnData, long: ad.AnnData) -> pd.DataFrame:
    """Find each pair's miRNA among ``small``'s features and its target among ``long``'s.

    miRNAs meet through the reference (``mitomiR-2392`` = ``hsa-miR-2392`` = ``MIMAT0019043``);
    targets through the human gene map (``TP53`` = ``ENSG00000141510.17`` = ``7157``). Adds
    ``mirna_feature``/``target_feature`` (the matched feature names), ``mirna_found`` /
    ``target_found`` and ``match_note`` (why a partner was not found).
    """
    ref = load_reference()
    mir = match_names(
        list(pairs["mirna"].astype(str)), small.var_names, reference=ref, use_genes=False
    )
    tgt = match_names(list(pairs["target"].astype(str)), long.var_names, use_genes=True)
    out = pairs.reset_index(drop=True).copy()
    out["mirna_feature"] = mir["feature"].to_numpy()
    out["target_feature"] = tgt["feature"].to_numpy()
    out["mirna_found"] = mir["feature"].notna().to_numpy()
    out["target_found"] = tgt["feature"].notna().to_numpy()
    notes = []
    for m, t in zip(mir.itertuples(), tgt.itertuples(), strict=True):
        bits = []
        if m.feature is None:
            bits.append(f"miRNA {m.how}" + (f" ({m.note})" if m.note else ""))
        if t.feature is None:
            bits.append(f"target {t.how}" + (f" ({t.note})" if t.note else ""))
        notes.append("; ".join(bits))
    out["match_note"] = notes
    return out


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
    regressed out of every feature (``partial_r``: the correlation of the residuals), and the
    miRNA is tested in ``target ~ design + miRNA`` by statsmodels' OLS t-test (n - p - 1 degrees
    of freedom; the partial correlation test), so that a fraction or condition that moves a
    miRNA and a target together does not count as coupling. ``coupled`` is padj < ``alpha``
    with a negative correlation (repression). ``pairs`` has columns ``mirna`` and ``target`` in
    any naming: miRNAs are found through the reference (``mitomiR-2392``, ``MIMAT0019043``),
    targets through the human gene map (a target list in symbols meets a long-RNA table in
    versioned Ensembl ids); each row says whether each partner was found (``mirna_found``,
    ``target_found``, ``match_note``) and a pair with a partner missing is listed untested.
    When no pair can be matched at all the call stops with an error naming both namings. By
    default the reference's literature pairs whose partners are in both libraries.
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
        if pairs.empty:
            raise MtncrnaError(
                "no literature miRNA-target pair of the reference has both partners in the data; "
                "give your own pairs (columns mirna, target)"
            )
    else:
        missing = [c for c in ("mirna", "target") if c not in pairs.columns]
        if missing:
            raise MtncrnaError(f"the pair table lacks column(s) {', '.join(missing)}")
        if pairs.empty:
            raise MtncrnaError("no miRNA-target pair to test: the pair table has no rows")
        pairs = match_pairs(pairs.assign(source=pairs.get("source", "user")), s, lg)
        both = pairs["mirna_found"] & pairs["target_found"]
        if not both.any():
            raise MtncrnaError(
                f"none of the {len(pairs)} miRNA-target pairs could be matched to the data: "
                f"{int(pairs['mirna_found'].sum())} of their miRNAs are in the small-RNA table "
                f"(features: {naming_of(s.var_names)}; pairs: {naming_of(pairs['mirna'])}) and "
                f"{int(pairs['target_found'].sum())} of their targets in the long-RNA table "
                f"(features: {naming_of(lg.var_names)}; pairs: {naming_of(pairs['target'])})"
            )
        if not both.all():
            logger.warning(
                "integrate: %d of %d pairs have a partner missing from the data (see mirna_found, "
                "target_found and match_note); they are listed untested",
                int((~both).sum()),
                len(pairs),
            )
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
    n, p = X.shape[0], int(np.linalg.matrix_rank(X))  # a confounded term adds no coefficient
    df = n - p - 1  # residual df of target ~ design + miRNA
    if df < 1:
        raise MtncrnaError(f"{n} samples for {p} design coefficients: no residual df to test")
    # the test is statsmodels' OLS t-test of the miRNA in target ~ design + miRNA, which is the
    # partial correlation test (imported here, not at import: it costs ~1 s)
    import statsmodels.api as sm

    rows = []
    for row in pairs.itertuples():
        base = {
            "mirna": row.mirna,
            "target": row.target,
            "source": row.source,
            "mirna_feature": row.mirna_feature,
            "target_feature": row.target_feature,
            "mirna_found": bool(row.mirna_found),
            "target_found": bool(row.target_found),
            "match_note": row.match_note,
            "n_samples": n,
        }
        if row.mirna_feature not in res_s.columns or row.target_feature not in res_l.columns:
            note = row.match_note
            if row.mirna_found and row.target_found:
                note = "all-zero counts in the shared samples"
            rows.append({**base, "match_note": note, "partial_r": np.nan, "pvalue": np.nan})
            continue
        a = res_s[row.mirna_feature].to_numpy()
        b = res_l[row.target_feature].to_numpy()
        r = np.nan if a.std() == 0 or b.std() == 0 else float(np.corrcoef(a, b)[0, 1])
        pval = np.nan
        if np.isfinite(r):
            exog = np.column_stack([X, vs[row.mirna_feature].to_numpy()])
            fit = sm.OLS(vl[row.target_feature].to_numpy(), exog).fit()
            pval = float(fit.pvalues[-1])
        rows.append({**base, "partial_r": r, "pvalue": pval})
    out = pd.DataFrame(rows)
    out["padj"] = engine.p_adjust_bh(out["pvalue"].to_numpy(float))
    out["coupled"] = (out["padj"] < alpha) & (out["partial_r"] < 0)
    out["mirna_log2FC"] = np.nan
    out["target_log2FC"] = np.nan
    out["de_agreement"] = pd.NA
    if de_key and de_key in small.uns and de_key in long.uns:
        ds = de_frame(small, key=de_key).drop_duplicates("feature_id").set_index("feature_id")
        dl = de_frame(long, key=de_key).drop_duplicates("feature_id").set_index("feature_id")
        out["mirna_log2FC"] = ds["log2FoldChange"].reindex(out["mirna_feature"]).to_numpy()
        out["target_log2FC"] = dl["log2FoldChange"].reindex(out["target_feature"]).to_numpy()
        both = out["mirna_log2FC"].notna() & out["target_log2FC"].notna()
        out.loc[both, "de_agreement"] = np.sign(out.loc[both, "mirna_log2FC"]) == -np.sign(
            out.loc[both, "target_log2FC"]
        )
    out = out.sort_values("pvalue", na_position="last").reset_index(drop=True)[list(PAIR_COLUMNS)]
    params = {
        "design": design,
        "alpha": alpha,
        "n_samples": n,
        "df": df,
        "n_pairs": len(out),
        "n_pairs_matched": int((out["mirna_found"] & out["target_found"]).sum()),
        "n_pairs_tested": int(out["pvalue"].notna().sum()),
    }
    out.attrs["params"] = params
    stored = out.copy()  # h5ad-writable: the nullable boolean as text, "" for NA
    stored["de_agreement"] = (
        out["de_agreement"].map({True: "True", False: "False"}).fillna("").astype(object)
    )
    stored[["mirna_feature", "target_feature"]] = stored[
        ["mirna_feature", "target_feature"]
    ].fillna("")
    small.uns[key_added] = {"kind": "integrate", "pairs": stored, "params": params}
    return out
