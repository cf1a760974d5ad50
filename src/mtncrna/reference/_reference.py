"""Loading the bundled, versioned mtncRNA reference and resolving names against it."""

from __future__ import annotations

import hashlib
from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

#: Values of the ``mt_class`` column that :func:`mtncrna.tl.annotate` writes.
from .._constants import MT_CLASSES, MT_CONTIG
from .._errors import InputError, ReferenceDataError
from .._text import read_fasta
from ._names import ensembl_id_in, name_key, split_collapsed, strip_ensembl_version

RNA_CLASSES = (
    "miRNA",
    "lncRNA",
    "circRNA",
    "mt-tRNA",
    "mt-rRNA",
    "mt-mRNA",
    "piRNA",
    "snoRNA",
    "other",
)
LOCALISATIONS = ("imported", "mtDNA-encoded", "cytosolic-acting", "unknown")
DIRECTIONS = ("up", "down", "none", "na")
EFFECTS = ("promotes_resistance", "promotes_sensitivity", "na")
CONFIDENCES = ("high", "medium", "low")
#: Localisations that make an ncRNA mitochondria-associated (an mtncRNA).
_MITO_LOCALISATIONS = {"imported", "mtDNA-encoded", "cytosolic-acting"}


def reference_dir() -> Path:
    """Folder holding the bundled reference tables (inside the wheel, or the repository's)."""
    here = Path(__file__).resolve()
    packaged = here.parents[1] / "_data" / "reference"
    if (packaged / "VERSION").is_file():
        return packaged
    source = here.parents[3] / "reference"
    if (source / "VERSION").is_file():
        return source
    raise ReferenceDataError(
        f"bundled reference not found (looked in {packaged} and {source}); reinstall mtncrna"
    )


@dataclass(frozen=True)
class Resolution:
    """The outcome of resolving one name: ``status`` is exact, alias, ambiguous or unknown."""

    query: str
    reference_id: str | None
    status: str
    candidates: tuple[str, ...] = ()


@dataclass
class Reference:
    """The mtncRNA reference: features, literature evidence, fractionation hits and aliases.

    Attributes
    ----------
    version
        Reference version (``reference/VERSION``), recorded in every output.
    features
        One row per entity, indexed by the stable ``reference_id`` (miRBase MIMAT accession for
        mature miRNAs, Ensembl gene id for genes that have one, ``MTNC`` ids otherwise).
    evidence
        One row per ncRNA x study fact with its resolved ``reference_id``.
    fractionation
        miRNAs reported inside human mitochondria by fractionation studies.
    aliases
        ``alias``, ``reference_id``, ``kind`` (one row per name a user's table may contain).
    """

    version: str
    features: pd.DataFrame
    evidence: pd.DataFrame
    fractionation: pd.DataFrame
    aliases: pd.DataFrame
    directory: Path
    sources: dict[str, str] = field(default_factory=dict)
    _exact: dict[str, tuple[str, ...]] = field(default_factory=dict, repr=False)
    _keyed: dict[str, tuple[str, ...]] = field(default_factory=dict, repr=False)
    _historic: dict[str, str] = field(default_factory=dict, repr=False)

    def __post_init__(self) -> None:
        self._build_index()

    def _build_index(self) -> None:
        exact: dict[str, set[str]] = defaultdict(set)
        keyed: dict[str, set[str]] = defaultdict(set)
        for alias, rid in zip(self.aliases["alias"], self.aliases["reference_id"], strict=True):
            exact[alias].add(rid)
            keyed[name_key(alias)].add(rid)
        self._exact = {k: tuple(sorted(v)) for k, v in exact.items()}
        self._keyed = {k: tuple(sorted(v)) for k, v in keyed.items()}
        self._historic = _historic_names(self.evidence)

    # ---------------------------------------------------------------- resolution

    def resolve(self, name: str) -> Resolution:
        """Resolve one name (symbol, alias, accession, precursor, Ensembl id with version...)."""
        raw = str(name).strip()
        if not raw:
            return Resolution(name, None, "unknown")
        for attempt in (raw, strip_ensembl_version(raw)):
            hit = self._exact.get(attempt)
            if hit:
                return self._outcome(
                    name,
                    hit,
                    "exact"
                    if attempt in self.features.index or self._is_symbol(attempt, hit)
                    else "alias",
                )
        hit = self._keyed.get(name_key(raw))
        if hit:
            return self._outcome(name, hit, "alias")
        parts = split_collapsed(raw)
        if len(parts) > 1:
            first = self.resolve(parts[0])
            if first.reference_id is not None:
                return Resolution(name, first.reference_id, "alias", first.candidates)
        for token in (t for sep in ("|", "::") if sep in raw for t in raw.split(sep)):
            sub = self.resolve(token)
            if sub.reference_id is not None:
                return Resolution(name, sub.reference_id, "alias")
        ens = ensembl_id_in(raw)
        if ens and ens != raw:
            hit = self._exact.get(ens)
            if hit:
                return self._outcome(name, hit, "alias")
        return Resolution(name, None, "unknown")

    def _is_symbol(self, attempt: str, hit: tuple[str, ...]) -> bool:
        return len(hit) == 1 and self.features.at[hit[0], "symbol"] == attempt

    def _outcome(self, query: str, hit: tuple[str, ...], status: str) -> Resolution:
        if len(hit) == 1:
            return Resolution(query, hit[0], status, hit)
        # An arm-less historic name ("miR-133a") that the curated evidence pins to one arm
        historic = self._historic.get(name_key(query))
        if historic in hit:
            return Resolution(query, historic, "alias", hit)
        return Resolution(query, None, "ambiguous", hit)

    def resolve_many(self, names: list[str] | pd.Index) -> pd.DataFrame:
        """Resolve many names; one row per input name with reference_id, status and candidates."""
        rows = [self.resolve(n) for n in names]
        return pd.DataFrame(
            {
                "query": [r.query for r in rows],
                "reference_id": [r.reference_id for r in rows],
                "status": [r.status for r in rows],
                "candidates": [";".join(r.candidates) for r in rows],
            }
        )

    def lookup(self, name: str) -> dict:
        """The entity ``name`` resolves to, with its evidence (``mtncrna reference lookup``)."""
        res = self.resolve(name)
        out: dict = {
            "query": name,
            "status": res.status,
            "reference_id": res.reference_id,
            "candidates": list(res.candidates),
        }
        if res.reference_id is None:
            return out
        feat = self.features.loc[res.reference_id]
        out["feature"] = {k: _plain(v) for k, v in feat.items()}
        ev = self.evidence[self.evidence["reference_id"] == res.reference_id]
        out["evidence"] = [{k: _plain(v) for k, v in r.items()} for r in ev.to_dict("records")]
        key = name_key(name)
        other = self.evidence[
            (self.evidence["name_in_source"].map(name_key) == key)
            & (self.evidence["reference_id"] != res.reference_id)
        ]
        out["curated_elsewhere"] = [
            {k: _plain(v) for k, v in r.items()} for r in other.to_dict("records")
        ]
        fr = self.fractionation[self.fractionation["reference_id"] == res.reference_id]
        out["fractionation"] = [{k: _plain(v) for k, v in r.items()} for r in fr.to_dict("records")]
        return out

    def mt_genome(self) -> str:
        """The rCRS sequence (NC_012920.1) as an upper-case string of 16,569 bases."""
        return _read_fasta_sequence(self.directory / "NC_012920.1.fa")

    def target_pairs(self) -> pd.DataFrame:
        """miRNA -> target gene pairs named in the evidence (first gene symbol of each target).

        Columns ``mirna`` (the name as curated), ``mirna_id``, ``target`` and ``citation``; one row
        per miRNA x target.
        """
        ev = self.evidence
        rows = []
        for rid, name, cls, tp, cit in zip(
            ev["reference_id"],
            ev["reference_name"],
            ev["rna_class"],
            ev["target_partner"],
            ev["citation"],
            strict=True,
        ):
            if cls != "miRNA" or not rid or not tp:
                continue
            for part in tp.split(";"):
                sym = part.strip().split(" ")[0]
                if sym and sym.upper() == sym and not sym.startswith("MIR"):
                    rows.append({"mirna": name, "mirna_id": rid, "target": sym, "citation": cit})
        cols = ["mirna", "mirna_id", "target", "citation"]
        return (
            pd.DataFrame(rows, columns=cols)
            .drop_duplicates(["mirna", "target"])
            .reset_index(drop=True)
        )

    def summary(self) -> pd.DataFrame:
        """Feature counts per class, as shown by ``mtncrna reference list``."""
        f = self.features
        return (
            f.groupby(["rna_class", "mt_class"], observed=True)
            .size()
            .rename("n_features")
            .reset_index()
        )


def _historic_names(evidence: pd.DataFrame) -> dict[str, str]:
    """Arm-less miRNA names the curators resolved to one arm (flag ``arm_inferred``).

    The old miRBase name of the dominant arm had no suffix (hsa-miR-133a was today's
    hsa-miR-133a-3p); the curated rows record which arm each source meant.
    """
    if evidence.empty or "flags" not in evidence.columns:
        return {}
    out: dict[str, set[str]] = defaultdict(set)
    for name, rid, flags in zip(
        evidence["reference_name"], evidence["reference_id"], evidence["flags"], strict=True
    ):
        pinned = "arm_inferred" in flags and "ambiguous_name" not in flags
        if pinned and rid and name.endswith(("-5p", "-3p")):
            out[name_key(name[:-3])].add(rid)
    return {k: next(iter(v)) for k, v in out.items() if len(v) == 1}


def _plain(v: object) -> object:
    if isinstance(v, np.generic):
        return v.item()
    if v is pd.NA or (isinstance(v, float) and np.isnan(v)):
        return None
    return v


def _read_fasta_sequence(path: Path) -> str:
    return "".join(seq for _, seq in read_fasta(path, what="mitochondrial genome FASTA"))


def _read_tsv(path: Path) -> pd.DataFrame:
    if not path.is_file():
        raise ReferenceDataError(f"reference table missing: {path}")
    return pd.read_csv(path, sep="\t", dtype=str, keep_default_na=False, comment=None)


def sha256_file(path: Path) -> str:
    h = hashlib.sha256()
    with path.open("rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def _split(v: str) -> list[str]:
    return [x.strip() for x in str(v).split(";") if x.strip()]


def _build(directory: Path) -> Reference:
    version = (directory / "VERSION").read_text().strip()
    mir = _read_tsv(directory / "mirbase22_hsa_mature.tsv")
    mt = _read_tsv(directory / "mt_genes.tsv")
    nc = _read_tsv(directory / "ncrna_genes.tsv")
    evidence = _read_tsv(directory / "mtncrna_evidence.tsv")
    frac = _read_tsv(directory / "mito_fractionation.tsv")

    feats: list[dict] = []
    alias_rows: list[tuple[str, str, str]] = []

    def add_alias(alias: str, rid: str, kind: str) -> None:
        alias = alias.strip()
        if alias:
            alias_rows.append((alias, rid, kind))

    # mature miRNAs (miRBase 22)
    precursor_products: dict[str, list[str]] = defaultdict(list)
    arms: dict[str, set[str]] = defaultdict(set)
    for r in mir.to_dict("records"):
        rid = r["mimat"]
        feats.append(
            {
                "reference_id": rid,
                "symbol": r["name"],
                "rna_class": "miRNA",
                "chrom": "",
                "start": np.nan,
                "end": np.nan,
                "strand": "",
                "ensembl_gene_id": "",
                "sequence": r.get("sequence", ""),
                "precursor": r.get("precursor_name", ""),
                "confidence": "high",
                "flags": "",
                "source": "miRBase 22",
            }
        )
        add_alias(r["name"], rid, "symbol")
        add_alias(rid, rid, "accession")
        for prev in _split(r.get("previous_names", "")):
            add_alias(prev, rid, "previous_name")
        for pre in _split(r.get("precursor_name", "")):
            precursor_products[pre].append(rid)
        base = r["name"]
        if base.endswith(("-5p", "-3p")):
            arms[base[:-3]].add(rid)
    for pre, products in precursor_products.items():
        for rid in products:
            add_alias(pre, rid, "precursor")
    # An arm-less name ("hsa-miR-125b") points to the arm(s) miRBase 22 has; when both arms
    # exist the name stays ambiguous unless miRBase lists it as a previous name of one arm.
    prev_names = {a for a, _, k in alias_rows if k == "previous_name"}
    for base, rids in arms.items():
        if base not in prev_names:
            for rid in rids:
                add_alias(base, rid, "armless")

    for table, source_default in ((mt, MT_CONTIG), (nc, "curated")):
        for r in table.to_dict("records"):
            rid = r["reference_id"].strip()
            feats.append(
                {
                    "reference_id": rid,
                    "symbol": r["symbol"],
                    "rna_class": _rna_class_of(r),
                    "chrom": MT_CONTIG if table is mt else "",
                    "start": pd.to_numeric(r.get("start", ""), errors="coerce"),
                    "end": pd.to_numeric(r.get("end", ""), errors="coerce"),
                    "strand": r.get("strand", ""),
                    "ensembl_gene_id": r.get("ensembl_gene_id", ""),
                    "sequence": "",
                    "precursor": "",
                    "confidence": r.get("confidence", "") or "high",
                    "flags": r.get("flags", ""),
                    "source": r.get("source", "") or source_default,
                }
            )
            add_alias(r["symbol"], rid, "symbol")
            add_alias(rid, rid, "accession")
            if r.get("ensembl_gene_id"):
                add_alias(r["ensembl_gene_id"], rid, "accession")
            for a in _split(r.get("aliases", "")):
                add_alias(a, rid, "alias")

    features = pd.DataFrame(feats)
    dup = features["reference_id"][features["reference_id"].duplicated()]
    if len(dup):
        raise ReferenceDataError(
            f"{directory}: reference_id {', '.join(sorted(set(dup))[:5])} defined twice"
        )
    features = features.set_index("reference_id")
    aliases = pd.DataFrame(alias_rows, columns=["alias", "reference_id", "kind"]).drop_duplicates(
        ["alias", "reference_id"]
    )
    ref = Reference(
        version=version,
        features=features,
        evidence=pd.DataFrame(),
        fractionation=pd.DataFrame(),
        aliases=aliases.reset_index(drop=True),
        directory=directory,
    )
    ref.evidence = _attach_ids(ref, evidence, directory / "mtncrna_evidence.tsv", "reference_name")
    ref._build_index()
    ref.fractionation = _attach_ids(
        ref, frac, directory / "mito_fractionation.tsv", "reference_name"
    )
    _derive_classes(ref)
    return ref


def _rna_class_of(r: dict) -> str:
    if r.get("rna_class"):
        return r["rna_class"]
    gene_type = r.get("gene_type", "")
    mt_class = r.get("mt_class", "")
    if mt_class in ("mt-tRNA", "mt-rRNA", "mt-mRNA"):
        return mt_class
    return {"lncRNA": "lncRNA", "circRNA": "circRNA"}.get(gene_type, "other")


def _attach_ids(ref: Reference, table: pd.DataFrame, path: Path, column: str) -> pd.DataFrame:
    """Resolve each row's name to a reference_id; an unresolvable row is a reference bug.

    Rows flagged ``class_level`` (facts about a class such as "mtDNA-encoded lncRNAs") keep an
    empty reference_id.
    """
    table = table.copy()
    ids = []
    class_level = (
        table["flags"].str.contains("class_level")
        if "flags" in table.columns
        else pd.Series(False, index=table.index)
    ).to_numpy()
    for i, name in enumerate(table[column], start=2):
        if class_level[i - 2]:
            ids.append("")  # a fact about a class of ncRNAs, not one entity
            continue
        res = ref.resolve(name)
        if res.reference_id is None and "reference_id" in table.columns:
            given = table["reference_id"].iat[i - 2]
            if given in ref.features.index:
                res = Resolution(name, given, "exact")
        if res.reference_id is None:
            raise InputError(
                path,
                f"'{name}' does not resolve to one reference feature ({res.status}"
                + (f": {', '.join(res.candidates)}" if res.candidates else "")
                + ")",
                line=i,
                column=column,
            )
        ids.append(res.reference_id)
    table["reference_id"] = ids
    return table


def _derive_classes(ref: Reference) -> None:
    f = ref.features
    ev = ref.evidence
    mito_ev = ev[ev["localisation"].isin(_MITO_LOCALISATIONS)] if len(ev) else ev
    n_ev = ev["reference_id"].value_counts() if len(ev) else pd.Series(dtype=int)
    n_fr = (
        ref.fractionation["reference_id"].value_counts()
        if len(ref.fractionation)
        else pd.Series(dtype=int)
    )
    f["n_evidence"] = n_ev.reindex(f.index).fillna(0).astype(int)
    f["n_fractionation"] = n_fr.reindex(f.index).fillna(0).astype(int)
    mito_ids = set(mito_ev["reference_id"]) | set(ref.fractionation["reference_id"])
    mt_encoded = (f["chrom"] == MT_CONTIG).to_numpy()
    mt_class = []
    for rid, rna_class, on_mt in zip(f.index, f["rna_class"], mt_encoded, strict=True):
        if rna_class in ("mt-tRNA", "mt-rRNA", "mt-mRNA"):
            mt_class.append(rna_class)
        elif rna_class == "miRNA":
            mt_class.append("mitomiR" if rid in mito_ids else "other")
        else:
            mt_class.append("mito-lncRNA" if on_mt or rid in mito_ids else "other")
    f["mt_class"] = pd.Categorical(mt_class, categories=MT_CLASSES)
    f["known_mtncrna"] = f["mt_class"].isin(["mitomiR", "mito-lncRNA", "mt-tRNA", "mt-rRNA"])
