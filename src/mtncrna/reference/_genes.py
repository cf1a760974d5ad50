"""Human gene identifiers: symbols, Ensembl gene/transcript ids and Entrez ids meet on one gene.

The map ships as ``reference/human_genes.tsv.gz`` (NCBI Gene with its Ensembl cross-references,
from Bioconductor's org.Hs.eg.db; see ``reference/build/build_gene_map.py``). Every name is
turned into the NCBI (Entrez) gene id, the key under which a target list in symbols meets a
count table in versioned Ensembl ids.

Rules, in order: an Entrez id (``7157``, ``Entrez:7157``); an Ensembl gene or transcript id with
or without version (``ENSG00000141510.17``, ``ENST...``); an official symbol (exact, then
case-insensitive); a composite name carrying an Ensembl id (``ENSG00000141510.17|TP53``,
``ENSG00000141510_TP53``) or a symbol (``TP53|ENSG...``); last, an alias or previous symbol,
only when it belongs to one gene and is nobody's official symbol. A name that points to several
genes is ``ambiguous`` and never guessed.
"""

from __future__ import annotations

import gzip
import re
from collections import defaultdict
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import pandas as pd

from .._errors import ReferenceDataError
from ._paths import reference_dir

GENE_MAP_FILE = "human_genes.tsv.gz"

_ENTREZ = re.compile(r"^(?:entrez(?:gene)?[:_ ]?|geneid[:_ ]?)?(\d{1,9})$", re.IGNORECASE)
_ENSEMBL = re.compile(r"^(ENS[GT]\d{11})(?:\.\d+)?(?:_PAR_Y)?$", re.IGNORECASE)
_ENSEMBL_IN = re.compile(r"ENS[GT]\d{11}", re.IGNORECASE)


@dataclass(frozen=True)
class GeneHit:
    """One name resolved against the gene map: ``status`` is one of
    ``entrez``, ``ensembl``, ``transcript``, ``symbol``, ``alias``, ``ambiguous``, ``unknown``."""

    query: str
    entrez_id: str | None
    symbol: str | None
    status: str
    candidates: tuple[str, ...] = ()


class GeneMap:
    """Lookup tables built once from ``human_genes.tsv.gz``."""

    def __init__(self, table: pd.DataFrame, source: str = "") -> None:
        self.table = table.set_index("entrez_id", drop=False)
        self.source = source
        self._symbol: dict[str, set[str]] = defaultdict(set)
        self._symbol_ci: dict[str, set[str]] = defaultdict(set)
        self._ensembl: dict[str, set[str]] = defaultdict(set)
        self._transcript: dict[str, set[str]] = defaultdict(set)
        self._alias: dict[str, set[str]] = defaultdict(set)
        for eid, sym, ens, tx, al in zip(
            table["entrez_id"],
            table["symbol"],
            table["ensembl_gene_id"],
            table["ensembl_transcript_id"],
            table["aliases"],
            strict=True,
        ):
            self._symbol[sym].add(eid)
            self._symbol_ci[sym.casefold()].add(eid)
            for e in filter(None, ens.split(";")):
                self._ensembl[e.upper()].add(eid)
            for t in filter(None, tx.split(";")):
                self._transcript[t.upper()].add(eid)
            for a in filter(None, al.split(";")):
                self._alias[a.casefold()].add(eid)

    def __len__(self) -> int:
        return len(self.table)

    def symbol_of(self, entrez_id: str) -> str:
        return str(self.table.at[entrez_id, "symbol"])

    def ensembl_of(self, entrez_id: str) -> list[str]:
        return [e for e in str(self.table.at[entrez_id, "ensembl_gene_id"]).split(";") if e]

    def _hit(self, query: str, ids: set[str], status: str) -> GeneHit:
        if len(ids) == 1:
            eid = next(iter(ids))
            return GeneHit(query, eid, self.symbol_of(eid), status, (eid,))
        ordered = tuple(sorted(ids, key=int))
        return GeneHit(query, None, None, "ambiguous", ordered)

    def resolve(self, name: str) -> GeneHit:
        """The one NCBI gene ``name`` denotes (see the module docstring for the rules)."""
        raw = str(name).strip()
        if not raw:
            return GeneHit(name, None, None, "unknown")
        m = _ENTREZ.match(raw)
        if m and m.group(1) in self.table.index:
            eid = m.group(1)
            return GeneHit(name, eid, self.symbol_of(eid), "entrez", (eid,))
        m = _ENSEMBL.match(raw)
        if m:
            acc = m.group(1).upper()
            ids = self._ensembl.get(acc) if acc.startswith("ENSG") else self._transcript.get(acc)
            if ids:
                return self._hit(name, ids, "ensembl" if acc.startswith("ENSG") else "transcript")
            return GeneHit(name, None, None, "unknown")
        ids = self._symbol.get(raw) or self._symbol_ci.get(raw.casefold())
        if ids:
            return self._hit(name, ids, "symbol")
        # composite names from pipelines: "ENSG...|TP53", "ENSG..._TP53", "TP53|ENSG..."
        emb = _ENSEMBL_IN.search(raw)
        if emb:
            sub = self.resolve(emb.group(0))
            if sub.entrez_id is not None or sub.status == "ambiguous":
                return GeneHit(name, sub.entrez_id, sub.symbol, sub.status, sub.candidates)
        for sep in ("|", "::"):
            if sep in raw:
                for token in raw.split(sep):
                    sub = self.resolve(token)
                    if sub.entrez_id is not None:
                        return GeneHit(name, sub.entrez_id, sub.symbol, sub.status, sub.candidates)
        ids = self._alias.get(raw.casefold())  # no gene has it as official symbol (checked above)
        if ids:
            return self._hit(name, ids, "alias")
        return GeneHit(name, None, None, "unknown")

    def resolve_many(self, names: list[str] | pd.Index) -> pd.DataFrame:
        """One row per name: ``query``, ``entrez_id``, ``symbol``, ``status``, ``candidates``."""
        hits = [self.resolve(n) for n in names]
        return pd.DataFrame(
            {
                "query": [h.query for h in hits],
                "entrez_id": [h.entrez_id for h in hits],
                "symbol": [h.symbol for h in hits],
                "status": [h.status for h in hits],
                "candidates": [";".join(h.candidates) for h in hits],
            }
        )


def read_gene_map(path: Path) -> GeneMap:
    """Read a gene map file (the bundled one or a user's in the same columns)."""
    if not path.is_file():
        raise ReferenceDataError(f"gene map missing: {path}; reinstall mtncrna")
    opener = gzip.open if path.suffix == ".gz" else open
    with opener(path, "rt", encoding="utf-8") as fh:
        first = fh.readline()
    source = first[1:].strip() if first.startswith("#") else ""
    table = pd.read_csv(
        path, sep="\t", dtype=str, keep_default_na=False, skiprows=1 if source else 0
    )
    need = {"entrez_id", "symbol", "ensembl_gene_id", "ensembl_transcript_id", "aliases"}
    missing = sorted(need - set(table.columns))
    if missing:
        raise ReferenceDataError(f"{path}: gene map lacks column(s) {', '.join(missing)}")
    return GeneMap(table, source)


@lru_cache(maxsize=1)
def load_gene_map() -> GeneMap:
    """The bundled human gene map (read once per process)."""
    return read_gene_map(reference_dir() / GENE_MAP_FILE)
