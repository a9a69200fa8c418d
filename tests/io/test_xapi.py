"""read_xapi on hand-built statements: verbs, results, voiding, identities, files, accounting."""

from __future__ import annotations

import hashlib
import json
import warnings

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from impactlab.errors import DataError, DataQualityWarning
from impactlab.io.xapi import read_xapi
from impactlab.io.xapi_ids import build_crosswalk
from impactlab.io.xapi_parse import duration_hours

ADL = "http://adlnet.gov/expapi/verbs/"
ACT = "https://lms.example.com/course/negotiation"
CMI5 = {"contextActivities": {"category": [{"id": "https://w3id.org/xapi/cmi5/context/categories/cmi5"}]}}


def stmt(i, verb, *, actor=None, result=None, ts="2024-03-01T09:00:00Z", act=ACT, name="Negotiation", **kw):
    s = {
        "id": f"00000000-0000-4000-8000-{i:012d}",
        "actor": actor or {"account": {"homePage": "https://lms.example.com", "name": "lms7"}},
        "verb": {"id": verb if "://" in verb else ADL + verb},
        "object": {"id": act, "objectType": "Activity", "definition": {"name": {"en-US": name}}},
        "timestamp": ts,
        "stored": ts,
    }
    if result is not None:
        s["result"] = result
    s.update(kw)
    return s


def accounting_holds(x) -> None:
    c = x.counts
    assert c["read"] == sum(
        c[k] for k in ("malformed", "duplicate", "conflicting", "voiding", "voided", "other_verb", "routed")
    )
    for t in (x.completions, x.assessments):
        assert t.rows_read == t.n_kept + t.n_rejected


# --------------------------------------------------------------------------------------------- verbs
def test_each_verb_goes_to_its_table_with_hand_computed_values():
    stmts = [
        stmt(1, "completed", result={"completion": True, "duration": "PT45M"}),
        stmt(2, "passed", result={"score": {"raw": 42, "max": 50}, "success": True, "duration": "PT1H30M"}),
        stmt(3, "failed", result={"score": {"scaled": 0.3}, "success": False}),
        stmt(4, "scored", result={"score": {"raw": 35, "min": 10, "max": 60}}),
        stmt(5, "attempted"),
        stmt(6, "https://w3id.org/xapi/adl/verbs/waived", context=CMI5),
        stmt(7, "experienced"),
        stmt(8, "passed"),  # no score: a completion, not an assessment
    ]
    x = read_xapi(stmts)
    c = x.completions.frame.set_index("source_row")
    assert c["status"].to_dict() == {
        1: "completed",
        2: "passed",
        3: "failed",
        5: "in_progress",
        6: "exempt",
        8: "passed",
    }
    assert c.loc[1, "hours"] == 0.75 and c.loc[2, "hours"] == 1.5
    assert c.loc[2, "score"] == 84.0 and c.loc[3, "score"] == 30.0  # 42/50 and scaled 0.3, in percent
    assert pd.isna(c.loc[5, "completed_at"]) and c.loc[2, "completed_at"] == pd.Timestamp("2024-03-01 09:00Z")
    assert c.loc[2, "status_raw"] == ADL + "passed" and bool(c.loc[6, "cmi5"])
    a = x.assessments.frame.set_index("source_row")
    assert sorted(a.index) == [2, 3, 4]
    assert a.loc[2, ["score", "max_score"]].tolist() == [42.0, 50.0]
    assert a.loc[3, ["score", "max_score"]].tolist() == [30.0, 100.0]
    assert a.loc[4, ["score", "max_score"]].tolist() == [25.0, 50.0]  # raw - min over max - min
    assert set(a["kind"]) == {"post"}
    assert x.other_verbs.to_dict() == {ADL + "experienced": 1}
    assert x.counts == {
        "read": 8,
        "malformed": 0,
        "duplicate": 0,
        "conflicting": 0,
        "voiding": 0,
        "voided": 0,
        "other_verb": 1,
        "routed": 7,
    }
    accounting_holds(x)


def test_voided_statements_and_their_voiding_statements_are_removed():
    stmts = [stmt(1, "completed"), stmt(2, "completed"), stmt(3, "completed")]
    stmts.append(stmt(4, "voided", object={"objectType": "StatementRef", "id": stmts[1]["id"]}))
    stmts.append(stmt(5, "voided", object={"objectType": "StatementRef", "id": "not-in-this-pull"}))
    x = read_xapi(stmts)
    assert x.completions.frame["source_row"].tolist() == [1, 3]
    assert (x.counts["voiding"], x.counts["voided"], x.counts["routed"]) == (2, 1, 2)
    accounting_holds(x)


def test_repeated_statement_ids_are_counted_once():
    s = stmt(1, "completed")
    x = read_xapi([s, dict(s), stmt(2, "completed", ts="2024-03-02T09:00:00Z")])
    assert x.counts["duplicate"] == 1 and x.completions.n_kept == 2
    assert x.completions.frame["attempt"].tolist() == [1, 2]


def test_attempts_follow_time_not_input_order_and_cohort_date_is_the_timestamp():
    late = stmt(1, "passed", ts="2024-05-01T10:00:00+02:00")
    early = stmt(2, "failed", ts="2024-04-01T10:00:00Z")
    f = read_xapi([late, early]).completions.frame.set_index("source_row")
    assert f.loc[2, "attempt"] == 1 and f.loc[1, "attempt"] == 2
    assert f.loc[1, "completed_at"] == pd.Timestamp("2024-05-01 08:00Z")


def test_programme_names_and_kinds():
    s = [
        stmt(1, "scored", result={"score": {"scaled": 0.5}}, name=None),
        stmt(2, "scored", result={"score": {"scaled": 0.7}}, act="urn:x:pre", name="Pre-test"),
    ]
    s[0]["object"]["definition"] = {"name": {"fr-FR": "Négociation"}}
    x = read_xapi(s, kinds={"urn:x:pre": "pre"})
    assert x.assessments.frame[["program", "kind"]].values.tolist() == [
        ["Négociation", "post"],
        ["Pre-test", "pre"],
    ]
    y = read_xapi(s, program_from="id", programs={"urn:x:pre": "Negotiation"})
    assert y.assessments.frame["program"].tolist() == [ACT, "Negotiation"]
    with pytest.raises(ValueError, match="'kinds' parameter must map onto pre, post, delayed"):
        read_xapi(s, kinds={"urn:x:pre": "baseline"})
    with pytest.raises(ValueError, match="'program_from' parameter must be one of 'name', 'id'. Got 'title'"):
        read_xapi(s, program_from="title")


# ------------------------------------------------------------------------------------------ bad values
@pytest.mark.parametrize(
    "result, extra, check, reason",
    [
        ({"score": {"scaled": 1.5}}, {}, "range", r"scaled must lie in -1\.\.1"),
        ({"score": {"scaled": -0.5}, "duration": "PT5M"}, {"context": CMI5}, "range",
         r"0\.\.1 in cmi5 statements"),
        ({"score": {"scaled": 0.5}}, {"context": CMI5}, "missing",
         r"cmi5 passed statement must carry result\.duration"),
        ({"score": {"raw": 60, "min": 0, "max": 50}}, {}, "range", r"raw must lie in min\.\.max"),
        ({"score": {"raw": 5, "min": 10, "max": 10}}, {}, "range", "must be below max"),
        ({"score": {"raw": "ten"}}, {}, "number", "must be a number"),
        ({"score": {"raw": 5}, "duration": "P1M"}, {}, "duration", "calendar years or months"),
        ({"score": {"raw": 5}, "duration": "1h30"}, {}, "duration", "not an ISO 8601 duration"),
    ],
)
def test_unusable_results_are_rejected_with_the_reason(result, extra, check, reason):
    x = read_xapi([stmt(1, "passed", result=result, **extra), stmt(2, "passed")])
    rej = x.completions.rejected
    assert rej["source_row"].unique().tolist() == [1] and x.completions.n_kept == 1
    assert rej["check"].iloc[0] == check
    assert rej["reason"].str.contains(reason).any()
    accounting_holds(x)


def test_cmi5_statements_need_a_duration_on_completed_passed_failed():
    statements = [
        stmt(1, "completed", context=CMI5),  # rejected: no duration
        stmt(2, "passed", context=CMI5, result={"duration": "PT20M"}),
        stmt(3, "failed", result={"score": {"scaled": 0.2}}),  # not cmi5: no duration needed
        stmt(4, "attempted", context=CMI5),  # attempted needs none
        stmt(5, "https://w3id.org/xapi/adl/verbs/waived", context=CMI5),  # waived needs none
    ]
    x = read_xapi(statements)
    assert sorted(x.completions.frame["source_row"]) == [2, 3, 4, 5]
    rej = x.completions.rejected
    assert rej[["source_row", "column", "check"]].values.tolist() == [[1, "duration", "missing"]]
    assert "9.5.4.1" in rej["reason"].iloc[0] and "its context category is cmi5" in rej["reason"].iloc[0]
    accounting_holds(x)
    # cmi5=True holds every statement to the rules: the failed one (3) is rejected in both tables
    y = read_xapi(statements, cmi5=True)
    assert sorted(y.completions.frame["source_row"]) == [2, 4, 5]
    assert y.completions.rejected["source_row"].tolist() == [1, 3]
    assert y.assessments.rejected["source_row"].tolist() == [3] and y.assessments.n_kept == 0
    assert "(read with cmi5=True)" in y.assessments.rejected["reason"].iloc[0]
    accounting_holds(y)
    with pytest.raises(ValueError, match="'cmi5' parameter"):
        read_xapi(statements, cmi5="yes")


def test_negative_scaled_score_is_fine_outside_cmi5_and_scored_needs_a_score():
    x = read_xapi([stmt(1, "scored", result={"score": {"scaled": -0.5}}), stmt(2, "scored")])
    assert x.assessments.frame["score"].tolist() == [-50.0]
    assert x.assessments.rejected["reason"].str.contains("needs result.score").any()


def test_errors_raise_lists_every_problem():
    bad = [
        stmt(1, "passed", result={"score": {"scaled": 2}}),
        stmt(2, "completed", timestamp=None, stored=None),
    ]
    with pytest.raises(
        DataError, match=r"(?s)problem\(s\) on 2 of 2 rows.*row 1.*scaled.*row 2.*completed_at"
    ):
        read_xapi(bad, errors="raise")


def test_durations():
    assert duration_hours("PT1H30M") == 1.5
    assert duration_hours("P1DT2H") == 26.0
    assert duration_hours("P1W") == 168.0
    assert duration_hours("PT90S") == 0.025
    assert duration_hours("PT0,5H") == 0.5
    for bad in ("PT", "P", "1H", "P1Y", "PT1H30"):
        with pytest.raises(ValueError):
            duration_hours(bad)


# ------------------------------------------------------------------------------------------ identities
def test_every_actor_kind_maps_through_the_crosswalk_and_unmatched_are_reported():
    sha = hashlib.sha1(b"mailto:bo@example.com").hexdigest()
    actors = [
        {"mbox": "mailto:Ann@Example.com"},
        {"mbox_sha1sum": sha.upper()},
        {"openid": "https://id.example.com/cy"},
        {"account": {"homePage": "https://lms.example.com/", "name": "lms42"}},
        {"account": {"homePage": "https://other.example.com", "name": "lms42"}},  # another system's lms42
        {"mbox": "mailto:stranger@example.com"},
        {"objectType": "Group", "member": []},
    ]
    stmts = [stmt(i + 1, "completed", actor=a) for i, a in enumerate(actors)]
    ids = pd.DataFrame(
        {
            "HR ID": ["E1", "E2", "E3", "E4"],
            "E-mail": ["ann@example.com", "Bo@Example.com", None, None],
            "OpenID": [None, None, "https://id.example.com/cy", None],
            "LMS login": [None, None, None, "lms42"],
            "Home page": [None, None, None, "https://lms.example.com"],
        }
    )
    with pytest.warns(
        DataQualityWarning, match=r"2 xAPI statement\(s\) from 2 actor identities not in the crosswalk"
    ):
        x = read_xapi(stmts, ids=ids)
    assert x.completions.frame.set_index("source_row")["employee_id"].to_dict() == {
        1: "E1",
        2: "E2",
        3: "E3",
        4: "E4",
    }
    # a group is no identity a crosswalk could map: rejected, not listed as unmatched
    assert set(x.unmatched["identity"]) == {
        "account:lms42 @ https://other.example.com",
        "mbox:stranger@example.com",
    }
    assert x.unmatched["statements"].tolist() == [1, 1]
    group = x.completions.rejected.set_index("source_row").loc[7]
    assert group["value"] == "(anonymous group)" and "the actor is a Group" in group["reason"]
    assert set(x.completions.rejected["check"]) == {"identity"}
    accounting_holds(x)


def test_without_crosswalk_the_actor_identifier_is_the_employee_id():
    x = read_xapi([stmt(1, "completed"), stmt(2, "completed", actor={"mbox": "mailto:Ann@X.com"})])
    assert x.completions.frame["employee_id"].tolist() == ["lms7", "ann@x.com"]
    assert any("no identity crosswalk" in n for n in x.completions.notes)


def test_mapping_crosswalk_and_conflicts(tmp_path):
    cw = build_crosswalk({"mailto:ann@x.com": "E1", "lms7": 7, "https://id.example.com/cy": "E3"})
    assert cw.lookup(("mbox", "ann@x.com", None)) == "E1"
    assert cw.lookup(("account", "lms7", "https://anything")) == "7"
    assert cw.lookup(("mbox_sha1sum", hashlib.sha1(b"mailto:ann@x.com").hexdigest(), None)) == "E1"
    with pytest.raises(DataError, match=r"(?s)maps one identifier onto several employees.*'E1'.*'E2'"):
        build_crosswalk(pd.DataFrame({"employee_id": ["E1", "E2"], "email": ["a@x.com", "A@x.com"]}))
    with pytest.raises(DataError, match="needs an 'employee_id' column and at least one identifier column"):
        build_crosswalk(pd.DataFrame({"who": ["E1"], "email": ["a@x.com"]}))
    path = tmp_path / "ids.csv"
    path.write_text("employee_id,account_name\nE7,lms7\n", encoding="utf-8")
    assert read_xapi([stmt(1, "completed")], ids=path).completions.frame["employee_id"].tolist() == ["E7"]
    from impactlab.io import read_ids  # the crosswalk the file readers use works here too

    shared = read_ids({"lms7": "E7", "Ann@X.com": "E1"})
    x = read_xapi(
        [stmt(1, "completed"), stmt(2, "completed", actor={"mbox": "mailto:ann@x.com"})], ids=shared
    )
    assert x.completions.frame["employee_id"].tolist() == ["E7", "E1"]


# ------------------------------------------------------------------------------------------------ files
def test_files_json_statement_result_and_json_lines(tmp_path):
    stmts = [stmt(1, "completed"), stmt(2, "passed", result={"score": {"scaled": 0.9}})]
    (tmp_path / "a.json").write_text(json.dumps(stmts), encoding="utf-8")
    (tmp_path / "b.json").write_text(json.dumps({"statements": stmts, "more": ""}), encoding="utf-8")
    lines = [json.dumps(stmts[0]), "", "{not json", json.dumps(stmts[1]), json.dumps(["a list"])]
    (tmp_path / "c.jsonl").write_text("\n".join(lines), encoding="utf-8")
    a, b = read_xapi(tmp_path / "a.json"), read_xapi(tmp_path / "b.json")
    pd.testing.assert_frame_equal(a.completions.frame, b.completions.frame)
    assert a.checkpoint == "2024-03-01T09:00:00Z"
    c = read_xapi(tmp_path / "c.jsonl")
    assert c.completions.frame["source_row"].tolist() == [1, 4]  # the line numbers
    assert c.malformed.values.tolist() == [
        [3, c.malformed["reason"].iloc[0]],
        [5, "a statement must be a JSON object"],
    ]
    assert "not valid JSON" in c.malformed["reason"].iloc[0]
    accounting_holds(c)
    (tmp_path / "bad.json").write_text('[{"id": 1},', encoding="utf-8")
    with pytest.raises(DataError, match=r"bad\.json: the file is not valid JSON: .* at line 1"):
        read_xapi(tmp_path / "bad.json")
    with pytest.raises(ValueError, match=r"\['since'\] filter\(s\) apply to an LRS pull"):
        read_xapi(stmts, since="2024-01-01")
    with pytest.raises(TypeError, match="'source' parameter must be a path"):
        read_xapi(42)


def test_tables_feed_build_panel():
    from impactlab.panel import build_panel

    stmts = [
        stmt(1, "passed", ts="2024-03-05T10:00:00Z"),
        stmt(2, "completed", ts="2024-05-05T10:00:00Z"),
        stmt(3, "completed", actor={"account": {"homePage": "h", "name": "lms8"}}, ts="2024-04-01T00:00:00Z"),
    ]
    x = read_xapi(stmts, ids={"lms7": "E7", "lms8": "E8"})
    kpis = pd.DataFrame(
        {
            "employee_id": ["E7"] * 4 + ["E8"] * 4 + ["E9"] * 4,
            "month": [f"2024-0{m}" for m in (2, 3, 4, 5)] * 3,
            "revenue": np.arange(12.0),
        }
    )
    from impactlab.io import read_kpis

    panel = build_panel(
        read_kpis(kpis, time="month"), x.completions, program="negotiation", outcome="revenue"
    )
    cohorts = panel.data.groupby("employee_id")["cohort"].first()
    assert str(cohorts["E7"]) == "2024-03" and str(cohorts["E8"]) == "2024-04" and pd.isna(cohorts["E9"])


# ------------------------------------------------------------------------------------------- properties
_good = st.builds(
    lambda v, raw: (v, raw), st.sampled_from(["completed", "passed", "failed", "scored"]), st.integers(0, 100)
)
_bad = st.sampled_from(["scaled", "duration", "identity", "noverb", "void", "dup"])


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(st.one_of(_good, _bad), min_size=1, max_size=25))
def test_nothing_is_lost_and_good_statements_are_unaltered(items):
    stmts, good = [], {}
    for i, it in enumerate(items, start=1):
        if isinstance(it, tuple):
            verb, raw = it
            s = stmt(i, verb, result={"score": {"raw": raw, "min": 0, "max": 100}, "duration": "PT2H"})
            good[s["id"]] = (verb, raw)
        elif it == "scaled":
            s = stmt(i, "passed", result={"score": {"scaled": 3}})
        elif it == "duration":
            s = stmt(i, "completed", result={"duration": "two hours"})
        elif it == "identity":
            s = stmt(i, "completed", actor={"mbox": "mailto:nobody@example.com"})
        elif it == "noverb":
            s = stmt(i, "completed")
            del s["verb"]
        elif it == "void":
            s = stmt(
                i, "voided", object={"objectType": "StatementRef", "id": stmts[-1]["id"] if stmts else "x"}
            )
            good.pop(stmts[-1]["id"] if stmts else None, None)
        else:
            s = (
                dict(stmts[-1])
                if stmts
                else stmt(i, "completed", actor={"mbox": "mailto:nobody@example.com"})
            )
        stmts.append(s)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DataQualityWarning)
        x = read_xapi(stmts, ids={"lms7": "E7"})
    accounting_holds(x)
    comp = x.completions.frame.set_index("statement_id")
    assess = x.assessments.frame.set_index("statement_id")
    for sid, (verb, raw) in good.items():
        if verb != "scored":
            assert comp.loc[sid, "status"] == verb and comp.loc[sid, "score"] == raw
            assert comp.loc[sid, "hours"] == 2.0 and comp.loc[sid, "employee_id"] == "E7"
        if verb != "completed":
            assert assess.loc[sid, "score"] == raw and assess.loc[sid, "max_score"] == 100
    kept = set(comp.index) | set(assess.index)
    assert kept == set(good)
