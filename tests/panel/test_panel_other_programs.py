"""build_panel records the other programmes the panel's employees completed within its periods
(``panel.meta["other_programs"]``), which evaluate reads to see overlapping programmes."""

from __future__ import annotations

import warnings

import pandas as pd
import pytest

import impactlab as il

MONTHS = [f"2024-{m:02d}" for m in range(1, 7)]
IDS = ["A1", "A2", "A3", "A4", "A5", "A6"]


def _kpis() -> il.io.Table:
    return il.read_kpis(pd.DataFrame({
        "employee_id": [e for e in IDS for _ in MONTHS],
        "month": MONTHS * len(IDS),
        "revenue": [float(10 * i + k) for i in range(len(IDS)) for k in range(len(MONTHS))],
    }))


def test_other_programmes_counted_by_hand() -> None:
    comp = il.read_completions(pd.DataFrame([
        ["A1", "Safety", "Completed", "2024-02-05"],
        ["A2", "Safety", "Completed", "2024-03-07"],
        ["A1", "Coaching", "Completed", "2024-04-02"],          # trained in Safety, also Coaching
        ["A1", "coaching ", "Completed", "2024-05-02"],         # a second completion: one employee
        ["A3", "Coaching", "Completed", "2024-02-11"],          # untrained in Safety
        ["A4", "Coaching", "Completed", "2024-09-01"],          # after the panel's last month: not counted
        ["A5", "Coaching", "In progress", ""],                  # not completed: not counted
        ["A6", "Coaching", "Exempt", "2024-03-01"],             # credited, not trained: not counted
        ["A9", "Coaching", "Completed", "2024-03-01"],          # not in the panel: not counted
        ["A2", "Excel", "Completed", "2024-01-15"],
    ], columns=["User ID", "Course", "Status", "Completed"]))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")   # A9 matches no KPI row
        panel = il.build_panel(_kpis(), comp, program="Safety", outcome="revenue")
    other = panel.meta["other_programs"]
    assert list(other.columns) == ["program", "employees", "also_trained", "share_trained", "share_untrained"]
    assert other["program"].tolist() == ["Coaching", "Excel"]
    assert other["employees"].tolist() == [2, 1]
    assert other["also_trained"].tolist() == [1, 1]
    # 2 trained in Safety (A1, A2), 4 not: Coaching 1/2 and 1/4, Excel 1/2 and 0/4
    assert other["share_trained"].tolist() == [0.5, 0.5]
    assert other["share_untrained"].tolist() == [0.25, 0.0]


def test_no_other_programme() -> None:
    comp = il.read_completions(pd.DataFrame([["A1", "Safety", "Completed", "2024-02-05"]],
                                            columns=["User ID", "Course", "Status", "Completed"]))
    other = il.build_panel(_kpis(), comp, program="Safety", outcome="revenue").meta["other_programs"]
    assert other.empty and list(other.columns)[0] == "program"


def test_simulated_background_courses_are_taken_alike() -> None:
    """simulate_org's background courses (a compliance module, a masterclass) are taken at random: the
    trained and the untrained take them in the same proportion, the situation where no other programme
    stands in the way of the one analysed."""
    org = il.datasets.simulate_org(seed=7)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        panel = il.build_panel(il.read_kpis(org.kpis, unit="employee_id", time="month"),
                               il.read_completions(org.completions), program=org.program,
                               outcome=org.outcome, roster=il.read_roster(org.roster))
    other = panel.meta["other_programs"].set_index("program")
    assert other.index.tolist() == ["Compliance Essentials 2024", "Negotiation Masterclass"]
    assert other.loc["Compliance Essentials 2024", "employees"] == 491
    assert other.loc["Compliance Essentials 2024", "share_trained"] == pytest.approx(0.2478, abs=1e-4)
    assert other.loc["Compliance Essentials 2024", "share_untrained"] == pytest.approx(0.2517, abs=1e-4)
    assert other.loc["Negotiation Masterclass", "employees"] == 31


def test_team_panels_have_no_record() -> None:
    org = il.datasets.simulate_org(n_employees=300, seed=1)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        roster = il.read_roster(org.roster)
        k = org.kpis.merge(org.roster[["Employee ID", "Team"]], left_on="employee_id", right_on="Employee ID")
        team = k.groupby(["Team", "month"], as_index=False)["revenue"].mean()
        panel = il.build_panel(il.read_kpis(team, unit="team", time="month"),
                               il.read_completions(org.completions), program=org.program, outcome="revenue",
                               roster=roster, unit="team")
    assert "other_programs" not in panel.meta
