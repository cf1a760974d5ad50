"""A parsed annotation kept beside its file, so that a GENCODE-sized GTF is parsed once.

The cache is an uncompressed ``.npz`` (arrays only, no pickles) named
``.<annotation file name>.<key>.mtncrna-annotation`` beside the annotation, or in the user's
cache folder (``$XDG_CACHE_HOME/mtncrna/annotations``, else ``~/.cache/mtncrna/annotations``)
when that folder cannot be written. ``key`` is a digest of the cache layout version, the reader
options (feature type, attribute) and the annotation file's size and CRC-32 over its whole
content, so an edited annotation never meets an old cache (the old one is deleted when the new
one is written). The same values are stored inside and checked again on loading, and every
member of the file carries zip's CRC-32: a damaged, truncated or foreign cache is ignored (and
replaced), never trusted. Files are written to a temporary name and renamed into place, so a
reader sees either no cache or a complete one.
"""

from __future__ import annotations

import contextlib
import glob
import hashlib
import json
import os
import zipfile
import zlib
from pathlib import Path

import numpy as np

from .._logging import logger
from ..io._atomic import atomic_path

try:  # isa-l's crc32 is several times zlib's (same checksum)
    from isal.isal_zlib import crc32 as _crc32
except ImportError:  # pragma: no cover - depends on the environment
    _crc32 = zlib.crc32

#: bump when the layout of the cached arrays changes
LAYOUT = 1
#: smaller annotation files are parsed every time (it takes well under a second)
MIN_BYTES = 16 << 20
_SUFFIX = ".mtncrna-annotation"


def checksum(path: Path) -> tuple[int, int]:
    """The file's size and CRC-32 of its whole content."""
    crc = 0
    size = 0
    with path.open("rb") as fh:
        while True:
            piece = fh.read(16 << 20)
            if not piece:
                break
            crc = _crc32(piece, crc)
            size += len(piece)
    return size, crc


def _identity(path: Path, feature_type: str, attribute: str) -> dict[str, object]:
    size, crc = checksum(path)
    return {
        "layout": LAYOUT,
        "size": size,
        "crc32": crc,
        "feature_type": feature_type,
        "attribute": attribute,
    }


def _key(identity: dict[str, object]) -> str:
    return hashlib.sha256(json.dumps(identity, sort_keys=True).encode()).hexdigest()[:24]


def _user_dir() -> Path:
    base = os.environ.get("XDG_CACHE_HOME")
    return (Path(base) if base else Path.home() / ".cache") / "mtncrna" / "annotations"


def _candidates(path: Path, key: str) -> list[Path]:
    name = f".{path.name}.{key}{_SUFFIX}"
    return [path.parent / name, _user_dir() / name]


class Cached:
    """Find, load and store the cache of one annotation file with one set of reader options."""

    def __init__(self, path: Path, feature_type: str, attribute: str) -> None:
        self.path = path
        self.identity = _identity(path, feature_type, attribute)
        self.key = _key(self.identity)

    def load(self) -> dict[str, np.ndarray] | None:
        """The cached arrays, or None (no cache, or one that fails any check)."""
        for where in _candidates(self.path, self.key):
            if not where.is_file():
                continue
            try:
                with np.load(where, allow_pickle=False) as npz:
                    arrays = {k: npz[k] for k in npz.files}  # reading checks each CRC-32
                stored = json.loads(arrays.pop("__identity__").tobytes().decode())
            except (OSError, ValueError, KeyError, EOFError, zipfile.BadZipFile) as exc:
                logger.warning("ignoring a damaged annotation cache %s (%s)", where, exc)
                continue
            if stored != self.identity:
                logger.warning("ignoring an annotation cache %s made from other content", where)
                continue
            logger.info("%s: parsed annotation loaded from %s", self.path, where)
            return arrays
        return None

    def store(self, arrays: dict[str, np.ndarray]) -> Path | None:
        """Write the cache (beside the annotation, else in the user's cache folder); remove the
        caches of older versions of the same file there. Failing to write is not an error."""
        ident = np.frombuffer(json.dumps(self.identity, sort_keys=True).encode(), dtype=np.uint8)
        for where in _candidates(self.path, self.key):
            try:
                where.parent.mkdir(parents=True, exist_ok=True)
                with atomic_path(where) as tmp, open(tmp, "wb") as fh:
                    np.savez(fh, __identity__=ident, **arrays)
            except OSError as exc:
                logger.debug("cannot write an annotation cache at %s (%s)", where, exc)
                continue
            for old in where.parent.glob(f".{glob.escape(self.path.name)}.*{_SUFFIX}"):
                if old != where:
                    with contextlib.suppress(OSError):
                        old.unlink()
            logger.info("%s: parsed annotation cached in %s", self.path, where)
            return where
        return None
