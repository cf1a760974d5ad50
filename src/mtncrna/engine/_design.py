"""Design matrices from R-style formulas, and contrast vectors, for the count model."""

from __future__ import annotations

import logging
import re
from collections.abc import Sequence

import numpy as np
import pandas as pd

from .._errors import DesignError, MtncrnaError

logger = logging.getLogger("mtncrna")


def _variables(formula: str) -> list[str]:
    rhs = formula.split("~", 1)[-1]
    names = re.findall(r"[A-Za-z_.][A-Za-z0-9_.]*", rhs)
    return list(dict.fromkeys(n for n in names if n not in {"C", "I", "0", "1"}))


def formula_variables(formula: str) -> list[str]:
    """The sample-sheet variables of an R-style formula, after checking its syntax.

    ``"~ batch + C(dose) + condition"`` -> ``["batch", "dose", "condition"]``. A formula that
    does not parse is a :class:`~mtncrna.MtncrnaError` naming it, never a parser traceback.
    """
    import formulaic

    if not isinstance(formula, str) or "~" not in formula:
        raise MtncrnaError(f"design {formula!r} is not a formula; write it like '~ condition'")
    lhs, rhs = formula.split("~", 1)
    if lhs.strip():
        raise MtncrnaError(
            f"design '{formula}' has a left-hand side; write only the right side, e.g. "
            "'~ condition' (the counts are the response)"
        )
    try:
        formulaic.Formula(rhs)
    except Exception as exc:  # formulaic raises several parser error types
        detail = " ".join(str(exc).split()[:12])
        raise MtncrnaError(f"design '{formula}' is not a valid formula ({detail})") from None
    return _variables(formula)


def _wrapped_in_c(formula: str, variable: str) -> bool:
    return re.search(rf"\bC\(\s*{re.escape(variable)}\s*[,)]", formula) is not None


def _numeric_values(col: pd.Series) -> pd.Series | None:
    """The column as numbers when every value is a number (text from a sheet included)."""
    if pd.api.types.is_bool_dtype(col):
        return None
    if pd.api.types.is_numeric_dtype(col):
        return col.astype(float)
    values = pd.to_numeric(col.astype(str).str.strip(), errors="coerce")
    return values.astype(float) if values.notna().all() else None


def check_full_rank(design: pd.DataFrame) -> None:
    """Raise, naming the coefficients involved, when some columns of the model matrix are
    linear combinations of others (confounded terms, a level with no samples): as R's DESeq2,
    which stops on such a design."""
    X = design.to_numpy(dtype=float)
    if X.size == 0:
        return
    _, sv, vt = np.linalg.svd(X, full_matrices=True)
    tol = sv.max() * max(X.shape) * np.finfo(float).eps if len(sv) else 0.0
    rank = int((sv > tol).sum())
    if rank == X.shape[1]:
        return
    null = vt[rank:]  # each row: a combination of columns that is zero on every sample
    involved = [
        str(name) for j, name in enumerate(design.columns) if np.abs(null[:, j]).max() > 1e-8
    ]
    # the intercept is no term a user can remove: name the others when there are two or more
    if len([n for n in involved if n != "Intercept"]) >= 2:
        involved = [n for n in involved if n != "Intercept"]
    empty = [str(name) for j, name in enumerate(design.columns) if not X[:, j].any()]
    if empty:
        detail = f"{' and '.join(empty)} {'has' if len(empty) == 1 else 'have'} no sample"
    elif len(involved) == 2:
        detail = f"{involved[0]} and {involved[1]} are confounded (the same samples)"
    else:
        detail = (
            f"{', '.join(involved[:-1])} and {involved[-1]} are confounded (each is a "
            "combination of the others)"
        )
    raise DesignError(
        "the design matrix is not full rank: "
        f"{detail}; remove a term or combine the confounded ones into one factor"
    )


def factor_variables(
    formula: str, metadata: pd.DataFrame, *, factors: Sequence[str] = ()
) -> list[str]:
    """The variables of ``formula`` that :func:`design_matrix` makes factors (not numeric
    covariates): those wrapped in ``C()``, named in ``factors``, or holding any non-number."""
    out = []
    for v in formula_variables(formula):
        if v not in metadata.columns:
            continue
        if v in factors or _wrapped_in_c(formula, v) or _numeric_values(metadata[v]) is None:
            out.append(v)
    return out


def design_matrix(
    formula: str,
    metadata: pd.DataFrame,
    *,
    reference_levels: dict[str, str] | None = None,
    factors: Sequence[str] = (),
) -> pd.DataFrame:
    """Model matrix of ``formula`` (``"~ batch + condition"``) over the sample metadata.

    Factors use treatment coding with the reference level first: the level named in
    ``reference_levels``, else the first in sorted order (as R's ``factor()``). Columns are
    named like formulaic's (``condition[T.resistant]``).

    As in R's ``model.matrix``, a variable whose values are all numbers (also when a sample
    sheet holds them as text) is a numeric covariate, unless it is wrapped in ``C()`` in the
    formula, named in ``factors`` or given a reference level; the numeric variables are
    logged with DESeq2's advice (integers that may be meant as a factor; centre and scale
    variables with a large mean or spread).
    """
    import formulaic

    variables = formula_variables(formula)
    missing = [v for v in variables if v not in metadata.columns]
    if missing:
        raise MtncrnaError(
            f"design '{formula}' uses {', '.join(missing)}, which the sample sheet does not "
            f"have (columns: {', '.join(map(str, metadata.columns))})"
        )
    data = pd.DataFrame(index=metadata.index)
    ref = reference_levels or {}
    numeric_vars: list[str] = []
    chosen: dict[str, str] = {}
    for v in variables:
        col = metadata[v]
        if col.isna().any():
            bad = list(col.index[col.isna()][:3])
            raise MtncrnaError(
                f"design variable '{v}' is missing for sample(s) {', '.join(map(str, bad))}"
            )
        as_factor = v in ref or v in factors or _wrapped_in_c(formula, v)
        numeric = None if as_factor else _numeric_values(col)
        if numeric is not None:
            data[v] = numeric
            numeric_vars.append(v)
            continue
        values = col.astype(str)
        levels = sorted(values.unique())
        if v in ref:
            if ref[v] not in levels:
                raise MtncrnaError(
                    f"reference level '{ref[v]}' is not a value of '{v}' "
                    f"(values: {', '.join(levels)})"
                )
            levels.remove(ref[v])
            levels.insert(0, ref[v])
        if len(levels) < 2:
            raise MtncrnaError(
                f"design variable '{v}' has a single value ('{levels[0]}'); it cannot be in "
                "the design"
            )
        data[v] = pd.Categorical(values, categories=levels)
        chosen[v] = levels[0]
    rhs = formula.split("~", 1)[1]
    for v in variables:  # C(x) of a column already made categorical: plain x keeps the names
        rhs = re.sub(rf"\bC\(\s*{re.escape(v)}\s*\)", v, rhs)
    _advise_numeric(data, numeric_vars)
    try:
        mm = formulaic.model_matrix(rhs, data)
    except Exception as exc:  # formulaic's errors on terms it cannot build
        detail = " ".join(str(exc).split()[:16])
        raise MtncrnaError(f"design '{formula}' cannot be built ({detail})") from None
    X = pd.DataFrame(np.asarray(mm, dtype=float), index=metadata.index, columns=list(mm.columns))
    X.attrs["reference_levels"] = chosen
    X.attrs["formula"] = formula
    X.attrs["numeric_variables"] = numeric_vars
    return X


def _advise_numeric(data: pd.DataFrame, numeric_vars: Sequence[str]) -> None:
    """DESeq2's two warnings about numeric design variables."""
    if not numeric_vars:
        return
    ints = [v for v in numeric_vars if np.allclose(data[v], np.rint(data[v]))]
    if ints:
        logger.warning(
            "design variable(s) %s hold whole numbers and are fitted as numeric covariates "
            "(a fold change per unit); if they are groups, write C(%s) in the design or list "
            "them under 'factors'",
            ", ".join(ints),
            ints[0],
        )
    large = [v for v in numeric_vars if abs(data[v].mean()) > 5 or data[v].std() > 5]
    if large:
        logger.warning(
            "numeric design variable(s) %s have a mean or standard deviation above 5; as DESeq2 "
            "advises, centre and scale them to improve the fit's convergence",
            ", ".join(large),
        )


def contrast_vector(
    design: pd.DataFrame, factor: str, numerator: str, denominator: str
) -> np.ndarray:
    """The coefficient vector of ``numerator`` vs ``denominator`` of ``factor`` (log2 scale).

    As DESeq2's ``contrast=c(factor, numerator, denominator)``: with interactions in the design
    this is the effect at the reference levels of the other factors.
    """
    cols = list(design.columns)
    prefix = f"{factor}[T."
    levels = {
        c[len(prefix) : -1]: i
        for i, c in enumerate(cols)
        if c.startswith(prefix) and c.endswith("]") and ":" not in c
    }
    if not levels:
        raise MtncrnaError(
            f"'{factor}' is not a factor of the design (coefficients: {', '.join(cols)})"
        )
    c = np.zeros(len(cols))
    for level, sign in ((numerator, 1.0), (denominator, -1.0)):
        if level in levels:
            c[levels[level]] += sign
        elif not _is_reference(design, factor, level, levels):
            raise MtncrnaError(
                f"'{level}' is not a level of '{factor}' (levels: "
                f"{', '.join(sorted(levels))} and the reference level)"
            )
    if numerator == denominator:
        raise MtncrnaError(f"contrast compares '{numerator}' with itself")
    return c


def contrast_samples(
    design: pd.DataFrame, factor: str, numerator: str, denominator: str
) -> np.ndarray:
    """Boolean mask of the samples in the ``numerator`` or ``denominator`` level of ``factor``.

    R's ``results(contrast = c(factor, num, den))`` sets LFC and statistic to 0 and the p-value
    to 1 for genes whose counts are zero in all of these samples.
    """
    cols = list(design.columns)
    prefix = f"{factor}[T."
    main = [i for i, c in enumerate(cols) if c.startswith(prefix) and ":" not in c]
    X = design.to_numpy(dtype=float)
    keep = np.zeros(X.shape[0], dtype=bool)
    for level in (numerator, denominator):
        col = f"{prefix}{level}]"
        if col in cols:
            keep |= X[:, cols.index(col)] != 0
        else:  # the reference level: no main-effect column of the factor is set
            keep |= (X[:, main] == 0).all(axis=1)
    return keep


def _is_reference(design: pd.DataFrame, factor: str, level: str, levels: dict) -> bool:
    return design.attrs.get("reference_levels", {}).get(factor) == level


def coefficient_vector(design: pd.DataFrame, name: str) -> np.ndarray:
    """Unit vector selecting coefficient ``name`` (e.g. an interaction term)."""
    cols = list(design.columns)
    if name not in cols:
        raise MtncrnaError(f"coefficient '{name}' is not in the design: {', '.join(cols)}")
    c = np.zeros(len(cols))
    c[cols.index(name)] = 1.0
    return c


def reduced_design(formula: str, drop: Sequence[str]) -> str:
    """The formula without the terms that involve any variable in ``drop``."""
    rhs = formula.split("~", 1)[1]
    terms = [t.strip() for t in rhs.split("+")]
    keep = [t for t in terms if not any(re.search(rf"\b{re.escape(d)}\b", t) for d in drop)]
    return "~ " + (" + ".join(keep) if keep else "1")
