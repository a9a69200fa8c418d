"""The optimal fixed-length confidence interval under ``Δ^SD(M)`` (Rambachan & Roth 2023, §4.1, after
Armstrong & Kolesár 2018), found on the exact bias–variance frontier traced by a lasso homotopy; the
derivation is in docs/explanation.md ("How the numbers are computed").
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import numpy as np
from scipy import optimize, special

from impactlab.errors import EstimationError

_RT2 = math.sqrt(2.0)
_PHI0 = 1 / math.sqrt(2 * math.pi)
_SCREEN = 16  # screening points per frontier segment


def folded_normal_cv(t: float, level: float) -> float:
    """``level`` quantile of ``|N(t, 1)|`` (the FLCI critical value ``cv_α(t)``), by safeguarded Newton."""
    t = abs(float(t))
    if t > 40:  # the lower tail is negligible: |N(t,1)| ~ N(t,1)
        return t + float(special.ndtri(level))

    def f(x: float) -> float:
        return 0.5 * (math.erfc(-(x - t) / _RT2) - math.erfc((x + t) / _RT2)) - level

    lo, hi = 0.0, t + 10.0
    x = t + float(special.ndtri(level))
    x = min(max(x, lo), hi)
    for _ in range(100):
        fx = f(x)
        if fx > 0:
            hi = x
        else:
            lo = x
        d = _PHI0 * (math.exp(-0.5 * (x - t) ** 2) + math.exp(-0.5 * (x + t) ** 2))
        step = x - fx / d if d > 0 else 0.5 * (lo + hi)
        if abs(step - x) <= 1e-14 * max(1.0, x):  # Newton has converged (also when f(x) = 0 exactly)
            return step
        x_new = step if lo < step < hi else 0.5 * (lo + hi)
        if abs(x_new - x) <= 1e-14 * max(1.0, x):
            return x_new
        x = x_new
    return x


def folded_normal_cv_array(t: np.ndarray, level: float) -> np.ndarray:
    """:func:`folded_normal_cv` for an array of ``t`` (the same safeguarded Newton, elementwise)."""
    t = np.abs(np.asarray(t, dtype="float64"))
    z = float(special.ndtri(level))
    lo, hi = np.zeros_like(t), t + 10.0
    x = np.clip(t + z, lo, hi)
    active = t <= 40
    for _ in range(100):
        if not active.any():
            break
        fx = 0.5 * (special.erfc(-(x - t) / _RT2) - special.erfc((x + t) / _RT2)) - level
        hi = np.where(fx > 0, x, hi)
        lo = np.where(fx > 0, lo, x)
        d = _PHI0 * (np.exp(-0.5 * (x - t) ** 2) + np.exp(-0.5 * (x + t) ** 2))
        with np.errstate(divide="ignore", invalid="ignore"):
            step = np.where(d > 0, x - fx / d, 0.5 * (lo + hi))
        newton = np.abs(step - x) <= 1e-14 * np.maximum(1.0, x)
        x_new = np.where(((lo < step) & (step < hi)) | newton, step, 0.5 * (lo + hi))
        done = newton | (np.abs(x_new - x) <= 1e-14 * np.maximum(1.0, x))
        x = np.where(active, x_new, x)
        active &= ~done
    return np.where(t > 40, t + z, x)


def _cv_slope(x: np.ndarray | float, cv: np.ndarray | float) -> np.ndarray | float:
    """``d cv_α(x) / dx`` by implicit differentiation of ``Φ(cv − x) − Φ(−cv − x) = 1 − α``."""
    a, b = np.exp(-0.5 * (np.subtract(cv, x)) ** 2), np.exp(-0.5 * (np.add(cv, x)) ** 2)
    s = a + b
    return np.where(s > 0, (a - b) / np.where(s > 0, s, 1.0), 1.0)


def sd_post_constant(l_vec: np.ndarray) -> float:
    """``Σ_m |Σ_{j≥m} L_j|`` with ``L_t = Σ_{k>t} l_k``: worst-case bias per unit M from post curvature."""
    tail = np.cumsum(l_vec[::-1])[::-1]
    return float(np.abs(np.cumsum(tail[::-1])[::-1]).sum())


def _affine_map(l_vec: np.ndarray, n_pre: int) -> tuple[np.ndarray, np.ndarray]:
    """``v = P u + q``: pre weights from the cumulative slope weights ``u`` (``n_pre − 1`` of them).

    The slope weights ``w`` (one per pre period) sum to ``Σ_k k·l_k`` (unbiasedness under linear trends);
    ``u`` holds their first ``n_pre − 1`` partial sums, and ``v_pre = (w_1, w_2 − w_1, …)``.
    """
    n_post = len(l_vec)
    k = n_pre - 1
    total = float(np.arange(1, n_post + 1) @ l_vec)
    W = np.eye(n_pre, k) - np.eye(n_pre, k, k=-1)  # w = W u + w0
    w0 = np.zeros(n_pre)
    w0[-1] = total
    Dv = np.eye(n_pre) - np.eye(n_pre, k=-1)
    P = np.zeros((n_pre + n_post, k))
    P[:n_pre] = Dv @ W
    return P, np.r_[Dv @ w0, l_vec]


def lasso_path(Q: np.ndarray, c: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Exact solution path of ``min_u u'Qu + 2c'u + 2μ‖u‖₁`` over ``μ`` from ``max|c|`` down to 0.

    Parameters
    ----------
    Q : ndarray, shape (k, k)
        Symmetric positive definite.
    c : ndarray, shape (k,)

    Returns
    -------
    mu, U : ndarray
        The knots ``μ_0 = max|c| > μ_1 > … > μ_N = 0`` and the solutions ``U[i]`` there (``U[0] = 0``,
        ``U[N] = −Q⁻¹c``, ``N ≥ 1``); between knots the solution is linear in ``μ``.

    Notes
    -----
    Optimality: ``−(Qu + c)_j = μ·sign(u_j)`` on the active set and ``|(Qu + c)_j| ≤ μ`` off it. On an
    active set ``A`` with signs ``s``, ``u_A(μ) = −Q_AA⁻¹(c_A + μ s_A)``; ``μ`` decreases until an active
    weight reaches zero (it leaves) or an inactive residual reaches ``±μ`` (it enters with that sign).
    """
    k = len(c)
    mu0 = float(np.abs(c).max(initial=0.0))
    knots_mu, knots_u = [mu0], [np.zeros(k)]
    if k == 0 or mu0 == 0.0:  # u = 0 throughout: one segment of length zero
        return np.array([mu0, 0.0]), np.zeros((2, k))
    j0 = int(np.argmax(np.abs(c)))
    active, signs = [j0], [-float(np.sign(c[j0]))]
    mu, last_in, last_out = mu0, j0, -1
    for _ in range(50 * k + 50):
        A = np.asarray(active)
        sol = np.linalg.solve(Q[np.ix_(A, A)], -np.c_[c[A], np.asarray(signs)])
        a, b = sol[:, 0], sol[:, 1]  # u_A(μ) = a + μ b
        inactive = np.setdiff1d(np.arange(k), A)
        best = 0.0
        event: tuple[Any, ...] | None = None
        with np.errstate(divide="ignore", invalid="ignore"):
            leave = -a / b
        # the index that just changed sits at the current knot; only a later event of it counts
        edge = mu * (1 - 1e-9)
        for i, m in enumerate(leave):
            if np.isfinite(m) and best < m < (edge if A[i] == last_in else mu):
                best, event = float(m), ("out", i)
        if len(inactive):
            alpha = -(Q[np.ix_(inactive, A)] @ a + c[inactive])
            beta = -(Q[np.ix_(inactive, A)] @ b)
            with np.errstate(divide="ignore", invalid="ignore"):
                up, down = alpha / (1 - beta), -alpha / (1 + beta)
            for i, j in enumerate(inactive.tolist()):
                for m, s in ((up[i], 1.0), (down[i], -1.0)):
                    if np.isfinite(m) and best < m < (edge if j == last_out else mu):
                        best, event = float(m), ("in", j, s)
        u = np.zeros(k)
        u[A] = a + best * b
        knots_mu.append(best)
        knots_u.append(u)
        if event is None:  # nothing happens before μ = 0: the last segment ends at the least-squares point
            break
        mu = best
        if event[0] == "out":
            last_out, last_in = int(A[event[1]]), -1
            del active[event[1]], signs[event[1]]
            knots_u[-1][last_out] = 0.0
        else:
            last_in, last_out = int(event[1]), -1
            active.append(int(event[1]))
            signs.append(float(event[2]))
    else:  # pragma: no cover - the homotopy visits each active set once for a positive definite Q
        raise EstimationError("The smoothness (FLCI) frontier could not be traced: the lasso homotopy did "
                              "not reach mu = 0. The event-study covariance is probably degenerate; check "
                              "result.element_vcov, or use restriction='relative_magnitude'.")
    return np.asarray(knots_mu), np.vstack(knots_u)


@dataclass(frozen=True)
class SDFrontier:
    """The bias–variance frontier of FLCI estimators ``v'β̂`` under ``Δ^SD`` (see the module notes).

    Built once for ``(Σ, l, n_pre)``; :meth:`interval` gives the FLCI for any ``β̂`` and ``M``.
    ``u`` is piecewise linear along the frontier, so on segment ``i`` with position ``τ ∈ [0, 1]``:
    ``σ² = var0[i] + var1[i]·τ + var2[i]·τ²``, ``‖u‖₁ = l1[i] + dl1[i]·τ`` and ``v = V[i] + τ·dV[i]``.
    """

    mu: np.ndarray
    U: np.ndarray
    V: np.ndarray
    dV: np.ndarray
    var0: np.ndarray
    var1: np.ndarray
    var2: np.ndarray
    l1: np.ndarray
    dl1: np.ndarray
    post_const: float

    @classmethod
    def build(cls, sigma: np.ndarray, l_vec: np.ndarray, n_pre: int) -> SDFrontier:
        P, q = _affine_map(np.asarray(l_vec, dtype="float64"), n_pre)
        Q = P.T @ sigma @ P
        c = P.T @ sigma @ q
        Q = 0.5 * (Q + Q.T)
        if Q.shape[0] and np.linalg.eigvalsh(Q)[0] <= 1e-13 * max(float(np.trace(Q)), 1e-300):
            # a singular covariance: the frontier is not unique; take the limit of a vanishing ridge
            Q = Q + np.eye(len(Q)) * 1e-12 * max(float(np.trace(Q)) / len(Q), 1e-300)
        mu, U = lasso_path(Q, c)
        V = U @ P.T + q
        dV = np.diff(V, axis=0)
        # variances from the weights themselves (no cancellation against s0 when σ_v is small)
        SV = V @ sigma
        var_knots = np.einsum("ij,ij->i", SV, V)
        l1 = np.abs(U).sum(axis=1)
        return cls(mu=mu, U=U, V=V, dV=dV, var0=var_knots[:-1], var1=2 * np.einsum("ij,ij->i", SV[:-1], dV),
                   var2=np.einsum("ij,ij->i", dV @ sigma, dV), l1=l1[:-1], dl1=np.diff(l1),
                   post_const=sd_post_constant(np.asarray(l_vec)))

    def _at(self, seg: np.ndarray, tau: np.ndarray, m: float, level: float) -> tuple[np.ndarray, ...]:
        """Half-length and its derivative in ``τ`` at positions ``(seg, tau)`` of the frontier."""
        var = np.maximum(self.var0[seg] + tau * (self.var1[seg] + tau * self.var2[seg]), 0.0)
        sd = np.sqrt(var)
        with np.errstate(divide="ignore", invalid="ignore"):
            bias = m * (self.post_const + self.l1[seg] + tau * self.dl1[seg])
            x = np.where(sd > 0, bias / sd, np.inf)
            cv = folded_normal_cv_array(np.where(np.isfinite(x), x, 0.0), level)
            half = np.where(sd > 0, sd * cv, bias)  # σ → 0: σ·cv(b/σ) → b
            dsd = (self.var1[seg] + 2 * tau * self.var2[seg]) / (2 * sd)
            dx = (m * self.dl1[seg] * sd - bias * dsd) / var
            slope = dsd * cv + sd * _cv_slope(x, cv) * dx
        return half, slope

    def _slope(self, tau: float, seg: int, m: float, level: float) -> float:
        return float(self._at(np.array([seg]), np.array([tau]), m, level)[1][0])

    def _half(self, seg: int, tau: float, m: float, level: float) -> float:
        var = max(self.var0[seg] + tau * (self.var1[seg] + tau * self.var2[seg]), 0.0)
        sd = math.sqrt(var)
        bias = m * (self.post_const + self.l1[seg] + tau * self.dl1[seg])
        return sd * folded_normal_cv(bias / sd, level) if sd > 0 else bias

    def optimum(self, m: float, level: float) -> tuple[np.ndarray, float]:
        """The FLCI weights ``v`` and half-length ``χ`` for ``M = m`` (``m ≥ 0``)."""
        n_seg = len(self.var1)
        if m == 0:  # no bias: the least-variance estimator, the end of the frontier
            return self.V[-1], self._half(n_seg - 1, 1.0, 0.0, level)
        grid = np.linspace(0.0, 1.0, _SCREEN + 1)
        seg = np.repeat(np.arange(n_seg), _SCREEN + 1)
        tau = np.tile(grid, n_seg)
        half, slope = self._at(seg, tau, m, level)
        j = int(np.argmin(half))
        cands = [(float(half[j]), int(seg[j]), float(tau[j]))]
        # brackets next to the best point (a knot belongs to two segments) where the slope turns up
        where = seg + tau
        turn = (slope[:-1] < 0) & (slope[1:] > 0) & (seg[:-1] == seg[1:])
        near = (where[:-1] == where[j]) | (where[1:] == where[j])
        for a in np.flatnonzero(turn & near).tolist():
            s = int(seg[a])
            t_star = optimize.brentq(self._slope, float(tau[a]), float(tau[a + 1]), args=(s, m, level),
                                     xtol=1e-15, rtol=4 * np.finfo(float).eps)
            cands.append((self._half(s, t_star, m, level), s, t_star))
        h, s, t_star = min(cands)
        return self.V[s] + t_star * self.dV[s], h

    def interval(self, beta: np.ndarray, m: float, level: float) -> tuple[float, float]:
        """FLCI ``v'β̂ ± χ`` for the stacked coefficients ``β̂ = (β̂_pre, β̂_post)``."""
        v, half = self.optimum(m, level)
        centre = float(v @ beta)
        return centre - half, centre + half
