"""Row checks of the canonical tables, run by the readers after each value is parsed.

Each check returns problems ``(row position, input header, value, reason, check code)`` (see
:mod:`impactlab.io._engine`); a row with any problem is rejected (or listed in the ``DataError``).
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np
import pandas as pd

from impactlab.io._engine import Context, Problem
from impactlab.io.dates import is_not_set
from impactlab.io.values import as_text, map_values, missing_mask
from impactlab.schemas.vocab import TRAINED_STATUSES


def _header(headers: Mapping[str, str], name: str) -> str:
    return headers.get(name, name)


def _pairs_check(
    typed: pd.DataFrame, headers: Mapping[str, str], lo: str, hi: str, what: str
) -> list[Problem]:
    if lo not in typed or hi not in typed:
        return []
    bad = (typed[lo] > typed[hi]).fillna(False).to_numpy(dtype=bool)
    return [
        (
            int(i),
            _header(headers, hi),
            as_text(typed[hi].iloc[i]),
            f"{hi} ({typed[hi].iloc[i]}) is before/below {lo} ({typed[lo].iloc[i]}): {what}",
            "order",
        )
        for i in np.flatnonzero(bad)
    ]



def _raw_text(frame: pd.DataFrame | None, header: str, i: int, fallback: object) -> str:
    """The value as written in the input (the parsed one when the input is not at hand)."""
    if frame is not None and header in frame:
        return as_text(frame[header].iloc[i])
    return as_text(fallback)


def _future_check(
    typed: pd.DataFrame, headers: Mapping[str, str], column: str, frame: pd.DataFrame | None = None
) -> list[Problem]:
    """Dates after the time of reading (plus one day for clock and zone slack) are errors, not plans."""
    if column not in typed:
        return []
    limit = pd.Timestamp.now(tz="UTC") + pd.Timedelta(days=1)
    bad = (typed[column] > limit).fillna(False).to_numpy(dtype=bool)
    col = _header(headers, column)
    return [
        (int(i), col, _raw_text(frame, col, int(i), typed[column].iloc[i]),
         f"{column} {typed[column].iloc[i]:%Y-%m-%d %H:%M} UTC is in the future (read on {limit:%Y-%m-%d})",
         "range")
        for i in np.flatnonzero(bad)
    ]


def _negative_check(
    typed: pd.DataFrame, headers: Mapping[str, str], columns: tuple[str, ...]
) -> list[Problem]:
    out: list[Problem] = []
    for c in columns:
        if c in typed:
            bad = (typed[c] < 0).fillna(False).to_numpy(dtype=bool)
            out += [
                (int(i), _header(headers, c), as_text(typed[c].iloc[i]),
                 f"{c} {typed[c].iloc[i]} is negative; it must be 0 or more", "range")
                for i in np.flatnonzero(bad)
            ]
    return out


_OPEN_END = pd.Timestamp("2200-01-01", tz="UTC")  # an open spell (still employed)


def _employment_check(
    typed: pd.DataFrame,
    headers: Mapping[str, str],
    roster: pd.DataFrame | None,
    frame: pd.DataFrame | None = None,
) -> list[Problem]:
    """Completions outside every employment spell of the employee (before hire, after termination).

    Employees absent from the roster are not checked here (an identity crosswalk, ``ids=``, deals with
    unknown ids); a rehired employee has one spell per roster row with a distinct hire date.
    """
    if roster is None or "completed_at" not in typed:
        return []
    r = roster
    if "hire_date" not in r:
        return []
    spells = r[["employee_id", "hire_date"]].copy()
    spells["end"] = r["termination_date"] if "termination_date" in r else pd.NaT
    spells = spells.dropna(subset=["hire_date"]).drop_duplicates()
    rows = pd.DataFrame(
        {"pos": np.arange(len(typed)), "emp": typed["employee_id"].to_numpy(dtype=object),
         "when": typed["completed_at"].to_numpy()}
    )
    rows = rows[rows["when"].notna() & rows["emp"].isin(set(spells["employee_id"]))]
    if not len(rows):
        return []
    pairs = rows.merge(spells.rename(columns={"employee_id": "emp"}), on="emp", how="inner")
    when = pd.to_datetime(pairs["when"], utc=True)
    pairs["inside"] = (pairs["hire_date"] <= when) & (
        when <= pairs["end"].fillna(_OPEN_END) + pd.Timedelta(days=1)
    )
    inside = pairs.groupby("pos", sort=True)["inside"].any()
    outside = inside.index[~inside.to_numpy()]
    if not len(outside):
        return []
    spells = spells.assign(is_open=spells["end"].isna())
    per_emp = spells.groupby("employee_id", sort=False).agg(
        first=("hire_date", "min"), last=("end", "max"), is_open=("is_open", "any")
    )
    emps = typed["employee_id"].to_numpy(dtype=object)[outside]
    whens = typed["completed_at"].iloc[outside]
    facts = per_emp.reindex(emps)
    col = _header(headers, "completed_at")
    out: list[Problem] = []
    for i, emp, when_i, first, last, is_open in zip(
        outside, emps, whens, facts["first"], facts["last"], facts["is_open"], strict=True
    ):
        i = int(i)
        if when_i < first:
            why = f"completed on {when_i:%Y-%m-%d}, before the hire date {first:%Y-%m-%d}"
        elif pd.notna(last) and when_i > last and not is_open:
            why = f"completed on {when_i:%Y-%m-%d}, after the termination date {last:%Y-%m-%d}"
        else:
            why = f"completed on {when_i:%Y-%m-%d}, between two employment spells"
        out.append(
            (i, col, _raw_text(frame, col, i, when_i), f"{why} of employee {emp!r} in the roster",
             "employment")
        )
    return out


def _completions_check(
    typed: pd.DataFrame, frame: pd.DataFrame, headers: dict[str, str], ctx: Context
) -> list[Problem]:
    if "status" not in typed:
        return []
    trained = typed["status"].isin(TRAINED_STATUSES).to_numpy()
    if "completed_at" in headers:
        raw = frame[headers["completed_at"]]
        empty = missing_mask(raw) | map_values(raw, is_not_set, null=False).astype(bool)
    else:
        empty = np.ones(len(typed), dtype=bool)
    col = _header(headers, "completed_at")
    return [
        (
            int(i),
            col,
            None,
            f"completed_at is required when status is {typed['status'].iloc[i]!r} "
            f"(column {col!r} is empty or absent; map a completion-date column with columns= if needed)",
            "missing",
        )
        for i in np.flatnonzero(trained & empty)
    ]


def _assessments_check(
    typed: pd.DataFrame, frame: pd.DataFrame, headers: dict[str, str], ctx: Context
) -> list[Problem]:
    return (
        _score_check(typed, headers)
        + _negative_check(typed, headers, ("score", "max_score"))
        + _future_check(typed, headers, "taken_at", frame)
    )


def _score_check(typed: pd.DataFrame, headers: dict[str, str]) -> list[Problem]:
    if "max_score" not in typed:
        return []
    bad = (typed["score"] > typed["max_score"]).fillna(False).to_numpy(dtype=bool)
    col = _header(headers, "score")
    return [
        (
            int(i),
            col,
            as_text(typed["score"].iloc[i]),
            f"score {typed['score'].iloc[i]} is above max_score {typed['max_score'].iloc[i]}",
            "range",
        )
        for i in np.flatnonzero(bad)
    ]


def _surveys_check(
    typed: pd.DataFrame, frame: pd.DataFrame, headers: dict[str, str], ctx: Context
) -> list[Problem]:
    out: list[Problem] = []
    r = typed["response"]
    col = _header(headers, "response")
    for bound, op in (("scale_min", np.less), ("scale_max", np.greater)):
        if bound in typed:
            bad = op(r, typed[bound]).fillna(False).to_numpy(dtype=bool)
            out += [
                (
                    int(i),
                    col,
                    as_text(r.iloc[i]),
                    f"response {r.iloc[i]} is outside the scale "
                    f"[{typed.get('scale_min', pd.Series(np.nan, index=typed.index)).iloc[i]}, "
                    f"{typed.get('scale_max', pd.Series(np.nan, index=typed.index)).iloc[i]}]",
                    "range",
                )
                for i in np.flatnonzero(bad)
            ]
    return out


def _roster_check(
    typed: pd.DataFrame, frame: pd.DataFrame, headers: dict[str, str], ctx: Context
) -> list[Problem]:
    return _pairs_check(
        typed, headers, "hire_date", "termination_date", "an employee cannot leave before joining"
    ) + _pairs_check(typed, headers, "valid_from", "valid_to", "an as-of row must end after it starts")


def _costs_check(
    typed: pd.DataFrame, frame: pd.DataFrame, headers: dict[str, str], ctx: Context
) -> list[Problem]:
    nan = pd.Series(np.nan, index=typed.index)
    amount, low, high = (typed.get(c, nan) for c in ("amount", "low", "high"))
    lacking = (amount.isna() & (low.isna() | high.isna())).to_numpy()
    col = _header(headers, "amount")
    out: list[Problem] = [
        (int(i), col, None, "a cost needs an amount, or both low and high", "missing")
        for i in np.flatnonzero(lacking)
    ]
    out += _pairs_check(typed, headers, "low", "high", "a cost range must have low <= high")
    return out


