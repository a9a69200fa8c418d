"""The KPI reader: one row per unit (employee, team, store) and period, one numeric column per metric."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, Literal

import numpy as np
import pandas as pd

from impactlab.errors import DataError, Failure, check_option
from impactlab.io import _engine, wide
from impactlab.io._engine import Context, Problem
from impactlab.io.dates import parse_timestamps
from impactlab.io.headers import ColumnMatch, snake_case
from impactlab.io.numbers import parse_numbers
from impactlab.io.periods import PERIOD_FORMS, check_fiscal_year_start, period_headers, read_label
from impactlab.io.readers import Columns, Errors, ReadOptions, Source
from impactlab.io.sources import RawSource, load_source
from impactlab.io.table import Table
from impactlab.io.values import distinct_values, is_missing_value, missing_mask
from impactlab.schemas.tables import COMPLETIONS, ColumnSpec, TableSchema, kpis_schema
from impactlab.schemas.vocab import normalise_key

#: Share of a column's non-empty values that must read as numbers for ``metrics=None`` to take it as a
#: metric; columns below it are kept as extra (text) columns.
METRIC_SHARE = 0.5


def check_freq(freq: str) -> str:
    """Validate a pandas period frequency (``"M"``, ``"W"``, ``"Q"``, ``"D"``...)."""
    try:
        pd.Period("2024-01-01", freq=freq)
    except (ValueError, TypeError) as exc:
        raise ValueError(
            f"The 'freq' parameter must be a pandas period frequency such as 'M', 'W', 'Q' or "
            f"'D'. Got {freq!r} instead."
        ) from exc
    return freq


def parse_periods(
    values: pd.Series, ctx: Context, header: str, fiscal_year_start: int | None = None
) -> tuple[pd.Series, np.ndarray]:
    """Read a period column: month and quarter labels as BI tools write them
    (:func:`impactlab.io.periods.read_label`: ``"Jan 2024"``, ``"2024-01"``, ``"2024M01"``, ``"Q1 2024"``,
    fiscal periods given ``fiscal_year_start``), Period values, or dates (the period holding them, in
    ``tz``)."""
    freq = ctx.freq
    dtype = pd.PeriodDtype(freq)
    if isinstance(values.dtype, pd.PeriodDtype):
        return values.dt.asfreq(freq, how="start").astype(dtype), np.zeros(len(values), dtype=bool)
    distinct, codes = distinct_values(values)
    out: list[Any] = [pd.NaT] * (len(distinct) + 1)  # the last one: code -1, a null
    bad = np.zeros(len(distinct) + 1, dtype=bool)
    pending: list[int] = []
    for i, v in enumerate(distinct):
        if is_missing_value(v):
            continue
        if isinstance(v, pd.Period):
            out[i] = v.asfreq(freq, how="start")
            continue
        if isinstance(v, str):
            base, why = read_label(v, fiscal_year_start)
            if base is not None:
                out[i] = base.asfreq(freq, how="start")
                continue
            if why is not None:
                bad[i] = True
                continue
        pending.append(i)
    if pending:
        sub = pd.Series([distinct[i] for i in pending], dtype=object)
        ts, sub_bad = parse_timestamps(
            sub, tz=ctx.tz, dayfirst=ctx.dayfirst, column=header, source=ctx.source
        )
        local = ts.dt.tz_convert(ctx.tz).dt.tz_localize(None).dt.to_period(freq)
        for j, i in enumerate(pending):
            if sub_bad[j] or pd.isna(local.iloc[j]):
                bad[i] = True
            else:
                out[i] = local.iloc[j]
    periods = pd.array(out, dtype=dtype)
    return pd.Series(periods[codes], index=values.index), bad[codes]


def _find(raw_columns: Sequence[str], names: Sequence[str], taken: set[str]) -> str | None:
    keys = [normalise_key(n) for n in names]
    best: tuple[int, bool, str] | None = None
    for r in raw_columns:
        k = normalise_key(r)
        if r not in taken and k in keys:
            rank = (keys.index(k), r != names[keys.index(k)])  # the header written as named wins a tie
            if best is None or rank < best[:2]:
                best = (*rank, r)
    return None if best is None else best[2]


def _duplicate_keys(unit: str, metrics: Sequence[str]) -> _engine.KeyCheck:
    def check(
        typed: pd.DataFrame, failed: np.ndarray, headers: dict[str, str], rows: np.ndarray
    ) -> list[Problem]:
        ok = np.flatnonzero(~failed)
        keys = typed.iloc[ok][[unit, "period"]]
        dup = keys.duplicated(keep=False).to_numpy()
        if not dup.any():
            return []
        problems: list[Problem] = []
        sub = typed.iloc[ok[dup]]
        for (u, per), grp in sub.groupby([unit, "period"], sort=False):
            pos = [int(ok[dup][k]) for k in range(int(dup.sum())) if sub.index[k] in grp.index]
            vals = grp[list(metrics)]
            same = len(metrics) == 0 or bool((vals.nunique(dropna=False) <= 1).all())
            lines = [int(rows[p]) for p in pos]
            if same:
                problems += [
                    (
                        p,
                        None,
                        None,
                        f"exact duplicate of row {lines[0]} (same {unit}, period and values)",
                        "duplicate",
                    )
                    for p in pos[1:]
                ]
            else:
                problems += [
                    (
                        p,
                        None,
                        None,
                        f"conflicting rows for {unit}={u!r}, period {per}: rows "
                        f"{lines} hold different values; keep one row per {unit} and period",
                        "key",
                    )
                    for p in pos
                ]
        return problems

    return check


Layout = Literal["auto", "long", "wide"]


def unit_column(unit: str) -> str:
    """The output name of the unit column: ``employee_id`` for any spelling of an employee id ("Employee
    ID", "User ID"...), so that :func:`~impactlab.build_panel` finds it; other units in snake_case
    (``"Store"`` -> ``store``)."""
    keys = {normalise_key(s) for s in ("employee_id", *COMPLETIONS.column("employee_id").synonyms)}
    return "employee_id" if normalise_key(unit) in keys else snake_case(unit)


def read_kpis(
    source: Source, unit: str = "employee_id", time: str = "month", metrics: Sequence[str] | None = None, *,
    freq: str = "M", preset: str | None = None, columns: Columns | None = None, errors: Errors = "quarantine",
    tz: str = "UTC", dayfirst: bool | None = None, sheet: str | int | None = None, layout: Layout = "auto",
    metric: str | None = None, fiscal_year_start: int | str | None = None,
) -> Table:
    """Read business KPIs, one row per unit and period (or one column per period), into the kpis table.

    Parameters
    ----------
    source : path or DataFrame
        CSV/TSV, Parquet or xlsx file, or a DataFrame.
    unit : str
        Header of the unit id (``"employee_id"`` by default, or a team/store key). An employee id under any
        header (``unit="Employee ID"``, ``"User ID"``...) is output as ``employee_id``, the column
        :func:`~impactlab.build_panel` joins on; another unit is output in snake_case (``"Store"`` ->
        ``store``). For ``"employee_id"`` the usual synonyms ("User ID", "Employee"...) are accepted.
    time : str
        Header of the period column (long layout); the output column is ``period``.
    metrics : list of str, optional
        Metric headers (output under these names). ``None`` takes every other column whose non-empty values
        are mostly numbers (at least :data:`METRIC_SHARE`); other columns are kept as extra columns.
    freq : str
        Period frequency of the output (``"M"`` monthly by default; ``"W"``, ``"Q"``, ``"D"``...).
    preset, columns, errors, tz, dayfirst, sheet
        See :class:`~impactlab.io.readers.ReadOptions`. ``columns`` may map a header onto ``unit``,
        ``time``/``"period"`` or a metric name.
    layout : {"auto", "long", "wide"}
        ``"long"``: one row per unit and period. ``"wide"``: one row per unit and one column per period,
        headed by period labels (``"Jan 2024"`` … ``"Jun 2025"``), one metric per sheet or file.
        ``"auto"`` (default) reads a sheet as wide when it has no period column (``time``) and at least two
        headers are period labels.
    metric : str, optional
        Wide layout: the name of the metric the cells hold (``"value"`` when not given, or the one name of
        ``metrics``).
    fiscal_year_start : int or str, optional
        The month the fiscal year starts in (4 or ``"April"``), to read fiscal labels such as ``"FY24 P01"``
        or ``"Q1 FY2024"``. A fiscal year is named by the calendar year in which it ends: with April,
        ``"FY24 P01"`` is April 2023 and ``"FY24 P12"`` March 2024.

    Returns
    -------
    Table
        Columns: the unit (``employee_id`` or the unit's snake_case name), ``period`` (pandas Period of
        ``freq``), the metrics (float), extra columns, ``source_row``. Wide layout: one row per cell, with
        ``source_line`` (the sheet's row) and ``source_column`` (the period header) naming it and
        ``source_row`` numbering the cells; ``rows_read`` counts cells.

    Raises
    ------
    DataError
        A required column missing, fiscal labels without ``fiscal_year_start``, or no row kept (every row
        rejected: the message says what was seen).

    Notes
    -----
    Periods are read from month labels (``"Jan 2024"``, ``"January 2024"``, ``"Jan-24"``, ``"2024-01"``,
    ``"202401"``, ``"2024/01"``, ``"2024M01"``, ``"01/2024"``), quarter labels (``"Q1 2024"``,
    ``"2024 Q1"``, ``"2024-Q1"``: the quarter's first period at ``freq="M"``), fiscal labels, Period values
    or any date the readers accept (the period containing it, in ``tz``). Numbers accept thousands
    separators and decimal commas (:mod:`impactlab.io.numbers`). When several rows share a unit and period:
    identical rows keep the first and reject the others ("exact duplicate of row N"); rows with different
    values are all rejected, because choosing one would be a guess. In the wide layout an empty or
    unreadable cell is rejected with its row and header, and a totals row ("Total", "Grand total") is
    rejected as such.
    """
    check_freq(freq)
    check_option("layout", layout, ("auto", "long", "wide"))
    fiscal = None if fiscal_year_start is None else check_fiscal_year_start(fiscal_year_start)
    options = ReadOptions(preset=preset, columns=columns, errors=errors, tz=tz, dayfirst=dayfirst,
                          sheet=sheet)
    p = options.layout
    out_unit = unit_column(unit)
    unit_names = [unit] + (list(COMPLETIONS.column("employee_id").synonyms) if out_unit == "employee_id"
                           else [])
    mapped = set((columns or {}).keys()) | set(p.columns_for("kpis").keys())

    def accept(headers: list[str]) -> bool:
        """A sheet holds KPIs when it has the unit and time columns (or headers mapped onto them), or the
        unit column and period labels as headers."""
        has = {normalise_key(h) for h in headers}
        named = any(normalise_key(m) in has for m in mapped)
        found_unit = _find(headers, unit_names, set()) is not None
        timed = _find(headers, [time, "period"], set()) is not None
        wide = layout != "long" and len(period_headers(headers, fiscal)) >= 2
        return named or (found_unit and (timed or wide))

    raw = load_source(source, sheet=sheet, accept=accept)
    ctx = options.context(raw.source, freq=freq)
    cols = [str(c) for c in raw.frame.columns]
    user = dict(p.columns_for("kpis"))
    user.update(columns or {})
    targets: dict[str, str] = {}
    for r, target in user.items():
        hit = _find(cols, [r], set())
        if hit is None:
            if columns and r in columns:
                raise DataError(
                    f"columns= names the header {r!r}, which is not in the input",
                    source=raw.source,
                    failures=[Failure(None, r, None, "header not found")],
                    hint=f"headers seen: {cols}",
                )
            continue
        key = "period" if target in (time, "period") else out_unit if target in (unit, out_unit) else target
        targets[key] = hit
    taken = set(targets.values())
    if out_unit not in targets:
        hit = _find(cols, unit_names, taken)
        if hit is not None:
            targets[out_unit] = hit
            taken.add(hit)
    if "period" not in targets and layout != "wide":
        hit = _find(cols, [time, "period"], taken)
        if hit is not None:
            targets["period"] = hit
            taken.add(hit)
    labels = period_headers([c for c in cols if c not in taken], fiscal) if "period" not in targets else {}
    if layout == "wide" or (layout == "auto" and "period" not in targets and len(labels) >= 2):
        return _read_wide(raw, options, ctx, targets, labels, out_unit, unit, metric, metrics, cols)
    lacking = [n for n, k in ((unit, out_unit), (time, "period")) if k not in targets]
    if lacking:
        raise DataError(
            f"the kpis table lacks the column(s) {lacking}; headers seen: {cols}",
            source=raw.source,
            failures=[Failure(None, n, None, "required column not found") for n in lacking],
            hint=f"pass unit=/time= with your headers, or columns={{'<your header>': {lacking[0]!r}}}; a "
            "sheet with one column per period is read when its headers are period labels "
            f"({', '.join(PERIOD_FORMS)})",
        )
    if metrics is not None:
        for m in metrics:
            if m not in targets:
                hit = _find(cols, [m], taken)
                if hit is None:
                    raise DataError(
                        f"metric {m!r} is not in the input; headers seen: {cols}",
                        source=raw.source,
                        failures=[Failure(None, m, None, "metric column not found")],
                        hint="pass metrics= with headers of the input",
                    )
                targets[m] = hit
                taken.add(hit)
        metric_names = list(metrics)
    else:
        metric_names = [t for t in targets if t not in (out_unit, "period")]
        for r in cols:
            if r in taken:
                continue
            values = raw.frame[r]
            present = ~missing_mask(values)
            _, bad = parse_numbers(values)
            if present.sum() and (present & ~bad).sum() >= METRIC_SHARE * present.sum():
                name = snake_case(r)
                targets[name] = r
                taken.add(r)
                metric_names.append(name)
    schema = kpis_schema(out_unit, tuple(metric_names))
    match = ColumnMatch(canonical=targets, extras=_extras(cols, taken, set(targets)))
    table = _engine.read(raw, schema, ctx, errors=errors, match=match, columns=columns,
                         period_parser=_periods(fiscal), key_check=_duplicate_keys(out_unit, metric_names))
    return _engine.refuse_empty(table)


def _periods(fiscal: int | None) -> _engine.PeriodParser:
    def parse(values: pd.Series, ctx: Context, header: str) -> tuple[pd.Series, np.ndarray]:
        return parse_periods(values, ctx, header, fiscal)

    return parse


def _header_periods(periods: dict[str, pd.Period]) -> _engine.PeriodParser:
    """The period of each cell: that of its header, read once."""
    def parse(values: pd.Series, ctx: Context, header: str) -> tuple[pd.Series, np.ndarray]:
        dtype = pd.PeriodDtype(ctx.freq)
        out = pd.array([periods[h].asfreq(ctx.freq, how="start") for h in values], dtype=dtype)
        return pd.Series(out, index=values.index), np.zeros(len(values), dtype=bool)

    return parse


def _extras(cols: Sequence[str], taken: set[str], used: set[str]) -> dict[str, str]:
    """Snake_case names of the columns not read as canonical ones, told apart from each other."""
    extras = {}
    used = used | {"source_row"}
    for r in cols:
        if r not in taken:
            name = base = snake_case(r)
            k = 2
            while name in used:
                name, k = f"{base}_{k}", k + 1
            used.add(name)
            extras[r] = name
    return extras


def _read_wide(raw: RawSource, options: ReadOptions, ctx: Context, targets: dict[str, str],
               labels: dict[str, pd.Period | str], out_unit: str, unit: str, metric: str | None,
               metrics: Sequence[str] | None, cols: list[str]) -> Table:
    """Read a sheet with one column per period (see :mod:`impactlab.io.wide`)."""
    if out_unit not in targets:
        raise DataError(
            f"the wide kpis sheet has no unit column {unit!r}; headers seen: {cols}",
            source=raw.source,
            failures=[Failure(None, unit, None, "required column not found")],
            hint="pass unit= with the header of the employee (or team) id column",
        )
    if not labels:
        raise DataError(
            f"layout='wide' needs period labels as headers, and none of {cols} reads as one",
            source=raw.source,
            failures=[Failure(None, None, None, "no period header")],
            hint=f"name the period columns as {', '.join(PERIOD_FORMS)}, or read a long sheet with "
            "layout='long'",
        )
    unreadable = {h: why for h, why in labels.items() if isinstance(why, str)}
    if unreadable:
        raise DataError(
            f"{len(unreadable)} period header(s) cannot be placed: {list(unreadable)}",
            source=raw.source,
            failures=[Failure(None, h, h, why, "period") for h, why in unreadable.items()],
            hint=next(iter(unreadable.values())),
        )
    if metric is None:
        metric = metrics[0] if metrics is not None and len(metrics) == 1 else "value"
    if metrics is not None and list(metrics) != [metric]:
        raise ValueError(
            f"A wide sheet holds one metric; pass metric='<name>' (got metrics={list(metrics)!r}, "
            f"metric={metric!r})."
        )
    periods = {h: per for h, per in labels.items() if isinstance(per, pd.Period)}
    long = wide.melt(raw, targets[out_unit], periods, metric)
    canonical = {out_unit: targets[out_unit], "period": wide.HEADER, metric: metric}
    taken = {targets[out_unit], metric}
    extras = _extras([c for c in long.frame.columns], taken, set(canonical))
    schema = TableSchema("kpis", (ColumnSpec(out_unit, "id", True), ColumnSpec("period", "period", True),
                                  ColumnSpec(metric, "number", True)))
    table = _engine.read(long, schema, ctx, errors="quarantine",
                         match=ColumnMatch(canonical=canonical, extras=extras),
                         period_parser=_header_periods(periods),
                         key_check=_duplicate_keys(out_unit, [metric]), non_data_rows=wide.TOTAL_ROWS)
    table = wide.name_cells(table, metric)
    if options.errors == "raise" and len(table.rejected):
        raise wide.cell_errors(table)
    return _engine.refuse_empty(table)
