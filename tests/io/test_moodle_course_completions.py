"""Moodle's course_completions table: no status column, the status read from its Unix-second timestamps
(0 = not set)."""

import pandas as pd
import pytest

from impactlab.errors import DataError
from impactlab.io import read_completions

# 2024-01-01, 2024-01-02, 2024-02-01 and 2024-03-01 00:00 UTC in Unix seconds
JAN1, JAN2, FEB1, MAR1 = 1704067200, 1704153600, 1706745600, 1709251200
HEADER = "id,userid,course,timeenrolled,timestarted,timecompleted,reaggregate"
ROWS = [f"1,11,7,{JAN1},{JAN2},{FEB1},0", f"2,12,7,{JAN1},0,0,0", f"3,13,7,{JAN1},{JAN2},0,0",
        "4,14,7,0,0,0,0", f"5,15,8,{JAN1},0,{MAR1},0", f"6,16,8,{JAN1},{JAN2},soon,0"]


def test_status_comes_from_the_timestamps(tmp_path, invariant):
    path = tmp_path / "mdl_course_completions.csv"
    path.write_text("\n".join([HEADER, *ROWS]) + "\n", encoding="utf-8")
    t = read_completions(path, preset="moodle")
    invariant(t)
    f = t.frame.set_index("employee_id")
    assert f["status"].to_dict() == {"11": "completed", "12": "enrolled", "13": "in_progress",
                                     "14": "enrolled", "15": "completed"}
    assert f.loc["11", "completed_at"] == pd.Timestamp("2024-02-01", tz="UTC")
    assert f.loc["15", "completed_at"] == pd.Timestamp("2024-03-01", tz="UTC")
    assert f.loc["11", "assigned_at"] == pd.Timestamp("2024-01-01", tz="UTC")
    assert pd.isna(f.loc["12", "completed_at"]) and pd.isna(f.loc["14", "assigned_at"])  # 0 is not 1970
    assert f.loc["11", "program"] == "7" and f.loc["15", "program"] == "8"
    # a completion time that is not one is rejected, never taken as "not completed"
    rej = t.rejected
    assert rej["source_row"].tolist() == [7] and rej["column"].tolist() == ["timecompleted"]
    assert rej["check"].tolist() == ["date"]
    assert any("status derived from 'timecompleted', 'timestarted'" in n for n in t.notes)


def test_a_status_column_still_wins_and_other_presets_are_unchanged():
    raw = pd.DataFrame({"userid": [1, 2], "course": ["A", "A"], "completionstate": [1, 0],
                        "timecompleted": [FEB1, 0]})
    t = read_completions(raw, preset="moodle")
    assert t.frame["status"].tolist() == ["completed", "in_progress"]
    no_status = pd.DataFrame({"userid": [1], "course": ["A"], "timecompleted": [FEB1]})
    with pytest.raises(DataError, match=r"lacks required column\(s\) \['status'\]"):
        read_completions(no_status)


def test_course_completions_sheet_of_a_workbook(tmp_path):
    path = tmp_path / "moodle.xlsx"
    with pd.ExcelWriter(path) as xl:
        pd.DataFrame({"note": ["exported from Moodle"]}).to_excel(xl, sheet_name="About", index=False)
        pd.DataFrame({"userid": [11, 12], "course": [7, 7], "timeenrolled": [JAN1, JAN1],
                      "timestarted": [JAN2, 0], "timecompleted": [FEB1, 0]}).to_excel(
            xl, sheet_name="course_completions", index=False)
    t = read_completions(path, preset="moodle")
    assert t.frame["status"].tolist() == ["completed", "enrolled"]
