"""dose_response: hand-computed cases, the ledger, invariances and the uniform band's coverage."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from scipy import stats

import impactlab as il
from impactlab.errors import EstimationError, PanelError


def _frame(n: int = 120, periods: int = 4, cohorts: tuple[int, ...] = (3,), seed: int = 0,
           effect=lambda d: 1.0 + 0.5 * d ** 2, noise: float = 1.0) -> pd.DataFrame:
    """Never-trained third, the rest split over ``cohorts``; doses uniform on 1..5; ATT(d) = effect(d)."""
    rng = np.random.default_rng(seed)
    never = n // 3
    g = np.zeros(n, dtype=int)
    g[never:] = np.array(cohorts)[np.arange(n - never) % len(cohorts)]
    d = np.where(g > 0, rng.uniform(1, 5, n), 0.0)
    fe = rng.normal(0, 2, n)
    rows = []
    for i in range(n):
        for t in range(1, periods + 1):
            y = fe[i] + 0.5 * t + (effect(d[i]) if g[i] and t >= g[i] else 0.0) + rng.normal(0, noise)
            rows.append((i, t, y, g[i], d[i]))
    return pd.DataFrame(rows, columns=["id", "t", "y", "g", "hours"])


def _panel(frame: pd.DataFrame) -> il.Panel:
    return il.Panel.from_frame(frame, unit="id", time="t", outcome="y", cohort="g", covariates=["hours"])


def test_linear_fit_is_the_least_squares_slope_by_hand() -> None:
    """degree=1, one cohort, one period after training: ATT(d) is the OLS line of the trained change net of
    the never-trained mean change; ACRT(d) = ACRT^o = its slope; ATT^o the difference of mean changes."""
    f = _frame(periods=3, cohorts=(3,), seed=1)
    res = il.dose_response(_panel(f), dose="hours", degree=1, n_draws=None)
    w = f.pivot(index="id", columns="t", values="y")
    info = f.groupby("id")[["g", "hours"]].first()
    dy = (w[3] - w[2]).to_numpy()
    tr = info["g"].to_numpy() == 3
    mu0 = dy[~tr].mean()
    slope, intercept = np.polyfit(info["hours"].to_numpy()[tr], dy[tr] - mu0, 1)
    assert res.estimate == pytest.approx(dy[tr].mean() - mu0, abs=1e-12)
    assert res.acrt == pytest.approx(slope, abs=1e-10)
    att = res.curves.loc[res.curves["curve"] == "ATT"]
    np.testing.assert_allclose(att["estimate"], intercept + slope * att["dose"], atol=1e-10)
    np.testing.assert_allclose(res.curves.loc[res.curves["curve"] == "ACRT", "estimate"], slope, atol=1e-10)


def test_quadratic_truth_recovered_without_noise() -> None:
    """A cubic spline holds ATT(d) = 1 + 0.5 d^2 exactly: with no noise the curves are the truth."""
    res = il.dose_response(_panel(_frame(cohorts=(2, 3), noise=0.0)), dose="hours", n_draws=None)
    c = res.curves
    att, acrt = c.loc[c["curve"] == "ATT"], c.loc[c["curve"] == "ACRT"]
    np.testing.assert_allclose(att["estimate"], 1 + 0.5 * att["dose"] ** 2, atol=1e-8)
    np.testing.assert_allclose(acrt["estimate"], acrt["dose"], atol=1e-8)


def test_att_o_is_callaway_santanna_by_cohort() -> None:
    """ATT^o weights cohorts by their trained employees, periods equally within a cohort: CS's 'group'
    aggregation with the never-trained as comparison."""
    panel = _panel(_frame(cohorts=(2, 3), seed=4))
    res = il.dose_response(panel, dose="hours", n_draws=None)
    cs = il.callaway_santanna(panel, control="never_treated").aggregate("group")
    assert res.estimate == pytest.approx(cs.estimate, abs=1e-10)
    assert res.cells["weight"].sum() == pytest.approx(1.0)
    assert list(res.cells.groupby("cohort")["weight"].sum().round(12)) == [0.5, 0.5]


def test_every_left_out_employee_is_in_the_ledger() -> None:
    f = _frame(n=90, cohorts=(2, 3), seed=2)
    f.loc[f["id"] == 89, "hours"] = 0.0                                    # trained, no hours
    f.loc[(f["id"] == 88) & (f["t"] == 4), "hours"] = 9.0                  # dose changes
    f.loc[f["id"] == 0, "hours"] = 2.0                                     # never trained, with hours
    f = f.loc[~((f["id"] == 87) & (f["t"] == 2))]                          # a period missing
    f.loc[f["id"] == 86, "g"] = 1                                          # trained in the first period
    res = il.dose_response(_panel(f), dose="hours", n_draws=None)
    reasons = dict(zip(res.excluded["id"], res.excluded["reason"], strict=True))
    assert set(reasons) == {0, 86, 87, 88, 89}
    assert "no hours recorded" in reasons[89] and "changes over time" in reasons[88]
    assert "never trained" in reasons[0] and "not observed in 2, the period before training" in reasons[87]
    assert "no observed period before training" in reasons[86]
    assert res.n_units == 90 - 5


def test_band_is_wider_than_pointwise_and_follows_level() -> None:
    panel = _panel(_frame(seed=3))
    res = il.dose_response(panel, dose="hours", n_draws=499, seed=5)
    again = il.dose_response(panel, dose="hours", n_draws=499, seed=5)
    pd.testing.assert_frame_equal(res.curves, again.curves)
    crit = res.elements.loc[res.elements["curve"] == "ATT", "crit"].iloc[0]
    z, bonferroni = stats.norm.ppf(0.975), stats.norm.ppf(1 - 0.025 / 90)
    assert z < crit < bonferroni
    t95, t90 = res.tidy(0.95), res.tidy(0.90)
    row = t95.loc[t95["curve"] == "ATT"].iloc[0]
    assert row["conf_high"] - row["estimate"] == pytest.approx(crit * row["std_error"])
    row90 = t90.loc[t90["curve"] == "ATT"].iloc[0]
    assert row90["conf_high"] - row90["estimate"] == pytest.approx(stats.norm.ppf(0.95) * row90["std_error"])
    assert t95["term"].iloc[1] == "ACRT^o" and t95["estimate"].iloc[1] == pytest.approx(res.acrt)


def test_refusals() -> None:
    f = _frame()
    with pytest.raises(PanelError, match="not a column"):
        il.dose_response(_panel(f), dose="minutes")
    same = f.assign(hours=np.where(f["g"] > 0, 2.0, 0.0))
    with pytest.raises(EstimationError, match="same hours"):
        il.dose_response(_panel(same), dose="hours")
    nobody = f.loc[f["g"] > 0]
    with pytest.raises(EstimationError, match="never-trained"):
        il.dose_response(_panel(nobody), dose="hours")
    with pytest.raises(ValueError, match="degree"):
        il.dose_response(_panel(f), dose="hours", degree=0)


def _coverage(reps: int) -> tuple[int, int]:
    held_att = held_acrt = 0
    for r in range(reps):
        res = il.dose_response(_panel(_frame(n=150, seed=100 + r)), dose="hours", n_draws=499, seed=r)
        c = res.curves
        att, acrt = c.loc[c["curve"] == "ATT"], c.loc[c["curve"] == "ACRT"]
        truth = 1 + 0.5 * att["dose"]**2
        held_att += bool(((att["band_low"] <= truth) & (truth <= att["band_high"])).all())
        held_acrt += bool(((acrt["band_low"] <= acrt["dose"]) & (acrt["dose"] <= acrt["band_high"])).all())
    return held_att, held_acrt


def test_uniform_band_holds_the_whole_true_curve() -> None:
    """20 simulated organisations: the 95 % band holds the whole true curve in at least 16 (P(<16) under
    95 % coverage is below 0.3 %)."""
    att, acrt = _coverage(20)
    assert att >= 16 and acrt >= 16


@pytest.mark.slow
def test_uniform_band_coverage_200() -> None:
    att, acrt = _coverage(200)
    assert 0.90 <= att / 200 <= 0.99 and 0.90 <= acrt / 200 <= 0.99
