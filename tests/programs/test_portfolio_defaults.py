"""portfolio() right by default: the anticipation window set from each programme's dip by evaluate's rule,
an explicit window used as given, and each programme's pre-training effects tested (Test 1 of Borusyak,
Jaravel & Spiess on the observations no programme has reached), against a least-squares fit with every
unit and period dummy written out.
"""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
import pytest

import impactlab as il
from impactlab.analysis.evaluate import dip_deviations, dip_window, probe
from impactlab.programs.checks import lead_tests

FURTHER = {"Negotiation Skills": 0.5, "Time Management": 0.0}


def _org(seed: int = 3, bump: float = 0.0) -> tuple[il.datasets.Org, il.Table, il.Table, il.Table]:
    """A simulated three-programme organisation (every programme with a 2-month dip); with ``bump``, the
    outcome of Negotiation Skills' trained raised by ``bump`` 4 and 5 months before its completion."""
    org = il.datasets.simulate_org(n_employees=600, n_periods=20, seed=seed, programs=FURTHER)
    kpis = org.kpis.copy()
    if bump:
        panel = il.build_panel(il.read_kpis(org.kpis, unit="employee_id", time="month"),
                               il.read_completions(org.completions), program="Negotiation Skills",
                               outcome=org.outcome, roster=il.read_roster(org.roster))
        long = panel._long
        first = long.loc[long["cohort_period"] > 0].groupby("unit")["cohort_period"].first()
        code = {str(label): i + 1 for i, label in enumerate(panel.periods)}
        gap = np.array([first.get(e, -99) - code[str(m)] for e, m in zip(kpis["employee_id"], kpis["month"],
                                                                        strict=True)])
        kpis[org.outcome] = kpis[org.outcome] + np.where(np.isin(gap, (4, 5)), bump, 0.0)
    return (org, il.read_kpis(kpis, unit="employee_id", time="month"), il.read_completions(org.completions),
            il.read_roster(org.roster))


@pytest.fixture(scope="module")
def default_run() -> tuple[il.datasets.Org, il.Table, il.Table, il.Table, il.PortfolioResult]:
    org, kpis, comp, roster = _org()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        res = il.portfolio(kpis, comp, programs=list(org.truths), outcome=org.outcome, roster=roster)
    return org, kpis, comp, roster, res


def test_the_dip_is_found_per_programme_by_evaluates_rule(default_run) -> None:
    org, kpis, comp, roster, res = default_run
    # each programme's window is the one evaluate's rule gives on that programme's own panel
    for title in org.truths:
        panel = il.build_panel(kpis, comp, program=title, outcome=org.outcome, roster=roster)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            expected = dip_window(dip_deviations(probe(panel)), panel.n_units)
        assert res.spec["dip_windows"][title] == expected
    # the simulator's dip is 2 months before every completion, and the rule finds it for each programme
    assert res.spec["dip_windows"] == {t: 2 for t in org.truths}
    assert res.spec["anticipation"] == 2 and res.spec["anticipation_rule"].startswith("set from the data")
    dips = res.checks[res.checks["check"].str.startswith("dip before training")]
    assert list(dips["status"]) == ["warn"] * 3
    assert "evaluate's rule" in res.summary() and "anticipation= sets it" in str(res.explain())


def test_the_default_equals_the_detected_window_given_by_hand(default_run) -> None:
    org, kpis, comp, roster, res = default_run
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        given = il.portfolio(kpis, comp, programs=list(org.truths), outcome=org.outcome, roster=roster,
                             anticipation=2)
    pd.testing.assert_frame_equal(res.programs, given.programs)
    assert given.spec["anticipation_rule"] == "given" and given.spec["dip_windows"] == {}
    # an explicit window wins, and no dip is measured then
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        zero = il.portfolio(kpis, comp, programs=list(org.truths), outcome=org.outcome, roster=roster,
                            anticipation=0)
    assert zero.spec["anticipation"] == 0
    assert not zero.checks["check"].str.startswith("dip").any()
    # without the window the dip lowers the untouched fit's level of the trained: every effect too high
    assert (zero.programs["estimate"].to_numpy() > res.programs["estimate"].to_numpy() + 100).all()


def test_pre_training_effects_pass_without_and_fail_with_a_bump_before_the_window(default_run) -> None:
    org, _, _, _, res = default_run
    pre = res.checks[res.checks["check"].str.startswith("pre-training effects")]
    assert list(pre["check"]) == [f"pre-training effects: {t}" for t in org.truths]
    assert (pre["status"] == "pass").all(), pre
    org, kpis, comp, roster = _org(bump=1500.0)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        bumped = il.portfolio(kpis, comp, programs=list(org.truths), outcome=org.outcome, roster=roster,
                              anticipation=2)
    status = bumped.checks.set_index("check")["status"]
    assert status["pre-training effects: Negotiation Skills"] == "fail"
    assert status["pre-training effects: Consultative Selling"] != "fail"
    assert "pre-training effects: Negotiation Skills (fail)" in str(bumped.explain())


@pytest.mark.parametrize(("teams", "status"), [(None, "pass"), (12, "warn"), (6, "fail")])
def test_the_clusters_check_says_where_the_intervals_were_validated(teams, status) -> None:
    org = il.datasets.simulate_org(n_employees=300, n_periods=20, seed=4, teams=teams, programs=FURTHER)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        res = il.portfolio(il.read_kpis(org.kpis, unit="employee_id", time="month"),
                           il.read_completions(org.completions), programs=list(org.truths),
                           outcome=org.outcome, roster=il.read_roster(org.roster),
                           cluster=None if teams is None else "team")
    row = res.checks.set_index("check").loc["clusters"]
    assert row["status"] == status
    if teams is not None:
        assert res.spec["n_clusters"] == teams and res.df == teams - 1
        # with few clusters the dip rule leaves out its widest window, as evaluate does
        assert res.spec["anticipation"] == 3
        assert ("94 to 97 times" if teams == 12 else "6 teams") in row["meaning"]
        assert ("clusters (fail)" in str(res.explain())) is (status == "fail")


def test_lead_estimates_equal_least_squares_with_every_dummy() -> None:
    rng = np.random.default_rng(7)
    n_units, n_t = 30, 12
    unit = np.repeat(np.arange(n_units), n_t)
    period = np.tile(np.arange(1, n_t + 1), n_units)
    # two programmes; cohort periods 0 (never) or 7..10
    ga = rng.choice([0, 7, 8, 9, 10], n_units)[unit]
    gb = rng.choice([0, 8, 10], n_units)[unit]
    cohorts = np.column_stack([ga, gb])
    y = rng.normal(size=n_units)[unit] + 0.3 * period + rng.normal(size=len(unit))
    a = 1
    out = lead_tests(unit, period, y, unit, cohorts, a)
    # by hand: the untouched rows, dummies for every unit, period and lead (event times -5 to -2)
    keep = ~(((cohorts > 0) & (period[:, None] >= cohorts - a)).any(axis=1))
    cols = [(unit[keep] == u).astype(float) for u in range(n_units)]
    cols += [(period[keep] == t).astype(float) for t in range(2, n_t + 1)]
    names = []
    for p in range(2):
        ev = period[keep] - cohorts[keep, p]
        for e in range(-a - 4, -a):
            d = (cohorts[keep, p] > 0) & (ev == e)
            if d.any():
                cols.append(d.astype(float))
                names.append((p, e))
    X = np.column_stack(cols)
    beta = np.linalg.lstsq(X, y[keep], rcond=None)[0][-len(names):]
    for p in range(2):
        leads = out[p]
        assert leads is not None
        mine = [i for i, (q, _) in enumerate(names) if q == p]
        assert list(leads[0]["event_time"]) == [names[i][1] for i in mine]
        np.testing.assert_allclose(leads[0]["estimate"], beta[mine], atol=1e-8)
        assert 0.0 < leads[1] < 1.0 and leads[2] == len(mine) and leads[3] == n_units - 1
