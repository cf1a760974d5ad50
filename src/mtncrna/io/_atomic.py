"""Writing outputs safely: never over an input, always via a temporary name and a rename."""

from __future__ import annotations

import contextlib
import os
import tempfile
from collections.abc import Iterable, Iterator
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
