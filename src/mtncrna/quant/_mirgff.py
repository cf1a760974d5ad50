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

import pandas as pd

VERSION = "1.2"
_ESCAPE = str.maketrans({";": "%3B", "=": "%3D", "&": "%26", ",": "%2C"})
_RESERVED = frozenset(";=&,")


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


def mirgff_lines(
    isomirs: pd.DataFrame, loci: pd.DataFrame, samples: Sequence[str], *, source: str, tool: str
) -> list[str]:
    """The lines of a mirGFF3 file for the isomiR table (rows aligned with ``loci``)."""
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
    expr = isomirs[list(samples)].astype("int64").to_numpy()
    expression = [",".join(map(str, row)) for row in expr.tolist()]

    def esc(values: pd.Series) -> list[str]:
        out = [str(v) for v in values.tolist()]
        if _RESERVED.isdisjoint("".join(out)):  # mostly nothing to encode
            return out
        return [v.translate(_ESCAPE) for v in out]

    parents = [str(p) for p in loci["Parent"].tolist()]
    for uid, read, name, parent, parent_esc, variant, start, end, cig, hits, ex in zip(
        esc(isomirs["UID"]),
        isomirs["Read"].tolist(),
        esc(isomirs["miRNA"]),
        parents,
        esc(loci["Parent"]),
        isomirs["Variant"].tolist(),
        loci["start"].tolist(),
        loci["end"].tolist(),
        loci["Cigar"].tolist(),
        loci["Hits"].tolist(),
        expression,
        strict=True,
    ):
        kind = "ref_miRNA" if variant == "NA" else "isomiR"
        attrs = (
            f"UID={uid}; Read={read}; Name={name}; Parent={parent_esc}; Variant={variant}; "
            f"Cigar={cig}; Hits={hits}; Expression={ex}; Filter=Pass"
        )
        lines.append(f"{parent}\t{source}\t{kind}\t{start}\t{end}\t.\t+\t.\t{attrs}")
    return lines


def write_mirgff(
    isomirs: pd.DataFrame,
    loci: pd.DataFrame,
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
