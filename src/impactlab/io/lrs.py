"""A client for the statements resource of an xAPI Learning Record Store: :class:`LRS` pages through
``GET <endpoint>/statements`` as xAPI 1.0.3 asks, retries what a busy LRS throws with back-off, raises
:class:`LRSError` rather than return part of the statements, sends its credentials only to the endpoint's
own origin, keeps them (and query-string secrets) out of ``repr``, messages, logs and pickles, and gives up
clearly at a whole-pull deadline or cap (``docs/explanation.md``, "Reading exports").
"""

from __future__ import annotations

import ipaddress
import json
import logging
import math
import sys
import time
import warnings
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qsl, urlsplit, urlunsplit

import httpx

from impactlab.errors import ImpactlabError, SecurityWarning
from impactlab.io.decoding import TooDeep, loads, same_json
from impactlab.io.lrs_urls import (
    BearerAuth,
    Hidden,
    RedactingFilter,
    agent_param,
    iso_instant,
    origin,
    redact,
    retry_after_seconds,
    secret_forms,
    show_origin,
    verb_iri,
)

logger = logging.getLogger(__name__)

#: The xAPI version every request declares.
XAPI_VERSION = "1.0.3"
#: HTTP statuses that are retried: too many requests and server-side failures.
RETRY_STATUSES = frozenset({429, 500, 502, 503, 504})
#: HTTP redirect statuses; a redirect is followed only within the endpoint's origin.
REDIRECT_STATUSES = frozenset({301, 302, 303, 307, 308})
#: Redirects followed for one request before the pull gives up.
MAX_REDIRECTS = 5
#: Bytes one page may hold (an answer that never ends would otherwise fill memory until the deadline).
MAX_PAGE_BYTES = 512 * 2**20
#: The response header below which every statement stored is visible (xAPI 1.0.3, Part Three, 2.1.3).
CONSISTENT_THROUGH = "X-Experience-API-Consistent-Through"

Auth = tuple[str, str] | str | None


class LRSError(ImpactlabError, RuntimeError):
    """A pull from a Learning Record Store could not finish.

    Attributes
    ----------
    endpoint : str
        The LRS endpoint (without user information; query values shown as ``***``).
    last_page : str or None
        The URL of the page that failed (path and query), ``None`` before the first request.
    statements_received : int
        Statements received before the failure (discarded: a pull is all or nothing).
    status : int or None
        The last HTTP status seen, if any.
    """

    def __init__(
        self,
        message: str,
        *,
        endpoint: str,
        last_page: str | None,
        statements_received: int,
        status: int | None = None,
        hint: str | None = None,
    ) -> None:
        self.endpoint = endpoint
        self.last_page = last_page
        self.statements_received = statements_received
        self.status = status
        text = (
            f"LRS pull from {endpoint} failed at page {last_page or '(first page)'}: {message}. "
            f"{statements_received} statement(s) had been received; none are returned, because a "
            "partial pull would silently miss records."
        )
        if hint:
            text += f"\nHow to fix: {hint}"
        super().__init__(text)


@dataclass(frozen=True)
class LRSPull:
    """The complete result of one pull.

    Attributes
    ----------
    statements : list of dict
        Every statement received, in the order served.
    pages : int
        Pages read (empty pages included).
    endpoint : str
        The LRS endpoint.
    last_stored : str or None
        The largest ``stored`` timestamp seen (ISO 8601).
    retries : int
        Requests that were retried after a transient fault.
    consistent_through : str or None
        The earliest ``X-Experience-API-Consistent-Through`` header of the pull: every statement stored
        up to it was visible; statements stored after it may not have been yet. ``None`` when the LRS
        did not send it.
    """

    statements: list[dict[str, Any]]
    pages: int
    endpoint: str
    last_stored: str | None
    retries: int
    consistent_through: str | None = None

    @property
    def checkpoint(self) -> str | None:
        """Where the next incremental pull starts (``since=``): ``last_stored``, but never past
        ``consistent_through``, so a statement stored before the pull yet not visible to it is read next
        time; ``None`` when nothing was received."""
        if self.last_stored is None or self.consistent_through is None:
            return self.last_stored
        later = _later(self.last_stored, self.consistent_through)
        return self.consistent_through if later else self.last_stored

    def __repr__(self) -> str:
        return (
            f"<LRSPull {len(self.statements)} statements, {self.pages} pages from {self.endpoint}, "
            f"last stored {self.last_stored}>"
        )


class _Transient(Exception):
    def __init__(self, what: str, status: int | None = None, wait: float | None = None) -> None:
        super().__init__(what)
        self.what = what
        self.status = status
        self.wait = wait


class LRS:
    """A Learning Record Store to pull xAPI statements from.

    Parameters
    ----------
    endpoint : str
        The LRS xAPI endpoint, e.g. ``"https://lrs.example.com/xapi/"``; statements are read from
        ``<endpoint>/statements``. A query string (``...?apikey=...``) is sent with every request and its
        values are shown as ``***``.
    auth : (user, secret) or str, optional
        HTTP Basic credentials as a pair, or a bearer token. Never shown, logged or pickled, and sent only
        to the endpoint's origin (scheme, host and port): a ``more`` link or a redirect to another origin
        stops the pull with :class:`LRSError`. Credentials (or a query string) on a plain ``http://``
        endpoint of another machine give a :class:`~impactlab.errors.SecurityWarning`: they would travel
        unencrypted.
    timeout : float
        Seconds to wait for a connection or a read before the request counts as failed (and is retried).
    deadline : float
        Seconds the whole pull may take, retries and waits included (default one hour); checked between
        the chunks of a page too, so an LRS that drips its answer cannot hold the pull past it by more
        than ``timeout``.
    max_pages : int
        Pages a pull may read (default 100,000): an LRS that keeps serving new ``more`` cursors stops
        here.
    max_statements : int
        Statements a pull may receive (default 2,000,000): pull narrower windows (``since``/``until``)
        beyond it.
    max_retries : int
        Retries of one page after transient faults (429, 5xx, dropped connection, time-out, invalid JSON)
        before the pull raises :class:`LRSError`.
    backoff : float
        First back-off wait in seconds; doubled after each retry of the same page, capped at
        ``max_backoff``. A ``Retry-After`` header replaces it.
    max_backoff : float
        Longest back-off wait (a ``Retry-After`` header is honoured even when longer).
    limit : int, optional
        Statements per page to ask for (the LRS may serve fewer); ``None`` lets the LRS choose.
    progress : bool, optional
        Show a tqdm progress bar; ``None`` shows it only on an interactive terminal.
    sleep : callable
        The function used to wait (``time.sleep``); tests pass a recorder so they run fast.
    headers : mapping, optional
        Extra request headers (not credentials: use ``auth``).

    Examples
    --------
    >>> lrs = LRS("https://lrs.example.com/xapi/", auth=("key", "secret"))
    >>> lrs
    LRS('https://lrs.example.com/xapi/', auth=basic)
    """

    def __init__(
        self,
        endpoint: str,
        auth: Auth = None,
        *,
        timeout: float = 30.0,
        max_retries: int = 6,
        backoff: float = 0.5,
        max_backoff: float = 60.0,
        limit: int | None = None,
        progress: bool | None = None,
        sleep: Callable[[float], None] = time.sleep,
        headers: Mapping[str, str] | None = None,
        deadline: float = 3600.0,
        max_pages: int = 100_000,
        max_statements: int = 2_000_000,
    ) -> None:
        if not isinstance(endpoint, str) or urlsplit(endpoint).scheme not in ("http", "https"):
            raise ValueError(
                f"The 'endpoint' parameter must be an http(s) URL such as "
                f"'https://lrs.example.com/xapi/'. Got {_safe(endpoint)!r} instead."
            )
        parts = urlsplit(endpoint)
        if parts.username or parts.password:
            if auth is not None:
                raise ValueError("Give credentials either in the endpoint URL or with auth=, not both.")
            auth = (parts.username or "", parts.password or "")
        path = parts.path if parts.path.endswith("/") else parts.path + "/"
        netloc = parts.hostname or ""
        if ":" in netloc:  # an IPv6 address keeps its brackets
            netloc = f"[{netloc}]"
        if parts.port:
            netloc = f"{netloc}:{parts.port}"
        self._base = urlunsplit((parts.scheme, netloc, path, "", ""))
        #: The endpoint's own query, sent with every request; its values are never shown.
        query = parse_qsl(parts.query, keep_blank_values=True)
        self._params = Hidden(query)
        self._hidden = frozenset(k for k, _ in query)
        self._origin = origin(self._base)
        self._secrets = Hidden(secret_forms(v for _, v in query))
        self._dropped = False
        self.endpoint = redact(urlunsplit((parts.scheme, netloc, path, parts.query, "")), self._hidden)
        if auth is None:
            self._auth: httpx.Auth | None = None
            self._auth_kind = "none"
        elif isinstance(auth, tuple) and len(auth) == 2 and all(isinstance(a, str) for a in auth):
            self._auth = httpx.BasicAuth(*auth)
            self._auth_kind = "basic"
        elif isinstance(auth, str) and auth:
            self._auth = BearerAuth(auth)
            self._auth_kind = "token"
        else:
            raise TypeError(
                "The 'auth' parameter must be a (user, secret) pair of strings or a token "
                f"string. Got a {type(auth).__name__} instead."
            )
        for name, value, low in (
            ("timeout", timeout, 0.0),
            ("backoff", backoff, 0.0),
            ("max_backoff", max_backoff, 0.0),
        ):
            if not isinstance(value, (int, float)) or not math.isfinite(value) or value < low:
                raise ValueError(
                    f"The {name!r} parameter must be a non-negative number. Got {value!r} instead."
                )
        if timeout <= 0:
            raise ValueError(f"The 'timeout' parameter must be positive. Got {timeout!r} instead.")
        if not isinstance(max_retries, int) or max_retries < 0:
            raise ValueError(
                f"The 'max_retries' parameter must be an integer >= 0. Got {max_retries!r} instead."
            )
        if limit is not None and (not isinstance(limit, int) or limit < 1):
            raise ValueError(
                f"The 'limit' parameter must be a positive integer or None. Got {limit!r} instead."
            )
        if isinstance(deadline, bool) or not isinstance(deadline, (int, float)) or not (
            math.isfinite(deadline) and deadline > 0
        ):
            raise ValueError(
                f"The 'deadline' parameter must be a positive number of seconds. Got {deadline!r} instead."
            )
        for name, cap in (("max_pages", max_pages), ("max_statements", max_statements)):
            if isinstance(cap, bool) or not isinstance(cap, int) or cap < 1:
                raise ValueError(f"The {name!r} parameter must be a positive integer. Got {cap!r} instead.")
        self.deadline = float(deadline)
        self.max_pages = max_pages
        self.max_statements = max_statements
        self.timeout = float(timeout)
        self.max_retries = max_retries
        self.backoff = float(backoff)
        self.max_backoff = float(max_backoff)
        self.limit = limit
        self.progress = progress
        self._sleep = sleep
        self._headers = {k: v for k, v in (headers or {}).items() if k.lower() != "authorization"}
        if parts.scheme == "http" and (auth is not None or query) and not _loopback(parts.hostname):
            warnings.warn(
                f"The LRS endpoint {self.endpoint!r} is plain http: the credentials (auth= or the key in the "
                "URL) travel unencrypted and anyone on the network path can read them. Use the LRS's https "
                "address.", SecurityWarning, stacklevel=2)

    def __repr__(self) -> str:
        return f"LRS({self.endpoint!r}, auth={self._auth_kind})"

    def __getstate__(self) -> dict[str, Any]:
        state = dict(self.__dict__)
        state["_auth"] = None
        state["_auth_kind"] = "none (dropped when pickled)"
        state["_params"] = Hidden([])
        state["_secrets"] = Hidden([])
        state["_dropped"] = bool(self._params.value) or self._auth is not None or self._dropped
        return state

    # ------------------------------------------------------------------------------------------ pulling
    def statements(self, *, since: Any = None, until: Any = None, verb: str | None = None,
                   activity: str | None = None, agent: Any = None, registration: str | None = None,
                   ascending: bool = True) -> list[dict[str, Any]]:
        """Every statement matching the filters (see :meth:`pull`)."""
        return self.pull(since=since, until=until, verb=verb, activity=activity, agent=agent,
                         registration=registration, ascending=ascending).statements

    def pull(self, *, since: Any = None, until: Any = None, verb: str | None = None,
             activity: str | None = None, agent: Any = None, registration: str | None = None,
             ascending: bool = True) -> LRSPull:
        """Pull every statement matching the filters, following ``more`` links to the end.

        Parameters
        ----------
        since, until : str or datetime, optional
            Only statements *stored* after ``since`` / at or before ``until`` (xAPI filters on ``stored``).
            Pass the previous pull's ``checkpoint`` as ``since`` for an incremental pull.
        verb : str, optional
            A verb IRI, or an ADL verb name such as ``"completed"``.
        activity : str, optional
            An activity IRI (the statement's object id).
        agent : str or dict, optional
            An e-mail address or an Agent object, e.g. ``{"account": {"homePage": ..., "name": ...}}``.
        registration : str, optional
            A registration UUID (cmi5 and other launch sessions).
        ascending : bool
            Oldest first (the default here, so ``last_stored`` grows along the pull).

        Returns
        -------
        LRSPull

        Raises
        ------
        LRSError
            A page failed more than ``max_retries`` times, the LRS refused the request (4xx), the answer is
            not an xAPI StatementResult, a ``more`` link loops, a ``more`` link or a redirect leads to
            another origin, or the pull passed its ``deadline``, ``max_pages`` or ``max_statements``. The
            message names the endpoint and page; no statement is returned.
        """
        params: dict[str, str] = {"ascending": "true" if ascending else "false"}
        if since is not None:
            params["since"] = iso_instant(since, "since")
        if until is not None:
            params["until"] = iso_instant(until, "until")
        if verb is not None:
            params["verb"] = verb_iri(verb)
        if activity is not None:
            params["activity"] = activity
        if agent is not None:
            params["agent"] = agent_param(agent)
        if registration is not None:
            params["registration"] = registration
        if self.limit is not None:
            params["limit"] = str(self.limit)
        if self._dropped:
            raise LRSError(
                "this client was unpickled, and its credentials (auth= and the endpoint's query values) "
                "were dropped when it was pickled",
                endpoint=self.endpoint,
                last_page=None,
                statements_received=0,
                hint="create the LRS client again with its credentials",
            )
        first = httpx.URL(self._base).join("statements").copy_merge_params(dict(self._params.value))
        return self._pull(first.copy_merge_params(params))

    # ------------------------------------------------------------------------------------------ internals
    def _fail(self, message: str, page: str | None, received: int, *, status: int | None = None,
              hint: str | None = None) -> LRSError:
        return LRSError(message, endpoint=self.endpoint, last_page=page, statements_received=received,
                        status=status, hint=hint)

    def _same_origin(self, url: httpx.URL, what: str, page: str, received: int) -> httpx.URL:
        """``url`` with the endpoint's query added, or :class:`LRSError` when it leaves the origin."""
        there = origin(url)
        if there != self._origin:
            raise self._fail(
                f"{what} leads to another origin, {show_origin(there)}, while the credentials are bound "
                f"to the endpoint's origin, {show_origin(self._origin)}; it is not followed, so no "
                "credential reaches another server",
                page,
                received,
                hint="if the LRS really moved, give its new address as the endpoint; otherwise report the "
                "link to the LRS administrator",
            )
        for key, value in self._params.value:
            if key not in url.params:
                url = url.copy_add_param(key, value)
        return url

    def _deadline(self, page: str, received: int, pages: int, doing: str) -> LRSError:
        return self._fail(
            f"the pull did not finish within its deadline of {self.deadline:g} s ({doing}; {pages} "
            "page(s) read)",
            page,
            received,
            hint="raise deadline=, or pull a narrower window with since=/until=",
        )

    def _pull(self, url: httpx.URL) -> LRSPull:
        from tqdm.auto import tqdm

        out: list[dict[str, Any]] = []
        seen: set[str] = set()
        pages = retries = 0
        last_stored: str | None = None
        through: str | None = None
        ends = time.monotonic() + self.deadline
        disable = None if self.progress is None else not self.progress
        headers = {"X-Experience-API-Version": XAPI_VERSION, "Accept": "application/json", **self._headers}
        hush = RedactingFilter(self._secrets.value)
        httpx_log = logging.getLogger("httpx")
        httpx_log.addFilter(hush)
        try:
            with (
                httpx.Client(timeout=self.timeout, headers=headers, follow_redirects=False) as client,
                tqdm(desc="LRS statements", unit=" stmt", disable=disable, file=sys.stderr) as bar,
            ):
                while True:
                    page = self._page_name(url)
                    raw = url.raw_path.decode("ascii", errors="replace")  # compared, never shown
                    if raw in seen:
                        raise self._fail(
                            "the 'more' link points back to a page already read, so paging would never end",
                            page,
                            len(out),
                            hint="this is a fault of the LRS; report it to its administrator",
                        )
                    seen.add(raw)
                    (body, stamp), n_retries = self._get(client, url, page, len(out), ends, pages)
                    retries += n_retries
                    stmts, more = self._check(body, page, len(out))
                    pages += 1
                    out.extend(stmts)
                    bar.update(len(stmts))
                    if stamp is not None and (through is None or _later(through, stamp)):
                        through = stamp
                    for s in stmts:
                        stored = s.get("stored") if isinstance(s, dict) else None
                        if isinstance(stored, str) and (last_stored is None or _later(stored, last_stored)):
                            last_stored = stored
                    logger.debug("LRS page %s: %d statements", page, len(stmts))
                    if not more:
                        break
                    if len(out) > self.max_statements:
                        raise self._fail(
                            f"the pull received {len(out)} statements, more than max_statements="
                            f"{self.max_statements}, and the LRS still offers more",
                            page,
                            len(out),
                            hint="pull a narrower window with since=/until=, or raise max_statements=",
                        )
                    if pages >= self.max_pages:
                        raise self._fail(
                            f"the LRS still offers a 'more' link after max_pages={self.max_pages} pages "
                            "(an LRS that keeps inventing new cursors never ends)",
                            page,
                            len(out),
                            hint="raise max_pages= or limit= if the LRS really holds that many pages; "
                            "otherwise report the paging to the LRS administrator",
                        )
                    nxt = httpx.URL(self._base).join(more)
                    url = self._same_origin(nxt, "the 'more' link", page, len(out))
        finally:
            httpx_log.removeFilter(hush)
        return LRSPull(out, pages, self.endpoint, last_stored, retries, through)

    def _page_name(self, url: httpx.URL) -> str:
        """Path and query of a page URL, secrets hidden (what errors show and loop detection compares)."""
        raw = url.raw_path.decode("ascii", errors="replace")
        return redact(raw, self._hidden)

    def _get(self, client: httpx.Client, url: httpx.URL, page: str, received: int, ends: float,
             pages: int) -> tuple[tuple[Any, str | None], int]:
        attempt = 0
        while True:
            if time.monotonic() >= ends:
                raise self._deadline(page, received, pages, "before the request for this page")
            try:
                return self._once(client, url, page, received, ends, pages), attempt
            except _Transient as fault:
                if attempt >= self.max_retries:
                    raise self._fail(
                        f"{fault.what}, still failing after {attempt + 1} attempt(s)",
                        page,
                        received,
                        status=fault.status,
                        hint="try again later, or raise max_retries / timeout",
                    ) from None
                wait = fault.wait
                if wait is None:
                    wait = min(self.max_backoff, self.backoff * 2.0**attempt)
                if time.monotonic() + wait >= ends:
                    raise self._deadline(
                        page, received, pages, f"{fault.what}; waiting {wait:g} s to retry would pass it"
                    ) from None
                logger.info("LRS page %s: %s; retrying in %.1f s", page, fault.what, wait)
                self._sleep(wait)
                attempt += 1

    def _once(self, client: httpx.Client, url: httpx.URL, page: str, received: int, ends: float,
              pages: int) -> tuple[Any, str | None]:
        for _ in range(MAX_REDIRECTS + 1):
            left = ends - time.monotonic()
            if left <= 0:
                raise self._deadline(page, received, pages, "waiting for the answer")
            auth = self._auth if origin(url) == self._origin else None
            try:
                with client.stream("GET", url, auth=auth, timeout=min(self.timeout, left)) as resp:
                    status = resp.status_code
                    if status in REDIRECT_STATUSES:
                        to = resp.headers.get("Location")
                        if not to:
                            raise self._fail(f"HTTP {status} redirect without a Location", page, received,
                                             status=status)
                        url = self._same_origin(url.join(to), f"an HTTP {status} redirect", page, received)
                        continue
                    if status in RETRY_STATUSES:
                        wait = retry_after_seconds(resp.headers.get("Retry-After"))
                        raise _Transient(f"HTTP {status} {resp.reason_phrase}", status=status, wait=wait)
                    if status >= 400:
                        hints = {
                            401: "check the credentials given with auth= (they are not shown here)",
                            403: "the credentials lack permission to read statements; ask the LRS "
                            "administrator",
                            404: "check the endpoint: statements are read from <endpoint>/statements",
                        }
                        raise self._fail(
                            f"the LRS answered HTTP {status} {resp.reason_phrase}",
                            page,
                            received,
                            status=status,
                            hint=hints.get(status, "check the endpoint and the filters"),
                        )
                    chunks: list[bytes] = []
                    size = 0
                    for chunk in resp.iter_bytes():
                        chunks.append(chunk)
                        size += len(chunk)
                        if time.monotonic() >= ends:
                            raise self._deadline(page, received, pages, "the LRS was still sending this page")
                        if size > MAX_PAGE_BYTES:
                            raise self._fail(
                                f"the page is larger than {MAX_PAGE_BYTES:,} bytes and still growing",
                                page,
                                received,
                                status=status,
                                hint="ask for smaller pages with limit=; if they are small already, report "
                                "the answer to the LRS administrator",
                            )
                    stamp = resp.headers.get(CONSISTENT_THROUGH)
            except httpx.TimeoutException:
                if time.monotonic() >= ends:
                    raise self._deadline(page, received, pages, "waiting for the answer") from None
                raise _Transient(f"no answer within {self.timeout:g} s (time-out)") from None
            except httpx.TransportError as exc:
                raise _Transient(f"connection failed ({type(exc).__name__})") from None
            try:
                return loads(b"".join(chunks)), (stamp.strip() if stamp and stamp.strip() else None)
            except (json.JSONDecodeError, UnicodeDecodeError, TooDeep):
                raise _Transient("the page is not valid JSON (truncated transfer?)", status=status) from None
        raise self._fail(f"more than {MAX_REDIRECTS} redirects in a row", page, received)

    def _check(self, body: Any, page: str, received: int) -> tuple[list[dict[str, Any]], str]:
        if not isinstance(body, dict) or not isinstance(body.get("statements"), list):
            raise LRSError(
                "the answer is not an xAPI StatementResult (an object with a 'statements' list)",
                endpoint=self.endpoint,
                last_page=page,
                statements_received=received,
                hint="check that the endpoint is the xAPI endpoint of the LRS",
            )
        twice = [k for k, a, b in getattr(body, "repeats", ())
                 if k in ("statements", "more") and not same_json(a, b)]
        if twice:
            raise LRSError(
                f"the answer writes the key {twice[0]!r} twice with different values: which one the LRS "
                "meant cannot be known",
                endpoint=self.endpoint,
                last_page=page,
                statements_received=received,
                hint="report the answer to the LRS administrator",
            )
        more = body.get("more") or ""
        if not isinstance(more, str):
            raise LRSError(
                f"the 'more' link is not a string (saw {type(more).__name__})",
                endpoint=self.endpoint,
                last_page=page,
                statements_received=received,
            )
        return body["statements"], more.strip()


def _later(a: str, b: str) -> bool:
    import pandas as pd

    try:
        return bool(pd.Timestamp(a) > pd.Timestamp(b))
    except (ValueError, TypeError):
        return a > b


def _loopback(host: str | None) -> bool:
    """Whether ``host`` is this machine (``localhost``, 127.0.0.0/8, ``::1``): http there never leaves it."""
    if not host:
        return False
    if host.lower() == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def _safe(value: Any) -> str:
    """An endpoint as it may be shown: no user information, query values as ``***``."""
    if not isinstance(value, str):
        return str(value)
    return redact(value, (k for k, _ in parse_qsl(urlsplit(value).query, keep_blank_values=True)))
