import pandas as pd
import pytest

from impactlab.errors import DataError
from impactlab.schemas import (
    COMPLETIONS,
    COST_CATEGORIES,
    DEFAULT_CATEGORY_MAP,
    DEFAULT_STATUS_MAP,
    SCHEMAS,
    STATUSES,
    get_schema,
    normalise_key,
    normalise_status,
    validate,
)


def test_canonical_column_order_matches_design():
    assert COMPLETIONS.names == (
        "employee_id",
        "program",
        "status",
        "status_raw",
        "completed_at",
        "assigned_at",
        "attempt",
        "hours",
        "score",
        "grade",  # added after the design's columns: a grade written as a word (Pass) instead of a score
        "source_row",
    )
    assert SCHEMAS["roster"].names == (
        "employee_id",
        "team",
        "manager_id",
        "role",
        "location",
        "hire_date",
        "termination_date",
        "valid_from",
        "valid_to",
        "source_row",
    )
    assert SCHEMAS["costs"].names == (
        "program",
        "category",
        "amount",
        "low",
        "high",
        "currency",
        "source_row",
    )
    with pytest.raises(ValueError, match="'kind' parameter must be one of"):
        get_schema("transcripts")


@pytest.mark.parametrize(
    "raw, expected",
    [
        ("Completed", "completed"),
        ("COMPLETED EQUIVALENT", "exempt"),
        ("Completed (Equivalent)", "exempt"),
        ("Equivalent", "exempt"),
        ("Waived", "exempt"),
        ("In-Progress", "in_progress"),
        ("Registered", "enrolled"),
        ("Not Started", "assigned"),
        ("No Show", "withdrawn"),
        ("Cancelled", "withdrawn"),
        ("Past Due", "overdue"),
        ("In Progress / Past Due", "in_progress"),
        ("Registered/Past Due", "enrolled"),
        ("Expired", "expired"),
        ("Failed", "failed"),
        ("Passed", "passed"),
    ],
)
def test_default_status_map(raw, expected):
    assert normalise_status(raw, DEFAULT_STATUS_MAP) == expected


def test_unknown_status_is_not_guessed():
    assert normalise_status("Sort of done", DEFAULT_STATUS_MAP) is None
    assert normalise_status("Nonsense / Past Due", DEFAULT_STATUS_MAP) is None
    assert set(DEFAULT_STATUS_MAP.values()) <= set(STATUSES)


def test_category_map_targets_phillips_categories():
    assert set(DEFAULT_CATEGORY_MAP.values()) == set(COST_CATEGORIES)
    assert DEFAULT_CATEGORY_MAP[normalise_key("Design & Development")] == "design"


def test_contract_reports_every_failure():
    good = pd.DataFrame(
        {c: pd.Series([None], dtype="str") for c in ("employee_id", "program", "status", "status_raw")}
    )
    good["employee_id"] = pd.Series(["a"], dtype="str")
    good["program"] = pd.Series(["P"], dtype="str")
    good["status"] = pd.Series(["completed"], dtype="str")
    good["completed_at"] = pd.Series([pd.Timestamp("2024-01-01", tz="UTC")], dtype="datetime64[us, UTC]")
    good["assigned_at"] = pd.Series([pd.NaT], dtype="datetime64[us, UTC]")
    good["attempt"] = pd.Series([1], dtype="Int64")
    good["hours"] = [1.0]
    good["score"] = [2.0]
    good["grade"] = pd.Series([None], dtype="str")
    good["source_row"] = [2]
    assert validate(COMPLETIONS, good) is good
    bad = good.assign(status=pd.Series(["done"], dtype="str"), program=pd.Series([None], dtype="str"))
    with pytest.raises(DataError, match="does not meet its contract") as info:
        validate(COMPLETIONS, bad)
    assert {f.column for f in info.value.failures} >= {"status", "program"}
    assert {f.row for f in info.value.failures} == {2}


def test_contract_failures_come_as_one_table_with_the_check_of_each():
    frame = pd.DataFrame({
        "employee_id": pd.Series(["a", None], dtype="str"),
        "program": pd.Series(["P", "P"], dtype="str"),
        "status": pd.Series(["completed", "done"], dtype="str"),
        "status_raw": pd.Series(["Completed", "done"], dtype="str"),
        "completed_at": pd.Series([pd.Timestamp("2024-01-01", tz="UTC")] * 2, dtype="datetime64[us, UTC]"),
        "assigned_at": pd.Series([pd.NaT] * 2, dtype="datetime64[us, UTC]"),
        "attempt": pd.Series([1, 1], dtype="Int64"),
        "hours": [1.0, 1.0],
        "score": [2.0, 3.0],
        "grade": pd.Series([None, None], dtype="str"),
        "source_row": [2, 3],
    })
    with pytest.raises(DataError) as info:
        validate(COMPLETIONS, frame)
    table = info.value.failure_table()
    assert list(table.columns) == ["row", "column", "check", "value", "reason"]
    assert table[["row", "column"]].values.tolist() == [[3, "employee_id"], [3, "status"]]
    assert pd.isna(table.loc[0, "value"]) and table.loc[1, "value"] == "done"
    assert table.loc[table["column"] == "status", "check"].str.startswith("isin").all()
    assert table.loc[table["column"] == "employee_id", "check"].iloc[0] == "not_nullable"


def test_row_rules_are_checks_of_the_generated_pandera_schema():
    from impactlab.schemas import ROSTER, to_pandera

    names = {c.name for c in to_pandera(ROSTER).checks}
    assert names == {r.name for r in ROSTER.rules} == {
        "hire_date_not_after_termination_date", "valid_from_not_after_valid_to", "employee_id_not_scientific"}


def test_contract_reports_a_broken_row_rule_once_with_its_reason():
    frame = pd.DataFrame({
        "employee_id": pd.Series(["a", "b"], dtype="str"),
        "program": pd.Series(["P", "P"], dtype="str"),
        "kind": pd.Series(["pre", "post"], dtype="str"),
        "score": [5.0, 12.0],
        "max_score": [10.0, 10.0],
        "taken_at": pd.Series([pd.Timestamp("2024-01-01", tz="UTC")] * 2, dtype="datetime64[us, UTC]"),
        "attempt": pd.Series([1, 1], dtype="Int64"),
        "source_row": [2, 3],
    })
    with pytest.raises(DataError) as info:
        validate(SCHEMAS["assessments"], frame)
    table = info.value.failure_table()
    assert table[["row", "column", "check"]].values.tolist() == [[3, "score", "range"]]
    assert table.loc[0, "reason"] == "score 12.0 is above max_score 10.0"
