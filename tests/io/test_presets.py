"""Vendor presets: each sample under tests/data/presets/ encodes the same eight learners' events in its
vendor's layout (title blocks, BOM, local times, epochs, OData dates, credit flags, numeric ids, sheets,
JSON) and must read into the same canonical table and the same panel."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

import impactlab as il
from impactlab.errors import DataError
from impactlab.io import PRESETS, read_completions

DATA = Path(__file__).resolve().parents[1] / "data" / "presets"
DOCS = Path(__file__).resolve().parents[2] / "docs" / "presets.md"

SAMPLES = {
    "cornerstone": ("cornerstone.csv", {"tz": "America/New_York"}),
    "workday": ("workday.xlsx", {}),
    "successfactors": ("successfactors.json", {}),
    "docebo": ("docebo.csv", {}),
    "moodle": ("moodle.csv", {"ids": DATA / "moodle_ids.csv"}),
    "canvas": ("canvas.jsonl", {}),
}
# SuccessFactors identifies an item by its ComponentID, a code, not a title.
PROGRAM_CODES = {"CS-101": "Consultative Selling"}

# The events every sample encodes (UTC), written out by hand.
EXPECTED = pd.DataFrame({
    "employee_id": [f"E00{i}" for i in range(1, 9)],
    "program": ["Consultative Selling"] * 8,
    "status": ["completed"] * 4 + ["in_progress", "completed", "in_progress", "completed"],
    "completed_at": pd.to_datetime(
        ["2024-02-12 15:30", "2024-03-04 09:00", "2024-03-28 14:15", "2024-05-06 16:00", None,
         "2024-05-20 13:45", None, "2024-06-03 08:00"], utc=True).astype("datetime64[us, UTC]"),
    "attempt": pd.array([1] * 8, dtype="Int64"),
})


def _read(name: str):
    path, kw = SAMPLES[name]
    return read_completions(DATA / path, preset=name, **kw)


def _canonical(t) -> pd.DataFrame:
    f = t.frame[list(EXPECTED.columns)].copy()
    f["program"] = f["program"].replace(PROGRAM_CODES)
    return f.sort_values("employee_id").reset_index(drop=True)


@pytest.mark.parametrize("name", sorted(SAMPLES))
def test_each_preset_reads_its_sample_into_the_same_canonical_table(name):
    t = _read(name)
    pd.testing.assert_frame_equal(_canonical(t), EXPECTED)
    assert t.rows_read == t.n_kept + t.n_rejected


@pytest.mark.parametrize("name", sorted(SAMPLES))
def test_each_preset_gives_the_same_panel(name):
    months = [str(p) for p in pd.period_range("2024-01", "2024-08", freq="M")]
    kpis = pd.DataFrame({
        "employee_id": [f"E00{i}" for i in range(1, 9) for _ in months],
        "month": months * 8,
        "revenue": [float(100 * i + k) for i in range(1, 9) for k in range(len(months))],
    })
    comp = _canonical(_read(name))
    panel = il.build_panel(il.read_kpis(kpis), comp, program="Consultative Selling", outcome="revenue")
    cohorts = panel.long().drop_duplicates("unit").set_index("unit")["cohort"]
    assert [None if pd.isna(c) else str(c) for c in cohorts] == [
        "2024-02", "2024-03", "2024-03", "2024-05", None, "2024-05", None, "2024-06"]
    reference = il.build_panel(il.read_kpis(kpis), _canonical(_read("docebo")),
                               program="Consultative Selling", outcome="revenue")
    pd.testing.assert_frame_equal(panel.long(), reference.long())


def test_sample_quirks_are_said_in_the_notes():
    notes = {n: " | ".join(_read(n).notes) for n in SAMPLES}
    assert "utf-8 with BOM" in notes["cornerstone"]
    assert "header found on line 5; 4 line(s) above it skipped" in notes["cornerstone"]
    assert "sheet 'Enrollments' used" in notes["workday"] and "'Prompts'" in notes["workday"]
    assert "semicolon-delimited" in notes["docebo"]
    assert "ids: all 8 identities matched the crosswalk" in notes["moodle"]
    canvas = _read("canvas")
    assert canvas.rows_read == 9 and canvas.n_rejected == 1
    assert canvas.rejected.loc[0, "check"] == "non_data"
    assert "Test Student" in canvas.rejected.loc[0, "reason"]


def test_moodle_without_the_crosswalk_keeps_moodle_ids_and_reads_zero_as_not_set():
    t = read_completions(DATA / "moodle.csv", preset="moodle")
    assert t.frame["employee_id"].tolist()[:2] == ["2001", "2002"]
    in_progress = t.frame.loc[t.frame["status"] == "in_progress"]
    assert in_progress["completed_at"].isna().all() and len(in_progress) == 2  # timecompleted = 0


def test_successfactors_maps_on_the_credit_flag_not_on_names():
    raw = pd.DataFrame({
        "StudentID": ["a", "b", "c", "d", "e"],
        "ComponentID": ["X"] * 5,
        "CompletionStatusID": ["TENANT-DONE", "TENANT-NOPE", "EXEMPT", "COMPLETE", "INCOMPLETE"],
        "ProvidesCredit": ["Y", "N", "Y", "N", "N"],
        "CompletionDate": [1707751800000, None, 1707751800000, 1707751800000, None],
    })
    t = read_completions(raw, preset="successfactors")
    got = dict(zip(t.frame["employee_id"], t.frame["status"], strict=True))
    assert got == {"a": "completed", "b": "unknown", "c": "exempt", "e": "in_progress"}
    rej = t.rejected.set_index("source_row")
    assert rej.loc[4, "check"] == "status"
    assert "credit flag says no credit" in rej.loc[4, "reason"]
    assert t.frame.set_index("employee_id").loc["a", "completed_at"] == pd.Timestamp(
        "2024-02-12 15:30", tz="UTC")


def test_docebo_integer_codes_keep_their_sign():
    raw = pd.DataFrame({"username": list("abcd"), "course_name": ["X"] * 4,
                        "enrollment_status": ["-2", "2", "3", "1"],
                        "date_complete": ["", "2024-01-02 10:00:00", "", ""]})
    t = read_completions(raw, preset="docebo")
    assert t.frame["status"].tolist() == ["enrolled", "completed", "withdrawn", "in_progress"]


def test_unknown_statuses_are_rejected_and_status_map_extends_a_preset():
    raw = pd.DataFrame({"User ID": ["a", "b"], "Training Title": ["X", "X"],
                        "Transcript Status": ["Registered", "Auditing"]})
    t = read_completions(raw, preset="cornerstone")
    assert t.n_rejected == 1 and "unknown status 'Auditing'" in t.rejected.loc[0, "reason"]
    t = read_completions(raw, preset="cornerstone", status_map={"auditing": "enrolled"})
    assert t.frame["status"].tolist() == ["enrolled", "enrolled"]
    with pytest.raises(DataError, match="unknown status 'Auditing'"):
        read_completions(raw, preset="cornerstone", errors="raise")


def test_spanish_cornerstone_headers_and_statuses():
    raw = pd.DataFrame({"Identificación de usuario": ["a", "b"], "Título de la capacitación": ["X", "X"],
                        "Estado del expediente": ["Terminado", "En Progreso"],
                        "Fecha de finalización de expediente": ["2024-03-01", ""]})
    t = read_completions(raw, preset="cornerstone")
    assert t.frame["status"].tolist() == ["completed", "in_progress"]


def test_every_preset_is_documented():
    text = DOCS.read_text(encoding="utf-8")
    for name in PRESETS:
        if name is not None:
            assert f"`{name}`" in text, name
