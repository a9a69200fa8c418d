"""TWFE on a balanced panel: the reshape within transformation against alternating projections."""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
import pytest

import impactlab as il
from impactlab.estimators.inference import balanced_units, demean, ols


def _frame(n=120, T=6, seed=1):
    rng = np.random.default_rng(seed)
    g = rng.choice([0, 3, 5], size=n)
    t = np.arange(1, T + 1)
    d = (g[:, None] > 0) & (t[None, :] >= g[:, None])
    x = rng.normal(size=(n, T))
    y = 5 + rng.normal(size=n)[:, None] + 0.4 * t + 1.5 * d + 0.7 * x + rng.normal(size=(n, T))
    team = rng.integers(0, 25, size=n)
    return pd.DataFrame({"id": np.repeat(np.arange(n), T), "t": np.tile(t, n), "g": np.repeat(g, T),
                         "y": y.ravel(), "x": x.ravel(), "team": np.repeat(team, T),
                         "shift": rng.integers(0, 30, size=n * T)})


def _reference(panel, covs, vcov):
    """The alternating-projections route (general, unbalanced-capable) on the same panel."""
    long = panel.long()
    d = ((long["cohort_period"] > 0) & (long["period"] >= long["cohort_period"])).to_numpy(float)
    raw = np.column_stack([long["outcome"], d, *(long[c] for c in covs)])
    Z = demean(raw, [long["unit"].to_numpy(), long["period"].to_numpy()])
    nested = long.groupby("unit")["cluster"].nunique().max() == 1
    n_u, T = panel.n_units, panel.n_periods
    absorbed = (T + (0 if nested else n_u - 1)) if vcov == "cluster" else n_u + T - 1
    lev = np.full(len(long), 1 / T + 1 / n_u - 1 / (n_u * T)) if vcov in ("hc2", "hc3") else None
    fit = ols(Z[:, 1:], Z[:, 0], names=["trained", *covs], vcov=vcov,
              clusters=long["cluster"].to_numpy() if vcov == "cluster" else None, absorbed=absorbed,
              absorbed_leverage=lev)
    return fit.params[0], np.sqrt(fit.vcov[0, 0])


@pytest.mark.parametrize("cluster", [None, "team", "shift"])
@pytest.mark.parametrize("vcov", ["cluster", "hc1", "hc3", "iid"])
def test_balanced_fast_path_matches_alternating_projections(cluster, vcov):
    df = _frame().sample(frac=1, random_state=2)
    panel = il.Panel.from_frame(df, unit="id", time="t", outcome="y", cohort="g", covariates=["x"],
                                cluster=cluster)
    assert balanced_units(panel._long, panel.n_periods) == 120
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        res = il.twfe(panel, covariates=["x"], vcov=vcov)
    est, se = _reference(panel, ["x"], vcov)
    assert res.estimate == pytest.approx(est, rel=1e-10)
    assert res.std_error == pytest.approx(se, rel=1e-10)
    # "shift" changes within units: clusters not nested, so unit effects count in the small-sample factor
    assert res.df == (120 * 6 - 1 - 121 - 6 + 1 if vcov in ("hc1", "hc3", "iid") else
                      (25 if cluster == "team" else 30 if cluster == "shift" else 120) - 1)


def test_unbalanced_panels_take_alternating_projections():
    df = _frame()
    df = df.drop(index=[3, 40, 41])
    panel = il.Panel.from_frame(df, unit="id", time="t", outcome="y", cohort="g")
    assert balanced_units(panel._long, panel.n_periods) is None
    res = il.twfe(panel)
    est, se = _reference(panel, [], "cluster")
    assert res.estimate == pytest.approx(est, rel=1e-10) and res.std_error == pytest.approx(se, rel=1e-10)


def test_grid_check_needs_distinct_neighbouring_units():
    long = pd.DataFrame({"unit": [1, 1, 1, 1], "period": [1, 2, 1, 2]})
    assert balanced_units(long, 2) is None
    assert balanced_units(long.assign(unit=[1, 1, 2, 2]), 2) == 2
    assert balanced_units(long.assign(unit=[1, 2, 2, 2]), 2) is None
    assert balanced_units(long.iloc[:3], 2) is None
