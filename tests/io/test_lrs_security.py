"""The LRS client's credentials stay with the endpoint's origin, query-string secrets are sent and never
shown, and a pull ends at its deadline or caps (a fake LRS on 127.0.0.1, tests/io/lrs_server.py)."""

from __future__ import annotations

import base64
import logging
import pickle
import sys
import time
from pathlib import Path

import pytest

from impactlab.io.lrs import LRS, LRSError
from impactlab.io.xapi import read_xapi

sys.path.insert(0, str(Path(__file__).parent))
from lrs_server import FakeLRS, make_statements  # noqa: E402

USER, SECRET, KEY = "analyst", "s3cr3t-Pa55", "K3y/S3cret+42"


@pytest.fixture(scope="module")
def statements():
    return make_statements(1_000, n_voiding=10, seed=3)


def no_wait(seconds: float) -> None:
    """Retries in these tests need no real waiting (and the client stays picklable)."""


def client(srv: FakeLRS, endpoint: str | None = None, **kw) -> LRS:
    return LRS(endpoint or srv.endpoint, auth=(USER, SECRET), sleep=no_wait, **kw)


def shows_no_secret(text: str) -> bool:
    basic = base64.b64encode(f"{USER}:{SECRET}".encode()).decode()
    return all(s not in text for s in (SECRET, basic, KEY, "K3y%2FS3cret%2B42", "K3y/S3cret%2B42"))


# ------------------------------------------------------------------------------------------ origins
@pytest.mark.parametrize("form", ["absolute", "network-path", "other-host-name", "https"])
def test_a_more_link_to_another_origin_is_refused_before_any_request_reaches_it(serve, statements, form):
    foreign = serve(statements)
    srv = serve(statements[:300])
    fport = foreign.endpoint.split(":")[2].split("/")[0]
    port = srv.endpoint.split(":")[2].split("/")[0]
    link = {
        "absolute": f"http://127.0.0.1:{fport}/xapi/statements?more=steal",
        "network-path": f"//127.0.0.1:{fport}/xapi/statements?more=steal",
        "other-host-name": f"http://localhost:{port}/xapi/statements?more=steal",
        "https": f"https://127.0.0.1:{port}/xapi/statements?more=steal",
    }[form]
    srv.more_links = {1: link}
    with pytest.raises(LRSError, match="the 'more' link leads to another origin") as info:
        client(srv).pull()
    msg = str(info.value)
    there = {"absolute": f"http://127.0.0.1:{fport}", "network-path": f"http://127.0.0.1:{fport}",
             "other-host-name": f"http://localhost:{port}", "https": f"https://127.0.0.1:{port}"}[form]
    assert there in msg and f"endpoint's origin, http://127.0.0.1:{port}" in msg
    assert info.value.statements_received == 200 and "none are returned" in msg
    assert foreign.requests == []  # the other server never heard from the client, so no credential
    assert len(srv.requests) == 2 and all("Authorization" in h for _, h in srv.requests)


def test_a_same_origin_absolute_more_link_is_followed(serve, statements):
    srv = serve(statements[:300], absolute_more=True)  # "http://127.0.0.1:PORT/xapi/statements?more=..."
    pull = client(srv).pull()
    assert [s["id"] for s in pull.statements] == [s["id"] for s in statements[:300]]
    assert pull.pages == 3 and len(srv.requests) == 3


def test_a_redirect_to_another_origin_is_refused_and_the_other_server_gets_nothing(serve, statements):
    foreign = serve(statements)
    srv = serve(statements[:300], redirects={1: foreign.endpoint + "statements?more=steal"})
    with pytest.raises(LRSError, match="an HTTP 302 redirect leads to another origin") as info:
        client(srv).pull()
    fhost = foreign.endpoint.rsplit("/xapi/", 1)[0]
    assert fhost in str(info.value) and info.value.statements_received == 100
    assert foreign.requests == []


def test_a_redirect_within_the_origin_is_followed_with_the_credentials_and_the_query(serve, statements):
    srv = serve(statements[:250], query={"apikey": KEY})
    moved = srv.endpoint.replace("/xapi/", "/old/") + "?apikey=" + KEY.replace("/", "%2F").replace("+", "%2B")
    pull = client(srv, moved).pull()
    assert [s["id"] for s in pull.statements] == [s["id"] for s in statements[:250]]
    assert srv.requests[0][0].startswith("/old/statements?")
    assert all("apikey=" in path for path, _ in srv.requests)


# --------------------------------------------------------------------------------- query-string secrets
def test_the_endpoints_query_goes_with_every_request_and_is_never_shown(serve, statements, caplog):
    srv = serve(statements[:450], query={"apikey": KEY})
    endpoint = srv.endpoint + "?apikey=" + KEY.replace("/", "%2F").replace("+", "%2B")
    lrs = client(srv, endpoint)
    assert repr(lrs) == f"LRS('{srv.endpoint}?apikey=***', auth=basic)"
    with caplog.at_level(logging.DEBUG):
        x = read_xapi(lrs)
    assert x.counts["read"] == 450 and len(srv.requests) == 5
    assert all("apikey=K3y%2FS3cret%2B42" in path for path, _ in srv.requests)
    assert "HTTP Request" in caplog.text  # httpx logged every request, with the key hidden
    texts = [caplog.text, repr(lrs), str(vars(lrs)), repr(x), x.summary(), x.source,
             str(x.completions.notes), x.completions.summary(), str(x.checkpoint)]
    assert all(shows_no_secret(t) for t in texts)
    # errors: endpoint, page and message
    bad = serve(statements[:450], query={"apikey": KEY}, forever={2: "503"})
    with pytest.raises(LRSError) as info:
        client(bad, bad.endpoint + "?apikey=" + KEY, max_retries=0).pull()
    err = info.value
    assert "apikey=***" in err.endpoint and shows_no_secret(str(err) + repr(err) + err.last_page)
    # pickling drops the key as it drops auth=, and an unpickled client says so instead of pulling
    blob = pickle.dumps(lrs)
    assert KEY.encode() not in blob and b"K3y%2FS3cret" not in blob
    with pytest.raises(LRSError, match="dropped when it was pickled"):
        pickle.loads(blob).pull()


def test_user_information_and_every_query_value_are_hidden_in_repr_and_errors():
    lrs = LRS(f"https://{USER}:{SECRET}@lrs.example.com/xapi?tenant=acme&apikey={KEY}")
    assert repr(lrs) == "LRS('https://lrs.example.com/xapi/?tenant=***&apikey=***', auth=basic)"
    with pytest.raises(ValueError) as info:
        LRS(f"ftp://{USER}:{SECRET}@lrs.example.com/?token={KEY}")
    assert shows_no_secret(str(info.value)) and "token=***" in str(info.value)


def test_cursors_in_a_secret_parameter_are_hidden_yet_not_taken_for_a_loop(serve, statements):
    srv = serve(statements[:300], cursor="token")  # more links: /xapi/statements?token=<cursor>
    assert len(client(srv).pull().statements) == 300
    bad = serve(statements[:300], cursor="token", forever={1: "503"})
    with pytest.raises(LRSError) as info:
        client(bad, max_retries=0).pull()
    assert info.value.last_page == "/xapi/statements?token=***"


# --------------------------------------------------------------------------------- deadlines and caps
def test_a_dripping_page_is_cut_at_the_deadline(serve, statements):
    srv = serve(statements[:300], drip_at=1, drip_seconds=0.05)  # ~50 kB at 20 bytes/s: 40 minutes
    t0 = time.monotonic()
    with pytest.raises(LRSError, match=r"deadline of 1\.5 s \(the LRS was still sending this page") as info:
        client(srv, deadline=1.5, timeout=5).pull()
    assert time.monotonic() - t0 < 1.5 + 1.0
    assert info.value.statements_received == 100 and "raise deadline=" in str(info.value)


def test_new_cursors_for_ever_stop_at_max_pages_or_the_deadline(serve, statements):
    srv = serve(statements[:5], endless=True)
    with pytest.raises(LRSError, match=r"still offers a 'more' link after max_pages=40 pages") as info:
        client(srv, max_pages=40).pull()
    assert info.value.statements_received == 200 and len(srv.requests) == 40
    t0 = time.monotonic()
    with pytest.raises(LRSError, match=r"deadline of 1 s"):
        client(serve(statements[:5], endless=True), deadline=1.0, max_statements=10**9).pull()
    assert time.monotonic() - t0 < 2.5
    with pytest.raises(LRSError, match=r"received 505 statements, more than max_statements=500"):
        client(serve(statements[:5], endless=True), max_statements=500).pull()


def test_a_page_that_never_ends_stops_at_the_byte_cap(serve, statements, monkeypatch):
    import impactlab.io.lrs as lrs_module

    monkeypatch.setattr(lrs_module, "MAX_PAGE_BYTES", 10_000)  # a page of 100 statements is ~26 kB
    with pytest.raises(LRSError, match=r"the page is larger than 10,000 bytes and still growing"):
        client(serve(statements[:300])).pull()


def test_a_retry_wait_past_the_deadline_raises_at_once(serve, statements):
    srv = serve(statements[:200], forever={1: "429"})  # Retry-After: 2
    sleeps: list[float] = []
    lrs = LRS(srv.endpoint, auth=(USER, SECRET), sleep=sleeps.append, deadline=1.0)
    with pytest.raises(LRSError, match=r"HTTP 429 Too Many Requests; waiting 2 s to retry would pass it"):
        lrs.pull()
    assert sleeps == []


@pytest.mark.parametrize(
    "kwargs, message",
    [
        ({"deadline": 0}, "'deadline' parameter must be a positive number of seconds. Got 0"),
        ({"deadline": float("inf")}, "'deadline' parameter must be a positive number"),
        ({"max_pages": 0}, "'max_pages' parameter must be a positive integer. Got 0"),
        ({"max_statements": 2.5}, "'max_statements' parameter must be a positive integer. Got 2.5"),
    ],
)
def test_bad_deadlines_and_caps_are_refused(kwargs, message):
    with pytest.raises(ValueError, match=message):
        LRS("https://lrs.example.com/xapi/", **kwargs)


# ------------------------------------------------------------------------------------ consistent-through
def test_the_checkpoint_never_passes_consistent_through(serve, statements):
    through = statements[299]["stored"]
    srv = serve(statements[:500], consistent_through=through)
    pull = client(srv).pull()
    assert pull.last_stored == statements[499]["stored"] and pull.consistent_through == through
    assert pull.checkpoint == through
    x = read_xapi(client(srv))
    assert x.checkpoint == through and not any("Consistent-Through" in n for n in x.completions.notes)
    srv.consistent_through = "2030-01-01T00:00:00Z"  # the LRS has caught up: the last stored counts
    assert client(srv).pull().checkpoint == statements[499]["stored"]
    srv.consistent_through = None  # an LRS that breaks the rule: said in the notes
    x = read_xapi(client(srv))
    assert x.checkpoint == statements[499]["stored"]
    assert any("sent no X-Experience-API-Consistent-Through header" in n for n in x.completions.notes)


def test_secret_parameters_of_more_links_are_hidden_in_page_names_and_logs():
    from impactlab.io.lrs_urls import RedactingFilter, redact

    assert redact("/xapi/statements?more=abc&token=T0k&Signature=S1g", ()) == (
        "/xapi/statements?more=abc&token=***&Signature=***"
    )
    assert redact("https://u:p@lrs.example.com:8443/x/?tenant=acme", {"tenant"}) == (
        "https://lrs.example.com:8443/x/?tenant=***"
    )
    record = logging.LogRecord("httpx", logging.INFO, __file__, 1, 'HTTP Request: %s %s "%s"',
                               ("GET", f"https://lrs.example.com/x?more=1&apikey={KEY}&sig=zz", "200"), None)
    RedactingFilter([]).filter(record)
    shown = 'HTTP Request: GET https://lrs.example.com/x?more=1&apikey=***&sig=*** "200"'
    assert record.getMessage() == shown


# ------------------------------------------------------------------------------------------ plain http
@pytest.mark.parametrize("endpoint, auth", [
    ("http://lrs.example.com/xapi/", (USER, SECRET)),
    ("http://10.0.0.7:8080/xapi/", "a-bearer-token"),
    (f"http://lrs.example.com/xapi/?apikey={KEY}", None),
])
def test_credentials_over_plain_http_to_another_machine_warn_without_showing_them(endpoint, auth):
    import warnings

    from impactlab.errors import SecurityWarning

    with pytest.warns(SecurityWarning, match="plain http: the credentials") as seen:
        LRS(endpoint, auth=auth)
    assert all(shows_no_secret(str(w.message)) for w in seen)
    # https, this machine, or no credentials: nothing travels unprotected, nothing is said
    with warnings.catch_warnings():
        warnings.simplefilter("error", SecurityWarning)
        LRS("https://lrs.example.com/xapi/", auth=(USER, SECRET))
        for local in ("http://127.0.0.1:8080/xapi/", "http://localhost/xapi/", "http://[::1]:9/xapi/"):
            assert LRS(local, auth=(USER, SECRET)).endpoint == local
        LRS("http://lrs.example.com/xapi/")
