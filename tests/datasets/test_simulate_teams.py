"""``simulate_org(teams=...)``: training assigned by team, team × month shocks, the truth still exact."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from impactlab.datasets import simulate_org
from impactlab.datasets._dgp import team_waves


@pytest.fixture(scope="module")
def org():
    return simulate_org(n_employees=600, seed=5, teams=6)


def _units(org) -> pd.DataFrame:
    po = org.potential_outcomes.drop_duplicates("employee_id").set_index("employee_id")
    return po.join(org.roster.set_index("Employee ID")["Team"])


def test_six_teams_four_booked_one_wave_each(org):
    u = _units(org)
    assert u["Team"].nunique() == 6
    trained = u.loc[u["cohort"].notna()]
    assert trained["Team"].nunique() == 4             # two thirds of the teams, one per wave
    # a team's trained members complete in its wave month or shortly after (late, retakes, rebookings)
    first = trained.groupby("Team")["cohort"].min().sort_values()
    assert first.is_unique
    assert u.loc[~u["Team"].isin(first.index), "cohort"].isna().all()
    assert org.spec["teams"] == 6


def test_the_truth_stays_exact(org):
    po = org.potential_outcomes
    k = po.loc[po["employed"]].copy()
    post = k["cohort"].notna() & (k["month"] >= k["cohort"])
    k["y"] = np.where(post, k["y1"], k["y0"])
    m = org.kpis.merge(k.assign(month=k["month"].astype(str)), on=["employee_id", "month"])
    np.testing.assert_allclose(m["revenue"], m["y"], atol=0.006)


def test_team_shocks_correlate_outcomes_within_teams(org):
    u = _units(org)["Team"]
    po = org.potential_outcomes.join(u, on="employee_id")
    never = po.loc[po["employed"] & po["cohort"].isna()]
    month_team = never.groupby(["Team", "month"])["y0"].mean().unstack("Team")
    resid = month_team.sub(month_team.mean(axis=0), axis=1).sub(month_team.mean(axis=1), axis=0)
    assert resid.to_numpy().std() > 200                 # a 400 shock, averaged over a team's members


def test_without_teams_the_draw_is_unchanged():
    a, b = simulate_org(n_employees=200, seed=2), simulate_org(n_employees=200, seed=2)
    pd.testing.assert_frame_equal(a.kpis, b.kpis)
    assert "teams" not in a.spec


def test_team_waves_rule():
    keen = np.array([3.0, 3.0, 1.0, 1.0, 2.0, 2.0, -1.0, -1.0, 0.0, 0.0, -2.0, -2.0])
    team = np.repeat(np.arange(6), 2)
    assert team_waves(keen, team, 6, 4).tolist() == [0, 2, 1, -1, 3, -1]
    assert (team_waves(keen[:8], team[:8], 4, 4) >= 0).sum() == 3  # at least one team never booked


def test_teams_must_be_an_integer_of_two_or_more():
    with pytest.raises(ValueError, match="'teams' parameter must be an integer >= 2"):
        simulate_org(n_employees=100, teams=1)
