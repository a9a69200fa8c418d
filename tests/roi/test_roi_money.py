"""ROI honest about what it counts: revenue vs margin, one currency, the panel's period length, rates as
shares, payback beyond the horizon, tidy rows that are not intervals, decay on an exposure effect."""

from __future__ import annotations

import math
import warnings

import matplotlib

matplotlib.use("Agg")

import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
import pytest  # noqa: E402

import impactlab as il  # noqa: E402
from impactlab.errors import DataError, StatisticalWarning  # noqa: E402
from impactlab.results.base import EffectResult  # noqa: E402
from impactlab.roi import Costs, ExposureEffect, exposure, roi  # noqa: E402

BASE = {"participants": 100, "horizon": 12, "costs": 80_000}


def _effect(outcome: str) -> EffectResult:
    return EffectResult(estimate=2.0, std_error=0.5, label="Callaway-Sant'Anna", outcome=outcome)


# ------------------------------------------------------------------------------------- revenue vs margin
@pytest.mark.parametrize("outcome", ["revenue", "net_revenue", "Monthly Sales", "bookings", "ARR"])
def test_value_per_unit_on_a_revenue_outcome_warns(outcome) -> None:
    with pytest.warns(StatisticalWarning, match=r"reads as revenue, and value_per_unit=1\.0 counts each"):
        r = roi(_effect(outcome), value_per_unit=1.0, **BASE)
    assert any("not stated as a margin" in n for n in r.notes)
    assert "not stated as a margin" in r.summary() and "not stated as a margin" in str(r.explain())


def test_margin_on_revenue_is_the_same_arithmetic_and_silent() -> None:
    with pytest.warns(StatisticalWarning):
        as_value = roi(_effect("revenue"), value_per_unit=0.25, **BASE)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        as_margin = roi(_effect("revenue"), margin=0.25, **BASE)
    # 2.0 x 0.25 x 100 x 12 = 600 of profit contribution against a cost of 80,000
    assert as_margin.benefit == as_value.benefit == pytest.approx(600.0)
    assert "margin 25.0% on revenue" in as_margin.summary()


@pytest.mark.parametrize("outcome", ["quality_score", "handle_time", "salesforce_logins", ""])
def test_other_outcomes_do_not_warn(outcome) -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        roi(_effect(outcome), value_per_unit=50, **BASE)


def test_evaluation_outcome_is_read_through_its_effect() -> None:
    class Evaluation:  # what roi reads of il.evaluate's result: estimate, std_error and the effect
        estimate, std_error, effect = 2.0, 0.5, _effect("revenue")

    with pytest.warns(StatisticalWarning, match="'revenue' reads as revenue"):
        roi(Evaluation(), value_per_unit=1.0, **BASE)


# ------------------------------------------------------------------------------------------------ currency
def test_currency_from_costs_default_usd_stated_and_mismatch_refused() -> None:
    assert roi(2.0, value_per_unit=50, participants=100, horizon=12,
               costs=Costs(delivery=80_000, participant_time=1, currency="EUR")).currency == "EUR"
    plain = roi(2.0, value_per_unit=50, **BASE)
    assert plain.currency == "USD" and any("currency not stated" in n for n in plain.notes)
    stated = roi(2.0, value_per_unit=50, currency="eur", **BASE)
    assert stated.currency == "EUR" and not any("currency" in n for n in stated.notes)
    assert stated.tidy().set_index("term").loc["cost", "unit"] == "EUR"
    with pytest.raises(DataError, match=r"The costs are in USD but currency='EUR' was given") as info:
        roi(2.0, value_per_unit=50, participants=100, horizon=12, currency="EUR",
            costs=Costs(delivery=80_000, participant_time=1))
    assert "Costs(..., currency='EUR')" in str(info.value)
    assert roi(2.0, value_per_unit=50, participants=100, horizon=12, currency="EUR",
               costs=Costs(delivery=80_000, participant_time=1, currency="EUR")).currency == "EUR"
    with pytest.raises(ValueError, match="'currency' parameter must be a currency code"):
        roi(2.0, value_per_unit=50, currency=" ", **BASE)


# ----------------------------------------------------------------------------------------- period length
def _weekly_panel() -> il.Panel:
    rng = np.random.default_rng(1)
    weeks = pd.period_range("2024-01-01", periods=20, freq="W")
    rows = []
    for i in range(60):
        g = weeks[8] if i < 20 else weeks[12] if i < 40 else pd.NaT
        for t in weeks:
            gain = 3.0 if g is not pd.NaT and t >= g else 0.0
            rows.append({"id": i, "week": t, "y": 10 + 0.1 * i + rng.normal(0, 1) + gain, "first": g})
    return il.Panel.from_frame(pd.DataFrame(rows), unit="id", time="week", outcome="y", cohort="first")


@pytest.fixture(scope="module")
def weekly_effect() -> EffectResult:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", StatisticalWarning)
        return il.callaway_santanna(_weekly_panel()).aggregate("simple")


def test_weekly_panel_counts_52_weeks_in_the_first_year(weekly_effect) -> None:
    r = roi(weekly_effect, value_per_unit=10, participants=40, horizon=52, costs=20_000, first_year_only=True)
    assert (r.periods_per_year, r.horizon, r.period_name) == (52.0, 52.0, "weeks")
    assert r.benefit == pytest.approx(weekly_effect.estimate * 10 * 40 * 52)
    cut = roi(weekly_effect, value_per_unit=10, participants=40, horizon=104, costs=20_000,
              first_year_only=True)
    assert cut.horizon == 52 and any("horizon cut from 104 to 52 weeks" in n for n in cut.notes)
    assert "x 40 participants x 52 weeks" in r.summary()


def test_weekly_decay_and_discounting_run_per_year(weekly_effect) -> None:
    r = roi(weekly_effect, value_per_unit=10, participants=40, horizon=52, costs=20_000, decay=0.3,
            discount_rate=0.08)
    # w_t = 0.7^((t-1)/52) / 1.08^(t/52), t = 1..52: a geometric sum with ratio q = (0.7/1.08)^(1/52)
    q = (0.7 / 1.08) ** (1 / 52)
    factor = 1.08 ** (-1 / 52) * (1 - q**52) / (1 - q)
    assert r.periods_factor == pytest.approx(factor, rel=1e-12)
    # the same year counted in months gives the same average weight (to the discretisation), not 52 months'
    qm = (0.7 / 1.08) ** (1 / 12)
    monthly = 1.08 ** (-1 / 12) * (1 - qm**12) / (1 - qm)
    assert r.periods_factor / 52 == pytest.approx(monthly / 12, rel=0.01)
    with pytest.raises(ValueError, match=r"panel of weeks \(52 a year\), but periods_per_year=12 was given"):
        roi(weekly_effect, value_per_unit=10, participants=40, horizon=52, costs=20_000, periods_per_year=12)
    assert roi(weekly_effect, value_per_unit=10, participants=40, horizon=52, costs=20_000,
               periods_per_year=52).periods_per_year == 52


def test_imputation_and_exposure_effects_carry_their_frequency() -> None:
    p = _weekly_panel()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", StatisticalWarning)
        imp = il.imputation(p)
    assert roi(imp, value_per_unit=10, participants=40, horizon=60, costs=20_000,
               first_year_only=True).horizon == 52
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", StatisticalWarning)
        ex = exposure(il.callaway_santanna(p), panel=p)
    assert roi(ex, value_per_unit=10, costs=20_000).periods_per_year == 52


@pytest.mark.parametrize("fit", [
    lambda p: il.twfe(p), lambda p: il.regression(p), lambda p: il.naive_difference(p),
    lambda p: il.pre_post(p),
    lambda p: il.event_study(p, window=(-3, 3)), lambda p: il.sun_abraham(p, window=(-3, 3)),
])
def test_every_estimator_carries_the_panel_frequency(fit) -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        effect = fit(_weekly_panel())
    assert effect.spec["freq"] == "W-SUN"
    r = roi(effect, value_per_unit=10, participants=40, horizon=60, costs=20_000, first_year_only=True)
    assert (r.periods_per_year, r.horizon) == (52, 52)


def test_monthly_assumed_only_when_unknown_and_stated() -> None:
    r = roi(2.0, value_per_unit=50, participants=100, horizon=24, costs=80_000, first_year_only=True)
    assert r.horizon == 12 and any("12 periods a year assumed" in n for n in r.notes)
    quiet = roi(2.0, value_per_unit=50, **BASE)
    assert not any("assumed" in n for n in quiet.notes)


@pytest.mark.parametrize(("kw", "message"), [
    ({"discount_rate": 8}, r"discount_rate=8 means 800 % a year\. Pass 0\.08 for 8 %"),
    ({"decay": 30}, r"decay=30 means 3,000 % a year\. Pass 0\.3 for 30 %"),
    ({"decay": 1.0}, r"'decay' parameter must be a yearly rate in \[0, 1\)"),
    ({"discount_rate": -0.1}, r"'discount_rate' parameter must be a yearly rate in \[0, 1\]"),
])
def test_rates_given_as_percentages_are_refused(kw, message) -> None:
    with pytest.raises(ValueError, match=message):
        roi(2.0, value_per_unit=50, **BASE, **kw)


# ---------------------------------------------------------------------- payback and the tidy cost row
def test_payback_beyond_the_horizon_is_flagged() -> None:
    # benefit 0.5 x 50 x 100 = 2,500 a period: 32 periods to recover 80,000, horizon 12
    r = roi(EffectResult(estimate=0.5, std_error=0.1), value_per_unit=50, **BASE)
    assert r.payback_periods == pytest.approx(32.0) and not r.paid_back
    assert "payback 32.00 periods, not paid back within the horizon of 12 periods" in r.summary()
    assert ("Not paid back within the horizon of 12 periods: payback would take 32.0 periods"
            in str(r.explain()))
    row = r.tidy().set_index("term").loc["payback_periods"]
    assert row["note"] == "not paid back within the horizon"
    assert r.to_dict()["paid_back"] is False
    ok = roi(EffectResult(estimate=2.0, std_error=0.1), value_per_unit=50, **BASE)
    assert ok.paid_back and ok.tidy().set_index("term").loc["payback_periods", "note"] == ""
    assert "not paid back" not in ok.summary() + str(ok.explain())


def test_cost_row_has_its_range_in_low_high_not_in_the_interval() -> None:
    r = roi(EffectResult(estimate=2.0, std_error=0.5), value_per_unit=50, participants=100, horizon=12,
            costs=Costs(delivery=(60_000, 100_000), participant_time=5_000))
    t = r.tidy().set_index("term")
    assert t.loc["cost", ["conf_low", "conf_high"]].isna().all()
    assert tuple(t.loc["cost", ["low", "high"]]) == (65_000, 105_000)
    be = (65_000 / 60_000, 105_000 / 60_000)  # cost bounds over 50 x 100 x 12 = 60,000 a unit of effect
    assert tuple(t.loc["break_even_effect", ["low", "high"]]) == pytest.approx(be)
    assert t.loc["break_even_effect", ["conf_low", "conf_high"]].isna().all()
    assert not t.loc["roi_pct", ["conf_low", "conf_high"]].isna().any()
    assert t.loc["roi_pct", ["low", "high"]].isna().all()


# --------------------------------------------------------------------------- decay on an exposure effect
def test_decay_on_an_exposure_effect_is_refused() -> None:
    by_e = pd.DataFrame({"event_time": [0, 1], "employee_periods": [10.0, 10.0], "total": [30.0, 20.0],
                         "std_error": [1.0, 1.0], "conf_low": [28.0, 18.0], "conf_high": [32.0, 22.0]})
    cells = pd.DataFrame({"cohort": [1, 1], "time": [1, 2], "event_time": [0, 1], "estimate": [3.0, 2.0],
                          "exposure": [10.0, 10.0]})
    ex = ExposureEffect(total=50.0, total_std_error=1.5, employee_periods=20.0, participants=10,
                        by_event_time=by_e, cells=cells, horizon=None)
    with pytest.raises(ValueError, match="fading over those periods is already in it"):
        roi(ex, value_per_unit=100, costs=1_000, decay=0.2)
    r = roi(ex, value_per_unit=100, costs=1_000, discount_rate=0.05)  # discounting is not a decline
    assert r.horizon == 2 and r.participants == 10
    assert math.isfinite(r.roi_pct)


def test_waterfall_footnote_and_summary_json_say_what_was_counted(weekly_effect) -> None:
    r = roi(weekly_effect, value_per_unit=10, participants=40, horizon=52, costs=20_000, decay=0.2)
    fig = il.plot.roi_waterfall(r).figure
    text = "\n".join(t.get_text() for t in fig.findobj(matplotlib.text.Text))
    assert "x 40 participants x 52 weeks (decayed, discounted)" in text
    from impactlab.report import impact_summary

    class Cmp:  # the parts of a CompareResult the summary reads
        outcome, naive, causal, results, truth = "y", weekly_effect, weekly_effect, {}, None

    s = impact_summary(Cmp(), r)
    assert s["roi"]["currency"] == "USD" and s["roi"]["paid_back"] is r.paid_back
    assert s["roi"]["prob_positive_text"].startswith("P(ROI > 0)")
