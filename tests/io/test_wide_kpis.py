"""Wide KPI sheets (one column per period), period labels as BI tools write them, the unit column's name,
and a KPI read that keeps no row."""

import numpy as np
import pandas as pd
import pytest

import impactlab as il
from impactlab.errors import DataError
from impactlab.io import read_kpis

MONTHS = pd.period_range("2024-01", periods=18, freq="M")


def _wide_workbook(path):
    """300 employees x 18 months ("Jan 2024" ... "Jun 2025"), revenue = 100 + employee number + month
    index, with 4 blank cells, 3 text cells and a totals row; returns the frame written."""
    heads = [p.strftime("%b %Y") for p in MONTHS]
    frame = pd.DataFrame({"Employee ID": [f"E{i:03d}" for i in range(300)],
                          "Team": [f"T{i % 6}" for i in range(300)]})
    for j, h in enumerate(heads):
        frame[h] = pd.Series([100.0 + i + j for i in range(300)], dtype=object)
    for i, h in [(3, "Mar 2024"), (10, "Jan 2024"), (200, "Jun 2025"), (299, "Feb 2025")]:
        frame.loc[i, h] = None
    for i, h, v in [(5, "Apr 2024", "n/a"), (6, "Apr 2024", "see note"), (150, "Dec 2024", "#REF!")]:
        frame.loc[i, h] = v
    total = {"Employee ID": "Total", "Team": None, **{h: 1.0 for h in heads}}
    frame = pd.concat([frame, pd.DataFrame([total])], ignore_index=True)
    frame.to_excel(path, sheet_name="Revenue", index=False)
    return frame


def test_wide_workbook_keeps_its_cells_and_names_every_rejected_one(tmp_path, invariant):
    path = tmp_path / "bi_export.xlsx"
    _wide_workbook(path)
    t = read_kpis(path, unit="Employee ID", metric="revenue")
    invariant(t)
    assert t.rows_read == 301 * 18
    assert t.n_kept == 300 * 18 - 7 and t.n_kept / t.rows_read >= 0.95
    assert list(t.frame.columns[:3]) == ["employee_id", "period", "revenue"]
    f = t.frame.set_index(["employee_id", "period"])["revenue"]
    assert f[("E042", pd.Period("2024-07", "M"))] == 100 + 42 + 6
    assert f[("E299", pd.Period("2025-06", "M"))] == 100 + 299 + 17
    rej = t.rejected
    # the sheet's row 5 (header on row 1) is employee E003; its Mar 2024 cell is empty
    cell = rej[(rej["column"] == "Mar 2024") & (rej["source_line"] == "5")].iloc[0]
    assert cell["reason"] == "cell at row 5, column 'Mar 2024': empty cell (no revenue value for this period)"
    text = rej[rej["check"] == "number"]
    assert sorted(text["value"]) == ["#REF!", "see note"] and set(text["column"]) == {"Apr 2024", "Dec 2024"}
    na = rej[(rej["column"] == "Apr 2024") & (rej["source_line"] == "7")]  # "n/a": a missing-value spelling
    assert na["check"].tolist() == ["missing"]
    assert text["reason"].str.startswith("cell at row ").all()
    totals = rej[rej["check"] == "non_data"]
    assert len(totals) == 18 and (totals["source_line"] == "302").all()
    assert sorted(totals["column"]) == sorted(p.strftime("%b %Y") for p in MONTHS)
    assert "totals row" in totals["reason"].iloc[0]
    # every cell is kept or rejected, once
    assert t.n_rejected == 4 + 3 + 18


def test_wide_workbook_goes_through_build_panel(tmp_path):
    path = tmp_path / "bi_export.xlsx"
    _wide_workbook(path)
    kpis = read_kpis(path, unit="Employee ID", metric="revenue")
    done = pd.DataFrame({"User ID": ["E001", "E002", "E150"], "Course": "Sales Academy",
                         "Status": "Completed",
                         "Completion Date": ["2024-06-10", "2024-06-20", "2025-01-05"]})
    panel = il.build_panel(kpis, il.read_completions(done), program="Sales Academy", outcome="revenue",
                           cluster="team")
    assert panel.n_units == 300 and panel.n_obs == 300 * 18 - 7 and panel.n_periods == 18
    units = panel.long().drop_duplicates("unit").set_index("unit")
    assert str(units.loc["E001", "cohort"]) == "2024-06" and str(units.loc["E150", "cohort"]) == "2025-01"
    assert units["cohort"].notna().sum() == 3 and units.loc["E007", "cluster"] == "T1"


@pytest.mark.parametrize(("label", "month"), [
    ("Jan 2024", "2024-01"), ("January 2024", "2024-01"), ("Sept 2024", "2024-09"), ("Mar-24", "2024-03"),
    ("2024-01", "2024-01"), ("2024/11", "2024-11"), ("202405", "2024-05"), ("2024M01", "2024-01"),
    ("2024M7", "2024-07"), ("01/2024", "2024-01"), ("12.2024", "2024-12"), ("Q1 2024", "2024-01"),
    ("2024 Q3", "2024-07"), ("2024-Q4", "2024-10"),
])
def test_long_layout_reads_bi_period_labels(label, month):
    t = read_kpis(pd.DataFrame({"Employee ID": ["E1"], "Month": [label], "revenue": [5.0]}))
    assert t.frame["period"].tolist() == [pd.Period(month, "M")]


def test_fiscal_periods_need_the_year_start_and_are_named_by_the_year_they_end():
    frame = pd.DataFrame({"Employee ID": ["E1", "E2"], "FY24 P01": [1.0, 2.0], "FY24 P12": [3.0, 4.0],
                          "Q2 FY25": [5.0, 6.0]})
    with pytest.raises(DataError, match="fiscal period; pass fiscal_year_start="):
        read_kpis(frame)
    t = read_kpis(frame, fiscal_year_start="April")
    assert sorted(set(t.frame["period"].astype(str))) == ["2023-04", "2024-03", "2024-07"]
    assert read_kpis(frame, fiscal_year_start=4).frame["period"].tolist() == t.frame["period"].tolist()
    # January start: the fiscal year is the calendar year
    jan = read_kpis(frame, fiscal_year_start=1)
    assert sorted(set(jan.frame["period"].astype(str))) == ["2024-01", "2024-12", "2025-04"]
    with pytest.raises(ValueError, match="'fiscal_year_start' parameter must be the month"):
        read_kpis(frame, fiscal_year_start=13)


def test_fiscal_labels_in_a_long_column():
    frame = pd.DataFrame({"emp": ["E1", "E1"], "period": ["FY2025 P03", "FY2025 P13"], "sales": [1, 2]})
    t = read_kpis(frame, unit="emp", fiscal_year_start=7)
    assert t.frame["period"].tolist() == [pd.Period("2024-09", "M")]
    assert "fiscal_year_start=" in t.rejected["reason"].iloc[0]


def test_unit_and_time_headers_map_to_the_canonical_columns():
    frame = pd.DataFrame({"Employee Number": ["7", "8"], "Fiscal Month": ["2024-01", "2024-02"],
                          "Sales": [1.0, 2.0]})
    t = read_kpis(frame, unit="Employee Number", time="Fiscal Month")
    assert list(t.frame.columns) == ["employee_id", "period", "sales", "source_row"]
    assert t.columns == {"employee_id": "Employee Number", "period": "Fiscal Month", "sales": "Sales"}
    stores = read_kpis(frame.rename(columns={"Employee Number": "Store"}), unit="Store", time="Fiscal Month")
    assert list(stores.frame.columns[:2]) == ["store", "period"]


def test_a_kpi_read_that_keeps_no_row_raises_saying_what_it_saw():
    frame = pd.DataFrame({"Employee ID": [f"E{i}" for i in range(30)], "Month": "Month 1",
                          "revenue": np.arange(30.0)})
    with pytest.raises(DataError, match=r"none of the 30 rows of the kpis table could be kept: 30 row\(s\) "
                       r"period \(column 'Month'\), e.g. row 1: cannot read 'Month 1' as a period") as err:
        read_kpis(frame)
    assert len(err.value.failures) == 30 and err.value.failures[0].value == "Month 1"


def test_wide_layout_asked_for_without_period_headers_or_unit():
    frame = pd.DataFrame({"Employee ID": ["E1"], "Month 1": [1.0], "Month 2": [2.0]})
    with pytest.raises(DataError, match="layout='wide' needs period labels as headers"):
        read_kpis(frame, layout="wide")
    with pytest.raises(DataError, match="has no unit column 'Worker'"):
        read_kpis(pd.DataFrame({"Name": ["a"], "Jan 2024": [1], "Feb 2024": [2]}), unit="Worker")
    with pytest.raises(ValueError, match="'layout' parameter must be one of"):
        read_kpis(frame, layout="tall")


def test_layout_long_keeps_period_headers_as_metrics():
    frame = pd.DataFrame({"Employee ID": ["E1"], "month": ["2024-01"], "2024-01": [1.0], "2024-02": [2.0]})
    t = read_kpis(frame, layout="long")
    assert t.n_kept == 1 and t.frame["period"].tolist() == [pd.Period("2024-01", "M")]


def test_wide_sheet_with_errors_raise_lists_cells_by_sheet_row_and_header():
    frame = pd.DataFrame({"Employee ID": ["E1", "E2"], "Jan 2024": [1.0, "x"], "Feb 2024": [2.0, 3.0]})
    with pytest.raises(DataError, match=r"1 problem\(s\) in 1 of 4 cells of the wide kpis sheet") as err:
        read_kpis(frame, errors="raise")
    (f,) = err.value.failures
    assert (f.row, f.column, f.value, f.check) == (2, "Jan 2024", "x", "number")  # a frame: rows 1, 2
    assert f.reason.startswith("cell at row 2, column 'Jan 2024': 'x' is not a number")
    assert read_kpis(frame.iloc[:1], errors="raise").n_kept == 2
