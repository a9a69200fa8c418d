"""Thin matrix products in row blocks.

The estimators' products are thin and tall (a few to a few dozen columns, up to millions of rows): they are
memory-bound, and OpenBLAS splits each call over threads once it is large enough. On a machine whose cores
are busy with other work, the threads' synchronisation made such calls 10–100× slower than one thread
(measured on the 2-core benchmark host). Cutting the rows into cache-sized blocks keeps every call below
OpenBLAS's threading threshold (m·n·k ≤ 2¹⁸ for a product, m·n < 9216 for a matrix-vector product) and
costs nothing on an idle machine. The sums are the same up to the order of floating-point additions.
"""

from __future__ import annotations

import numpy as np

#: Rows per block of the thin products (a few columns, hundreds of thousands of rows). Each BLAS call then
#: works on cache-sized pieces and stays below OpenBLAS's threading threshold (m·n·k ≤ 2¹⁸ for a product,
#: m·n < 9216 for a matrix-vector product): the products are memory-bound, and on a loaded machine the
#: threads' synchronisation made them 10–100× slower than one thread (measured on the 2-core benchmark host).
_BLOCK = 2048


def _blocks(n: int) -> range:
    return range(0, n, _BLOCK)


def _step(a: np.ndarray, b: np.ndarray) -> int:
    """Rows per BLAS call for ``a @ b`` or ``a.T @ b``: at most 2¹⁸ multiply-adds (a few thousand rows)."""
    return _BLOCK if b.ndim == 1 else max(64, (1 << 18) // max(1, a.shape[1] * b.shape[1]))


def _mm(a: np.ndarray, b: np.ndarray, out: np.ndarray) -> np.ndarray:
    """``a @ b`` into ``out``, in row blocks of ``a``."""
    step = _step(a, b)
    for s in range(0, a.shape[0], step):
        np.matmul(a[s:s + step], b, out=out[s:s + step])
    return out


def _tmm(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """``a.T @ b`` summed over row blocks."""
    step = _step(a, b)
    acc = np.zeros((a.shape[1],) + b.shape[1:])
    for s in range(0, a.shape[0], step):
        acc += a[s:s + step].T @ b[s:s + step]
    return acc
