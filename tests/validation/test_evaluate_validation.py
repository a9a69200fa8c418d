"""``il.evaluate(panel)`` with no options on simulated organisations with a known truth (evaluate_study.py).

The default run draws a few small organisations per scenario (seeds the slow run does not use); the slow
run is the acceptance study of issue 13 on ``simulate_org`` defaults (2,000 employees), 20 seeds per
scenario: the interval holds the truth in at least 18 of 20 with the dip and without it, the number is
called causal in at least 18 of 20 without a dip, and in at most 1 of 10 when the trained drift away before
training; with training assigned by 6 teams the interval, from the wild cluster bootstrap, holds the truth
and the clusters check warns. Few clusters (few_clusters_study.py): the bootstrap's interval with 4, 6 and
12 teams. Informative attrition: leaving after a poor month. Their numbers are in docs/validation.md.
"""

from __future__ import annotations

import numpy as np
import pytest
from evaluate_study import run
from few_clusters_study import run as run_teams


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


def test_few_teams_small() -> None:
    """6 teams, small organisations: the bootstrap interval holds the truth and is wider than the normal
    one built on the conservative standard error, which misses the team shocks."""
    teams = run_teams(range(71, 75), 6, n_employees=600)
    assert teams["wcr_covered"].sum() >= 3
    assert (teams["wcr_width"] > teams["normal_width"]).all()


def test_informative_attrition_small() -> None:
    """Leaving after a poor month: the estimate stays within three standard errors of the truth on average
    and the interval holds it."""
    res = run(range(71, 75), "attrition", n_employees=800)
    bias = (res["estimate"] - res["truth"]).mean()
    assert abs(bias) < 3 * res["std_error"].mean() / np.sqrt(len(res))
    assert res["covered"].sum() >= 3


@pytest.mark.slow
def test_evaluate_six_teams() -> None:
    """Training assigned by 6 teams: the wild cluster bootstrap's interval held the truth in 193 of 200
    organisations (docs/validation.md); the clusters check warns."""
    teams = run(range(9100, 9140), "teams6")
    assert teams["covered"].sum() >= 37          # 40 of 40 measured
    assert (teams["clusters"] == "warn").all()


@pytest.mark.slow
def test_few_clusters_4_and_12_teams() -> None:
    four = run_teams(range(9300, 9340), 4)
    assert four["wcr_covered"].sum() >= 38       # 40 of 40 measured
    twelve = run_teams(range(9400, 9440), 12)
    assert twelve["wcr_covered"].sum() >= 33     # 35 of 40 measured (and 35 with CR1 and Student's t)


@pytest.mark.slow
def test_informative_attrition_twenty_organisations() -> None:
    res = run(range(9000, 9020), "attrition")
    assert res["covered"].sum() >= 17           # 18 of 20 measured
