"""The small-RNA reference: mature miRNAs placed in their hairpins, and the mt genome with its
genes (the bundled miRBase 22 / rCRS one, or one built from a user's FASTA and GTF/GFF3/BED files).

How inserts are assigned to it is :mod:`mtncrna.quant._smallrna_assign`.
"""

from __future__ import annotations

import logging
import re
from collections import defaultdict
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path

from .._constants import MT_CONTIG
from .._errors import InputError
from .._text import read_fasta

logger = logging.getLogger("mtncrna")

_COMP = str.maketrans("ACGTN", "TGCAN")


def revcomp(s: str) -> str:
    """Reverse complement of an upper-case DNA string."""
    return s.translate(_COMP)[::-1]


@dataclass(frozen=True)
class MtGene:
    """A gene on the mt genome (1-based, inclusive coordinates)."""

    symbol: str
    rna_class: str
    start: int
    end: int
    strand: str


@dataclass
class SmallRnaReference:
    """Mature miRNAs placed in their hairpins, and the mt genome with its genes.

    ``sites`` are ``(mature name, hairpin name, start, end)`` with 0-based, end-exclusive positions
    of the mature sequence in the hairpin; ``hairpins`` hold DNA (T) sequences. ``unplaced`` names
    the matures found in no hairpin, each its own template (their templated 3' extensions and
    5' upstream starts cannot be recognised).
    """

    mature_names: list[str]
    hairpins: dict[str, str]
    sites: list[tuple[str, str, int, int]]
    mt_name: str
    mt_genome: str
    mt_genes: list[MtGene]
    description: str
    unplaced: list[str] = field(default_factory=list)

    def mature_sequences(self) -> dict[str, str]:
        """Mature name -> DNA sequence (from its first site)."""
        out: dict[str, str] = {}
        for name, hname, s, e in self.sites:
            if name not in out:
                out[name] = self.hairpins[hname][s:e]
        return out

    def mt_derived(self) -> list[str]:
        """Matures whose whole sequence is in the mt genome (either strand), e.g. miRBase's
        hsa-miR-1973 or hsa-miR-4485-3p: the rules assign their reads to the mt genome first."""
        both = self.mt_genome + "|" + revcomp(self.mt_genome)
        k = 12  # only a mature whose first 12-mer is in the genome is looked for in it
        kmers = {both[i : i + k] for i in range(len(both) - k + 1)}
        return sorted(
            n
            for n, seq in self.mature_sequences().items()
            if (len(seq) < k or seq[:k] in kmers) and seq in both
        )


# ------------------------------------------------------------------------------------ loading


@lru_cache(maxsize=1)
def bundled_reference() -> SmallRnaReference:
    """miRBase 22 human mature miRNAs in their hairpins, and the rCRS with its 37 genes.

    Built once per process (treat it as read-only), and kept on disk between runs (see
    :func:`_cached_bundled`).
    """
    ref = _cached_bundled()
    if ref.unplaced:
        logger.warning(
            "%d mature miRNAs not found in their hairpin; matched alone", len(ref.unplaced)
        )
    return ref


def _build_bundled() -> SmallRnaReference:
    import pandas as pd

    from ..reference import load_reference, reference_dir

    ref = load_reference()
    feats = ref.features
    mirna = feats[feats["rna_class"] == "miRNA"]
    mirna = mirna[mirna["sequence"].astype(str).str.len() > 0]
    pre = pd.read_csv(
        reference_dir() / "mirbase22_hsa_precursor.tsv", sep="\t", dtype=str, keep_default_na=False
    )
    hairpins = {
        n: s.upper().replace("U", "T")
        for n, s in zip(pre["precursor_name"], pre["sequence"], strict=True)
    }
    sites: list[tuple[str, str, int, int]] = []
    unplaced: list[str] = []
    names = []
    for name, seq, precursors in zip(
        mirna["symbol"], mirna["sequence"], mirna["precursor"], strict=True
    ):
        dna = str(seq).upper().replace("U", "T")
        names.append(name)
        found = False
        for p in str(precursors).split(";"):
            h = hairpins.get(p.strip())
            if h is None:
                continue
            for m in occurrences(h, dna):
                sites.append((name, p.strip(), m, m + len(dna)))
                found = True
        if not found:
            unplaced.append(name)
            hairpins[name] = dna
            sites.append((name, name, 0, len(dna)))
    mt = feats[(feats["chrom"] == MT_CONTIG) & feats["start"].notna()]
    genes = [
        MtGene(s, c, int(a), int(b), st)
        for s, c, a, b, st in zip(
            mt["symbol"], mt["rna_class"], mt["start"], mt["end"], mt["strand"], strict=True
        )
    ]
    return SmallRnaReference(
        mature_names=names,
        hairpins=hairpins,
        sites=sites,
        mt_name=MT_CONTIG,
        mt_genome=ref.mt_genome(),
        mt_genes=genes,
        description=f"mtncrna reference {ref.version} (miRBase 22 hsa, rCRS {MT_CONTIG})",
        unplaced=unplaced,
    )


#: The bundled reference files the small-RNA reference is made of.
_SOURCES = (
    "VERSION",
    "mirbase22_hsa_mature.tsv",
    "mirbase22_hsa_precursor.tsv",
    "mt_genes.tsv",
    "NC_012920.1.fa",
)
_CACHE_LAYOUT = 1


def _cache_key() -> str:
    """Digest of the cache layout, the package version, the code that builds the reference
    (this module and the reference loader) and the content of every file it is made of."""
    import hashlib
    from importlib.util import find_spec

    from .._version import __version__
    from ..reference import reference_dir

    # the loader's file, found without importing it (it imports pandas, which a run on the
    # cached reference does not need)
    spec = find_spec("mtncrna.reference._reference")
    if spec is None or spec.origin is None:  # pragma: no cover - a broken install
        raise OSError("mtncrna.reference._reference not found")
    h = hashlib.sha256(f"{_CACHE_LAYOUT}\0{__version__}\0".encode())
    for code in (Path(__file__), Path(spec.origin)):
        h.update(code.read_bytes())
    directory = reference_dir()
    for name in _SOURCES:
        h.update(name.encode() + b"\0")
        h.update((directory / name).read_bytes())
    return h.hexdigest()[:32]


def _cache_path(key: str) -> Path:
    import os

    base = os.environ.get("XDG_CACHE_HOME")
    root = (Path(base) if base else Path.home() / ".cache") / "mtncrna" / "smallrna"
    return root / f"bundled-{key}.json"


def _cached_bundled() -> SmallRnaReference:
    """The bundled reference from the cache file, else built (and cached).

    The cache is JSON (no pickle) in ``$XDG_CACHE_HOME/mtncrna/smallrna`` (else
    ``~/.cache/mtncrna/smallrna``), named by :func:`_cache_key`, so edited reference files or
    code never meet an old cache; it is written atomically, checked on loading (its own key, a
    SHA-256 digest of its content, the types, every site in its hairpin and every gene on the
    genome) and ignored if it fails any check. Failing to write it is not an error.
    """
    import json

    try:
        key = _cache_key()
    except OSError:  # a reference file is missing: the loader names it
        return _build_bundled()
    path = _cache_path(key)
    if path.is_file():
        try:
            ref = _from_json(json.loads(path.read_text(encoding="utf-8")), key)
        except (OSError, ValueError, KeyError, TypeError, IndexError) as exc:
            logger.warning("ignoring a damaged small-RNA reference cache %s (%s)", path, exc)
        else:
            return ref
    ref = _build_bundled()
    _store(path, _to_json(ref, key))
    return ref


def _digest(d: dict) -> str:
    import hashlib
    import json

    body = {k: v for k, v in d.items() if k != "digest"}
    return hashlib.sha256(json.dumps(body, sort_keys=True).encode()).hexdigest()


def _to_json(ref: SmallRnaReference, key: str) -> dict:
    d = {
        "key": key,
        "mature_names": ref.mature_names,
        "hairpins": ref.hairpins,
        "sites": [list(s) for s in ref.sites],
        "mt_name": ref.mt_name,
        "mt_genome": ref.mt_genome,
        "mt_genes": [[g.symbol, g.rna_class, g.start, g.end, g.strand] for g in ref.mt_genes],
        "description": ref.description,
        "unplaced": ref.unplaced,
    }
    d["digest"] = _digest(d)
    return d


def _from_json(d: dict, key: str) -> SmallRnaReference:
    if d.get("key") != key:
        raise ValueError("made for other content")
    if d.get("digest") != _digest(d):
        raise ValueError("its content does not match its digest")
    hairpins = {str(k): str(v) for k, v in d["hairpins"].items()}
    sites = [(str(n), str(h), int(s), int(e)) for n, h, s, e in d["sites"]]
    for _, h, s, e in sites:
        if not 0 <= s < e <= len(hairpins[h]):
            raise ValueError(f"site {s}-{e} outside hairpin {h}")
    genome = str(d["mt_genome"])
    genes = [MtGene(str(a), str(c), int(s), int(e), str(st)) for a, c, s, e, st in d["mt_genes"]]
    for g in genes:
        if not (1 <= g.start <= g.end <= len(genome) and g.strand in ("+", "-")):
            raise ValueError(f"gene {g.symbol} outside the genome")
    return SmallRnaReference(
        mature_names=[str(n) for n in d["mature_names"]],
        hairpins=hairpins,
        sites=sites,
        mt_name=str(d["mt_name"]),
        mt_genome=genome,
        mt_genes=genes,
        description=str(d["description"]),
        unplaced=[str(n) for n in d["unplaced"]],
    )


def _store(path: Path, data: dict) -> None:
    import contextlib
    import json

    from ..io._atomic import atomic_path

    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        with atomic_path(path) as tmp:
            tmp.write_text(json.dumps(data), encoding="utf-8")
    except OSError as exc:
        logger.debug("cannot write the small-RNA reference cache %s (%s)", path, exc)
        return
    for old in path.parent.glob("bundled-*.json"):
        if old != path:
            with contextlib.suppress(OSError):
                old.unlink()


def occurrences(text: str, sub: str) -> list[int]:
    out = []
    i = text.find(sub)
    while i >= 0:
        out.append(i)
        i = text.find(sub, i + 1)
    return out


def _gene_class(name: str, biotype: str) -> str:
    b = biotype.lower()
    if "trna" in b:
        return "mt-tRNA"
    if "rrna" in b:
        return "mt-rRNA"
    if b in ("protein_coding", "mt_mrna", "mrna"):
        return "mt-mRNA"
    n = name.upper()
    if re.match(r"^(MT-?T[A-Z]|TRN[A-Z])", n) or "TRNA" in n:
        return "mt-tRNA"
    if re.match(r"^(MT-?RNR|RNR)", n) or "RRNA" in n or n in ("12S", "16S"):
        return "mt-rRNA"
    return "mt-mRNA" if biotype else "other"


#: GTF/GFF3 line types that describe a whole gene (Ensembl's mt tRNAs/rRNAs are ncRNA_gene).
_GENE_TYPES = "gene,ncRNA_gene,pseudogene,tRNA_gene,rRNA_gene"


def read_mt_annotation(path: str | Path, contig: str, length: int) -> list[MtGene]:
    """Genes on the mt genome from a GTF, GFF3 or BED file, read by the shared annotation reader
    (:func:`mtncrna.quant.read_annotation`).

    GTF: gene lines and exon lines grouped by ``gene_id`` (so a GTF without gene lines works),
    each gene spanning its lines. GFF3: gene lines (``gene``, ``ncRNA_gene``, ...) by ``ID``. BED:
    one gene per ``name`` (no strand column: ``+``). Only rows on ``contig`` (or on any name of the
    mitochondrial contig) are used. Symbol from ``gene_name`` (GFF3: ``Name``), else the id; class
    from ``gene_biotype``/``gene_type``/``biotype`` (Mt_tRNA, Mt_rRNA, protein_coding), else from
    the symbol (MT-T*/TRN* tRNA, MT-RNR*/RNR* rRNA).
    """
    from ..reference import is_mt_contig
    from ._annotation import _sniff_annotation, read_annotation

    p = Path(path)
    fmt = _sniff_annotation(p)
    if fmt == "gtf":
        ann = read_annotation(p, feature_type=f"{_GENE_TYPES},exon", attribute="gene_id")
    elif fmt == "gff3":
        ann = read_annotation(p, feature_type=_GENE_TYPES, attribute="ID")
    else:
        ann = read_annotation(p)
    mt = is_mt_contig(contig)
    keep = [c for c in ann.contigs if c == contig or (mt and is_mt_contig(c))]
    ex = ann.exons[ann.exons["chrom"].isin(keep)]
    if not len(ex):
        found = ", ".join(ann.contigs[:5]) + (", ..." if len(ann.contigs) > 5 else "")
        raise InputError(
            p, f"no annotation rows on the mt genome '{contig}' (check the contig names); "
            f"found {found}",
        )  # fmt: skip
    var = ann.var
    symbols = var["gene_name"].tolist() if "gene_name" in var else None
    biotypes = var["gene_biotype"].tolist() if "gene_biotype" in var else None
    genes: dict[str, list] = {}  # symbol -> [start, end, strand, biotype]
    rows = zip(
        ex["feature"].tolist(), ex["start"].tolist(), ex["end"].tolist(), ex["strand"].tolist(),
        strict=True,
    )  # fmt: skip
    for f, start, end, strand in rows:
        name = (symbols[f] if symbols is not None else None) or ann.features[f]
        if strand == "." and fmt == "bed":
            strand = "+"
        if strand not in ("+", "-"):
            raise InputError(p, f"gene {name} has no strand ('.'); expected + or -")
        g = genes.get(name)
        if g is None:
            genes[name] = [start, end, strand, (biotypes[f] if biotypes is not None else "") or ""]
        else:
            g[0], g[1] = min(g[0], start), max(g[1], end)
    for name, (start, end, _, _) in genes.items():
        if end > length:
            raise InputError(
                p, f"gene {name} at {start}-{end} is outside the {length}-bp mt genome '{contig}'"
            )
    return [MtGene(n, _gene_class(n, g[3]), *g[:3]) for n, g in genes.items()]


def custom_reference(
    base: SmallRnaReference | None,
    *,
    mature: str | Path | None = None,
    hairpin: str | Path | None = None,
    mt_genome: str | Path | None = None,
    mt_annotation: str | Path | None = None,
) -> SmallRnaReference:
    """Replace parts of ``base`` (the bundled reference) with a user's FASTA/GTF/BED files.

    ``mature`` (miRBase-style mature FASTA of one species) with ``hairpin`` (its hairpins): each
    mature is placed in every hairpin that contains it. Without ``hairpin``, each mature is its
    own template (so no templated 3' extension or 5' upstream shift can be recognised).
    ``mt_genome`` (FASTA, first record) needs ``mt_annotation`` (GTF/GFF3/BED) and vice versa.
    """
    if hairpin is not None and mature is None:
        raise InputError(hairpin, "a hairpin FASTA needs the mature FASTA too (mature=...)")
    if (mt_genome is None) != (mt_annotation is None):
        given = mt_genome if mt_genome is not None else mt_annotation
        raise InputError(given, "mt_genome and mt_annotation must be given together")
    parts = []
    if mature is not None:
        mat = read_fasta(mature, what="mature miRNA FASTA")
        names = [n for n, _ in mat]
        if hairpin is not None:
            hp = dict(read_fasta(hairpin, what="hairpin FASTA"))
            sites = _place_matures(mat, hp)
            placed = {s[0] for s in sites}
            alone = [(n, s) for n, s in mat if n not in placed]
            if alone:
                logger.warning(
                    "%d of %d mature miRNAs are in no hairpin of %s; matched alone",
                    len(alone),
                    len(mat),
                    hairpin,
                )
        else:
            hp, sites, alone = {}, [], mat
        for n, s in alone:
            key = n if n not in hp else f"{n}#mature"
            hp[key] = s
            sites.append((n, key, 0, len(s)))
        parts.append(
            f"mature {Path(mature).name}" + (f", hairpin {Path(hairpin).name}" if hairpin else "")
        )
    else:
        assert base is not None
        names, hp, sites = base.mature_names, base.hairpins, base.sites
    if mt_genome is not None:
        recs = read_fasta(mt_genome, what="mt genome FASTA")
        if len(recs) > 1:
            logger.warning(
                "%s has %d records; using the first, %s", mt_genome, len(recs), recs[0][0]
            )
        mt_name, genome = recs[0]
        genes = read_mt_annotation(mt_annotation, mt_name, len(genome))  # type: ignore[arg-type]
        parts.append(f"mt genome {Path(mt_genome).name} ({mt_name}), {Path(mt_annotation).name}")  # type: ignore[arg-type]
    else:
        assert base is not None
        mt_name, genome, genes = base.mt_name, base.mt_genome, base.mt_genes
    if mature is not None:
        unplaced = [n for n, _ in alone]
    else:
        assert base is not None
        unplaced = list(base.unplaced)
    desc = "; ".join(parts) + (f"; rest from {base.description}" if base is not None else "")
    return SmallRnaReference(names, hp, sites, mt_name, genome, genes, desc, unplaced)


def _place_matures(
    mature: list[tuple[str, str]], hairpins: dict[str, str]
) -> list[tuple[str, str, int, int]]:
    k = 12
    index: dict[str, list[str]] = defaultdict(list)
    for hname, h in hairpins.items():
        seen = set()
        for i in range(len(h) - k + 1):
            kmer = h[i : i + k]
            if kmer not in seen:
                seen.add(kmer)
                index[kmer].append(hname)
    sites = []
    for name, seq in mature:
        cands = index.get(seq[:k], ()) if len(seq) >= k else list(hairpins)
        for hname in cands:
            for m in occurrences(hairpins[hname], seq):
                sites.append((name, hname, m, m + len(seq)))
    return sites
