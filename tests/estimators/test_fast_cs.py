"""The sufficient-statistics Callaway–Sant'Anna (no covariates) against the cell-by-cell estimator."""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
import pytest

import impactlab as il
from impactlab.errors import EstimationError
from impactlab.estimators.callaway_santanna import moments as fast

#: Both compute the same sums in a different order; 1e-10 relative leaves room for rounding only.
TOL = 1e-10


def _panel(n=600, T=7, cohorts=(0, 3, 5, 6), seed=3, level=0.0, never=True, cluster=False):
    rng = np.random.default_rng(seed)
    g = rng.choice([c for c in cohorts if never or c], size=n)
    t = np.arange(1, T + 1)
    post = (g[:, None] > 0) & (t[None, :] >= g[:, None])
    y = (level + rng.normal(size=n)[:, None] + 0.3 * t + post * (1 + 0.2 * (t - g[:, None]))
         + rng.normal(size=(n, T)) * (1 + (g[:, None] == 3)))
    df = pd.DataFrame({"id": np.repeat(np.arange(n), T), "t": np.tile(t, n), "g": np.repeat(g, T),
                       "y": y.ravel(), "one": 1.0, "team": np.repeat(np.arange(n) % 37, T)})
    shuffled = df.sample(frac=1, random_state=1)
    return il.Panel.from_frame(shuffled, unit="id", time="t", outcome="y", cohort="g", covariates=["one"],
                               cluster="team" if cluster else None)


def _cell_by_cell(panel, **kw):
    """The cell-by-cell route (every fast route switched off), with unit weights of one: the unweighted
    numbers through the weighted 2×2 code."""
    from impactlab.estimators.callaway_santanna import routes as _cs_fit

    with warnings.catch_warnings(), pytest.MonkeyPatch.context() as mp:
        warnings.simplefilter("ignore")
        mp.setattr(_cs_fit, "FAST_ROUTES", False)
        return il.callaway_santanna(panel, weights="one", **kw)


def _wired(panel, **kw):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return il.callaway_santanna(panel, **kw)


def _fast(panel, **kw):
    units, y, gp = fast.balanced_arrays(panel, kw.get("anticipation", 0))
    cells = fast.att_gt_from_moments(fast.cohort_moments(y, gp), **kw)
    return units, y, gp, cells


def _rel(a, b):
    a, b = np.asarray(a, float), np.asarray(b, float)
    assert np.array_equal(np.isnan(a), np.isnan(b))
    ok = ~np.isnan(a)
    return float(np.max(np.abs(a[ok] - b[ok])) / max(np.max(np.abs(b[ok])), 1e-300))


@pytest.mark.parametrize("control", ["never_treated", "not_yet_treated"])
@pytest.mark.parametrize("base_period", ["varying", "universal"])
@pytest.mark.parametrize("anticipation", [0, 1])
def test_cells_standard_errors_and_simple_match_callaway_santanna(control, base_period, anticipation):
    panel = _panel(level=1e4)  # a large level: the centred moments must not lose precision
    ref = _cell_by_cell(panel, control=control, base_period=base_period, anticipation=anticipation)
    units, y, gp, cells = _fast(panel, control=control, base_period=base_period, anticipation=anticipation)
    at = ref.att_gt
    assert len(at) == len(cells.att)
    np.testing.assert_array_equal(at["cohort"], cells.group)
    np.testing.assert_array_equal(at["time"], cells.time)
    np.testing.assert_array_equal(at["n_control"], cells.n_control)
    assert _rel(cells.att, at["estimate"]) < TOL
    assert _rel(cells.std_error, at["std_error"]) < TOL
    est, se = fast.simple_from_moments(cells)
    assert abs(est - ref.estimate) / abs(ref.estimate) < TOL
    assert abs(se - ref.std_error) / ref.std_error < TOL
    np.testing.assert_array_equal(units, ref.unit_ids)
    psi = fast.influence_matrix(cells, y, gp)
    assert _rel(psi, ref.influence) < TOL


def test_no_never_treated_units_drop_the_last_cohort_as_r_did():
    panel = _panel(cohorts=(3, 5, 6), never=False)
    ref = _cell_by_cell(panel, control="not_yet_treated")
    _, _, _, cells = _fast(panel, control="not_yet_treated")
    assert set(cells.group) == {3, 5}
    assert cells.time.max() == 5  # periods from the last cohort's treatment on are not used
    assert _rel(cells.att, ref.att_gt["estimate"]) < TOL
    with pytest.raises(EstimationError, match="no never-treated"):
        _fast(panel, control="never_treated")


def test_hand_computed_two_by_two():
    # cohort 2 vs never: changes 3 and 5 (mean 4) against 1 and 1 (mean 1): ATT = 3
    y = np.array([[0.0, 3.0], [1.0, 6.0], [2.0, 3.0], [0.0, 1.0]])
    gp = np.array([2, 2, 0, 0])
    cells = fast.att_gt_from_moments(fast.cohort_moments(y, gp))
    assert cells.att.tolist() == [3.0]
    # ψ = 4 · [(Δ − 4)/2 for treated, −(Δ − 1)/2 for controls] = [-2, 2, 0, 0]
    psi = fast.influence_matrix(cells, y, gp)[:, 0]
    np.testing.assert_allclose(psi, [-2.0, 2.0, 0.0, 0.0], atol=1e-12)
    assert cells.std_error[0] == pytest.approx(np.sqrt(8.0) / 4)


def test_unbalanced_panel_and_missing_outcomes_are_refused():
    df = pd.DataFrame({"id": [1, 1, 2], "t": [1, 2, 1], "g": [2, 2, 0], "y": [1.0, 2.0, 3.0]})
    panel = il.Panel.from_frame(df, unit="id", time="t", outcome="y", cohort="g")
    with pytest.raises(EstimationError, match="balanced"):
        fast.balanced_arrays(panel)
    with pytest.raises(EstimationError, match="missing or infinite"):
        fast.cohort_moments(np.array([[1.0, np.nan]]), np.array([0]))


def _same_fit(a, b):
    """Two callaway_santanna results agree to rounding: cells, standard errors, influence, aggregations."""
    assert a.att_gt[["cohort", "time", "n_treated", "n_control"]].equals(
        b.att_gt[["cohort", "time", "n_treated", "n_control"]])
    for col in ("estimate", "std_error"):
        assert _rel(a.att_gt[col], b.att_gt[col]) < TOL
    assert _rel(a.influence, b.influence) < TOL
    np.testing.assert_array_equal(a.unit_ids, b.unit_ids)
    for kind in ("simple", "dynamic", "group", "calendar"):
        ea, eb = a.aggregate(kind).tidy(), b.aggregate(kind).tidy()
        assert _rel(ea["estimate"], eb["estimate"]) < TOL
        assert _rel(ea["std_error"], eb["std_error"]) < TOL
    assert a.excluded.equals(b.excluded)


@pytest.mark.parametrize("control", ["never_treated", "not_yet_treated"])
@pytest.mark.parametrize("base_period", ["varying", "universal"])
def test_callaway_santanna_takes_the_moments_route_with_the_same_numbers(control, base_period):
    panel = _panel(level=50.0)
    fast_res = _wired(panel, control=control, base_period=base_period, anticipation=1)
    slow_res = _cell_by_cell(panel, control=control, base_period=base_period, anticipation=1)
    _same_fit(fast_res, slow_res)
    # the moments route reproduces the 2×2 cell that R did's own check gives: cohort 5, period 6
    cell = fast_res.att_gt.query("cohort == 5 and time == 6")["estimate"].iloc[0]
    long = panel.long()
    wide = long.pivot(index="unit", columns="period", values="outcome")
    gp = long.groupby("unit")["cohort_period"].first()
    ctrl = (gp == 0) if control == "never_treated" else (gp == 0) | (gp > 7)
    change = wide[6] - wide[3]  # base period: 5 - 1 - anticipation = 3
    assert cell == pytest.approx(change[gp == 5].mean() - change[ctrl].mean(), rel=1e-12)


def test_moments_route_with_clusters_singletons_and_short_units():
    panel = _panel(cluster=True)
    df = panel.data.reset_index(drop=True)
    df.loc[df["id"] == 7, "g"] = 2  # a singleton cohort: a comparison unit only
    df = df.loc[~((df["id"] == 11) & (df["t"] == 4))]  # a unit not observed throughout: dropped
    panel = il.Panel.from_frame(df, unit="id", time="t", outcome="y", cohort="g", covariates=["one"],
                                cluster="team")
    fast_res, slow_res = _wired(panel), _cell_by_cell(panel)
    _same_fit(fast_res, slow_res)
    assert ("cohort", 2) in {(w, i) for w, i in fast_res.excluded[["what", "id"]].itertuples(index=False)}
    assert 11 not in set(fast_res.unit_ids)
    # clustered by team: 37 clusters, not 599 units
    assert fast_res.std_error != pytest.approx(_wired(_panel()).std_error, rel=1e-3)


@pytest.mark.parametrize("method", ["dr", "ipw", "reg"])
def test_trimmed_cells_keep_the_two_by_two_rules(method):
    # 400 treated and 1 never-treated unit: the intercept-only propensity score is 400/401 >= 0.995, so DR
    # and IPW trim the comparison unit and the cell is left out; REG estimates it.
    rng = np.random.default_rng(5)
    g = np.r_[np.full(400, 3), 0, np.full(30, 4)]
    n, T = g.size, 4
    df = pd.DataFrame({"id": np.repeat(np.arange(n), T), "t": np.tile(np.arange(1, T + 1), n),
                       "g": np.repeat(g, T), "y": rng.normal(size=n * T), "one": 1.0})
    panel = il.Panel.from_frame(df, unit="id", time="t", outcome="y", cohort="g", covariates=["one"])
    fast_res = _wired(panel, method=method, control="not_yet_treated")
    slow_res = _cell_by_cell(panel, method=method, control="not_yet_treated")
    _same_fit(fast_res, slow_res)
    trimmed = fast_res.excluded["reason"].str.contains("not finite|trimmed|overlap").any()
    assert trimmed == (method != "reg")


def test_propensity_score_is_fitted_once_per_cell(monkeypatch):
    """The cell-by-cell route (still taken by weights, unbalanced panels and the covariate route's
    fallbacks) fits each cell's logit once; the covariate route fits one per design (test_cs_cov_fast)."""
    import importlib

    _cs_fit = importlib.import_module("impactlab.estimators.callaway_santanna.routes")
    monkeypatch.setattr(_cs_fit._cs_cov, "cells_with_covariates", lambda *a, **k: None)
    drdid = importlib.import_module("impactlab.estimators.drdid")

    rng = np.random.default_rng(8)
    n, T = 300, 4
    x = rng.normal(size=n)
    g = np.where(rng.random(n) < 1 / (1 + np.exp(-x)), rng.choice([3, 4], size=n), 0)
    df = pd.DataFrame({"id": np.repeat(np.arange(n), T), "t": np.tile(np.arange(1, T + 1), n),
                       "g": np.repeat(g, T), "x": np.repeat(x, T)})
    df["y"] = df["x"] * df["t"] + ((df["g"] > 0) & (df["t"] >= df["g"])) + rng.normal(size=n * T)
    panel = il.Panel.from_frame(df, unit="id", time="t", outcome="y", cohort="g", covariates=["x"])
    calls = []
    original = drdid.logit_fit

    def counting(*args, **kwargs):
        calls.append(1)
        return original(*args, **kwargs)

    monkeypatch.setattr(_cs_fit, "logit_fit", counting)
    monkeypatch.setattr(drdid, "logit_fit", counting)
    res = _wired(panel, covariates=["x"])
    assert len(calls) == len(res.att_gt) == 2 * (T - 1)
    # the reused fit gives the numbers of a fresh fit: DR 2×2 of cohort 3 at period 3 by drdid directly
    wide = panel.long().pivot(index="unit", columns="period", values="outcome")
    gp = panel.long().groupby("unit")["cohort_period"].first()
    sel = (gp == 3) | (gp == 0)
    monkeypatch.undo()
    direct = drdid.dr_did_panel(wide.loc[sel, 3].to_numpy(), wide.loc[sel, 2].to_numpy(),
                                (gp[sel] == 3).to_numpy(float), np.column_stack([np.ones(sel.sum()), x[sel]]))
    got = res.att_gt.query("cohort == 3 and time == 3")["estimate"].iloc[0]
    assert got == pytest.approx(direct.att, rel=1e-12)
