"""Peers we did not write agree with event_study, sun_abraham and bacon_decomposition on the same data.

Peers are the ``bench`` extra (pip install "impactlab[bench]"); each test skips, saying which package is
missing, when its peer is not installed.

Tolerances and conventions:

* TWFE and Sun–Abraham cells vs pyfixest ``feols(... | unit + period, vcov={"CRV1": cluster})``: 1e-8.
  Small-sample convention matched: CR1 with ``G/(G-1) · (N-1)/(N-K)``, ``K`` counting the regressors, the
  period effects (``T - 1``) and the unit effects nested in the clusters as one (pyfixest's default
  ``ssc(k_fixef="nonnested")``, R fixest's ``fixef.K = "nested"``); t inference on ``G - 1`` df.
* TWFE coefficients vs linearmodels ``PanelOLS`` with entity and time effects: 1e-8 (its clustered
  standard errors scale the sandwich differently, so only coefficients are compared).
* Sun–Abraham interaction-weighted coefficients and fixed-share standard errors vs diff-diff
  ``SunAbraham``: 1e-6 (diff-diff also weights cohorts by their observations at each event time).
* Goodman-Bacon weights and 2×2 estimates vs diff-diff ``BaconDecomposition`` (exact weights): 1e-8.
"""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
import pytest

import impactlab as il

TOL = 1e-8
pytestmark = pytest.mark.filterwarnings("ignore:The inplace keyword")
TOL_SA = 1e-6


def staggered(seed=0, n=120, T=9, cohorts=(3, 5, 7)):
    """Three waves and never-treated units, dynamic effects that differ by wave, teams of 8 employees."""
    rng = np.random.default_rng(seed)
    unit = np.repeat(np.arange(n), T)
    time = np.tile(np.arange(1, T + 1), n)
    gu = np.array([*cohorts, 0])[rng.integers(0, len(cohorts) + 1, n)]
    g = np.repeat(gu, T)
    e = time - g
    eff = np.where((g > 0) & (e >= 0), (1.0 + 0.5 * e) * (g / 3.0), 0.0)
    y = np.repeat(rng.normal(size=n), T) + 0.3 * time + eff + rng.normal(size=n * T)
    return pd.DataFrame({"id": unit, "t": time, "y": y, "g": g, "team": unit // 8,
                         "D": ((g > 0) & (e >= 0)).astype(float)})


def make_panel(df, cluster=None):
    return il.Panel.from_frame(df, unit="id", time="t", outcome="y", cohort="g", cluster=cluster)


def event_dummies(df, keys):
    e = np.where(df["g"] > 0, df["t"] - df["g"], -999)
    out = df.copy()
    names = []
    for g, k in keys:
        name = f"c{g}_e{k}".replace("-", "m")
        sel = (e == k) if g is None else ((df["g"] == g) & (e == k))
        out[name] = (sel & (df["g"] > 0)).astype(float)
        names.append(name)
    return out, names


@pytest.fixture(scope="module")
def pf():
    return pytest.importorskip("pyfixest", reason="pyfixest (impactlab[bench]) is not installed")


@pytest.fixture(scope="module")
def diff_diff():
    return pytest.importorskip("diff_diff", reason="diff-diff (impactlab[bench]) is not installed")


@pytest.mark.parametrize("cluster", [None, "team"])
def test_twfe_event_study_equals_pyfixest(pf, cluster):
    df = staggered(1)
    res = il.event_study(make_panel(df, cluster), window=(-4, 3), bin_endpoints=True)
    e = np.where(df["g"] > 0, df["t"] - df["g"], -999)
    d = df.copy()
    names = []
    for k in [-4, -3, -2, 0, 1, 2, 3]:
        sel = (e <= -4) if k == -4 else (e >= 3) if k == 3 else (e == k)
        d[f"e{k + 10}"] = (sel & (df["g"] > 0)).astype(float)
        names.append(f"e{k + 10}")
    m = pf.feols("y ~ " + " + ".join(names) + " | id + t", data=d, vcov={"CRV1": cluster or "id"})
    np.testing.assert_allclose(res.elements["estimate"], m.coef()[names], rtol=0, atol=TOL)
    np.testing.assert_allclose(res.elements["std_error"], m.se()[names], rtol=TOL)
    np.testing.assert_allclose(res.element_vcov, m._vcov, rtol=TOL, atol=1e-14)


def test_twfe_coefficient_equals_pyfixest_and_linearmodels(pf):
    lm = pytest.importorskip("linearmodels.panel", reason="linearmodels (impactlab[bench]) is not installed")
    df = staggered(2)
    res = il.twfe(make_panel(df))
    m = pf.feols("y ~ D | id + t", data=df, vcov={"CRV1": "id"})
    assert res.estimate == pytest.approx(float(m.coef()["D"]), abs=TOL)
    fit = lm.PanelOLS.from_formula("y ~ D + EntityEffects + TimeEffects", df.set_index(["id", "t"])).fit(
        cov_type="clustered", cluster_entity=True)
    assert res.estimate == pytest.approx(float(fit.params["D"]), abs=TOL)
    es = il.event_study(make_panel(df), window=(-2, 2), bin_endpoints=True)
    fit = lm.PanelOLS(df.set_index(["id", "t"])["y"], _binned(df, -2, 2).set_index(["id", "t"]),
                      entity_effects=True, time_effects=True).fit()
    np.testing.assert_allclose(es.elements["estimate"], fit.params.to_numpy(), atol=TOL)


def _binned(df, lo, hi):
    e = np.where(df["g"] > 0, df["t"] - df["g"], -999)
    tr = df["g"] > 0
    cols = {}
    for k in range(lo, hi + 1):
        if k == -1:
            continue
        sel = (e <= lo) if k == lo else (e >= hi) if k == hi else (e == k)
        cols[f"e{k}"] = (sel & tr).astype(float)
    return pd.DataFrame({"id": df["id"], "t": df["t"], **cols})


def test_twfe_clustered_se_equals_pyfixest(pf):
    df = staggered(2)
    m = pf.feols("y ~ D | id + t", data=df, vcov={"CRV1": "id"})
    assert il.twfe(make_panel(df)).std_error == pytest.approx(float(m.se()["D"]), rel=TOL)


def test_sun_abraham_cells_equal_pyfixest(pf):
    df = staggered(3)
    res = il.sun_abraham(make_panel(df))
    d, names = event_dummies(df, list(zip(res.cells["cohort"], res.cells["event_time"], strict=True)))
    m = pf.feols("y ~ " + " + ".join(names) + " | id + t", data=d, vcov={"CRV1": "id"})
    np.testing.assert_allclose(res.cells["estimate"], m.coef()[names], rtol=0, atol=TOL)
    np.testing.assert_allclose(res.cells["std_error"], m.se()[names], rtol=TOL)


def test_sun_abraham_equals_diff_diff(diff_diff):
    df = staggered(4)
    res = il.sun_abraham(make_panel(df), share_variance=False)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        peer = diff_diff.SunAbraham().fit(df, outcome="y", unit="id", time="t", first_treat="g")
    eff = peer.event_study_effects
    assert sorted(int(k) for k in eff) == res.elements["event_time"].tolist()
    for _, row in res.elements.iterrows():
        e = int(row["event_time"])
        assert row["estimate"] == pytest.approx(eff[e]["effect"], abs=TOL_SA)
        assert row["std_error"] == pytest.approx(eff[e]["se"], rel=TOL_SA)


def test_bacon_equals_diff_diff(diff_diff):
    df = staggered(5)
    res = il.bacon_decomposition(make_panel(df))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        peer = diff_diff.BaconDecomposition().fit(df, outcome="y", unit="id", time="t", first_treat="g")
    theirs = {(c.treated_group, "never" if c.control_group == "never_treated" else c.control_group):
              (c.comparison_type, c.weight, c.estimate) for c in peer.comparisons}
    ours = res.comparisons
    assert len(theirs) == len(ours) == 9
    for _, r in ours.iterrows():
        kind, w, est = theirs[(r["treated"], r["control"])]
        assert r["type"] == kind
        assert r["weight"] == pytest.approx(w, abs=TOL)
        assert r["estimate"] == pytest.approx(est, abs=TOL)
    assert res.estimate == pytest.approx(peer.twfe_estimate, abs=TOL)
