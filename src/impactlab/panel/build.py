"""From validated tables (KPIs, completions, roster) to a :class:`Panel`."""

from __future__ import annotations

import warnings
from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd

from impactlab.errors import DataQualityWarning, PanelError, check_option
from impactlab.io.identity import IdMatch, apply_id_map, match_ids
from impactlab.panel._order import take_values
from impactlab.panel.panel import DROPPED_COLUMNS, Panel, _unit_codes
from impactlab.panel.roster import NOT_IN_ROSTER, asof_attributes, employment_reasons, team_exposure
from impactlab.schemas.vocab import TRAINED_STATUSES  # exempt / equivalent: credited, not trained

#: What ``dose=`` can add to an employee panel.
DOSES = ("attempts", "hours")


def check_threshold(threshold: float) -> float:
    """A share in (0, 1]; ``ValueError`` otherwise."""
    if not isinstance(threshold, (int, float)) or not 0 < threshold <= 1:
        raise ValueError(f"The 'threshold' parameter must be a share in (0, 1], e.g. 0.5. Got {threshold!r} "
                         "instead.")
    return float(threshold)


def _dose(rows: pd.DataFrame, what: str, first: pd.Series) -> tuple[pd.Series, dict[str, int]]:
    """The dose per employee and, for hours, how the programme's rows were counted.

    Hours are summed over the employee's rows of the programme up to the first completion (rows dated on
    or before it, and undated rows); rows dated after it (refreshers, retakes once trained) are left out:
    training taken after the cohort starts is not the dose it was trained with. A row without hours adds
    nothing; an employee whose rows all lack hours gets none (0 in the panel)."""
    if what == "attempts":
        tried = rows.loc[rows["status"].isin(("completed", "passed", "failed"))]
        return tried.groupby("employee_id").size().astype("float64"), {}
    if "hours" not in rows:
        return pd.Series(dtype="float64"), {"rows": len(rows), "rows_without_hours": len(rows)}
    cut = rows["employee_id"].map(first)
    when = rows["completed_at"]
    after = (when.notna() & cut.notna() & (when > cut)).to_numpy()
    used = rows.loc[~after]
    counts = {"rows": len(rows), "rows_after_training": int(after.sum()),
              "rows_undated": int(used["completed_at"].isna().sum()),
              "rows_without_hours": int(used["hours"].isna().sum()),
              "rows_summed": int(used["hours"].notna().sum())}
    return used.groupby("employee_id")["hours"].sum(min_count=1).astype("float64"), counts


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


#: Columns of the id ledger, ``panel.meta["ids"]``.
ID_LEDGER_COLUMNS = ("table", "id", "matched_to", "reason", "note")
#: Reasons of the id ledger that a warning reports (ids that match nothing).
UNMATCHED = ("trained, no KPI rows", "not in the roster", "no KPI rows")
ROSTER_ONLY = "in the roster only: no KPI rows, no completions"


def _match(kpi_ids: pd.Index, c: pd.DataFrame, rf: pd.DataFrame | None, unit: str) -> IdMatch:
    """The employee ids of the KPI table (``kpi_ids``: its distinct units), the completions and the roster
    matched onto one spelling."""
    tables: dict[str, Any] = {}
    if rf is not None:
        tables["roster"] = rf["employee_id"]
    if unit == "employee_id":
        tables["kpis"] = kpi_ids
    tables["completions"] = c["employee_id"]
    return match_ids(tables, reference="roster" if rf is not None else "kpis")


def _kept_codes(codes: np.ndarray, uniq: pd.Index, keep: np.ndarray) -> tuple[np.ndarray, pd.Index]:
    """The unit codes of the rows ``keep`` and their distinct values, numbered again in the same (sorted)
    order, as :func:`~impactlab.panel.panel._unit_codes` of those rows gives them."""
    kept = codes[keep]
    present = np.zeros(len(uniq) + 1, dtype=bool)
    present[kept] = True  # code -1 (a missing id) lands on the extra last slot
    renumber = np.cumsum(present[:-1]) - 1
    new = np.where(kept >= 0, renumber[np.maximum(kept, 0)], -1).astype(codes.dtype, copy=False)
    return new, uniq[present[:-1]]


def _id_ledger(ids: IdMatch, *, units: pd.Index | None, mine: pd.DataFrame, trained: pd.Index,
               completions: pd.DataFrame, roster: pd.DataFrame | None,
               dropped: list[pd.DataFrame]) -> pd.DataFrame:
    """One row per id matched to another spelling or matching nothing (:data:`ID_LEDGER_COLUMNS`);
    ``units`` are the employee ids with KPI rows kept (None for team panels)."""
    rows = [(r.table, r.id, r.matched_to, r.reason) for r in ids.ledger.itertuples() if r.matched_to]
    notes = {(r.table, r.id): r.reason for r in ids.ledger.itertuples() if not r.matched_to}
    gone = pd.concat(dropped) if dropped else pd.DataFrame({"unit": [], "reason": []})
    if roster is not None:
        known = set(roster["employee_id"])
        if units is not None:
            rows += [("kpis", u, None, "not in the roster")
                     for u in pd.unique(gone.loc[gone["reason"] == NOT_IN_ROSTER, "unit"])]
    else:
        known = set(units if units is not None else ())
    done = set(trained)
    for e in pd.unique(mine["employee_id"].dropna()):
        if e not in known:
            why = "not in the roster" if roster is not None else (
                "trained, no KPI rows" if e in done else "no KPI rows")
            rows.append(("completions", e, None, why))
    if units is not None:
        have = set(units)
        rows += [("completions", e, None, "trained, no KPI rows") for e in trained
                 if e in known and e not in have]
        if roster is not None:
            seen = have | set(gone["unit"]) | set(completions["employee_id"].dropna())
            rows += [("roster", e, None, ROSTER_ONLY) for e in pd.unique(roster["employee_id"].dropna())
                     if e not in seen]
    out = pd.DataFrame(rows, columns=list(ID_LEDGER_COLUMNS[:-1]))
    out["note"] = [notes.get((t, i)) for t, i in zip(out["table"], out["id"], strict=True)]
    return out


#: Columns of ``panel.meta["other_programs"]``.
OTHER_PROGRAM_COLUMNS = ("program", "employees", "also_trained", "share_trained", "share_untrained")


def _other_programs(c: pd.DataFrame, norm: pd.Series, key: str, employees: pd.Index, trained: pd.Index,
                    window: tuple[Any, Any], freq: str) -> pd.DataFrame:
    """The other programmes the panel's employees completed within the panel's periods: per programme, the
    employees who did (``employees``), how many of them were trained in the programme analysed
    (``also_trained``), and the share of the panel's trained and untrained employees who did."""
    done = c["status"].isin(TRAINED_STATUSES) & c["completed_at"].notna() & (norm != key).to_numpy()
    rows = c.loc[done, ["employee_id", "program", "completed_at"]]
    rows = rows.loc[rows["employee_id"].isin(employees)]
    if len(rows):
        when = _to_period(rows["completed_at"], freq)
        rows = rows.loc[((when >= window[0]) & (when <= window[1])).to_numpy()]
    n_trained = int(trained.isin(employees).sum())
    n_untrained = len(employees) - n_trained
    out = []
    for _, grp in rows.groupby(norm.loc[rows.index], sort=True):
        who = pd.Index(grp["employee_id"].unique())
        also = int(who.isin(trained).sum())
        out.append((grp["program"].astype(str).mode().iloc[0], len(who), also,
                    also / n_trained if n_trained else np.nan,
                    (len(who) - also) / n_untrained if n_untrained else np.nan))
    frame = pd.DataFrame(out, columns=list(OTHER_PROGRAM_COLUMNS))
    return frame.sort_values("employees", ascending=False, kind="mergesort").reset_index(drop=True)


def _examples(ids: pd.Series, n: int = 5) -> str:
    shown = ", ".join(repr(i) for i in ids.iloc[:n])
    return shown + (", ..." if len(ids) > n else "")


#: How the warning names each kind of id that matches nothing.
_LOST = {("completions", "trained, no KPI rows"): "trained employee(s) without KPI rows",
         ("completions", "not in the roster"): "completion id(s) not in the roster",
         ("completions", "no KPI rows"): "completion id(s) without KPI rows",
         ("kpis", "not in the roster"): "KPI id(s) not in the roster"}


def _warn_ids(ledger: pd.DataFrame) -> None:
    """A warning line for ids matched by a rule and one for ids that match nothing, counts and examples."""
    matched = ledger.loc[ledger["matched_to"].notna()]
    if len(matched):
        first = matched[["table", "id", "matched_to"]].head(3).to_numpy()
        pairs = [f"{t} {i!r} -> {m!r}" for t, i, m in first]
        rules = sorted({r.removeprefix("matched ignoring ") for r in matched["reason"]})
        warnings.warn(f"build_panel matched {len(matched)} id(s) to another table's spelling ignoring "
                      f"{' or '.join(rules)} (e.g. {', '.join(pairs)}); panel.meta['ids'] lists them.",
                      DataQualityWarning, stacklevel=3)
    lost = ledger.loc[ledger["reason"].isin(UNMATCHED)]
    if len(lost):
        parts = [f"{len(grp)} {_LOST[key]} (e.g. {_examples(grp['id'])})"
                 for key, grp in lost.groupby(["table", "reason"], sort=False)]
        blocked = lost["note"].dropna()
        why = f"; {blocked.iloc[0]}" if len(blocked) else ""
        lms = (lost["table"] == "completions").any()
        fix = "; an LMS whose ids are not the HR ids needs a crosswalk, read_completions(..., ids=...)"
        fix = fix if lms else ""
        warnings.warn(f"build_panel: ids that match nothing: {'; '.join(parts)}{why}. panel.meta['ids'] "
                      f"lists them{fix}.", DataQualityWarning, stacklevel=3)


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
    dose : {"attempts", "hours"} or a sequence of them, optional
        Employee panels: add the number of attempts at the programme (rows completed, passed or failed)
        and/or the training hours recorded for it as covariates (0 when none), the dose
        :func:`impactlab.dose_response` takes. Hours are summed over the employee's rows of the programme
        up to the first completion: rows dated on or before it and undated rows; rows dated after it
        (refreshers, retakes once trained) are left out, and rows without hours add nothing.
        ``panel.meta["dose_rows"]["hours"]`` counts the rows: ``rows``, ``rows_after_training``,
        ``rows_undated``, ``rows_without_hours``, ``rows_summed``.
    threshold : float
        Share trained, in (0, 1], that makes a team treated (team panels only).

    Returns
    -------
    Panel
        Cohort = period of the employee's first completion (status completed or passed) of the programme;
        employees without one are never treated (exempt and equivalent credits count as not trained).
        ``panel.meta["ids"]`` is the id ledger: one row per id (``table``, ``id``, ``matched_to``,
        ``reason``, ``rows``) matched to another spelling or matching nothing. For employee panels,
        ``panel.meta["other_programs"]`` lists the other programmes the panel's employees completed
        (completed or passed) within the panel's periods, one row each: ``program``, ``employees`` (who
        completed it), ``also_trained`` (of them, trained in ``program``), ``share_trained`` and
        ``share_untrained`` (the share of the panel's employees trained in ``program``, and of the
        others, who completed it); :func:`impactlab.evaluate` reads it. ``panel.meta["with_roster"]``
        says whether a roster was given.

    Warns
    -----
    DataQualityWarning
        One line when ids were matched ignoring leading zeros or case, and one when ids match nothing
        (trained employees without KPI rows, KPI or completion ids not in the roster), each with the
        count and the first ids.

    Notes
    -----
    Employee ids are joined by one rule (docs/explanation.md, "Ids across tables"): the roster's ids (the
    KPI table's without a roster) are kept; an id of the KPI table or the completions with no exact match
    is matched to the one that differs from it only by the leading zeros of a digits-only id (``123`` and
    ``00123``: Excel drops them) or only by case (``e01`` and ``E01``), each rule only while no table
    holds two ids that differ only that way (then that source tells such ids apart, and they are compared
    as written).

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
    rf = None if roster is None else _frame(roster, "read_roster")
    # the unit codes once, before the roster's drops (which only take a subset of them, below)
    codes = _unit_codes(k[unit])
    ids = _match(codes[1], c, rf, unit)
    if ids.maps.get("kpis"):
        k[unit] = apply_id_map(k[unit], ids.maps["kpis"])
        codes = _unit_codes(k[unit])
    if ids.maps.get("completions"):
        c = c.copy(deep=False)
        c["employee_id"] = apply_id_map(c["employee_id"], ids.maps["completions"])
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
    exposure: pd.DataFrame | None = None
    if unit != "employee_id" and roster is None:
        raise PanelError(f"A panel of {unit!r} units needs roster= to know who belongs to which {unit}; "
                         "pass the HR roster (it must have a column of that name).")
    if rf is not None:
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
            codes = _kept_codes(*codes, (~bad).to_numpy())
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
    ucode, uniq = codes

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
    dose_rows: dict[str, dict[str, int]] = {}
    doses = [dose] if isinstance(dose, str) else list(dose or ())  # dose="hours" reads as ["hours"]
    for d in doses:
        check_option("dose", d, DOSES)
        if unit != "employee_id":
            raise PanelError("dose= is for employee panels; a team panel's dose is the share trained "
                             "(panel.meta['exposure']).")
        by_employee, counted = _dose(mine, d, first)
        df[d] = np.nan_to_num(np.asarray(per_row(by_employee), dtype="float64"), nan=0.0)
        if counted:
            dose_rows[d] = counted
        owned.append(d)
    roster_cols = [] if rf is None else [c for c in rf.columns if c not in ("employee_id", "source_row")]
    for col in list(covariates or []) + ([cluster] if cluster else []):
        if col in df.columns:
            continue
        if col not in roster_cols or unit != "employee_id":
            raise PanelError(f"Column {col!r} is neither a KPI column nor a roster column.")
        df[col] = asof_attributes(rf, df[unit], df["period"], freq, [col])[col].to_numpy()
        owned.append(col)
    for col in list(covariates or []) + [d for d in doses if d not in (covariates or [])]:
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
    id_ledger = _id_ledger(ids, units=pd.Index(uniq) if unit == "employee_id" else None, mine=mine,
                           trained=first.index, completions=c, roster=rf, dropped=dropped)
    _warn_ids(id_ledger)
    meta = {"program": program, "freq": freq, "completions_used": len(done),
            "trained_employees": len(first), "trained_without_kpis": trained_without_kpis,
            "kpi_rows_read": int(len(k) + sum(len(d) for d in dropped)), "ids": id_ledger}
    if dose_rows:
        meta["dose_rows"] = dose_rows
    if unit == "employee_id":
        window = (panel.periods[0], panel.periods[-1]) if len(panel.periods) else (None, None)
        meta["other_programs"] = _other_programs(c, norm, program.strip().casefold(), pd.Index(uniq),
                                                 first.index, window, freq)
    meta["with_roster"] = rf is not None
    if exposure is not None:
        meta.update(exposure=exposure, threshold=threshold)
    return panel._replace(dropped=ledger[list(DROPPED_COLUMNS)].reset_index(drop=True), meta=meta)
