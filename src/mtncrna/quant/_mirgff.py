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


def _esc(value: object) -> str:
    return str(value).translate(_ESCAPE)


def cigar(read: str, hairpin: str, start: int) -> str:
    """mirGFF3 CIGAR of ``read`` laid on ``hairpin`` from 0-based ``start``: runs of identical
    nucleotides as ``<n>M``, each other position as the hairpin's nucleotide (``S`` past the
    hairpin's end)."""
    out: list[str] = []
    run = 0
    for i, b in enumerate(read):
        j = start + i
        ref = hairpin[j] if j < len(hairpin) else None
        if ref == b:
            run += 1
            continue
        if run:
            out.append(f"{run}M")
            run = 0
        out.append(ref if ref is not None else "S")
    if run:
        out.append(f"{run}M")
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
    for k, (row, loc) in enumerate(
        zip(isomirs.itertuples(index=False), loci.itertuples(index=False), strict=True)
    ):
        kind = "ref_miRNA" if row.Variant == "NA" else "isomiR"
        attrs = (
            f"UID={_esc(row.UID)}; Read={row.Read}; Name={_esc(row.miRNA)}; "
            f"Parent={_esc(loc.Parent)}; Variant={row.Variant}; "
            f"Cigar={loc.Cigar}; Hits={loc.Hits}; "
            f"Expression={','.join(map(str, expr[k].tolist()))}; Filter=Pass"
        )
        lines.append(
            "\t".join(
                (
                    str(loc.Parent),
                    source,
                    kind,
                    str(loc.start),
                    str(loc.end),
                    ".",
                    "+",
                    ".",
                    attrs,
                )
            )
        )
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
