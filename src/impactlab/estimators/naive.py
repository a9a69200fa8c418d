"""The comparisons people usually report, kept so they can be shown beside the causal estimate.

Neither is causal. ``naive_difference`` is inflated by who chooses to enrol (self-selection);
``pre_post`` by anything else that changed over time and by regression to the mean after a pre-training
dip (Ashenfelter 1978, "Estimating the Effect of Training Programs on Earnings", REStat 60(1)).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from impactlab.errors import EstimationError
from impactlab.estimators._common import check_panel, period_freq, treated_now
from impactlab.estimators.inference import ols
from impactlab.panel import Panel
from impactlab.results.base import EffectResult


def naive_difference(panel: Panel) -> EffectResult:
    """Mean outcome of trained employees after training minus that of never-trained employees.

    The "people who took the course sold 23 % more" number: the difference in means between
    unit-periods on or after training (trained units) and all unit-periods of never-trained units.
    Not-yet-trained periods of later-trained units are left out of both groups.
    The standard error is cluster-robust by the panel's cluster (the unit by default).

    Returns
    -------
    EffectResult
        A new result; the panel is not modified. ``term`` is ``"trained − never trained"``.
    """
    panel = check_panel(panel, "naive_difference")
    long = panel.long()
    d = treated_now(long)
    never = long["cohort_period"].to_numpy() == 0
    keep = (d == 1) | never
    if d.sum() == 0 or never.sum() == 0:
        raise EstimationError("naive_difference needs both trained unit-periods and never-trained units.")
    sub = long.loc[keep]
    X = np.column_stack([np.ones(len(sub)), d[keep]])
    fit = ols(X, sub["outcome"].to_numpy(), names=["const", "trained"], vcov="cluster",
              clusters=sub["cluster"].to_numpy())
    excluded = pd.DataFrame({"what": "unit-periods", "id": ["not yet trained"],
                             "reason": [(f"{int((~keep).sum())} pre-training rows of later-trained units are "
                                        "in neither group")]}) if (~keep).any() else None
    return EffectResult(
        estimate=float(fit.params[1]), std_error=float(np.sqrt(fit.vcov[1, 1])),
        term="trained − never trained", method="naive_difference",
        label="Naive: trained vs never trained", outcome=panel.outcome,
        n_obs=int(keep.sum()), n_units=int(sub["unit"].nunique()), df=fit.df,
        **({"excluded": excluded} if excluded is not None else {}),
        spec={"estimator": "naive_difference", "vcov": "cluster", "cluster": panel.cluster or panel.unit,
              "freq": period_freq(panel)},
        notes=("Not causal: trained and untrained employees differ before any training (self-selection).",),
    )


def pre_post(panel: Panel) -> EffectResult:
    """Average change of trained employees from before to after training.

    For each trained unit with periods on both sides of its first training period: mean outcome on or after
    it minus mean outcome before it; the estimate is the average over units and its standard error the
    standard deviation over units divided by the square root of their number (clustering by unit).

    Not causal: it attributes every change over time (trend, seasonality, regression to the mean after a
    pre-training dip) to the training.
    """
    panel = check_panel(panel, "pre_post")
    long = panel.long()
    gp = long["cohort_period"].to_numpy()
    tr = long.loc[gp > 0]
    post = (tr["period"] >= tr["cohort_period"]).to_numpy()
    means = (tr.assign(post=post).groupby(["unit", "post"], sort=False)["outcome"].mean().unstack("post"))
    both = means.dropna()
    if len(both) < 2:
        raise EstimationError("pre_post needs at least two trained units observed both before and after "
                              "training.")
    diff = (both[True] - both[False]).to_numpy()
    se = float(diff.std(ddof=1) / np.sqrt(len(diff)))
    lacking = means.index[means.isna().any(axis=1)]
    excluded = pd.DataFrame({"what": "unit", "id": list(lacking),
                             "reason": "trained unit not observed both before and after training"})
    return EffectResult(
        estimate=float(diff.mean()), std_error=se, term="after − before", method="pre_post",
        label="Naive: before vs after training", outcome=panel.outcome,
        n_obs=int(tr["unit"].isin(both.index).sum()), n_units=len(both), df=float(len(diff) - 1),
        excluded=excluded,
        spec={"estimator": "pre_post", "freq": period_freq(panel)},
        notes=("Not causal: any change over time (trend, season, recovery from a dip) is credited to "
               "training.",),
    )
