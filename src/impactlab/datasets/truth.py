"""The known true effects of a simulated organisation.

:class:`Truth` holds the average treatment effects on the treated that the simulation *knows*, because it
draws both potential outcomes of every employee and month. Its ``overall`` is the estimand of
Callaway & Sant'Anna's "simple" aggregation, so an estimator's output can be compared with it directly.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

ATT_GT_COLUMNS = ("cohort", "time", "event_time", "att", "n_units", "n_cohort", "att_all")


@dataclass(frozen=True, repr=False, eq=False)
class Truth:
    """True average effects of the training on the trained, from simulated potential outcomes.

    Definitions follow the group-time average treatment effects of Callaway & Sant'Anna (2021,
    *Journal of Econometrics* 225(2), 200-230, eqs. 2.1 and 3.x) and the aggregations of their section 3
    as implemented in the R package ``did`` (``aggte``):

    * ``ATT(g, t)`` = mean of ``Y(1) - Y(0)`` over the employees of cohort ``g`` (month of first completed
      training) who are employed in month ``t``, for ``t >= g``;
    * ``overall`` ("simple") = average of the post-training cells ``ATT(g, t)``, each weighted by the size
      ``n_g`` of its cohort (weight ``n_g / sum of n_g over post cells``);
    * ``by_cohort`` ("group") = plain mean of ``ATT(g, t)`` over ``t >= g``;
    * ``by_event_time`` ("dynamic") = cohort-size-weighted mean of ``ATT(g, g + e)`` over the cohorts in
      which event time ``e`` is observed;
    * ``by_calendar`` ("calendar") = cohort-size-weighted mean of ``ATT(g, t)`` over cohorts ``g <= t``;
    * ``overall_observations`` = mean of ``Y(1) - Y(0)`` over every trained employee-month from the cohort
      month on (each cell ``ATT(g, t)`` weighted by its employed members ``n_units``): the estimand of
      :func:`impactlab.imputation` and of each programme of :func:`impactlab.portfolio`.

    With several programmes (``simulate_org(programs=...)``, ``org.truths``) effects add up: an employee's
    outcome is ``Y(0)`` (no programme at all) plus the effect of each programme completed so far, and the
    truth of programme ``p`` is built from ``p``'s own effect alone, ``Y(0) + effect of p`` standing for
    ``Y(1)``, with ``g`` the month the employee completed ``p`` (whatever else they completed, before or
    after).

    Attributes
    ----------
    overall : float
        True overall ATT (the estimand of ``callaway_santanna(...).aggregate("simple")``).
    by_cohort : Series
        Indexed by cohort (``pandas.Period``, monthly).
    by_event_time : Series
        Indexed by event time (int, months since first completion, ``e >= 0``).
    by_calendar : Series
        Indexed by calendar month (``pandas.Period``).
    att_gt : DataFrame
        One row per post-training cell: ``cohort``, ``time`` (Periods), ``event_time``, ``att``,
        ``n_units`` (cohort members employed in ``time``), ``n_cohort`` (cohort size) and ``att_all`` (the
        same mean over every cohort member, including those who had left, whose potential outcomes the
        simulation still knows).
    dip_periods : int
        Length of the Ashenfelter dip: ``Y(0)`` of trained employees drops in the ``dip_periods`` months
        just before their first completion and is back on trend from the completion month. Estimators
        comparing with those months are biased; Callaway-Sant'Anna with ``anticipation=dip_periods`` is not.
    overall_all : float
        ``overall`` computed with ``att_all``: the effect on everyone trained, leavers included. Equal to
        ``overall`` in expectation when attrition is unrelated to the effect (the default); with
        ``informative_attrition=True`` the two differ, which is the bias attrition causes.
    informative_attrition : bool
        Whether attrition after training depended on the employee's own gain.
    program, outcome : str
        The programme and the KPI column the truth is about.
    """

    overall: float
    by_cohort: pd.Series
    by_event_time: pd.Series
    by_calendar: pd.Series
    att_gt: pd.DataFrame
    dip_periods: int
    overall_all: float
    informative_attrition: bool
    program: str
    outcome: str

    # ------------------------------------------------------------------ construction
    @classmethod
    def from_cells(cls, att_gt: pd.DataFrame, *, dip_periods: int, informative_attrition: bool,
                   program: str, outcome: str) -> Truth:
        """Aggregate group-time cells into a :class:`Truth`.

        Parameters
        ----------
        att_gt : DataFrame
            Columns of :data:`ATT_GT_COLUMNS`; ``cohort`` and ``time`` monthly Periods, ``t >= g`` only.
            Cells with no employed cohort member (``n_units == 0``) carry no information and are left out.
        """
        cells = att_gt.loc[att_gt["n_units"] > 0, list(ATT_GT_COLUMNS)]
        cells = cells.sort_values(["cohort", "time"], kind="mergesort").reset_index(drop=True)
        w = cells["n_cohort"].to_numpy(dtype="float64")
        if len(cells) == 0 or w.sum() == 0:
            nan_series = pd.Series(dtype="float64")
            return cls(overall=float("nan"), by_cohort=nan_series, by_event_time=nan_series.copy(),
                       by_calendar=nan_series.copy(), att_gt=cells, dip_periods=int(dip_periods),
                       overall_all=float("nan"), informative_attrition=bool(informative_attrition),
                       program=program, outcome=outcome)
        overall = float(np.sum(w * cells["att"].to_numpy()) / w.sum())
        overall_all = float(np.sum(w * cells["att_all"].to_numpy()) / w.sum())
        by_cohort = cells.groupby("cohort", sort=True)["att"].mean()
        by_cohort.index = pd.PeriodIndex(by_cohort.index, freq="M", name="cohort")

        def weighted(key: str) -> pd.Series:
            num = (cells["att"] * cells["n_cohort"]).groupby(cells[key], sort=True).sum()
            den = cells["n_cohort"].groupby(cells[key], sort=True).sum()
            return (num / den).astype("float64")

        by_event = weighted("event_time")
        by_event.index = pd.Index(by_event.index.astype("int64"), name="event_time")
        by_cal = weighted("time")
        by_cal.index = pd.PeriodIndex(by_cal.index, freq="M", name="time")
        return cls(overall=overall, by_cohort=by_cohort.rename("att"), by_event_time=by_event.rename("att"),
                   by_calendar=by_cal.rename("att"), att_gt=cells, dip_periods=int(dip_periods),
                   overall_all=overall_all, informative_attrition=bool(informative_attrition),
                   program=program, outcome=outcome)

    @property
    def overall_observations(self) -> float:
        """Mean effect over the trained employee-months from the cohort month on (the ``att_gt`` cells
        weighted by ``n_units``): the estimand of the imputation estimator and of
        :func:`impactlab.portfolio`."""
        n = self.att_gt["n_units"].to_numpy(dtype="float64")
        if not len(n) or n.sum() == 0:
            return float("nan")
        return float(np.sum(n * self.att_gt["att"].to_numpy(dtype="float64")) / n.sum())

    # ------------------------------------------------------------------ serialisation
    def to_dict(self) -> dict[str, Any]:
        """A JSON-able dict (periods as ``"YYYY-MM"`` strings, event times as string keys)."""
        cells = self.att_gt
        return {
            "program": self.program,
            "outcome": self.outcome,
            "overall": self.overall,
            "overall_all": self.overall_all,
            "dip_periods": self.dip_periods,
            "anticipation": self.dip_periods,
            "informative_attrition": self.informative_attrition,
            "by_cohort": {str(k): float(v) for k, v in self.by_cohort.items()},
            "by_event_time": {str(int(k)): float(v) for k, v in self.by_event_time.items()},
            "by_calendar": {str(k): float(v) for k, v in self.by_calendar.items()},
            "att_gt": [
                {"cohort": str(g), "time": str(t), "event_time": int(e), "att": float(a), "n_units": int(n),
                 "n_cohort": int(m), "att_all": float(b)}
                for g, t, e, a, n, m, b in zip(cells["cohort"], cells["time"], cells["event_time"],
                                               cells["att"], cells["n_units"], cells["n_cohort"],
                                               cells["att_all"], strict=True)
            ],
            "definition": ("ATT(g,t) = mean of Y(1) - Y(0) over employees of cohort g (month of first "
                           "completion) employed in month t, t >= g; overall = cohort-size-weighted mean of "
                           "the post cells (Callaway-Sant'Anna 'simple'); unbiasedly estimated by "
                           f"Callaway-Sant'Anna with anticipation={self.dip_periods} (Ashenfelter dip)."),
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Truth:
        """Rebuild a :class:`Truth` from :meth:`to_dict` output (e.g. a ``truth.json`` file)."""
        try:
            records = list(data["att_gt"])
            att_gt = pd.DataFrame(records, columns=list(ATT_GT_COLUMNS))
            att_gt["cohort"] = pd.PeriodIndex(att_gt["cohort"].astype(str), freq="M")
            att_gt["time"] = pd.PeriodIndex(att_gt["time"].astype(str), freq="M")
            return cls.from_cells(att_gt, dip_periods=int(data["dip_periods"]),
                                  informative_attrition=bool(data.get("informative_attrition", False)),
                                  program=str(data.get("program", "")), outcome=str(data.get("outcome", "")))
        except (KeyError, TypeError, ValueError) as exc:
            raise ValueError(
                "This is not a truth record written by impactlab (Truth.to_dict / truth.json): "
                f"{exc!r}. Expected keys 'att_gt' (list of cells) and 'dip_periods'."
            ) from exc

    @classmethod
    def from_json(cls, path: str | Path) -> Truth:
        """Read a ``truth.json`` written by :meth:`Org.to_csv <impactlab.datasets.Org.to_csv>`."""
        return cls.from_dict(json.loads(Path(path).read_text(encoding="utf-8")))

    # ------------------------------------------------------------------ display
    def __repr__(self) -> str:
        return (f"Truth(overall={self.overall:.4f}, {len(self.by_cohort)} cohorts, "
                f"event times 0..{int(self.by_event_time.index.max()) if len(self.by_event_time) else 0}, "
                f"dip_periods={self.dip_periods}, outcome={self.outcome!r})")


def att_cells(effect: np.ndarray, effect_all: np.ndarray, employed: np.ndarray, cohort: np.ndarray,
              months: pd.PeriodIndex) -> pd.DataFrame:
    """Group-time cells of the true effect.

    Parameters
    ----------
    effect : ndarray (n_units, n_periods)
        ``Y(1) - Y(0)`` of every unit and month (0 before the cohort month and for the never treated).
    effect_all : ndarray (n_units, n_periods)
        The same, for every cohort member whether or not employed (what the gain would have been).
    employed : ndarray of bool (n_units, n_periods)
        Whether the unit has a KPI row (is employed the whole month).
    cohort : ndarray of int (n_units,)
        0-based month of first completion, ``-1`` for never treated.
    months : PeriodIndex
        The calendar months of the columns.
    """
    rows = []
    n_periods = effect.shape[1]
    for g in np.unique(cohort[cohort >= 0]):
        members = cohort == g
        n_g = int(members.sum())
        for t in range(int(g), n_periods):
            here = employed[members, t]
            vals = effect[members, t][here]
            rows.append((months[g], months[t], t - int(g), float(vals.mean()) if vals.size else float("nan"),
                         int(here.sum()), n_g, float(effect_all[members, t].mean())))
    cells = pd.DataFrame(rows, columns=list(ATT_GT_COLUMNS))
    for col in ("cohort", "time"):
        cells[col] = pd.PeriodIndex(cells[col], freq="M") if len(cells) else pd.PeriodIndex([], freq="M")
    return cells
