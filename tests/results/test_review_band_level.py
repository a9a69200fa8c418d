"""Review: a uniform (sup-t) band belongs to the level it was computed at.

``aggregate(level=0.95)`` of a bootstrapped fit stores the 95 % sup-t critical value in ``elements.crit``;
``tidy(level=0.5)`` used to return that 95 % band labelled as a 50 % interval.
"""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
import pytest
from scipy import stats

import impactlab as il
from impactlab.panel.panel import Panel


@pytest.fixture(scope="module")
def dyn():
    rng = np.random.default_rng(0)
    n, t = 120, 6
    unit, time = np.repeat(np.arange(n), t), np.tile(np.arange(1, t + 1), n)
    g = np.repeat(np.select([np.arange(n) < 40, np.arange(n) < 80], [3, 5], 0), t)
    y = 0.1 * unit + 0.5 * time + np.where((g > 0) & (time >= g), 1.0 + time - g, 0.0)
    df = pd.DataFrame({"id": unit, "t": time, "y": y + rng.normal(0, 1, n * t), "g": g})
    p = Panel.from_frame(df, unit="id", time="t", outcome="y", cohort="g")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        cs = il.callaway_santanna(p, n_draws=499, seed=1)
    return cs.aggregate("dynamic", level=0.95)


def test_band_used_at_its_own_level(dyn) -> None:
    el = dyn.elements
    crit = float(el["crit"].iloc[0])
    assert crit > stats.norm.ppf(0.975)  # a uniform band is wider than the pointwise one
    t = dyn.tidy(0.95).iloc[1:].reset_index(drop=True)
    np.testing.assert_allclose(t["conf_high"], el["estimate"] + crit * el["std_error"], rtol=1e-12)


def test_other_level_is_not_the_stored_band(dyn) -> None:
    el = dyn.elements
    t = dyn.tidy(0.5).iloc[1:].reset_index(drop=True)
    z = stats.norm.ppf(0.75)
    np.testing.assert_allclose(t["conf_high"], el["estimate"] + z * el["std_error"], rtol=1e-12)
    np.testing.assert_allclose(t["conf_low"], el["estimate"] - z * el["std_error"], rtol=1e-12)
    assert dyn.spec["band_level"] == 0.95
