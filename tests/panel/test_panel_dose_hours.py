"""build_panel(dose=["hours"]): hours up to the first completion, every row of the programme counted."""

from __future__ import annotations

import pandas as pd

import impactlab as il

MONTHS = [f"2024-{m:02d}" for m in range(1, 7)]


def _kpis(ids: list[str]) -> il.io.Table:
    return il.read_kpis(pd.DataFrame({
        "employee_id": [e for e in ids for _ in MONTHS],
        "month": MONTHS * len(ids),
        "revenue": [float(10 * i + k) for i in range(len(ids)) for k in range(len(MONTHS))],
    }))


def test_hours_up_to_first_completion_and_the_rows_counted() -> None:
    comp = il.read_completions(pd.DataFrame([
        ["A1", "Safety", "Failed", "2024-01-20", 2],
        ["A1", "Safety", "Completed", "2024-02-05", 1.5],
        ["A1", "Safety", "Completed", "2024-05-01", 4],        # a refresher once trained: not the dose
        ["A2", "Safety", "In progress", "", 3],                  # undated: counted
        ["A2", "Safety", "Completed", "2024-03-07", None],       # no hours: adds nothing
        ["A3", "Safety", "Failed", "2024-02-01", 1],             # never trained, 1 hour
        ["A4", "Other", "Completed", "2024-02-01", 9],           # another programme
    ], columns=["User ID", "Course", "Status", "Completed", "Hours"]))
    panel = il.build_panel(_kpis(["A1", "A2", "A3", "A4"]), comp, program="Safety", outcome="revenue",
                           dose=["hours"])
    units = panel.long().drop_duplicates("unit").set_index("unit")
    assert units["hours"].tolist() == [3.5, 3.0, 1.0, 0.0]
    counted = panel.meta["dose_rows"]["hours"]
    assert counted == {"rows": 6, "rows_after_training": 1, "rows_undated": 1, "rows_without_hours": 1,
                       "rows_summed": 4}
    assert counted["rows"] == counted["rows_after_training"] + counted["rows_without_hours"] \
        + counted["rows_summed"]


def test_dose_response_reads_the_hours_column() -> None:
    """Twelve employees trained in March with 1..4 hours, effect 2 per hour, six never trained: the
    panel's hours column gives ACRT = 2 exactly (degree 1, no noise); the never-trained employee with an
    hour of a failed attempt is left out of the comparison group, with the reason."""
    ids = [f"E{i:02d}" for i in range(19)]
    hours = {ids[i]: float(i % 4 + 1) for i in range(12)}
    rows = [[e, "Safety", "Completed", "2024-03-10", h] for e, h in hours.items()]
    rows.append(["E18", "Safety", "Failed", "2024-02-10", 1.0])
    cols = ["User ID", "Course", "Status", "Completed", "Hours"]
    comp = il.read_completions(pd.DataFrame(rows, columns=cols))
    k = pd.DataFrame({"employee_id": [e for e in ids for _ in MONTHS], "month": MONTHS * len(ids)})
    k["revenue"] = [float(int(e[1:]) % 5 + m + (2 * hours[e] if e in hours and m >= 2 else 0.0))
                    for e in ids for m in range(len(MONTHS))]
    panel = il.build_panel(il.read_kpis(k), comp, program="Safety", outcome="revenue", dose=["hours"])
    res = il.dose_response(panel, dose="hours", degree=1, n_draws=None)
    assert abs(res.acrt - 2.0) < 1e-9
    assert res.excluded["id"].tolist() == ["E18"] and "never trained" in res.excluded["reason"].iloc[0]
