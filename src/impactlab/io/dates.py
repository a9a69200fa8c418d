"""Reading dates and timestamps from exports into UTC timestamps: the ordered registry of accepted formats
(:data:`DATE_FORMATS`, extended with :func:`register_date_format`), numbers read as dates by their size
(Excel serials, Unix epochs, OData ``/Date(ms)/``, ``0`` = not set), the day/month order settled per
column, and :func:`check_tz`; the rules are in ``docs/explanation.md``, "Reading exports".
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import numpy as np
import pandas as pd

from impactlab.errors import DataError, Failure
from impactlab.io.values import as_text, distinct_values, is_missing_value

ParseFn = Callable[["re.Match[str]", "bool | None"], pd.Timestamp]


@dataclass(frozen=True)
class DateFormat:
    """One accepted way of writing a date.

    Attributes
    ----------
    name : str
        Shown to users in error messages, with an example.
    pattern : re.Pattern
        Full-match pattern on the stripped string.
    parse : callable
        ``parse(match, dayfirst) -> Timestamp`` (naive or aware); raises ``ValueError`` on impossible dates.
    order_sensitive : bool
        The value's first two numbers are day and month in an order the column must settle; groups 1 and 2
        of ``pattern`` must be those two numbers.
    """

    name: str
    pattern: re.Pattern[str]
    parse: ParseFn
    order_sensitive: bool = False


def _two_digit_year(y: str) -> int:
    n = int(y)
    if len(y) == 4:
        return n
    return 1900 + n if n >= 69 else 2000 + n


def _parse_iso(m: re.Match[str], dayfirst: bool | None) -> pd.Timestamp:
    text = m.group(0)
    text = re.sub(r"\s*UTC$", "Z", text)
    return pd.Timestamp(text)


def _parse_compact(m: re.Match[str], dayfirst: bool | None) -> pd.Timestamp:
    return pd.Timestamp(dt.datetime.strptime(m.group(0), "%Y%m%d"))


def _time_parts(hh: str | None, mm: str | None, ss: str | None, ampm: str | None) -> tuple[int, int, int]:
    if hh is None:
        return 0, 0, 0
    h = int(hh)
    if ampm:
        if not 1 <= h <= 12:
            raise ValueError("hour out of range for a 12-hour clock")
        h = h % 12 + (12 if ampm.lower() == "pm" else 0)
    return h, int(mm or 0), int(ss or 0)


def _parse_slashed(m: re.Match[str], dayfirst: bool | None) -> pd.Timestamp:
    a, b, y, hh, mm, ss, ampm = m.groups()
    day, month = (int(a), int(b)) if dayfirst else (int(b), int(a))
    h, mi, s = _time_parts(hh, mm, ss, ampm)
    return pd.Timestamp(dt.datetime(_two_digit_year(y), month, day, h, mi, s))


def _parse_year_first(m: re.Match[str], dayfirst: bool | None) -> pd.Timestamp:
    y, mo, d, hh, mm, ss = m.groups()
    h, mi, s = _time_parts(hh, mm, ss, None)
    return pd.Timestamp(dt.datetime(int(y), int(mo), int(d), h, mi, s))


_MONTH_FORMATS = ("%d %b %Y", "%d %B %Y", "%b %d %Y", "%B %d %Y", "%d %b %y", "%d %B %y")


def _parse_month_name(m: re.Match[str], dayfirst: bool | None) -> pd.Timestamp:
    date_part, time_part = m.group(1), m.group(2)
    text = re.sub(r"[\s,\-]+", " ", date_part).strip()
    for fmt in _MONTH_FORMATS:
        try:
            d = dt.datetime.strptime(text, fmt)
        except ValueError:
            continue
        if time_part:
            t = re.match(r"(\d{1,2}):(\d{2})(?::(\d{2}))?\s*([AaPp][Mm])?", time_part.strip())
            if t is None:
                raise ValueError("unreadable time")
            h, mi, s = _time_parts(t.group(1), t.group(2), t.group(3), t.group(4))
            d = d.replace(hour=h, minute=mi, second=s)
        return pd.Timestamp(d)
    raise ValueError("no month-name format matched")


#: Ranges (inclusive low, exclusive high) that tell a number's date unit.
EXCEL_SERIALS = (20_000.0, 80_000.0)  # 1954-10-03 .. 2119-01-10 in the 1900 system
EPOCH_SECONDS = (1e8, 1e11)  # 1973-03-03 .. year 5138
EPOCH_MILLISECONDS = (1e11, 1e14)  # 1973-03-03 .. year 5138
_EXCEL_ORIGIN = pd.Timestamp("1899-12-30")  # day 0 of the 1900 system (its 1900 leap-year bug included)


def number_to_timestamp(x: float) -> pd.Timestamp | None:
    """A number as a date by its size (see :data:`EXCEL_SERIALS` and the epochs); ``None`` when it is no
    date unit.

    Excel serials give naive (wall-clock) timestamps; epochs give UTC timestamps.
    """
    if not np.isfinite(x):
        return None
    if EXCEL_SERIALS[0] <= x < EXCEL_SERIALS[1]:
        return (_EXCEL_ORIGIN + pd.to_timedelta(round(x * 86_400_000), unit="ms")).round("s")
    if EPOCH_SECONDS[0] <= x < EPOCH_SECONDS[1]:
        return pd.Timestamp(round(x * 1000), unit="ms", tz="UTC")
    if EPOCH_MILLISECONDS[0] <= x < EPOCH_MILLISECONDS[1]:
        return pd.Timestamp(round(x), unit="ms", tz="UTC")
    return None


def _parse_number(m: re.Match[str], dayfirst: bool | None) -> pd.Timestamp:
    ts = number_to_timestamp(float(m.group(0)))
    if ts is None:
        raise ValueError("a number that is neither an Excel serial nor a Unix epoch")
    return ts


def _parse_odata(m: re.Match[str], dayfirst: bool | None) -> pd.Timestamp:
    return pd.Timestamp(int(m.group(1)), unit="ms", tz="UTC")


def is_not_set(v: object) -> bool:
    """True for the value ``0`` (number or text), which date columns read as "not set"."""
    if isinstance(v, str):
        return v.strip() in ("0", "0.0")
    if isinstance(v, (bool, np.bool_)):
        return False
    return isinstance(v, (int, float, np.integer, np.floating)) and v == 0


_TIME = r"(?:[ T,]+(\d{1,2}):(\d{2})(?::(\d{2}))?\s*([AaPp][Mm])?)?"

#: Ordered registry of accepted date formats (first match wins).
DATE_FORMATS: list[DateFormat] = [
    DateFormat(
        "ISO 8601 (2024-03-31, 2024-03-31 09:30:00, 2024-03-31T09:30:00Z, +02:00 offsets)",
        re.compile(
            r"\d{4}-\d{1,2}-\d{1,2}(?:[T ]\d{1,2}:\d{2}(?::\d{2}(?:[.,]\d+)?)?)?"
            r"\s*(?:Z|UTC|[+-]\d{2}(?::?\d{2})?)?"
        ),
        _parse_iso,
    ),
    DateFormat("YYYYMMDD (20240331)", re.compile(r"(?:19|20)\d{6}"), _parse_compact),
    DateFormat(
        "YYYY/MM/DD (2024/03/31)",
        re.compile(r"(\d{4})[/.](\d{1,2})[/.](\d{1,2})(?:[ T]+(\d{1,2}):(\d{2})(?::(\d{2}))?)?"),
        _parse_year_first,
    ),
    DateFormat(
        "DD/MM/YYYY or MM/DD/YYYY, also with '.' or '-' and 2-digit years (order settled from the "
        "column or by dayfirst=)",
        re.compile(r"(\d{1,2})[/.\-](\d{1,2})[/.\-](\d{4}|\d{2})" + _TIME),
        _parse_slashed,
        order_sensitive=True,
    ),
    DateFormat(
        "month names (31 Mar 2024, March 31, 2024)",
        re.compile(
            r"((?:\d{1,2}[\s\-]+[A-Za-z]{3,9}\.?[\s\-,]+\d{2,4})|(?:[A-Za-z]{3,9}\.?\s+\d{1,2},?"
            r"\s+\d{4}))((?:[ T,]+\d{1,2}:\d{2}(?::\d{2})?\s*(?:[AaPp][Mm])?))?"
        ),
        _parse_month_name,
    ),
    DateFormat(
        "OData /Date(ms)/ (/Date(1711843200000)/)",
        re.compile(r"/?\\?/Date\((-?\d+)(?:[+-]\d{4})?\)\\?/?"),
        _parse_odata,
    ),
    DateFormat(
        "Excel serial day numbers (45383, 45383.5), Unix epoch seconds (1711843200) or milliseconds "
        "(1711843200000); 0 means not set",
        re.compile(r"\d+(?:\.\d+)?"),
        _parse_number,
    ),
]


#: The formats impactlab ships (the batch readers of :func:`parse_timestamps` assume them).
_BUILTIN: tuple[DateFormat, ...] = tuple(DATE_FORMATS)
_COMPACT = DATE_FORMATS[1].pattern


def register_date_format(fmt: DateFormat, *, first: bool = False) -> None:
    """Add a date format to :data:`DATE_FORMATS` (at the front when ``first``, else at the end)."""
    if first:
        DATE_FORMATS.insert(0, fmt)
    else:
        DATE_FORMATS.append(fmt)


def accepted_formats() -> str:
    """The accepted formats, for error messages."""
    return "; ".join(f.name for f in DATE_FORMATS)


def _match(text: str) -> tuple[DateFormat, re.Match[str]] | None:
    for fmt in DATE_FORMATS:
        m = fmt.pattern.fullmatch(text)
        if m is not None:
            return fmt, m
    return None


def settle_dayfirst(texts: list[str], *, dayfirst: bool | None, column: str, source: str | None) -> bool:
    """Decide the day/month order of a column's order-sensitive values, or raise :class:`DataError`."""
    if dayfirst is not None:
        return dayfirst
    day_first_seen: str | None = None
    month_first_seen: str | None = None
    unsettled: str | None = None
    for t in texts:
        hit = _match(t)
        if hit is None or not hit[0].order_sensitive:
            continue
        a, b = int(hit[1].group(1)), int(hit[1].group(2))
        if a > 12 and day_first_seen is None:
            day_first_seen = t
        elif b > 12 and month_first_seen is None:
            month_first_seen = t
        elif a != b and a <= 12 and b <= 12 and unsettled is None:
            unsettled = t
    if day_first_seen and month_first_seen:
        raise DataError(
            f"column {column!r} mixes day-first and month-first dates",
            source=source,
            failures=[
                Failure(None, column, day_first_seen, "only readable as day/month"),
                Failure(None, column, month_first_seen, "only readable as month/day"),
            ],
            hint="make the column use one date order before reading it",
        )
    if day_first_seen:
        return True
    if month_first_seen:
        return False
    if unsettled:
        raise DataError(
            f"column {column!r} has dates such as {unsettled!r} whose day/month order cannot be settled "
            "from the data (no value has a day above 12)",
            source=source,
            failures=[Failure(None, column, unsettled, "ambiguous day/month order")],
            hint="pass dayfirst=True (31/12/2024 style) or dayfirst=False (12/31/2024 style)",
        )
    return False


@dataclass
class ClockChanges:
    """Naive times of one column that the clocks of ``tz`` skipped (spring forward: the time never
    existed) or showed twice (fall back: the time is ambiguous), each read with the UTC offset in force
    before the change (PEP 495 ``fold=0``, Python's own default): ``{value as written: (kind, UTC)}``."""

    tz: str
    found: dict[str, tuple[str, pd.Timestamp]] = field(default_factory=dict)

    def note(self, column: str, rows: list[int]) -> str:
        """The sentence a table's notes carry: which values, how they were read, how to avoid it."""
        shown = []
        for text, (kind, utc) in list(self.found.items())[:3]:
            local = utc.tz_convert(self.tz)
            what = ("did not exist there (the clocks jumped forward)" if kind == "skipped" else
                    "happened twice there (the clocks went back)")
            shown.append(f"{text!r} {what}, read as {local:%Y-%m-%d %H:%M} {local.tzname()} "
                         f"({utc:%H:%M} UTC)")
        where = ", ".join(map(str, rows[:5])) + (", ..." if len(rows) > 5 else "")
        more = f" and {len(self.found) - 3} more value(s)" if len(self.found) > 3 else ""
        rows_word = "rows" if len(rows) > 1 else "row"
        return (f"column {column!r}: {len(rows)} row(s) ({rows_word} {where}) hold a local time the clocks "
                f"of {self.tz} skipped or repeated: {'; '.join(shown)}{more}. Each is read with the UTC "
                "offset in force before the change (Python's fold=0 rule), so the day is unchanged; give UTC "
                "times, or times with an offset (+02:00), to avoid the choice")


def _fold0(ts: pd.Timestamp, tz: str) -> tuple[pd.Timestamp, str] | None:
    """A naive ``ts`` that does not exist or is ambiguous in ``tz``, as UTC by the offset in force before the
    clocks changed (``fold=0``), and ``"skipped"`` or ``"repeated"``; ``None`` when ``ts`` is neither or
    the zone is not an IANA name zoneinfo knows."""
    try:
        zone = ZoneInfo(tz)
    except (ZoneInfoNotFoundError, ValueError, TypeError):
        return None
    wall = ts.to_pydatetime(warn=False)
    before, after = wall.replace(tzinfo=zone, fold=0), wall.replace(tzinfo=zone, fold=1)
    if before.utcoffset() == after.utcoffset():
        return None
    utc = before.astimezone(dt.UTC)
    kind = "repeated" if utc.astimezone(zone).replace(tzinfo=None) == wall else "skipped"
    return pd.Timestamp(utc).as_unit("us"), kind


def _to_utc(ts: pd.Timestamp, tz: str, changes: ClockChanges | None = None, key: str = "") -> pd.Timestamp:
    """``ts`` in UTC, a naive ``ts`` read as wall-clock time of ``tz``. A time the clocks of ``tz`` skipped
    or repeated is read by :func:`_fold0` and recorded in ``changes`` under ``key``; ``ValueError`` when that
    cannot be done (a zone zoneinfo does not know)."""
    if ts.tzinfo is None:
        try:
            ts = ts.tz_localize(tz, ambiguous="raise", nonexistent="raise")
        except Exception as exc:  # noqa: BLE001 - pytz.exceptions.InvalidTimeError is not a ValueError
            resolved = _fold0(ts, tz)
            if resolved is None:
                raise ValueError(f"{ts} does not exist or is ambiguous in {tz}") from exc
            if changes is not None:
                changes.found[key or str(ts)] = (resolved[1], resolved[0])
            return resolved[0]
    return ts.tz_convert("UTC")


def _localize(wall: pd.DatetimeIndex, tz: str, keys: list[str], changes: ClockChanges | None
              ) -> pd.DatetimeIndex:
    """Naive wall-clock times of ``tz`` as UTC; those the clocks skipped or repeated read by
    :func:`_fold0` (NaT when that cannot be done) and recorded in ``changes`` under their ``keys``."""
    local = wall.tz_localize(tz, ambiguous="NaT", nonexistent="NaT").tz_convert("UTC")
    lost = np.flatnonzero(np.asarray(local.isna()) & ~np.asarray(wall.isna()))
    if not len(lost):
        return local
    values = local.tz_localize(None).to_numpy(dtype="datetime64[us]").copy()
    for i in lost:
        resolved = _fold0(wall[i], tz)
        if resolved is not None:
            values[i] = resolved[0].tz_localize(None).to_datetime64()
            if changes is not None:
                changes.found[keys[i]] = (resolved[1], resolved[0])
    return pd.DatetimeIndex(values).tz_localize("UTC")


def check_tz(tz: str) -> str:
    """Validate a time-zone name, raising ``ValueError`` with an example of a valid one."""
    try:
        pd.Timestamp("2024-01-01").tz_localize(tz)
    except Exception as exc:  # noqa: BLE001 - pandas/zoneinfo raise several types
        raise ValueError(
            f"The 'tz' parameter must be a time-zone name such as 'UTC' or 'Europe/Paris'. "
            f"Got {tz!r} instead."
        ) from exc
    return tz


def parse_timestamps(
    values: pd.Series,
    *,
    tz: str = "UTC",
    dayfirst: bool | None = None,
    column: str = "",
    source: str | None = None,
    notes: list[str] | None = None,
    rows: np.ndarray | None = None,
) -> tuple[pd.Series, np.ndarray]:
    """Parse a column of dates or timestamps to UTC.

    Parameters
    ----------
    values : Series
        Strings, numbers, datetimes or a datetime64 column.
    tz : str
        Zone of naive values.
    dayfirst : bool or None
        Day/month order of ``03/04/2024``-style values; ``None`` settles it from the column.
    column, source : str
        Used in error messages.
    notes : list of str, optional
        Where to add the note on naive times the clocks of ``tz`` skipped or repeated (see Notes).
    rows : array of int, optional
        The row number of each value, for that note (default: positions from 1).

    Returns
    -------
    parsed : Series of datetime64[us, UTC]
        NaT where missing or unreadable.
    bad : ndarray of bool
        True where a value is present but could not be read.

    Raises
    ------
    DataError
        When the day/month order cannot be settled (docs/explanation.md, "Reading exports").

    Notes
    -----
    Each distinct value is read once. Strict ISO 8601 texts and plain numbers are read a whole batch at a
    time (:func:`pandas.to_datetime`, array arithmetic); whatever a batch cannot read goes through the
    registry one value at a time, so the registry's rules decide every value.

    A naive time the clocks of ``tz`` skipped (02:30 on the night they jump from 02:00 to 03:00: it never
    existed) or showed twice (01:30 on the night they go back) is read with the UTC offset in force before
    the change, Python's ``fold=0`` rule (PEP 495): 02:30 as 03:30 after the jump, 01:30 as the first of
    the two. The local day is unchanged either way; ``notes`` gets one line naming the rows and values.
    """
    n = len(values)
    changes = ClockChanges(tz)
    if pd.api.types.is_datetime64_any_dtype(values.dtype):
        s = values
        bad = np.zeros(n, dtype=bool)
        if getattr(s.dt, "tz", None) is None:
            wall = pd.DatetimeIndex(s)
            keys = [as_text(v) for v in wall] if wall.isna().sum() < n else []
            local = _localize(wall, tz, keys, changes)
            s = pd.Series(local, index=values.index)
            bad = (s.isna() & values.notna()).to_numpy()
        parsed = s.dt.tz_convert("UTC").astype("datetime64[us, UTC]")
    elif pd.api.types.is_numeric_dtype(values.dtype) and not pd.api.types.is_bool_dtype(values.dtype):
        x = values.to_numpy(dtype="float64", na_value=np.nan)
        skip = np.isnan(x) | (x == 0)
        stamps = numbers_to_utc(np.where(skip, np.nan, x), tz, changes)
        bad = ~skip & np.isnat(stamps)
        parsed = pd.Series(stamps, index=values.index, dtype="datetime64[us, UTC]")
    else:
        distinct, codes = distinct_values(values)
        stamps, bad_d = _parse_distinct(distinct, tz=tz, dayfirst=dayfirst, column=column, source=source,
                                        changes=changes)
        stamps = np.append(stamps, np.datetime64("NaT", "us"))  # code -1: a null, read as missing
        bad_d = np.append(bad_d, False)
        parsed = pd.Series(stamps[codes], index=values.index).dt.tz_localize("UTC")
        parsed, bad = parsed.astype("datetime64[us, UTC]"), bad_d[codes]
    if changes.found and notes is not None:
        shown = np.array([as_text(v).strip() for v in values.to_numpy(dtype=object)], dtype=object)
        at = np.flatnonzero(np.isin(shown, list(changes.found)))
        where = (np.arange(1, n + 1) if rows is None else np.asarray(rows))[at]
        notes.append(changes.note(column, [int(r) for r in where]))
    return parsed, bad


_NAT = np.datetime64("NaT", "us")
#: Strict ISO 8601 (two-digit fields, ``T`` or space, a zone only after a time): read in batches.
_STRICT_ISO = re.compile(
    r"\d{4}-\d{2}-\d{2}(?:[T ]\d{2}:\d{2}(?::\d{2}(?:\.\d{1,9})?)?(?P<zone>Z|[+-]\d{2}(?::?\d{2})?)?)?"
)
_PLAIN_NUMBER = re.compile(r"\d+(?:\.\d+)?")


def numbers_to_utc(x: np.ndarray, tz: str, changes: ClockChanges | None = None,
                   texts: list[str] | None = None) -> np.ndarray:
    """:func:`number_to_timestamp` of a float array, in UTC (``datetime64[us]``, NaT for no date unit).

    Excel serials are wall-clock times of ``tz``; those the clocks skipped or repeated are read by the
    ``fold=0`` rule (see :func:`parse_timestamps`) and recorded in ``changes`` under their ``texts`` (the
    numbers as written).
    """
    x = np.asarray(x, dtype="float64")
    out = np.full(len(x), _NAT)
    with np.errstate(invalid="ignore"):
        excel = (x >= EXCEL_SERIALS[0]) & (x < EXCEL_SERIALS[1])
        secs = (x >= EPOCH_SECONDS[0]) & (x < EPOCH_SECONDS[1])
        millis = (x >= EPOCH_MILLISECONDS[0]) & (x < EPOCH_MILLISECONDS[1])
    if excel.any():
        wall = pd.DatetimeIndex(
            _EXCEL_ORIGIN + pd.to_timedelta(np.round(x[excel] * 86_400_000), unit="ms")
        ).round("s")
        keys = [as_text(v) for v in x[excel]] if texts is None else [t for t, e in zip(texts, excel,
                                                                                        strict=True) if e]
        local = _localize(wall, tz, keys, changes)
        out[excel] = local.tz_localize(None).to_numpy(dtype="datetime64[us]")
    for mask, scale in ((secs, 1000.0), (millis, 1.0)):
        if mask.any():
            ms = np.round(x[mask] * scale).astype("int64")
            out[mask] = ms.astype("datetime64[ms]").astype("datetime64[us]")
    return out


def _parse_distinct(
    distinct: np.ndarray, *, tz: str, dayfirst: bool | None, column: str, source: str | None,
    changes: ClockChanges | None = None,
) -> tuple[np.ndarray, np.ndarray]:
    """UTC ``datetime64[us]`` (NaT when missing or unreadable) and ``bad`` for each value of ``distinct``."""
    m = len(distinct)
    out = np.full(m, _NAT)
    bad = np.zeros(m, dtype=bool)
    texts: dict[str, list[int]] = {}
    for i, v in enumerate(distinct):
        if is_missing_value(v) or is_not_set(v):
            continue
        if isinstance(v, str):
            texts.setdefault(v.strip(), []).append(i)
            continue
        ts: pd.Timestamp | None = None
        try:
            if isinstance(v, (int, float, np.integer, np.floating)) and not isinstance(v, (bool, np.bool_)):
                num = number_to_timestamp(float(v))
                ts = None if num is None else _to_utc(num, tz, changes, as_text(v))
            elif isinstance(v, (pd.Timestamp, dt.datetime, dt.date, np.datetime64)):
                ts = _to_utc(pd.Timestamp(v), tz, changes, as_text(v))
        except (ValueError, OverflowError):
            ts = None
        if ts is None:
            bad[i] = True
        else:
            out[i] = ts.tz_localize(None).to_datetime64().astype("datetime64[us]")
    read = _parse_texts(list(texts), tz=tz, dayfirst=dayfirst, column=column, source=source, changes=changes)
    for where, stamp in zip(texts.values(), read, strict=True):
        out[where] = stamp
        bad[where] = np.isnat(stamp)
    return out, bad


def _builtin_registry() -> bool:
    """The registry starts with the built-in formats (so a batch reads what the registry would read)."""
    return len(DATE_FORMATS) >= len(_BUILTIN) and all(
        a is b for a, b in zip(DATE_FORMATS, _BUILTIN, strict=False)
    )


def _parse_texts(
    texts: list[str], *, tz: str, dayfirst: bool | None, column: str, source: str | None,
    changes: ClockChanges | None = None,
) -> np.ndarray:
    """UTC ``datetime64[us]`` of distinct stripped texts, NaT where unreadable (see parse_timestamps)."""
    out = np.full(len(texts), _NAT)
    rest: list[int] = list(range(len(texts)))
    if _builtin_registry() and texts:
        naive: list[int] = []
        aware: list[int] = []
        numbers: list[int] = []
        rest = []
        for i, t in enumerate(texts):
            iso = _STRICT_ISO.fullmatch(t)
            if iso is not None:
                (naive if iso.group("zone") is None else aware).append(i)
            elif _PLAIN_NUMBER.fullmatch(t) and not _COMPACT.fullmatch(t):
                numbers.append(i)
            else:
                rest.append(i)
        for group, zoned in ((naive, False), (aware, True)):
            if group:
                got = pd.DatetimeIndex(
                    pd.to_datetime([texts[i] for i in group], format="ISO8601", errors="coerce", utc=zoned)
                )
                if not zoned:
                    got = got.tz_localize(tz, ambiguous="NaT", nonexistent="NaT")
                out[group] = got.tz_convert("UTC").tz_localize(None).to_numpy(dtype="datetime64[us]")
        if numbers:
            out[numbers] = numbers_to_utc(np.array([texts[i] for i in numbers], dtype="float64"), tz, changes,
                                          [texts[i] for i in numbers])
        # what a batch could not read goes through the registry (which may still read it, or reject it)
        rest += [i for i in naive + aware + numbers if np.isnat(out[i])]
    order = settle_dayfirst(
        sorted(texts[i] for i in rest), dayfirst=dayfirst, column=column, source=source
    )
    for i in rest:
        hit = _match(texts[i])
        try:
            ts = None if hit is None else _to_utc(hit[0].parse(hit[1], order), tz, changes, texts[i])
        except (ValueError, OverflowError):
            ts = None
        if ts is not None:
            out[i] = ts.tz_localize(None).to_datetime64().astype("datetime64[us]")
    return out
