"""numba for the reads -> counts kernels, without the half second numba spends looking for BLAS.

The first compiled function numba loads (even from its on-disk cache) imports
``numba.np.arraymath``, which imports ``scipy.linalg`` only to set one flag
(``_HAVE_BLAS``: may ``np.cov``-like inner products call BLAS). Our kernels use no linear
algebra, and the import is ~0.25-0.4 s of every ``quant`` command (measured: first kernel load
0.98-1.24 s -> 0.61-0.93 s on the 2-core benchmark machine), all of it holding the GIL while the
collapse thread waits for it. So, when nothing has imported ``scipy.linalg`` yet, ``arraymath`` is
imported here with it hidden, and the flag is then set to what numba's probe finds when scipy is
installed (``True``) or not (``False``); numba behaves as it would have, only ``scipy.linalg`` is
not loaded. When it is already imported (a DE step in the same process), nothing is changed.
Kernel modules import numba from here: ``from ._jit import numba``.
"""

from __future__ import annotations

import importlib.util
import sys

import numba


def _arraymath_without_scipy() -> None:
    if "numba.np.arraymath" in sys.modules or "scipy.linalg" in sys.modules:
        return
    try:
        sys.modules["scipy.linalg"] = None  # type: ignore[assignment]  # its import fails fast
        try:
            import numba.np.arraymath as arraymath
        finally:
            del sys.modules["scipy.linalg"]
    except Exception:  # a numba release that differs: import it the usual way
        return
    if hasattr(arraymath, "_HAVE_BLAS"):
        # what numba's own probe (import scipy.linalg.cython_blas) finds with scipy installed
        arraymath._HAVE_BLAS = importlib.util.find_spec("scipy") is not None


_arraymath_without_scipy()

__all__ = ["numba"]
