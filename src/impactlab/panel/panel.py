"""The employee × period panel every estimator works on.

A :class:`Panel` is immutable. It keeps the user's column names for display and a normalised long frame
(:meth:`Panel.long`) with fixed column names for the estimators, so that no estimator has to know how the
user spelled things.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from impactlab.errors import Failure, PanelError

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
    increasing order of the values, and one row holding each distinct value; ``None`` for a wider range.

    A counting pass over the range replaces hashing and sorting (at 24 million rows ``pd.factorize(...,
    sort=True)`` costs seconds; this costs two scatters and a gather).
    """
    n = len(ints)
    if n == 0:
        return None
    lo, hi = int(ints.min()), int(ints.max())
    if hi - lo >= 4 * n + 1024:
        return None
    rel = ints - lo
    slot = np.full(hi - lo + 1, -1, dtype="int64")
    slot[rel] = np.arange(n, dtype="int64")  # a row holding each value (any of its rows will do)
    present = slot >= 0
    code_of = np.cumsum(present, dtype="int64")
    code_of -= 1
    return code_of[rel], slot[present]


def _digit_ids(values: pd.Series) -> np.ndarray | None:
    """String ids made of one fixed prefix and a fixed number of ASCII digits ('E0000123') as the integers
    of their digits, read by Arrow without Python objects; ``None`` for any other column (another dtype,
    missing values, ids of different lengths or prefixes). For such ids the order of the integers is the
    order of the strings."""
    dtype = values.dtype
    if not (pd.api.types.is_string_dtype(dtype) and getattr(dtype, "storage", None) == "pyarrow"):
        return None
    try:
        import pyarrow as pa
        import pyarrow.compute as pc

        arr = values.array.__arrow_array__()
        if len(arr) == 0 or arr.null_count or not pc.all(pc.string_is_ascii(arr)).as_py():
            return None
        lengths = pc.min_max(pc.binary_length(arr)).as_py()
        first = arr[0].as_py()
        prefix = first.rstrip("0123456789")
        width = len(first) - len(prefix)
        if lengths["min"] != lengths["max"] or not 1 <= width <= 18:
            return None
        if prefix and not pc.all(pc.starts_with(arr, prefix)).as_py():
            return None
        digits = pc.utf8_slice_codeunits(arr, len(prefix))
        if not pc.all(pc.ascii_is_decimal(digits)).as_py():
            return None
        return np.asarray(pc.cast(digits, pa.int64()).to_numpy(), dtype="int64")
    except (ImportError, AttributeError, TypeError, ValueError):  # pragma: no cover - other Arrow versions
        return None


def _unit_codes(values: pd.Series) -> tuple[np.ndarray, pd.Index]:
    """Integer codes of the unit ids in sorted order of the ids, and the sorted distinct ids, as
    :func:`_factorize_sorted` gives them (-1 for missing), computed without hashing when the ids are
    integers of a narrow range or fixed-width digit strings such as ``'E0000123'``."""
    if isinstance(values.dtype, np.dtype) and values.dtype.kind in "iu":
        ints: np.ndarray | None = values.to_numpy()
    else:
        ints = _digit_ids(values)
    dense = None if ints is None else _dense_codes(ints)
    if dense is None:
        codes, uniques = _factorize_sorted(values)
        return np.asarray(codes, dtype="int64"), pd.Index(uniques)
    codes, rows = dense
    return codes, pd.Index(values.array.take(rows), name=None)


def _copy_on_write() -> bool:
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
    if take is None and isinstance(values, pd.Series) and _copy_on_write():
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

    _long: pd.DataFrame
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
    #: number of units, when known at construction (saves hashing the unit column again)
    _n_units: int | None = field(default=None, repr=False)

    # ------------------------------------------------------------------ construction
    @classmethod
    def from_frame(
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
    ) -> Panel:
        """Build a panel from a tidy frame, one row per unit and period.

        Parameters
        ----------
        df : DataFrame
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
        return cls._build(df, unit=unit, time=time, outcome=outcome, cohort=cohort, covariates=covariates,
                          cluster=cluster, truth=truth)

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
    ) -> Panel:
        """:meth:`from_frame`, with optionally the unit codes the caller has already computed
        (``_unit_codes(df[unit])``, e.g. :func:`impactlab.build_panel` to map cohorts), so that 24 million
        ids are not read twice."""
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
            for idx in df.index[bad][:20]:
                failures.append(Failure(idx, outcome, df.at[idx, outcome], "the outcome must be numeric"))
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
                return cls(_long=long, unit=unit, time=time, outcome=outcome, cohort=cohort,
                           covariates=covariates, cluster=cluster, periods=tuple(periods_), truth=truth,
                           meta={}, _n_units=n_units)
        # Integer codes once: the duplicate and constant-cohort checks, the period positions and the sort
        # all work on them instead of on the (possibly object) values.
        if _unit_codes_given is not None:
            ucode, uniq_units = _unit_codes_given
        else:
            ucode, uniq_units = _unit_codes(df[unit])
        tcode, uniq_times = pd.factorize(df[time])
        if (ucode < 0).any():
            for idx in df.index[ucode < 0][:20]:
                failures.append(Failure(idx, unit, None, "the unit id is missing"))
        if (tcode < 0).any():
            for idx in df.index[tcode < 0][:20]:
                failures.append(Failure(idx, time, None, "the period is missing"))
        dup = _duplicated(ucode, tcode, len(uniq_units), len(uniq_times))
        if dup.any():
            for idx in df.index[dup][:20]:
                failures.append(Failure(idx, f"{unit}, {time}", (df.at[idx, unit], df.at[idx, time]),
                                        "each unit may appear once per period; aggregate duplicates first"))
        if failures:
            raise PanelError("Cannot build a panel:\n" + "\n".join(f"  - {f}" for f in failures))

        g_raw = df[cohort]
        never = g_raw.isna().to_numpy()
        if pd.api.types.is_numeric_dtype(g_raw):
            never = never | (g_raw == 0).to_numpy()
        g_kept = g_raw.where(~never) if never.any() else g_raw
        # A unit's cohort must be constant ("never" included): compare each row's code with one of its
        # unit's codes.
        gcode, g_uniq = pd.factorize(g_kept)
        per_unit = np.empty(len(uniq_units), dtype=gcode.dtype)
        per_unit[ucode] = gcode
        changing = gcode != per_unit[ucode]
        if changing.any():
            bad_codes = pd.unique(ucode[changing])[:10]
            bad_units = [uniq_units[c] for c in bad_codes]
            raise PanelError(
                f"The cohort column {cohort!r} changes within units {bad_units}; it must hold one value per "
                "unit (the period of first treatment, 0 or missing for never treated)."
            )

        keep = y.notna().to_numpy()
        dropped = _empty_dropped()
        rows = None
        if not keep.all():
            idx = df.index[~keep]
            dropped = pd.DataFrame({
                "unit": df.loc[idx, unit].to_numpy(),
                "time": df.loc[idx, time].to_numpy(),
                "reason": f"outcome {outcome!r} is missing",
                "source_row": idx.to_numpy(),
            })
            rows = np.flatnonzero(keep)
        if rows is not None and rows.size == 0:
            raise PanelError("The panel has no rows with an outcome; nothing to analyse.")

        # Periods in order, each row's position, and each cohort's first observed period on or after it.
        period_index = pd.Index(uniq_times.take(np.unique(tcode if rows is None else tcode[rows])))
        period_index = period_index.sort_values()
        periods = period_index.to_numpy()
        pos_of_code = np.zeros(len(uniq_times), dtype="int64")
        present = period_index.get_indexer(pd.Index(uniq_times))
        pos_of_code[present >= 0] = present[present >= 0] + 1
        g_pos = np.zeros(len(g_uniq) + 1, dtype="int64")  # last entry: code -1 (never treated)
        if len(g_uniq):
            found = period_index.searchsorted(pd.Index(g_uniq), side="left") + 1
            # after the last observed period: not treated within the data
            g_pos[:-1] = np.where(found > len(periods), 0, found)

        # Sort by unit, then period; skip the sort when the frame is already in that order.
        uc = ucode if rows is None else ucode[rows]
        period = pos_of_code[tcode if rows is None else tcode[rows]]
        key = uc * np.int64(len(periods)) + (period - 1)
        order = None if np.all(key[1:] > key[:-1]) else _sort_order(key, len(uniq_units) * len(periods))
        if rows is None:
            take = order
        else:
            take = rows if order is None else rows[order]

        def col(values: Any) -> Any:
            return _column(values, take)

        def sorted_(values: np.ndarray) -> np.ndarray:
            return values if order is None else values[order]

        y_values = col(y.astype("float64"))
        unit_values = col(df[unit])
        data: dict[str, Any] = {
            # .array keeps extension types (periods, strings) unboxed: no per-value Python objects
            "unit": unit_values,
            "time": col(df[time]),
            "period": sorted_(period),
            "outcome": y_values,
            "cohort": col(g_kept),
            "cohort_period": g_pos[gcode if take is None else gcode[take]],
            "cluster": col(df[cluster]) if cluster else unit_values,
        }
        for c in covariates:
            data[c] = col(df[c].astype("float64"))
        long = pd.DataFrame(data, copy=False)
        return cls(_long=long, unit=unit, time=time, outcome=outcome, cohort=cohort,
                   covariates=tuple(covariates), cluster=cluster, periods=tuple(periods),
                   dropped=dropped.reset_index(drop=True), truth=truth, meta={},
                   _n_units=len(uniq_units) if rows is None else None)

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
        return Panel(_long=self._long, unit=self.unit, time=self.time, outcome=self.outcome,
                     cohort=self.cohort, covariates=self.covariates, cluster=self.cluster,
                     periods=self.periods, dropped=self.dropped, truth=truth, meta=dict(self.meta))

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
