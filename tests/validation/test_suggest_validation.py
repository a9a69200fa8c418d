"""evaluate suggests a design only where it was measured to hold the truth (docs/validation.md, "evaluate
suggests a design"): pilot_study.py (a pilot in a few teams: synthetic DiD on the teams), overlap_study.py
(several programmes taken by the same employees: portfolio) and dose_study.py (hours that vary: the
dose-response design, measured and not suggested). A small version runs by default; the numbers of the page
under ``-m slow``.
"""

from __future__ import annotations

import pytest
from dose_study import run as run_dose
from overlap_study import run as run_overlap
from pilot_study import run as run_pilot


def test_pilot_small() -> None:
    """Two simulated pilots of 3 teams among 50: detected, synthetic DiD suggested, and its interval holds
    the pilot teams' effect."""
    res = run_pilot(range(9501, 9503), 3, n_employees=600)
    assert (res["suggested"] == "synthetic_did").all()
    assert res["checks_warned"].str.contains("trained clusters").all()
    assert res["sdid_covered"].all()
    assert (res["sdid_n_treated"] == 3).all()


def test_pilot_detection_without_synthetic_did() -> None:
    """One trained team and five (the threshold) are pilots; the estimate is what evaluate reports."""
    one = run_pilot(range(9503, 9505), 1, n_employees=600, sdid=False)
    five = run_pilot(range(9503, 9505), 5, n_employees=600, sdid=False)
    assert (one["suggested"] == "synthetic_did").all() and (five["suggested"] == "synthetic_did").all()


def test_overlap_small() -> None:
    """One organisation running three programmes: each programme's evaluation warns and suggests
    portfolio, whose interval holds each programme's truth."""
    res = run_overlap(range(9700, 9701), n_employees=800)
    assert res["warned"].all() and (res["suggested"] == "portfolio").all()
    assert res["portfolio_covered"].all()


@pytest.mark.slow
def test_pilot_fifty_organisations() -> None:
    """50 pilots of 3 teams among 50 (docs/validation.md): synthetic DiD held the pilot teams' effect in 45
    (at least 43 asked); evaluate's clustered interval, too narrow with 3 trained clusters, held the effect
    per trained employee in 34 (the warning stands while it holds it in at most 40)."""
    res = run_pilot(range(9500, 9550), 3, n_employees=600)
    assert (res["suggested"] == "synthetic_did").all()
    assert res["checks_warned"].str.contains("trained clusters").all()
    assert res["sdid_covered"].sum() >= 43
    assert res["covered"].sum() <= 40


@pytest.mark.slow
def test_overlap_forty_organisations() -> None:
    """40 organisations running three programmes: every programme's evaluation warns and suggests portfolio,
    whose intervals held the truths 36, 37 and 40 times (at least 35 asked); evaluated alone, the programme
    with no effect was covered 4 times (at most 10)."""
    res = run_overlap(range(9700, 9740), n_employees=1000)
    assert res["warned"].all() and (res["suggested"] == "portfolio").all()
    by = res.groupby("program")
    assert (by["portfolio_covered"].sum() >= 35).all()
    assert by["covered"].sum()["Time Management"] <= 10


@pytest.mark.slow
def test_dose_response_on_the_dose_organisations() -> None:
    """Hours drawn at random and the gain proportional to them, on simulate_org's defaults: since the
    dose-response design leaves the dip months before training out of its averages, its interval for ATT^o
    held its own estimand in 44 of 49 organisations (bias -3; it was 30 of 49 with the dip months averaged
    in) and its band the whole curve in 42, evaluate's in 43 of 49. evaluate does not suggest it (yet)."""
    res = run_dose(range(9600, 9650))
    ok = res[res["failed"] == ""]
    assert len(ok) >= 45
    assert ok["att_covered"].sum() >= 42
    assert abs((ok["att"] - ok["att_truth"]).mean()) < 30
    assert (res["suggested"] == "").all()
