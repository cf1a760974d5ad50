"""A user's own mtncRNA evidence table: validation and merging into the bundled reference."""

from __future__ import annotations

import logging
from pathlib import Path

import numpy as np
import pandas as pd

from .._errors import InputError
from .._text import parse_delimited, read_lines, sniff_delimiter, split_header
from ._reference import (
    CONFIDENCES,
    DIRECTIONS,
    EFFECTS,
    EVIDENCE_TYPES,
    LEGACY_LOCALISATIONS,
    LOCALISATIONS,
    RNA_CLASSES,
    Reference,
    _derive_classes,
)

#: Columns of an extension table; ``reference_name`` and ``rna_class`` are required.
EXTENSION_COLUMNS = (
    "reference_name",
    "rna_class",
    "reference_id",
    "aliases",
    "localisation",
    "drug",
    "cancer",
    "cell_line",
    "organism",
    "direction_in_resistant",
    "effect_on_drug_response",
    "target_partner",
    "mito_process",
    "citation",
    "evidence_text",
    "confidence",
    "flags",
    "evidence_type",
)
_REQUIRED = ("reference_name", "rna_class")
logger = logging.getLogger("mtncrna")
_VOCAB = {
    "rna_class": RNA_CLASSES,
    "localisation": LOCALISATIONS,
    "direction_in_resistant": DIRECTIONS,
    "effect_on_drug_response": EFFECTS,
    "confidence": CONFIDENCES,
    "evidence_type": EVIDENCE_TYPES,
}
_DEFAULTS = {
    "localisation": "unknown",
    "direction_in_resistant": "na",
    "effect_on_drug_response": "na",
    "confidence": "medium",
}


def read_extension(path: str | Path, reference: Reference) -> pd.DataFrame:
    """Read and validate an extension table against ``reference``; raise on the first problem.

    Each row must name an entity the reference knows, or give a ``reference_id`` (e.g. an
    Ensembl gene id or your own id) that adds a new entity.
    """
    p = Path(path)
    lines = read_lines(p, comment="#")
    sep = sniff_delimiter(p, lines.lines[0])
    header = [
        h.lower().replace(" ", "_") for h in split_header(p, lines.lines[0], sep, lines.numbers[0])
    ]
    if "name" in header and "reference_name" not in header:
        header[header.index("name")] = "reference_name"
    missing = [c for c in _REQUIRED if c not in header]
    if missing:
        raise InputError(
            p,
            f"missing required column(s) {', '.join(missing)}; found {', '.join(header)}",
            line=lines.numbers[0],
        )
    unknown = [c for c in header if c not in EXTENSION_COLUMNS]
    if unknown:
        raise InputError(
            p,
            f"unknown column(s) {', '.join(unknown)}; allowed: {', '.join(EXTENSION_COLUMNS)}",
            line=lines.numbers[0],
        )
    if len(lines) < 2:
        raise InputError(p, "has a header line but no rows", line=lines.numbers[0])
    body = parse_delimited(lines, sep)
    if body.shape[1] != len(header):
        raise InputError(
            p,
            f"header has {len(header)} fields but the rows have {body.shape[1]}",
            line=lines.numbers[0],
        )
    body.columns = header
    body = body.apply(lambda c: c.str.strip())
    line_numbers = np.asarray(lines.numbers[1:])
    for col, default in _DEFAULTS.items():
        if col not in body.columns:
            body[col] = default
        else:
            body.loc[body[col] == "", col] = default
    for col in EXTENSION_COLUMNS:
        if col not in body.columns:
            body[col] = ""
    legacy = body["localisation"].isin(list(LEGACY_LOCALISATIONS))
    if legacy.any():
        logger.warning(
            "%s: localisation 'cytosolic-acting' (%d rows) read as 'acts-on-mitochondria'; "
            "use 'no-mito-mechanism' for rows without a mitochondrial mechanism",
            p,
            int(legacy.sum()),
        )
        body["localisation"] = body["localisation"].replace(LEGACY_LOCALISATIONS)
    for i, row in enumerate(body.to_dict("records")):
        ln = int(line_numbers[i])
        if not row["reference_name"]:
            raise InputError(p, "empty reference_name", line=ln, column="reference_name")
        for col, allowed in _VOCAB.items():
            if row[col] not in allowed:
                raise InputError(
                    p,
                    f"'{row[col]}' is not allowed; expected one of {', '.join(allowed)}",
                    line=ln,
                    column=col,
                )
        res = reference.resolve(row["reference_name"])
        if res.reference_id is None and not row["reference_id"]:
            what = (
                f"is ambiguous ({', '.join(res.candidates)})"
                if res.status == "ambiguous"
                else "is not in the reference"
            )
            raise InputError(
                p,
                f"'{row['reference_name']}' {what}; add a reference_id column "
                "(e.g. its Ensembl gene id or MIMAT accession) to name it",
                line=ln,
                column="reference_name",
            )
    body["line"] = line_numbers
    return body


def merge_extension(reference: Reference, path: Path) -> Reference:
    """Return ``reference`` with the rows of the extension table at ``path`` added."""
    table = read_extension(path, reference)
    new_features = []
    new_aliases = []
    ids = []
    for row in table.to_dict("records"):
        rid = row["reference_id"] or reference.resolve(row["reference_name"]).reference_id
        if rid not in reference.features.index and rid not in {
            f["reference_id"] for f in new_features
        }:
            new_features.append(
                {
                    "reference_id": rid,
                    "symbol": row["reference_name"],
                    "rna_class": row["rna_class"],
                    "confidence": row["confidence"],
                    "flags": row["flags"],
                    "source": f"user:{path.name}",
                }
            )
            new_aliases.append((row["reference_name"], rid, "symbol"))
            new_aliases.append((rid, rid, "accession"))
        for a in str(row["aliases"]).split(";"):
            if a.strip():
                new_aliases.append((a.strip(), rid, "alias"))
        ids.append(rid)
    ev = table.drop(columns=["aliases", "line"]).copy()
    ev["reference_id"] = ids
    ev.insert(0, "evidence_id", [f"USER{i:04d}" for i in range(1, len(ev) + 1)])
    ev["name_in_source"] = ev["reference_name"]
    ev["source_file"] = path.name
    if new_features:
        add = pd.DataFrame(new_features).set_index("reference_id")
        reference.features = pd.concat(
            [
                reference.features.drop(
                    columns=[
                        "mt_class",
                        "mito_evidence",
                        "known_mtncrna",
                        "n_evidence",
                        "n_fractionation",
                    ]
                ),
                add,
            ]
        )
    else:
        reference.features = reference.features.drop(
            columns=["mt_class", "mito_evidence", "known_mtncrna", "n_evidence", "n_fractionation"]
        )
    reference.aliases = pd.concat(
        [reference.aliases, pd.DataFrame(new_aliases, columns=["alias", "reference_id", "kind"])],
        ignore_index=True,
    ).drop_duplicates(["alias", "reference_id"])
    reference.evidence = pd.concat([reference.evidence, ev], ignore_index=True)
    reference._build_index()
    _derive_classes(reference)
    reference.sources[path.name] = "user extension"
    return reference
