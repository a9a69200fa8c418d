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
        if df[unit].isna().any():
            for idx in df.index[df[unit].isna()][:20]:
                failures.append(Failure(idx, unit, None, "the unit id is missing"))
        if df[time].isna().any():
            for idx in df.index[df[time].isna()][:20]:
                failures.append(Failure(idx, time, None, "the period is missing"))
        dup = df.duplicated([unit, time], keep=False) & df[unit].notna() & df[time].notna()
        if dup.any():
            for idx in df.index[dup][:20]:
                failures.append(Failure(idx, f"{unit}, {time}", (df.at[idx, unit], df.at[idx, time]),
                                        "each unit may appear once per period; aggregate duplicates first"))
        if failures:
            raise PanelError("Cannot build a panel:\n" + "\n".join(f"  - {f}" for f in failures))

        g_raw = df[cohort]
        never = g_raw.isna()
        if pd.api.types.is_numeric_dtype(g_raw):
            never = never | (g_raw == 0)
        # A unit's cohort must be constant: count distinct values including "never".
        key = g_raw.where(~never, other=np.nan).astype("object").where(~never, "never")
        varying = key.groupby(df[unit], sort=False).nunique()
        if (varying > 1).any():
            bad_units = list(varying.index[varying > 1][:10])
            raise PanelError(
                f"The cohort column {cohort!r} changes within units {bad_units}; it must hold one value per "
                "unit (the period of first treatment, 0 or missing for never treated)."
            )

        keep = y.notna()
        dropped = _empty_dropped()
        if (~keep).any():
            idx = df.index[~keep]
            dropped = pd.DataFrame({
                "unit": df.loc[idx, unit].to_numpy(),
                "time": df.loc[idx, time].to_numpy(),
                "reason": f"outcome {outcome!r} is missing",
                "source_row": idx.to_numpy(),
            })

        sub = df.loc[keep]
        long = pd.DataFrame({
            # .array keeps extension types (periods, strings) unboxed: no per-value Python objects
            "unit": sub[unit].array,
            "time": sub[time].array,
            "outcome": y[keep].to_numpy(dtype="float64"),
            "cohort": sub[cohort].where(~never[keep]).array,
        })
        if cluster:
            long["cluster"] = sub[cluster].to_numpy()
        for c in covariates:
            long[c] = sub[c].to_numpy(dtype="float64")
        return cls._from_long(long, unit=unit, time=time, outcome=outcome, cohort=cohort,
                              covariates=covariates, cluster=cluster, dropped=dropped, truth=truth)

    @classmethod
    def _from_long(cls, long: pd.DataFrame, *, unit: str, time: str, outcome: str, cohort: str,
                   covariates: tuple[str, ...], cluster: str | None, dropped: pd.DataFrame,
                   truth: Any = None, meta: dict[str, Any] | None = None) -> Panel:
        """Finish a panel from a frame with columns unit, time, outcome, cohort (+ cluster, covariates)."""
        if long.empty:
            raise PanelError("The panel has no rows with an outcome; nothing to analyse.")
        period_index = pd.Index(pd.unique(long["time"])).sort_values()
        periods = period_index.to_numpy()
        long = long.copy()
        long["period"] = period_index.get_indexer(long["time"]) + 1
        g = long["cohort"]
        treated = g.notna().to_numpy()
        gp = np.zeros(len(long), dtype="int64")
        if treated.any():
            pos = period_index.searchsorted(pd.Index(g[treated].to_numpy()), side="left") + 1
            # after the last observed period: not treated within the data
            pos = np.where(pos > len(periods), 0, pos)
            gp[treated] = pos
        long["cohort_period"] = gp
        if "cluster" not in long:
            long["cluster"] = long["unit"]
        cols = [c for c in LONG_COLUMNS] + list(covariates)
        long = long[cols].sort_values(["unit", "period"], kind="mergesort").reset_index(drop=True)
        return cls(_long=long, unit=unit, time=time, outcome=outcome, cohort=cohort,
                   covariates=tuple(covariates), cluster=cluster, periods=tuple(periods),
                   dropped=dropped.reset_index(drop=True), truth=truth, meta=dict(meta or {}))

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
