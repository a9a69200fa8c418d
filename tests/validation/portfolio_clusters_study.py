"""Few clusters: :func:`impactlab.portfolio` with standard errors clustered on 12 teams.

Each organisation is ``simulate_org(seed=s, teams=12, programs=FURTHER)``: the first programme booked
team by team (two thirds of the teams, the keenest first), the others by employee, every team sharing a
monthly shock; ``portfolio(..., cluster="team")`` at its defaults otherwise. With 12 clusters its intervals
use Student's t with 11 degrees of freedom; this measures whether they hold each programme's truth
(``org.truths[p].overall_observations``).

    .venv/bin/python tests/validation/portfolio_clusters_study.py --seeds 100
"""

from __future__ import annotations

import argparse
import time
import warnings

import pandas as pd
from portfolio_study import FURTHER

import impactlab as il

FIRST_SEED = 9900


def one(seed: int, n_employees: int = 1000, teams: int = 12) -> list[dict[str, object]]:
    """One organisation: a row per programme."""
    org = il.datasets.simulate_org(n_employees=n_employees, seed=seed, teams=teams, programs=FURTHER)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        res = il.portfolio(il.read_kpis(org.kpis, unit="employee_id", time="month"),
                           il.read_completions(org.completions), programs=list(org.truths),
                           outcome=org.outcome, roster=il.read_roster(org.roster), cluster="team")
    rows = []
    for _, r in res.programs.iterrows():
        target = org.truths[r["program"]].overall_observations
        rows.append({"seed": seed, "program": r["program"], "truth": target, "estimate": r["estimate"],
                     "std_error": r["std_error"], "covered": r["ci_low"] <= target <= r["ci_high"],
                     "covered_simultaneous": r["ci_low_simultaneous"] <= target <= r["ci_high_simultaneous"],
                     "n_clusters": res.spec["n_clusters"], "anticipation": res.spec["anticipation"]})
    return rows


def study(seeds: range, n_employees: int = 1000, teams: int = 12) -> pd.DataFrame:
    return pd.DataFrame([row for s in seeds for row in one(s, n_employees, teams)])


def report(d: pd.DataFrame) -> pd.DataFrame:
    """Per programme: coverage, bias, mean SE against the spread of the estimates."""
    d = d.assign(error=d["estimate"] - d["truth"])
    return d.groupby("program", sort=False).agg(
        orgs=("seed", "size"), truth=("truth", "mean"), covered=("covered", "mean"), bias=("error", "mean"),
        mean_se=("std_error", "mean"), sd_error=("error", "std"))


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--seeds", type=int, default=100)
    ap.add_argument("--first", type=int, default=FIRST_SEED)
    ap.add_argument("--employees", type=int, default=1000)
    ap.add_argument("--teams", type=int, default=12)
    ap.add_argument("--out", default=None)
    a = ap.parse_args()
    start = time.perf_counter()
    rows: list[dict[str, object]] = []
    for s in range(a.first, a.first + a.seeds):
        rows += one(s, a.employees, a.teams)
        if a.out:  # written as it goes, so a long run can be read part way
            pd.DataFrame(rows).to_csv(a.out, index=False)
    d = pd.DataFrame(rows)
    pd.set_option("display.width", 200)
    print(report(d).round(3).to_string())
    every = d.groupby("seed")["covered_simultaneous"].all().mean()
    print(f"\n{a.seeds} organisations, {a.employees} employees in {a.teams} teams, in "
          f"{time.perf_counter() - start:.0f} s; all three inside the simultaneous intervals in {every:.0%}")


if __name__ == "__main__":
    main()
