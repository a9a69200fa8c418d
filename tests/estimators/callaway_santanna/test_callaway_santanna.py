"""Unit tests of ``callaway_santanna`` on hand-computable panels (R parity lives in tests/oracle)."""

from __future__ import annotations

import dataclasses
import warnings

import numpy as np
import pandas as pd
import pytest

from impactlab.errors import EstimationError, PanelError, StatisticalWarning
from impactlab.estimators.callaway_santanna import CallawaySantAnnaResult, callaway_santanna
from impactlab.panel.panel import Panel
from impactlab.results.base import TIDY_COLUMNS, EffectResult

# Toy panel: cohort 2 = units 1, 2; cohort 3 = units 3, 4; never treated = units 5, 6; periods 1..3.
TOY_Y = {1: [1, 4, 6], 2: [2, 3, 7], 3: [0, 1, 5], 4: [1, 3, 2], 5: [0, 1, 1], 6: [2, 2, 4]}
TOY_G = {1: 2, 2: 2, 3: 3, 4: 3, 5: 0, 6: 0}


def toy_frame(times: tuple = (1, 2, 3)) -> pd.DataFrame:
    rows = [(u, times[k], TOY_Y[u][k], TOY_G[u] and times[TOY_G[u] - 1], float(u % 2))
            for u in TOY_Y for k in range(3)]
    return pd.DataFrame(rows, columns=["id", "t", "y", "g", "x"])


def toy_panel(**kw) -> Panel:
    return Panel.from_frame(toy_frame(), unit="id", time="t", outcome="y", cohort="g", **kw)


def cell(res: CallawaySantAnnaResult, g, t) -> pd.Series:
    at = res.att_gt
    row = at[(at["cohort"] == g) & (at["time"] == t)]
    assert len(row) == 1
    return row.iloc[0]


# ------------------------------------------------------------------------------------------- hand-computed
def test_att_gt_by_hand_never_treated() -> None:
    res = callaway_santanna(toy_panel())
    at = res.att_gt
    assert list(at.columns) == ["cohort", "time", "event_time", "estimate", "std_error", "statistic",
                                "p_value", "conf_low", "conf_high", "n_treated", "n_control", "post"]
    # ATT(g,t) = mean change of the cohort minus mean change of never-treated, base t-1 before g, g-1 after
    expected = {(2, 2): 2.0 - 0.5, (2, 3): 5.0 - 1.5, (3, 2): 1.5 - 0.5, (3, 3): 1.5 - 1.0}
    for (g, t), v in expected.items():
        assert cell(res, g, t)["estimate"] == pytest.approx(v, abs=1e-12)
    assert at["event_time"].tolist() == [0, 1, -1, 0]
    assert at["post"].tolist() == [True, True, False, True]
    assert at["n_treated"].tolist() == [2, 2, 2, 2]
    assert at["n_control"].tolist() == [2, 2, 2, 2]
    # analytic SE of a difference of means: sqrt(sum_T dev^2 / n_T^2 + sum_C dev^2 / n_C^2)
    assert cell(res, 2, 2)["std_error"] == pytest.approx(np.sqrt(2 / 4 + 0.5 / 4), rel=1e-12)


def test_not_yet_treated_uses_later_cohorts_as_controls() -> None:
    res = callaway_santanna(toy_panel(), control="not_yet_treated")
    # at t=2 cohort 3 is not yet treated: controls are units 3..6, mean change 1.0
    assert cell(res, 2, 2)["estimate"] == pytest.approx(2.0 - 1.0)
    assert cell(res, 2, 2)["n_control"] == 4
    # at t=3 cohort 3 is treated: never-treated only
    assert cell(res, 2, 3)["estimate"] == pytest.approx(3.5)
    assert cell(res, 2, 3)["n_control"] == 2


def test_universal_base_period() -> None:
    res = callaway_santanna(toy_panel(), base_period="universal")
    assert cell(res, 2, 1)["estimate"] == 0.0 and np.isnan(cell(res, 2, 1)["std_error"])
    assert cell(res, 3, 2)["estimate"] == 0.0
    # ATT(3,1) = (Y1 - Y2) of cohort 3 minus that of never-treated = -1.5 - (-0.5)
    assert cell(res, 3, 1)["estimate"] == pytest.approx(-1.0)
    assert cell(res, 3, 3)["estimate"] == pytest.approx(0.5)
    assert len(res.att_gt) == 6


def test_anticipation_moves_base_period_and_drops_cohorts_without_pre_period() -> None:
    with pytest.warns(StatisticalWarning, match="already treated"):
        res = callaway_santanna(toy_panel(), anticipation=1)
    assert set(res.att_gt["cohort"]) == {3}
    assert cell(res, 3, 3)["estimate"] == pytest.approx(3.0 - 1.5)  # base period 1
    ex = res.excluded
    assert sorted(ex.loc[ex["what"] == "unit", "id"]) == [1, 2]
    assert res.n_units == 4


def test_aggregations_by_hand() -> None:
    res = callaway_santanna(toy_panel())
    # equal cohort sizes, so weights are equal
    assert res.aggregate("simple").estimate == pytest.approx((1.5 + 3.5 + 0.5) / 3)
    assert res.estimate == pytest.approx((1.5 + 3.5 + 0.5) / 3)
    grp = res.aggregate("group")
    assert grp.elements["cohort"].tolist() == [2, 3]
    assert grp.elements["estimate"].tolist() == pytest.approx([2.5, 0.5])
    assert grp.estimate == pytest.approx(1.5)
    dyn = res.aggregate("dynamic")
    assert dyn.elements["event_time"].tolist() == [-1, 0, 1]
    assert dyn.elements["estimate"].tolist() == pytest.approx([1.0, 1.0, 3.5])
    assert dyn.estimate == pytest.approx(2.25)
    cal = res.aggregate("calendar")
    assert cal.elements["time"].tolist() == [2, 3]
    assert cal.elements["estimate"].tolist() == pytest.approx([1.5, 2.0])
    assert cal.estimate == pytest.approx(1.75)


def test_event_window_options() -> None:
    res = callaway_santanna(toy_panel())
    dyn = res.aggregate("dynamic", min_e=0, max_e=0)
    assert dyn.elements["event_time"].tolist() == [0]
    # simple restricted to e <= 0 is the on-impact effect
    assert res.aggregate("simple", max_e=0).estimate == pytest.approx(dyn.elements["estimate"].iloc[0])
    bal = res.aggregate("dynamic", balance_e=1)  # only cohort 2 is seen 1 period after treatment
    assert bal.elements["event_time"].tolist() == [0, 1]
    assert bal.elements["estimate"].tolist() == pytest.approx([1.5, 3.5])
    assert bal.spec["balance_e"] == 1 and bal.spec["kind"] == "dynamic"


def test_uneven_periods_use_period_positions() -> None:
    even = callaway_santanna(toy_panel())
    df = toy_frame(times=(2001, 2004, 2010))
    uneven = callaway_santanna(Panel.from_frame(df, unit="id", time="t", outcome="y", cohort="g"))
    assert uneven.att_gt["cohort"].tolist() == [2004, 2004, 2010, 2010]
    assert uneven.att_gt["event_time"].tolist() == even.att_gt["event_time"].tolist()
    np.testing.assert_allclose(uneven.att_gt["estimate"], even.att_gt["estimate"])
    assert uneven.aggregate("dynamic").estimate == pytest.approx(even.aggregate("dynamic").estimate)


# ------------------------------------------------------------------------------------------- invariances
@pytest.fixture
def staggered_panel(staggered_frame: pd.DataFrame) -> Panel:
    return Panel.from_frame(staggered_frame, unit="id", time="year", outcome="y", cohort="first_treated",
                            covariates=["x1"])


def test_methods_coincide_without_covariates(staggered_panel: Panel) -> None:
    fits = [callaway_santanna(staggered_panel, method=m).att_gt for m in ("dr", "ipw", "reg")]
    for f in fits[1:]:
        np.testing.assert_allclose(f["estimate"], fits[0]["estimate"], rtol=1e-10, atol=1e-12)
        np.testing.assert_allclose(f["std_error"], fits[0]["std_error"], rtol=1e-10)


def _dgp(n: int, seed: int, noise: float) -> pd.DataFrame:
    """Cohorts 3, 5 and never over 6 periods; effect 1 + e at event time e >= 0, plus 0.5 for cohort 5."""
    rng = np.random.default_rng(seed)
    g = rng.choice([3, 5, 0], n)
    unit = np.repeat(np.arange(n), 6)
    t = np.tile(np.arange(1, 7), n)
    gg = np.repeat(g, 6)
    e = t - gg
    effect = np.where((gg > 0) & (e >= 0), 1.0 + e + 0.5 * (gg == 5), 0.0)
    alpha = np.repeat(rng.normal(size=n) + 0.3 * (g == 3), 6)  # selection on levels only
    y = alpha + 0.4 * t + effect + noise * rng.normal(size=n * 6)
    return pd.DataFrame({"id": unit, "t": t, "g": gg, "y": y})


def test_recovers_heterogeneous_dynamic_effects_exactly_without_noise() -> None:
    df = _dgp(90, seed=1, noise=0.0)
    res = callaway_santanna(Panel.from_frame(df, unit="id", time="t", outcome="y", cohort="g"))
    at = res.att_gt
    truth = np.where(at["post"], 1.0 + at["event_time"] + 0.5 * (at["cohort"] == 5), 0.0)
    np.testing.assert_allclose(at["estimate"], truth, atol=1e-12)
    sizes = df.drop_duplicates("id")["g"].value_counts()
    dyn = res.aggregate("dynamic").elements.set_index("event_time")["estimate"]
    w5 = sizes[5] / (sizes[3] + sizes[5])
    assert dyn[0] == pytest.approx(1.0 + 0.5 * w5)
    assert dyn[3] == pytest.approx(4.0)  # only cohort 3 is observed 3 periods after treatment


@pytest.mark.parametrize("reps", [pytest.param(30, id="quick"),
                                  pytest.param(400, id="full", marks=pytest.mark.slow)])
def test_confidence_interval_coverage(reps: int) -> None:
    hits = 0
    for seed in range(reps):
        df = _dgp(150, seed=seed, noise=1.0)
        res = callaway_santanna(Panel.from_frame(df, unit="id", time="t", outcome="y", cohort="g"))
        sizes = df.drop_duplicates("id")["g"].value_counts()
        # true simple ATT: cohort-size weighted mean over post cells (cohort 3: e=0..3, cohort 5: e=0..1)
        true3, true5 = np.mean([1, 2, 3, 4]), np.mean([1.5, 2.5])
        truth = (4 * sizes[3] * true3 + 2 * sizes[5] * true5) / (4 * sizes[3] + 2 * sizes[5])
        lo, hi = res.conf_int()
        hits += lo < truth < hi
    # 95% nominal; binomial sd is 4% at 30 reps, 1.1% at 400
    assert hits / reps >= (0.83 if reps < 100 else 0.92)
    assert hits / reps <= 0.99 or reps < 100


@pytest.mark.parametrize("method", ["dr", "ipw", "reg"])
def test_shift_scale_and_shuffle_invariance(staggered_frame: pd.DataFrame, method: str) -> None:
    def fit(df: pd.DataFrame) -> CallawaySantAnnaResult:
        p = Panel.from_frame(df, unit="id", time="year", outcome="y", cohort="first_treated",
                             covariates=["x1"])
        return callaway_santanna(p, method=method, covariates=["x1"])

    base = fit(staggered_frame)
    shifted = fit(staggered_frame.assign(y=staggered_frame["y"] + 100.0))
    np.testing.assert_allclose(shifted.att_gt["estimate"], base.att_gt["estimate"], atol=1e-9)
    np.testing.assert_allclose(shifted.att_gt["std_error"], base.att_gt["std_error"], rtol=1e-8)
    scaled = fit(staggered_frame.assign(y=staggered_frame["y"] * -3.0))
    np.testing.assert_allclose(scaled.att_gt["estimate"], -3.0 * base.att_gt["estimate"], rtol=1e-9,
                               atol=1e-12)
    np.testing.assert_allclose(scaled.att_gt["std_error"], 3.0 * base.att_gt["std_error"], rtol=1e-9)
    shuffled = fit(staggered_frame.sample(frac=1.0, random_state=3))
    pd.testing.assert_frame_equal(shuffled.att_gt, base.att_gt)
    assert shuffled.aggregate("group").std_error == base.aggregate("group").std_error


def test_aggregate_influence_gives_its_standard_error(staggered_panel: Panel) -> None:
    res = callaway_santanna(staggered_panel)
    for kind in ("simple", "group", "dynamic", "calendar"):
        agg = res.aggregate(kind)
        assert isinstance(agg, EffectResult) and agg.method == "callaway_santanna" and agg.term == "ATT"
        assert agg.influence.shape == (res.n_units,)
        assert agg.std_error == pytest.approx(np.sqrt(np.sum(agg.influence**2)) / res.n_units, rel=1e-12)
    assert res.influence.shape == (res.n_units, len(res.att_gt))
    np.testing.assert_allclose(np.sqrt((res.influence**2).sum(axis=0)) / res.n_units, res.att_gt["std_error"])


# ------------------------------------------------------------------------------------------- ledger, errors
def test_unbalanced_units_are_dropped_and_listed(staggered_frame: pd.DataFrame) -> None:
    gone = (staggered_frame["id"] == 7) & (staggered_frame["year"] == 4)
    df = staggered_frame.loc[~gone]
    p = Panel.from_frame(df, unit="id", time="year", outcome="y", cohort="first_treated")
    with pytest.warns(StatisticalWarning, match="1 of 60 units"):
        res = callaway_santanna(p)
    assert res.n_units == 59
    ex = res.excluded
    assert list(ex.columns) == ["what", "id", "reason"]
    assert ex.iloc[0]["id"] == 7 and "5 of 6 periods" in ex.iloc[0]["reason"]
    assert 7 not in set(res.unit_ids)


def test_always_treated_units_excluded() -> None:
    df = toy_frame()
    df.loc[df["id"] == 6, "g"] = 1
    p = Panel.from_frame(df, unit="id", time="t", outcome="y", cohort="g")
    with pytest.warns(StatisticalWarning, match="no pre-treatment period"):
        res = callaway_santanna(p)
    assert res.excluded["id"].tolist() == [6]
    assert "first observed period" in res.excluded["reason"].iloc[0]
    assert cell(res, 2, 2)["estimate"] == pytest.approx(2.0 - 1.0)  # only unit 5 left as control


def test_no_never_treated_errors_or_uses_not_yet_treated() -> None:
    df = toy_frame()
    df = df[df["g"] > 0]
    p = Panel.from_frame(df, unit="id", time="t", outcome="y", cohort="g")
    with pytest.raises(EstimationError, match="not_yet_treated"):
        callaway_santanna(p)
    res = callaway_santanna(p, control="not_yet_treated")
    # the last cohort (3) only serves as comparison; period 3 is dropped
    assert res.att_gt[["cohort", "time"]].values.tolist() == [[2, 2]]
    assert cell(res, 2, 2)["estimate"] == pytest.approx(2.0 - 1.5)
    assert res.excluded.loc[res.excluded["what"] == "period", "id"].tolist() == [3]


def test_cells_failing_overlap_are_left_out_and_listed(staggered_frame: pd.DataFrame) -> None:
    # a covariate that separates cohort 3 from the never treated: no overlap, its cells cannot be estimated
    xs = np.where(staggered_frame["first_treated"] == 3, 10.0, staggered_frame["x1"])
    p = Panel.from_frame(staggered_frame.assign(xs=xs), unit="id", time="year", outcome="y",
                         cohort="first_treated", covariates=["xs"])
    with pytest.warns(StatisticalWarning, match="5 ATT\\(g,t\\) could not be estimated"):
        res = callaway_santanna(p, covariates=["xs"])
    assert set(res.att_gt["cohort"]) == {5}
    cells = res.excluded[res.excluded["what"] == "cell"]
    assert cells["id"].tolist() == [(3, t) for t in range(2, 7)]
    assert cells["reason"].str.contains("overlap").all()
    assert res.aggregate("group").elements["cohort"].tolist() == [5]


def test_option_and_covariate_errors(staggered_panel: Panel) -> None:
    with pytest.raises(ValueError, match="'control' parameter must be one of"):
        callaway_santanna(staggered_panel, control="never")
    with pytest.raises(ValueError, match="'method' parameter"):
        callaway_santanna(staggered_panel, method="ols")
    with pytest.raises(ValueError, match="anticipation"):
        callaway_santanna(staggered_panel, anticipation=-1)
    with pytest.raises(ValueError, match="n_draws"):
        callaway_santanna(staggered_panel, n_draws=0)
    with pytest.raises(PanelError, match=r"\['age'\] are not covariates of the panel.*\['x1'\]"):
        callaway_santanna(staggered_panel, covariates=["age"])
    with pytest.raises(PanelError, match="expects an impactlab Panel"):
        callaway_santanna(staggered_panel.data)
    with pytest.raises(ValueError, match="'kind' parameter"):
        callaway_santanna(staggered_panel).aggregate("event")


def test_singular_covariates_name_the_columns(staggered_frame: pd.DataFrame) -> None:
    df = staggered_frame.assign(const=1.0, x2=2 * staggered_frame["x1"])
    p = Panel.from_frame(df, unit="id", time="year", outcome="y", cohort="first_treated",
                         covariates=["x1", "const", "x2"])
    with pytest.raises(EstimationError, match=r"\['const', 'x2'\] are constant or collinear"):
        callaway_santanna(p, covariates=["x1", "const", "x2"])


# ------------------------------------------------------------------------------------------- inference
def test_bootstrap_is_seeded_and_close_to_analytic(staggered_panel: Panel) -> None:
    a = callaway_santanna(staggered_panel)
    b1 = callaway_santanna(staggered_panel, n_draws=499, seed=5)
    b2 = callaway_santanna(staggered_panel, n_draws=499, seed=5)
    b3 = callaway_santanna(staggered_panel, n_draws=499, seed=6)
    pd.testing.assert_frame_equal(b1.att_gt, b2.att_gt)
    assert not np.allclose(b1.att_gt["std_error"], b3.att_gt["std_error"])
    np.testing.assert_allclose(b1.att_gt["std_error"], a.att_gt["std_error"], rtol=0.25)
    assert b1.crit is not None and 1.96 < b1.crit < 5
    lo = b1.att_gt["estimate"] - b1.crit * b1.att_gt["std_error"]
    np.testing.assert_allclose(b1.att_gt["conf_low"], lo)
    dyn = b1.aggregate("dynamic")
    assert "crit" in dyn.elements and (dyn.elements["crit"] > 1.96).all()
    assert dyn.std_error == pytest.approx(a.aggregate("dynamic").std_error, rel=0.25)
    assert b1.spec["seed_used"] == 5
    assert callaway_santanna(staggered_panel, n_draws=99).spec["seed_used"] is not None


def test_clustered_standard_errors(staggered_frame: pd.DataFrame) -> None:
    by_unit = Panel.from_frame(staggered_frame.assign(cl=staggered_frame["id"]), unit="id", time="year",
                               outcome="y", cohort="first_treated", cluster="cl")
    plain = Panel.from_frame(staggered_frame, unit="id", time="year", outcome="y", cohort="first_treated")
    np.testing.assert_allclose(callaway_santanna(by_unit).att_gt["std_error"],
                               callaway_santanna(plain).att_gt["std_error"], rtol=1e-12)
    teams = Panel.from_frame(staggered_frame, unit="id", time="year", outcome="y", cohort="first_treated",
                             cluster="team")
    with pytest.warns(StatisticalWarning, match="only 12 clusters"):
        res = callaway_santanna(teams)
    infl = res.aggregate("simple").influence
    team = staggered_frame.drop_duplicates("id").set_index("id").loc[res.unit_ids, "team"].to_numpy()
    sums = np.bincount(team, weights=infl)
    assert res.std_error == pytest.approx(np.sqrt(np.sum(sums**2)) / res.n_units, rel=1e-12)


# ------------------------------------------------------------------------------------------- result surface
def test_result_is_frozen_and_panel_unchanged(staggered_panel: Panel) -> None:
    before = staggered_panel.long()
    res = callaway_santanna(staggered_panel)
    pd.testing.assert_frame_equal(staggered_panel.long(), before)
    with pytest.raises(dataclasses.FrozenInstanceError):
        res.n_units = 3  # type: ignore[misc]
    with pytest.raises(ValueError):
        res.influence[0, 0] = 1.0
    at = res.att_gt
    at.loc[0, "estimate"] = 99.0
    assert res.att_gt.loc[0, "estimate"] != 99.0


def test_tidy_summary_and_html(staggered_panel: Panel) -> None:
    res = callaway_santanna(staggered_panel)
    td = res.tidy()
    assert list(td.columns) == [*TIDY_COLUMNS, "cohort", "time", "event_time", "method"]
    assert td["term"].tolist()[:2] == ["ATT", "ATT(3, 2)"] and (td["method"] == "callaway_santanna").all()
    assert td["estimate"].iloc[0] == res.estimate and td["std_error"].iloc[0] == res.std_error  # headline
    np.testing.assert_allclose(td["estimate"].iloc[1:], res.att_gt["estimate"])
    assert "ATT" in str(res.explain())
    assert "overall ATT" in res.summary() and "never_treated" in res.summary()
    assert "<table" in res._repr_html_()
    lo, hi = res.conf_int(0.9)
    assert lo < res.estimate < hi
    grp = res.aggregate("group").tidy()
    assert grp["cohort"].tolist()[1:] == [3, 5]
    assert res.spec["control"] == "never_treated" and res.spec["covariates"] == ()
    assert "CallawaySantAnnaResult" in repr(res)


def test_no_warnings_on_clean_panel(staggered_panel: Panel) -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        res = callaway_santanna(staggered_panel, covariates=["x1"], control="not_yet_treated")
    assert res.excluded.empty and res.notes == ()


# ---------------------------------------------------------------------------------- 2x2 building blocks
def test_two_by_two_estimators_without_covariates_are_difference_of_mean_changes() -> None:
    from impactlab.estimators.drdid import dr_did_panel, ipw_did_panel, reg_did_panel

    y0 = np.array([1.0, 2.0, 0.0, 2.0, 1.0])
    y1 = np.array([4.0, 3.0, 1.0, 2.0, 3.0])
    d = np.array([1, 1, 0, 0, 0])
    for est in (reg_did_panel, ipw_did_panel, dr_did_panel):
        fit = est(y1, y0, d)
        assert fit.att == pytest.approx(2.0 - 1.0)
        # se^2 = sum_T dev^2 / n_T^2 + sum_C dev^2 / n_C^2 = 2/4 + 2/9
        assert fit.std_error == pytest.approx(np.sqrt(2 / 4 + 2 / 9))
    with pytest.raises(EstimationError, match="treated and comparison units"):
        reg_did_panel(y1, y0, np.zeros(5))


def test_logit_matches_statsmodels() -> None:
    import statsmodels.api as sm

    from impactlab.estimators.drdid import logit_fit

    rng = np.random.default_rng(4)
    x = np.column_stack([np.ones(400), rng.normal(size=(400, 2))])
    d = (rng.random(400) < 1 / (1 + np.exp(-(0.3 + x[:, 1] - 0.5 * x[:, 2])))).astype(float)
    coef, fitted, ok = logit_fit(x, d)
    ref = sm.Logit(d, x).fit(disp=0, tol=1e-12)
    assert ok
    np.testing.assert_allclose(coef, ref.params, rtol=1e-8)
    np.testing.assert_allclose(fitted, ref.predict(x), rtol=1e-8)


def test_doubly_robust_is_consistent_when_outcome_model_is_right() -> None:
    from impactlab.estimators.drdid import dr_did_panel, ipw_did_panel, reg_did_panel

    rng = np.random.default_rng(8)
    n = 20_000
    x = rng.normal(size=n)
    d = (rng.random(n) < 1 / (1 + np.exp(-x))).astype(float)  # selection on x
    y0 = x + rng.normal(size=n)
    y1 = y0 + 0.5 + 0.8 * x + 1.5 * d + rng.normal(size=n)  # x-dependent trend, ATT = 1.5
    design = np.column_stack([np.ones(n), x])
    for est in (dr_did_panel, reg_did_panel, ipw_did_panel):
        fit = est(y1, y0, d, design)
        assert abs(fit.att - 1.5) < 4 * fit.std_error
    naive = dr_did_panel(y1, y0, d)  # ignoring x is biased by 0.8 * (E[x|D=1] - E[x|D=0])
    assert abs(naive.att - 1.5) > 10 * naive.std_error
