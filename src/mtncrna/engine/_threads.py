"""The engine's threads: how many, and running genes (or samples) on them.

Numba kernels take a gene range and release the GIL (:func:`run_chunks`); numpy steps run on
fixed blocks of genes (:func:`run_blocks`). Each gene's numbers never depend on the thread
count. Kept apart from the numba kernels so that editing one does not invalidate the other's
compiled cache.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from contextvars import ContextVar
from typing import Any

from .._errors import MtncrnaError

_THREADS: ContextVar[int | None] = ContextVar("mtncrna_engine_threads", default=None)


def n_threads() -> int:
    """Threads the engine uses: the caller's ``threads`` (see :func:`threads`), else every core
    this process may use."""
    chosen = _THREADS.get()
    if chosen is not None:
        return chosen
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:  # pragma: no cover - not Linux
        return max(1, os.cpu_count() or 1)


@contextmanager
def threads(n: int | None) -> Iterator[None]:
    """Use ``n`` threads inside the block (``None``: every core). Numbers never depend on it."""
    if n is not None and (isinstance(n, bool) or not isinstance(n, int) or n < 1):
        raise MtncrnaError(
            f"threads must be a whole number >= 1 (or None for every core), not {n!r}"
        )
    token = _THREADS.set(n)
    try:
        yield
    finally:
        _THREADS.reset(token)


def run_chunks(kernel: Callable[..., Any], n_genes: int, *args: Any) -> None:
    """Run ``kernel(lo, hi, *args)`` over gene chunks on all cores (dynamic scheduling).

    Each gene's numbers are computed by the same code whatever the chunk, so the split (and so
    the thread count) changes no number.
    """
    threads = n_threads()
    if threads == 1 or n_genes < 64:
        kernel(0, n_genes, *args)
        return
    chunk = max(16, n_genes // (16 * threads))
    starts = range(0, n_genes, chunk)
    with ThreadPoolExecutor(threads) as pool:
        for f in [pool.submit(kernel, lo, min(lo + chunk, n_genes), *args) for lo in starts]:
            f.result()


def block_size(n_samples: int, cells: int = 2**20) -> int:
    """Genes per block for numpy steps over genes x samples: about ``cells`` values a block."""
    return max(1, cells // max(1, n_samples))


def run_blocks(fn: Callable[[int, int], Any], n_genes: int, step: int) -> None:
    """Run ``fn(lo, hi)`` over fixed blocks of ``step`` genes on the engine's threads.

    For numpy steps (their loops release the GIL). The blocks depend only on ``step``, never on
    the thread count, and BLAS runs single-threaded inside (its own threads would compete with
    ours and could split a product differently), so a step whose numbers depend on the block
    (BLAS, reductions) still gives the same numbers with any number of threads.
    """
    from threadpoolctl import threadpool_limits

    starts = range(0, n_genes, max(1, step))
    threads = min(n_threads(), len(starts))
    with threadpool_limits(limits=1, user_api="blas"):
        if threads <= 1:
            for lo in starts:
                fn(lo, min(lo + step, n_genes))
            return
        with ThreadPoolExecutor(threads) as pool:
            for f in [pool.submit(fn, lo, min(lo + step, n_genes)) for lo in starts]:
                f.result()
