"""A fake xAPI Learning Record Store on 127.0.0.1 for the LRS client tests.

It serves ``GET /xapi/statements`` in pages with relative ``more`` links, checks the version header and
Basic credentials, filters on since/until (``stored``), verb, activity and agent, and injects faults on
chosen pages: HTTP 429 with ``Retry-After`` (seconds or an HTTP date), 503, a dropped connection, a
truncated JSON body, a slow answer (client time-out), an empty page that still has ``more``, and a ``more``
link that loops back. For the security and deadline tests it can also require an API key in the query
string, point ``more`` links or redirects at another server, drip a page one byte at a time, invent a new
``more`` cursor on every page, and send ``X-Experience-API-Consistent-Through``. Started and stopped by
the tests (a thread, an ephemeral port).
"""

from __future__ import annotations

import base64
import email.utils
import json
import threading
import time
import uuid
from collections import defaultdict
from collections.abc import Iterable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit

import numpy as np
import pandas as pd

ADL = "http://adlnet.gov/expapi/verbs/"
HOME = "https://lms.example.com"
PROGRAMS = {
    "https://lms.example.com/course/negotiation": "Negotiation Basics",
    "https://lms.example.com/course/coaching": "Coaching for Managers",
    "https://lms.example.com/course/safety": "Warehouse Safety",
}


def make_statements(
    n: int = 10_000,
    *,
    n_voiding: int = 100,
    n_actors: int = 400,
    seed: int = 0,
    start: str = "2024-01-01T00:00:00Z",
) -> list[dict[str, Any]]:
    """``n`` statements, the last ``n_voiding`` of which void earlier statements (distinct targets).

    Actors cycle through account, mbox and mbox_sha1sum identities; verbs through completed, passed,
    failed, scored, attempted and experienced (a verb the readers do not use). ``stored`` grows by one
    second per statement.
    """
    rng = np.random.default_rng(seed)
    verbs = ["completed", "passed", "failed", "scored", "attempted", "experienced"]
    t0 = pd.Timestamp(start)
    acts = list(PROGRAMS)
    out: list[dict[str, Any]] = []
    for i in range(n - n_voiding):
        k = int(rng.integers(n_actors))
        verb = verbs[int(rng.integers(len(verbs)))]
        act = acts[int(rng.integers(len(acts)))]
        stmt: dict[str, Any] = {
            "id": str(uuid.UUID(int=int(rng.integers(2**63)) << 64 | i)),
            "actor": actor(k),
            "verb": {"id": ADL + verb, "display": {"en-US": verb}},
            "object": {"id": act, "objectType": "Activity", "definition": {"name": {"en-US": PROGRAMS[act]}}},
            "timestamp": (t0 + pd.Timedelta(seconds=i) - pd.Timedelta(minutes=5)).isoformat(),
            "stored": (t0 + pd.Timedelta(seconds=i)).isoformat().replace("+00:00", "Z"),
        }
        if verb in ("passed", "failed", "scored"):
            raw = int(rng.integers(0, 101))
            stmt["result"] = {
                "score": {"raw": raw, "min": 0, "max": 100, "scaled": raw / 100},
                "success": verb != "failed",
                "duration": "PT1H30M",
            }
        elif verb == "completed":
            stmt["result"] = {"completion": True, "duration": "PT45M"}
        out.append(stmt)
    targets = rng.choice(len(out), size=n_voiding, replace=False)
    for j, t in enumerate(sorted(int(x) for x in targets)):
        i = len(out)
        out.append(
            {
                "id": str(uuid.UUID(int=(j + 1) << 96 | i)),
                "actor": {"objectType": "Agent", "account": {"homePage": HOME, "name": "admin"}},
                "verb": {"id": ADL + "voided", "display": {"en-US": "voided"}},
                "object": {"objectType": "StatementRef", "id": out[t]["id"]},
                "stored": (t0 + pd.Timedelta(seconds=i)).isoformat().replace("+00:00", "Z"),
            }
        )
    return out


def actor(k: int) -> dict[str, Any]:
    """Actor number ``k``: an account (k % 3 == 0), an mbox (1) or an mbox_sha1sum (2)."""
    import hashlib

    if k % 3 == 0:
        return {"objectType": "Agent", "account": {"homePage": HOME, "name": f"lms{k:04d}"}}
    if k % 3 == 1:
        return {"objectType": "Agent", "mbox": f"mailto:person{k}@example.com"}
    sha = hashlib.sha1(f"mailto:person{k}@example.com".encode()).hexdigest()
    return {"objectType": "Agent", "mbox_sha1sum": sha}


def crosswalk(n_actors: int = 400, *, skip: Iterable[int] = ()) -> pd.DataFrame:
    """An identity crosswalk for :func:`actor`: LMS account names and e-mails onto HR ids ``E<k>``."""
    skip = set(skip)
    rows = []
    for k in range(n_actors):
        if k in skip:
            continue
        if k % 3 == 0:
            rows.append({"employee_id": f"E{k:04d}", "account_name": f"lms{k:04d}", "email": None})
        else:
            rows.append({"employee_id": f"E{k:04d}", "account_name": None, "email": f"Person{k}@Example.com"})
    return pd.DataFrame(rows)


class FakeLRS:
    """The server. ``faults={page: ["429", "503", ...]}`` serves those faults, in order, on the first
    requests of that page (0-based page index) before answering; ``forever={page: "503"}`` never clears.
    ``empty_pages`` serve an empty page whose ``more`` still leads on; ``loop_at=k`` makes page ``k``'s
    ``more`` point back at page ``k - 1``."""

    def __init__(
        self,
        statements: list[dict[str, Any]],
        *,
        page_size: int = 100,
        user: str = "analyst",
        secret: str = "s3cr3t-Pa55",
        faults: dict[int, list[str]] | None = None,
        forever: dict[int, str] | None = None,
        empty_pages: Iterable[int] = (),
        loop_at: int | None = None,
        slow_seconds: float = 1.0,
        query: dict[str, str] | None = None,
        more_links: dict[int, str] | None = None,
        redirects: dict[int, str] | None = None,
        drip_at: int | None = None,
        drip_seconds: float = 0.2,
        endless: bool = False,
        consistent_through: str | None = None,
        absolute_more: bool = False,
        cursor: str = "more",
    ) -> None:
        self.statements = list(statements)
        self.page_size = page_size
        self.user, self.secret = user, secret
        self.faults = {k: list(v) for k, v in (faults or {}).items()}
        self.forever = dict(forever or {})
        self.empty_pages = set(empty_pages)
        self.loop_at = loop_at
        self.slow_seconds = slow_seconds
        self.query = dict(query or {})
        self.more_links = dict(more_links or {})
        self.redirects = dict(redirects or {})
        self.drip_at, self.drip_seconds = drip_at, drip_seconds
        self.endless = endless
        self.consistent_through = consistent_through
        self.absolute_more = absolute_more
        self.cursor = cursor  # the query parameter of the 'more' links
        self.requests: list[tuple[str, dict[str, str]]] = []
        self.served_faults: list[tuple[int, str]] = []
        self._queries: dict[str, list[dict[str, Any]]] = {}
        self._attempts: dict[str, int] = defaultdict(int)
        self._lock = threading.Lock()
        self._server: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None

    # -------------------------------------------------------------------------------------- lifecycle
    def start(self) -> FakeLRS:
        handler = type("Handler", (_Handler,), {"lrs": self})
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
        self._server.daemon_threads = True
        self._thread = threading.Thread(
            target=self._server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._thread.join(timeout=5)
            self._server = None

    @property
    def endpoint(self) -> str:
        host, port = self._server.server_address[:2]
        return f"http://{host}:{port}/xapi/"

    # ----------------------------------------------------------------------------------------- serving
    def filtered(self, q: dict[str, str]) -> list[dict[str, Any]]:
        out = self.statements
        if "since" in q:
            since = pd.Timestamp(q["since"])
            out = [s for s in out if pd.Timestamp(s["stored"]) > since]
        if "until" in q:
            until = pd.Timestamp(q["until"])
            out = [s for s in out if pd.Timestamp(s["stored"]) <= until]
        if "verb" in q:
            out = [s for s in out if s["verb"]["id"] == q["verb"]]
        if "activity" in q:
            out = [s for s in out if s["object"].get("id") == q["activity"]]
        if "agent" in q:
            agent = json.loads(q["agent"])
            keys = [k for k in ("mbox", "mbox_sha1sum", "openid", "account") if k in agent]
            out = [s for s in out if all(s["actor"].get(k) == agent[k] for k in keys)]
        if q.get("ascending", "false") != "true":
            out = out[::-1]
        return out

    def page(self, path: str, q: dict[str, str]) -> tuple[int, str | None, bytes, dict[str, str]]:
        """(status, fault, body, headers) for one request."""
        with self._lock:
            if self.cursor in q:
                qid, offset, flag = q[self.cursor].split("-")
                offset = int(offset)
            else:
                qid = uuid.uuid4().hex[:8]
                self._queries[qid] = self.filtered(q)
                offset, flag = 0, "p"
            token = f"{qid}-{offset}-{flag}"
            index = offset // self.page_size
            self._attempts[token] += 1
            pending = self.faults.get(index, [])
            fault = None
            if flag == "p" and index in self.forever:
                fault = self.forever[index]
            elif flag == "p" and self._attempts[token] <= len(pending):
                fault = pending[self._attempts[token] - 1]
            if fault:
                self.served_faults.append((index, fault))
            rows = self._queries[qid]
        if flag == "p" and index in self.empty_pages:
            body = {"statements": [], "more": f"/xapi/statements?{self.cursor}={qid}-{offset}-e"}
        else:
            chunk = rows[offset : offset + self.page_size]
            nxt = offset + self.page_size
            more = f"/xapi/statements?{self.cursor}={qid}-{nxt}-p" if nxt < len(rows) else ""
            if self.loop_at is not None and index == self.loop_at:
                more = f"/xapi/statements?{self.cursor}={qid}-{offset - self.page_size}-p"
            if self.endless:  # the same page again under a cursor never seen before
                more = f"/xapi/statements?{self.cursor}={qid}-{offset}-p&n={uuid.uuid4().hex}"
            if self.absolute_more and more:
                more = self.endpoint.split("/xapi/")[0].upper().replace("HTTP://", "http://") + more
            more = self.more_links.get(index, more)
            body = {"statements": chunk, "more": more}
        headers = {"Content-Type": "application/json"}
        if self.consistent_through is not None:
            headers["X-Experience-API-Consistent-Through"] = self.consistent_through
        if flag == "p" and index in self.redirects:
            return 302, "redirect", b"", {"Location": self.redirects[index]}
        if flag == "p" and index == self.drip_at:
            fault = "drip"
        return 200, fault, json.dumps(body).encode(), headers


class _Handler(BaseHTTPRequestHandler):
    lrs: FakeLRS
    protocol_version = "HTTP/1.1"
    disable_nagle_algorithm = True

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - silence the default log
        pass

    def _send(self, status: int, body: bytes, headers: dict[str, str] | None = None) -> None:
        self.send_response(status)
        for k, v in (headers or {}).items():
            self.send_header(k, v)
        self.send_header("Content-Length", str(len(body)))
        try:
            self.end_headers()
            self.wfile.write(body)
        except (BrokenPipeError, ConnectionResetError):  # the client gave up (time-out test)
            self.close_connection = True

    def do_GET(self) -> None:  # noqa: N802 - http.server API
        lrs = self.lrs
        lrs.requests.append((self.path, dict(self.headers)))
        parts = urlsplit(self.path)
        if parts.path.startswith("/old/"):  # the LRS moved within its origin
            return self._send(301, b"", {"Location": self.path.replace("/old/", "/xapi/", 1)})
        if parts.path != "/xapi/statements":
            return self._send(404, b"not found")
        expected = "Basic " + base64.b64encode(f"{lrs.user}:{lrs.secret}".encode()).decode()
        if self.headers.get("Authorization") != expected:
            return self._send(401, b'{"error": "unauthorized"}')
        given = {k: v[0] for k, v in parse_qs(parts.query).items()}
        if any(given.get(k) != v for k, v in lrs.query.items()):
            return self._send(403, b'{"error": "api key missing from the query"}')
        if self.headers.get("X-Experience-API-Version") != "1.0.3":
            return self._send(400, b'{"error": "X-Experience-API-Version 1.0.3 required"}')
        q = {k: v[0] for k, v in parse_qs(parts.query).items()}
        status, fault, body, headers = lrs.page(parts.path, q)
        if fault == "429":
            return self._send(429, b"slow down", {"Retry-After": "2"})
        if fault == "429date":
            when = email.utils.formatdate(time.time() + 3, usegmt=True)
            return self._send(429, b"slow down", {"Retry-After": when})
        if fault == "503":
            return self._send(503, b"unavailable")
        if fault == "drop":
            self.close_connection = True
            return None
        if fault == "truncated":
            cut = body[: len(body) // 2]
            return self._send(200, cut, headers)
        if fault == "slow":
            time.sleep(lrs.slow_seconds)
        if fault == "drip":
            return self._drip(body, headers, lrs.drip_seconds)
        return self._send(status, body, headers)

    def _drip(self, body: bytes, headers: dict[str, str], seconds: float) -> None:
        self.send_response(200)
        for k, v in headers.items():
            self.send_header(k, v)
        self.send_header("Content-Length", str(len(body)))
        try:
            self.end_headers()
            for i in range(len(body)):
                self.wfile.write(body[i : i + 1])
                self.wfile.flush()
                time.sleep(seconds)
        except (BrokenPipeError, ConnectionResetError):
            self.close_connection = True
