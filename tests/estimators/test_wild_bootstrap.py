"""Wild cluster bootstrap: agrees with the analytic fit, exact under enumeration, inverts to its interval."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

import impactlab as il
from impactlab.errors import EstimationError
from impactlab.estimators.regression import regression, twfe
from impactlab.estimators.wild_bootstrap import WildBootstrapResult, draw_multipliers, wild_bootstrap
from impactlab.panel import Panel
from impactlab.results.base import TIDY_COLUMNS


def _frame(seed: int = 0, n_teams: int = 8, effect: float = 0.3) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    n, t = 64, 6
    unit = np.repeat(np.arange(n), t)
    time = np.tile(np.arange(1, t + 1), n)
    team = unit % n_teams
    cohort = np.repeat(np.select([np.arange(n) < 20, np.arange(n) < 40], [3, 5], 0), t)
    treated = (cohort > 0) & (time >= cohort)
    shock = rng.normal(0, 0.5, (n_teams, t))[team, time - 1]  # team-period shocks: clustered errors
    y = 0.3 * unit / n + 0.2 * time + effect * treated + shock + rng.normal(0, 0.5, n * t)
    return pd.DataFrame({"id": unit, "year": time, "y": y, "first_treated": cohort, "team": team,
                         "x1": rng.normal(size=n * t)})


def _panel(df, **kw):
    return Panel.from_frame(df, unit="id", time="year", outcome="y", cohort="first_treated", cluster="team",
                            **kw)


@pytest.mark.filterwarnings("ignore::impactlab.errors.StatisticalWarning")
@pytest.mark.parametrize("est", ["twfe", "regression"])
def test_estimate_and_se_equal_the_analytic_cr1_fit(est):
    p = _panel(_frame(), covariates=["x1"])
    res = wild_bootstrap(p, est, ["x1"], multiplier="rademacher", seed=1)
    ref = (twfe if est == "twfe" else regression)(p, ["x1"])
    assert res.estimate == pytest.approx(ref.estimate, rel=1e-10)
    assert res.std_error == pytest.approx(ref.std_error, rel=1e-10)
    assert res.n_clusters == 8 and res.enumerated and res.n_draws == 256


def test_enumeration_is_exact_and_p_values_are_multiples_of_2_to_the_minus_g():
    p = _panel(_frame())
    a = wild_bootstrap(p, multiplier="rademacher", seed=1)
    b = wild_bootstrap(p, multiplier="rademacher", seed=999)
    assert a.p_value == b.p_value  # no randomness under full enumeration
    assert (a.p_value * 256) == pytest.approx(round(a.p_value * 256))
    # the identity draw (and its mirror) reproduce the sample: p >= 2 / 2^G
    assert a.p_value >= 2 / 256


def test_seeded_webb_draws_repeat_and_differ_across_seeds():
    p = _panel(_frame())
    a = wild_bootstrap(p, n_draws=999, seed=3)
    b = wild_bootstrap(p, n_draws=999, seed=3)
    c = wild_bootstrap(p, n_draws=999, seed=4)
    assert a.p_value == b.p_value and a.conf_int() == b.conf_int()
    assert a.conf_int() != c.conf_int()
    assert a.spec["seed"] == 3 and a.multiplier == "webb"


def test_interval_is_the_inverted_test():
    p = _panel(_frame())
    res = wild_bootstrap(p, n_draws=1999, seed=5)
    lo, hi = res.conf_int(0.9)
    eng = res._engine
    eps = 1e-6 * res.std_error
    assert eng.p_value(lo + eps) >= 0.1 > eng.p_value(lo - eps)
    assert eng.p_value(hi - eps) >= 0.1 > eng.p_value(hi + eps)
    lo95, hi95 = res.conf_int(0.95)
    assert lo95 < lo < res.estimate < hi < hi95
    # with a single cluster per unit and many units, the interval is close to the analytic one
    big = Panel.from_frame(_frame(), unit="id", time="year", outcome="y", cohort="first_treated")
    wb = wild_bootstrap(big, n_draws=1999, seed=5)
    a_lo, a_hi = twfe(big).conf_int()
    b_lo, b_hi = wb.conf_int()
    assert abs(b_lo - a_lo) < 0.15 * (a_hi - a_lo) and abs(b_hi - a_hi) < 0.15 * (a_hi - a_lo)


def test_null_value_shifts_the_test():
    p = _panel(_frame())
    res = wild_bootstrap(p, n_draws=999, seed=2, null=0.0)
    at_est = wild_bootstrap(p, n_draws=999, seed=2, null=res.estimate)
    assert at_est.p_value == 1.0 and res.p_value < 1.0


@pytest.mark.filterwarnings("ignore::impactlab.errors.StatisticalWarning")
def test_twfe_vcov_wild_is_the_same_bootstrap_and_keeps_the_result_surface():
    p = _panel(_frame())
    a = twfe(p, vcov="wild", wild={"seed": 8, "n_draws": 499})
    b = il.wild_bootstrap(p, "twfe", seed=8, n_draws=499)
    assert isinstance(a, WildBootstrapResult) and isinstance(a, il.EffectResult)
    assert a.p_value == b.p_value
    tidy = a.tidy()
    assert list(tidy.columns[:7]) == list(TIDY_COLUMNS)
    assert tidy.loc[0, "p_value"] == a.p_value and tidy.loc[0, "conf_low"] == a.conf_int()[0]
    assert "Wild cluster bootstrap" in a.summary() and a._repr_html_().startswith("<")
    r = regression(p, vcov="wild", wild={"seed": 8, "n_draws": 499})
    assert r.method == "regression" and r.spec["vcov"] == "wild"


def test_errors_are_clear():
    df = _frame()
    with pytest.raises(EstimationError, match="at least 2 clusters"):
        wild_bootstrap(_panel(df.assign(team=0)), seed=1)
    moved = df.assign(team=np.where((df.id == 0) & (df.year > 3), 7, df.team))
    with pytest.raises(EstimationError, match="stay in one cluster"):
        wild_bootstrap(_panel(moved), seed=1)
    with pytest.raises(ValueError, match="'multiplier'.*Got 'mammen'"):
        wild_bootstrap(_panel(df), multiplier="mammen")  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="at least 99"):
        wild_bootstrap(_panel(df), n_draws=10)


def test_webb_multipliers_have_unit_variance_and_six_points():
    V, enumerated = draw_multipliers("webb", 20000, 5, seed=0)
    assert not enumerated and len(np.unique(V)) == 6
    assert V.mean() == pytest.approx(0, abs=0.02) and V.var() == pytest.approx(1, abs=0.02)


def _rejection_rate(n_sets: int, n_draws: int) -> float:
    rej = 0
    for s in range(n_sets):
        p = _panel(_frame(seed=100 + s, n_teams=10, effect=0.0))
        rej += wild_bootstrap(p, n_draws=n_draws, seed=s).p_value < 0.05
    return rej / n_sets


def test_size_under_the_null_small():
    # 40 data sets with 10 clusters: a correct 5% test rejects 0-6 times with probability ~0.99.
    assert _rejection_rate(40, 199) <= 0.15


@pytest.mark.slow
def test_size_under_the_null_large():
    rate = _rejection_rate(500, 999)
    assert 0.03 <= rate <= 0.07
