"""Identity crosswalks (``ids=``) mapping the ids a source uses (LMS user ids, e-mails) onto roster employee
ids: :func:`read_ids` reads one from a two-column table or a dict, :class:`Crosswalk` looks ids up with
:func:`identity_key` (spaces, float ids and e-mail case normalised), then by the id rule of
:func:`match_ids` (leading zeros and case, while unambiguous), and counts what it does not know, whose rows
the readers reject with check ``"identity"``. :func:`match_ids` is also the rule by which
:func:`impactlab.build_panel` joins the ids of the roster, the KPIs and the completions.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from impactlab.errors import DataError, Failure
from impactlab.io.values import as_id, is_missing_value
from impactlab.schemas.vocab import normalise_key

#: Headers taken as the target (roster) id of a crosswalk, in order of preference.
TARGET_HEADERS = ("employee id", "employee", "hr id", "roster id", "worker id", "person id", "emp id")
#: Headers taken as the source id, in order of preference (when the crosswalk has more than two columns).
SOURCE_HEADERS = (
    "source id", "lms id", "lms user id", "user id", "userid", "username", "login", "email", "e mail",
    "mbox", "actor", "account name", "learner id", "student id", "studentid", "sis user id",
)


def identity_key(v: Any) -> str:
    """The comparable form of an id (docs/explanation.md, "Reading exports")."""
    s = as_id(v)
    low = s.lower()
    if low.startswith("mailto:"):
        return low[len("mailto:"):]
    if "@" in s:
        return low
    return s


@dataclass(frozen=True)
class Crosswalk:
    """A mapping of source ids onto roster employee ids.

    Attributes
    ----------
    mapping : dict
        ``identity_key(source id) -> employee id``.
    source : str
        Where the crosswalk came from.
    """

    mapping: Mapping[str, str]
    source: str = "<ids>"

    def lookup(self, source_ids: pd.Series) -> tuple[pd.Series, np.ndarray]:
        """Map ``source_ids``; return the mapped series and a mask of present ids the crosswalk does not
        know. An id with no exact key is looked up by the rule of :func:`match_ids` (leading zeros of a
        digits-only id, then case, each while neither the crosswalk nor the source tells such ids apart)."""
        raw = source_ids.to_numpy(dtype=object)
        keys: list[str | None] = [None if v is None or is_missing_value(v) else identity_key(v) for v in raw]
        present = [k for k in keys if k is not None]
        loose: Mapping[str, str] = {}
        if any(k not in self.mapping for k in present):
            loose = match_ids({"crosswalk": list(self.mapping), "source": present},
                              reference="crosswalk").maps["source"]
        out: list[str | None] = []
        unknown = np.zeros(len(raw), dtype=bool)
        for i, k in enumerate(keys):
            if k is None:
                out.append(None)
                continue
            hit = self.mapping.get(k)
            if hit is None and k in loose:
                hit = self.mapping[loose[k]]
            if hit is None:
                unknown[i] = True
            out.append(hit)
        return pd.Series(out, index=source_ids.index, dtype="str"), unknown

    @staticmethod
    def summary(unmatched: pd.Series, n_ids: int, n_examples: int = 5) -> str:
        """A one-line account of unmatched identities (counts and examples) for a table's notes."""
        if not len(unmatched):
            return f"ids: all {n_ids} identities matched the crosswalk"
        counts = unmatched.value_counts()
        examples = ", ".join(repr(k) for k in counts.index[:n_examples])
        return (
            f"ids: {len(counts)} of {n_ids} identities not in the crosswalk ({len(unmatched)} rows "
            f"rejected), e.g. {examples}"
        )


def _pick(columns: list[str], names: tuple[str, ...], exclude: str | None) -> str | None:
    keys = {normalise_key(c): c for c in reversed(columns) if c != exclude}
    for n in names:
        if normalise_key(n) in keys:
            return keys[normalise_key(n)]
    return None


def read_ids(ids: Any) -> Crosswalk:
    """Build a :class:`Crosswalk` from a dict, a DataFrame, a :class:`~impactlab.io.table.Table`-like object
    with ``.frame``, or a file path (any format the readers accept).

    A table needs a target column (``employee_id`` or a synonym in :data:`TARGET_HEADERS`) and a source
    column (the only other column, or one named as in :data:`SOURCE_HEADERS`). A source id listed twice with
    different employee ids is an error: the crosswalk must say who it is.
    """
    if isinstance(ids, Crosswalk):
        return ids
    src_name: str | None
    tgt_name: str | None
    if isinstance(ids, Mapping):
        pairs = [(k, v) for k, v in ids.items()]
        where = "<dict>"
        src_name, tgt_name = "key", "value"
    else:
        from impactlab.io.sources import load_source

        frame = getattr(ids, "frame", None)
        raw = load_source(frame if isinstance(frame, pd.DataFrame) else ids)
        where = raw.source
        cols = [str(c) for c in raw.frame.columns]
        tgt_name = _pick(cols, TARGET_HEADERS, None)
        others = [c for c in cols if c != tgt_name and c != "source_row"]
        src_name = others[0] if len(others) == 1 else _pick(cols, SOURCE_HEADERS, tgt_name)
        if tgt_name is None or src_name is None:
            raise DataError(
                f"the identity crosswalk needs a source-id column and an employee_id column; "
                f"headers seen: {cols}",
                source=where,
                failures=[Failure(None, None, None, "cannot tell the two id columns apart")],
                hint="give it two columns, e.g. 'lms_id' and 'employee_id'",
            )
        pairs = list(zip(raw.frame[src_name], raw.frame[tgt_name], strict=True))
    mapping: dict[str, str] = {}
    conflicts: list[Failure] = []
    for k, v in pairs:
        if is_missing_value(k) or is_missing_value(v):
            continue
        key, target = identity_key(k), as_id(v)
        if key in mapping and mapping[key] != target:
            conflicts.append(
                Failure(None, src_name, k, f"maps to both {mapping[key]!r} and {target!r} ({tgt_name})")
            )
            continue
        mapping[key] = target
    if conflicts:
        raise DataError(
            f"the identity crosswalk maps {len(conflicts)} source id(s) to more than one employee",
            source=where,
            failures=conflicts,
            hint="keep one employee per source id",
        )
    return Crosswalk(mapping=mapping, source=where)


# ------------------------------------------------------------------------------ matching ids across tables
# The rule (docs/explanation.md, "Ids across tables"): every reader writes an id as ``as_id`` does (spaces
# stripped, ``1234.0`` read as ``1234``); where tables are joined, an id with no exact match in the reference
# table is matched to the reference id that differs from it only by leading zeros (a digits-only id: Excel
# turns ``00123`` into ``123``) or only by case (``e01`` and ``E01``). Each of the two rules holds only while
# it is unambiguous: when one table holds two ids that differ only in that way (``0123`` and ``123``, or
# ``E01`` and ``e01``), that source tells them apart, so the rule is off for the join and ids are compared
# as written; the ids it then leaves unmatched are reported.

_DIGITS = re.compile(r"[0-9]+")
#: The two matching rules, in the order they apply.
ID_RULES = ("leading zeros", "case")


def _without_zeros(s: str) -> str:
    return (s.lstrip("0") or "0") if _DIGITS.fullmatch(s) else s


def _keys(values: np.ndarray, rule: str) -> np.ndarray:
    """The form of each id (an object array of str) that ``rule`` compares, computed with Arrow's string
    functions (one pass in C per rule)."""
    text = pd.Series(values, dtype="string[pyarrow]")
    if rule == "case":
        return text.str.lower().to_numpy(dtype=object)
    digits = text.str.fullmatch(r"[0-9]+").to_numpy(dtype=bool, na_value=False)
    stripped = text.str.lstrip("0").to_numpy(dtype=object)
    stripped[stripped == ""] = "0"
    return np.where(digits, stripped, values)


@dataclass(frozen=True)
class IdMatch:
    """How the ids of several tables were matched onto those of a reference table.

    Attributes
    ----------
    reference : str
        The table whose ids are kept (the roster when there is one).
    maps : dict
        ``{table: {id as written: reference id}}`` for the ids matched by a rule (exact matches are not
        listed).
    rules : dict
        ``{rule: True/False}``: whether matching ignoring leading zeros / case was on.
    ledger : DataFrame
        One row per id matched by a rule (``matched_to`` set), or left unmatched because a rule was off
        (``matched_to`` None, the reason says which ids turned it off): ``table``, ``id``, ``matched_to``,
        ``reason``.
    blocked : dict
        ``{rule: (table, id, id)}``: two ids of one table that differ only by that rule (why it is off).
    """

    reference: str
    maps: Mapping[str, Mapping[str, str]]
    rules: Mapping[str, bool]
    ledger: pd.DataFrame
    blocked: Mapping[str, tuple[str, str, str]]


def _distinct(ids: Any) -> np.ndarray:
    values = pd.unique(pd.Series(np.asarray(ids, dtype=object)).dropna().astype(str))
    return np.asarray(values[values != ""], dtype=object)


def _collision(values: np.ndarray, rule: str) -> tuple[str, str] | None:
    """Two ids of ``values`` (distinct) that differ only by ``rule``, or None."""
    keys = _keys(values, rule)
    dup = pd.Series(keys).duplicated(keep=False).to_numpy()
    if not dup.any():
        return None
    first = keys[dup][0]
    pair = values[dup & (keys == first)].tolist()
    return pair[0], pair[1]


def match_ids(ids: Mapping[str, Any], *, reference: str) -> IdMatch:
    """Match the ids of each table of ``ids`` (``{table name: ids}``) onto those of ``reference``.

    An id with an exact match is kept; otherwise the reference id it equals once leading zeros of a
    digits-only id are dropped and case is ignored is used, each rule only while no table holds two ids that
    differ only by it. The ids are those :func:`~impactlab.io.values.as_id` writes (every reader does).

    Examples
    --------
    >>> m = match_ids({"roster": ["00123", "E01"], "completions": ["123", "e01", "999"]}, reference="roster")
    >>> dict(m.maps["completions"])
    {'123': '00123', 'e01': 'E01'}
    >>> m = match_ids({"roster": ["E01", "e01", "E02"], "lms": ["e02"]}, reference="roster")
    >>> m.rules["case"], m.ledger["reason"].tolist()
    (False, ["not matched to 'E02': the roster holds 'E01' and 'e01', so case tells ids apart"])
    """
    distinct = {name: _distinct(v) for name, v in ids.items()}
    ref = distinct.get(reference, np.array([], dtype=object))
    at = pd.Index(ref)
    rests = {name: values[at.get_indexer(values) < 0] if len(ref) else values
             for name, values in distinct.items() if name != reference}
    blocked: dict[str, tuple[str, str, str]] = {}
    if not any(len(r) for r in rests.values()):  # every id matches exactly: no rule is needed
        empty = pd.DataFrame(columns=["table", "id", "matched_to", "reason"])
        return IdMatch(reference=reference, maps={n: {} for n in rests}, rules=dict.fromkeys(ID_RULES, True),
                       ledger=empty, blocked=blocked)
    for rule in ID_RULES:
        for name, values in distinct.items():
            pair = _collision(values, rule)
            if pair is not None:
                blocked[rule] = (name, *pair)
                break
    rules = {rule: rule not in blocked for rule in ID_RULES}
    on = [r for r in ID_RULES if rules[r]]

    def key(values: np.ndarray, which: list[str]) -> np.ndarray:
        for rule in which:
            values = _keys(values, rule)
        return values

    by_key = dict(zip(key(ref, on), ref, strict=True))
    loose = dict(zip(key(ref, list(ID_RULES)), ref, strict=True))
    maps: dict[str, dict[str, str]] = {}
    rows: list[tuple[str, str, str | None, str]] = []
    for name, rest in rests.items():
        found: dict[str, str] = {}
        for v, k, near in zip(rest, key(rest, on), key(rest, list(ID_RULES)), strict=True):
            hit = by_key.get(k)
            if hit is not None:
                found[v] = hit
                # equal keys: what is left after dropping zeros is a difference of case, and the reverse
                how = [r for r, differs in (("leading zeros", v.lower() != hit.lower()),
                                            ("case", _without_zeros(v) != _without_zeros(hit))) if differs]
                rows.append((name, v, hit, "matched ignoring " + " and ".join(how)))
            elif near in loose:
                rule = next(r for r in ID_RULES if not rules[r])
                where, a, b = blocked[rule]
                why = "case tells ids apart" if rule == "case" else "leading zeros tell ids apart"
                the = "the " if where in ("roster", "completions", "kpis") else ""
                rows.append((name, v, None, f"not matched to {loose[near]!r}: {the}{where} holds {a!r} and "
                                            f"{b!r}, so {why}"))
        maps[name] = found
    ledger = pd.DataFrame(rows, columns=["table", "id", "matched_to", "reason"])
    return IdMatch(reference=reference, maps=maps, rules=rules, ledger=ledger, blocked=blocked)


def apply_id_map(values: pd.Series, mapping: Mapping[str, str]) -> pd.Series:
    """``values`` with the ids of ``mapping`` replaced (each distinct id looked up once)."""
    if not mapping:
        return values
    codes, uniques = pd.factorize(values, use_na_sentinel=True)
    new = np.array([mapping.get(u, u) for u in uniques.tolist()] + [None], dtype=object)
    return pd.Series(new[codes], index=values.index, dtype=values.dtype)
