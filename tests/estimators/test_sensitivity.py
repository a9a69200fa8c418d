"""Sensitivity to parallel-trends violations: bounds by hand, targets that reproduce the reported numbers."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

import impactlab as il
from impactlab.errors import EstimationError
from impactlab.estimators.sensitivity import _prepare, folded_normal_cv, sensitivity
from impactlab.results.base import EffectResult

Z = 1.959963984540054


def _event_study(est, vcov, events, **spec) -> EffectResult:
    el = pd.DataFrame({"event_time": events, "estimate": est, "std_error": np.sqrt(np.diag(vcov))})
    return EffectResult(estimate=float(np.mean([e for e, k in zip(est, events, strict=True) if k >= 0])),
                        std_error=0.1, method="event_study", elements=el, element_vcov=np.asarray(vcov),
                        spec={"ref": -1, **spec})


@pytest.fixture
def small():
    # pre: e=-3, -2; post: e=0, 1 (reference -1 left out)
    est = [0.1, -0.2, 1.0, 1.5]
    vc = np.diag([0.01, 0.01, 0.04, 0.09])
    return _event_study(est, vc, [-3, -2, 0, 1])


def test_relative_magnitude_bounds_by_hand(small):
    s = sensitivity(small, "relative_magnitude", target="average", grid=[0, 1, 2], ci_method="identified_set")
    # c = max(|-0.2 - 0.1|, |0 - (-0.2)|) = 0.3; tail sums of l=(.5,.5): (1, .5) -> 1.5; half = Mbar * 0.45
    se = np.sqrt(0.25 * 0.04 + 0.25 * 0.09)
    theta = 1.25
    exp = pd.DataFrame({"M": [0.0, 1.0, 2.0], "id_lower": theta - 0.45 * np.array([0, 1, 2]),
                        "id_upper": theta + 0.45 * np.array([0, 1, 2])})
    np.testing.assert_allclose(s.table["id_lower"], exp["id_lower"], atol=1e-12)
    np.testing.assert_allclose(s.table["lower"], exp["id_lower"] - Z * se, atol=1e-9)
    np.testing.assert_allclose(s.table["upper"], exp["id_upper"] + Z * se, atol=1e-9)
    assert s.breakdown == pytest.approx((theta - Z * se) / 0.45, rel=1e-9)
    assert s.estimate == pytest.approx(theta) and s.std_error == pytest.approx(se)


def test_smoothness_identified_set_and_flci_by_hand(small):
    # slope into the reference: delta_0 - delta_{-1} = 0.2; l = e_1 (event time 1): target sum k l_k = 2,
    # centre = 1.5 - 2 * 0.2 = 1.1; post curvature constant sum_m |sum_{j>=m} L_j| = |2| + |1| = 3.
    # The pre curvature |0 - 2(-0.2) + 0.1| = 0.5, so the set is empty below M = 0.5.
    s = sensitivity(small, "smoothness", target=1, grid=[0.2, 0.5, 1.0])
    assert np.isnan(s.table.loc[0, "id_lower"])
    np.testing.assert_allclose(s.table.loc[1:, "id_lower"], [1.1 - 1.5, 1.1 - 3.0], atol=1e-12)
    np.testing.assert_allclose(s.table.loc[1:, "id_upper"], [1.1 + 1.5, 1.1 + 3.0], atol=1e-12)
    # M = 0: the shortest interval is the minimum-variance estimator unbiased under linear trends
    s0 = sensitivity(small, "smoothness", target=1, grid=[0.0])
    # v_pre = (w1, w2 - w1) with w1 + w2 = 2: var = w1^2 .01 + (2 - 2 w1)^2 .01 + .09 -> w1 = 0.8
    w1 = 0.8
    v = np.array([w1, 2 - 2 * w1, 0.0, 1.0])
    beta = np.array([0.1, -0.2, 1.0, 1.5])
    sd = np.sqrt(v**2 @ np.array([0.01, 0.01, 0.04, 0.09]))
    assert s0.table.loc[0, "lower"] == pytest.approx(v @ beta - Z * sd, abs=1e-8)
    assert s0.table.loc[0, "upper"] == pytest.approx(v @ beta + Z * sd, abs=1e-8)


def test_flci_is_no_longer_than_the_minimum_bias_estimator(small):
    # the FLCI minimises the half-length over v; the estimator with all weight on the last slope is one v
    m = 0.3
    s = sensitivity(small, "smoothness", target="average", grid=[m])
    half = (s.table.loc[0, "upper"] - s.table.loc[0, "lower"]) / 2
    l_vec = np.array([0.5, 0.5])
    v = np.array([0.0, 1.5, *l_vec])  # w = (0, 1.5): v_pre = (0, 1.5)
    sd = np.sqrt(v**2 @ np.array([0.01, 0.01, 0.04, 0.09]))
    bias = m * (abs(1.5) + abs(0.5))  # sum_m |sum_{j>=m} L_j| with L = (1, .5): 1.5 + .5
    assert half <= sd * folded_normal_cv(bias / sd, 0.95) + 1e-10


def test_breakdown_is_where_the_interval_reaches_zero(small):
    s = sensitivity(small, "smoothness", target="average")
    b = s.breakdown
    assert 0 < b < np.inf
    # solved by Brent's method on the exact FLCI: the crossing is located to ~1e-13 relative
    lo_in = sensitivity(small, "smoothness", target="average", grid=[b * (1 - 1e-9)]).table.loc[0, "lower"]
    lo_out = sensitivity(small, "smoothness", target="average", grid=[b * (1 + 1e-9)]).table.loc[0, "lower"]
    assert lo_in > 0 > lo_out


def test_folded_normal_critical_value():
    assert folded_normal_cv(0.0, 0.95) == pytest.approx(Z, rel=1e-12)
    from scipy import stats
    for t in (0.5, 2.0, 7.0):
        x = folded_normal_cv(t, 0.9)
        assert stats.norm.cdf(x - t) - stats.norm.cdf(-x - t) == pytest.approx(0.9, abs=1e-12)


def _staggered(seed=0, n=300, t=8):
    rng = np.random.default_rng(seed)
    unit = np.repeat(np.arange(n), t)
    tm = np.tile(np.arange(1, t + 1), n)
    g = np.repeat(rng.choice([4, 5, 6, 0], size=n), t)
    e = tm - g
    post = (g > 0) & (e >= 0)
    y = (rng.normal(size=n)[unit] + 0.1 * tm + np.where(post, 1.0 + 0.2 * e, 0) + rng.normal(0, 1, n * t))
    return il.Panel.from_frame(pd.DataFrame({"id": unit, "year": tm, "y": y, "g": g}), unit="id", time="year",
                               outcome="y", cohort="g")


@pytest.fixture(scope="module")
def cs_fits():
    p = _staggered()
    return {bp: il.callaway_santanna(p, base_period=bp) for bp in ("varying", "universal")}


@pytest.mark.parametrize("bp", ["varying", "universal"])
def test_targets_reproduce_the_reported_numbers(cs_fits, bp):
    cs = cs_fits[bp]
    dyn = cs.aggregate("dynamic")
    simple = sensitivity(cs, target="simple", grid=[0])
    assert simple.estimate == pytest.approx(cs.aggregate("simple").estimate, rel=1e-10)
    avg = sensitivity(dyn, target="average", grid=[0])
    assert avg.estimate == pytest.approx(dyn.estimate, rel=1e-10)
    cum = sensitivity(dyn, target="cumulative", horizon=2, grid=[0])
    el = dyn.elements.set_index("event_time")
    assert cum.estimate == pytest.approx(el.loc[[0, 1, 2], "estimate"].sum(), rel=1e-10)
    idx = el.index.get_indexer([0, 1, 2])
    assert cum.std_error == pytest.approx(np.sqrt(dyn.element_vcov[np.ix_(idx, idx)].sum()), rel=1e-10)
    one = sensitivity(dyn, target=3, grid=[0])
    assert one.estimate == pytest.approx(el.loc[3, "estimate"]) and one.std_error == pytest.approx(
        el.loc[3, "std_error"])
    assert simple.pre_event_times[-1] == -2 and simple.post_event_times[0] == 0


def test_varying_base_pre_coefficients_are_cumulated():
    est = [0.05, -0.1, 0.2, 1.0, 1.2]  # varying: e = -3, -2, -1 are period-to-period changes
    vc = np.diag([0.01, 0.02, 0.03, 0.04, 0.05])
    res = _event_study(est, vc, [-3, -2, -1, 0, 1], estimator="callaway_santanna", base_period="varying")
    es = _prepare(res, None, None)
    np.testing.assert_array_equal(es.pre_e, [-4, -3, -2])
    np.testing.assert_allclose(es.beta_pre, [-(0.2 - 0.1 + 0.05), -(0.2 - 0.1), -0.2])
    np.testing.assert_allclose(np.diag(es.sigma)[:3], [0.06, 0.05, 0.03])
    np.testing.assert_allclose(es.sigma[0, 1], 0.05)


def test_result_surface(cs_fits):
    s = sensitivity(cs_fits["universal"], "relative_magnitude")
    assert list(s.table.columns) == ["M", "lower", "upper", "id_lower", "id_upper"]
    t = s.tidy()
    assert list(t["term"]) == ["simple ATT"] + ["simple ATT, robust"] * 9 + ["breakdown"]
    assert (t.loc[0, "estimate"], t.loc[0, "std_error"]) == (s.estimate, s.std_error)
    np.testing.assert_allclose(t.loc[1:9, ["conf_low", "conf_high"]], s.table[["lower", "upper"]])
    # the C-LF set exists at the fit's level only; the identified-set interval at any level (z x SE)
    assert s.ci_method == "C-LF" and s.tidy(0.99).iloc[1:10]["conf_high"].isna().all()
    old = sensitivity(cs_fits["universal"], "relative_magnitude", ci_method="identified_set")
    wide = old.tidy(0.99).iloc[1:10]
    assert (wide["conf_high"].to_numpy() > old.tidy()["conf_high"].iloc[1:10].to_numpy()).all()
    assert t.iloc[-1]["estimate"] == s.breakdown
    assert len(s.table) == 9 and s.table["M"].iloc[-1] == 2.0
    assert (s.table["upper"] - s.table["lower"]).is_monotonic_increasing
    assert "breakdown M̄" in s.summary() and s._repr_html_().startswith("<")
    with pytest.raises(AttributeError):
        s.breakdown = 0  # type: ignore[misc]


def test_errors_say_what_to_do(cs_fits, small):
    with pytest.raises(EstimationError, match="event-time coefficients"):
        sensitivity(cs_fits["universal"].aggregate("simple"))
    with pytest.raises(EstimationError, match="needs the Callaway"):
        sensitivity(small, target="simple")
    with pytest.raises(ValueError, match="post event times"):
        sensitivity(small, target=5)
    with pytest.raises(ValueError, match="'restriction'"):
        sensitivity(small, "curvature")  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="non-negative"):
        sensitivity(small, grid=[-1])
    no_pre = _event_study([1.0, 1.2], np.eye(2) * 0.01, [0, 1])
    with pytest.raises(EstimationError, match="at least one pre-period"):
        sensitivity(no_pre, target="average")
    with pytest.raises(EstimationError, match="ref=-2"):
        sensitivity(EffectResult(**{**small.__dict__, "spec": {"ref": -2}}), target="average")
