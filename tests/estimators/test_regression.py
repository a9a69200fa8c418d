"""TWFE and covariate regression against statsmodels fits with explicit dummies."""

from __future__ import annotations

import dataclasses

import numpy as np
import pandas as pd
import pytest
import statsmodels.formula.api as smf

from impactlab.errors import EstimationError
from impactlab.estimators.inference import demean
from impactlab.estimators.regression import regression, twfe
from impactlab.panel import Panel

# Same formulas, different linear algebra: agreement to rounding.
TOL = 1e-8


def _panel(df: pd.DataFrame, **kw) -> Panel:
    return Panel.from_frame(df, unit="id", time="year", outcome="y", cohort="first_treated", **kw)


def _dummies_fit(df: pd.DataFrame, formula: str, groups: str):
    d = df.assign(D=((df.first_treated > 0) & (df.year >= df.first_treated)).astype(float))
    return d, smf.ols(formula, d).fit(cov_type="cluster", cov_kwds={"groups": d[groups]})


def test_twfe_matches_dummy_regression_with_nested_cluster_correction(staggered_frame):
    df = staggered_frame
    res = twfe(_panel(df))
    d, m = _dummies_fit(df, "y ~ D + C(id) + C(year)", "id")
    assert res.estimate == pytest.approx(m.params["D"], rel=TOL)
    # statsmodels counts the 59 unit dummies in K; unit effects nested in unit clusters count as one, the
    # absorbed constant (fixest's fixef.K="nested", reghdfe): K = treatment + constant + 5 period effects.
    n, k_sm, k_ours = len(d), len(m.params), 1 + 1 + 5
    expected_se = m.bse["D"] * np.sqrt((n - k_sm) / (n - k_ours))
    assert res.std_error == pytest.approx(expected_se, rel=1e-7)
    assert res.df == 59


def test_twfe_iid_and_robust_match_statsmodels(staggered_frame):
    df = staggered_frame
    d = df.assign(D=((df.first_treated > 0) & (df.year >= df.first_treated)).astype(float))
    m_iid = smf.ols("y ~ D + x1:year + C(id) + C(year)", d).fit()
    m_hc1 = smf.ols("y ~ D + C(id) + C(year)", d).fit(cov_type="HC1")
    panel = _panel(d.assign(xt=d.x1 * d.year), covariates=["xt"])
    r_iid = twfe(panel, ["xt"], vcov="iid")
    assert r_iid.estimate == pytest.approx(m_iid.params["D"], rel=TOL)
    assert r_iid.std_error == pytest.approx(m_iid.bse["D"], rel=1e-7)
    r_hc1 = twfe(_panel(df), vcov="robust")
    assert r_hc1.std_error == pytest.approx(m_hc1.bse["D"], rel=1e-7)


def test_twfe_unbalanced_panel_converges_to_dummy_solution(staggered_frame):
    df = staggered_frame.drop(index=[3, 17, 40, 41, 200]).reset_index(drop=True)
    res = twfe(_panel(df), vcov="iid")
    d = df.assign(D=((df.first_treated > 0) & (df.year >= df.first_treated)).astype(float))
    m = smf.ols("y ~ D + C(id) + C(year)", d).fit()
    assert res.estimate == pytest.approx(m.params["D"], rel=1e-7)
    assert res.std_error == pytest.approx(m.bse["D"], rel=1e-6)


def test_regression_with_period_effects_matches_statsmodels(staggered_frame):
    df = staggered_frame
    res = regression(_panel(df, covariates=["x1"], cluster="team"), ["x1"])
    _d, m = _dummies_fit(df, "y ~ D + x1 + C(year)", "team")
    assert res.estimate == pytest.approx(m.params["D"], rel=TOL)
    assert res.std_error == pytest.approx(m.bse["D"], rel=1e-7)
    assert res.df == 11  # 12 teams


def test_time_invariant_covariate_in_twfe_is_named_in_the_error(staggered_frame):
    with pytest.raises(EstimationError, match=r"\['x1'\]"):
        twfe(_panel(staggered_frame, covariates=["x1"]), ["x1"])


def test_collinear_covariates_are_named(staggered_frame):
    df = staggered_frame.assign(x2=lambda d: 2 * d.x1)
    with pytest.raises(EstimationError, match="collinear"):
        regression(_panel(df, covariates=["x1", "x2"]), ["x1", "x2"])


def test_results_are_frozen_and_panel_untouched(staggered_frame):
    panel = _panel(staggered_frame)
    before = panel.long()
    res = twfe(panel)
    with pytest.raises(dataclasses.FrozenInstanceError):
        res.estimate = 0.0  # type: ignore[misc]
    pd.testing.assert_frame_equal(panel.long(), before)


def test_demean_two_way_balanced_is_exact():
    rng = np.random.default_rng(0)
    u, t = np.repeat(np.arange(5), 4), np.tile(np.arange(4), 5)
    v = rng.normal(size=20)
    out = demean(v, [u, t])[:, 0]
    m = v.reshape(5, 4)
    expected = (m - m.mean(1, keepdims=True) - m.mean(0, keepdims=True) + m.mean()).ravel()
    np.testing.assert_allclose(out, expected, atol=1e-12)
