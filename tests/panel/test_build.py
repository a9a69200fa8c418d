"""build_panel: cohorts from first completions, employment checks, every KPI row accounted for."""

from __future__ import annotations

import pandas as pd
import pytest

import impactlab as il
from impactlab.errors import PanelError


@pytest.fixture
def tables():
    kpis = pd.DataFrame({
        "employee_id": ["E1"] * 4 + ["E2"] * 4 + ["E3"] * 4 + ["E9"] * 2,
        "month": ["2024-01", "2024-02", "2024-03", "2024-04"] * 3 + ["2024-01", "2024-02"],
        "revenue": [10, 11, 15, 16, 20, 21, 22, None, 5, 6, 7, 8, 1, 1],
    })
    completions = pd.DataFrame({
        "User ID": ["E1", "E1", "E2", "E3", "E3"],
        "Training Title": ["Consultative Selling", "Consultative Selling", "Consultative Selling",
                           "Consultative Selling", "Other Course"],
        "Transcript Status": ["Failed", "Completed", "Exempt", "No Show", "Completed"],
        "Transcript Completed Date": ["2024-02-10 09:00:00", "2024-03-05 10:00:00", "", "",
                                      "2024-01-15 10:00:00"],
    })
    roster = pd.DataFrame({
        "Employee ID": ["E1", "E2", "E3"], "Team": ["A", "A", "B"], "Region": ["N", "S", "S"],
        "Hire Date": ["2023-06-01", "2023-01-01", "2024-02-01"],
        "Termination Date": ["", "2024-03-20", ""],
    })
    return (il.read_kpis(kpis, unit="employee_id", time="month"), il.read_completions(completions),
            il.read_roster(roster))


def test_cohort_is_the_month_of_first_completion(tables):
    kpis, comp, roster = tables
    panel = il.build_panel(kpis, comp, program="consultative selling ", outcome="revenue", roster=roster)
    units = panel.long().drop_duplicates("unit").set_index("unit")
    assert units.loc["E1", "cohort"] == pd.Period("2024-03", "M")    # failed first, completed in March
    assert pd.isna(units.loc["E2", "cohort"])                        # exempt: credited, not trained
    assert pd.isna(units.loc["E3", "cohort"])                        # no-show; other course does not count
    assert panel.meta["trained_employees"] == 1


def test_every_kpi_row_is_kept_or_dropped_with_a_reason(tables):
    kpis, comp, roster = tables
    panel = il.build_panel(kpis, comp, program="Consultative Selling", outcome="revenue", roster=roster)
    reasons = panel.dropped.set_index(["unit", "time"])["reason"]
    assert reasons[("E9", pd.Period("2024-01", "M"))] == "employee not in the roster"
    assert reasons[("E3", pd.Period("2024-01", "M"))] == "period before hire date"
    assert reasons[("E2", pd.Period("2024-04", "M"))] == "period after termination date"
    assert panel.n_obs + len(panel.dropped) == len(kpis.frame)
    assert set(panel.dropped["source_row"]) <= set(kpis.frame["source_row"])


def test_text_covariates_are_one_hot_encoded_and_cluster_comes_from_roster(tables):
    kpis, comp, roster = tables
    panel = il.build_panel(kpis, comp, program="Consultative Selling", outcome="revenue", roster=roster,
                           covariates=["region"], cluster="team")
    assert panel.covariates == ("region[S]",)
    long = panel.long().drop_duplicates("unit").set_index("unit")
    assert long.loc["E1", "region[S]"] == 0 and long.loc["E3", "region[S]"] == 1
    assert long.loc["E3", "cluster"] == "B"


def test_unknown_program_and_outcome_are_explained(tables):
    kpis, comp, roster = tables
    with pytest.raises(PanelError, match="Programmes in the data"):
        il.build_panel(kpis, comp, program="Negotiation", outcome="revenue")
    with pytest.raises(PanelError, match=r"available: \['revenue'\]"):
        il.build_panel(kpis, comp, program="Consultative Selling", outcome="deals")


def test_raw_frames_are_read_with_default_readers():
    org = il.datasets.simulate_org(n_employees=150, n_periods=16, seed=1)
    panel = il.build_panel(org.kpis, org.completions, program=org.program, outcome=org.outcome,
                           roster=org.roster)
    assert panel.n_obs + len(panel.dropped) == len(org.kpis)
