"""scanpy's API conventions over the public surface (a port of scanpy's package-structure test).

Functions on an AnnData take it first and everything else keyword-only; ``copy=True`` returns
an AnnData and ``copy=False`` None; every ``tl``/``pp`` step has a ``get.x_df``; results in ``uns``
carry their kind so readers find them by type; a misspelled layer is an error, not X.
"""

from __future__ import annotations

import inspect
import typing

import anndata as ad
import numpy as np
import pandas as pd
import pytest

import mtncrna as mt

#: tl/pp function -> the getter that reads what it wrote.
GETTERS = {
    "qc": "qc_df",
    "annotate": "annotation_df",
    "de": "de_df",
    "enrichment": "enrichment_df",
    "concordance": "concordance_df",
    "integrate": "integrate_df",
    "score": "score_df",
    "signature": "signature_df",
}


def _public(module):
    return {
        name: getattr(module, name)
        for name in module.__all__
        if inspect.isfunction(getattr(module, name))
    }


def _takes_adata(fn) -> bool:
    params = list(inspect.signature(fn).parameters.values())
    if not params:
        return False
    hint = typing.get_type_hints(fn).get(params[0].name)
    return hint is ad.AnnData


STEP_FUNCTIONS = {f"{m.__name__}.{n}": f for m in (mt.pp, mt.tl) for n, f in _public(m).items()}


@pytest.mark.parametrize("name", sorted(STEP_FUNCTIONS))
def test_adata_first_rest_keyword_only(name):
    fn = STEP_FUNCTIONS[name]
    params = list(inspect.signature(fn).parameters.values())
    positional = [p for p in params if p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD)]
    if _takes_adata(fn):
        # integrate takes the two libraries it couples; score the signature it scores with
        # (as scanpy's score_genes takes its gene list)
        allowed = 2 if name.endswith((".integrate", ".score")) else 1
        assert len(positional) <= allowed, f"{name}: {[p.name for p in positional]}"
    else:  # functions on tables: their table(s) first, options keyword-only
        assert len(positional) <= 1, f"{name}: {[p.name for p in positional]}"


@pytest.mark.parametrize("name", sorted(STEP_FUNCTIONS))
def test_copy_returns_anndata_or_none(name):
    fn = STEP_FUNCTIONS[name]
    sig = inspect.signature(fn)
    if "copy" not in sig.parameters:
        return
    assert sig.parameters["copy"].default is False
    ret = typing.get_type_hints(fn)["return"]
    assert set(typing.get_args(ret)) == {ad.AnnData, type(None)}, f"{name} returns {ret}"


@pytest.mark.parametrize("name", sorted(GETTERS))
def test_every_step_has_a_getter(name):
    assert hasattr(mt.tl, name) or hasattr(mt.pp, name)
    assert callable(getattr(mt.get, GETTERS[name]))


@pytest.mark.parametrize("name", sorted(STEP_FUNCTIONS))
def test_steps_that_store_results_name_their_key(name):
    fn = STEP_FUNCTIONS[name]
    if not _takes_adata(fn) or name.endswith(".annotate"):
        return
    params = inspect.signature(fn).parameters
    if "copy" in params or name.endswith(".integrate"):
        assert "key_added" in params, f"{name} writes results but has no key_added"


@pytest.fixture(scope="module")
def study():
    a = mt.datasets.simulate_study(0, n_other_mirnas=40).small
    mt.tl.annotate(a)
    return a


def test_results_carry_their_kind_and_getters_read_them(study):
    a = study.copy()
    mt.pp.qc(a)
    mt.tl.de(
        a,
        design="~ cell_line + condition",
        contrasts=[("condition", "resistant", "parental")],
        subset={"fraction": "cytosol"},
        key_added="de_cyto",
    )
    mt.tl.enrichment(a, key_added="enr")
    mt.tl.concordance(a, key="de_cyto")
    assert mt._uns.keys_of_kind(a, "de") == ["de_cyto"]
    assert mt._uns.keys_of_kind(a, "enrichment") == ["enr"]
    assert a.uns["qc"]["kind"] == "qc"
    assert "enr_mito_enriched" in a.var and "mito_enriched" not in a.var
    assert len(mt.get.de_df(a, key="de_cyto")) == a.n_vars
    assert len(mt.get.enrichment_df(a, key="enr")) == a.n_vars
    assert len(mt.get.qc_df(a)) == a.n_obs
    conc = mt.get.concordance_df(a)
    assert {"verdict"} <= set(conc.columns)
    sig = pd.DataFrame({"feature_id": list(a.var_names[:5]), "weight": [1.0, -1, 1, -1, 1]})
    mt.tl.score(a, sig)
    scores = mt.get.score_df(a)
    assert list(scores["sample"]) == list(a.obs_names)
    assert list(mt.get.signature_df(a)["feature_id"]) == list(sig["feature_id"])


def test_copy_leaves_the_input_alone(study):
    a = study.copy()
    b = mt.pp.qc(a, copy=True)
    assert isinstance(b, ad.AnnData) and "qc" in b.uns and "qc" not in a.uns
    assert mt.pp.qc(a) is None and "qc" in a.uns


def test_getters_say_which_step_to_run(study):
    a = study.copy()
    for getter, step in [
        (mt.get.qc_df, "pp.qc"),
        (mt.get.de_df, "tl.de"),
        (mt.get.enrichment_df, "tl.enrichment"),
        (mt.get.concordance_df, "tl.concordance"),
        (mt.get.score_df, "tl.score"),
        (mt.get.integrate_df, "tl.integrate"),
    ]:
        with pytest.raises(mt.MtncrnaError, match=step.replace(".", r"\.")):
            getter(a)


def test_a_misspelled_layer_is_an_error(study):
    a = study.copy()
    with pytest.raises(mt.MtncrnaError, match="no layer 'cuonts'"):
        mt.pp.qc(a, layer="cuonts")
    with pytest.raises(mt.MtncrnaError, match="no layer 'raw'"):
        mt.tl.de(
            a, design="~ condition", contrasts=[("condition", "resistant", "parental")], layer="raw"
        )
    b = ad.AnnData(np.asarray(a.X), obs=a.obs, var=a.var)  # no layers at all: X is the counts
    assert np.array_equal(mt._uns.matrix(b), np.asarray(a.layers["counts"], dtype=float))


def test_numeric_sheet_columns_are_covariates_unless_asked(study, caplog):
    a = study.copy()
    a = a[a.obs["fraction"] == "cytosol"].copy()
    dose = {"parental": "0", "resistant": "2"}
    a.obs["dose"] = [dose[c] for c in a.obs["condition"].astype(str)]  # text, as a sheet holds it
    a.obs["age"] = np.linspace(40, 70, a.n_obs).round(1).astype(str)
    X = mt.engine.design_matrix("~ age + condition", a.obs)
    assert "age" in X.columns  # one numeric column, not a level per age
    assert X.attrs["numeric_variables"] == ["age"]
    assert "centre and scale" in caplog.text
    Xf = mt.engine.design_matrix("~ C(dose)", a.obs)
    assert "dose[T.2]" in Xf.columns
    Xn = mt.engine.design_matrix("~ dose", a.obs)
    assert list(Xn.columns) == ["Intercept", "dose"]
    assert "whole numbers" in caplog.text
    Xk = mt.engine.design_matrix("~ dose", a.obs, factors=["dose"])
    assert "dose[T.2]" in Xk.columns
    # a contrast on a numeric-looking column makes it a factor
    mt.tl.de(a, design="~ dose", contrasts=[("dose", "2", "0")])
    assert "dose_2_vs_0" in a.uns["de"]["results"]
