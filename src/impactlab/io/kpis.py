"""The KPI reader: one row per unit (employee, team, store) and period, one numeric column per metric."""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd

from impactlab.errors import DataError, Failure
from impactlab.io import _engine
from impactlab.io._engine import Context, Problem
from impactlab.io.dates import parse_timestamps
from impactlab.io.headers import ColumnMatch, snake_case
from impactlab.io.numbers import parse_numbers
from impactlab.io.readers import Columns, Errors, ReadOptions, Source
from impactlab.io.sources import load_source
from impactlab.io.table import Table
from impactlab.io.values import distinct_values, is_missing_value, missing_mask
from impactlab.schemas.tables import COMPLETIONS, kpis_schema
from impactlab.schemas.vocab import normalise_key

_YEAR_MONTH = re.compile(r"(\d{4})[-/.]?(0[1-9]|1[0-2]|[1-9])")
_YEAR_QUARTER = re.compile(r"(\d{4})\s*-?\s*[Qq]([1-4])")

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


def parse_periods(values: pd.Series, ctx: Context, header: str) -> tuple[pd.Series, np.ndarray]:
    """Read a period column: ``"YYYY-MM"``, ``"YYYY-Qn"``, Period values, or dates (period in ``tz``)."""
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
            t = v.strip()
            m = _YEAR_MONTH.fullmatch(t)
            q = _YEAR_QUARTER.fullmatch(t)
            base: pd.Period | None = None
            if m is not None:
                base = pd.Period(year=int(m.group(1)), month=int(m.group(2)), freq="M")
            elif q is not None:
                base = pd.Period(f"{q.group(1)}Q{q.group(2)}", freq="Q")
            if base is not None:
                out[i] = base.asfreq(freq, how="start")
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


def read_kpis(
    source: Source, unit: str = "employee_id", time: str = "month", metrics: Sequence[str] | None = None, *,
    freq: str = "M", preset: str | None = None, columns: Columns | None = None, errors: Errors = "quarantine",
    tz: str = "UTC", dayfirst: bool | None = None, sheet: str | int | None = None,
) -> Table:
    """Read business KPIs, one row per unit and period, into the canonical kpis table.

    Parameters
    ----------
    source : path or DataFrame
        CSV/TSV, Parquet or xlsx file, or a DataFrame.
    unit : str
        Header of the unit id (``"employee_id"`` by default, or a team/store key); the output column keeps
        this name. For ``"employee_id"`` the usual synonyms ("User ID", "Employee"...) are accepted.
    time : str
        Header of the period column; the output column is ``period``.
    metrics : list of str, optional
        Metric headers (output under these names). ``None`` takes every other column whose non-empty values
        are mostly numbers (at least :data:`METRIC_SHARE`); other columns are kept as extra columns.
    freq : str
        Period frequency of the output (``"M"`` monthly by default; ``"W"``, ``"Q"``, ``"D"``...).
    preset, columns, errors, tz, dayfirst, sheet
        See :class:`~impactlab.io.readers.ReadOptions`. ``columns`` may map a header onto ``unit``,
        ``time``/``"period"`` or a metric name.

    Returns
    -------
    Table
        Columns: ``unit``, ``period`` (pandas Period of ``freq``), the metrics (float), extra columns,
        ``source_row``.

    Notes
    -----
    Periods are read from ``"YYYY-MM"`` (also ``YYYYMM``, ``YYYY/MM``), ``"YYYY-Qn"``, Period values or any
    date the readers accept (the period containing it, in ``tz``). Numbers accept thousands separators and
    decimal commas (:mod:`impactlab.io.numbers`). When several rows share a unit and period: identical rows
    keep the first and reject the others ("exact duplicate of row N"); rows with different values are all
    rejected, because choosing one would be a guess.
    """
    check_freq(freq)
    options = ReadOptions(preset=preset, columns=columns, errors=errors, tz=tz, dayfirst=dayfirst,
                          sheet=sheet)
    p = options.layout
    unit_names = [unit] + (list(COMPLETIONS.column("employee_id").synonyms) if unit == "employee_id" else [])
    mapped = set((columns or {}).keys()) | set(p.columns_for("kpis").keys())

    def accept(headers: list[str]) -> bool:
        """A sheet holds KPIs when it has the unit and time columns (or headers mapped onto them)."""
        has = {normalise_key(h) for h in headers}
        named = any(normalise_key(m) in has for m in mapped)
        found_unit = _find(headers, unit_names, set()) is not None
        return named or (found_unit and _find(headers, [time, "period"], set()) is not None)

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
        targets["period" if target == time else target] = hit
    taken = set(targets.values())
    if unit not in targets:
        syn = [unit] + (list(COMPLETIONS.column("employee_id").synonyms) if unit == "employee_id" else [])
        hit = _find(cols, syn, taken)
        if hit is not None:
            targets[unit] = hit
            taken.add(hit)
    if "period" not in targets:
        hit = _find(cols, [time, "period"], taken)
        if hit is not None:
            targets["period"] = hit
            taken.add(hit)
    lacking = [n for n, k in ((unit, unit), (time, "period")) if k not in targets]
    if lacking:
        raise DataError(
            f"the kpis table lacks the column(s) {lacking}; headers seen: {cols}",
            source=raw.source,
            failures=[Failure(None, n, None, "required column not found") for n in lacking],
            hint=f"pass unit=/time= with your headers, or columns={{'<your header>': {lacking[0]!r}}}",
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
        metric_names = [t for t in targets if t not in (unit, "period")]
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
    extras = {}
    used = set(targets) | {"source_row"}
    for r in cols:
        if r not in taken:
            name = base = snake_case(r)
            k = 2
            while name in used:
                name, k = f"{base}_{k}", k + 1
            used.add(name)
            extras[r] = name
    schema = kpis_schema(unit, tuple(metric_names))
    match = ColumnMatch(canonical=targets, extras=extras)
    return _engine.read(raw, schema, ctx, errors=errors, match=match, columns=columns,
                        period_parser=parse_periods, key_check=_duplicate_keys(unit, metric_names))
