"""Validation of :func:`impactlab.portfolio` on simulated organisations that run three programmes.

Each organisation is ``simulate_org(seed=s, programs=FURTHER)`` at its defaults otherwise (2,000 employees,
24 months, a 2-month dip before every completion, selection of stronger performers into every programme,
hires and leavers): "Consultative Selling" (full effect), "Negotiation Skills" (half of it) and "Time
Management" (no effect), rolled out a month apart, most trained employees taking two or three of them.

For each programme: the truth ``portfolio`` targets (``org.truths[p].overall_observations``, the mean effect
over the programme's trained employee-months from completion on), its estimate and whether the 95 % interval
and the simultaneous interval hold it; and the naive per-programme Callaway–Sant'Anna that ignores the other
programmes (``callaway_santanna`` on the programme's own ``build_panel``, not-yet-trained comparison,
``anticipation=2``), against its own estimand ``org.truths[p].overall``.

    .venv/bin/python tests/validation/portfolio_study.py --seeds 100
"""

from __future__ import annotations

import argparse
import time
import warnings

import pandas as pd

import impactlab as il

FURTHER = {"Negotiation Skills": 0.5, "Time Management": 0.0}
FIRST_SEED = 9700


def one(seed: int, n_employees: int = 2000, naive: bool | tuple[str, ...] = True,
        anticipation: int | None = None) -> list[dict[str, object]]:
    """One organisation: a row per programme (the naive CS for every programme, none, or those named);
    ``portfolio`` at its defaults (the anticipation window set from the data) unless ``anticipation``."""
    org = il.datasets.simulate_org(n_employees=n_employees, seed=seed, programs=FURTHER)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        kpis = il.read_kpis(org.kpis, unit="employee_id", time="month")
        comp = il.read_completions(org.completions)
        roster = il.read_roster(org.roster)
        res = il.portfolio(kpis, comp, programs=list(org.truths), outcome=org.outcome, roster=roster,
                           anticipation=anticipation)
        rows = []
        for _, r in res.programs.iterrows():
            truth = org.truths[r["program"]]
            target = truth.overall_observations
            row: dict[str, object] = {
                "seed": seed, "program": r["program"], "truth": target, "estimate": r["estimate"],
                "std_error": r["std_error"], "covered": r["ci_low"] <= target <= r["ci_high"],
                "covered_simultaneous": r["ci_low_simultaneous"] <= target <= r["ci_high_simultaneous"],
                "n_trained": r["n_trained"], "n_also_other": r["n_also_other"],
                "anticipation": res.spec["anticipation"]}
            if naive is True or (naive and r["program"] in naive):
                panel = il.build_panel(kpis, comp, program=r["program"], outcome=org.outcome,
                                       roster=roster)
                cs = il.callaway_santanna(panel, control="not_yet_treated", anticipation=2)
                simple = cs.aggregate("simple")
                lo, hi = simple.conf_int()
                row.update(naive_truth=truth.overall, naive_estimate=simple.estimate,
                           naive_std_error=simple.std_error, naive_covered=lo <= truth.overall <= hi)
            rows.append(row)
    return rows


def study(seeds: range, n_employees: int = 2000, naive: bool | tuple[str, ...] = True,
          anticipation: int | None = None) -> pd.DataFrame:
    return pd.DataFrame([row for s in seeds for row in one(s, n_employees, naive, anticipation)])


def report(d: pd.DataFrame) -> pd.DataFrame:
    """Per programme: coverage, bias, SE against the spread, and the naive CS's bias and coverage."""
    d = d.assign(error=d["estimate"] - d["truth"])
    agg = {"orgs": ("seed", "size"), "truth": ("truth", "mean"), "covered": ("covered", "mean"),
           "bias": ("error", "mean"), "mean_se": ("std_error", "mean"), "sd_error": ("error", "std"),
           "share_also_other": ("n_also_other", "sum")}
    out = d.groupby("program", sort=False).agg(**agg)
    out["share_also_other"] = out["share_also_other"] / d.groupby("program", sort=False)["n_trained"].sum()
    if "naive_estimate" in d:
        d = d.assign(naive_error=d["naive_estimate"] - d["naive_truth"])
        ran = d.dropna(subset=["naive_estimate"]).groupby("program", sort=False)
        naive = ran.agg(naive_covered=("naive_covered", "mean"), naive_bias=("naive_error", "mean"),
                        naive_mean_se=("naive_std_error", "mean"))
        out = out.join(naive)
    return out


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--seeds", type=int, default=100)
    ap.add_argument("--first", type=int, default=FIRST_SEED)
    ap.add_argument("--employees", type=int, default=2000)
    ap.add_argument("--anticipation", type=int, default=None, help="the default: set from the data")
    ap.add_argument("--no-naive", action="store_true")
    ap.add_argument("--out", default=None, help="write the rows to this CSV")
    a = ap.parse_args()
    start = time.perf_counter()
    rows: list[dict[str, object]] = []
    for s in range(a.first, a.first + a.seeds):
        rows += one(s, a.employees, not a.no_naive, a.anticipation)
        if a.out:  # written as it goes, so a long run can be read part way
            pd.DataFrame(rows).to_csv(a.out, index=False)
    d = pd.DataFrame(rows)
    took = time.perf_counter() - start
    pd.set_option("display.width", 200)
    print(report(d).round(3).to_string())
    every = d.groupby("seed")["covered_simultaneous"].all().mean()
    windows = d.groupby("seed")["anticipation"].first().value_counts().sort_index().to_dict()
    print(f"\n{a.seeds} organisations, {a.employees} employees each, in {took:.0f} s; all three programmes "
          f"inside the simultaneous intervals in {every:.0%} of them; anticipation used: {windows}")


if __name__ == "__main__":
    main()
