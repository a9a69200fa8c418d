"""``simulate_org(pilot_teams=k)``: only k whole teams trained, in one wave; defaults unchanged."""

from __future__ import annotations

import pandas as pd
import pytest

import impactlab as il


def _trained_teams(org: il.datasets.Org) -> pd.Series:
    roster = org.roster.set_index("Employee ID")["Team"]
    cohorts = org.potential_outcomes.drop_duplicates("employee_id").set_index("employee_id")["cohort"]
    trained = cohorts.dropna()
    return pd.Series(trained.to_numpy(), index=roster.reindex(trained.index).to_numpy())


@pytest.mark.parametrize("k", [1, 3])
def test_only_k_teams_are_trained_in_one_wave(k: int) -> None:
    org = il.datasets.simulate_org(n_employees=600, seed=11, pilot_teams=k)
    trained = _trained_teams(org)
    assert trained.index.nunique() == k
    # one wave: the first completions all fall in the pilot month, a quarter into the 24 months; later
    # ones are late completions and retakes of the same wave (at most two months on)
    starts = trained.groupby(level=0).min()
    assert set(starts.astype(str)) == {"2024-07"}
    assert trained.max() <= pd.Period("2024-09", "M")
    assert org.spec["pilot_teams"] == k
    assert org.truth.overall > 0


def test_pilot_teams_are_the_keenest_and_stronger() -> None:
    """Selection: the pilot teams are the keenest on average, so (selection 0.6) stronger before the pilot."""
    org = il.datasets.simulate_org(n_employees=1000, seed=5, pilot_teams=3)
    roster = org.roster.set_index("Employee ID")["Team"]
    po = org.potential_outcomes
    pre = po[po["employed"] & (po["month"] < pd.Period("2024-05", "M"))]
    level = pre.groupby(pre["employee_id"].map(roster))["y0"].mean()
    pilot = set(_trained_teams(org).index)
    assert level[list(pilot)].mean() > level.drop(list(pilot)).mean() + 500


def test_team_shocks_and_number_of_teams() -> None:
    org = il.datasets.simulate_org(n_employees=600, seed=2, pilot_teams=2, teams=20)
    assert org.roster["Team"].nunique() == 20
    assert org.spec["teams"] == 20 and org.spec["pilot_teams"] == 2
    # employees of a team share monthly shocks: the team's mean Y(0) varies from month to month more than
    # the mean of as many employees drawn across teams would (AR(1) noise with sd 1,500, team sd 400)
    po = org.potential_outcomes.merge(org.roster[["Employee ID", "Team"]], left_on="employee_id",
                                      right_on="Employee ID")
    po = po[po["employed"]]
    spread = po.groupby(["Team", "month"])["y0"].mean().groupby(level="Team").std().mean()
    assert spread > 600


def test_pilot_teams_refused_when_no_team_is_left_untrained() -> None:
    with pytest.raises(ValueError, match=r"'pilot_teams'.*smaller than the number of teams \(4\).*Got 4"):
        il.datasets.simulate_org(n_employees=200, teams=4, pilot_teams=4)
    with pytest.raises(ValueError, match="'pilot_teams' parameter must be an integer >= 1"):
        il.datasets.simulate_org(n_employees=200, pilot_teams=0)


def test_defaults_record_no_pilot() -> None:
    org = il.datasets.simulate_org(n_employees=200, n_periods=18, seed=3)
    assert list(org.spec) == ["n_employees", "n_periods", "seed", "start", "program", "outcome",
                              "effect_scale", "informative_attrition", "n_waves", "dip_periods", "attrition",
                              "selection"]
