"""Small helpers on raw values: what counts as missing, how a raw value is shown, id and text cleaning."""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

import numpy as np
import pandas as pd

#: Strings read as "no value" (compared after stripping and lower-casing). An empty cell is the usual one;
#: the others are what spreadsheet tools and databases write for a null.
MISSING_STRINGS: frozenset[str] = frozenset({"", "na", "n/a", "nan", "nat", "null", "none", "#n/a"})


def is_missing_value(v: Any) -> bool:
    """True for None, NaN, NaT, pd.NA and the strings of :data:`MISSING_STRINGS`."""
    if isinstance(v, str):
        return v.strip().lower() in MISSING_STRINGS
    return _is_null(v)


def missing_mask(s: pd.Series) -> np.ndarray:
    """Boolean array: which values of ``s`` are missing (see :func:`is_missing_value`)."""
    if pd.api.types.is_numeric_dtype(s.dtype) or pd.api.types.is_datetime64_any_dtype(s.dtype):
        return s.isna().to_numpy()
    return map_values(s, is_missing_value, null=True).astype(bool)


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


# ------------------------------------------------------------------------------------ whole-column helpers
# Exports repeat their values (statuses, programmes, dates, ids): the column helpers below work on each
# distinct value once and spread the answers back with integer codes, so the per-value rules above stay the
# only rules while a column costs one hash pass plus one call per distinct value.


def unique_codes(values: pd.Series) -> tuple[np.ndarray, np.ndarray] | None:
    """``(uniques, codes)`` with ``values[i] == uniques[codes[i]]``, or ``None`` when unsafe.

    ``codes`` is -1 where the value is a null (None, NaN, NaT, pd.NA), which every helper reads as missing.
    ``None`` is returned for object columns mixing types that hash alike (``1``, ``1.0``, ``True``, which
    the per-value rules tell apart): callers then fall back to one call per value.
    """
    dtype = values.dtype
    if pd.api.types.is_object_dtype(dtype) or isinstance(dtype, pd.StringDtype):
        arr = values.to_numpy(dtype=object)
        if pd.api.types.infer_dtype(arr, skipna=True) not in ("string", "empty"):
            return None
        codes, uniques = pd.factorize(arr, use_na_sentinel=True)
        return np.asarray(uniques, dtype=object), codes
    codes, uniques = pd.factorize(values, use_na_sentinel=True)
    return np.asarray(uniques, dtype=object), codes


def map_values(values: pd.Series, fn: Callable[[Any], Any], *, null: Any = None) -> np.ndarray:
    """``fn`` of every value of ``values`` as an object array, ``fn`` called once per distinct value.

    Nulls (None, NaN, NaT, pd.NA) give ``null`` without calling ``fn``.
    """
    found = unique_codes(values)
    if found is None:
        raw = values.to_numpy(dtype=object)
        out = np.empty(len(raw), dtype=object)
        out[:] = [null if _is_null(v) else fn(v) for v in raw]
        return out
    uniques, codes = found
    mapped = np.empty(len(uniques) + 1, dtype=object)
    mapped[:-1] = [fn(u) for u in uniques]
    mapped[-1] = null
    return mapped[codes]


def distinct_values(values: pd.Series) -> tuple[np.ndarray, np.ndarray]:
    """``(distinct, codes)`` as :func:`unique_codes`, or every value with its position as code when the
    column mixes types that hash alike (so callers have one loop either way)."""
    found = unique_codes(values)
    if found is None:
        return values.to_numpy(dtype=object), np.arange(len(values))
    return found


def _is_null(v: Any) -> bool:
    """None, NaN, NaT, pd.NA (any scalar pandas reads as missing)."""
    if v is None or v is pd.NA or v is pd.NaT:
        return True
    try:
        return bool(pd.isna(v)) if np.ndim(v) == 0 else False
    except (TypeError, ValueError):
        return False


def text_values(values: pd.Series) -> np.ndarray:
    """:func:`as_text` of every value (an object array of str)."""
    return map_values(values, as_text, null="")
