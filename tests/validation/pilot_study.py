"""A pilot on the simulator: ``simulate_org(pilot_teams=k)`` trains k whole teams in one wave, the other
teams never. What :func:`impactlab.evaluate` reports there, and what the design it suggests,
``synthetic_did(panel, unit="team")``, gives.

For each draw (read through the readers and ``build_panel(..., cluster="team")``, as an analyst would):

* evaluate's estimate and 95 % interval against ``org.truth.overall`` (the effect per trained employee),
  its inference (clustered, or the wild cluster bootstrap under 40 teams) and its suggestions;
* synthetic DiD on the teams (default arguments: placebo variance, 200 draws, seed 0) against the effect
  on the pilot teams' average outcome, :func:`team_truth`: the effect averaged over each pilot team's
  members in the panel in each period after the pilot started (untrained members count with 0), then
  over the periods and the teams, with equal weights, as the estimator weights them.

    python tests/validation/pilot_study.py --pilot-teams 3 --seeds 9500-9549

``tests/validation/test_suggest_validation.py`` runs a small version by default and the numbers of
docs/validation.md ("evaluate suggests a design") under ``-m slow``.
"""

from __future__ import annotations

import argparse
import warnings
from typing import Any

import pandas as pd

import impactlab as il
from impactlab.datasets.org import Org
from impactlab.panel.panel import Panel


def pilot_panel(seed: int, pilot_teams: int | None, *, n_employees: int = 1000, teams: int | None = None,
                dip_periods: int = 2) -> tuple[Panel, Org]:
    """The panel an analyst builds from one simulated organisation, clustered on the team."""
    org = il.datasets.simulate_org(n_employees=n_employees, seed=seed, pilot_teams=pilot_teams, teams=teams,
                                   dip_periods=dip_periods)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        panel = il.build_panel(il.read_kpis(org.kpis, unit="employee_id", time="month"),
                               il.read_completions(org.completions), program=org.program,
                               outcome=org.outcome, roster=il.read_roster(org.roster), cluster="team")
    return panel, org


def team_truth(panel: Panel, org: Org) -> float:
    """The effect on the pilot teams' average outcome after the pilot started (see the module docstring):
    observed minus simulated Y(0) on the panel's rows, averaged per team and period, then over the post
    periods of each trained team and over those teams."""
    long = panel.long()
    po = org.potential_outcomes.set_index(["employee_id", "month"])["y0"]
    y0 = po.reindex(pd.MultiIndex.from_arrays([long["unit"], long["time"]])).to_numpy()
    frame = pd.DataFrame({"team": long["cluster"], "period": long["period"],
                          "cohort": long["cohort_period"], "effect": long["outcome"].to_numpy() - y0})
    start = frame.loc[frame["cohort"] > 0].groupby("team")["cohort"].min()
    post = frame[frame["team"].isin(start.index)]
    post = post[post["period"] >= post["team"].map(start)]
    per_period = post.groupby(["team", "period"])["effect"].mean()
    return float(per_period.groupby(level="team").mean().mean())


def one(seed: int, pilot_teams: int, *, n_employees: int = 1000, teams: int | None = None,
        dip_periods: int = 2, sdid: bool = True) -> dict[str, Any]:
    panel, org = pilot_panel(seed, pilot_teams, n_employees=n_employees, teams=teams, dip_periods=dip_periods)
    truth = float(org.truth.overall)
    ev = il.evaluate(panel)
    lo, hi = ev.conf_int()
    row: dict[str, Any] = {
        "seed": seed, "pilot_teams": pilot_teams, "truth": truth, "estimate": ev.estimate,
        "conf_low": lo, "conf_high": hi, "covered": bool(lo <= truth <= hi), "causal": ev.causal,
        "inference": str(ev.spec["inference"]).split(" (")[0],
        "suggested": ",".join(s.function for s in getattr(ev, "suggestions", ())),
        "checks_warned": ",".join(ev.checks.loc[ev.checks["status"] == "warn", "check"]),
        "checks_failed": ",".join(ev.checks.loc[ev.checks["status"] == "fail", "check"]),
    }
    if sdid:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            sd = il.synthetic_did(panel, unit="team")
        t_team = team_truth(panel, org)
        slo, shi = sd.conf_int()
        row.update(team_truth=t_team, sdid=sd.estimate, sdid_low=slo, sdid_high=shi,
                   sdid_covered=bool(slo <= t_team <= shi), sdid_n_treated=int(sd.spec["n_treated"]))
    return row


def run(seeds: Any, pilot_teams: int, **kwargs: Any) -> pd.DataFrame:
    return pd.DataFrame([one(int(s), pilot_teams, **kwargs) for s in seeds])


def seed_range(text: str) -> range:
    """``"9500-9549"`` -> the seeds 9500 to 9549 (``"9500"``: that one)."""
    lo, _, hi = text.partition("-")
    return range(int(lo), int(hi or lo) + 1)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--pilot-teams", type=int, default=3)
    ap.add_argument("--teams", type=int, default=None)
    ap.add_argument("--dip", type=int, default=2)
    ap.add_argument("--employees", type=int, default=1000)
    ap.add_argument("--seeds", default="9500-9549")
    ap.add_argument("--no-sdid", action="store_true")
    ap.add_argument("--out", default=None)
    a = ap.parse_args()
    rows = []
    for s in seed_range(a.seeds):
        rows.append(one(s, a.pilot_teams, n_employees=a.employees, teams=a.teams, dip_periods=a.dip,
                        sdid=not a.no_sdid))
        if a.out:  # as it goes: a long run can be read before it ends
            pd.DataFrame(rows).to_csv(a.out, index=False)
    res = pd.DataFrame(rows)
    width = (res["conf_high"] - res["conf_low"]).median()
    print(f"pilot_teams={a.pilot_teams} teams={a.teams} dip={a.dip} n={len(res)}: evaluate covered "
          f"{int(res['covered'].sum())}/{len(res)} (median width {width:,.0f}, bias "
          f"{(res['estimate'] - res['truth']).mean():,.1f}), inference {res['inference'].iloc[0]}")
    if "sdid" in res:
        sw = (res["sdid_high"] - res["sdid_low"]).median()
        print(f"  synthetic_did(unit='team') covered {int(res['sdid_covered'].sum())}/{len(res)} (median "
              f"width {sw:,.0f}, bias {(res['sdid'] - res['team_truth']).mean():,.1f}, mean team truth "
              f"{res['team_truth'].mean():,.1f})")


if __name__ == "__main__":
    main()
