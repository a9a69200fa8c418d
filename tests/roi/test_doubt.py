"""roi_sensitivity(): the violation of parallel trends at which the ROI's lower bound reaches zero."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest

import impactlab as il
from impactlab.roi import roi, roi_sensitivity


@pytest.fixture(scope="module")
def fit():
    rng = np.random.default_rng(21)
    n, t = 300, 8
    unit = np.repeat(np.arange(n), t)
    time = np.tile(np.arange(1, t + 1), n)
    cohort = np.repeat(np.select([np.arange(n) < 100, np.arange(n) < 200], [5, 6], 0), t)
    y = 0.1 * time + 1.0 * ((cohort > 0) & (time >= cohort)) + rng.normal(0, 1, n * t)
    df = pd.DataFrame({"id": unit, "t": time, "y": y, "g": cohort})
    panel = il.Panel.from_frame(df, unit="id", time="t", outcome="y", cohort="g")
    return il.callaway_santanna(panel)


def test_breakdown_is_where_the_roi_lower_bound_crosses_zero(fit) -> None:
    eff = fit.aggregate("simple")
    r = roi(eff, value_per_unit=100, participants=200, horizon=12, costs=100_000)
    assert r.roi_pct > 0 and r.conf_int()[0] > 0
    d = roi_sensitivity(r, fit)
    assert 0 < d.breakdown < math.inf
    below = roi_sensitivity(r, fit, grid=[d.breakdown * 0.98, d.breakdown * 1.02]).table
    assert below["roi_lower"].iloc[0] > 0 > below["roi_lower"].iloc[1]
    # at M = 0 (parallel trends) the identified-set interval is the ROI's own interval, up to the SE of
    # l'beta from the event-time covariance, which leaves out the estimated cohort weights of the simple
    # aggregation; the C-LF set (a conditional test on a grid) is close to it
    row0 = roi_sensitivity(r, fit, grid=[0.0], ci_method="identified_set").table.iloc[0]
    assert (row0["roi_lower"], row0["roi_upper"]) == pytest.approx(r.conf_int(), rel=1e-3)
    clf0 = d.table.iloc[0]
    assert clf0["M"] == 0 and (clf0["roi_lower"], clf0["roi_upper"]) == pytest.approx(r.conf_int(), rel=2e-2)
    assert f"{d.breakdown:.3g}" in d.sentence() and "stays positive" in d.sentence()


def test_breakdown_is_below_the_effects_own_breakdown(fit) -> None:
    # ROI needs the effect above break-even, the significance breakdown only above zero
    r = roi(fit.aggregate("simple"), value_per_unit=100, participants=200, horizon=12, costs=100_000)
    s = il.sensitivity(fit)
    assert roi_sensitivity(r, fit).breakdown < s.breakdown


def test_a_loss_making_roi_breaks_down_at_zero(fit) -> None:
    r = roi(fit.aggregate("simple"), value_per_unit=1, participants=200, horizon=12, costs=100_000)
    d = roi_sensitivity(r, fit)
    assert d.breakdown == 0 and "cannot rule out a negative return" in d.sentence()


def test_chart(fit) -> None:
    r = roi(fit.aggregate("simple"), value_per_unit=100, participants=200, horizon=12, costs=100_000)
    d = roi_sensitivity(r, fit)
    ax = il.plot.roi_sensitivity(d)
    title = ax.get_title(loc="left")
    assert title.startswith(f"ROI {r.roi_pct:.0f}% stays positive") and "breakdown" in title
    import matplotlib.pyplot as plt

    plt.close("all")
