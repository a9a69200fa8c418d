"""roi() completed: benefit stream (decay, NPV), monetisation, conservative options, Monte Carlo, costs."""

from __future__ import annotations

import math

import numpy as np
import pytest

from impactlab.errors import DataError
from impactlab.results.base import EffectResult
from impactlab.roi import Costs, payback, roi, stream_weights

BASE = {"value_per_unit": 50, "participants": 100, "horizon": 12, "costs": 80_000}


def test_three_year_stream_with_decay_and_discount_is_the_hand_written_npv() -> None:
    # 100,000 a year at full effect; the effect loses 10 % a year; money discounted at 8 % a year
    npv = 100_000 / 1.08 + 90_000 / 1.08**2 + 81_000 / 1.08**3
    r = roi(2.0, value_per_unit=500, participants=100, horizon=3, periods_per_year=1, decay=0.10,
            discount_rate=0.08, costs=150_000)
    assert r.benefit == pytest.approx(npv, rel=1e-12)
    assert r.roi_pct == pytest.approx((npv - 150_000) / 150_000 * 100, rel=1e-12)
    # payback: 92,593 after year 1, 169,753 after year 2 -> 1 + (150,000 - 92,593) / 77,160 years
    y1, y2 = 100_000 / 1.08, 90_000 / 1.08**2
    assert r.payback_periods == pytest.approx(1 + (150_000 - y1) / y2)
    assert "decays 10% a year" in r.summary()


def test_monthly_stream_uses_yearly_rates() -> None:
    w = stream_weights(24, decay=0.2, discount_rate=0.1, periods_per_year=12)
    t = np.arange(1, 25)
    assert w == pytest.approx(0.8 ** ((t - 1) / 12) / 1.1 ** (t / 12))
    assert stream_weights(2.5).tolist() == [1.0, 1.0, 0.5]
    assert math.isinf(payback(1e9, 10.0, decay=0.5, periods_per_year=1))


def test_zero_se_gives_phillips_formulas_exactly() -> None:
    r = roi(EffectResult(estimate=1.5, std_error=0.0), value_per_unit=40, participants=60, horizon=10,
            costs=Costs(design=10_000, delivery=8_000, participant_time=6_000))
    benefit = 1.5 * 40 * 60 * 10
    assert r.benefit == benefit and r.cost == 24_000
    assert r.roi_pct == (benefit - 24_000) / 24_000 * 100
    assert r.bcr == benefit / 24_000
    assert r.payback_periods == 24_000 / (benefit / 10)
    assert r.conf_int() == (r.roi_pct, r.roi_pct) and r.prob_positive == 1.0
    assert np.all(r.distribution() == r.roi_pct)


def test_monte_carlo_median_is_the_point_roi_and_widens_with_se() -> None:
    costs = Costs(design=(20_000, 30_000), delivery=50_000, participant_time=(4_000, 6_000))
    widths = []
    for se in (0.2, 0.5, 1.0):
        r = roi(EffectResult(estimate=2.0, std_error=se), value_per_unit=(45, 55), participants=100,
                horizon=12, costs=costs, seed=4)
        assert r.method == "monte_carlo"
        assert r.mc_median == pytest.approx(r.roi_pct, rel=0.01)
        lo, hi = r.conf_int()
        assert (lo, hi) == r.mc_interval()
        widths.append(hi - lo)
    assert widths[0] < widths[1] < widths[2]


def test_same_seed_same_numbers() -> None:
    kw = {**BASE, "value_per_unit": (40, 60)}
    eff = EffectResult(estimate=2.0, std_error=0.5)
    a, b, c = roi(eff, seed=9, **kw), roi(eff, seed=9, **kw), roi(eff, seed=10, **kw)
    assert np.array_equal(a.distribution(), b.distribution())
    assert a.conf_int() == b.conf_int() and a.prob_positive == b.prob_positive
    assert a.conf_int() != c.conf_int()


def test_analytic_result_still_has_a_seeded_distribution() -> None:
    r = roi(EffectResult(estimate=2.0, std_error=0.5), **BASE)
    assert r.method == "analytic"
    assert r.mc_median == pytest.approx(50, abs=1.0)
    # Monte Carlo error of a 2.5 % quantile with 20,000 draws: about 0.7 ROI points here (sd 37.5)
    assert r.mc_interval() == pytest.approx(r.conf_int(), abs=2.5)
    assert np.mean(r.distribution() > 0) == pytest.approx(r.prob_positive, abs=0.01)
    with pytest.raises(ValueError, match="'quantity' parameter must be one of"):
        r.distribution("roi")


def test_margin_on_revenue() -> None:
    by_margin = roi(1_000.0, margin=0.25, participants=10, horizon=12, costs=20_000)
    assert by_margin.benefit == 1_000 * 0.25 * 10 * 12
    with pytest.raises(ValueError, match="exactly one of 'value_per_unit'"):
        roi(1_000.0, margin=0.25, value_per_unit=3, participants=10, horizon=12, costs=20_000)
    with pytest.raises(ValueError, match="'margin' parameter is the share of revenue"):
        roi(1_000.0, margin=25, participants=10, horizon=12, costs=20_000)
    with pytest.raises(ValueError, match="straddles zero"):
        roi(1.0, value_per_unit=(-5, 5), participants=10, horizon=12, costs=20_000)


def test_conservative_options() -> None:
    short = roi(2.0, **{**BASE, "horizon": 36}, first_year_only=True)
    assert short.horizon == 12 and short.benefit == 120_000
    assert any("first-year" in n for n in short.notes)
    done = roi(2.0, **BASE, completers=80)
    assert done.benefit == 2.0 * 50 * 80 * 12 and done.cost == 80_000
    assert any("non-completers" in n for n in done.notes)
    with pytest.raises(ValueError, match="fully_loaded=True needs a Costs breakdown with participant_time"):
        roi(2.0, **BASE, fully_loaded=True)
    ok = roi(2.0, **{**BASE, "costs": Costs(delivery=60_000, participant_time=20_000)}, fully_loaded=True)
    assert ok.roi_pct == 50
    r = roi(2.0, **BASE, intangibles=["engagement", "retention of staff"])
    assert r.intangibles == ("engagement", "retention of staff") and "engagement" in r.summary()
    assert r.to_dict()["intangibles"] == ["engagement", "retention of staff"]


def test_costs_prorated_over_runs_and_participant_salaries() -> None:
    c = Costs(needs_assessment=8_000, design=40_000, delivery=10_000, expected_runs=4)
    assert c.total == 2_000 + 10_000 + 10_000
    t = c.table().set_index("category")
    assert t.loc["design", "point"] == 10_000 and t.loc["design", "prorated_over"] == 4
    assert t.loc["delivery", "prorated_over"] == 1
    assert Costs.participant_salaries(40, 16, 30.0, benefits_factor=0.25) == 24_000
    assert Costs.participant_salaries(40, 16, (25.0, 35.0)) == (16_000, 22_400)
    with pytest.raises(ValueError, match="'expected_runs' parameter"):
        Costs(design=1, expected_runs=0)


def test_negative_cost_is_a_data_error() -> None:
    with pytest.raises(DataError, match="finite, non-negative"):
        Costs(delivery=-5)
    with pytest.raises(DataError, match="finite, non-negative"):
        Costs.participant_salaries(-1, 16, 30.0)


def test_costs_table_reader_prorates_and_rejects_negative_rows() -> None:
    import pandas as pd

    table = pd.DataFrame({"program": "P", "category": ["design", "delivery", "travel"],
                          "amount": [30_000, 12_000, 3_000]})
    c = Costs.from_table(table, expected_runs=3)
    assert c.total == 10_000 + 12_000 + 3_000 and c.expected_runs == 3
    with pytest.raises(DataError, match="non-negative") as info:
        Costs.from_table(table.assign(amount=[30_000, -12_000, 3_000]))
    assert info.value.failures[0].row == 1
