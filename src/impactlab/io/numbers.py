"""Reading numbers written the way exports write them (thousands separators, decimal commas settled per
column, currency symbols, accounting negatives; never percent signs, which would be a guess):
:func:`parse_numbers` and the help text :data:`NUMBER_HELP` (``docs/explanation.md``, "Reading exports").
"""

from __future__ import annotations

import re

import numpy as np
import pandas as pd

from impactlab.io.values import is_missing_value, map_values

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


def uses_decimal_comma(values: pd.Series) -> bool:
    """True when any string in ``values`` can only be a decimal-comma number."""
    for v in pd.unique(values.to_numpy(dtype=object)):
        if isinstance(v, str) and "," in v and _DECIMAL_COMMA_EVIDENCE.match(_clean(v)):
            return True
    return False


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
        True where a value is present but is not a number.
    """
    if pd.api.types.is_bool_dtype(values.dtype):
        return pd.Series(np.nan, index=values.index), np.ones(len(values), dtype=bool)
    if pd.api.types.is_numeric_dtype(values.dtype):
        return values.astype("float64"), np.zeros(len(values), dtype=bool)
    decimal_comma = uses_decimal_comma(values)

    def read(v: object) -> float | None:
        """The number in one present value; ``None`` when it is not one (NaN for a missing one)."""
        if is_missing_value(v):
            return np.nan
        if isinstance(v, (bool, np.bool_)):
            return None
        if isinstance(v, (int, float, np.integer, np.floating)):
            return float(v)
        return _to_float(str(v), decimal_comma)

    got = map_values(values, read, null=np.nan)
    bad = np.equal(got, None)  # type: ignore[call-overload]  # elementwise "is None"
    got[bad] = np.nan
    return pd.Series(got.astype("float64"), index=values.index, dtype="float64"), bad
