"""Drug and cancer names as the field writes them: ``DDP`` is cisplatin, ``TSCC`` a tongue cancer.

The table is ``reference/vocabulary.tsv`` (versioned with the rest of the reference): one row per
canonical term with its synonyms and abbreviations and, for cancers, the broader term it belongs
to (lung adenocarcinoma -> non-small cell lung cancer -> lung cancer). Matching is
case-insensitive and ignores hyphens and spaces (``5-FU`` = ``5FU`` = ``5 fu``).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from .._errors import ReferenceDataError

VOCABULARY_FILE = "vocabulary.tsv"
KINDS = ("drug", "cancer")


def _norm(term: str) -> str:
    return re.sub(r"[\s\-_]+", "", str(term).strip().casefold())


@dataclass
class Vocabulary:
    """Canonical drug and cancer terms, their synonyms and the broader cancer terms."""

    table: pd.DataFrame
    _canon: dict[tuple[str, str], str] = field(default_factory=dict, repr=False)
    _broader: dict[tuple[str, str], str] = field(default_factory=dict, repr=False)

    def __post_init__(self) -> None:
        for row in self.table.to_dict("records"):
            kind, canon = row["kind"], row["canonical"]
            for term in [canon, *str(row["synonyms"]).split(";")]:
                if term.strip():
                    key = (kind, _norm(term))
                    if self._canon.get(key, canon) != canon:
                        raise ReferenceDataError(
                            f"{VOCABULARY_FILE}: '{term}' is a {kind} synonym of both "
                            f"'{self._canon[key]}' and '{canon}'"
                        )
                    self._canon[key] = canon
            if str(row.get("broader", "")).strip():
                self._broader[(kind, canon)] = row["broader"].strip()
        for (kind, canon), up in self._broader.items():
            if (kind, _norm(up)) not in self._canon:
                raise ReferenceDataError(
                    f"{VOCABULARY_FILE}: broader term '{up}' of '{canon}' has no row of its own"
                )

    def canonical(self, kind: str, term: str) -> str | None:
        """The canonical term for ``term`` (``DDP`` -> ``cisplatin``), or None if unknown."""
        return self._canon.get((kind, _norm(term)))

    def known(self, kind: str, term: str) -> bool:
        return self.canonical(kind, term) is not None

    def lineage(self, kind: str, term: str) -> list[str]:
        """``term``'s canonical form followed by every broader term (nearest first)."""
        canon = self.canonical(kind, term)
        if canon is None:
            return [str(term).strip().casefold()]
        out = [canon]
        while (kind, out[-1]) in self._broader and len(out) < 20:
            out.append(self.canonical(kind, self._broader[(kind, out[-1])]) or "")
        return out

    def matches(self, kind: str, asked: str, study_terms: str) -> bool:
        """True when a study's ``;``-separated terms include ``asked`` or something narrower.

        Asking for ``lung cancer`` matches a study on NSCLC; asking for ``NSCLC`` does not
        match a study that only says "lung cancer" (it may have been another lung cancer).
        A term missing from the vocabulary matches its own spelling only.
        """
        target = self.canonical(kind, asked) or _norm(asked)
        for term in str(study_terms).split(";"):
            if not term.strip():
                continue
            lineage = self.lineage(kind, term)
            if target in lineage or _norm(target) in {_norm(x) for x in lineage}:
                return True
        return False


def read_vocabulary(path: Path) -> Vocabulary:
    if not path.is_file():
        raise ReferenceDataError(f"vocabulary table missing: {path}; reinstall mtncrna")
    table = pd.read_csv(path, sep="\t", dtype=str, keep_default_na=False)
    missing = {"kind", "canonical", "synonyms", "broader"} - set(table.columns)
    if missing:
        raise ReferenceDataError(f"{path}: lacks column(s) {', '.join(sorted(missing))}")
    bad = sorted(set(table["kind"]) - set(KINDS))
    if bad:
        raise ReferenceDataError(f"{path}: unknown kind(s) {', '.join(bad)}")
    return Vocabulary(table)
