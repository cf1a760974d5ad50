"""Name normalisation: the rules that make ``mitomiR-2392``, ``hsa-miR-2392`` and ``MIR2392`` meet.

Resolution first tries a case-sensitive exact alias (so miRBase's precursor ``hsa-mir-21`` and
mature ``hsa-miR-21`` stay distinct) and then a normalised key built by :func:`name_key`.
"""

from __future__ import annotations

import re

_ENSEMBL_VERSION = re.compile(r"^(ENS[A-Z]*[GTE]\d{11})\.\d+(_PAR_Y)?$", re.IGNORECASE)
_ENSEMBL_ANY = re.compile(r"ENS[A-Z]*G\d{11}", re.IGNORECASE)
_SPECIES = re.compile(r"^hsa[-_]", re.IGNORECASE)
_MIR_PREFIX = re.compile(
    r"^(mitomir|mito-mir|mitomirna|microrna|mirna|mir)[-_ ]?(?=\d)", re.IGNORECASE
)
_LET_PREFIX = re.compile(r"^let[-_ ]?(?=\d)", re.IGNORECASE)

#: Names under which the mitochondrial contig appears in FASTA/GTF/BAM files.
MT_CONTIGS = frozenset(
    {"chrm", "mt", "m", "chrmt", "nc_012920.1", "nc_012920", "rcrs", "chrm_rcrs", "mito"}
)


def strip_ensembl_version(name: str) -> str:
    """``ENSG00000240405.7`` -> ``ENSG00000240405`` (other names unchanged)."""
    m = _ENSEMBL_VERSION.match(name.strip())
    return m.group(1) if m else name.strip()


def ensembl_id_in(name: str) -> str | None:
    """An Ensembl gene id embedded in a composite name (``ENSG00000240405.7|SAMMSON``), if any."""
    m = _ENSEMBL_ANY.search(name)
    return m.group(0).upper() if m else None


def name_key(name: str) -> str:
    """A case-insensitive key under which spelling variants of one name coincide.

    ``hsa-miR-2392``, ``miR-2392``, ``mitomiR-2392``, ``miRNA-2392`` and ``MIR-2392`` all give
    ``mir-2392``; ``hsa-let-7a-5p`` and ``let-7a-5p`` give ``let-7a-5p``; Ensembl versions are
    dropped; ``MT_TF`` and ``mt-TF`` give ``mt-tf``.
    """
    s = strip_ensembl_version(name).strip().casefold()
    s = _SPECIES.sub("", s)
    s = _MIR_PREFIX.sub("mir-", s)
    s = _LET_PREFIX.sub("let-", s)
    s = s.replace("_", "-").replace(" ", "-")
    return s


def is_mt_contig(name: str) -> bool:
    """True for chrM, MT, M, NC_012920.1 and the other common names of the mitochondrial contig."""
    s = name.strip().casefold()
    if s.startswith("gi|") and "nc_012920" in s:
        return True
    return s in MT_CONTIGS


def split_collapsed(name: str) -> list[str]:
    """miRge3 joins miRNAs with identical sequences: ``hsa-let-7a-5p/7c-5p`` -> both full names."""
    if "/" not in name:
        return [name]
    parts = [p.strip() for p in name.split("/") if p.strip()]
    if not parts:
        return [name]
    first = parts[0]
    m = re.match(r"^(.*?)(\d+[a-z]?(?:-\d+)?(?:-[35]p)?)$", first)
    out = [first]
    for part in parts[1:]:
        if m and re.match(r"^\d", part):
            # "7c-5p" after "hsa-let-7a-5p" means "hsa-let-7c-5p"
            out.append(m.group(1) + part)
        else:
            out.append(part)
    return out
