"""The naive and causal estimators fitted on one panel, side by side (:func:`compare`)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Literal

from impactlab.estimators.callaway_santanna import callaway_santanna
from impactlab.estimators.naive import naive_difference, pre_post
from impactlab.estimators.regression import regression, twfe
from impactlab.panel import Panel
from impactlab.results.compare import CompareResult

__all__ = ["compare"]


def compare(panel: Panel, covariates: Sequence[str] | None = None, *,
            control: Literal["never_treated", "not_yet_treated"] = "not_yet_treated",
            method: Literal["dr", "ipw", "reg"] = "dr", anticipation: int = 0,
            base_period: Literal["varying", "universal"] = "varying",
            truth: float | None = None) -> CompareResult:
    """Fit the naive and the causal estimators on one panel and put them side by side.

    Rows, in order: naive difference (trained vs never trained), before/after, regression on covariates with
    period effects, two-way fixed effects, and Callaway–Sant'Anna (simple aggregation; the headline).

    Parameters
    ----------
    panel : Panel
    covariates : sequence of str, optional
        Used by the regression, TWFE and Callaway–Sant'Anna.
    control, method, anticipation, base_period :
        Passed to :func:`impactlab.callaway_santanna`.
    truth : float, optional
        The true effect; taken from ``panel.truth.overall`` when the panel came from simulated data.

    Returns
    -------
    CompareResult
        A new result; the panel is not modified.
    """
    covs = list(covariates or [])
    cs = callaway_santanna(panel, control=control, method=method, covariates=covs or None,
                           anticipation=anticipation, base_period=base_period)
    results = {
        "naive_difference": naive_difference(panel),
        "pre_post": pre_post(panel),
        "regression": regression(panel, covs),
        "twfe": twfe(panel, covs),
        "callaway_santanna": cs.aggregate("simple"),
    }
    if truth is None and panel.truth is not None:
        truth = float(getattr(panel.truth, "overall", panel.truth))
    return CompareResult(results=results, truth=truth, outcome=panel.outcome,
                         spec={"covariates": covs, "control": control, "method": method,
                               "anticipation": anticipation, "base_period": base_period,
                               "data_window": f"{panel.periods[0]} to {panel.periods[-1]}"})
