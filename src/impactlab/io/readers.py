"""Public readers: one per canonical table (DESIGN.md, "Canonical tables").

Every reader takes a path to a CSV/TSV, Parquet or xlsx file, or a pandas DataFrame, and returns a frozen
:class:`~impactlab.io.table.Table`. Options shared by all readers:

``columns``
    ``{raw header: canonical column}``; wins over the preset and the default header matching.
``errors``
    ``"quarantine"`` (default) keeps the good rows and puts each bad one in ``.rejected`` with its reason;
    ``"raise"`` raises one :class:`~impactlab.errors.DataError` listing every failure (file, row, column,
    value, what is allowed). Problems with the whole table (a required column missing, an ambiguous
    day/month order) raise in both modes.
``preset``
    A vendor layout from :data:`impactlab.io.presets.PRESETS` (only ``None`` for now).
``tz``
    Time zone of naive timestamps; every timestamp is returned in UTC.
``dayfirst``
    Day/month order of ``03/04/2024``-style dates; ``None`` settles it from the data or asks.
``sheet``
    Sheet name or 0-based position for xlsx files (the first sheet by default).

See :mod:`impactlab.io.sources` for what ``source_row`` counts.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Literal

import numpy as np
import pandas as pd

from impactlab.errors import DataError, Failure, check_option
from impactlab.io import _engine
from impactlab.io._engine import Context, Problem
from impactlab.io.dates import check_tz
from impactlab.io.presets import get_preset
from impactlab.io.sources import load_source
from impactlab.io.table import Table
from impactlab.io.values import as_text, missing_mask
from impactlab.schemas.tables import (
    ASSESSMENTS,
    COMPLETIONS,
    COSTS,
    OBSERVATIONS,
    ROSTER,
    SURVEYS,
    TableSchema,
)
from impactlab.schemas.vocab import (
    DEFAULT_CATEGORY_MAP,
    DEFAULT_KIND_MAP,
    DEFAULT_STATUS_MAP,
    STATUSES,
    TRAINED_STATUSES,
    normalise_key,
)

Errors = Literal["quarantine", "raise"]
Source = Any  # str | os.PathLike | pd.DataFrame


def _context(source: str, *, errors: str, tz: str, dayfirst: bool | None, **kw: Any) -> Context:
    check_option("errors", errors, ("quarantine", "raise"))
    check_option("dayfirst", dayfirst, (None, True, False))
    check_tz(tz)
    return Context(source=source, tz=tz, dayfirst=dayfirst, **kw)


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


def _read(
    schema: TableSchema,
    source: Source,
    *,
    preset: str | None,
    columns: Mapping[str, str] | None,
    errors: str,
    tz: str,
    dayfirst: bool | None,
    sheet: str | int | None,
    row_check: _engine.RowCheck | None = None,
    status_map: Mapping[str, str] | None = None,
) -> Table:
    p = get_preset(preset)
    raw = load_source(source, sheet=sheet)
    smap = dict(DEFAULT_STATUS_MAP)
    smap.update({normalise_key(k): v for k, v in p.status_map.items()})
    if status_map:
        bad = {k: v for k, v in status_map.items() if v not in STATUSES}
        if bad:
            raise ValueError(
                f"The 'status_map' parameter must map raw strings onto one of "
                f"{', '.join(STATUSES)}. Got {bad!r} instead."
            )
        smap.update({normalise_key(k): v for k, v in status_map.items()})
    ctx = _context(
        raw.source,
        errors=errors,
        tz=tz,
        dayfirst=dayfirst,
        status_map=smap,
        category_maps={"kind": DEFAULT_KIND_MAP, "category": DEFAULT_CATEGORY_MAP},
    )
    return _engine.read(
        raw,
        schema,
        ctx,
        errors=errors,
        columns=columns,
        preset_columns=p.columns_for(schema.kind),
        row_check=row_check,
        derived=_status_raw if schema is COMPLETIONS else None,
    )


def _status_raw(frame: pd.DataFrame, parsed: dict[str, pd.Series], headers: Mapping[str, str]) -> None:
    """Completions keep the raw status string (stripped) next to the canonical one."""
    if "status" in headers:
        values = [as_text(v).strip() or None for v in frame[headers["status"]].to_numpy(dtype=object)]
        parsed["status_raw"] = pd.Series(values, index=frame.index, dtype="str")


# ----------------------------------------------------------------------------------------------- checks
def _completions_check(
    typed: pd.DataFrame, frame: pd.DataFrame, headers: dict[str, str], ctx: Context
) -> list[Problem]:
    if "status" not in typed:
        return []
    trained = typed["status"].isin(TRAINED_STATUSES).to_numpy()
    if "completed_at" in headers:
        empty = missing_mask(frame[headers["completed_at"]])
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


# ---------------------------------------------------------------------------------------------- readers
def read_completions(
    source: Source,
    *,
    preset: str | None = None,
    columns: Mapping[str, str] | None = None,
    errors: Errors = "quarantine",
    status_map: Mapping[str, str] | None = None,
    tz: str = "UTC",
    dayfirst: bool | None = None,
    sheet: str | int | None = None,
) -> Table:
    """Read an LMS transcript export into the canonical completions table.

    Columns: ``employee_id``, ``program``, ``status`` (canonical), ``status_raw`` (as written),
    ``completed_at``, ``assigned_at`` (UTC), ``attempt``, ``hours``, ``score``, extra columns, ``source_row``.

    Parameters
    ----------
    source : path or DataFrame
        CSV/TSV (delimiter and encoding detected), Parquet or xlsx file, or a DataFrame.
    preset, columns, errors, tz, dayfirst, sheet
        See :mod:`impactlab.io.readers`.
    status_map : dict, optional
        ``{raw status: canonical status}``, added to (and overriding) the default map
        :data:`impactlab.schemas.DEFAULT_STATUS_MAP`. Status strings that no map knows are rejected, never
        guessed.

    Returns
    -------
    Table

    Raises
    ------
    DataError
        With ``errors="raise"`` when any row is bad; in both modes when a required column is missing.

    Notes
    -----
    Statuses are compared ignoring case, spaces and punctuation; a ``"<status> / Past Due"`` suffix keeps
    ``<status>``. Exempt/equivalent/waived rows are credited but not trained; "No Show" is ``withdrawn``.
    ``completed_at`` must be present when the status is ``completed`` or ``passed``.

    Examples
    --------
    >>> import pandas as pd
    >>> raw = pd.DataFrame({"User ID": [7, 8], "Training Title": ["Negotiation"] * 2,
    ...                     "Transcript Status": ["Completed", "In Progress"],
    ...                     "Transcript Completed Date": ["2024-03-31", ""]})
    >>> t = read_completions(raw)
    >>> t.frame[["employee_id", "status", "status_raw"]].values.tolist()
    [['7', 'completed', 'Completed'], ['8', 'in_progress', 'In Progress']]
    """
    table = _read(
        COMPLETIONS,
        source,
        preset=preset,
        columns=columns,
        errors=errors,
        tz=tz,
        dayfirst=dayfirst,
        sheet=sheet,
        row_check=_completions_check,
        status_map=status_map,
    )
    return table


def read_assessments(
    source: Source,
    *,
    preset: str | None = None,
    columns: Mapping[str, str] | None = None,
    errors: Errors = "quarantine",
    tz: str = "UTC",
    dayfirst: bool | None = None,
    sheet: str | int | None = None,
) -> Table:
    """Read pre/post assessment results (Kirkpatrick level 2) into the canonical assessments table.

    Columns: ``employee_id``, ``program``, ``kind`` (``pre``/``post``/``delayed``; "pre-test", "baseline",
    "follow-up" and similar spellings are accepted), ``score``, ``max_score``, ``taken_at`` (UTC),
    ``attempt``, extra columns, ``source_row``. A score above its ``max_score`` is rejected.
    Options as in :mod:`impactlab.io.readers`.
    """
    return _read(
        ASSESSMENTS,
        source,
        preset=preset,
        columns=columns,
        errors=errors,
        tz=tz,
        dayfirst=dayfirst,
        sheet=sheet,
        row_check=lambda t, f, h, c: _score_check(t, h),
    )


def read_surveys(
    source: Source,
    *,
    preset: str | None = None,
    columns: Mapping[str, str] | None = None,
    errors: Errors = "quarantine",
    tz: str = "UTC",
    dayfirst: bool | None = None,
    sheet: str | int | None = None,
) -> Table:
    """Read reaction-survey answers (Kirkpatrick level 1) into the canonical surveys table.

    Columns: ``employee_id`` (optional: surveys may be anonymous), ``program``, ``item``, ``response``
    (numeric), ``scale_min``, ``scale_max``, ``answered_at`` (UTC), extra columns, ``source_row``. A
    response outside its row's scale is rejected. Options as in :mod:`impactlab.io.readers`.
    """
    return _read(
        SURVEYS,
        source,
        preset=preset,
        columns=columns,
        errors=errors,
        tz=tz,
        dayfirst=dayfirst,
        sheet=sheet,
        row_check=_surveys_check,
    )


def read_observations(
    source: Source,
    *,
    preset: str | None = None,
    columns: Mapping[str, str] | None = None,
    errors: Errors = "quarantine",
    tz: str = "UTC",
    dayfirst: bool | None = None,
    sheet: str | int | None = None,
) -> Table:
    """Read on-the-job behaviour observations (Kirkpatrick level 3) into the canonical table.

    Columns: ``employee_id``, ``program``, ``behavior``, ``rating`` (numeric), ``observed_at`` (UTC),
    ``observer``, extra columns, ``source_row``. Options as in :mod:`impactlab.io.readers`.
    """
    return _read(
        OBSERVATIONS,
        source,
        preset=preset,
        columns=columns,
        errors=errors,
        tz=tz,
        dayfirst=dayfirst,
        sheet=sheet,
    )


def read_roster(
    source: Source,
    *,
    preset: str | None = None,
    columns: Mapping[str, str] | None = None,
    errors: Errors = "quarantine",
    tz: str = "UTC",
    dayfirst: bool | None = None,
    sheet: str | int | None = None,
) -> Table:
    """Read the HR roster into the canonical roster table.

    Columns: ``employee_id``, ``team``, ``manager_id``, ``role``, ``location``, ``hire_date``,
    ``termination_date`` (empty = still employed -> NaT), ``valid_from``, ``valid_to`` (as-of rows), extra
    columns (e.g. ``region``), ``source_row``. Dates are UTC timestamps at midnight of ``tz``. A termination
    before the hire date is rejected. Options as in :mod:`impactlab.io.readers`.
    """
    return _read(
        ROSTER,
        source,
        preset=preset,
        columns=columns,
        errors=errors,
        tz=tz,
        dayfirst=dayfirst,
        sheet=sheet,
        row_check=_roster_check,
    )


def read_costs(
    source: Source,
    *,
    preset: str | None = None,
    columns: Mapping[str, str] | None = None,
    errors: Errors = "quarantine",
    sheet: str | int | None = None,
) -> Table:
    """Read programme costs into the canonical costs table (Phillips fully-loaded categories).

    Columns: ``program``, ``category`` (one of :data:`impactlab.schemas.COST_CATEGORIES`; spellings such as
    "Design and development" or "Participant salaries and benefits" are normalised), ``amount``, ``low``,
    ``high``, ``currency``, extra columns, ``source_row``. Each row needs an amount or both low and high
    (low <= high). Options as in :mod:`impactlab.io.readers`.

    Raises
    ------
    DataError
        When the input has neither an amount column nor both low and high columns.
    """

    def check(
        typed: pd.DataFrame, frame: pd.DataFrame, headers: dict[str, str], ctx: Context
    ) -> list[Problem]:
        if "amount" not in headers and not {"low", "high"} <= set(headers):
            raise DataError(
                f"the costs table needs an 'amount' column or both 'low' and 'high'; headers seen: "
                f"{list(frame.columns)}",
                source=ctx.source,
                failures=[Failure(None, "amount", None, "required column not found")],
                hint="name them with columns={'<your header>': 'amount'}",
            )
        return _costs_check(typed, frame, headers, ctx)

    return _read(
        COSTS,
        source,
        preset=preset,
        columns=columns,
        errors=errors,
        tz="UTC",
        dayfirst=None,
        sheet=sheet,
        row_check=check,
    )
