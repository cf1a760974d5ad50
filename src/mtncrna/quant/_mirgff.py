"""mirGFF3 (the miRTop community's isomiR format, version 1.2) written from its specification.

One line per distinct insert assigned to a miRNA, beside ``isomirs.tsv``:

* header (no ``##gff-version 3`` pragma, as mirtop writes it and readers of mirtop's files
  expect): ``## mirGFF3. VERSION 1.2``, ``## source-ontology:`` (miRBase 22
  with its FAIRsharing DOI for the bundled reference, else ``custom``), ``## TOOLS:``,
  ``## FILTER:`` and last ``## COLDATA:`` the samples (comma-separated, the order of
  ``Expression``);
* columns: precursor (hairpin), source database, ``ref_miRNA`` (the canonical sequence) or
  ``isomiR``, 1-based start and end of the read on the hairpin (non-templated 3' nucleotides
  included, as the read lies on it), score ``.``, strand ``+``, phase ``.``;
* attributes: ``UID`` (see below), ``Read``, ``Name`` (mature; a tie of several miRNAs is one
  name ``a/b`` with ``Hits`` = the number tied), ``Parent`` (hairpin), ``Variant`` (the same
  labels as ``isomirs.tsv``: ``iso_5p:-1`` starts 1 nt upstream, ``iso_3p:+2`` ends 2 nt
  downstream, ``iso_add3p:N``, ``iso_snv_*``; ``NA`` for the canonical sequence), ``Cigar``
  (``M`` only for identical nucleotides; a mismatch, including each non-templated nucleotide,
  is written as the hairpin's nucleotide, e.g. ``11MA10M``), ``Hits``, ``Expression`` (counts
  per sample, the order of COLDATA) and ``Filter=Pass``.

The specification asks for a MINTplates licence plate as ``UID``; the MINTplates encoding comes
with its own terms of use, so ``UID`` is mtncrna's own stable id of the read sequence
(``mtn-<length>-<hash>``), the same as in ``isomirs.tsv``. Reserved characters (``; = & ,``)
in values are percent-encoded as the specification says.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

VERSION = "1.2"
_ESCAPE = str.maketrans({";": "%3B", "=": "%3D", "&": "%26", ",": "%2C"})
_RESERVED = ";=&,"


def _esc(value: object) -> str:
    return str(value).translate(_ESCAPE)


def cigar(read: str, hairpin: str, start: int) -> str:
    """mirGFF3 CIGAR of ``read`` laid on ``hairpin`` from 0-based ``start``: runs of identical
    nucleotides as ``<n>M``, each other position as the hairpin's nucleotide (``S`` past the
    hairpin's end)."""
    n = len(read)
    ref = hairpin[start : start + n]
    if ref == read:
        return f"{n}M" if n else ""
    diff = [i for i, (a, b) in enumerate(zip(read, ref, strict=False)) if a != b]
    diff.extend(range(len(ref), n))  # past the hairpin's end
    out: list[str] = []
    prev = 0
    for i in diff:
        if i > prev:
            out.append(f"{i - prev}M")
        out.append(ref[i] if i < len(ref) else "S")
        prev = i + 1
    if prev < n:
        out.append(f"{n - prev}M")
    return "".join(out)


def _values(column: Any) -> list:
    """A column (a pandas Series, array or list) as a list."""
    return column.tolist() if hasattr(column, "tolist") else list(column)


def _escaped(column: Any) -> list[str]:
    """A column as text with the reserved characters percent-encoded."""
    values = _values(column)
    try:
        joined = "".join(values)
    except TypeError:  # not all text
        values = [str(v) for v in values]
        joined = "".join(values)
    if not any(c in joined for c in _RESERVED):  # mostly nothing to encode
        return values
    return [v.translate(_ESCAPE) for v in values]


def mirgff_lines(
    isomirs: Any, loci: Any, samples: Sequence[str], *, source: str, tool: str
) -> list[str]:
    """The lines of a mirGFF3 file for the isomiR table (rows aligned with ``loci``).

    ``isomirs`` (``UID``, ``Read``, ``miRNA``, ``Variant`` and the samples' counts) and ``loci``
    (``Parent``, ``start``, ``end``, ``Cigar``, ``Hits``) are DataFrames, or mappings of those
    column names to sequences.
    """
    ontology = (
        "doi:10.25504/fairsharing.hmgte8" if source.lower().startswith("mirbase") else "custom"
    )
    lines = [
        f"## mirGFF3. VERSION {VERSION}",
        f"## source-ontology: {source} {ontology}",
        f"## TOOLS: {tool}",
        "## FILTER: PASS",
        # last: mirtop (0.4) reads the lines after COLDATA as features
        f"## COLDATA: {','.join(_esc(s) for s in samples)}",
    ]
    counts = [list(map(str, np.asarray(isomirs[s]).astype("int64").tolist())) for s in samples]
    parents = _values(loci["Parent"])
    if len(counts) == 1:
        expression = counts[0]
    elif counts:
        expression = list(map(",".join, zip(*counts, strict=True)))
    else:
        expression = [""] * len(parents)
    for uid, read, name, parent, parent_esc, variant, start, end, cig, hits, ex in zip(
        _escaped(isomirs["UID"]),
        _values(isomirs["Read"]),
        _escaped(isomirs["miRNA"]),
        parents,
        _escaped(parents),
        _values(isomirs["Variant"]),
        _values(loci["start"]),
        _values(loci["end"]),
        _values(loci["Cigar"]),
        _values(loci["Hits"]),
        expression,
        strict=True,
    ):
        kind = "ref_miRNA" if variant == "NA" else "isomiR"
        lines.append(
            f"{parent}\t{source}\t{kind}\t{start}\t{end}\t.\t+\t.\tUID={uid}; Read={read}; "
            f"Name={name}; Parent={parent_esc}; Variant={variant}; Cigar={cig}; Hits={hits}; "
            f"Expression={ex}; Filter=Pass"
        )
    return lines


def write_mirgff(
    isomirs: Any,
    loci: Any,
    samples: Sequence[str],
    path: str | Path,
    *,
    source: str,
    tool: str,
    inputs: Sequence[str | Path] = (),
) -> Path:
    """Write the mirGFF3 file atomically (never over an input)."""
    from ..io._atomic import atomic_path, check_output

    out = check_output(path, inputs)
    text = "\n".join(mirgff_lines(isomirs, loci, samples, source=source, tool=tool)) + "\n"
    with atomic_path(out) as tmp:
        Path(tmp).write_text(text, encoding="utf-8")
    return out
