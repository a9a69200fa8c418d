"""Two-period (2×2) difference-in-differences estimators for panel data, with influence functions.

:func:`drdid` is the public two-period estimator (panel or repeated cross-sections, on a DataFrame).
The functions below are its panel building blocks and those of
:func:`impactlab.estimators.callaway_santanna.callaway_santanna`: each
group-time ATT(g, t) is a 2×2 comparison of the change in outcome of one cohort with the change of its
comparison units. Three estimators are provided, all returning the estimate and its influence function:

* :func:`reg_did_panel` — outcome regression (Heckman, Ichimura & Todd 1997): the comparison units' outcome
  change is modelled linearly in the covariates and predicted for the treated.
* :func:`ipw_did_panel` — normalised (Hájek) inverse-probability weighting (Abadie 2005), with a logit
  propensity score.
* :func:`dr_did_panel` — the locally efficient doubly robust estimator of Sant'Anna & Zhao (2020, eq. 3.1),
  combining both.

The formulas, and the scale of the influence functions, follow Sant'Anna & Zhao (2020), "Doubly robust
difference-in-differences estimators", *Journal of Econometrics* 219(1), 101–122, as implemented in the
R package DRDID (``drdid_panel``, ``reg_did_panel``, ``std_ipw_did_panel``), which R ``did`` calls for panel
data. The influence function ``psi`` returned here is scaled so that the standard error of the estimate is
``sqrt(mean(psi**2) / n)``.

Without covariates (an intercept only) the three estimators coincide with the difference of the mean
outcome changes of treated and comparison units.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

import numpy as np
import pandas as pd
from scipy.special import expit

from impactlab.errors import EstimationError, PanelError, check_option
from impactlab.results.base import EffectResult

__all__ = ["DidFit", "drdid", "logit_fit", "reg_did_panel", "ipw_did_panel", "dr_did_panel"]

Method = Literal["dr", "ipw", "reg"]

#: Propensity scores are capped at ``1 - PS_CAP`` to avoid dividing by zero (DRDID does the same).
PS_CAP = 1e-6
#: Comparison units with a propensity score at or above this level get zero weight (DRDID's ``trim.level``).
TRIM_LEVEL = 0.995
#: Reciprocal condition number under which a design is treated as singular (R's ``.Machine$double.eps``).
RCOND_MIN = float(np.finfo(float).eps)


@dataclass(frozen=True)
class DidFit:
    """Result of a 2×2 DiD estimator.

    Attributes
    ----------
    att : float
        The ATT estimate.
    influence : ndarray
        Influence function, one value per unit, scaled so that ``se = sqrt(mean(influence**2) / n)``.
    n_trimmed : int
        Comparison units given zero weight because their propensity score reached the trimming level.
    """

    att: float
    influence: np.ndarray
    n_trimmed: int = 0

    @property
    def std_error(self) -> float:
        """Analytic standard error from the influence function."""
        n = len(self.influence)
        return float(np.sqrt(np.mean(self.influence**2) / n))


def _rcond(a: np.ndarray) -> float:
    """Reciprocal condition number in the 1-norm (what R's ``rcond`` estimates)."""
    try:
        return float(1.0 / np.linalg.cond(a, 1))
    except np.linalg.LinAlgError:
        return 0.0


def _prepare(y1: np.ndarray, y0: np.ndarray, d: np.ndarray, covariates: np.ndarray | None,
             weights: np.ndarray | None) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    d = np.asarray(d, dtype="float64").ravel()
    n = d.size
    dy = np.asarray(y1, dtype="float64").ravel() - np.asarray(y0, dtype="float64").ravel()
    if dy.size != n:
        raise EstimationError(f"y1, y0 and D must have the same length; got {dy.size} outcomes and {n} "
                              "treatment indicators.")
    if covariates is None:
        x = np.ones((n, 1))
    else:
        x = np.asarray(covariates, dtype="float64")
        x = x.reshape(n, -1)
    if weights is None:
        w = np.ones(n)
    else:
        w = np.asarray(weights, dtype="float64").ravel()
        if np.any(w < 0) or not np.mean(w) > 0:
            raise EstimationError("Weights must be non-negative with a positive mean.")
        w = w / np.mean(w)
    if not (np.any(d == 1) and np.any(d == 0)):
        raise EstimationError(f"A 2x2 DiD needs treated and comparison units; got {int(d.sum())} treated "
                              f"and {int((d == 0).sum())} comparison units.")
    return dy, d, x, w


def logit_fit(x: np.ndarray, d: np.ndarray, weights: np.ndarray | None = None, *, tol: float = 1e-11,
              max_iter: int = 100) -> tuple[np.ndarray, np.ndarray, bool]:
    """Weighted logistic regression by Newton–Raphson (iteratively reweighted least squares).

    Parameters
    ----------
    x : ndarray, shape (n, k)
        Design matrix, including the intercept column.
    d : ndarray, shape (n,)
        Binary outcome (0/1).
    weights : ndarray, optional
        Non-negative observation weights.
    tol : float
        Convergence tolerance on the largest absolute Newton step.
    max_iter : int
        Maximum number of Newton steps.

    Returns
    -------
    coef : ndarray, shape (k,)
    fitted : ndarray, shape (n,)
        Fitted probabilities.
    converged : bool

    Raises
    ------
    EstimationError
        When the information matrix is singular (collinear covariates).

    Notes
    -----
    With an intercept only, the maximum-likelihood fit is the weighted share of ones, computed directly.
    """
    x = np.asarray(x, dtype="float64")
    d = np.asarray(d, dtype="float64")
    w = np.ones(d.size) if weights is None else np.asarray(weights, dtype="float64")
    if x.shape[1] == 1 and np.all(x[:, 0] == x[0, 0]) and x[0, 0] != 0:
        p = float(np.sum(w * d) / np.sum(w))
        if not 0 < p < 1:
            return np.array([np.sign(p - 0.5) * np.inf]), np.full(d.size, p), False
        coef = np.array([np.log(p / (1 - p)) / x[0, 0]])
        return coef, np.full(d.size, p), True
    p0 = np.clip(np.sum(w * d) / np.sum(w), 1e-6, 1 - 1e-6)
    beta = np.zeros(x.shape[1])
    # start from the intercept-only fit when the first column is the intercept
    if np.all(x[:, 0] == 1):
        beta[0] = np.log(p0 / (1 - p0))
    converged = False
    for it in range(max_iter):
        eta = x @ beta
        p = expit(eta)
        grad = x.T @ (w * (d - p))
        info = x.T @ ((w * p * (1 - p))[:, None] * x)
        if _rcond(info) < RCOND_MIN:
            if it > 0:
                raise EstimationError("overlap fails: the covariates separate treated from comparison units "
                                      "(fitted propensity scores reach 0 or 1)")
            raise EstimationError("The propensity-score design matrix is singular: the covariates are "
                                  "collinear or do not vary within this comparison. Remove some covariates.")
        step = np.linalg.solve(info, grad)
        beta = beta + step
        if np.max(np.abs(step)) < tol * (1 + np.max(np.abs(beta))):
            converged = True
            break
    return beta, expit(x @ beta), converged


def _wls_controls(x: np.ndarray, dy: np.ndarray, w: np.ndarray, d: np.ndarray) -> np.ndarray:
    """Weighted least squares of the outcome change on the covariates, comparison units only."""
    c = d == 0
    xc, yc, wc = x[c], dy[c], w[c]
    xtx = xc.T @ (wc[:, None] * xc)
    if _rcond(xtx) < RCOND_MIN:
        raise EstimationError("The outcome-regression design matrix of the comparison units is singular: "
                              "too few comparison units for the covariates, or collinear covariates.")
    sw = np.sqrt(wc)
    coef, *_ = np.linalg.lstsq(sw[:, None] * xc, sw * yc, rcond=None)
    return coef


def _ols_lin_rep_factor(x: np.ndarray, w: np.ndarray, d: np.ndarray, resid: np.ndarray,
                        m: np.ndarray) -> np.ndarray:
    """``asy.lin.rep.ols @ m`` without forming the n × k matrix: the OLS estimation effect.

    The asymptotic linear representation of the comparison-unit regression coefficients is
    ``w (1 - D) e x' (X'W(1-D)X / n)^{-1}``; projected on ``m`` it is ``w (1 - D) e · x'(A^{-1} m)``.
    """
    n = d.size
    w_ols = w * (1 - d)
    xpx = (x * w_ols[:, None]).T @ x / n
    if _rcond(xpx) < RCOND_MIN:
        raise EstimationError("The regression design matrix is singular. Consider removing some covariates.")
    v = np.linalg.solve(xpx, m)
    return w_ols * resid * (x @ v)


def reg_did_panel(y1: np.ndarray, y0: np.ndarray, d: np.ndarray, covariates: np.ndarray | None = None,
                  weights: np.ndarray | None = None) -> DidFit:
    """Outcome-regression DiD for panel data (Heckman, Ichimura & Todd 1997; Sant'Anna & Zhao 2020, §2).

    Parameters
    ----------
    y1, y0 : ndarray, shape (n,)
        Outcomes in the later (post) and earlier (base) period.
    d : ndarray, shape (n,)
        1 for treated units, 0 for comparison units.
    covariates : ndarray, shape (n, k), optional
        Design matrix *including* the intercept column; ``None`` means an intercept only.
    weights : ndarray, optional
        Sampling weights (normalised to mean 1).

    Returns
    -------
    DidFit

    Raises
    ------
    EstimationError
        No treated or no comparison units, or a singular regression design.
    """
    dy, d, x, w = _prepare(y1, y0, d, covariates, weights)
    beta = _wls_controls(x, dy, w, d)
    out = x @ beta
    w_t = w * d
    w_c = w * d
    att_t = w_t * dy
    att_c = w_c * out
    eta_t = np.mean(att_t) / np.mean(w_t)
    eta_c = np.mean(att_c) / np.mean(w_c)
    inf_t = (att_t - w_t * eta_t) / np.mean(w_t)
    m1 = np.mean(w_c[:, None] * x, axis=0)
    inf_c = (att_c - w_c * eta_c + _ols_lin_rep_factor(x, w, d, dy - out, m1)) / np.mean(w_c)
    return DidFit(float(eta_t - eta_c), inf_t - inf_c)


def _pscore(x: np.ndarray, d: np.ndarray, w: np.ndarray, trim_level: float,
            fitted: tuple[np.ndarray, bool] | None = None) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    ps, converged = fitted if fitted is not None else logit_fit(x, d, w)[1:]
    if not converged:
        raise EstimationError("The propensity-score logit did not converge (perfect separation of treated "
                              "and comparison units by the covariates?).")
    ps = np.minimum(ps, 1 - PS_CAP)
    trim = np.ones(d.size, dtype=bool)
    trim[d == 0] = ps[d == 0] < trim_level
    wgt = ps * (1 - ps) * w
    info = x.T @ (wgt[:, None] * x)
    if _rcond(info) < RCOND_MIN:
        raise EstimationError("The propensity score design matrix is singular. Consider removing some "
                              "covariates.")
    return ps, trim.astype("float64"), info


def ipw_did_panel(y1: np.ndarray, y0: np.ndarray, d: np.ndarray, covariates: np.ndarray | None = None,
                  weights: np.ndarray | None = None, *, trim_level: float = TRIM_LEVEL,
                  pscore: tuple[np.ndarray, bool] | None = None) -> DidFit:
    """Normalised inverse-probability-weighted DiD for panel data (Abadie 2005; Sant'Anna & Zhao 2020).

    Parameters are those of :func:`reg_did_panel`; ``trim_level`` gives zero weight to comparison units with
    a propensity score at or above it; ``pscore``, the fitted probabilities and convergence flag of
    :func:`logit_fit` on the same design (any positive rescaling of the weights gives the same fit), saves
    refitting it when the caller already has.

    Returns
    -------
    DidFit

    Raises
    ------
    EstimationError
        No treated or no comparison units, a singular design, or a logit that does not converge.
    """
    dy, d, x, w = _prepare(y1, y0, d, covariates, weights)
    n = d.size
    ps, trim, info = _pscore(x, d, w, trim_level, pscore)
    w_t = trim * w * d
    w_c = trim * w * ps * (1 - d) / (1 - ps)
    att_t = w_t * dy
    att_c = w_c * dy
    eta_t = np.mean(att_t) / np.mean(w_t)
    eta_c = np.mean(att_c) / np.mean(w_c)
    inf_t = (att_t - w_t * eta_t) / np.mean(w_t)
    m2 = np.mean((w_c * (dy - eta_c))[:, None] * x, axis=0)
    # score_ps @ (info^{-1} n) @ m2, without the n × k product
    inf_c2 = (w * (d - ps)) * (x @ np.linalg.solve(info, m2)) * n
    inf_c = (att_c - w_c * eta_c + inf_c2) / np.mean(w_c)
    return DidFit(float(eta_t - eta_c), inf_t - inf_c, int(np.sum(trim == 0)))


def dr_did_panel(y1: np.ndarray, y0: np.ndarray, d: np.ndarray, covariates: np.ndarray | None = None,
                 weights: np.ndarray | None = None, *, trim_level: float = TRIM_LEVEL,
                 pscore: tuple[np.ndarray, bool] | None = None) -> DidFit:
    """Locally efficient doubly robust DiD for panel data (Sant'Anna & Zhao 2020, eq. 3.1).

    A logit propensity score and a linear regression of the comparison units' outcome change; consistent
    if either model is right. Parameters are those of :func:`ipw_did_panel`.

    Returns
    -------
    DidFit

    Raises
    ------
    EstimationError
        No treated or no comparison units, a singular design, or a logit that does not converge.
    """
    dy, d, x, w = _prepare(y1, y0, d, covariates, weights)
    n = d.size
    ps, trim, info = _pscore(x, d, w, trim_level, pscore)
    beta = _wls_controls(x, dy, w, d)
    resid = dy - x @ beta
    w_t = trim * w * d
    w_c = trim * w * ps * (1 - d) / (1 - ps)
    dr_t = w_t * resid
    dr_c = w_c * resid
    eta_t = np.mean(dr_t) / np.mean(w_t)
    eta_c = np.mean(dr_c) / np.mean(w_c)
    m1 = np.mean(w_t[:, None] * x, axis=0)
    inf_t = (dr_t - w_t * eta_t - _ols_lin_rep_factor(x, w, d, resid, m1)) / np.mean(w_t)
    m2 = np.mean((w_c * (resid - eta_c))[:, None] * x, axis=0)
    inf_c2 = (w * (d - ps)) * (x @ np.linalg.solve(info, m2)) * n
    m3 = np.mean(w_c[:, None] * x, axis=0)
    inf_c3 = _ols_lin_rep_factor(x, w, d, resid, m3)
    inf_c = (dr_c - w_c * eta_c + inf_c2 - inf_c3) / np.mean(w_c)
    return DidFit(float(eta_t - eta_c), inf_t - inf_c, int(np.sum(trim == 0)))


# ---------------------------------------------------------------------------------------------- public
def _column(df: pd.DataFrame, name: str, what: str) -> np.ndarray:
    if name not in df.columns:
        raise PanelError(f"The {what} column {name!r} is not in the frame. Available columns: "
                         f"{list(df.columns)}.")
    return df[name].to_numpy()


def _binary(v: np.ndarray, name: str) -> np.ndarray:
    vals = pd.to_numeric(pd.Series(v), errors="coerce").to_numpy(dtype="float64")
    bad = ~np.isin(vals, (0.0, 1.0))
    if bad.any():
        raise PanelError(f"The column {name!r} must hold 0/1 (or True/False); it has {int(bad.sum())} other "
                         f"values, e.g. {list(pd.unique(pd.Series(v)[bad]))[:5]}.")
    return vals


def drdid(data: pd.DataFrame, *, outcome: str, treated: str, post: str, unit: str | None = None,
          covariates: list[str] | tuple[str, ...] | None = None, weights: str | None = None,
          method: Method = "dr", trim_level: float = TRIM_LEVEL) -> EffectResult:
    """Two-period difference-in-differences with covariates (Sant'Anna & Zhao 2020).

    The ATT of a before/after comparison of a treated group with a comparison group, conditional parallel
    trends given the covariates: doubly robust (``"dr"``, consistent if either the propensity score or the
    outcome model is right), normalised inverse probability weighting (``"ipw"``, Abadie 2005) or outcome
    regression (``"reg"``, Heckman, Ichimura & Todd 1997). Without covariates all three are the simple
    difference in mean changes.

    Parameters
    ----------
    data : DataFrame
        One row per observation; it is not modified.
    outcome : str
        Outcome column.
    treated : str
        0/1 column: 1 for the treated group (constant within a unit for panel data).
    post : str
        0/1 column: 1 for the later period, 0 for the earlier one.
    unit : str, optional
        Unit id column. Given: panel data, every unit observed once before and once after (the panel
        estimators, covariates taken before). ``None``: repeated cross-sections (every row its own
        individual; the repeated cross-section estimators, covariates of each row).
    covariates : list of str, optional
        Numeric covariate columns (an intercept is added).
    weights : str, optional
        Sampling weights column (normalised to mean 1).
    method : {"dr", "ipw", "reg"}
        Estimator.
    trim_level : float
        Comparison units with a propensity score at or above it get zero weight (``dr`` and ``ipw``).

    Returns
    -------
    EffectResult
        ``method="drdid"``, ``term="ATT"``, the influence function in ``influence`` (one value per unit or
        observation, scaled so that ``std_error = sqrt(sum(influence**2)) / n``); trimmed comparison units
        are counted in ``excluded``.

    Raises
    ------
    PanelError
        Missing columns, non-binary ``treated``/``post``, missing values, or a panel whose units are not
        observed exactly once in each period.
    EstimationError
        No treated or comparison observations in a period, a singular design (naming the covariates), or a
        propensity-score logit that does not converge.

    Examples
    --------
    >>> import pandas as pd
    >>> df = pd.DataFrame({"id": [1, 1, 2, 2, 3, 3, 4, 4], "after": [0, 1] * 4,
    ...                    "d": [1, 1, 1, 1, 0, 0, 0, 0], "y": [1.0, 4.0, 2.0, 5.0, 1.0, 2.0, 3.0, 4.0]})
    >>> round(drdid(df, outcome="y", treated="d", post="after", unit="id").estimate, 6)
    2.0
    """
    if not isinstance(data, pd.DataFrame):
        raise PanelError(f"drdid expects a pandas DataFrame. Got {type(data).__name__} instead.")
    check_option("method", method, ("dr", "ipw", "reg"))
    covs = [covariates] if isinstance(covariates, str) else list(covariates or [])
    cols = [outcome, treated, post, *covs] + [c for c in (unit, weights) if c is not None]
    for c in cols:
        _column(data, c, "requested")
    na = data[cols].isna().any(axis=1)
    if na.any():
        raise PanelError(f"{int(na.sum())} rows have missing values in {cols} (first rows: "
                         f"{list(data.index[na][:5])}); drop or impute them first.")
    y = pd.to_numeric(data[outcome], errors="coerce").to_numpy(dtype="float64")
    d = _binary(data[treated].to_numpy(), treated)
    t = _binary(data[post].to_numpy(), post)
    w = None if weights is None else data[weights].to_numpy(dtype="float64")
    x = None
    if covs:
        x = np.column_stack([np.ones(len(data)), data[covs].to_numpy(dtype="float64")])
    trimmed = 0
    try:
        if unit is None:
            from impactlab.estimators._drdid_rcs import dr_did_rcs, ipw_did_rcs, reg_did_rcs
            if method == "reg":
                fit = reg_did_rcs(y, t, d, x, w)
            else:
                rcs = dr_did_rcs if method == "dr" else ipw_did_rcs
                fit = rcs(y, t, d, x, w, trim_level=trim_level)
            n_units = len(data)
        else:
            ids = data[unit].to_numpy()
            before, after = t == 0, t == 1
            ub, ua = pd.Index(ids[before]), pd.Index(ids[after])
            if ub.has_duplicates or ua.has_duplicates or set(ub) != set(ua):
                raise PanelError(f"With unit={unit!r} every unit must appear exactly once with {post}=0 and "
                                 f"once with {post}=1; {len(set(ub) ^ set(ua))} units appear in one period "
                                 "only and "
                                 f"{int(ub.duplicated().sum() + ua.duplicated().sum())} rows are duplicates. "
                                 "Pass unit=None for repeated cross-sections.")
            ia, ib = np.argsort(ids[after], kind="stable"), np.argsort(ids[before], kind="stable")
            rows_a, rows_b = np.flatnonzero(after)[ia], np.flatnonzero(before)[ib]
            if np.any(d[rows_a] != d[rows_b]):
                raise PanelError(f"The treated column {treated!r} changes within units; it marks the group.")
            xb = None if x is None else x[rows_b]
            wb = None if w is None else w[rows_b]
            args = (y[rows_a], y[rows_b], d[rows_b], xb, wb)
            if method == "reg":
                fit = reg_did_panel(*args)
            else:
                pan = dr_did_panel if method == "dr" else ipw_did_panel
                fit = pan(*args, trim_level=trim_level)
            n_units = len(rows_b)
        trimmed = fit.n_trimmed
    except EstimationError as exc:
        if covs and x is not None:
            from impactlab.estimators.callaway_santanna.data import collinear

            bad = collinear(x[:, 1:], tuple(covs))
            if bad:
                raise EstimationError(f"Covariates {bad} are constant or collinear with the intercept and "
                                      f"the other covariates: {exc} Drop them from covariates=.") from exc
        raise
    psi = fit.influence.copy()
    psi.setflags(write=False)
    se = float(np.sqrt(np.sum(psi**2)) / psi.size)
    excluded = pd.DataFrame({"what": pd.Series(dtype="object"), "id": pd.Series(dtype="object"),
                             "reason": pd.Series(dtype="object")})
    notes: tuple[str, ...] = ()
    if trimmed:
        excluded = pd.DataFrame([("observations", trimmed, "propensity score trimmed: comparison units "
                                  f"with a score of {trim_level} or more got zero weight")],
                                columns=["what", "id", "reason"])
        notes = (f"{trimmed} comparison units trimmed (propensity score >= {trim_level})",)
    label = {"dr": "doubly robust DiD", "ipw": "IPW DiD", "reg": "outcome-regression DiD"}[method]
    return EffectResult(
        estimate=float(fit.att), std_error=se, term="ATT", method="drdid", label=f"Two-period {label}",
        outcome=outcome, n_obs=len(data), n_units=n_units, influence=psi, excluded=excluded,
        spec={"estimator": "drdid", "method": method, "covariates": tuple(covs), "weights": weights,
              "panel": unit is not None, "trim_level": trim_level}, notes=notes)
