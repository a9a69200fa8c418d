"""Unit tests of the building blocks: dates, numbers, headers, CSV loading."""

import numpy as np
import pandas as pd
import pytest

from impactlab.errors import DataError
from impactlab.io.dates import parse_timestamps
from impactlab.io.headers import match_columns, snake_case
from impactlab.io.numbers import parse_numbers
from impactlab.io.readers import read_completions
from impactlab.io.sources import load_source, sniff_delimiter
from impactlab.schemas import COMPLETIONS


@pytest.mark.parametrize(
    "text, expected",
    [
        ("2024-03-31", "2024-03-31 00:00"),
        ("2024-03-31 09:30:00", "2024-03-31 09:30"),
        ("2024-03-31T09:30:00Z", "2024-03-31 09:30"),
        ("2024-03-31T11:30:00+02:00", "2024-03-31 09:30"),
        ("2024-03-31 09:30:00 UTC", "2024-03-31 09:30"),
        ("20240331", "2024-03-31 00:00"),
        ("2024/03/31", "2024-03-31 00:00"),
        ("31 Mar 2024", "2024-03-31 00:00"),
        ("March 31, 2024", "2024-03-31 00:00"),
        ("31/03/2024 14:05", "2024-03-31 14:05"),
        ("31.03.24", "2024-03-31 00:00"),
    ],
)
def test_date_formats(text, expected):
    parsed, bad = parse_timestamps(pd.Series([text]))
    assert not bad.any()
    assert parsed.iloc[0] == pd.Timestamp(expected, tz="UTC")


def test_unreadable_and_impossible_dates_are_flagged_missing_is_not():
    parsed, bad = parse_timestamps(pd.Series(["2024-02-30", "soon", "", None, "2024-02-29"]))
    assert bad.tolist() == [True, True, False, False, False]
    assert parsed.isna().tolist() == [True, True, True, True, False]


def test_mixed_day_month_orders_raise():
    with pytest.raises(DataError, match="mixes day-first and month-first"):
        parse_timestamps(pd.Series(["25/01/2024", "01/25/2024"]))


def test_dayfirst_given_rejects_impossible_values():
    _, bad = parse_timestamps(pd.Series(["12/31/2024", "31/12/2024"]), dayfirst=True)
    assert bad.tolist() == [True, False]


def test_naive_datetime_column_is_localised():
    s = pd.Series(pd.to_datetime(["2024-07-01 12:00"]))
    parsed, bad = parse_timestamps(s, tz="America/New_York")
    assert parsed.iloc[0] == pd.Timestamp("2024-07-01 16:00", tz="UTC")
    assert not bad.any()


@pytest.mark.parametrize(
    "values, expected",
    [
        (["1,234.50", "12"], [1234.5, 12.0]),
        (["1.234,50", "12"], [1234.5, 12.0]),
        (["8,50", "1 000,5"], [8.5, 1000.5]),
        (["$1,200", "(300)"], [1200.0, -300.0]),
        (["1,234", "5"], [1234.0, 5.0]),  # no decimal-comma evidence: a comma groups thousands
    ],
)
def test_numbers(values, expected):
    parsed, bad = parse_numbers(pd.Series(values, dtype=object))
    assert not bad.any()
    assert parsed.tolist() == expected


def test_non_numbers_are_flagged():
    _, bad = parse_numbers(pd.Series(["12", "85%", "abc", "", "1e3", "nan-ish"], dtype=object))
    assert bad.tolist() == [False, True, True, False, False, True]


def test_header_matching_rules():
    m = match_columns(
        [
            "USER_ID",
            "Training - Training Title",
            "Transcript - Transcript Status",
            "User - Manager - User ID",
            "Transcript Registration Date",
            "Transcript Assigned Date",
            "Region",
        ],
        COMPLETIONS.readable,
    )
    assert m.canonical["employee_id"] == "USER_ID"
    assert m.canonical["program"] == "Training - Training Title"  # section prefix dropped
    assert m.canonical["status"] == "Transcript - Transcript Status"
    assert m.canonical["assigned_at"] == "Transcript Assigned Date"  # ranked before registration date
    assert m.extras["Transcript Registration Date"] == "transcript_registration_date"
    assert m.extras["User - Manager - User ID"] == "user_manager_user_id"
    with pytest.raises(DataError, match="several headers could be the column 'employee_id'"):
        match_columns(["User ID", "user_id", "Course", "Status"], COMPLETIONS.readable)


def test_snake_case():
    assert snake_case("Manager ID") == "manager_id"
    assert snake_case("hireDate") == "hire_date"
    assert snake_case("  % Quota (YTD) ") == "quota_ytd"


def test_sniff_delimiter():
    assert sniff_delimiter("a;b;c\n1;2,5;3\n") == ";"
    assert sniff_delimiter("a\tb\n1\t2\n") == "\t"
    assert sniff_delimiter("a|b\n1|2\n") == "|"
    assert sniff_delimiter("a,b\n1,2\n") == ","


def test_csv_lines_blank_lines_multiline_and_ragged(tmp_path, invariant):
    p = tmp_path / "c.csv"
    p.write_text(
        'User ID,Course,Status,Note\na,P,Assigned,"two\nlines"\n\nb,P,Assigned,x,EXTRA\nc,P,Assigned,y\n',
        encoding="utf-8",
    )
    raw = load_source(p)
    assert raw.rows.tolist() == [2, 6]  # the blank line 4 is skipped, line numbers are kept
    assert [m[0] for m in raw.malformed] == [5]
    t = read_completions(p)
    invariant(t)
    assert t.rows_read == 3
    assert t.frame["source_row"].tolist() == [2, 6]
    assert t.rejected.loc[0, "check"] == "malformed"
    assert "has 5 fields but the header has 4" in t.rejected.loc[0, "reason"]
    with pytest.raises(DataError, match="row 5: record has 5 fields"):
        read_completions(p, errors="raise")


def test_unsupported_inputs(tmp_path):
    (tmp_path / "x.xml").write_text("<a/>")
    with pytest.raises(ValueError, match="file type '.xml' is not supported"):
        load_source(tmp_path / "x.xml")
    with pytest.raises(FileNotFoundError):
        load_source(tmp_path / "nope.csv")
    with pytest.raises(TypeError, match="file path or a pandas DataFrame"):
        load_source(np.zeros(3))
