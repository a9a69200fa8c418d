"""Two-period DiD estimators for repeated cross-sections (and unbalanced panels), with influence functions:
:func:`reg_did_rcs`, :func:`ipw_did_rcs` and :func:`dr_did_rcs` (Sant'Anna & Zhao 2020, as the R package
DRDID's ``reg_did_rc``, ``std_ipw_did_rc`` and ``drdid_rc``), the counterparts for observations seen once of
the panel estimators of :mod:`impactlab.estimators.drdid`; see ``docs/explanation.md`` ("Two-period DiD").
"""

from __future__ import annotations

import numpy as np

from impactlab.errors import EstimationError
from impactlab.estimators.drdid import (
    RCOND_MIN,
    TRIM_LEVEL,
    DidFit,
    _ipw_weights,
    _normalised_weights,
    _rcond,
)

__all__ = ["reg_did_rcs", "ipw_did_rcs", "dr_did_rcs"]


def _prepare_rcs(y: np.ndarray, post: np.ndarray, d: np.ndarray, covariates: np.ndarray | None,
                 weights: np.ndarray | None
                 ) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    y = np.asarray(y, dtype="float64").ravel()
    n = y.size
    post = np.asarray(post, dtype="float64").ravel()
    d = np.asarray(d, dtype="float64").ravel()
    if post.size != n or d.size != n:
        raise EstimationError(f"y, post and D must have the same length; got {n}, {post.size} and {d.size}.")
    x = np.ones((n, 1)) if covariates is None else np.asarray(covariates, dtype="float64").reshape(n, -1)
    w = _normalised_weights(weights, n)
    cells = {"treated before": (d == 1) & (post == 0), "treated after": (d == 1) & (post == 1),
             "comparison before": (d == 0) & (post == 0), "comparison after": (d == 0) & (post == 1)}
    empty = [k for k, m in cells.items() if not np.any(w[m] > 0)]
    if empty:
        raise EstimationError(f"A repeated cross-section DiD needs observations in all four cells; none in "
                              f"{', '.join(empty)}.")
    return y, post, d, x, w


def _ols(y: np.ndarray, x: np.ndarray, wsel: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Weighted least squares on the observations with ``wsel > 0``; fitted values for all and the
    asymptotic linear representation of the coefficients (n × k), scaled as the influence functions."""
    n = y.size
    xtx = (x * wsel[:, None]).T @ x / n
    if _rcond(xtx) < RCOND_MIN:
        raise EstimationError("The outcome-regression design matrix is singular: too few observations in a "
                              "group for the covariates, or collinear covariates.")
    beta = np.linalg.solve(xtx, (x * wsel[:, None]).T @ y / n)
    fitted = x @ beta
    alr = (wsel * (y - fitted))[:, None] * x @ np.linalg.inv(xtx)
    return fitted, alr


def _pscore_rcs(x: np.ndarray, d: np.ndarray, w: np.ndarray, trim_level: float
                ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Logit propensity score (capped), trimming indicator and its asymptotic linear representation."""
    p = _ipw_weights(x, d, w, trim_level)
    return p.ps, p.trim, p.score[:, None] * x @ np.linalg.inv(p.info) * d.size


def _centred(v: np.ndarray, wts: np.ndarray) -> tuple[float, np.ndarray]:
    """Hájek mean ``mean(wts * v) / mean(wts)`` and its influence function."""
    mw = np.mean(wts)
    est = float(np.mean(wts * v) / mw)
    return est, wts * (v - est) / mw


def reg_did_rcs(y: np.ndarray, post: np.ndarray, d: np.ndarray, covariates: np.ndarray | None = None,
                weights: np.ndarray | None = None) -> DidFit:
    """Outcome-regression DiD for repeated cross-sections (Sant'Anna & Zhao 2020, §2 and eq. 2.2).

    ``y`` is each observation's outcome, ``post`` 1 for observations of the later period and 0 for the
    earlier one, ``d`` 1 for observations of the treated group; the other arguments and the result are
    described in :class:`~impactlab.estimators.drdid.DidFit`; an empty group-period cell is an
    EstimationError.
    """
    y, post, d, x, w = _prepare_rcs(y, post, d, covariates, weights)
    fit_pre, alr_pre = _ols(y, x, w * (1 - d) * (1 - post))
    fit_post, alr_post = _ols(y, x, w * (1 - d) * post)
    wt = w * d
    a_post, i_post = _centred(y, wt * post)
    a_pre, i_pre = _centred(y, wt * (1 - post))
    a_cf, i_cf = _centred(fit_post - fit_pre, wt)
    m = np.mean(wt[:, None] * x, axis=0) / np.mean(wt)
    i_cf = i_cf + (alr_post - alr_pre) @ m
    return DidFit(a_post - a_pre - a_cf, i_post - i_pre - i_cf)


def ipw_did_rcs(y: np.ndarray, post: np.ndarray, d: np.ndarray, covariates: np.ndarray | None = None,
                weights: np.ndarray | None = None, *, trim_level: float = TRIM_LEVEL) -> DidFit:
    """Normalised IPW DiD for repeated cross-sections (Abadie 2005; Sant'Anna & Zhao 2020, eq. 2.4).
    Arguments as :func:`reg_did_rcs`, plus ``trim_level``."""
    y, post, d, x, w = _prepare_rcs(y, post, d, covariates, weights)
    ps, trim, alr_ps = _pscore_rcs(x, d, w, trim_level)
    wt = trim * w * d
    wc = trim * w * ps * (1 - d) / (1 - ps)
    parts = [_centred(y, wgt) for wgt in (wt * post, wt * (1 - post), wc * post, wc * (1 - post))]
    (tp, itp), (t0, it0), (cp, icp), (c0, ic0) = parts
    m_post = np.mean((wc * post * (y - cp))[:, None] * x, axis=0) / np.mean(wc * post)
    m_pre = np.mean((wc * (1 - post) * (y - c0))[:, None] * x, axis=0) / np.mean(wc * (1 - post))
    inf_c = icp - ic0 + alr_ps @ (m_post - m_pre)
    return DidFit((tp - t0) - (cp - c0), (itp - it0) - inf_c, int(np.sum(trim == 0)))


def dr_did_rcs(y: np.ndarray, post: np.ndarray, d: np.ndarray, covariates: np.ndarray | None = None,
               weights: np.ndarray | None = None, *, trim_level: float = TRIM_LEVEL) -> DidFit:
    """Locally efficient doubly robust DiD for repeated cross-sections (Sant'Anna & Zhao 2020, eq. 3.4):
    consistent when either the propensity score or the comparison group's outcome regressions are
    correctly specified, efficient when both are. Arguments as :func:`ipw_did_rcs`."""
    y, post, d, x, w = _prepare_rcs(y, post, d, covariates, weights)
    ps, trim, alr_ps = _pscore_rcs(x, d, w, trim_level)
    c_pre, alr_c_pre = _ols(y, x, w * (1 - d) * (1 - post))
    c_post, alr_c_post = _ols(y, x, w * (1 - d) * post)
    t_pre, alr_t_pre = _ols(y, x, w * d * (1 - post))
    t_post, alr_t_post = _ols(y, x, w * d * post)
    c_fit = post * c_post + (1 - post) * c_pre
    r = y - c_fit
    wtp, wt0 = trim * w * d * post, trim * w * d * (1 - post)
    wcp = trim * w * ps * (1 - d) * post / (1 - ps)
    wc0 = trim * w * ps * (1 - d) * (1 - post) / (1 - ps)
    wd = trim * w * d
    (tp, itp), (t0, it0) = _centred(r, wtp), _centred(r, wt0)
    (cp, icp), (c0, ic0) = _centred(r, wcp), _centred(r, wc0)
    (dp, idp), (d1, id1) = _centred(t_post - c_post, wd), _centred(t_post - c_post, wtp)
    (dq, idq), (d0, id0) = _centred(t_pre - c_pre, wd), _centred(t_pre - c_pre, wt0)
    att = (tp - t0) - (cp - c0) + (dp - d1) - (dq - d0)

    def colmean(v: np.ndarray) -> np.ndarray:
        return np.mean(v[:, None] * x, axis=0)

    # estimation effect of the comparison-group regressions inside the weighted residual means
    inf_t = itp - it0 - alr_c_post @ (colmean(wtp) / np.mean(wtp)) + alr_c_pre @ (colmean(wt0) / np.mean(wt0))
    inf_c = (icp - ic0 - alr_c_post @ (colmean(wcp) / np.mean(wcp))
             + alr_c_pre @ (colmean(wc0) / np.mean(wc0))
             + alr_ps @ (colmean(wcp * (r - cp)) / np.mean(wcp) - colmean(wc0 * (r - c0)) / np.mean(wc0)))
    inf_eff = (idp - id1) - (idq - id0)
    mom_post = colmean(wd / np.mean(wd) - wtp / np.mean(wtp))
    mom_pre = colmean(wd / np.mean(wd) - wt0 / np.mean(wt0))
    inf_or = (alr_t_post - alr_c_post) @ mom_post - (alr_t_pre - alr_c_pre) @ mom_pre
    return DidFit(float(att), inf_t - inf_c + inf_eff + inf_or, int(np.sum(trim == 0)))
