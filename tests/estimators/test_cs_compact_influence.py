"""The sufficient-statistics Callaway–Sant'Anna keeps its influence functions in their affine form.

Standard errors, every aggregation and the pre-test are computed from the compact form; the dense
(n_units × n_cells) matrix is built only when ``.influence`` is read, for the bootstrap or for cluster sums.
Everything must equal the cell-by-cell route (unit weights of one force it) to rounding.
"""

from __future__ import annotations

import dataclasses
import warnings

import numpy as np
import pandas as pd
import pytest

import impactlab as il
from impactlab.estimators.callaway_santanna import aggregate as agg
from impactlab.estimators.callaway_santanna import moments as fast

TOL = 1e-10


def _panel(n=500, T=6, seed=11, cluster=False):
    rng = np.random.default_rng(seed)
    g = rng.choice([0, 3, 4, 6], size=n)
    t = np.arange(1, T + 1)
    post = (g[:, None] > 0) & (t[None, :] >= g[:, None])
    y = 20.0 + rng.normal(size=n)[:, None] + 0.4 * t + post * (1.5 + 0.3 * (t - g[:, None])) \
        + rng.normal(size=(n, T)) * (1 + (g[:, None] == 4))
    df = pd.DataFrame({"id": np.repeat(np.arange(n), T), "t": np.tile(t, n), "g": np.repeat(g, T),
                       "y": y.ravel(), "one": 1.0, "team": np.repeat(np.arange(n) % 23, T)})
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


def _rel(a, b):
    a, b = np.asarray(a, float), np.asarray(b, float)
    assert np.array_equal(np.isnan(a), np.isnan(b))
    ok = ~np.isnan(a)
    return float(np.max(np.abs(a[ok] - b[ok])) / max(np.max(np.abs(b[ok])), 1e-300))


@pytest.mark.parametrize("control", ["never_treated", "not_yet_treated"])
@pytest.mark.parametrize("base_period", ["varying", "universal"])
def test_fit_keeps_the_compact_form_and_matches_the_cell_by_cell_route(control, base_period):
    panel = _panel()
    res = _fit(panel, control=control, base_period=base_period)
    ref = _fit(panel, control=control, base_period=base_period, weights="one")
    assert isinstance(res._influence, fast.CompactInfluence)  # nothing dense was built by the fit
    assert _rel(res.att_gt["std_error"], ref.att_gt["std_error"]) < TOL
    for kind in ("simple", "group", "dynamic", "calendar"):
        a, b = res.aggregate(kind), ref.aggregate(kind)
        assert a.estimate == pytest.approx(b.estimate, rel=TOL)
        assert a.std_error == pytest.approx(b.std_error, rel=TOL)
        assert _rel(a.influence, b.influence) < TOL
        if kind != "simple":
            assert _rel(a.elements["std_error"], b.elements["std_error"]) < TOL
            assert _rel(a.element_vcov, b.element_vcov) < TOL
    c, d = res.cumulative(2), ref.cumulative(2)
    assert c.estimate == pytest.approx(d.estimate, rel=TOL)
    assert c.std_error == pytest.approx(d.std_error, rel=TOL)
    pa, pb = res.pretest, ref.pretest
    assert pa.statistic == pytest.approx(pb.statistic, rel=1e-9)
    assert isinstance(res._influence, fast.CompactInfluence)  # still compact after all of the above
    dense = res.influence  # built on first access, read-only, kept
    assert isinstance(dense, np.ndarray) and not dense.flags.writeable and res.influence is dense
    assert _rel(dense, ref.influence) < TOL


def test_compact_form_algebra_equals_the_dense_matrix():
    panel = _panel(n=300)
    units, y, gp = fast.balanced_arrays(panel)
    cells = fast.att_gt_from_moments(fast.cohort_moments(y, gp), control="not_yet_treated")
    comp = fast.CompactInfluence(cells, y, gp)
    dense = fast.influence_matrix(cells, y, gp)
    assert comp.shape == dense.shape
    np.testing.assert_allclose(np.asarray(comp), dense, rtol=0, atol=1e-12)
    w = np.random.default_rng(0).normal(size=(dense.shape[1], 3))
    np.testing.assert_allclose(comp.combine(w), dense @ w, rtol=1e-12, atol=1e-9)
    np.testing.assert_allclose(comp.combine(w[:, 0]), dense @ w[:, 0], rtol=1e-12, atol=1e-9)
    scale = float(np.max(np.abs(dense.T @ dense)))
    np.testing.assert_allclose(comp.sum_squares(), (dense**2).sum(axis=0), rtol=1e-10, atol=1e-10 * scale)
    cols = np.array([0, 2, 5])
    np.testing.assert_allclose(comp.cross_products(cols), dense[:, cols].T @ dense[:, cols], rtol=1e-10,
                               atol=1e-10 * scale)
    np.testing.assert_array_equal(comp.select(cols).dense(), dense[:, cols])
    # the universal base period has exactly zero columns (the reference period of each cohort)
    uni = fast.att_gt_from_moments(fast.cohort_moments(y, gp), base_period="universal")
    zero = ~fast.CompactInfluence(uni, y, gp).nonzero_columns()
    assert zero.sum() == 3  # one per treated cohort (3, 4, 6)
    assert not fast.influence_matrix(uni, y, gp)[:, zero].any()


def test_clusters_use_the_dense_matrix_and_the_bootstrap_gives_the_same_numbers():
    panel = _panel(cluster=True)
    res, ref = _fit(panel), _fit(panel, weights="one")
    assert isinstance(res._influence, np.ndarray)  # cluster sums need the unit-level matrix
    assert _rel(res.att_gt["std_error"], ref.att_gt["std_error"]) < TOL
    assert res.std_error == pytest.approx(ref.std_error, rel=TOL)
    plain = _panel()
    boot, boot_ref = _fit(plain, bootstrap=99, seed=4), _fit(plain, bootstrap=99, seed=4, weights="one")
    assert isinstance(boot._influence, fast.CompactInfluence)  # draws from per-cohort multiplier sums
    assert _rel(boot.att_gt["std_error"], boot_ref.att_gt["std_error"]) < 1e-8
    assert boot.aggregate("dynamic").std_error == pytest.approx(boot_ref.aggregate("dynamic").std_error,
                                                                rel=1e-8)


def test_dense_result_gives_the_same_aggregations_as_the_compact_one():
    res = _fit(_panel(), control="not_yet_treated")
    dense = dataclasses.replace(res, _influence=np.array(res._influence.dense()))
    for kind in ("simple", "group", "dynamic", "calendar"):
        a, b = res.aggregate(kind), dense.aggregate(kind)
        assert a.estimate == b.estimate
        assert a.std_error == pytest.approx(b.std_error, rel=1e-12)
    se = agg.analytic_se(dense.influence, None)
    assert _rel(res.att_gt["std_error"], se) < 1e-12
