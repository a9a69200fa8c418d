"""Row rules of the canonical tables (:class:`RowRule`): what each row must hold across its columns once
typed, which rows break it, the column a failure is reported on and its reason; the tables of
:mod:`~impactlab.schemas.tables` carry them and :mod:`~impactlab.schemas.contract` runs them as pandera
checks.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Literal

import numpy as np
import pandas as pd

from impactlab.schemas.vocab import TRAINED_STATUSES

Shown = Literal["parsed", "as_written", "none"]


@dataclass(frozen=True)
class RowRule:
    """A check of each row of a table, across its columns.

    ``fails(frame)`` is a boolean array, True for the rows that break the rule; a rule whose columns are
    absent from the frame passes every row. ``reason(frame, i, header)`` says what is wrong with row
    position ``i`` and what is allowed (``header``: the input's name of ``column``). A failure is reported
    on ``column`` with the code ``check`` (``"order"``, ``"range"``, ``"missing"``); ``shown`` says which
    value goes with it: the parsed one, the one as written in the input (dates, whose written form is what
    a user can find in the file) or none.
    """

    name: str
    column: str
    check: str
    fails: Callable[[pd.DataFrame], np.ndarray]
    reason: Callable[[pd.DataFrame, int, str], str]
    shown: Shown = "parsed"


def _mask(values: pd.Series) -> np.ndarray:
    return values.fillna(False).to_numpy(dtype=bool)


def _nan(frame: pd.DataFrame) -> pd.Series:
    return pd.Series(np.nan, index=frame.index)


def ordered(lo: str, hi: str, what: str) -> RowRule:
    """``lo <= hi`` where both are present (dates or numbers)."""

    def fails(f: pd.DataFrame) -> np.ndarray:
        if lo not in f or hi not in f:
            return np.zeros(len(f), dtype=bool)
        return _mask(f[lo] > f[hi])

    def reason(f: pd.DataFrame, i: int, header: str) -> str:
        return f"{hi} ({f[hi].iloc[i]}) is before/below {lo} ({f[lo].iloc[i]}): {what}"

    return RowRule(f"{lo}_not_after_{hi}", hi, "order", fails, reason)


def not_negative(column: str) -> RowRule:
    """``column >= 0`` where present."""

    def fails(f: pd.DataFrame) -> np.ndarray:
        return _mask(f[column] < 0) if column in f else np.zeros(len(f), dtype=bool)

    def reason(f: pd.DataFrame, i: int, header: str) -> str:
        return f"{column} {f[column].iloc[i]} is negative; it must be 0 or more"

    return RowRule(f"{column}_not_negative", column, "range", fails, reason)


def _read_limit() -> pd.Timestamp:
    """The latest acceptable timestamp: the time of reading plus one day for clock and zone slack."""
    return pd.Timestamp.now(tz="UTC") + pd.Timedelta(days=1)


#: The earliest acceptable timestamp: no training record predates it, while a mistyped year (0024, 1066)
#: or a small number read as a date does.
EARLIEST = pd.Timestamp("1900-01-01", tz="UTC")


def not_in_future(column: str) -> RowRule:
    """Dates after the time of reading are errors, not plans; dates before :data:`EARLIEST` are typos."""

    def fails(f: pd.DataFrame) -> np.ndarray:
        if column not in f:
            return np.zeros(len(f), dtype=bool)
        return _mask((f[column] > _read_limit()) | (f[column] < EARLIEST))

    def reason(f: pd.DataFrame, i: int, header: str) -> str:
        value = f[column].iloc[i]
        if value < EARLIEST:
            return (f"{column} {value:%Y-%m-%d} is before {EARLIEST:%Y-%m-%d}: not a date of a training "
                    "record; check the year")
        return (f"{column} {value:%Y-%m-%d %H:%M} UTC is in the future "
                f"(read on {_read_limit():%Y-%m-%d})")

    return RowRule(f"{column}_not_in_future", column, "range", fails, reason, shown="as_written")


_SCIENTIFIC = r"[+-]?\d\.\d+[eE][+-]?\d+"


def id_not_scientific(column: str) -> RowRule:
    """An id written in scientific notation (``1.23E+05``) was rounded by a spreadsheet: the id is lost."""

    def fails(f: pd.DataFrame) -> np.ndarray:
        if column not in f:
            return np.zeros(len(f), dtype=bool)
        return _mask(f[column].astype("string").str.fullmatch(_SCIENTIFIC))

    def reason(f: pd.DataFrame, i: int, header: str) -> str:
        return (f"{column} {f[column].iloc[i]!r} is in scientific notation: a spreadsheet rounded the id, so "
                "it matches no one; re-export the column as text")

    return RowRule(f"{column}_not_scientific", column, "identity", fails, reason, shown="none")


def _trained_without_date(f: pd.DataFrame) -> np.ndarray:
    if "status" not in f:
        return np.zeros(len(f), dtype=bool)
    trained = f["status"].isin(TRAINED_STATUSES).to_numpy()
    dated = f["completed_at"].notna().to_numpy() if "completed_at" in f else np.zeros(len(f), dtype=bool)
    return trained & ~dated


#: ``completed_at`` is required when the status is completed or passed.
TRAINED_HAS_DATE = RowRule(
    "completed_at_when_trained",
    "completed_at",
    "missing",
    _trained_without_date,
    lambda f, i, header: (
        f"completed_at is required when status is {f['status'].iloc[i]!r} (column {header!r} is empty "
        "or absent; map a completion-date column with columns= if needed)"
    ),
    shown="none",
)


def _score_above_max(f: pd.DataFrame) -> np.ndarray:
    if "max_score" not in f or "score" not in f:
        return np.zeros(len(f), dtype=bool)
    return _mask(f["score"] > f["max_score"])


#: An assessment score cannot exceed its ``max_score``.
SCORE_WITHIN_MAX = RowRule(
    "score_not_above_max_score",
    "score",
    "range",
    _score_above_max,
    lambda f, i, header: f"score {f['score'].iloc[i]} is above max_score {f['max_score'].iloc[i]}",
)


def _scale_reason(f: pd.DataFrame, i: int, header: str) -> str:
    lo, hi = (f.get(c, _nan(f)).iloc[i] for c in ("scale_min", "scale_max"))
    return f"response {f['response'].iloc[i]} is outside the scale [{lo}, {hi}]"


def within_scale(bound: Literal["scale_min", "scale_max"]) -> RowRule:
    """A survey response on its row's side of ``bound``."""
    op = np.less if bound == "scale_min" else np.greater

    def fails(f: pd.DataFrame) -> np.ndarray:
        if bound not in f or "response" not in f:
            return np.zeros(len(f), dtype=bool)
        return _mask(op(f["response"], f[bound]))

    return RowRule(f"response_within_{bound}", "response", "range", fails, _scale_reason)


def _cost_without_amount(f: pd.DataFrame) -> np.ndarray:
    amount, low, high = (f.get(c, _nan(f)) for c in ("amount", "low", "high"))
    return (amount.isna() & (low.isna() | high.isna())).to_numpy()


#: A cost row needs an amount, or both ends of a range.
COST_HAS_AMOUNT = RowRule(
    "amount_or_range",
    "amount",
    "missing",
    _cost_without_amount,
    lambda f, i, header: "a cost needs an amount, or both low and high",
    shown="none",
)
