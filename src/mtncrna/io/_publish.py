"""Publishing a command's output folder as a whole: staged aside, locked, swapped into place.

A command that writes several files (``run``, ``de``, ``qc``, ``enrich``, ``signature``,
``quant smallrna``) writes them into a staging folder beside the target and moves that folder into
place only when the command succeeded. An earlier output set is replaced as one unit (an atomic
exchange of the two folders where the kernel offers it). So a failed rerun, a kill at any moment
or a second run at the same time never leaves a mixed or damaged folder: the target holds the
complete earlier set or the complete new one.

The target folder is locked for the whole command (``flock`` on ``.NAME.lock`` beside it, which the
kernel releases when the process dies, so a killed run leaves no stale lock); a second run stops
with one line naming the folder and the other run's pid. Staging folders a killed run left behind
are removed by the next run that takes the lock.

A folder that holds files mtncrna did not write is never replaced: that is an error, as is a
target that contains one of the command's inputs.
"""

from __future__ import annotations

import contextlib
import ctypes
import ctypes.util
import errno
import fcntl
import json
import os
import shutil
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import IO

from .._errors import OutputError

#: Written into every published folder; marks it as mtncrna's to replace on a rerun.
MARKER = ".mtncrna-output"

_RENAME_EXCHANGE = 2
_AT_FDCWD = -100


def _libc() -> ctypes.CDLL | None:
    name = ctypes.util.find_library("c")
    try:
        return ctypes.CDLL(name, use_errno=True) if name else None
    except OSError:  # pragma: no cover - no libc (not Linux)
        return None


_LIBC = _libc()


def _exchange(a: Path, b: Path) -> bool:
    """Swap two paths atomically (Linux renameat2 RENAME_EXCHANGE); False when unsupported."""
    fn = getattr(_LIBC, "renameat2", None)
    if fn is None:
        return False
    rc = fn(_AT_FDCWD, os.fsencode(a), _AT_FDCWD, os.fsencode(b), _RENAME_EXCHANGE)
    if rc == 0:
        return True
    err = ctypes.get_errno()
    if err in (errno.EINVAL, errno.ENOSYS, errno.EOPNOTSUPP):
        return False  # file system or kernel without RENAME_EXCHANGE
    raise OSError(err, os.strerror(err), str(a))


def _is_inside(path: Path, folder: Path) -> bool:
    try:
        path.resolve().relative_to(folder.resolve())
    except ValueError:
        return False
    return True


def _foreign_files(folder: Path) -> list[str]:
    """Entries of an existing target folder that an earlier mtncrna command did not write."""
    marker = folder / MARKER
    if not marker.exists():
        return sorted(p.name for p in folder.iterdir())
    try:
        ours = set(json.loads(marker.read_text(encoding="utf-8")).get("files", []))
    except (OSError, ValueError):
        ours = set()
    return sorted(p.name for p in folder.iterdir() if p.name != MARKER and p.name not in ours)


class _Lock:
    """An exclusive, non-blocking lock on ``.NAME.lock`` beside the target folder."""

    def __init__(self, target: Path) -> None:
        self.path = target.parent / f".{target.name}.lock"
        self._fh: IO[str] | None = None
        self.target = target

    def acquire(self) -> None:
        while True:
            fh = self.path.open("a+", encoding="utf-8")
            try:
                fcntl.flock(fh, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                fh.seek(0)
                owner = fh.read().strip() or "unknown"
                fh.close()
                raise OutputError(
                    f"{self.target}: another mtncrna command (pid {owner}) is writing into this "
                    "folder; wait for it to finish or choose another output folder"
                ) from None
            # the file may have been removed by the previous holder between open and lock
            try:
                same = os.path.samestat(os.fstat(fh.fileno()), self.path.stat())
            except FileNotFoundError:
                same = False
            if same:
                fh.seek(0)
                fh.truncate()
                fh.write(f"{os.getpid()}\n")
                fh.flush()
                self._fh = fh
                return
            fh.close()

    def release(self) -> None:
        if self._fh is not None:
            with contextlib.suppress(FileNotFoundError):
                self.path.unlink()
            fcntl.flock(self._fh, fcntl.LOCK_UN)
            self._fh.close()
            self._fh = None


class Staged:
    """The staging folder of one publication: write every output under :attr:`path`."""

    def __init__(self, target: Path, path: Path) -> None:
        self.target = target
        self.path = path

    def __truediv__(self, name: str) -> Path:
        return self.path / name

    def final(self, staged: Path) -> Path:
        """Where a staged file will be once published."""
        return self.target / staged.relative_to(self.path)


def _clean_leftovers(target: Path) -> None:
    for p in target.parent.glob(f".{target.name}.*.part"):
        shutil.rmtree(p, ignore_errors=True)
    for p in target.parent.glob(f".{target.name}.*.old"):
        shutil.rmtree(p, ignore_errors=True)


def check_folder(target: str | Path, inputs: Iterable[str | Path] = ()) -> Path:
    """Fail before any work if ``target`` cannot receive a published output folder."""
    out = Path(target)
    if out.exists() and not out.is_dir():
        raise OutputError(f"{out}: exists and is not a folder; give a folder name for -o/--outdir")
    parent = out.resolve().parent
    existing = next((a for a in [parent, *parent.parents] if a.exists()), None)
    if existing is not None and not existing.is_dir():
        raise OutputError(f"{out}: {existing} is a file, not a folder")
    if existing is not None and not os.access(existing, os.W_OK | os.X_OK):
        raise OutputError(f"{out}: the folder {existing} is not writable")
    for inp in inputs:
        p = Path(inp)
        if p.exists() and out.exists() and _is_inside(p, out):
            raise OutputError(
                f"{out}: holds the input {inp}, and a rerun replaces the whole folder; "
                "write the output to another folder"
            )
    if out.is_dir():
        foreign = _foreign_files(out)
        if foreign:
            shown = ", ".join(foreign[:5]) + (" ..." if len(foreign) > 5 else "")
            raise OutputError(
                f"{out}: the folder holds files mtncrna did not write ({shown}); a rerun replaces "
                "the whole folder, so give a new or empty folder"
            )
    return out


@contextlib.contextmanager
def publish(target: str | Path, *, inputs: Iterable[str | Path] = ()) -> Iterator[Staged]:
    """Stage a command's outputs aside; move them into ``target`` as one unit on success.

    Usage::

        with publish(outdir, inputs=inputs) as stage:
            write_table(df, stage / "table.tsv")
        # outdir now holds exactly what was written under stage.path

    On an exception (or a kill) the staging folder is discarded and ``target`` is left as it was.
    """
    inputs = list(inputs)
    out = check_folder(target, inputs)
    made = _make_parents(out)
    lock = _Lock(out)
    lock.acquire()
    staging = out.parent / f".{out.name}.{os.getpid()}.part"
    try:
        _clean_leftovers(out)
        check_folder(out, inputs)  # again, now that we hold the lock
        staging.mkdir()
        stage = Staged(out, staging)
        yield stage
        files = sorted(str(p.relative_to(staging)) for p in staging.rglob("*") if p.is_file())
        (staging / MARKER).write_text(json.dumps({"files": files}, indent=1) + "\n")
        umask = os.umask(0)
        os.umask(umask)
        staging.chmod(0o777 & ~umask)
        if out.exists():
            if not _exchange(staging, out):
                old = out.parent / f".{out.name}.{os.getpid()}.old"
                out.rename(old)
                staging.rename(out)
                staging = old
            shutil.rmtree(staging, ignore_errors=True)  # the earlier set, now swapped out
        else:
            staging.rename(out)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        lock.release()
        for folder in made:  # the folders made for this output, deepest first, if still empty
            with contextlib.suppress(OSError):
                folder.rmdir()
        raise
    finally:
        lock.release()


def _make_parents(out: Path) -> list[Path]:
    """Create the missing folders above ``out`` (as ``mkdir -p``); return them, deepest first."""
    missing = []
    for a in [out.parent, *out.parent.parents]:
        if a.exists():
            break
        missing.append(a)
    out.parent.mkdir(parents=True, exist_ok=True)
    return missing
