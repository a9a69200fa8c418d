"""Exports larger than memory, scanned by DuckDB with projection and filter pushdown:
:func:`scan_completions` (each employee's first completion of one programme) and :func:`scan_kpis` (the
unit, time and metric columns) return a :class:`Scan` whose ``frame`` :func:`impactlab.build_panel` takes
as it takes a :class:`~impactlab.io.table.Table`, with every row read counted and every rejected row listed
(``docs/explanation.md``, "Reading exports", says what is read and how).
"""

from __future__ import annotations

import glob
import html
import os
import warnings
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from impactlab.errors import DataError, DataQualityWarning, Failure, check_option
from impactlab.io.dates import (
    EPOCH_MILLISECONDS,
    EPOCH_SECONDS,
    EXCEL_SERIALS,
    _match,
    check_tz,
)
from impactlab.io.headers import match_columns
from impactlab.io.sources import CSV_SUFFIXES, PARQUET_SUFFIXES
from impactlab.io.values import MISSING_STRINGS
from impactlab.schemas.rules import _SCIENTIFIC, EARLIEST, _read_limit
from impactlab.schemas.tables import COMPLETIONS, ColumnSpec
from impactlab.schemas.vocab import (
    extend_status_map,
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
        Up to five raw values per rejection reason: ``reason``, ``value``, ``source_row``.
    notes : tuple of str
        How the file was read.
    rejected : DataFrame
        Every rejected row in file order, with ``source_row`` (and ``source_file`` when several files were
        scanned). ``scan_completions``: the raw ``employee_id``, ``status``, ``completed_at``, ``reason``,
        ``value`` (rows of other statuses, not trained, are counted, not rejected). ``scan_kpis``: the raw
        ``unit`` and ``period`` and the ``reason``.
    """

    frame: pd.DataFrame
    counts: pd.Series
    rows_read: int
    source: str
    kind: str
    examples: pd.DataFrame = field(default_factory=lambda: pd.DataFrame(columns=["reason", "value"]))
    notes: tuple[str, ...] = ()
    rejected: pd.DataFrame = field(
        default_factory=lambda: pd.DataFrame(columns=["source_row", "reason", "value"])
    )

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
        counts = f"{len(self.frame)} rows out of {self.rows_read} read, {self.n_rejected} rejected"
        return f"<Scan {self.kind}: {counts}, from {self.source}>"

    def _repr_html_(self) -> str:
        return f"<pre>{html.escape(self.summary())}</pre>" + self.frame.head(5)._repr_html_()


def _source_sql(path: Any) -> tuple[str, str, list[str], str]:
    """(DuckDB table function call, source name, notes, numbered scan) for one path or a list of paths/globs.

    The numbered scan adds ``__file`` (the file) and ``__row`` (``source_row``: for CSV the record's
    position + 1, which is its line when the header is line 1 and no record spans lines, as the file readers
    count; for Parquet the row's position + 1).
    """
    paths = [path] if isinstance(path, (str, os.PathLike)) else list(path)
    if not paths:
        raise ValueError("The 'path' parameter must name at least one file.")
    texts = [str(p) for p in paths]
    suffixes = {Path(t).suffix.lower() for t in texts}
    for t in texts:
        if not any(ch in t for ch in "*?[") and not Path(t).is_file():
            raise FileNotFoundError(f"No such file: {t!r}")
    listing = "[" + ", ".join(_literal(t) for t in texts) + "]"
    if suffixes <= set(PARQUET_SUFFIXES):
        numbered = (
            f"(SELECT *, file_row_number + 1 AS __row FROM read_parquet({listing}, file_row_number=true, "
            "filename='__file'))"
        )
        return f"read_parquet({listing})", ", ".join(texts), ["parquet via DuckDB"], numbered
    if suffixes <= set(CSV_SUFFIXES):
        fn = f"read_csv({listing}, header=true, all_varchar=true)"
        # one numbered scan per file: a bare row_number() OVER () streams (no partition to buffer)
        files = [f for t in texts for f in (sorted(glob.glob(t)) if any(ch in t for ch in "*?[") else [t])]
        if not files:
            raise FileNotFoundError(f"No file matches {texts!r}")
        numbered = "(" + " UNION ALL ".join(
            f"SELECT *, {_literal(f)} AS __file, row_number() OVER () + 1 AS __row FROM read_csv("
            f"{_literal(f)}, header=true, all_varchar=true)"
            for f in files
        ) + ")"
        return fn, ", ".join(texts), ["CSV via DuckDB (all values as text)"], numbered
    allowed = ", ".join(CSV_SUFFIXES + PARQUET_SUFFIXES)
    raise ValueError(
        f"Cannot scan {texts!r}: the file type(s) {sorted(suffixes)} are not supported. "
        f"Supported: {allowed} (one kind per scan)."
    )


def _literal(text: str) -> str:
    """A SQL string literal."""
    return "'" + text.replace("'", "''") + "'"


def _missing_sql(col: str) -> str:
    """SQL: the text ``col`` is a missing value (:data:`impactlab.io.values.MISSING_STRINGS`)."""
    listed = ", ".join("'" + m.replace("'", "''") + "'" for m in sorted(MISSING_STRINGS))
    return f"({col} IS NULL OR lower({col}) IN ({listed}))"


def wall_sql(w: str) -> str:
    """SQL: the naive TIMESTAMP ``w`` as a wall-clock time of the session time zone, read as
    :func:`impactlab.io.dates.parse_timestamps` reads it: a time the clocks skipped or showed twice takes the
    UTC offset in force before the change (``fold=0``). DuckDB's own cast already does so for a skipped time
    but takes the second of two repeated ones; ``before`` is the reading with the offset of three hours
    earlier, which is that of before the change (no change moves clocks by three hours or more)."""
    before = f"(CAST({w} - INTERVAL 3 HOUR AS TIMESTAMPTZ) + INTERVAL 3 HOUR)"
    return (f"CASE WHEN CAST({before} AS TIMESTAMP) = {w} AND CAST({w} AS TIMESTAMPTZ) <> {before}"
            f" THEN {before} ELSE CAST({w} AS TIMESTAMPTZ) END")


#: A naive ISO 8601 date or date-time (no zone or offset), as SQL regular expression.
_NAIVE_ISO = r"[0-9]{4}-[0-9]{1,2}-[0-9]{1,2}([T ][0-9]{1,2}:[0-9]{2}(:[0-9]{2}([.][0-9]+)?)?)?"


def timestamp_sql(col: str) -> str:
    """SQL reading the trimmed text ``col`` as TIMESTAMPTZ the way :func:`impactlab.io.dates` reads it.

    ISO 8601 (naive values in the session time zone, :func:`wall_sql`), ``YYYYMMDD``, ``/Date(ms)/``, and
    numbers by size: Excel serials (wall clock in the session time zone), Unix epoch seconds and
    milliseconds (UTC). ``0`` means not set (NULL, like an empty cell). NULL for anything else (day/month
    orders and month names are left to the file readers, which can settle or ask).
    """
    x = f"try_cast({col} AS DOUBLE)"
    serial = (f"(TIMESTAMP '1899-12-30' + to_seconds(CAST(round_even(round_even({x} * 86400000, 0) / 1000, 0)"
              " AS BIGINT)))")
    naive = f"try_cast({col} AS TIMESTAMP)"
    return (
        f"CASE WHEN {_missing_sql(col)} OR {col} IN ('0', '0.0') THEN NULL"
        f" WHEN regexp_full_match({col}, '(19|20)[0-9]{{6}}')"
        f" THEN CAST(try_strptime({col}, '%Y%m%d') AS TIMESTAMPTZ)"
        f" WHEN regexp_full_match({col}, '[0-9]+([.][0-9]+)?') THEN CASE"
        f"  WHEN {x} >= {EXCEL_SERIALS[0]} AND {x} < {EXCEL_SERIALS[1]} THEN {wall_sql(serial)}"
        f"  WHEN {x} >= {EPOCH_SECONDS[0]} AND {x} < {EPOCH_SECONDS[1]}"
        f"   THEN timezone('UTC', epoch_ms(CAST(round_even({x} * 1000, 0) AS BIGINT)))"
        f"  WHEN {x} >= {EPOCH_MILLISECONDS[0]} AND {x} < {EPOCH_MILLISECONDS[1]}"
        f"   THEN timezone('UTC', epoch_ms(CAST(round_even({x}, 0) AS BIGINT)))"
        "  END"
        rf" WHEN regexp_full_match({col}, '/?\\?/Date\((-?[0-9]+)([+-][0-9]{{4}})?\)\\?/?')"
        rf" THEN timezone('UTC', epoch_ms(CAST(regexp_extract({col}, '\((-?[0-9]+)', 1) AS BIGINT)))"
        f" WHEN regexp_full_match({col}, '{_NAIVE_ISO}') AND {naive} IS NOT NULL THEN {wall_sql(naive)}"
        f" ELSE try_cast({col} AS TIMESTAMPTZ) END"
    )


def _connect(tz: str) -> Any:
    import duckdb

    con = duckdb.connect()
    con.execute(f"SET TimeZone = '{tz}'")
    con.execute("SET enable_progress_bar = false")  # a library prints nothing on the caller's stdout
    return con


def arrow_to_pandas(table: Any, **options: Any) -> pd.DataFrame:
    """A pyarrow Table as a DataFrame in bounded memory: each text column first becomes one contiguous
    ``large_string`` array (the storage of pandas' Arrow-backed strings, so the conversion casts nothing,
    and later takes need not concatenate chunks), then columns are handed over one by one and released
    (``split_blocks``, ``self_destruct``), and the memory Arrow freed goes back to the system.

    ``options`` are passed to :meth:`pyarrow.Table.to_pandas` (e.g. ``date_as_object=False``). The
    table must not be used afterwards.
    """
    import pyarrow as pa

    for i, f in enumerate(table.schema):
        if not (pa.types.is_string(f.type) or pa.types.is_large_string(f.type)
                or getattr(pa.types, "is_string_view", lambda _: False)(f.type)):
            continue
        col = table.column(i)
        if col.num_chunks == 1 and pa.types.is_large_string(f.type):
            continue
        pieces = [c.cast(pa.large_string()) for c in col.chunks]
        del col
        one = pa.concat_arrays(pieces) if pieces else pa.array([], type=pa.large_string())
        del pieces
        table = table.set_column(i, pa.field(f.name, pa.large_string(), f.nullable), pa.chunked_array([one]))
        del one
    frame = table.to_pandas(split_blocks=True, self_destruct=True, **options)
    del table
    pa.default_memory_pool().release_unused()
    return frame


def _arrow_frame(con: Any, query: str) -> pd.DataFrame:
    """The result of ``query`` as a DataFrame through Arrow: text columns arrive as Arrow strings, without
    one Python object per value (at 24 million rows DuckDB's ``.df()`` spends seconds and gigabytes
    building them); see :func:`arrow_to_pandas`."""
    return arrow_to_pandas(con.sql(query).to_arrow_table())


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
    smap = extend_status_map(status_map)
    src, source, notes, numbered = _source_sql(path)
    con = _connect(tz)
    try:
        h = _headers(con, src, source, COMPLETIONS.readable, columns)
        _require(h, ("employee_id", "program", "status", "completed_at"), source)
        e, p, s, c = (_q(h[k]) for k in ("employee_id", "program", "status", "completed_at"))
        # one pass over the file: only four columns (and the row number), only the programme's rows
        con.execute(
            f"CREATE TEMP TABLE prog AS SELECT __file AS f, __row AS r, {_ID.format(c=e)} AS e,"
            f" trim(CAST({s} AS VARCHAR)) AS s, trim(CAST({c} AS VARCHAR)) AS c FROM {numbered} "
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
        trained = "st.status IN ('completed', 'passed')"
        # one outcome per row, first match wins, so the counts add up to the rows read
        con.execute(
            "CREATE TEMP TABLE judged AS SELECT f, r, e, s, c, st.status AS status, ts, CASE"
            f" WHEN {_missing_sql('e')} THEN 'missing employee_id'"
            f" WHEN regexp_full_match(e, '{_SCIENTIFIC}') THEN 'employee_id in scientific notation'"
            f" WHEN {_missing_sql('s')} THEN 'missing status'"
            " WHEN st.status IS NULL THEN 'unknown status'"
            f" WHEN NOT {trained} THEN 'other status'"
            f" WHEN {_missing_sql('c')} OR c IN ('0', '0.0') THEN 'missing completed_at'"
            " WHEN ts IS NULL THEN 'unreadable completed_at'"
            f" WHEN ts > {_literal(str(_read_limit()))}::TIMESTAMPTZ"
            f" OR ts < {_literal(str(EARLIEST))}::TIMESTAMPTZ"
            " THEN 'completed_at in the future or before 1900'"
            " ELSE 'used' END AS outcome"
            f" FROM (SELECT *, {timestamp_sql('c')} AS ts FROM prog) LEFT JOIN st USING (s)"
        )
        tally = dict(con.execute("SELECT outcome, count(*) FROM judged GROUP BY outcome").fetchall())
        frame = con.execute(
            "SELECT e AS employee_id, arg_min(status, ts) AS status, arg_min(s, ts) AS status_raw,"
            " min(ts) AS completed_at, count(*) AS attempt FROM judged WHERE outcome = 'used'"
            " GROUP BY e ORDER BY e"
        ).df()
        rejected = con.execute(
            "SELECT r AS source_row, f AS source_file, e AS employee_id, s AS status, c AS completed_at,"
            " outcome AS reason, CASE outcome WHEN 'missing employee_id' THEN e"
            " WHEN 'employee_id in scientific notation' THEN e"
            " WHEN 'missing status' THEN s WHEN 'unknown status' THEN s ELSE c END AS value"
            " FROM judged WHERE outcome NOT IN ('used', 'other status') ORDER BY f, r"
        ).df()
    finally:
        con.close()
    reasons = [
        "missing employee_id",
        "employee_id in scientific notation",
        "missing status",
        "unknown status",
        "missing completed_at",
        "unreadable completed_at",
        "completed_at in the future or before 1900",
        "other status",
    ]
    counts = pd.Series({"used": int(tally.get("used", 0))}, name="rows")
    found = pd.Series({k: int(tally[k]) for k in reasons if tally.get(k)}, name="rows", dtype="int64")
    counts = pd.concat([counts, found]).astype("int64")
    rejected = rejected.astype(
        {"source_row": "int64", **{k: "str" for k in ("source_file", "employee_id", "status", "completed_at",
                                                      "reason", "value")}}
    )
    if len(texts := source.split(", ")) == 1 and "*" not in texts[0]:
        rejected = rejected.drop(columns="source_file")
    first = rejected.groupby("reason", sort=False).head(5)
    examples = first[["reason", "value", "source_row"]].reset_index(drop=True)
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
    notes = [*notes, f"status map applied to {len(canon)} distinct raw statuses", SCAN_COMPLETIONS_RULES]
    unread = rejected[rejected["reason"] == "unreadable completed_at"]
    readable = [(v, r) for v, r in zip(unread["value"], unread["source_row"], strict=True) if _reader_date(v)]
    if readable:
        notes.append(_differs(
            f"{len(readable)} completed_at value(s) in forms read_completions reads but the scan does not "
            f"(day/month orders, month names; e.g. {readable[0][0]!r} at row {readable[0][1]}) are rejected "
            "here", "rewrite the column as ISO 8601 dates (2024-03-31) in the export, or read the file with "
            "read_completions(..., dayfirst=...)"))
    return Scan(out, counts, int(rows_read), source, "completions", examples, tuple(notes), rejected)


#: What the completions scan checks, and what it leaves to :func:`impactlab.read_completions` (a note of
#: every completions scan).
SCAN_COMPLETIONS_RULES = (
    "per-row rules: missing and unknown values, ids in scientific notation, unreadable dates and dates in "
    "the future or before 1900 are rejected as read_completions rejects them; not checked: exact duplicate "
    "rows (attempt counts every trained row), employment spells (roster=), vendor presets and credit flags, "
    "dates in day/month orders or with month names (rejected as unreadable)"
)


def _reader_date(value: Any) -> bool:
    """Would the file readers read ``value`` as a date (in one day/month order or the other)?"""
    hit = _match(str(value).strip())
    if hit is None:
        return False
    for dayfirst in (False, True):
        try:
            hit[0].parse(hit[1], dayfirst)
            return True
        except (ValueError, OverflowError):
            continue
    return False


def _differs(what: str, fix: str) -> str:
    """A :class:`DataQualityWarning` that the scan reads some rows differently from the file readers, and
    the note saying so."""
    text = f"the DuckDB scan differs from the file readers here: {what}; {fix}"
    warnings.warn(text, DataQualityWarning, stacklevel=3)
    return text


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
    src, source, notes, numbered = _source_sql(path)
    con = _connect(tz)
    try:
        names = [r[0] for r in con.execute(f"DESCRIBE SELECT * FROM {src}").fetchall()]
        _require({n: n for n in names}, [unit, time, *metrics], source)
        # a metric is a finite plain number or missing (a blank or a null spelling, but for the text NaN,
        # which read_kpis rejects in a number column, as it rejects inf and 1e309)
        text_of = {m: f"trim(CAST({_q(m)} AS VARCHAR))" for m in metrics}
        num_of = {m: f"try_cast({text_of[m]} AS DOUBLE)" for m in metrics}
        ms = ", ".join(f"{num_of[m]} AS {_q(m)}" for m in metrics)
        raw_ms = ", ".join(f"{text_of[m]} AS {_q('raw ' + m)}" for m in metrics)
        bad_m = " OR ".join(
            f"((({num_of[m]} IS NULL OR NOT isfinite({num_of[m]})) AND NOT ({_missing_sql(text_of[m])}"
            f" AND lower({text_of[m]}) <> 'nan')))"
            for m in metrics
        )
        t = f"trim(CAST({_q(time)} AS VARCHAR))"
        when = f"coalesce(try_strptime({t}, '%Y-%m'), try_cast({t} AS TIMESTAMP))"
        u = _ID.format(c=_q(unit))
        # no materialised copy of the file: one streaming pass lists the rejected rows (few), a second one
        # brings the used rows to pandas through Arrow; the counts follow from the two
        rows = (
            f"(SELECT __file AS f, __row AS r, {t} AS t, {u} AS u, {when} AS w, ({bad_m}) AS bad_m, {ms},"
            f" {raw_ms} FROM {numbered})"
        )
        bad_row = "u IS NULL OR u = '' OR w IS NULL OR bad_m"
        raw_cols = ", ".join(_q("raw " + m) for m in metrics)
        rejected = con.execute(
            "SELECT r AS source_row, f AS source_file, u AS unit, t AS period, CASE"
            " WHEN u IS NULL OR u = '' THEN 'missing unit' WHEN w IS NULL THEN 'unreadable period'"
            f" ELSE 'metric not a number' END AS reason, {raw_cols} FROM {rows}"
            f" WHERE {bad_row} ORDER BY f, r"
        ).df()
        mcols = ", ".join(_q(m) for m in metrics)
        # the pandas Period ordinal: months (or quarters) since January 1970
        ordinal = "(year(w) - 1970) * 12 + month(w) - 1" if freq == "M" else \
            "(year(w) - 1970) * 4 + (month(w) - 1) // 3"
        several = len(source.split(", ")) > 1 or any(ch in source for ch in "*?[")
        fcol = "f, " if several else ""  # one file: its name is not repeated on every row
        frame = _arrow_frame(
            con, f"SELECT {fcol}r, u, CAST({ordinal} AS BIGINT) AS p, {mcols} FROM {rows}"
                 f" WHERE NOT ({bad_row})"
        )
        if not several:
            frame["f"] = source
    finally:
        con.close()
    period = pd.arrays.PeriodArray(frame["p"].to_numpy(dtype=np.int64), dtype=pd.PeriodDtype(freq))
    out = pd.DataFrame({unit: frame["u"].astype("str"), "period": period})
    for m in metrics:
        out[m] = frame[m].astype("float64")
    out, repeated = _repeated_keys(out, frame[["f", "r"]], unit, list(metrics))
    del frame
    notes = [*notes, SCAN_KPIS_RULES]
    raw = rejected.loc[rejected["reason"] == "metric not a number", [f"raw {m}" for m in metrics]]
    readable = [(v, int(r)) for m in metrics for v, r in zip(raw[f"raw {m}"], rejected.loc[raw.index,
                                                                                          "source_row"],
                                                            strict=True)
                if isinstance(v, str) and v and _reader_number(v)]
    if readable:
        notes.append(_differs(
            f"{len(readable)} metric value(s) written with thousands separators, a decimal comma or a "
            "currency symbol (e.g. "
            f"{readable[0][0]!r} at row {readable[0][1]}), which read_kpis reads, are rejected by the scan "
            "as not plain numbers", "write the metrics as plain numbers (1234.56) in the export, or read the "
            "file with read_kpis"))
    rejected = pd.concat([rejected.drop(columns=[f"raw {m}" for m in metrics]), repeated],
                         ignore_index=True).sort_values(["source_file", "source_row"], kind="stable")
    rejected = rejected.reset_index(drop=True)
    by_reason = rejected["reason"].value_counts()
    no_unit, no_time, bad = (int(by_reason.get(k, 0)) for k in ("missing unit", "unreadable period",
                                                                 "metric not a number"))
    n_dup, n_key = (int(by_reason.get(k, 0)) for k in (_EXACT, _CONFLICT))
    rows_read = len(out) + len(rejected)
    counts = pd.Series(
        {"used": len(out), "missing unit": no_unit, "unreadable period": no_time, "metric not a number": bad,
         _EXACT: n_dup, _CONFLICT: n_key},
        name="rows",
    ).astype("int64")
    counts = counts[(counts > 0) | (counts.index == "used")]
    rejected = rejected.astype({"source_row": "int64"})
    if len(source.split(", ")) == 1 and "*" not in source:
        rejected = rejected.drop(columns="source_file")
    examples = rejected.groupby("reason", sort=False).head(5)
    examples = examples.assign(value=examples["period"])[["reason", "value", "source_row"]]
    return Scan(out, counts, int(rows_read), source, "kpis", examples.reset_index(drop=True), tuple(notes),
                rejected)


#: What the KPI scan checks, and what it leaves to :func:`impactlab.read_kpis` (a note of every KPI scan).
SCAN_KPIS_RULES = (
    "per-row rules: a missing unit, an unreadable period, a metric that is not a finite number (inf, "
    "the text NaN) and repeated unit-period rows (exact duplicates, conflicting values) are rejected as "
    "read_kpis rejects them; not read: wide sheets, period labels other than YYYY-MM or a date (quarters, "
    "fiscal labels), metrics with thousands separators, decimal commas or currency symbols (rejected, and "
    "named in a warning)"
)

_EXACT = "exact duplicate of another row (same unit, period and values)"
_CONFLICT = "conflicting rows for one unit and period"


def _repeated_keys(out: pd.DataFrame, where: pd.DataFrame, unit: str, metrics: list[str]) -> tuple[
        pd.DataFrame, pd.DataFrame]:
    """Rows of one unit and period, as ``read_kpis`` judges them: a repeat with the same values is an exact
    duplicate (the first kept), rows with different values all conflict (none kept). Returns the rows kept
    and the rejected ones (``source_row``, ``source_file``, ``unit``, ``period``, ``reason``)."""
    keys = out[[unit, "period"]]
    dup = keys.duplicated(keep=False).to_numpy()
    empty = pd.DataFrame({"source_row": pd.Series(dtype="int64"), "source_file": pd.Series(dtype="str"),
                          "unit": pd.Series(dtype="str"), "period": pd.Series(dtype="str"),
                          "reason": pd.Series(dtype="str")})
    if not dup.any():
        return out, empty
    sub = out[dup]
    distinct = sub.groupby([unit, "period"], sort=False)[metrics].transform("nunique", dropna=False)
    same = distinct.le(1).all(axis=1)
    first = ~sub.duplicated([unit, "period"], keep="first")
    drop = sub.index[~(same & first)]
    why = np.where(same.loc[drop], _EXACT, _CONFLICT)
    gone = pd.DataFrame({"source_row": where.loc[drop, "r"].astype("int64").to_numpy(),
                         "source_file": where.loc[drop, "f"].astype("str").to_numpy(),
                         "unit": out.loc[drop, unit].astype("str").to_numpy(),
                         "period": out.loc[drop, "period"].astype("str").to_numpy(), "reason": why})
    return out.drop(index=drop).reset_index(drop=True), gone


def _reader_number(text: str) -> bool:
    """Would ``read_kpis`` read ``text`` as a finite number?"""
    from impactlab.io.numbers import parse_numbers_explained

    parsed, bad, _ = parse_numbers_explained(pd.Series([text], dtype=object), "metric")
    return not bool(bad[0]) and bool(np.isfinite(parsed.iloc[0]))
