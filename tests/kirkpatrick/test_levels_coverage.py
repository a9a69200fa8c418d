"""Coverage of the NPS and Hake intervals by simulation (docs/validation-levels.md): a small seeded version
here, the page's full runs under ``slow``. Bounds: a 95 % interval over R draws should hold the truth in
95 % +/- about 3 binomial standard errors of the share."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from impactlab.kirkpatrick import learning
from impactlab.kirkpatrick._stats import nps

CATEGORIES = [10, 8, 3]  # a promoter, a passive, a detractor


def _nps_coverage(p: tuple[float, float, float], n: int, reps: int, seed: int) -> float:
    rng = np.random.default_rng(seed)
    truth = 100 * (p[0] - p[2])
    held = 0
    for _ in range(reps):
        r = nps(rng.choice(CATEGORIES, size=n, p=p))
        held += r["conf_low"] <= truth <= r["conf_high"]
    return held / reps


def _class(rng: np.random.Generator, n: int) -> tuple[np.ndarray, np.ndarray]:
    pre = np.clip(rng.normal(50, 12, n), 0, 100)
    return pre, np.clip(pre + 0.4 * (100 - pre) + rng.normal(0, 8, n), 0, 100)


def _hake_truth() -> float:
    pre, post = _class(np.random.default_rng(0), 2_000_000)
    return float((post.mean() - pre.mean()) / (100 - pre.mean()))


def _hake_coverage(n: int, reps: int, seed: int, truth: float) -> float:
    rng = np.random.default_rng(seed)
    held = 0
    for _ in range(reps):
        pre, post = _class(rng, n)
        ids = [f"E{i}" for i in range(n)]
        df = pd.DataFrame({"employee_id": ids * 2, "program": "P", "kind": ["pre"] * n + ["post"] * n,
                           "score": np.concatenate([pre, post]), "max_score": 100.0,
                           "taken_at": ["2024-01-01"] * n + ["2024-02-01"] * n})
        row = learning(df).summary_table.iloc[0]
        held += row["hake_low"] <= truth <= row["hake_high"]
    return held / reps


def test_nps_interval_keeps_its_coverage_where_wald_fails() -> None:
    # nine promoters in ten, no detractors, ten answers: the Wald interval held the truth 68 % of the time
    assert _nps_coverage((0.9, 0.1, 0.0), 10, 300, seed=1) >= 0.90


def test_hake_interval_on_t_covers_small_classes() -> None:
    truth = _hake_truth()
    assert truth == pytest.approx(0.40, abs=0.002)
    assert _hake_coverage(5, 60, seed=2, truth=truth) >= 0.85


@pytest.mark.slow
@pytest.mark.parametrize("p", [(0.6, 0.3, 0.1), (0.3, 0.4, 0.3), (0.9, 0.1, 0.0)])
@pytest.mark.parametrize("n", [5, 10, 20, 50, 200])
def test_nps_coverage_full(p: tuple[float, float, float], n: int) -> None:
    assert 0.90 <= _nps_coverage(p, n, 2000, seed=n) <= 0.98


@pytest.mark.slow
@pytest.mark.parametrize("n", [3, 5, 10, 30])
def test_hake_coverage_full(n: int) -> None:
    assert 0.90 <= _hake_coverage(n, 200, seed=n, truth=_hake_truth()) <= 0.99
