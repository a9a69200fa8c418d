"""Fully-loaded programme costs in the Phillips categories.

The Phillips ROI Methodology asks for *fully-loaded* costs: every category below, including the salaries
and benefits of participants for the time they spend away from work (leaving that out is the classic way
ROI gets inflated). See J. J. Phillips & P. P. Phillips, *Handbook of Training Evaluation and Measurement
Methods* (4th ed., Routledge, 2016), ch. "Capturing Costs", and DOMAIN.md of this project.

Each category is either a number (known cost) or a ``(low, high)`` range (a cost only known to lie in an
interval). Point values use range midpoints; :func:`impactlab.roi.roi` propagates ranges by drawing each
category uniformly within its range.

Costs read from a sheet are whole or refused: :meth:`Costs.from_table` raises when the table it is given
has rejected rows, and the :class:`CostAccounting` it attaches says what became of every row read, so that
:func:`impactlab.roi.roi` can refuse a cost that leaves rows out (a total without them understates the cost
and overstates the ROI).
"""

from __future__ import annotations

import html
import math
import numbers
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from impactlab.errors import DataError, Failure
from impactlab.schemas.vocab import COST_CATEGORIES

#: Phillips cost categories, in the order they are shown (the canonical vocabulary of the costs table).
CATEGORIES: tuple[str, ...] = COST_CATEGORIES

#: Spellings met in cost spreadsheets, mapped onto :data:`CATEGORIES` (after lower-casing and turning
#: spaces, hyphens and slashes into underscores).
CATEGORY_ALIASES: dict[str, str] = {
    "needs_analysis": "needs_assessment",
    "analysis": "needs_assessment",
    "design_and_development": "design",
    "design_development": "design",
    "development": "design",
    "facilitator": "facilitators",
    "facilitation": "facilitators",
    "instructors": "facilitators",
    "material": "materials",
    "facility": "facilities",
    "participants_time": "participant_time",
    "participant_salaries": "participant_time",
    "participant_salaries_and_benefits": "participant_time",
    "salaries": "participant_time",
    "travel_and_lodging": "travel",
    "evaluation_and_reporting": "evaluation",
    "administration": "overhead",
}

Amount = float | tuple[float, float]


@dataclass(frozen=True)
class CostAccounting:
    """What became of every row of the costs table a :class:`Costs` was built from.

    Attributes
    ----------
    source : str
        The file or frame the rows came from.
    rows_read : int
        Data rows in the source.
    n_costed : int
        Rows added up into the costs.
    n_other_programs : int
        Rows of other programmes in the same table (left out because they cost something else).
    n_rejected : int
        Rows the reader rejected.
    """

    source: str
    rows_read: int
    n_costed: int
    n_other_programs: int = 0
    n_rejected: int = 0

    @property
    def complete(self) -> bool:
        """True when every row read is costed or belongs to another programme (none rejected, none
        unaccounted for)."""
        return self.n_rejected == 0 and self.n_costed + self.n_other_programs == self.rows_read

    def __str__(self) -> str:
        other = f", {self.n_other_programs} of other programmes" if self.n_other_programs else ""
        missing = self.rows_read - self.n_costed - self.n_other_programs - self.n_rejected
        rest = (f", {self.n_rejected} rejected" if self.n_rejected else "") + (
            f", {missing} unaccounted for" if missing else "")
        return f"{self.n_costed} of {self.rows_read} rows of {self.source} costed{other}{rest}"

#: One-off categories spread over the expected runs of a programme (Phillips 2003, ch. 7: "prorating"
#: needs assessment and development costs over the life of the programme).
PRORATED: tuple[str, ...] = ("needs_assessment", "design")


def _normalise_category(raw: Any) -> str:
    text = str(raw).strip().lower()
    for ch in (" ", "-", "/", "&"):
        text = text.replace(ch, "_")
    while "__" in text:
        text = text.replace("__", "_")
    text = text.strip("_").replace("_&_", "_and_")
    return CATEGORY_ALIASES.get(text, text)


def _first(rows: list[Any], n: int = 10) -> str:
    """The first ``n`` row numbers, comma-separated, with "..." when there are more."""
    return ", ".join(map(str, rows[:n])) + (", ..." if len(rows) > n else "")


def _is_number(x: Any) -> bool:
    return isinstance(x, numbers.Real) and not isinstance(x, bool)


def _check_amount(name: str, value: Any) -> Amount:
    # DataError subclasses ValueError: bad amounts are bad input data, and callers catching ValueError
    # keep working.
    """Validate one category's value; return a float or a (low, high) tuple of floats."""
    how = (f"Pass a non-negative number or a (low, high) range with 0 <= low <= high, e.g. "
           f"Costs({name}=12_000) or Costs({name}=(10_000, 15_000)).")
    if _is_number(value):
        v = float(value)
        if not math.isfinite(v) or v < 0:
            raise DataError(f"The cost {name!r} must be a finite, non-negative number. "
                             f"Got {value!r} instead. " + how)
        return v
    if isinstance(value, (tuple, list)) and len(value) == 2 and all(_is_number(v) for v in value):
        low, high = float(value[0]), float(value[1])
        if not (math.isfinite(low) and math.isfinite(high)) or low < 0:
            raise DataError(f"The cost range {name!r} must hold finite, non-negative numbers. "
                             f"Got {tuple(value)!r} instead. " + how)
        if low > high:
            raise DataError(f"The cost range {name!r} has low > high: {tuple(value)!r}. "
                             f"Write it as ({high!r}, {low!r}).")
        return (low, high)
    raise ValueError(f"The cost {name!r} must be a number or a (low, high) range. "
                     f"Got {value!r} ({type(value).__name__}) instead. " + how)


@dataclass(frozen=True, repr=False, eq=True)
class Costs:
    """Fully-loaded costs of a programme, by Phillips category.

    Parameters
    ----------
    needs_assessment, design, delivery, facilitators, materials, facilities, participant_time, travel, \
evaluation, overhead : float or (float, float)
        Cost of each category in ``currency``: a non-negative number, or a ``(low, high)`` range when the
        cost is only known within bounds. ``participant_time`` is the loaded salary of participants for the
        hours spent in training; Phillips counts it as a cost and leaving it out inflates ROI.
    currency : str
        ISO currency code (``"USD"``, ``"EUR"``...), used in tables and charts.
    expected_runs : int
        Number of times the programme is expected to run. Needs assessment and design and development are
        one-off costs that Phillips prorates over the programme's life: the amounts given for them are
        divided by ``expected_runs`` in every total (``table()`` shows both). Default 1 (no proration).
    accounting : CostAccounting or None
        Set by :meth:`from_table`: the rows of the costs table and what became of each.
        :func:`impactlab.roi.roi` refuses costs whose accounting is not complete. ``None`` for costs typed
        in directly.

    Raises
    ------
    DataError
        A negative or non-finite amount or a range with ``low > high`` (a :class:`ValueError` too).
    ValueError
        A value that is neither a number nor a pair, a bad currency or ``expected_runs``.

    Notes
    -----
    Categories follow J. J. Phillips, *Return on Investment in Training and Performance Improvement
    Programs* (2nd ed., Butterworth-Heinemann, 2003), ch. 7 ("Tabulating Program Costs"): needs
    assessment, design and development, delivery (facilitators, materials, facilities, participants'
    salaries and benefits), travel, evaluation and overhead.

    Examples
    --------
    >>> c = Costs(design=20_000, delivery=(30_000, 40_000), participant_time=25_000)
    >>> c.total, c.low, c.high
    (80000.0, 75000.0, 85000.0)
    """

    needs_assessment: Amount = 0.0
    design: Amount = 0.0
    delivery: Amount = 0.0
    facilitators: Amount = 0.0
    materials: Amount = 0.0
    facilities: Amount = 0.0
    participant_time: Amount = 0.0
    travel: Amount = 0.0
    evaluation: Amount = 0.0
    overhead: Amount = 0.0
    currency: str = "USD"
    expected_runs: int = 1
    accounting: CostAccounting | None = field(default=None, compare=False)

    def __post_init__(self) -> None:
        for name in CATEGORIES:
            object.__setattr__(self, name, _check_amount(name, getattr(self, name)))
        if not isinstance(self.currency, str) or not self.currency.strip():
            raise ValueError(f"The 'currency' parameter must be a currency code such as 'USD'. "
                             f"Got {self.currency!r} instead.")
        object.__setattr__(self, "currency", self.currency.strip().upper())
        runs = self.expected_runs
        if isinstance(runs, bool) or not isinstance(runs, numbers.Integral) or runs < 1:
            raise ValueError(f"The 'expected_runs' parameter must be an integer >= 1 (how many times the "
                             f"programme will run). Got {runs!r} instead.")
        object.__setattr__(self, "expected_runs", int(runs))
        if self.accounting is not None and not isinstance(self.accounting, CostAccounting):
            raise TypeError(f"The 'accounting' parameter must be a CostAccounting or None. "
                            f"Got {type(self.accounting).__name__} instead.")

    # ------------------------------------------------------------------ values
    def ranges(self) -> dict[str, tuple[float, float]]:
        """``{category: (low, high)}`` for every category (a known cost has ``low == high``).

        One-off categories (:data:`PRORATED`) are divided by ``expected_runs``.
        """
        out = {}
        for name in CATEGORIES:
            v = getattr(self, name)
            lo, hi = (v, v) if isinstance(v, float) else v
            if name in PRORATED and self.expected_runs > 1:
                lo, hi = lo / self.expected_runs, hi / self.expected_runs
            out[name] = (lo, hi)
        return out

    def point(self, category: str) -> float:
        """Point value of one category: the number, or the midpoint of its range."""
        if category not in CATEGORIES:
            raise ValueError(f"Unknown cost category {category!r}. Allowed: {', '.join(CATEGORIES)}.")
        low, high = self.ranges()[category]
        return (low + high) / 2

    @property
    def total(self) -> float:
        """Point total: sum of the numbers and of the range midpoints."""
        return float(sum((lo + hi) / 2 for lo, hi in self.ranges().values()))

    @property
    def low(self) -> float:
        """Lowest possible total (sum of the range lows)."""
        return float(sum(lo for lo, _ in self.ranges().values()))

    @property
    def high(self) -> float:
        """Highest possible total (sum of the range highs)."""
        return float(sum(hi for _, hi in self.ranges().values()))

    @property
    def has_ranges(self) -> bool:
        """Whether any category is a range with ``low < high``."""
        return any(lo < hi for lo, hi in self.ranges().values())

    def table(self) -> pd.DataFrame:
        """One row per category: ``category, low, high, point, share`` (share of the point total).

        Categories are listed in :data:`CATEGORIES` order, zero ones included. When ``expected_runs > 1``
        a column ``prorated_over`` follows (the runs a one-off category is spread over, 1 otherwise) and
        low, high and point are the prorated amounts.
        """
        rows = self.ranges()
        frame = pd.DataFrame({
            "category": list(rows),
            "low": [lo for lo, _ in rows.values()],
            "high": [hi for _, hi in rows.values()],
        })
        frame["point"] = (frame["low"] + frame["high"]) / 2
        total = frame["point"].sum()
        frame["share"] = frame["point"] / total if total > 0 else np.nan
        if self.expected_runs > 1:
            frame["prorated_over"] = [self.expected_runs if c in PRORATED else 1 for c in frame["category"]]
        return frame

    @staticmethod
    def participant_salaries(participants: float, hours: float, hourly_rate: float | tuple[float, float],
                             *, benefits_factor: float = 0.0) -> Amount:
        """Loaded salary cost of participants' time away from work (the ``participant_time`` category).

        ``participants x hours x hourly_rate x (1 + benefits_factor)``. Phillips loads salaries with the
        employee benefits factor (commonly 0.25 to 0.40 of salary in the US; Phillips 2003, ch. 7); a
        ``(low, high)`` hourly rate gives a range.

        Examples
        --------
        >>> Costs.participant_salaries(40, 16, 30.0, benefits_factor=0.25)
        24000.0
        >>> Costs.participant_salaries(40, 16, (25.0, 35.0))
        (16000.0, 22400.0)
        """
        n = float(participants)
        h = float(hours)
        f = float(benefits_factor)
        for name, v in (("participants", n), ("hours", h), ("benefits_factor", f)):
            if not math.isfinite(v) or v < 0:
                raise DataError(f"The {name!r} parameter must be a finite, non-negative number. Got {v!r}.")
        rate = _check_amount("hourly_rate", hourly_rate)
        if isinstance(rate, tuple):
            return (n * h * rate[0] * (1 + f), n * h * rate[1] * (1 + f))
        return n * h * rate * (1 + f)

    # ------------------------------------------------------------------ construction
    @classmethod
    def from_table(cls, frame: Any, *, program: str | None = None, currency: str | None = None,
                   expected_runs: int = 1) -> Costs:
        """Build costs from the canonical costs table.

        Parameters
        ----------
        frame : DataFrame or Table
            Columns ``program``, ``category`` and either ``amount`` or ``low``/``high`` (a row may use
            either), optionally ``currency`` and ``source_row``. A :class:`Table` returned by
            ``read_costs`` is accepted as it is (its ``.frame`` is used) when it has no rejected row.
            Several rows of one category are added up (ranges add up bound by bound).
        program : str, optional
            Keep only this programme's rows. Required when the table holds more than one programme.
        currency : str, optional
            Currency to use when the table has no ``currency`` column (default ``"USD"``).
        expected_runs : int
            Runs over which needs assessment and design are prorated (see :class:`Costs`).

        Returns
        -------
        Costs
            With :attr:`accounting`: rows read, costed, of other programmes (none rejected).

        Raises
        ------
        DataError
            A Table with rejected rows (a total without them would understate the cost: fix them, or map
            item names with ``read_costs(..., categories=...)``, and read the sheet again); every bad row
            of the table at once: unknown category, negative or missing amount, ``low > high``, mixed
            currencies, no row for ``program``, or several programmes with no ``program=`` given.
        """
        df = getattr(frame, "frame", frame)
        if not isinstance(df, pd.DataFrame):
            raise TypeError(f"Costs.from_table expects a DataFrame (or a Table). Got {type(frame).__name__}.")
        source = str(getattr(frame, "source", "<DataFrame>"))
        rejected = getattr(frame, "rejected", None)
        if isinstance(rejected, pd.DataFrame) and len(rejected):
            rows = sorted(set(rejected["source_row"].tolist()))
            raise DataError(
                f"The costs table has {len(rows)} rejected row(s) (rows {_first(rows)}): a total without "
                "them would understate the fully-loaded cost and overstate the ROI.",
                source=source,
                failures=[Failure(r.source_row, r.column, r.value, r.reason, r.check)
                          for r in rejected.itertuples()],
                hint="Fix the rows listed in the source and read it again; for cost items that are not "
                     "Phillips categories pass read_costs(..., categories={'<item>': '<category>'}) "
                     f"(categories: {', '.join(CATEGORIES)}).")
        rows_read = int(getattr(frame, "rows_read", len(df)))
        missing = [c for c in ("program", "category") if c not in df.columns]
        has_amount = "amount" in df.columns
        has_range = "low" in df.columns and "high" in df.columns
        if missing or not (has_amount or has_range):
            need = missing + ([] if (has_amount or has_range) else ["amount (or low and high)"])
            raise DataError(f"The costs table lacks the column(s) {', '.join(need)}.",
                            hint="Give columns program, category and amount (or low/high); "
                                 f"columns seen: {', '.join(map(str, df.columns))}.")
        n_all = len(df)
        if program is not None:
            df = df[df["program"].astype(str) == str(program)]
            if df.empty:
                seen = sorted(map(str, getattr(frame, "frame", frame)["program"].dropna().unique()))
                raise DataError(f"The costs table has no row for program {program!r}.",
                                hint=f"Programmes in the table: {', '.join(seen) or 'none'}.")
        else:
            programs = df["program"].dropna().astype(str).unique()
            if len(programs) > 1:
                raise DataError("The costs table holds several programmes; say which one to cost.",
                                hint=f"Pass program=, one of: {', '.join(sorted(programs))}.")

        failures: list[Failure] = []
        sums: dict[str, list[float]] = {c: [0.0, 0.0] for c in CATEGORIES}
        for idx, row in df.iterrows():
            where = row["source_row"] if "source_row" in df.columns and pd.notna(row["source_row"]) else idx
            cat = _normalise_category(row["category"]) if pd.notna(row["category"]) else None
            if cat not in CATEGORIES:
                failures.append(Failure(where, "category", row["category"],
                                        f"not a Phillips cost category; allowed: {', '.join(CATEGORIES)} "
                                        "(map item names with read_costs(..., categories={...}))"))
                continue
            amount = row["amount"] if has_amount else np.nan
            lo = row["low"] if has_range else np.nan
            hi = row["high"] if has_range else np.nan
            if pd.notna(amount):
                bounds = (amount, amount)
                column = "amount"
            elif pd.notna(lo) and pd.notna(hi):
                bounds = (lo, hi)
                column = "low/high"
            else:
                failures.append(Failure(where, "amount", None,
                                        "no amount: give amount, or both low and high"))
                continue
            try:
                b = (float(bounds[0]), float(bounds[1]))
            except (TypeError, ValueError):
                failures.append(Failure(where, column, bounds if column == "low/high" else bounds[0],
                                        "the amount must be a number"))
                continue
            if not all(math.isfinite(x) for x in b) or min(b) < 0:
                failures.append(Failure(where, column, b if column == "low/high" else b[0],
                                        "costs must be finite and non-negative"))
                continue
            if b[0] > b[1]:
                failures.append(Failure(where, column, b, "low is greater than high"))
                continue
            sums[cat][0] += b[0]
            sums[cat][1] += b[1]

        cur = currency
        if "currency" in df.columns:
            codes = sorted(df["currency"].dropna().astype(str).str.strip().str.upper().unique())
            if len(codes) > 1:
                failures.append(Failure(None, "currency", codes,
                                        "one programme's costs must share one currency; convert them first"))
            elif codes:
                if currency is not None and codes[0] != currency.strip().upper():
                    failures.append(Failure(None, "currency", codes[0],
                                            f"differs from currency={currency!r} given"))
                cur = codes[0]
        if failures:
            raise DataError(f"{len(failures)} problem(s) in the costs table.", failures=failures,
                            hint="Fix the rows listed (categories must be Phillips categories, amounts "
                                 "non-negative numbers, low <= high).")
        values: dict[str, Any] = {c: (lo if lo == hi else (lo, hi)) for c, (lo, hi) in sums.items()}
        accounting = CostAccounting(source=source, rows_read=rows_read, n_costed=len(df),
                                    n_other_programs=n_all - len(df))
        costs = cls(**values, currency=cur or "USD", expected_runs=expected_runs, accounting=accounting)
        if not (math.isfinite(costs.total) and math.isfinite(costs.high)):
            raise DataError("the costs add up past the largest number a float holds (the total would be "
                            "infinite)", failures=[Failure(None, "amount", max(r[1] for r in sums.values()),
                                                           "amounts too large to add up", "range")],
                            hint="check the amounts' magnitude (a unit error, or digits repeated)")
        return costs

    # ------------------------------------------------------------------ display
    def _fmt(self, lo: float, hi: float) -> str:
        return f"{lo:,.0f}" if lo == hi else f"{lo:,.0f}–{hi:,.0f}"

    def __repr__(self) -> str:
        parts = [f"{c}={self._fmt(*r)}" for c, r in self.ranges().items() if r[1] > 0]
        runs = f", one-off costs over {self.expected_runs} runs" if self.expected_runs > 1 else ""
        return f"Costs({', '.join(parts) or 'all zero'}; total {self.total:,.0f} {self.currency}{runs})"

    def summary(self) -> str:
        """Plain-text table of the categories and the totals (and the rows they came from)."""
        t = self.table()
        t = t[t["high"] > 0]
        lines = [f"Fully-loaded costs ({self.currency})"]
        lines += [f"  {r.category:<18} {self._fmt(r.low, r.high):>22}  {r.share:6.1%}"
                  for r in t.itertuples()]
        lines.append(f"  {'total':<18} {self._fmt(self.low, self.high):>22}  (point {self.total:,.0f})")
        if self.accounting is not None:
            lines.append(f"  from {self.accounting}")
        return "\n".join(lines)

    def _repr_html_(self) -> str:
        body = self.table().to_html(index=False, border=0, float_format=lambda v: f"{v:,.2f}")
        return (f"<div class='impactlab-result'><h4 style='margin:0.2em 0'>Fully-loaded costs "
                f"({html.escape(self.currency)})</h4>{body}</div>")

