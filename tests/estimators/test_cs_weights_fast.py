"""Sampling weights on the weighted-moments route of Callaway–Sant'Anna (balanced panel, no covariates).

Every number of the route (:mod:`impactlab.estimators.callaway_santanna.weighted`) is checked against the cell-by-cell
2×2 code, forced by making the route decline, to 1e-10; a hand-computed weighted 2×2 cell pins the formula.
"""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
import pytest

import impactlab as il
from impactlab.errors import PanelError
from impactlab.estimators.callaway_santanna import covariates as _cs_cov
from impactlab.estimators.callaway_santanna import weighted as _cs_weighted

#: Both routes compute the same sums in a different order; 1e-10 relative leaves room for rounding only.
TOL = 1e-10


def _frame(n=500, T=6, cohorts=(0, 3, 4, 6), seed=11, never=True):
    rng = np.random.default_rng(seed)
    g = rng.choice([c for c in cohorts if never or c], size=n)
    t = np.arange(1, T + 1)
    post = (g[:, None] > 0) & (t[None, :] >= g[:, None])
    y = (20.0 + rng.normal(size=n)[:, None] + 0.3 * t + post * (1 + 0.2 * (t - g[:, None]))
         + rng.normal(size=(n, T)) * (1 + (g[:, None] == 3)))
    ids = np.arange(n)
    return pd.DataFrame({"id": np.repeat(ids, T), "t": np.tile(t, n), "g": np.repeat(g, T),
                         "y": y.ravel(), "w": np.repeat(1.0 + ids % 5, T),
                         "team": np.repeat(ids % 29, T)})


@pytest.fixture(params=[False, True], ids=["dense", "form"])
def keep_form(request, monkeypatch):
    """Both outputs of the route: the dense matrix, and the weighted affine form kept as it is."""
    monkeypatch.setattr(_cs_weighted, "KEEP_FORM", request.param)
    return request.param


def _panel(df, cluster=False):
    return il.Panel.from_frame(df.sample(frac=1, random_state=2), unit="id", time="t", outcome="y",
                               cohort="g", covariates=["w"], cluster="team" if cluster else None)


def _fit(panel, **kw):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return il.callaway_santanna(panel, weights="w", **kw)


def _both(monkeypatch, panel, **kw):
    """(weighted-moments route, cell-by-cell route); fails if the first did not take the route."""
    taken = []
    route = _cs_weighted.cells_weighted

    def spy(*a, **k):
        out = route(*a, **k)
        taken.append(out is not None)
        return out

    monkeypatch.setattr(_cs_weighted, "cells_weighted", spy)
    fast = _fit(panel, **kw)
    assert taken == [True]
    monkeypatch.setattr(_cs_weighted, "cells_weighted", lambda *a, **k: None)
    slow = _fit(panel, **kw)
    monkeypatch.setattr(_cs_weighted, "cells_weighted", route)
    return fast, slow


def _rel(a, b):
    a, b = np.asarray(a, float), np.asarray(b, float)
    assert np.array_equal(np.isnan(a), np.isnan(b))
    ok = ~np.isnan(a)
    if not ok.any():
        return 0.0
    return float(np.max(np.abs(a[ok] - b[ok])) / max(np.max(np.abs(b[ok])), 1e-300))


def _same_fit(a, b, compact=True):
    # with KEEP_FORM the route keeps the weighted affine form unless clusters or a 2×2 cell need the matrix
    assert isinstance(a._influence, _cs_weighted.WeightedInfluence) == (compact and _cs_weighted.KEEP_FORM)
    assert isinstance(b._influence, np.ndarray)
    ta, tb = a.att_gt, b.att_gt
    assert ta[["cohort", "time", "post", "n_treated", "n_control"]].equals(
        tb[["cohort", "time", "post", "n_treated", "n_control"]])
    for col in ("estimate", "std_error", "conf_low", "conf_high", "p_value"):
        assert _rel(ta[col], tb[col]) < TOL, col
    np.testing.assert_array_equal(a.unit_ids, b.unit_ids)
    for kind in ("simple", "dynamic", "group", "calendar", "cumulative"):
        ea, eb = a.aggregate(kind, max_e=2), b.aggregate(kind, max_e=2)
        assert _rel(ea.tidy()["estimate"], eb.tidy()["estimate"]) < TOL, kind
        assert _rel(ea.tidy()["std_error"], eb.tidy()["std_error"]) < TOL, kind
        if kind != "simple":
            assert _rel(ea.element_vcov, eb.element_vcov) < TOL, kind
    pa, pb = a.pretest, b.pretest
    assert (pa is None) == (pb is None)
    if pa is not None:
        assert pa.df == pb.df
        assert pa.statistic == pytest.approx(pb.statistic, rel=TOL)
    assert a.excluded.equals(b.excluded)
    assert _rel(np.asarray(a.influence), np.asarray(b.influence)) < TOL  # last: it makes a's matrix dense


@pytest.mark.parametrize("control", ["never_treated", "not_yet_treated"])
@pytest.mark.parametrize("base_period", ["varying", "universal"])
@pytest.mark.parametrize("anticipation", [0, 1])
def test_weighted_route_matches_cell_by_cell(monkeypatch, keep_form, control, base_period, anticipation):
    fast, slow = _both(monkeypatch, _panel(_frame()), control=control, base_period=base_period,
                       anticipation=anticipation)
    _same_fit(fast, slow)


@pytest.mark.parametrize("method", ["dr", "ipw", "reg"])
def test_every_method_and_clusters(monkeypatch, keep_form, method):
    fast, slow = _both(monkeypatch, _panel(_frame(seed=4), cluster=True), method=method,
                       control="not_yet_treated")
    _same_fit(fast, slow, compact=False)  # cluster sums need the matrix


def test_bootstrap_with_a_seed_gives_the_same_draws(monkeypatch, keep_form):
    # not-yet-treated comparisons pool cohorts: the cohort constants of the affine form are not zero
    fast, slow = _both(monkeypatch, _panel(_frame(n=300)), bootstrap=199, seed=7,
                       control="not_yet_treated")
    _same_fit(fast, slow)
    assert fast.crit == pytest.approx(slow.crit, rel=TOL)


def test_no_never_treated_singletons_and_short_units(monkeypatch, keep_form):
    df = _frame(never=False, cohorts=(3, 4, 6))
    df.loc[df["id"] == 5, "g"] = 2  # a singleton cohort: a comparison unit only
    df = df.loc[~((df["id"] == 9) & (df["t"] == 4))]  # observed in 5 of 6 periods: dropped
    fast, slow = _both(monkeypatch, _panel(df), control="not_yet_treated")
    _same_fit(fast, slow)
    assert 9 not in set(fast.unit_ids)
    assert fast.att_gt["time"].max() == 5  # the last cohort (6) only serves as comparison


def test_segments(monkeypatch, keep_form):
    df = _frame(n=600)
    df["seg"] = df["id"] % 2
    panel = il.Panel.from_frame(df, unit="id", time="t", outcome="y", cohort="g", covariates=["w", "seg"])
    route = _cs_weighted.cells_weighted
    fast = _fit(panel, by="seg")
    monkeypatch.setattr(_cs_weighted, "cells_weighted", lambda *a, **k: None)
    slow = _fit(panel, by="seg")
    monkeypatch.setattr(_cs_weighted, "cells_weighted", route)
    x, y = fast.by_segment("dynamic"), slow.by_segment("dynamic")
    assert _rel(x.elements["estimate"], y.elements["estimate"]) < TOL
    assert _rel(x.elements["std_error"], y.elements["std_error"]) < TOL
    assert fast.segment_test("simple").statistic == pytest.approx(slow.segment_test("simple").statistic,
                                                                  rel=TOL)


def test_hand_computed_weighted_cell_and_weights_matter(monkeypatch):
    df = _frame()
    fast = _fit(_panel(df), control="never_treated")
    wide = df.pivot(index="id", columns="t", values="y")
    unit = df.groupby("id")[["g", "w"]].first()
    change = wide[5] - wide[3]  # cohort 4, period 5: base period 3

    def wmean(mask):
        return float(np.average(change[mask], weights=unit["w"][mask]))

    cell = fast.att_gt.query("cohort == 4 and time == 5")
    assert cell["estimate"].iloc[0] == pytest.approx(wmean(unit["g"] == 4) - wmean(unit["g"] == 0),
                                                     rel=1e-12)
    # hand-computed SE: psi_i = n w_i [1{T}(d_i - m_T)/W_T - 1{C}(d_i - m_C)/W_C], w of mean one
    w = unit["w"] / unit["w"].mean()
    tr, co = unit["g"] == 4, unit["g"] == 0
    psi = len(unit) * w * (tr * (change - wmean(tr)) / w[tr].sum() - co * (change - wmean(co)) / w[co].sum())
    assert cell["std_error"].iloc[0] == pytest.approx(np.sqrt((psi**2).sum()) / len(unit), rel=1e-10)
    unweighted = il.callaway_santanna(_panel(df), control="never_treated")
    assert abs(unweighted.estimate - fast.estimate) > 1e-3  # the weights are not ignored


@pytest.mark.parametrize("method", ["dr", "ipw", "reg"])
def test_cells_near_the_trimming_level_keep_the_two_by_two_rules(monkeypatch, keep_form, method):
    # 300 treated of weight 10 and 10 comparison units of weight 1: the unweighted share 300/310 is below
    # 0.995 but the weighted propensity score 3000/3010 is above, so DR and IPW trim the comparison units
    rng = np.random.default_rng(5)
    g = np.r_[np.full(300, 3), np.zeros(10, dtype=int), np.full(40, 4)]
    n, T = g.size, 4
    w = np.where(g == 3, 10.0, 1.0)
    df = pd.DataFrame({"id": np.repeat(np.arange(n), T), "t": np.tile(np.arange(1, T + 1), n),
                       "g": np.repeat(g, T), "y": rng.normal(size=n * T), "w": np.repeat(w, T),
                       "team": 0})
    fast, slow = _both(monkeypatch, _panel(df), method=method)
    _same_fit(fast, slow)  # the trimmed cells are left out: the other cells keep the weighted form
    trimmed = fast.excluded["reason"].str.contains("not finite|trimmed|overlap").any()
    assert trimmed == (method != "reg")


def test_a_cohort_of_zero_weight_falls_back(monkeypatch):
    df = _frame(n=200)
    df.loc[df["g"] == 6, "w"] = 0.0
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        data_taken = []
        route = _cs_weighted.cells_weighted
        monkeypatch.setattr(_cs_weighted, "cells_weighted",
                            lambda *a, **k: data_taken.append(route(*a, **k)) or data_taken[-1])
        res = il.callaway_santanna(_panel(df), weights="w")
    assert data_taken == [None]  # the cell-by-cell route explains the cells it cannot estimate
    assert 6 not in set(res.att_gt["cohort"])  # its propensity score is 0: the logit does not converge
    cells = res.excluded.query("what == 'cell'")
    assert {key[0] for key in cells["id"]} == {6}
    assert cells["reason"].str.contains("did not converge").all()


def test_cells_handed_to_the_two_by_two_estimator_keep_their_numbers(monkeypatch, keep_form):
    # a margin of one sends every DR cell to the 2×2 estimator: the influence matrix is then dense, with the
    # 2×2 columns in place of the route's (the same numbers either way)
    monkeypatch.setattr(_cs_weighted, "_TRIM_MARGIN", 1.0)
    fast, slow = _both(monkeypatch, _panel(_frame(n=200)), control="not_yet_treated")
    _same_fit(fast, slow, compact=False)


# ---------------------------------------------------------------------------------------------- covariates
def _cov_frame(n=500, T=6, seed=8):
    rng = np.random.default_rng(seed)
    g = rng.choice([0, 3, 4, 6], size=n)
    t = np.arange(1, T + 1)
    x1 = rng.normal(size=n) + 0.3 * (g > 0)
    post = (g[:, None] > 0) & (t[None, :] >= g[:, None])
    y = (rng.normal(size=n)[:, None] + 0.3 * t * (1 + 0.2 * x1[:, None]) + post * (1 + 0.2 * (t - g[:, None]))
         + rng.normal(size=(n, T)))
    ids = np.arange(n)
    return pd.DataFrame({"id": np.repeat(ids, T), "t": np.tile(t, n), "g": np.repeat(g, T), "y": y.ravel(),
                         "x1": np.repeat(x1, T), "x2": rng.normal(size=n * T),
                         "w": np.repeat(1.0 + ids % 5, T), "team": np.repeat(ids % 29, T)})


@pytest.fixture(params=[False, True], ids=["dense", "blocks"])
def keep_blocks(request, monkeypatch):
    monkeypatch.setattr(_cs_cov, "KEEP_BLOCKS_WEIGHTED", request.param)
    return request.param


def _both_cov(monkeypatch, panel, **kw):
    taken = []
    route = _cs_cov.cells_with_covariates

    def spy(*a, **k):
        out = route(*a, **k)
        taken.append(out is not None)
        return out

    monkeypatch.setattr(_cs_cov, "cells_with_covariates", spy)
    fast = _fit(panel, **kw)
    assert taken == [True]
    monkeypatch.setattr(_cs_cov, "cells_with_covariates", lambda *a, **k: None)
    slow = _fit(panel, **kw)
    monkeypatch.setattr(_cs_cov, "cells_with_covariates", route)
    return fast, slow


def _same_cov_fit(a, b, blocks):
    assert isinstance(a._influence, _cs_cov.BlockInfluence) == blocks
    ta, tb = a.att_gt, b.att_gt
    assert ta[["cohort", "time", "post", "n_treated", "n_control"]].equals(
        tb[["cohort", "time", "post", "n_treated", "n_control"]])
    for col in ("estimate", "std_error", "conf_low", "conf_high"):
        assert _rel(ta[col], tb[col]) < TOL, col
    for kind in ("simple", "dynamic", "group", "calendar"):
        ea, eb = a.aggregate(kind), b.aggregate(kind)
        assert _rel(ea.tidy()["estimate"], eb.tidy()["estimate"]) < TOL, kind
        assert _rel(ea.tidy()["std_error"], eb.tidy()["std_error"]) < TOL, kind
    pa, pb = a.pretest, b.pretest
    assert pa.statistic == pytest.approx(pb.statistic, rel=TOL)
    assert a.excluded.equals(b.excluded)
    assert _rel(np.asarray(a.influence), np.asarray(b.influence)) < TOL


@pytest.mark.parametrize("method", ["dr", "ipw", "reg"])
@pytest.mark.parametrize("control", ["never_treated", "not_yet_treated"])
def test_covariate_route_with_weights_matches_cell_by_cell(monkeypatch, keep_blocks, method, control):
    panel = il.Panel.from_frame(_cov_frame(), unit="id", time="t", outcome="y", cohort="g",
                                covariates=["x1", "x2", "w"])
    fast, slow = _both_cov(monkeypatch, panel, method=method, control=control, covariates=["x1", "x2"])
    _same_cov_fit(fast, slow, keep_blocks)


@pytest.mark.parametrize("base_period", ["varying", "universal"])
def test_covariate_route_with_weights_anticipation_clusters_bootstrap(monkeypatch, base_period):
    panel = il.Panel.from_frame(_cov_frame(n=400), unit="id", time="t", outcome="y", cohort="g",
                                covariates=["x1", "w"], cluster="team")
    fast, slow = _both_cov(monkeypatch, panel, covariates=["x1"], base_period=base_period, anticipation=1,
                           bootstrap=99, seed=3)
    _same_cov_fit(fast, slow, blocks=False)  # cluster sums and bootstrap draws use the matrix
    assert fast.crit == pytest.approx(slow.crit, rel=TOL)


def test_covariate_route_weights_matter():
    panel = il.Panel.from_frame(_cov_frame(), unit="id", time="t", outcome="y", cohort="g",
                                covariates=["x1", "w"])
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        plain = il.callaway_santanna(panel, covariates=["x1"])
    assert abs(_fit(panel, covariates=["x1"]).estimate - plain.estimate) > 1e-3


@pytest.mark.parametrize("column", ["w", "team"])
def test_weights_or_cluster_changing_within_a_unit_is_refused(column: str) -> None:
    rng = np.random.default_rng(2)
    n, T = 60, 5
    df = pd.DataFrame({"id": np.repeat(np.arange(n), T), "t": np.tile(np.arange(1, T + 1), n),
                       "g": np.repeat(rng.choice([0, 3, 4], n), T), "y": rng.normal(size=n * T),
                       "w": np.repeat(rng.uniform(1, 2, n), T), "team": np.repeat(np.arange(n) % 7, T)})
    df.loc[7, column] = df.loc[7, column] + 1  # unit 1, period 3
    panel = il.Panel.from_frame(df, unit="id", time="t", outcome="y", cohort="g", covariates=["w"],
                                cluster="team")
    kw = {"weights": "w"} if column == "w" else {}
    with pytest.raises(PanelError, match=r"changes over time within units \[(np\.int64\()?1"):
        il.callaway_santanna(panel, **kw)
    # constant within units: the block check passes and matches the grouped one
    ok = il.Panel.from_frame(df.assign(**{column: df.groupby("id")[column].transform("first")}), unit="id",
                             time="t", outcome="y", cohort="g", covariates=["w"], cluster="team")
    assert np.isfinite(il.callaway_santanna(ok, **kw).std_error)
