"""The smoothness FLCI on its exact frontier: the path is the lasso path, the interval is the shortest.

Tolerances: the homotopy and the derivative root are exact up to rounding (1e-10 relative on KKT
conditions and half-lengths); the previous implementation (coordinate descent on a 61-point grid of the
penalty, then a bounded scalar search) reached the same minimal half-lengths but placed the minimiser to
its optimiser's tolerance, so its interval ends are matched to 1e-7 and its bisected breakdown to 1e-6.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

import impactlab as il
from impactlab.estimators import _sd_flci
from impactlab.estimators._sd_flci import (
    SDFrontier,
    _affine_map,
    folded_normal_cv,
    folded_normal_cv_array,
    lasso_path,
    sd_post_constant,
)


def _staggered(seed: int = 0, n: int = 300, t: int = 8) -> il.Panel:
    """The roll-out of tests/estimators/test_sensitivity.py (cohorts 4, 5, 6 and never trained)."""
    rng = np.random.default_rng(seed)
    unit = np.repeat(np.arange(n), t)
    tm = np.tile(np.arange(1, t + 1), n)
    g = np.repeat(rng.choice([4, 5, 6, 0], size=n), t)
    e = tm - g
    post = (g > 0) & (e >= 0)
    y = (rng.normal(size=n)[unit] + 0.1 * tm + np.where(post, 1.0 + 0.2 * e, 0) + rng.normal(0, 1, n * t))
    return il.Panel.from_frame(pd.DataFrame({"id": unit, "year": tm, "y": y, "g": g}), unit="id", time="year",
                               outcome="y", cohort="g")


def _problem(seed: int, n_pre: int, n_post: int, rank: int | None = None):
    rng = np.random.default_rng(seed)
    n = n_pre + n_post
    a = rng.normal(size=(n, rank or n)) * rng.uniform(0.2, 3.0, rank or n)
    sigma = a @ a.T / n + (0.0 if rank else 0.05) * np.eye(n)
    l_vec = rng.uniform(0.0, 1.0, n_post)
    return sigma, l_vec / l_vec.sum(), rng.normal(size=n)


def _half(sigma, l_vec, n_pre, u, m, level=0.95):
    """Half-length of the interval of the estimator with slope weights ``u`` (direct, from the definition)."""
    P, q = _affine_map(l_vec, n_pre)
    v = P @ u + q
    sd = np.sqrt(v @ sigma @ v)
    bias = m * (sd_post_constant(l_vec) + np.abs(u).sum())
    return sd * folded_normal_cv(bias / sd, level)


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_frontier_is_the_exact_lasso_path(seed):
    sigma, l_vec, _ = _problem(seed, 9, 5)
    P, q = _affine_map(l_vec, 9)
    Q, c = P.T @ sigma @ P, P.T @ sigma @ q
    mu, U = lasso_path(Q, c)
    assert mu[0] == pytest.approx(np.abs(c).max()) and mu[-1] == 0 and np.all(np.diff(mu) < 0)
    np.testing.assert_allclose(U[-1], -np.linalg.solve(Q, c), rtol=1e-10, atol=1e-12)
    for i in range(len(mu) - 1):  # optimality (KKT) inside every segment, where u is interpolated
        m_i, u = 0.5 * (mu[i] + mu[i + 1]), 0.5 * (U[i] + U[i + 1])
        r, on = -(Q @ u + c), u != 0
        np.testing.assert_allclose(r[on], m_i * np.sign(u[on]), rtol=0, atol=1e-10 * mu[0])
        assert np.all(np.abs(r[~on]) <= m_i + 1e-10 * mu[0])


def test_flci_is_the_shortest_over_all_weights():
    # two free slope weights: a brute-force search over the plane cannot beat the frontier optimum
    sigma, l_vec, beta = _problem(3, 3, 3)
    fr = SDFrontier.build(sigma, l_vec, 3)
    g = np.linspace(-3.0, 3.0, 241)
    for m in (0.02, 0.2, 1.0):
        v, half = fr.optimum(m, 0.95)
        grid_best = min(_half(sigma, l_vec, 3, np.array([a, b]), m) for a in g[::4] for b in g[::4])
        assert half <= grid_best * (1 + 1e-12)
        # and no direction from the optimum shortens it (local check at fine steps)
        P, q = _affine_map(l_vec, 3)
        u_star = np.linalg.lstsq(P, v - q, rcond=None)[0]
        assert _half(sigma, l_vec, 3, u_star, m) == pytest.approx(half, rel=1e-12)
        rng = np.random.default_rng(0)
        for d in rng.normal(size=(40, 2)):
            for step in (1e-2, 1e-4):
                assert _half(sigma, l_vec, 3, u_star + step * d, m) >= half * (1 - 1e-13)


@pytest.mark.parametrize("seed", [4, 5])
def test_optimum_beats_a_dense_scan_of_the_frontier(seed):
    sigma, l_vec, _ = _problem(seed, 12, 8)
    fr = SDFrontier.build(sigma, l_vec, 12)
    tau = np.linspace(0.0, 1.0, 2001)
    seg = np.repeat(np.arange(len(fr.var1)), len(tau))
    for m in (0.0, 0.01, 0.1, 1.0, 10.0):
        _, half = fr.optimum(m, 0.9)
        dense, _ = fr._at(seg, np.tile(tau, len(fr.var1)), m, 0.9)
        assert half <= dense.min() * (1 + 1e-13)


def test_one_pre_period_has_a_single_estimator():
    # n_pre = 1: v_pre = sum_k k l_k (the slope through the reference), v_post = l; bias M * post constant
    sigma, l_vec, beta = _problem(6, 1, 3)
    v = np.r_[np.arange(1, 4) @ l_vec, l_vec]
    sd = np.sqrt(v @ sigma @ v)
    lo, hi = SDFrontier.build(sigma, l_vec, 1).interval(beta, 0.4, 0.95)
    half = sd * folded_normal_cv(0.4 * sd_post_constant(l_vec) / sd, 0.95)
    assert (lo, hi) == pytest.approx((v @ beta - half, v @ beta + half), rel=1e-12)


@pytest.mark.parametrize(("seed", "rank"), [(7, 3), (8, 2)])  # rank 2: P'ΣP itself is singular (ridge limit)
def test_zero_variance_estimator_gives_its_bias_as_half_length(seed, rank):
    # a singular covariance admits an unbiased-under-linear-trends v with no variance: at M = 0 the
    # interval is that point, and for M > 0 no longer than the bias of that v (sd -> 0: sd cv(b/sd) -> b)
    sigma, l_vec, beta = _problem(seed, 4, 2, rank=rank)
    fr = SDFrontier.build(sigma, l_vec, 4)
    v0, half0 = fr.optimum(0.0, 0.95)
    assert v0 @ sigma @ v0 == pytest.approx(0.0, abs=1e-14) and half0 == pytest.approx(0.0, abs=1e-7)
    lo, hi = fr.interval(beta, 0.0, 0.95)
    assert (lo, hi) == pytest.approx((v0 @ beta, v0 @ beta), abs=1e-7)
    P, q = _affine_map(l_vec, 4)
    u0 = np.linalg.lstsq(P, v0 - q, rcond=None)[0]
    _, half = fr.optimum(0.1, 0.95)
    assert half <= 0.1 * (sd_post_constant(l_vec) + np.abs(u0).sum()) + 1e-7  # rounding: sd ~ 1e-8


def test_array_critical_value_is_the_scalar_one():
    t = np.r_[0.0, np.geomspace(1e-8, 60.0, 300)]
    for level in (0.9, 0.95, 0.99):
        np.testing.assert_allclose(folded_normal_cv_array(t, level), [folded_normal_cv(x, level) for x in t],
                                   rtol=1e-14, atol=0)


def test_same_numbers_as_the_previous_implementation():
    cs = il.callaway_santanna(_staggered(), base_period="universal")
    s = il.sensitivity(cs, "smoothness", target="average", grid=[0, 0.05, 0.2, 0.5, 1])
    old = np.array([[0.8992122933570825, 1.6686983975208656], [0.2954117488738166, 1.9335119807276635],
                    [-0.8617522894381204, 3.2000435883839824], [-2.9255029726474997, 5.350976015168451],
                    [-6.425502972647427, 8.85097601516838]])
    got = s.table[["lower", "upper"]].to_numpy()
    np.testing.assert_allclose(got[:, 1] - got[:, 0], old[:, 1] - old[:, 0], rtol=1e-10)
    np.testing.assert_allclose(got, old, rtol=0, atol=1e-7)
    assert s.breakdown == pytest.approx(0.08095805710177492, rel=1e-6)


def test_frontier_built_once_per_call(monkeypatch):
    calls = []
    build = SDFrontier.build.__func__

    def counting(cls, *args, **kwargs):
        calls.append(1)
        return build(cls, *args, **kwargs)

    monkeypatch.setattr(_sd_flci.SDFrontier, "build", classmethod(counting))
    cs = il.callaway_santanna(_staggered(), base_period="universal")
    s = il.sensitivity(cs, "smoothness", target="average")
    assert len(calls) == 1 and len(s.table) == 10 and 0 < s.breakdown < np.inf
