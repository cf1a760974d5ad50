"""One rule for sample names taken from file paths (count files, BAM columns, FASTQs).

The rule, applied to the last part of the path:

1. Drop compression and file-type extensions (``.gz``, ``.bz2``, ``.xz``, ``.zst``, ``.bam``,
   ``.sam``, ``.cram``, ``.fastq``, ``.fq``, ``.txt``, ``.tsv``, ``.csv``, ``.tab``, ``.sf``).
2. Drop the suffixes aligners, deduplicators, trimmers and counters add to a sample name, as many
   as there are: STAR's ``Aligned.sortedByCoord.out`` / ``Aligned.out`` / ``ReadsPerGene.out``,
   RSEM's ``.genes.results``, ``.sorted``, ``.markdup``, ``.dedup``, ``_trimmed``, ``.htseq``,
   ``.counts`` and the like (the full list is :data:`TOOL_SUFFIXES`).
3. Drop an Illumina (bcl2fastq / BCL Convert) tail ``_S<n>[_L<lane>][_R<read>]_001``:
   ``S1_S1_L001_R1_001.fastq.gz`` -> ``S1``. A bare ``_1``, ``_2`` or ``_R1`` is kept: ``X_1``
   stays ``X_1``, because that is as often a sample name as a read number.
4. If nothing but a tool's own name is left (STAR run with ``--outFileNamePrefix star/S1/``
   writes ``star/S1/Aligned.sortedByCoord.out.bam``; salmon writes ``S1/quant.sf``), the
   sample is the folder the file is in, by the same rule: ``star/S1/ReadsPerGene.out.tab`` -> S1.

The CLI's ``--sample-names`` replaces derived names when the paths do not carry them.
"""

from __future__ import annotations

import re
from pathlib import PurePath, PurePosixPath, PureWindowsPath

#: Extensions of the file type and its compression (step 1).
FILE_EXTENSIONS = re.compile(
    r"\.(gz|bz2|xz|zst|bam|sam|cram|fastq|fq|txt|tsv|csv|tab|sf)$", re.IGNORECASE
)
#: Suffixes tools add to a sample name (step 2), matched at the end, case-insensitively.
TOOL_SUFFIXES = re.compile(
    r"([._]?Aligned\.sortedByCoord\.out|[._]?Aligned\.toTranscriptome\.out|[._]?Aligned\.out|"
    r"[._]?ReadsPerGene\.out|\.genes\.results|\.isoforms\.results|"
    r"[._](sorted|sort|markdup|markDuplicates|dedup|dedupped|umi_dedup|filtered|primary|"
    r"unique|mapped|trimmed)|"
    r"\.(htseq-count|htseq_counts|htseq|counts|count|readcounts|featureCounts))$",
    re.IGNORECASE,
)
#: bcl2fastq / BCL Convert file-name tail (step 3).
ILLUMINA_TAIL = re.compile(r"_S\d+(_L\d{3})?(_[RI][123])?_001$")
#: File names that are only a tool's name: the sample is the folder (step 4).
GENERIC_NAMES = frozenset(
    {
        "",
        "aligned",
        "readspergene",
        "quant",
        "quant.genes",
        "abundance",
        "accepted_hits",
        "possorted_genome_bam",
        "counts",
        "count",
        "htseq",
        "featurecounts",
        "out",
    }
)


def _strip(name: str) -> str:
    base = name
    while True:
        new = TOOL_SUFFIXES.sub("", FILE_EXTENSIONS.sub("", base))
        if new == base:
            break
        base = new
    return ILLUMINA_TAIL.sub("", base) or base


def sample_name_from_path(path: str | PurePath) -> str:
    """The sample name a path stands for, by the rule in this module's docstring.

    >>> sample_name_from_path("star/S1/Aligned.sortedByCoord.out.bam")
    'S1'
    >>> sample_name_from_path("fastq/S1_S1_L001_R1_001.fastq.gz")
    'S1'
    >>> sample_name_from_path("/data/X_1.sorted.bam")
    'X_1'
    """
    text = str(path).strip()
    pure: PurePath = PureWindowsPath(text) if "\\" in text else PurePosixPath(text)
    parts = [p for p in pure.parts if p not in ("/", "\\", ".", "..") and not p.endswith(":\\")]
    if not parts:
        return text
    for i in range(len(parts) - 1, -1, -1):
        base = _strip(parts[i])
        if base.lower() not in GENERIC_NAMES:
            return base
    return _strip(parts[-1]) or parts[-1]
