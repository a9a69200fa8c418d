"""Identity crosswalks (``ids=``) mapping the ids a source uses (LMS user ids, e-mails) onto roster employee
ids: :func:`read_ids` reads one from a two-column table or a dict, :class:`Crosswalk` looks ids up with
:func:`identity_key` (spaces, float ids and e-mail case normalised; leading zeros kept) and counts what it
does not know, whose rows the readers reject with check ``"identity"``.
"""

from __future__ import annotations

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
        know."""
        raw = source_ids.to_numpy(dtype=object)
        out: list[str | None] = []
        unknown = np.zeros(len(raw), dtype=bool)
        for i, v in enumerate(raw):
            if v is None or is_missing_value(v):
                out.append(None)
                continue
            hit = self.mapping.get(identity_key(v))
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
