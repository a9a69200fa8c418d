"""ROI under doubt about the design: how large a violation of parallel trends before ROI turns negative?

The causal effect behind an ROI rests on parallel trends. :func:`impactlab.sensitivity` bounds the
effect when trends may differ by up to ``M`` (Rambachan & Roth 2023, *Review of Economic Studies* 90(5)):
relative magnitudes (``M̄`` times the largest pre-training move; confidence sets by HonestDiD's
conditional-least-favourable test, which counts the sampling error of that move) or smoothness (the slope
of the trend difference changes by at most ``M`` a period). ROI is a monotone function of the effect for
fixed value and costs, ``ROI % = (theta x k - cost) / cost x 100``, so the effect's bounds map onto ROI
bounds, and the breakdown of the ROI is the smallest ``M`` at which the lower ROI bound reaches 0, that is
at which the effect bound reaches the break-even effect. It is solved for by bisection.

The bounds are applied around the ROI's own effect: ``theta_roi + (bound - theta_sens)``, so that an ROI
built from the exposure-weighted effect keeps its point value and gets the width and shift of the bias
bounds of the target given (by default the simple ATT).
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from impactlab.errors import check_option
from impactlab.estimators.sensitivity import Restriction, robust_rows, sensitivity
from impactlab.results.base import ReportedRows, Row, _fmt, frame_html, freeze_fields

_WHAT = {"relative_magnitude": ("M̄", "post-training trend differences move up to {m} times as much as the "
                                      "largest pre-training move"),
         "smoothness": ("M", "the slope of the trend difference changes by up to {m} a period")}


@dataclass(frozen=True, repr=False, eq=False)
class RoiSensitivityResult(ReportedRows):
    """ROI bounds under violations of parallel trends. Built by :func:`roi_sensitivity`; frozen.

    The headline (``estimate``) is the ROI in percent under parallel trends, ``std_error`` its standard
    error from that of the bounded effect (value and costs fixed) and ``conf_int(level)`` its normal
    interval. ``tidy(level)`` adds one row per ``M`` with the robust ROI interval (the C-LF set of
    relative magnitudes and the FLCI of smoothness exist only at the ``level`` of the fit, other levels
    give NaN bounds there) and a ``breakdown`` row; the grid itself is ``.table``.

    Attributes
    ----------
    table : DataFrame
        One row per ``M``: ``M, effect_lower, effect_upper, roi_lower, roi_upper`` (robust confidence
        bounds), ``roi_id_lower, roi_id_upper`` (identified set, no sampling error).
    breakdown : float
        Smallest ``M`` at which the lower ROI bound (confidence) is <= 0; 0 when it is already under
        parallel trends, ``inf`` when no ``M`` makes it so.
    restriction : str
    roi_pct, break_even_effect : float
    level : float
    spec : mapping
    std_error : float
        Standard error of ``roi_pct`` under parallel trends (from the target's standard error).
    """

    table: pd.DataFrame
    breakdown: float
    restriction: str
    roi_pct: float
    break_even_effect: float
    level: float
    target: str
    spec: Mapping[str, Any] = field(default_factory=dict)
    std_error: float = float("nan")

    def __post_init__(self) -> None:
        freeze_fields(self)  # read-only tables and arrays (no copy): the result stays as built

    @property
    def estimate(self) -> float:
        """The headline: the ROI in percent under parallel trends."""
        return self.roi_pct

    def _rows(self, level: float) -> list[Row]:
        return robust_rows(self, "roi_pct", ("roi_lower", "roi_upper", "roi_id_lower", "roi_id_upper"), level)

    def explain(self, level: float = 0.95) -> Any:
        """The breakdown of the ROI in plain language (an :class:`~impactlab.results.explain.Explanation`)."""
        from impactlab.results.explain import explain_roi_sensitivity

        return explain_roi_sensitivity(self, level)

    def sentence(self) -> str:
        """The answer in one sentence."""
        sym, what = _WHAT[self.restriction]
        if self.breakdown == 0:
            return (f"Even with parallel trends, the {self.level:.0%} interval of the ROI includes a "
                    "loss: the design cannot rule out a negative return.")
        if math.isinf(self.breakdown):
            return (f"The ROI stays positive ({self.level:.0%} confidence) whatever the violation of "
                    f"parallel trends allowed by the {self.restriction.replace('_', ' ')} bounds.")
        m = f"{self.breakdown:.3g}"
        return (f"The ROI stays positive ({self.level:.0%} confidence) unless {what.format(m=m)} "
                f"({sym} = {m}, {self.restriction.replace('_', ' ')} bounds of Rambachan & Roth 2023).")

    def summary(self) -> str:
        return "\n".join([f"ROI under doubt about parallel trends ({self.target})", f"  {self.sentence()}",
                          f"  point ROI {self.roi_pct:.1f} %, break-even effect "
                          f"{_fmt(self.break_even_effect)}"])

    def _repr_html_(self) -> str:
        return frame_html(self.table, "ROI under doubt about parallel trends", [self.sentence()])

    def __repr__(self) -> str:
        return f"RoiSensitivityResult(restriction={self.restriction!r}, breakdown={self.breakdown:.4g})"


def _shifted(fit: Any, shift: float) -> Any:
    """The event-study result of ``fit`` with every post-training coefficient lowered by ``shift``."""
    dyn = fit.aggregate("dynamic") if hasattr(fit, "att_gt") and hasattr(fit, "aggregate") else fit
    el = dyn.elements.copy()
    post = el["event_time"].to_numpy() >= 0
    el.loc[post, "estimate"] = el.loc[post, "estimate"] - shift
    return dataclasses.replace(dyn, elements=el)


def roi_sensitivity(r: Any, fit: Any, *, restriction: Restriction = "relative_magnitude",
                    target: Any = "simple", grid: Sequence[float] | None = None, level: float | None = None,
                    **kwargs: Any) -> RoiSensitivityResult:
    """How large a violation of parallel trends it takes before the ROI falls below zero.

    Parameters
    ----------
    r : RoiResult
        From :func:`impactlab.roi`; its value per unit, participants, stream and point cost are kept.
    fit : CallawaySantAnnaResult or event-study result
        What :func:`impactlab.sensitivity` accepts (the fit behind ``r``'s effect), with reference period
        -1 (or -1 - anticipation for fits with anticipation).
    restriction : {"relative_magnitude", "smoothness"}
        ``smoothness`` bounds by the optimal fixed-length interval per ``M`` (milliseconds each).
    target : "simple", "average", "cumulative", int, mapping or ExposureEffect
        The effect bounded (see :func:`impactlab.sensitivity`); an
        :class:`~impactlab.roi.ExposureEffect` uses its event-time exposure shares as weights.
    grid : sequence of float, optional
        Values of ``M`` for the table (default: those of :func:`impactlab.sensitivity`).
    level : float, optional
        Confidence level (default: the ROI's).
    **kwargs
        Passed to :func:`impactlab.sensitivity` (``base_period``, ``n_pre``, ``horizon``).

    Returns
    -------
    RoiSensitivityResult
        ``breakdown``, ``sentence()``, ``table``; chart: :func:`impactlab.plot.roi_sensitivity`.

    Notes
    -----
    With weights ``l`` over the post event times, the ROI's lower bound reaches zero when the effect's
    interval reaches the break-even effect ``T`` (in the sensitivity's coordinates). Lowering every
    post-training coefficient by ``T / sum(l)`` moves ``l'beta`` by ``T`` and leaves the pre-period
    coefficients, hence the set of trend violations, unchanged; the breakdown value of that shifted event
    study (where its interval includes zero) is the ROI's breakdown, solved by
    :func:`impactlab.sensitivity` itself.
    """
    check_option("restriction", restriction, ("relative_magnitude", "smoothness"))
    if not (hasattr(r, "benefit_per_unit_effect") and hasattr(r, "break_even_effect")):
        raise TypeError(f"roi_sensitivity expects a RoiResult (from impactlab.roi) first. "
                        f"Got {type(r).__name__}.")
    level = float(r.level if level is None else level)
    if hasattr(target, "by_event_time") and hasattr(target, "employee_periods"):
        be = target.by_event_time
        target = {int(e): float(w) / float(target.employee_periods)
                  for e, w in zip(be["event_time"], be["employee_periods"], strict=True)}
    k = float(r.benefit_per_unit_effect)
    cost = float(r.cost)
    s = sensitivity(fit, restriction, grid=grid, target=target, level=level, **kwargs)
    offset = float(r.effect) - float(s.estimate)  # bounds are applied around the ROI's own effect
    t = s.table
    effect = {c: t[c].to_numpy(dtype="float64") + offset for c in ("lower", "upper", "id_lower", "id_upper")}
    roi_of = {c: (v * k - cost) / cost * 100 for c, v in effect.items()}
    table = pd.DataFrame({
        "M": t["M"].to_numpy(dtype="float64"),
        "effect_lower": effect["lower"], "effect_upper": effect["upper"],
        "roi_lower": np.minimum(roi_of["lower"], roi_of["upper"]),
        "roi_upper": np.maximum(roi_of["lower"], roi_of["upper"]),
        "roi_id_lower": np.minimum(roi_of["id_lower"], roi_of["id_upper"]),
        "roi_id_upper": np.maximum(roi_of["id_lower"], roi_of["id_upper"]),
    })
    if r.roi_pct <= 0:
        breakdown = 0.0
    else:
        weights = s.target_weights.to_numpy(dtype="float64")
        threshold = float(r.break_even_effect) - offset  # break-even in the sensitivity's coordinates
        shifted = _shifted(fit, threshold / weights.sum())
        w_map = {int(e): float(w) for e, w in s.target_weights.items()}
        breakdown = float(sensitivity(shifted, restriction, grid=[0.0], target=w_map, level=level,
                                      **{k_: v for k_, v in kwargs.items() if k_ != "horizon"}).breakdown)
    spec = {"restriction": restriction, "target": target if not isinstance(target, Mapping) else dict(target),
            "level": level, "max_m": float(t["M"].max()), **kwargs}
    return RoiSensitivityResult(table=table, breakdown=breakdown, restriction=restriction,
                                roi_pct=float(r.roi_pct), break_even_effect=float(r.break_even_effect),
                                level=level, target=s.target, spec=spec,
                                std_error=abs(k / cost * 100) * float(s.std_error))
