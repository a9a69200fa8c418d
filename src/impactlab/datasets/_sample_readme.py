"""The README of a sample directory, its numbers computed from the draw (in sync by construction)."""

# ruff: noqa: E501  (the template holds Markdown table rows, which cannot be wrapped)

from __future__ import annotations

import numpy as np
import pandas as pd

from impactlab.datasets.org import Org

TEMPLATE = """# Sample data: a simulated sales organisation with a known true effect

Everything here is synthetic: one seeded draw of impactlab's simulator, written by `Org.to_csv`:

```python
import impactlab as il
org = il.datasets.simulate_org(n_employees={n_employees}, n_periods={n_periods}, seed={seed})
org.to_csv("data/sample")
```

To regenerate it: `python -m impactlab.datasets.make_sample data/sample` (same call; the tests check that
the files here equal a fresh draw).

**True effect.** The programme *Consultative Selling* raises monthly revenue per trained employee by
**{overall:,.2f}** on average over the post-training months (the true overall ATT, Callaway–Sant'Anna "simple"
aggregation: cohort-size-weighted mean of the true ATT(g, t) cells with t ≥ g, over the employees employed
in each month). Cohort, event-time and calendar truths and every ATT(g, t) cell are in `truth.json`
(`il.datasets.Truth.from_json("data/sample/truth.json")` reads it back). The data contain an Ashenfelter
dip of {dip} months, so the estimator that recovers the truth is
`il.callaway_santanna(panel, anticipation={dip})`.

## The window and the programme

- {n_periods} months, {first_month} to {last_month}; {n_employees:,} employees on the roster ({hired:,} hired during the
  window, {left:,} terminated: about {attrition_pct:.1f} % a month), {units:,} with at least one KPI month.
- *Consultative Selling* rolled out in {n_waves} waves ({wave_list}): {pre} months
  before the first wave, {post} months after the last. Late completers and retakes give {n_cohorts}
  monthly cohorts; {trained:,} employees trained, {never:,} of the {units:,} ({never_pct:.0f} %) never trained.

## Files

| file | rows | columns |
|---|---|---|
| `roster.csv` | {n_roster:,} | `Employee ID`, `Team`, `Region`, `Role`, `Manager ID`, `Hire Date`, `Termination Date` (YYYY-MM-DD; empty while employed) |
| `completions.csv` | {n_completions:,} | Cornerstone-style transcript: `User ID`, `Training Title`, `Transcript Status`, `Transcript Assigned Date`, `Transcript Completed Date` (local `YYYY-MM-DD HH:MM:SS`; empty unless Completed/Failed), `Training Hours`, `Score` |
| `kpis.csv` | {n_kpis:,} | `employee_id`, `month` (YYYY-MM), `revenue` (about {mean_revenue:,.0f} a month on average), `deals` |
| `assessments.csv` | {n_assessments:,} | `employee_id`, `program`, `kind` (pre/post), `score`, `max_score` (50), `taken_at` |
| `surveys.csv` | {n_surveys:,} | reaction survey, long: `employee_id`, `program`, `item` (recommend 0–10, relevance and satisfaction 1–5), `response`, `scale_min`, `scale_max`, `answered_at` |
| `observations.csv` | {n_observations:,} | manager ratings 1–5 of three behaviours at baseline and 30/60/90 days: `employee_id`, `program`, `behavior`, `rating`, `observed_at`, `observer` |
| `costs.csv` | {n_costs:,} | Phillips categories: `program`, `category`, `amount`, `currency` (USD {cost_m:.2f} million in all, participant time the largest line) |
| `truth.json` | | the true effects and the arguments of the draw |

All of them read with the default arguments of `il.read_completions`, `il.read_roster`, `il.read_kpis`,
`il.read_assessments`, `il.read_surveys`, `il.read_observations` and `il.read_costs`; the panel is
`il.build_panel(kpis, completions, program="Consultative Selling", outcome="revenue", roster=roster)`.

## The traps (what makes the naive numbers wrong)

- **Selection.** Stronger performers are booked into earlier waves; the never-trained are weaker. Before
  the first wave the later-trained already sold about {pre_gap:,.0f} a month more than the never-trained, so the
  naive trained-vs-untrained difference of post-training means (about {naive:,.0f}) is {naive_ratio:.1f} times the truth.
- **Ashenfelter dip.** Revenue without training, `Y(0)`, of the trained drops by about 800 in each of the
  {dip} months before their first completion and is back on trend from the completion month. A before/after
  comparison against those months (about {before_after:,.0f} for event times 0–5 vs −2..−1) is inflated; estimators must
  use base periods before the dip (`anticipation={dip}`).
- **Staggered waves, growing and heterogeneous effects.** The effect ramps up linearly over six months
  (about {e0:,.0f} in the completion month, about {e5:,.0f} from month 5 on) and is larger in earlier waves; gains vary
  across employees. Two-way fixed effects is biased here; cohort-time estimators are not.
- **Seasonality and trend,** common to everyone: a December peak, a July–August dip, quarter-end pushes,
  +25 a month. Parallel trends hold in `Y(0)` outside the dip.
- **Attrition and hires** make the panel unbalanced. Attrition does not depend on the training gain here
  (`simulate_org(..., informative_attrition=True)` makes it, to show that bias).
- **Transcript noise.** Retakes (a Failed row, then Completed), no-shows, withdrawals, cancelled sessions,
  rebookings into the next wave, {exempt} Exempt employees (credited, *not* trained: never treated),
  registrations for a session after the extract date, and rows of two other programmes. The cohort is the
  month of the first `Completed` row of the programme.
- **Stray KPI rows.** {strays} KPI rows fall outside employment (a trailing commission posted after the
  termination month, a sign-on bonus before the hire month); the panel builder drops them with a reason.
"""


def sample_readme(org: Org) -> str:
    """The README text for the files written by ``org.to_csv``: how they were made, tables, traps, truth."""
    p = org.spec
    po = org.potential_outcomes
    k = po.loc[po["employed"]].copy()
    post = k["cohort"].notna() & (k["month"] >= k["cohort"])
    k["y"] = np.where(post, k["y1"], k["y0"])
    units = k.drop_duplicates("employee_id")
    first, last = k["month"].min(), k["month"].max()
    sizes = org.truth.att_gt.drop_duplicates("cohort").set_index("cohort")["n_cohort"]
    waves = sizes.nlargest(p["n_waves"]).index.sort_values()
    pre = k.loc[k["month"] < waves[0] - p["dip_periods"]]
    by = pre.groupby(pre["cohort"].notna())["y"].mean()
    never_post = k.loc[k["cohort"].isna() & (k["month"] >= waves[0]), "y"].mean()
    tr = k.loc[k["cohort"].notna()].copy()
    tr["e"] = [(m - g).n for m, g in zip(tr["month"], tr["cohort"], strict=True)]
    mine = org.completions.loc[org.completions["Training Title"] == org.program]
    key = set(zip(org.kpis["employee_id"], org.kpis["month"], strict=True))
    employed = set(zip(k["employee_id"], k["month"].astype(str), strict=True))
    r = org.roster
    hired = int((pd.to_datetime(r["Hire Date"]) >= first.start_time).sum())
    left = int(r["Termination Date"].notna().sum())
    naive = k.loc[post, "y"].mean() - never_post
    e = org.truth.by_event_time
    values = {
        **p, "overall": org.truth.overall, "dip": org.truth.dip_periods,
        "first_month": first.strftime("%B %Y"), "last_month": last.strftime("%B %Y"),
        "hired": hired, "left": left, "attrition_pct": 100 * left / len(k), "units": len(units),
        "wave_list": ", ".join(w.strftime("%B %Y") for w in waves),
        "pre": (waves[0] - first).n, "post": (last - waves[-1]).n, "n_cohorts": len(sizes),
        "trained": int(units["cohort"].notna().sum()), "never": int(units["cohort"].isna().sum()),
        "never_pct": 100 * units["cohort"].isna().mean(),
        **{f"n_{name}": len(frame) for name, frame in org.tables().items()},
        "mean_revenue": org.kpis[org.outcome].mean(), "cost_m": org.costs["amount"].sum() / 1e6,
        "pre_gap": by.get(True, np.nan) - by.get(False, np.nan), "naive": naive,
        "naive_ratio": naive / org.truth.overall,
        "before_after": (tr.loc[tr["e"].between(0, 5), "y"].mean()
                         - tr.loc[tr["e"].between(-2, -1), "y"].mean()),
        "e0": e.get(0, np.nan), "e5": e.get(5, np.nan),
        "exempt": int(mine.loc[mine["Transcript Status"] == "Exempt", "User ID"].nunique()),
        "strays": len(key - employed),
    }
    return TEMPLATE.format(**values)
