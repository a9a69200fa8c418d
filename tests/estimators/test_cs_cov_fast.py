"""Callaway–Sant'Anna with covariates: the one-fit-per-design route equals the cell-by-cell route.

The route of :mod:`impactlab.estimators.callaway_santanna.covariates` must give the numbers of the general code (one 2×2 fit per
cell, :func:`impactlab.estimators.callaway_santanna.data._cell_2x2`), which is itself checked against R ``did`` in
``tests/oracle``. The reference fit disables the route (``cells_with_covariates`` returns ``None``), so both
fits share everything else. Tolerance: 1e-10 relative — both compute the same formulas, in a different
summation order (rounding only).
"""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
import pytest

import impactlab as il
from impactlab.estimators.callaway_santanna import covariates as _cs_cov
from impactlab.estimators.callaway_santanna import unbalanced_cov as _cs_unbalanced_cov

TOL = 1e-10


def _panel(n=600, T=7, seed=3, varying=False, cohorts=(0, 3, 4, 6), probs=None, sep=0.0):
    """Balanced panel with covariates x1 (optionally changing over time) and x2 (binary)."""
    rng = np.random.default_rng(seed)
    g = rng.choice(cohorts, size=n, p=probs)
    t = np.arange(1, T + 1)
    x1 = rng.normal(size=n) + sep * (g == cohorts[1])
    x2 = (rng.random(n) < 0.4).astype(float)
    x1t = x1[:, None] + (0.3 * rng.normal(size=(n, T)) if varying else np.zeros((1, T)))
    post = (g[:, None] > 0) & (t[None, :] >= g[:, None])
    y = (rng.normal(size=n)[:, None] + x1[:, None] * t / T + 0.2 * t + post * (1.0 + 0.2 * x2[:, None])
         + rng.normal(size=(n, T)))
    df = pd.DataFrame({"id": np.repeat(np.arange(n), T), "t": np.tile(t, n), "g": np.repeat(g, T),
                       "y": y.ravel(), "x1": x1t.ravel(), "x2": np.repeat(x2, T), "one": 1.0})
    return il.Panel.from_frame(df, unit="id", time="t", outcome="y", cohort="g",
                               covariates=["x1", "x2", "one"])


def _fit(panel, *, fast=True, **kw):
    kw.setdefault("covariates", ["x1", "x2"])
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        if fast:
            return il.callaway_santanna(panel, **kw)
        with pytest.MonkeyPatch.context() as mp:
            mp.setattr(_cs_cov, "cells_with_covariates", lambda *a, **k: None)
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
    assert isinstance(res._influence, _cs_cov.BlockInfluence)  # the route was taken, nothing dense built
    assert isinstance(ref._influence, np.ndarray)
    a, b = res.att_gt, ref.att_gt
    numbers = ["estimate", "std_error", "conf_low", "conf_high", "statistic", "p_value"]
    pd.testing.assert_frame_equal(a.drop(columns=numbers), b.drop(columns=numbers))
    assert _rel(a["estimate"], b["estimate"]) < TOL
    assert _rel(a["std_error"], b["std_error"]) < TOL
    for kind in ("simple", "group", "dynamic", "calendar"):
        x, y = res.aggregate(kind), ref.aggregate(kind)
        assert x.estimate == pytest.approx(y.estimate, rel=TOL)
        assert x.std_error == pytest.approx(y.std_error, rel=TOL)
        assert _rel(x.influence, y.influence) < TOL
    if ref.pretest is not None:
        assert res.pretest.statistic == pytest.approx(ref.pretest.statistic, rel=TOL)
    assert _rel(res.influence, ref.influence) < TOL  # the dense matrix, built on demand
    pd.testing.assert_frame_equal(res.excluded, ref.excluded)


@pytest.mark.parametrize("method", ["dr", "ipw", "reg"])
@pytest.mark.parametrize("control", ["never_treated", "not_yet_treated"])
@pytest.mark.parametrize("base_period", ["varying", "universal"])
def test_route_equals_the_cell_by_cell_fits(method, control, base_period):
    panel = _panel()
    kw = {"method": method, "control": control, "base_period": base_period}
    _assert_same(_fit(panel, **kw), _fit(panel, fast=False, **kw))


@pytest.mark.parametrize("anticipation", [1, 2])
def test_route_with_anticipation(anticipation):
    panel = _panel(T=8, cohorts=(0, 4, 5, 7))
    for control in ("never_treated", "not_yet_treated"):
        kw = {"control": control, "anticipation": anticipation}
        _assert_same(_fit(panel, **kw), _fit(panel, fast=False, **kw))


@pytest.mark.parametrize("method", ["dr", "ipw", "reg"])
def test_time_varying_covariates_use_the_period_of_each_cell(method):
    # covariates differ by period: every pre-treatment cell is its own design (covariates of min(b, t))
    panel = _panel(varying=True, seed=5)
    for base_period in ("varying", "universal"):
        kw = {"method": method, "base_period": base_period}
        _assert_same(_fit(panel, **kw), _fit(panel, fast=False, **kw))


def test_unequal_cohort_sizes_and_no_never_treated():
    panel = _panel(n=900, cohorts=(0, 3, 5, 6), probs=(0.55, 0.05, 0.3, 0.1), seed=8)
    _assert_same(_fit(panel, control="not_yet_treated"), _fit(panel, fast=False, control="not_yet_treated"))
    late = _panel(n=500, cohorts=(3, 4, 7), seed=9)  # the last cohort serves only as comparison
    kw = {"control": "not_yet_treated", "method": "dr"}
    _assert_same(_fit(late, **kw), _fit(late, fast=False, **kw))


def test_time_invariant_covariates_share_one_fit_per_cohort(monkeypatch):
    panel = _panel()
    calls = []
    original = _cs_cov._fit_design
    monkeypatch.setattr(_cs_cov, "_fit_design", lambda *a: calls.append(a[0]) or original(*a))
    res = _fit(panel)
    assert len(res.att_gt) == 3 * 6 and len(calls) == 3  # 18 cells, one propensity fit per cohort


def test_trimmed_comparison_units_are_reported_as_the_general_route_does():
    # with x2 = 1, 500 of 502 units are treated: the fitted propensity score is 500/502 = 0.996, above the
    # trimming level (0.995) and below the overlap limit (0.999); the two comparison units get zero weight
    rng = np.random.default_rng(21)
    x2 = np.r_[np.ones(502), np.zeros(200)]
    g = np.r_[np.full(500, 3), 0, 0, np.full(100, 3), np.zeros(100)].astype(int)
    n, T = g.size, 5
    t = np.arange(1, T + 1)
    y = rng.normal(size=(n, T)) + 0.3 * t + ((g[:, None] > 0) & (t >= g[:, None])) * 2.0
    df = pd.DataFrame({"id": np.repeat(np.arange(n), T), "t": np.tile(t, n), "g": np.repeat(g, T),
                       "y": y.ravel(), "x2": np.repeat(x2, T)})
    panel = il.Panel.from_frame(df, unit="id", time="t", outcome="y", cohort="g", covariates=["x2"])
    for method in ("dr", "ipw"):
        res = _fit(panel, covariates=["x2"], method=method)
        _assert_same(res, _fit(panel, fast=False, covariates=["x2"], method=method))
        reasons = res.excluded["reason"]
        assert reasons.str.contains("propensity score trimmed: 2 comparison observations").sum() == 4


def test_design_the_route_cannot_reproduce_falls_back():
    # x1 separates cohort 3 from the comparison units: the logit fails, the general route explains it
    panel = _panel(n=400, sep=60.0, seed=4)
    with pytest.MonkeyPatch.context() as mp:
        seen = []
        original = _cs_cov.cells_with_covariates
        mp.setattr(_cs_cov, "cells_with_covariates",
                   lambda *a, **k: seen.append(original(*a, **k)) or seen[-1])
        res = _fit(panel)
    assert seen == [None]
    assert isinstance(res._influence, np.ndarray)
    reasons = res.excluded.loc[res.excluded["what"] == "cell", "reason"]
    assert len(reasons) > 0
    ref = _fit(panel, fast=False)
    pd.testing.assert_frame_equal(res.att_gt, ref.att_gt)


def test_unit_weights_and_unbalanced_panels():
    panel = _panel(n=300)
    res = _fit(panel, weights="one")
    assert not isinstance(res._influence, np.ndarray)  # weights take the covariate route too, compact
    # unit weights give the unweighted numbers
    assert _rel(res.att_gt["std_error"], _fit(panel).att_gt["std_error"]) < TOL
    long = panel.long().iloc[1:]  # one unit loses a period
    unb = il.Panel.from_frame(long.rename(columns={"cohort": "g"}), unit="unit", time="period",
                              outcome="outcome", cohort="g", covariates=["x1", "x2"])
    with pytest.MonkeyPatch.context() as mp:  # unbalanced panels have their own route (_cs_unbalanced_cov)
        mp.setattr(_cs_unbalanced_cov, "cells_unbalanced_cov", lambda *a, **k: None)
        out = _fit(unb, allow_unbalanced=True)
    assert isinstance(out._influence, np.ndarray)


def test_segments_take_the_route():
    panel = _panel(n=800)
    long = panel.long()
    long["site"] = (long["unit"] % 2).astype(float)
    seg = il.Panel.from_frame(long.rename(columns={"cohort": "g"}), unit="unit", time="period",
                              outcome="outcome", cohort="g", covariates=["x1", "x2", "site"])
    res, ref = _fit(seg, by="site"), _fit(seg, fast=False, by="site")
    assert all(isinstance(sub._influence, _cs_cov.BlockInfluence) for sub in res._segments.values())
    a, b = res.by_segment("simple"), ref.by_segment("simple")
    assert _rel(a.elements["estimate"], b.elements["estimate"]) < TOL
    assert _rel(a.elements["std_error"], b.elements["std_error"]) < TOL


def test_block_influence_algebra_matches_the_dense_matrix():
    rng = np.random.default_rng(0)
    blocks = [(np.array([0, 2, 5]), np.array([0, 1]), rng.normal(size=(3, 2))),
              (np.array([1, 4]), np.array([0, 1]), rng.normal(size=(2, 2))),
              (np.array([3, 4]), np.array([2]), rng.normal(size=(2, 1)))]
    inf = _cs_cov.BlockInfluence(6, 4, blocks)
    dense = np.zeros((6, 4))
    for rows, cols, vals in blocks:
        dense[np.ix_(rows, cols)] = vals
    np.testing.assert_array_equal(inf.dense(), dense)
    np.testing.assert_allclose(inf.sum_squares(), (dense**2).sum(axis=0), rtol=1e-14)
    np.testing.assert_array_equal(inf.nonzero_columns(), [True, True, True, False])
    w = rng.normal(size=(4, 3))
    np.testing.assert_allclose(inf.combine(w), dense @ w, rtol=1e-13, atol=1e-15)
    np.testing.assert_allclose(inf.combine(w[:, 0]), dense @ w[:, 0], rtol=1e-13, atol=1e-15)
    cols = np.array([2, 0])
    np.testing.assert_allclose(inf.cross_products(cols), dense[:, cols].T @ dense[:, cols], rtol=1e-13)


def test_quick_rank_check_agrees_with_the_exact_one():
    from impactlab.estimators.callaway_santanna.data import collinear

    rng = np.random.default_rng(1)
    a, b = rng.normal(size=2000), (rng.random(2000) < 0.3).astype(float)
    cases = {"independent": np.column_stack([a, b]), "copy": np.column_stack([a, 2 * a]),
             "constant": np.column_stack([a, np.full(2000, 3.0)]),
             "nearly": np.column_stack([a, a + 1e-9 * b]), "one column": a[:, None]}
    for name, x in cases.items():
        names = tuple(f"c{j}" for j in range(x.shape[1]))
        if _cs_cov.clearly_full_rank(x):  # never claims full rank where the exact check finds collinearity
            assert collinear(x, names) == [], name
    assert _cs_cov.clearly_full_rank(cases["independent"]) and _cs_cov.clearly_full_rank(cases["one column"])
    assert not _cs_cov.clearly_full_rank(cases["copy"]) and not _cs_cov.clearly_full_rank(cases["constant"])


def test_blocked_logit_is_logit_fit():
    from impactlab.estimators.drdid import logit_fit

    rng = np.random.default_rng(2)
    n_t, n_c = 3000, 5000  # several row blocks
    x = np.column_stack([np.ones(n_t + n_c), rng.normal(size=n_t + n_c), rng.random(n_t + n_c) < 0.5])
    x[:n_t, 1] += 0.4
    d = np.r_[np.ones(n_t), np.zeros(n_c)]
    ps, converged = _cs_cov._logit(x, n_t)
    _, ref, ref_converged = logit_fit(x, d)
    assert converged and ref_converged
    np.testing.assert_allclose(ps, ref, rtol=1e-12)


def test_bootstrap_and_clusters_use_the_dense_matrix_of_the_route():
    panel = _panel(n=400)
    kw = {"bootstrap": 99, "seed": 5}
    res, ref = _fit(panel, **kw), _fit(panel, fast=False, **kw)
    assert _rel(res.att_gt["std_error"], ref.att_gt["std_error"]) < TOL  # same draws, same influence
    long = panel.long()
    long["team"] = (long["unit"] % 25).astype(float)
    clustered = il.Panel.from_frame(long.rename(columns={"cohort": "g"}), unit="unit", time="period",
                                    outcome="outcome", cohort="g", covariates=["x1", "x2"], cluster="team")
    a, b = _fit(clustered), _fit(clustered, fast=False)
    assert _rel(a.att_gt["std_error"], b.att_gt["std_error"]) < TOL
    assert a.std_error == pytest.approx(b.std_error, rel=TOL)
