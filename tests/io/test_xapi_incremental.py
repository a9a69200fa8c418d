"""xAPI statement ids (case, duplicates, conflicts), Group actors, and incremental pulls joined with
XapiTables.merge: pull 1 + pull 2 equals one full pull (hand-built statements and tests/io/lrs_server.py)."""

from __future__ import annotations

import sys
import warnings
from pathlib import Path

import pandas as pd
import pytest

from impactlab.errors import DataQualityWarning
from impactlab.io.lrs import LRS
from impactlab.io.xapi import read_xapi

sys.path.insert(0, str(Path(__file__).parent))
from lrs_server import ADL, FakeLRS, crosswalk, make_statements  # noqa: E402

ACT = "https://lms.example.com/course/negotiation"


def stmt(i, verb, *, ts="2024-03-01T09:00:00Z", actor=None, **kw):
    s = {
        "id": f"0000000a-0000-4000-8000-{i:012d}",
        "actor": actor or {"account": {"homePage": "https://lms.example.com", "name": f"lms{i % 3}"}},
        "verb": {"id": ADL + verb, "display": {"en-US": verb}},
        "object": {"id": ACT, "objectType": "Activity", "definition": {"name": {"en-US": "Negotiation"}}},
        "timestamp": ts,
        "stored": ts,
    }
    s.update(kw)
    return s


def void(i, target_id):
    return stmt(i, "voided", object={"objectType": "StatementRef", "id": target_id})


def same(a, b, *, rows=True):
    """Two reads hold the same tables, counts and ledgers."""
    for kind in ("completions", "assessments"):
        ta, tb = getattr(a, kind), getattr(b, kind)
        fa, fb = ta.frame, tb.frame
        ra, rb = ta.rejected, tb.rejected
        if not rows:
            fa, fb = fa.drop(columns="source_row"), fb.drop(columns="source_row")
            ra, rb = ra.drop(columns="source_row"), rb.drop(columns="source_row")
        pd.testing.assert_frame_equal(fa.reset_index(drop=True), fb.reset_index(drop=True))
        pd.testing.assert_frame_equal(ra.reset_index(drop=True), rb.reset_index(drop=True))
        assert ta.rows_read == tb.rows_read
    pd.testing.assert_series_equal(a.other_verbs, b.other_verbs)
    pd.testing.assert_frame_equal(a.unmatched, b.unmatched)
    if rows:
        assert a.counts == b.counts
        pd.testing.assert_frame_equal(a.duplicates, b.duplicates)


# ---------------------------------------------------------------------------------------------- ids
def test_one_id_with_different_content_is_a_conflict_and_neither_statement_is_read():
    a = stmt(1, "completed")
    b = stmt(1, "passed", result={"score": {"raw": 90, "max": 100}})
    b["id"] = a["id"].upper()  # the same UUID, written in capitals
    with pytest.warns(DataQualityWarning, match=r"2 xAPI statement\(s\) share an id .* at rows 1, 3"):
        x = read_xapi([a, stmt(2, "completed"), b])
    assert x.counts["conflicting"] == 2 and x.counts["routed"] == 1 and x.counts["duplicate"] == 0
    assert x.completions.frame["source_row"].tolist() == [2] and x.assessments.n_kept == 0
    led = x.duplicates
    assert led[["source_row", "same_as_row", "verdict"]].values.tolist() == [
        [1, 3, "conflicting"], [3, 1, "conflicting"]
    ]
    assert "also used at row(s) 3 with different content (differs in: result, verb)" in led["reason"][0]


def test_an_identical_repeat_is_read_once_and_the_ledger_says_so():
    a = stmt(1, "completed", result={"completion": True})
    # what the comparison rules of xAPI 1.0.3, Part Two, 2.3.1 set aside: id case, stored, authority,
    # version, the verb's display, the activity's definition, the timestamp's time zone
    b = dict(a, id=a["id"].upper(), stored="2024-03-05T00:00:00Z", version="1.0.3",
             authority={"mbox": "mailto:lrs@example.com"}, timestamp="2024-03-01T10:00:00+01:00",
             verb={"id": ADL + "completed", "display": {"de-DE": "abgeschlossen"}},
             object={"id": ACT, "objectType": "Activity", "definition": {"name": {"en-US": "Renamed"}}})
    with warnings.catch_warnings():
        warnings.simplefilter("error", DataQualityWarning)
        x = read_xapi([a, b])
    assert x.counts["duplicate"] == 1 and x.counts["conflicting"] == 0 and x.completions.n_kept == 1
    assert x.completions.frame["program"].tolist() == ["Negotiation"]  # the first one read
    assert x.duplicates[["source_row", "same_as_row", "verdict"]].values.tolist() == [[2, 1, "identical"]]
    assert "read once" in x.duplicates["reason"][0]
    # one instant later is another statement
    c = dict(a, timestamp="2024-03-01T09:00:01Z")
    with pytest.warns(DataQualityWarning):
        assert read_xapi([a, c]).counts["conflicting"] == 2


def test_a_void_target_in_capitals_is_matched():
    a, b = stmt(1, "completed"), stmt(2, "completed")
    x = read_xapi([a, b, void(3, a["id"].upper())])
    assert x.completions.frame["source_row"].tolist() == [2]
    assert (x.counts["voided"], x.counts["voiding"]) == (1, 1)
    assert not any("voiding statement(s) name statements not in this read" in n for n in x.completions.notes)


def test_a_void_whose_target_is_not_in_the_read_is_named_in_the_notes():
    x = read_xapi([stmt(1, "completed"), void(2, "0000000A-0000-4000-8000-999999999999")])
    assert x.completions.n_kept == 1
    assert any("1 voiding statement(s) name statements not in this read (e.g. row 2 voids 0000000A-"
               in n for n in x.completions.notes)


def test_a_group_actor_is_rejected_even_when_the_crosswalk_knows_its_identifier():
    group = {"objectType": "Group", "mbox": "mailto:sales-team@example.com",
             "member": [{"mbox": "mailto:ann@example.com"}]}
    ann = {"mbox": "mailto:ann@example.com"}
    x = read_xapi([stmt(1, "completed", actor=group), stmt(2, "completed", actor=ann)],
                  ids={"sales-team@example.com": "E5", "ann@example.com": "E1"})
    assert x.completions.frame["employee_id"].tolist() == ["E1"]
    rej = x.completions.rejected
    assert rej["source_row"].tolist() == [1] and rej["check"].tolist() == ["identity"]
    assert rej["value"][0] == "group mbox:sales-team@example.com"
    assert "the actor is a Group (objectType 'Group')" in rej["reason"][0]
    assert len(x.unmatched) == 0


# ---------------------------------------------------------------------------------------------- merge
def test_two_reads_merged_equal_one_read_at_every_split_point():
    s = [stmt(1, "completed"), stmt(2, "passed", result={"score": {"raw": 7, "max": 10}}),
         stmt(3, "completed", ts="2024-03-02T09:00:00Z"), stmt(4, "experienced")]
    s += [void(5, s[0]["id"].upper()), dict(s[1]), stmt(6, "completed", ts="2024-03-03T09:00:00Z"),
          stmt(3, "failed", ts="2024-03-04T09:00:00Z"), void(7, "0000000a-0000-4000-8000-000000000099"),
          stmt(8, "completed", ts="2024-02-01T09:00:00Z"), void(9, s[3]["id"])]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DataQualityWarning)
        full = read_xapi(s)
        assert (full.counts["voided"], full.counts["duplicate"], full.counts["conflicting"]) == (2, 1, 2)
        for k in range(len(s) + 1):
            same(read_xapi(s[:k]).merge(read_xapi(s[k:])), full)


@pytest.fixture
def lrs_server():
    srv = FakeLRS([], user="u", secret="p").start()
    yield srv
    srv.stop()


def test_incremental_lrs_pulls_merged_equal_one_full_pull(lrs_server):
    stmts = make_statements(3_000, n_voiding=150, seed=1)  # statements 2,850.. void earlier ones
    voided = {s["object"]["id"] for s in stmts[2850:]}
    lrs = LRS(lrs_server.endpoint, auth=("u", "p"))
    lrs_server.statements = stmts[:2_000]
    first = read_xapi(lrs, ids=crosswalk())
    lrs_server.statements = list(stmts)
    second = read_xapi(lrs, ids=crosswalk(), since=first.checkpoint)
    assert second.counts["read"] == 1_000
    # without merging, the completions voided in the second pull survive in the first
    survivors = set(first.completions.frame["statement_id"]) & voided
    routed = {ADL + v for v in ("completed", "passed", "failed", "attempted")}
    assert len(survivors) == sum(s["id"] in voided and s["verb"]["id"] in routed for s in stmts[:2_000]) > 30
    merged = first.merge(second)
    assert not set(merged.completions.frame["statement_id"]) & voided
    same(merged, read_xapi(lrs, ids=crosswalk()))
    assert merged.checkpoint == stmts[-1]["stored"]


def test_a_checkpoint_held_at_consistent_through_reads_the_overlap_once(lrs_server):
    stmts = make_statements(3_000, n_voiding=150, seed=2)
    lrs = LRS(lrs_server.endpoint, auth=("u", "p"))
    lrs_server.statements = stmts[:2_000]
    lrs_server.consistent_through = stmts[1_899]["stored"]  # the last 100 may not all be visible yet
    first = read_xapi(lrs, ids=crosswalk())
    assert first.checkpoint == stmts[1_899]["stored"]
    lrs_server.statements, lrs_server.consistent_through = list(stmts), None
    second = read_xapi(lrs, ids=crosswalk(), since=first.checkpoint)
    assert second.counts["read"] == 1_100
    merged = first.merge(second)
    assert merged.counts["duplicate"] == 100 and set(merged.duplicates["verdict"]) == {"identical"}
    same(merged, read_xapi(lrs, ids=crosswalk()), rows=False)


def test_reads_with_other_options_are_not_merged():
    with pytest.raises(ValueError, match="different cmi5, programs; read both with the same options"):
        other = read_xapi([stmt(2, "completed")], cmi5=True, programs={ACT: "N"})
        read_xapi([stmt(1, "completed")]).merge(other)
