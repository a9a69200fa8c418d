"""Exports larger than memory: CSV/Parquet scanned by DuckDB with projection and filter pushdown.

:func:`scan_completions` reads only the four columns a cohort needs (employee, programme, status,
completion date) and only the rows of one programme, straight from the file, and returns each employee's
*first* completion, computed inside DuckDB; :func:`scan_kpis` reads only the unit, time and metric
columns. Both return a :class:`Scan` whose ``frame`` :func:`impactlab.build_panel` takes as it takes a
:class:`~impactlab.io.table.Table`, so a 10-million-row transcript builds a panel in bounded memory
(``benchmarks/panel_build.py`` measures it).

Values are read the strict way: CSV cells as text (``all_varchar``, so ids keep leading zeros; ``1234.0``
becomes ``1234`` as in the file readers); dates must be ISO 8601 (with or without time and zone; naive
times are taken in ``tz``); statuses go through the same map as :func:`impactlab.read_completions`
(unknown ones are counted as rejected, never guessed). For other date formats read the file with the
ordinary readers. Nothing is dropped without being counted: ``Scan.counts`` accounts for every row read.
"""

from __future__ import annotations

import html
import os
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from impactlab.errors import DataError, Failure, check_option
from impactlab.io.dates import check_tz
from impactlab.io.headers import match_columns
from impactlab.io.sources import CSV_SUFFIXES, PARQUET_SUFFIXES
from impactlab.schemas.tables import COMPLETIONS, ColumnSpec
from impactlab.schemas.vocab import (
    DEFAULT_STATUS_MAP,
    STATUSES,
    normalise_key,
    normalise_status,
)

_ID = r"regexp_replace(trim(CAST({c} AS VARCHAR)), '^(\d+)\.0+$', '\1')"


@dataclass(frozen=True, repr=False, eq=False)
class Scan:
    """What a DuckDB scan returned.

    Attributes
    ----------
    frame : DataFrame
        ``scan_completions``: one row per employee with ``employee_id``, ``program``, ``status`` (of the
        first completion), ``status_raw``, ``completed_at`` (UTC, the first completion) and ``attempt``
        (trained rows of that employee). ``scan_kpis``: ``unit``, ``period`` and the metrics.
    counts : Series
        Rows read by outcome (``used``, ``other status``, and one entry per rejection reason); they add up
        to ``rows_read``.
    rows_read : int
        Rows the scan looked at after the pushed-down filter (the programme's rows for completions).
    source : str
        The file(s) scanned.
    kind : str
        ``"completions"`` or ``"kpis"``.
    examples : DataFrame
        Up to five raw values per rejection reason: ``reason``, ``value``.
    notes : tuple of str
        How the file was read.
    """

    frame: pd.DataFrame
    counts: pd.Series
    rows_read: int
    source: str
    kind: str
    examples: pd.DataFrame = field(default_factory=lambda: pd.DataFrame(columns=["reason", "value"]))
    notes: tuple[str, ...] = ()

    @property
    def n_rejected(self) -> int:
        """Rows rejected (every reason but ``used`` and ``other status``)."""
        return int(self.counts.drop(["used", "other status"], errors="ignore").sum())

    def summary(self) -> str:
        """Rows read, used and rejected, and why."""
        lines = [f"{self.kind} scan of {self.source}: {self.rows_read} rows read, {len(self.frame)} rows out"]
        lines += [f"  {k}: {int(v)}" for k, v in self.counts.items()]
        if self.notes:
            lines.append("  read as: " + ", ".join(self.notes))
        return "\n".join(lines)

    def __repr__(self) -> str:
        return (
            f"<Scan {self.kind}: {len(self.frame)} rows out of {self.rows_read} read, "
            f"{self.n_rejected} rejected, from {self.source}>"
        )

    def _repr_html_(self) -> str:
        return f"<pre>{html.escape(self.summary())}</pre>" + self.frame.head(5)._repr_html_()


def _source_sql(path: Any) -> tuple[str, str, list[str]]:
    """(DuckDB table function call, source name, notes) for one path or a list of paths/globs."""
    paths = [path] if isinstance(path, (str, os.PathLike)) else list(path)
    if not paths:
        raise ValueError("The 'path' parameter must name at least one file.")
    texts = [str(p) for p in paths]
    suffixes = {Path(t).suffix.lower() for t in texts}
    for t in texts:
        if not any(ch in t for ch in "*?[") and not Path(t).is_file():
            raise FileNotFoundError(f"No such file: {t!r}")
    listing = "[" + ", ".join("'" + t.replace("'", "''") + "'" for t in texts) + "]"
    if suffixes <= set(PARQUET_SUFFIXES):
        return f"read_parquet({listing})", ", ".join(texts), ["parquet via DuckDB"]
    if suffixes <= set(CSV_SUFFIXES):
        fn = f"read_csv({listing}, header=true, all_varchar=true)"
        return fn, ", ".join(texts), ["CSV via DuckDB (all values as text)"]
    allowed = ", ".join(CSV_SUFFIXES + PARQUET_SUFFIXES)
    raise ValueError(
        f"Cannot scan {texts!r}: the file type(s) {sorted(suffixes)} are not supported. "
        f"Supported: {allowed} (one kind per scan)."
    )


def _connect(tz: str) -> Any:
    import duckdb

    con = duckdb.connect()
    con.execute(f"SET TimeZone = '{tz}'")
    return con


def _headers(
    con: Any, src: str, source: str, specs: Sequence[ColumnSpec], columns: Mapping[str, str] | None
) -> dict[str, str]:
    names = [r[0] for r in con.execute(f"DESCRIBE SELECT * FROM {src}").fetchall()]
    return match_columns(names, specs, columns=columns, source=source).canonical


def _q(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def _require(found: Mapping[str, str], needed: Sequence[str], source: str) -> None:
    absent = [c for c in needed if c not in found]
    if absent:
        raise DataError(
            f"the file lacks column(s) {absent} needed for the scan",
            source=source,
            failures=[Failure(None, c, None, "required column not found") for c in absent],
            hint=f"name the header that holds it, e.g. columns={{'<your header>': {absent[0]!r}}}",
        )


def scan_completions(
    path: Any,
    *,
    program: str,
    columns: Mapping[str, str] | None = None,
    status_map: Mapping[str, str] | None = None,
    tz: str = "UTC",
) -> Scan:
    """Each employee's first completion of one programme, computed by DuckDB from a large export.

    Parameters
    ----------
    path : path, glob or list of them
        CSV/TSV or Parquet file(s) (one kind per scan).
    program : str
        The programme, matched ignoring case and surrounding spaces (as :func:`impactlab.build_panel` does).
    columns : dict, optional
        ``{raw header: canonical column}`` for ``employee_id``, ``program``, ``status``, ``completed_at``;
        other headers are matched as by the file readers.
    status_map : dict, optional
        ``{raw status: canonical status}`` added to the default map.
    tz : str
        Time zone of naive timestamps.

    Returns
    -------
    Scan
        ``frame`` has one row per trained employee (status completed or passed with a valid date).

    Raises
    ------
    DataError
        A required column is missing, or the programme has no rows.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> d = pathlib.Path(tempfile.mkdtemp())
    >>> rows = ["User ID,Course,Status,Completed", "007,Negotiation,Completed,2024-03-05",
    ...         "007,Negotiation,Completed,2024-02-01", "8,Coaching,Completed,2024-01-01"]
    >>> _ = (d / "t.csv").write_text("\\n".join(rows) + "\\n")
    >>> s = scan_completions(d / "t.csv", program="negotiation")
    >>> s.frame[["employee_id", "completed_at", "attempt"]].values.tolist()
    [['007', Timestamp('2024-02-01 00:00:00+0000', tz='UTC'), 2]]
    """
    check_tz(tz)
    smap = dict(DEFAULT_STATUS_MAP)
    if status_map:
        bad = {k: v for k, v in status_map.items() if v not in STATUSES}
        if bad:
            raise ValueError(
                f"The 'status_map' parameter must map raw strings onto one of "
                f"{', '.join(STATUSES)}. Got {bad!r} instead."
            )
        smap.update({normalise_key(k): v for k, v in status_map.items()})
    src, source, notes = _source_sql(path)
    con = _connect(tz)
    try:
        h = _headers(con, src, source, COMPLETIONS.readable, columns)
        _require(h, ("employee_id", "program", "status", "completed_at"), source)
        e, p, s, c = (_q(h[k]) for k in ("employee_id", "program", "status", "completed_at"))
        # one pass over the file: only four columns, only the programme's rows
        con.execute(
            f"CREATE TEMP TABLE prog AS SELECT {_ID.format(c=e)} AS e, trim(CAST({s} AS VARCHAR)) AS s, "
            f"trim(CAST({c} AS VARCHAR)) AS c FROM {src} "
            f"WHERE lower(trim(CAST({p} AS VARCHAR))) = lower(trim($program))",
            {"program": program},
        )
        rows_read = con.execute("SELECT count(*) FROM prog").fetchone()[0]
        if rows_read == 0:
            progs = [
                r[0]
                for r in con.execute(
                    f"SELECT CAST({p} AS VARCHAR) FROM {src} GROUP BY 1 ORDER BY count(*) DESC LIMIT 15"
                ).fetchall()
            ]
            raise DataError(
                f"no rows for program {program!r}",
                source=source,
                hint=f"programmes in the file include {progs}",
            )
        statuses = con.execute("SELECT s, count(*) FROM prog GROUP BY s").fetchall()
        canon = {raw: (normalise_status(raw, smap) if raw not in (None, "") else None) for raw, _ in statuses}
        con.execute("CREATE TEMP TABLE st(s VARCHAR, status VARCHAR)")
        if canon:
            con.executemany("INSERT INTO st VALUES (?, ?)", [[k, v] for k, v in canon.items()])
        checks = con.execute(
            "SELECT count(*) FILTER (WHERE e IS NULL OR e IN ('', 'nan', 'null', 'none', 'NA', 'N/A')),"
            " count(*) FILTER (WHERE NOT (e IS NULL OR e = '') AND (s IS NULL OR s = '')),"
            " count(*) FILTER (WHERE NOT (e IS NULL OR e = '') AND s <> '' AND st.status IS NULL),"
            " count(*) FILTER (WHERE NOT (e IS NULL OR e = '') AND st.status IN ('completed', 'passed')"
            "   AND (c IS NULL OR c = '')),"
            " count(*) FILTER (WHERE NOT (e IS NULL OR e = '') AND st.status IN ('completed', 'passed')"
            "   AND c <> '' AND try_cast(c AS TIMESTAMPTZ) IS NULL),"
            " count(*) FILTER (WHERE NOT (e IS NULL OR e = '') AND st.status IS NOT NULL"
            "   AND st.status NOT IN ('completed', 'passed'))"
            " FROM prog LEFT JOIN st USING (s)"
        ).fetchone()
        frame = con.execute(
            "SELECT e AS employee_id, arg_min(st.status, ts) AS status, arg_min(s, ts) AS status_raw,"
            " min(ts) AS completed_at, count(*) AS attempt FROM ("
            "  SELECT e, s, try_cast(c AS TIMESTAMPTZ) AS ts FROM prog) JOIN st USING (s)"
            " WHERE st.status IN ('completed', 'passed') AND ts IS NOT NULL"
            "  AND NOT (e IS NULL OR e IN ('', 'nan', 'null', 'none', 'NA', 'N/A'))"
            " GROUP BY e ORDER BY e"
        ).df()
        examples = con.execute(
            "SELECT 'unknown status' AS reason, s AS value FROM prog LEFT JOIN st USING (s)"
            " WHERE s <> '' AND st.status IS NULL LIMIT 5"
        ).df()
    finally:
        con.close()
    reasons = [
        "missing employee_id",
        "missing status",
        "unknown status",
        "missing completed_at",
        "unreadable completed_at",
        "other status",
    ]
    counts = pd.Series(dict(zip(reasons, (int(x) for x in checks), strict=True)), name="rows")
    used = rows_read - int(counts.sum())
    counts = pd.concat([pd.Series({"used": used}, name="rows"), counts[counts > 0]]).astype("int64")
    out = pd.DataFrame(
        {
            "employee_id": frame["employee_id"].astype("str"),
            "program": pd.Series([program] * len(frame), dtype="str"),
            "status": frame["status"].astype("str"),
            "status_raw": frame["status_raw"].astype("str"),
            "completed_at": pd.to_datetime(frame["completed_at"], utc=True).astype("datetime64[us, UTC]"),
            "attempt": frame["attempt"].astype("Int64"),
        }
    )
    notes = [*notes, f"status map applied to {len(canon)} distinct raw statuses"]
    return Scan(out, counts, int(rows_read), source, "completions", examples, tuple(notes))


def scan_kpis(
    path: Any,
    *,
    unit: str = "employee_id",
    time: str = "period",
    metrics: Sequence[str],
    freq: str = "M",
    tz: str = "UTC",
) -> Scan:
    """A KPI table read by DuckDB: only the unit, time and metric columns.

    Parameters
    ----------
    path : path, glob or list of them
        CSV/TSV or Parquet file(s).
    unit, time : str
        Headers of the unit (employee or team id) and of the period (``YYYY-MM`` text or a date).
    metrics : sequence of str
        Metric headers to read (numbers; a value that is not one is counted as rejected with its row).
    freq : {"M", "Q"}
        Period frequency of the output.
    tz : str
        Time zone of naive timestamps.

    Returns
    -------
    Scan
        ``frame`` with ``unit`` (text), ``period`` (pandas Period) and the metrics (float).
    """
    check_option("freq", freq, ("M", "Q"))
    check_tz(tz)
    if isinstance(metrics, str) or not metrics:
        raise ValueError(
            f"The 'metrics' parameter must be a non-empty list of column names. Got {metrics!r}."
        )
    src, source, notes = _source_sql(path)
    con = _connect(tz)
    try:
        names = [r[0] for r in con.execute(f"DESCRIBE SELECT * FROM {src}").fetchall()]
        _require({n: n for n in names}, [unit, time, *metrics], source)
        ms = ", ".join(f"try_cast(trim(CAST({_q(m)} AS VARCHAR)) AS DOUBLE) AS {_q(m)}" for m in metrics)
        bad_m = " OR ".join(
            f"(try_cast(trim(CAST({_q(m)} AS VARCHAR)) AS DOUBLE) IS NULL AND {_q(m)} IS NOT NULL"
            f" AND trim(CAST({_q(m)} AS VARCHAR)) <> '')"
            for m in metrics
        )
        t = f"trim(CAST({_q(time)} AS VARCHAR))"
        when = f"coalesce(try_strptime({t}, '%Y-%m'), try_cast({t} AS TIMESTAMP))"
        u = _ID.format(c=_q(unit))
        con.execute(
            f"CREATE TEMP TABLE k AS SELECT {u} AS u, {when} AS w, ({bad_m}) AS bad_m, {ms} FROM {src}"
        )
        rows_read, no_unit, no_time, bad = con.execute(
            "SELECT count(*), count(*) FILTER (WHERE u IS NULL OR u = ''),"
            " count(*) FILTER (WHERE NOT (u IS NULL OR u = '') AND w IS NULL),"
            " count(*) FILTER (WHERE NOT (u IS NULL OR u = '') AND w IS NOT NULL AND bad_m) FROM k"
        ).fetchone()
        mcols = ", ".join(_q(m) for m in metrics)
        frame = con.execute(
            f"SELECT u, year(w) AS y, month(w) AS mo, {mcols} FROM k"
            " WHERE NOT (u IS NULL OR u = '') AND w IS NOT NULL AND NOT bad_m"
        ).df()
    finally:
        con.close()
    months = frame["mo"].to_numpy(dtype=np.int64)
    if freq == "Q":
        months = (months - 1) // 3 * 3 + 1
    period = pd.PeriodIndex.from_fields(year=frame["y"].to_numpy(dtype=np.int64), month=months, freq="M")
    if freq == "Q":
        period = period.asfreq("Q")
    out = pd.DataFrame({unit: frame["u"].astype("str"), "period": period})
    for m in metrics:
        out[m] = frame[m].astype("float64")
    counts = pd.Series(
        {"used": len(out), "missing unit": no_unit, "unreadable period": no_time, "metric not a number": bad},
        name="rows",
    ).astype("int64")
    counts = counts[(counts > 0) | (counts.index == "used")]
    return Scan(out, counts, int(rows_read), source, "kpis", notes=tuple(notes))
