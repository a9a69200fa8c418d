"""Acceptance tests of read_completions (issue 3)."""

import re

import pandas as pd
import pytest

from impactlab.errors import DataError
from impactlab.io import read_completions
from impactlab.schemas import COMPLETIONS

# Line numbers in tests/data/completions_bad.csv (header = line 1).
UNKNOWN_STATUS, BAD_DATE, NO_ID, DUPLICATE = 4, 5, 6, 8


def test_quarantine_keeps_good_rows_and_rejects_each_bad_one(data_dir, invariant):
    t = read_completions(data_dir / "completions_bad.csv")
    assert t.rows_read == 9
    assert len(t.frame) == 5
    invariant(t)
    assert list(t.frame.columns) == list(COMPLETIONS.names)
    assert t.frame["employee_id"].tolist() == ["E001", "E002", "E005", "E006", "E007"]
    assert t.frame["source_row"].tolist() == [2, 3, 7, 9, 10]
    rej = t.rejected.set_index("source_row")
    assert sorted(rej.index.unique()) == [UNKNOWN_STATUS, BAD_DATE, NO_ID, DUPLICATE]
    assert rej.loc[UNKNOWN_STATUS, "column"] == "Transcript Status"
    assert rej.loc[UNKNOWN_STATUS, "value"] == "Sort Of Done"
    assert "unknown status 'Sort Of Done'" in rej.loc[UNKNOWN_STATUS, "reason"]
    assert "status_map=" in rej.loc[UNKNOWN_STATUS, "reason"]
    assert rej.loc[BAD_DATE, "column"] == "Transcript Completed Date"
    assert rej.loc[BAD_DATE, "value"] == "yesterday"
    assert "ISO 8601" in rej.loc[BAD_DATE, "reason"]
    assert rej.loc[NO_ID, "column"] == "User ID"
    assert rej.loc[NO_ID, "check"] == "missing"
    assert rej.loc[DUPLICATE, "reason"] == "exact duplicate of row 2"
    # the raw row's values travel with the rejection, as strings
    assert rej.loc[DUPLICATE, "User ID"] == "E001"
    assert rej.loc[BAD_DATE, "Score"] == "80"


def test_statuses_and_dates_are_canonical(data_dir):
    f = read_completions(data_dir / "completions_bad.csv").frame.set_index("employee_id")
    assert f.loc["E001", "status"] == "completed"
    assert f.loc["E005", "status"] == "exempt"  # Completed Equivalent: credited, not trained
    assert f.loc["E006", "status"] == "withdrawn"  # "Withdrawn / Past Due" keeps Withdrawn
    assert f.loc["E007", "status"] == "passed"
    assert f.loc["E006", "status_raw"] == "Withdrawn / Past Due"
    assert f.loc["E001", "completed_at"] == pd.Timestamp("2024-02-10 09:30", tz="UTC")
    assert f.loc["E007", "completed_at"] == pd.Timestamp("2024-03-01 08:00", tz="UTC")
    assert pd.isna(f.loc["E002", "completed_at"])
    assert f.loc["E002", "hours"] == 2.5
    assert str(f["completed_at"].dtype) == "datetime64[us, UTC]"


def test_raise_lists_all_four_failures_by_row_and_column(data_dir):
    with pytest.raises(DataError, match=r"4 problem\(s\) on 4 of 9 rows") as info:
        read_completions(data_dir / "completions_bad.csv", errors="raise")
    err = info.value
    got = {(f.row, f.column) for f in err.failures}
    assert got == {
        (UNKNOWN_STATUS, "Transcript Status"),
        (BAD_DATE, "Transcript Completed Date"),
        (NO_ID, "User ID"),
        (DUPLICATE, None),
    }
    msg = str(err)
    assert err.source.endswith("completions_bad.csv")
    for row in (UNKNOWN_STATUS, BAD_DATE, NO_ID, DUPLICATE):
        assert f"row {row}" in msg
    assert re.search(r"row 4, column 'Transcript Status': saw 'Sort Of Done'", msg)


def test_naive_timestamps_take_tz(data_dir):
    t = read_completions(data_dir / "completions_bad.csv", tz="Europe/Paris")
    f = t.frame.set_index("employee_id")
    # 09:30 in Paris (CET, UTC+1 in February) is 08:30 UTC; an explicit Z is left as it is
    assert f.loc["E001", "completed_at"] == pd.Timestamp("2024-02-10 08:30", tz="UTC")
    assert f.loc["E007", "completed_at"] == pd.Timestamp("2024-03-01 08:00", tz="UTC")


def test_bom_and_semicolon_with_decimal_comma(data_dir, invariant):
    t = read_completions(data_dir / "completions_bom_semicolon.csv")
    invariant(t)
    assert t.frame["employee_id"].tolist() == ["A1", "A2"]
    assert t.frame["program"].tolist() == ["Negotiation", "Negotiation"]
    assert t.frame["status"].tolist() == ["completed", "enrolled"]
    assert t.frame["hours"].tolist() == [1.5, 2.0]
    assert t.frame["source_row"].tolist() == [2, 3]
    assert any("semicolon" in n for n in t.notes)


def test_cp1252_fallback(tmp_path):
    p = tmp_path / "latin.csv"
    p.write_bytes("User ID,Training Title,Status\nE1,Sécurité,Enrolled\n".encode("cp1252"))
    t = read_completions(p)
    assert t.frame["program"].tolist() == ["Sécurité"]
    assert "encoding cp1252" in t.notes


def test_parquet_round_trip(data_dir, tmp_path, invariant):
    csv = read_completions(data_dir / "completions_bad.csv")
    raw = pd.read_csv(data_dir / "completions_bad.csv", dtype=str, keep_default_na=False)
    raw.to_parquet(tmp_path / "c.parquet")
    pq = read_completions(tmp_path / "c.parquet")
    invariant(pq)
    cols = [c for c in COMPLETIONS.names if c != "source_row"]
    pd.testing.assert_frame_equal(pq.frame[cols], csv.frame[cols])
    # parquet and frames count rows by position + 1
    assert pq.frame["source_row"].tolist() == [r - 1 for r in csv.frame["source_row"]]


def test_xlsx_first_sheet_and_named_sheet(data_dir, tmp_path):
    raw = pd.read_csv(data_dir / "completions_bad.csv", dtype=str, keep_default_na=False)
    path = tmp_path / "c.xlsx"
    with pd.ExcelWriter(path) as xw:
        raw.to_excel(xw, sheet_name="transcript", index=False)
        raw.head(2).to_excel(xw, sheet_name="other", index=False)
    t = read_completions(path)
    assert t.rows_read == 9 and len(t.frame) == 5
    assert t.frame["source_row"].tolist() == [2, 3, 7, 9, 10]  # spreadsheet rows, like CSV lines
    assert read_completions(path, sheet="other").rows_read == 2
    with pytest.raises(ValueError, match="'sheet' parameter"):
        read_completions(path, sheet="missing")


def test_dataframe_input_uses_position_plus_one():
    raw = pd.DataFrame(
        {
            "employee_id": [101, 102, 103],
            "program": ["P"] * 3,
            "status": ["completed", "assigned", "nonsense"],
            "completed_at": pd.to_datetime(["2024-01-02", None, None]),
        },
        index=[10, 20, 30],
    )
    t = read_completions(raw)
    assert t.source == "<DataFrame>"
    assert t.frame["employee_id"].tolist() == ["101", "102"]  # ids are strings everywhere
    assert t.frame["source_row"].tolist() == [1, 2]
    assert t.rejected["source_row"].tolist() == [3]
    assert t.frame.loc[0, "completed_at"] == pd.Timestamp("2024-01-02", tz="UTC")


def test_column_override():
    raw = pd.DataFrame(
        {
            "Learner": ["a", "b"],
            "Thing": ["P", "P"],
            "Where": ["Done", "Done"],
            "When": ["2024-01-01", "2024-01-02"],
        }
    )
    t = read_completions(
        raw,
        columns={"Thing": "program", "where": "status", "When": "completed_at"},
        status_map={"Done": "completed"},
    )
    assert t.columns == {
        "employee_id": "Learner",
        "program": "Thing",
        "status": "Where",
        "completed_at": "When",
    }
    assert t.frame["status"].tolist() == ["completed", "completed"]
    with pytest.raises(ValueError, match="not columns of this table"):
        read_completions(raw, columns={"Thing": "programme_name"})
    with pytest.raises(DataError, match="not in the input"):
        read_completions(raw, columns={"Nope": "program"})


def test_status_map_extends_and_is_checked():
    raw = pd.DataFrame(
        {
            "User ID": ["a", "b", "c"],
            "Course": ["P"] * 3,
            "Status": ["Terminado", "En Progreso", "Completed"],
            "Completion Date": ["2024-01-01", "", "2024-01-03"],
        }
    )
    plain = read_completions(raw)
    assert plain.rejected["value"].tolist() == ["Terminado", "En Progreso"]
    t = read_completions(raw, status_map={"terminado": "completed", "EN PROGRESO": "in_progress"})
    assert t.frame["status"].tolist() == ["completed", "in_progress", "completed"]
    assert t.frame["status_raw"].tolist() == ["Terminado", "En Progreso", "Completed"]
    with pytest.raises(ValueError, match="'status_map' parameter"):
        read_completions(raw, status_map={"terminado": "done"})


def test_completed_requires_completed_at():
    raw = pd.DataFrame(
        {
            "User ID": ["a", "b"],
            "Course": ["P", "P"],
            "Status": ["Passed", "Failed"],
            "Completion Date": ["", ""],
        }
    )
    t = read_completions(raw)
    assert t.frame["employee_id"].tolist() == ["b"]
    assert "completed_at is required when status is 'passed'" in t.rejected.loc[0, "reason"]


def test_ambiguous_day_month_raises_and_dayfirst_settles(data_dir):
    path = data_dir / "completions_ambiguous_dates.csv"
    with pytest.raises(DataError, match="dayfirst"):
        read_completions(path)
    eu = read_completions(path, dayfirst=True).frame["completed_at"].tolist()
    us = read_completions(path, dayfirst=False).frame["completed_at"].tolist()
    assert eu[0] == pd.Timestamp("2024-04-03", tz="UTC")
    assert us[0] == pd.Timestamp("2024-03-04", tz="UTC")


def test_day_above_twelve_settles_the_column():
    raw = pd.DataFrame(
        {
            "User ID": ["a", "b"],
            "Course": ["P", "P"],
            "Status": ["Completed"] * 2,
            "Completion Date": ["03/04/2024", "25/04/2024"],
        }
    )
    assert read_completions(raw).frame["completed_at"].tolist() == [
        pd.Timestamp("2024-04-03", tz="UTC"),
        pd.Timestamp("2024-04-25", tz="UTC"),
    ]


def test_missing_required_column_raises_in_quarantine_too():
    raw = pd.DataFrame({"User ID": ["a"], "Status": ["Completed"]})
    with pytest.raises(DataError, match=r"lacks required column\(s\) \['program'\]") as info:
        read_completions(raw)
    assert "columns={'<your header>': 'program'}" in str(info.value)


def test_options_are_checked():
    raw = pd.DataFrame({"User ID": ["a"], "Course": ["P"], "Status": ["Assigned"]})
    with pytest.raises(ValueError, match=r"'preset' parameter must be one of None, 'cornerstone'.*'saba'"):
        read_completions(raw, preset="saba")
    with pytest.raises(ValueError, match="'errors' parameter"):
        read_completions(raw, errors="ignore")
    with pytest.raises(ValueError, match="'tz' parameter"):
        read_completions(raw, tz="Mars/Olympus")


def test_summary_repr_and_html(data_dir):
    t = read_completions(data_dir / "completions_bad.csv")
    assert "rows read: 9, kept: 5, rejected: 4" in t.summary()
    assert "status (Transcript Status): 1 row(s)" in t.summary()
    assert repr(t).startswith("<Table completions: 5 kept, 4 rejected of 9 read")
    assert "4 rejected" in t._repr_html_()
    with pytest.raises(AttributeError):
        t.kind = "roster"  # frozen
