"""Where the dose-response design holds on the simulator's organisations, and the never-trained comparison
beside it (docs/validation.md, "Dose response on the simulator's organisations").

The organisations of ``dose_study.py`` (``simulate_org`` with hours 4 to 24 and a gain proportional to
them; options of ``simulate_org`` such as ``dip_periods=0`` or ``attrition_on_outcome=1`` through
``--org``), with the anticipation window evaluate sets. Each design is run three times: on the panel, on
the panel whose outcome is the true effect (its own estimand, exactly: the designs are linear in the
outcome and the untrained's change is 0 there) and on the outcome without training (the effect taken
out, where every design's truth is 0: its estimate over its standard error measures the design's error
apart from the effect). Designs: ``dose_response`` (each comparison on the employees observed in both its
periods; and the balanced subset), ``callaway_santanna(control="never_treated")`` (balanced; and
``allow_unbalanced=True``, everyone observed in each period) and ``control="not_yet_treated"``
(``allow_unbalanced=True``).

    python tests/validation/dose_design_study.py --seeds 9600-9649
    python tests/validation/dose_design_study.py --seeds 9600-9629 --org '{"dip_periods": 0}'
"""

from __future__ import annotations

import argparse
import json
import warnings
from collections.abc import Callable, Iterable
from typing import Any

import numpy as np
import pandas as pd
from dose_study import dose_org
from pilot_study import seed_range

import impactlab as il
from impactlab.panel.panel import Panel

Z95 = 1.959963984540054


def _with_outcome(panel: Panel, y: np.ndarray) -> Panel:
    long = panel.long()
    frame = pd.DataFrame({"unit": long["unit"], "time": long["time"], "y": y, "cohort": long["cohort"],
                          "hours": long["hours"].to_numpy()})
    return Panel.from_frame(frame, unit="unit", time="time", outcome="y", cohort="cohort",
                            covariates=["hours"])


def designs(a: int) -> dict[str, Callable[[Panel], Any]]:
    """Each design with anticipation ``a``: panel -> result with estimate and std_error."""
    def cs(control: str, unbalanced: bool) -> Callable[[Panel], Any]:
        return lambda p: il.callaway_santanna(p, control=control, anticipation=a,  # type: ignore[arg-type]
                                              allow_unbalanced=unbalanced).aggregate("simple")
    return {
        "dose_response": lambda p: il.dose_response(p, dose="hours", anticipation=a, n_draws=None),
        "dose_response balanced": lambda p: il.dose_response(p, dose="hours", anticipation=a, n_draws=None,
                                                             allow_unbalanced=False),
        "cs never balanced": cs("never_treated", False),
        "cs never unbalanced": cs("never_treated", True),
        "cs not-yet unbalanced": cs("not_yet_treated", True),
    }


def one(seed: int, n_employees: int = 2000, **org: Any) -> list[dict[str, Any]]:
    panel, effects = dose_org(seed, n_employees, **org)
    a = int(il.evaluate(panel).anticipation)
    long = panel.long()
    eff = effects.set_index(["unit", "time"])["effect"]
    e = eff.reindex(pd.MultiIndex.from_arrays([long["unit"], long["time"]])).to_numpy()
    truth_panel, y0_panel = _with_outcome(panel, e), _with_outcome(panel, long["outcome"].to_numpy() - e)
    rows = []
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        for name, fit in designs(a).items():
            try:
                res, truth, none = fit(panel), fit(truth_panel), fit(y0_panel)
            except il.errors.EstimationError as err:
                rows.append({"seed": seed, "anticipation": a, "design": name, "failed": str(err)})
                continue
            rows.append({"seed": seed, "anticipation": a, "design": name, "failed": "",
                         "estimate": res.estimate, "std_error": res.std_error, "truth": truth.estimate,
                         "y0_z": none.estimate / none.std_error})
    return rows


def run(seeds: Iterable[int], n_employees: int = 2000, **org: Any) -> pd.DataFrame:
    return pd.DataFrame([r for s in seeds for r in one(int(s), n_employees, **org)])


def table(res: pd.DataFrame) -> pd.DataFrame:
    """Per design, over the organisations where every design ran."""
    bad = set(res.loc[res["failed"] != "", "seed"])
    ok = res[~res["seed"].isin(bad)].copy()
    ok["error"] = ok["estimate"] - ok["truth"]
    ok["covered"] = ok["error"].abs() <= Z95 * ok["std_error"]
    return ok.groupby("design", sort=False).agg(
        organisations=("seed", "size"), covered=("covered", "sum"), bias=("error", "mean"),
        sd_errors=("error", "std"), mean_se=("std_error", "mean"), truth=("truth", "mean"),
        y0_z=("y0_z", "mean"))


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--seeds", default="9600-9649")
    ap.add_argument("--employees", type=int, default=2000)
    ap.add_argument("--org", default="{}", help="simulate_org options as JSON")
    ap.add_argument("--out", default=None)
    a = ap.parse_args()
    rows: list[dict[str, Any]] = []
    for s in seed_range(a.seeds):
        rows += one(s, a.employees, **json.loads(a.org))
        if a.out:  # as it goes
            pd.DataFrame(rows).to_csv(a.out, index=False)
    print(table(pd.DataFrame(rows)).round(2).to_string())


if __name__ == "__main__":
    main()
