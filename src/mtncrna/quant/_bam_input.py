"""Alignment inputs: checking BAM/SAM/CRAM files up front and streaming a BAM's inflated
records (BGZF blocks inflated with isa-l or zlib, optionally by a thread pool).
"""

from __future__ import annotations

import contextlib
import os
import zlib
from collections import deque
from collections.abc import Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from .._errors import InputError
from .._text import check_readable

PathLike = str | os.PathLike[str]


try:  # isa-l's inflate is ~2x zlib's; it comes with cutadapt/xopen, zlib is the fallback
    from isal.isal_zlib import decompress as _inflate
    from isal.isal_zlib import error as _isal_error

    _INFLATE_ERRORS: tuple[type[Exception], ...] = (zlib.error, _isal_error)
except ImportError:  # pragma: no cover - depends on the environment
    _inflate = zlib.decompress
    _INFLATE_ERRORS = (zlib.error,)

_BGZF_EOF = bytes.fromhex("1f8b08040000000000ff0600424302001b0003000000000000000000")
_CHUNK = 1 << 19  # compressed bytes read at a time (~2-8 MB inflated)


@dataclass
class _Input:
    path: Path
    kind: str  # bam, sam, cram
    references: list[str]
    first_record: int  # virtual offset of the first record (BAM)
    paired: bool


def _bgzf_ok(path: Path) -> bool:
    with path.open("rb") as fh:
        head = fh.read(18)
    return len(head) >= 18 and head[:4] == b"\x1f\x8b\x08\x04" and head[12:14] == b"BC"


def _open_input(path: PathLike, reference_fasta: PathLike | None) -> _Input:
    """Check one alignment file completely enough to fail now rather than mid-way."""
    import pysam

    p = check_readable(path, what="alignment file")
    with p.open("rb") as fh:
        head = fh.read(4)
    if not head:
        raise InputError(p, "is empty; expected a BAM, SAM or CRAM file")
    if head[:2] == b"\x1f\x8b":
        if not _bgzf_ok(p):
            raise InputError(
                p,
                "is gzip-compressed but not BGZF; expected a BAM file (samtools view -b), "
                "a plain SAM or a CRAM",
            )
        with p.open("rb") as fh:
            fh.seek(max(0, p.stat().st_size - 28))
            tail = fh.read(28)
        if tail != _BGZF_EOF:
            raise InputError(
                p,
                "is truncated: the BGZF end-of-file marker is missing (the file was cut short "
                "while being written or copied)",
            )
        kind = "bam"
    elif head == b"CRAM":
        kind = "cram"
    else:
        kind = "sam"
        with p.open("rb") as fh:
            first_line = fh.readline(65536)
        if not first_line.startswith(b"@") and first_line.count(b"\t") < 10:
            raise InputError(
                p,
                "is not a BAM, SAM or CRAM file: expected BGZF, 'CRAM' or SAM text (a header "
                "line starting with @ or 11 tab-separated fields), found "
                f"{first_line[:40].decode('latin-1').rstrip()!r}",
            )
    mode = {"bam": "rb", "cram": "rc", "sam": "r"}[kind]
    kwargs: dict[str, Any] = {"check_sq": False}
    if kind == "cram" and reference_fasta is not None:
        kwargs["reference_filename"] = str(reference_fasta)
    save = pysam.set_verbosity(0)
    try:
        try:
            af = pysam.AlignmentFile(str(p), mode, **kwargs)
        except Exception as exc:
            why = f" ({exc})" if isinstance(exc, (OSError, ValueError)) and str(exc) else ""
            raise InputError(p, f"is not a BAM, SAM or CRAM file{why}") from None
        try:
            if kind == "bam" and af.format != "BAM":
                kind = "sam"  # bgzip-compressed SAM
            first = af.tell() if kind == "bam" else 0
            if not af.references:
                raise InputError(
                    p,
                    "has no header naming the reference sequences (@SQ lines); write the SAM "
                    "with its header (samtools view -h) or give the BAM",
                )
            paired = False
            try:
                for i, rec in enumerate(af.fetch(until_eof=True)):
                    paired = paired or rec.is_paired
                    if i >= 999:
                        break
            except Exception as exc:
                what = "is not valid SAM" if kind == "sam" else "is truncated or corrupt"
                raise InputError(
                    p, f"{what}: its first alignment records cannot be read ({exc})"
                ) from None
            refs = list(af.references)
        finally:
            with contextlib.suppress(Exception):  # closing a half-read file may raise again
                af.close()
    finally:
        pysam.set_verbosity(save)
    return _Input(p, kind, refs, first, paired)


def _block_spans(raw: bytes | memoryview, path: Path, base: int) -> tuple[list[int], int]:
    """The complete BGZF blocks at the start of ``raw``: their offsets (block start, deflate
    data start, block end; three per block) and the bytes they take."""
    spans: list[int] = []
    off = 0
    n = len(raw)
    while off + 18 <= n:
        if raw[off] != 0x1F or raw[off + 1] != 0x8B:
            raise InputError(path, f"corrupt BGZF block header at byte {base + off}")
        xlen = raw[off + 10] | (raw[off + 11] << 8)
        bsize = -1
        x = off + 12
        while x + 4 <= off + 12 + xlen:
            slen = raw[x + 2] | (raw[x + 3] << 8)
            if raw[x] == 66 and raw[x + 1] == 67 and slen == 2:
                bsize = raw[x + 4] | (raw[x + 5] << 8)
            x += 4 + slen
        if bsize < 0:
            raise InputError(path, f"corrupt BGZF block (no BSIZE) at byte {base + off}")
        end = off + bsize + 1
        if end > n:
            break
        if end - 8 < off + 12 + xlen:
            raise InputError(path, f"corrupt BGZF block (BSIZE {bsize}) at byte {base + off}")
        spans += (off, off + 12 + xlen, end)
        off = end
    return spans, off


def _inflate_spans(raw: bytes, spans: list[int], path: Path, base: int) -> list[bytes]:
    """Inflate the BGZF blocks found by :func:`_block_spans` (releases the GIL while inflating)."""
    out: list[bytes] = []
    view = memoryview(raw)
    for k in range(0, len(spans), 3):
        off, data, end = spans[k], spans[k + 1], spans[k + 2]
        try:
            block = _inflate(view[data : end - 8], -15)
        except _INFLATE_ERRORS as exc:
            raise InputError(path, f"corrupt BGZF block at byte {base + off} ({exc})") from None
        isize = int.from_bytes(view[end - 4 : end], "little")
        if len(block) != isize:
            raise InputError(
                path,
                f"corrupt BGZF block at byte {base + off}: inflated to {len(block)} bytes, "
                f"its trailer says {isize}",
            )
        out.append(block)
    return out


def _raw_blocks(path: Path, coffset: int) -> Iterator[tuple[bytes, list[int], int]]:
    """The compressed file from ``coffset`` on, in pieces of whole BGZF blocks: ``(raw, spans,
    base)`` with ``spans`` from :func:`_block_spans` and ``base`` the file offset of ``raw``."""
    with path.open("rb") as fh:
        fh.seek(coffset)
        pending = b""
        base = coffset
        while True:
            more = fh.read(_CHUNK)
            raw = pending + more if pending else more
            if not raw:
                return
            spans, used = _block_spans(memoryview(raw), path, base)
            if not more and used != len(raw):
                raise InputError(path, "is truncated: its last BGZF block is incomplete")
            if spans:
                yield raw, spans, base
            pending = raw[used:]
            base += used
            if not more:
                return


def _inflated(path: Path, start_voffset: int, workers: int = 1) -> Iterator[list[bytes]]:
    """Decompressed record bytes from the first record on, as lists of BGZF blocks' contents.

    With ``workers`` > 1 the next pieces are inflated by that many threads while the caller works
    on this one (in order)."""
    coffset, skip = start_voffset >> 16, start_voffset & 0xFFFF
    pool = None
    if workers > 1:
        pool = ThreadPoolExecutor(workers, thread_name_prefix="mtncrna-inflate")
    ahead: deque[Future[list[bytes]]] = deque()
    try:
        for raw, spans, base in _raw_blocks(path, coffset):
            if pool is None:
                blocks = _inflate_spans(raw, spans, path, base)
            else:
                ahead.append(pool.submit(_inflate_spans, raw, spans, path, base))
                if len(ahead) <= workers:
                    continue
                blocks = ahead.popleft().result()
            if skip:
                blocks[0], skip = blocks[0][skip:], 0
            yield blocks
        while ahead:
            blocks = ahead.popleft().result()
            if skip:
                blocks[0], skip = blocks[0][skip:], 0
            yield blocks
    finally:
        if pool is not None:
            for f in ahead:
                f.cancel()
            pool.shutdown(wait=True)


def _to_temp_bam(inp: _Input, tmpdir: Path, reference_fasta: PathLike | None) -> tuple[Path, int]:
    """SAM/CRAM -> an uncompressed temporary BAM (the kernel reads only BAM records)."""
    import pysam

    mode = "rc" if inp.kind == "cram" else "r"
    kwargs: dict[str, Any] = {"check_sq": False}
    if inp.kind == "cram" and reference_fasta is not None:
        kwargs["reference_filename"] = str(reference_fasta)
    out = tmpdir / (inp.path.name + ".u.bam")
    try:
        with (
            pysam.AlignmentFile(str(inp.path), mode, **kwargs) as src,
            pysam.AlignmentFile(str(out), "wbu", template=src) as dst,
        ):
            for rec in src.fetch(until_eof=True):
                dst.write(rec)
        with pysam.AlignmentFile(str(out), "rb", check_sq=False) as af:
            first = af.tell()
    except (OSError, ValueError) as exc:
        raise InputError(inp.path, f"cannot read alignment records ({exc})") from None
    return out, first
