"""From an ATT to money, correctly: the total effect over the exposure actually observed.

``ATT x headcount x months`` by hand assumes every participant was trained for the whole horizon and that
the average effect applies to each of those months. The trained employee-periods actually observed are
fewer (people are trained at different times and some leave), and the effect differs by cohort and by
time since training. The total effect of the programme on the outcome is the exposure-weighted sum of
the group-time effects,

    T = sum over post-training cells (g, t) with t - g < horizon of  N(g, t) x ATT(g, t),

where ``N(g, t)`` is the number of trained employees of cohort ``g`` observed in period ``t``. With the
exposures taken as known, ``T`` is a linear combination of the ATT(g, t), so its influence function is the
same combination of theirs and ``se(T) = sqrt(sum_c (sum_{i in c} w' psi_i)^2) / n`` (clusters ``c``; units
when not clustered), the estimator of Callaway & Sant'Anna (2021, *J. Econometrics* 225(2), section 4).
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from impactlab.results.base import ReportedRows, _fmt, critical_value, frame_html, freeze_fields, normal_row


@dataclass(frozen=True, repr=False, eq=False)
class ExposureEffect(ReportedRows):
    """Total effect of a programme over the trained employee-periods observed, and its average.

    Built by :func:`exposure`; frozen (tables read-only). Pass it to :func:`impactlab.roi` as the effect
    (participants and periods then come from it). The headline (``estimate``) is the average effect per
    trained employee-period; ``tidy(level)`` has that row, the ``total`` and the total of each event time;
    ``.table`` is :attr:`by_event_time`.

    Attributes
    ----------
    total, total_std_error : float
        Total effect on the outcome summed over the trained employee-periods, and its standard error.
    employee_periods : float
        Trained employee-periods observed within the horizon.
    participants : int
        Trained employees with at least one such period.
    estimate, std_error : float
        Average effect per trained employee-period, ``total / employee_periods``, and its standard error.
    by_event_time : DataFrame
        ``event_time, employee_periods, total, std_error, conf_low, conf_high`` (the total of each event
        time).
    cells : DataFrame
        The cells used: ``cohort, time, event_time, estimate, exposure``.
    horizon : int or None
        Event times ``0..horizon-1`` counted (``None``: all observed post-training periods).
    label, outcome, source : str
    spec : mapping
    """

    total: float
    total_std_error: float
    employee_periods: float
    participants: int
    by_event_time: pd.DataFrame
    cells: pd.DataFrame
    horizon: int | None
    label: str = "total effect over the observed exposure"
    outcome: str = ""
    source: str = ""
    spec: Mapping[str, Any] = field(default_factory=dict)
    df: float | None = None

    def __post_init__(self) -> None:
        freeze_fields(self)  # read-only tables and arrays (no copy): the result stays as built

    @property
    def estimate(self) -> float:
        """Average effect per trained employee-period."""
        return self.total / self.employee_periods

    @property
    def std_error(self) -> float:
        """Standard error of :attr:`estimate`."""
        return self.total_std_error / self.employee_periods

    def conf_int(self, level: float = 0.95) -> tuple[float, float]:
        """Interval of the average effect per trained employee-period."""
        c = critical_value(level)
        return self.estimate - c * self.std_error, self.estimate + c * self.std_error

    def total_conf_int(self, level: float = 0.95) -> tuple[float, float]:
        """Interval of the total effect."""
        c = critical_value(level)
        return self.total - c * self.total_std_error, self.total + c * self.total_std_error

    @property
    def table(self) -> pd.DataFrame:
        """The total effect of each event time (:attr:`by_event_time`)."""
        return self.by_event_time

    def _rows(self, level: float) -> list[dict[str, Any]]:
        rows = [normal_row("per_employee_period", self.estimate, self.std_error, level,
                           exposure=self.employee_periods, event_time=None),
                normal_row("total", self.total, self.total_std_error, level, exposure=self.employee_periods,
                           event_time=None)]
        rows += [normal_row("total", r["total"], r["std_error"], level, exposure=r["employee_periods"],
                            event_time=int(r["event_time"])) for r in self.by_event_time.to_dict("records")]
        return rows

    def explain(self, level: float = 0.95) -> Any:
        """The average and total effect in plain language (an :class:`~impactlab.results.explain.
        Explanation`)."""
        from impactlab.results.explain import explain_exposure

        return explain_exposure(self, level)

    def summary(self, level: float = 0.95) -> str:
        lo, hi = self.total_conf_int(level)
        h = ("all observed post-training periods" if self.horizon is None
             else f"event times 0..{self.horizon - 1}")
        return "\n".join([
            f"Total effect on {self.outcome or 'the outcome'} over the exposure observed ({self.source})",
            f"  total {_fmt(self.total)} (SE {_fmt(self.total_std_error)}, {level:.0%} CI {_fmt(lo)} to "
            f"{_fmt(hi)})",
            f"  {self.employee_periods:,.0f} trained employee-periods of {self.participants:,} people ({h}); "
            f"per employee-period {_fmt(self.estimate)} (SE {_fmt(self.std_error)})",
        ])

    def _repr_html_(self) -> str:
        return frame_html(self.by_event_time, "Total effect over the observed exposure",
                          self.summary().splitlines()[1:])

    def __repr__(self) -> str:
        return (f"ExposureEffect(total={self.total:.6g}, total_std_error={self.total_std_error:.6g}, "
                f"employee_periods={self.employee_periods:.0f}, participants={self.participants})")


def _exposure_from_panel(panel: Any, cells: pd.DataFrame) -> tuple[np.ndarray, int]:
    long = panel.long()
    periods = list(panel.periods)
    trained = long[long["cohort_period"] > 0]
    counts = trained.groupby(["cohort_period", "period"]).size()
    g_pos = [periods.index(g) + 1 for g in cells["cohort"]]
    t_pos = [periods.index(t) + 1 for t in cells["time"]]
    w = np.array([float(counts.get((g, t), 0)) for g, t in zip(g_pos, t_pos, strict=True)])
    keys = set(zip(g_pos, t_pos, strict=True))
    idx = pd.MultiIndex.from_frame(trained[["cohort_period", "period"]])
    people = int(trained.loc[idx.isin(list(keys)), "unit"].nunique())
    return w, people


def exposure(result: Any, *, panel: Any = None, horizon: int | None = None) -> ExposureEffect:
    """Total effect of training over the trained employee-periods observed within the horizon.

    Parameters
    ----------
    result : CallawaySantAnnaResult
        From :func:`impactlab.callaway_santanna`: needs ``.att_gt`` (cohort, time, event_time, estimate,
        n_treated, post) and ``.influence`` (columns in ``att_gt`` row order).
    panel : Panel, optional
        The panel the result was fitted on. When given, the exposure of each cell is the number of trained
        employees of the cohort observed in that period in the panel (people who left count only while
        employed); otherwise it is the cell's ``n_treated`` (the units the estimator used).
    horizon : int, optional
        Count event times ``0 .. horizon - 1`` only (periods since training); ``None`` counts every
        observed post-training period.

    Returns
    -------
    ExposureEffect
        ``total`` and ``total_std_error``, ``estimate`` / ``std_error`` per trained employee-period,
        ``employee_periods``, ``participants``, ``by_event_time``.

    Raises
    ------
    TypeError
        ``result`` lacks ``att_gt`` or ``influence``.
    ValueError
        A bad ``horizon``, or no post-training cell within it.

    Notes
    -----
    The exposures are treated as fixed (they are observed counts), so the variance is that of a linear
    combination of the ATT(g, t) from their influence functions, clustered as the fit was. Cells whose
    ATT could not be estimated (NaN) are left out and listed in ``spec["skipped_cells"]``.

    The total adds up the effect at each time since training as it was observed, so any fading of the
    effect over those periods is already in it: :func:`impactlab.roi` refuses ``decay=`` with this
    effect, which would count the decline twice (discounting is allowed).

    Examples
    --------
    >>> import impactlab as il
    >>> org = il.datasets.simulate_org(n_employees=300, n_periods=12, seed=3)
    >>> p = il.build_panel(il.read_kpis(org.kpis), il.read_completions(org.completions),
    ...                    program=org.program, outcome=org.outcome)  # doctest: +SKIP
    """
    if not (hasattr(result, "att_gt") and hasattr(result, "influence")):
        raise TypeError("exposure() needs a callaway_santanna(...) result (with .att_gt and .influence). "
                        f"Got {type(result).__name__} instead.")
    if horizon is not None and (isinstance(horizon, bool) or not isinstance(horizon, (int, np.integer))
                                or horizon < 1):
        raise ValueError(f"The 'horizon' parameter must be None or an integer >= 1 (periods since training). "
                         f"Got {horizon!r} instead.")
    at = result.att_gt.reset_index(drop=True)
    psi = np.asarray(result.influence, dtype="float64")
    keep = at["post"].to_numpy(dtype=bool) & (at["event_time"].to_numpy() >= 0)
    if horizon is not None:
        keep &= at["event_time"].to_numpy() < horizon
    skipped = at.loc[keep & at["estimate"].isna(), ["cohort", "time"]]
    keep &= at["estimate"].notna().to_numpy()
    if not keep.any():
        raise ValueError("No post-training ATT(g, t) cell lies within the horizon: nothing to add up. "
                         "Use a longer horizon or a panel that runs past the first training cohort.")
    cells = at.loc[keep, ["cohort", "time", "event_time", "estimate", "n_treated"]].reset_index(drop=True)
    if panel is not None:
        w, people = _exposure_from_panel(panel, cells)
    else:
        w = cells["n_treated"].to_numpy(dtype="float64")
        firsts = cells.groupby("cohort")["n_treated"].max()
        people = int(firsts.sum())
    cells["exposure"] = w
    est = cells["estimate"].to_numpy(dtype="float64")
    total = float(w @ est)
    n = psi.shape[0]
    psi_total = np.nan_to_num(psi[:, keep]) @ w
    cluster = getattr(result, "_cluster", None)  # clustering of the fit, so the SE matches its ATT(g,t) SEs
    if cluster is not None:
        sums = np.zeros(int(np.max(cluster)) + 1)
        np.add.at(sums, cluster, psi_total)
    else:
        sums = psi_total
    se_total = float(np.sqrt(np.sum(sums**2)) / n)

    rows = []
    for e, part in cells.groupby("event_time", sort=True):
        sel = np.flatnonzero(keep)[part.index.to_numpy()]
        pe = np.nan_to_num(psi[:, sel]) @ part["exposure"].to_numpy()
        if cluster is not None:
            s = np.zeros(int(np.max(cluster)) + 1)
            np.add.at(s, cluster, pe)
            pe = s
        rows.append({"event_time": int(e), "employee_periods": float(part["exposure"].sum()),
                     "total": float(part["exposure"] @ part["estimate"]),
                     "std_error": float(np.sqrt(np.sum(pe**2)) / n)})
    by_e = pd.DataFrame(rows)
    c = critical_value(0.95)
    by_e["conf_low"] = by_e["total"] - c * by_e["std_error"]
    by_e["conf_high"] = by_e["total"] + c * by_e["std_error"]
    periods = float(w.sum())
    if periods <= 0 or not math.isfinite(periods):
        raise ValueError("No trained employee-period was observed within the horizon.")
    spec = {"horizon": horizon, "exposure_from": "panel" if panel is not None else "n_treated",
            "skipped_cells": [tuple(r) for r in skipped.itertuples(index=False)]}
    return ExposureEffect(total=total, total_std_error=se_total, employee_periods=periods,
                          participants=people, by_event_time=by_e, cells=cells.drop(columns="n_treated"),
                          horizon=None if horizon is None else int(horizon),
                          outcome=str(getattr(result, "outcome", "")),
                          source=str(getattr(result, "spec", {}).get("estimator", type(result).__name__)),
                          spec=spec)
