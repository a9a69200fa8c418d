"""From validated tables (KPIs, completions, roster) to a :class:`Panel`."""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd

from impactlab.errors import PanelError
from impactlab.panel.panel import DROPPED_COLUMNS, Panel
from impactlab.schemas.vocab import TRAINED_STATUSES  # exempt / equivalent: credited, not trained


def _frame(obj: Any, reader: str) -> pd.DataFrame:
    """The canonical frame of a Table, or read a raw DataFrame / path with the default reader."""
    if hasattr(obj, "frame") and isinstance(obj.frame, pd.DataFrame):
        return obj.frame
    from impactlab import io

    return getattr(io, reader)(obj).frame


def _to_period(values: pd.Series, freq: str) -> pd.Series:
    if isinstance(values.dtype, pd.PeriodDtype):
        return values.dt.asfreq(freq)
    ts = pd.to_datetime(values, utc=True)
    return ts.dt.tz_convert(None).dt.to_period(freq)


def _roster_frame(roster: Any) -> pd.DataFrame:
    r = _frame(roster, "read_roster").copy()
    if "valid_from" in r and r["employee_id"].duplicated().any():
        # effective-dated roster: keep each employee's latest record for attributes, but the earliest hire
        r = r.sort_values("valid_from", kind="mergesort")
        first_hire = r.groupby("employee_id")["hire_date"].min() if "hire_date" in r else None
        r = r.drop_duplicates("employee_id", keep="last").set_index("employee_id")
        if first_hire is not None:
            r["hire_date"] = first_hire
        return r
    if r["employee_id"].duplicated().any():
        dups = list(r.loc[r["employee_id"].duplicated(), "employee_id"].unique()[:10])
        raise PanelError(f"The roster lists employees {dups} more than once without valid_from/valid_to; "
                         "keep one row per employee or add effective dates.")
    return r.set_index("employee_id")


def build_panel(kpis: Any, completions: Any, *, program: str, outcome: str, roster: Any = None,
                freq: str = "M", covariates: Sequence[str] | None = None, cluster: str | None = None,
                unit: str = "employee_id", truth: Any = None) -> Panel:
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
        HR roster. When given, KPI rows of employees missing from the roster, before their hire period or
        after their termination period go to ``panel.dropped`` with a reason.
    freq : str
        Period frequency (pandas offset alias), ``"M"`` for months.
    covariates : sequence of str, optional
        Columns of the KPI table or of the roster; text columns (e.g. region) are one-hot encoded with the
        first level as reference, named ``column[level]``.
    cluster : str, optional
        Column (KPI table or roster) to cluster standard errors on, e.g. ``"team"``.
    truth : optional
        Known true effects to attach (simulated data).

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
    k = _frame(kpis, "read_kpis").copy()
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
        k["source_row"] = np.arange(1, len(k) + 1)

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
    extra_cols: dict[str, pd.Series] = {}
    if roster is not None:
        r = _roster_frame(roster)
        known = k[unit].isin(r.index)
        reasons = pd.Series(pd.NA, index=k.index, dtype="object")
        reasons[~known] = "employee not in the roster"
        if "hire_date" in r:
            hire = _to_period(r["hire_date"].reindex(k[unit]).set_axis(k.index), freq)
            reasons[known & (k["period"] < hire).fillna(False) & reasons.isna()] = "period before hire date"
        if "termination_date" in r:
            term = _to_period(r["termination_date"].reindex(k[unit]).set_axis(k.index), freq)
            reasons[known & (k["period"] > term).fillna(False) & reasons.isna()] = (
                "period after termination date")
        bad = reasons.notna()
        if bad.any():
            dropped.append(pd.DataFrame({"unit": k.loc[bad, unit].to_numpy(),
                                         "time": k.loc[bad, "period"].to_numpy(),
                                         "reason": reasons[bad].to_numpy(),
                                         "source_row": k.loc[bad, "source_row"].to_numpy()}))
            k = k.loc[~bad]
        for col in r.columns:
            if col not in k.columns:
                extra_cols[col] = r[col]
    trained_without_kpis = int((~first.index.isin(k[unit])).sum())

    df = k.copy()
    df["cohort"] = cohort.reindex(df[unit]).to_numpy() if len(cohort) else pd.NaT
    covs: list[str] = []
    for col in list(covariates or []) + ([cluster] if cluster else []):
        if col in df.columns:
            continue
        if col not in extra_cols:
            raise PanelError(f"Column {col!r} is neither a KPI column nor a roster column.")
        df[col] = extra_cols[col].reindex(df[unit]).to_numpy()
    for col in covariates or []:
        if pd.api.types.is_numeric_dtype(df[col]) and not pd.api.types.is_bool_dtype(df[col]):
            covs.append(col)
            continue
        levels = sorted(df[col].dropna().astype(str).unique())
        for lev in levels[1:]:
            name = f"{col}[{lev}]"
            df[name] = (df[col].astype(str) == lev).astype("float64")
            covs.append(name)
    df = df.set_index(pd.Index(df["source_row"].to_numpy(), name="source_row"))
    panel = Panel.from_frame(df, unit=unit, time="period", outcome=outcome, cohort="cohort",
                             covariates=covs, cluster=cluster, truth=truth)
    ledger = pd.concat([*dropped, panel.dropped], ignore_index=True) if dropped else panel.dropped
    meta = {"program": program, "freq": freq, "completions_used": len(done),
            "trained_employees": len(first), "trained_without_kpis": trained_without_kpis,
            "kpi_rows_read": int(len(k) + sum(len(d) for d in dropped))}
    return dataclasses.replace(panel, dropped=ledger[list(DROPPED_COLUMNS)].reset_index(drop=True), meta=meta)
