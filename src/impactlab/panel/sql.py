"""Panel building and Callaway–Sant'Anna sufficient statistics as SQL that runs where the data live.

A company's learning record store or warehouse may hold billions of statement or KPI rows. Instead of
bringing them into Python, send these queries to the engine that holds them and bring back only what the
estimators need:

* :func:`panel_query` — the employee × period panel (unit, time, outcome, cohort) from a KPI table and a
  completions table in their canonical form (the columns of DESIGN.md), with the cohort the first period
  in which the employee completed or passed the programme;
* :func:`moments_query` — per cohort, the number of units observed in every period, the mean outcome per
  period and the centred cross-products of the outcomes over periods: ``G × (1 + T + T(T+1)/2)`` numbers,
  from which :mod:`impactlab.estimators.callaway_santanna.moments` computes every ATT(g, t) without
  covariates, its aggregations and their unit-clustered standard errors.

The text is ANSI SQL with the aggregate ``covar_pop`` and ``date_trunc``, so the same query runs on DuckDB
(embedded, here) and Spark SQL (``spark.sql``); :func:`fetch` runs it on either and returns a pandas frame.
``covar_pop`` is computed by both engines with a numerically stable one-pass update, so the statistics do
not lose precision on outcomes with a large level (revenue in the thousands).

Limits: the panel query does not apply the HR roster (employment spells, as-of team), dose or the rejected-
row ledger of :func:`impactlab.build_panel`; it is the pre-aggregation step for data too large for one
machine, after which the small result is checked and analysed in Python. The moments serve estimators
without covariates clustered by unit; covariates or other clusters need unit-level rows.
"""

from __future__ import annotations

import datetime as dt
import numbers
from collections.abc import Sequence
from typing import Any

import pandas as pd

from impactlab.errors import check_option
from impactlab.io.large import arrow_to_pandas
from impactlab.schemas.vocab import TRAINED_STATUSES

__all__ = ["fetch", "literal", "moments_query", "panel_query", "periods_query"]


def _ident(name: str) -> str:
    """A quoted identifier (``"name"`` in DuckDB; Spark takes back-quotes, see :func:`fetch`)."""
    if not isinstance(name, str) or not name:
        raise ValueError(f"A column or table name must be a non-empty string. Got {name!r} instead.")
    return '"' + name.replace('"', '""') + '"'


def literal(value: Any) -> str:
    """A SQL literal for a period or cohort value: number, date, timestamp or text."""
    if isinstance(value, bool) or value is None:
        raise ValueError(f"Cannot use {value!r} as a period value in SQL; periods are numbers, dates or "
                         "text.")
    if isinstance(value, numbers.Integral):
        return str(int(value))
    if isinstance(value, numbers.Real):
        return repr(float(value))
    if isinstance(value, pd.Timestamp | dt.datetime):
        ts = pd.Timestamp(value)
        if ts == ts.normalize():
            return f"DATE '{ts.date().isoformat()}'"
        return f"TIMESTAMP '{ts.isoformat(sep=' ')}'"
    if isinstance(value, dt.date):
        return f"DATE '{value.isoformat()}'"
    return "'" + str(value).replace("'", "''") + "'"


def panel_query(kpis: str, completions: str, *, program: str, outcome: str, unit: str = "employee_id",
                period: str = "period", freq: str = "month") -> str:
    """SQL for the long panel: one row per KPI row, with the employee's cohort.

    Parameters
    ----------
    kpis : str
        Table (or view) of KPIs: ``unit``, ``period`` (a date at the start of each period) and ``outcome``.
    completions : str
        Table of canonical completions: ``employee_id``, ``program``, ``status``, ``completed_at``.
    program : str
        The programme whose first completion defines the cohort.
    outcome : str
        KPI column to analyse.
    unit, period : str
        Column names in ``kpis`` (``unit`` is matched with ``completions.employee_id``).
    freq : {"month", "quarter", "year", "week"}
        Period length: completions are truncated to it (``date_trunc``) to give the cohort.

    Returns
    -------
    str
        Columns ``unit``, ``time``, ``outcome``, ``cohort`` (NULL for never trained), rows with a missing
        outcome left out.
    """
    check_option("freq", freq, ("month", "quarter", "year", "week"))
    statuses = ", ".join(literal(s) for s in TRAINED_STATUSES)
    return (
        "WITH first_done AS (\n"
        f"  SELECT employee_id, CAST(date_trunc('{freq}', MIN(completed_at)) AS DATE) AS cohort\n"
        f"  FROM {_ident(completions)}\n"
        f"  WHERE program = {literal(program)} AND status IN ({statuses}) AND completed_at IS NOT NULL\n"
        "  GROUP BY employee_id)\n"
        f"SELECT k.{_ident(unit)} AS unit, k.{_ident(period)} AS time, CAST(k.{_ident(outcome)} AS DOUBLE) "
        "AS outcome, f.cohort AS cohort\n"
        f"FROM {_ident(kpis)} AS k LEFT JOIN first_done AS f ON k.{_ident(unit)} = f.employee_id\n"
        f"WHERE k.{_ident(outcome)} IS NOT NULL"
    )


def periods_query(panel: str, *, time: str = "time") -> str:
    """SQL for the ordered distinct periods of a long panel."""
    return f"SELECT DISTINCT {_ident(time)} AS time FROM {_ident(panel)} ORDER BY 1"


def moments_query(panel: str, periods: Sequence[Any], *, unit: str = "unit", time: str = "time",
                  outcome: str = "outcome", cohort: str = "cohort") -> str:
    """SQL for the cohort moments of the units observed in every one of ``periods``.

    Parameters
    ----------
    panel : str
        Table or view of the long panel (e.g. the result of :func:`panel_query`), one row per unit and period.
    periods : sequence
        The ordered periods (:func:`periods_query`); they become the columns ``y0 … y{T-1}``.
    unit, time, outcome, cohort : str
        Column names; ``cohort`` is NULL (or 0) for never treated.

    Returns
    -------
    str
        One row per cohort value: ``cohort``, ``n``, ``m{j}`` (mean of period j) and ``w{j}_{k}`` for
        ``j <= k`` (``Σ (y_j − m_j)(y_k − m_k)`` over the cohort's units).
    """
    periods = list(periods)
    if not periods:
        raise ValueError("moments_query needs at least one period.")
    T = len(periods)
    u, t, y, g = (_ident(c) for c in (unit, time, outcome, cohort))
    pivot = ",\n    ".join(f"MAX(CASE WHEN {t} = {literal(p)} THEN {y} END) AS y{j}"
                           for j, p in enumerate(periods))
    means = ", ".join(f"AVG(y{j}) AS m{j}" for j in range(T))
    cross = ",\n  ".join(f"covar_pop(y{j}, y{k}) * COUNT(*) AS w{j}_{k}"
                         for j in range(T) for k in range(j, T))
    return (
        "WITH wide AS (\n"
        f"  SELECT {u} AS unit, MAX({g}) AS cohort, COUNT({y}) AS n_obs,\n    {pivot}\n"
        f"  FROM {_ident(panel)}\n"
        f"  WHERE {y} IS NOT NULL\n"
        f"  GROUP BY {u})\n"
        f"SELECT cohort, COUNT(*) AS n, {means},\n  {cross}\n"
        f"FROM wide WHERE n_obs = {T}\n"
        "GROUP BY cohort ORDER BY cohort"
    )


def fetch(con: Any, sql: str) -> pd.DataFrame:
    """Run ``sql`` on a DuckDB connection or a Spark session and return a pandas DataFrame.

    Spark SQL quotes identifiers with back-quotes, so double-quoted identifiers are rewritten for it (the
    queries of this module use no double-quoted text otherwise).
    """
    kind = type(con).__module__.split(".")[0].lstrip("_")
    if kind == "duckdb":
        # through Arrow: string columns arrive without a Python object per value (DuckDB's .df() builds
        # them one by one, seconds and gigabytes at tens of millions of rows); dates as datetime64 as .df()
        # columns handed over one by one, text in one contiguous array each (see arrow_to_pandas)
        return arrow_to_pandas(con.sql(sql).to_arrow_table(), date_as_object=False)
    if kind == "pyspark":
        return con.sql(sql.replace('"', "`")).toPandas()
    raise TypeError(f"fetch expects a DuckDB connection (duckdb.connect()) or a pyspark SparkSession. Got "
                    f"{type(con).__name__} instead.")
