"""The DuckDB scan route keeps the rows the file readers keep: ids in scientific notation, dates in the
future, non-finite metrics and repeated unit-period rows are rejected alike, and times the clocks skipped or
repeated are read alike; where it still reads differently (number formats, day/month dates) a
DataQualityWarning names the difference."""

from __future__ import annotations

import pandas as pd
import pytest

import impactlab as il
from impactlab.errors import DataQualityWarning
from impactlab.io.large import scan_completions, scan_kpis

NY = "America/New_York"


def test_completions_scan_rejects_and_reads_as_read_completions(tmp_path):
    path = tmp_path / "t.csv"
    path.write_text("User ID,Course,Status,Completed\n1.23E+05,N,Completed,2024-03-01\n"
                    "2,N,Completed,2999-01-01\n3,N,Completed,2024-03-10 02:30\n"
                    "4,N,Completed,2024-11-03 01:30\n5,N,Completed,45599.0625\n"
                    "6,N,Completed,2024-06-01\n", encoding="utf-8")
    scan = scan_completions(path, program="N", tz=NY)
    table = il.read_completions(path, tz=NY)
    assert scan.frame["employee_id"].tolist() == table.frame["employee_id"].tolist() == ["3", "4", "5", "6"]
    assert scan.frame["completed_at"].tolist() == table.frame["completed_at"].tolist() == [
        pd.Timestamp("2024-03-10 07:30", tz="UTC"), pd.Timestamp("2024-11-03 05:30", tz="UTC"),
        pd.Timestamp("2024-11-03 05:30", tz="UTC"), pd.Timestamp("2024-06-01 04:00", tz="UTC")]
    assert scan.rejected[["source_row", "reason"]].values.tolist() == [
        [2, "employee_id in scientific notation"], [3, "completed_at in the future or before 1900"]]
    assert sorted(table.rejected["source_row"]) == [2, 3]


def test_a_day_month_date_the_scan_cannot_read_is_named_as_a_difference(tmp_path):
    path = tmp_path / "t.csv"
    path.write_text("User ID,Course,Status,Completed\n3,N,Completed,31/03/2024\n5,N,Completed,2024-06-01\n"
                    "6,N,Completed,2024-02-30\n", encoding="utf-8")
    with pytest.warns(DataQualityWarning, match="the DuckDB scan differs from the file readers here: 1 "
                                                "completed_at value\\(s\\) .* e.g. '31/03/2024' at row 2"):
        scan = scan_completions(path, program="N")
    assert scan.rejected["reason"].tolist() == ["unreadable completed_at"] * 2
    table = il.read_completions(path)
    assert table.frame["employee_id"].tolist() == ["3", "5"]  # the file reader reads 31/03/2024


def test_kpi_scan_rejects_and_keeps_as_read_kpis(tmp_path):
    path = tmp_path / "k.csv"
    path.write_text("employee_id,month,revenue\nE1,2024-01,100\nE1,2024-02,inf\nE1,2024-03,NaN\nE1,2024-04,NA\n"
                    "E1,2024-06,120\nE1,2024-06,120\nE2,2024-01,5\nE2,2024-01,6\nE2,2024-02,1e309\n",
                    encoding="utf-8")
    scan = scan_kpis(path, unit="employee_id", time="month", metrics=["revenue"])
    table = il.read_kpis(path, unit="employee_id", time="month")
    assert scan.frame["period"].astype(str).tolist() == table.frame["period"].astype(str).tolist() == [
        "2024-01", "2024-04", "2024-06"]
    assert scan.frame["revenue"].tolist()[::2] == [100.0, 120.0] and pd.isna(scan.frame["revenue"].iloc[1])
    assert scan.rejected["source_row"].tolist() == sorted(table.rejected["source_row"]) == [3, 4, 7, 8, 9, 10]
    assert scan.counts.to_dict() == {"used": 3, "metric not a number": 3,
                                     "exact duplicate of another row (same unit, period and values)": 1,
                                     "conflicting rows for one unit and period": 2}


def test_a_thousands_separator_the_scan_cannot_read_is_named_as_a_difference(tmp_path):
    path = tmp_path / "k.csv"
    path.write_text('employee_id,month,revenue\nE1,2024-01,100\nE1,2024-02,"1,234.50"\n', encoding="utf-8")
    said = "1 metric value\\(s\\) written with thousands separators, a decimal comma or a currency symbol " \
           "\\(e.g. '1,234.50' at row 3\\)"
    with pytest.warns(DataQualityWarning, match=said):
        scan = scan_kpis(path, unit="employee_id", time="month", metrics=["revenue"])
    assert scan.rejected["source_row"].tolist() == [3]
    assert il.read_kpis(path, unit="employee_id", time="month").frame["revenue"].tolist() == [100.0, 1234.5]
