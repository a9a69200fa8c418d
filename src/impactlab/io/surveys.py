"""What reading surveys needs beyond the shared pipeline: answers written as scale labels ("Strongly
agree") turned into scale points, and duplicates judged by a respondent or response id only.

Anonymous reaction surveys hold many identical rows (two people who answered "9" to the same item of the
same programme); such rows are answers, not copies. A row is a duplicate only when an id says so: the same
``response_id`` answering the same item twice, or an identical row of the same ``employee_id``.
"""

from __future__ import annotations

import re
from collections.abc import Mapping

import numpy as np
import pandas as pd

from impactlab.io._engine import Problem, exact_duplicates
from impactlab.io.headers import match_columns
from impactlab.io.numbers import parse_numbers
from impactlab.io.sources import RawSource
from impactlab.io.values import as_text
from impactlab.schemas.tables import SURVEYS
from impactlab.schemas.vocab import normalise_key

#: Role of an English scale label: -3 / 3 the extreme ends ("strongly"), -2 / 2 the plain sides
#: ("disagree", "agree"), -1 / 1 the mild ones ("somewhat"), 0 the middle.
_ROLES: dict[str, int] = {}
for _low, _high in (("disagree", "agree"), ("dissatisfied", "satisfied"), ("unlikely", "likely")):
    for _word, _role in (("strongly", 3), ("completely", 3), ("totally", 3), ("very", 3), ("extremely", 3),
                         ("", 2), ("somewhat", 1), ("slightly", 1), ("mildly", 1), ("moderately", 1)):
        for _side, _sign in ((_low, -1), (_high, 1)):
            _ROLES[f"{_word} {_side}".strip()] = _sign * _role
for _mid in ("neither agree nor disagree", "neither disagree nor agree", "neutral", "neither",
             "undecided", "neither satisfied nor dissatisfied", "neither likely nor unlikely",
             "unsure", "not sure"):
    _ROLES[_mid] = 0

_PREFIXED = re.compile(r"^\(?\s*(\d+(?:\.\d+)?)\s*\)?\s*[-–—=:.)]?\s*([^\W\d_].*)$")


def _label_key(text: str) -> str:
    """A label compared ignoring case, punctuation and word order ("Agree strongly" = "strongly agree")."""
    return " ".join(sorted(normalise_key(text).split()))


_ROLE_KEYS = {_label_key(k): v for k, v in _ROLES.items()}


def likert_points(roles: list[int]) -> tuple[dict[int, float], float, float]:
    """Scale points of the label roles seen in one item, and the scale's (low, high).

    Seven points (1-7) when the item has both plain ("agree") and mild ("somewhat agree") labels; five
    points (1-5) otherwise, where a mild label stands for the second and fourth point ("somewhat agree" on
    the five-point agreement scale of most survey tools) and a plain one for the same points.
    """
    seen = {abs(r) for r in roles}
    if {1, 2} <= seen:
        return {r: float(r + 4) for r in range(-3, 4)}, 1.0, 7.0
    five = {-3: 1.0, -2: 2.0, -1: 2.0, 0: 3.0, 1: 4.0, 2: 4.0, 3: 5.0}
    return five, 1.0, 5.0


def map_labels(raw: RawSource, *, columns: Mapping[str, str] | None, preset_columns: Mapping[str, str],
               scale: Mapping[str, float] | None) -> list[str]:
    """Replace answers written as labels by their scale points, in place; return notes for the table.

    The label as written is kept in a ``response_label`` column; a labelled row without ``scale_min`` /
    ``scale_max`` gets those of its labels' scale. ``scale`` (label -> point) is consulted first, then the
    English agreement, satisfaction and likelihood labels; "5 - Strongly agree" reads as 5. A text that is
    neither a number nor a known label is left for the reader to reject.
    """
    frame = raw.frame
    m = match_columns(list(frame.columns), SURVEYS.readable, columns=columns, preset_columns=preset_columns,
                      source=raw.source)
    header = m.canonical.get("response")
    if header is None or not len(frame):
        return []
    values = frame[header]
    _, not_number = parse_numbers(values)
    if not not_number.any():
        return []
    own = {_label_key(k): float(v) for k, v in (scale or {}).items()}
    texts = [as_text(v).strip() for v in values.to_numpy(dtype=object)]
    item_header = m.canonical.get("item")
    program_header = m.canonical.get("program")
    item = (frame[item_header].map(as_text) if item_header else pd.Series("", index=frame.index)).to_numpy()
    prog = (frame[program_header].map(as_text) if program_header else pd.Series("", index=frame.index)
            ).to_numpy()
    points: dict[int, float] = {}
    bounds: dict[int, tuple[float, float]] = {}
    roles: dict[tuple[str, str], list[tuple[int, int]]] = {}
    unknown: set[str] = set()
    for i in map(int, np.flatnonzero(not_number)):
        text = texts[i]
        key = _label_key(text)
        prefixed = _PREFIXED.match(text)
        if key in own:
            points[i] = own[key]
            bounds[i] = (min(own.values()), max(own.values()))
        elif prefixed is not None:
            points[i] = float(prefixed.group(1))
        elif key in _ROLE_KEYS:
            roles.setdefault((prog[i], item[i]), []).append((i, _ROLE_KEYS[key]))
        elif text:
            unknown.add(text)
    notes = []
    for (program, name), found in sorted(roles.items()):
        mapping, lo, hi = likert_points([r for _, r in found])
        for j, r in found:
            points[j], bounds[j] = mapping[r], (lo, hi)
        notes.append(f"item {name!r} of {program!r}: answers written as labels read on the "
                     f"{hi - lo + 1:g}-point scale {lo:g}-{hi:g}")
    if not points:
        notes += _unknown_note(unknown)
        return notes
    rows = np.array(sorted(points))
    labels = pd.Series([None] * len(frame), index=frame.index, dtype=object)
    labels.iloc[rows] = [texts[i] for i in rows]
    mapped = values.astype(object).copy()
    mapped.iloc[rows] = [points[i] for i in rows]
    frame[header] = mapped
    frame["response_label"] = labels
    with_bounds = np.array(sorted(bounds))
    for name, k in (("scale_min", 0), ("scale_max", 1)):
        col = m.canonical.get(name, name)
        if col not in frame:
            frame[col] = pd.Series([None] * len(frame), index=frame.index, dtype=object)
        current = frame[col].astype(object).copy()
        blank = [i for i in with_bounds if as_text(current.iloc[i]).strip() == ""]
        current.iloc[blank] = [bounds[i][k] for i in blank]
        frame[col] = current
    notes.append(f"{len(rows)} answer(s) written as scale labels were read as scale points (the label is "
                 "kept in response_label)")
    return notes + _unknown_note(unknown)


def _unknown_note(unknown: set[str]) -> list[str]:
    if not unknown:
        return []
    shown = ", ".join(repr(u) for u in sorted(unknown)[:8])
    return [f"answers that are neither numbers nor known scale labels ({shown}) are rejected; map them with "
            "read_surveys(..., scale={label: point})"]


def survey_duplicates(text: pd.DataFrame, typed: pd.DataFrame, rows: np.ndarray) -> list[Problem]:
    """Duplicates of a surveys table: only where a respondent or response id says so.

    A row with neither ``response_id`` nor ``employee_id`` is an anonymous answer and never a duplicate,
    however many identical rows there are. A row with an id repeats an earlier one when the whole row is
    identical; with a ``response_id``, a second answer of the same response to the same item of the same
    programme is rejected too (one response answers each item once).
    """
    n = len(text)
    rid = _ids(typed, "response_id", n)
    eid = _ids(typed, "employee_id", n)
    keyed = np.flatnonzero(rid | eid)
    if not len(keyed):
        return []
    found = [(int(keyed[p[0]]), *p[1:]) for p in exact_duplicates(text.iloc[keyed], rows[keyed])]
    taken = {p[0] for p in found}
    with_rid = np.flatnonzero(rid)
    if len(with_rid):
        keys = typed.iloc[with_rid][["response_id", "program", "item"]].astype(str)
        first: dict[tuple[str, ...], int] = {}
        for pos, key in zip(with_rid, keys.itertuples(index=False, name=None), strict=True):
            if key not in first:
                first[key] = int(pos)
            elif int(pos) not in taken:
                found.append((int(pos), None, None, f"a second answer of response {key[0]!r} to item "
                              f"{key[2]!r} (first answer: row {rows[first[key]]})", "duplicate"))
    return found


def _ids(typed: pd.DataFrame, column: str, n: int) -> np.ndarray:
    if column not in typed:
        return np.zeros(n, dtype=bool)
    return typed[column].notna().to_numpy() & (typed[column].astype(str).str.strip() != "").to_numpy()


__all__ = ["likert_points", "map_labels", "survey_duplicates"]
