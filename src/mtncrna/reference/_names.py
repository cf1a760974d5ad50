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


#: Words that name a class of RNA, never one gene: ``tRNA`` must not become MT-TA (NCBI's
#: symbol for tRNA-Ala is ``TRNA``, which still resolves when typed exactly).
GENERIC_WORDS = frozenset(
    {
        "rna", "dna", "trna", "rrna", "mrna", "mirna", "mir", "microrna", "lncrna", "ncrna",
        "sncrna", "snrna", "snorna", "pirna", "circrna", "mtdna", "mtrna", "mt-rna", "mt-trna",
        "mt-rrna", "mt-mrna", "mitomir", "mitomirna", "gene", "genes", "trnas", "mirnas",
        "lncrnas", "rrnas", "5s", "12s", "16s", "18s", "28s",
    }
)  # fmt: skip

_PRE_PREFIX = re.compile(r"^(pre|pri)[-_ ]?(?=(hsa[-_])?(mir|let|microrna|mirna))", re.IGNORECASE)
_SPACED_LETTER = re.compile(r"(\d)\s+([a-z])(?![a-z])", re.IGNORECASE)
_FAMILY = re.compile(r"^(mir-\d+)([a-z])?(?:-\d+)?(?:-([35]p))?$")


def is_generic(name: str) -> bool:
    """True for words such as ``tRNA`` or ``miRNA`` that name a class of RNA, not a gene."""
    return name_key(name) in GENERIC_WORDS


def strip_precursor_prefix(name: str) -> str | None:
    """``pre-miR-485-5p`` -> ``miR-485-5p``; None when there is no pre-/pri- prefix."""
    m = _PRE_PREFIX.match(name.strip())
    return name.strip()[m.end() :] if m else None


def family_key(key: str) -> tuple[str, str] | None:
    """``mir-34a-5p`` -> (``mir-34``, ``5p``); ``mir-125`` -> (``mir-125``, ``""``)."""
    m = _FAMILY.match(key)
    return (m.group(1), m.group(3) or "") if m else None


def name_key(name: str) -> str:
    """A case-insensitive key under which spelling variants of one name coincide.

    ``hsa-miR-2392``, ``miR-2392``, ``mitomiR-2392``, ``miRNA-2392`` and ``MIR-2392`` all give
    ``mir-2392``; ``hsa-let-7a-5p`` and ``let-7a-5p`` give ``let-7a-5p``; Ensembl versions are
    dropped; ``MT_TF`` and ``mt-TF`` give ``mt-tf``.
    """
    s = _SPACED_LETTER.sub(r"\1\2", strip_ensembl_version(name).strip()).casefold()
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
    """Names joined with ``/``, as miRge3 writes identical sequences and papers write pairs.

    ``hsa-let-7a-5p/7c-5p`` -> hsa-let-7a-5p, hsa-let-7c-5p; ``miR-221/222`` -> miR-221,
    miR-222; ``miR-520g/h`` -> miR-520g, miR-520h; ``miR-221/222-3p`` -> miR-221-3p, miR-222-3p.
    """
    if "/" not in name:
        return [name]
    parts = [p.strip() for p in name.split("/") if p.strip()]
    if len(parts) < 2:
        return [name]
    first = parts[0]
    m = re.match(r"^(.*?)(\d+)([a-z]?)((?:-\d+)?)((?:-[35]p)?)$", first, re.IGNORECASE)
    if not m:
        return parts
    prefix, number, _letter, _copy, arm = m.groups()
    last_arm = re.search(r"-[35]p$", parts[-1])
    out = [first + (last_arm.group(0) if last_arm and not arm else "")]
    for part in parts[1:]:
        if re.match(r"^\d", part):
            # "7c-5p" after "hsa-let-7a-5p" means "hsa-let-7c-5p"; "222" after "miR-221"
            full = prefix + part
        elif re.fullmatch(r"[a-z](-[35]p)?", part, re.IGNORECASE):
            # "h" after "miR-520g" means "miR-520h"
            full = prefix + number + part
        else:
            out.append(part)
            continue
        if arm and not re.search(r"-[35]p$", full):
            full += arm
        out.append(full)
    return out
