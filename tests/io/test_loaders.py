"""Building blocks of the real-world loaders: numeric dates, JSON, header search, delimiter sniffing,
identity crosswalks, the table report."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest

from impactlab.errors import DataError
from impactlab.io import read_completions
from impactlab.io.dates import number_to_timestamp, parse_timestamps
from impactlab.io.identity import identity_key, read_ids
from impactlab.io.sources import find_header, load_source, sniff_delimiter
from impactlab.io.values import as_id


@pytest.mark.parametrize("x, expected", [
    (45383, pd.Timestamp("2024-04-01")),                    # Excel serial, 1900 system
    (45383.5, pd.Timestamp("2024-04-01 12:00")),
    (20000, pd.Timestamp("1954-10-03")),                    # lowest serial taken
    (1711843200, pd.Timestamp("2024-03-31", tz="UTC")),     # epoch seconds
    (1711843200123, pd.Timestamp("2024-03-31 00:00:00.123", tz="UTC")),  # epoch milliseconds
    (1e8, pd.Timestamp("1973-03-03 09:46:40", tz="UTC")),   # lowest epoch second taken
])
def test_numbers_become_dates_by_their_size(x, expected):
    assert number_to_timestamp(x) == expected


@pytest.mark.parametrize("x", [5, 19999.9, 80000, 20240331.5, 99_999_999, 1e14, float("nan")])
def test_numbers_outside_the_date_ranges_are_not_dates(x):
    assert number_to_timestamp(x) is None


def test_numeric_date_columns_zero_and_excel_serials_take_tz():
    s = pd.Series([45383.25, 0, 1711843200, np.nan, 12])
    parsed, bad = parse_timestamps(s, tz="Asia/Tokyo")
    assert parsed.iloc[0] == pd.Timestamp("2024-03-31 21:00", tz="UTC")  # 06:00 in Tokyo
    assert pd.isna(parsed.iloc[1]) and not bad[1]                         # 0 = not set
    assert parsed.iloc[2] == pd.Timestamp("2024-03-31", tz="UTC")        # an epoch is already UTC
    assert bad.tolist() == [False, False, False, False, True]


def test_odata_dates_ignore_the_writer_offset():
    parsed, bad = parse_timestamps(pd.Series(["/Date(1711843200000)/", "/Date(1711843200000-0500)/",
                                              "\\/Date(1711843200000)\\/"]))
    assert not bad.any() and (parsed == pd.Timestamp("2024-03-31", tz="UTC")).all()


def test_float_looking_ids_lose_the_point_zero_only():
    assert [as_id(v) for v in ["1234.0", 1234.0, "00123", " 42 ", "12.5", "1.00"]] == [
        "1234", "1234", "00123", "42", "12.5", "1"]


def test_json_records_are_flattened_and_odata_is_unwrapped(tmp_path):
    p = tmp_path / "x.json"
    p.write_text(json.dumps({"d": {"results": [
        {"StudentID": "a", "result": {"score": {"raw": 8, "max": 10}}, "tags": ["x", "y"]},
        {"StudentID": "b", "extra": True},
    ]}}))
    raw = load_source(p)
    assert list(raw.frame.columns) == ["StudentID", "result.score.raw", "result.score.max", "tags", "extra"]
    assert raw.frame["result.score.raw"].tolist() == [8, None]
    assert raw.frame["tags"].tolist() == ['["x", "y"]', None]
    assert raw.rows.tolist() == [1, 2]


def test_invalid_json_names_the_place(tmp_path):
    p = tmp_path / "x.json"
    p.write_text('[{"a": 1},\n {"a": }]')
    with pytest.raises(DataError, match=r"not valid JSON: Expecting value at line 2, column 8"):
        load_source(p)


def test_header_is_found_below_a_title_block():
    records = [(1, ["Transcript report", None, None]), (2, ["Run 2024-07-01", "", ""]),
               (4, ["User ID", "Course", "Status"]), (5, ["E1", "Safety", "Completed"])]
    assert find_header(records) == 2
    # a first data row of numbers is never taken for a header; a plain file keeps line 1
    assert find_header([(1, ["id", "score"]), (2, ["1", "2"])]) == 0
    assert find_header([(1, ["Total", "12"]), (2, ["id", "score"]), (3, ["1", "2"])]) == 1
    # a header with blank names is still the header; a data row of text below it is not
    assert find_header([(1, ["User", "Course", "Status", "", ""]), (2, ["a", "b", "c", "d", "e"])]) == 0


def test_delimiter_sniffing_is_not_fooled_by_titles_or_decimal_commas():
    text = "Report, all staff\nUser;Course;Hours\nE1;Safety;1,5\nE2;Safety;2,25\nE3;Safety;3\n"
    assert sniff_delimiter(text) == ";"
    assert sniff_delimiter("a\tb\tc\n1\t2,5\t3\n") == "\t"
    assert sniff_delimiter("a|b\n1|2\n") == "|"


def test_identity_keys_and_crosswalk_sources(tmp_path):
    assert identity_key("mailto:Ana.Lima@Example.COM") == "ana.lima@example.com"
    assert identity_key(" 1234.0 ") == "1234"
    assert identity_key("00123") == "00123"
    cw = read_ids({"ana@example.com": "E1", 2001: "E2"})
    mapped, unknown = cw.lookup(pd.Series(["ANA@example.com", "2001", "2002", None]))
    assert mapped.tolist()[:2] == ["E1", "E2"] and unknown.tolist() == [False, False, True, False]
    f = tmp_path / "ids.csv"
    f.write_text("Name,LMS ID,Employee ID\nAna,u1,E1\nBo,u2,E2\n")
    assert dict(read_ids(f).mapping) == {"u1": "E1", "u2": "E2"}


def test_a_crosswalk_that_maps_one_id_to_two_people_is_refused():
    with pytest.raises(DataError, match="maps 1 source id") as info:
        read_ids(pd.DataFrame({"lms_id": ["u1", "u1"], "employee_id": ["E1", "E2"]}))
    assert "maps to both 'E1' and 'E2'" in str(info.value)


def test_crosswalk_unmatched_rows_are_rejected_and_counted_in_raise_mode_too():
    raw = pd.DataFrame({"User ID": ["u1", "u2", "u3", "u3"], "Course": ["X"] * 4,
                        "Status": ["Enrolled"] * 3 + ["Registered"]})
    t = read_completions(raw, ids={"u1": "E1"})
    assert t.frame["employee_id"].tolist() == ["E1"]
    assert t.rejected["check"].tolist() == ["identity"] * 3
    assert any("2 of 3 identities not in the crosswalk (3 rows rejected), e.g. 'u3', 'u2'" in n
               for n in t.notes)
    with pytest.raises(DataError, match=r"3 problem\(s\) on 3 of 4 rows") as info:
        read_completions(raw, ids={"u1": "E1"}, errors="raise")
    assert {f.check for f in info.value.failures} == {"identity"}


def test_report_counts_read_kept_rejected_and_why(data_dir):
    rep = read_completions(data_dir / "completions_bad.csv").report().set_index("what")
    assert rep.loc[["read", "kept", "rejected"], "rows"].tolist() == [9, 5, 4]
    assert rep.loc["duplicate", "rows"] == 1 and rep.loc["duplicate", "example_row"] == 8
    assert rep.loc["status (Transcript Status)", "example"].startswith("unknown status 'Sort Of Done'")


def test_other_employee_tables_take_the_crosswalk_too():
    from impactlab.io import read_assessments, read_surveys

    a = read_assessments(pd.DataFrame({"User": ["u1", "u9"], "Program": ["X", "X"], "Kind": ["pre", "post"],
                                       "Score": [3, 4], "Date": ["2024-01-02", "2024-02-02"]}),
                         ids={"u1": "E1"})
    assert a.frame["employee_id"].tolist() == ["E1"] and a.rejected["check"].tolist() == ["identity"]
    s = read_surveys(pd.DataFrame({"Respondent": ["u1", None], "Program": ["X", "X"], "Item": ["q1", "q1"],
                                   "Response": [4, 5]}), ids={"u1": "E1"})
    assert s.frame["employee_id"].tolist()[0] == "E1" and pd.isna(s.frame["employee_id"].iloc[1])


def test_kpi_workbooks_are_read_from_the_sheet_that_holds_them(tmp_path):
    from impactlab.io import read_kpis

    path = tmp_path / "k.xlsx"
    with pd.ExcelWriter(path) as xw:
        pd.DataFrame({"Note": ["monthly sales by store"]}).to_excel(xw, sheet_name="About", index=False)
        pd.DataFrame({"store": ["S1", "S2"], "month": ["2024-01", "2024-01"], "sales": [1, 2]}).to_excel(
            xw, sheet_name="KPIs", index=False)
    t = read_kpis(path, unit="store")
    assert t.frame["sales"].tolist() == [1.0, 2.0]
    assert t.notes[0].startswith("sheet 'KPIs' used")
