"""Property tests of the readers (hypothesis): for any mix of good and bad rows, in any order, written to
any of the file formats, ``rows_read == kept + rejected`` and every good row comes out, unaltered."""

from __future__ import annotations

import csv
import io
import json

import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from impactlab.errors import DataError
from impactlab.io import read_completions, read_kpis

HEADER = ["User ID", "Training Title", "Transcript Status", "Transcript Completed Date", "Training Hours"]
STATUS = {"Completed": "completed", "In Progress": "in_progress", "Exempt": "exempt", "Failed": "failed",
          "Registered": "enrolled", "Withdrawn / Past Due": "withdrawn"}

good_row = st.fixed_dictionaries({
    "status": st.sampled_from(sorted(STATUS)),
    "day": st.dates(min_value=pd.Timestamp("2015-01-01").date(), max_value=pd.Timestamp("2024-12-31").date()),
    "minute": st.integers(0, 24 * 60 - 1),
    "hours": st.one_of(st.none(), st.integers(0, 4000).map(lambda k: k / 4)),
    "program": st.sampled_from(["Safety", "Consultative Selling", "Formación", "Coaching, Level 2"]),
})
BAD_KINDS = ("missing_id", "unknown_status", "bad_date", "completed_no_date", "bad_hours", "ragged")
bad_row = st.tuples(st.sampled_from(BAD_KINDS), good_row)


def _cells(i: int, g: dict) -> list[str]:
    when = pd.Timestamp(g["day"]) + pd.Timedelta(minutes=g["minute"])
    hours = "" if g["hours"] is None else f"{g['hours']:g}"
    return [f"E{i:05d}", g["program"], g["status"], when.strftime("%Y-%m-%d %H:%M:%S"), hours]


def _spoil(cells: list[str], kind: str) -> list[str]:
    c = list(cells)
    if kind == "missing_id":
        c[0] = ""
    elif kind == "unknown_status":
        c[2] = "Sort Of Done"
    elif kind == "bad_date":
        c[3] = "the day after"
    elif kind == "completed_no_date":
        c[2], c[3] = "Completed", ""
    elif kind == "bad_hours":
        c[4] = "n/a hours"
    elif kind == "ragged":
        c.append("extra")
    return c


def _build(goods, bads, order):
    """Rows in the drawn order; returns the rows and the expected canonical values of each good row."""
    rows: list[tuple[bool, list[str], dict | None]] = []
    for i, g in enumerate(goods):
        rows.append((True, _cells(i, g), g))
    for j, (kind, g) in enumerate(bads):
        rows.append((False, _spoil(_cells(10_000 + j, g), kind), None))
    rows = [rows[k] for k in sorted(range(len(rows)), key=lambda k: order[k % len(order)] * 1000 + k)]
    return rows


def _write(rows, fmt: str, tmp_path):
    if fmt == "csv":
        buf = io.StringIO()
        w = csv.writer(buf, delimiter=";", lineterminator="\r\n")
        w.writerow(HEADER)
        for _, cells, _ in rows:
            w.writerow(cells)
        path = tmp_path / "t.csv"
        path.write_bytes(b"\xef\xbb\xbf" + buf.getvalue().encode("utf-8"))
        lines = list(range(2, len(rows) + 2))
    else:
        path = tmp_path / "t.jsonl"
        with path.open("w", encoding="utf-8") as fh:
            for _, cells, _ in rows:
                rec = dict(zip(HEADER, cells, strict=False))
                fh.write(json.dumps(rec if len(cells) == len(HEADER) else cells) + "\n")
        lines = list(range(1, len(rows) + 1))
    return path, lines


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    goods=st.lists(good_row, max_size=12),
    bads=st.lists(bad_row, max_size=6),
    order=st.lists(st.integers(0, 50), min_size=1, max_size=20),
    fmt=st.sampled_from(["csv", "jsonl"]),
)
def test_accounting_identity_and_no_good_row_lost_or_altered(tmp_path, goods, bads, order, fmt):
    rows = _build(goods, bads, order)
    if not rows:
        return
    path, lines = _write(rows, fmt, tmp_path)
    if fmt == "jsonl" and all(len(cells) != len(HEADER) for _, cells, _ in rows):
        # no line is a JSON object, so there are no columns at all: a table-level error, not row rejections
        with pytest.raises(DataError, match="lacks required column"):
            read_completions(path)
        return
    if not any(good for good, _, _ in rows):  # every row rejected: the reader raises, listing each one
        with pytest.raises(DataError, match=f"none of the {len(rows)} rows") as err:
            read_completions(path)
        assert {f.row for f in err.value.failures} == set(lines)
        return
    t = read_completions(path)
    assert t.rows_read == len(rows)
    assert t.rows_read == t.n_kept + t.n_rejected
    kept = t.frame.set_index("source_row")
    assert set(t.rejected["source_row"]).isdisjoint(kept.index)
    for line, (good, cells, g) in zip(lines, rows, strict=True):
        if not good:
            assert line in set(t.rejected["source_row"]), cells
            continue
        assert line in kept.index, cells
        r = kept.loc[line]
        assert r["employee_id"] == cells[0] and r["program"] == g["program"]
        assert r["status"] == STATUS[g["status"]] and r["status_raw"] == g["status"]
        assert r["completed_at"] == pd.Timestamp(cells[3], tz="UTC")
        assert (pd.isna(r["hours"]) and g["hours"] is None) or r["hours"] == g["hours"]


@settings(max_examples=30, deadline=None)
@given(
    values=st.lists(st.one_of(st.integers(-10**7, 10**7).map(lambda k: k / 100), st.just("?"), st.none()),
                    min_size=1, max_size=15),
)
def test_kpi_reader_keeps_every_number_and_rejects_only_non_numbers(values):
    frame = pd.DataFrame({"employee_id": [f"E{i}" for i in range(len(values))], "month": "2024-01",
                          "revenue": pd.Series(values, dtype=object)})
    if all(v == "?" for v in values):  # no row kept: the reader raises, listing every row
        with pytest.raises(DataError, match=f"none of the {len(values)} rows") as err:
            read_kpis(frame, metrics=["revenue"])
        assert [f.row for f in err.value.failures] == list(range(1, len(values) + 1))
        return
    t = read_kpis(frame, metrics=["revenue"])
    assert t.rows_read == t.n_kept + t.n_rejected == len(values)
    kept = t.frame.set_index("source_row")["revenue"]
    for i, v in enumerate(values, start=1):
        if v == "?":
            assert i not in kept.index
        elif v is None:
            assert pd.isna(kept[i])
        else:
            assert kept[i] == v


# ------------------------------------------------------------------------------------ every reader
DATES = ["2024-01-02", "2023-06-30 08:00", "soon", "", "2099-01-01", "45383"]
POOLS = {
    "completions": (read_completions, {
        "User ID": ["E1", "E2", " E3 ", "", "1234.0"], "Course": ["Safety", ""],
        "Status": ["Completed", "Enrolled", "Exempt", "Sort of", ""], "Completion Date": DATES,
        "Hours": ["1,5", "2", "-1", "x", ""]}),
    "assessments": ("read_assessments", {
        "Employee ID": ["E1", "E2", ""], "Program": ["Safety", ""], "Kind": ["pre", "post", "mid", ""],
        "Score": ["3", "-1", "abc", "", "12"], "Max Score": ["10", "", "x"], "Taken At": DATES}),
    "surveys": ("read_surveys", {
        "Respondent": ["E1", "", "E2"], "Program": ["Safety", ""], "Item": ["q1", "q2", ""],
        "Response": ["1", "5", "9", "x", ""], "Scale Min": ["1", ""], "Scale Max": ["5", ""]}),
    "observations": ("read_observations", {
        "Employee ID": ["E1", "E2", ""], "Behavior": ["asks", ""], "Rating": ["3", "x", ""],
        "Observed At": DATES}),
    "roster": ("read_roster", {
        "Employee ID": ["E1", "E2", "E3", ""], "Team": ["A", ""], "Hire Date": DATES,
        "Termination Date": DATES}),
    "costs": ("read_costs", {
        "Program": ["Safety", ""], "Category": ["design", "venue", "nonsense", ""],
        "Amount": ["100", "x", ""], "Low": ["10", ""], "High": ["20", "5", ""]}),
    "kpis": (read_kpis, {
        "employee_id": ["E1", "E2", "E3", ""], "month": ["2024-01", "2024-02", "bad", ""],
        "revenue": ["1", "2,5", "x", ""]}),
}


def _reader(ref):
    import impactlab.io as io_

    return getattr(io_, ref) if isinstance(ref, str) else ref


@settings(max_examples=25, deadline=None)
@given(data=st.data(), kind=st.sampled_from(sorted(POOLS)))
def test_accounting_identity_holds_for_every_reader(data, kind):
    ref, pools = POOLS[kind]
    n = data.draw(st.integers(1, 12), label="rows")
    frame = pd.DataFrame({c: data.draw(st.lists(st.sampled_from(v), min_size=n, max_size=n), label=c)
                          for c, v in pools.items()})
    if kind == "costs" and "nonsense" in set(frame["Category"]):
        # a cost item that is no Phillips category refuses the sheet: a total without it would be wrong
        with pytest.raises(DataError, match="not Phillips cost categories: 'nonsense'"):
            _reader(ref)(frame)
        return
    try:
        t = _reader(ref)(frame)
    except DataError as err:  # every row rejected: the reader raises, listing each row
        assert f"none of the {n} rows" in str(err)
        assert {f.row for f in err.failures} == set(range(1, n + 1))
        return
    assert t.rows_read == n == t.n_kept + t.n_rejected
    kept = t.frame["source_row"]
    assert kept.is_unique and set(kept).isdisjoint(set(t.rejected["source_row"]))
    id_col = next((c for c in ("User ID", "Employee ID", "employee_id") if c in pools), None)
    if id_col is not None:
        want = [str(frame[id_col].iloc[r - 1]).strip().removesuffix(".0") for r in kept]
        assert t.frame["employee_id"].tolist() == want
