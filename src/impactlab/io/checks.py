"""The check of completions against the roster, the one row check of the readers that is not a row rule
of a table (:mod:`impactlab.schemas.rules`, run by pandera): it joins each completion to the employment
spells of another table, which a schema of the completions table alone cannot see.
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np
import pandas as pd

from impactlab.io._engine import Context, Problem, RowCheck
from impactlab.io.values import as_text

_OPEN_END = pd.Timestamp("2200-01-01", tz="UTC")  # an open spell (still employed)


def employment_check(roster: pd.DataFrame | None) -> RowCheck:
    """The row check of completions against ``roster``: see :func:`outside_employment`."""

    def check(typed: pd.DataFrame, frame: pd.DataFrame, headers: dict[str, str], _: Context) -> list[Problem]:
        return outside_employment(typed, headers, roster, frame)

    return check


def outside_employment(
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
    col = headers.get("completed_at", "completed_at")
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
            (i, col, as_text(frame[col].iloc[i] if frame is not None and col in frame else when_i),
             f"{why} of employee {emp!r} in the roster",
             "employment")
        )
    return out
