"""Several programmes on the simulator: what :func:`impactlab.evaluate` reports for one programme when the
same employees took others in the same months, and what the design it suggests, ``portfolio``, gives.

The organisations are those of portfolio_study.py: ``simulate_org(seed=s, programs=FURTHER)`` (three
programmes a month apart, taken by the same keen employees). For each programme, evaluate runs on its own
panel (``org.panel(program=p)``) as an analyst would; the suggestion's call is run as written; both are
compared with the programme's truth ``org.truths[p].overall_observations`` (the mean effect over its trained
employee-months from completion on: the imputation estimator's estimand, and portfolio's).

    python tests/validation/overlap_study.py --seeds 9700-9729
"""

from __future__ import annotations

import argparse
import warnings
from typing import Any

import pandas as pd
from pilot_study import seed_range

import impactlab as il
from impactlab.analysis.suggest import overlapping_programs

FURTHER = {"Negotiation Skills": 0.5, "Time Management": 0.0}


def one(seed: int, n_employees: int = 2000, run_call: bool = True) -> list[dict[str, Any]]:
    org = il.datasets.simulate_org(n_employees=n_employees, seed=seed, programs=FURTHER)
    rows = []
    fits: dict[frozenset[str], Any] = {}   # one portfolio fit per set of programmes
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        kpis = il.read_kpis(org.kpis, unit="employee_id", time="month")
        completions = il.read_completions(org.completions)
        roster = il.read_roster(org.roster)
        for p, truth in org.truths.items():
            panel = il.build_panel(kpis, completions, program=p, outcome=org.outcome, roster=roster)
            ev = il.evaluate(panel)
            lo, hi = ev.conf_int()
            target = float(truth.overall_observations)
            row: dict[str, Any] = {
                "seed": seed, "program": p, "truth": target, "estimate": ev.estimate,
                "std_error": ev.std_error,
                "covered": bool(lo <= target <= hi), "causal": ev.causal,
                "warned": "other programmes" in set(ev.checks["check"]),
                "suggested": ",".join(s.function for s in ev.suggestions)}
            calls = [s.call for s in ev.suggestions if s.function == "portfolio"]
            if run_call and calls:
                key = frozenset([p, *overlapping_programs(panel)["program"]])
                if key not in fits:
                    fits[key] = eval(calls[0], {"il": il, "kpis": kpis,  # noqa: S307
                                                "completions": completions, "roster": roster})
                res = fits[key]
                mine = res.programs.set_index("program").loc[p]
                row.update(portfolio=float(mine["estimate"]),
                           portfolio_covered=bool(mine["ci_low"] <= target <= mine["ci_high"]))
            rows.append(row)
    return rows


def run(seeds: Any, n_employees: int = 2000, run_call: bool = True) -> pd.DataFrame:
    return pd.DataFrame([r for s in seeds for r in one(int(s), n_employees, run_call)])


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--seeds", default="9700-9729")
    ap.add_argument("--employees", type=int, default=2000)
    ap.add_argument("--out", default=None)
    a = ap.parse_args()
    rows: list[dict[str, Any]] = []
    for s in seed_range(a.seeds):
        rows += one(s, a.employees)
        if a.out:
            pd.DataFrame(rows).to_csv(a.out, index=False)
    d = pd.DataFrame(rows)
    d["error"] = d["estimate"] - d["truth"]
    agg = d.groupby("program", sort=False).agg(orgs=("seed", "size"), warned=("warned", "sum"),
                                               covered=("covered", "sum"), bias=("error", "mean"),
                                               se=("std_error", "mean"))
    if "portfolio" in d:
        d["p_error"] = d["portfolio"] - d["truth"]
        agg = agg.join(d.groupby("program", sort=False).agg(portfolio_covered=("portfolio_covered", "sum"),
                                                            portfolio_bias=("p_error", "mean")))
    print(agg.round(1).to_string())


if __name__ == "__main__":
    main()
