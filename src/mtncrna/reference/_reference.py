"""Loading the bundled, versioned mtncRNA reference and resolving names against it."""

from __future__ import annotations

import hashlib
import re
from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

#: Values of the ``mt_class`` column that :func:`mtncrna.tl.annotate` writes.
from .._constants import MT_CLASSES, MT_CONTIG
from .._errors import InputError, ReferenceDataError
from .._text import read_fasta
from ._names import (
    GENERIC_WORDS,
    ensembl_id_in,
    family_key,
    name_key,
    split_collapsed,
    strip_ensembl_version,
    strip_precursor_prefix,
)
from ._vocabulary import VOCABULARY_FILE, Vocabulary, read_vocabulary

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
#: Where the mitochondrial part of an evidence row happens (see reference/README.md):
#: ``imported`` (nuclear-encoded, found inside mitochondria: fractionation, in situ, import
#: assay), ``mtDNA-encoded``, ``acts-on-mitochondria`` (acts from the cytosol on a mitochondrial
#: process or protein), ``no-mito-mechanism`` (linked to drug response, no mitochondrial
#: mechanism stated), ``unknown``.
LOCALISATIONS = (
    "imported",
    "mtDNA-encoded",
    "acts-on-mitochondria",
    "no-mito-mechanism",
    "unknown",
)
#: Older spelling accepted in users' extension tables, read as ``acts-on-mitochondria``.
LEGACY_LOCALISATIONS = {"cytosolic-acting": "acts-on-mitochondria"}
#: ``features["mito_evidence"]``: the strongest mitochondrial evidence of an entity.
MITO_EVIDENCE = ("inside", "acts-on-mitochondria", "no-mito-mechanism", "none")
EVIDENCE_TYPES = (
    "fractionation",
    "in_situ_hybridisation",
    "import_assay",
    "functional",
    "clinical",
    "review_statement",
    "",
)
DIRECTIONS = ("up", "down", "none", "na")
EFFECTS = ("promotes_resistance", "promotes_sensitivity", "na")
CONFIDENCES = ("high", "medium", "low")
#: Localisations that put an ncRNA inside mitochondria (what makes a mitomiR / mito-lncRNA).
_INSIDE_LOCALISATIONS = {"imported", "mtDNA-encoded"}


@dataclass(frozen=True)
class Resolution:
    """The outcome of resolving one name.

    ``status`` is ``exact``, ``alias``, ``group`` (a pair or range such as ``miR-221/222``:
    ``candidates`` holds every member, ``reference_id`` the first), ``ambiguous`` (several
    entities fit and none is preferred: ``candidates``) or ``unknown``; ``note`` says how a
    name was read when that is not obvious (a generic word, a gene id read through the gene
    map, a miRNA family).
    """

    query: str
    reference_id: str | None
    status: str
    candidates: tuple[str, ...] = ()
    note: str = ""


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
    vocabulary
        Drug and cancer synonyms (``reference/vocabulary.tsv``) used to match study contexts.
    """

    version: str
    features: pd.DataFrame
    evidence: pd.DataFrame
    fractionation: pd.DataFrame
    aliases: pd.DataFrame
    directory: Path
    sources: dict[str, str] = field(default_factory=dict)
    vocabulary: Vocabulary | None = None
    _exact: dict[str, tuple[str, ...]] = field(default_factory=dict, repr=False)
    _keyed: dict[str, tuple[str, ...]] = field(default_factory=dict, repr=False)
    _historic: dict[str, str] = field(default_factory=dict, repr=False)
    _family: dict[tuple[str, str], tuple[str, ...]] | None = field(default=None, repr=False)

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
        fam: dict[tuple[str, str], list[tuple[str, str]]] = defaultdict(list)
        mirs = self.features[self.features["rna_class"] == "miRNA"]
        for rid, sym in zip(mirs.index, mirs["symbol"], strict=True):
            fk = family_key(name_key(sym))
            if fk is not None:
                fam[fk].append((sym, rid))
                if fk[1]:
                    fam[(fk[0], "")].append((sym, rid))
        self._family = {k: tuple(rid for _, rid in sorted(set(v))) for k, v in fam.items()}

    # ---------------------------------------------------------------- resolution

    def resolve(self, name: str, *, gene_map: bool = True) -> Resolution:
        """Resolve one name (symbol, alias, accession, precursor, Ensembl id with version...).

        ``gene_map=False`` skips the last step (gene ids the curated tables do not list).
        """
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
        key = name_key(raw)
        if key in GENERIC_WORDS:
            return Resolution(name, None, "unknown", note="a class of RNA, not one gene")
        hit = self._keyed.get(key)
        if hit:
            return self._outcome(name, hit, "alias")
        parts = split_collapsed(raw)
        if len(parts) > 1:
            return self._group(name, parts)
        for token in (t for sep in ("|", "::") if sep in raw for t in raw.split(sep)):
            sub = self.resolve(token)
            if sub.reference_id is not None:
                return Resolution(name, sub.reference_id, "alias", sub.candidates, sub.note)
        ens = ensembl_id_in(raw)
        if ens and ens != raw:
            hit = self._exact.get(ens)
            if hit:
                return self._outcome(name, hit, "alias")
        bare = strip_precursor_prefix(raw)
        if bare:
            sub = self.resolve(bare)
            if sub.status != "unknown":
                return Resolution(
                    name,
                    sub.reference_id,
                    sub.status if sub.status != "exact" else "alias",
                    sub.candidates,
                    f"read as {bare}",
                )
        family = self._family_members(key)
        if family:
            if len(family) == 1:
                return Resolution(name, family[0], "alias", family, "miRNA family, one member")
            return Resolution(name, None, "ambiguous", family, "miRNA family")
        if not gene_map:
            return Resolution(name, None, "unknown")
        return self._via_gene_map(name, raw)

    def _group(self, query: str, parts: list[str]) -> Resolution:
        members: list[str] = []
        unresolved = []
        for part in parts:
            sub = self.resolve(part)
            if sub.reference_id is not None:
                members.append(sub.reference_id)
            elif sub.candidates:
                members.extend(sub.candidates)
            else:
                unresolved.append(part)
        members = list(dict.fromkeys(members))
        if not members:
            return Resolution(query, None, "unknown", note=f"no member of {' / '.join(parts)}")
        note = "members " + ", ".join(parts)
        if unresolved:
            note += f" ({', '.join(unresolved)} unknown)"
        return Resolution(query, members[0], "group", tuple(members), note)

    def _family_members(self, key: str) -> tuple[str, ...]:
        """Mature miRNAs of an arm-less or letter-less family name (``miR-34``, ``miR-125-5p``)."""
        if self._family is None or not re.match(r"^mir-\d+(-[35]p)?$", key):
            return ()
        fam = family_key(key)
        return self._family.get(fam, ()) if fam else ()

    def _via_gene_map(self, query: str, raw: str) -> Resolution:
        """Gene ids the curated tables do not list (ENST, a miRNA gene's ENSG, Entrez)."""
        if not re.match(r"^(ENS[GT]\d{11}(\.\d+)?|\d{1,9})$", raw, re.IGNORECASE):
            return Resolution(query, None, "unknown")
        from ._genes import load_gene_map

        gm = load_gene_map()
        hit = gm.resolve(raw)
        if hit.entrez_id is None:
            return Resolution(query, None, "unknown", note=hit.status if hit.candidates else "")
        for alt in (*gm.ensembl_of(hit.entrez_id), hit.symbol or ""):
            if not alt or alt == raw:
                continue
            found = self._exact.get(alt) or self._keyed.get(name_key(alt))
            if found:
                sub = self._outcome(alt, found, "alias")
                return Resolution(
                    query,
                    sub.reference_id,
                    sub.status,
                    sub.candidates,
                    f"gene {hit.symbol} (Entrez {hit.entrez_id}) in the gene map",
                )
        return Resolution(
            query,
            None,
            "unknown",
            note=f"gene {hit.symbol} (Entrez {hit.entrez_id}), not in the mtncrna reference",
        )

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
        """The entity ``name`` resolves to, with its evidence (``mtncrna reference lookup``).

        For a group (``miR-221/222``) or an ambiguous name (``miR-365``) ``members`` holds the
        same record for every candidate, so the curated rows of each are shown. Values are plain
        Python (no NaN: a missing number is None).
        """
        res = self.resolve(name)
        out: dict = {
            "query": name,
            "status": res.status,
            "reference_id": res.reference_id,
            "candidates": list(res.candidates),
            "note": res.note,
        }
        if res.status in ("group", "ambiguous"):
            out["members"] = [self._entity(rid, name) for rid in res.candidates]
        if res.reference_id is not None:
            out.update(self._entity(res.reference_id, name))
        return out

    def _entity(self, rid: str, name: str) -> dict:
        feat = self.features.loc[rid]
        ev = self.evidence[self.evidence["reference_id"] == rid]
        key = _source_key(name)
        other = self.evidence[
            (self.evidence["name_in_source"].map(_source_key) == key)
            & (self.evidence["reference_id"] != rid)
        ]
        fr = self.fractionation[self.fractionation["reference_id"] == rid]
        return {
            "reference_id": rid,
            "feature": {k: _plain(v) for k, v in feat.items()},
            "evidence": _records(ev),
            "curated_elsewhere": _records(other),
            "fractionation": _records(fr),
        }

    def mtdna_fragments(self) -> pd.DataFrame:
        """miRBase miRNAs whose mature sequence is an exact piece of the rCRS (either strand).

        Computed from the shipped sequences: reads of these "miRNAs" may be fragments of
        mitochondrial transcripts. Columns ``reference_id``, ``symbol``, ``start``, ``end``
        (1-based on NC_012920.1), ``strand``, ``mt_gene`` (the mtDNA gene(s) overlapped).
        """
        f = self.features
        cols = ["symbol", "mt_fragment_start", "mt_fragment_end", "mt_fragment_strand"]
        frag = f.loc[f["mt_fragment_start"].notna(), cols].copy()
        frag.columns = ["symbol", "start", "end", "strand"]
        genes = f[(f["chrom"] == MT_CONTIG) & f["start"].notna()]
        frag["mt_gene"] = [
            ";".join(
                genes.index[(genes["start"] <= e) & (genes["end"] >= s0)].map(
                    lambda r: str(genes.at[r, "symbol"])
                )
            )
            for s0, e in zip(frag["start"], frag["end"], strict=True)
        ]
        return frag.rename_axis("reference_id").reset_index()

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


def _source_key(name: str) -> str:
    """name_key without a pre-/pri- prefix: the review's "pre-miR-485-5p" meets "miR-485-5p"."""
    return name_key(strip_precursor_prefix(name) or name)


def _plain(v: object) -> object:
    if isinstance(v, np.generic):
        v = v.item()
    if v is pd.NA or v is pd.NaT or (isinstance(v, float) and not np.isfinite(v)):
        return None
    return v


def _records(frame: pd.DataFrame) -> list[dict]:
    return [{k: _plain(v) for k, v in r.items()} for r in frame.to_dict("records")]


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
        for acc in _split(r.get("precursor_acc", "")):
            precursor_products[acc].append(rid)
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
            for old in _split(r.get("retired_ids", "")):
                add_alias(old, rid, "retired_id")

    features = pd.DataFrame(feats)
    _flag_mtdna_fragments(features, _read_fasta_sequence(directory / "NC_012920.1.fa"))
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
        vocabulary=read_vocabulary(directory / VOCABULARY_FILE),
    )
    ref.evidence = _attach_ids(ref, evidence, directory / "mtncrna_evidence.tsv", "reference_name")
    ref._build_index()
    ref.fractionation = _attach_ids(
        ref, frac, directory / "mito_fractionation.tsv", "reference_name"
    )
    _derive_classes(ref)
    return ref


def _flag_mtdna_fragments(features: pd.DataFrame, genome: str) -> None:
    """Flag miRBase miRNAs whose mature sequence occurs exactly in the rCRS (either strand)."""
    comp = str.maketrans("ACGT", "TGCA")
    start, end, strand = [], [], []
    for cls, seq in zip(features["rna_class"], features["sequence"], strict=True):
        dna = str(seq).upper().replace("U", "T") if cls == "miRNA" else ""
        pos, st = (genome.find(dna), "+") if len(dna) >= 15 else (-1, "")
        if len(dna) >= 15 and pos < 0:
            pos, st = genome.find(dna.translate(comp)[::-1]), "-"
        if pos >= 0:
            start.append(pos + 1)
            end.append(pos + len(dna))
            strand.append(st)
        else:
            start.append(np.nan)
            end.append(np.nan)
            strand.append("")
    features["mt_fragment_start"] = start
    features["mt_fragment_end"] = end
    features["mt_fragment_strand"] = strand
    hit = features["mt_fragment_start"].notna()
    features.loc[hit, "flags"] = [
        ";".join([*(x for x in str(f).split(";") if x), "mtDNA_fragment"])
        for f in features.loc[hit, "flags"]
    ]


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
    """``mt_class``, ``mito_evidence`` and ``known_mtncrna`` of every feature, from its evidence.

    A miRNA is a mitomiR and a non-coding RNA a mito-lncRNA only with evidence that it is inside
    mitochondria (an ``imported`` or ``mtDNA-encoded`` row, or a fractionation hit) or when it
    is encoded by mtDNA. Acting on mitochondria from the cytosol, or a drug-resistance role
    without a mitochondrial mechanism, is recorded in ``mito_evidence`` and leaves the class
    ``other``.
    """
    f = ref.features
    ev = ref.evidence
    n_ev = ev["reference_id"].value_counts() if len(ev) else pd.Series(dtype=int)
    n_fr = (
        ref.fractionation["reference_id"].value_counts()
        if len(ref.fractionation)
        else pd.Series(dtype=int)
    )
    f["n_evidence"] = n_ev.reindex(f.index).fillna(0).astype(int)
    f["n_fractionation"] = n_fr.reindex(f.index).fillna(0).astype(int)
    loc = ev["localisation"].map(lambda v: LEGACY_LOCALISATIONS.get(v, v)) if len(ev) else ev
    by_loc = (
        {v: set(ev.loc[loc == v, "reference_id"]) for v in LOCALISATIONS}
        if len(ev)
        else {v: set() for v in LOCALISATIONS}
    )
    inside = (
        by_loc["imported"]
        | by_loc["mtDNA-encoded"]
        | (set(ref.fractionation["reference_id"]) if len(ref.fractionation) else set())
    )
    mt_encoded = (f["chrom"] == MT_CONTIG).to_numpy()
    mt_class, mito_ev = [], []
    flags = f["flags"].fillna("").astype(str) if "flags" in f.columns else pd.Series("", f.index)
    for rid, rna_class, on_mt, fl in zip(f.index, f["rna_class"], mt_encoded, flags, strict=True):
        is_inside = on_mt or rid in inside
        if is_inside:
            mito_ev.append("inside")
        elif rid in by_loc["acts-on-mitochondria"]:
            mito_ev.append("acts-on-mitochondria")
        elif rid in by_loc["no-mito-mechanism"]:
            mito_ev.append("no-mito-mechanism")
        else:
            mito_ev.append("none")
        fragment = "retired_mirbase" in fl
        if rna_class in ("mt-tRNA", "mt-rRNA", "mt-mRNA"):
            mt_class.append(rna_class)
        elif rna_class == "miRNA":
            mt_class.append("mitomiR" if is_inside else "other")
        elif is_inside and not fragment and (on_mt or rna_class in ("lncRNA", "circRNA")):
            mt_class.append("mito-lncRNA")
        else:
            mt_class.append("other")
    f["mt_class"] = pd.Categorical(mt_class, categories=MT_CLASSES)
    f["mito_evidence"] = pd.Categorical(mito_ev, categories=MITO_EVIDENCE)
    f["known_mtncrna"] = f["mt_class"].isin(["mitomiR", "mito-lncRNA", "mt-tRNA", "mt-rRNA"]) | (
        f["mito_evidence"] == "inside"
    ) & ~f["rna_class"].isin(["mt-mRNA"])
