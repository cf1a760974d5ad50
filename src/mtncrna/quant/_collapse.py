"""FASTQ -> collapsed unique reads -> trimmed unique inserts (one sample at a time).

The step that touches every read is compiled: :func:`collapse_distinct` counts the sequences
straight from the inflated bytes (:mod:`mtncrna.quant._collapse_kernel`; gzip inflated by ISA-L
in a helper thread), so memory grows with the number of *distinct* reads, not with the number of
reads. :func:`collapse` (dnaio + ``collections.Counter``) is the reference reader: it takes the
files the kernel leaves (and names the line of a malformed record). Adapter finding then runs
once per distinct read and its count is carried along: :func:`trim_distinct` (compiled, reads
without the whole adapter aligned by cutadapt's alignment, compiled too for A/C/G/T adapters) or
:func:`trim_uniques` (the rules in Python, for UMI kits, and the reference the compiled trim is
tested against).
"""

from __future__ import annotations

import logging
import re
import zlib
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass
from functools import lru_cache
from operator import attrgetter
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from .._errors import InputError

if TYPE_CHECKING:
    from ._collapse_kernel import Distinct

logger = logging.getLogger("mtncrna")

#: Characters allowed in a read (upper case; lower case is folded).
_READ_ALPHABET = b"ACGTN"


@dataclass(frozen=True)
class Kit:
    """A library-preparation kit: its 3' adapter and what else the read carries.

    ``adapter=None`` stands for reads already trimmed of the adapter (each read is the insert).
    ``random_5p``/``random_3p`` random bases flank the insert (NEXTflex: 4 and 4); ``umi_length``
    bases of UMI follow the 3' adapter (QIAseq: 12).
    """

    name: str
    adapter: str | None  # None: the reads are already trimmed (each read is an insert)
    random_5p: int = 0
    random_3p: int = 0
    umi_length: int = 0


#: Library kits with a preset; ``adapter=`` replaces a kit's adapter, nothing else.
KITS: dict[str, Kit] = {
    "illumina": Kit("illumina", "TGGAATTCTCGGGTGCCAAGG"),
    "nextflex": Kit("nextflex", "TGGAATTCTCGGGTGCCAAGG", random_5p=4, random_3p=4),
    "qiaseq": Kit("qiaseq", "AACTGTAGGCACCATCAAT", umi_length=12),
}

#: cutadapt's defaults for a 3' adapter (``-a``): 10% errors, 3 bases of minimal overlap.
MAX_ERROR_RATE = 0.1
MIN_OVERLAP = 3


def make_adapter(sequence: str):
    """cutadapt's regular 3' adapter with cutadapt's default error rate and minimal overlap."""
    from cutadapt.adapters import BackAdapter, InvalidCharacter

    try:
        return BackAdapter(sequence, max_errors=MAX_ERROR_RATE, min_overlap=MIN_OVERLAP)
    except (InvalidCharacter, ValueError) as exc:
        raise InputError(None, f"adapter '{sequence}' is not a DNA sequence: {exc}") from None


def adapter_locator(sequence: str):
    """``f(read) -> (start, stop)`` of the 3' adapter in the read, or None: cutadapt's match.

    This is :meth:`cutadapt.adapters.BackAdapter.match_to` without building its match object:
    an exact occurrence of the whole adapter first, then the adapter's k-mer pre-filter and its
    aligner, exactly as ``match_to`` calls them (:func:`adapter_aligner`).
    """
    aligner = adapter_aligner(sequence)
    whole, n = sequence.upper(), len(sequence)

    def fast(read: str) -> tuple[int, int] | None:
        # The whole adapter, exactly: no alignment scores higher (every base matches), so the
        # aligner would return this one; the leftmost if it occurs twice. Most reads of short
        # inserts take this path (~0.1 us instead of ~2.5 us).
        i = read.find(whole)
        if i >= 0:
            return (i, i + n)
        return aligner(read)

    return fast


def adapter_aligner(sequence: str):
    """``f(read) -> (start, stop)`` or None for a read that does not hold the whole adapter
    exactly: cutadapt's k-mer pre-filter and aligner, as ``BackAdapter.match_to`` calls them. If
    a cutadapt release changes those attributes, ``match_to`` itself is used."""
    adapter = make_adapter(sequence)
    aligner = getattr(adapter, "aligner", None)
    finder = getattr(adapter, "kmer_finder", None)
    if aligner is None or finder is None or not hasattr(finder, "kmers_present"):
        match_to = adapter.match_to

        def slow(read: str) -> tuple[int, int] | None:
            m = match_to(read)
            return None if m is None else (m.rstart, m.rstop)

        return slow
    kmers_present, locate = finder.kmers_present, aligner.locate

    def align(read: str) -> tuple[int, int] | None:
        if not kmers_present(read):
            return None
        hit = locate(read)
        return None if hit is None else (hit[2], hit[3])

    return align


@lru_cache(maxsize=8)
def compiled_aligner(sequence: str) -> tuple[float, int] | None:
    """(error rate, minimal overlap) when cutadapt aligns ``sequence`` as our compiled copy of
    its aligner does (:func:`mtncrna.quant._collapse_kernel.locate_back`: a regular 3' adapter
    of A/C/G/T only, indel cost 1, no wildcards), else None (cutadapt itself aligns)."""
    if not sequence or set(sequence.upper()) - set("ACGT"):
        return None
    aligner = getattr(make_adapter(sequence), "aligner", None)
    try:
        ref, rate, flags, wild_ref, wild_query, indel, overlap = aligner.__reduce__()[1]
    except (AttributeError, TypeError, ValueError):
        return None
    if ref != sequence.upper() or flags != 14 or wild_ref or wild_query or indel != 1:
        return None
    return float(rate), int(overlap)


def align_all(sequence: str, reads: list[str]) -> list[tuple[int, int] | None]:
    """:func:`adapter_aligner` over many reads (without a Python call per read)."""
    adapter = make_adapter(sequence)
    aligner = getattr(adapter, "aligner", None)
    finder = getattr(adapter, "kmer_finder", None)
    if aligner is None or finder is None or not hasattr(finder, "kmers_present"):
        align = adapter_aligner(sequence)
        return [align(r) for r in reads]
    present, locate = finder.kmers_present, aligner.locate
    found = [locate(r) if present(r) else None for r in reads]
    return [None if h is None else (h[2], h[3]) for h in found]


def check_fastq(path: str | Path) -> Path:
    """Open ``path`` and read its first record; fail now, with the line, if it is not FASTQ."""
    import dnaio
    from dnaio.exceptions import FastqFormatError

    from .._text import check_readable

    p = check_readable(path, what="FASTQ file")
    try:
        from xopen import xopen

        with xopen(p, "rb", threads=0) as fh:
            head = fh.read(1)
    except (EOFError, OSError, zlib.error) as exc:
        with open(p, "rb") as raw:
            first = raw.read(1)
        if first in (b"@", b">"):  # text under a compressed file's name
            raise InputError(
                p,
                f"is named '{p.suffix}' but is not compressed (it is plain text, starting with "
                f"{first.decode()!r}): remove '{p.suffix}' from its name, or compress it",
            ) from None
        raise InputError(p, f"cannot be decompressed ({exc}); is it a truncated copy?") from None
    if head == b">":
        raise InputError(
            p, "is a FASTA file (first line starts with '>'); expected FASTQ ('@')", line=1
        )
    if head and head != b"@":
        found = head.decode(errors="replace")
        raise InputError(p, f"expected a FASTQ header starting with '@', found {found!r}", line=1)
    try:
        with dnaio.open(p, fileformat="fastq", open_threads=0) as reader:
            next(iter(reader), None)
    except FastqFormatError as exc:
        raise _format_error(p, exc) from None
    except (EOFError, OSError, zlib.error):
        collapse(p, threads=0)  # a small file that ends early: this names the line
        raise  # pragma: no cover (collapse raised)
    return p


def _format_error(path: Path, exc: Exception) -> InputError:
    line = getattr(exc, "line", None)
    msg = str(exc)
    msg = re.sub(r"^Error in FASTQ file at line \d+: ", "", msg)
    msg = msg.split(" The incomplete final record was")[0]
    return InputError(
        path, f"malformed FASTQ record: {msg}", line=None if line is None else line + 1
    )


def _records_before_corruption(path: Path) -> int:
    """How many complete 4-line records a damaged compressed FASTQ holds before the damage
    (the reader's own count stops at its last full buffer)."""
    import bz2
    import gzip

    with open(path, "rb") as raw:
        opener = bz2.open if raw.read(3) == b"BZh" else gzip.open
    lines = 0
    try:
        with opener(path, "rb") as fh:
            while chunk := fh.read1(1 << 16):
                lines += chunk.count(b"\n")
    except (EOFError, OSError, zlib.error):
        pass  # the damage: count what came before it
    return lines // 4


def collapse(path: str | Path, *, threads: int = 1) -> tuple[Counter[str], int]:
    """Count identical reads of a FASTQ(.gz); return (sequence -> count, number of reads).

    Raises :class:`InputError` with the line number for a malformed record, a character other
    than A/C/G/T/N, or a compressed file that ends early.
    """
    import dnaio
    from dnaio.exceptions import FastqFormatError

    p = Path(path)
    reader = None
    try:
        reader = dnaio.open(p, fileformat="fastq", open_threads=threads)
        counts: Counter[str] = Counter(map(attrgetter("sequence"), reader))
    except FastqFormatError as exc:
        raise _format_error(p, exc) from None
    except (EOFError, OSError, zlib.error) as exc:
        n = _records_before_corruption(p)
        raise InputError(
            p,
            f"compressed data ends early or is corrupt after {n:,} complete records ({exc}); "
            "the file is truncated: copy or compress it again",
            line=4 * n + 1,
        ) from None
    finally:
        if reader is not None:
            reader.close()
    n_reads = reader.number_of_records
    if n_reads == 0:
        raise InputError(p, "holds no reads (an empty FASTQ); check the file or leave it out")
    counts = _check_alphabet(p, counts)
    return counts, n_reads


def _check_alphabet(path: Path, counts: Counter[str]) -> Counter[str]:
    """Fold lower case; any other character than ACGTN is an error naming the first bad line."""
    if not counts:
        return counts
    joined = "".join(counts).encode("ascii", errors="replace")
    left = joined.translate(None, _READ_ALPHABET)
    if not left:
        return counts
    if not left.translate(None, _READ_ALPHABET.lower()):
        folded: Counter[str] = Counter()
        for seq, n in counts.items():
            folded[seq.upper()] += n
        return folded
    import dnaio

    allowed = set("ACGTNacgtn")
    with dnaio.open(path, fileformat="fastq", open_threads=0) as reader:
        for i, rec in enumerate(reader):
            bad = set(rec.sequence) - allowed
            if bad:
                raise InputError(
                    path,
                    f"read {rec.name.split()[0]!r} has {', '.join(repr(c) for c in sorted(bad))} "
                    "in its sequence; expected only A, C, G, T or N",
                    line=4 * i + 2,
                )
    return counts  # pragma: no cover (the check above found it)


@dataclass
class TrimmedPart:
    """Trimming of some distinct reads: insert -> reads (and -> UMIs), QC counters, lengths."""

    counts: dict[str, int]
    umis: dict[str, dict[str, int]] | None  # insert -> UMI -> reads
    qc: dict[str, int]
    lengths: dict[int, int]


def trim_uniques(
    items: Iterable[tuple[str, int]],
    kit: Kit,
    *,
    min_length: int,
    max_length: int,
    umi: bool,
) -> TrimmedPart:
    """Trim distinct reads ``(sequence, count)`` once each; the count is carried along.

    Rules, per read:

    0. ``kit.adapter is None`` (reads already trimmed): the read is the insert; an empty read is
       an adapter dimer; rules 4 and 5 apply.
    1. cutadapt finds the 3' adapter (regular 3' adapter, 10% errors, >= 3 bases overlap, as
       ``cutadapt -a``); the insert is everything before it. No adapter: the whole read.
    2. The kit's random bases are removed from the insert (NEXTflex: 4 at each end; a read
       without adapter only loses the 5' ones).
    3. Adapter found and nothing left: an adapter dimer.
    4. Insert shorter than ``min_length`` or longer than ``max_length``: too short / too long.
    5. With UMIs, the ``umi_length`` bases after the adapter are the UMI; a read whose UMI is
       not complete is counted as ``umi_missing``. Reads per (insert, UMI) are kept for the
       deduplication (see ``mtncrna.quant._smallrna``).
    """
    locate = adapter_locator(kit.adapter) if kit.adapter is not None else None
    r5, r3, ul = kit.random_5p, kit.random_3p, kit.umi_length
    inserts: dict[str, int] = {}
    umis: dict[str, dict[str, int]] = {}
    lengths: Counter[int] = Counter()
    reads_in = with_adapter = dimer = short = long_ = umi_missing = 0
    for seq, n in items:
        reads_in += n
        m = locate(seq) if locate is not None else None
        if m is None:
            insert = seq[r5:] if r5 else seq
            umi_seq = ""
            if not insert and locate is None:  # trimmed before: nothing was left of the insert
                dimer += n
                continue
        else:
            with_adapter += n
            insert = seq[: m[0]]
            umi_seq = seq[m[1] : m[1] + ul] if ul else ""
            if r5 or r3:
                k = len(insert)
                insert = insert[r5 : k - r3] if k > r5 + r3 else ""
            if not insert:
                dimer += n
                continue
        k = len(insert)
        if k < min_length:
            short += n
            continue
        if k > max_length:
            long_ += n
            continue
        if umi:
            if len(umi_seq) < ul:
                umi_missing += n
                continue
            per = umis.get(insert)
            if per is None:
                umis[insert] = {umi_seq: n}
            else:
                per[umi_seq] = per.get(umi_seq, 0) + n
        lengths[k] += n
        inserts[insert] = inserts.get(insert, 0) + n
    qc = {
        "reads_in": reads_in,
        "with_adapter": with_adapter,
        "no_adapter": reads_in - with_adapter,
        "adapter_dimer": dimer,
        "too_short": short,
        "too_long": long_,
        "umi_missing": umi_missing,
        "passed": sum(inserts.values()),
    }
    return TrimmedPart(inserts, umis if umi else None, qc, dict(lengths))


def merge_parts(
    parts: list[TrimmedPart],
) -> tuple[dict[str, int], dict[str, int], dict[int, int], dict[str, dict[str, int]] | None]:
    """Join the trimming of a sample's parts: (insert -> reads, QC counters, length histogram,
    insert -> UMI -> reads or None)."""
    qc: Counter[str] = Counter()
    lengths: Counter[int] = Counter()
    for part in parts:
        qc.update(part.qc)
        lengths.update(part.lengths)
    if len(parts) == 1:
        counts, umis = parts[0].counts, parts[0].umis
    else:
        counts = {}
        for part in parts:
            for k, v in part.counts.items():
                counts[k] = counts.get(k, 0) + v
        umis = None
        if parts[0].umis is not None:
            umis = {}
            for part in parts:
                for k, per in part.umis.items():  # type: ignore[union-attr]
                    have = umis.get(k)
                    if have is None:
                        umis[k] = dict(per)
                    else:
                        for u, n in per.items():
                            have[u] = have.get(u, 0) + n
    out = {k: int(qc.get(k, 0)) for k in parts[0].qc}
    return counts, out, dict(lengths), umis


# --------------------------------------------------------------------- compiled fast path


def _open_inflated(path: Path, threads: int):
    """``path`` opened for reading its inflated bytes. gzip with ``threads`` > 0: ISA-L inflates
    in a thread in blocks of the kernel's size (xopen's 1 MB blocks, two ahead, left the kernel
    waiting for the second half of each of its blocks: 1.5-1.6 s -> 1.0-1.4 s for 4 M reads);
    anything else as xopen opens it."""
    from xopen import xopen

    if threads > 0:
        with open(path, "rb") as fh:
            gz = fh.read(2) == b"\x1f\x8b"
        if gz:
            try:
                from isal import igzip_threaded
            except ImportError:  # pragma: no cover - isal has no wheel for this platform
                pass
            else:
                from ._collapse_kernel import BLOCK

                return igzip_threaded.open(path, "rb", threads=1, block_size=BLOCK)
    return xopen(path, "rb", threads=threads)


def collapse_distinct(path: str | Path, *, threads: int = 1) -> Distinct:
    """The distinct reads of a FASTQ(.gz) with their counts, as :func:`collapse` counts them.

    The compiled kernel (:mod:`mtncrna.quant._collapse_kernel`) reads the inflated bytes; a file
    it leaves (malformed, lower case, other characters, Windows line ends, truncated) goes to
    :func:`collapse`, which folds lower case or raises the error that names the line.
    """
    from ._collapse_kernel import Distinct, collapse_fastq

    p = Path(path)
    found = None
    try:
        with _open_inflated(p, threads) as fh:
            found = collapse_fastq(fh)
    except (EOFError, OSError, zlib.error):
        found = None
    if found is None or found.n_reads == 0:
        counts, n_reads = collapse(p, threads=threads)
        return Distinct.from_counts(counts, n_reads)
    return found


def trim_distinct(
    reads: Distinct,
    kit: Kit,
    *,
    min_length: int,
    max_length: int,
    umi: bool,
    part: int = 0,
    parts: int = 1,
) -> TrimmedPart:
    """:func:`trim_uniques` of the distinct reads ``part::parts``, by the same rules.

    The whole adapter is found by a compiled scan; only the reads without it are aligned
    (cutadapt's alignment: :func:`compiled_aligner`), and the inserts are grouped without a
    Python object per read. UMI kits take :func:`trim_uniques` itself (their UMI bookkeeping is
    per read).
    """
    from ._collapse_kernel import _strings

    if umi:
        sel = np.arange(part, len(reads), parts, dtype=np.int64)
        return trim_uniques(
            zip(reads.sequences(sel), reads.count[sel].tolist(), strict=True),
            kit,
            min_length=min_length,
            max_length=max_length,
            umi=umi,
        )
    got = trim_arrays(
        reads, kit, min_length=min_length, max_length=max_length, part=part, parts=parts
    )
    inserts = dict(zip(_strings(reads.arena, got.off, got.length), got.count.tolist(), strict=True))
    return TrimmedPart(inserts, None, got.qc, got.lengths)


@dataclass
class TrimmedArrays:
    """:class:`TrimmedPart` without UMIs, its inserts kept as ``(off, length)`` in the reads'
    arena with their ``count`` (first-seen order): what a worker hands back, cheap to send."""

    off: np.ndarray
    length: np.ndarray
    count: np.ndarray
    qc: dict[str, int]
    lengths: dict[int, int]


def trim_arrays(
    reads: Distinct,
    kit: Kit,
    *,
    min_length: int,
    max_length: int,
    part: int = 0,
    parts: int = 1,
    sel: np.ndarray | None = None,
) -> TrimmedArrays:
    """:func:`trim_distinct` of reads without UMIs (those at the indexes ``sel``, or
    ``part::parts``), the inserts left as arrays."""
    from ._collapse_kernel import adapter_hits, group_inserts, locate_back

    if sel is None:
        sel = np.arange(part, len(reads), parts, dtype=np.int64)
    count = reads.count[sel]
    off, length = reads.off[sel], reads.length[sel]
    r5, r3 = kit.random_5p, kit.random_3p
    start = np.full(len(sel), -1, dtype=np.int64)
    stop = np.full(len(sel), -1, dtype=np.int64)
    if kit.adapter is not None:
        whole = np.frombuffer(kit.adapter.upper().encode("ascii"), dtype=np.uint8)
        start = adapter_hits(reads.arena, off, length, whole)
        stop = np.where(start >= 0, start + len(whole), -1)
        miss = np.flatnonzero(start < 0)
        params = compiled_aligner(kit.adapter)
        if params is not None:  # cutadapt's aligner, compiled
            start[miss], stop[miss] = locate_back(
                reads.arena, off[miss], length[miss], whole, *params
            )
        else:
            hits = align_all(kit.adapter, reads.sequences(sel[miss]))
            at = [i for i, h in zip(miss.tolist(), hits, strict=True) if h is not None]
            if at:
                start[at], stop[at] = np.array([h for h in hits if h is not None]).T
    found = start >= 0
    # the insert: seq[r5:] without adapter; seq[:start] with it, less r5 / r3 random bases
    ins_start = np.where(found, 0, r5).astype(np.int64)
    ins_end = np.where(found, start, length).astype(np.int64)
    if r5 or r3:
        big = found & (start > r5 + r3)
        ins_start = np.where(big, r5, ins_start)
        ins_end = np.where(big, start - r3, ins_end)
        ins_end = np.where(found & ~big, 0, ins_end)
    ins_len = np.maximum(ins_end - ins_start, 0)
    dimer = (found | (kit.adapter is None)) & (ins_len == 0)
    short = ~dimer & (ins_len < min_length)
    long_ = ~dimer & (ins_len > max_length)
    keep = ~(dimer | short | long_)
    g_off, g_len, g_cnt = group_inserts(reads.arena, off, ins_start, ins_len, count, keep)
    hist = np.bincount(ins_len[keep], weights=count[keep], minlength=1).astype(np.int64)
    lengths = {int(k): int(hist[k]) for k in np.flatnonzero(hist)}
    reads_in = int(count.sum())
    with_adapter = int(count[found].sum())
    qc = {
        "reads_in": reads_in,
        "with_adapter": with_adapter,
        "no_adapter": reads_in - with_adapter,
        "adapter_dimer": int(count[dimer].sum()),
        "too_short": int(count[short].sum()),
        "too_long": int(count[long_].sum()),
        "umi_missing": 0,
        "passed": int(g_cnt.sum()),
    }
    return TrimmedArrays(g_off, g_len, g_cnt, qc, lengths)
