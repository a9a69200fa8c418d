"""Aggregations and the multiplier bootstrap through the compact influence form.

On the sufficient-statistics route every aggregation of Callaway & Sant'Anna (2021, §3) is computed as
one transform of the affine influence form (all elements in one pass), and the multiplier bootstrap draws
from per-cohort sums of multipliers times centred outcomes instead of a units × cells matrix. Both must
give the numbers of the dense route: TOL below is rounding of sums over a few hundred units. The bootstrap
draws must also be the Mammen draws of the seed (checked against an explicit weight matrix) and the
bootstrap standard errors must agree with the analytic ones within Monte Carlo error.
"""

from __future__ import annotations

import dataclasses
import warnings

import numpy as np
import pandas as pd
import pytest
from scipy import stats

import impactlab as il
from impactlab.estimators.callaway_santanna import aggregate as agg
from impactlab.estimators.callaway_santanna import moments as fast

TOL = 1e-10  # compact vs dense: the same sums in another order


def _panel(n=400, T=7, seed=3, cluster=False):
    rng = np.random.default_rng(seed)
    g = rng.choice([0, 3, 4, 6], size=n, p=[0.3, 0.25, 0.25, 0.2])
    t = np.arange(1, T + 1)
    post = (g[:, None] > 0) & (t[None, :] >= g[:, None])
    y = 50.0 + 3 * rng.normal(size=n)[:, None] + 0.4 * t + post * (1.0 + 0.5 * (t - g[:, None])) \
        + rng.normal(size=(n, T)) * (1 + (g[:, None] == 3))
    df = pd.DataFrame({"id": np.repeat(rng.permutation(n), T), "t": np.tile(t, n), "g": np.repeat(g, T),
                       "y": y.ravel(), "one": 1.0, "team": np.repeat(np.arange(n) % 17, T)})
    return il.Panel.from_frame(df, unit="id", time="t", outcome="y", cohort="g", covariates=["one"],
                               cluster="team" if cluster else None)


def _fit(panel, **kw):
    """A fit; with ``weights="one"`` the cell-by-cell reference (every fast route switched off)."""
    from impactlab.estimators.callaway_santanna import routes as _cs_fit

    with warnings.catch_warnings(), pytest.MonkeyPatch.context() as mp:
        warnings.simplefilter("ignore")
        if kw.get("weights") == "one":
            mp.setattr(_cs_fit, "FAST_ROUTES", False)
        return il.callaway_santanna(panel, **kw)


def _close(a, b, tol=TOL):
    a, b = np.asarray(a, float), np.asarray(b, float)
    assert a.shape == b.shape
    np.testing.assert_array_equal(np.isnan(a), np.isnan(b))
    ok = ~np.isnan(a)
    if ok.any():
        scale = max(float(np.max(np.abs(b[ok]))), 1e-300)
        assert float(np.max(np.abs(a[ok] - b[ok]))) <= tol * scale


AGGREGATIONS = [("simple", {}), ("group", {}), ("group", {"max_e": 1}), ("dynamic", {}),
                ("dynamic", {"balance_e": 1}), ("dynamic", {"min_e": -2, "max_e": 2}),
                ("dynamic", {"balance_e": 0, "min_e": -1}), ("calendar", {}), ("cumulative", {"max_e": 2})]


@pytest.fixture(scope="module", params=[("never_treated", "varying"), ("not_yet_treated", "universal")],
                ids=["never-varying", "notyet-universal"])
def fits(request):
    control, base_period = request.param
    panel = _panel()
    res = _fit(panel, control=control, base_period=base_period)
    ref = _fit(panel, control=control, base_period=base_period, weights="one")  # cell by cell, dense
    dense = dataclasses.replace(res, _influence=np.array(res._influence.dense()))  # same cells, dense
    return res, ref, dense


@pytest.mark.parametrize(("kind", "kw"), AGGREGATIONS)
def test_every_aggregation_equals_the_dense_route(fits, kind, kw):
    res, ref, dense = fits
    a = res.aggregate(kind, **kw)
    assert isinstance(res._influence, fast.CompactInfluence)
    for b in (ref.aggregate(kind, **kw), dense.aggregate(kind, **kw)):
        assert a.estimate == pytest.approx(b.estimate, rel=TOL)
        _close(a.std_error, b.std_error)
        _close(a.influence, b.influence)
        if kind != "simple":
            pd.testing.assert_index_equal(a.elements.columns, b.elements.columns)
            np.testing.assert_array_equal(a.elements.iloc[:, 0], b.elements.iloc[:, 0])
            _close(a.elements["estimate"], b.elements["estimate"])
            _close(a.elements["std_error"], b.elements["std_error"])
            _close(a.element_influence, b.element_influence)
            _close(a.element_vcov, b.element_vcov)
    assert not a.influence.flags.writeable
    if kind != "simple":
        assert not a.element_influence.flags.writeable and not a.element_vcov.flags.writeable
        # the element variances are the squared standard errors (NaN: an exactly zero influence function,
        # the reference period of a universal base period)
        se, var = a.elements["std_error"].to_numpy(), np.diag(a.element_vcov)
        _close(np.sqrt(var[np.isfinite(se)]), se[np.isfinite(se)], 1e-12)
        assert np.all(var[~np.isfinite(se)] < 1e-20)


def test_dynamic_elements_are_cohort_share_weighted_cells():
    res = _fit(_panel())
    at = res.att_gt
    dyn = res.aggregate("dynamic")
    counts = pd.Series(res._unit_group).value_counts()
    for e, est in zip(dyn.elements["event_time"], dyn.elements["estimate"], strict=True):
        cells = at[at["event_time"] == e]
        w = counts.reindex(cells["cohort"]).to_numpy(float)  # cohort = period index here
        assert est == pytest.approx(float(w @ cells["estimate"]) / w.sum(), rel=1e-12)
    post = dyn.elements["event_time"] >= 0
    assert dyn.estimate == pytest.approx(dyn.elements["estimate"][post].mean(), rel=1e-12)


def test_aggregate_cells_form_is_the_dense_influence():
    panel = _panel(n=250)
    units, y, gp = fast.balanced_arrays(panel)
    cells = fast.att_gt_from_moments(fast.cohort_moments(y, gp), control="not_yet_treated")
    comp = fast.CompactInfluence(cells, y, gp)
    dense = comp.dense()
    for kind in ("simple", "group", "dynamic", "calendar", "cumulative"):
        kw = {"max_e": 2} if kind == "cumulative" else {}
        a = agg.aggregate_cells(kind, cells.att, comp, cells.group, cells.time, gp, **kw)
        b = agg.aggregate_cells(kind, cells.att, dense, cells.group, cells.time, gp, **kw)
        assert a.form is not None and b.form is None
        assert a.form.shape == a.influence_all.shape == b.influence_all.shape
        _close(a.influence_all, b.influence_all)
        _close(a.form.dense(), a.influence_all, 1e-13)
        scale = float(np.max(np.abs(b.influence_all.T @ b.influence_all)))
        np.testing.assert_allclose(a.form.sum_squares(), (b.influence_all**2).sum(axis=0),
                                   rtol=1e-10, atol=1e-12 * scale)
        # a compact form without transform (e.g. another route's) goes through combine
        bare = type("Bare", (), {"shape": comp.shape, "combine": comp.combine})()
        c = agg.aggregate_cells(kind, cells.att, bare, cells.group, cells.time, gp, **kw)
        assert c.form is None
        _close(c.influence_all, b.influence_all)


# ------------------------------------------------------------------------------------------ bootstrap
def test_mammen_products_are_the_seeded_mammen_draws():
    rng = np.random.default_rng(0)
    z = rng.normal(size=(53, 4))
    bounds = np.array([0, 11, 11, 40, 53])
    shared = np.random.default_rng(7)  # the segments draw one after the other from one generator
    expected = np.stack([agg.mammen(shared, (31, e - s)) @ z[s:e]
                         for s, e in zip(bounds[:-1], bounds[1:], strict=True)], axis=1)
    out = agg.mammen_products(z, 31, 7, bounds)
    assert out.shape == (31, 4, 4)
    np.testing.assert_allclose(out, expected, rtol=0, atol=1e-12)
    v = agg.mammen(np.random.default_rng(7), (31, 53))
    np.testing.assert_allclose(agg.mammen_products(z, 31, 7)[:, 0], v @ z, rtol=0, atol=1e-12)
    assert set(np.unique(v)) == {agg.MAMMEN_LOW, agg.MAMMEN_HIGH}
    # Mammen weights: mean 0, variance 1, third moment 1 (P(LOW) within 2**-33 of MAMMEN_P)
    p = agg.MAMMEN_P
    lo, hi = agg.MAMMEN_LOW, agg.MAMMEN_HIGH
    assert p * lo + (1 - p) * hi == pytest.approx(0, abs=1e-15)
    assert p * lo**2 + (1 - p) * hi**2 == pytest.approx(1, rel=1e-14)
    assert p * lo**3 + (1 - p) * hi**3 == pytest.approx(1, rel=1e-14)
    assert abs(int(agg.MAMMEN_THRESHOLD) / 2**32 - p) <= 2**-33
    big = agg.mammen(np.random.default_rng(1), (200, 1000))
    assert (big == lo).mean() == pytest.approx(p, abs=4 * np.sqrt(p * (1 - p) / big.size))
    assert big.mean() == pytest.approx(0, abs=4 / np.sqrt(big.size))


def test_draws_do_not_depend_on_the_block_size(monkeypatch):
    z = np.random.default_rng(1).normal(size=(41, 3))
    bounds = np.array([0, 13, 20, 41])  # odd widths: blocks keep to whole 64-bit outputs
    whole = agg.mammen_products(z, 25, 3, bounds)
    monkeypatch.setattr(agg, "_BLOCK", 45)  # two to six draws per block
    np.testing.assert_allclose(agg.mammen_products(z, 25, 3, bounds), whole, rtol=0, atol=1e-13)


@pytest.mark.parametrize(("kind", "opts"), [
    ("simple", {"control": "not_yet_treated"}), ("group", {"control": "not_yet_treated"}),
    ("dynamic", {"control": "not_yet_treated"}), ("calendar", {"control": "not_yet_treated"}),
    ("dynamic", {"base_period": "universal", "anticipation": 1}), ("cumulative", {})])
def test_compact_bootstrap_equals_the_dense_bootstrap(kind, opts):
    panel = _panel()
    res = _fit(panel, bootstrap=199, seed=11, **opts)
    ref = _fit(panel, bootstrap=199, seed=11, weights="one", **opts)
    assert isinstance(res._influence, fast.CompactInfluence) and res._boot_sums is not None
    assert isinstance(ref._influence, np.ndarray) and ref._boot_sums is None
    _close(res.att_gt["std_error"], ref.att_gt["std_error"])
    assert res.crit == pytest.approx(ref.crit, rel=TOL)
    kw = {"max_e": 2} if kind == "cumulative" else {}
    a, b = res.aggregate(kind, **kw), ref.aggregate(kind, **kw)
    _close(a.std_error, b.std_error)
    if kind != "simple":
        _close(a.elements["std_error"], b.elements["std_error"])
        assert a.elements["crit"].iloc[0] == pytest.approx(b.elements["crit"].iloc[0], rel=TOL)
    assert isinstance(res._influence, fast.CompactInfluence)  # nothing dense was built


def test_bootstrap_standard_errors_match_the_analytic_ones_within_monte_carlo_error():
    panel = _panel(n=600, seed=5)
    iters = 999
    res = _fit(panel, bootstrap=iters, seed=2)
    an = _fit(panel)
    # the IQR-based standard error has a relative sampling sd of about 1.17 / sqrt(B) for normal draws
    sd = 1.17 / np.sqrt(iters)
    ratio = (res.att_gt["std_error"] / an.att_gt["std_error"]).dropna()
    assert len(ratio) >= 15 and (ratio - 1).abs().max() < 4.5 * sd
    dyn, dyn_an = res.aggregate("dynamic"), an.aggregate("dynamic")
    rel = dyn.elements["std_error"] / dyn_an.elements["std_error"] - 1
    assert rel.abs().max() < 4.5 * sd
    assert dyn.std_error == pytest.approx(dyn_an.std_error, rel=4.5 * sd)
    # the draws themselves: mean 0 and variance sum(psi^2) / n^2 given the data
    draws = res._influence.multiplier_draws(res._boot_sums)
    assert draws.shape == (iters, len(res.att_gt))
    se = an.att_gt["std_error"].to_numpy()
    ok = np.isfinite(se)
    np.testing.assert_array_less(np.abs(draws.mean(axis=0)[ok]) / se[ok], 4.5 / np.sqrt(iters))
    np.testing.assert_array_less(np.abs(draws.std(axis=0)[ok] / se[ok] - 1), 4.5 * np.sqrt(0.5 / iters))
    # a uniform band over correlated cells: wider than pointwise, at most Bonferroni
    k = int(ok.sum())
    assert stats.norm.ppf(0.975) < res.crit < stats.norm.ppf(1 - 0.025 / k) + 0.1


def test_bootstrap_is_seeded():
    panel = _panel(n=200)
    a, b, c = (_fit(panel, bootstrap=99, seed=s) for s in (4, 4, 5))
    pd.testing.assert_frame_equal(a.att_gt, b.att_gt)
    assert a.aggregate("dynamic").elements.equals(b.aggregate("dynamic").elements)
    assert not np.allclose(a.att_gt["std_error"], c.att_gt["std_error"], equal_nan=True)


def test_clusters_and_weights_keep_the_dense_route():
    clustered = _fit(_panel(cluster=True), bootstrap=99, seed=1)
    assert isinstance(clustered._influence, np.ndarray) and clustered._boot_sums is None
    dyn = clustered.aggregate("dynamic")
    assert np.isfinite(dyn.std_error) and "crit" in dyn.elements
    weighted = _fit(_panel(), weights="one")
    assert isinstance(weighted._influence, np.ndarray)


@pytest.mark.slow
def test_uniform_event_study_band_covers_the_true_effects():
    """Simultaneous coverage of the sup-t band over simulated panels with known effects (0 before
    treatment, 1 + 0.5 e after): 95 % within 4 Monte Carlo sd (sd = sqrt(.95 .05 / reps))."""
    reps, hits = 300, 0
    for seed in range(reps):
        res = _fit(_panel(n=300, T=6, seed=1000 + seed), bootstrap=299, seed=seed)
        el = res.aggregate("dynamic").elements
        e = el["event_time"].to_numpy()
        truth = np.where(e >= 0, 1.0 + 0.5 * e, 0.0)
        half = el["crit"].to_numpy() * el["std_error"].to_numpy()
        hits += bool(np.all(np.abs(el["estimate"].to_numpy() - truth) <= half))
    sd = np.sqrt(0.95 * 0.05 / reps)
    assert abs(hits / reps - 0.95) < 4 * sd
