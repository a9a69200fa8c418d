"""The bad-input corpus (tests/data/bad/): every malformed file gives its expected outcome.

Each case names a file, how it is read, and what must come out: a precise ``DataError`` (message asserted)
or a table whose kept values and rejected rows (line, check) are asserted. Every table also keeps the
accounting identity ``rows_read == kept + rejected``.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pandas as pd
import pytest

import impactlab as il
from impactlab.errors import DataError
from impactlab.io import read_assessments, read_completions, read_kpis, read_roster

BAD = Path(__file__).resolve().parents[1] / "data" / "bad"
UTC = "UTC"


def ts(text: str) -> pd.Timestamp:
    return pd.Timestamp(text, tz=UTC)


def rejected(t) -> dict[int, str]:
    """source_row -> check of each rejected row (first problem)."""
    return dict(t.rejected.drop_duplicates("source_row")[["source_row", "check"]].itertuples(index=False))


def col(t, name: str) -> list[Any]:
    return t.frame[name].tolist()


# (file, reader call, expectation on the table); DataError cases are in RAISES below.
Case = tuple[str, Callable[[Path], Any], Callable[[Any], None]]


def _roster():
    return read_roster(BAD / "roster_for_employment.csv")


def _check_bom(t):
    assert col(t, "employee_id") == ["E1", "E2"] and t.columns["employee_id"] == "User ID"
    assert "encoding utf-8 with BOM" in t.notes


def _check_semicolon(t):
    assert col(t, "hours") == [1.5, 2.0] and "semicolon-delimited" in t.notes


def _check_decimal_comma(t):
    assert col(t, "hours") == [1.5, 0.75] and col(t, "score") == [87.25, 90.0]


def _check_thousands(t):
    assert col(t, "revenue") == [12500.5, 1_200_000.0, 980.0]


def _check_serial(t):
    # Excel 1900 system: 45383 = 2024-04-01; .75 of a day = 18:00 wall-clock time
    assert col(t, "completed_at") == [ts("2024-04-01"), ts("2024-04-01 18:00")]


def _check_epoch_ms(t):
    assert col(t, "completed_at") == [ts("2024-03-31 00:00"), ts("2024-03-31 01:00")]


def _check_zero_not_set(t):
    assert col(t, "employee_id") == ["E1", "E2"]
    assert col(t, "completed_at")[0] == ts("2024-03-31") and pd.isna(col(t, "completed_at")[1])
    assert rejected(t) == {4: "missing"}  # complete (1) with timecompleted 0: no completion date


def _check_odata(t):
    assert col(t, "completed_at") == [ts("2024-03-31"), ts("2024-03-31")]


def _check_mixed_tz(t):
    # offsets and Z are honoured; the naive value is Paris time (tz=), 09:00 CET = 08:00 UTC
    assert col(t, "completed_at") == [
        ts("2024-03-01 09:00"),
        ts("2024-03-01 09:00"),
        ts("2024-03-01 09:00"),
        ts("2024-03-01 08:00"),
    ]


def _check_duplicates(t):
    assert rejected(t) == {4: "duplicate"} and col(t, "source_row") == [2, 3, 5]
    assert t.rejected.loc[0, "reason"] == "exact duplicate of row 2"
    assert col(t, "attempt") == [1, 1, 2]  # the April retake of E1 is kept as attempt 2


def _check_unknown_status(t):
    assert rejected(t) == {3: "status"}
    assert "unknown status 'Sort Of Done'" in t.rejected.loc[0, "reason"]


def _check_missing_id(t):
    assert rejected(t) == {3: "missing", 4: "missing"} and col(t, "employee_id") == ["E1"]


def _check_float_ids(t):
    assert col(t, "employee_id") == ["1234", "1235", "1236"]


def _check_leading_zeros(t):
    assert col(t, "employee_id") == ["E123", "E456"]
    assert col(t, "source_employee_id") == ["00123", "00456"]
    assert rejected(t) == {3: "identity"}
    assert "id '123' is not in the identity crosswalk" in t.rejected.loc[0, "reason"]
    assert any("1 of 3 identities not in the crosswalk (1 rows rejected), e.g. '123'" in n for n in t.notes)


def _check_header_only(t):
    assert t.rows_read == 0 and t.n_kept == 0 and list(t.frame.columns)[0] == "employee_id"


def _check_wrong_sheet_default(t):
    assert col(t, "employee_id") == ["E1", "E2"]
    assert any(n.startswith("sheet 'Data' used") and "'Summary'" in n for n in t.notes)


def _check_before_hire(t):
    assert rejected(t) == {2: "employment"} and col(t, "source_row") == [3]
    assert "before the hire date 2023-01-01 of employee 'E1'" in t.rejected.loc[0, "reason"]


def _check_after_termination(t):
    # E2 left on 2023-12-31; E3 worked 2020-2021, then was rehired on 2023-06-01
    assert rejected(t) == {2: "employment", 4: "employment"}
    reasons = t.rejected.set_index("source_row")["reason"]
    assert "after the termination date 2023-12-31" in reasons[2]
    assert "between two employment spells" in reasons[4]
    assert t.rejected.set_index("source_row")["value"][2] == "2024-02-10"  # as written in the file


def _check_future(t):
    assert rejected(t) == {3: "range"} and "is in the future" in t.rejected.loc[0, "reason"]
    assert t.rejected.loc[0, "value"] == "2099-01-01"


def _check_negative(t):
    assert rejected(t) == {3: "range"} and "score -5.0 is negative" in t.rejected.loc[0, "reason"]


def _check_above_max(t):
    assert (
        rejected(t) == {3: "range"} and "score 105.0 is above max_score 100.0" in t.rejected.loc[0, "reason"]
    )


def _check_percent(t):
    assert rejected(t) == {3: "number"} and "'85%' is not a number" in t.rejected.loc[0, "reason"]


def _check_cp1252(t):
    assert col(t, "program") == ["Formación en ventas", "Sécurité – niveau 1"]
    assert "encoding cp1252" in t.notes


def _check_utf16(t):
    assert col(t, "program") == ["Formación"] and "encoding utf-16 with BOM" in t.notes
    assert "tab-delimited" in t.notes


def _check_title_block(t):
    assert col(t, "source_row") == [5, 6]
    assert any("header found on line 4" in n for n in t.notes)


def _check_points_possible(t):
    assert rejected(t) == {2: "non_data"} and "Points Possible" in t.rejected.loc[0, "reason"]
    assert col(t, "employee_id") == ["E1", "E2"] and col(t, "status") == ["completed", "in_progress"]


def _check_ragged(t):
    assert rejected(t) == {3: "malformed"} and col(t, "employee_id") == ["E1", "E3"]


def _check_bad_date(t):
    assert rejected(t) == {3: "date", 4: "date"}  # "yesterday" and the impossible 30 February


def _check_completed_without_date(t):
    assert rejected(t) == {2: "missing"} and "completed_at is required" in t.rejected.loc[0, "reason"]


def _check_exempt(t):
    assert col(t, "status") == ["exempt", "exempt", "exempt", "completed"]


def _check_past_due(t):
    assert col(t, "status") == ["completed", "in_progress", "overdue"]


def _check_retakes(t):
    assert col(t, "attempt") == [1, 2, 3, 1] and col(t, "status")[:2] == ["failed", "completed"]


def _check_kpi_conflict(t):
    assert rejected(t) == {2: "key", 3: "key"} and col(t, "revenue") == [130.0]


def _check_roster_order(t):
    assert rejected(t) == {2: "order"} and col(t, "employee_id") == ["E2"]


def _check_tsv(t):
    assert col(t, "program") == ["Safety, Level 1"]


def _check_multiline(t):
    assert col(t, "program") == ["Safety,\nLevel 1", "Safety"] and col(t, "source_row") == [2, 4]


def _check_broken_jsonl(t):
    assert rejected(t) == {2: "malformed", 3: "malformed"} and col(t, "employee_id") == ["E1", "E3"]
    reasons = t.rejected.set_index("source_row")["reason"]
    assert "line is not valid JSON" in reasons[2] and "is not a JSON object" in reasons[3]


def _check_odata_results(t):
    assert col(t, "employee_id") == ["E1", "1234"] and col(t, "status") == ["completed", "unknown"]


CASES: list[Case] = [
    ("bom.csv", read_completions, _check_bom),
    ("semicolon.csv", read_completions, _check_semicolon),
    ("decimal_comma.csv", read_completions, _check_decimal_comma),
    ("thousands_separators.csv", read_kpis, _check_thousands),
    ("excel_serial_dates.csv", read_completions, _check_serial),
    ("epoch_ms_dates.csv", read_completions, _check_epoch_ms),
    ("epoch_seconds_zero_not_set.csv", lambda p: read_completions(p, preset="moodle"), _check_zero_not_set),
    ("odata_dates.csv", read_completions, _check_odata),
    ("mixed_timezones.csv", lambda p: read_completions(p, tz="Europe/Paris"), _check_mixed_tz),
    ("duplicate_rows.csv", read_completions, _check_duplicates),
    ("unknown_status.csv", read_completions, _check_unknown_status),
    ("missing_employee_id.csv", read_completions, _check_missing_id),
    ("ids_as_floats.csv", read_completions, _check_float_ids),
    (
        "leading_zero_ids.csv",
        lambda p: read_completions(p, ids=BAD / "leading_zero_ids_crosswalk.csv"),
        _check_leading_zeros,
    ),
    ("header_only.csv", read_completions, _check_header_only),
    ("wrong_sheet.xlsx", read_completions, _check_wrong_sheet_default),
    ("completion_before_hire.csv", lambda p: read_completions(p, roster=_roster()), _check_before_hire),
    (
        "completion_after_termination.csv",
        lambda p: read_completions(p, roster=_roster()),
        _check_after_termination,
    ),
    ("future_dates.csv", read_completions, _check_future),
    ("negative_scores.csv", read_assessments, _check_negative),
    ("score_above_max.csv", read_assessments, _check_above_max),
    ("percent_score.csv", read_assessments, _check_percent),
    ("non_utf8_cp1252.csv", read_completions, _check_cp1252),
    ("utf16_unicode_text.txt", read_completions, _check_utf16),
    ("title_block.csv", read_completions, _check_title_block),
    ("canvas_points_possible.csv", lambda p: read_completions(p, preset="canvas"), _check_points_possible),
    ("ragged_row.csv", read_completions, _check_ragged),
    ("bad_date.csv", read_completions, _check_bad_date),
    ("completed_without_date.csv", read_completions, _check_completed_without_date),
    ("exempt_waived.csv", read_completions, _check_exempt),
    ("past_due_suffix.csv", read_completions, _check_past_due),
    ("retakes.csv", lambda p: read_completions(p, tz="UTC"), _check_retakes),
    ("kpi_conflicting_rows.csv", read_kpis, _check_kpi_conflict),
    ("roster_termination_before_hire.csv", read_roster, _check_roster_order),
    ("tab_delimited.tsv", read_completions, _check_tsv),
    ("crlf_quoted_multiline.csv", read_completions, _check_multiline),
    ("broken_line.jsonl", read_completions, _check_broken_jsonl),
    ("odata_results.json", lambda p: read_completions(p, preset="successfactors"), _check_odata_results),
]

# (file, reader call, message the DataError must contain)
RAISES = [
    ("ambiguous_day_month.csv", read_completions, r"order cannot be settled(.|\n)*pass dayfirst=True"),
    ("mixed_day_month_orders.csv", read_completions, "mixes day-first and month-first dates"),
    ("empty.csv", read_completions, "the file is empty: no header row found"),
    ("blank_lines_only.csv", read_completions, "the file is empty"),
    (
        "wrong_sheet.xlsx",
        lambda p: read_completions(p, sheet="Summary"),
        r"lacks required column\(s\) \['employee_id', 'program', 'status'\]",
    ),
    (
        "no_usable_sheet.xlsx",
        read_completions,
        r"no sheet of the workbook has the columns(.|\n)*sheet 'Scores' has headers \['Name', 'Score'\]",
    ),
    ("ambiguous_headers.csv", read_completions,
     r"columns 1 \(A\) and 2 \(B\) have headers that are the same.*'employee_id'"),
    ("missing_status_column.csv", read_completions, r"lacks required column\(s\) \['status'\]"),
    (
        "not_records.json",
        read_completions,
        r"holds no array of records \(top level: \['meta', 'generated'\]\)",
    ),
    (
        "unknown_status.csv",
        lambda p: read_completions(p, errors="raise"),
        r"1 problem\(s\) on 1 of 2 rows(.|\n)*row 3, column 'Transcript Status': saw 'Sort Of Done'",
    ),
]


def test_the_corpus_holds_at_least_thirty_files_and_each_is_used():
    files = {p.name for p in BAD.iterdir() if p.is_file() and p.name != "README.md"}
    used = (
        {c[0] for c in CASES}
        | {r[0] for r in RAISES}
        | {"roster_for_employment.csv", "leading_zero_ids_crosswalk.csv"}
    )
    assert len(files) >= 30
    assert files == used


@pytest.mark.parametrize("name, read, expect", CASES, ids=[c[0] for c in CASES])
def test_file_gives_its_expected_table(name, read, expect):
    t = read(BAD / name)
    assert t.rows_read == t.n_kept + t.n_rejected
    expect(t)


@pytest.mark.parametrize("name, read, match", RAISES, ids=[f"{r[0]}-raises" for r in RAISES])
def test_file_gives_its_expected_error(name, read, match):
    with pytest.raises(DataError, match=match) as info:
        read(BAD / name)
    assert info.value.source is not None and name in info.value.source
    assert "How to fix:" in str(info.value)


def test_exempt_rows_are_never_treated_in_the_panel():
    comp = read_completions(BAD / "exempt_waived.csv")
    kpis = pd.DataFrame(
        {
            "employee_id": [f"E{i}" for i in range(1, 5) for _ in range(4)],
            "month": ["2024-01", "2024-02", "2024-03", "2024-04"] * 4,
            "revenue": [float(i) for i in range(16)],
        }
    )
    panel = il.build_panel(il.read_kpis(kpis), comp, program="Safety", outcome="revenue")
    cohorts = panel.long().drop_duplicates("unit").set_index("unit")["cohort"]
    assert cohorts.isna().tolist() == [True, True, True, False]


@pytest.mark.slow
def test_a_200_mb_file_is_refused_in_memory_and_read_through_duckdb(tmp_path):
    from impactlab.io.large import scan_completions

    path = tmp_path / "huge.csv"
    block = "".join(f"E{i:07d},Consultative Selling,Completed,2024-03-01 10:00:00\n" for i in range(100_000))
    blocks = 0
    with path.open("w") as fh:
        fh.write("User ID,Training Title,Transcript Status,Transcript Completed Date\n")
        while fh.tell() < 200_000_000:
            fh.write(block)
            blocks += 1
    with pytest.raises(DataError, match=r"the file is 20\d MB, above the 100 MB(.|\n)*scan_completions"):
        read_completions(path)
    scan = scan_completions(path, program="Consultative Selling")
    assert scan.rows_read == blocks * 100_000 == int(scan.counts.sum())
    assert len(scan.frame) == 100_000 and (scan.frame["attempt"] == blocks).all()
