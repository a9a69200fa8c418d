"""The HTTP side of an LRS pull: the origin credentials are bound to, the redaction of what must never be
shown (user information and query-string values such as ``?apikey=...``) in ``repr``, messages and logs,
the credentials themselves, and the values of the request parameters and headers of xAPI 1.0.3.
"""

from __future__ import annotations

import datetime as dt
import email.utils
import json
import logging
import re
from collections.abc import Iterable, Mapping
from typing import Any
from urllib.parse import parse_qsl, quote, quote_plus, urlencode, urlsplit, urlunsplit

import httpx

#: Prefix of the ADL verb IRIs (xAPI 1.0.3, ADL vocabulary).
ADL_VERBS = "http://adlnet.gov/expapi/verbs/"
#: Query parameters whose values are hidden wherever they appear, even when the endpoint does not carry
#: them (an LRS may put a signed token into its ``more`` links).
SECRET_PARAMS = frozenset({
    "access_token", "api-key", "api_key", "apikey", "auth", "client_secret", "code", "key", "password",
    "secret", "sig", "signature", "token", "x-api-key",
})
REDACTED = "***"
#: ``name=value`` of a :data:`SECRET_PARAMS` parameter inside a logged URL.
_SECRET_IN_TEXT = re.compile(
    r"(?i)([?&](?:" + "|".join(re.escape(p) for p in sorted(SECRET_PARAMS)) + r")=)[^&#\s\"']*"
)
_DEFAULT_PORTS = {"http": 80, "https": 443}

Origin = tuple[str, str, int]


def origin(url: str | httpx.URL) -> Origin:
    """(scheme, host, port) of ``url``, the default port filled in (RFC 6454, "Origin")."""
    u = httpx.URL(str(url)) if not isinstance(url, httpx.URL) else url
    scheme = u.scheme.lower()
    return scheme, u.host.lower(), u.port or _DEFAULT_PORTS.get(scheme, 0)


def show_origin(o: Origin) -> str:
    """``https://lrs.example.com`` (the port only when it is not the scheme's default)."""
    scheme, host, port = o
    host = f"[{host}]" if ":" in host else host
    return f"{scheme}://{host}" + ("" if _DEFAULT_PORTS.get(scheme) == port else f":{port}")


def redact(url: str, hidden: Iterable[str] = ()) -> str:
    """``url`` without user information and with the values of the ``hidden`` query parameters (and of
    :data:`SECRET_PARAMS`) replaced by ``***``."""
    try:
        parts = urlsplit(url)
    except ValueError:
        return "<unreadable URL>"
    names = {n.lower() for n in hidden} | SECRET_PARAMS
    host = parts.hostname or ""
    host = f"[{host}]" if ":" in host else host  # an IPv6 address keeps its brackets
    try:
        port = parts.port
    except ValueError:
        port = None
    if port:
        host = f"{host}:{port}"
    pairs = parse_qsl(parts.query, keep_blank_values=True)
    query = parts.query
    if any(k.lower() in names for k, _ in pairs):
        query = urlencode([(k, REDACTED if k.lower() in names else v) for k, v in pairs], safe="*")
    return urlunsplit((parts.scheme, host, parts.path, query, parts.fragment))


def secret_forms(values: Iterable[str]) -> list[str]:
    """Each secret as written raw and percent-encoded (how it can appear in a logged URL)."""
    out: set[str] = set()
    for v in values:
        if v:
            out |= {v, quote(v, safe=""), quote_plus(v)}
    return sorted(out, key=len, reverse=True)


class RedactingFilter(logging.Filter):
    """Replaces the secrets in every record of the logger it is attached to (httpx logs each request URL
    at INFO level, query string included)."""

    def __init__(self, secrets: list[str]) -> None:
        super().__init__()
        self.secrets = secrets

    def filter(self, record: logging.LogRecord) -> bool:
        text = record.getMessage()
        clean = _SECRET_IN_TEXT.sub(lambda m: m.group(1) + REDACTED, text)
        for s in self.secrets:
            clean = clean.replace(s, REDACTED)
        if clean != text:
            record.msg, record.args = clean, None
        return True


def verb_iri(verb: str) -> str:
    """``"completed"`` -> the ADL IRI ``http://adlnet.gov/expapi/verbs/completed``; IRIs pass through."""
    return verb if "://" in verb else ADL_VERBS + verb.strip().lower()


def iso_instant(value: Any, name: str) -> str:
    """A ``since``/``until`` value (ISO string, datetime or Timestamp) as an ISO 8601 UTC instant."""
    import pandas as pd

    try:
        ts = pd.Timestamp(value)
    except (ValueError, TypeError) as exc:
        raise ValueError(
            f"The {name!r} parameter must be an ISO 8601 timestamp or a datetime. Got {value!r} instead."
        ) from exc
    if ts is pd.NaT:
        raise ValueError(f"The {name!r} parameter must be a timestamp. Got {value!r} instead.")
    ts = ts.tz_localize("UTC") if ts.tzinfo is None else ts.tz_convert("UTC")
    return ts.isoformat().replace("+00:00", "Z")


def agent_param(agent: Any) -> str:
    """The ``agent`` query value: an Agent object as JSON; an e-mail address becomes an ``mbox`` agent."""
    if isinstance(agent, str):
        if agent.lstrip().startswith("{"):
            return agent
        mbox = agent if agent.startswith("mailto:") else f"mailto:{agent}"
        return json.dumps({"objectType": "Agent", "mbox": mbox})
    if isinstance(agent, Mapping):
        return json.dumps(dict(agent))
    raise TypeError(
        f"The 'agent' parameter must be an e-mail address or an Agent object (dict). "
        f"Got {type(agent).__name__} instead."
    )


def retry_after_seconds(value: str | None, *, now: dt.datetime | None = None) -> float | None:
    """Seconds to wait from a ``Retry-After`` header (delay-seconds or an HTTP date); ``None`` if absent."""
    if value is None:
        return None
    text = value.strip()
    if text.isdigit():
        return float(text)
    try:
        when = email.utils.parsedate_to_datetime(text)
    except (TypeError, ValueError, IndexError):
        return None
    if when is None:
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=dt.UTC)
    now = now or dt.datetime.now(dt.UTC)
    return max(0.0, (when - now).total_seconds())


class Hidden:
    """A value that ``repr`` and ``vars`` never show (query-string secrets)."""

    __slots__ = ("value",)

    def __init__(self, value: list[Any]) -> None:
        self.value = value

    def __repr__(self) -> str:
        return "<hidden>"


class BearerAuth(httpx.Auth):
    def __init__(self, token: str) -> None:
        self._token = token

    def auth_flow(self, request: httpx.Request):  # noqa: ANN201 - httpx generator protocol
        request.headers["Authorization"] = f"Bearer {self._token}"
        yield request

    def __repr__(self) -> str:
        return "<token>"
