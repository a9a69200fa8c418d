"""The imputation estimator's two computations agree: the units × periods grid (no covariates, units
nested in clusters) and the row-wise one (covariates, clusters that cut across units), on balanced and
unbalanced panels, with anticipation, clusters, employees trained from their first period and periods
without untreated observations."""

from __future__ import annotations

import importlib
import warnings

import numpy as np
import pandas as pd
import pytest

import impactlab as il
from impactlab.estimators._imputation_grid import grid_fit

imputation_module = importlib.import_module("impactlab.estimators.imputation")

#: Both computations solve the same normal equations, summed in another order: rounding only.
TOL = 1e-10


def _frame(seed: int, n: int = 80, T: int = 8, drop: float = 0.0, teams: int = 0, first: bool = False,
           no_never: bool = False) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    unit = np.repeat(np.arange(n), T)
    t = np.tile(np.arange(1, T + 1), n)
    g = rng.choice([0, 3, 5, 6], n)[unit]
    if first:
        g = np.where(unit < 3, 1, g)  # trained from the first period: no unit effect
    if no_never:
        g = np.where(g == 0, 6, g)  # periods 6.. have no untreated observation
    y = rng.normal(size=n)[unit] + 0.5 * t + np.where((g > 0) & (t >= g), 2.0 + (t - g), 0.0) \
        + rng.normal(size=n * T)
    df = pd.DataFrame({"id": unit + 100, "t": t, "y": y, "g": g, "team": (unit % max(teams, 1)).astype(str)})
    return df[rng.random(len(df)) >= drop] if drop else df


CASES = {
    "balanced": (dict(seed=1), {}, None),
    "anticipation": (dict(seed=2), {"anticipation": 1}, None),
    "unbalanced": (dict(seed=3, drop=0.25), {}, None),
    "unbalanced_anticipation": (dict(seed=4, drop=0.2), {"anticipation": 2}, None),
    "trained_first": (dict(seed=5, first=True, drop=0.3), {}, None),
    "teams": (dict(seed=7, teams=12), {}, "team"),
    "teams_unbalanced": (dict(seed=8, teams=5, drop=0.2), {"anticipation": 1}, "team"),
    "no_never_trained": (dict(seed=9, no_never=True, drop=0.1), {}, None),
    "wide": (dict(seed=12, n=300, T=10, drop=0.15), {"anticipation": 3}, None),
}


def _fit(panel: il.Panel, **kw):  # type: ignore[no-untyped-def]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return il.imputation(panel, **kw)


@pytest.mark.parametrize("case", list(CASES))
def test_grid_equals_rows(case: str, monkeypatch: pytest.MonkeyPatch) -> None:
    frame_kw, kw, cluster = CASES[case]
    panel = il.Panel.from_frame(_frame(**frame_kw), unit="id", time="t", outcome="y", cohort="g",
                                cluster=cluster)
    assert grid_fit(panel, kw.get("anticipation", 0)) is not None  # the grid is what imputation() uses
    grid = _fit(panel, **kw)
    monkeypatch.setattr(imputation_module, "grid_fit", lambda panel, a: None)
    rows = _fit(panel, **kw)
    assert grid.estimate == pytest.approx(rows.estimate, abs=TOL)
    assert grid.std_error == pytest.approx(rows.std_error, rel=TOL)
    for a, b in [(grid.elements, rows.elements), (grid.cells, rows.cells),
                 (grid.by_cohort.elements, rows.by_cohort.elements)]:
        pd.testing.assert_frame_equal(a, b, check_exact=False, rtol=TOL, atol=TOL)
    for a, b in [(grid.element_vcov, rows.element_vcov),
                 (grid.by_cohort.element_vcov, rows.by_cohort.element_vcov)]:
        np.testing.assert_allclose(a, b, rtol=1e-9, atol=1e-14)
    pd.testing.assert_frame_equal(grid.excluded, rows.excluded)
    assert (grid.n_units, grid.n_obs, grid.notes) == (rows.n_units, rows.n_obs, rows.notes)
    if rows.leads is None:
        assert grid.leads is None and grid.pretrend is None
    else:
        pd.testing.assert_frame_equal(grid.leads, rows.leads, check_exact=False, rtol=1e-9, atol=TOL)
        assert grid.pretrend.statistic == pytest.approx(rows.pretrend.statistic, rel=1e-9)
        assert grid.pretrend.p_value == pytest.approx(rows.pretrend.p_value, rel=1e-8, abs=1e-12)


def test_cases_cover_the_ledger_and_test_one() -> None:
    """The cases above reach what they are meant to: units and periods in the ledger, and Test 1."""
    def fit(name: str):  # type: ignore[no-untyped-def]
        frame_kw, kw, cluster = CASES[name]
        return _fit(il.Panel.from_frame(_frame(**frame_kw), unit="id", time="t", outcome="y", cohort="g",
                                        cluster=cluster), **kw)

    assert set(fit("trained_first").excluded["id"]) == {100, 101, 102}
    assert set(fit("no_never_trained").excluded["what"]) == {"period"}
    assert fit("teams").spec["cluster"] == "team"
    assert fit("unbalanced").pretrend is not None


def test_clusters_across_units_take_the_rows() -> None:
    df = _frame(13, teams=9)
    df["team"] = ((df["id"] + (df["t"] > 4)) % 9).astype(str)  # employees change team in period 5
    panel = il.Panel.from_frame(df, unit="id", time="t", outcome="y", cohort="g", cluster="team")
    assert grid_fit(panel, 0) is None
    assert np.isfinite(_fit(panel).std_error)


def test_leads_collinear_without_never_trained() -> None:
    """With every employee trained in the end and a one-period anticipation window, this panel's leads of
    Test 1 are collinear with the unit and period effects (smallest singular value of the lead block about
    1e-16 of the largest): no test, on either computation, rather than a rounding artefact (before, one
    computation reported F = 0.93 with lead standard errors of about 500,000)."""
    df = _frame(10, no_never=True, drop=0.1)
    panel = il.Panel.from_frame(df, unit="id", time="t", outcome="y", cohort="g")
    assert _fit(panel, anticipation=1).pretrend is None
    with_x = il.Panel.from_frame(df.assign(x=np.random.default_rng(0).normal(size=len(df))), unit="id",
                                 time="t", outcome="y", cohort="g", covariates=["x"])
    res = _fit(with_x, anticipation=1, covariates=["x"])
    assert res.pretrend is None and res.leads is None


def test_mostly_empty_grid_takes_the_rows() -> None:
    """Employees seen in 3 of 12 months: the grid would be three-quarters holes, so the rows are used."""
    df = _frame(14, n=120, T=12)
    rng = np.random.default_rng(1)
    start = rng.integers(1, 11, 120)[df["id"] - 100]
    df = df[(df["t"] >= start) & (df["t"] < start + 3)]
    panel = il.Panel.from_frame(df, unit="id", time="t", outcome="y", cohort="g")
    assert len(df) * 4 == 120 * 12
    assert grid_fit(panel, 0) is None
    assert np.isfinite(_fit(panel).estimate)
