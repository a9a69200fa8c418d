"""Validation of :func:`impactlab.evaluate` with no options on ``simulate_org`` organisations (known truth).

Scenarios (each a ``simulate_org`` draw read through the readers and ``build_panel``, as an analyst would):

* ``default`` — ``simulate_org`` defaults: selection, a two-month Ashenfelter dip, hires and leavers;
* ``no_dip`` — the same with ``dip_periods=0``;
* ``drift`` — no dip, but the trained employees' outcome drifts away from the others' by ``DRIFT`` per
  month over the whole window (added to Y(0) and Y(1) alike, so the true effect is unchanged): trends that
  are not parallel, which ``.causal`` must refuse;
* ``attrition`` — defaults with informative attrition: ``simulate_org(attrition_on_outcome=ATTRITION)``,
  employees leave more after a poor month (trained or not); the truth is the effect on those employed;
* ``gain_attrition`` — defaults with ``informative_attrition=True``: after training, those who gained
  little leave more often;
* ``teams4``, ``teams6``, ``teams12`` — ``simulate_org(teams=4 / 6 / 12)``: training assigned by team (3 of
  4, 4 of 6, 8 of 12 teams booked), team × month shocks, the panel clustered on ``team``: few clusters.

For each draw: the truth (``org.truth.overall``), the estimate and its 95 % interval, whether it holds the
truth, ``.causal``, the anticipation window the dip rule set, the share of employees with KPI rows used,
and the checks that failed.

    python tests/validation/evaluate_study.py --scenario default --seeds 9000-9019

``tests/validation/test_evaluate_validation.py`` runs a small version by default and the acceptance
numbers under ``-m slow``.
"""

from __future__ import annotations

import argparse
import warnings
from typing import Any

import numpy as np
import pandas as pd

import impactlab as il
from impactlab.panel.panel import Panel

#: Monthly drift of the trained (relative to the others) in the ``drift`` scenario: about 6 % of the
#: effect per month, which by the middle of the post-training window adds a bias of about four standard
#: errors to a comparison that ignores it.
DRIFT = 50.0
#: Strength of the ``attrition`` scenario: a month one standard deviation below the others multiplies the
#: hazard of leaving by e (about 2.7) relative to an average month.
ATTRITION = 1.0
SCENARIOS = ("default", "no_dip", "drift", "attrition", "gain_attrition", "teams4", "teams6", "teams12")


def org_panel(seed: int, scenario: str = "default", n_employees: int = 2000,
              cluster: str | None = None) -> tuple[Panel, float]:
    """The panel an analyst builds from one simulated organisation, and the true effect."""
    if scenario not in SCENARIOS:
        raise ValueError(f"scenario must be one of {SCENARIOS}. Got {scenario!r} instead.")
    dip = 0 if scenario in ("no_dip", "drift") else 2
    teams = int(scenario[5:]) if scenario.startswith("teams") else None
    if teams is not None:
        dip, cluster = 2, "team"
    org = il.datasets.simulate_org(n_employees=n_employees, seed=seed, dip_periods=dip, teams=teams,
                                   attrition_on_outcome=ATTRITION if scenario == "attrition" else 0.0,
                                   informative_attrition=scenario == "gain_attrition")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        panel = org.panel(cluster=cluster)
    if scenario == "drift":
        df = panel.long()
        g = df["cohort_period"].to_numpy()
        drift = np.where(g > 0, DRIFT * (df["period"].to_numpy() - g), 0.0)
        out = pd.DataFrame({"unit": df["unit"], "time": df["time"], "y": df["outcome"] + drift,
                            "cohort": df["cohort"], "cluster": df["cluster"]})
        panel = Panel.from_frame(out, unit="unit", time="time", outcome="y", cohort="cohort",
                                 cluster="cluster" if cluster else None)
    return panel, float(org.truth.overall)


def one(seed: int, scenario: str = "default", n_employees: int = 2000) -> dict[str, Any]:
    panel, truth = org_panel(seed, scenario, n_employees)
    ev = il.evaluate(panel)
    lo, hi = ev.conf_int()
    used = ev.checks.loc[ev.checks["check"] == "employees used", "seen"].iloc[0]
    status = ev.checks.set_index("check")["status"]
    return {"scenario": scenario, "seed": seed, "truth": truth, "estimate": ev.estimate,
            "std_error": ev.std_error, "conf_low": lo, "conf_high": hi, "covered": bool(lo <= truth <= hi),
            "causal": ev.causal, "anticipation": ev.anticipation,
            "share_used": (ev.n_units or 0) / panel.n_units, "used": used,
            "pretrends": status["pre-training effects"], "trend": status["pre-training trend"],
            "clusters": status["clusters"],
            "failed": "; ".join(ev.failed["check"])}


def run(seeds: range | list[int], scenario: str = "default", n_employees: int = 2000,
        verbose: bool = False) -> pd.DataFrame:
    rows = []
    for s in seeds:
        rows.append(one(s, scenario, n_employees))
        if verbose:
            r = rows[-1]
            print(s, r["covered"], r["causal"], r["anticipation"], f"{r['share_used']:.3f}", r["failed"],
                  flush=True)
    return pd.DataFrame(rows)


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--scenario", default="default", choices=SCENARIOS)
    ap.add_argument("--seeds", default="9000-9019")
    ap.add_argument("--n-employees", type=int, default=2000)
    args = ap.parse_args()
    lo, hi = (int(x) for x in args.seeds.split("-"))
    res = run(range(lo, hi + 1), args.scenario, args.n_employees, verbose=True)
    pd.set_option("display.width", 200)
    print(res.drop(columns=["used"]).to_string(index=False))
    print(f"covered {res['covered'].sum()}/{len(res)}, causal {res['causal'].sum()}/{len(res)}, "
          f"dip rule fired {(res['anticipation'] > 0).sum()}/{len(res)}, "
          f"mean share used {res['share_used'].mean():.1%}, min {res['share_used'].min():.1%}, "
          f"pre-training effects fail {(res['pretrends'] == 'fail').sum()} / warn "
          f"{(res['pretrends'] == 'warn').sum()}, trend fails {(res['trend'] == 'fail').sum()}, "
          f"mean bias {(res['estimate'] - res['truth']).mean():.1f}, mean SE {res['std_error'].mean():.1f}")


if __name__ == "__main__":
    main()
