"""impactlab validate takes the readers' options: --columns, --dayfirst, --sheet, --preset, --layout."""

import pandas as pd

from impactlab.cli import main


def _transcript(path):
    # 03/04/2024 and 05/06/2024 read either way; 25/03/2024 settles day-first only when told
    path.write_text("Employee Number,Course,Status,Completion Date\n"
                    "E1,Safety,Completed,03/04/2024\nE2,Safety,Completed,05/06/2024\n"
                    "E3,Safety,In Progress,\n", encoding="utf-8")
    return path


def test_columns_and_dayfirst(tmp_path, capsys):
    path = _transcript(tmp_path / "transcript.csv")
    rejected = tmp_path / "rej.csv"
    code = main(["validate", str(path), "--columns", "Employee Number=employee_id", "--dayfirst",
                 "--rejected", str(rejected)])
    out = capsys.readouterr().out
    assert code == 0 and "rows read: 3, kept: 3, rejected: 0" in out
    # a header no synonym knows is found only through --columns
    bad = tmp_path / "bad.csv"
    bad.write_text("Staff Code,Course,Status,Completion Date\nE1,Safety,Completed,2024-03-04\n",
                   encoding="utf-8")
    assert main(["validate", str(bad)]) == 1
    assert "lacks required column(s) ['employee_id']" in capsys.readouterr().err
    assert main(["validate", str(bad), "--columns", "Staff Code=employee_id"]) == 0
    assert "rows read: 1, kept: 1" in capsys.readouterr().out


def test_dayfirst_changes_the_dates_read(tmp_path, capsys):
    path, rej = tmp_path / "transcript.csv", tmp_path / "r.csv"
    # 13/04/2024 is a date only day-first
    path.write_text("User ID,Course,Status,Completion Date\nE1,Safety,Completed,13/04/2024\n"
                    "E2,Safety,Completed,05/06/2024\n", encoding="utf-8")
    assert main(["validate", str(path), "--no-dayfirst", "--rejected", str(rej)]) == 0
    assert "kept: 1, rejected: 1" in capsys.readouterr().out
    assert pd.read_csv(rej)["value"].tolist() == ["13/04/2024"]
    assert main(["validate", str(path), "--dayfirst"]) == 0
    assert "kept: 2, rejected: 0" in capsys.readouterr().out


def test_sheet_layout_and_metric_for_a_wide_workbook(tmp_path, capsys):
    path = tmp_path / "bi.xlsx"
    wide = pd.DataFrame({"Employee ID": ["E1", "E2"], "Jan 2024": [1.0, None], "Feb 2024": [2.0, "x"]})
    with pd.ExcelWriter(path) as xl:
        wide.to_excel(xl, sheet_name="Revenue", index=False)
        pd.DataFrame({"Employee ID": ["E1", "E2"], "Jan 2024": [1, 1], "Feb 2024": [1, 1]}).to_excel(
            xl, sheet_name="Deals", index=False)
    assert main(["validate", str(path), "--kind", "kpis", "--unit", "Employee ID", "--sheet", "Revenue",
                 "--layout", "wide", "--metric", "revenue"]) == 0
    out = capsys.readouterr().out
    assert "rows read: 4, kept: 2, rejected: 2" in out and "wide layout: 2 row(s) x 2 period column(s)" in out
    assert main(["validate", str(path), "--kind", "kpis", "--unit", "Employee ID", "--sheet", "1"]) == 0
    assert "rows read: 4, kept: 4" in capsys.readouterr().out


def test_preset_moodle_course_completions(tmp_path, capsys):
    path = tmp_path / "course_completions.csv"
    path.write_text("userid,course,timeenrolled,timestarted,timecompleted\n"
                    "11,7,1704067200,1704153600,1706745600\n12,7,1704067200,0,0\n", encoding="utf-8")
    assert main(["validate", str(path), "--preset", "moodle"]) == 0
    assert "rows read: 2, kept: 2, rejected: 0" in capsys.readouterr().out


def test_reading_option_usage_errors(tmp_path, capsys):
    path = _transcript(tmp_path / "transcript.csv")
    assert main(["validate", str(path), "--columns", "Employee Number"]) == 2
    assert "--columns takes HEADER=COLUMN" in capsys.readouterr().err
    assert main(["validate", str(path), "--layout", "wide"]) == 2
    assert "--layout does not apply to --kind completions (read_completions has no layout=)" in (
        capsys.readouterr().err)
    assert main(["validate", str(path), "--kind", "costs", "--dayfirst"]) == 2
    assert "--dayfirst does not apply to --kind costs" in capsys.readouterr().err
