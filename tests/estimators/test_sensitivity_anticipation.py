"""Sensitivity bounds for a fit with anticipation: the same as for the roll-out re-dated to its onset."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

import impactlab as il


def _frame(seed: int = 5) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    n, t = 300, 9
    unit = np.repeat(np.arange(n), t)
    time = np.tile(np.arange(1, t + 1), n)
    g = np.repeat(rng.choice([6, 8, 0], size=n, p=[0.35, 0.35, 0.3]), t)
    e = time - g
    y = (np.repeat(rng.normal(size=n), t) + 0.1 * time + np.where((g > 0) & (e >= 0), 1 + 0.3 * e, 0)
         + np.where((g > 0) & (e == -1), -0.5, 0) + rng.normal(0, 0.4, n * t))
    return pd.DataFrame({"id": unit, "t": time, "y": y, "g": g})


@pytest.mark.parametrize("base", ["varying", "universal"])
@pytest.mark.parametrize("restriction", ["relative_magnitude", "smoothness"])
def test_anticipation_equals_redated_onset(base, restriction):
    df = _frame()
    kw = dict(unit="id", time="t", outcome="y")
    cs = il.callaway_santanna(il.Panel.from_frame(df, cohort="g", **kw), anticipation=1, base_period=base)
    moved = df.assign(g=np.where(df.g > 0, df.g - 1, 0))
    cs0 = il.callaway_santanna(il.Panel.from_frame(moved, cohort="g", **kw), base_period=base)
    # the re-dated fit's event time e' is the anticipation fit's e' - 1: compare the same target
    grid = [0.0, 0.5, 1.0]
    a = il.sensitivity(cs, restriction, grid=grid, target={0: 0.5, 1: 0.5})
    b = il.sensitivity(cs0, restriction, grid=grid, target={1: 0.5, 2: 0.5})
    np.testing.assert_allclose(a.table[["lower", "upper"]], b.table[["lower", "upper"]], rtol=1e-8)
    assert a.post_event_times[0] == -1 and a.target_weights.loc[-1] == 0  # anticipation window: zero weight


def test_simple_target_with_anticipation_is_the_reported_simple_att():
    df = _frame(7)
    cs = il.callaway_santanna(il.Panel.from_frame(df, unit="id", time="t", outcome="y", cohort="g"),
                              anticipation=1)
    s = il.sensitivity(cs, "relative_magnitude", grid=[0.0], target="simple")
    assert s.estimate == pytest.approx(cs.aggregate("simple").estimate, rel=1e-10)
