"""HC variants against statsmodels, and the design warnings helper."""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
import pytest
import statsmodels.formula.api as smf

from impactlab.errors import EstimationError, StatisticalWarning
from impactlab.estimators.inference import design_warnings
from impactlab.estimators.regression import regression, twfe
from impactlab.panel import Panel

# Same formulas, different linear algebra (statsmodels builds the dummies): agreement to rounding.
TOL = 1e-7


def _panel(df: pd.DataFrame, **kw) -> Panel:
    return Panel.from_frame(df, unit="id", time="year", outcome="y", cohort="first_treated", **kw)


def _with_d(df: pd.DataFrame) -> pd.DataFrame:
    return df.assign(D=((df.first_treated > 0) & (df.year >= df.first_treated)).astype(float))


@pytest.mark.parametrize("kind", ["hc0", "hc1", "hc2", "hc3"])
def test_twfe_hc_variants_match_dummy_regression(staggered_frame, kind):
    # statsmodels' leverage includes the unit and year dummies; ours adds the closed-form two-way leverage.
    d = _with_d(staggered_frame)
    m = smf.ols("y ~ D + C(id) + C(year)", d).fit(cov_type=kind.upper())
    res = twfe(_panel(staggered_frame), vcov=kind)
    assert res.estimate == pytest.approx(m.params["D"], rel=1e-8)
    assert res.std_error == pytest.approx(m.bse["D"], rel=TOL)


@pytest.mark.parametrize("kind", ["hc0", "hc2", "hc3"])
def test_regression_hc_variants_match_statsmodels(staggered_frame, kind):
    d = _with_d(staggered_frame)
    m = smf.ols("y ~ D + x1 + C(year)", d).fit(cov_type=kind.upper())
    res = regression(_panel(staggered_frame, covariates=["x1"]), ["x1"], vcov=kind)
    assert res.std_error == pytest.approx(m.bse["D"], rel=TOL)
    m2 = smf.ols("y ~ D + x1", d).fit(cov_type=kind.upper())
    res2 = regression(_panel(staggered_frame, covariates=["x1"]), ["x1"], vcov=kind, time_effects=False)
    assert res2.std_error == pytest.approx(m2.bse["D"], rel=TOL)


def test_hc3_exceeds_hc2_exceeds_hc0(staggered_frame):
    p = _panel(staggered_frame)
    se = {k: twfe(p, vcov=k).std_error for k in ("hc0", "hc2", "hc3")}
    assert se["hc0"] < se["hc2"] < se["hc3"]


def test_twfe_hc3_refuses_unbalanced_panel(staggered_frame):
    p = _panel(staggered_frame.drop(index=[3, 17]).reset_index(drop=True))
    with pytest.raises(EstimationError, match="balanced panel"):
        twfe(p, vcov="hc3")


def test_few_clusters_warn_and_suggest_the_wild_bootstrap(staggered_frame):
    with pytest.warns(StatisticalWarning, match=r"only 12 clusters.*vcov='wild'"):
        twfe(_panel(staggered_frame, cluster="team"))
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        twfe(_panel(staggered_frame))  # 60 unit clusters: no warning


def test_design_warnings_small_cohort_and_no_never_treated(staggered_frame):
    df = staggered_frame.copy()
    df.loc[df.id < 3, "first_treated"] = 2          # a cohort of 3 units
    df.loc[df.first_treated == 0, "first_treated"] = 5  # nobody is never treated
    long = _panel(df).long()
    with pytest.warns(StatisticalWarning) as rec:
        msgs = design_warnings(long, "demo", clustered=True, never_treated=True)
    text = " | ".join(str(w.message) for w in rec)
    assert len(msgs) == 2 and len(rec) == 2  # 60 unit clusters: no cluster warning
    assert "cohort(s) 2 (3 units)" in text
    assert "control='not_yet_treated'" in text
    assert "clusters" not in text


def test_design_warnings_points_at_the_caller(staggered_frame):
    long = _panel(staggered_frame, cluster="team").long()
    with pytest.warns(StatisticalWarning) as rec:
        design_warnings(long, "demo", cohorts=False, stacklevel=2)
    assert rec[0].filename == __file__


def test_unknown_vcov_lists_the_choices(staggered_frame):
    with pytest.raises(ValueError, match="'hc3'.*Got 'hc4'"):
        twfe(_panel(staggered_frame), vcov="hc4")
    np.testing.assert_equal(twfe(_panel(staggered_frame), vcov="robust").std_error,
                            twfe(_panel(staggered_frame), vcov="hc1").std_error)
