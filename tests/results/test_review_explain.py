"""Review: explain() must describe the design the result actually comes from.

Sun & Abraham, the Callaway–Sant'Anna event study and two-period DR-DiD are causal under parallel trends;
explain() used to call them confounded baselines because it only knew ``method="callaway_santanna"``.
A cumulative effect is a total over event times 0..k per trained employee, not a per-period effect.
"""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
import pytest

import impactlab as il
from impactlab.panel.panel import Panel


@pytest.fixture(scope="module")
def panel() -> Panel:
    rng = np.random.default_rng(0)
    n, t = 120, 6
    unit, time = np.repeat(np.arange(n), t), np.tile(np.arange(1, t + 1), n)
    g = np.repeat(np.select([np.arange(n) < 40, np.arange(n) < 80], [3, 5], 0), t)
    y = 0.1 * unit + 0.5 * time + np.where((g > 0) & (time >= g), 1.0 + time - g, 0.0)
    y = y + rng.normal(0, 1, n * t)
    df = pd.DataFrame({"id": unit, "t": time, "y": y, "g": g})
    return Panel.from_frame(df, unit="id", time="t", outcome="y", cohort="g")


CONFOUNDED = "It cannot be read as the effect of the training"


@pytest.mark.parametrize("make", [
    lambda p: il.sun_abraham(p),
    lambda p: il.sun_abraham(p, control="last_treated"),
    lambda p: il.event_study(p, window=(-4, 3), method="sun_abraham"),
    lambda p: il.event_study(p, window=(-2, 2), method="callaway_santanna"),
], ids=["sun_abraham", "sun_abraham_last", "event_study_sa", "event_study_cs"])
def test_modern_event_studies_are_explained_as_causal(panel: Panel, make) -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        res = make(panel)
    ex = res.explain()
    text = str(ex)
    assert CONFOUNDED not in text
    assert "Parallel trends" in ex.assumption
    assert any(c.startswith("If the assumption below holds") for c in ex.claims)


def test_sun_abraham_comparison_follows_control(panel: Panel) -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        never = il.sun_abraham(panel).explain()
        last = il.sun_abraham(panel, control="last_treated").explain()
    assert "never trained" in never.comparison
    assert "last" in last.comparison


def test_twfe_event_study_stays_not_causal(panel: Panel) -> None:
    res = il.event_study(panel, window=(-2, 2), method="twfe")
    ex = res.explain()
    assert CONFOUNDED in str(ex)
    assert "Goodman-Bacon" in ex.assumption


def test_drdid_is_explained_as_causal() -> None:
    rng = np.random.default_rng(1)
    n = 400
    d = rng.integers(0, 2, n)
    y0 = rng.normal(0, 1, n)
    y1 = y0 + 0.5 + 1.0 * d + rng.normal(0, 1, n)
    df = pd.DataFrame({"id": np.repeat(np.arange(n), 2), "t": np.tile([1, 2], n),
                       "y": np.column_stack([y0, y1]).ravel(), "d": np.repeat(d, 2)})
    df["post"] = (df["t"] == 2).astype(int)
    res = il.drdid_frame(df, outcome="y", treated="d", post="post", unit="id")
    ex = res.explain()
    assert CONFOUNDED not in str(ex)
    assert "Parallel trends" in ex.assumption


def test_cumulative_effect_is_not_called_per_period(panel: Panel) -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        cu = il.callaway_santanna(panel).cumulative(2)
    ex = cu.explain()
    text = str(ex)
    assert "per employee and period" not in text
    assert "event times 0 to 2" in ex.headline
    assert "3 periods" in ex.headline
