"""``tl.annotate``: mark each feature with its reference entity and mitochondrial class."""

from __future__ import annotations

from pathlib import Path

import anndata as ad
import numpy as np
import pandas as pd

from ..reference import Reference, is_mt_contig, load_reference

#: The ``var`` columns :func:`annotate` writes.
ANNOTATION_COLUMNS = (
    "reference_id",
    "reference_symbol",
    "rna_class",
    "mt_class",
    "known_mtncrna",
    "n_evidence",
    "name_match",
)


def _coordinate_match(var: pd.DataFrame, ref: Reference, unresolved: np.ndarray) -> dict[int, str]:
    """Features on chrM that no name resolved: match by >= 50% reciprocal overlap with a gene."""
    if not {"chrom", "start", "end"}.issubset(var.columns):
        return {}
    genes = ref.features[(ref.features["chrom"] == "NC_012920.1") & ref.features["start"].notna()]
    g_start = genes["start"].to_numpy(float)
    g_end = genes["end"].to_numpy(float)
    out: dict[int, str] = {}
    chroms = var["chrom"].astype(str).to_numpy()
    starts = pd.to_numeric(var["start"], errors="coerce").to_numpy(float)
    ends = pd.to_numeric(var["end"], errors="coerce").to_numpy(float)
    for i in np.flatnonzero(unresolved):
        if not is_mt_contig(chroms[i].split(";")[0]) or not np.isfinite(starts[i] + ends[i]):
            continue
        ov = np.minimum(ends[i], g_end) - np.maximum(starts[i], g_start) + 1
        frac = np.minimum(ov / (ends[i] - starts[i] + 1), ov / (g_end - g_start + 1))
        best = int(np.argmax(frac))
        if frac[best] >= 0.5:
            out[int(i)] = genes.index[best]
    return out


def annotate(
    adata: ad.AnnData,
    *,
    reference: Reference | str | Path | None = None,
    copy: bool = False,
) -> ad.AnnData | None:
    """Annotate features with the mtncRNA reference.

    Each feature name is resolved through the reference's aliases (miRBase names and MIMAT
    accessions, precursor names, ``mitomiR-``/``miRNA-`` spellings, Ensembl ids with or without
    version, HGNC symbols and previous symbols, mt-tRNA names); features on the mitochondrial
    contig that no name resolves are matched by coordinates when ``var`` has chrom/start/end.

    Parameters
    ----------
    adata
        Samples x features.
    reference
        A loaded reference, or a path to an extension table merged into the bundled one.
    copy
        Return an annotated copy instead of modifying ``adata``.

    Returns
    -------
    ``None``, or the annotated copy when ``copy=True``. Writes ``var`` columns
    ``reference_id``, ``reference_symbol``, ``rna_class``, ``mt_class`` (mitomiR, mito-lncRNA,
    mt-tRNA, mt-rRNA, mt-mRNA, other), ``known_mtncrna``, ``n_evidence`` and ``name_match``
    (exact, alias, coordinates, ambiguous, unknown), and ``uns["mtncrna"]["annotate"]``.
    """
    adata = adata.copy() if copy else adata
    ref = reference if isinstance(reference, Reference) else load_reference(reference)
    res = ref.resolve_many(list(adata.var_names))
    ids = res["reference_id"].to_numpy(dtype=object)
    status = res["status"].to_numpy(dtype=object)
    unresolved = np.array([r is None for r in ids])
    for i, rid in _coordinate_match(adata.var, ref, unresolved).items():
        ids[i] = rid
        status[i] = "coordinates"
    feats = ref.features.reindex([r if r is not None else "" for r in ids])
    found = np.array([r is not None for r in ids])
    var = adata.var
    var["reference_id"] = [r if r is not None else "" for r in ids]
    var["reference_symbol"] = np.where(found, feats["symbol"].fillna("").to_numpy(), "")
    var["rna_class"] = np.where(found, feats["rna_class"].fillna("").to_numpy(), "")
    mt_class = np.where(found, feats["mt_class"].astype(object).fillna("other").to_numpy(), "other")
    var["mt_class"] = pd.Categorical(
        mt_class, categories=list(ref.features["mt_class"].cat.categories)
    )
    known = feats["known_mtncrna"].astype("boolean").fillna(False).to_numpy(dtype=bool)
    var["known_mtncrna"] = found & known
    var["n_evidence"] = np.where(found, feats["n_evidence"].fillna(0).to_numpy(), 0).astype(int)
    var["name_match"] = pd.Categorical(
        status, categories=["exact", "alias", "coordinates", "ambiguous", "unknown"]
    )
    counts = var["mt_class"].value_counts()
    meta = dict(adata.uns.get("mtncrna", {}))
    meta["annotate"] = {
        "reference_version": ref.version,
        "n_features": int(adata.n_vars),
        "n_resolved": int(found.sum()),
        "n_ambiguous": int((status == "ambiguous").sum()),
        "n_unknown": int((status == "unknown").sum()),
        "n_known_mtncrna": int(var["known_mtncrna"].sum()),
        "mt_class_counts": {str(k): int(v) for k, v in counts.items()},
    }
    adata.uns["mtncrna"] = meta
    return adata if copy else None
