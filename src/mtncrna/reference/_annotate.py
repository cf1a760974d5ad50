"""Matching feature names (and chrM coordinates) to reference entities: a pure function on ``var``.

Readers (``io``) and :func:`mtncrna.tl.annotate` both call :func:`annotate_var`, so there is one
annotation rule in the house and it sits on the ground floor, beside the reference it uses.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from .._constants import MT_CONTIG
from ._names import is_mt_contig
from ._reference import Reference

#: The ``var`` columns :func:`annotate_var` returns.
ANNOTATION_COLUMNS = (
    "reference_id",
    "reference_symbol",
    "rna_class",
    "mt_class",
    "known_mtncrna",
    "n_evidence",
    "name_match",
)

NAME_MATCH_STATUSES = (
    "exact",
    "alias",
    "group",
    "symbol",
    "coordinates",
    "ambiguous",
    "unknown",
)
#: Columns of a count table holding each feature's gene symbol beside its id (nf-core/rnaseq's
#: ``gene_name``, GTF-derived tables): tried for ids the reference does not know.
SYMBOL_COLUMNS = ("gene_name", "gene_symbol", "symbol", "genesymbol", "gene_names", "name")


#: Features up to this length (small-RNA reads and clusters, 18-35 nt and a little more) are
#: placed by how much of *them* a gene covers; longer ones need a reciprocal overlap.
SHORT_FEATURE_MAX = 200


def _coordinate_match(var: pd.DataFrame, ref: Reference, unresolved: np.ndarray) -> dict[int, str]:
    """Features on chrM that no name resolved, matched to an mtDNA gene by coordinates.

    A short feature (at most :data:`SHORT_FEATURE_MAX` nt, e.g. an 18-35 nt read cluster) goes to
    the gene that covers at least half of the feature; a longer one needs >= 50% reciprocal
    overlap. When ``var`` has a ``strand`` column, only a gene on the same strand counts (an
    antisense read is not a read of the gene). Ties go to the gene covering more of the feature.
    """
    if not {"chrom", "start", "end"}.issubset(var.columns):
        return {}
    genes = ref.features[(ref.features["chrom"] == MT_CONTIG) & ref.features["start"].notna()]
    g_start = genes["start"].to_numpy(float)
    g_end = genes["end"].to_numpy(float)
    g_strand = genes["strand"].astype(str).to_numpy()
    out: dict[int, str] = {}
    chroms = var["chrom"].astype(str).to_numpy()
    starts = pd.to_numeric(var["start"], errors="coerce").to_numpy(float)
    ends = pd.to_numeric(var["end"], errors="coerce").to_numpy(float)
    strands = (
        var["strand"].astype(str).str.split(";").str[0].to_numpy()
        if "strand" in var.columns
        else np.full(len(var), "")
    )
    for i in np.flatnonzero(unresolved):
        if not is_mt_contig(chroms[i].split(";")[0]) or not np.isfinite(starts[i] + ends[i]):
            continue
        length = ends[i] - starts[i] + 1
        ov = np.clip(np.minimum(ends[i], g_end) - np.maximum(starts[i], g_start) + 1, 0, None)
        of_feature = ov / length
        if length <= SHORT_FEATURE_MAX:
            score = of_feature
        else:
            score = np.minimum(of_feature, ov / (g_end - g_start + 1))
        if strands[i] in ("+", "-"):
            score = np.where(g_strand == strands[i], score, 0.0)
        best = int(np.lexsort((-of_feature, -score))[0])
        if score[best] >= 0.5:
            out[int(i)] = genes.index[best]
    return out


def annotate_var(var: pd.DataFrame, ref: Reference) -> tuple[pd.DataFrame, dict[str, Any]]:
    """Resolve every feature of ``var`` (its index holds the names) against ``ref``.

    Names resolve through the reference's aliases; features on the mitochondrial contig that no
    name resolves are matched by coordinates when ``var`` has chrom/start/end columns.

    Returns the :data:`ANNOTATION_COLUMNS` as a frame with ``var``'s index, and a summary
    (reference version, counts of resolved/ambiguous/unknown features and per class).
    """
    res = ref.resolve_many(list(var.index))
    ids = res["reference_id"].to_numpy(dtype=object)
    status = res["status"].to_numpy(dtype=object)
    unresolved = np.array([r is None for r in ids], dtype=bool)
    symbols = next((c for c in var.columns if str(c).lower() in SYMBOL_COLUMNS), None)
    if symbols is not None and unresolved.any():  # an id the reference lacks: its gene symbol
        idx = np.flatnonzero(unresolved)
        names = var[symbols].iloc[idx].astype(str).str.strip().tolist()
        by_symbol = ref.resolve_many(names)["reference_id"].tolist()
        for i, rid in zip(idx, by_symbol, strict=True):
            if rid is not None:
                ids[i] = rid
                status[i] = "symbol"
        unresolved = np.array([r is None for r in ids], dtype=bool)
    for i, rid in _coordinate_match(var, ref, unresolved).items():
        ids[i] = rid
        status[i] = "coordinates"
    feats = ref.features.reindex([r if r is not None else "" for r in ids])
    found = np.array([r is not None for r in ids], dtype=bool)
    out = pd.DataFrame(index=var.index)
    out["reference_id"] = [r if r is not None else "" for r in ids]
    out["reference_symbol"] = np.where(found, feats["symbol"].fillna("").to_numpy(), "")
    out["rna_class"] = np.where(found, feats["rna_class"].fillna("").to_numpy(), "")
    mt_class = np.where(found, feats["mt_class"].astype(object).fillna("other").to_numpy(), "other")
    out["mt_class"] = pd.Categorical(
        mt_class, categories=list(ref.features["mt_class"].cat.categories)
    )
    known = feats["known_mtncrna"].astype("boolean").fillna(False).to_numpy(dtype=bool)
    out["known_mtncrna"] = found & known
    out["n_evidence"] = np.where(found, feats["n_evidence"].fillna(0).to_numpy(), 0).astype(int)
    out["name_match"] = pd.Categorical(status, categories=list(NAME_MATCH_STATUSES))
    counts = out["mt_class"].value_counts()
    summary = {
        "reference_version": ref.version,
        "n_features": len(var),
        "n_resolved": int(found.sum()),
        "n_ambiguous": int((status == "ambiguous").sum()),
        "n_unknown": int((status == "unknown").sum()),
        "n_known_mtncrna": int(out["known_mtncrna"].sum()),
        "mt_class_counts": {str(k): int(v) for k, v in counts.items()},
    }
    return out, summary
