"""Regression estimators: OLS with covariates, and two-way fixed effects.

``regression`` is "selection on observables": it compares trained and untrained unit-periods after
adjusting for covariates (and common period effects); it is causal only if the covariates capture every
reason people enrolled. ``twfe`` adds unit fixed effects (the classic DiD regression); with staggered
roll-outs and effects that change over time its coefficient mixes comparisons with negative weights
(Goodman-Bacon 2021, J. Econometrics 225(2); de Chaisemartin & D'Haultfœuille 2020, AER 110(9)) — the
reason :func:`impactlab.callaway_santanna` exists.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd

from impactlab.errors import EstimationError, check_option
from impactlab.estimators._common import (
    check_panel,
    need_both_groups,
    period_freq,
    resolve_covariates,
    treated_now,
)
from impactlab.estimators.inference import (
    LEVERAGE_VCOV,
    VCOV_OPTIONS,
    balanced_units,
    demean,
    design_warnings,
    ols,
)
from impactlab.panel import Panel
from impactlab.results.base import EffectResult

#: Every accepted ``vcov``: the analytic ones and the wild cluster bootstrap.
REGRESSION_VCOV = (*VCOV_OPTIONS, "wild")


def _clusters(long, vcov: str):  # type: ignore[no-untyped-def]
    return long["cluster"].to_numpy() if vcov == "cluster" else None


def _wild(panel: Panel, estimator: str, covariates: Sequence[str] | None, wild: dict[str, Any] | None,
          **extra: Any) -> EffectResult:
    from impactlab.estimators.wild_bootstrap import wild_bootstrap

    opts = dict(wild or {})
    return wild_bootstrap(panel, estimator, covariates, **opts, **extra)  # type: ignore[arg-type]


def regression(panel: Panel, covariates: Sequence[str] | None = None, *, vcov: str = "cluster",
               time_effects: bool = True, wild: dict[str, Any] | None = None) -> EffectResult:
    """OLS of the outcome on a trained-now indicator, covariates and (by default) period effects.

    Parameters
    ----------
    panel : Panel
    covariates : sequence of str, optional
        Panel covariates to adjust for.
    vcov : {"cluster", "robust", "iid", "hc0", "hc1", "hc2", "hc3", "wild"}
        Cluster-robust (CR1, by the panel's cluster, the unit by default), heteroskedasticity-robust
        (``robust`` = HC1; HC0, HC2, HC3), classical, or the wild cluster bootstrap (see
        :func:`impactlab.wild_bootstrap`; its p-value and interval come from the bootstrap).
    time_effects : bool
        Include one dummy per period (absorbed), so common seasonality is not credited to training.
    wild : dict, optional
        Options of the wild cluster bootstrap when ``vcov="wild"``: ``n_draws``, ``multiplier``, ``seed``,
        ``null``.

    Returns
    -------
    EffectResult
        The coefficient of the indicator; a new result, the panel is not modified.
    """
    panel = check_panel(panel, "regression")
    check_option("vcov", vcov, REGRESSION_VCOV)
    if vcov == "wild":
        return _wild(panel, "regression", covariates, wild, time_effects=time_effects)
    covs = resolve_covariates(panel, covariates)
    long = panel.long()
    d = treated_now(long)
    need_both_groups(d, "regression")
    names = ["trained", *covs]
    X = np.column_stack([d, *(long[c].to_numpy(dtype="float64") for c in covs)])
    y = long["outcome"].to_numpy()
    if time_effects:
        Z = demean(np.column_stack([y, X]), [long["period"].to_numpy()])
        yz, Xz = Z[:, 0], Z[:, 1:]
        absorbed = panel.n_periods
        per = long["period"].to_numpy()
        fe_leverage = 1.0 / np.bincount(per)[per]
    else:
        yz, Xz = y, np.column_stack([np.ones(len(y)), X])
        names = ["const", *names]
        absorbed = 0
        fe_leverage = None
    if vcov == "cluster":
        design_warnings(long, "regression", clustered=True, cohorts=False, stacklevel=3)
    fit = ols(Xz, yz, names=names, vcov=vcov, clusters=_clusters(long, vcov), absorbed=absorbed,
              absorbed_leverage=fe_leverage)
    j = names.index("trained")
    return EffectResult(
        estimate=float(fit.params[j]), std_error=float(np.sqrt(fit.vcov[j, j])), term="trained",
        method="regression", label="Regression on covariates" if covs else "Regression (period effects)",
        outcome=panel.outcome, n_obs=fit.n_obs, n_units=panel.n_units, df=fit.df,
        spec={"estimator": "regression", "covariates": covs, "vcov": vcov, "time_effects": time_effects,
              "freq": period_freq(panel)},
        notes=("Causal only if the covariates explain who enrolled (selection on observables).",),
    )


def twfe(panel: Panel, covariates: Sequence[str] | None = None, *, vcov: str = "cluster",
         wild: dict[str, Any] | None = None) -> EffectResult:
    """Two-way fixed-effects DiD regression: outcome on a trained-now indicator, unit and period effects.

    Fixed effects are absorbed by alternating projections (exact in one sweep for balanced panels), so no
    unit-dummy matrix is built. Standard errors (``vcov``): ``"cluster"``, CR1 by the panel's cluster (unit
    effects, nested in the clusters, do not count against the degrees of freedom); ``"robust"`` (= HC1),
    ``"hc0"``, ``"hc2"``, ``"hc3"`` (HC2/HC3 need a balanced panel, where the leverage of the two-way effects
    is ``1/T + 1/N − 1/(NT)``); ``"iid"``; or ``"wild"``, the wild cluster bootstrap with the null imposed
    (:func:`impactlab.wild_bootstrap`, options through
    ``wild={"n_draws":, "multiplier":, "seed":, "null":}``), advisable with fewer than 30 clusters. With
    ``"cluster"`` and fewer than 30 clusters a :class:`~impactlab.errors.StatisticalWarning` says so.

    Returns
    -------
    EffectResult
        The static TWFE coefficient. With staggered adoption and effects that change with time since
        training this is a weighted mix of comparisons, some with negative weights (Goodman-Bacon 2021).
    """
    panel = check_panel(panel, "twfe")
    check_option("vcov", vcov, REGRESSION_VCOV)
    if vcov == "wild":
        return _wild(panel, "twfe", covariates, wild)
    covs = resolve_covariates(panel, covariates)
    long = panel._long  # read only: no copy of the long frame
    d = treated_now(long)
    need_both_groups(d, "twfe")
    names = ["trained", *covs]
    raw = np.column_stack([long["outcome"].to_numpy(), d, *(long[c].to_numpy(dtype="float64") for c in covs)])
    n_periods = panel.n_periods
    grid = balanced_units(long, n_periods)
    codes = None
    if grid is not None:
        # balanced: one sweep of unit then period means on the units × periods reshape is the exact
        # within transformation (Wooldridge 2010, §10.5), no grouping of labels
        n_units = grid
        Z = raw.reshape(n_units, n_periods, -1)
        Z = Z - Z.mean(axis=1, keepdims=True)
        Z -= Z.mean(axis=0, keepdims=True)
        Z = Z.reshape(len(raw), -1)
        del raw
        if vcov == "cluster":
            if panel.cluster is None:
                codes, nested = np.repeat(np.arange(n_units), n_periods), True
            else:
                codes = pd.factorize(long["cluster"])[0]
                by_unit = codes.reshape(n_units, n_periods)
                nested = bool((by_unit == by_unit[:, :1]).all())
    else:
        Z = demean(raw, [long["unit"].to_numpy(), long["period"].to_numpy()])
        n_units = panel.n_units
        if vcov == "cluster":
            nested = long.groupby("unit")["cluster"].nunique().max() == 1
    if vcov == "cluster":
        # unit effects nested in the clusters count as one parameter (the absorbed constant), as in
        # fixest's fixef.K="nested" and reghdfe; the period effects add T - 1
        absorbed = n_periods + (0 if nested else n_units - 1)
    else:
        absorbed = n_units + n_periods - 1
    fe_leverage = None
    if vcov in LEVERAGE_VCOV:
        if not panel.is_balanced:
            raise EstimationError(
                f"twfe(vcov={vcov!r}) needs a balanced panel (the leverage of two-way fixed effects has no "
                "closed form otherwise); this one is unbalanced. Use vcov='hc1' or 'cluster'.")
        fe_leverage = np.full(len(long), 1 / n_periods + 1 / n_units - 1 / (n_units * n_periods))
    if vcov == "cluster":
        # the cluster count is a per-unit matter when units are nested: one row per unit suffices
        rows = long.iloc[::n_periods] if grid is not None and nested else long
        design_warnings(rows, "twfe", clustered=True, cohorts=False, stacklevel=3)
    fit = ols(Z[:, 1:], Z[:, 0], names=names, vcov=vcov, absorbed=absorbed, absorbed_leverage=fe_leverage,
              **({"cluster_codes": codes} if codes is not None else {"clusters": _clusters(long, vcov)}))
    notes = [("Biased when training is rolled out in waves and its effect changes over time "
             "(Goodman-Bacon 2021); compare with Callaway–Sant'Anna.")]
    return EffectResult(
        estimate=float(fit.params[0]), std_error=float(np.sqrt(fit.vcov[0, 0])), term="trained",
        method="twfe", label="Two-way fixed effects", outcome=panel.outcome,
        n_obs=fit.n_obs, n_units=n_units, df=fit.df,
        spec={"estimator": "twfe", "covariates": covs, "vcov": vcov, "freq": period_freq(panel)},
        notes=tuple(notes),
    )
