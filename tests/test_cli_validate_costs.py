"""impactlab validate reads a finance cost sheet as read_costs does: --program for a sheet without a
programme column, --category ITEM=CATEGORY for its own item names; unmapped items are refused, never
dropped."""

from impactlab.cli import main

SHEET = ("Cost item,Amount\n"
         "Trainer fees,\"$120,000\"\nVenue hire,\"$30,000\"\nCourse books,\"$25,000\"\n"
         "Salaries of attendees,\"$150,000\"\nNeeds survey,\"$50,000\"\n")
MAP = ["--category", "Trainer fees=delivery", "--category", "Venue hire=facilities",
       "--category", "Course books=materials", "--category", "Salaries of attendees=participant_time",
       "--category", "Needs survey=needs_assessment"]


def test_a_finance_sheet_reads_whole_with_its_items_mapped(tmp_path, capsys):
    path = tmp_path / "costs.csv"
    path.write_text(SHEET, encoding="utf-8")
    code = main(["validate", str(path), "--kind", "costs", "--program", "Leadership 101", *MAP])
    out = capsys.readouterr().out
    assert code == 0, out
    assert "rows read: 5, kept: 5, rejected: 0" in out


def test_unmapped_items_are_refused_by_name(tmp_path, capsys):
    path = tmp_path / "costs.csv"
    path.write_text(SHEET, encoding="utf-8")
    code = main(["validate", str(path), "--kind", "costs", "--program", "Leadership 101", *MAP[:4]])
    err = capsys.readouterr().err
    assert code == 1
    assert "Course books" in err and "Needs survey" in err


def test_a_malformed_category_and_options_of_other_kinds_exit_2(tmp_path, capsys):
    path = tmp_path / "costs.csv"
    path.write_text(SHEET, encoding="utf-8")
    args = ["validate", str(path), "--kind", "costs", "--program", "X", "--category", "Trainer fees"]
    assert main(args) == 2
    assert "ITEM=CATEGORY" in capsys.readouterr().err
    assert main(["validate", str(path), "--kind", "completions", "--program", "X"]) == 2
    assert "--program does not apply" in capsys.readouterr().err
