"""Validation of :func:`impactlab.imputation` with ``anticipation=2`` on ``simulate_org`` defaults (a 2-month
dip, turnover: hires and leavers), 2,000 employees each, seeds 9200..9239 (``--seeds`` to change).

For each organisation: the truth the estimator targets (the mean effect over trained employee-months
observed, from ``truth.att_gt`` weighted by the employees employed in each month; ``truth.overall`` weights
cohorts by their size and is printed beside it), the estimate and its 95 % interval, whether every employee
with KPI rows was used, and the standard error of balanced Callaway–Sant'Anna (not-yet-trained comparison,
same anticipation) on the same panel.

    .venv/bin/python tests/validation/imputation_study.py --seeds 40
"""

from __future__ import annotations

import argparse
import time
import warnings

import pandas as pd

import impactlab as il


def one(seed: int, n_employees: int = 2000) -> dict[str, object]:
    org = il.datasets.simulate_org(n_employees=n_employees, seed=seed)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        panel = org.panel()
        cs = il.callaway_santanna(panel, control="not_yet_treated", anticipation=2).aggregate("simple")
    cells = org.truth.att_gt
    truth = float((cells["att"] * cells["n_units"]).sum() / cells["n_units"].sum())
    res = il.imputation(panel, anticipation=2)
    lo, hi = res.conf_int()
    return {"seed": seed, "truth": truth, "truth_overall": float(org.truth.overall), "estimate": res.estimate,
            "std_error": res.std_error, "covered": lo <= truth <= hi,
            "covered_overall": lo <= org.truth.overall <= hi,
            "employees_used": res.n_units, "employees": panel.n_units, "cs_std_error": cs.std_error,
            "cs_units": cs.n_units, "pretrend_p": res.pretrend.p_value if res.pretrend else float("nan")}


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--seeds", type=int, default=40)
    ap.add_argument("--first", type=int, default=9200)
    a = ap.parse_args()
    start = time.perf_counter()
    d = pd.DataFrame([one(s) for s in range(a.first, a.first + a.seeds)])
    print(d.to_string(index=False))
    err = d["estimate"] - d["truth"]
    n = len(d)
    took = time.perf_counter() - start
    print(f"\n{n} organisations in {took:.0f} s: covered {int(d['covered'].sum())}/{n} "
          f"(cohort-size truth: {int(d['covered_overall'].sum())}/{n}); bias {err.mean():+.1f}; mean SE "
          f"{d['std_error'].mean():.1f} (SD of estimate - truth {err.std():.1f}); balanced CS mean SE "
          f"{d['cs_std_error'].mean():.1f}; all employees used in "
          f"{int((d['employees_used'] == d['employees']).sum())}/{n}; pre-trend test p < 0.05 in "
          f"{int((d['pretrend_p'] < 0.05).sum())}/{n}")


if __name__ == "__main__":
    main()
