"""The HR roster in the panel: employment spells, as-of attributes and team-level exposure.

A roster is effective-dated in reality (DOMAIN.md): a person changes team, manager, role or location, leaves
and is rehired. Three questions are answered here, all on the canonical roster table (``read_roster``):

* **Was the employee employed in a period?** Each distinct hire date of an employee opens an employment
  spell, closed by the termination date recorded with it (an open spell when none). A period counts when
  it overlaps a spell (from the hire's period to the termination's period, both included). Periods outside
  every spell are not outcomes: before the first hire, after the last termination, or between two spells
  (a rehire).
* **Which team, manager, role, location in a period?** The roster row in force at the *end* of the period
  (the last row whose ``valid_from`` is on or before it, unless its ``valid_to`` ended before the period
  began). Without ``valid_from``, a row is in force from its hire date, so a rehire's new team applies
  from the rehire on.
* **Which share of a team was trained by a period?** Headcount = employees employed in the period whose
  as-of team is the team; trained = those whose first completion is in or before the period. A team's
  cohort is the first period in which that share reaches the threshold the user names; treatment is
  absorbing (a later fall below the threshold, from hires or leavers, does not undo it), as the
  staggered-adoption estimators assume (Callaway & Sant'Anna 2021, *J. Econometrics* 225(2), sec. 2).
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd

from impactlab.errors import PanelError

#: Reasons given in ``panel.dropped`` for periods outside employment.
NOT_IN_ROSTER = "employee not in the roster"
BEFORE_HIRE = "period before hire date"
AFTER_TERMINATION = "period after termination date"
BETWEEN_SPELLS = "period between employment spells (terminated, rehired later)"


def _periods(ts: pd.Series, freq: str) -> pd.Series:
    if isinstance(ts.dtype, pd.PeriodDtype):
        return ts.dt.asfreq(freq)
    t = pd.to_datetime(ts, utc=True)
    return t.dt.tz_convert(None).dt.to_period(freq)


def employment_spells(roster: pd.DataFrame) -> pd.DataFrame:
    """One row per employee and hire: ``employee_id``, ``hire_date``, ``termination_date`` (NaT = open).

    Rows of one spell (same hire date, several as-of rows) give one spell, closed by the latest
    termination date any of them records.
    """
    if "hire_date" not in roster:
        return pd.DataFrame(columns=["employee_id", "hire_date", "termination_date"])
    no_end = pd.Series(pd.NaT, index=roster.index)
    term = roster["termination_date"] if "termination_date" in roster else no_end
    r = pd.DataFrame({"employee_id": roster["employee_id"], "hire_date": roster["hire_date"],
                      "termination_date": term}).dropna(subset=["hire_date"])
    return (r.groupby(["employee_id", "hire_date"], sort=True, as_index=False)["termination_date"].max()
            .reset_index(drop=True))


def _ordinals(per: pd.Series, missing: int) -> np.ndarray:
    """Integer period ordinals (fast to compare); ``missing`` stands for NaT."""
    arr = pd.PeriodIndex(per.to_numpy()) if not isinstance(per.dtype, pd.PeriodDtype) else per.array
    out = np.asarray(arr.asi8, dtype="int64").copy()
    out[np.asarray(pd.isna(per))] = missing
    return out


def employment_reasons(roster: pd.DataFrame, units: pd.Series, periods: pd.Series, freq: str) -> pd.Series:
    """Why each (unit, period) is not an employed period, or ``<NA>`` when it is (see the module notes)."""
    reasons = pd.Series(pd.NA, index=units.index, dtype="object")
    known = units.isin(set(roster["employee_id"]))
    reasons[~known] = NOT_IN_ROSTER
    spells = employment_spells(roster)
    if spells.empty:
        return reasons
    big = np.iinfo("int64").max
    spells = pd.DataFrame({"employee_id": spells["employee_id"].to_numpy(),
                           "start": _ordinals(_periods(spells["hire_date"], freq), big),
                           "end": _ordinals(_periods(spells["termination_date"], freq), big)})
    n = len(units)
    rows = pd.DataFrame({"employee_id": units.to_numpy(), "period": _ordinals(_periods(periods, freq), big),
                         "row": np.arange(n)})
    m = rows.merge(spells, on="employee_id", how="inner")
    row, per = m["row"].to_numpy(), m["period"].to_numpy()
    start, end = m["start"].to_numpy(), m["end"].to_numpy()
    employed = np.zeros(n, dtype=bool)
    employed[row[(per >= start) & (per <= end)]] = True
    first = np.full(n, big, dtype="int64")
    np.minimum.at(first, row, start)          # first hire per row
    last_end = np.full(n, np.iinfo("int64").min, dtype="int64")
    np.maximum.at(last_end, row, end)         # latest termination (``big`` when a spell is open)
    has_spell = first < big
    period = rows["period"].to_numpy()
    check = known.to_numpy() & has_spell & ~employed
    before = period < first
    after = (last_end < big) & (period > last_end)
    reasons[check & before] = BEFORE_HIRE
    reasons[check & ~before & after] = AFTER_TERMINATION
    reasons[check & ~before & ~after] = BETWEEN_SPELLS
    return reasons


def asof_attributes(roster: pd.DataFrame, units: pd.Series, periods: pd.Series, freq: str,
                    columns: Sequence[str]) -> pd.DataFrame:
    """Roster ``columns`` in force for each (unit, period) row (see the module notes), on ``units``' index."""
    columns = list(columns)
    missing = [c for c in columns if c not in roster]
    if missing:
        raise PanelError(f"Columns {missing} are not in the roster; roster columns: {list(roster.columns)}.")
    if "valid_from" in roster and roster["valid_from"].notna().any():
        start = roster["valid_from"].fillna(roster.get("hire_date", pd.Series(pd.NaT, index=roster.index)))
    elif "hire_date" in roster:
        start = roster["hire_date"]
    else:
        start = pd.Series(pd.NaT, index=roster.index)
    dup = roster.assign(_start=start).duplicated(["employee_id", "_start"], keep=False)
    if dup.any():
        ids = list(roster.loc[dup, "employee_id"].unique()[:10])
        raise PanelError(f"The roster lists employees {ids} more than once without valid_from/valid_to; "
                         "keep one row per employee or add effective dates.")
    far_past = pd.Timestamp("1900-01-01", tz="UTC")
    utc = "datetime64[ns, UTC]"
    valid_to = roster["valid_to"] if "valid_to" in roster else pd.Series(pd.NaT, index=roster.index)
    right = pd.DataFrame({
        "employee_id": roster["employee_id"].to_numpy(),
        "_from": pd.to_datetime(start, utc=True).fillna(far_past).astype(utc).reset_index(drop=True),
        "_to": pd.to_datetime(valid_to, utc=True).astype(utc).reset_index(drop=True),
    })
    for c in columns:
        right[c] = roster[c].to_numpy()
    right = right.sort_values("_from", kind="mergesort")
    p = pd.PeriodIndex(periods.to_numpy(), freq=freq)
    left = pd.DataFrame({
        "employee_id": units.to_numpy(),
        "_at": pd.Series(p.end_time).dt.tz_localize("UTC").astype(utc),
        "_begin": pd.Series(p.start_time).dt.tz_localize("UTC").astype(utc),
        "_row": np.arange(len(units)),
    }).sort_values("_at", kind="mergesort")
    joined = pd.merge_asof(left, right, left_on="_at", right_on="_from", by="employee_id",
                           direction="backward")
    ended = (joined["_to"] < joined["_begin"]).fillna(False).to_numpy()
    joined.loc[ended, columns] = np.nan
    joined = joined.sort_values("_row")
    return pd.DataFrame({c: joined[c].to_numpy() for c in columns}, index=units.index)


def team_exposure(roster: pd.DataFrame, first_completion: pd.Series, team: str,
                  periods: Sequence[pd.Period], freq: str) -> pd.DataFrame:
    """Headcount, trained employees and share trained per team and period.

    ``first_completion`` maps employee ids to the period of their first completion. Returns columns
    ``team`` (named after ``team``), ``period``, ``headcount``, ``trained``, ``share``.
    """
    emp = pd.Index(pd.unique(roster["employee_id"]))
    per = pd.PeriodIndex(list(periods), freq=freq)
    grid = pd.DataFrame({"employee_id": np.repeat(emp.to_numpy(), len(per)),
                         "period": np.tile(per.to_numpy(), len(emp))})
    reasons = employment_reasons(roster, grid["employee_id"], grid["period"], freq)
    grid = grid.loc[reasons.isna().to_numpy()].reset_index(drop=True)
    grid[team] = asof_attributes(roster, grid["employee_id"], grid["period"], freq, [team])[team].to_numpy()
    done = first_completion.reindex(grid["employee_id"]).to_numpy()
    grid["trained"] = np.array([pd.notna(d) and d <= p for d, p in zip(done, grid["period"], strict=True)])
    out = (grid.dropna(subset=[team]).groupby([team, "period"], sort=True)
           .agg(headcount=("employee_id", "size"), trained=("trained", "sum")).reset_index())
    out["trained"] = out["trained"].astype("int64")
    out["share"] = out["trained"] / out["headcount"]
    return out
