"""The employee × period panel every estimator works on.

A :class:`Panel` is immutable. It keeps the user's column names for display and a normalised long frame
(:meth:`Panel.long`) with fixed column names for the estimators, so that no estimator has to know how the
user spelled things.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from typing import Any

import numpy as np
import pandas as pd

from impactlab.errors import Failure, PanelError
from impactlab.panel._order import (
    CHUNK,
    datetime_ints,
    dense_codes,
    digit_ids,
    gather,
    pair_key,
    pair_order,
    take_column,
    take_values,
)

#: Fixed column names of :meth:`Panel.long`.
LONG_COLUMNS = ("unit", "time", "period", "outcome", "cohort", "cohort_period", "cluster")

DROPPED_COLUMNS = ("unit", "time", "reason", "source_row")


def _empty_dropped() -> pd.DataFrame:
    return pd.DataFrame({c: pd.Series(dtype="object") for c in DROPPED_COLUMNS})


def _factorize_sorted(values: pd.Series) -> tuple[np.ndarray, Any]:
    """Integer codes of ``values`` in sorted order of the values (first appearance when they do not sort);
    -1 for missing."""
    try:
        return pd.factorize(values, sort=True)
    except TypeError:
        return pd.factorize(values)


def _dense_codes(ints: np.ndarray) -> tuple[np.ndarray, np.ndarray] | None:
    """``(codes, positions)`` of integer values whose range is at most a few times their number: codes in
    increasing order of the values, and one row holding each distinct value; ``None`` for a wider range
    (see :func:`impactlab.panel._order.dense_codes`)."""
    return dense_codes(ints)


def _digit_ids(values: pd.Series) -> np.ndarray | None:
    """String ids made of one fixed prefix and a fixed number of ASCII digits ('E0000123') as the integers
    of their digits; ``None`` for any other column (see :func:`impactlab.panel._order.digit_ids`)."""
    return digit_ids(values)


def _unit_codes(values: pd.Series) -> tuple[np.ndarray, pd.Index]:
    """Integer codes of the values in sorted order, and the sorted distinct values, as
    :func:`_factorize_sorted` gives them (-1 for missing), computed without hashing when the values are
    integers of a narrow range, fixed-width digit strings such as ``'E0000123'``, or datetimes and periods
    of a narrow range (missing ones included). The codes are of the smallest integer type that holds them
    (:func:`impactlab.panel._order.code_dtype`), or ``intp`` when pandas computed them."""
    na = None
    if isinstance(values.dtype, np.dtype) and values.dtype.kind in "iu":
        ints: np.ndarray | None = values.to_numpy()
    else:
        stamps = datetime_ints(values)
        ints, na = stamps if stamps is not None else (digit_ids(values), None)
    dense = None if ints is None else dense_codes(ints, na)
    if dense is None:
        codes, uniques = _factorize_sorted(values)
        return np.asarray(codes, dtype=np.intp), pd.Index(uniques)
    codes, rows = dense
    return codes, pd.Index(values.array.take(rows), name=None)


def copy_on_write() -> bool:
    """Whether pandas copies a shared column before writing to it (always from pandas 3; an option in 2.x)."""
    if int(pd.__version__.split(".")[0]) >= 3:
        return True
    try:
        return pd.get_option("mode.copy_on_write") is True
    except (KeyError, pd.errors.OptionError):  # pragma: no cover - pandas without the option
        return False


def _duplicated(ucode: np.ndarray, tcode: np.ndarray, n_units: int, n_times: int) -> np.ndarray:
    """Rows whose (unit, period) pair occurs more than once (every occurrence), from integer codes; rows
    with a missing unit or period (code -1) are not counted."""
    key = ucode.astype("int64") * np.int64(max(n_times, 1))
    key += tcode
    if n_units * n_times <= 4 * len(key) + 1024 and ucode.min(initial=0) >= 0 and tcode.min(initial=0) >= 0:
        # nothing missing: one count per pair, and the row mask only when some pair repeats
        counts = np.bincount(key, minlength=n_units * n_times)
        if counts.max(initial=0) <= 1:
            return np.zeros(len(key), dtype=bool)
        return counts[key] > 1
    ok = (ucode >= 0) & (tcode >= 0)
    key = np.where(ok, key, -1)
    if n_units * n_times <= 4 * len(key) + 1024:
        counts = np.bincount(key[ok], minlength=n_units * n_times)
        return ok & (counts[np.maximum(key, 0)] > 1)
    _, inverse, counts = np.unique(key, return_inverse=True, return_counts=True)
    return ok & (counts[inverse] > 1)


_FAST_KINDS = "iuM"  # integer ids / periods and datetimes: exact comparisons, no missing values hidden


def _block_layout(units: pd.Series, times: pd.Series) -> tuple[int, np.ndarray, np.ndarray] | None:
    """``(n_periods, unit ids, periods)`` when the frame is already a balanced panel in the order the panel
    stores it: consecutive blocks of the same length, one per unit, units strictly increasing from block to
    block and every block holding the same strictly increasing periods. ``None`` otherwise (the general path
    then factorises, checks and sorts).

    Only integer and datetime columns qualify (exact comparisons, no missing values: a NaT breaks the
    equalities and sends the frame to the general path). The checks are comparisons on reshaped views, so a
    frame in this layout is recognised without hashing or sorting, and no duplicate (unit, period) pair can
    exist in it.
    """
    u = units.to_numpy() if isinstance(units.dtype, np.dtype) else None
    t = times.to_numpy() if isinstance(times.dtype, np.dtype) else None
    if u is None or t is None or u.dtype.kind not in _FAST_KINDS or t.dtype.kind not in _FAST_KINDS:
        return None
    n = len(u)
    if n == 0:
        return None
    change = np.flatnonzero(u[: min(n, 1 << 16)] != u[0])
    block = int(change[0]) if change.size else (n if n <= 1 << 16 else 0)
    if block == 0 or n % block:
        return None
    first_u = u[::block]
    first_t = t[:block]
    if not (np.all(first_u[1:] > first_u[:-1]) and np.all(first_t[1:] > first_t[:-1])):
        return None
    ublocks = u.reshape(-1, block)
    if not (ublocks == first_u[:, None]).all() or not (t.reshape(-1, block) == first_t).all():
        return None
    return block, first_u, first_t


def _sort_order(key: np.ndarray, n_keys: int) -> np.ndarray:
    """The permutation that sorts ``key`` (distinct integers in ``[0, n_keys)``): one scatter and a
    compaction when the key range is at most a few times the number of rows (a counting sort), a stable
    argsort otherwise. Both give the same permutation because the keys are distinct."""
    if n_keys <= 4 * len(key) + 1024:
        slot = np.full(n_keys, -1, dtype="int64")
        slot[key] = np.arange(len(key), dtype="int64")
        return slot[slot >= 0]
    return np.argsort(key, kind="stable")


def _column(values: Any, take: np.ndarray | None) -> Any:
    """A column of the long frame: ``values`` in the order ``take`` (``None``: as they are)."""
    if take is None and isinstance(values, pd.Series) and copy_on_write():
        # rows already in place: refer to the caller's column; pandas' copy-on-write copies it the moment
        # either frame is written to, so the panel never changes with the caller's frame
        return values.reset_index(drop=True)
    arr = values.array if isinstance(values, pd.Series) else values
    return arr.copy() if take is None else arr.take(take)


def _from_block_layout(df: pd.DataFrame, y: pd.Series, *, unit: str, time: str, cohort: str,
                       covariates: tuple[str, ...], cluster: str | None
                       ) -> tuple[pd.DataFrame, np.ndarray, int] | None:
    """The long frame, periods and unit count of a frame that is already a balanced panel in storage order
    (see :func:`_block_layout`) with every outcome present and a numeric or datetime cohort that is
    constant within units; ``None`` for anything else, which the general path of
    :meth:`Panel.from_frame` handles (and explains, when it is an error).

    Per-unit work is done on one row per unit and repeated; columns that are already in place are shared
    with the caller's frame under copy-on-write, as in the general path.
    """
    layout = _block_layout(df[unit], df[time])
    if layout is None or y.isna().any():
        return None
    block, _, periods = layout
    g_raw = df[cohort]
    if not isinstance(g_raw.dtype, np.dtype):
        return None
    numeric = g_raw.dtype.kind in "iuf" and periods.dtype.kind in "iu"
    if not (numeric or (g_raw.dtype.kind == "M" and periods.dtype.kind == "M")):
        return None
    gmat = g_raw.to_numpy().reshape(-1, block)
    g0 = gmat[:, 0]
    same = gmat == g0[:, None]
    if not same.all():
        na0 = pd.isna(g0)
        if not na0.any() or not (same | (pd.isna(gmat) & na0[:, None])).all():
            return None  # a cohort that changes within a unit: the general path names the units
    never = pd.isna(g0)
    if numeric:
        never = never | (g0 == 0)
    g_unit = pd.Series(g0)
    if never.any():
        g_unit = g_unit.where(~never)
    gpos = np.zeros(len(g0), dtype="int64")
    if (~never).any():
        found = np.searchsorted(periods, g0[~never], side="left") + 1
        gpos[~never] = np.where(found > block, 0, found)  # after the last observed period: not treated
    n_units = len(g0)
    unit_values = _column(df[unit], None)
    data: dict[str, Any] = {
        "unit": unit_values,
        "time": _column(df[time], None),
        "period": np.tile(np.arange(1, block + 1, dtype="int64"), n_units),
        "outcome": _column(y.astype("float64"), None),
        "cohort": np.repeat(g_unit.to_numpy(), block),
        "cohort_period": np.repeat(gpos, block),
        "cluster": _column(df[cluster], None) if cluster else unit_values,
    }
    for c in covariates:
        data[c] = _column(df[c].astype("float64"), None)
    return pd.DataFrame(data, copy=False), periods, n_units


@dataclass(frozen=True, repr=False, eq=False)
class Panel:
    """A unit × period panel with a treatment cohort per unit.

    Build it with :func:`impactlab.build_panel` from validated tables or with :meth:`Panel.from_frame` from
    tidy data. Estimators never modify it.

    Attributes
    ----------
    unit, time, outcome, cohort : str
        The user's names for the unit id, the period, the outcome and the cohort (first treated period).
    covariates : tuple of str
        Covariate columns (numeric).
    cluster : str or None
        Column to cluster standard errors on; ``None`` clusters by unit.
    dropped : DataFrame
        Rows left out while building the panel, one per row, with ``reason``.
    truth : object or None
        The known true effects, when the panel was built from simulated data.
    """

    unit: str
    time: str
    outcome: str
    cohort: str
    covariates: tuple[str, ...]
    cluster: str | None
    periods: tuple[Any, ...]
    dropped: pd.DataFrame = field(default_factory=_empty_dropped)
    truth: Any = None
    meta: dict[str, Any] = field(default_factory=dict)
    # the normalised long frame, and the number of units when known at construction (saves hashing the
    # unit column again): set by _make, so they stay out of the public constructor
    _long: pd.DataFrame = field(init=False, repr=False)
    _n_units: int | None = field(default=None, init=False, repr=False)

    @classmethod
    def _make(cls, long: pd.DataFrame, n_units: int | None = None, **fields: Any) -> Panel:
        """A panel on the normalised long frame ``long`` (columns unit, time, period, outcome, cohort,
        cohort_period, cluster and the covariates)."""
        panel = cls(**fields)
        object.__setattr__(panel, "_long", long)
        object.__setattr__(panel, "_n_units", n_units)
        return panel

    def _replace(self, **changes: Any) -> Panel:
        """A copy with some public fields changed, on the same long frame."""
        panel = replace(self, **changes)
        object.__setattr__(panel, "_long", self._long)
        object.__setattr__(panel, "_n_units", self._n_units)
        return panel

    # ------------------------------------------------------------------ construction
    @classmethod
    def from_frame(
        cls,
        frame: pd.DataFrame,
        *,
        unit: str,
        time: str,
        outcome: str,
        cohort: str,
        covariates: Sequence[str] | None = None,
        cluster: str | None = None,
        truth: Any = None,
    ) -> Panel:
        """Build a panel from a tidy frame, one row per unit and period.

        Parameters
        ----------
        frame : DataFrame
            Long data. It is not modified.
        unit, time, outcome : str
            Columns holding the unit id, the period (numbers, dates or pandas periods; need not be evenly
            spaced: estimators use the ordered set of observed periods) and the outcome.
        cohort : str
            Column holding the period in which the unit was first treated; ``0`` or missing means never
            treated. A cohort that falls between observed periods is taken to start at the next observed
            period; one after the last observed period counts as never treated within the data.
        covariates : sequence of str, optional
            Numeric covariates.
        cluster : str, optional
            Column with the cluster id for standard errors (default: the unit).

        Returns
        -------
        Panel
            Rows with a missing outcome are left out and listed in ``panel.dropped``.

        Raises
        ------
        PanelError
            Missing columns, non-numeric outcome or covariates, duplicated unit-period rows, or a cohort that
            changes within a unit; every failure is listed.
        """
        return cls._build(frame, unit=unit, time=time, outcome=outcome, cohort=cohort,
                          covariates=covariates, cluster=cluster, truth=truth)

    @classmethod
    def _build(
        cls,
        df: pd.DataFrame,
        *,
        unit: str,
        time: str,
        outcome: str,
        cohort: str,
        covariates: Sequence[str] | None = None,
        cluster: str | None = None,
        truth: Any = None,
        _unit_codes_given: tuple[np.ndarray, pd.Index] | None = None,
        _owned_columns: Sequence[str] = (),
    ) -> Panel:
        """:meth:`from_frame`, with optionally the unit codes the caller has already computed
        (``_unit_codes(df[unit])``, e.g. :func:`impactlab.build_panel` to map cohorts), so that 24 million
        ids are not read twice, and the names of columns of ``df`` that the caller made for this call
        (``df`` is then the caller's private frame): the general path deletes them from ``df`` once read,
        so that their unsorted and sorted copies do not coexist."""
        if not isinstance(df, pd.DataFrame):
            raise PanelError(f"Panel.from_frame expects a pandas DataFrame. Got {type(df).__name__} instead.")
        covariates = tuple(covariates or ())
        needed = [unit, time, outcome, cohort, *covariates] + ([cluster] if cluster else [])
        missing = [c for c in dict.fromkeys(needed) if c not in df.columns]
        if missing:
            raise PanelError(
                f"Columns {missing} are not in the frame. Available columns: {list(df.columns)}. "
                "Pass the names of your columns as unit=, time=, outcome=, cohort=, covariates=, cluster=."
            )
        clash = [c for c in covariates if c in LONG_COLUMNS]
        if clash:
            raise PanelError(f"Covariate names {clash} are reserved ({LONG_COLUMNS}); rename those columns.")

        failures: list[Failure] = []
        y = df[outcome]
        if not pd.api.types.is_numeric_dtype(y) or pd.api.types.is_bool_dtype(y):
            y_num = pd.to_numeric(y, errors="coerce")
            bad = y.notna() & y_num.isna()
            for pos in np.flatnonzero(bad.to_numpy())[:20]:  # by position: the index may repeat labels
                failures.append(Failure(df.index[pos], outcome, y.iloc[pos], "the outcome must be numeric"))
            y = y_num
        for c in covariates:
            if not pd.api.types.is_numeric_dtype(df[c]) or pd.api.types.is_bool_dtype(df[c]):
                failures.append(Failure(None, c, str(df[c].dtype),
                                        "covariates must be numeric; one-hot encode categories first"))
            elif df[c].isna().any():
                n = int(df[c].isna().sum())
                failures.append(Failure(None, c, f"{n} missing",
                                        "covariates may not be missing; impute or drop those rows first"))
        if not failures:
            fast = _from_block_layout(df, y, unit=unit, time=time, cohort=cohort, covariates=covariates,
                                      cluster=cluster)
            if fast is not None:
                long, periods_, n_units = fast
                return cls._make(long, n_units, unit=unit, time=time, outcome=outcome, cohort=cohort,
                                 covariates=covariates, cluster=cluster, periods=tuple(periods_),
                                 truth=truth, meta={})
        return cls._general(df, y, failures, unit=unit, time=time, outcome=outcome, cohort=cohort,
                            covariates=covariates, cluster=cluster, truth=truth,
                            unit_codes=_unit_codes_given, owned=tuple(_owned_columns))

    @classmethod
    def _general(cls, df: pd.DataFrame, y: pd.Series, failures: list[Failure], *, unit: str, time: str,
                 outcome: str, cohort: str, covariates: tuple[str, ...], cluster: str | None, truth: Any,
                 unit_codes: tuple[np.ndarray, pd.Index] | None, owned: tuple[str, ...]) -> Panel:
        """The general path of :meth:`from_frame`: integer codes, checks, the (unit, period) order and the
        sorted columns, in bounded memory (the helpers of :mod:`impactlab.panel._order`).

        Integer codes once, in the smallest integer type: the duplicate and constant-cohort checks, the
        period positions and the sort all work on them instead of on the (possibly text) values. The
        per-row temporaries are released as soon as they are used, the order is one counting sort that
        also detects repeated (unit, period) pairs, and the output columns are taken one at a time; the
        cohort columns are built from one value per unit. Columns named in ``owned`` belong to the
        caller's private frame and are deleted from it once read.
        """
        if unit_codes is not None:
            ucode, uniq_units = unit_codes
        else:
            ucode, uniq_units = _unit_codes(df[unit])
        tcode, uniq_times = _unit_codes(df[time])
        if (ucode < 0).any():
            for idx in df.index[ucode < 0][:20]:
                failures.append(Failure(idx, unit, None, "the unit id is missing"))
        if (tcode < 0).any():
            for idx in df.index[tcode < 0][:20]:
                failures.append(Failure(idx, time, None, "the period is missing"))

        def fail_on_repeats(ucode: np.ndarray, tcode: np.ndarray) -> None:
            dup = _duplicated(ucode, tcode, len(uniq_units), len(uniq_times))
            for pos in np.flatnonzero(dup)[:20]:  # by position: the index may repeat labels
                failures.append(Failure(df.index[pos], f"{unit}, {time}",
                                        tuple(v.item() if isinstance(v, np.generic) else v
                                              for v in (df[unit].iloc[pos], df[time].iloc[pos])),
                                        "each unit may appear once per period; aggregate duplicates first"))
            raise PanelError("Cannot build a panel:\n" + "\n".join(f"  - {f}" for f in failures))

        if failures:
            fail_on_repeats(ucode, tcode)
        n_units, n_times = len(uniq_units), len(uniq_times)

        # The cohort: codes in sorted order of the values, "never" (missing, or 0 for numbers) as -1, one
        # code per unit; a unit's cohort must be constant, so every row is compared with its unit's code.
        g_raw = df[cohort]
        gcode, g_uniq = _unit_codes(g_raw)
        live = np.ones(len(g_uniq), dtype=bool)  # distinct cohorts that are periods (not 0 = never)
        if pd.api.types.is_numeric_dtype(g_raw.dtype):
            for zero in np.flatnonzero(np.asarray(g_uniq == 0, dtype=bool)):
                gcode[gcode == zero] = -1
                live[zero] = False
        # the distinct cohorts, then (code -1) the missing value of the type ``Series.where`` gives the
        # column when some unit is never treated (integers become floats), as the cohort column holds them
        g_values = pd.Series(g_uniq, copy=False)
        if (gcode < 0).any():
            na_tail = g_raw.iloc[:1].where(np.zeros(1, dtype=bool))
            g_values = pd.concat([g_values, na_tail], ignore_index=True) if len(g_values) else na_tail
        del g_raw
        per_unit = np.full(n_units, -1, dtype=gcode.dtype)
        per_unit[ucode] = gcode
        changing_units: list[Any] = []
        for i in range(0, len(gcode), CHUNK):
            at = ucode[i:i + CHUNK]
            bad = gcode[i:i + CHUNK] != per_unit[at]
            if bad.any():
                changing_units.extend(pd.unique(at[bad]).tolist())
                if len(set(changing_units)) >= 10:
                    break
        del gcode
        if cohort in owned:
            del df[cohort]

        # Sort by unit, then period: the time codes follow the sorted distinct times; one scatter orders
        # the rows and tells whether a pair repeats.
        if n_times > 1 and not uniq_times.is_monotonic_increasing:
            rank = np.empty(n_times, dtype=tcode.dtype)
            rank[uniq_times.argsort()] = np.arange(n_times, dtype=tcode.dtype)
            tcode, uniq_times = gather(rank, tcode), uniq_times.sort_values()
        key = pair_key(ucode, tcode, n_times)
        order, repeated = pair_order(key, n_units * n_times)
        del key
        if repeated:
            fail_on_repeats(ucode, tcode)
        if changing_units:
            bad_units = [uniq_units[c] for c in list(dict.fromkeys(changing_units))[:10]]
            raise PanelError(
                f"The cohort column {cohort!r} changes within units {bad_units}; it must hold one value per "
                "unit (the period of first treatment, 0 or missing for never treated)."
            )

        keep = y.notna().to_numpy()
        dropped = _empty_dropped()
        if keep.all():
            take = order
        else:
            if not keep.any():
                raise PanelError("The panel has no rows with an outcome; nothing to analyse.")
            idx = df.index[~keep]
            dropped = pd.DataFrame({
                "unit": df.loc[idx, unit].to_numpy(),
                "time": df.loc[idx, time].to_numpy(),
                "reason": f"outcome {outcome!r} is missing",
                "source_row": idx.to_numpy(),
            })
            take = np.flatnonzero(keep) if order is None else order[gather(keep, order)]
        del order, keep

        # Periods in order (those with a kept row), each row's position, and each cohort's first observed
        # period on or after it.
        tcode = tcode if take is None else gather(tcode, take)
        seen = np.zeros(n_times, dtype=bool)
        seen[tcode] = True  # tcode follows the sorted distinct times
        period_index = uniq_times[seen]
        periods = period_index.to_numpy()
        pos_of_code = np.cumsum(seen, dtype=np.int64)
        period = gather(pos_of_code, tcode)
        del tcode
        g_pos = np.zeros(len(g_uniq) + 1, dtype=np.int64)  # last entry: code -1 (never treated)
        if live.any():  # 0 (never treated) is not looked up among the periods, which may be dates
            at = np.flatnonzero(live)
            found = period_index.searchsorted(g_uniq[at], side="left") + 1
            # after the last observed period: not treated within the data
            g_pos[at] = np.where(found > len(periods), 0, found)
        uc = ucode if take is None else gather(ucode, take)
        del ucode
        g_of_row = gather(per_unit, uc)
        del uc
        cohort_values = take_values(g_values, g_of_row)
        cohort_period = gather(g_pos, g_of_row)
        del g_of_row

        def col(name: str, as_float: bool = False) -> Any:
            values = df[name].astype("float64") if as_float else df[name]
            out = _column(values, None) if take is None else take_column(values, take)
            if name in owned:
                del df[name]
            return out

        y = y.astype("float64")
        y_values = _column(y, None) if take is None else take_column(y, take)
        del y
        unit_values = col(unit)
        data: dict[str, Any] = {
            # .array keeps extension types (periods, strings) unboxed: no per-value Python objects
            "unit": unit_values,
            "time": col(time),
            "period": period,
            "outcome": y_values,
            "cohort": cohort_values,
            "cohort_period": cohort_period,
            "cluster": col(cluster) if cluster else unit_values,
        }
        for c in covariates:
            data[c] = col(c, as_float=True)
        long = pd.DataFrame(data, copy=False)
        return cls._make(long, n_units if take is None or len(take) == len(df) else None, unit=unit,
                         time=time, outcome=outcome, cohort=cohort, covariates=tuple(covariates),
                         cluster=cluster, periods=tuple(periods), dropped=dropped.reset_index(drop=True),
                         truth=truth, meta={})

    # ------------------------------------------------------------------ views
    def long(self) -> pd.DataFrame:
        """A copy of the normalised long frame.

        Columns: ``unit``, ``time`` (as given), ``period`` (1-based position of ``time`` among the observed
        periods), ``outcome``, ``cohort`` (first treated period as given, NaN = never treated),
        ``cohort_period`` (position of the first observed period on or after the cohort; 0 = never treated
        within the data), ``cluster`` (the unit when no cluster was given), then the covariates.
        Sorted by unit and period.
        """
        return self._long.copy()

    @property
    def data(self) -> pd.DataFrame:
        """The panel with the user's column names (a copy)."""
        src = self._long
        out = pd.DataFrame({self.unit: src["unit"], self.time: src["time"], self.outcome: src["outcome"],
                            self.cohort: src["cohort"]})
        for c in self.covariates:
            out[c] = src[c]
        if self.cluster and self.cluster not in out:
            out[self.cluster] = src["cluster"]
        return out

    @property
    def n_obs(self) -> int:
        return len(self._long)

    @property
    def n_units(self) -> int:
        if self._n_units is not None:
            return self._n_units
        return int(self._long["unit"].nunique())

    @property
    def n_periods(self) -> int:
        return len(self.periods)

    @property
    def is_balanced(self) -> bool:
        return self.n_obs == self.n_units * self.n_periods

    def cohort_sizes(self) -> pd.Series:
        """Number of units per cohort (first treated period as given; ``never`` for never treated)."""
        units = self._long.drop_duplicates("unit")
        key = units["cohort"].astype("object").where(units["cohort_period"] > 0, "never")
        return key.value_counts(sort=False).rename("units")

    def with_truth(self, truth: Any) -> Panel:
        """A copy of the panel that carries known true effects (for simulated data)."""
        return self._replace(truth=truth, meta=dict(self.meta))

    def __repr__(self) -> str:
        units = self._long.drop_duplicates("unit")
        n_tr = int((units["cohort_period"] > 0).sum())
        n_g = int(units.loc[units["cohort_period"] > 0, "cohort_period"].nunique())
        return (f"Panel({self.n_units} units × {self.n_periods} periods, {self.n_obs} rows, outcome "
                f"{self.outcome!r}, {n_tr} treated units in {n_g} cohorts"
                f"{', balanced' if self.is_balanced else ', unbalanced'}, {len(self.dropped)} rows dropped)")

    def _repr_html_(self) -> str:
        """Notebook display: the one-line description, the data window and the units per cohort."""
        import html

        sizes = self.cohort_sizes().rename_axis(self.cohort).reset_index()
        window = f"{self.periods[0]} to {self.periods[-1]}" if self.periods else "no periods"
        return (f"<div class='impactlab-panel'><p><b>{html.escape(repr(self))}</b></p>"
                f"<p>Data window: {html.escape(str(window))}</p>"
                f"{sizes.to_html(index=False, border=0)}</div>")
