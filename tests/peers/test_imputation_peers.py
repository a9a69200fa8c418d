"""The imputation estimator against diff-diff's ``ImputationDiD`` (Borusyak, Jaravel & Spiess 2024).

R ``did``'s mpdta (500 counties, 2003-2007, cohorts 2004/2006/2007 and never treated): overall ATT, event-time
and cohort effects with their conservative standard errors (Theorem 3), and Test 1's joint F. Then an
unbalanced panel with a time-varying covariate and team clusters, the case impactlab's users have.
diff-diff 3.13 reproduces R ``didimputation`` on mpdta; its overall ATT with ``anticipation > 0`` also
averages the anticipation window, impactlab's headline does not (so only event times are compared there).
"""

from __future__ import annotations

import warnings
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import impactlab as il

dd = pytest.importorskip("diff_diff")

#: Both sides solve the same least squares exactly (normal equations, sparse LU in diff-diff, Cholesky of
#: the period block here): they agree to rounding, far inside 1e-8.
TOL = 1e-8

MPDTA = Path(__file__).resolve().parents[1] / "oracle" / "data" / "mpdta.csv"


def _diff_diff(df: pd.DataFrame, anticipation: int = 0, cluster: str | None = None, **cols: str) -> object:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        est = dd.ImputationDiD(anticipation=anticipation, cluster=cluster)
        return est.fit(df, **cols)


@pytest.fixture(scope="module")
def mpdta() -> pd.DataFrame:
    return pd.read_csv(MPDTA)


@pytest.mark.parametrize("anticipation", [0, 1])
def test_mpdta_equals_diff_diff(mpdta, anticipation) -> None:
    panel = il.Panel.from_frame(mpdta, unit="countyreal", time="year", outcome="lemp", cohort="first.treat")
    res = il.imputation(panel, anticipation=anticipation)
    ref = _diff_diff(mpdta, anticipation, outcome="lemp", unit="countyreal", time="year",
                     first_treat="first.treat")
    if anticipation == 0:
        assert res.estimate == pytest.approx(ref.overall_att, abs=TOL)  # type: ignore[attr-defined]
        assert res.std_error == pytest.approx(ref.overall_se, abs=TOL)  # type: ignore[attr-defined]
        assert res.estimate == pytest.approx(-0.04770992, abs=5e-9)  # didimputation's printed ATT
        groups = ref.aggregate("group").to_dataframe()  # type: ignore[attr-defined]
        mine = res.by_cohort.elements
        assert mine["cohort"].tolist() == groups["label"].astype(int).tolist()
        np.testing.assert_allclose(mine["estimate"], groups["att"], atol=TOL)
        np.testing.assert_allclose(mine["std_error"], groups["se"], atol=TOL)
    es = ref.aggregate("event_study").to_dataframe()  # type: ignore[attr-defined]
    es = es[~es["is_reference"]].merge(res.elements, on="event_time", suffixes=("_dd", ""))
    assert len(es) == len(res.elements) and len(es) >= 3
    np.testing.assert_allclose(es["estimate"], es["att"], atol=TOL)
    np.testing.assert_allclose(es["std_error"], es["se"], atol=TOL)
    pre = ref.pretrend_test()  # type: ignore[attr-defined]
    assert res.pretrend is not None
    assert res.pretrend.statistic == pytest.approx(pre["f_stat"], abs=TOL)
    assert res.pretrend.p_value == pytest.approx(pre["p_value"], abs=TOL)
    lead = dict(zip(res.leads["event_time"], res.leads["estimate"], strict=True))
    assert lead == pytest.approx(pre["lead_coefficients"], abs=TOL)


def test_unbalanced_covariate_team_clusters_equal_diff_diff() -> None:
    rng = np.random.default_rng(11)
    n, T = 240, 8
    unit = np.repeat(np.arange(n), T)
    t = np.tile(np.arange(1, T + 1), n)
    g_unit = rng.choice([0, 3, 4, 6], n)
    team = np.repeat(rng.integers(0, 40, n), T)
    x = rng.normal(size=n * T)
    g = g_unit[unit]
    effect = np.where((g > 0) & (t >= g), 1.0 + 0.3 * (t - g), 0.0)
    y = rng.normal(size=n)[unit] + 0.2 * t + 0.5 * x + effect + rng.normal(size=n * T)
    df = pd.DataFrame({"id": unit, "t": t, "y": y, "g": g, "x": x, "team": team})
    df = df[rng.random(len(df)) > 0.15].reset_index(drop=True)  # hires, leavers, gaps
    panel = il.Panel.from_frame(df, unit="id", time="t", outcome="y", cohort="g", covariates=["x"],
                                cluster="team")
    res = il.imputation(panel, covariates=["x"])
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        ref = dd.ImputationDiD(cluster="team").fit(df, outcome="y", unit="id", time="t", first_treat="g",
                                                   covariates=["x"])
    assert res.estimate == pytest.approx(ref.overall_att, abs=TOL)
    assert res.std_error == pytest.approx(ref.overall_se, abs=TOL)
    es = ref.aggregate("event_study").to_dataframe()
    es = es[~es["is_reference"]].merge(res.elements, on="event_time", suffixes=("_dd", ""))
    assert len(es) == len(res.elements)
    np.testing.assert_allclose(es["estimate"], es["att"], atol=TOL)
    np.testing.assert_allclose(es["std_error"], es["se"], atol=TOL)
    assert res.n_units == df["id"].nunique()
