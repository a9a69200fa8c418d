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
    assert s.examples.values.tolist() == [["unknown status", "Teleported"]]
    extended = scan_completions(transcript, program="negotiation", status_map={"Teleported": "completed"})
    assert extended.frame["employee_id"].tolist() == ["007", "1234", "57"]
    assert "rows out of 10 read" in repr(s) and "unknown status: 1" in s.summary()


def test_parquet_gives_the_same_frame(transcript, tmp_path):
    raw = pd.read_csv(transcript, dtype=str, keep_default_na=False)
    raw.to_parquet(tmp_path / "t.parquet")
    a = scan_completions(transcript, program="Negotiation")
    b = scan_completions(tmp_path / "t.parquet", program="Negotiation")
    pd.testing.assert_frame_equal(a.frame, b.frame)
    assert a.counts.to_dict() == b.counts.to_dict()


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
    q = scan_kpis(path, unit="store", time="month", metrics=["sales"], freq="Q")
    assert q.frame["period"].astype(str).tolist() == ["2024Q1", "2024Q1"]


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
