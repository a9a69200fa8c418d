"""``il.evaluate``: the estimate it reports, its checks, the dip rule and the trend check, on simulated
organisations (known truth) and hand-made panels (known answers)."""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
import pytest

import impactlab as il
from impactlab.analysis.evaluate import PROBE, dip_window, pre_trend
from impactlab.results.evaluation import CHECK_COLUMNS, STATUSES, number


def _org_panel(seed: int, dip: int, cluster: str | None = None) -> tuple[il.Panel, float]:
    org = il.datasets.simulate_org(n_employees=800, seed=seed, dip_periods=dip)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        panel = il.build_panel(il.read_kpis(org.kpis, unit="employee_id", time="month"),
                               il.read_completions(org.completions), program=org.program,
                               outcome=org.outcome, roster=il.read_roster(org.roster), cluster=cluster)
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
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        cs = il.callaway_santanna(panel, control="not_yet_treated", anticipation=2)
    assert ev.estimate == cs.aggregate("simple").estimate
    assert ev.conf_int(0.9) == cs.aggregate("simple").conf_int(0.9)
    assert ev.method == "callaway_santanna" and ev.n_units == cs.n_units
    lo, hi = ev.conf_int()
    assert lo <= truth <= hi
    # the event study is the dynamic aggregation of the same fit
    assert ev.event_study is not None
    assert np.allclose(ev.event_study.elements["estimate"], cs.aggregate("dynamic").elements["estimate"])


def test_checks_table_and_tidy(with_dip) -> None:
    _, _, ev = with_dip
    assert tuple(ev.checks.columns) == CHECK_COLUMNS
    assert set(ev.checks["status"]) <= set(STATUSES)
    assert {"pre-training effects", "pre-training trend", "dip before training", "employees used",
            "turnover", "clusters", "propensity overlap", "cohort sizes",
            "comparison group"} == set(ev.checks["check"])
    assert ev.causal == (not (ev.checks["status"] == "fail").any())
    t = ev.tidy()
    assert t["method"].tolist()[0] == "callaway_santanna" and bool(t["causal"].iloc[0]) == ev.causal
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
    assert text.startswith(f"{number(ev.estimate)} is not a causal estimate of the effect of training on "
                           f"revenue: {first['meaning']} {first['what_to_do']}")
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
    assert str(ev.explain()).startswith(f"{number(ev.estimate)} is not a causal estimate")


def test_few_clusters_fail_the_clusters_check() -> None:
    df = _trend_panel(0.0, n_groups=6).data
    df["y"] = df["y"] + np.random.default_rng(2).normal(scale=0.1, size=len(df))
    ev = il.evaluate(il.Panel.from_frame(df, unit="id", time="t", outcome="y", cohort="g", cluster="team"))
    row = ev.checks.set_index("check").loc["clusters"]
    assert "6 values of 'team'" in row["seen"]


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
    assert ev.estimate == pytest.approx(5.0, abs=0.1)


def test_bad_arguments() -> None:
    with pytest.raises(TypeError, match="expects an impactlab Panel"):
        il.evaluate(pd.DataFrame())
    with pytest.raises(ValueError, match="'level' parameter"):
        il.evaluate(_trend_panel(0.0), level=95)
