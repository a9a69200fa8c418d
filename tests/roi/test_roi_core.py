"""roi(): Phillips headline numbers, hand-computed intervals and probabilities."""

from __future__ import annotations

import dataclasses
import json
import math

import numpy as np
import pytest
from scipy import stats

from impactlab.results.base import EffectResult
from impactlab.roi import Costs, RoiResult, roi

Z95 = 1.959963984540054
BASE = {"value_per_unit": 50, "participants": 100, "horizon": 12, "costs": 80_000}


def test_acceptance_case() -> None:
    r = roi(effect=2.0, **BASE)
    assert r.benefit == 120_000
    assert r.cost == 80_000
    assert r.net_benefit == 40_000
    assert r.roi_pct == 50
    assert r.bcr == 1.5
    assert r.payback_periods == 8  # 80,000 / (120,000 / 12)
    assert r.break_even_effect == pytest.approx(80_000 / (50 * 100 * 12))
    assert r.conf_int() == (50.0, 50.0)  # a plain number has no uncertainty
    assert r.prob_positive == 1.0
    assert r.method == "analytic"


def test_roi_equals_bcr_minus_one() -> None:
    r = roi(effect=1.7, value_per_unit=33, participants=41, horizon=9, costs=12_345)
    assert r.roi_pct == pytest.approx((r.bcr - 1) * 100)


def test_interval_and_probability_hand_computed() -> None:
    r = roi(EffectResult(estimate=2.0, std_error=0.5), **BASE)
    k = 50 * 100 * 12
    lo = (k * (2 - Z95 * 0.5) - 80_000) / 80_000 * 100
    hi = (k * (2 + Z95 * 0.5) - 80_000) / 80_000 * 100
    assert r.conf_int() == pytest.approx((lo, hi), rel=1e-12)
    assert r.conf_int() == pytest.approx((-23.49865, 123.49865), abs=1e-4)
    assert r.benefit_interval() == pytest.approx((k * (2 - Z95 * 0.5), k * (2 + Z95 * 0.5)), rel=1e-12)
    # P(ROI > 0) = P(effect > break-even 4/3) = Phi((2 - 4/3) / 0.5)
    assert r.prob_positive == pytest.approx(stats.norm.cdf((2 - 4 / 3) / 0.5), rel=1e-12)
    assert r.prob_positive == pytest.approx(0.908789, abs=1e-6)
    # 90 % interval is narrower than 95 %
    lo90, hi90 = r.conf_int(0.90)
    assert lo < lo90 < 50 < hi90 < hi


def test_larger_std_error_widens_interval_and_lowers_prob_positive() -> None:
    small = roi(EffectResult(estimate=2.0, std_error=0.3), **BASE)
    large = roi(EffectResult(estimate=2.0, std_error=0.9), **BASE)
    assert small.roi_pct == large.roi_pct == 50
    w_small = small.conf_int()[1] - small.conf_int()[0]
    w_large = large.conf_int()[1] - large.conf_int()[0]
    assert w_large == pytest.approx(3 * w_small)
    assert large.prob_positive < small.prob_positive
    assert small.prob_positive == pytest.approx(stats.norm.cdf((2 - 4 / 3) / 0.3))


def test_t_distribution_when_effect_has_df() -> None:
    r = roi(EffectResult(estimate=2.0, std_error=0.5, df=5), **BASE)
    t = stats.t.ppf(0.975, 5)
    k = 60_000
    assert r.conf_int()[1] == pytest.approx((k * (2 + t * 0.5) - 80_000) / 800)
    assert r.prob_positive == pytest.approx(stats.t.sf((4 / 3 - 2) / 0.5, 5))


def test_negative_value_per_unit_for_a_decrease() -> None:
    # handle time down 2 minutes, each minute saved worth 50: same money as the acceptance case
    r = roi(EffectResult(estimate=-2.0, std_error=0.5), value_per_unit=-50, participants=100, horizon=12,
            costs=80_000)
    ref = roi(EffectResult(estimate=2.0, std_error=0.5), **BASE)
    assert r.roi_pct == pytest.approx(50)
    assert r.conf_int() == pytest.approx(ref.conf_int())
    assert r.prob_positive == pytest.approx(ref.prob_positive)


def test_losing_programme_never_pays_back() -> None:
    r = roi(-0.5, **BASE)
    assert r.net_benefit == -110_000
    assert r.roi_pct == pytest.approx(-137.5)
    assert math.isinf(r.payback_periods)
    assert r.prob_positive == 0.0
    assert r.to_dict()["payback_periods"] is None


def test_monte_carlo_cost_ranges_known_quantiles() -> None:
    # effect known exactly; cost uniform on (60k, 100k): ROI quantiles follow from the cost quantiles
    r = roi(2.0, value_per_unit=50, participants=100, horizon=12, costs=Costs(delivery=(60_000, 100_000)))
    assert r.method == "monte_carlo"
    assert r.cost == 80_000 and r.roi_pct == 50
    lo, hi = r.conf_int()
    assert lo == pytest.approx((120_000 - 99_000) / 99_000 * 100, abs=0.5)
    assert hi == pytest.approx((120_000 - 61_000) / 61_000 * 100, abs=1.0)
    half = roi(2.0, value_per_unit=50, participants=100, horizon=12, costs=Costs(delivery=(100_000, 140_000)))
    assert half.prob_positive == pytest.approx(0.5, abs=0.015)


def test_monte_carlo_agrees_with_analytic_when_ranges_are_tiny() -> None:
    eff = EffectResult(estimate=2.0, std_error=0.5)
    exact = roi(eff, **BASE)
    mc = roi(eff, value_per_unit=50, participants=100, horizon=12,
             costs=Costs(delivery=(80_000 - 1e-6, 80_000 + 1e-6), participant_time=0.0))
    assert mc.method == "monte_carlo"
    assert mc.conf_int() == pytest.approx(exact.conf_int(), abs=2.0)
    assert mc.prob_positive == pytest.approx(exact.prob_positive, abs=0.01)
    assert mc.benefit_interval() == pytest.approx(exact.benefit_interval())


def test_monte_carlo_is_seeded() -> None:
    kw = {"value_per_unit": 50, "participants": 100, "horizon": 12, "costs": Costs(design=(20_000, 60_000))}
    eff = EffectResult(estimate=2.0, std_error=0.5)
    a, b, c = roi(eff, seed=1, **kw), roi(eff, seed=1, **kw), roi(eff, seed=2, **kw)
    assert a.conf_int() == b.conf_int() and a.prob_positive == b.prob_positive
    assert a.conf_int() != c.conf_int()


def test_result_is_frozen_and_draws_read_only() -> None:
    r = roi(EffectResult(estimate=2.0, std_error=0.5), value_per_unit=50, participants=100, horizon=12,
            costs=Costs(design=(20_000, 60_000)))
    assert isinstance(r, RoiResult)
    with pytest.raises(dataclasses.FrozenInstanceError):
        r.cost = 1.0  # type: ignore[misc]
    with pytest.raises(TypeError):
        r.spec["seed"] = 3  # type: ignore[index]
    e, _ = r._draws()
    with pytest.raises(ValueError):
        e[0] = 0.0


def test_tidy_to_dict_summary_html() -> None:
    r = roi(EffectResult(estimate=2.0, std_error=0.5, label="Callaway-Sant'Anna"), **BASE)
    t = r.tidy()
    assert list(t.columns) == ["term", "estimate", "std_error", "statistic", "p_value", "conf_low",
                               "conf_high", "unit", "low", "high", "note"]
    assert list(t["term"]) == ["roi_pct", "benefit", "cost", "net_benefit", "bcr", "payback_periods",
                               "break_even_effect"]
    # the effect's standard error carried through the linear map: 0.5 x 50 x 100 x 12 / 80,000 x 100
    assert (r.estimate, r.std_error) == pytest.approx((50, 37.5))
    assert t.loc[0, "std_error"] == pytest.approx(37.5)
    assert np.isnan(t.set_index("term").loc["cost", "std_error"])
    row = t.set_index("term").loc["roi_pct"]
    assert (row["estimate"], row["conf_low"], row["conf_high"]) == pytest.approx((50, *r.conf_int()))
    assert t.set_index("term").loc["bcr", "conf_low"] == pytest.approx(1 + r.conf_int()[0] / 100)
    d = r.to_dict()
    json.dumps(d, allow_nan=False)
    assert d["roi_pct"] == 50 and d["benefit"] == 120_000
    assert d["roi_conf_low"] == pytest.approx(r.conf_int()[0])
    assert "ROI 50.0 %" in r.summary() and "Callaway-Sant'Anna" in r.summary()
    assert "roi_pct" in r._repr_html_()


def test_participant_time_note() -> None:
    r = roi(2.0, value_per_unit=50, participants=100, horizon=12, costs=Costs(delivery=80_000))
    assert any("participant_time" in n for n in r.notes)
    r2 = roi(2.0, value_per_unit=50, participants=100, horizon=12,
             costs=Costs(delivery=60_000, participant_time=20_000))
    assert r2.notes == () and r2.roi_pct == 50


@pytest.mark.parametrize(("kwargs", "match"), [
    ({"value_per_unit": 0}, "'value_per_unit' parameter must be non-zero"),
    ({"value_per_unit": float("nan")}, "'value_per_unit' parameter must be a finite number"),
    ({"participants": 0}, "'participants' parameter must be positive"),
    ({"horizon": -1}, "'horizon' parameter must be positive"),
    ({"costs": 0}, "'costs' parameter must be positive"),
    ({"costs": Costs()}, "costs add up to zero"),
    ({"level": 95}, "'level' parameter must be between 0 and 1"),
    ({"n_draws": 10}, "'n_draws' parameter must be an integer >= 100"),
])
def test_bad_inputs(kwargs: dict, match: str) -> None:
    args = {**BASE, **kwargs}
    with pytest.raises(ValueError, match=match):
        roi(2.0, **args)


def test_bad_effect_and_costs_types() -> None:
    with pytest.raises(TypeError, match="must be a result with .estimate and .std_error"):
        roi("2", **BASE)
    with pytest.raises(TypeError, match="must be a number or an impactlab Costs"):
        roi(2.0, value_per_unit=50, participants=100, horizon=12, costs="80k")
    with pytest.raises(ValueError, match="std_error must be a finite, non-negative"):
        roi(EffectResult(estimate=2.0, std_error=np.nan), **BASE)


def test_summary_shows_estimates_to_four_significant_digits_and_inputs_as_given() -> None:
    e = EffectResult(estimate=773.626041, std_error=187.2537, df=24.0, term="att", method="imputation",
                     label="imputation", n_obs=100)
    r = roi(e, value_per_unit=0.1234, participants=200, horizon=12, costs=150_000, currency="EUR")
    text = r.summary()
    # break-even = 150,000 / (0.1234 x 200 x 12) = 506.48...
    assert "break-even effect 506.5" in text
    assert "inputs: effect 773.6 (SE 187.3) x value per unit 0.1234 x 200 participants x 12 periods" in text
    assert "773.6260" not in text and "506.4830" not in text
