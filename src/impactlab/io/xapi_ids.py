"""xAPI actor identities (one inverse functional identifier each: ``mbox``, ``mbox_sha1sum``, ``openid`` or
``account``) and the explicit crosswalk that maps them to roster employee ids; an identity the crosswalk
does not know is reported, never dropped or matched on a similar string.
"""

from __future__ import annotations

import hashlib
import os
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import pandas as pd

from impactlab.errors import DataError, Failure
from impactlab.io.values import as_id, is_missing_value
from impactlab.schemas.vocab import normalise_key

#: (kind, value, account home page or None)
Identity = tuple[str, str, "str | None"]

_HEX40 = re.compile(r"[0-9a-fA-F]{40}")

#: Crosswalk headers (compared after ``normalise_key``) for each field.
CROSSWALK_HEADERS: dict[str, tuple[str, ...]] = {
    "employee_id": (
        "employee id",
        "employee",
        "hr id",
        "emp id",
        "worker id",
        "person id",
        "employee number",
    ),
    "email": ("email", "e mail", "mbox", "email address", "mail"),
    "mbox_sha1sum": ("mbox sha1sum", "sha1", "mbox sha1", "email sha1"),
    "openid": ("openid", "open id"),
    "account_name": (
        "account name",
        "account",
        "lms id",
        "lms user id",
        "username",
        "user name",
        "login",
        "lms login",
        "lms username",
        "user id",
        "learner id",
    ),
    "account_homepage": ("account homepage", "account home page", "homepage", "home page"),
}


def _email(value: str) -> str:
    v = value.strip()
    if v.lower().startswith("mailto:"):
        v = v[len("mailto:") :]
    return v.lower()


def _home(value: Any) -> str | None:
    if value is None or is_missing_value(value):
        return None
    return str(value).strip().rstrip("/").lower()


def actor_identity(actor: Any) -> Identity | None:
    """The identity of an xAPI actor, or ``None`` when it has no usable identifier.

    ``mbox`` values are compared case-insensitively (e-mail addresses are, in practice); account names and
    other identifiers exactly.
    """
    if not isinstance(actor, Mapping):
        return None
    mbox = actor.get("mbox")
    if isinstance(mbox, str) and mbox.strip():
        return ("mbox", _email(mbox), None)
    sha = actor.get("mbox_sha1sum")
    if isinstance(sha, str) and sha.strip():
        return ("mbox_sha1sum", sha.strip().lower(), None)
    openid = actor.get("openid")
    if isinstance(openid, str) and openid.strip():
        return ("openid", openid.strip(), None)
    acc = actor.get("account")
    if isinstance(acc, Mapping) and isinstance(acc.get("name"), str) and acc["name"].strip():
        return ("account", acc["name"].strip(), _home(acc.get("homePage")))
    return None


def describe(identity: Identity) -> str:
    """How an identity is shown in reports: ``mbox:ann@x.com``, ``account:lms0042 @ https://lms...``."""
    kind, value, home = identity
    return f"{kind}:{value}" + (f" @ {home}" if home else "")


@dataclass(frozen=True)
class ActorCrosswalk:
    """Lookups from xAPI actor identities to employee ids (build it with :func:`build_crosswalk`)."""

    email: dict[str, str] = field(default_factory=dict)
    sha1: dict[str, str] = field(default_factory=dict)
    openid: dict[str, str] = field(default_factory=dict)
    account: dict[tuple[str | None, str], str] = field(default_factory=dict)

    def lookup(self, identity: Identity) -> str | None:
        """The employee id of ``identity``, or ``None`` when the crosswalk does not know it."""
        kind, value, home = identity
        if kind == "mbox":
            return self.email.get(value)
        if kind == "mbox_sha1sum":
            return self.sha1.get(value)
        if kind == "openid":
            return self.openid.get(value)
        return self.account.get((home, value)) or self.account.get((None, value))

    def __len__(self) -> int:
        return len(self.email) + len(self.sha1) + len(self.openid) + len(self.account)


def _crosswalk_frame(ids: Any) -> tuple[pd.DataFrame, str]:
    if isinstance(ids, pd.DataFrame):
        return ids, "ids=<DataFrame>"
    if isinstance(ids, (str, os.PathLike)):
        from impactlab.io.sources import load_source

        raw = load_source(ids)
        return raw.frame, str(ids)
    if hasattr(ids, "frame") and isinstance(ids.frame, pd.DataFrame):
        return ids.frame, "ids=<Table>"
    raise TypeError(
        "The 'ids' parameter must be a mapping {actor identifier: employee id}, a DataFrame or "
        f"a path to a crosswalk file. Got {type(ids).__name__} instead."
    )


def build_crosswalk(ids: Any) -> ActorCrosswalk:
    """Build an :class:`ActorCrosswalk` from ``ids``.

    Parameters
    ----------
    ids : mapping, Crosswalk, DataFrame, Table or path
        A :class:`impactlab.io.identity.Crosswalk` (from :func:`impactlab.io.read_ids`, read as its
        ``{source id: employee id}`` mapping); a mapping ``{identifier: employee id}`` where an
        identifier is an e-mail (``ann@x.com`` or ``mailto:ann@x.com``), a 40-hex ``mbox_sha1sum``, an
        ``http(s)`` openid, or an account name; or a table with an ``employee_id`` column and any of
        ``email``, ``mbox_sha1sum``, ``openid``, ``account_name`` and ``account_homepage`` (see
        :data:`CROSSWALK_HEADERS` for accepted spellings). An e-mail also matches the ``mbox_sha1sum`` of
        its (lower-cased) ``mailto:`` IRI.

    Raises
    ------
    DataError
        An identifier mapped onto two different employee ids, or a row without an employee id.
    """
    from impactlab.io.identity import Crosswalk

    entries: list[tuple[str, Identity, str]] = []  # (where, identity, employee id)
    if isinstance(ids, Crosswalk):
        ids = dict(ids.mapping)
    if isinstance(ids, Mapping):
        for key, emp in ids.items():
            k = str(key).strip()
            if k.lower().startswith("mailto:") or ("@" in k and "://" not in k):
                ident: Identity = ("mbox", _email(k), None)
            elif _HEX40.fullmatch(k):
                ident = ("mbox_sha1sum", k.lower(), None)
            elif k.startswith(("http://", "https://")):
                ident = ("openid", k, None)
            else:
                ident = ("account", k, None)
            entries.append((f"key {key!r}", ident, as_id(emp)))
        where = "ids=<mapping>"
    else:
        frame, where = _crosswalk_frame(ids)
        cols: dict[str, str] = {}
        for c in frame.columns:
            key = normalise_key(c)
            for name, spellings in CROSSWALK_HEADERS.items():
                if (key == normalise_key(name) or key in spellings) and name not in cols:
                    cols[name] = c
        if "employee_id" not in cols or len(cols) < 2:
            raise DataError(
                f"the identity crosswalk needs an 'employee_id' column and at least one identifier column; "
                f"headers seen: {list(frame.columns)}",
                source=where,
                failures=[
                    Failure(
                        None,
                        None,
                        None,
                        "identifier columns accepted: email, mbox_sha1sum, "
                        "openid, account_name (+ account_homepage)",
                    )
                ],
                hint="rename the columns, e.g. frame.rename(columns={'HR ID': 'employee_id', "
                "'LMS login': 'account_name'})",
            )
        if "account_homepage" in cols and "account_name" not in cols:
            raise DataError(
                f"the identity crosswalk has a home page column ({cols['account_homepage']!r}) but no "
                f"account name column; headers seen: {list(frame.columns)}",
                source=where,
                hint="name the column holding the LMS account names 'account_name'",
            )
        missing: list[Failure] = []
        for pos, rec in enumerate(frame.to_dict("records"), start=1):
            emp = rec[cols["employee_id"]]
            found: list[Identity] = []
            if "email" in cols and not is_missing_value(rec[cols["email"]]):
                found.append(("mbox", _email(str(rec[cols["email"]])), None))
            if "mbox_sha1sum" in cols and not is_missing_value(rec[cols["mbox_sha1sum"]]):
                found.append(("mbox_sha1sum", str(rec[cols["mbox_sha1sum"]]).strip().lower(), None))
            if "openid" in cols and not is_missing_value(rec[cols["openid"]]):
                found.append(("openid", str(rec[cols["openid"]]).strip(), None))
            if "account_name" in cols and not is_missing_value(rec[cols["account_name"]]):
                home = _home(rec[cols["account_homepage"]]) if "account_homepage" in cols else None
                found.append(("account", as_id(rec[cols["account_name"]]), home))
            if not found:
                continue
            if is_missing_value(emp):
                missing.append(
                    Failure(pos, cols["employee_id"], None, "an identifier without an employee id")
                )
                continue
            entries += [(f"row {pos}", ident, as_id(emp)) for ident in found]
        if missing:
            raise DataError(
                "the identity crosswalk has identifiers without an employee id",
                source=where,
                failures=missing,
                hint="fill in the employee ids or remove those rows",
            )
    cw = ActorCrosswalk()
    owners: dict[tuple[str, Any], tuple[str, str]] = {}
    conflicts: list[Failure] = []

    def put(table: dict[Any, str], key: Any, emp: str, label: str, where_: str) -> None:
        prev = owners.get((label, key))
        if prev is not None and prev[1] != emp:
            conflicts.append(
                Failure(None, label, str(key), f"mapped to {prev[1]!r} ({prev[0]}) and to {emp!r} ({where_})")
            )
            return
        owners[(label, key)] = (where_, emp)
        table[key] = emp

    for where_, (kind, value, home), emp in entries:
        if kind == "mbox":
            put(cw.email, value, emp, "email", where_)
            for written in {value, value.lower()}:
                sha = hashlib.sha1(f"mailto:{written}".encode()).hexdigest()
                put(cw.sha1, sha, emp, "mbox_sha1sum", where_)
        elif kind == "mbox_sha1sum":
            put(cw.sha1, value, emp, "mbox_sha1sum", where_)
        elif kind == "openid":
            put(cw.openid, value, emp, "openid", where_)
        else:
            put(cw.account, (home, value), emp, "account", where_)
    if conflicts:
        raise DataError(
            "the identity crosswalk maps one identifier onto several employees",
            source=where,
            failures=conflicts,
            hint="keep one employee id per identifier",
        )
    return cw
