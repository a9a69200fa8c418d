"""Review: sensitivity(target="simple") must bound the simple ATT the fit reports, sampling weights included.

The simple ATT weights each post-treatment ATT(g, t) by its cohort's (weighted) share (R ``did``'s ``pg``
with ``weightsname``); the sensitivity target used unweighted shares, so with ``weights=`` its "estimate
under parallel trends" differed from ``cs.estimate``.
"""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
import pytest

import impactlab as il
from impactlab.panel.panel import Panel


@pytest.mark.parametrize("base_period", ["universal", "varying"])
def test_simple_target_equals_weighted_simple_att(base_period: str) -> None:
    rng = np.random.default_rng(0)
    n, t = 150, 6
    unit, time = np.repeat(np.arange(n), t), np.tile(np.arange(1, t + 1), n)
    g = np.repeat(np.select([np.arange(n) < 40, np.arange(n) < 80], [3, 5], 0), t)
    w = np.repeat(rng.uniform(0.2, 3.0, n), t)
    slope = np.where(g == 3, 2.0, 0.2)  # cohorts differ, so their shares matter
    y = 0.1 * unit + 0.5 * time + np.where((g > 0) & (time >= g), 1.0 + (time - g) * slope, 0.0)
    df = pd.DataFrame({"id": unit, "t": time, "y": y + rng.normal(0, 1, n * t), "g": g, "w": w})
    p = Panel.from_frame(df, unit="id", time="t", outcome="y", cohort="g", covariates=["w"])
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        cs = il.callaway_santanna(p, weights="w", base_period=base_period)
        s = il.sensitivity(cs, target="simple")
    assert s.estimate == pytest.approx(cs.estimate, rel=1e-10)
    assert s.target_weights.sum() == pytest.approx(1.0, rel=1e-12)
