"""Thin matrix products (a few columns, up to millions of rows) computed in row blocks, so that each BLAS
call stays below OpenBLAS's threading threshold; why this matters is in docs/explanation.md ("How the numbers
are computed").
"""

from __future__ import annotations

import numpy as np

#: Rows per block of the thin products: cache-sized pieces below OpenBLAS's threading threshold (m·n·k ≤ 2¹⁸
#: for a product, m·n < 9216 for a matrix-vector product).
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
