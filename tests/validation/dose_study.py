"""Hours that vary, on the simulator: what :func:`impactlab.evaluate` reports when the panel carries each
trained employee's hours, and what the design it suggests, ``dose_response(panel, dose="hours",
anticipation=...)``, gives.

The organisation is ``simulate_org`` with its defaults (selection, the two-month dip, waves, hires and
leavers); then each trained employee is given a number of hours, drawn at random from 4 to 24 (the LMS
records them on the first completion), and their gain from training is scaled by ``hours / 14``: twice
the hours, twice the effect, 14 hours the simulator's own effect. The KPI rows are rewritten with that
effect (``Y(0)`` unchanged), and the panel is built as an analyst would:
``build_panel(..., dose=["hours"])``.

The truth of each estimator is its estimand computed on the true effects: the same estimator run on a
panel whose outcome is the true effect of training (0 for the untrained and before training) returns
exactly the average of the true effects over the cells and employees it uses (its design is linear in
the outcome and the untrained's change is 0). For ``dose_response`` that gives ATT^o and the curve ATT(d)
on its grid; for evaluate, the mean effect over the trained employee-periods from training on (the
imputation estimator's estimand).

    python tests/validation/dose_study.py --seeds 9600-9649
"""

from __future__ import annotations

import argparse
import warnings
from typing import Any

import numpy as np
import pandas as pd
from pilot_study import seed_range

import impactlab as il
from impactlab.panel.panel import Panel

HOURS = (4, 24)
MEAN_HOURS = 14.0


def dose_org(seed: int, n_employees: int = 2000, **org_options: Any) -> tuple[Panel, pd.DataFrame]:
    """The panel with hours, and the true effect of each of its rows (``unit``, ``time``, ``effect``).

    ``org_options`` go to ``simulate_org`` (e.g. ``dip_periods=0``, ``selection=0``, ``attrition=0``)."""
    org = il.datasets.simulate_org(n_employees=n_employees, seed=seed, **org_options)
    rng = np.random.default_rng([seed, 17])
    po = org.potential_outcomes
    trained = po.loc[po["cohort"].notna(), "employee_id"].drop_duplicates().to_numpy()
    hours = pd.Series(rng.integers(HOURS[0], HOURS[1] + 1, len(trained)).astype("float64"), index=trained)
    # the LMS records the hours on the first completion of the programme; other rows of it carry none
    c = org.completions.copy()
    mine = c["Training Title"] == org.program
    c.loc[mine, "Training Hours"] = np.nan
    done = c.loc[mine & (c["Transcript Status"] == "Completed")]
    first = done.sort_values("Transcript Completed Date").drop_duplicates("User ID").index
    c.loc[first, "Training Hours"] = c.loc[first, "User ID"].map(hours).to_numpy()
    # the effect scaled by hours / 14 in the KPI rows (Y(0) unchanged)
    scale = po["employee_id"].map(hours).fillna(0.0).to_numpy() / MEAN_HOURS
    effect = np.round((po["y1"] - po["y0"]).to_numpy() * scale, 2)
    truth = pd.DataFrame({"employee_id": po["employee_id"], "month": po["month"].astype(str),
                          "y0": po["y0"].to_numpy(), "effect": effect})
    k = org.kpis.merge(truth, on=["employee_id", "month"], how="left")
    employed = k["y0"].notna()
    k.loc[employed, org.outcome] = np.round(k.loc[employed, "y0"] + k.loc[employed, "effect"], 2)
    kpis = k.drop(columns=["y0", "effect"])
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        panel = il.build_panel(il.read_kpis(kpis, unit="employee_id", time="month"), il.read_completions(c),
                               program=org.program, outcome=org.outcome, roster=il.read_roster(org.roster),
                               dose=["hours"])
    rows = pd.DataFrame({"unit": truth["employee_id"], "time": po["month"], "effect": effect})
    return panel, rows


def effect_panel(panel: Panel, effects: pd.DataFrame) -> Panel:
    """The same panel with the true effect of training as its outcome."""
    long = panel.long()
    eff = effects.set_index(["unit", "time"])["effect"]
    y = eff.reindex(pd.MultiIndex.from_arrays([long["unit"], long["time"]])).to_numpy()
    frame = pd.DataFrame({"unit": long["unit"], "time": long["time"], "y": y, "cohort": long["cohort"],
                          "hours": long["hours"].to_numpy()})
    return Panel.from_frame(frame, unit="unit", time="time", outcome="y", cohort="cohort",
                            covariates=["hours"])


def one(seed: int, n_employees: int = 2000) -> dict[str, Any]:
    panel, effects = dose_org(seed, n_employees)
    ev = il.evaluate(panel)
    a = int(ev.anticipation)
    long = panel.long()
    post = long["cohort_period"].gt(0) & (long["period"] >= long["cohort_period"])
    eff = effects.set_index(["unit", "time"])["effect"]
    ev_truth = float(eff.reindex(pd.MultiIndex.from_arrays([long.loc[post, "unit"],
                                                             long.loc[post, "time"]])).mean())
    lo, hi = ev.conf_int()
    row: dict[str, Any] = {"seed": seed, "anticipation": a,
                           "suggested": ",".join(s.function for s in ev.suggestions),
                           "calls": " | ".join(s.call for s in ev.suggestions), "ev_truth": ev_truth,
                           "ev_estimate": ev.estimate, "ev_covered": bool(lo <= ev_truth <= hi)}
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            res = il.dose_response(panel, dose="hours", anticipation=a, seed=0)
            oracle = il.dose_response(effect_panel(panel, effects), dose="hours", anticipation=a,
                                      n_draws=None)
    except il.errors.EstimationError as err:   # evaluate does not suggest it then (its own trial fails)
        return row | {"failed": str(err)}
    dlo, dhi = res.conf_int()
    att = res.curves[res.curves["curve"] == "ATT"].reset_index(drop=True)
    true_curve = oracle.curves.loc[oracle.curves["curve"] == "ATT", "estimate"].to_numpy()
    band = bool(((att["band_low"] <= true_curve) & (true_curve <= att["band_high"])).all())
    return row | {"failed": "", "att_truth": oracle.estimate, "att": res.estimate,
                  "att_covered": bool(dlo <= oracle.estimate <= dhi), "band_covered": band,
                  "n_units": res.n_units, "n_excluded": len(res.excluded)}


def run(seeds: Any, n_employees: int = 2000) -> pd.DataFrame:
    return pd.DataFrame([one(int(s), n_employees) for s in seeds])


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--seeds", default="9600-9649")
    ap.add_argument("--employees", type=int, default=2000)
    ap.add_argument("--out", default=None)
    a = ap.parse_args()
    rows = []
    for s in seed_range(a.seeds):
        rows.append(one(s, a.employees))
        if a.out:  # as it goes
            pd.DataFrame(rows).to_csv(a.out, index=False)
    res = pd.DataFrame(rows)
    print(f"dose_response failed on {int((res['failed'] != '').sum())} of {len(res)}")
    res = res[res["failed"] == ""]
    n = len(res)
    print(f"n={n}: suggested dose_response {int(res['suggested'].str.contains('dose_response').sum())}/{n}; "
          f"ATT^o covered {int(res['att_covered'].sum())}/{n} "
          f"(bias {(res['att'] - res['att_truth']).mean():.1f})"
          f"; band held the curve {int(res['band_covered'].sum())}/{n}; evaluate covered "
          f"{int(res['ev_covered'].sum())}/{n} (bias {(res['ev_estimate'] - res['ev_truth']).mean():.1f})")


if __name__ == "__main__":
    main()
