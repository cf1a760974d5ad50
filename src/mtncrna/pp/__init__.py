"""Per-sample QC metrics (writes obs/uns)."""

from ._qc import qc

__all__ = ["qc"]
