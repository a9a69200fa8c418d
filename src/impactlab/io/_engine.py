"""The reading pipeline shared by every reader: raw frame (:mod:`~impactlab.io.sources`) -> header
matching (:mod:`~impactlab.io.headers`) -> one parser per column kind -> the table's row rules
(:mod:`impactlab.schemas.rules`) and the reader's own checks -> exact duplicates -> key checks -> a
:class:`~impactlab.io.table.Table` (``errors="quarantine"``) or one :class:`~impactlab.errors.DataError`
listing every failure (``errors="raise"``); every problem is collected before deciding, so a user sees all
of them at once.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from impactlab.errors import DataError, Failure
from impactlab.io.dates import accepted_formats, parse_timestamps
from impactlab.io.headers import ColumnMatch, match_columns, refuse_repeated, repeated_headers
from impactlab.io.identity import Crosswalk
from impactlab.io.numbers import NUMBER_HELP, parse_numbers_explained
from impactlab.io.periods import PERIOD_FORMS
from impactlab.io.sources import RawSource
from impactlab.io.table import REJECTED_COLUMNS, Table
from impactlab.io.values import as_clean_text, as_id, as_text, map_values, missing_mask, text_values
from impactlab.schemas.contract import rule_failures, validate
from impactlab.schemas.tables import ColumnSpec, TableSchema
from impactlab.schemas.vocab import STATUSES, TRAINED_STATUSES, is_grade_word, normalise_key, normalise_status

#: (row position, input header or None, value as text or None, reason, check code)
Problem = tuple[int, "str | None", "str | None", str, str]


@dataclass
class Context:
    """Options and state of one read."""

    source: str
    tz: str = "UTC"
    dayfirst: bool | None = None
    status_map: Mapping[str, str] = field(default_factory=dict)
    category_maps: Mapping[str, Mapping[str, str]] = field(default_factory=dict)
    freq: str = "M"
    notes: list[str] = field(default_factory=list)
    #: Per-row "provides credit" flag (True/False/None) that overrides status names (SuccessFactors).
    credit: np.ndarray | None = None
    #: The source row of each input row (set by :func:`read`), for notes that name rows.
    rows: np.ndarray | None = None


#: Rows that are not records but ride along in exports (normalised cell value -> reason of rejection).
NON_DATA_ROWS: dict[str, str] = {
    "points possible": "Canvas 'Points Possible' row: the maximum points of each assignment, not a learner",
    "manual posting": "Canvas 'Manual Posting' row: a gradebook setting, not a learner",
}


RowCheck = Callable[[pd.DataFrame, pd.DataFrame, dict[str, str], Context], list[Problem]]
KeyCheck = Callable[[pd.DataFrame, np.ndarray, dict[str, str], np.ndarray], list[Problem]]
PeriodParser = Callable[[pd.Series, Context, str], tuple[pd.Series, np.ndarray]]
DuplicateCheck = Callable[[pd.DataFrame, pd.DataFrame, np.ndarray], list[Problem]]


def _texts(values: pd.Series, bad: np.ndarray) -> list[tuple[int, str]]:
    raw = values.to_numpy(dtype=object)
    return [(int(i), as_text(raw[i])) for i in np.flatnonzero(bad)]


def _present(values: np.ndarray) -> np.ndarray:
    return np.not_equal(values, None)  # type: ignore[call-overload]  # elementwise "is not None"


def _absent(values: np.ndarray) -> np.ndarray:
    return np.equal(values, None)  # type: ignore[call-overload]  # elementwise "is None"


def _per_distinct(text: np.ndarray, fn: Callable[[str], Any]) -> np.ndarray:
    """``fn`` of each non-None text (called once per distinct text); None stays None."""
    return map_values(pd.Series(text, dtype=object), fn)


def _statuses(text: np.ndarray, header: str, ctx: Context) -> tuple[np.ndarray, list[Problem]]:
    """Canonical statuses of cleaned status texts, and the problems (unknown status, credit conflict)."""
    allowed = ", ".join(STATUSES)
    status = _per_distinct(text, lambda t: normalise_status(t, ctx.status_map))
    problems: list[Problem] = []
    if ctx.credit is not None:
        for i in np.flatnonzero(_present(text)):
            credit, st = ctx.credit[i], status[i]
            if credit is True:
                status[i] = "exempt" if st == "exempt" else "completed"
            elif credit is False:
                if st in TRAINED_STATUSES:
                    problems.append(
                        (
                            int(i),
                            header,
                            text[i],
                            f"status {text[i]!r} reads as {st!r} but the row's credit flag says no credit "
                            "was given; the flag decides (fix the flag or the status map)",
                            "status",
                        )
                    )
                status[i] = "unknown" if st is None else st
    problems += [
        (
            int(i),
            header,
            text[i],
            f"unknown status {text[i]!r}; canonical statuses are {allowed}. Map it with "
            f"status_map={{{text[i]!r}: '<canonical status>'}} (recognised raw strings: "
            "impactlab.schemas.DEFAULT_STATUS_MAP)",
            "status",
        )
        for i in np.flatnonzero(_present(text) & _absent(status))
    ]
    return status, problems


def parse_column(
    spec: ColumnSpec, values: pd.Series, header: str, ctx: Context, period_parser: PeriodParser | None = None
) -> tuple[pd.Series, list[Problem]]:
    """Parse one input column to its canonical kind; return values and the problems found."""
    missing = missing_mask(values)
    problems: list[Problem] = []
    kind = spec.kind
    if kind in ("number", "integer"):
        parsed, bad, why = parse_numbers_explained(values, header)
        missing = missing & ~bad  # the text "NaN" is a missing-value spelling elsewhere, a bad number here
    if spec.required:
        problems += [
            (
                int(i),
                header,
                None,
                f"required value {spec.name!r} is missing (column {header!r} is empty)",
                "missing",
            )
            for i in np.flatnonzero(missing)
        ]
    if kind in ("id", "text", "status", "category"):
        conv = as_id if kind == "id" else as_clean_text
        text = map_values(values, conv)
        text[missing] = None
        if kind == "status":
            text, found = _statuses(text, header, ctx)
            problems += found
        elif kind == "category":
            cmap = ctx.category_maps.get(spec.name, {})
            allowed = ", ".join(spec.allowed)
            canon = _per_distinct(text, lambda t: cmap.get(normalise_key(t)))
            problems += [
                (
                    int(i),
                    header,
                    text[i],
                    f"{text[i]!r} is not a known {spec.name}; allowed: {allowed} (common spellings are "
                    "accepted)",
                    "category",
                )
                for i in np.flatnonzero(_present(text) & _absent(canon))
            ]
            text = canon
        return pd.Series(text, index=values.index, dtype="str"), problems
    if kind == "timestamp":
        parsed, bad = parse_timestamps(
            values, tz=ctx.tz, dayfirst=ctx.dayfirst, column=header, source=ctx.source, notes=ctx.notes,
            rows=ctx.rows,
        )
        problems += [
            (i, header, t, f"cannot read {t!r} as a date; accepted formats: {accepted_formats()}", "date")
            for i, t in _texts(values, bad)
        ]
        return parsed, problems
    if kind in ("number", "integer"):
        grades = "" if spec.grades_into is None else (
            f"; a grade column may hold Pass/Fail/Incomplete or letters A-F (kept in {spec.grades_into!r}); "
            f"read other grade words as text with columns={{{header!r}: {spec.grades_into!r}}}")
        problems += [
            (i, header, t, (why[i] or f"{t!r} is not a number; expected {NUMBER_HELP}") + grades, "number")
            for i, t in _texts(values, bad)
        ]
        if kind == "integer":
            frac = parsed.notna().to_numpy() & (parsed.fillna(0).to_numpy() % 1 != 0)
            problems += [
                (i, header, t, f"{t!r} is not a whole number", "number") for i, t in _texts(values, frac)
            ]
            parsed = parsed.where(~frac).round().astype("Int64")
        return parsed, problems
    if kind == "period":
        if period_parser is None:  # pragma: no cover - schema/engine mismatch
            raise TypeError("a period column needs a period parser")
        parsed, bad = period_parser(values, ctx, header)
        problems += [
            (
                i,
                header,
                t,
                f"cannot read {t!r} as a period; expected a month or quarter label "
                f"({', '.join(PERIOD_FORMS)}) or a date ({accepted_formats()})",
                "period",
            )
            for i, t in _texts(values, bad)
        ]
        return parsed, problems
    raise TypeError(f"unknown column kind {kind!r}")  # pragma: no cover


def exact_duplicates(text: pd.DataFrame, rows: np.ndarray) -> list[Problem]:
    """Every repeat of an identical raw row, naming the first occurrence's ``source_row``."""
    if not len(text) or not len(text.columns):
        return []
    dup = text.duplicated(keep="first").to_numpy()
    if not dup.any():
        return []
    group = text.groupby(list(text.columns), sort=False, dropna=False).ngroup().to_numpy()
    first: dict[int, int] = {}
    for pos, g in enumerate(group):
        first.setdefault(int(g), pos)
    return [
        (int(p), None, None, f"exact duplicate of row {rows[first[int(group[p])]]}", "duplicate")
        for p in np.flatnonzero(dup)
    ]


def read(
    raw: RawSource,
    schema: TableSchema,
    ctx: Context,
    *,
    errors: str,
    columns: Mapping[str, str] | None = None,
    preset_columns: Mapping[str, str] | None = None,
    match: ColumnMatch | None = None,
    row_check: RowCheck | None = None,
    key_check: KeyCheck | None = None,
    period_parser: PeriodParser | None = None,
    derived: Callable[[pd.DataFrame, dict[str, pd.Series], dict[str, str]], None] | None = None,
    ids: Crosswalk | None = None,
    non_data_rows: Mapping[str, str] | None = None,
    duplicates: DuplicateCheck | None = None,
) -> Table:
    """Run the pipeline on a loaded source (docs/explanation.md, "Reading exports").

    ``ids`` maps ``employee_id`` through an identity crosswalk (unknown ids are rejected, the original id
    is kept as ``source_employee_id``); ``non_data_rows`` adds to :data:`NON_DATA_ROWS`; ``duplicates``
    replaces :func:`exact_duplicates` (surveys: only rows an id marks as repeats).
    """
    frame = raw.frame
    ctx.rows = raw.rows
    _refuse_repeated_headers(raw, schema, columns, preset_columns, match)
    if match is None:
        match = match_columns(
            list(frame.columns),
            schema.readable,
            columns=columns,
            preset_columns=preset_columns,
            source=raw.source,
        )
    headers = match.canonical
    absent = [c for c in schema.readable if c.required and c.name not in headers]
    if absent:
        failures = []
        for c in absent:
            syn = ", ".join(repr(s) for s in list(dict.fromkeys((c.name, *c.synonyms)))[:9])
            failures.append(
                Failure(None, c.name, None, f"required column not found; headers accepted include {syn}")
            )
        first = absent[0].name
        raise DataError(
            f"the {schema.kind} table lacks required column(s) "
            f"{[c.name for c in absent]}; headers seen: {list(frame.columns)}",
            source=raw.source,
            failures=failures,
            hint=f"name the header that holds it, e.g. columns={{'<your header>': {first!r}}}",
        )

    parsed: dict[str, pd.Series] = {}
    problems: list[Problem] = []
    for spec in schema.readable:
        if spec.name in headers:
            h = headers[spec.name]
            values = frame[h]
            if spec.grades_into is not None and spec.grades_into not in headers:
                values = _grades_apart(values, spec, h, parsed, ctx)
            parsed[spec.name], found = parse_column(spec, values, h, ctx, period_parser)
            problems += found
    problems = _formula_problems(raw, headers, problems, ctx)
    original_ids: pd.Series | None = None
    if ids is not None and "employee_id" in parsed:
        original_ids = parsed["employee_id"]
        parsed["employee_id"], unknown = ids.lookup(original_ids)
        h = headers["employee_id"]
        problems += [
            (
                int(i),
                h,
                original_ids.iloc[i],
                f"id {original_ids.iloc[i]!r} is not in the identity crosswalk ({ids.source}); add it "
                "there to keep this row",
                "identity",
            )
            for i in np.flatnonzero(unknown)
        ]
        ctx.notes.append(
            Crosswalk.summary(original_ids[unknown], int(original_ids.dropna().nunique()))
        )
    if derived is not None:
        derived(frame, parsed, headers)
    typed = pd.DataFrame(parsed, index=frame.index)
    problems += _rule_problems(schema, typed, frame, headers, problems)
    if row_check is not None:
        problems += row_check(typed, frame, headers, ctx)
    text = pd.DataFrame({c: text_values(frame[c]) for c in frame.columns}, index=frame.index, dtype=object)
    text.columns = frame.columns
    problems += exact_duplicates(text, raw.rows) if duplicates is None else duplicates(text, typed, raw.rows)
    problems = _non_data(text, problems, {**NON_DATA_ROWS, **(non_data_rows or {})})
    failed = np.zeros(len(frame), dtype=bool)
    for p in problems:
        failed[p[0]] = True
    if key_check is not None:
        found = key_check(typed, failed, headers, raw.rows)
        problems += found
        for p in found:
            failed[p[0]] = True

    problems.sort(key=lambda p: (p[0], p[1] or ""))
    if errors == "raise" and (problems or raw.malformed):
        failures = [Failure(int(line), None, None, reason, check) for line, _, reason, check in raw.malformed]
        failures += [Failure(int(raw.rows[p[0]]), p[1], p[2], p[3], p[4]) for p in problems]
        failures.sort(key=lambda f: (f.row, f.column or ""))
        n_rows = len({f.row for f in failures})
        raise DataError(
            f"{len(failures)} problem(s) on {n_rows} of {raw.rows_read} rows of the {schema.kind} table",
            source=raw.source,
            failures=failures,
            hint="correct the rows listed, or read with errors='quarantine' to keep the good rows "
            "and inspect .rejected",
        )

    keep = ~failed
    out = pd.DataFrame(index=range(int(keep.sum())))
    for spec in schema.columns:
        if spec.name in parsed:
            out[spec.name] = parsed[spec.name][keep].reset_index(drop=True)
        else:
            out[spec.name] = pd.Series([None] * len(out), dtype=_empty_dtype(spec))
    for raw_name, name in match.extras.items():
        col = frame[raw_name][keep].reset_index(drop=True)
        if col.dtype == object:
            blank = text[raw_name].to_numpy()[keep] == ""
            col = pd.Series(np.where(blank, None, col.to_numpy()), dtype=object).infer_objects()
        out[name] = col
    if original_ids is not None:
        out["source_employee_id"] = original_ids[keep].reset_index(drop=True)
    out["source_row"] = raw.rows[keep].astype("int64")
    validate(schema, out, source=raw.source)

    rejected = _rejected(text, raw, problems)
    return Table(
        frame=out,
        rejected=rejected,
        source=raw.source,
        rows_read=raw.rows_read,
        kind=schema.kind,
        columns=dict(headers),
        notes=tuple(raw.notes) + tuple(ctx.notes),
    )


def _grades_apart(values: pd.Series, spec: ColumnSpec, header: str, parsed: dict[str, pd.Series],
                  ctx: Context) -> pd.Series:
    """The cells of a number column holding a grade word or letter (``Pass``, ``B+``) moved, as written,
    into the column ``spec.grades_into`` of ``parsed``, and ``values`` without them (missing there); a
    note counts them by grade and names the rows."""
    is_grade = map_values(values, is_grade_word, null=False).astype(bool)
    if not is_grade.any():
        return values
    text = map_values(values, lambda v: as_text(v).strip())
    grades = text.copy()
    grades[~is_grade] = None
    target = str(spec.grades_into)
    parsed[target] = pd.Series(grades, index=values.index, dtype="str")
    counts = pd.Series(text[is_grade]).value_counts()
    rows = (ctx.rows if ctx.rows is not None else np.arange(1, len(values) + 1))[is_grade].tolist()
    where = ", ".join(map(str, rows[:5])) + (", ..." if len(rows) > 5 else "")
    ctx.notes.append(
        f"column {header!r}: {int(is_grade.sum())} row(s) (row{'s' if len(rows) > 1 else ''} {where}) hold a "
        f"grade, not a number ({', '.join(f'{k!r} x{v}' for k, v in counts.items())}): kept, with "
        f"{spec.name} left empty and the grade in column {target!r}"
    )
    return values.where(~is_grade, None)


def _formula_problems(
    raw: RawSource, headers: Mapping[str, str], problems: list[Problem], ctx: Context
) -> list[Problem]:
    """A cell of a canonical column holding an Excel formula without a cached value rejects its row (for
    that reason only: it was read as empty); such cells in extra columns are counted in the notes."""
    if not raw.formulas:
        return problems
    used = set(headers.values())
    cells = {(pos, h): f for pos, h, f in raw.formulas if h in used}
    others = sorted({h for _, h, _ in raw.formulas if h not in used})
    if others:
        ctx.notes.append(f"extra column(s) {others} hold formulas without a cached value, read as empty "
                         "(open and save the file in Excel, or export values)")
    kept = [p for p in problems if (p[0], p[1]) not in cells]
    return kept + [
        (pos, h, f, f"formula without a cached value ({f}, read as empty): open and save the file in Excel, "
         "or export values", "formula")
        for (pos, h), f in cells.items()
    ]


def _refuse_repeated_headers(
    raw: RawSource, schema: TableSchema, columns: Mapping[str, str] | None,
    preset_columns: Mapping[str, str] | None, match: ColumnMatch | None,
) -> None:
    """Raise when two headers are the same (after ``normalise_key``) and one of them would be read as a
    canonical column: which one is meant cannot be known (docs/explanation.md, "Reading exports")."""
    names = [str(c) for c in raw.frame.columns]
    groups = repeated_headers(names, raw.headers, columns)
    if not groups:
        return
    if match is None:  # match with one header of each group: does the group hold a canonical column?
        drop = {i for g in groups for i in g[1:]}
        reduced = [c for i, c in enumerate(names) if i not in drop]
        keys = {normalise_key(c) for c in reduced}
        user = {k: v for k, v in (columns or {}).items() if k in reduced or normalise_key(k) in keys}
        match = match_columns(reduced, schema.readable, columns=user, preset_columns=preset_columns,
                              source=raw.source)
    claimed = {r: canon for canon, r in match.canonical.items()}
    for g in groups:
        hit = next((claimed[names[i]] for i in g if names[i] in claimed), None)
        if hit is not None:
            raise refuse_repeated(g, names, raw.headers, hit, raw.source)


def _rule_problems(
    schema: TableSchema, typed: pd.DataFrame, frame: pd.DataFrame, headers: Mapping[str, str],
    found: list[Problem],
) -> list[Problem]:
    """The rows that break the table's row rules; a value already reported (it could not be read, say) is
    not reported again by a rule that sees it as missing."""
    reported = {(p[0], p[1]) for p in found}
    out: list[Problem] = []
    for rule, rows in rule_failures(schema, typed):
        header = headers.get(rule.column, rule.column)
        for i in rows.tolist():
            if (i, header) in reported:
                continue
            value: str | None = None
            if rule.shown == "parsed":
                value = as_text(typed[rule.column].iloc[i])
            elif rule.shown == "as_written":
                value = as_text(frame[header].iloc[i] if header in frame else typed[rule.column].iloc[i])
            out.append((i, header, value, rule.reason(typed, i, header), rule.check))
    return out


def _non_data(text: pd.DataFrame, problems: list[Problem], labels: Mapping[str, str]) -> list[Problem]:
    """Replace every problem of a known non-data row by one rejection saying what the row is."""
    if not len(text) or not labels:
        return problems
    found: dict[int, str] = {}
    near = "|".join(r"\W*".join(map(re.escape, k.split())) for k in labels)
    for col in text.columns:
        distinct = pd.unique(text[col].to_numpy(dtype=object))
        maybe = pd.Series(distinct, dtype=object).str.contains(near, case=False, regex=True, na=False)
        if not maybe.any():
            continue
        cands = distinct[maybe.to_numpy(dtype=bool)]
        hits = {u: labels[k] for u in cands if (k := normalise_key(u)) in labels}
        if not hits:
            continue
        values = text[col].to_numpy(dtype=object)
        for i in np.flatnonzero(text[col].isin(list(hits)).to_numpy()):
            found.setdefault(int(i), hits[values[i]])
    if not found:
        return problems
    kept = [p for p in problems if p[0] not in found]
    return kept + [(i, None, None, reason, "non_data") for i, reason in found.items()]


def _empty_dtype(spec: ColumnSpec) -> Any:
    from impactlab.schemas.tables import KIND_DTYPES

    if spec.kind == "period":
        return "object"
    return KIND_DTYPES[spec.kind]


def _rejected(text: pd.DataFrame, raw: RawSource, problems: list[Problem]) -> pd.DataFrame:
    reserved = set(REJECTED_COLUMNS)
    rename = {c: (f"raw_{c}" if c in reserved else c) for c in text.columns}
    records: list[dict[str, Any]] = []
    for line, values, reason, check in raw.malformed:
        rec: dict[str, Any] = {rename[k]: v for k, v in values.items()}
        rec.update({"source_row": int(line), "column": None, "value": None, "reason": reason,
                    "check": check})
        records.append(rec)
    if problems:
        sub = text.iloc[[p[0] for p in problems]].rename(columns=rename).to_dict("records")
        for rec, p in zip(sub, problems, strict=True):
            rec.update(source_row=int(raw.rows[p[0]]), column=p[1], value=p[2], reason=p[3], check=p[4])
            records.append(rec)
    cols = [rename[c] for c in text.columns] + list(REJECTED_COLUMNS)
    if not records:
        return pd.DataFrame({c: pd.Series(dtype="object") for c in cols}).astype({"source_row": "int64"})
    out = pd.DataFrame.from_records(records, columns=cols)
    return out.sort_values("source_row", kind="stable").reset_index(drop=True)


def refuse_empty(table: Table, hint: str | None = None) -> Table:
    """``table`` when it kept a row (or read none); otherwise one :class:`~impactlab.errors.DataError`
    saying what was seen: a reader whose every row was rejected has most likely been given the wrong
    column, layout or option, and an empty table would only fail later, far from the cause."""
    if table.n_kept or not table.rows_read:
        return table
    rej = table.rejected
    counts = rej.groupby(["check", "column"], dropna=False)["source_row"].nunique().sort_values(
        ascending=False)
    seen = []
    for (check, col), n in counts.head(3).items():
        first = rej[(rej["check"] == check) & ((rej["column"] == col) if isinstance(col, str)
                                                else rej["column"].isna())].iloc[0]
        where = f"column {col!r}" if isinstance(col, str) else "whole row"
        seen.append(f"{n} row(s) {check} ({where}), e.g. row {first['source_row']}: {first['reason']}")
    failures = [Failure(int(r.source_row), r.column if isinstance(r.column, str) else None,
                        r.value if isinstance(r.value, str) else None, str(r.reason), str(r.check))
                for r in rej.itertuples(index=False)]
    raise DataError(
        f"none of the {table.rows_read} rows of the {table.kind} table could be kept: " + "; ".join(seen),
        source=table.source,
        failures=failures,
        hint=hint or "the reasons say what was seen in each column; fix the column named (or map another "
        "header onto it with columns=) and read again",
    )
