"""build_panel joins employee ids by one rule: exact, else ignoring the leading zeros of a digits-only id,
else ignoring case, each rule only while no table tells such ids apart; every id matched by a rule or
matching nothing is in panel.meta["ids"], and a warning says so (issue "Hostile input", Build 5)."""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
import pytest

import impactlab as il
from impactlab.errors import DataQualityWarning
from impactlab.io.identity import match_ids
from impactlab.panel.build import _kept_codes
from impactlab.panel.panel import _unit_codes

MONTHS = ["2024-01", "2024-02", "2024-03", "2024-04", "2024-05", "2024-06"]


def _tables(roster_ids, kpi_ids, lms, program="Leadership 101"):
    """Roster, KPIs (six months each, revenue 100 + month index) and completions in March 2024."""
    roster = pd.DataFrame({"Employee ID": roster_ids, "Hire Date": "2020-01-01"})
    kpis = pd.DataFrame([(e, m, 100.0 + i) for e in kpi_ids for i, m in enumerate(MONTHS)],
                        columns=["employee_id", "month", "revenue"])
    completions = pd.DataFrame({"User ID": pd.Series(lms, dtype=object), "Course": program,
                                "Status": "Completed", "Completion Date": "2024-03-15"})
    return (il.read_kpis(kpis, unit="employee_id", time="month"), il.read_completions(completions),
            il.read_roster(roster))


def _build(kpis, comp, roster, **kw):
    with warnings.catch_warnings(record=True) as seen:
        warnings.simplefilter("always")
        panel = il.build_panel(kpis, comp, program="Leadership 101", outcome="revenue", roster=roster, **kw)
    return panel, [str(w.message) for w in seen if issubclass(w.category, DataQualityWarning)]


def _cohorts(panel):
    return panel.long().drop_duplicates("unit").set_index("unit")["cohort"]


def test_excel_numbers_match_the_zero_padded_roster_ids():
    # the roster keeps "00123"; the LMS export went through Excel: 123 (a number) and 124.0 (a float)
    kpis, comp, roster = _tables(["00123", "00124", "00125"], ["00123", "00124", "00125"], [123, 124.0])
    assert comp.frame["employee_id"].tolist() == ["123", "124"]  # every reader writes ids as as_id does
    panel, warned = _build(kpis, comp, roster)
    cohorts = _cohorts(panel)
    # the trained employees are trained (before the rule they were never-trained controls)
    assert cohorts["00123"] == cohorts["00124"] == pd.Period("2024-03", "M")
    assert pd.isna(cohorts["00125"])
    assert panel.meta["trained_employees"] == 2 and panel.meta["trained_without_kpis"] == 0
    ids = panel.meta["ids"]
    assert ids[["table", "id", "matched_to", "reason"]].values.tolist() == [
        ["completions", "123", "00123", "matched ignoring leading zeros"],
        ["completions", "124", "00124", "matched ignoring leading zeros"]]
    assert warned == ["build_panel matched 2 id(s) to another table's spelling ignoring leading zeros (e.g. "
                      "completions '123' -> '00123', completions '124' -> '00124'); panel.meta['ids'] lists "
                      "them."]


def test_kpi_ids_are_matched_to_the_roster_too():
    kpis, comp, roster = _tables(["00123", "00124"], ["123", "124"], ["00123"])
    panel, _ = _build(kpis, comp, roster)
    assert sorted(_cohorts(panel).index) == ["00123", "00124"]
    assert len(panel.dropped) == 0 and panel.n_obs == 12
    assert _cohorts(panel)["00123"] == pd.Period("2024-03", "M")


def test_case_is_ignored_when_no_table_tells_ids_apart_by_case():
    kpis, comp, roster = _tables(["E01", "E02"], ["E01", "E02"], ["e01"])
    panel, warned = _build(kpis, comp, roster)
    assert _cohorts(panel)["E01"] == pd.Period("2024-03", "M")
    assert panel.meta["ids"]["reason"].tolist() == ["matched ignoring case"]
    assert "ignoring case (e.g. completions 'e01' -> 'E01')" in warned[0]


def test_case_matters_when_a_table_holds_ids_that_differ_only_by_case():
    # the roster has two people, "E01" and "e01": case tells ids apart there, so "e02" is not "E02"
    kpis, comp, roster = _tables(["E01", "e01", "E02"], ["E01", "e01", "E02"], ["e01", "e02"])
    panel, warned = _build(kpis, comp, roster)
    cohorts = _cohorts(panel)
    assert cohorts["e01"] == pd.Period("2024-03", "M")  # the exact id: the other person stays untrained
    assert pd.isna(cohorts["E01"]) and pd.isna(cohorts["E02"])
    row = panel.meta["ids"].set_index("id").loc["e02"]
    assert row["reason"] == "not in the roster"
    assert row["note"] == "not matched to 'E02': the roster holds 'E01' and 'e01', so case tells ids apart"
    assert warned == ["build_panel: ids that match nothing: 1 completion id(s) not in the roster (e.g. "
                      "'e02'); not matched to 'E02': the roster holds 'E01' and 'e01', so case tells ids "
                      "apart. panel.meta['ids'] lists them; an LMS whose ids are not the HR ids needs a "
                      "crosswalk, read_completions(..., ids=...)."]


def test_leading_zeros_matter_when_a_table_holds_0123_and_123():
    m = match_ids({"roster": ["0123", "123", "77"], "completions": ["00123", "077"]}, reference="roster")
    assert m.rules == {"leading zeros": False, "case": True}
    assert m.maps["completions"] == {}
    assert m.ledger["reason"].str.endswith("the roster holds '0123' and '123', so leading zeros tell ids "
                                           "apart").all()


def test_unmatched_ids_are_warned_by_id_and_listed():
    # 00126 trained but without KPI rows; 999 in the LMS only; 555 in the KPIs only; 00127 in the roster only
    kpis, comp, roster = _tables(["00123", "00126", "00127"], ["00123", "555"], ["123", "126", "999"])
    panel, warned = _build(kpis, comp, roster)
    ids = panel.meta["ids"].set_index(["table", "id"])["reason"]
    assert ids.to_dict() == {
        ("completions", "123"): "matched ignoring leading zeros",
        ("completions", "126"): "matched ignoring leading zeros",
        ("kpis", "555"): "not in the roster",
        ("completions", "999"): "not in the roster",
        ("completions", "00126"): "trained, no KPI rows",
        ("roster", "00127"): "in the roster only: no KPI rows, no completions",
    }
    assert panel.meta["trained_without_kpis"] == 2  # 00126 and 999
    assert warned[1] == ("build_panel: ids that match nothing: 1 KPI id(s) not in the roster (e.g. '555'); "
                         "1 completion id(s) not in the roster (e.g. '999'); 1 trained employee(s) without "
                         "KPI rows (e.g. '00126'). panel.meta['ids'] lists them; an LMS whose ids are not "
                         "the HR ids needs a crosswalk, read_completions(..., ids=...).")
    # the KPI rows of 555 are in the row ledger too
    assert set(panel.dropped["unit"]) == {"555"} and len(panel.dropped) == 6


def test_without_a_roster_the_kpi_ids_are_the_reference():
    kpis, comp, _ = _tables([], ["00123", "00124"], ["123", "777"])
    with warnings.catch_warnings(record=True) as seen:
        warnings.simplefilter("always")
        panel = il.build_panel(kpis, comp, program="Leadership 101", outcome="revenue")
    assert _cohorts(panel)["00123"] == pd.Period("2024-03", "M")
    assert panel.meta["ids"].set_index("id")["reason"].to_dict() == {
        "123": "matched ignoring leading zeros", "777": "trained, no KPI rows"}
    assert any("1 trained employee(s) without KPI rows (e.g. '777')" in str(w.message) for w in seen)


def test_matching_data_gives_no_id_warning_and_an_empty_ledger():
    kpis, comp, roster = _tables(["E1", "E2"], ["E1", "E2"], ["E1"])
    with warnings.catch_warnings():
        warnings.simplefilter("error", DataQualityWarning)
        panel = il.build_panel(kpis, comp, program="Leadership 101", outcome="revenue", roster=roster)
    assert panel.meta["ids"].empty and list(panel.meta["ids"].columns) == ["table", "id", "matched_to",
                                                                           "reason", "note"]


@pytest.mark.parametrize("seed", range(5))
def test_kept_codes_are_the_codes_of_the_kept_rows(seed):
    rng = np.random.default_rng(seed)
    values = pd.Series(rng.choice([f"E{i:03d}" for i in range(40)], size=300).astype(object))
    keep = rng.random(300) < 0.6
    codes, uniq = _kept_codes(*_unit_codes(values), keep)
    want_codes, want_uniq = _unit_codes(values[keep].reset_index(drop=True))
    assert list(uniq) == list(want_uniq)
    assert np.array_equal(codes, want_codes)



def test_a_simulated_organisation_with_excel_ids_gives_the_same_panel():
    # roster and KPIs keep zero-padded ids ("00016"), the LMS export holds Excel's numbers (16): the panel is
    # the one built from the original ids, unit for unit (before the rule, nobody was trained)
    org = il.datasets.simulate_org(n_employees=300, n_periods=24, seed=3)

    def digits(s):
        return s.astype(str).str.replace("E", "", regex=False)

    comp = org.completions.assign(**{"User ID": digits(org.completions["User ID"]).astype(int)})
    roster = org.roster.assign(**{"Employee ID": digits(org.roster["Employee ID"])})
    kpis = org.kpis.assign(employee_id=digits(org.kpis["employee_id"]))
    base = il.build_panel(il.read_kpis(org.kpis), il.read_completions(org.completions), program=org.program,
                          outcome=org.outcome, roster=il.read_roster(org.roster))
    with pytest.warns(DataQualityWarning, match="ignoring leading zeros"):
        excel = il.build_panel(il.read_kpis(kpis), il.read_completions(comp), program=org.program,
                               outcome=org.outcome, roster=il.read_roster(roster))
    want = base.long().assign(unit=lambda d: digits(d["unit"]), cluster=lambda d: digits(d["cluster"]))
    pd.testing.assert_frame_equal(excel.long().reset_index(drop=True), want.reset_index(drop=True))
    assert excel.meta["trained_employees"] == base.meta["trained_employees"] > 0
    assert excel.meta["trained_without_kpis"] == 0
    matched = excel.meta["ids"].loc[lambda d: d["reason"] == "matched ignoring leading zeros"]
    assert len(matched) == comp["User ID"].nunique()
