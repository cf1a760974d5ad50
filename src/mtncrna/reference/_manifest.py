"""MANIFEST.tsv of the reference folder: sha256, source and licence of every data file.

``python -m mtncrna.reference._manifest reference/`` refreshes the sha256 column after a curated
edit (source and licence are kept; a new file must be given them by hand).
"""

from __future__ import annotations

import sys
from pathlib import Path

import pandas as pd

from .._errors import ReferenceDataError
from .._provenance import sha256

MANIFEST = "MANIFEST.tsv"


def read_manifest(directory: Path) -> pd.DataFrame:
    path = directory / MANIFEST
    if not path.is_file():
        raise ReferenceDataError(f"{path}: reference MANIFEST missing")
    return pd.read_csv(path, sep="\t", dtype=str, keep_default_na=False)


def verify_manifest(directory: Path) -> int:
    """Check every data file against MANIFEST; return the number of files checked."""
    man = read_manifest(directory)
    listed = set(man["file"])
    for row in man.to_dict("records"):
        p = directory / row["file"]
        if not p.is_file():
            raise ReferenceDataError(f"{p}: listed in {MANIFEST} but missing")
        got = sha256(p)
        if got != row["sha256"]:
            raise ReferenceDataError(
                f"{p}: sha256 {got[:12]}... does not match {MANIFEST} ({row['sha256'][:12]}...); "
                "the reference was modified without updating its MANIFEST"
            )
    unlisted = sorted(
        p.name
        for p in directory.iterdir()
        if p.is_file() and p.name not in listed and p.name not in {MANIFEST, "README.md"}
    )
    if unlisted:
        raise ReferenceDataError(f"{directory}: files not in {MANIFEST}: {', '.join(unlisted)}")
    return len(man)


def refresh(directory: Path) -> pd.DataFrame:
    man = read_manifest(directory)
    man["sha256"] = [sha256(directory / f) for f in man["file"]]
    tmp = directory / (MANIFEST + ".part")
    man.to_csv(tmp, sep="\t", index=False)
    tmp.replace(directory / MANIFEST)
    return man


if __name__ == "__main__":  # pragma: no cover
    print(refresh(Path(sys.argv[1])).to_string(index=False))  # noqa: T201
