"""The wild cluster bootstrap (WCR) of the imputation estimator's headline: its statistic is the
estimator's own, each bootstrap draw equals refitting the estimator on the bootstrap outcome, and with many
clusters the interval is the analytic one."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

import impactlab as il
from impactlab.estimators.imputation_wild import imputation_wild, wcr_engine
from impactlab.estimators.wild_bootstrap import draw_multipliers


def _panel(n_teams: int = 6, seed: int = 0, covariate: bool = False) -> il.Panel:
    """Staggered roll-out by team: cohorts 5 and 8 and never trained, heterogeneous effects that grow,
    team × period shocks, one employee in five missing a random period (unbalanced)."""
    rng = np.random.default_rng(seed)
    rows = []
    team_shock = rng.normal(scale=1.0, size=(n_teams, 13))
    for i in range(90):
        team = i % n_teams
        g = (0, 5, 8)[team % 3]
        level = rng.normal()
        skip = rng.integers(1, 13) if i % 5 == 0 else -1
        for t in range(1, 13):
            if t == skip:
                continue
            x = rng.normal()
            effect = (2.0 + 0.5 * (t - g) + rng.normal(scale=0.5)) if g and t >= g else 0.0
            y = (level + np.sin(t) + team_shock[team, t] + effect + rng.normal()
                 + (0.3 * x if covariate else 0.0))
            rows.append((i, t, y, g, f"team {team}", x))
    df = pd.DataFrame(rows, columns=["id", "t", "y", "g", "team", "x"])
    return il.Panel.from_frame(df, unit="id", time="t", outcome="y", cohort="g", cluster="team",
                               covariates=["x"] if covariate else None)


@pytest.mark.parametrize("anticipation", [0, 2])
@pytest.mark.parametrize("covariate", [False, True])
def test_the_statistic_is_the_imputation_estimate_and_its_standard_error(anticipation, covariate) -> None:
    panel = _panel(covariate=covariate)
    covs = ["x"] if covariate else []
    res = il.imputation(panel, anticipation=anticipation, covariates=covs or None)
    eng, g = wcr_engine(panel, anticipation, covs, n_draws=99, seed=1)
    assert g == 6
    assert eng.beta == pytest.approx(res.estimate, rel=1e-10)
    assert eng.se == pytest.approx(res.std_error, rel=1e-10)


def _restricted(panel: il.Panel, anticipation: int, r: float, null: str
                ) -> tuple[pd.DataFrame, np.ndarray, np.ndarray]:
    """The rows the headline uses (untreated, trained from training on), and the fitted values and residuals
    of unit and period effects plus an effect r on the trained rows (``"homogeneous"``), or plus free
    cohort × event-time effects whose average over the trained rows is r (``"cells"``, by least squares
    with the constraint as a Lagrange row), with dummies."""
    long = panel.long()
    g, t = long["cohort_period"].to_numpy(), long["period"].to_numpy()
    trained = (g > 0) & (t >= g)
    use = (g <= 0) | (t < g - anticipation) | trained
    rows = long[use].reset_index(drop=True)
    d = trained[use].astype(float)
    A = np.column_stack([pd.get_dummies(rows["unit"]).to_numpy(float),
                         pd.get_dummies(rows["period"]).to_numpy(float)[:, 1:]])
    y = rows["outcome"].to_numpy()
    if null == "homogeneous":
        coef = np.linalg.lstsq(A, y - r * d, rcond=None)[0]
        fitted = A @ coef + r * d
        return rows, fitted, y - fitted
    cells = pd.get_dummies(rows["cohort_period"].astype(str) + ":" + (rows["period"] - rows["cohort_period"])
                           .astype(str)).to_numpy(float) * d[:, None]
    cells = cells[:, cells.sum(axis=0) > 0]
    B = np.hstack([A, cells])
    c = np.concatenate([np.zeros(A.shape[1]), cells.sum(axis=0) / d.sum()])   # the average effect
    kkt = np.block([[B.T @ B, c[:, None]], [c[None, :], np.zeros((1, 1))]])
    coef = np.linalg.lstsq(kkt, np.concatenate([B.T @ y, [r]]), rcond=None)[0][:-1]
    fitted = B @ coef
    return rows, fitted, y - fitted


@pytest.mark.parametrize("null", ["homogeneous", "cells"])
def test_each_draw_is_the_estimator_refitted_on_the_bootstrap_outcome(null) -> None:
    """Brute force: Y* = fitted(r) + v_team · residual(r) from the restricted fit by dummies; imputation()
    on Y* gives (estimate* - r) / SE*, which must equal the engine's t* for the same multipliers."""
    panel, a, r, seed = _panel(seed=3), 1, 1.5, 11
    eng, g = wcr_engine(panel, a, [], n_draws=99, seed=seed, null=null)
    V, _ = draw_multipliers("webb", 99, g, seed)
    rows, fitted, resid = _restricted(panel, a, r, null)
    codes, _ = pd.factorize(rows["cluster"])
    t_star = eng.t_star(r)
    for k in range(4):
        star = rows.assign(y=fitted + V[k, codes] * resid)
        res = il.imputation(il.Panel.from_frame(star, unit="unit", time="period", outcome="y",
                                                cohort="cohort_period", cluster="cluster"), anticipation=a)
        assert t_star[k] == pytest.approx((res.estimate - r) / res.std_error, rel=1e-8)


def test_with_many_clusters_the_interval_is_the_analytic_one() -> None:
    panel = _panel(n_teams=90, seed=5)            # every employee its own cluster
    res = il.imputation(panel)
    out = imputation_wild(panel, res, n_draws=1999, seed=0)
    lo, hi = out.conf_int()
    alo, ahi = res.conf_int()
    assert lo == pytest.approx(alo, abs=0.1 * res.std_error)
    assert hi == pytest.approx(ahi, abs=0.1 * res.std_error)


def test_the_result_is_seeded_and_reports_the_bootstrap() -> None:
    panel = _panel()
    res = il.imputation(panel)
    a, b = imputation_wild(panel, res, seed=4), imputation_wild(panel, res, seed=4)
    assert a.conf_int() == b.conf_int() and a.conf_int(0.9) != a.conf_int()
    assert imputation_wild(panel, res, seed=5).conf_int() != a.conf_int()
    tidy = a.tidy()
    assert (tidy.loc[0, "conf_low"], tidy.loc[0, "conf_high"]) == a.conf_int()
    assert tidy.loc[0, "p_value"] == a.p_value and 0 <= a.p_value <= 1
    assert tidy.loc[1:, "conf_low"].tolist() == res.tidy().loc[1:, "conf_low"].tolist()  # elements analytic
    assert a.estimate == res.estimate and a.std_error == res.std_error and a.n_clusters == 6
    assert "wild cluster bootstrap" in a.notes[-1] and a.spec["seed"] == 4
    lo, hi = a.conf_int()
    assert lo < a.estimate < hi
