"""learning(): Hake gain, d_z, Hedges' g, retakes, pass rate, retention, item difficulty, bad order."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest
from scipy import stats
from statsmodels.stats.proportion import proportion_confint

from impactlab.errors import DataError, DataQualityWarning
from impactlab.kirkpatrick import learning
from impactlab.kirkpatrick.learning import d_z_interval, hake_band

PRE = [40, 50, 60, 70]
POST = [70, 75, 80, 85]


def _tests(pre: list[float], post: list[float], *, max_score: float = 100, delayed: list[float] | None = None,
           day_post: int = 10) -> pd.DataFrame:
    n = len(pre)
    ids = [f"E{i}" for i in range(n)]
    rows = [{"employee_id": e, "program": "P", "kind": "pre", "score": s, "max_score": max_score,
             "taken_at": "2024-03-01"} for e, s in zip(ids, pre, strict=True)]
    rows += [{"employee_id": e, "program": "P", "kind": "post", "score": s, "max_score": max_score,
              "taken_at": f"2024-03-{day_post:02d}"} for e, s in zip(ids, post, strict=True)]
    if delayed is not None:
        rows += [{"employee_id": e, "program": "P", "kind": "delayed", "score": s, "max_score": max_score,
                  "taken_at": "2024-06-01"} for e, s in zip(ids, delayed, strict=True)]
    return pd.DataFrame(rows)


def test_hake_gain_of_a_four_person_class() -> None:
    res = learning(_tests(PRE, POST))
    row = res.summary_table.iloc[0]
    # class averages: pre 55 %, post 77.5 %; <g> = (77.5 - 55) / (100 - 55) = 0.5
    assert row["hake_gain"] == pytest.approx(0.5)
    assert row["hake_band"] == "medium"
    assert row["gain"] == pytest.approx(22.5)
    # individual gains 30/60, 25/50, 20/40, 15/30 = 0.5 each
    assert row["mean_individual_gain"] == pytest.approx(0.5)
    # every person gained exactly half the room left, so the delta-method interval has no width
    assert (row["hake_low"], row["hake_high"]) == pytest.approx((0.5, 0.5))
    assert res.headline()["estimate"] == pytest.approx(0.5)
    other = learning(_tests(PRE, [70, 80, 75, 85])).summary_table.iloc[0]
    assert other["hake_low"] < other["hake_gain"] < other["hake_high"]


def test_max_score_other_than_100_uses_percent() -> None:
    res = learning(_tests([p / 2 for p in PRE], [p / 2 for p in POST], max_score=50))
    assert res.summary_table.iloc[0]["hake_gain"] == pytest.approx(0.5)


def test_d_z_equals_scipy_paired_t_over_sqrt_n() -> None:
    rng = np.random.default_rng(3)
    pre = rng.integers(20, 60, 15).astype(float)
    post = np.minimum(pre + rng.integers(-5, 25, 15), 100)
    row = learning(_tests(list(pre), list(post))).summary_table.iloc[0]
    t = stats.ttest_rel(post, pre)
    assert row["d_z"] == pytest.approx(t.statistic / math.sqrt(15), rel=1e-12)
    assert row["t_statistic"] == pytest.approx(t.statistic, rel=1e-12)
    assert row["p_value"] == pytest.approx(t.pvalue, rel=1e-9)
    # interval: the noncentral t with ncp = bound x sqrt(n) puts 2.5 % on each side of the observed t
    lo, hi = row["d_z_low"], row["d_z_high"]
    assert stats.nct.cdf(t.statistic, 14, lo * math.sqrt(15)) == pytest.approx(0.975, abs=1e-8)
    assert stats.nct.cdf(t.statistic, 14, hi * math.sqrt(15)) == pytest.approx(0.025, abs=1e-8)
    # Hedges' g_av (Lakens 2013) with J = 1 - 3 / (4 df - 1)
    d_av = (post - pre).mean() / math.sqrt((pre.var(ddof=1) + post.var(ddof=1)) / 2)
    assert row["hedges_g"] == pytest.approx((1 - 3 / (4 * 14 - 1)) * d_av)
    assert row["hedges_g_low"] < row["hedges_g"] < row["hedges_g_high"]


def test_d_z_interval_is_near_the_normal_approximation_for_large_n() -> None:
    lo, hi = d_z_interval(0.5, 2000)
    se = math.sqrt(1 / 2000 + 0.5**2 / (2 * 2000))
    assert (lo, hi) == pytest.approx((0.5 - 1.96 * se, 0.5 + 1.96 * se), abs=2e-3)


def test_hake_bands() -> None:
    bands = [hake_band(g) for g in (0.1, 0.3, 0.69, 0.7, math.nan)]
    assert bands == ["low", "medium", "medium", "high", "n/a"]


def test_retakes_first_best_last_are_stated() -> None:
    df = _tests([50], [60])
    retake = df[df["kind"] == "post"].assign(score=[90], taken_at="2024-03-20")
    third = df[df["kind"] == "post"].assign(score=[70], taken_at="2024-03-25")
    df = pd.concat([df, retake, third], ignore_index=True)
    df = pd.concat([df, _tests([40], [50]).assign(employee_id="F")], ignore_index=True)
    gains = {}
    for how in ("first", "best", "last"):
        res = learning(df, attempt=how)
        gains[how] = dict(zip(res.people["employee_id"], res.people["gain"], strict=True))["E0"]
        assert res.attempt == how and f"{how} attempt" in res.summary()
    assert gains == {"first": 10.0, "best": 40.0, "last": 20.0}
    with pytest.raises(ValueError, match="'attempt' parameter must be one of"):
        learning(df, attempt="median")


def test_post_before_pre_is_rejected_with_a_reason() -> None:
    good = _tests(PRE, POST)
    bad = _tests([30], [60], day_post=1).assign(employee_id="LATE")
    bad.loc[bad["kind"] == "pre", "taken_at"] = "2024-03-05"
    with pytest.warns(DataQualityWarning, match="post-test before the pre-test"):
        res = learning(pd.concat([good, bad], ignore_index=True))
    assert list(res.rejected["employee_id"]) == ["LATE"]
    assert res.rejected["reason"].iloc[0] == "post-test taken before the pre-test"
    assert res.summary_table.iloc[0]["n"] == 4


def test_pass_rate_and_retention() -> None:
    res = learning(_tests(PRE, POST, delayed=[60, 65, 70, 80]), pass_mark=0.8)
    row = res.summary_table.iloc[0]
    assert row["pass_rate"] == pytest.approx(2 / 4)  # 80 and 85 pass
    assert (row["pass_low"], row["pass_high"]) == pytest.approx(proportion_confint(2, 4, method="wilson"))
    # retained gain: mean(delayed - pre) / mean(post - pre) = 13.75 / 22.5
    assert row["retention"] == pytest.approx(13.75 / 22.5)
    assert row["n_delayed"] == 4 and row["retention_low"] < row["retention"] < row["retention_high"]


def test_item_difficulty() -> None:
    items = pd.DataFrame({"employee_id": ["a", "b", "c", "d"] * 2, "item": ["q1"] * 4 + ["q2"] * 4,
                          "correct": [1, 1, 1, 0, 1, 0, 0, 0]})
    res = learning(_tests(PRE, POST), items=items)
    t = res.items.set_index("item")
    assert t.loc["q1", "difficulty"] == 0.75 and t.loc["q2", "difficulty"] == 0.25
    assert (t.loc["q1", "conf_low"], t.loc["q1", "conf_high"]) == pytest.approx(
        proportion_confint(3, 4, method="wilson"))
    with pytest.raises(DataError, match="not 0/1"):
        learning(_tests(PRE, POST), items=items.assign(correct=[1, 2, 0, 0, 1, 0, 0, 0]))


def test_score_above_max_is_a_data_error() -> None:
    with pytest.raises(DataError):
        learning(_tests(PRE, [70, 75, 80, 120]))


def test_people_without_a_pair_are_listed_not_dropped_silently() -> None:
    good = _tests(PRE, POST)
    pre_only = _tests([20], [90]).assign(employee_id="LEFT")
    pre_only = pre_only[pre_only["kind"] == "pre"]
    post_only = _tests([20], [90]).assign(employee_id="NEW")
    post_only = post_only[post_only["kind"] == "post"]
    res = learning(pd.concat([good, pre_only, post_only], ignore_index=True))
    # the four pairs give the gain; the two unpaired people are in .rejected with why
    assert res.summary_table.iloc[0]["n"] == 4
    assert res.summary_table.iloc[0]["gain"] == pytest.approx(22.5)
    reasons = dict(zip(res.rejected["employee_id"], res.rejected["reason"], strict=True))
    assert reasons["LEFT"].startswith("no post-test") and reasons["NEW"].startswith("no pre-test")
    assert "2 person(s) left out of the pre/post pairs" in res.summary()


def test_hake_interval_stops_at_one_the_largest_class_gain() -> None:
    # five people, class averages pre 61 %, post 79 %: <g> = 18 / 39; the delta-method half-width
    # (0.557) would reach 1.02, above the <g> = 1 of a class that all scored 100 % on the post-test
    res = learning(_tests([40, 55, 80, 30, 100], [70, 60, 75, 90, 100]))
    row = res.summary_table.iloc[0]
    assert row["hake_gain"] == pytest.approx(18 / 39)
    assert row["hake_high"] == 1.0 and row["hake_low"] == pytest.approx(-0.0952, abs=5e-4)
    tidy = res.tidy()
    assert tidy.loc[tidy["term"] == "hake_gain", "conf_high"].iloc[0] <= 1.0


def test_clipped_intervals_restated_at_another_level_from_their_whole_side() -> None:
    # Hake's upper end stops at 1 at 95 %; at 80 % the interval is the t(4) one of that level, not the 95 %
    # ends shrunk towards the estimate (which would put the upper end below the true 80 % one)
    res = learning(_tests([40, 55, 80, 30, 100], [70, 60, 75, 90, 100]))
    row = res.summary_table.iloc[0]
    half95 = row["hake_gain"] - row["hake_low"]
    half80 = half95 * stats.t.ppf(0.90, 4) / stats.t.ppf(0.975, 4)
    hake = res.tidy(0.80).set_index("term").loc["hake_gain"]
    assert (hake["conf_low"], hake["conf_high"]) == pytest.approx(
        (row["hake_gain"] - half80, min(row["hake_gain"] + half80, 1.0)))
