"""Writing outputs safely: never over an input, always via a temporary name and a rename."""

from __future__ import annotations

import contextlib
import os
import tempfile
from collections.abc import Iterable, Iterator, Sequence
from pathlib import Path

from .._errors import OutputError


def check_output(path: str | Path, inputs: Iterable[str | Path] = ()) -> Path:
    """Fail before any work if ``path`` is one of the inputs or its folder cannot be written."""
    out = Path(path)
    resolved = out.resolve()
    for inp in inputs:
        p = Path(inp)
        if p.exists() and (p.resolve() == resolved or (out.exists() and out.samefile(p))):
            raise OutputError(f"{out}: refusing to overwrite the input file {inp}")
    parent = resolved.parent
    if not parent.exists():
        raise OutputError(f"{out}: output folder {parent} does not exist")
    if not os.access(parent, os.W_OK):
        raise OutputError(f"{out}: output folder {parent} is not writable")
    if out.is_dir():
        raise OutputError(f"{out}: is a folder, expected a file name")
    return out


@contextlib.contextmanager
def atomic_path(path: str | Path) -> Iterator[Path]:
    """Yield a temporary path beside ``path``; rename it to ``path`` only if the block succeeds.

    On any error the temporary file is removed, so a failed run leaves nothing half-written.
    """
    out = Path(path)
    fd, tmp = tempfile.mkstemp(prefix=f".{out.name}.", suffix=".part", dir=out.parent or ".")
    os.close(fd)
    tmp_path = Path(tmp)
    try:
        yield tmp_path
        umask = os.umask(0)
        os.umask(umask)
        tmp_path.chmod(0o666 & ~umask)  # mkstemp makes 0600; give the usual permissions
        tmp_path.replace(out)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            tmp_path.unlink()
        raise


@contextlib.contextmanager
def atomic_group(paths: Sequence[str | Path]) -> Iterator[list[Path]]:
    """Temporary paths beside each of ``paths``, renamed into place together if the block succeeds.

    For an output made of several files (a table, its summary, its provenance side-car): all of
    them are written under temporary names first, so a failure or a kill while writing (the slow
    part) leaves every earlier file as it was and nothing half-written; then they are renamed one
    after the other with nothing in between, the last path last (put the main output there).
    Each output's sha256 in the provenance side-car lets a reader tell a mixed set.
    """
    outs = [Path(p) for p in paths]
    temps: list[Path] = []
    try:
        for out in outs:
            fd, tmp = tempfile.mkstemp(
                prefix=f".{out.name}.", suffix=".part", dir=out.parent or "."
            )
            os.close(fd)
            temps.append(Path(tmp))
        yield list(temps)
        umask = os.umask(0)
        os.umask(umask)
        for tmp in temps:
            tmp.chmod(0o666 & ~umask)
        for tmp, out in zip(temps, outs, strict=True):
            tmp.replace(out)
    except BaseException:
        for tmp in temps:
            with contextlib.suppress(FileNotFoundError):
                tmp.unlink()
        raise
