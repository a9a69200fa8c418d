import pandas as pd
import pytest

from impactlab.errors import DataError
from impactlab.io import read_kpis


def test_periods_numbers_and_duplicate_keys(data_dir, invariant):
    t = read_kpis(data_dir / "kpis.csv")
    invariant(t)
    assert t.rows_read == 7
    assert list(t.frame.columns) == ["employee_id", "period", "revenue", "deals", "source_row"]
    assert isinstance(t.frame["period"].dtype, pd.PeriodDtype)
    assert t.frame["period"].dtype == pd.PeriodDtype("M")
    assert t.frame["revenue"].tolist() == [12500.5, 13000.0, 9000.0]
    assert t.frame["period"].tolist() == [
        pd.Period("2024-01", "M"),
        pd.Period("2024-02", "M"),
        pd.Period("2024-01", "M"),
    ]
    rej = t.rejected.set_index("source_row")
    assert rej.loc[5, "reason"] == "exact duplicate of row 4"
    # E003 2024-01 has two rows with different revenue: both rejected, none guessed
    assert rej.loc[6, "check"] == "key" and rej.loc[7, "check"] == "key"
    assert "conflicting rows for employee_id='E003', period 2024-01: rows [6, 7]" in rej.loc[6, "reason"]
    assert rej.loc[8, "value"] == "abc" and rej.loc[8, "check"] == "number"


def test_dates_and_timestamps_become_periods_of_freq():
    raw = pd.DataFrame(
        {
            "store": ["S1", "S1", "S2"],
            "week_start": ["2024-01-01", "2024-01-08 00:00:00", "2024-01-03"],
            "sales": ["1.234,5", "10,25", "7"],
        }
    )
    t = read_kpis(raw, unit="store", time="week_start", freq="W")
    assert list(t.frame.columns) == ["store", "period", "sales", "source_row"]
    assert t.frame["period"].tolist() == [
        pd.Period("2024-01-01", "W"),
        pd.Period("2024-01-08", "W"),
        pd.Period("2024-01-01", "W"),
    ]
    assert t.frame["sales"].tolist() == [1234.5, 10.25, 7.0]  # decimal commas settled for the column


def test_typed_frame_and_explicit_metrics():
    raw = pd.DataFrame(
        {
            "Employee ID": [1, 2],
            "Month": pd.to_datetime(["2024-03-15", "2024-04-01"]),
            "revenue": [10.0, 20.0],
            "deals": [1, 2],
            "team": ["A", "B"],
        }
    )
    t = read_kpis(raw, metrics=["revenue"])
    assert list(t.frame.columns) == ["employee_id", "period", "revenue", "deals", "team", "source_row"]
    assert t.frame["period"].tolist() == [pd.Period("2024-03", "M"), pd.Period("2024-04", "M")]
    # with metrics=None, numeric columns become metrics and the text column stays an extra column
    auto = read_kpis(raw)
    assert list(auto.frame.columns) == ["employee_id", "period", "revenue", "deals", "team", "source_row"]
    assert auto.frame["deals"].dtype == "float64"
    with pytest.raises(DataError, match="metric 'margin' is not in the input"):
        read_kpis(raw, metrics=["margin"])


def test_errors_raise_and_bad_period():
    raw = pd.DataFrame({"employee_id": ["a", "b"], "month": ["2024-01", "someday"], "revenue": [1, 2]})
    with pytest.raises(DataError, match=r"1 problem\(s\) on 1 of 2 rows") as info:
        read_kpis(raw, errors="raise")
    (f,) = info.value.failures
    assert (f.row, f.column, f.value) == (2, "month", "someday")
    with pytest.raises(ValueError, match="'freq' parameter"):
        read_kpis(raw, freq="fortnight")
    with pytest.raises(DataError, match=r"lacks the column\(s\) \['period_label'\]"):
        read_kpis(raw, time="period_label")
