"""Callaway–Sant'Anna on unbalanced panels: the cohort-moment route equals the cell-by-cell route.

The route of :mod:`impactlab.estimators.callaway_santanna.unbalanced` must give the numbers of the general code (one
repeated cross-section 2×2 fit per cell, influence summed by unit, as R ``did``'s
``allow_unbalanced_panel = TRUE``). The reference fit disables the route (``cells_unbalanced`` returns
``None``), so both fits share everything else. Tolerance: 1e-10 relative — the same formulas in another
summation order.
"""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
import pytest

import impactlab as il
from impactlab.estimators.callaway_santanna import unbalanced as _cs_unbalanced
from impactlab.estimators.callaway_santanna import unbalanced_cov as _cs_unbalanced_cov
from impactlab.estimators.callaway_santanna.unbalanced import ObservedInfluence

TOL = 1e-10


def _frame(n=500, T=8, seed=5, cohorts=(0, 3, 4, 6), probs=None, missing=0.15, sort_by_cohort=False):
    """A panel with random holes, late entrants, early leavers and a cohort observed once in period 2."""
    rng = np.random.default_rng(seed)
    g = rng.choice(cohorts, size=n, p=probs)
    if sort_by_cohort:  # unit ids in cohort order (the influence form needs no row permutation)
        g = np.sort(g)
    t = np.arange(1, T + 1)
    post = (g[:, None] > 0) & (t[None, :] >= g[:, None])
    y = (rng.normal(size=n)[:, None] + 0.3 * t + 0.1 * g[:, None] * t / T + post * 1.5
         + rng.normal(size=(n, T)))
    keep = rng.random((n, T)) > missing
    start = np.where(rng.random(n) < 0.1, rng.integers(2, T, size=n), 1)  # late entrants
    stop = np.where(rng.random(n) < 0.1, rng.integers(3, T + 1, size=n), T)  # early leavers
    keep &= (t[None, :] >= start[:, None]) & (t[None, :] <= stop[:, None])
    keep[:, 0] |= ~keep.any(axis=1)  # every unit observed at least once
    second = np.flatnonzero(g == cohorts[1])
    keep[second[1:], 1] = False  # one unit of the first cohort observed in period 2
    keep[second[0], 1] = True
    ids, ts = np.nonzero(keep)
    return pd.DataFrame({"id": ids + 1000, "t": ts + 1, "g": g[ids], "y": y[ids, ts],
                         "team": (ids % 40).astype(str), "seg": ids % 2})


def _panel(df, **kw):
    return il.Panel.from_frame(df, unit="id", time="t", outcome="y", cohort="g", **kw)


def _fit(panel, *, fast=True, **kw):
    kw.setdefault("allow_unbalanced", True)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        if fast:
            return il.callaway_santanna(panel, **kw)
        with pytest.MonkeyPatch.context() as mp:
            mp.setattr(_cs_unbalanced, "cells_unbalanced", lambda *a, **k: None)
            return il.callaway_santanna(panel, **kw)


def _rel(a, b):
    a, b = np.asarray(a, float), np.asarray(b, float)
    assert a.shape == b.shape
    assert np.array_equal(np.isnan(a), np.isnan(b))
    ok = ~np.isnan(a)
    if not ok.any():
        return 0.0
    return float(np.max(np.abs(a[ok] - b[ok])) / max(np.max(np.abs(b[ok])), 1e-300))


def _assert_same(res, ref, *, compact=True):
    if compact:
        assert isinstance(res._influence, ObservedInfluence)  # the route was taken, nothing dense built
    assert isinstance(ref._influence, np.ndarray)
    a, b = res.att_gt, ref.att_gt
    numbers = ["estimate", "std_error", "conf_low", "conf_high", "statistic", "p_value"]
    pd.testing.assert_frame_equal(a.drop(columns=numbers), b.drop(columns=numbers))
    for col in numbers:
        assert _rel(a[col], b[col]) < TOL, col
    for kind in ("simple", "group", "dynamic", "calendar", "cumulative"):
        x, y = res.aggregate(kind), ref.aggregate(kind)
        assert x.estimate == pytest.approx(y.estimate, rel=TOL, nan_ok=True)
        assert x.std_error == pytest.approx(y.std_error, rel=TOL, nan_ok=True)
        assert _rel(x.influence, y.influence) < TOL
        if y.elements is not None:
            assert _rel(x.elements["std_error"], y.elements["std_error"]) < TOL
            assert _rel(x.element_vcov, y.element_vcov) < TOL
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
    {"control": "never_treated", "method": "reg", "anticipation": 1, "base_period": "universal"},
]


@pytest.fixture(scope="module")
def holes() -> pd.DataFrame:
    return _frame()


@pytest.mark.parametrize("kw", DESIGNS)
def test_route_equals_cell_by_cell(holes, kw):
    p = _panel(holes)
    _assert_same(_fit(p, **kw), _fit(p, fast=False, **kw))


def test_units_in_cohort_order_and_no_never_treated():
    # ids already sorted by cohort (no row permutation); no never-treated units: the last cohort only
    # serves as comparison and the later periods are dropped
    df = _frame(n=300, cohorts=(3, 5, 7), sort_by_cohort=True, seed=8)
    p = _panel(df)
    for kw in ({"control": "not_yet_treated", "method": "dr"},
               {"control": "not_yet_treated", "method": "reg", "base_period": "universal"}):
        res = _fit(p, **kw)
        assert res._influence._order is None
        _assert_same(res, _fit(p, fast=False, **kw))


def test_hand_computed_cell_and_influence():
    # ATT(3, 4) with never-treated comparison: difference of the four period means of the observed units
    df = _frame(n=200, seed=2)
    res = _fit(_panel(df))
    h = df.set_index("t")
    tr, co = h[h["g"] == 3], h[h["g"] == 0]
    hand = (tr.loc[4, "y"].mean() - tr.loc[2, "y"].mean()) - (co.loc[4, "y"].mean() - co.loc[2, "y"].mean())
    row = res.att_gt.query("cohort == 3 and time == 4").iloc[0]
    assert row["estimate"] == pytest.approx(hand, abs=1e-12)
    # the influence of a comparison unit observed in both periods: n (-(y4 - m4)/n4 + (y2 - m2)/n2)
    k = int(np.flatnonzero((res.att_gt["cohort"] == 3) & (res.att_gt["time"] == 4))[0])
    n = res.n_units
    unit = co.reset_index().groupby("id")["t"].apply(set)
    uid = next(u for u, ts in unit.items() if {2, 4} <= ts)
    yu = df[df["id"] == uid].set_index("t")["y"]
    want = n * (-(yu[4] - co.loc[4, "y"].mean()) / len(co.loc[4]) + (yu[2] - co.loc[2, "y"].mean())
                / len(co.loc[2]))
    got = res.influence[int(np.flatnonzero(res.unit_ids == uid)[0]), k]
    assert got == pytest.approx(want, rel=1e-12)
    # the standard error from the cohort moments is that of the dense influence functions
    form = _fit(_panel(df))._influence
    assert row["std_error"] == pytest.approx(np.sqrt((res.influence[:, k] ** 2).sum()) / n, rel=1e-12)
    assert np.sqrt(form.sum_squares()[k]) / n == pytest.approx(row["std_error"], rel=1e-12)
    # the other operations of the form are those of the dense matrix
    dense = res.influence
    w = np.random.default_rng(0).normal(size=(dense.shape[1], 3))
    assert _rel(form.combine(w), dense @ w) < TOL
    assert _rel(form.combine(w[:, 0]), dense @ w[:, 0]) < TOL
    assert _rel(form.select([k, 0]).dense(order="F"), dense[:, [k, 0]]) < TOL
    assert _rel(form.cross_products(np.array([0, k])), dense[:, [0, k]].T @ dense[:, [0, k]]) < TOL
    shift = np.arange(len(form.cohorts) * 3, dtype=float).reshape(-1, 3)
    per_unit = shift[np.searchsorted(form.cohorts, res._unit_group)]
    assert _rel(form.transform(w, shift).dense(), dense @ w + per_unit) < TOL
    assert _rel(np.asarray(form), dense) < TOL


def test_irregular_cells_take_the_2x2_estimator():
    # cohort 6 never observed in period 5 (empty cells: explained in the ledger), and two never-treated units
    # next to a large cohort 3 (treated share >= 0.995: the 2×2 estimator trims every comparison unit)
    df = _frame(n=600, seed=11, cohorts=(3, 6), probs=(0.8, 0.2), missing=0.02)
    df.loc[df["id"].isin([1000, 1001]), "g"] = 0
    df = df[~((df["g"] == 6) & (df["t"] == 5))]
    p = _panel(df)
    for kw in ({"control": "never_treated", "method": "dr"}, {"control": "never_treated", "method": "ipw"},
               {"control": "not_yet_treated", "method": "reg"},
               {"control": "not_yet_treated", "method": "dr"}):
        res, ref = _fit(p, **kw), _fit(p, fast=False, **kw)
        reasons = " ".join(ref.excluded["reason"])
        assert "none in treated" in reasons  # the design does have irregular cells
        if kw["control"] == "never_treated":
            assert "not finite" in reasons or "overlap" in reasons
        _assert_same(res, ref)


def test_a_cell_from_the_2x2_estimator_makes_the_matrix_dense(holes):
    # every cell the 2×2 estimator computes successfully replaces its column of the dense matrix
    from impactlab.estimators.callaway_santanna import routes as _cs_fit

    p = _panel(holes)
    data = __import__("impactlab.estimators.callaway_santanna.data", fromlist=["x"]).prepare(p, covs=(), weights=None, anticipation=0, control="never_treated",
                           mode="unbalanced", excluded=[], notes=[])
    opts = {"control": "never_treated", "method": "dr", "base_period": "varying", "anticipation": 0,
            "periods": tuple(p.periods)}
    table, form, _, _ = _cs_unbalanced.cells_unbalanced(data, cell_fit=_cs_fit._cell_2x2, **opts)
    assert isinstance(form, ObservedInfluence)
    calls = []

    def always(data, method, treated, ctrl, cur, base):
        calls.append((cur, base))
        return _cs_fit._cell_2x2(data, method, treated, ctrl, cur, base)

    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(_cs_unbalanced, "TRIM_LEVEL", 0.0)  # every DR cell counts as irregular
        table2, dense, ledger, _ = _cs_unbalanced.cells_unbalanced(data, cell_fit=always, **opts)
    assert isinstance(dense, np.ndarray) and len(calls) == len(table)
    assert ledger == []
    assert _rel(table2["estimate"], table["estimate"]) < TOL
    assert _rel(dense, form.dense()) < TOL


def test_bootstrap_equals_the_dense_route(holes):
    p = _panel(holes)
    kw = {"control": "not_yet_treated", "method": "dr", "bootstrap": 199, "seed": 4}
    res, ref = _fit(p, **kw), _fit(p, fast=False, **kw)
    assert res._boot_sums is not None  # the draws came from the per-cohort multiplier sums
    assert res.crit == pytest.approx(ref.crit, rel=TOL)
    assert _rel(res.att_gt["std_error"], ref.att_gt["std_error"]) < TOL
    for kind in ("simple", "dynamic", "cumulative"):
        x, y = res.aggregate(kind), ref.aggregate(kind)
        assert x.std_error == pytest.approx(y.std_error, rel=TOL, nan_ok=True)
        if y.elements is not None:
            assert _rel(x.elements["crit"], y.elements["crit"]) < TOL


def test_clusters_and_segments(holes):
    p = _panel(holes, cluster="team", covariates=["seg"])
    res, ref = _fit(p, method="reg"), _fit(p, fast=False, method="reg")
    _assert_same(res, ref, compact=False)  # cluster sums need the dense matrix
    p = _panel(holes, covariates=["seg"])
    res, ref = _fit(p, by="seg"), _fit(p, fast=False, by="seg")
    x, y = res.by_segment("dynamic"), ref.by_segment("dynamic")
    assert _rel(x.elements["estimate"], y.elements["estimate"]) < TOL
    assert _rel(x.elements["std_error"], y.elements["std_error"]) < TOL


def test_repeated_cross_sections_and_covariates_keep_the_general_route(holes):
    p = _panel(holes, covariates=["seg"])
    rcs = _fit(p, allow_unbalanced=False, repeated_cross_sections=True)
    assert isinstance(rcs._influence, np.ndarray)
    with pytest.MonkeyPatch.context() as mp:  # covariates have their own route (_cs_unbalanced_cov)
        mp.setattr(_cs_unbalanced_cov, "cells_unbalanced_cov", lambda *a, **k: None)
        cov = _fit(p, covariates=["seg"], method="reg")
    assert isinstance(cov._influence, np.ndarray)
