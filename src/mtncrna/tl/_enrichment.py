"""``tl.enrichment``: which ncRNAs live in mitochondria (mito vs cytosol fraction)."""

from __future__ import annotations

import logging
from collections.abc import Sequence

import anndata as ad
import numpy as np
import pandas as pd

from .. import engine
from .._errors import MtncrnaError
from .._provenance import versions
from .._uns import matrix

logger = logging.getLogger("mtncrna")


def _paired(obs: pd.DataFrame, pair_key: str, fraction_key: str) -> bool:
    if pair_key not in obs.columns or obs[pair_key].isna().any():
        return False
    return bool((obs.groupby(pair_key, observed=True)[fraction_key].nunique() == 2).all())


#: Sample-sheet columns blocked on when the caller names none (and there are no pairs).
DEFAULT_BLOCKING = ("cell_line", "condition", "batch")


def _blocking_terms(
    obs: pd.DataFrame, blocking: Sequence[str] = DEFAULT_BLOCKING, fraction_key: str = ""
) -> list[str]:
    """The ``blocking`` columns that vary among these samples, each kept only if it adds to the
    ones before (with the fraction): a column confounded with them (a batch that is the cell
    line) would make the design rank-deficient and explains nothing more."""
    terms: list[str] = []
    for c in dict.fromkeys(blocking):
        if c not in obs.columns or c == fraction_key or obs[c].astype(str).nunique() < 2:
            continue
        trial = [*terms, c, *([fraction_key] if fraction_key in obs.columns else [])]
        X = engine.design_matrix("~ " + " + ".join(trial), obs, factors=[c, *terms])
        if np.linalg.matrix_rank(X.to_numpy()) == X.shape[1]:
            terms.append(c)
        else:
            logger.info("enrichment: '%s' is confounded with %s; not blocked on", c, terms)
    return terms


def _interaction_design(
    obs: pd.DataFrame,
    fraction_key: str,
    mito: str,
    factor: str,
    reference_level: str | None,
    paired: bool,
    pair_key: str,
    blocking: Sequence[str] = DEFAULT_BLOCKING,
) -> tuple[pd.DataFrame, list[str]]:
    """Design with the fraction x factor interaction; pairs absorb the factor's main effect."""
    levels = sorted(obs[factor].astype(str).unique())
    if len(levels) < 2:
        raise MtncrnaError(f"interaction factor '{factor}' has a single value")
    ref = reference_level or levels[0]
    if ref not in levels:
        raise MtncrnaError(f"'{ref}' is not a value of '{factor}' ({', '.join(levels)})")
    others = [lv for lv in levels if lv != ref]
    is_mito = (obs[fraction_key] == mito).to_numpy(float)
    cols: dict[str, np.ndarray] = {}
    if paired:
        for p in sorted(obs[pair_key].astype(str).unique()):
            cols[f"{pair_key}[{p}]"] = (obs[pair_key].astype(str) == p).to_numpy(float)
    else:
        base = engine.design_matrix(
            "~ " + " + ".join(_blocking_terms(obs, blocking) or ["1"]), obs, factors=blocking
        )
        cols.update({c: base[c].to_numpy() for c in base.columns})
        for lv in others:
            name = f"{factor}[T.{lv}]"
            if name not in cols:
                cols[name] = (obs[factor].astype(str) == lv).to_numpy(float)
    cols[f"{fraction_key}[T.{mito}]"] = is_mito
    inter = []
    for lv in others:
        name = f"{fraction_key}[T.{mito}]:{factor}[T.{lv}]"
        cols[name] = is_mito * (obs[factor].astype(str) == lv).to_numpy(float)
        inter.append(name)
    X = pd.DataFrame(cols, index=obs.index)
    return X, inter


def enrichment(
    adata: ad.AnnData,
    *,
    fraction_key: str = "fraction",
    mito: str = "mito",
    versus: str = "cytosol",
    design: str | None = None,
    interaction: str | None = None,
    interaction_reference: str | None = None,
    pair_key: str = "pair",
    blocking: Sequence[str] | None = None,
    alpha: float = 0.05,
    lfc_threshold: float = 0.5,
    layer: str | None = "counts",
    key_added: str = "enrichment",
    copy: bool = False,
) -> ad.AnnData | None:
    """Mitochondrial enrichment of every feature: mito fraction versus cytosol (or whole cell).

    Fits the DESeq2 model with the project's engine on the two fractions, blocking on the
    preparation (``pair``) when every preparation has both fractions, else on the ``blocking``
    columns that vary (default cell line, condition and batch; ``mtncrna run`` passes the
    design's factors). ``mito_enriched`` calls features whose log2 enrichment is
    significantly above ``lfc_threshold`` (one-sided test of LFC > threshold, BH at ``alpha``).

    Contamination: every mito prep carries cytosolic RNA, so a purely cytosolic ncRNA is still
    seen in the mito library, at the contamination level. Size factors are therefore computed
    on the features that are neither mtDNA-encoded nor known mtncRNAs; as most of those reach
    the mito library only as contamination, their typical log ratio defines zero, and an
    enrichment call means "above the contamination background", not merely "detected in the
    mito prep". Contamination compresses true enrichments (a 20 % contaminated prep cannot show
    a mitochondrial RNA more than 1/0.2 = 5-fold above background), which lowers power but
    does not create false calls.

    With ``interaction`` (e.g. ``"condition"``) the fraction x condition interaction is tested
    too: which ncRNAs change their mitochondrial pool with resistance beyond their total change.
    For that test the mito libraries are normalised on their mtDNA-encoded RNAs (a pool per
    unit of mitochondria), so that preps with more or less contamination do not create
    spurious pool changes; it is meaningful for mito-enriched features (see ``mito_enriched``).

    Writes ``var[f"{key_added}_log2FC"]``, ``var[f"{key_added}_padj"]``, ``var["mito_enriched"]``
    (``var[f"{key_added}_mito_enriched"]`` for another ``key_added``)
    and ``uns[key_added]`` (``results``, ``interaction`` frames and ``params``); see
    :func:`mtncrna.get.enrichment_df`.
    """
    adata = adata.copy() if copy else adata
    if fraction_key not in adata.obs.columns:
        raise MtncrnaError(f"no '{fraction_key}' column in the sample sheet")
    if blocking is None:
        blocking = DEFAULT_BLOCKING
    else:
        blocking = [b for b in blocking if b != fraction_key]
        missing = [b for b in blocking if b not in adata.obs.columns]
        if missing:
            raise MtncrnaError(
                f"blocking: {', '.join(repr(b) for b in missing)} is not a sample-sheet column"
            )
    present = set(adata.obs[fraction_key].astype(str))
    for lv in (mito, versus):
        if lv not in present:
            raise MtncrnaError(
                f"no samples with {fraction_key}={lv} (values: {', '.join(sorted(present))})"
            )
    sub = adata[adata.obs[fraction_key].astype(str).isin([mito, versus])]
    obs = sub.obs.copy()
    obs[fraction_key] = obs[fraction_key].astype(str)
    counts = np.rint(matrix(sub, layer)).astype(np.int64)
    counts_df = pd.DataFrame(counts, index=sub.obs_names, columns=sub.var_names)
    paired = _paired(obs, pair_key, fraction_key)
    terms: list[str] = []
    if design is None:
        terms = [pair_key] if paired else _blocking_terms(obs, blocking, fraction_key)
        design = "~ " + " + ".join([*terms, fraction_key])
    X = engine.design_matrix(design, obs, reference_levels={fraction_key: versus}, factors=terms)
    control = np.ones(sub.n_vars, dtype=bool)
    if "mt_class" in sub.var.columns:
        control = (
            ~sub.var["known_mtncrna"].to_numpy(bool)
            & ~sub.var["mt_class"].isin(["mt-tRNA", "mt-rRNA", "mt-mRNA"]).to_numpy()
        )
        if control.sum() < 10:
            control = np.ones(sub.n_vars, dtype=bool)
    if not control.all() and ((counts[:, control] > 0).sum(axis=1) < 5).any():
        logger.warning(
            "some libraries have fewer than 5 detected features outside the mtDNA-encoded and "
            "known mtncRNAs; size factors use all features instead"
        )
        control = np.ones(sub.n_vars, dtype=bool)
    fit = engine.deseq(counts_df, X, size_factor_method="auto", control_features=control)
    c = engine.contrast_vector(X, fraction_key, mito, versus)
    res = engine.wald_test(
        fit, c, alpha=alpha, lfc_threshold=lfc_threshold, alt_hypothesis="greater"
    )
    res.index.name = "feature_id"
    res["mito_enriched"] = (res["padj"] < alpha).fillna(False).astype(bool)
    results = {"results": res}
    params = {
        "design": design,
        "fraction_key": fraction_key,
        "mito": mito,
        "versus": versus,
        "paired": paired,
        "alpha": alpha,
        "lfc_threshold": lfc_threshold,
        "alt_hypothesis": "greater",
        "n_samples": int(sub.n_obs),
        "n_control_features": int(control.sum()),
        "versions": versions(),
    }
    if interaction:
        if interaction not in obs.columns:
            raise MtncrnaError(f"interaction factor '{interaction}' is not a sample sheet column")
        Xi, names = _interaction_design(
            obs,
            fraction_key,
            mito,
            interaction,
            interaction_reference,
            paired,
            pair_key,
            blocking,
        )
        if np.linalg.matrix_rank(Xi.to_numpy()) < Xi.shape[1]:
            raise MtncrnaError("the interaction design is not full rank for these samples")
        # The mitochondrial pool is compared per unit of mitochondria: mito libraries are
        # normalised on the mtDNA-encoded RNAs (so the varying contamination of each prep does
        # not masquerade as a change of the pool), cytosolic ones on the control features.
        Y = counts_df.to_numpy()
        sf = engine.size_factors(Y[:, control], "auto")
        mt_enc = (
            sub.var["mt_class"].isin(["mt-tRNA", "mt-rRNA", "mt-mRNA"]).to_numpy()
            if "mt_class" in sub.var.columns
            else np.zeros(sub.n_vars, bool)
        )
        is_m = (obs[fraction_key] == mito).to_numpy()
        mt_enc &= (Y > 0).all(axis=0)  # detected in every library
        if mt_enc.sum() >= 3:
            sf_mt = engine.size_factors(Y[:, mt_enc], "auto")
            shift = np.mean(np.log(sf[is_m])) - np.mean(np.log(sf_mt[is_m]))
            sf[is_m] = sf_mt[is_m] * np.exp(shift)
            params["interaction_normalisation"] = "mito libraries on mtDNA-encoded RNAs"
        else:
            params["interaction_normalisation"] = (
                "control features (fewer than 3 mtDNA-encoded RNAs detected in every library)"
            )
        fit_i = engine.deseq(counts_df, Xi, sample_size_factors=sf)
        inter = {}
        for name in names:
            r = engine.wald_test(fit_i, engine.coefficient_vector(Xi, name), alpha=alpha)
            r.index.name = "feature_id"
            inter[name.split(":", 1)[1].replace("[T.", "_").rstrip("]")] = r
        results["interaction"] = inter
        params["interaction"] = interaction
    adata.uns[key_added] = {"kind": "enrichment", **results, "params": params}
    adata.var[f"{key_added}_log2FC"] = res["log2FoldChange"].reindex(adata.var_names).to_numpy()
    adata.var[f"{key_added}_padj"] = res["padj"].reindex(adata.var_names).to_numpy()
    flag = "mito_enriched" if key_added == "enrichment" else f"{key_added}_mito_enriched"
    adata.var[flag] = res["mito_enriched"].reindex(adata.var_names).fillna(False).to_numpy(bool)
    logger.info("%d features enriched in the %s fraction", int(res["mito_enriched"].sum()), mito)
    return adata if copy else None
