"""cmi5 and TLA verbs: each verb IRI becomes the completion status its specification gives it."""

from __future__ import annotations

import pandas as pd
import pytest

from impactlab.io.xapi import read_xapi

ADL = "http://adlnet.gov/expapi/verbs/"
ADL_HTTPS = "https://adlnet.gov/expapi/verbs/"  # as the TLA profile writes the ADL verbs
W3ID = "https://w3id.org/xapi/adl/verbs/"
CMI5 = {"contextActivities": {"category": [{"id": "https://w3id.org/xapi/cmi5/context/categories/cmi5"}]}}
WHEN = pd.Timestamp("2024-05-02 10:00Z")


def _statement(verb: str, *, cmi5: bool, result: dict | None = None) -> dict:
    s = {"id": "00000000-0000-4000-8000-000000000001",
         "actor": {"account": {"homePage": "https://lms.example.com", "name": "lms7"}},
         "verb": {"id": verb}, "timestamp": "2024-05-02T10:00:00Z", "stored": "2024-05-02T10:00:00Z",
         "object": {"id": "https://lms.example.com/au/1", "objectType": "Activity"}}
    if cmi5:
        s["context"] = CMI5
    if result is not None:
        s["result"] = result
    return s


# (verb IRI, status, dated): the cmi5 specification's verbs (9.3), then the TLA profile's spellings
CMI5_VERBS = [
    (ADL + "launched", "in_progress", False), (ADL + "initialized", "in_progress", False),
    (ADL + "completed", "completed", True), (ADL + "passed", "passed", True),
    (ADL + "failed", "failed", True),
    (W3ID + "abandoned", "in_progress", False), (W3ID + "waived", "exempt", True),
    (ADL + "terminated", "in_progress", False), (W3ID + "satisfied", "completed", True),
]
TLA_VERBS = [
    (ADL_HTTPS + "launched", "in_progress", False), (ADL_HTTPS + "initialized", "in_progress", False),
    (ADL_HTTPS + "completed", "completed", True), (ADL_HTTPS + "passed", "passed", True),
    (ADL_HTTPS + "failed", "failed", True), (ADL_HTTPS + "terminated", "in_progress", False),
    (W3ID + "satisfied", "exempt", True), (W3ID + "abandoned", "in_progress", False),
    (W3ID + "waived", "exempt", True), ("https://w3id.org/xapi/tla/verbs/registered", "enrolled", False),
    (ADL + "registered", "enrolled", False), (ADL + "progressed", "in_progress", False),
]


@pytest.mark.parametrize(("verb", "status", "dated"), CMI5_VERBS)
def test_cmi5_verb(verb, status, dated):
    timed = status in ("completed", "passed", "failed") and "adlnet" in verb
    x = read_xapi([_statement(verb, cmi5=True, result={"duration": "PT20M"} if timed else None)])
    c = x.completions.frame
    assert c["status"].tolist() == [status] and c["status_raw"].tolist() == [verb]
    assert bool(c["cmi5"].iloc[0]) and x.counts["other_verb"] == 0
    assert (c["completed_at"].iloc[0] == WHEN) if dated else pd.isna(c["completed_at"].iloc[0])


@pytest.mark.parametrize(("verb", "status", "dated"), TLA_VERBS)
def test_tla_verb(verb, status, dated):
    x = read_xapi([_statement(verb, cmi5=False)])
    c = x.completions.frame
    assert c["status"].tolist() == [status] and x.counts["other_verb"] == 0
    assert (c["completed_at"].iloc[0] == WHEN) if dated else pd.isna(c["completed_at"].iloc[0])


def test_cmi5_duration_rule_is_for_the_au_verbs_only():
    # an AU's completed statement without a duration breaks cmi5 9.5.4.1; the LMS's satisfied does not
    x = read_xapi([_statement(ADL + "completed", cmi5=True)])
    assert x.completions.rejected["check"].tolist() == ["missing"]
    assert "must carry result.duration" in x.completions.rejected["reason"].iloc[0]
    assert read_xapi([_statement(W3ID + "satisfied", cmi5=True)]).completions.n_kept == 1
