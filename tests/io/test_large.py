"""DuckDB scans of large exports: hand-built cases, agreement with the ordinary readers, errors."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from impactlab.datasets import simulate_org
from impactlab.errors import DataError
from impactlab.io import read_completions, read_kpis
from impactlab.io.large import scan_completions, scan_kpis
from impactlab.panel import build_panel

TRANSCRIPT = """User ID,Training Title,Transcript Status,Transcript Completed Date,Notes
007,Negotiation,Completed,2024-03-05 10:00,retake after the first
007,Negotiation,Completed,2024-02-01 23:30,first completion (naive: in tz)
1234.0,negotiation ,Passed,2024-04-01T08:00:00+02:00,float id and zone
55,Negotiation,In Progress,,not trained
56,Negotiation,Exempt,2024-01-01,credited not trained
57,Negotiation,Teleported,2024-01-01,unknown status
,Negotiation,Completed,2024-01-01,missing id
58,Negotiation,Completed,,missing date
59,Negotiation,Completed,03/04/2024,not ISO
60,Negotiation,,2024-01-01,missing status
61,Coaching,Completed,2024-01-01,another programme
"""


@pytest.fixture
def transcript(tmp_path):
    path = tmp_path / "transcript.csv"
    path.write_text(TRANSCRIPT, encoding="utf-8")
    return path


def test_first_completion_per_employee_and_every_row_counted(transcript):
    s = scan_completions(transcript, program="Negotiation", tz="Europe/Paris")
    f = s.frame
    assert f["employee_id"].tolist() == ["007", "1234"]
    assert f["completed_at"].tolist() == [
        pd.Timestamp("2024-02-01 22:30Z"),
        pd.Timestamp("2024-04-01 06:00Z"),
    ]
    assert f["attempt"].tolist() == [2, 1] and f["status"].tolist() == ["completed", "passed"]
    assert f["status_raw"].tolist() == ["Completed", "Passed"] and set(f["program"]) == {"Negotiation"}
    assert s.rows_read == 10  # the Coaching row is never read into memory
    assert s.counts.to_dict() == {
        "used": 3,
        "missing employee_id": 1,
        "missing status": 1,
        "unknown status": 1,
        "missing completed_at": 1,
        "unreadable completed_at": 1,
        "other status": 2,
    }
    assert s.counts.sum() == s.rows_read and s.n_rejected == 5
    # every rejected row is traced to its line (header = line 1), with the value at fault
    rej = s.rejected
    assert rej["source_row"].tolist() == [7, 8, 9, 10, 11]
    assert rej["reason"].tolist() == ["unknown status", "missing employee_id", "missing completed_at",
                                      "unreadable completed_at", "missing status"]
    assert rej.loc[0, "value"] == "Teleported" and rej.loc[3, "value"] == "03/04/2024"
    assert rej.loc[3, "employee_id"] == "59" and "source_file" not in rej  # one file: no file column
    shown = s.examples[["reason", "source_row"]].values.tolist()
    assert shown == rej[["reason", "source_row"]].values.tolist()
    extended = scan_completions(transcript, program="negotiation", status_map={"Teleported": "completed"})
    assert extended.frame["employee_id"].tolist() == ["007", "1234", "57"]
    assert "rows out of 10 read" in repr(s) and "unknown status: 1" in s.summary()


def test_scan_reads_the_date_forms_of_the_file_readers(tmp_path):
    rows = [
        ("1", "2024-03-05 10:00"),  # ISO, naive: in tz
        ("2", "1709632800"),  # epoch seconds (UTC)
        ("3", "1709632800000"),  # epoch milliseconds
        ("4", "/Date(1709632800000)/"),  # OData
        ("5", "/Date(1709632800000+0100)/"),  # OData with the writer's offset: the ms are UTC
        ("6", "45356.5"),  # Excel serial: 2024-03-05 12:00 wall clock in tz
        ("7", "20240305"),  # YYYYMMDD
        ("8", "0"),  # not set
        ("9", "5 March 2024"),  # month names: left to the file readers
        ("10", "12345"),  # a number that is no date unit
    ]
    text = "User ID,Course,Status,Completed\n" + "".join(f"{i},Safety,Completed,{d}\n" for i, d in rows)
    path = tmp_path / "dates.csv"
    path.write_text(text, encoding="utf-8")
    s = scan_completions(path, program="Safety", tz="Europe/Paris")
    got = dict(zip(s.frame["employee_id"], s.frame["completed_at"], strict=True))
    assert got == {
        "1": pd.Timestamp("2024-03-05 09:00Z"),
        "2": pd.Timestamp("2024-03-05 10:00Z"),
        "3": pd.Timestamp("2024-03-05 10:00Z"),
        "4": pd.Timestamp("2024-03-05 10:00Z"),
        "5": pd.Timestamp("2024-03-05 10:00Z"),
        "6": pd.Timestamp("2024-03-05 11:00Z"),
        "7": pd.Timestamp("2024-03-04 23:00Z"),
    }
    # the same file through the in-memory reader gives the same instants for the rows both read
    table = read_completions(path, tz="Europe/Paris", errors="quarantine")
    mem = dict(zip(table.frame["employee_id"], table.frame["completed_at"], strict=True))
    assert {k: mem[k] for k in got} == got
    assert s.rejected[["source_row", "reason"]].values.tolist() == [
        [9, "missing completed_at"], [10, "unreadable completed_at"], [11, "unreadable completed_at"]]
    assert s.counts.sum() == s.rows_read == 10


def test_scan_of_several_files_names_the_file_of_each_rejected_row(transcript, tmp_path):
    other = tmp_path / "more.csv"
    other.write_text("User ID,Training Title,Transcript Status,Transcript Completed Date,Notes\n"
                     "70,Negotiation,Done-ish,2024-01-01,\n", encoding="utf-8")
    s = scan_completions([transcript, other], program="Negotiation")
    rej = s.rejected
    assert rej.loc[rej["source_file"] == str(other), ["source_row", "value"]].values.tolist() == [
        [2, "Done-ish"]]
    assert rej.loc[rej["source_file"] == str(transcript), "source_row"].tolist() == [7, 8, 9, 10, 11]
    assert s.rows_read == 11 and s.counts.sum() == 11


def test_parquet_gives_the_same_frame(transcript, tmp_path):
    raw = pd.read_csv(transcript, dtype=str, keep_default_na=False)
    raw.to_parquet(tmp_path / "t.parquet")
    a = scan_completions(transcript, program="Negotiation")
    b = scan_completions(tmp_path / "t.parquet", program="Negotiation")
    pd.testing.assert_frame_equal(a.frame, b.frame)
    assert a.counts.to_dict() == b.counts.to_dict()
    # Parquet rows are numbered by position + 1: one less than the CSV lines (no header line)
    assert (b.rejected["source_row"] + 1).tolist() == a.rejected["source_row"].tolist()


def test_scans_build_the_same_panel_as_the_readers(tmp_path):
    org = simulate_org(n_employees=300, n_periods=16, seed=11)
    org.completions.to_csv(tmp_path / "c.csv", index=False)
    org.kpis.to_csv(tmp_path / "k.csv", index=False)
    comp = read_completions(tmp_path / "c.csv")
    kpis = read_kpis(tmp_path / "k.csv", time="month")
    ref = build_panel(kpis, comp, program=org.program, outcome=org.outcome)
    scanned = build_panel(
        scan_kpis(tmp_path / "k.csv", time="month", metrics=["revenue", "deals"]),
        scan_completions(tmp_path / "c.csv", program=org.program),
        program=org.program,
        outcome=org.outcome,
    )
    cols = ["unit", "time", "outcome", "cohort", "cohort_period"]
    a = ref.long()[cols].sort_values(["unit", "time"]).reset_index(drop=True)
    b = scanned.long()[cols].sort_values(["unit", "time"]).reset_index(drop=True)
    pd.testing.assert_frame_equal(a, b)
    assert ref.meta["trained_employees"] == scanned.meta["trained_employees"] > 100


def test_scan_kpis_counts_bad_rows_and_quarters(tmp_path):
    path = tmp_path / "k.csv"
    path.write_text(
        "store,month,sales\nS1,2024-01,10\nS1,2024-02-01,12.5\n,2024-03,1\nS2,soon,3\nS2,2024-05,n/a!\n",
        encoding="utf-8",
    )
    s = scan_kpis(path, unit="store", time="month", metrics=["sales"])
    assert s.frame["store"].tolist() == ["S1", "S1"]
    assert s.frame["period"].astype(str).tolist() == ["2024-01", "2024-02"]
    assert s.frame["sales"].tolist() == [10.0, 12.5]
    assert s.counts.to_dict() == {
        "used": 2,
        "missing unit": 1,
        "unreadable period": 1,
        "metric not a number": 1,
    }
    assert s.rejected[["source_row", "reason"]].values.tolist() == [
        [4, "missing unit"], [5, "unreadable period"], [6, "metric not a number"]]
    assert s.rejected["period"].tolist() == ["2024-03", "soon", "2024-05"]
    q = scan_kpis(path, unit="store", time="month", metrics=["sales"], freq="Q")
    # two months of S1 fall in one quarter with different values: conflicting rows, as read_kpis says
    assert q.frame.empty and q.counts["conflicting rows for one unit and period"] == 2
    assert q.rejected.loc[q.rejected["source_row"].isin([2, 3]), "period"].tolist() == ["2024Q1", "2024Q1"]


def test_errors(transcript, tmp_path):
    with pytest.raises(DataError, match=r"no rows for program 'Sales 101'(?s:.*)'Negotiation'"):
        scan_completions(transcript, program="Sales 101")
    with pytest.raises(DataError, match=r"lacks column\(s\) \['completed_at'\]"):
        scan_completions(
            transcript, program="Negotiation", columns={"Transcript Completed Date": "assigned_at"}
        )
    with pytest.raises(FileNotFoundError, match="No such file"):
        scan_completions(tmp_path / "missing.csv", program="x")
    (tmp_path / "t.xlsx").write_bytes(b"")
    with pytest.raises(ValueError, match=r"file type\(s\) \['.xlsx'\] are not supported"):
        scan_completions(tmp_path / "t.xlsx", program="x")
    with pytest.raises(ValueError, match="'freq' parameter must be one of 'M', 'Q'. Got 'W'"):
        scan_kpis(transcript, metrics=["x"], freq="W")
    with pytest.raises(DataError, match=r"lacks column\(s\) \['period', 'revenue'\]"):
        scan_kpis(transcript, unit="User ID", metrics=["revenue"])
    with pytest.raises(ValueError, match="'status_map' parameter must map raw strings"):
        scan_completions(transcript, program="x", status_map={"Done": "finished"})
    assert np.isfinite(scan_completions(transcript, program="Negotiation").frame["attempt"].sum())
