"""Small helpers on raw values: what counts as missing, how a raw value is shown, id and text cleaning."""

from __future__ import annotations

import math
import re
from typing import Any

import numpy as np
import pandas as pd

#: Strings read as "no value" (compared after stripping and lower-casing). An empty cell is the usual one;
#: the others are what spreadsheet tools and databases write for a null.
MISSING_STRINGS: frozenset[str] = frozenset({"", "na", "n/a", "nan", "nat", "null", "none", "#n/a"})


def is_missing_value(v: Any) -> bool:
    """True for None, NaN, NaT, pd.NA and the strings of :data:`MISSING_STRINGS`."""
    if v is None or v is pd.NA or v is pd.NaT:
        return True
    if isinstance(v, str):
        return v.strip().lower() in MISSING_STRINGS
    if isinstance(v, float) and math.isnan(v):
        return True
    try:
        return bool(pd.isna(v)) if np.ndim(v) == 0 else False
    except (TypeError, ValueError):
        return False


def missing_mask(s: pd.Series) -> np.ndarray:
    """Boolean array: which values of ``s`` are missing (see :func:`is_missing_value`)."""
    if pd.api.types.is_numeric_dtype(s.dtype) or pd.api.types.is_datetime64_any_dtype(s.dtype):
        return s.isna().to_numpy()
    return np.fromiter((is_missing_value(v) for v in s.to_numpy(dtype=object)), dtype=bool, count=len(s))


def as_text(v: Any) -> str:
    """A raw value as the string shown in ``.rejected`` (missing values become "")."""
    if is_missing_value(v):
        return ""
    if isinstance(v, float) and v.is_integer():
        return str(int(v))
    return str(v)


_FLOAT_ID = re.compile(r"(\d+)\.0+")


def as_id(v: Any) -> str:
    """An identifier as a string: ``1001``, ``1001.0``, ``"1001.0"`` and ``" 1001 "`` all become ``"1001"``.

    Ids are strings everywhere in impactlab so that tables read from CSV (text) and from frames (numbers)
    join on the same keys. A float-looking id (``"1234.0"``, what a spreadsheet or pandas writes for an
    integer column that held a blank) loses its ``.0``; leading zeros are kept (``"00123"`` stays
    ``"00123"``: it is not the id ``"123"``).
    """
    if isinstance(v, (bool, np.bool_)):
        return str(v)
    if isinstance(v, (int, np.integer)):
        return str(int(v))
    if isinstance(v, (float, np.floating)) and float(v).is_integer():
        return str(int(v))
    text = str(v).strip()
    m = _FLOAT_ID.fullmatch(text)
    return m.group(1) if m else text


def as_clean_text(v: Any) -> str:
    """A text value with surrounding white space removed."""
    return str(v).strip()
