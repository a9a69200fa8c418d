"""event_study: window semantics, binned end points, pre-trend test, methods, refused designs."""

from __future__ import annotations

import dataclasses
import warnings

import numpy as np
import pandas as pd
import pytest
import statsmodels.api as sm
from scipy import stats
from tests.estimators.eventdata import frame, panel

import impactlab as il
from impactlab.errors import EstimationError, StatisticalWarning

# Exact-arithmetic designs: least squares reproduces noiseless effects to rounding error.
EXACT = 1e-9


def test_common_dynamic_effect_recovered_exactly_by_every_method():
    p = panel(frame())  # effects 1 + e, same in both waves
    for method in ("twfe", "sun_abraham", "callaway_santanna"):
        # regression methods: every event time of the data (-5..5) in the window, so none falls into the
        # baseline; Callaway–Sant'Anna estimates each event time on its own
        window = (-2, 2) if method == "callaway_santanna" else (-5, 5)
        res = il.event_study(p, window=window, method=method)
        el = res.elements.set_index("event_time")["estimate"]
        for e, v in el.items():
            assert v == pytest.approx(1.0 + e if e >= 0 else 0.0, abs=EXACT), (method, e)
        assert -1 not in el.index  # the reference is not a row


def test_twfe_matches_dummy_regression_with_window_semantics():
    df = frame(noise=1.0, seed=3)
    res = il.event_study(panel(df), window=(-2, 1), ref=-1, vcov="iid")
    # the same regression with explicit unit and period dummies (statsmodels), event times outside the
    # window left out of the design (they fall into the baseline)
    e = np.where(df["g"] > 0, df["t"] - df["g"], -999)
    X = pd.DataFrame({f"e{k}": ((e == k) & (df["g"] > 0)).astype(float) for k in (-2, 0, 1)})
    X = pd.concat([X, pd.get_dummies(df["id"], prefix="u", drop_first=True, dtype=float),
                   pd.get_dummies(df["t"], prefix="t", drop_first=True, dtype=float)], axis=1)
    ref = sm.OLS(df["y"], sm.add_constant(X)).fit()
    got = res.elements.set_index("event_time")
    for k in (-2, 0, 1):
        assert got.loc[k, "estimate"] == pytest.approx(ref.params[f"e{k}"], abs=1e-9)
        assert got.loc[k, "std_error"] == pytest.approx(ref.bse[f"e{k}"], rel=1e-8)
    assert "count as baseline" in " ".join(res.notes)


def test_binned_end_points_cover_everything_beyond():
    df = frame(noise=1.0, seed=4)
    res = il.event_study(panel(df), window=(-2, 1), bin_endpoints=True, vcov="iid")
    e = np.where(df["g"] > 0, df["t"] - df["g"], -999)
    tr = df["g"] > 0
    X = pd.DataFrame({"lo": (tr & (e <= -2)), "e0": tr & (e == 0), "hi": tr & (e >= 1)}).astype(float)
    X = pd.concat([X, pd.get_dummies(df["id"], drop_first=True, dtype=float).add_prefix("u"),
                   pd.get_dummies(df["t"], drop_first=True, dtype=float).add_prefix("t")], axis=1)
    ref = sm.OLS(df["y"], sm.add_constant(X)).fit()
    est = res.elements["estimate"].to_numpy()
    np.testing.assert_allclose(est, ref.params[["lo", "e0", "hi"]].to_numpy(), atol=1e-9)
    assert res.elements["term"].tolist() == ["event_time<=-2", "event_time=0", "event_time>=1"]
    assert not any("count as baseline" in n for n in res.notes)


def test_pretrend_wald_is_the_quadratic_form_and_rejects_a_violation():
    df = frame(noise=0.5, seed=5, effect=lambda g, e: 2.0)
    res = il.event_study(panel(df), window=(-4, 2), bin_endpoints=True)
    el = res.elements
    pre = (el["event_time"] < 0).to_numpy()
    b = el["estimate"].to_numpy()[pre]
    V = res.element_vcov[np.ix_(pre, pre)]
    w = b @ np.linalg.solve(V, b)
    assert res.pretrend.df == 3 and res.pretrend.distribution == "F" and res.pretrend.df_denom == 59
    assert res.pretrend.statistic == pytest.approx(w / 3, rel=1e-10)
    assert res.pretrend.p_value == pytest.approx(stats.f.sf(w / 3, 3, 59), rel=1e-10)
    assert res.pretrend.terms == (-4, -3, -2)
    assert "pre-trend test: F(3, 59)" in res.summary()
    # an anticipation dip of 2 units two periods before training is caught
    df2 = df.copy()
    df2.loc[(df2["g"] > 0) & (df2["t"] - df2["g"] == -2), "y"] -= 2.0
    assert il.event_study(panel(df2), window=(-4, 2), bin_endpoints=True).pretrend.p_value < 1e-6
    assert res.pretrend.p_value > 0.01


def test_headline_is_mean_of_post_coefficients_with_its_se():
    res = il.event_study(panel(frame(noise=1.0, seed=6)), window=(-3, 3))
    el = res.elements
    post = (el["event_time"] >= 0).to_numpy()
    r = post / post.sum()
    assert res.estimate == pytest.approx(float(r @ el["estimate"]), rel=1e-12)
    assert res.std_error == pytest.approx(float(np.sqrt(r @ res.element_vcov @ r)), rel=1e-12)
    assert res.term == "ATT(0..3)"


def test_callaway_santanna_method_is_the_universal_dynamic_aggregation():
    p = panel(frame(noise=1.0, seed=7))
    res = il.event_study(p, window=(-3, 2), method="callaway_santanna")
    dyn = il.callaway_santanna(p, base_period="universal").aggregate("dynamic", min_e=-3, max_e=2)
    want = dyn.elements[dyn.elements["event_time"] != -1].reset_index(drop=True)
    np.testing.assert_allclose(res.elements["estimate"], want["estimate"], rtol=1e-12)
    np.testing.assert_allclose(res.elements["std_error"], want["std_error"], rtol=1e-12)
    assert res.estimate == pytest.approx(dyn.estimate, rel=1e-12)
    assert res.pretrend.distribution == "chi2" and res.pretrend.df == 2
    with pytest.raises(ValueError, match="ref=-1"):
        il.event_study(p, window=(-3, 2), ref=-2, method="callaway_santanna")
    with pytest.raises(ValueError, match="bin_endpoints"):
        il.event_study(p, window=(-3, 2), method="callaway_santanna", bin_endpoints=True)
    with pytest.raises(ValueError, match="vcov='cluster'"):
        il.event_study(p, window=(-3, 2), method="callaway_santanna", vcov="robust")


def test_result_is_frozen_and_panel_untouched():
    p = panel(frame(noise=1.0, seed=8))
    before = p.long()
    res = il.event_study(p)
    pd.testing.assert_frame_equal(p.long(), before)
    with pytest.raises(dataclasses.FrozenInstanceError):
        res.pretrend = None  # type: ignore[misc]
    assert list(res.tidy().columns[:7]) == list(il.EffectResult(0.0, 1.0).tidy().columns[:7])
    assert "excluded: none" in res.summary()
    assert "Pre-trend test" in res._repr_html_()


# ------------------------------------------------------------------------------------- refused designs
def test_window_wider_than_the_data_is_refused_with_the_usable_window():
    p = panel(frame())  # event times -5..5
    with pytest.raises(EstimationError, match=r"wider than the data.*-5 to 5.*window=\(-5, 4\)"):
        il.event_study(p, window=(-8, 4))
    with pytest.raises(EstimationError, match="wider than the data"):
        il.event_study(p, window=(-2, 9), method="sun_abraham")


def test_one_cluster_is_refused():
    df = frame(noise=1.0)
    df["one"] = 1
    p = panel(df, cluster="one")
    for method in ("twfe", "sun_abraham", "callaway_santanna"):
        with pytest.raises(EstimationError, match="at least 2 clusters.*vcov='robust'"):
            il.event_study(p, window=(-2, 2), method=method)


def test_cohort_treated_in_first_period_is_left_out_and_warned():
    df = frame(noise=1.0, seed=9)
    first = df["id"].isin([0, 3])
    df.loc[first, "g"] = 1
    with pytest.warns(StatisticalWarning, match="treated from the first observed period"):
        res = il.event_study(panel(df), window=(-2, 2))
    assert sorted(res.excluded["id"]) == [0, 3]
    assert res.n_units == 58
    assert "excluded: 2" in res.summary()
    kept = il.event_study(panel(df[~first]), window=(-2, 2))
    np.testing.assert_allclose(res.elements["estimate"], kept.elements["estimate"], rtol=1e-10)


def test_no_untreated_comparison_is_warned_or_refused():
    p = panel(frame(noise=1.0, never=False))
    with pytest.warns(StatisticalWarning, match="no never-treated units.*control='last_treated'"):
        il.event_study(p, window=(-2, 1))
    with pytest.raises(EstimationError, match="no never-treated units.*control='last_treated'"):
        il.event_study(p, window=(-2, 1), method="sun_abraham")
    with pytest.raises(EstimationError):
        il.event_study(p, window=(-2, 1), method="callaway_santanna")


@pytest.mark.parametrize(("kw", "match"), [
    ({"window": (2, -2)}, "lo < hi"),
    ({"window": (-2.0, 2)}, "pair of integers"),
    ({"window": (-3, 2), "ref": 4}, "must lie in window"),
    ({"window": (-3, 2), "ref": -3, "bin_endpoints": True}, "end point"),
    ({"method": "ols"}, "'method' parameter must be one of"),
    ({"vcov": "hc3"}, "'vcov' parameter must be one of"),
    ({"control": "never_treated"}, "control= applies"),
])
def test_bad_options(kw, match):
    with pytest.raises(ValueError, match=match):
        il.event_study(panel(frame()), **kw)


def test_covariates_enter_the_regression():
    df = frame(noise=1.0, seed=10)
    df["y"] = df["y"] + 3.0 * df["x"]
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        res = il.event_study(panel(df, covariates=["x"]), window=(-2, 2), covariates=["x"])
    base = il.event_study(panel(frame(noise=1.0, seed=10)), window=(-2, 2))
    # the covariate is independent noise: adjusting for it brings the estimates back near the clean ones
    assert np.abs(res.elements["estimate"] - base.elements["estimate"]).max() < 0.25
    assert res.spec["covariates"] == ["x"]
