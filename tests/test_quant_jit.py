"""numba for the quant kernels: loaded without scipy.linalg, and numba still behaves as its own
BLAS probe says (mtncrna.quant._jit)."""

from __future__ import annotations

import subprocess
import sys

CHECK = """
import sys
import numpy as np
from mtncrna.quant._collapse_kernel import adapter_hits
arena = np.frombuffer(b"ACGTTGGAATTC", dtype=np.uint8).copy()
hit = adapter_hits(arena, np.zeros(1, np.int64), np.full(1, 12, np.int64),
                   np.frombuffer(b"TGGAATTC", dtype=np.uint8).copy())
assert hit.tolist() == [4], hit
assert "scipy.linalg" not in sys.modules, "a kernel load imported scipy.linalg"
import numba.np.arraymath as arraymath
found = arraymath._HAVE_BLAS
assert found is arraymath._check_blas(), (found, "numba's own probe disagrees")
import numba
@numba.njit
def f(a):
    return np.dot(a, a), np.cov(a)
assert abs(f(np.arange(4.0))[0] - 14.0) < 1e-12
print("ok")
"""


def test_kernels_load_without_scipy_linalg_and_numba_keeps_its_blas_flag():
    out = subprocess.run([sys.executable, "-c", CHECK], capture_output=True, text=True)
    assert out.returncode == 0, out.stderr[-2000:]
    assert out.stdout.strip() == "ok"


def test_scipy_linalg_already_imported_is_left_alone():
    code = (
        "import scipy.linalg, sys\n"
        "from mtncrna.quant import _jit\n"
        "import numba.np.arraymath as am\n"
        "assert am._HAVE_BLAS is True\n"
        "print('ok')\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert out.returncode == 0, out.stderr[-2000:]
