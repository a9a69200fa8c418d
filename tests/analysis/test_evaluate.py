"""``il.evaluate``: the estimate it reports, its checks, the dip rule and the trend check, on simulated
organisations (known truth) and hand-made panels (known answers)."""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
import pytest

import impactlab as il
from impactlab.analysis.evaluate import PROBE, dip_window, few_clusters, pre_trend, time_varying
from impactlab.estimators.imputation_wild import imputation_wild
from impactlab.results.evaluation import CHECK_COLUMNS, STATUSES, number


def _org_panel(seed: int, dip: int, cluster: str | None = None) -> tuple[il.Panel, float]:
    org = il.datasets.simulate_org(n_employees=800, seed=seed, dip_periods=dip)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        panel = org.panel(cluster=cluster)
    return panel, float(org.truth.overall)


@pytest.fixture(scope="module")
def with_dip() -> tuple[il.Panel, float, il.Evaluation]:
    panel, truth = _org_panel(11, 2)
    return panel, truth, il.evaluate(panel)


def test_the_dip_sets_the_anticipation_window_and_the_headline_is_that_estimator(with_dip) -> None:
    panel, truth, ev = with_dip
    assert ev.anticipation == 2
    dip = ev.checks.set_index("check").loc["dip before training"]
    assert dip["status"] == "warn" and "anticipation window of 2" in dip["meaning"]
    res = il.imputation(panel, anticipation=2)
    assert ev.estimate == res.estimate and ev.conf_int(0.9) == res.conf_int(0.9)
    assert ev.method == "imputation" and ev.n_units == panel.n_units     # hires and leavers kept
    used = ev.checks.set_index("check").loc["employees used"]
    assert used["status"] == "pass" and "(100%)" in used["seen"]
    lo, hi = ev.conf_int()
    assert lo <= truth <= hi
    assert ev.event_study is not None
    assert np.allclose(ev.event_study.elements["estimate"], res.elements["estimate"])


def test_checks_table_and_tidy(with_dip) -> None:
    _, _, ev = with_dip
    assert tuple(ev.checks.columns) == CHECK_COLUMNS
    assert set(ev.checks["status"]) <= set(STATUSES)
    assert {"pre-training effects", "pre-training trend", "dip before training", "employees used",
            "turnover", "clusters", "propensity overlap", "cohort sizes",
            "comparison group"} == set(ev.checks["check"])
    assert ev.causal == (not (ev.checks["status"] == "fail").any())
    t = ev.tidy()
    assert t["method"].tolist()[0] == "imputation" and bool(t["causal"].iloc[0]) == ev.causal
    assert ev.naive is not None
    naive = t.set_index("method").loc["naive_difference", "estimate"]
    assert naive == ev.naive.naive.estimate and naive > ev.estimate + 4 * ev.std_error  # selection


def test_explain_calls_a_number_causal_only_when_no_check_fails(with_dip) -> None:
    _, _, ev = with_dip
    assert ev.causal
    assert str(ev.explain()).startswith(f"Training changed revenue by {number(ev.estimate)}")
    failing = ev.checks.copy()
    failing.loc[failing["check"] == "clusters", "status"] = "fail"
    bad = il.Evaluation(effect=ev.effect, checks=failing, event_study=ev.event_study, naive=ev.naive,
                        anticipation=ev.anticipation)
    assert not bad.causal
    text = str(bad.explain())
    first = failing.set_index("check").loc["clusters"]
    lo, hi = ev.conf_int()
    assert text.startswith(f"{number(ev.estimate)} (95% CI {number(lo)} to {number(hi)}) is not a causal "
                           f"estimate of the effect of training on revenue: {first['meaning']} "
                           f"{first['what_to_do']}")
    assert "Training changed" not in text


def test_without_a_dip_no_window_and_causal() -> None:
    panel, truth = _org_panel(13, 0)
    ev = il.evaluate(panel)
    assert ev.anticipation == 0
    assert ev.checks.set_index("check").loc["dip before training", "status"] == "pass"
    assert ev.causal
    lo, hi = ev.conf_int()
    assert lo <= truth <= hi


def test_the_panel_is_not_modified(with_dip) -> None:
    panel, _, _ = with_dip
    before = panel.long()
    il.evaluate(panel)
    pd.testing.assert_frame_equal(panel.long(), before)


def test_dip_window_rule() -> None:
    crit = 2.4977  # two-sided 5 % with Bonferroni over 4 periods: norm.ppf(1 - 0.05 / 8)
    dev = pd.DataFrame({"event_time": [-4, -3, -2, -1], "estimate": 0.0, "std_error": 1.0,
                        "z": [0.1, -0.5, -crit - 0.01, -crit + 0.01]})
    assert dip_window(dev) == 2                      # the furthest significant period sets the window
    dev["z"] = [0.0, 0.0, 0.0, -crit + 0.01]
    assert dip_window(dev) == 0
    dev["z"] = [0.0, 3.0, 0.0, 0.0]                  # a rise counts as well as a dip
    assert dip_window(dev) == 3
    assert dip_window(dev, n_clusters=6) == 0        # t(5) on CR1-scaled errors: 3 / sqrt(1.2) < 3.81
    assert dip_window(None) == 0 and PROBE == 4


def _trend_panel(slope: float, n_groups: int = 40) -> il.Panel:
    """Outcome = unit level + period effect + slope · t for the eventually trained, exactly; no noise."""
    rows = []
    rng = np.random.default_rng(0)
    for i in range(120):
        g = (0, 7, 9)[i % 3]
        level = rng.normal()
        for t in range(1, 13):
            y = level + np.sin(t) + (slope * t if g else 0.0) + (5.0 if g and t >= g else 0.0)
            rows.append((i, t, y, g, i % n_groups))
    df = pd.DataFrame(rows, columns=["id", "t", "y", "g", "team"])
    return il.Panel.from_frame(df, unit="id", time="t", outcome="y", cohort="g", cluster="team")


def test_pre_trend_recovers_a_known_slope_and_fails_the_check() -> None:
    slope, se, n_g = pre_trend(_trend_panel(0.25))
    assert slope == pytest.approx(0.25, abs=1e-9) and se < 1e-6 and n_g == 40
    assert pre_trend(_trend_panel(0.0))[0] == pytest.approx(0.0, abs=1e-9)
    rng = np.random.default_rng(1)
    df = _trend_panel(0.25).data
    df["y"] = df["y"] + rng.normal(scale=0.1, size=len(df))
    ev = il.evaluate(il.Panel.from_frame(df, unit="id", time="t", outcome="y", cohort="g", cluster="team"))
    assert ev.checks.set_index("check").loc["pre-training trend", "status"] == "fail"
    assert not ev.causal
    assert f"{number(ev.estimate)} (95% CI" in str(ev.explain()).split("is not a causal estimate")[0]


def test_few_clusters_take_the_interval_from_the_wild_bootstrap() -> None:
    df = _trend_panel(0.0, n_groups=6).data
    df["y"] = df["y"] + np.random.default_rng(2).normal(scale=0.1, size=len(df))
    panel = il.Panel.from_frame(df, unit="id", time="t", outcome="y", cohort="g", cluster="team")
    ev = il.evaluate(panel)
    row = ev.checks.set_index("check").loc["clusters"]
    assert row["status"] == "warn" and "6 values of 'team'" in row["seen"]
    assert "wild cluster bootstrap (WCR, null imposed, 9,999 webb draws, seed 0)" in row["seen"]
    assert ev.spec["inference"].startswith("wild cluster bootstrap") and ev.spec["seed"] == 0
    assert ev.anticipation == PROBE - 1          # with few clusters the widest window is left out
    plain = il.imputation(panel, anticipation=ev.anticipation)
    assert ev.std_error == pytest.approx(plain.std_error * np.sqrt(6 / 5), rel=1e-12)
    assert ev.estimate == plain.estimate
    assert ev.conf_int() == pytest.approx(imputation_wild(panel, plain, seed=0).conf_int(), rel=1e-9)
    assert ev.conf_int() == il.evaluate(panel).conf_int() != il.evaluate(panel, seed=1).conf_int()
    # the event study keeps Student's t: teams 0 and 3 hold the never trained, the other 4 the trained,
    # so min(6, 4 + 1, 2 + 1) - 1 = 2 degrees of freedom
    assert ev.effect.df == 2.0
    head = ev.tidy().iloc[0]
    assert (head["conf_low"], head["conf_high"]) == ev.conf_int() and head["p_value"] == ev.effect.p_value
    assert "clusters (warn): with fewer than 40 clusters" in " ".join(ev.explain().cautions)
    assert "wild cluster bootstrap" in str(ev.explain())


def test_fewer_than_four_clusters_fail_the_clusters_check() -> None:
    df = _trend_panel(0.0, n_groups=3).data
    df["y"] = df["y"] + np.random.default_rng(2).normal(scale=0.1, size=len(df))
    ev = il.evaluate(il.Panel.from_frame(df, unit="id", time="t", outcome="y", cohort="g", cluster="team"))
    row = ev.checks.set_index("check").loc["clusters"]
    assert row["status"] == "fail" and not ev.causal and "fewer than 4 clusters" in row["meaning"]


def test_few_clusters_result() -> None:
    res = il.EffectResult(estimate=1.0, std_error=2.0,
                          elements=pd.DataFrame({"event_time": [0, 1], "estimate": [1.0, 1.0],
                                                 "std_error": [2.0, 4.0]}),
                          element_vcov=np.diag([4.0, 16.0]))
    out = few_clusters(res, 6)
    assert out.std_error == pytest.approx(2.0 * np.sqrt(1.2)) and out.df == 5.0
    assert out.elements["std_error"].tolist() == pytest.approx([2.0 * np.sqrt(1.2), 4.0 * np.sqrt(1.2)])
    assert np.allclose(out.element_vcov, np.diag([4.8, 19.2]))
    assert res.std_error == 2.0 and res.df is None                # a new result
    assert few_clusters(res, 1) is res
    assert few_clusters(res, 6, 3).df == 2.0


def test_covariates_get_an_overlap_check() -> None:
    df = _trend_panel(0.0).data
    rng = np.random.default_rng(3)
    df["y"] = df["y"] + rng.normal(scale=0.1, size=len(df))
    df["x"] = np.repeat(rng.normal(size=df["id"].nunique()), 12)
    panel = il.Panel.from_frame(df, unit="id", time="t", outcome="y", cohort="g", covariates=["x"])
    ev = il.evaluate(panel, covariates=["x"])
    row = ev.checks.set_index("check").loc["propensity overlap"]
    assert row["status"] == "pass" and "propensity of being trained" in row["seen"]
    assert ev.spec["covariates"] == ["x"]
    assert time_varying(panel, ["x"]) == []     # constant within employees: absorbed by their effects
    assert ev.estimate == pytest.approx(5.0, abs=0.1)


def test_bad_arguments() -> None:
    with pytest.raises(TypeError, match="expects an impactlab Panel"):
        il.evaluate(pd.DataFrame())
    with pytest.raises(ValueError, match="'level' parameter"):
        il.evaluate(_trend_panel(0.0), level=95)


def test_the_comparison_beside_the_evaluation_has_its_estimate_as_the_causal_row(with_dip) -> None:
    panel, truth, ev = with_dip
    cmp = ev.naive
    assert cmp is not None and cmp.causal_method == "imputation"
    assert cmp.estimate == ev.estimate and cmp.conf_int(0.9) == ev.conf_int(0.9)
    assert "callaway_santanna" not in cmp.results          # one causal number on a chart or in a summary
    assert cmp.naive.estimate == il.naive_difference(panel).estimate
    tidy = cmp.tidy()
    assert tidy.loc[0, "estimate"] == ev.estimate and bool(tidy.loc[0, "causal"])
    assert il.evaluate(panel, truth=123.0).naive.truth == 123.0
