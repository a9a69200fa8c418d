"""The LRS client against a real HTTP server on 127.0.0.1 that injects faults (tests/io/lrs_server.py)."""

from __future__ import annotations

import base64
import datetime as dt
import email.utils
import logging
import pickle
import sys
from pathlib import Path

import pytest

from impactlab.errors import ImpactlabError
from impactlab.io.lrs import LRS, LRSError, agent_param, iso_instant, retry_after_seconds, verb_iri
from impactlab.io.xapi import read_xapi

sys.path.insert(0, str(Path(__file__).parent))
from lrs_server import ADL, FakeLRS, crosswalk, make_statements  # noqa: E402

USER, SECRET = "analyst", "s3cr3t-Pa55"


@pytest.fixture(scope="module")
def statements():
    return make_statements(10_000, n_voiding=100, seed=0)


def client(srv: FakeLRS, sleeps: list[float] | None = None, **kw) -> LRS:
    return LRS(srv.endpoint, auth=(USER, SECRET), sleep=(sleeps if sleeps is not None else []).append, **kw)


def assert_no_credentials(text: str) -> None:
    assert SECRET not in text
    assert base64.b64encode(f"{USER}:{SECRET}".encode()).decode() not in text


# ----------------------------------------------------------------------------------------- acceptance
def test_pull_with_every_fault_returns_all_statements_and_read_xapi_removes_the_voided(
    serve, statements, caplog
):
    faults = {3: ["429", "503"], 10: ["drop"], 20: ["truncated"], 30: ["429date"], 50: ["slow"]}
    srv = serve(statements, faults=faults, empty_pages=[40], slow_seconds=0.6)
    sleeps: list[float] = []
    with caplog.at_level(logging.DEBUG):
        x = read_xapi(client(srv, sleeps, timeout=0.3, backoff=0.5), ids=crosswalk())
    # every fault was served, each on its page, and the pull went on
    assert sorted(srv.served_faults) == sorted((p, f) for p, fs in faults.items() for f in fs)
    assert x.counts["read"] == 10_000
    assert x.counts["duplicate"] == 0 and x.counts["malformed"] == 0
    assert x.counts["voiding"] == 100 and x.counts["voided"] == 100
    # exactly 10,000 minus the voided (and the voiding statements) reach the tables or the verb count
    assert x.counts["routed"] + x.counts["other_verb"] == 10_000 - 200
    voided = {s["object"]["id"] for s in statements if s["verb"]["id"] == ADL + "voided"}
    live = [s for s in statements if s["id"] not in voided and s["verb"]["id"] != ADL + "voided"]
    comp_verbs = {ADL + v for v in ("completed", "passed", "failed", "attempted")}
    n_comp = sum(s["verb"]["id"] in comp_verbs for s in live)
    n_assess = sum(s["verb"]["id"] in {ADL + "passed", ADL + "failed", ADL + "scored"} for s in live)
    assert x.completions.rows_read == n_comp and x.completions.n_kept == n_comp
    assert x.assessments.rows_read == n_assess and x.assessments.n_kept == n_assess
    assert not set(x.completions.frame["statement_id"]) & voided
    assert x.other_verbs.to_dict() == {
        ADL + "experienced": sum(s["verb"]["id"] == ADL + "experienced" for s in live)
    }
    # waits: Retry-After 2 s, then back-off 0.5 * 2 for the 503 (second try of page 3), HTTP-date ~3 s
    assert sleeps[:2] == [2.0, 1.0]
    assert any(0.0 <= s <= 3.5 and s not in (0.5, 1.0, 2.0) for s in sleeps)
    assert len(sleeps) == 6
    assert x.checkpoint == statements[-1]["stored"]
    # every request declared the xAPI version; nothing logged carries the credentials
    assert all(h.get("X-Experience-API-Version") == "1.0.3" for _, h in srv.requests)
    assert_no_credentials(caplog.text)


def test_a_fault_that_never_clears_raises_naming_endpoint_and_page_without_credentials(serve, statements):
    srv = serve(statements, forever={57: "503"})
    sleeps: list[float] = []
    with pytest.raises(LRSError, match="HTTP 503") as info:
        client(srv, sleeps, max_retries=3, backoff=0.5).pull()
    err = info.value
    msg = str(err)
    assert srv.endpoint in msg and err.endpoint == srv.endpoint
    assert "-5700-p" in err.last_page and err.last_page in msg  # page 57 starts at statement 5,700
    assert err.statements_received == 5_700 and "none are returned" in msg
    assert err.status == 503 and isinstance(err, ImpactlabError)
    assert sleeps == [0.5, 1.0, 2.0]  # exponential back-off, then give up
    assert_no_credentials(msg + repr(err) + repr(err.args))
    assert USER not in msg


def test_a_more_link_that_loops_raises(serve, statements):
    srv = serve(statements[:1000], loop_at=5)
    with pytest.raises(LRSError, match="points back to a page already read") as info:
        client(srv).pull()
    assert "-400-p" in info.value.last_page and info.value.statements_received == 600


def test_empty_page_with_more_is_followed_and_the_order_is_kept(serve, statements):
    srv = serve(statements[:1000], empty_pages=[0, 4, 9])
    pull = client(srv).pull()
    assert [s["id"] for s in pull.statements] == [s["id"] for s in statements[:1000]]
    assert pull.pages == 13 and pull.retries == 0


def test_time_outs_are_retried_then_raise(serve, statements):
    srv = serve(statements[:200], forever={1: "slow"}, slow_seconds=0.5)
    with pytest.raises(LRSError, match=r"no answer within 0\.2 s \(time-out\), still failing after 2"):
        client(srv, timeout=0.2, max_retries=1).pull()


def test_truncated_json_that_never_clears_raises(serve, statements):
    srv = serve(statements[:300], faults={2: ["truncated"] * 5})
    with pytest.raises(LRSError, match="not valid JSON"):
        client(srv, max_retries=2).pull()
    srv2 = serve(statements[:300], faults={2: ["truncated"] * 2})
    assert len(client(srv2, max_retries=2).pull().statements) == 300


def test_refused_credentials_raise_at_once_with_a_hint_and_no_secret(serve, statements):
    srv = serve(statements[:10])
    sleeps: list[float] = []
    bad = LRS(srv.endpoint, auth=(USER, "wrong-secret-123"), sleep=sleeps.append)
    with pytest.raises(LRSError, match="HTTP 401") as info:
        bad.pull()
    assert "check the credentials" in str(info.value) and "wrong-secret-123" not in str(info.value)
    assert sleeps == []  # a 4xx is not retried
    with pytest.raises(LRSError, match="HTTP 404"):
        LRS(srv.endpoint.replace("/xapi/", "/nope/"), auth=(USER, SECRET)).pull()


# --------------------------------------------------------------------------------------------- filters
def test_filters_are_sent_and_applied(serve, statements):
    srv = serve(statements[:2000])
    lrs = client(srv)
    passed = lrs.statements(verb="passed")
    assert len(passed) == sum(s["verb"]["id"] == ADL + "passed" for s in statements[:2000]) > 0
    act = "https://lms.example.com/course/safety"
    assert all(s["object"]["id"] == act for s in lrs.statements(activity=act))
    mine = lrs.statements(agent="person1@example.com")
    assert mine and all(s["actor"].get("mbox") == "mailto:person1@example.com" for s in mine)
    window = lrs.statements(since="2024-01-01T00:00:10Z", until="2024-01-01T00:00:20Z")
    assert [s["stored"] for s in window] == [f"2024-01-01T00:00:{k}Z" for k in range(11, 21)]
    path = srv.requests[-1][0]
    assert "since=2024-01-01T00%3A00%3A10Z" in path and "ascending=true" in path


def test_incremental_pull_fetches_only_what_is_new(serve, statements):
    srv = serve(statements[:500])
    lrs = client(srv)
    first = read_xapi(lrs)
    assert first.checkpoint == statements[499]["stored"]
    srv.statements.extend(statements[500:550])  # 50 statements stored since
    nxt = lrs.pull(since=first.checkpoint)
    assert [s["id"] for s in nxt.statements] == [s["id"] for s in statements[500:550]]
    assert nxt.last_stored == statements[549]["stored"]
    again = read_xapi(lrs, since=nxt.last_stored)
    assert again.counts["read"] == 0 and again.checkpoint is None


# ------------------------------------------------------------------------------------ credentials, options
def test_credentials_are_never_shown_or_pickled():
    lrs = LRS("https://lrs.example.com/xapi", auth=(USER, SECRET))
    assert repr(lrs) == "LRS('https://lrs.example.com/xapi/', auth=basic)"
    assert_no_credentials(repr(lrs) + str(vars(lrs)))
    clone = pickle.loads(pickle.dumps(lrs))
    assert clone._auth is None and SECRET.encode() not in pickle.dumps(lrs)
    tok = LRS("https://lrs.example.com/xapi/", auth="tok-abc-987")
    assert "tok-abc-987" not in repr(tok) + str(vars(tok)) and "auth=token" in repr(tok)
    inline = LRS(f"https://{USER}:{SECRET}@lrs.example.com/xapi/")
    assert inline.endpoint == "https://lrs.example.com/xapi/" and "auth=basic" in repr(inline)


def test_credentials_in_the_endpoint_url_work_and_stay_out_of_errors(serve, statements):
    srv = serve(statements[:150], forever={1: "503"})
    url = srv.endpoint.replace("http://", f"http://{USER}:{SECRET}@")
    with pytest.raises(LRSError) as info:
        LRS(url, sleep=lambda s: None, max_retries=0).pull()
    assert info.value.statements_received == 100
    assert_no_credentials(str(info.value))


@pytest.mark.parametrize(
    "kwargs, message",
    [
        ({"endpoint": "lrs.example.com"}, "'endpoint' parameter must be an http"),
        ({"timeout": 0}, "'timeout' parameter must be positive"),
        ({"max_retries": -1}, "'max_retries' parameter must be an integer >= 0. Got -1"),
        ({"limit": 0}, "'limit' parameter must be a positive integer or None. Got 0"),
        ({"auth": ("only-user",)}, "'auth' parameter must be a \\(user, secret\\) pair"),
    ],
)
def test_bad_options_are_refused(kwargs, message):
    args = {"endpoint": "https://lrs.example.com/xapi/", **kwargs}
    with pytest.raises((ValueError, TypeError), match=message):
        LRS(args.pop("endpoint"), **args)


def test_helpers():
    assert verb_iri("Completed") == ADL + "completed"
    assert verb_iri("https://w3id.org/xapi/adl/verbs/waived") == "https://w3id.org/xapi/adl/verbs/waived"
    assert iso_instant("2024-03-01T12:00:00+02:00", "since") == "2024-03-01T10:00:00Z"
    assert iso_instant(dt.datetime(2024, 3, 1), "since") == "2024-03-01T00:00:00Z"
    with pytest.raises(ValueError, match="'since' parameter must be an ISO 8601 timestamp"):
        iso_instant("yesterday-ish", "since")
    assert '"mbox": "mailto:ann@x.com"' in agent_param("ann@x.com")
    now = dt.datetime(2024, 3, 1, 12, 0, 0, tzinfo=dt.UTC)
    later = email.utils.format_datetime(now + dt.timedelta(seconds=30), usegmt=True)
    assert retry_after_seconds("7") == 7.0
    assert retry_after_seconds(later, now=now) == 30.0
    assert (
        retry_after_seconds(email.utils.format_datetime(now, usegmt=True), now=now + dt.timedelta(1)) == 0.0
    )
    assert retry_after_seconds("soon") is None and retry_after_seconds(None) is None
