"""``tl.de``: differential expression with the project's DESeq2 eng."""

from __future__ import annotations

import logging
from collections.abc import Sequence

import anndata as ad
import numpy as np
import pandas as pd

from .. import engine as eng
from .._errors import MtncrnaError
from .._provenance import versions
from .._text import file_safe
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
    name = file_safe(name)
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
    lfc_threshold: float = 0.0,
    alt_hypothesis: str = "greaterAbs",
    shrink: bool | str = False,
    reference_levels: dict[str, str] | None = None,
    factors: Sequence[str] = (),
    engine: str = "mtncrna",
    threads: int | None = None,
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
    cooks_cutoff
        ``True`` (R's default cutoff, the 0.99 quantile of F(p, m - p)), ``False`` (no Cook's
        filtering) or a number: p-values of features whose maximum Cook's distance exceeds it
        are set to NA (R's ``results(cooksCutoff=)``).
    size_factors
        ``"ratio"``, ``"poscounts"`` or ``"auto"`` (ratio unless every feature has a zero).
    fit_type
        The dispersion trend, as R's ``DESeq(fitType=)``: ``"parametric"`` (falls back to
        ``"local"`` when it cannot be fitted, as R), ``"local"`` (R's locfit of log dispersion
        on log mean) or ``"mean"``.
    lfc_threshold, alt_hypothesis
        Wald tests against a log2 fold-change threshold, as R's ``results(lfcThreshold=,
        altHypothesis=)``: ``"greaterAbs"`` (|LFC| > threshold, the default), ``"lessAbs"``
        (|LFC| < threshold; needs a positive threshold), ``"greater"`` (LFC > threshold) or
        ``"less"`` (LFC < -threshold). Wald test only.
    factors
        Sample-sheet columns holding numbers to treat as factors; other all-number columns are
        numeric covariates (as in R). The factor of every contrast is always a factor.
    shrink
        Add ``log2FoldChange_shrunk`` and ``lfcSE_shrunk`` for every contrast and coefficient:
        ``True`` or ``"apeglm"``, the posterior mode under an adaptive Cauchy prior (apeglm's
        model); ``"normal"``, R DESeq2's ``lfcShrink(type="normal")`` (not for interactions).
    engine
        ``"mtncrna"`` (the project's engine, checked against R DESeq2) or ``"pydeseq2"``: run
        pydeseq2 itself (``DeseqDataSet`` / ``DeseqStats``, Wald test) and store its numbers in
        the same tables, to reproduce a pydeseq2 analysis or to compare the two.
    threads
        Threads for the fit (default: every core this process may use; pydeseq2's
        ``n_cpus``). The numbers do not depend on it.

    Returns
    -------
    ``None`` (or a copy with ``copy=True``). Writes ``uns[key_added]``: ``results`` (one frame
    per contrast: baseMean, log2FoldChange, lfcSE, stat, pvalue, padj, reason), ``dispersions``,
    ``size_factors``, ``coefficients`` and ``params``; read them with :func:`mtncrna.get.de_df`.
    """
    adata = adata.copy() if copy else adata
    if test not in ("wald", "lrt"):
        raise MtncrnaError(f"unknown test '{test}'; expected wald or lrt")
    if shrink not in (False, True, "apeglm", "normal"):
        raise MtncrnaError(f"unknown shrink '{shrink}'; expected True, 'apeglm' or 'normal'")
    if engine not in ("mtncrna", "pydeseq2"):
        raise MtncrnaError(f"unknown engine '{engine}'; expected mtncrna or pydeseq2")
    _check_threshold(test, lfc_threshold, alt_hypothesis, cooks_cutoff)
    if engine == "pydeseq2":
        _check_pydeseq2_options(test, shrink, cooks_cutoff, fit_type, size_factors)
    if test == "lrt" and not reduced:
        raise MtncrnaError("the LRT needs a reduced design, e.g. reduced='~ cell_line'")
    if contrasts is not None and len(contrasts) == 3 and all(isinstance(c, str) for c in contrasts):
        contrasts = [contrasts]  # type: ignore[list-item]
    contrasts = [tuple(c) for c in (contrasts or [])]  # type: ignore[misc]
    if not contrasts and not coefficients:
        raise MtncrnaError("give at least one contrast (factor, numerator, denominator)")
    for c in contrasts:
        if len(c) != 3:
            raise MtncrnaError(f"a contrast is (factor, numerator, denominator), got {c}")
        if c[1] == c[2]:
            raise MtncrnaError(f"contrast {' '.join(c)} compares '{c[1]}' with itself")
    names = [contrast_name(c, test=test) for c in contrasts]
    names += [contrast_name(n, test=test) for n in coefficients]
    twice = sorted({n for n in names if names.count(n) > 1})
    if twice:  # one result per name: the second would silently replace the first
        raise MtncrnaError(
            f"two contrasts have the name {twice[0]} (the same contrast given twice?); "
            "give each contrast once"
        )
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
    X = eng.design_matrix(design, sub.obs, reference_levels=reference_levels, factors=factors)
    vectors: dict[str, np.ndarray] = {}
    groups: dict[str, np.ndarray] = {}  # samples of the two compared levels of each contrast
    shrink_designs: dict[str, tuple[pd.DataFrame, int]] = {}
    for c in contrasts:
        if len(c) != 3:
            raise MtncrnaError(f"a contrast is (factor, numerator, denominator), got {c}")
        factor, num, den = c
        vectors[contrast_name(c, test=test)] = eng.contrast_vector(X, factor, num, den)
        groups[contrast_name(c, test=test)] = eng.contrast_samples(X, factor, num, den)
        if shrink:
            refs = dict(reference_levels or {})
            refs[factor] = den
            Xs = eng.design_matrix(design, sub.obs, reference_levels=refs, factors=factors)
            shrink_designs[contrast_name(c, test=test)] = (
                Xs,
                list(Xs.columns).index(f"{factor}[T.{num}]"),
            )
    for name in coefficients:
        vectors[contrast_name(name, test=test)] = eng.coefficient_vector(X, name)
        if shrink:
            shrink_designs[contrast_name(name, test=test)] = (X, list(X.columns).index(name))
    with eng.threads(threads):
        if engine == "pydeseq2":
            results, disp, sf, coef_names, info = _run_pydeseq2(
                counts,
                sub.obs,
                X,
                design,
                vectors,
                contrasts={contrast_name(c, test=test): c for c in contrasts},
                alpha=alpha,
                cooks_filter=bool(cooks_cutoff),
                independent_filter=independent_filter,
                size_factors=size_factors,
                fit_type=fit_type,
                lfc_threshold=lfc_threshold,
                alt_hypothesis=alt_hypothesis,
                n_cpus=threads,
            )
            for name, res in results.items():
                n_sig = int((res["padj"] < alpha).sum())
                logger.info("%s (pydeseq2): %d features with padj < %g", name, n_sig, alpha)
        else:
            results, disp, sf, coef_names, info = _run_mtncrna(
                counts,
                X,
                design,
                vectors,
                groups,
                shrink_designs,
                test=test,
                Xr=(
                    eng.design_matrix(
                        reduced, sub.obs, reference_levels=reference_levels, factors=factors
                    )
                    if reduced
                    else None
                ),
                alpha=alpha,
                cooks_cutoff=cooks_cutoff,
                independent_filter=independent_filter,
                size_factors=size_factors,
                fit_type=fit_type,
                lfc_threshold=lfc_threshold,
                alt_hypothesis=alt_hypothesis,
                shrink=shrink,
                contrasts={contrast_name(c, test=test): c for c in contrasts},
                coefficients={contrast_name(n, test=test): n for n in coefficients},
            )
    adata.uns[key_added] = {
        "kind": "de",
        "results": results,
        "dispersions": disp,
        "size_factors": pd.DataFrame({"size_factor": sf}, index=sub.obs_names),
        "coefficients": np.asarray(coef_names, dtype=object),
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
            "size_factors": info["size_factor_method"],
            "fit_type": info["fit_type"],
            "fit_type_requested": fit_type,
            "lfc_threshold": float(lfc_threshold),
            "alt_hypothesis": alt_hypothesis,
            "shrink": (
                "normal (DESeq2 lfcShrink type='normal')"
                if shrink == "normal"
                else "apeglm-model (adaptive Cauchy prior)"
                if shrink
                else "none"
            ),
            "trend_coefficients": np.asarray(info["trend_coefficients"], dtype=float),
            "prior_variance": info["prior_variance"],
            "engine": engine,
            "n_samples": int(sub.n_obs),
            "versions": versions(),
        },
    }
    return adata if copy else None


def _run_mtncrna(
    counts: pd.DataFrame,
    X: pd.DataFrame,
    design: str,
    vectors: dict[str, np.ndarray],
    groups: dict[str, np.ndarray],
    shrink_designs: dict[str, tuple[pd.DataFrame, int]],
    *,
    test: str,
    Xr: pd.DataFrame | None,
    alpha: float,
    cooks_cutoff: bool | float,
    independent_filter: bool,
    size_factors: str,
    fit_type: str,
    lfc_threshold: float,
    alt_hypothesis: str,
    shrink: bool | str,
    contrasts: dict[str, Contrast],
    coefficients: dict[str, str],
) -> tuple[dict[str, pd.DataFrame], pd.DataFrame, np.ndarray, list[str], dict]:
    """One fit with the project's engine, then every contrast's test."""
    fit = eng.deseq(counts, X, size_factor_method=size_factors, fit_type=fit_type, test=test)
    two_group = len(eng._design._variables(design)) == 1 and X.shape[1] == 2
    fit.params["n_design_vars"] = len(eng._design._variables(design))
    fit.params["two_group"] = two_group
    results: dict[str, pd.DataFrame] = {}
    for name, vec in vectors.items():
        if test == "wald":
            res = eng.wald_test(
                fit,
                vec,
                alpha=alpha,
                cooks_cutoff=cooks_cutoff,
                independent_filter=independent_filter,
                lfc_threshold=lfc_threshold,
                alt_hypothesis=alt_hypothesis,
                contrast_samples=groups.get(name),
            )
        else:
            res = eng.lrt_test(
                fit,
                Xr,
                vec,
                alpha=alpha,
                cooks_cutoff=cooks_cutoff,
                independent_filter=independent_filter,
                contrast_samples=groups.get(name),
            )
        if shrink == "normal":
            contrast = contrasts.get(name)
            sh = eng.lfc_shrink_normal(
                fit, contrast=contrast, coef=None if contrast else coefficients[name]
            )
            res.insert(3, "log2FoldChange_shrunk", sh["log2FoldChange"])
            res.insert(4, "lfcSE_shrunk", sh["lfcSE"])
        elif shrink:
            Xs, k = shrink_designs[name]
            sh = eng.lfc_shrink(fit, Xs, k)
            res.insert(3, "log2FoldChange_shrunk", sh["log2FoldChange"])
            res.insert(4, "lfcSE_shrunk", sh["lfcSE"])
        res.index.name = "feature_id"
        results[name] = res
        n_sig = int((res["padj"] < alpha).sum())
        logger.info("%s: %d features with padj < %g", name, n_sig, alpha)
    disp = fit.disp.copy()
    disp.index.name = "feature_id"
    info = {
        "size_factor_method": fit.params["size_factor_method"],
        "fit_type": fit.params["fit_type"],
        "trend_coefficients": fit.trend.coefficients,
        "prior_variance": fit.prior_var,
    }
    return results, disp, fit.size_factors, fit.coef_names, info


_ALT_HYPOTHESES = ("greaterAbs", "lessAbs", "greater", "less")


def _check_threshold(
    test: str, lfc_threshold: float, alt_hypothesis: str, cooks_cutoff: bool | float
) -> None:
    """R ``results()``'s checks of lfcThreshold / altHypothesis, before the fit starts."""
    if alt_hypothesis not in _ALT_HYPOTHESES:
        raise MtncrnaError(
            f"unknown alt_hypothesis '{alt_hypothesis}'; "
            f"expected one of {', '.join(_ALT_HYPOTHESES)}"
        )
    t = lfc_threshold
    if isinstance(t, bool) or not isinstance(t, (int, float)) or not np.isfinite(t) or t < 0:
        raise MtncrnaError(f"lfc_threshold must be a number >= 0 (log2 scale); got {t!r}")
    if alt_hypothesis == "lessAbs" and t == 0:
        raise MtncrnaError("alt_hypothesis='lessAbs' needs a positive lfc_threshold")
    if test != "wald" and (t > 0 or alt_hypothesis != "greaterAbs"):
        raise MtncrnaError(
            "tests against a log2 fold-change threshold are Wald tests; "
            f"got test='{test}' with lfc_threshold={t}, alt_hypothesis='{alt_hypothesis}'"
        )
    c = cooks_cutoff
    if not isinstance(c, bool) and (not isinstance(c, (int, float)) or not 0 <= c < np.inf):
        raise MtncrnaError(f"cooks_cutoff must be true, false or a number >= 0; got {c!r}")


def _check_pydeseq2_options(
    test: str, shrink: bool, cooks_cutoff: bool | float, fit_type: str, size_factors: str
) -> None:
    """Refuse what pydeseq2 cannot do, rather than silently doing something else."""
    problems = []
    if test != "wald":
        problems.append("test='lrt' (pydeseq2 has only the Wald test)")
    if shrink:
        problems.append("shrink=True (use engine='mtncrna' for shrunken fold changes)")
    if not isinstance(cooks_cutoff, bool):
        problems.append("a numeric cooks_cutoff (pydeseq2 takes only on/off)")
    if fit_type not in ("parametric", "mean"):
        problems.append(f"fit_type='{fit_type}' (pydeseq2 has parametric and mean)")
    if size_factors not in ("ratio", "poscounts", "auto"):
        problems.append(f"size_factors='{size_factors}'")
    if problems:
        raise MtncrnaError("engine='pydeseq2' does not support " + "; ".join(problems))


def _pydeseq2_metadata(obs: pd.DataFrame, X: pd.DataFrame, design: str) -> pd.DataFrame:
    """The design variables, factors ordered with the reference level first (as ``X``)."""
    refs = X.attrs.get("reference_levels", {})
    md = pd.DataFrame(index=obs.index)
    for v in eng._design._variables(design):
        if v in refs:
            values = obs[v].astype(str)
            levels = sorted(values.unique())
            levels.remove(refs[v])
            md[v] = pd.Categorical(values, categories=[refs[v], *levels])
        else:
            md[v] = obs[v].astype(float)
    return md


def _run_pydeseq2(
    counts: pd.DataFrame,
    obs: pd.DataFrame,
    X: pd.DataFrame,
    design: str,
    vectors: dict[str, np.ndarray],
    *,
    contrasts: dict[str, Contrast],
    alpha: float,
    cooks_filter: bool,
    independent_filter: bool,
    size_factors: str,
    fit_type: str,
    lfc_threshold: float = 0.0,
    alt_hypothesis: str = "greaterAbs",
    n_cpus: int | None = None,
) -> tuple[dict[str, pd.DataFrame], pd.DataFrame, np.ndarray, list[str], dict]:
    """Run pydeseq2 (DeseqDataSet, then DeseqStats per contrast) and put its numbers in the
    project's tables; the ``reason`` column is derived from where pydeseq2 left NaN."""
    import warnings

    from pydeseq2.dds import DeseqDataSet
    from pydeseq2.default_inference import DefaultInference
    from pydeseq2.ds import DeseqStats

    inference = DefaultInference(n_cpus=n_cpus)

    y = counts.to_numpy()
    if size_factors == "auto":
        size_factors = "ratio" if (y > 0).all(axis=0).any() else "poscounts"
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        dds = DeseqDataSet(
            counts=counts,
            metadata=_pydeseq2_metadata(obs, X, design),
            design=design.replace(" ", ""),
            fit_type=fit_type,
            size_factors_fit_type=size_factors,
            inference=inference,
            quiet=True,
        )
        dds.deseq2()
    coef_names = list(dds.obsm["design_matrix"].columns)
    all_zero = y.sum(axis=0) == 0
    plain_wald = lfc_threshold == 0 and alt_hypothesis == "greaterAbs"
    results: dict[str, pd.DataFrame] = {}
    for name, vec in vectors.items():
        if name in contrasts:
            contrast: list[str] | np.ndarray = list(contrasts[name])
        else:  # a coefficient: the same unit vector over pydeseq2's columns
            contrast = np.asarray([vec[list(X.columns).index(c)] for c in coef_names])
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            st = DeseqStats(
                dds,
                contrast=contrast,
                alpha=alpha,
                cooks_filter=cooks_filter,
                independent_filter=independent_filter,
                lfc_null=lfc_threshold,
                alt_hypothesis=None if plain_wald else alt_hypothesis,
                inference=inference,
                quiet=True,
            )
            st.summary()
        res = st.results_df.reindex(counts.columns)[list(RESULT_COLUMNS[:-1])].astype(float)
        reason = np.full(len(res), "", dtype=object)
        p_na = res["pvalue"].isna().to_numpy()
        padj_na = res["padj"].isna().to_numpy()
        reason[p_na & ~all_zero] = "cooks_outlier"
        reason[padj_na & ~p_na] = "low_counts"
        reason[all_zero] = "all_zero"
        res["reason"] = reason
        res.index.name = "feature_id"
        results[name] = res
    var = dds.var
    disp = pd.DataFrame(
        {
            "baseMean": res["baseMean"].to_numpy(),
            "allZero": all_zero,
            "dispGeneEst": var["genewise_dispersions"].to_numpy(),
            "dispFit": var["fitted_dispersions"].to_numpy(),
            "dispMAP": var["MAP_dispersions"].to_numpy(),
            "dispersion": var["dispersions"].to_numpy(),
        },
        index=counts.columns,
    )
    disp.index.name = "feature_id"
    trend = dds.uns.get("trend_coeffs", np.array([np.nan, np.nan]))
    info = {
        "size_factor_method": size_factors,
        "fit_type": fit_type,
        "trend_coefficients": np.asarray(trend, dtype=float),
        "prior_variance": float(dds.uns.get("prior_disp_var", np.nan)),
    }
    return results, disp, dds.obs["size_factors"].to_numpy(), coef_names, info
