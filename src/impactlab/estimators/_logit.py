"""The one logistic regression of the propensity scores: :func:`fit_logit`, iteratively reweighted least
squares as R's ``glm.fit`` runs it for DRDID and ``did``, and :func:`separating`, which names the covariates
that separate the two groups.

The iteration follows R step for step, so that its fitted scores are R's and not merely close to them: the
start ``mu = (w d + 1/2) / (w + 1)`` of R's binomial family, R's clamped inverse link (``|eta| > 30``
saturates at ``DBL_EPSILON``), a weighted least-squares step, and convergence when the deviance changes by
less than ``tol · (|dev| + 0.1)`` (``glm.control``: 1e-8, at most 25 iterations). Where R's plain step would
raise the deviance, the step is halved until the deviance falls (the line search of ``fastglm``, which
DRDID 1.2 uses), so a wild first step no longer ends the fit. Each step solves the normal equations with
the covariates scaled by powers of two (exact): earnings in dollars next to 0/1 indicators no longer make
the information matrix look singular, and as Newton steps do not depend on the scale of the covariates the
iterates stay R's. Fitted values within ``10 · DBL_EPSILON`` of 0 or 1 (R's warning "fitted probabilities
numerically 0 or 1") mean the covariates separate the groups: the likelihood has no finite maximum and the
scores are not usable.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from impactlab.errors import EstimationError
from impactlab.estimators._blocked import _BLOCK, _blocks

__all__ = ["Logit", "fit_logit", "separating"]

_EPS = float(np.finfo(float).eps)
#: Fitted probabilities this close to 0 or 1 are numerically 0 or 1 (R's ``glm.fit`` warning threshold).
SEPARATION_EPS = 10 * _EPS
#: Reciprocal condition number under which the (scaled) information matrix is singular.
RCOND_MIN = _EPS


@dataclass(frozen=True)
class Logit:
    """A fitted logit: coefficients (of the columns as given), fitted probabilities, whether the deviance
    converged, the number of iterations and the number of units with a fitted probability numerically 0
    or 1 (``separated > 0``: the covariates separate the groups)."""

    coef: np.ndarray
    fitted: np.ndarray
    converged: bool
    iterations: int
    separated: int


def _linkinv(eta: np.ndarray) -> tuple[np.ndarray, np.ndarray, bool]:
    """R's logit inverse link and its derivative, saturating beyond ``|eta| > 30`` as R does; the flag
    says whether any value saturated (elsewhere the derivative equals ``mu (1 - mu)``)."""
    saturated = bool(eta.min() < -30.0 or eta.max() > 30.0)
    t = np.exp(np.clip(eta, -30.0, 30.0) if saturated else eta)
    if saturated:
        t[eta < -30.0] = _EPS
        t[eta > 30.0] = 1 / _EPS
    t1 = t + 1
    mu = np.divide(t, t1, out=t)
    mu_eta = mu / t1
    if saturated:
        mu_eta[np.abs(eta) > 30.0] = _EPS
    return mu, mu_eta, saturated


def _pass(x: np.ndarray, y: np.ndarray, w: np.ndarray | None, eta: np.ndarray, beta: np.ndarray | None
          ) -> tuple[float, np.ndarray, np.ndarray]:
    """One pass over row blocks in cache: ``eta = x @ beta`` (written into ``eta``; ``beta=None`` reads
    ``eta`` as it is), then the deviance there and the next weighted least-squares step's ``X' W X`` and
    ``X' W z`` (R's working weights ``W = w mu_eta² / (mu (1 - mu))``, ``z = eta + (y - mu) / mu_eta``)."""
    k = x.shape[1]
    info, rhs, dev = np.zeros((k, k)), np.zeros(k), 0.0
    for s in _blocks(x.shape[0]):
        e = slice(s, s + _BLOCK)
        xb, yb = x[e], y[e]
        if beta is not None:
            np.matmul(xb, beta, out=eta[e])
        mu, mu_eta, saturated = _linkinv(eta[e])
        ll = np.log(np.where(yb > 0, mu, 1 - mu))
        if saturated:
            g = mu_eta / (mu * (1 - mu))
            wz = g * (yb - mu)
            g *= mu_eta
        else:  # mu_eta / (mu (1 - mu)) is 1 here
            g, wz = mu_eta, yb - mu
        if w is not None:
            wb = w[e]
            dev -= 2 * float(wb @ ll)
            g = g * wb
            wz *= wb
        else:
            dev -= 2 * float(ll.sum())
        wz += g * eta[e]
        info += xb.T @ (g[:, None] * xb)
        rhs += xb.T @ wz
    return dev, info, rhs


def _rcond(a: np.ndarray) -> float:
    try:
        return float(1.0 / np.linalg.cond(a, 1))
    except np.linalg.LinAlgError:
        return 0.0


def _column_scales(x: np.ndarray) -> np.ndarray:
    """A power of two near each column's root mean square (1 for a zero column): dividing by it is exact."""
    rms = np.sqrt(np.einsum("ij,ij->j", x, x) / max(1, x.shape[0]))
    return np.where(rms > 0, np.exp2(np.round(np.log2(np.where(rms > 0, rms, 1.0)))), 1.0)


def fit_logit(x: np.ndarray, d: np.ndarray, weights: np.ndarray | None = None, *, tol: float = 1e-8,
              max_iter: int = 25) -> Logit:
    """Weighted logistic regression of the 0/1 ``d`` on the design ``x`` (intercept included by the caller)
    by iteratively reweighted least squares, as R DRDID fits its propensity scores.

    Parameters
    ----------
    x : ndarray, shape (n, k)
        Design matrix.
    d : ndarray, shape (n,)
        0/1 outcome.
    weights : ndarray, optional
        Non-negative prior weights (ones when ``None``).
    tol : float
        Convergence: the deviance changes by less than ``tol · (|deviance| + 0.1)`` (R's ``glm.fit``).
    max_iter : int
        Maximum number of iterations, and of halvings of one step.

    Returns
    -------
    Logit
        With an intercept only, the maximum-likelihood fit is the weighted share of ones, computed directly.

    Raises
    ------
    EstimationError
        When the design is singular at the start (collinear or constant covariates).
    """
    x = np.asarray(x, dtype="float64")
    d = np.asarray(d, dtype="float64").ravel()
    n, k = x.shape
    w = None if weights is None else np.asarray(weights, dtype="float64").ravel()
    ones = np.ones(n) if w is None else w
    if k == 1 and np.all(x[:, 0] == x[0, 0]) and x[0, 0] != 0:  # intercept only: the weighted share
        p = float(np.sum(ones * d) / np.sum(ones))
        ok = 0 < p < 1
        coef = np.array([np.log(p / (1 - p)) / x[0, 0] if ok else np.sign(p - 0.5) * np.inf])
        return Logit(coef=coef, fitted=np.full(n, p), converged=ok, iterations=0,
                     separated=0 if ok else int(np.count_nonzero(ones > 0)))
    scale = _column_scales(x)
    y = d if w is None else np.where(w > 0, d, 0.0)  # R's binomial family: zero-weight rows count as 0
    mu0 = (ones * y + 0.5) / (ones + 1)
    eta = np.log(mu0 / (1 - mu0))  # R's start; eta of the clamped link gives back these mu
    dev, info, rhs = _pass(x, y, w, eta, None)
    beta = np.zeros(k)
    converged = False
    it = 0
    for it in range(1, max_iter + 1):
        info_s = info / scale[:, None] / scale[None, :]
        if _rcond(info_s) < RCOND_MIN:
            if it == 1:
                raise EstimationError("The propensity-score design matrix is singular: the covariates are "
                                      "collinear or do not vary within this comparison. Remove some "
                                      "covariates.")
            break  # the weights collapsed: fitted values at 0 or 1, reported below
        beta_prev, eta_prev = beta, eta.copy()
        beta = np.linalg.solve(info_s, rhs / scale) / scale
        dev_old = dev
        dev, info, rhs = _pass(x, y, w, eta, beta)
        if it > 1 and (dev - dev_old) / (0.1 + abs(dev)) >= tol:
            for _ in range(max_iter):  # halve the step until the deviance falls
                beta = (beta + beta_prev) / 2
                eta += eta_prev
                eta /= 2
                dev, info, rhs = _pass(x, y, w, eta, None)
                if (dev - dev_old) / (0.1 + abs(dev)) < -tol:
                    break
        if abs(dev - dev_old) / (0.1 + abs(dev)) < tol:
            converged = True
            break
    mu = _linkinv(eta)[0]
    at_bound = (ones > 0) & ((mu < SEPARATION_EPS) | (mu > 1 - SEPARATION_EPS))
    return Logit(coef=beta, fitted=mu, converged=converged, iterations=it,
                 separated=int(np.count_nonzero(at_bound)))


def separating(x: np.ndarray, d: np.ndarray, names: Sequence[str], weights: np.ndarray | None = None
               ) -> list[str]:
    """The covariates (columns of ``x``, named by ``names``; a constant column is skipped) whose values
    of the treated and of the comparison units do not overlap: one group lies entirely at or beyond the
    other's extreme value, so the logit can push its probabilities to 0 or 1 along that covariate alone.
    Empty when only a combination of covariates separates the groups."""
    x = np.asarray(x, dtype="float64")
    d = np.asarray(d, dtype="float64").ravel()
    keep = np.ones(d.size, dtype=bool) if weights is None else np.asarray(weights).ravel() > 0
    t, c = keep & (d == 1), keep & (d == 0)
    if not (t.any() and c.any()):
        return []
    found = []
    for j, name in enumerate(names):
        col = x[:, j]
        if np.all(col == col[0]):
            continue
        lo_t, hi_t, lo_c, hi_c = col[t].min(), col[t].max(), col[c].min(), col[c].max()
        if lo_t >= hi_c or hi_t <= lo_c:
            found.append(str(name))
    return found
