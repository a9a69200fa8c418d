"""learning() on classes whose scores fell, at the ceiling, with unequal maxima; d_z never crashes."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest
from scipy import stats
from statsmodels.stats.proportion import proportion_confint

from impactlab.kirkpatrick import learning
from impactlab.kirkpatrick._stats import normalised_change, paired_share_change
from impactlab.kirkpatrick.learning import d_z_bounds


def _tests(pre: list[float], post: list[float], *, pre_max: float = 100,
           post_max: float = 100) -> pd.DataFrame:
    rows = []
    for i, (a, b) in enumerate(zip(pre, post, strict=True)):
        rows.append({"employee_id": f"E{i}", "program": "P", "kind": "pre", "score": a, "max_score": pre_max,
                     "taken_at": "2024-03-01"})
        rows.append({"employee_id": f"E{i}", "program": "P", "kind": "post", "score": b,
                     "max_score": post_max, "taken_at": "2024-03-10"})
    return pd.DataFrame(rows)


def _class(n: int, d: float, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """Pre and post scores whose paired differences have exactly mean d x sd (sd = 4 points)."""
    rng = np.random.default_rng(seed)
    pre = rng.uniform(40, 60, n)
    z = rng.standard_normal(n)
    z = (z - z.mean()) / z.std(ddof=1)
    diff = 4 * z + 4 * d
    return pre, pre + diff


@pytest.mark.parametrize("n", [3, 4, 5, 8, 12, 20, 35, 50])
def test_d_z_interval_is_finite_on_the_grid(n: int) -> None:
    # the issue's crash: a class whose scores fell (t = -14.7) and d = 5 with few people
    for d in np.arange(-3, 5.01, 0.5):
        lo, hi, method = d_z_bounds(float(d), n)
        assert math.isfinite(lo) and math.isfinite(hi) and lo < d < hi, (n, d, lo, hi)
        assert method == "exact"
        t = d * math.sqrt(n)
        assert stats.nct.cdf(t, n - 1, lo * math.sqrt(n)) == pytest.approx(0.975, abs=1e-7)
        assert stats.nct.cdf(t, n - 1, hi * math.sqrt(n)) == pytest.approx(0.025, abs=1e-7)


@pytest.mark.parametrize(("n", "d"), [(3, -3.0), (5, -1.5), (10, 5.0), (50, -2.0), (4, 5.0)])
def test_learning_on_scores_that_fell_or_soared_is_finite(n: int, d: float) -> None:
    pre, post = _class(n, d, seed=n)
    row = learning(_tests(list(pre), list(post))).summary_table.iloc[0]
    assert row["d_z"] == pytest.approx(d, rel=1e-9)
    cols = ["d_z_low", "d_z_high", "gain_low", "gain_high", "hake_low", "hake_high", "hedges_g_low",
            "hedges_g_high", "normalised_change_low", "normalised_change_high"]
    assert np.isfinite(row[cols].to_numpy(dtype=float)).all()
    assert row["d_z_method"] == "exact"
    if d < 0:
        assert row["hake_band"] == "negative" and row["n_fell"] > 0


def test_the_issue_class_whose_post_test_was_lower() -> None:
    res = learning(_tests([80, 85, 90, 75, 70], [60, 70, 72, 58, 50]))
    row = res.summary_table.iloc[0]
    assert row["gain"] == pytest.approx(-18.0) and row["n_fell"] == 5
    assert row["d_z_low"] < row["d_z"] < row["d_z_high"] < 0
    assert "5 of 5 scored lower" in res.summary()


def test_normal_approximation_only_where_exact_fails(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(stats.nct, "cdf", lambda *a, **k: np.nan)
    lo, hi, method = d_z_bounds(0.8, 10)
    se = math.sqrt(1 / 10 + 0.8**2 / 20)
    assert method == "normal approximation"
    assert (lo, hi) == pytest.approx((0.8 - stats.norm.ppf(0.975) * se, 0.8 + stats.norm.ppf(0.975) * se))


def test_marx_cummings_change_by_hand() -> None:
    # up 50 -> 75: 25/50 = 0.5; down 80 -> 60: -20/80 = -0.25; same 40 -> 40: 0; 100 -> 100 dropped;
    # 100 -> 90: -10/100 = -0.1
    c = normalised_change(np.array([50, 80, 40, 100, 100.0]), np.array([75, 60, 40, 100, 90.0]))
    assert np.allclose(c[[0, 1, 2, 4]], [0.5, -0.25, 0.0, -0.1]) and np.isnan(c[3])
    res = learning(_tests([50, 80, 40, 100, 100], [75, 60, 40, 100, 90]))
    row = res.summary_table.iloc[0]
    vals = np.array([0.5, -0.25, 0.0, -0.1])
    t = stats.t.ppf(0.975, 3)
    half = t * vals.std(ddof=1) / 2
    assert (row["normalised_change"], row["n_change"]) == (pytest.approx(vals.mean()), 4)
    assert row["normalised_change_low"] == pytest.approx(max(-1.0, vals.mean() - half))
    assert row["normalised_change_high"] == pytest.approx(min(1.0, vals.mean() + half))
    assert row["n_ceiling"] == 2 and "2 scored 100 % on the pre-test" in res.summary()
    # individual Hake gains are undefined at the ceiling, never infinite
    people = res.people.set_index("employee_id")
    assert people.loc[["E3", "E4"], "normalised_gain"].isna().all()


def test_hake_interval_uses_t_for_a_pair() -> None:
    # the issue's n = 2 case: z gave +/-0.024 where t (1 df) is 12.7 / 1.96 times wider
    res = learning(_tests([40, 60], [70, 75]))
    row = res.summary_table.iloc[0]
    pre, diff = np.array([40.0, 60.0]), np.array([30.0, 15.0])
    room = 100 - pre.mean()
    grad = np.array([diff.mean() / room**2, 1 / room])
    se = math.sqrt(grad @ np.cov(pre, diff, ddof=1) @ grad / 2)
    half = stats.t.ppf(0.975, 1) * se
    assert (row["hake_low"], row["hake_high"]) == pytest.approx((row["hake_gain"] - half,
                                                                  min(row["hake_gain"] + half, 1.0)))
    tidy = res.tidy(0.90).set_index("term")
    half90 = stats.t.ppf(0.95, 1) * se
    assert tidy.loc["hake_gain", "conf_high"] == pytest.approx(row["hake_gain"] + half90)


def test_unequal_maxima_compare_percentages_and_say_so() -> None:
    res = learning(_tests([10, 12, 14], [20, 22, 24], pre_max=20, post_max=25))
    row = res.summary_table.iloc[0]
    assert row["pre_mean"] == pytest.approx(60.0) and row["post_mean"] == pytest.approx(88.0)
    assert row["hake_gain"] == pytest.approx(28 / 40)
    assert "out of 20 and the post-test out of 25" in res.summary()


def test_pass_rates_before_after_and_their_change() -> None:
    pre = [50, 85, 60, 90, 40, 70]
    post = [85, 90, 65, 95, 82, 60]   # pass mark 80: before 2 of 6, after 4 of 6; 70 fell to 60
    res = learning(_tests(pre, post), pass_mark=0.8)
    row = res.summary_table.iloc[0]
    assert (row["pass_rate_pre"], row["pass_rate"]) == pytest.approx((2 / 6, 4 / 6))
    assert (row["pass_pre_low"], row["pass_pre_high"]) == pytest.approx(
        proportion_confint(2, 6, method="wilson"))
    assert row["pass_change"] == pytest.approx(2 / 6)
    assert row["pass_change_low"] < 2 / 6 < row["pass_change_high"] <= 1
    tidy = res.tidy().set_index("term")
    assert tidy.loc["pass_change", "conf_low"] == pytest.approx(row["pass_change_low"])
    assert "pass rate 33% before -> 67% after" in res.summary()


def test_paired_share_change_equals_the_published_newcombe_interval() -> None:
    # Fagerland, Lydersen & Laake (2017), ch. 8, paired table [[59, 6], [16, 80]]: estimate -0.0621,
    # Newcombe square-and-add 95 % CI -0.1186 to -0.0046 (R contingencytables' test of that chapter)
    after = np.array([1] * 65 + [0] * 96, dtype=bool)
    before = np.array([1] * 59 + [0] * 6 + [1] * 16 + [0] * 80, dtype=bool)
    est, lo, hi = paired_share_change(before, after)
    assert (round(est, 4), round(lo, 4), round(hi, 4)) == (-0.0621, -0.1186, -0.0046)
