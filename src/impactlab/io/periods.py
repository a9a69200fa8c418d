"""Period labels as BI tools and spreadsheets write them: ``"Jan 2024"``, ``"January 2024"``, ``"Jan-24"``,
``"2024-01"``, ``"2024M01"``, ``"01/2024"``, ``"Q1 2024"``, ``"2024 Q1"``, and fiscal periods
(``"FY24 P01"``, ``"FY2024 Q1"``) given the month the fiscal year starts.

A fiscal year is named by the calendar year in which it ends (FY24 starting in April runs from April 2023 to
March 2024), the usual convention of company reports; with a January start the fiscal year is the calendar
year.
"""

from __future__ import annotations

import calendar
import re
from typing import Any

import pandas as pd

from impactlab.schemas.vocab import normalise_key

_MONTHS: dict[str, int] = {}
for _i in range(1, 13):
    _MONTHS[calendar.month_name[_i].lower()] = _i
    _MONTHS[calendar.month_abbr[_i].lower()] = _i
_MONTHS["sept"] = 9
_MONTH_WORD = "|".join(sorted(_MONTHS, key=len, reverse=True))

_YEAR_MONTH = re.compile(r"(\d{4})\s*(?:[-/.]|-?M)?\s*(0[1-9]|1[0-2]|[1-9])", re.IGNORECASE)
_MONTH_YEAR = re.compile(r"(0[1-9]|1[0-2]|[1-9])\s*[-/.]\s*(\d{4})")
_NAMED = re.compile(rf"({_MONTH_WORD})\.?[\s\-/.,']*(\d{{4}}|\d{{2}})", re.IGNORECASE)
_YEAR_NAMED = re.compile(rf"(\d{{4}})[\s\-/.,]*({_MONTH_WORD})\.?", re.IGNORECASE)
_QUARTER_YEAR = re.compile(r"Q([1-4])[\s\-/.,']*(\d{4})", re.IGNORECASE)
_YEAR_QUARTER = re.compile(r"(\d{4})\s*-?\s*Q([1-4])", re.IGNORECASE)
_ISO_DATE = re.compile(r"(\d{4})-(\d{2})-(\d{2})(?:[ T]00:00(?::00)?)?")
_FY = r"FY\s*'?(\d{4}|\d{2})"
_FISCAL = re.compile(
    rf"(?:{_FY}[\s\-/.,]*(P|M|Q)\s*(\d{{1,2}})|(P|M|Q)\s*(\d{{1,2}})[\s\-/.,]*{_FY})", re.IGNORECASE
)

#: The label forms, as listed in messages.
PERIOD_FORMS = ("'Jan 2024'", "'January 2024'", "'2024-01'", "'2024M01'", "'01/2024'", "'Q1 2024'",
                "'2024 Q1'", "'FY24 P01' (with fiscal_year_start=)")


def check_fiscal_year_start(value: Any) -> int:
    """The month (1-12) a fiscal year starts in, from a number or an English month name."""
    if isinstance(value, str) and value.strip().lower().rstrip(".") in _MONTHS:
        return _MONTHS[value.strip().lower().rstrip(".")]
    if isinstance(value, int) and not isinstance(value, bool) and 1 <= value <= 12:
        return value
    raise ValueError(
        "The 'fiscal_year_start' parameter must be the month the fiscal year starts in, a number 1-12 or a "
        f"month name such as 'April'. Got {value!r} instead."
    )


def _year(text: str) -> int:
    y = int(text)
    return 2000 + y if len(text) == 2 else y


def is_fiscal_label(text: str) -> bool:
    """Does ``text`` read as a fiscal period label (``"FY24 P01"``, ``"Q1 FY2024"``)?"""
    return _FISCAL.fullmatch(text.strip()) is not None


def read_label(text: str, fiscal_year_start: int | None = None) -> tuple[pd.Period | None, str | None]:
    """The monthly (or quarterly) period a label names, or ``(None, why)``.

    ``why`` is ``None`` when the text is simply not a period label, and a reason when it is one that cannot
    be placed (a fiscal label without ``fiscal_year_start``, a fiscal month 13).
    """
    t = " ".join(text.strip().split())
    if not t:
        return None, None
    fiscal = _FISCAL.fullmatch(t)
    if fiscal is not None:
        g = fiscal.groups()
        year, kind, num = (g[0], g[1], g[2]) if g[0] is not None else (g[5], g[3], g[4])
        kind, n = kind.upper(), int(num)
        if fiscal_year_start is None:
            return None, (f"{text!r} is a fiscal period; pass fiscal_year_start= (the month the fiscal year "
                          "starts in, e.g. fiscal_year_start=4 for April)")
        if (kind == "Q" and not 1 <= n <= 4) or (kind != "Q" and not 1 <= n <= 12):
            return None, (f"{text!r}: fiscal {'quarter' if kind == 'Q' else 'period'} {n} cannot be placed "
                          "in a calendar month (only 12 monthly periods or 4 quarters are read)")
        first = pd.Period(year=_year(year), month=fiscal_year_start, freq="M")
        if fiscal_year_start > 1:
            first -= 12  # FY named by the calendar year in which it ends
        return first + ((n - 1) * 3 if kind == "Q" else n - 1), None
    for pattern, order in ((_YEAR_MONTH, "ym"), (_MONTH_YEAR, "my"), (_NAMED, "Ny"), (_YEAR_NAMED, "yN")):
        m = pattern.fullmatch(t)
        if m is None:
            continue
        a, b = m.group(1), m.group(2)
        if order == "ym":
            return pd.Period(year=int(a), month=int(b), freq="M"), None
        if order == "my":
            return pd.Period(year=int(b), month=int(a), freq="M"), None
        if order == "Ny":
            return pd.Period(year=_year(b), month=_MONTHS[a.lower()], freq="M"), None
        return pd.Period(year=int(a), month=_MONTHS[b.lower()], freq="M"), None
    q = _QUARTER_YEAR.fullmatch(t)
    if q is not None:
        return pd.Period(f"{q.group(2)}Q{q.group(1)}", freq="Q"), None
    q = _YEAR_QUARTER.fullmatch(t)
    if q is not None:
        return pd.Period(f"{q.group(1)}Q{q.group(2)}", freq="Q"), None
    return None, None


def period_headers(headers: list[str], fiscal_year_start: int | None = None) -> dict[str, pd.Period | str]:
    """The headers that are period labels: ``{header: period}``, or ``{header: reason}`` for a label that
    cannot be placed. A header that is also a known column name (``"period"``) is not one."""
    out: dict[str, pd.Period | str] = {}
    for h in headers:
        if normalise_key(h) in ("period", "month", "date"):
            continue
        per, why = read_label(str(h), fiscal_year_start)
        d = _ISO_DATE.fullmatch(str(h).strip())  # a date header (xlsx): the month holding it
        if per is None and d is not None and 1 <= int(d.group(2)) <= 12:
            per = pd.Period(year=int(d.group(1)), month=int(d.group(2)), freq="M")
        if per is not None:
            out[h] = per
        elif why is not None:
            out[h] = why
    return out
