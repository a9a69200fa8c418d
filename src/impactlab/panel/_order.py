"""Integer codes and the (unit, period) order of :meth:`Panel.from_frame`'s general path, in bounded memory.

At tens of millions of rows every temporary of the row count costs 8 bytes a row, and on a busy machine
touching freshly allocated memory is slow. So the helpers here

* give codes in the smallest signed integer type that holds them (a month of 24 periods fits ``int8``; a
  million units ``int32``), and cast to ``int64`` only where a key is formed from two of them;
* work through long arrays in chunks of :data:`CHUNK` rows (Arrow parsing, scatters, gathers), so that their
  temporaries are a few megabytes, not a column's worth;
* sort by counting when the key range allows it, and learn from the same scatter whether a (unit, period)
  pair repeats (no second count table).

Every function returns exactly what the plain pandas / NumPy operation it replaces returns (the tests of
``tests/panel/test_panel_order.py`` check that on varied inputs).
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

#: Rows per chunk of the chunked passes (8 MB of ``int64``).
CHUNK = 1 << 20

_NAT = np.iinfo(np.int64).min


def code_dtype(n_codes: int) -> np.dtype:
    """The smallest signed integer type holding the codes ``-1 .. n_codes - 1``."""
    for dt in (np.int8, np.int16, np.int32):
        if n_codes <= np.iinfo(dt).max:
            return np.dtype(dt)
    return np.dtype(np.int64)


def datetime_ints(values: pd.Series) -> tuple[np.ndarray, np.ndarray | None] | None:
    """``(int64 view, NaT mask or None)`` of datetime (naive or with a zone) and Period values; ``None`` for
    other dtypes. The view is the column's own storage (no copy); its order is the order of the values."""
    dtype = values.dtype
    if isinstance(dtype, np.dtype) and dtype.kind == "M":
        ints = values.to_numpy().view(np.int64)
    elif isinstance(dtype, pd.PeriodDtype | pd.DatetimeTZDtype):
        ints = np.asarray(values.array.asi8)
    else:
        return None
    na = ints == _NAT
    return ints, (na if na.any() else None)


def _offset(part: np.ndarray, lo: int) -> np.ndarray:
    """``part - lo`` without overflow: narrow integers are widened to int64; uint64 is subtracted unsigned
    and then held as int64 (the offsets are below the value range, a few times the number of values), so
    that numpy 1.x's ``take`` accepts them as indices."""
    if part.dtype == np.uint64:
        return (part - np.uint64(lo)).astype(np.int64)
    return (part if part.dtype == np.int64 else part.astype(np.int64)) - np.int64(lo)


def dense_codes(ints: np.ndarray, na: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray] | None:
    """``(codes, rows)`` of integer values whose range is at most a few times their number; ``None`` for a
    wider range (or no value).

    ``codes`` number the distinct values in increasing order (-1 where ``na`` is set), in the type of
    :func:`code_dtype`; ``rows`` holds one row of each distinct value, in that order. A counting pass over
    the range replaces hashing and sorting (at 24 million rows ``pd.factorize(..., sort=True)`` costs
    seconds; this costs a scatter and a gather, chunk by chunk).
    """
    n = len(ints)
    if na is None:
        if n == 0:
            return None
        lo, hi = int(ints.min()), int(ints.max())
    else:
        valid = [ints[i:i + CHUNK][~na[i:i + CHUNK]] for i in range(0, n, CHUNK)]
        valid = [v for v in valid if len(v)]
        if not valid:
            return None
        lo, hi = min(int(v.min()) for v in valid), max(int(v.max()) for v in valid)
        del valid
    if hi - lo >= 4 * n + 1024:
        return None
    slot = np.full(hi - lo + 1, -1, dtype=np.intp)
    for i in range(0, n, CHUNK):
        rel = _offset(ints[i:i + CHUNK], lo)
        at = np.arange(i, i + len(rel), dtype=np.intp)
        if na is not None:
            ok = ~na[i:i + CHUNK]
            rel, at = rel[ok], at[ok]
        slot[rel] = at  # a row holding each value (any of its rows will do)
    present = slot >= 0
    rows = slot[present]
    dt = code_dtype(len(rows))
    code_of = np.cumsum(present, dtype=np.int64)
    code_of -= 1
    code_of = code_of.astype(dt)
    del slot, present
    codes = np.empty(n, dtype=dt)
    for i in range(0, n, CHUNK):
        rel = _offset(ints[i:i + CHUNK], lo)
        if na is None:
            np.take(code_of, rel, out=codes[i:i + CHUNK])
        else:
            miss = na[i:i + CHUNK]
            rel[miss] = 0
            got = code_of[rel]
            got[miss] = -1
            codes[i:i + CHUNK] = got
    return codes, rows


def digit_ids(values: pd.Series) -> np.ndarray | None:
    """String ids made of one fixed prefix and a fixed number of ASCII digits ('E0000123') as the int64
    integers of their digits, read by Arrow chunk by chunk without Python objects; ``None`` for any other
    column (another dtype, missing values, ids of different lengths or prefixes). For such ids the order
    of the integers is the order of the strings."""
    dtype = values.dtype
    if not (pd.api.types.is_string_dtype(dtype) and getattr(dtype, "storage", None) == "pyarrow"):
        return None
    try:
        import pyarrow as pa
        import pyarrow.compute as pc

        arr = values.array.__arrow_array__()
        n = len(arr)
        if n == 0 or arr.null_count:
            return None
        first = arr[0].as_py()
        prefix = first.rstrip("0123456789")
        width = len(first) - len(prefix)
        if not 1 <= width <= 18:
            return None
        out = np.empty(n, dtype=np.int64)
        for i in range(0, n, CHUNK):
            part = arr.slice(i, CHUNK)
            lengths = pc.min_max(pc.binary_length(part)).as_py()
            if lengths["min"] != len(first) or lengths["max"] != len(first):
                return None
            if not pc.all(pc.string_is_ascii(part)).as_py():
                return None
            if prefix and not pc.all(pc.starts_with(part, prefix)).as_py():
                return None
            digits = pc.utf8_slice_codeunits(part, len(prefix))
            if not pc.all(pc.ascii_is_decimal(digits)).as_py():
                return None
            got = pc.cast(digits, pa.int64())
            got = got.combine_chunks() if isinstance(got, pa.ChunkedArray) else got
            out[i:i + len(part)] = got.to_numpy(zero_copy_only=False)
        return out
    except (ImportError, AttributeError, TypeError, ValueError):  # pragma: no cover - other Arrow versions
        return None


def pair_key(ucode: np.ndarray, tcode: np.ndarray, n_times: int) -> np.ndarray:
    """``ucode * n_times + tcode`` as int64 (codes of any integer type; the product is formed in int64)."""
    key = ucode.astype(np.int64)
    key *= np.int64(max(n_times, 1))
    key += tcode
    return key


def pair_order(key: np.ndarray, n_keys: int) -> tuple[np.ndarray | None, bool]:
    """``(order, repeated)``: the stable permutation that sorts ``key`` (non-negative integers below
    ``n_keys``; ``None`` when the keys already increase strictly) and whether some key occurs twice.

    When the key range is at most a few times the number of rows, one scatter of the row numbers over the
    range sorts (a counting sort) and tells by the count of filled slots whether a key repeats; the order
    is then only meaningful when none does (the caller reports the repeats and stops). Otherwise a stable
    argsort, and repeats are adjacent equal keys in sorted order.
    """
    n = len(key)
    if n < 2 or bool(np.all(key[1:] > key[:-1])):
        return None, False
    if n_keys <= 4 * n + 1024:
        rows = code_dtype(n)  # row numbers: int32 below two billion rows
        slot = np.full(n_keys, -1, dtype=rows)
        for i in range(0, n, CHUNK):
            part = key[i:i + CHUNK]
            slot[part] = np.arange(i, i + len(part), dtype=rows)
        order = slot[slot >= 0]
        return order, len(order) < n
    order = np.argsort(key, kind="stable")
    repeated = False
    for i in range(0, n - 1, CHUNK):
        j = min(i + CHUNK, n - 1)
        if (key[order[i:j]] == key[order[i + 1:j + 1]]).any():
            repeated = True
            break
    return order, repeated


def gather(values: np.ndarray, at: np.ndarray) -> np.ndarray:
    """``values[at]`` chunk by chunk (``at`` of any integer type, not converted whole to ``intp``)."""
    out = np.empty(len(at), dtype=values.dtype)
    for i in range(0, len(at), CHUNK):
        np.take(values, at[i:i + CHUNK], out=out[i:i + CHUNK])
    return out


def take_column(values: pd.Series, at: np.ndarray) -> Any:
    """The array of ``values`` at the positions ``at`` (any integer type), as ``values.array.take(at)``
    gives it, without converting ``at`` whole to ``intp``: NumPy columns are gathered chunk by chunk and
    Arrow-backed columns taken by Arrow, which accepts 32-bit indices."""
    dtype = values.dtype
    if isinstance(dtype, np.dtype):
        return gather(values.to_numpy(), at)
    if isinstance(dtype, pd.PeriodDtype):
        return pd.arrays.PeriodArray(gather(np.asarray(values.array.asi8), at), dtype=dtype)
    if getattr(dtype, "storage", None) == "pyarrow" and hasattr(dtype, "__from_arrow__"):
        try:
            import pyarrow as pa
            import pyarrow.compute as pc

            got = pc.take(values.array.__arrow_array__(), pa.array(at))
            out = dtype.__from_arrow__(got)
            del got
            pa.default_memory_pool().release_unused()  # Arrow's temporaries back to the system
            return out
        except (ImportError, AttributeError, TypeError):  # pragma: no cover - other Arrow versions
            pass
    return values.array.take(at)


def take_values(values: pd.Series, at: np.ndarray) -> Any:
    """The array of the (few) ``values`` at the positions ``at``; ``-1`` picks the last value (NumPy's and
    pandas' negative positions), where the caller puts a missing value when codes can be missing."""
    if isinstance(values.dtype, np.dtype):
        return gather(values.to_numpy(), at)
    if isinstance(values.dtype, pd.PeriodDtype):
        return pd.arrays.PeriodArray(gather(np.asarray(values.array.asi8), at), dtype=values.dtype)
    return values.array.take(at)
