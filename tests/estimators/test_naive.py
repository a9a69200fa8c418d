"""The naive comparisons, checked against hand computations."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from impactlab.estimators.naive import naive_difference, pre_post
from impactlab.panel import Panel


@pytest.fixture
def tiny() -> Panel:
    # unit 1 trained at t=2, unit 2 trained at t=3, units 3, 4 never trained
    df = pd.DataFrame({
        "id": np.repeat([1, 2, 3, 4], 3), "t": np.tile([1, 2, 3], 4),
        "y": [1, 5, 7, 2, 2, 9, 0, 1, 2, 1, 1, 1.0], "g": np.repeat([2, 3, 0, 0], 3),
    })
    return Panel.from_frame(df, unit="id", time="t", outcome="y", cohort="g")


def test_naive_difference_is_difference_of_means(tiny):
    res = naive_difference(tiny)
    trained = [5, 7, 9]                 # unit 1 at t=2,3; unit 2 at t=3
    never = [0, 1, 2, 1, 1, 1]
    assert res.estimate == pytest.approx(np.mean(trained) - np.mean(never))
    assert res.n_obs == 9 and res.n_units == 4
    assert "not yet trained" in res.excluded["id"].tolist()


def test_pre_post_is_average_of_unit_changes(tiny):
    res = pre_post(tiny)
    changes = np.array([np.mean([5, 7]) - 1, 9 - np.mean([2, 2])])
    assert res.estimate == pytest.approx(changes.mean())
    assert res.std_error == pytest.approx(changes.std(ddof=1) / np.sqrt(2))


def test_adding_a_constant_leaves_pre_post_unchanged_and_scaling_scales(staggered_frame):
    kw = {"unit": "id", "time": "year", "outcome": "y", "cohort": "first_treated"}
    base = Panel.from_frame(staggered_frame, **kw)
    shifted = Panel.from_frame(staggered_frame.assign(y=lambda d: d.y + 100), **kw)
    scaled = Panel.from_frame(staggered_frame.assign(y=lambda d: d.y * 3), **kw)
    assert pre_post(shifted).estimate == pytest.approx(pre_post(base).estimate)
    assert naive_difference(shifted).estimate == pytest.approx(naive_difference(base).estimate)
    assert naive_difference(scaled).estimate == pytest.approx(3 * naive_difference(base).estimate)
    assert naive_difference(scaled).std_error == pytest.approx(3 * naive_difference(base).std_error)
