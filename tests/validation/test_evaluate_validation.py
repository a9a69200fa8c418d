"""``il.evaluate(panel)`` with no options on simulated organisations with a known truth (evaluate_study.py).

The default run draws a few small organisations per scenario (seeds the slow run does not use); the slow
run is the acceptance study of issue 13 on ``simulate_org`` defaults (2,000 employees), 20 seeds per
scenario: the interval holds the truth in at least 18 of 20 with the dip and without it, the number is
called causal in at least 18 of 20 without a dip, and in at most 1 of 10 when the trained drift away before
training; with training assigned by 6 teams it is never called causal. Its numbers are in
docs/validation.md.
"""

from __future__ import annotations

import pytest
from evaluate_study import run


def test_evaluate_small_organisations() -> None:
    dip = run(range(71, 75), "default", n_employees=800)
    assert (dip["anticipation"] == 2).all()          # the dip rule finds the two-month dip every time
    assert (dip["share_used"] >= 0.9).all()
    assert dip["covered"].sum() >= 3
    no_dip = run(range(71, 75), "no_dip", n_employees=800)
    assert no_dip["covered"].sum() >= 3 and no_dip["causal"].sum() >= 3
    drift = run(range(71, 74), "drift", n_employees=800)
    assert not drift["causal"].any()


@pytest.mark.slow
def test_evaluate_acceptance_issue_13() -> None:
    seeds = range(9000, 9020)
    dip = run(seeds, "default")
    assert dip["covered"].sum() >= 18
    assert (dip["share_used"] >= 0.9).all()          # employees with KPI rows the estimate used
    no_dip = run(seeds, "no_dip")
    assert no_dip["covered"].sum() >= 18 and no_dip["causal"].sum() >= 18
    drift = run(range(9000, 9010), "drift")
    assert (~drift["causal"]).sum() >= 9


@pytest.mark.slow
def test_evaluate_six_teams_is_not_called_causal() -> None:
    """Training assigned by 6 teams: the small-cluster interval held the truth in 182 of 200 organisations
    (91 %, short of its 95 %), so the clusters check fails every time."""
    teams = run(range(9100, 9140), "teams6")
    assert not teams["causal"].any()
    assert teams["covered"].sum() >= 34          # 35 of 40 measured
