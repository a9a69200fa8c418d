"""Statement ids in a read of xAPI statements: ids are UUIDs, compared without regard to case (RFC 4122,
3: case-insensitive on input); a statement repeating an id with the same content is read once, and statements
sharing an id with different content are all set aside as conflicting, since an LRS keeps one statement
per id (Part Three, 2.1.1) and which of them is true cannot be told.

"Same content" follows the statement comparison requirements (Part Two, 2.3.1): properties the LRS assigns
(``id`` case, ``authority``, ``stored``, ``version``), the activity definitions and verb displays a
statement refers to, attachments, the order of a group's members and the serialisation of ``timestamp``
(compared as an instant) are not part of the statement; everything else is.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import pandas as pd

#: Properties the LRS may assign or that are not part of a statement (Part Two, 2.3.1).
_NOT_COMPARED = frozenset({"id", "authority", "stored", "version", "attachments", "timestamp"})
#: Columns of :attr:`impactlab.io.xapi.XapiTables.duplicates`.
LEDGER_COLUMNS = ("source_row", "statement_id", "same_as_row", "verdict", "reason")


def statement_key(stmt: Mapping[str, Any]) -> str | None:
    """The statement id as compared (trimmed, lower case), or ``None`` when it has none."""
    sid = stmt.get("id")
    return (sid.strip().lower() or None) if isinstance(sid, str) else None


def _activity(obj: Any) -> Any:
    if isinstance(obj, Mapping) and obj.get("objectType", "Activity") == "Activity":
        return {k: v for k, v in obj.items() if k != "definition"}
    return obj


def _agent(actor: Any) -> Any:
    if isinstance(actor, Mapping) and isinstance(actor.get("member"), list):
        members = sorted(json.dumps(m, sort_keys=True, default=str) for m in actor["member"])
        return {**actor, "member": members}
    return actor


def _comparable(stmt: Mapping[str, Any]) -> dict[str, Any]:
    out = {k: v for k, v in stmt.items() if k not in _NOT_COMPARED}
    if isinstance(out.get("verb"), Mapping):
        out["verb"] = {"id": out["verb"].get("id")}
    if "actor" in out:
        out["actor"] = _agent(out["actor"])
    obj = out.get("object")
    ref = isinstance(obj, Mapping) and obj.get("objectType") == "StatementRef"
    if ref and isinstance(obj, Mapping) and isinstance(obj.get("id"), str):
        out["object"] = {**obj, "id": obj["id"].strip().lower()}
    elif isinstance(obj, Mapping) and obj.get("objectType") in ("Agent", "Group"):
        out["object"] = _agent(obj)
    else:
        out["object"] = _activity(obj)
    ctx = out.get("context")
    if isinstance(ctx, Mapping):
        ctx = dict(ctx)
        if isinstance(ctx.get("registration"), str):
            ctx["registration"] = ctx["registration"].strip().lower()
        acts = ctx.get("contextActivities")
        if isinstance(acts, Mapping):
            ctx["contextActivities"] = {
                k: [_activity(a) for a in v] if isinstance(v, list) else _activity(v) for k, v in acts.items()
            }
        out["context"] = ctx
    return out


def _instant(value: Any) -> Any:
    try:
        ts = pd.Timestamp(value)
    except (ValueError, TypeError):
        return value
    if ts is pd.NaT:
        return value
    return (ts.tz_localize("UTC") if ts.tzinfo is None else ts.tz_convert("UTC")).value


def differences(a: Mapping[str, Any], b: Mapping[str, Any]) -> list[str]:
    """Top-level properties in which two statements differ under the comparison rules (empty: the same)."""
    ca, cb = _comparable(a), _comparable(b)
    keys = sorted(set(ca) | set(cb))
    dumps = lambda v: json.dumps(v, sort_keys=True, default=str)  # noqa: E731 - a local shorthand
    diff = [k for k in keys if dumps(ca.get(k)) != dumps(cb.get(k))]
    ta, tb = a.get("timestamp"), b.get("timestamp")
    if ta is not None and tb is not None and _instant(ta) != _instant(tb):  # an absent one may be assigned
        diff.append("timestamp")
    return diff


@dataclass
class Sorted:
    """The statements left after repeated ids, and the ledger of those set aside."""

    unique: list[tuple[int, Mapping[str, Any]]]
    ledger: list[dict[str, Any]] = field(default_factory=list)
    duplicate: int = 0
    conflicting: int = 0
    conflict_keys: set[str] = field(default_factory=set)

    def frame(self) -> pd.DataFrame:
        out = pd.DataFrame(sorted(self.ledger, key=lambda r: r["source_row"]), columns=list(LEDGER_COLUMNS))
        return out.astype({"source_row": "int64", "same_as_row": "int64"})


def sort_out(entries: list[tuple[int, Mapping[str, Any]]]) -> Sorted:
    """Keep the first of identical statements sharing an id; set aside every statement of an id used with
    different content. ``entries`` are (source_row, statement) in input order."""
    groups: dict[str, list[int]] = {}
    for pos, (_, stmt) in enumerate(entries):
        key = statement_key(stmt)
        if key is not None:
            groups.setdefault(key, []).append(pos)
    out = Sorted(unique=[])
    drop: set[int] = set()
    for key, members in groups.items():
        if len(members) == 1:
            continue
        first_row, first = entries[members[0]]
        diffs = {p: differences(first, entries[p][1]) for p in members[1:]}
        if not any(diffs.values()):
            for p in members[1:]:
                row, stmt = entries[p]
                out.ledger.append({
                    "source_row": row, "statement_id": stmt.get("id"), "same_as_row": first_row,
                    "verdict": "identical",
                    "reason": f"repeats the statement at row {first_row} with the same content "
                    "(xAPI 1.0.3, Part Two, 2.3.1 comparison): read once",
                })
            drop.update(members[1:])
            out.duplicate += len(members) - 1
            continue
        rows = [entries[p][0] for p in members]
        what = ", ".join(sorted({d for ds in diffs.values() for d in ds}))
        for p in members:
            row, stmt = entries[p]
            others = [r for r in rows if r != row] or [row]
            out.ledger.append({
                "source_row": row, "statement_id": stmt.get("id"), "same_as_row": others[0],
                "verdict": "conflicting",
                "reason": f"statement id {stmt.get('id')} is also used at row(s) "
                f"{', '.join(map(str, others))} with different content (differs in: {what}); an LRS keeps "
                "one statement per id (xAPI 1.0.3, Part Three, 2.1.1), so which is true cannot be told and "
                "none of them is read; fix the source so that each statement has an id of its own",
            })
        drop.update(members)
        out.conflicting += len(members)
        out.conflict_keys.add(key)
    out.unique = [e for pos, e in enumerate(entries) if pos not in drop]
    return out
