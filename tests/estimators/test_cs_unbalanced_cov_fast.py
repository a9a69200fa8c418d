"""Callaway–Sant'Anna, unbalanced panels with covariates: the gathered-block route equals the 2×2 route.

The route of :mod:`impactlab.estimators.callaway_santanna.unbalanced_cov` must give the numbers of the general code (one
repeated cross-section 2×2 fit per cell on n-length selections, influence summed by unit, as R ``did``'s
``allow_unbalanced_panel = TRUE``). The reference fit disables the route (``cells_unbalanced_cov`` returns
``None``), so both fits share everything else. Tolerance: 1e-10 relative — the same formulas in another
summation order.
"""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
import pytest

import impactlab as il
from impactlab.estimators.callaway_santanna import unbalanced_cov as _cs_unbalanced_cov
from impactlab.estimators.callaway_santanna.covariates import BlockInfluence

TOL = 1e-10


def _frame(n=500, T=7, seed=5, cohorts=(0, 3, 4, 6), probs=None, missing=0.15, sep=0.5):
    """A panel with random holes and time-varying covariates that move the propensity score."""
    rng = np.random.default_rng(seed)
    g = rng.choice(cohorts, size=n, p=probs)
    t = np.arange(1, T + 1)
    x1 = rng.normal(size=(n, T)) + sep * (g[:, None] > 0)
    x2 = rng.normal(size=n)[:, None] + 0.2 * rng.normal(size=(n, T))
    post = (g[:, None] > 0) & (t[None, :] >= g[:, None])
    y = (rng.normal(size=n)[:, None] + 0.3 * t + 0.5 * x1 - 0.4 * x2 * t / T + post * 1.5
         + rng.normal(size=(n, T)))
    keep = rng.random((n, T)) > missing
    keep[:, 0] |= ~keep.any(axis=1)
    ids, ts = np.nonzero(keep)
    return pd.DataFrame({"id": ids + 1000, "t": ts + 1, "g": g[ids], "y": y[ids, ts], "x1": x1[ids, ts],
                         "x2": x2[ids, ts], "seg": ids % 2})


def _panel(df):
    return il.Panel.from_frame(df, unit="id", time="t", outcome="y", cohort="g", covariates=["x1", "x2"])


def _fit(panel, *, fast=True, **kw):
    kw.setdefault("allow_unbalanced", True)
    kw.setdefault("covariates", ["x1", "x2"])
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        if fast:
            return il.callaway_santanna(panel, **kw)
        with pytest.MonkeyPatch.context() as mp:
            mp.setattr(_cs_unbalanced_cov, "cells_unbalanced_cov", lambda *a, **k: None)
            return il.callaway_santanna(panel, **kw)


def _rel(a, b):
    a, b = np.asarray(a, float), np.asarray(b, float)
    assert a.shape == b.shape
    assert np.array_equal(np.isnan(a), np.isnan(b))
    ok = ~np.isnan(a)
    if not ok.any():
        return 0.0
    return float(np.max(np.abs(a[ok] - b[ok])) / max(np.max(np.abs(b[ok])), 1e-300))


def _assert_same(res, ref):
    assert isinstance(res._influence, BlockInfluence)  # the route was taken, nothing dense built
    assert isinstance(ref._influence, np.ndarray)
    a, b = res.att_gt, ref.att_gt
    numbers = ["estimate", "std_error", "conf_low", "conf_high", "statistic", "p_value"]
    pd.testing.assert_frame_equal(a.drop(columns=numbers), b.drop(columns=numbers))
    for col in numbers:
        assert _rel(a[col], b[col]) < TOL, col
    for kind in ("simple", "group", "dynamic", "calendar"):
        x, y = res.aggregate(kind), ref.aggregate(kind)
        assert x.estimate == pytest.approx(y.estimate, rel=TOL, nan_ok=True)
        assert x.std_error == pytest.approx(y.std_error, rel=TOL, nan_ok=True)
        assert _rel(x.influence, y.influence) < TOL
    if ref.pretest is None:
        assert res.pretest is None
    else:
        assert res.pretest.statistic == pytest.approx(ref.pretest.statistic, rel=TOL)
    assert _rel(res.influence, ref.influence) < TOL  # the dense matrix, built on demand
    pd.testing.assert_frame_equal(res.excluded, ref.excluded)
    assert res.notes == ref.notes


DESIGNS = [
    {"control": "never_treated", "method": "dr"},
    {"control": "not_yet_treated", "method": "dr"},
    {"control": "never_treated", "method": "ipw", "base_period": "universal"},
    {"control": "not_yet_treated", "method": "reg", "base_period": "universal"},
    {"control": "not_yet_treated", "method": "ipw", "anticipation": 1},
    {"control": "never_treated", "method": "reg", "anticipation": 1},
    {"control": "never_treated", "method": "dr", "base_period": "universal"},
]


@pytest.fixture(scope="module")
def holes() -> pd.DataFrame:
    return _frame()


@pytest.mark.parametrize("kw", DESIGNS)
def test_route_equals_cell_by_cell(holes, kw):
    p = _panel(holes)
    _assert_same(_fit(p, **kw), _fit(p, fast=False, **kw))


def test_unequal_cohorts_without_never_treated():
    df = _frame(n=400, cohorts=(3, 5, 7), probs=(0.5, 0.3, 0.2), seed=8)
    p = _panel(df)
    for kw in ({"control": "not_yet_treated", "method": "dr"},
               {"control": "not_yet_treated", "method": "ipw", "base_period": "universal"}):
        _assert_same(_fit(p, **kw), _fit(p, fast=False, **kw))


def test_trimmed_comparison_observations_are_reported_as_the_general_route_does():
    # with x2 = 1, 500 of 502 units are treated: the pooled propensity score is 1000/1004 = 0.996, above the
    # trimming level (0.995), below the overlap limit (0.999); holes only among the x2 = 0 units
    rng = np.random.default_rng(21)
    x2 = np.r_[np.ones(502), np.zeros(200)]
    g = np.r_[np.full(500, 3), 0, 0, np.full(100, 3), np.zeros(100)].astype(int)
    n, T = g.size, 5
    t = np.arange(1, T + 1)
    y = rng.normal(size=(n, T)) + 0.3 * t + ((g[:, None] > 0) & (t >= g[:, None])) * 2.0
    keep = (rng.random((n, T)) > 0.2) | (x2[:, None] == 1)
    keep[:, 0] = True
    ids, ts = np.nonzero(keep)
    df = pd.DataFrame({"id": ids, "t": ts + 1, "g": g[ids], "y": y[ids, ts], "x1": rng.normal(size=ids.size),
                       "x2": x2[ids]})
    p = _panel(df)
    for method in ("dr", "ipw"):
        res, ref = _fit(p, method=method, covariates=["x2"]), _fit(p, fast=False, method=method,
                                                                   covariates=["x2"])
        _assert_same(res, ref)
        # 2 comparison units x 2 periods trimmed in each of the 4 cells
        assert res.excluded["reason"].str.contains("trimmed: 4 comparison observations").sum() == 4


def test_irregular_cell_falls_back_to_the_general_route():
    # cohort 6 never observed in period 5: an empty block, which the cell-by-cell code explains
    df = _frame(n=400, seed=11)
    df = df[~((df["g"] == 6) & (df["t"] == 5))]
    p = _panel(df)
    res, ref = _fit(p), _fit(p, fast=False)
    assert isinstance(res._influence, np.ndarray)  # the general route ran
    assert "none in" in " ".join(ref.excluded["reason"])
    pd.testing.assert_frame_equal(res.att_gt, ref.att_gt)


def test_hand_computed_reg_cell():
    # outcome regression ATT(4, 5) with never-treated comparison: treated mean change minus the change of
    # the comparison regressions' predictions for the treated observations (Sant'Anna & Zhao 2020, eq. 2.2)
    df = _frame(n=300, seed=2)
    res = _fit(_panel(df), method="reg")
    tr, co = df[df["g"] == 4], df[df["g"] == 0]

    def coef(frame):
        x = np.column_stack([np.ones(len(frame)), frame[["x1", "x2"]].to_numpy()])
        return np.linalg.lstsq(x, frame["y"].to_numpy(), rcond=None)[0]

    b5, b3 = coef(co[co["t"] == 5]), coef(co[co["t"] == 3])
    xt = np.column_stack([np.ones(len(tr[tr["t"].isin([3, 5])])), tr[tr["t"].isin([3, 5])][["x1", "x2"]]])
    hand = (tr[tr["t"] == 5]["y"].mean() - tr[tr["t"] == 3]["y"].mean()) - np.mean(xt @ (b5 - b3))
    row = res.att_gt.query("cohort == 4 and time == 5").iloc[0]
    assert row["estimate"] == pytest.approx(hand, rel=1e-10)


def test_segments_clusters_and_bootstrap_use_the_route(holes):
    p = il.Panel.from_frame(holes.assign(team=holes["id"] % 25), unit="id", time="t", outcome="y", cohort="g",
                            covariates=["x1", "x2", "seg"], cluster="team")
    res, ref = _fit(p, by="seg"), _fit(p, fast=False, by="seg")
    x, y = res.by_segment("dynamic"), ref.by_segment("dynamic")
    assert _rel(x.elements["estimate"], y.elements["estimate"]) < TOL
    assert _rel(x.elements["std_error"], y.elements["std_error"]) < TOL
    a, b = _fit(p), _fit(p, fast=False)  # cluster-robust standard errors from the same influence
    assert _rel(a.att_gt["std_error"], b.att_gt["std_error"]) < TOL
    assert a.std_error == pytest.approx(b.std_error, rel=TOL)
    kw = {"bootstrap": 99, "seed": 4}
    r1, r2 = _fit(p, **kw), _fit(p, fast=False, **kw)
    assert _rel(r1.att_gt["std_error"], r2.att_gt["std_error"]) < TOL  # same draws, same influence


def test_repeated_cross_sections_take_the_route(holes):
    # one observation per id: the same four blocks per cell, the influence of each observation on its own
    p = _panel(holes)
    kw = {"allow_unbalanced": False, "repeated_cross_sections": True}
    for method in ("dr", "reg"):
        _assert_same(_fit(p, method=method, **kw), _fit(p, fast=False, method=method, **kw))


def test_weights_and_repeated_unit_periods_keep_the_general_route(holes):
    from dataclasses import replace

    from impactlab.estimators.callaway_santanna import routes as _cs_fit

    df = holes.assign(w=1.0 + (holes["id"] % 3))
    p = il.Panel.from_frame(df, unit="id", time="t", outcome="y", cohort="g", covariates=["x1", "x2", "w"])
    res = _fit(p, weights="w")
    assert isinstance(res._influence, np.ndarray)  # sampling weights: the 2×2 estimators
    # a unit seen twice in one period cannot have its influence added by position: the route declines
    panel = _panel(holes)
    data = __import__("impactlab.estimators.callaway_santanna.data", fromlist=["x"]).prepare(panel, covs=("x1", "x2"), weights=None, anticipation=0, control="never_treated",
                           mode="unbalanced", excluded=[], notes=[])
    opts = {"control": "never_treated", "method": "dr", "base_period": "varying", "anticipation": 0,
            "periods": tuple(panel.periods)}
    assert _cs_unbalanced_cov.cells_unbalanced_cov(data, **opts) is not None
    twice = data.obs_id.copy()
    first = np.flatnonzero(data.obs_t == 2)[:2]
    twice[first[1]] = twice[first[0]]
    assert _cs_unbalanced_cov.cells_unbalanced_cov(replace(data, obs_id=twice), **opts) is None
