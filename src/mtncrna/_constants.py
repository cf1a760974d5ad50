"""Names shared across the package: the mitochondrial contig, the classes, the ``uns`` keys."""

from __future__ import annotations

#: The mitochondrial genome's accession (rCRS) as the bundled reference names it.
MT_CONTIG = "NC_012920.1"

#: The mitochondrial classes a feature can have (``var["mt_class"]``), in display order.
MT_CLASSES = ("mitomiR", "mito-lncRNA", "mt-tRNA", "mt-rRNA", "mt-mRNA", "other")

#: The classes encoded by mtDNA itself (genes of the mitochondrial genome).
MT_ENCODED_CLASSES = ("mt-tRNA", "mt-rRNA", "mt-mRNA")

#: ``adata.uns`` key of the package's own metadata (library, format, provenance, annotation).
UNS_META = "mtncrna"

#: Default ``adata.uns`` keys of the analyses (each can be changed with ``key_added``).
UNS_QC = "qc"
UNS_DE = "de"
UNS_ENRICHMENT = "enrichment"
UNS_CONCORDANCE = "concordance"
UNS_SIGNATURE = "signature"
UNS_SCORE = "signature_score"
UNS_INTEGRATE = "integrate"

#: ``uns[key]["kind"]`` of each analysis result, so readers find results by type, not by name.
KINDS = ("qc", "de", "enrichment", "concordance", "signature", "score", "integrate")

#: Count-table formats ``read_counts`` knows (``auto``: detected from the content).
FORMATS = (
    "auto",
    "table",
    "featurecounts",
    "htseq",
    "star",
    "mirge3",
    "smrnaseq",
    "mirdeep2",
    "mirtop",
    "h5ad",
)
