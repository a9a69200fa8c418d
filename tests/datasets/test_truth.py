"""Truth: internally consistent, exact with respect to the simulated potential outcomes, and the estimand
of a Callaway-Sant'Anna style comparison with ``anticipation = dip_periods``."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest

from impactlab.datasets import Org, Truth, simulate_org


@pytest.fixture(scope="module")
def org() -> Org:
    return simulate_org(n_employees=2000, n_periods=24, seed=11)


def _cells(truth: Truth) -> pd.DataFrame:
    return truth.att_gt


# ---------------------------------------------------------------- internal consistency
def test_overall_is_the_cohort_size_weighted_mean_of_post_cells(org):
    c = _cells(org.truth)
    assert (c["time"] >= c["cohort"]).all() and (c["event_time"] >= 0).all()
    w = c["n_cohort"] / c["n_cohort"].sum()
    assert org.truth.overall == pytest.approx(float((w * c["att"]).sum()), rel=1e-12)


def test_by_cohort_is_the_plain_mean_over_post_periods(org):
    c = _cells(org.truth)
    for g, att in org.truth.by_cohort.items():
        assert att == pytest.approx(c.loc[c["cohort"] == g, "att"].mean(), rel=1e-12)
    assert isinstance(org.truth.by_cohort.index, pd.PeriodIndex)
    assert org.truth.by_cohort.index.freqstr == "M"


def test_by_event_time_is_cohort_weighted_over_cohorts_that_reach_it(org):
    c = _cells(org.truth)
    for e in (0, 3, 10, int(c["event_time"].max())):
        sub = c.loc[c["event_time"] == e]
        expect = (sub["att"] * sub["n_cohort"]).sum() / sub["n_cohort"].sum()
        assert org.truth.by_event_time[e] == pytest.approx(expect, rel=1e-12)
    assert org.truth.by_event_time.index.dtype == np.int64
    # the last event time is reached by the first cohort only
    assert len(c.loc[c["event_time"] == c["event_time"].max()]) == 1


def test_by_calendar_and_cell_counts(org):
    c = _cells(org.truth)
    t = c["time"].max()
    sub = c.loc[c["time"] == t]
    expect = (sub["att"] * sub["n_cohort"]).sum() / sub["n_cohort"].sum()
    assert org.truth.by_calendar[t] == pytest.approx(expect)
    assert (c["n_units"] <= c["n_cohort"]).all()
    # n_units falls as people leave
    first = c.loc[c["cohort"] == c["cohort"].min()].sort_values("time")
    assert first["n_units"].iloc[-1] < first["n_units"].iloc[0]


# ---------------------------------------------------------------- exactness
def test_att_gt_is_the_mean_of_y1_minus_y0_over_employed_cohort_members(org):
    po = org.potential_outcomes
    d = po.loc[po["employed"] & po["cohort"].notna() & (po["month"] >= po["cohort"])]
    direct = (d["y1"] - d["y0"]).groupby([d["cohort"], d["month"]]).agg(["mean", "size"])
    c = _cells(org.truth).set_index(["cohort", "time"])
    np.testing.assert_allclose(c["att"].to_numpy(), direct["mean"].reindex(c.index).to_numpy(), rtol=1e-12)
    assert (c["n_units"].to_numpy() == direct["size"].reindex(c.index).to_numpy()).all()


def test_effect_is_zero_before_training_and_for_the_never_trained(org):
    po = org.potential_outcomes
    untreated = po["cohort"].isna() | (po["month"] < po["cohort"])
    assert (po.loc[untreated, "y1"] == po.loc[untreated, "y0"]).all()


def test_att_all_equals_att_in_expectation_by_default(org):
    assert abs(org.truth.overall - org.truth.overall_all) < 0.03 * org.truth.overall


# ---------------------------------------------------------------- serialisation
def test_to_dict_is_json_able_and_round_trips(org, tmp_path):
    d = org.truth.to_dict()
    text = json.dumps(d)
    back = Truth.from_dict(json.loads(text))
    assert back.overall == pytest.approx(org.truth.overall, rel=1e-15)
    pd.testing.assert_series_equal(back.by_cohort, org.truth.by_cohort)
    pd.testing.assert_series_equal(back.by_event_time, org.truth.by_event_time)
    assert d["dip_periods"] == d["anticipation"] == 2
    assert set(d["by_cohort"]) == {str(g) for g in org.truth.by_cohort.index}
    path = tmp_path / "truth.json"
    path.write_text(text)
    assert Truth.from_json(path).overall == pytest.approx(org.truth.overall)


def test_from_dict_rejects_other_records():
    with pytest.raises(ValueError, match="not a truth record written by impactlab"):
        Truth.from_dict({"overall": 1.0})


# ---------------------------------------------------------------- the estimand
def _did_simple(org: Org, anticipation: int) -> float:
    """Unconditional Callaway-Sant'Anna ATT(g,t) with never-treated controls and base period
    g - 1 - anticipation (each 2x2 on the units observed in both months), aggregated like ``simple``."""
    po = org.potential_outcomes
    k = po.loc[po["employed"]]
    y = np.where(k["cohort"].notna() & (k["month"] >= k["cohort"]), k["y1"], k["y0"])
    wide = pd.DataFrame({"id": k["employee_id"], "m": k["month"], "y": y}).pivot(index="id", columns="m",
                                                                                 values="y")
    cohort = k.drop_duplicates("employee_id").set_index("employee_id")["cohort"].reindex(wide.index)
    months = list(wide.columns)
    never = wide.loc[cohort.isna()]
    num = den = 0.0
    for g, members in wide.groupby(cohort.dropna()):
        n_g = len(members)
        b = months[months.index(g) - 1 - anticipation]
        for t in months[months.index(g):]:
            dt = (members[t] - members[b]).dropna()
            dc = (never[t] - never[b]).dropna()
            if len(dt):
                num += n_g * (dt.mean() - dc.mean())
                den += n_g
    return num / den


def test_anticipation_equal_to_the_dip_recovers_the_truth_and_zero_does_not(org):
    good = _did_simple(org, anticipation=org.truth.dip_periods)
    naive_base = _did_simple(org, anticipation=0)
    # one draw: sampling error of this estimator is about 60 (seen over 20 seeds), so 200 is > 3 SE
    assert abs(good - org.truth.overall) < 200
    assert naive_base - org.truth.overall > 500          # the dip (800 on average) inflates it


@pytest.mark.slow
def test_anticipation_estimator_is_unbiased_over_seeds():
    diffs = [(_did_simple(o, 2) - o.truth.overall) for o in (simulate_org(seed=s) for s in range(20))]
    # sd of one draw is about 60, so the mean of 20 has sd about 13
    assert abs(np.mean(diffs)) < 40
