"""Putting the ``.h5ad`` outputs of several steps together for one report."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import anndata as ad

from .._constants import UNS_META
from .._uns import keys_of_kind


def merge_libraries(adatas: Sequence[ad.AnnData]) -> dict[str, ad.AnnData]:
    """One AnnData per library (small/long): analyses (``uns``), QC (``obs``) and ``var``
    columns of files of the same library are combined; the first file of a library is the base.
    """
    libs: dict[str, ad.AnnData] = {}
    for a in adatas:
        lib = str(a.uns.get(UNS_META, {}).get("library", "small"))
        if lib not in libs:
            libs[lib] = a
            continue
        base = libs[lib]
        for key, val in a.uns.items():
            if key not in base.uns:
                base.uns[key] = val
        for col in a.obs.columns:
            if col not in base.obs.columns:
                base.obs[col] = a.obs[col].reindex(base.obs_names)
        for col in a.var.columns:
            if col not in base.var.columns:
                base.var[col] = a.var[col].reindex(base.var_names)
        for key, val in a.obsm.items():
            if key not in base.obsm and list(a.obs_names) == list(base.obs_names):
                base.obsm[key] = val
    return libs


def de_keys(libraries: Mapping[str, ad.AnnData]) -> list[str]:
    """The ``uns`` keys holding DE results in any library, found by their kind."""
    keys: list[str] = []
    for a in libraries.values():
        found = keys_of_kind(a, "de")
        if not found:  # files written before results carried their kind
            found = [
                k
                for k, v in a.uns.items()
                if isinstance(v, Mapping) and "results" in v and "dispersions" in v
            ]
        keys.extend(k for k in found if k not in keys)
    return keys
