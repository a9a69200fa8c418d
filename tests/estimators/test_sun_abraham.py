"""sun_abraham: cohort-specific effects, interaction weights, their standard errors, controls, errors."""

from __future__ import annotations

import numpy as np
import pytest
from tests.estimators.eventdata import frame, panel

import impactlab as il
from impactlab.errors import EstimationError

EXACT = 1e-9


def wave_effect(g, e):
    # wave 3 gains 1 per period of practice, wave 6 gains 2: heterogeneous dynamic effects
    return (1.0 if g == 3 else 2.0) * (1.0 + e)


def test_cells_are_the_cohort_effects_and_iw_their_share_weighted_mean():
    res = il.sun_abraham(panel(frame(n=90, effect=wave_effect)))  # 30 units per wave and never-treated
    cells = res.cells.set_index(["cohort", "event_time"])["estimate"]
    assert cells.loc[(3, 2)] == pytest.approx(3.0, abs=EXACT)
    assert cells.loc[(6, 2)] == pytest.approx(6.0, abs=EXACT)
    assert cells.loc[(6, -4)] == pytest.approx(0.0, abs=EXACT)
    el = res.elements.set_index("event_time")["estimate"]
    # e = 0..2: both waves (equal size) -> the mean of 1.5 * (1 + e); e = 3..5: only wave 3
    for e in range(3):
        assert el.loc[e] == pytest.approx(1.5 * (1 + e), abs=EXACT)
    for e in range(3, 6):
        assert el.loc[e] == pytest.approx(1.0 + e, abs=EXACT)
    # the headline ATT: the nine post-training cells, all of 30 units, weighted by their observations
    assert res.term == "ATT"
    assert res.estimate == pytest.approx(np.mean([1, 2, 3, 4, 5, 6, 2, 4, 6]), abs=EXACT)
    # the mean of the event-time effects weighs e = 3..5 (one wave) as much as e = 0..2 (two waves)
    assert res.event_time_mean.estimate == pytest.approx(np.mean([1.5, 3.0, 4.5, 4.0, 5.0, 6.0]), abs=EXACT)
    assert res.event_time_mean.term == "mean(0..5)"
    assert res.pretrend is not None and res.pretrend.terms == (-5, -4, -3, -2)


@pytest.mark.parametrize("vcov", ["cluster", "robust", "iid"])
def test_att_is_the_observation_weighted_post_cells_with_the_delta_method_se(vcov):
    df = frame(n=90, noise=1.0, seed=3, effect=wave_effect)
    df = df[~df["id"].isin(range(0, 30, 3))]  # unequal waves, so the weights are not uniform
    fixed = il.sun_abraham(panel(df), vcov=vcov, share_variance=False)
    res = il.sun_abraham(panel(df), vcov=vcov)
    c = fixed.cells
    post = (c["event_time"] >= 0).to_numpy()
    w = np.where(post, c["n_obs"], 0) / c["n_obs"][post].sum()
    # fixest's aggregate(agg = "ATT"): w' delta, and w' V w with the weights taken as known
    assert fixed.estimate == pytest.approx(float(w @ c["estimate"]), rel=1e-12)
    assert fixed.std_error == pytest.approx(float(np.sqrt(w @ fixed.cell_vcov @ w)), rel=1e-10)
    assert res.estimate == pytest.approx(fixed.estimate, rel=1e-12)
    assert res.std_error > fixed.std_error  # the weights' own sampling variance adds to it
    assert res.event_time_mean.std_error == pytest.approx(
        float(np.sqrt(np.full(6, 1 / 6) @ res.element_vcov[-6:, -6:] @ np.full(6, 1 / 6))), rel=1e-10)


def test_shares_follow_cohort_sizes_with_binomial_standard_errors():
    df = frame(n=90, noise=1.0, seed=1)
    df = df[~df["id"].isin(range(0, 30, 3))]  # wave 3 loses 10 of its 30 units: 20 vs 30
    res = il.sun_abraham(panel(df), vcov="robust")
    s = res.shares.set_index(["event_time", "cohort"])
    assert s.loc[(0, 3), "share"] == pytest.approx(0.4)
    assert s.loc[(0, 6), "share"] == pytest.approx(0.6)
    assert s.loc[(4, 3), "share"] == pytest.approx(1.0) and s.loc[(4, 3), "std_error"] == 0.0
    # unit-level proportion among the 50 treated units: sqrt(G/(G-1) * w(1-w)/n_e), G = 80 units
    want = np.sqrt(80 / 79 * 0.4 * 0.6 / 50)
    assert s.loc[(0, 3), "std_error"] == pytest.approx(want, rel=1e-10)


def test_share_variance_adds_to_the_fixed_weight_variance():
    res = il.sun_abraham(panel(frame(n=90, noise=1.0, seed=2, effect=wave_effect)))
    fixed = il.sun_abraham(panel(frame(n=90, noise=1.0, seed=2, effect=wave_effect)), share_variance=False)
    np.testing.assert_allclose(res.elements["estimate"], fixed.elements["estimate"], rtol=1e-12)
    # fixed-share variance is w' V_cells w
    W = np.zeros((len(fixed.elements), len(fixed.cells)))
    sh = fixed.shares
    for i, e in enumerate(fixed.elements["event_time"]):
        for j, (g, k) in enumerate(zip(fixed.cells["cohort"], fixed.cells["event_time"], strict=True)):
            if k == e:
                W[i, j] = float(sh.loc[(sh["event_time"] == e) & (sh["cohort"] == g), "share"].iloc[0])
    np.testing.assert_allclose(fixed.element_vcov, W @ fixed.cell_vcov @ W.T, rtol=1e-10)
    one = (fixed.elements["event_time"] >= 3).to_numpy()  # a single cohort: nothing to estimate in shares
    np.testing.assert_allclose(res.elements["std_error"][one], fixed.elements["std_error"][one], rtol=1e-10)
    both = (fixed.elements["event_time"].between(0, 2)).to_numpy()
    # the cohorts' effects differ, so uncertainty in their shares adds variance
    assert (res.elements["std_error"][both] > fixed.elements["std_error"][both]).all()


def test_last_treated_cohort_as_control():
    df = frame(n=60, noise=0.0, never=False, cohorts=(3, 6), effect=wave_effect)
    res = il.sun_abraham(panel(df), control="last_treated")
    # periods 6..8 are dropped; wave 3 is compared with wave 6 before its treatment
    assert sorted(res.excluded.loc[res.excluded["what"] == "period", "id"]) == [6, 7, 8]
    el = res.elements.set_index("event_time")["estimate"]
    assert el.index.tolist() == [-2, 0, 1, 2]
    for e in (0, 1, 2):
        assert el.loc[e] == pytest.approx(1.0 + e, abs=EXACT)
    with pytest.raises(EstimationError, match="at least two treated cohorts"):
        il.sun_abraham(panel(frame(cohorts=(4,), never=False)), control="last_treated")


def test_window_and_binning():
    p = panel(frame(n=90, effect=lambda g, e: 2.0))
    res = il.sun_abraham(p, window=(-2, 1), bin_endpoints=True)
    assert res.elements["term"].tolist() == ["event_time<=-2", "event_time=0", "event_time>=1"]
    np.testing.assert_allclose(res.elements["estimate"], [0.0, 2.0, 2.0], atol=EXACT)
    with pytest.raises(ValueError, match="not an event time of the data"):
        il.sun_abraham(p, ref=-9)


def test_no_never_treated_refused_with_the_switch():
    with pytest.raises(EstimationError, match="control='last_treated'"):
        il.sun_abraham(panel(frame(never=False)))
