"""Row-blocked thin products equal the plain ones (up to the order of additions)."""

from __future__ import annotations

import numpy as np
import pytest

from impactlab.estimators._blocked import _mm, _step, _tmm


@pytest.mark.parametrize(("n", "k", "m"),
                         [(1, 1, 1), (63, 3, 2), (5000, 2, 10), (70_001, 70, 70), (9000, 4, 0)])
def test_blocked_products_equal_the_plain_ones(n: int, k: int, m: int) -> None:
    rng = np.random.default_rng(n)
    a = rng.normal(size=(n, k))
    b = rng.normal(size=(k, m)) if m else rng.normal(size=k)
    out = np.empty((n, m)) if m else np.empty(n)
    np.testing.assert_allclose(_mm(a, b, out), a @ b, rtol=1e-12, atol=1e-12)
    c = rng.normal(size=(n, m)) if m else rng.normal(size=n)
    np.testing.assert_allclose(_tmm(a, c), a.T @ c, rtol=1e-10, atol=1e-9)


def test_blocks_stay_below_the_threading_threshold() -> None:
    a, b = np.empty((10, 70)), np.empty((70, 70))
    assert _step(a, b) * 70 * 70 <= max(1 << 18, 64 * 70 * 70)
    assert _step(np.empty((10, 2)), np.empty((2, 3))) * 2 * 3 <= 1 << 18
