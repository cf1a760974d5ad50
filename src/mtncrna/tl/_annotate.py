"""``tl.annotate``: mark each feature with its reference entity and mitochondrial class."""

from __future__ import annotations

from pathlib import Path

import anndata as ad

from .._constants import UNS_META
from ..reference import Reference, annotate_var, load_reference


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
    columns, summary = annotate_var(adata.var, ref)
    for col in columns.columns:
        adata.var[col] = columns[col]
    meta = dict(adata.uns.get(UNS_META, {}))
    meta["annotate"] = summary
    adata.uns[UNS_META] = meta
    return adata if copy else None
