"""Reading numbers written the way exports write them (thousands separators, decimal commas settled per
column, currency symbols, accounting negatives; never percent signs, which would be a guess):
:func:`parse_numbers` and the help text :data:`NUMBER_HELP` (``docs/explanation.md``, "Reading exports").

The decimal mark is a property of the column, not of a value: the values that can be read only one way vote
(``1,234.56``, ``12.5``, ``1,234,567`` for a decimal point; ``1.234,56``, ``8,50``, ``1.234.567`` for a
decimal comma), the majority of rows decides (a tie: the decimal point), the values voting the other way are
rejected as contradicting it, and the ambiguous ones (``1,234``, ``1.250``: one separator before exactly three
digits) are read with the column's mark. Currency symbols are dropped, but when a column's values carry two
($ and €), those not in the most frequent one are rejected. Infinite values and the text ``NaN`` are
rejected: they are not measurements, and leaving them in would turn every total and mean they enter into inf
or NaN.
"""

from __future__ import annotations

import math
import re
from typing import Any

import numpy as np
import pandas as pd

from impactlab.io.values import distinct_values, is_missing_value

_SPACES = re.compile(r"[\s\u00a0\u202f']")
_CURRENCY = re.compile(r"^[$€£¥]|[$€£¥]$")
_PLAIN = re.compile(r"^[+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?$")
_DECIMAL_COMMA_EVIDENCE = re.compile(
    r"^[+-]?(?:\d+,\d{1,2}|\d+,\d{4,}|\d{1,3}(?:\.\d{3})+,\d+|\d{1,3}(?:\.\d{3}){2,})$"
)

NUMBER_HELP = (
    "a number such as 12, -3.5, 1,234.50 or 8,50 (decimal comma); "
    "thousands separators and a currency symbol are accepted"
)


def _clean(text: str) -> str:
    t = _SPACES.sub("", text.strip())
    t = _CURRENCY.sub("", t)
    if t.startswith("(") and t.endswith(")"):
        t = "-" + t[1:-1]
    return t


_THREE_AFTER = re.compile(r"^[+-]?[1-9]\d{0,2}[.,]\d{3}$")
_NON_FINITE = frozenset({"inf", "infinity", "nan"})
NON_FINITE_HELP = "numbers must be finite; leave the cell empty when the value is missing"


def _mark(t: str) -> str | None:
    """The decimal mark a cleaned value can only have been written with: ``"."``, ``","``, or ``None``
    (no separator, or the ambiguous ``1,234`` / ``1.234``)."""
    if _PLAIN.match(t):  # digits, at most one point, maybe an exponent (the usual case)
        return "." if "." in t and not _THREE_AFTER.match(t) else None
    mantissa = re.split(r"[eE]", t, maxsplit=1)[0]
    has_dot, has_comma = "." in mantissa, "," in mantissa
    if has_dot and has_comma:
        return "," if mantissa.rfind(",") > mantissa.rfind(".") else "."
    if not (has_dot or has_comma):
        return None
    sep = "." if has_dot else ","
    other = "," if has_dot else "."
    if mantissa.count(sep) > 1:  # repeated: it groups thousands
        return other
    if _THREE_AFTER.match(mantissa):
        return None
    return sep


def uses_decimal_comma(values: pd.Series) -> bool:
    """True when the column's values vote for a decimal comma (see the module's rule)."""
    uniques, codes = distinct_values(values)
    return _column_mark(uniques, codes)[0] == ","


def _column_mark(uniques: np.ndarray, codes: np.ndarray) -> tuple[str, dict[str, tuple[int, str]]]:
    """The column's decimal mark and, per mark, the rows voting for it with an example value
    (``values[i] == uniques[codes[i]]``, -1 for a null)."""
    votes: dict[str, tuple[int, str]] = {}
    counts = np.bincount(codes[codes >= 0], minlength=len(uniques))
    for v, n in zip(uniques, counts, strict=True):
        if not isinstance(v, str) or ("," not in v and "." not in v):
            continue
        mark = _mark(v if _PLAIN.match(v) else _clean(v))
        if mark is not None:
            count, example = votes.get(mark, (0, v))
            votes[mark] = (count + int(n), example)
    comma, point = votes.get(",", (0, ""))[0], votes.get(".", (0, ""))[0]
    return ("," if comma > point else "."), votes


_SYMBOL = re.compile(r"^\s*[-+(]?\s*([$€£¥])|([$€£¥])\s*\)?\s*$")


def currency_symbol(text: str) -> str | None:
    """The currency symbol ($, €, £, ¥) written before or after the number in ``text``, if any."""
    m = _SYMBOL.search(text)
    return (m.group(1) or m.group(2)) if m else None


def _column_currency(uniques: np.ndarray, codes: np.ndarray) -> tuple[str | None, dict[str, tuple[int, str]]]:
    """The currency symbol most rows of the column carry when values carry more than one (``None`` when
    they carry at most one: nothing contradicts it), and per symbol the rows carrying it with an example."""
    counts = np.bincount(codes[codes >= 0], minlength=len(uniques))
    seen: dict[str, tuple[int, str]] = {}
    for v, n in zip(uniques, counts, strict=True):
        if isinstance(v, str) and not _PLAIN.match(v) and (sym := currency_symbol(v)) is not None:
            count, example = seen.get(sym, (0, v))
            seen[sym] = (count + int(n), example)
    if len(seen) < 2:
        return None, seen
    return max(seen, key=lambda k: seen[k][0]), seen


def _to_float(text: str, decimal_comma: bool) -> float | None:
    if not decimal_comma and _PLAIN.match(text):  # nothing to clean (the usual case)
        return float(text)
    t = _clean(text)
    if decimal_comma:
        t = t.replace(".", "").replace(",", ".")
    else:
        t = t.replace(",", "")
    if not _PLAIN.match(t):
        return None
    return float(t)


def parse_numbers(values: pd.Series) -> tuple[pd.Series, np.ndarray]:
    """Parse ``values`` to float.

    Returns
    -------
    parsed : Series of float64
        NaN where the value is missing or could not be read.
    bad : ndarray of bool
        True where a value is present but is not a finite number written with the column's decimal mark.
    """
    parsed, bad, _ = parse_numbers_explained(values)
    return parsed, bad


def parse_numbers_explained(values: pd.Series, column: str | None = None) -> tuple[
        pd.Series, np.ndarray, np.ndarray]:
    """:func:`parse_numbers`, and why each bad value is bad: an object array holding a reason where the
    value is not finite or contradicts the column's decimal mark, ``None`` elsewhere (where a value is bad
    because it is not a number at all, the caller says so with :data:`NUMBER_HELP`)."""
    if pd.api.types.is_bool_dtype(values.dtype):
        return (pd.Series(np.nan, index=values.index), np.ones(len(values), dtype=bool),
                np.full(len(values), None, dtype=object))
    if pd.api.types.is_numeric_dtype(values.dtype):
        x = values.astype("float64")
        arr = x.to_numpy()
        bad = np.isinf(arr)
        why = np.full(len(values), None, dtype=object)
        why[bad] = [f"{v} is not a finite number; {NON_FINITE_HELP}" for v in arr[bad]]
        return x.where(~bad), bad, why
    uniques, codes = distinct_values(values)
    mark, votes = _column_mark(uniques, codes)
    decimal_comma = mark == ","
    name = "the column" if column is None else f"column {column!r}"
    own = votes.get(mark, (0, ""))
    mark_name = {",": "a decimal comma", ".": "a decimal point"}
    against = votes.get("." if decimal_comma else ",", (0, ""))[0]
    contradicts = (
        f"{name} writes decimals with {mark_name[mark]} ({own[0]} value(s) such as {own[1]!r}, against "
        f"{against} like this one); a column mixing the two cannot be read without guessing: re-export it "
        "with one decimal mark"
    )

    reasons: dict[Any, str] = {}
    currency, carried = _column_currency(uniques, codes)
    mixes = (
        f"{name} writes amounts in {currency} ({carried[currency][0]} value(s) such as "
        f"{carried[currency][1].strip()!r}); amounts in two currencies cannot be added up: convert them to "
        "one currency" if currency is not None else ""
    )

    def read(v: object) -> float | None:
        """The number in one present value; ``None`` when it is not one (NaN when missing); why, in
        ``reasons``, when the value is not finite or contradicts the column's mark."""
        if isinstance(v, str) and not decimal_comma and _PLAIN.match(v):  # the usual case
            x = float(v)
        elif isinstance(v, str) and v.strip().lower().lstrip("+-") in _NON_FINITE:
            reasons[v] = f"{v.strip()!r} is not a finite number; {NON_FINITE_HELP}"
            return None
        elif is_missing_value(v):
            return np.nan
        elif isinstance(v, (bool, np.bool_)):
            return None
        elif isinstance(v, (int, float, np.integer, np.floating)):
            x = float(v)
        else:
            t = str(v)
            if currency is not None and (sym := currency_symbol(t)) not in (None, currency):
                reasons[v] = f"{t.strip()!r} is in {sym}, but {mixes}"
                return None
            if ("," in t or "." in t) and (own_mark := _mark(_clean(t))) not in (None, mark):
                reasons[v] = f"{t!r} is written with {mark_name[own_mark or '.']}, but {contradicts}"
                return None
            got = _to_float(t, decimal_comma)
            if got is None:
                return None
            x = got
        if not math.isfinite(x):
            reasons[v] = f"{v!r} is not a finite number (too large for a float); {NON_FINITE_HELP}"
            return None
        return x

    mapped = np.empty(len(uniques) + 1, dtype=object)
    mapped[:-1] = [read(u) for u in uniques]
    mapped[-1] = np.nan
    got = mapped[codes]
    bad = np.equal(got, None)  # type: ignore[call-overload]  # elementwise "is None"
    why = np.full(len(got), None, dtype=object)
    if reasons:
        raw = values.to_numpy(dtype=object)
        for i in np.flatnonzero(bad):
            why[i] = reasons.get(raw[i])
    got[bad] = np.nan
    return pd.Series(got.astype("float64"), index=values.index, dtype="float64"), bad, why
