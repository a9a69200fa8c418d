"""The naive and causal estimators fitted on one panel, side by side (:func:`compare`)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any, Literal

from impactlab.estimators.callaway_santanna import callaway_santanna
from impactlab.estimators.naive import naive_difference, pre_post
from impactlab.estimators.regression import regression, twfe
from impactlab.panel import Panel
from impactlab.results.base import EffectResult
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
    return beside(panel, cs.aggregate("simple"), covs, truth=truth,
                  spec={"control": control, "method": method, "anticipation": anticipation,
                        "base_period": base_period})


def beside(panel: Panel, causal: EffectResult, covariates: Sequence[str] = (), *, truth: float | None = None,
           spec: Mapping[str, Any] | None = None) -> CompareResult:
    """The naive numbers of :func:`compare` (naive difference, before/after, regression, two-way fixed
    effects) fitted on ``panel``, with ``causal`` (already estimated) as the headline row."""
    covs = list(covariates)
    results = {
        "naive_difference": naive_difference(panel),
        "pre_post": pre_post(panel),
        "regression": regression(panel, covs),
        "twfe": twfe(panel, covs),
        causal.method: causal,
    }
    if truth is None and panel.truth is not None:
        truth = float(getattr(panel.truth, "overall", panel.truth))
    return CompareResult(results=results, truth=truth, causal_method=causal.method, outcome=panel.outcome,
                         spec={"covariates": covs, **(spec or {}),
                               "data_window": f"{panel.periods[0]} to {panel.periods[-1]}"})
