"""Provenance: what made an output (versions, parameters, reference version, input checksums)."""

from __future__ import annotations

import datetime as _dt
import hashlib
import platform
import stat
import sys
from collections.abc import Iterable, Mapping
from concurrent.futures import Future, ThreadPoolExecutor
from importlib import metadata
from pathlib import Path
from typing import Any

import numpy as np

from ._version import __version__

_PACKAGES = (
    "numpy",
    "pandas",
    "anndata",
    "scanpy",
    "pydeseq2",
    "statsmodels",
    "pysam",
    "h5py",
    "numba",
)


def sha256(path: str | Path) -> str:
    """Hex sha256 of a file's bytes (of the compressed bytes for a .gz).

    For a folder (e.g. a folder of htseq-count files given as one input): the sha256 of the
    sorted list of ``relative path  sha256`` lines of the files in it, as ``sha256sum`` prints.
    A pipe or device (``<(samtools view -b ...)``) is not read: ``"not a regular file"``.
    """
    p = Path(path)
    if p.is_dir():
        listing = "".join(
            f"{sha256(f)}  {f.relative_to(p).as_posix()}\n"
            for f in sorted(p.rglob("*"))
            if f.is_file()
        )
        return hashlib.sha256(listing.encode("utf-8")).hexdigest()
    if not stat.S_ISREG(p.stat().st_mode):  # a pipe or device: reading it would consume it
        return "not a regular file"
    h = hashlib.sha256()
    with p.open("rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def sha256_all(paths: Iterable[str | Path]) -> Future[dict[str, str]]:
    """Start checksumming ``paths`` in a background thread (hashlib and file reads release the
    GIL, so it overlaps with the work that reads the same files); ``.result()`` maps each path, as
    given, to its sha256."""
    todo = [str(p) for p in paths]
    pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="mtncrna-sha256")
    future = pool.submit(lambda: {p: sha256(p) for p in todo})
    pool.shutdown(wait=False)
    return future


def versions(packages: Iterable[str] | None = None) -> dict[str, str]:
    """Versions of mtncrna, Python and the scientific stack (or of ``packages``), for the
    provenance record."""
    out = {"mtncrna": __version__, "python": platform.python_version()}
    for pkg in _PACKAGES if packages is None else packages:
        try:
            out[pkg] = metadata.version(pkg)
        except metadata.PackageNotFoundError:
            out[pkg] = "not installed"
    return out


def _h5_safe(value: Any) -> Any:
    """Make a parameter value storable in .h5ad uns (no None, no mixed lists)."""
    if value is None:
        return ""
    if isinstance(value, Path):
        return str(value)
    if isinstance(value, Mapping):
        return {str(k): _h5_safe(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return (
            np.asarray([str(v) for v in value], dtype=object)
            if value
            else np.asarray([], dtype=str)
        )
    return value


def record(
    *,
    step: str,
    inputs: Iterable[tuple[str, str | Path]] = (),
    parameters: Mapping[str, Any] | None = None,
    reference_version: str | None = None,
    checksums: Mapping[str, str] | None = None,
    packages: Iterable[str] | None = None,
) -> dict[str, Any]:
    """A provenance record for one step, storable in ``adata.uns``.

    ``inputs`` are ``(role, path)`` pairs; each path is checksummed, unless ``checksums`` (from
    :func:`sha256_all`, computed while the step ran) already holds its sha256. ``packages``: the
    libraries whose versions are recorded (default: the scientific stack, see :func:`versions`).
    """
    roles, paths, sums = [], [], []
    known = checksums or {}
    for role, path in inputs:
        roles.append(role)
        paths.append(str(path))
        sums.append(known.get(str(path)) or sha256(path))
    return {
        "step": step,
        "created": _dt.datetime.now(_dt.UTC).isoformat(timespec="seconds"),
        "command": " ".join(sys.argv) if sys.argv else "",
        "versions": versions(packages),
        "parameters": _h5_safe(dict(parameters or {})),
        "reference_version": reference_version or "",
        "inputs": {
            "role": np.asarray(roles, dtype=object),
            "path": np.asarray(paths, dtype=object),
            "sha256": np.asarray(sums, dtype=object),
        },
    }
