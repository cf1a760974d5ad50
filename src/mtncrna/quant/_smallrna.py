"""Small-RNA FASTQ -> miRNA, isomiR and mtDNA-fragment counts, without an aligner.

Small-RNA libraries are highly redundant (10 M reads are typically ~1.4 M distinct sequences, and
a few hundred thousand distinct inserts), so every expensive step runs once per *distinct*
sequence and carries the count along:

1. **collapse**: identical reads are counted by a compiled kernel over the inflated FASTQ bytes
   (ISA-L inflating in a helper thread; :mod:`mtncrna.quant._collapse_kernel`); memory grows
   with the number of distinct reads only.
2. **trim**: cutadapt's adapter alignment (a regular 3' adapter, 10% errors, >= 3 bases overlap,
   i.e. ``cutadapt -a``; compiled for A/C/G/T adapters, cutadapt itself for others) runs once per
   distinct read that does not hold the whole adapter exactly (those are found by a compiled
   scan). Kit presets: ``illumina`` (TruSeq
   small RNA, TGGAATTCTCGGGTGCCAAGG), ``nextflex`` (same adapter, 4 random nt removed at both ends
   of the insert), ``qiaseq`` (AACTGTAGGCACCATCAAT followed by a 12-nt UMI; molecules = UMIs per
   feature, grouped with umi_tools' directional method). ``adapter=`` replaces the kit's
   adapter; ``trim=False`` (``adapter="none"``) takes already-trimmed reads as inserts. Inserts
   outside ``[min_length, max_length]`` and adapter dimers (empty insert) are counted and dropped.
3. **assign** each distinct insert once, with the rules of :mod:`mtncrna.quant._smallrna_assign`:
   mtDNA first (exact; CCA/CC/C tails on mt-tRNA 3' ends), then miRNA isomiRs (5' end within
   +-2 nt and 3' end within +-3 nt of the mature ends in the hairpin, 0-3 non-templated 3' A/U),
   then the same two with one mismatch; ties between miRNAs become one ``a/b`` feature. A
   compiled search finds each tier's hits; the rules' Python picks the call among them.
4. **count** per sample; with ``processes`` > 1 samples run in parallel, or one sample's
   distinct reads are dealt to several processes (its collapse then runs in a thread while the
   reference is built).

Outputs (:func:`write_smallrna`): ``counts_mature.tsv``, ``isomirs.tsv``, ``isomirs.gff3``
(mirGFF3), ``mt_fragments.tsv``, ``qc.tsv`` and ``provenance.json`` (with the run's notes: matures
without a hairpin, miRBase entries that are mtDNA fragments, a library that looks trimmed); the
tables load with :func:`mtncrna.read_counts`.
"""

from __future__ import annotations

import contextlib
import gc
import hashlib
import logging
import multiprocessing as mp
import operator
import re
import sys
import time
from collections import Counter
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from functools import partial
from itertools import chain, pairwise, repeat
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from .._errors import InputError, MtncrnaError
from ..io._names import sample_name_from_path
from ._collapse import (
    KITS,
    Kit,
    TrimmedPart,
    check_fastq,
    collapse_distinct,
    make_adapter,
    merge_parts,
    trim_arrays,
    trim_distinct,
)
from ._smallrna_assign import Assigner, MirnaCall, MtCall
from ._smallrna_reference import SmallRnaReference, bundled_reference, custom_reference

if TYPE_CHECKING:  # the result's DataFrames are built on first access (see SmallRnaResult)
    import pandas as pd

logger = logging.getLogger("mtncrna")

PathLike = str | Path
#: QC columns, in order (the length histogram ``len_<n>`` follows).
QC_COLUMNS = (
    "reads_in",
    "with_adapter",
    "no_adapter",
    "adapter_dimer",
    "too_short",
    "too_long",
    "umi_missing",
    "passed",
    "molecules",
    "mirna",
    "mirna_ambiguous",
    "mt_trna",
    "mt_rrna",
    "mt_other",
    "unassigned",
    "unassigned_mature_ext",
    "unique_reads",
    "unique_inserts",
)
ISOMIR_COLUMNS = (
    "UID",
    "Read",
    "miRNA",
    "Variant",
    "iso_5p",
    "iso_3p",
    "iso_add3p",
    "iso_snp",
    "iso_5p_nt",
    "iso_3p_nt",
    "iso_add3p_nt",
    "iso_snp_nt",
)
MT_FRAGMENT_COLUMNS = ("fragment", "gene", "class", "sense", "strand", "start", "end", "tail")


@dataclass
class _Tables:
    """The result's tables as plain columns (no pandas): what :class:`_Aggregator` makes, what
    :func:`write_smallrna` writes, and what the DataFrames are built from on first access."""

    samples: list[str]
    #: isomiR rows: the ``ISOMIR_COLUMNS`` (text), the counts (rows x samples) and the loci
    iso: dict[str, list[str]]
    iso_counts: np.ndarray
    loci: dict[str, list]
    #: mt fragments: one tuple per row (the ``MT_FRAGMENT_COLUMNS``, then the counts), in order
    fragments: list[tuple]
    features: list[str]
    counts: np.ndarray  # features x samples
    qc_columns: list[str]
    qc: np.ndarray  # samples x qc_columns

    def frame(self, name: str) -> pd.DataFrame:
        """The DataFrame of table ``name`` (what the result's attribute of that name holds)."""
        import pandas as pd

        samples = self.samples
        if name == "counts":
            return pd.DataFrame(
                self.counts, index=pd.Index(self.features, name="feature"), columns=samples
            )
        if name == "qc":
            return pd.DataFrame(
                self.qc, index=pd.Index(samples, name="sample"), columns=self.qc_columns
            )
        if name == "isomirs":
            if not len(self.iso_counts):
                return pd.DataFrame(columns=[*ISOMIR_COLUMNS, *samples])
            columns: dict[str, Any] = dict(self.iso)
            for j, s in enumerate(samples):
                columns[s] = self.iso_counts[:, j]
            return pd.DataFrame(columns)
        if name == "isomir_loci":
            return pd.DataFrame(self.loci, columns=list(LOCI_COLUMNS))
        if name == "mt_fragments":
            return pd.DataFrame(self.fragments, columns=[*MT_FRAGMENT_COLUMNS, *samples])
        raise KeyError(name)

    def tsv(self, name: str) -> str | None:
        """The text of table ``name`` as :func:`mtncrna.io.write_table` writes its DataFrame
        (tab-separated, one ``\\n`` per row, integers in decimal), made from the columns; None
        when a cell or name holds a tab, quote or line break (pandas would quote it: the caller
        writes the DataFrame then)."""
        samples = self.samples
        if name == "counts":
            header = ["feature", *samples]
            cols = [self.features, *_int_texts(self.counts)]
            text = [self.features]
        elif name == "qc":
            header = ["sample", *self.qc_columns]
            cols = [samples, *_int_texts(self.qc)]
            text = [samples]
        elif name == "isomirs":
            header = [*ISOMIR_COLUMNS, *samples]
            text = [self.iso[c] for c in ISOMIR_COLUMNS]
            cols = [*text, *_int_texts(self.iso_counts)]
        elif name == "mt_fragments":
            header = [*MT_FRAGMENT_COLUMNS, *samples]
            rows = self.fragments
            if not rows:
                cols, text = [], []
            else:
                cols = [list(map(str, c)) for c in zip(*rows, strict=True)]
                text = cols[:5] + cols[7:8]  # fragment, gene, class, sense, strand, tail
        else:
            raise KeyError(name)
        if _needs_quotes(header) or any(_needs_quotes(c) for c in text):
            return None
        lines = ["\t".join(header)]
        if cols and cols[0]:
            lines.extend(map("\t".join, zip(*cols, strict=True)))
        return "\n".join(lines) + "\n"


#: Columns of :attr:`SmallRnaResult.isomir_loci`.
LOCI_COLUMNS = ("Parent", "start", "end", "Cigar", "Hits")
_QUOTED = ("\t", '"', "\n", "\r")


def _needs_quotes(values: Sequence[str]) -> bool:
    """Whether a CSV writer (pandas') would quote any of ``values``."""
    joined = "".join(values)
    return any(c in joined for c in _QUOTED)


def _int_texts(table: np.ndarray) -> list[list[str]]:
    """The decimal text of each column of an integer table."""
    return [list(map(str, table[:, j].tolist())) for j in range(table.shape[1])]


class SmallRnaResult:
    """What :func:`quantify_smallrna` found; every table has one column per sample.

    The tables are pandas DataFrames, built on first access (a run that only writes the files,
    :func:`write_smallrna`, never imports pandas); setting an attribute replaces its table.
    A result can also be made of DataFrames: ``SmallRnaResult(counts, isomirs, mt_fragments,
    qc, ...)``.

    Attributes
    ----------
    counts
        Features x samples (integers: reads, or molecules with UMIs, deduplicated per feature and
        UMI and credited to the molecule's most-read insert): every mature miRNA of the reference
        (miRBase names), each
        tie of several miRNAs seen in the data (``name1/name2``), then every mt-tRNA and mt-rRNA
        gene (``MT-TF``, ``MT-RNR2``...) with its *sense* fragments (CCA-tailed or not).
        Index ``feature``.
    isomirs
        One row per distinct insert assigned to a miRNA, in mirtop's isomiR table layout (``UID
        Read miRNA Variant iso_5p iso_3p iso_add3p iso_snp`` + the ``*_nt`` columns), then the
        samples. ``Variant`` follows mirGFF3 (mirtop >= 0.4): ``iso_5p:-1`` starts 1 nt upstream
        of the mature start, ``iso_3p:+2`` ends 2 nt downstream, ``iso_add3p:2`` 2 non-templated
        nt, ``iso_snv_seed`` etc. for a mismatch, ``NA`` for the canonical sequence.
    mt_fragments
        One row per mtDNA fragment (gene, class, sense/antisense, strand of the insert, 1-based
        rCRS start/end of its templated part, non-templated tail) with its counts.
    qc
        Samples x counters: reads in, with adapter, dimers, too short/long, passed, then per
        category (in molecules with UMIs, else reads), distinct reads/inserts and the insert length
        histogram ``len_<min_length>`` .. ``len_<max_length>`` (reads). Index ``sample``.
    isomir_loci
        Where each isomiR row lies (``Parent`` hairpin, 1-based ``start``/``end`` of the read,
        ``Cigar``, ``Hits``), aligned with ``isomirs``; used for the mirGFF3 file.
    parameters
        The settings that produced the result (recorded in ``provenance.json``).
    inputs
        ``(role, path)`` of every input file.
    notes
        What a user must know to read the counts right (also logged as warnings, recorded in
        ``provenance.json`` and printed by the CLI): matures without a hairpin, miRBase entries
        that are mtDNA fragments, a library that looks already trimmed.
    checksums
        sha256 of the input files (path -> hex), computed in a thread while the run worked; the
        provenance record uses them instead of reading the files again.
    """

    def __init__(
        self,
        counts: pd.DataFrame,
        isomirs: pd.DataFrame,
        mt_fragments: pd.DataFrame,
        qc: pd.DataFrame,
        parameters: dict[str, Any] | None = None,
        inputs: list[tuple[str, str]] | None = None,
        notes: list[str] | None = None,
        isomir_loci: pd.DataFrame | None = None,
        checksums: dict[str, str] | None = None,
    ) -> None:
        self._tables: _Tables | None = None
        self._frames: dict[str, pd.DataFrame] = {
            "counts": counts,
            "isomirs": isomirs,
            "mt_fragments": mt_fragments,
            "qc": qc,
        }
        if isomir_loci is not None:
            self._frames["isomir_loci"] = isomir_loci
        self.parameters: dict[str, Any] = {} if parameters is None else parameters
        self.inputs: list[tuple[str, str]] = [] if inputs is None else inputs
        self.notes: list[str] = [] if notes is None else notes
        self.checksums: dict[str, str] = {} if checksums is None else checksums

    @classmethod
    def _of_tables(cls, tables: _Tables) -> SmallRnaResult:
        """A result whose DataFrames are built from ``tables`` when first asked for."""
        self = cls.__new__(cls)
        self._tables = tables
        self._frames = {}
        self.parameters, self.inputs, self.notes, self.checksums = {}, [], [], {}
        return self

    def _frame(self, name: str) -> pd.DataFrame:
        frame = self._frames.get(name)
        if frame is None:
            if self._tables is not None:
                frame = self._tables.frame(name)
            else:  # made of DataFrames without loci
                import pandas as pd

                frame = pd.DataFrame()
            self._frames[name] = frame
        return frame

    def _text(self, name: str) -> str | None:
        """Table ``name`` as TSV text made from the columns, if its DataFrame was never built
        (a built frame may have been changed: it is then written itself)."""
        if self._tables is None or name in self._frames:
            return None
        return self._tables.tsv(name)

    def _qc_columns(self) -> tuple[list[str], dict[str, np.ndarray]]:
        """Samples and the QC counters as arrays (without building the DataFrame)."""
        if self._tables is not None and "qc" not in self._frames:
            t = self._tables
            return t.samples, {c: t.qc[:, j] for j, c in enumerate(t.qc_columns)}
        qc = self.qc
        return list(qc.index), {str(c): qc[c].to_numpy() for c in qc.columns}

    def qc_rows(self) -> dict[str, dict[str, Any]]:
        """The QC counters as ``{sample: {counter: value}}``, without building :attr:`qc`."""
        samples, columns = self._qc_columns()
        return {s: {c: v[i].item() for c, v in columns.items()} for i, s in enumerate(samples)}

    @property
    def counts(self) -> pd.DataFrame:
        """Features x samples (see the class docstring)."""
        return self._frame("counts")

    @counts.setter
    def counts(self, value: pd.DataFrame) -> None:
        self._frames["counts"] = value

    @property
    def isomirs(self) -> pd.DataFrame:
        """The isomiR table, mirtop's layout (see the class docstring)."""
        return self._frame("isomirs")

    @isomirs.setter
    def isomirs(self, value: pd.DataFrame) -> None:
        self._frames["isomirs"] = value

    @property
    def mt_fragments(self) -> pd.DataFrame:
        """mtDNA fragments with their counts (see the class docstring)."""
        return self._frame("mt_fragments")

    @mt_fragments.setter
    def mt_fragments(self, value: pd.DataFrame) -> None:
        self._frames["mt_fragments"] = value

    @property
    def qc(self) -> pd.DataFrame:
        """Samples x QC counters (see the class docstring)."""
        return self._frame("qc")

    @qc.setter
    def qc(self, value: pd.DataFrame) -> None:
        self._frames["qc"] = value

    @property
    def isomir_loci(self) -> pd.DataFrame:
        """Where each isomiR lies, aligned with ``isomirs``."""
        return self._frame("isomir_loci")

    @isomir_loci.setter
    def isomir_loci(self, value: pd.DataFrame) -> None:
        self._frames["isomir_loci"] = value

    def __repr__(self) -> str:
        samples = self._tables.samples if self._tables is not None else list(self.qc.index)
        return f"SmallRnaResult(samples={samples!r}, notes={len(self.notes)})"


def _resolve_kit(
    kit: str, adapter: str | None, umi: bool | None, trim: bool = True
) -> tuple[Kit, bool]:
    if kit not in KITS:
        raise InputError(None, f"unknown kit '{kit}'; expected one of {', '.join(KITS)}")
    k = KITS[kit]
    if adapter is not None and adapter.strip().lower() == "none":
        trim, adapter = False, None
    if not trim:
        if adapter is not None:
            raise InputError(
                None, f"adapter '{adapter}' given with trimming off; give one or the other"
            )
        if k.random_5p or k.random_3p:
            raise InputError(
                None,
                f"kit '{kit}' puts {k.random_5p}+{k.random_3p} random nt around the insert, and "
                "with trimming off each read is taken as the insert: if the random bases were "
                "removed with the adapter use kit 'illumina', else give the untrimmed reads",
            )
        if k.umi_length and umi is not False:
            raise InputError(
                None,
                f"kit '{kit}' reads its UMI after the adapter, which trimmed reads no longer "
                "have: give the untrimmed reads, or count reads with umi=False (--no-umi)",
            )
        k = Kit(k.name, None, 0, 0, k.umi_length)
    elif adapter is not None:
        adapter = adapter.strip().upper()
        make_adapter(adapter)  # validates
        k = Kit(k.name, adapter, k.random_5p, k.random_3p, k.umi_length)
    use_umi = bool(k.umi_length) if umi is None else bool(umi)
    if use_umi and not k.umi_length:
        raise InputError(None, f"kit '{kit}' has no UMI; umi=True needs kit='qiaseq'")
    return k, use_umi


def _named_inputs(
    fastqs: PathLike | Sequence[PathLike] | Mapping[str, PathLike],
    sample_names: Sequence[str] | None = None,
) -> list[tuple[str, Path]]:
    """``(sample, path)`` per FASTQ: the mapping's keys, ``sample_names`` in order, or the shared
    file-name rule :func:`mtncrna.io.sample_name_from_path`."""
    if isinstance(fastqs, (str, Path)):
        fastqs = [fastqs]
    if isinstance(fastqs, Mapping):
        if sample_names is not None:
            raise InputError(None, "sample names given twice: as mapping keys and sample_names")
        items = [(str(k), Path(v)) for k, v in fastqs.items()]
        how = "given"
    elif sample_names is not None:
        paths = [Path(p) for p in fastqs]
        names = [str(n).strip() for n in sample_names]
        if len(names) != len(paths):
            raise InputError(
                None,
                f"{len(names)} sample name(s) for {len(paths)} FASTQ file(s); "
                "give one name per file, in the order of the files",
            )
        empty = [p for n, p in zip(names, paths, strict=True) if not n]
        if empty:
            raise InputError(empty[0], "empty sample name")
        items = list(zip(names, paths, strict=True))
        how = "given"
    else:
        items = [(sample_name_from_path(str(p)), Path(p)) for p in fastqs]
        how = "from the file name"
    if not items:
        raise InputError(None, "no FASTQ files given")
    seen: dict[str, Path] = {}
    for name, p in items:
        if name in seen:
            raise InputError(
                p,
                f"sample name '{name}' ({how}) is also that of {seen[name]}; "
                "name the samples explicitly (--sample-names, or a {sample: path} mapping)",
            )
        seen[name] = p
    _warn_mates(items)
    return items


_MATE = re.compile(r"^(.*?)([._]R?)([12])$")


def _warn_mates(items: list[tuple[str, Path]]) -> None:
    """Two samples named ``X_1``/``X_2`` (or ``_R1``/``_R2``) are most likely the two reads of one
    paired-end run; small-RNA inserts are counted from read 1 only, so say so (names are kept)."""
    found: dict[tuple[str, str], set[str]] = {}
    for name, _ in items:
        m = _MATE.match(name)
        if m:
            found.setdefault((m.group(1), m.group(2)), set()).add(m.group(3))
    for (stem, sep), mates in found.items():
        if mates == {"1", "2"}:
            logger.warning(
                "samples %s%s1 and %s%s2 look like read 1 and read 2 of one paired-end library; "
                "each FASTQ is counted as its own sample (give read 1 only to count the library)",
                stem,
                sep,
                stem,
                sep,
            )


@dataclass
class _SampleCounts:
    """One sample after collapse, trim and assignment (what a worker sends back)."""

    sample: str
    counts: dict[str, int]  # reads per insert
    qc: dict[str, int]
    lengths: dict[int, int]
    n_unique_reads: int
    calls: dict[str, MirnaCall | MtCall]  # assigned inserts only
    umis: dict[str, dict[str, int]] | None = None  # insert -> UMI -> reads
    #: set when ``counts`` holds the assigned inserts only (a sample split over processes):
    #: distinct inserts, their reads, and the unassigned reads extending a hairpin-less mature
    n_inserts: int | None = None
    total: int | None = None
    mature_ext: int | None = None


@dataclass
class _Slice:
    """What a worker sends back of its slice of one sample's distinct reads (no UMIs; the
    slices hold disjoint sets of inserts): distinct inserts, QC, and the assigned inserts'
    reads and calls."""

    n_inserts: int
    qc: dict[str, int]
    lengths: dict[int, int]
    assigned: dict[str, int]
    calls: dict[str, MirnaCall | MtCall]  # those not in the cache when the workers started
    mature_ext: int


@dataclass
class _Job:
    sample: str
    path: str
    kit: Kit
    min_length: int
    max_length: int
    umi: bool


# What forked workers inherit (set by the parent just before the pool starts).
_SHARED: dict[str, Any] = {}


def _fork_context() -> mp.context.BaseContext | None:
    return mp.get_context("fork") if "fork" in mp.get_all_start_methods() else None


def _error_data(exc: MtncrnaError) -> dict:
    """Project errors cross the process boundary as plain data (they do not pickle)."""
    if isinstance(exc, InputError):
        return {"path": exc.path, "detail": exc.detail, "line": exc.line, "column": exc.column}
    return {"path": None, "detail": str(exc), "line": None, "column": None}


def _raise_if_error(res: Any) -> Any:
    if isinstance(res, dict):
        raise InputError(res["path"], res["detail"], line=res["line"], column=res["column"])
    return res


def _assign(assigner: Assigner, inserts) -> dict[str, MirnaCall | MtCall]:
    """Calls of the inserts not assigned before; only assigned inserts are kept (and cached),
    so memory follows what the reference explains, not every distinct insert of every sample."""
    cache = assigner.cache
    new = assigner.assign_many([r for r in inserts if r not in cache])
    cache.update(new)
    return new


def _trim(job: _Job, reads, part: int = 0, parts: int = 1) -> TrimmedPart:
    return trim_distinct(
        reads,
        job.kit,
        min_length=job.min_length,
        max_length=job.max_length,
        umi=job.umi,
        part=part,
        parts=parts,
    )


def _do_sample(job: _Job, assigner: Assigner, threads: int = 1) -> _SampleCounts:
    t0 = time.perf_counter()
    raw = collapse_distinct(job.path, threads=threads)
    n_reads = raw.n_reads
    t1 = time.perf_counter()
    counts, qc, lengths, umis = merge_parts([_trim(job, raw)])
    t2 = time.perf_counter()
    calls = _assign(assigner, counts)
    logger.info(
        "%s: %d reads, %d distinct (collapse %.1f s), %d distinct inserts (trim %.1f s, "
        "assign %.1f s)",
        job.sample,
        n_reads,
        len(raw),
        t1 - t0,
        len(counts),
        t2 - t1,
        time.perf_counter() - t2,
    )
    return _SampleCounts(job.sample, counts, qc, lengths, len(raw), calls, umis)


def _worker_sample(i: int) -> _SampleCounts | dict:
    try:
        assigner = _SHARED["assigner"]
        assigner.cache = {}  # one sample at a time: keep a worker's memory to one sample
        return _do_sample(_SHARED["jobs"][i], assigner)
    except MtncrnaError as exc:
        return _error_data(exc)


def _samples_parallel(jobs: list[_Job], assigner: Assigner, processes: int, ctx):
    """Several samples at once: each worker collapses, trims and assigns one sample."""
    _SHARED.update(jobs=jobs, assigner=assigner)
    try:
        with ctx.Pool(min(processes, len(jobs))) as pool:
            for res in pool.imap(_worker_sample, range(len(jobs))):
                yield _raise_if_error(res)
    finally:
        _SHARED.clear()


def _worker_slice(
    i: int,
) -> tuple[TrimmedPart, dict[str, MirnaCall | MtCall]] | _Slice | dict:
    """Trim and assign every ``n``-th distinct read of the sample the parent collapsed."""
    try:
        reads, n, job = _SHARED["reads"], _SHARED["n_slices"], _SHARED["job"]
        assigner = _SHARED["assigner"]
        if job.umi:
            part = _trim(job, reads, i, n)
            return part, _assign(assigner, part.counts)
        got = trim_arrays(
            reads,
            job.kit,
            min_length=job.min_length,
            max_length=job.max_length,
            sel=np.flatnonzero(_SHARED["parts"] == i),
        )
        inserts = reads.strings(got.off, got.length)
        cache = assigner.cache  # calls of every assigned insert (earlier samples')
        known = [r for r in inserts if r in cache] if cache else []
        calls = _assign(assigner, inserts)
        count = dict(zip(inserts, got.count.tolist(), strict=True))
        assigned = {r: count[r] for r in (*known, *calls)}
        unplaced = _SHARED["unplaced"]
        ext = _mature_extended(count, cache, unplaced) if unplaced else 0
        return _Slice(len(inserts), got.qc, got.lengths, assigned, calls, ext)
    except MtncrnaError as exc:
        return _error_data(exc)


class _Prefetch:
    """A sample's collapse running in a thread (the kernel and ISA-L release the GIL), so that
    the reference and its index are built meanwhile; :meth:`result` waits for it.

    The collapse kernel is loaded here, before the thread starts: numba loads one function at a
    time (a process-wide lock), and the index's functions, loaded next by the caller, would
    otherwise hold the collapse back (~0.3 s of numba's first-load set-up)."""

    def __init__(self, path: str) -> None:
        import threading

        from ._collapse_kernel import load_kernel

        load_kernel()
        self.path = path
        self._out: Any = None
        self._error: BaseException | None = None
        self.seconds = 0.0
        self._thread = threading.Thread(target=self._work, name="mtncrna-collapse", daemon=True)
        self._thread.start()

    def _work(self) -> None:
        t0 = time.perf_counter()
        try:
            self._out = collapse_distinct(self.path, threads=1)
        except BaseException as exc:  # re-raised in the caller's thread
            self._error = exc
        self.seconds = time.perf_counter() - t0

    def result(self):
        self._thread.join()
        if self._error is not None:
            raise self._error
        return self._out


def _warm(job: _Job, assigner: Assigner) -> None:
    """Load the compiled functions the workers call, before they are forked (else each worker
    loads them again)."""
    from ._collapse_kernel import Distinct, prefix_parts

    tiny = Distinct(
        np.frombuffer(b"ACGTACGTACGTACGTACGTAC", dtype=np.uint8).copy(),
        np.zeros(1, dtype=np.int64),
        np.full(1, 22, dtype=np.int64),
        np.ones(1, dtype=np.int64),
        1,
    )
    part = _trim(job, tiny)
    assigner.assign_many(list(part.counts) or ["ACGTACGTACGTACGTACGTAC"])
    prefix_parts(tiny.arena, tiny.off, tiny.length, 0, 16, 2)


def _sample_split(
    job: _Job, assigner: Assigner, processes: int, ctx, prefetch: _Prefetch | None = None
) -> _SampleCounts:
    """One sample on several cores: collapse here (or take the collapse ``prefetch`` ran), then
    trim and assign the distinct reads in ``processes`` disjoint slices, one here and the others
    in workers forked afterwards (so they share the reads and the index without copying
    them)."""
    from ._collapse_kernel import prefix_parts

    _warm(job, assigner)  # while the prefetched collapse runs, if there is one
    unplaced = _unplaced(assigner.reference)
    t0 = time.perf_counter()
    if prefetch is not None and prefetch.path == job.path:
        raw = prefetch.result()
        t0 = time.perf_counter() - prefetch.seconds  # it ran while the reference was built
    else:
        raw = collapse_distinct(job.path, threads=1)
    n_reads = raw.n_reads
    t1 = time.perf_counter()
    # without UMIs the reads are dealt by the first min_length bases of their insert (which
    # begins at the kit's random_5p): every insert is then trimmed and counted in one slice

    parts = prefix_parts(
        raw.arena, raw.off, raw.length, job.kit.random_5p, job.min_length, processes
    )
    _SHARED.update(
        reads=raw, n_slices=processes, job=job, assigner=assigner, unplaced=unplaced, parts=parts
    )
    try:
        with ctx.Pool(processes - 1) as pool:
            others = pool.map_async(_worker_slice, range(1, processes))
            mine = _worker_slice(0)  # this process takes the first slice meanwhile
            out = [_raise_if_error(r) for r in (mine, *others.get())]
    finally:
        _SHARED.clear()
    if job.umi:
        counts, qc, lengths, umis = merge_parts([part for part, _ in out])
        calls: dict[str, MirnaCall | MtCall] = {}
        for _, c in out:
            calls.update(c)
        res = _SampleCounts(job.sample, counts, qc, lengths, len(raw), calls, umis)
    else:
        res = _merge_slices(job.sample, raw, out)
    logger.info(
        "%s: %d reads, %d distinct (collapse %.1f s), %d distinct inserts (trim + assign "
        "%.1f s on %d processes)",
        job.sample,
        n_reads,
        len(raw),
        t1 - t0,
        len(res.counts) if res.n_inserts is None else res.n_inserts,
        time.perf_counter() - t1,
        processes,
    )
    return res


def _merge_slices(sample: str, reads, slices: list[_Slice]) -> _SampleCounts:
    """One sample's counts from its slices (disjoint sets of inserts)."""
    counts: dict[str, int] = {}
    calls: dict[str, MirnaCall | MtCall] = {}
    qc: Counter[str] = Counter()
    lengths: Counter[int] = Counter()
    for s in slices:
        counts.update(s.assigned)
        calls.update(s.calls)
        qc.update(s.qc)
        lengths.update(s.lengths)
    return _SampleCounts(
        sample,
        counts,
        {k: int(qc.get(k, 0)) for k in slices[0].qc},
        dict(lengths),
        len(reads),
        calls,
        n_inserts=sum(s.n_inserts for s in slices),
        total=int(qc["passed"]),
        mature_ext=sum(s.mature_ext for s in slices),
    )


def _molecules(
    umis: dict[str, dict[str, int]],
    calls: Mapping[str, MirnaCall | MtCall],
    *,
    umi_length: int,
    method: str = "directional",
) -> dict[str, int]:
    """Molecules per insert: UMIs deduplicated per feature, each molecule given to one insert.

    Reads of one molecule share its UMI; a sequencing error in the insert makes another
    distinct insert of the same feature (miRNA, or mt fragment coordinates), which must not count
    as a second molecule, so UMIs are grouped per feature (unassigned inserts: per insert).
    ``method="unique"``: each distinct UMI of a feature is a molecule. ``"directional"`` (default,
    umi_tools' method, own code): a UMI one substitution away from a UMI with at least twice its
    reads minus one is an error copy of it (see
    :func:`mtncrna.quant._smallrna_kernel.directional_heads`). A molecule is credited to the
    most-read insert (ties: the alphabetically first) of its head UMI.
    """
    best: dict[tuple, list] = {}  # (feature, UMI) -> [reads, best reads, best insert]
    for ins, per in umis.items():
        c = calls.get(ins)
        if c is None:
            feature: object = ins
        elif type(c) is MirnaCall:
            feature = c.mirna
        else:
            feature = (c.gene, c.strand, c.start, c.end, c.tail)
        for u, n in per.items():
            key = (feature, u)
            cur = best.get(key)
            if cur is None:
                best[key] = [n, n, ins]
            else:
                cur[0] += n
                if n > cur[1] or (n == cur[1] and ins < cur[2]):
                    cur[1], cur[2] = n, ins
    if method == "unique" or not best:
        return dict(Counter(v[2] for v in best.values()))
    from ._smallrna_kernel import directional_heads, umi_codes

    keys = list(best)
    fid: dict[object, int] = {}
    group = np.fromiter((fid.setdefault(f, len(fid)) for f, _ in keys), np.int64, len(keys))
    code = umi_codes([u for _, u in keys], umi_length)
    vals = list(best.values())
    count = np.fromiter((v[0] for v in vals), np.int64, len(vals))
    heads = directional_heads(group, code, count, umi_length)
    return dict(Counter(vals[i][2] for i in np.flatnonzero(heads).tolist()))


def _run(jobs: list[_Job], assigner: Assigner, processes: int, prefetch: _Prefetch | None = None):
    """Yield each sample's counts, in order, using up to ``processes`` processes (fork only)."""
    ctx = _fork_context() if processes > 1 else None
    if processes > 1 and ctx is None:
        logger.info("no 'fork' start method on this platform; running in one process")
    if ctx is None:
        for job in jobs:
            yield _do_sample(job, assigner)
    elif len(jobs) >= processes:
        yield from _samples_parallel(jobs, assigner, processes, ctx)
    else:
        for job in jobs:
            yield _sample_split(job, assigner, processes, ctx, prefetch)


def quantify_smallrna(
    fastqs: PathLike | Sequence[PathLike] | Mapping[str, PathLike],
    *,
    kit: str = "illumina",
    adapter: str | None = None,
    umi: bool | None = None,
    min_length: int = 16,
    max_length: int = 45,
    mature: PathLike | None = None,
    hairpin: PathLike | None = None,
    mt_genome: PathLike | None = None,
    mt_annotation: PathLike | None = None,
    mismatches: int = 1,
    processes: int = 1,
    trim: bool = True,
    sample_names: Sequence[str] | None = None,
    umi_method: str = "directional",
) -> SmallRnaResult:
    """Quantify miRNAs, isomiRs and mt-tRNA/mt-rRNA fragments from small-RNA FASTQ files.

    Parameters
    ----------
    fastqs
        FASTQ files (plain or gzip/bz2/xz), one per sample, or a ``{sample: path}`` mapping.
    sample_names
        One name per FASTQ, in order. Without names (or a mapping) they come from the file names
        by the rule of :func:`mtncrna.io.sample_name_from_path`: the directory and
        ``.fastq``/``.fq`` (+ ``.gz``/``.bz2``/``.xz``/``.zst``) go, Illumina's whole
        ``_S<n>[_L<lane>]_R<r>_001`` tail goes (``S1_S1_L001_R1_001.fastq.gz`` -> ``S1``), and
        nothing else: ``X_1.fastq.gz`` is ``X_1``. Two files with one name are an error.
    kit
        ``illumina`` (TruSeq small RNA), ``nextflex`` (4 random nt at both insert ends) or
        ``qiaseq`` (12-nt UMI after the adapter).
    adapter
        Another 3' adapter sequence (replaces the kit's; its random bases / UMI rules stay);
        ``"none"`` is ``trim=False``.
    trim
        ``False`` for FASTQs already trimmed of the adapter (a common deposit format): each read
        is taken as the insert (an empty read counts as an adapter dimer). Trimming such reads
        again would cut inserts whose 3' end looks like the adapter's start (cutadapt's 3-nt
        minimal overlap), moving reads between miRNAs. Only for kits without random bases; with
        ``qiaseq`` it needs ``umi=False``.
    umi
        Count molecules (UMIs per feature) instead of reads; default: on for ``qiaseq``.
    umi_method
        ``directional`` (default): umi_tools' directional clustering of each feature's UMIs, so
        that a UMI with a sequencing error is not a second molecule; ``unique``: every distinct
        UMI is a molecule.
    min_length, max_length
        Inserts outside this range (after trimming) are counted as too short / too long.
    mature, hairpin
        Custom miRNA reference: mature and hairpin FASTA of one species (miRBase layout, U or T).
        Without ``hairpin`` each mature sequence is its own template, so templated 3' extensions
        and 5' upstream starts cannot be recognised (a warning says so, with the reads that
        begin with a mature and extend it by 1-3 nt: QC column ``unassigned_mature_ext``).
        Default: bundled miRBase 22 human.
    mt_genome, mt_annotation
        Custom mt genome FASTA and its GTF/GFF3/BED gene annotation (given together). Default:
        the bundled rCRS (NC_012920.1) with its 37 genes.
    mismatches
        0, or 1 (default) to also accept inserts with one mismatch (tiers 3 and 4 of the rules).
    processes
        Processes to use. With at least as many samples, each process collapses, trims and
        assigns one sample at a time; with fewer, each sample is collapsed here and its distinct
        reads are trimmed and assigned by ``processes`` workers. Needs the ``fork`` start method
        (Linux); elsewhere everything runs in this process. Memory: one collapsed sample per
        process plus the inserts the reference explains.

    Returns
    -------
    SmallRnaResult
        counts / isomirs / mt_fragments / qc frames; see :class:`SmallRnaResult` for the layout
        and :mod:`mtncrna.quant._smallrna_assign` for the assignment rules.
    """
    # The work allocates millions of small objects and no reference cycles: the cyclic
    # collector would only rescan them (1-3 s on 10 M reads), so it is paused meanwhile
    # (and the libraries' objects are frozen, see _freeze_survivors).
    with _gc_paused():
        return _quantify(
            fastqs,
            kit=kit,
            adapter=adapter,
            umi=umi,
            min_length=min_length,
            max_length=max_length,
            mature=mature,
            hairpin=hairpin,
            mt_genome=mt_genome,
            mt_annotation=mt_annotation,
            mismatches=mismatches,
            processes=processes,
            trim=trim,
            sample_names=sample_names,
            umi_method=umi_method,
        )


@contextlib.contextmanager
def _gc_paused() -> Iterator[None]:
    was = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was:
            gc.enable()


def _freeze_survivors() -> None:
    """Move every object alive now (the imported libraries: numpy, pandas, numba's type
    registries and loaded kernels, the reference: ~150k objects) to the collector's permanent
    generation (:func:`gc.freeze`, what Python's documentation advises before ``fork()``): later
    collections, and the ones at interpreter exit, no longer rescan them (~0.5 s per process).
    They are still freed by reference counting; only a cycle among them would stay. No collection
    first: it took ~0.1 s for the few cycles the imports leave."""
    gc.freeze()


def _quantify(
    fastqs: PathLike | Sequence[PathLike] | Mapping[str, PathLike],
    *,
    kit: str,
    adapter: str | None,
    umi: bool | None,
    min_length: int,
    max_length: int,
    mature: PathLike | None,
    hairpin: PathLike | None,
    mt_genome: PathLike | None,
    mt_annotation: PathLike | None,
    mismatches: int,
    processes: int,
    trim: bool,
    sample_names: Sequence[str] | None,
    umi_method: str,
) -> SmallRnaResult:
    t0 = time.perf_counter()
    k, use_umi = _resolve_kit(kit, adapter, umi, trim)
    if not (isinstance(min_length, int) and isinstance(max_length, int)) or not (
        1 <= min_length <= max_length
    ):
        raise InputError(
            None, f"need 1 <= min_length <= max_length, got {min_length} and {max_length}"
        )
    if umi_method not in ("directional", "unique"):
        raise InputError(None, f"umi_method must be 'directional' or 'unique', got {umi_method!r}")
    if mismatches not in (0, 1):
        raise InputError(None, f"mismatches must be 0 or 1, got {mismatches}")
    if not isinstance(processes, int) or processes < 1:
        raise InputError(None, f"processes must be a positive integer, got {processes!r}")
    named = _named_inputs(fastqs, sample_names)
    for _, p in named:  # fail on a bad file in the first second, not after an hour
        check_fastq(p)
    from .._provenance import sha256_all

    files = [str(p) for _, p in named]
    files += [str(f) for f in (mature, hairpin, mt_genome, mt_annotation) if f is not None]
    checksums = sha256_all(files)  # for the provenance record, in a thread meanwhile
    samples = [n for n, _ in named]
    jobs = [_Job(n, str(p), k, min_length, max_length, use_umi) for n, p in named]
    prefetch = None
    if processes > 1 and len(jobs) < processes and _fork_context() is not None:
        # one sample on several cores: its collapse runs while the reference is built
        prefetch = _Prefetch(jobs[0].path)
    custom = any(x is not None for x in (mature, hairpin, mt_genome, mt_annotation))
    base = None
    if not custom or mature is None or mt_genome is None:
        base = bundled_reference()
    ref = (
        custom_reference(
            base, mature=mature, hairpin=hairpin, mt_genome=mt_genome, mt_annotation=mt_annotation
        )
        if custom
        else base
    )
    assert ref is not None
    t_index = time.perf_counter()
    assigner = Assigner(ref, mismatches=mismatches)
    assigner.index  # noqa: B018 - built here, before any worker is forked
    logger.info("reference index built in %.1f s", time.perf_counter() - t_index)
    _freeze_survivors()
    agg = _Aggregator(samples, ref, min_length, max_length)
    notes = _reference_notes(ref)  # logged there
    cache = assigner.cache
    if processes > 1:  # no checksum thread may run while workers are forked (fork + threads)
        checksums.result()
    for res in _run(jobs, assigner, processes, prefetch):
        cache.update(res.calls)
        res.qc["unique_inserts"] = len(res.counts) if res.n_inserts is None else res.n_inserts
        if res.umis is not None:
            res.counts = _molecules(res.umis, cache, umi_length=k.umi_length, method=umi_method)
            res.umis = None
        res.qc["molecules"] = sum(res.counts.values()) if res.total is None else res.total
        agg.add(res, cache)
        logger.info(
            "%s: %d of %d %s assigned",
            res.sample,
            res.qc["molecules"] - agg.qc[res.sample]["unassigned"],
            res.qc["molecules"],
            "molecules" if use_umi else "reads",
        )
    result = agg.result(assigner.cache)
    later = _library_notes(*result._qc_columns(), ref, trimmed=k.adapter is None)
    for note in later:
        logger.warning("%s", note)
    notes += later
    result.notes = notes
    inputs = [("fastq", str(p)) for _, p in named]
    for role, f in (
        ("mature", mature),
        ("hairpin", hairpin),
        ("mt_genome", mt_genome),
        ("mt_annotation", mt_annotation),
    ):
        if f is not None:
            inputs.append((role, str(f)))
    result.inputs = inputs
    result.checksums = checksums.result()
    result.parameters = {
        "kit": k.name,
        "trim": k.adapter is not None,
        "adapter": k.adapter or "none (reads already trimmed)",
        "random_5p": k.random_5p,
        "random_3p": k.random_3p,
        "umi": use_umi,
        "umi_length": k.umi_length if use_umi else 0,
        "umi_method": umi_method if use_umi else "",
        "adapter_max_error_rate": 0.1,
        "adapter_min_overlap": 3,
        "min_length": min_length,
        "max_length": max_length,
        "mismatches": mismatches,
        "isomir_5p_window": 2,
        "isomir_3p_window": 3,
        "max_nontemplated_3p": 3,
        "ambiguous": "reported as one feature 'a/b'",
        "reference": ref.description,
        "samples": samples,
        "notes": notes,
    }
    logger.info(
        "quantified %d sample(s) in %.1f s (%d distinct inserts assigned)",
        len(samples),
        time.perf_counter() - t0,
        len(assigner.cache),
    )
    return result


class _Aggregator:
    """Per-sample counts of every category, isomiR and mt fragment."""

    def __init__(
        self, samples: list[str], ref: SmallRnaReference, min_length: int, max_length: int
    ) -> None:
        self.samples = samples
        self.col = {s: j for j, s in enumerate(samples)}
        self.ref = ref
        self.min_length, self.max_length = min_length, max_length
        #: per sample: reads (or molecules) of each insert assigned to a miRNA
        self.iso: list[dict[str, int]] = [{} for _ in samples]
        self.frag: dict[tuple, list[int]] = {}
        self.qc: dict[str, dict[str, int]] = {}
        self.unplaced = _unplaced(ref)

    def add(self, res: _SampleCounts, cache: Mapping[str, MirnaCall | MtCall]) -> None:
        """Count one sample; ``cache`` holds the call of every assigned insert (others are
        unassigned)."""
        j = self.col[res.sample]
        n_samples = len(self.samples)
        frag = self.frag
        counts = res.counts
        mirs: dict[str, int] = {}
        ambiguous = 0
        mt = dict.fromkeys(("mt_trna", "mt_rrna", "mt_other"), 0)
        for ins in counts.keys() & cache.keys():
            c = cache[ins]
            if type(c) is MirnaCall:
                n = mirs[ins] = counts[ins]
                if c.n_tied > 1:
                    ambiguous += n
            else:
                n = counts[ins]
                mt[c.qc_key] += n
                key = (c.gene, c.rna_class, c.sense, c.strand, c.start, c.end, c.tail)
                row = frag.get(key)
                if row is None:
                    row = frag[key] = [0] * n_samples
                row[j] += n
        self.iso[j] = mirs
        mirna = sum(mirs.values())
        total = sum(counts.values()) if res.total is None else res.total
        qc = dict(res.qc)
        qc["mirna"] = mirna
        qc["mirna_ambiguous"] = ambiguous
        qc.update(mt)
        qc["unassigned"] = total - mirna - sum(mt.values())
        qc["unassigned_mature_ext"] = 0
        if self.unplaced:
            qc["unassigned_mature_ext"] = (
                _mature_extended(counts, cache, self.unplaced)
                if res.mature_ext is None
                else res.mature_ext
            )
        qc["unique_reads"] = res.n_unique_reads
        for n in range(self.min_length, self.max_length + 1):
            qc[f"len_{n}"] = res.lengths.get(n, 0)
        self.qc[res.sample] = qc

    def _isomirs(self, cache: Mapping[str, MirnaCall | MtCall]) -> tuple[list[str], np.ndarray]:
        """Every insert assigned to a miRNA, ordered by miRNA, reads (most first) and sequence,
        with its counts (inserts x samples)."""
        iso = self.iso
        if len(iso) == 1:
            inserts = list(iso[0])
            table = np.fromiter(iso[0].values(), np.int64, len(inserts)).reshape(-1, 1)
        else:
            inserts = list(dict.fromkeys(chain.from_iterable(iso)))
            table = np.empty((len(inserts), len(iso)), dtype=np.int64)
            for j, d in enumerate(iso):
                table[:, j] = np.fromiter(map(d.get, inserts, repeat(0)), np.int64, len(inserts))
        n = len(inserts)
        if n < 2:
            return inserts, table
        mirnas = list(map(_MIRNA, map(cache.__getitem__, inserts)))
        rank = {m: i for i, m in enumerate(sorted(set(mirnas)))}
        code = np.fromiter(map(rank.__getitem__, mirnas), np.int64, n)
        # sequence order first, then a stable sort by miRNA and reads keeps it among equals
        by_read = np.array(sorted(range(n), key=inserts.__getitem__), dtype=np.int64)
        perm = by_read[np.lexsort((-table.sum(axis=1)[by_read], code[by_read]))]
        return list(map(inserts.__getitem__, perm.tolist())), table[perm]

    def result(self, cache: Mapping[str, MirnaCall | MtCall]) -> SmallRnaResult:
        """The result, held as columns (its DataFrames are built when first asked for)."""
        samples = self.samples
        n_samples = len(samples)
        hairpins = self.ref.hairpins
        order, table = self._isomirs(cache)
        calls = list(map(cache.__getitem__, order))
        assert set(map(type, calls)) <= {MirnaCall}
        mirnas = list(map(_MIRNA, calls))
        text = {"UID": _uids(order), "Read": order, "miRNA": mirnas}
        variants = _variants(calls, hairpins)  # type: ignore[arg-type]
        for name, column in zip(ISOMIR_COLUMNS[3:], variants, strict=True):
            text[name] = column
        loci = _loci(order, calls, hairpins)  # type: ignore[arg-type]
        # mt fragments, ordered by start, strand, end and tail
        frows = []
        for (gene, cls, sense, strand, start, end, tail), counts in self.frag.items():
            fid = f"{gene}:{strand}:{start}-{end}" + (f":{tail}" if tail else "")
            frows.append((fid, gene, cls, sense, strand, start, end, tail or "none", *counts))
        frows.sort(key=lambda row: (row[5], row[4], row[6], row[7]))
        # feature counts: all reference miRNAs, ties seen, mt-tRNA and mt-rRNA genes
        names = list(dict.fromkeys(self.ref.mature_names))
        seen = list(dict.fromkeys(mirnas))  # in order: mirnas is sorted
        ties = sorted(set(seen) - set(names))
        genes = list(
            dict.fromkeys(
                g.symbol for g in self.ref.mt_genes if g.rna_class in ("mt-tRNA", "mt-rRNA")
            )
        )
        features = names + ties + genes
        counts = np.zeros((len(features), n_samples), dtype=np.int64)
        if order:
            first = np.flatnonzero([True, *(a != b for a, b in pairwise(mirnas))])
            row_of = {n: i for i, n in enumerate(names + ties)}
            counts[[row_of[n] for n in seen]] = np.add.reduceat(table, first, axis=0)
        per_gene: dict[str, np.ndarray] = {}
        for row in frows:
            if row[3] == "sense" and row[2] in ("mt-tRNA", "mt-rRNA"):
                got = per_gene.get(row[1])
                per_gene[row[1]] = np.asarray(row[8:], dtype=np.int64) + (0 if got is None else got)
        for i, g in enumerate(genes, len(names) + len(ties)):
            if g in per_gene:
                counts[i] = per_gene[g]
        lens = [f"len_{n}" for n in range(self.min_length, self.max_length + 1)]
        qc_columns = [*QC_COLUMNS, *lens]
        qc = np.array(
            [[self.qc[s][c] for c in qc_columns] for s in samples], dtype=np.int64
        ).reshape(n_samples, len(qc_columns))
        return SmallRnaResult._of_tables(
            _Tables(
                samples=list(samples),
                iso=text,
                iso_counts=table,
                loci=loci,
                fragments=frows,
                features=features,
                counts=counts,
                qc_columns=qc_columns,
                qc=qc,
            )
        )


def _unplaced(ref: SmallRnaReference) -> frozenset[str]:
    """Sequences of the mature miRNAs without a hairpin."""
    seqs = ref.mature_sequences()
    return frozenset(seqs[n] for n in ref.unplaced if n in seqs)


def _mature_extended(
    counts: Mapping[str, int], cache: Mapping[str, MirnaCall | MtCall], matures: frozenset[str]
) -> int:
    """Reads of unassigned inserts that are a mature sequence plus 1-3 nt at its 3' end: most
    likely templated 3' isomiRs of a mature whose hairpin is unknown."""
    n = 0
    for ins in counts.keys() - cache.keys():
        for k in (1, 2, 3):
            if ins[:-k] in matures:
                n += counts[ins]
                break
    return n


def _reference_notes(ref: SmallRnaReference) -> list[str]:
    notes = []
    if ref.unplaced:
        shown = ", ".join(ref.unplaced[:3]) + (", ..." if len(ref.unplaced) > 3 else "")
        notes.append(
            f"{len(ref.unplaced)} of {len(set(ref.mature_names))} mature miRNAs have no hairpin "
            f"({shown}): each is its own template, so their templated 3' isomiRs (and 5' "
            "upstream starts) cannot be recognised and such reads stay unassigned; give the "
            "hairpin FASTA (--hairpin) to count them"
        )
        logger.warning("%s", notes[-1])
    mt = ref.mt_derived()
    if mt:
        notes.append(
            f"{len(mt)} miRNA entries are exact fragments of the mt genome ({', '.join(mt)}): "
            "their reads are counted as mtDNA fragments (mt_fragments.tsv and the mt gene rows), "
            "so these miRNAs count 0"
        )
        logger.info("%s", notes[-1])
    return notes


def _library_notes(
    samples: Sequence[str],
    qc: Mapping[str, np.ndarray],
    ref: SmallRnaReference,
    *,
    trimmed: bool,
) -> list[str]:
    """Notes on the libraries, from the QC counters (``qc``: counter -> one value per sample)."""
    notes = []
    if ref.unplaced and len(samples):
        ext = qc["unassigned_mature_ext"]
        share = ext / np.maximum(qc["mirna"] + ext, 1)
        notes.append(
            "reads left unassigned that begin with a hairpin-less mature miRNA and extend it by "
            f"1-3 nt (likely templated 3' isomiRs): {int(ext.min()):,}-{int(ext.max()):,} per "
            f"sample, {share.min():.1%}-{share.max():.1%} of the miRNA reads "
            "(qc.tsv: unassigned_mature_ext)"
        )
    if not trimmed and len(samples):
        reads = np.maximum(qc["reads_in"], 1)
        low = [
            s
            for s, few in zip(
                samples, (qc["with_adapter"] / reads < 0.5) & (qc["reads_in"] >= 1000), strict=True
            )
            if few
        ]
        if low:
            shown = ", ".join(map(str, low[:3])) + (", ..." if len(low) > 3 else "")
            notes.append(
                f"fewer than half of the reads have the adapter in {len(low)} sample(s) "
                f"({shown}): if these FASTQs are already trimmed, run again with trimming off "
                "(--no-trim), as trimming again cuts inserts that end like the adapter's start"
            )
    return notes


def _uid(read: str) -> str:
    """A stable id of the read sequence (``mtn-<length>-<blake2b 64-bit hex>``).

    Not mirtop's MINTplates licence plate, whose terms do not allow reuse in MIT-licensed code.
    """
    return f"mtn-{len(read)}-{hashlib.blake2b(read.encode(), digest_size=8).hexdigest()}"


def _uids(reads: Sequence[str]) -> list[str]:
    """:func:`_uid` of each read."""
    digests = map(partial(hashlib.blake2b, digest_size=8), map(str.encode, reads))
    return list(map("mtn-{}-{}".format, map(len, reads), map(_HEX, digests)))


_HEX = operator.methodcaller("hexdigest")


def _loci(reads: list[str], calls: list[MirnaCall], hairpins: Mapping[str, str]) -> dict[str, list]:
    """Where each isomiR lies (the columns of ``LOCI_COLUMNS``): ``Parent`` hairpin, 1-based
    ``start``/``end`` of the read on it, mirGFF3 ``Cigar`` (compiled,
    :func:`mtncrna.quant._smallrna_kernel.cigars`), ``Hits``."""
    from ._smallrna_kernel import cigars

    if not calls:
        return {name: [] for name in LOCI_COLUMNS}
    _, hits, parents, starts, *_ = map(list, zip(*calls, strict=True))
    ends = list(map(operator.add, starts, map(len, reads)))
    refs = [hairpins[h][s:e] for h, s, e in zip(parents, starts, ends, strict=True)]
    return {
        "Parent": parents,
        "start": [s + 1 for s in starts],
        "end": ends,
        "Cigar": cigars(reads, refs),
        "Hits": hits,
    }


def _snv_class(pos: int) -> str:
    if 2 <= pos <= 7:
        return "iso_snv_seed"
    if pos == 8:
        return "iso_snv_central_offset"
    if 9 <= pos <= 12:
        return "iso_snv_central"
    if 13 <= pos <= 17:
        return "iso_snv_central_supp"
    return "iso_snv"


def _variant(c: MirnaCall, hairpins: Mapping[str, str]) -> tuple[str, ...]:
    """mirGFF3 ``Variant`` plus mirtop's expanded columns (values and nucleotides)."""
    h = hairpins[c.hairpin]
    d5, d3 = c.shift5, c.shift3
    parts = []
    if d5:
        parts.append(f"iso_5p:{d5:+d}")
    if d3:
        parts.append(f"iso_3p:{d3:+d}")
    if c.add:
        parts.append(f"iso_add3p:{len(c.add)}")
    if c.snv:
        parts.append(_snv_class(c.snv[0]))
    variant = ",".join(sorted(parts)) or "NA"
    if d5 < 0:
        nt5 = h[c.start : c.mature_start]
    elif d5 > 0:
        nt5 = h[c.mature_start : c.start].lower()
    else:
        nt5 = "0"
    if d3 > 0:
        nt3 = h[c.mature_end : c.end]
    elif d3 < 0:
        nt3 = h[c.end : c.mature_end].lower()
    else:
        nt3 = "0"
    return (
        variant,
        f"{d5:+d}" if d5 else "0",
        f"{d3:+d}" if d3 else "0",
        str(len(c.add)),
        "1" if c.snv else "0",
        nt5,
        nt3,
        c.add or "0",
        f"{c.snv[0]}{c.snv[1]}{c.snv[2]}" if c.snv else "0",
    )


def _variants(calls: Sequence[MirnaCall], hairpins: Mapping[str, str]) -> list[list[str]]:
    """:func:`_variant` of many calls, as its 9 columns. The labels, which depend on the
    shifts, the tail's length and the mismatch's position only, are made once per combination;
    the rest column by column."""
    if not calls:
        return [[] for _ in range(9)]
    _, _, hps, starts, ends, m5s, m3s, adds, snvs = zip(*calls, strict=True)
    d5s = list(map(operator.sub, starts, m5s))
    d3s = list(map(operator.sub, ends, m3s))
    positions = [v[0] if v else 0 for v in snvs]
    keys = list(zip(d5s, d3s, map(len, adds), positions, strict=True))
    one_each = dict(zip(keys, calls, strict=True))
    labels = {k: _variant(c, hairpins)[:5] for k, c in one_each.items()}
    columns = list(map(list, zip(*map(labels.__getitem__, keys), strict=True)))
    columns.append(
        [
            "0" if not d else hairpins[h][s:m] if d < 0 else hairpins[h][m:s].lower()
            for h, s, m, d in zip(hps, starts, m5s, d5s, strict=True)
        ]
    )
    columns.append(
        [
            "0" if not d else hairpins[h][m:e] if d > 0 else hairpins[h][e:m].lower()
            for h, e, m, d in zip(hps, ends, m3s, d3s, strict=True)
        ]
    )
    columns.append([a or "0" for a in adds])
    columns.append([f"{v[0]}{v[1]}{v[2]}" if v else "0" for v in snvs])
    return columns


_MIRNA = operator.attrgetter("mirna")

#: The libraries a small-RNA run may use: those loaded are named, with their versions, in
#: provenance.json.
_LIBRARIES = ("numpy", "numba", "llvmlite", "cutadapt", "dnaio", "xopen", "isal", "pandas")


def _write_gff(result: SmallRnaResult, path: Path, guard: Sequence[str]) -> Path:
    from .._version import __version__
    from ._mirgff import write_mirgff

    bundled = not str(result.parameters.get("reference", "")).startswith("mature ")
    t = result._tables
    if t is not None and not {"isomirs", "isomir_loci"} & result._frames.keys():
        samples: list[str] = t.samples
        isomirs: Any = dict(t.iso)
        for j, s in enumerate(samples):
            isomirs[s] = t.iso_counts[:, j]
        loci: Any = t.loci
    else:  # DataFrames (given, or built and perhaps changed)
        isomirs, loci = result.isomirs, result.isomir_loci
        samples = [c for c in isomirs.columns if c not in ISOMIR_COLUMNS]
        if len(loci) != len(isomirs):  # a result built by hand: no loci to write
            raise InputError(path, "the result has no isomiR loci; cannot write mirGFF3")
    return write_mirgff(
        isomirs,
        loci,
        samples,
        path,
        source="miRBasev22" if bundled else "custom",
        tool=f"mtncrna {__version__}",
        inputs=guard,
    )


def _write_table(
    result: SmallRnaResult, name: str, path: Path, guard: Sequence[str], *, index: bool = False
) -> Path:
    """Write one table: its text made from the columns, else its DataFrame (the same bytes)."""
    from ..io import atomic_path, check_output, write_table

    text = result._text(name)
    if text is None:
        return write_table(getattr(result, name), path, inputs=guard, index=index)
    out = check_output(path, guard)
    with atomic_path(out) as tmp:
        tmp.write_bytes(text.encode("utf-8"))
    return out


def write_smallrna(
    result: SmallRnaResult, outdir: PathLike, *, inputs: Sequence[PathLike] = ()
) -> dict[str, Path]:
    """Write the result's tables and ``provenance.json`` into ``outdir`` (created if missing).

    Files: ``counts_mature.tsv`` (feature x sample, first column ``feature``),
    ``isomirs.tsv`` (mirtop isomiR table), ``isomirs.gff3`` (the same isomiRs as mirGFF3 1.2, see
    :mod:`mtncrna.quant._mirgff`), ``mt_fragments.tsv`` (first column ``fragment``),
    ``qc.tsv`` (sample x counters). Each is written atomically and never over an input (the
    FASTQs, reference files and ``inputs``). ``provenance.json`` records the versions of mtncrna,
    Python and the libraries the run used (pandas only if it was loaded, e.g. to build the
    result's DataFrames or to read a GTF). Returns ``{name: path}``.
    """
    from .._provenance import record
    from ..io import write_provenance

    out = Path(outdir)
    try:
        out.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise InputError(out, f"cannot create the output folder: {exc.strerror or exc}") from None
    guard = [p for _, p in result.inputs] + [str(p) for p in inputs]
    paths = {
        "counts_mature": _write_table(
            result, "counts", out / "counts_mature.tsv", guard, index=True
        ),
        "isomirs": _write_table(result, "isomirs", out / "isomirs.tsv", guard),
        "isomirs_gff": _write_gff(result, out / "isomirs.gff3", guard),
        "mt_fragments": _write_table(result, "mt_fragments", out / "mt_fragments.tsv", guard),
        "qc": _write_table(result, "qc", out / "qc.tsv", guard, index=True),
    }
    prov = record(
        step="quant smallrna",
        inputs=result.inputs,
        checksums=result.checksums,
        parameters=result.parameters,
        reference_version=str(result.parameters.get("reference", "")),
        packages=[p for p in _LIBRARIES if p in sys.modules],
    )
    paths["provenance"] = write_provenance(
        out / "provenance.json", prov, outputs=list(paths.values())
    )
    return paths
