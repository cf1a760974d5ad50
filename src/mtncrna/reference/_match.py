"""Finding a user's names among a table's features when the two use different namings.

A target list in symbols (miRTarBase, TargetScan) and a count table in versioned Ensembl ids, or
a signature written from one table and scored on another, meet here: each side is reduced to a
key (the same name; the same reference entity; the same NCBI gene) and keys are compared.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence

import pandas as pd

from ._genes import GeneMap, load_gene_map
from ._reference import Reference

#: ``how`` values of :func:`match_names`.
MATCH_HOW = ("same_name", "reference", "gene", "ambiguous", "absent")


def match_names(
    queries: Sequence[str],
    features: Sequence[str] | pd.Index,
    *,
    reference: Reference | None = None,
    genes: GeneMap | None = None,
    use_genes: bool = True,
) -> pd.DataFrame:
    """Match each query name to one of ``features``.

    In order: the same name; the same reference entity (``mitomiR-2392`` meets
    ``hsa-miR-2392``, ``MIMAT0019043``); the same human gene through the gene map (``TP53``
    meets ``ENSG00000141510.17``, ``7157``). A query whose key points to several features is
    ``ambiguous`` (the features are listed in ``note``), never guessed.

    Returns one row per query: ``query``, ``feature`` (None when not found), ``how`` (one of
    :data:`MATCH_HOW`) and ``note``.
    """
    feats = [str(f) for f in features]
    fset = set(feats)
    out_feature: list[str | None] = []
    out_how: list[str] = []
    out_note: list[str] = []
    pending = [i for i, q in enumerate(queries) if str(q) not in fset]
    ref_index: dict[str, list[str]] | None = None
    gene_index: dict[str, list[str]] | None = None
    by_ref: dict[int, tuple[str | None, str, str]] = {}
    if pending and reference is not None:
        ref_index = defaultdict(list)
        res = reference.resolve_many(feats)
        for f, rid in zip(feats, res["reference_id"], strict=True):
            if rid:
                ref_index[rid].append(f)
        qres = reference.resolve_many([str(queries[i]) for i in pending])
        for i, rid in zip(pending, qres["reference_id"], strict=True):
            hits = ref_index.get(rid, []) if rid else []
            if len(hits) == 1:
                by_ref[i] = (hits[0], "reference", "")
            elif len(hits) > 1:
                by_ref[i] = (None, "ambiguous", "several features: " + ", ".join(hits[:5]))
    still = [i for i in pending if i not in by_ref]
    by_gene: dict[int, tuple[str | None, str, str]] = {}
    if still and use_genes:
        gm = genes or load_gene_map()
        gene_index = defaultdict(list)
        fres = gm.resolve_many(feats)
        for f, eid in zip(feats, fres["entrez_id"], strict=True):
            if eid:
                gene_index[eid].append(f)
        qres = gm.resolve_many([str(queries[i]) for i in still])
        for i, eid, status, cand in zip(
            still, qres["entrez_id"], qres["status"], qres["candidates"], strict=True
        ):
            if eid is None:
                if status == "ambiguous":
                    by_gene[i] = (None, "ambiguous", f"several genes (Entrez {cand})")
                continue
            hits = gene_index.get(eid, [])
            if len(hits) == 1:
                by_gene[i] = (hits[0], "gene", f"Entrez {eid}")
            elif len(hits) > 1:
                by_gene[i] = (None, "ambiguous", "several features: " + ", ".join(hits[:5]))
    for i, q in enumerate(queries):
        if str(q) in fset:
            f, how, note = str(q), "same_name", ""
        elif i in by_ref:
            f, how, note = by_ref[i]
        elif i in by_gene:
            f, how, note = by_gene[i]
        else:
            f, how, note = None, "absent", ""
        out_feature.append(f)
        out_how.append(how)
        out_note.append(note)
    return pd.DataFrame(
        {
            "query": [str(q) for q in queries],
            "feature": out_feature,
            "how": out_how,
            "note": out_note,
        }
    )


def naming_of(names: Sequence[str], limit: int = 200) -> str:
    """A few words on how a list of names looks (for error messages): ids, symbols, miRNAs."""
    sample = [str(n) for n in list(names)[:limit]]
    if not sample:
        return "empty"
    kinds = pd.Series(
        [
            "versioned Ensembl ids"
            if n.upper().startswith("ENS") and "." in n
            else "Ensembl ids"
            if n.upper().startswith("ENS")
            else "miRNA names"
            if "mir" in n.lower() or n.lower().startswith("let-")
            else "Entrez ids"
            if n.isdigit()
            else "symbols"
            for n in sample
        ]
    )
    top = kinds.value_counts().index[0]
    return f"{top} (e.g. {sample[0]})"
