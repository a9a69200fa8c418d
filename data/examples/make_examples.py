"""Write the messy example exports of ``data/examples/`` from one simulated organisation.

The files look like what an L&D analyst receives from four systems, each with its own habits:

* ``transcript.csv``: a Cornerstone-style transcript report (Reporting 2.0 headers with section prefixes,
  a title block above the header row, US dates with AM/PM, "/ Past Due" status suffixes, rows of other
  programmes, and four rows a careful reader must refuse);
* ``hr_roster.xlsx``: the HR roster, keyed by "Employee Number", with the organisation's own headers;
* ``sales_kpis.xlsx``: a BI workbook with one row per employee and one column per month ("Jan 2024" ...),
  revenue on the sheet "Revenue" and deals on the sheet "Deals"; blank cells where nobody was employed;
* ``finance_costs.xlsx``: the finance team's cost sheet for the programme, its own item names, amounts
  written with a currency symbol, no programme column.

The organisation is ``simulate_org(n_employees=600, n_periods=18, seed=11)``, so the true effect is known;
it is written to ``truth.json``. Run ``python data/examples/make_examples.py`` to rebuild the files (the
same tables on every run; the xlsx files differ only in their timestamps).
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd

from impactlab.datasets import simulate_org

HERE = Path(__file__).resolve().parent
SEED = 11

#: The finance sheet's own item names for the Phillips categories of the simulated costs.
FINANCE_ITEMS = {
    "needs_assessment": "Needs analysis (consultancy)",
    "design": "Course design - agency",
    "delivery": "LMS licences & session delivery",
    "facilitators": "Trainer fees",
    "materials": "Workbooks & printing",
    "facilities": "Venue hire",
    "participant_time": "Staff time in training (salaries)",
    "travel": "Travel & subsistence",
    "evaluation": "Evaluation study",
    "overhead": "L&D overhead allocation",
}


def _us_datetime(values: pd.Series) -> pd.Series:
    """ISO timestamps written as a US-locale report writes them: 03/07/2024 02:05 PM."""
    stamps = pd.to_datetime(values)
    return stamps.dt.strftime("%m/%d/%Y %I:%M %p").where(stamps.notna(), "")


def transcript(org) -> pd.DataFrame:
    raw = org.completions
    rng = np.random.default_rng(SEED)
    status = raw["Transcript Status"].astype("string")
    # a Completed row finished after its due date carries the suffix (its training counts the same)
    past_due = (status == "Completed") & (rng.random(len(raw)) < 0.08)
    status = status.where(~past_due, "Completed / Past Due")
    out = pd.DataFrame({
        "User - User ID": raw["User ID"],
        "Training - Training Title": raw["Training Title"],
        "Training - Training Type": "Instructor Led",
        "Transcript - Transcript Status": status,
        "Transcript - Transcript Assigned Date": _us_datetime(raw["Transcript Assigned Date"]),
        "Transcript - Transcript Completed Date": _us_datetime(raw["Transcript Completed Date"]),
        "Training Hours": raw["Training Hours"],
    })
    trained = out.index[out["Transcript - Transcript Status"] == "Completed"]
    # four rows a reader must refuse, as real reports have them
    bad = []
    row = out.loc[trained[0]].copy()
    row["Transcript - Transcript Completed Date"] = ""          # completed, but no completion date
    bad.append(row)
    row = out.loc[trained[1]].copy()
    row["Transcript - Transcript Status"] = "Pending Review"   # a status the report's admin added
    bad.append(row)
    row = out.loc[trained[2]].copy()
    row["User - User ID"] = ""                                  # a row without an employee
    bad.append(row)
    row = out.loc[trained[3]].copy()
    row["Transcript - Transcript Completed Date"] = "13/45/2024 10:00 AM"   # not a date
    bad.append(row)
    return pd.concat([out, pd.DataFrame(bad)], ignore_index=True)


def roster(org) -> pd.DataFrame:
    raw = org.roster
    return pd.DataFrame({
        "Employee Number": raw["Employee ID"],
        "Department": raw["Team"],
        "Region": raw["Region"],
        "Job Title": raw["Role"],
        "Line Manager": raw["Manager ID"],
        "Start Date": pd.to_datetime(raw["Hire Date"]),
        "Leaving Date": pd.to_datetime(raw["Termination Date"]),
    })


def wide_kpis(org, metric: str) -> pd.DataFrame:
    long = org.kpis
    wide = long.pivot(index="employee_id", columns="month", values=metric)
    wide.columns = [pd.Period(m, "M").strftime("%b %Y") for m in wide.columns]
    wide.index.name = "Employee ID"
    return wide.reset_index()


def finance_costs(org) -> pd.DataFrame:
    costs = org.costs
    return pd.DataFrame({
        "Cost item": costs["category"].map(FINANCE_ITEMS),
        "Amount": [f"${a:,.0f}" for a in costs["amount"]],
        "Cost centre": "L&D-4410",
    })


def main() -> None:
    org = simulate_org(n_employees=600, n_periods=18, seed=SEED)
    title = ("Transcript Report: Sales Academy\nReport run: 07/02/2025 06:14 AM\n"
             "Filters: Training Type = Instructor Led; Transcript Status = All\n\n")
    with open(HERE / "transcript.csv", "w", encoding="utf-8", newline="") as fh:
        fh.write(title)
        transcript(org).to_csv(fh, index=False)
    roster(org).to_excel(HERE / "hr_roster.xlsx", sheet_name="Headcount", index=False)
    with pd.ExcelWriter(HERE / "sales_kpis.xlsx") as xl:
        wide_kpis(org, "revenue").to_excel(xl, sheet_name="Revenue", index=False)
        wide_kpis(org, "deals").to_excel(xl, sheet_name="Deals", index=False)
    finance_costs(org).to_excel(HERE / "finance_costs.xlsx", sheet_name="FY25 L&D", index=False)
    truth = {"program": org.program, "outcome": org.outcome, "overall": float(org.truth.overall),
             "seed": SEED, "n_employees": 600, "n_periods": 18,
             "note": "simulate_org(n_employees=600, n_periods=18, seed=11): the true effect is known"}
    (HERE / "truth.json").write_text(json.dumps(truth, indent=2) + "\n", encoding="utf-8")


if __name__ == "__main__":
    main()
