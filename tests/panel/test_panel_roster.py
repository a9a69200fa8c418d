"""Roster in the panel: as-of attributes, hires, terminations and rehires, team-level exposure, dose."""

from __future__ import annotations

import pandas as pd
import pytest

import impactlab as il
from impactlab.errors import PanelError
from impactlab.panel.roster import BETWEEN_SPELLS, employment_spells

MONTHS = ["2024-01", "2024-02", "2024-03", "2024-04", "2024-05", "2024-06"]


def _kpis(ids):
    return il.read_kpis(pd.DataFrame({
        "employee_id": [e for e in ids for _ in MONTHS],
        "month": MONTHS * len(ids),
        "revenue": [float(10 * i + k) for i in range(len(ids)) for k in range(len(MONTHS))],
    }))


def _completions(rows):
    return il.read_completions(pd.DataFrame(rows, columns=["User ID", "Course", "Status", "Completed",
                                                           "Hours"]))


@pytest.fixture
def asof_roster():
    # E1 moves from team A to team B on 1 April; E2 leaves on 15 Feb and is rehired into team C on 10 May
    return il.read_roster(pd.DataFrame({
        "Employee ID": ["E1", "E1", "E2", "E2"],
        "Team": ["A", "B", "A", "C"],
        "Hire Date": ["2020-01-01", "2020-01-01", "2023-01-01", "2024-05-10"],
        "Termination Date": ["", "", "2024-02-15", ""],
        "Valid From": ["2020-01-01", "2024-04-01", "2023-01-01", "2024-05-10"],
        "Valid To": ["2024-03-31", "", "2024-02-15", ""],
    }))


def test_rehire_gives_two_spells_and_the_gap_is_not_an_outcome(asof_roster):
    spells = employment_spells(asof_roster.frame)
    assert spells.loc[spells["employee_id"] == "E2", "hire_date"].dt.strftime("%Y-%m-%d").tolist() == [
        "2023-01-01", "2024-05-10"]
    comp = _completions([["E1", "Safety", "Completed", "2024-03-10", 4]])
    panel = il.build_panel(_kpis(["E1", "E2"]), comp, program="Safety", outcome="revenue",
                           roster=asof_roster, cluster="team")
    gap = panel.dropped.set_index(["unit", "time"])["reason"]
    assert gap[("E2", pd.Period("2024-03", "M"))] == BETWEEN_SPELLS
    assert gap[("E2", pd.Period("2024-04", "M"))] == BETWEEN_SPELLS
    assert len(panel.dropped) == 2 and panel.n_obs == 10


def test_team_is_taken_as_of_each_period(asof_roster):
    comp = _completions([["E1", "Safety", "Completed", "2024-03-10", 4]])
    panel = il.build_panel(_kpis(["E1", "E2"]), comp, program="Safety", outcome="revenue",
                           roster=asof_roster, cluster="team")
    long = panel.long()
    e1 = long.loc[long["unit"] == "E1", "cluster"].tolist()
    e2 = long.loc[long["unit"] == "E2", "cluster"].tolist()
    assert e1 == ["A", "A", "A", "B", "B", "B"]       # the move on 1 April shows from April on
    assert e2 == ["A", "A", "C", "C"]                 # Jan, Feb (left 15 Feb), then rehired into C in May


@pytest.fixture
def teams():
    # team A: 4 people (A4 leaves in March), team B: 2 people
    roster = il.read_roster(pd.DataFrame({
        "Employee ID": ["A1", "A2", "A3", "A4", "B1", "B2"],
        "Team": ["A", "A", "A", "A", "B", "B"],
        "Hire Date": ["2020-01-01"] * 6,
        "Termination Date": ["", "", "", "2024-03-20", "", ""],
    }))
    comp = _completions([
        ["A1", "Safety", "Completed", "2024-02-05", 2],
        ["A2", "Safety", "Completed", "2024-04-07", 2],
        ["A3", "Safety", "Failed", "2024-02-01", 1],
        ["B1", "Safety", "Completed", "2024-05-30", 3],
        ["B2", "Safety", "Exempt", "", None],
    ])
    kpis = il.read_kpis(pd.DataFrame({"team": [t for t in "AB" for _ in MONTHS], "month": MONTHS * 2,
                                      "sales": [float(k) for k in range(12)]}), unit="team")
    return roster, comp, kpis


def test_team_panel_shares_and_threshold_cohorts(teams):
    roster, comp, kpis = teams
    panel = il.build_panel(kpis, comp, program="Safety", outcome="sales", roster=roster, unit="team")
    exp = panel.meta["exposure"].set_index(["team", "period"])
    # team A: Feb 1 of 4 trained; April: A4 has left -> headcount 3, A1 and A2 trained -> 2/3
    assert exp.loc[("A", pd.Period("2024-02", "M")), ["headcount", "trained"]].tolist() == [4, 1]
    assert exp.loc[("A", pd.Period("2024-04", "M")), ["headcount", "trained"]].tolist() == [3, 2]
    assert exp.loc[("A", pd.Period("2024-04", "M")), "share"] == pytest.approx(2 / 3)
    # team B: B1 in May -> 1/2; the exempt B2 is credited, not trained
    assert exp.loc[("B", pd.Period("2024-06", "M")), "share"] == 0.5
    cohorts = panel.long().drop_duplicates("unit").set_index("unit")["cohort"]
    assert cohorts["A"] == pd.Period("2024-04", "M") and cohorts["B"] == pd.Period("2024-05", "M")
    high = il.build_panel(kpis, comp, program="Safety", outcome="sales", roster=roster, unit="team",
                          threshold=0.75)
    assert high.long().drop_duplicates("unit")["cohort"].isna().all()


def test_team_panel_needs_a_roster_and_a_valid_threshold(teams):
    roster, comp, kpis = teams
    with pytest.raises(PanelError, match="needs roster="):
        il.build_panel(kpis, comp, program="Safety", outcome="sales", unit="team")
    with pytest.raises(ValueError, match="'threshold' parameter must be a share in \\(0, 1\\]"):
        il.build_panel(kpis, comp, program="Safety", outcome="sales", roster=roster, unit="team",
                       threshold=1.5)


def test_dose_attempts_and_hours_are_unit_covariates(teams):
    roster, comp, _ = teams
    comp = _completions([
        ["A1", "Safety", "Failed", "2024-01-20", 2],
        ["A1", "Safety", "Completed", "2024-02-05", 1.5],
        ["A2", "Safety", "Completed", "2024-04-07", 2],
    ])
    panel = il.build_panel(_kpis(["A1", "A2", "A3"]), comp, program="Safety", outcome="revenue",
                           roster=roster, dose=["attempts", "hours"])
    units = panel.long().drop_duplicates("unit").set_index("unit")
    assert panel.covariates == ("attempts", "hours")
    assert units["attempts"].tolist() == [2.0, 1.0, 0.0]
    assert units["hours"].tolist() == [3.5, 2.0, 0.0]
    assert units.loc["A1", "cohort"] == pd.Period("2024-02", "M")  # the first completion, not the retake
    with pytest.raises(ValueError, match="'dose' parameter"):
        il.build_panel(_kpis(["A1"]), comp, program="Safety", outcome="revenue", dose=["minutes"])
