"""The readers of the canonical tables, one per table (DESIGN.md, "Canonical tables"), and the options
they share (:class:`ReadOptions`): each takes a file or a DataFrame and returns a frozen
:class:`~impactlab.io.table.Table` through the pipeline of :mod:`~impactlab.io._engine`.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Literal

import numpy as np
import pandas as pd

from impactlab.errors import DataError, Failure, check_option
from impactlab.io import _engine
from impactlab.io._engine import Context, Problem
from impactlab.io.checks import employment_check
from impactlab.io.dates import check_tz
from impactlab.io.headers import match_columns
from impactlab.io.identity import read_ids
from impactlab.io.numbers import currency_symbol
from impactlab.io.presets import Preset, get_preset
from impactlab.io.sources import load_source
from impactlab.io.surveys import map_labels, survey_duplicates
from impactlab.io.table import Table
from impactlab.io.values import as_text, map_values
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
    COST_CATEGORIES,
    DEFAULT_CATEGORY_MAP,
    DEFAULT_KIND_MAP,
    extend_status_map,
    normalise_key,
)

Errors = Literal["quarantine", "raise"]
Source = Any  # str | os.PathLike | pd.DataFrame
Columns = Mapping[str, str]


@dataclass(frozen=True, kw_only=True)
class ReadOptions:
    """The options the readers share, checked once, when made. A reader takes those that apply to its
    table (``read_costs`` has no dates, so no ``tz`` or ``dayfirst``; the roster is where employee ids come
    from, so it takes no ``ids``).

    Attributes
    ----------
    preset : str or None
        A vendor layout from :data:`impactlab.io.presets.PRESETS`: ``"cornerstone"``, ``"workday"``,
        ``"successfactors"``, ``"docebo"``, ``"moodle"``, ``"canvas"`` or ``None`` (see ``docs/presets.md``).
    columns : dict, optional
        ``{raw header: canonical column}``; wins over the preset and the default header matching.
    errors : {"quarantine", "raise"}
        ``"quarantine"`` (default) keeps the good rows and puts each bad one in ``.rejected`` with its reason;
        ``"raise"`` raises one :class:`~impactlab.errors.DataError` listing every failure (file, row, column,
        value, what is allowed). Problems with the whole table (a required column missing, an ambiguous
        day/month order) raise in both modes.
    tz : str
        Time zone of naive timestamps; every timestamp is returned in UTC.
    dayfirst : bool or None
        Day/month order of ``03/04/2024``-style dates; ``None`` settles it from the data or asks.
    sheet : str, int or None
        Sheet name or 0-based position for xlsx files. By default every sheet is looked at and the first one
        holding the table's required columns is read; the table's notes say which.
    ids : path, DataFrame or dict, optional
        An identity crosswalk mapping the source's ids onto roster employee ids; rows whose id it does not
        know are rejected with check ``"identity"`` (:mod:`impactlab.io.identity`).
    """

    preset: str | None = None
    columns: Columns | None = None
    errors: Errors = "quarantine"
    tz: str = "UTC"
    dayfirst: bool | None = None
    sheet: str | int | None = None
    ids: Any = None

    def __post_init__(self) -> None:
        get_preset(self.preset)
        check_option("errors", self.errors, ("quarantine", "raise"))
        check_option("dayfirst", self.dayfirst, (None, True, False))
        check_tz(self.tz)

    @property
    def layout(self) -> Preset:
        """The vendor preset named by ``preset``."""
        return get_preset(self.preset)

    def context(self, source: str, **state: Any) -> Context:
        """The state of one read of ``source`` under these options."""
        return Context(source=source, tz=self.tz, dayfirst=self.dayfirst, **state)


def _read(
    schema: TableSchema,
    source: Source,
    options: ReadOptions,
    *,
    row_check: _engine.RowCheck | None = None,
    status_map: Mapping[str, str] | None = None,
    category_map: Mapping[str, str] | None = None,
    constant: Mapping[str, str] | None = None,
) -> Table:
    """Read ``source`` as ``schema``. ``category_map`` adds to the cost categories' map; ``constant`` gives
    columns the source must not have, filled with one value on every row (``read_costs(program=...)``)."""
    p = options.layout
    crosswalk = None if options.ids is None else read_ids(options.ids)
    supplied = frozenset(constant or ())
    if schema.kind == "completions" and p.status_from_times:
        supplied |= {"status"}
    raw = load_source(source, sheet=options.sheet, accept=_accepts(schema, options.columns, p, supplied))
    if constant:
        _fill_constant(raw, schema, options, constant)
    derived_note = _status_from_times(raw, schema, options) if schema.kind == "completions" else None
    ctx = options.context(
        raw.source,
        status_map=extend_status_map(status_map, preset=p.status_map),
        category_maps={"kind": DEFAULT_KIND_MAP,
                       "category": {**DEFAULT_CATEGORY_MAP, **(category_map or {})}},
    )
    completions = schema.kind == "completions"
    if completions:
        ctx.credit = _credit_flags(raw.frame, p)
    if derived_note:
        ctx.notes.append(derived_note)
    table = _engine.read(
        raw, schema, ctx, errors=options.errors, columns=options.columns,
        preset_columns=p.columns_for(schema.kind), row_check=row_check,
        derived=_status_raw if completions else None, ids=crosswalk, non_data_rows=p.non_data_rows,
    )
    # costs are whole or refused by read_costs itself, which names the unmapped items
    return table if schema.kind == "costs" else _engine.refuse_empty(table)


def _accepts(schema: TableSchema, columns: Mapping[str, str] | None, p: Preset,
             supplied: frozenset[str] = frozenset()) -> Any:
    """A test of a sheet's headers: does it hold every required column of ``schema`` (but those
    ``supplied`` by the caller)?"""

    def accept(headers: list[str]) -> bool:
        try:
            m = match_columns(headers, schema.readable, columns=columns, preset_columns=p.columns_for(
                schema.kind))
        except (DataError, ValueError):
            return False
        return all(c.name in m.canonical or c.name in supplied for c in schema.readable if c.required)

    return accept


def _fill_constant(raw: Any, schema: TableSchema, options: ReadOptions, constant: Mapping[str, str]) -> None:
    """Add each column of ``constant`` to the raw frame, refusing a source that already has one."""
    m = match_columns(list(raw.frame.columns), schema.readable, columns=options.columns,
                      preset_columns=options.layout.columns_for(schema.kind), source=raw.source)
    for name, value in constant.items():
        if name in m.canonical:
            raise DataError(
                f"{name}={value!r} is for a sheet without a {name} column, and this one has one "
                f"({m.canonical[name]!r}): the reader will not overwrite it",
                source=raw.source,
                failures=[Failure(None, m.canonical[name], None, f"{name} column present")],
                hint=f"leave {name}= out and choose the {name} when totalling, e.g. "
                     f"Costs.from_table(table, {name}={value!r})",
            )
        raw.frame[name] = value


def _status_from_times(raw: Any, schema: TableSchema, options: ReadOptions) -> str | None:
    """A status column derived from the preset's timestamps (:attr:`Preset.status_from_times`) when the
    source has none but has the completed timestamp; the note saying so, or ``None``."""
    p = options.layout
    if not p.status_from_times:
        return None
    m = match_columns(list(raw.frame.columns), schema.readable, columns=options.columns,
                      preset_columns=p.columns_for(schema.kind), source=raw.source)
    keys = {normalise_key(c): c for c in raw.frame.columns}
    found = [keys.get(normalise_key(h)) for h in p.status_from_times]
    if "status" in m.canonical or found[0] is None or "status" in raw.frame.columns:
        return None

    def is_set(v: Any) -> bool:
        t = as_text(v).strip()
        return bool(t) and t.removesuffix(".0") != "0"

    status = np.full(len(raw.frame), "enrolled", dtype=object)
    for col, name in ((found[1], "in_progress"), (found[0], "completed")):
        if col is not None:
            status[np.asarray(map_values(raw.frame[col], is_set), dtype=bool)] = name
    raw.frame["status"] = status
    used = ", ".join(repr(c) for c in found if c is not None)
    return (f"status derived from {used} ({p.name} preset): completed when {found[0]!r} is set, in progress "
            "when started, enrolled otherwise (0 means not set)")


_TRUE = {"y", "yes", "true", "t", "1"}
_FALSE = {"n", "no", "false", "f", "0"}


def _credit_flags(frame: pd.DataFrame, p: Preset) -> np.ndarray | None:
    """The preset's "provides credit" flag per row (True/False/None), when the input has one."""
    if not p.credit_columns:
        return None
    keys = {normalise_key(c): c for c in frame.columns}
    col = next((keys[normalise_key(c)] for c in p.credit_columns if normalise_key(c) in keys), None)
    if col is None:
        return None
    def flag(v: Any) -> bool | None:
        t = as_text(v).strip().lower()
        return True if t in _TRUE else False if t in _FALSE else None

    return map_values(frame[col], flag)


def _status_raw(frame: pd.DataFrame, parsed: dict[str, pd.Series], headers: Mapping[str, str]) -> None:
    """Completions keep the raw status string (stripped) next to the canonical one."""
    if "status" in headers:
        values = map_values(frame[headers["status"]], lambda v: as_text(v).strip() or None)
        parsed["status_raw"] = pd.Series(values, index=frame.index, dtype="str")


# ---------------------------------------------------------------------------------------------- readers
def read_completions(source: Source, *, preset: str | None = None, columns: Columns | None = None,
                     errors: Errors = "quarantine", status_map: Mapping[str, str] | None = None,
                     tz: str = "UTC", dayfirst: bool | None = None, sheet: str | int | None = None,
                     ids: Any = None, roster: Any = None) -> Table:
    """Read an LMS transcript export into the canonical completions table.

    Columns: ``employee_id``, ``program``, ``status`` (canonical), ``status_raw`` (as written),
    ``completed_at``, ``assigned_at`` (UTC), ``attempt``, ``hours``, ``score``, extra columns, ``source_row``.

    Parameters
    ----------
    source : path or DataFrame
        CSV/TSV (delimiter and encoding detected), Parquet, xlsx or JSON file, or a DataFrame.
    preset, columns, errors, tz, dayfirst, sheet, ids
        See :class:`ReadOptions`; ``ids`` maps the LMS's ids onto roster employee ids.
    status_map : dict, optional
        ``{raw status: canonical status}``, added to (and overriding) the default map
        :data:`impactlab.schemas.DEFAULT_STATUS_MAP`. Status strings that no map knows are rejected, never
        guessed.
    roster : Table, path or DataFrame, optional
        HR roster; a completion dated outside every employment spell of its employee (before the hire,
        after the termination) is rejected with check ``"employment"``.

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
    ``completed_at`` must be present when the status is ``completed`` or ``passed``; a ``completed_at``
    in the future and a negative score or hours are rejected. Exact duplicate rows are rejected (check
    ``"duplicate"``, naming the row they repeat), so they are counted, not lost. Retakes are kept: when the
    input has no attempt column, ``attempt`` numbers each person's rows of a programme 1, 2, ... in order
    of date (``completed_at``, else ``assigned_at``, then the input order); the panel's cohort uses the
    first completion.

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
    options = ReadOptions(preset=preset, columns=columns, errors=errors, tz=tz, dayfirst=dayfirst,
                          sheet=sheet, ids=ids)
    check = employment_check(_roster_frame(roster))
    table = _read(COMPLETIONS, source, options, row_check=check, status_map=status_map)
    return _number_attempts(table)


def _roster_frame(roster: Any) -> pd.DataFrame | None:
    if roster is None:
        return None
    return roster.frame if isinstance(getattr(roster, "frame", None), pd.DataFrame) else read_roster(
        roster).frame


def _number_attempts(table: Table) -> Table:
    """Fill ``attempt`` from the order of dates when the input had no attempt column."""
    if "attempt" in table.columns or not len(table.frame):
        return table
    f = table.frame.copy()
    when = f["completed_at"].fillna(f["assigned_at"])
    order = pd.DataFrame({"e": f["employee_id"], "p": f["program"].str.casefold(), "w": when,
                          "r": f["source_row"]}).sort_values(["w", "r"], na_position="last", kind="stable")
    f["attempt"] = (order.groupby(["e", "p"], sort=False).cumcount() + 1).reindex(f.index).astype("Int64")
    note = "attempt numbered by date within employee and programme (no attempt column in the input)"
    return dataclasses.replace(table, frame=f, notes=table.notes + (note,))


def read_assessments(source: Source, *, preset: str | None = None, columns: Columns | None = None,
                     errors: Errors = "quarantine", tz: str = "UTC", dayfirst: bool | None = None,
                     sheet: str | int | None = None, ids: Any = None) -> Table:
    """Read pre/post assessment results (Kirkpatrick level 2) into the canonical assessments table.

    ``source`` and the options (``ids=`` included) are those of :func:`read_completions`
    (:class:`ReadOptions`). Columns: ``employee_id``, ``program``, ``kind`` (``pre``/``post``/``delayed``;
    "pre-test", "baseline", "follow-up" and similar spellings are accepted), ``score``, ``max_score``,
    ``taken_at`` (UTC), ``attempt``, extra columns, ``source_row``. A score above its ``max_score``, a
    negative score and a date in the future are rejected.
    """
    return _read(ASSESSMENTS, source, ReadOptions(preset=preset, columns=columns, errors=errors, tz=tz,
                                                  dayfirst=dayfirst, sheet=sheet, ids=ids))


def read_surveys(source: Source, *, preset: str | None = None, columns: Columns | None = None,
                 errors: Errors = "quarantine", tz: str = "UTC", dayfirst: bool | None = None,
                 sheet: str | int | None = None, ids: Any = None,
                 scale: Mapping[str, float] | None = None) -> Table:
    """Read reaction-survey answers (Kirkpatrick level 1) into the canonical surveys table.

    Columns: ``employee_id`` (optional: surveys may be anonymous), ``response_id`` (optional: one
    submission of the survey), ``program``, ``item``, ``response`` (numeric), ``scale_min``,
    ``scale_max``, ``answered_at`` (UTC), extra columns, ``source_row``; a response outside its row's scale
    is rejected. The source and the options (``ids=`` included) are those of :func:`read_completions`
    (:class:`ReadOptions`).

    Parameters
    ----------
    scale : dict, optional
        ``{answer label: scale point}`` for answers written as words in another language or wording, e.g.
        ``{"Pas du tout d'accord": 1, ..., "Tout à fait d'accord": 5}``. Labels are compared ignoring
        case, punctuation and word order. Without it, the English agreement ("Strongly disagree" ...
        "Strongly agree"), satisfaction ("Very dissatisfied" ... "Very satisfied") and likelihood labels
        are read: on five points (1-5), or seven (1-7) when an item has both plain ("Agree") and mild
        ("Somewhat agree") answers; "5 - Strongly agree" reads as 5. The label is kept in
        ``response_label``, and a labelled row without a scale gets its labels' scale.

    Notes
    -----
    Identical rows of an anonymous survey (no ``employee_id``, no ``response_id``) are different people's
    answers and are all kept. A duplicate is rejected only where an id says so: an identical row of the
    same respondent, or a second answer of the same ``response_id`` to the same item.
    """
    options = ReadOptions(preset=preset, columns=columns, errors=errors, tz=tz, dayfirst=dayfirst,
                          sheet=sheet, ids=ids)
    p = options.layout
    raw = load_source(source, sheet=options.sheet, accept=_accepts(SURVEYS, options.columns, p))
    notes = map_labels(raw, columns=options.columns, preset_columns=p.columns_for("surveys"), scale=scale)
    table = _engine.read(raw, SURVEYS, options.context(raw.source), errors=options.errors,
                         columns=options.columns, preset_columns=p.columns_for("surveys"),
                         ids=None if options.ids is None else read_ids(options.ids),
                         non_data_rows=p.non_data_rows, duplicates=survey_duplicates)
    table = _engine.refuse_empty(table)
    return dataclasses.replace(table, notes=table.notes + tuple(notes)) if notes else table


def read_observations(source: Source, *, preset: str | None = None, columns: Columns | None = None,
                      errors: Errors = "quarantine", tz: str = "UTC", dayfirst: bool | None = None,
                      sheet: str | int | None = None, ids: Any = None) -> Table:
    """Read on-the-job behaviour observations (Kirkpatrick level 3) into the canonical table.

    Columns: ``employee_id``, ``program``, ``behavior``, ``rating`` (numeric), ``observed_at`` (UTC),
    ``observer``, extra columns, ``source_row``. ``source`` and the options (``ids=`` included): as for
    :func:`read_completions`, see :class:`ReadOptions`.
    """
    return _read(OBSERVATIONS, source, ReadOptions(preset=preset, columns=columns, errors=errors, tz=tz,
                                                   dayfirst=dayfirst, sheet=sheet, ids=ids))


def read_roster(source: Source, *, preset: str | None = None, columns: Columns | None = None,
                errors: Errors = "quarantine", tz: str = "UTC", dayfirst: bool | None = None,
                sheet: str | int | None = None) -> Table:
    """Read the HR roster into the canonical roster table.

    Columns: ``employee_id``, ``team``, ``manager_id``, ``role``, ``location``, ``hire_date``,
    ``termination_date`` (empty = still employed -> NaT), ``valid_from``, ``valid_to`` (as-of rows), extra
    columns (e.g. ``region``), ``source_row``. Dates are UTC timestamps at midnight of ``tz``. A termination
    before the hire date is rejected. ``source`` and the options: as for :func:`read_completions`, see
    :class:`ReadOptions`.
    """
    return _read(ROSTER, source, ReadOptions(preset=preset, columns=columns, errors=errors, tz=tz,
                                             dayfirst=dayfirst, sheet=sheet))


def read_costs(source: Source, *, preset: str | None = None, columns: Columns | None = None,
               errors: Errors = "quarantine", sheet: str | int | None = None, program: str | None = None,
               categories: Mapping[str, str] | None = None) -> Table:
    """Read programme costs into the canonical costs table (Phillips fully-loaded categories).

    Columns: ``program``, ``category`` (one of :data:`impactlab.schemas.COST_CATEGORIES`; spellings such as
    "Design and development" or "Participant salaries and benefits" are normalised), ``amount``, ``low``,
    ``high``, ``currency``, extra columns, ``source_row``. Each row needs an amount or both low and high
    (low <= high); amounts may carry a currency symbol and thousands separators (``$125,000``).
    ``source`` and the options: as for :func:`read_completions`, see :class:`ReadOptions`.

    Parameters
    ----------
    program : str, optional
        The programme every row costs, for a sheet without a programme column (a finance sheet for one
        programme). A sheet that has one is refused: choose its programme with
        ``Costs.from_table(table, program=...)``.
    categories : dict, optional
        ``{item name as written: Phillips category}`` for the sheet's own cost items, e.g.
        ``{"Trainer fees": "facilitators", "Staff time": "participant_time"}``; added to (and overriding)
        the spellings recognised by default (:data:`impactlab.schemas.vocab.DEFAULT_CATEGORY_MAP`). Item
        names are compared ignoring case, spaces and punctuation. The column holding the items is found by
        its header (``category``, ``item``, ``cost item``, ``line item``, ``expense``...) or named with
        ``columns={"<your header>": "category"}``; a column that already holds Phillips categories is read
        as it is.

    Raises
    ------
    DataError
        When the input has neither an amount column nor both low and high columns; when any item is not a
        Phillips category after the mapping (in both ``errors`` modes: a cost left out would understate the
        total, so the error lists every unmapped item with its rows and the categories to map it to); when
        ``program=`` is given for a sheet with a programme column.
    ValueError
        ``categories`` maps an item onto something that is not a Phillips category.

    Examples
    --------
    >>> import pandas as pd
    >>> sheet = pd.DataFrame({"Item": ["Trainer fees", "Venue hire", "Staff time"],
    ...                       "Amount": ["$100,000", "$50,000", "$225,000"]})
    >>> t = read_costs(sheet, program="Leadership 101", categories={
    ...     "Trainer fees": "facilitators", "Venue hire": "facilities", "Staff time": "participant_time"})
    >>> t.frame[["category", "amount"]].values.tolist()
    [['facilitators', 100000.0], ['facilities', 50000.0], ['participant_time', 225000.0]]
    >>> t.frame["program"].unique().tolist()
    ['Leadership 101']
    """

    def has_amount_columns(
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
        return _one_currency(frame, headers, ctx)

    options = ReadOptions(preset=preset, columns=columns, errors=errors, sheet=sheet)
    category_map = _category_map(categories)
    if program is not None and (not isinstance(program, str) or not program.strip()):
        raise ValueError(f"The 'program' parameter must be the programme's name. Got {program!r} instead.")
    constant = None if program is None else {"program": program.strip()}
    quarantined = dataclasses.replace(options, errors="quarantine")
    table = _read(COSTS, source, quarantined, row_check=has_amount_columns, category_map=category_map,
                  constant=constant)
    unmapped = table.rejected.loc[table.rejected["check"] == "category"]
    if len(unmapped):
        raise _unmapped_items(table, unmapped)
    if errors == "raise" and len(table.rejected):
        raise _all_failures(table)
    notes = [f"program: every row costs {program.strip()!r} (program=)"] if program is not None else []
    if categories:
        notes.append("items mapped by categories=: " + ", ".join(f"{k!r} -> {v}" for k, v in
                                                                 _shown_map(categories).items()))
    return dataclasses.replace(table, notes=table.notes + tuple(notes)) if notes else table


def _one_currency(frame: pd.DataFrame, headers: Mapping[str, str], ctx: Context) -> list[Problem]:
    """Refuse amounts written with several currency symbols: the reader drops the symbols, and a total of
    dollars and euros is no number at all."""
    seen: dict[str, list[str]] = {}
    for canonical in ("amount", "low", "high"):
        if canonical not in headers:
            continue
        for v in frame[headers[canonical]].tolist():
            sym = currency_symbol(v) if isinstance(v, str) else None
            if sym is not None:
                seen.setdefault(sym, []).append(v)
    if len(seen) < 2:
        return []
    shown = ", ".join(f"{sym} ({len(vs)} value(s) such as {vs[0].strip()!r})" for sym, vs in seen.items())
    raise DataError(
        f"the amounts are written in {len(seen)} currencies: {shown}; they cannot be added up",
        source=ctx.source,
        failures=[Failure(None, headers.get("amount"), vs[0], f"amount in {sym}", "currency")
                  for sym, vs in seen.items()],
        hint="convert the amounts to one currency before reading (one currency per costs table)",
    )


def _category_map(categories: Mapping[str, str] | None) -> dict[str, str]:
    """``categories=`` as a map of normalised item names onto Phillips categories (checked)."""
    if categories is None:
        return {}
    if not isinstance(categories, Mapping):
        raise TypeError(f"The 'categories' parameter must be a dict {{item name: Phillips category}}. "
                        f"Got {type(categories).__name__} instead.")
    out: dict[str, str] = {}
    bad = []
    for item, category in categories.items():
        canon = DEFAULT_CATEGORY_MAP.get(normalise_key(category))
        if canon is None:
            bad.append(f"{item!r}: {category!r}")
        else:
            out[normalise_key(item)] = canon
    if bad:
        raise ValueError(f"The 'categories' parameter maps items onto values that are not Phillips cost "
                         f"categories: {', '.join(bad)}. Allowed: {', '.join(COST_CATEGORIES)}.")
    return out


def _shown_map(categories: Mapping[str, str]) -> dict[str, str]:
    return {str(k): DEFAULT_CATEGORY_MAP[normalise_key(v)] for k, v in categories.items()}


def _unmapped_items(table: Table, unmapped: pd.DataFrame) -> DataError:
    """The refusal of a costs sheet with items that are not Phillips categories: each item, its rows."""
    rows_by_item: dict[str, list[int]] = {}
    for item, row in zip(unmapped["value"], unmapped["source_row"], strict=True):
        rows_by_item.setdefault(str(item), []).append(int(row))
    items = ", ".join(f"{k!r} (row{'s' if len(v) > 1 else ''} {', '.join(map(str, v[:5]))}"
                      f"{', ...' if len(v) > 5 else ''})" for k, v in rows_by_item.items())
    totals = [k for k in rows_by_item if normalise_key(k).replace(" ", "") in _TOTAL_ITEMS]
    items_left = [k for k in rows_by_item if k not in totals]
    example = ", ".join(f"{k!r}: '<category>'" for k in items_left[:3])
    hint = f"map each item to a category: read_costs(..., categories={{{example}}})" if items_left else ""
    if totals:
        column = str(unmapped["column"].iloc[0])
        hint = (f"{hint}; " if hint else "") + (
            f"leave out the totals row(s) {', '.join(map(repr, totals))}, which add up the other rows "
            "(mapped to a category they would count those costs twice): delete them from the sheet, or "
            f"read the sheet without them, e.g. read_costs(sheet[sheet[{column!r}] != {totals[0]!r}], ...)")
    reason = {k: "a totals row, not a cost item: leave it out" if k in totals else
              "not a Phillips cost category; map it with categories=" for k in rows_by_item}
    return DataError(
        f"{len(rows_by_item)} cost item(s) on {len(unmapped)} row(s) are not Phillips cost categories: "
        f"{items}. " + ("A total without them would understate the fully-loaded cost, so the sheet is "
                        f"refused; categories: {', '.join(COST_CATEGORIES)}" if items_left else
                        "Totals rows are not cost items: the sheet is refused rather than counted twice or "
                        "guessed at"),
        source=table.source,
        failures=[Failure(int(r.source_row), r.column, r.value, reason[str(r.value)], r.check)
                  for r in unmapped.itertuples()],
        hint=hint,
    )


#: Item names (lower case, no spaces or punctuation) of a finance sheet's totals rows.
_TOTAL_ITEMS = frozenset({"total", "totals", "subtotal", "subtotals", "grandtotal", "sum", "totalcost",
                          "totalcosts"})


def _failures(rejected: pd.DataFrame) -> list[Failure]:
    return [Failure(int(r.source_row), r.column, r.value, r.reason, r.check) for r in rejected.itertuples()]


def _all_failures(table: Table) -> DataError:
    """``errors="raise"``: every rejected row of ``table`` at once."""
    rej = table.rejected
    return DataError(
        f"{len(rej)} problem(s) on {rej['source_row'].nunique()} of {table.rows_read} rows of the costs "
        "table",
        source=table.source,
        failures=_failures(rej),
        hint="correct the rows listed, or read with errors='quarantine' to keep the good rows and inspect "
        ".rejected",
    )
