"""What the programmes chart and the deck slide say about each programme, on simulated organisations.

Each organisation is ``simulate_org(n_employees=800, n_periods=24, seed=s, programs=FURTHER)`` (the size of
the how-to "Compare several programmes side by side"): "Consultative Selling" (full effect), "Negotiation
Skills" (half of it) and "Time Management" (no effect). For each programme: the verdict of
:func:`impactlab.plot.programs.ranked` (where the simultaneous 95 % interval lies: "positive", "negative"
or "unclear", the colour of :func:`impactlab.plot.portfolio` and the advice of the board deck's slide),
whether Holm's adjusted p-value is below 0.05, and whether each interval holds the programme's truth
(``org.truths[p].overall_observations``, the estimand of :func:`impactlab.portfolio`).

    .venv/bin/python tests/validation/portfolio_verdict_study.py --seeds 100
"""

from __future__ import annotations

import argparse
import time
import warnings

import pandas as pd

import impactlab as il
from impactlab.plot.programs import ranked

FURTHER = {"Negotiation Skills": 0.5, "Time Management": 0.0}


def one(seed: int) -> list[dict[str, object]]:
    """One organisation: a row per programme."""
    org = il.datasets.simulate_org(n_employees=800, n_periods=24, seed=seed, programs=FURTHER)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        res = il.portfolio(il.read_kpis(org.kpis, unit="employee_id", time="month"),
                           il.read_completions(org.completions), programs=list(org.truths),
                           outcome=org.outcome, roster=il.read_roster(org.roster), anticipation=2, seed=1)
    drawn = ranked(res).set_index("program")
    table = res.programs.set_index("program")
    rows = []
    for name, truth in org.truths.items():
        target = truth.overall_observations
        d, t = drawn.loc[name], table.loc[name]
        rows.append({"seed": seed, "program": name, "truth": target, "estimate": float(d["estimate"]),
                     "verdict": str(d["verdict"]), "holm": bool(t["p_adjusted"] < 0.05),
                     "covered": bool(t["ci_low"] <= target <= t["ci_high"]),
                     "covered_simultaneous": bool(d["conf_low_simultaneous"] <= target
                                                  <= d["conf_high_simultaneous"])})
    return rows


def summarise(frame: pd.DataFrame) -> pd.DataFrame:
    """Per programme: verdicts of the chart, Holm's claims, the two rules' disagreements, coverage."""
    g = frame.groupby("program", sort=False)
    return pd.DataFrame({
        "truth": g["truth"].mean(),
        "positive": g["verdict"].apply(lambda v: int((v == "positive").sum())),
        "unclear": g["verdict"].apply(lambda v: int((v == "unclear").sum())),
        "negative": g["verdict"].apply(lambda v: int((v == "negative").sum())),
        "holm": g["holm"].sum(),
        "holm_only": g.apply(lambda x: int(((x["verdict"] == "unclear") & x["holm"]).sum())),
        "chart_only": g.apply(lambda x: int(((x["verdict"] != "unclear") & ~x["holm"]).sum())),
        "covered": g["covered"].sum(), "covered_simultaneous": g["covered_simultaneous"].sum()})


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, default=100, help="organisations (seeds 1, 2, ...)")
    args = parser.parse_args()
    start = time.perf_counter()
    frame = pd.DataFrame([row for s in range(1, args.seeds + 1) for row in one(s)])
    print(summarise(frame).to_string())
    missed = frame.assign(alone=~frame["covered"], at_once=~frame["covered_simultaneous"])
    print("organisations with at least one interval missing its truth:",
          missed.groupby("seed")[["alone", "at_once"]].any().sum().to_dict())
    print(f"{args.seeds} organisations in {time.perf_counter() - start:.0f} s")


if __name__ == "__main__":
    main()
