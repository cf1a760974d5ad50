"""``tl.de``: differential expression with the project's DESeq2 engine."""

from __future__ import annotations

import logging
import re
from collections.abc import Sequence

import anndata as ad
import numpy as np
import pandas as pd

from .. import engine
from .._errors import MtncrnaError
from .._provenance import versions
from .._uns import matrix

logger = logging.getLogger("mtncrna")

Contrast = tuple[str, str, str]
RESULT_COLUMNS = ("baseMean", "log2FoldChange", "lfcSE", "stat", "pvalue", "padj", "reason")


def contrast_name(contrast: Contrast | str, *, test: str = "wald") -> str:
    """File-safe name of a contrast: ``condition_resistant_vs_parental`` (DESeq2 style)."""
    if isinstance(contrast, str):
        name = contrast
    else:
        factor, num, den = contrast
        name = f"{factor}_{num}_vs_{den}"
    name = re.sub(r"[^A-Za-z0-9_.-]+", "_", name).strip("_")
    return name if test == "wald" else f"{name}_{test}"


def _subset(adata: ad.AnnData, subset: dict[str, str | Sequence[str]] | None) -> ad.AnnData:
    if not subset:
        return adata
    keep = np.ones(adata.n_obs, dtype=bool)
    for col, values in subset.items():
        if col not in adata.obs.columns:
            raise MtncrnaError(f"cannot subset on '{col}': not a sample sheet column")
        vals = [values] if isinstance(values, str) else list(values)
        present = set(adata.obs[col].astype(str))
        unknown = [v for v in vals if v not in present]
        if unknown:
            raise MtncrnaError(
                f"subset {col}={','.join(unknown)} matches no sample "
                f"(values: {', '.join(sorted(present))})"
            )
        keep &= adata.obs[col].astype(str).isin(vals).to_numpy()
    return adata[keep]


def de(
    adata: ad.AnnData,
    *,
    design: str,
    contrasts: Sequence[Contrast] | Contrast | None = None,
    coefficients: Sequence[str] = (),
    test: str = "wald",
    reduced: str | None = None,
    subset: dict[str, str | Sequence[str]] | None = None,
    layer: str | None = "counts",
    alpha: float = 0.1,
    cooks_cutoff: bool | float = True,
    independent_filter: bool = True,
    size_factors: str = "auto",
    fit_type: str = "parametric",
    shrink: bool = False,
    reference_levels: dict[str, str] | None = None,
    factors: Sequence[str] = (),
    key_added: str = "de",
    copy: bool = False,
) -> ad.AnnData | None:
    """Differential expression (DESeq2 model) for one design and any number of contrasts.

    Parameters
    ----------
    adata
        Samples x features with raw counts in ``layer`` (default ``layers["counts"]``, else X).
    design
        R-style formula over ``obs`` columns, e.g. ``"~ cell_line + condition"`` or
        ``"~ pair + condition"`` for paired samples.
    contrasts
        ``(factor, numerator, denominator)`` tuples, e.g. ``("condition", "resistant",
        "parental")``; one fit serves all of them.
    coefficients
        Coefficient names to test directly (e.g. an interaction ``"fraction[T.mito]:condition[T.
        resistant]"``); see ``uns[key_added]["coefficients"]`` for the names.
    test
        ``"wald"``, or ``"lrt"`` with a ``reduced`` formula (a multi-level factor at once).
    subset
        Restrict to samples, e.g. ``{"fraction": "mito"}``.
    size_factors
        ``"ratio"``, ``"poscounts"`` or ``"auto"`` (ratio unless every feature has a zero).
    factors
        Sample-sheet columns holding numbers to treat as factors; other all-number columns are
        numeric covariates (as in R). The factor of every contrast is always a factor.
    shrink
        Add ``log2FoldChange_shrunk`` and ``lfcSE_shrunk``: the posterior mode under an adaptive
        Cauchy prior (apeglm's model), for every contrast and coefficient.

    Returns
    -------
    ``None`` (or a copy with ``copy=True``). Writes ``uns[key_added]``: ``results`` (one frame
    per contrast: baseMean, log2FoldChange, lfcSE, stat, pvalue, padj, reason), ``dispersions``,
    ``size_factors``, ``coefficients`` and ``params``; read them with :func:`mtncrna.get.de_df`.
    """
    adata = adata.copy() if copy else adata
    if test not in ("wald", "lrt"):
        raise MtncrnaError(f"unknown test '{test}'; expected wald or lrt")
    if test == "lrt" and not reduced:
        raise MtncrnaError("the LRT needs a reduced design, e.g. reduced='~ cell_line'")
    if contrasts is not None and len(contrasts) == 3 and all(isinstance(c, str) for c in contrasts):
        contrasts = [contrasts]  # type: ignore[list-item]
    contrasts = [tuple(c) for c in (contrasts or [])]  # type: ignore[misc]
    if not contrasts and not coefficients:
        raise MtncrnaError("give at least one contrast (factor, numerator, denominator)")
    sub = _subset(adata, subset)
    if sub.n_obs < 3:
        raise MtncrnaError(f"only {sub.n_obs} samples after subsetting; need at least 3")
    mat = matrix(sub, layer)
    if not np.allclose(mat, np.rint(mat)) or (mat < 0).any():
        raise MtncrnaError(
            "the count matrix holds non-integer or negative values; DE needs raw counts "
            f"(layer '{layer}' or X)"
        )
    counts = pd.DataFrame(np.rint(mat).astype(np.int64), index=sub.obs_names, columns=sub.var_names)
    empty = counts.index[counts.sum(axis=1).to_numpy() == 0]
    if len(empty):
        raise MtncrnaError(
            f"sample(s) {', '.join(map(str, empty[:5]))}{' ...' if len(empty) > 5 else ''} have no "
            "counts at all (empty libraries); remove them from the sample sheet or the table"
        )
    factors = [*factors, *(c[0] for c in contrasts if len(c) == 3)]
    X = engine.design_matrix(design, sub.obs, reference_levels=reference_levels, factors=factors)
    vectors: dict[str, np.ndarray] = {}
    shrink_designs: dict[str, tuple[pd.DataFrame, int]] = {}
    for c in contrasts:
        if len(c) != 3:
            raise MtncrnaError(f"a contrast is (factor, numerator, denominator), got {c}")
        factor, num, den = c
        vectors[contrast_name(c, test=test)] = engine.contrast_vector(X, factor, num, den)
        if shrink:
            refs = dict(reference_levels or {})
            refs[factor] = den
            Xs = engine.design_matrix(design, sub.obs, reference_levels=refs, factors=factors)
            shrink_designs[contrast_name(c, test=test)] = (
                Xs,
                list(Xs.columns).index(f"{factor}[T.{num}]"),
            )
    for name in coefficients:
        vectors[contrast_name(name, test=test)] = engine.coefficient_vector(X, name)
        if shrink:
            shrink_designs[contrast_name(name, test=test)] = (X, list(X.columns).index(name))
    fit = engine.deseq(counts, X, size_factor_method=size_factors, fit_type=fit_type, test=test)
    two_group = len(engine._design._variables(design)) == 1 and X.shape[1] == 2
    fit.params["n_design_vars"] = len(engine._design._variables(design))
    fit.params["two_group"] = two_group
    results: dict[str, pd.DataFrame] = {}
    Xr = (
        engine.design_matrix(reduced, sub.obs, reference_levels=reference_levels, factors=factors)
        if reduced
        else None
    )
    for name, vec in vectors.items():
        if test == "wald":
            res = engine.wald_test(
                fit,
                vec,
                alpha=alpha,
                cooks_cutoff=cooks_cutoff,
                independent_filter=independent_filter,
            )
        else:
            res = engine.lrt_test(
                fit,
                Xr,
                vec,
                alpha=alpha,
                cooks_cutoff=cooks_cutoff,
                independent_filter=independent_filter,
            )
        if shrink:
            Xs, k = shrink_designs[name]
            sh = engine.lfc_shrink(fit, Xs, k)
            res.insert(3, "log2FoldChange_shrunk", sh["log2FoldChange"])
            res.insert(4, "lfcSE_shrunk", sh["lfcSE"])
        res.index.name = "feature_id"
        results[name] = res
        n_sig = int((res["padj"] < alpha).sum())
        logger.info("%s: %d features with padj < %g", name, n_sig, alpha)
    disp = fit.disp.copy()
    disp.index.name = "feature_id"
    adata.uns[key_added] = {
        "kind": "de",
        "results": results,
        "dispersions": disp,
        "size_factors": pd.DataFrame({"size_factor": fit.size_factors}, index=sub.obs_names),
        "coefficients": np.asarray(fit.coef_names, dtype=object),
        "params": {
            "design": design,
            "numeric_variables": np.asarray(X.attrs.get("numeric_variables", []), dtype=object),
            "contrasts": np.asarray(["|".join(c) for c in contrasts], dtype=object),
            "coefficients": np.asarray(list(coefficients), dtype=object),
            "test": test,
            "reduced": reduced or "",
            "subset": {
                k: ",".join([v] if isinstance(v, str) else v) for k, v in (subset or {}).items()
            },
            "alpha": alpha,
            "cooks_cutoff": str(cooks_cutoff),
            "independent_filter": independent_filter,
            "size_factors": fit.params["size_factor_method"],
            "fit_type": fit.params["fit_type"],
            "shrink": "apeglm-model (adaptive Cauchy prior)" if shrink else "none",
            "trend_coefficients": np.asarray(fit.trend.coefficients, dtype=float),
            "prior_variance": fit.prior_var,
            "n_samples": int(sub.n_obs),
            "versions": versions(),
        },
    }
    return adata if copy else None
