"""From validated tables (KPIs, completions, roster) to a :class:`Panel`."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd

from impactlab.errors import PanelError, check_option
from impactlab.panel._order import take_values
from impactlab.panel.panel import DROPPED_COLUMNS, Panel, _unit_codes
from impactlab.panel.roster import asof_attributes, employment_reasons, team_exposure
from impactlab.schemas.vocab import TRAINED_STATUSES  # exempt / equivalent: credited, not trained

#: What ``dose=`` can add to an employee panel.
DOSES = ("attempts", "hours")


def check_threshold(threshold: float) -> float:
    """A share in (0, 1]; ``ValueError`` otherwise."""
    if not isinstance(threshold, (int, float)) or not 0 < threshold <= 1:
        raise ValueError(f"The 'threshold' parameter must be a share in (0, 1], e.g. 0.5. Got {threshold!r} "
                         "instead.")
    return float(threshold)


def _dose(rows: pd.DataFrame, what: str) -> pd.Series:
    if what == "attempts":
        tried = rows.loc[rows["status"].isin(("completed", "passed", "failed"))]
        return tried.groupby("employee_id").size().astype("float64")
    if "hours" not in rows:
        return pd.Series(dtype="float64")
    return rows.groupby("employee_id")["hours"].sum(min_count=1).astype("float64")


def _frame(obj: Any, reader: str) -> pd.DataFrame:
    """The canonical frame of a Table, or read a raw DataFrame / path with the default reader."""
    if hasattr(obj, "frame") and isinstance(obj.frame, pd.DataFrame):
        return obj.frame
    from impactlab import io

    return getattr(io, reader)(obj).frame


def _source_rows(k: pd.DataFrame, rows: np.ndarray) -> np.ndarray:
    """The ``source_row`` of the KPI rows ``rows`` (a mask): the column when the table has one, else the
    index (row numbers from 1)."""
    return (k["source_row"] if "source_row" in k else k.index.to_series()).to_numpy()[rows]


def _to_period(values: pd.Series, freq: str) -> pd.Series:
    if isinstance(values.dtype, pd.PeriodDtype):
        return values if values.dtype == pd.PeriodDtype(freq) else values.dt.asfreq(freq)
    ts = pd.to_datetime(values, utc=True)
    return ts.dt.tz_convert(None).dt.to_period(freq)


def build_panel(kpis: Any, completions: Any, *, program: str, outcome: str, roster: Any = None,
                freq: str = "M", covariates: Sequence[str] | None = None, cluster: str | None = None,
                unit: str = "employee_id", truth: Any = None, dose: Sequence[str] | None = None,
                threshold: float = 0.5) -> Panel:
    """Build the employee × period panel for one programme and one outcome.

    Parameters
    ----------
    kpis : Table or DataFrame
        KPI table (from :func:`impactlab.read_kpis`); a raw DataFrame is read with default arguments.
    completions : Table or DataFrame
        LMS completions (from :func:`impactlab.read_completions`).
    program : str
        The programme to evaluate (matched case- and space-insensitively against ``program``).
    outcome : str
        KPI column to use as the outcome.
    roster : Table or DataFrame, optional
        HR roster, effective-dated or not. When given, KPI rows of employees missing from the roster,
        before their hire period, after their termination period or between two employment spells (a
        rehire) go to ``panel.dropped`` with a reason; roster covariates and ``cluster`` are taken as of
        each period (see :mod:`impactlab.panel.roster`).
    freq : str
        Period frequency (pandas offset alias), ``"M"`` for months.
    covariates : sequence of str, optional
        Columns of the KPI table or of the roster; text columns (e.g. region) are one-hot encoded with the
        first level as reference, named ``column[level]``.
    cluster : str, optional
        Column (KPI table or roster) to cluster standard errors on, e.g. ``"team"``.
    unit : str
        ``"employee_id"`` (default), or a roster column such as ``"team"`` or ``"location"`` when the KPIs are
        kept per team or store: the KPI table's unit column must then hold that column's values, ``roster``
        is required, and a team is treated from the first period in which the share of its employees
        (as of that period) who completed the programme reaches ``threshold``. The share per team and
        period is in ``panel.meta["exposure"]`` (see :mod:`impactlab.panel.roster`).
    truth : optional
        Known true effects to attach (simulated data).
    dose : sequence of {"attempts", "hours"}, optional
        Employee panels: add the number of attempts at the programme (rows completed, passed or failed)
        and/or the training hours recorded for it (summed over its rows) as covariates (0 when none).
    threshold : float
        Share trained, in (0, 1], that makes a team treated (team panels only).

    Returns
    -------
    Panel
        Cohort = period of the employee's first completion (status completed or passed) of the programme;
        employees without one are never treated (exempt and equivalent credits count as not trained).

    Raises
    ------
    PanelError
        Unknown programme, outcome, covariate or cluster column.
    """
    # a shallow copy: below, columns are only added or replaced, never written in place, so the caller's
    # table is left as it was without copying its (possibly 24 million) rows
    k = _frame(kpis, "read_kpis").copy(deep=False)
    c = _frame(completions, "read_completions")
    if unit not in k.columns:
        raise PanelError(f"The KPI table has no unit column {unit!r}; columns: {list(k.columns)}.")
    if "period" not in k.columns:
        raise PanelError("The KPI table has no 'period' column; read it with il.read_kpis(..., time=...).")
    if outcome not in k.columns:
        metrics = [col for col in k.columns if col not in (unit, "period", "source_row")]
        raise PanelError(f"Outcome {outcome!r} is not a KPI column; available: {metrics}.")
    k["period"] = _to_period(k["period"], freq)
    if "source_row" not in k:
        # the row numbers as the index: a range, no column of the row count
        k.index = pd.RangeIndex(1, len(k) + 1, name="source_row")

    # cohort: first completion of the programme
    norm = c["program"].astype("string").str.strip().str.casefold()
    mine = c.loc[norm == program.strip().casefold()]
    if mine.empty:
        progs = c["program"].dropna().astype(str).value_counts().index[:15].tolist()
        raise PanelError(f"No completion rows for program {program!r}. Programmes in the data: {progs}.")
    done = mine.loc[mine["status"].isin(TRAINED_STATUSES) & mine["completed_at"].notna()]
    first = done.groupby("employee_id")["completed_at"].min()
    cohort = _to_period(first, freq) if len(first) else pd.Series(dtype=f"period[{freq}]")

    dropped: list[pd.DataFrame] = []
    rf: pd.DataFrame | None = None
    exposure: pd.DataFrame | None = None
    if unit != "employee_id" and roster is None:
        raise PanelError(f"A panel of {unit!r} units needs roster= to know who belongs to which {unit}; "
                         "pass the HR roster (it must have a column of that name).")
    if roster is not None:
        rf = _frame(roster, "read_roster")
        if unit == "employee_id":
            reasons = employment_reasons(rf, k[unit], k["period"], freq)
        else:
            if unit not in rf.columns:
                raise PanelError(f"The roster has no column {unit!r} to group employees into units; roster "
                                 f"columns: {list(rf.columns)}.")
            reasons = pd.Series(pd.NA, index=k.index, dtype="object")
            reasons[~k[unit].isin(set(rf[unit].dropna()))] = f"{unit} not in the roster"
        bad = reasons.notna()
        if bad.any():
            dropped.append(pd.DataFrame({"unit": k.loc[bad, unit].to_numpy(),
                                         "time": k.loc[bad, "period"].to_numpy(),
                                         "reason": reasons[bad].to_numpy(),
                                         "source_row": _source_rows(k, bad.to_numpy())}))
            k = k.loc[~bad]
    if unit != "employee_id" and rf is not None:
        check_threshold(threshold)
        periods = sorted(k["period"].unique())
        exposure = team_exposure(rf, cohort, unit, periods, freq)
        reached = exposure.loc[exposure["share"] >= threshold - 1e-12]
        team_cohort = reached.groupby(unit)["period"].min()
        trained_without_kpis = int((~first.index.isin(rf["employee_id"])).sum())
        cohort = team_cohort
    df = k.copy(deep=False)
    # the unit ids as integer codes, once: cohorts and doses are mapped through the distinct ids, and the
    # panel reuses the codes (no hashing of every row's id against the cohort's index)
    ucode, uniq = _unit_codes(df[unit])

    def per_row(by_unit: pd.Series) -> Any:
        at = by_unit.index.get_indexer(uniq) if len(by_unit) else np.full(len(uniq), -1)
        # one value per distinct id and a missing value last (code -1), then one gather of the row count
        per_id = by_unit.array.take(np.append(at, -1), allow_fill=True)
        return take_values(pd.Series(per_id, copy=False), ucode)

    if unit == "employee_id":
        # employees trained but absent from the KPI rows: those of `first` that no distinct id matches
        trained_without_kpis = len(first) - int((first.index.get_indexer(uniq) >= 0).sum()) if len(first) \
            else 0
    df["cohort"] = per_row(cohort) if len(cohort) else pd.NaT
    owned = ["cohort"]  # columns made here: Panel._build may release them once read
    covs: list[str] = []
    for d in dose or ():
        check_option("dose", d, DOSES)
        if unit != "employee_id":
            raise PanelError("dose= is for employee panels; a team panel's dose is the share trained "
                             "(panel.meta['exposure']).")
        df[d] = np.nan_to_num(np.asarray(per_row(_dose(mine, d)), dtype="float64"), nan=0.0)
        owned.append(d)
    roster_cols = [] if rf is None else [c for c in rf.columns if c not in ("employee_id", "source_row")]
    for col in list(covariates or []) + ([cluster] if cluster else []):
        if col in df.columns:
            continue
        if col not in roster_cols or unit != "employee_id":
            raise PanelError(f"Column {col!r} is neither a KPI column nor a roster column.")
        df[col] = asof_attributes(rf, df[unit], df["period"], freq, [col])[col].to_numpy()
        owned.append(col)
    for col in list(covariates or []) + [d for d in dose or () if d not in (covariates or [])]:
        if pd.api.types.is_numeric_dtype(df[col]) and not pd.api.types.is_bool_dtype(df[col]):
            covs.append(col)
            continue
        levels = sorted(df[col].dropna().astype(str).unique())
        for lev in levels[1:]:
            name = f"{col}[{lev}]"
            df[name] = (df[col].astype(str) == lev).astype("float64")
            covs.append(name)
            owned.append(name)
    if "source_row" in df:
        df.index = pd.Index(df["source_row"].to_numpy(), name="source_row")  # df is this function's own
    panel = Panel._build(df, unit=unit, time="period", outcome=outcome, cohort="cohort", covariates=covs,
                         cluster=cluster, truth=truth, _unit_codes_given=(ucode, uniq),
                         _owned_columns=[c for c in dict.fromkeys(owned) if c != cluster])
    del df
    ledger = pd.concat([*dropped, panel.dropped], ignore_index=True) if dropped else panel.dropped
    meta = {"program": program, "freq": freq, "completions_used": len(done),
            "trained_employees": len(first), "trained_without_kpis": trained_without_kpis,
            "kpi_rows_read": int(len(k) + sum(len(d) for d in dropped))}
    if exposure is not None:
        meta.update(exposure=exposure, threshold=threshold)
    return panel._replace(dropped=ledger[list(DROPPED_COLUMNS)].reset_index(drop=True), meta=meta)
