"""Two-period difference-in-differences of Sant'Anna & Zhao (2020): the public :func:`drdid` (on a Panel)
and :func:`drdid_frame` (on a frame with 0/1 treated and post columns), and the panel 2×2 estimators
:func:`reg_did_panel`, :func:`ipw_did_panel` and :func:`dr_did_panel` that they and
Callaway–Sant'Anna call for each comparison, with :func:`logit_fit` and the helpers the repeated
cross-section estimators of :mod:`impactlab.estimators._drdid_rcs` share; the formulas and their
references are in ``docs/explanation.md`` ("Two-period DiD").
"""

from __future__ import annotations

import warnings
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Literal

import numpy as np
import pandas as pd

from impactlab.errors import EstimationError, PanelError, StatisticalWarning, check_option
from impactlab.estimators._logit import SEPARATION_EPS, fit_logit, separating
from impactlab.panel import Panel
from impactlab.results.base import EffectResult

__all__ = ["DidFit", "dr_did_panel", "drdid", "drdid_frame", "ipw_did_panel", "logit_fit", "reg_did_panel"]

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

    The six 2×2 estimators (``reg``, ``ipw`` and ``dr``, for panels here and for repeated cross-sections in
    :mod:`impactlab.estimators._drdid_rcs`) take the outcomes, a 0/1 treated indicator ``d``, an optional
    design matrix ``covariates`` *including* the intercept column (``None``: an intercept only) and optional
    sampling ``weights`` (normalised to mean 1), and return a ``DidFit``. The ``ipw`` and ``dr`` ones also
    take ``trim_level``: comparison units with a propensity score at or above it get zero weight. They
    raise :class:`~impactlab.errors.EstimationError` when a group is empty, a design is singular or the
    propensity-score logit does not converge.

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


def _normalised_weights(weights: np.ndarray | None, n: int) -> np.ndarray:
    """Sampling weights rescaled to mean 1 (ones when ``None``); an EstimationError for unusable ones."""
    if weights is None:
        return np.ones(n)
    w = np.asarray(weights, dtype="float64").ravel()
    if w.size != n or np.any(w < 0) or not np.mean(w) > 0:
        raise EstimationError("Weights must be one non-negative number per observation with a positive mean.")
    return w / np.mean(w)


def _prepare(y1: np.ndarray, y0: np.ndarray, d: np.ndarray, covariates: np.ndarray | None,
             weights: np.ndarray | None) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    d = np.asarray(d, dtype="float64").ravel()
    n = d.size
    dy = np.asarray(y1, dtype="float64").ravel() - np.asarray(y0, dtype="float64").ravel()
    if dy.size != n:
        raise EstimationError(f"y1, y0 and D must have the same length; got {dy.size} outcomes and {n} "
                              "treatment indicators.")
    x = np.ones((n, 1)) if covariates is None else np.asarray(covariates, dtype="float64").reshape(n, -1)
    w = _normalised_weights(weights, n)
    if not (np.any(d == 1) and np.any(d == 0)):
        raise EstimationError(f"A 2x2 DiD needs treated and comparison units; got {int(d.sum())} treated "
                              f"and {int((d == 0).sum())} comparison units.")
    return dy, d, x, w


def logit_fit(x: np.ndarray, d: np.ndarray, weights: np.ndarray | None = None, *, tol: float = 1e-8,
              max_iter: int = 25) -> tuple[np.ndarray, np.ndarray, bool]:
    """Weighted logistic regression as R DRDID fits its propensity scores (see
    :func:`impactlab.estimators._logit.fit_logit`: R's iteratively reweighted least squares with step
    halving, convergence on the deviance, covariates scaled internally).

    Parameters
    ----------
    x : ndarray, shape (n, k)
        Design matrix, including the intercept column.
    d : ndarray, shape (n,)
        Binary outcome (0/1).
    weights : ndarray, optional
        Non-negative observation weights.
    tol : float
        Convergence tolerance on the relative change of the deviance.
    max_iter : int
        Maximum number of iterations.

    Returns
    -------
    coef : ndarray, shape (k,)
    fitted : ndarray, shape (n,)
        Fitted probabilities.
    converged : bool
        False when the deviance did not converge or when fitted probabilities reach 0 or 1 (the
        covariates separate the groups).

    Raises
    ------
    EstimationError
        When the design is singular (collinear covariates).
    """
    fit = fit_logit(x, d, weights, tol=tol, max_iter=max_iter)
    return fit.coef, fit.fitted, fit.converged and not fit.separated


@dataclass(frozen=True)
class _Ipw:
    """The propensity score of a 2×2 comparison and the inverse-probability weights built on it.

    ``w_t = trim · w · d`` and ``w_c = trim · w · ps (1 − d) / (1 − ps)``; ``score = w (d − ps)`` and
    ``info`` (the logit's information matrix) give the estimation effect of the fitted score.
    """

    ps: np.ndarray
    trim: np.ndarray
    w_t: np.ndarray
    w_c: np.ndarray
    score: np.ndarray
    info: np.ndarray

    @property
    def n_trimmed(self) -> int:
        return int(np.sum(self.trim == 0))

    def effect(self, x: np.ndarray, m: np.ndarray) -> np.ndarray:
        """Estimation effect of the logit on a weighted mean whose derivative in the coefficients is ``m``
        (``score @ (info^{-1} n) @ m``, without the n × k product)."""
        return self.score * (x @ np.linalg.solve(self.info, m)) * self.score.size


def _not_converged(ps: np.ndarray, w: np.ndarray) -> str:
    """Why a propensity-score logit failed: separation (fitted values at 0 or 1) or no convergence."""
    at_bound = int(np.count_nonzero((w > 0) & ((ps < SEPARATION_EPS) | (ps > 1 - SEPARATION_EPS))))
    if np.all(ps == ps[0]) and at_bound:
        return ("The propensity-score logit did not converge: the treated or the comparison units have no "
                "weight.")
    if at_bound:
        return (f"The propensity-score logit did not converge: fitted propensity scores reach 0 or 1 for "
                f"{at_bound} units, so the covariates separate treated from comparison units (overlap "
                "fails).")
    return "The propensity-score logit did not converge within its iterations."


def _ipw_weights(x: np.ndarray, d: np.ndarray, w: np.ndarray, trim_level: float,
                 fitted: tuple[np.ndarray, bool] | None = None) -> _Ipw:
    """Fit the logit propensity score of ``d`` on ``x`` (or take ``fitted``: probabilities and convergence
    flag of :func:`logit_fit` on the same design), cap it, trim comparison units and build the weights."""
    ps, converged = fitted if fitted is not None else logit_fit(x, d, w)[1:]
    if not converged:
        raise EstimationError(_not_converged(ps, w))
    ps = np.minimum(ps, 1 - PS_CAP)
    trim = np.ones(d.size, dtype=bool)
    trim[d == 0] = ps[d == 0] < trim_level
    info = x.T @ ((ps * (1 - ps) * w)[:, None] * x)
    if _rcond(info) < RCOND_MIN:
        raise EstimationError("The propensity score design matrix is singular. Consider removing some "
                              "covariates.")
    t = trim.astype("float64")
    return _Ipw(ps=ps, trim=t, w_t=t * w * d, w_c=t * w * ps * (1 - d) / (1 - ps), score=w * (d - ps),
               info=info)


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
    """Outcome-regression DiD for panel data (Heckman, Ichimura & Todd 1997; Sant'Anna & Zhao 2020, §2):
    ``y1`` and ``y0`` are each unit's outcomes in the later and the earlier period; the other arguments
    and the result are described in :class:`DidFit`."""
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


def ipw_did_panel(y1: np.ndarray, y0: np.ndarray, d: np.ndarray, covariates: np.ndarray | None = None,
                  weights: np.ndarray | None = None, *, trim_level: float = TRIM_LEVEL,
                  pscore: tuple[np.ndarray, bool] | None = None) -> DidFit:
    """Normalised inverse-probability-weighted DiD for panel data (Abadie 2005; Sant'Anna & Zhao 2020).

    Arguments as :func:`reg_did_panel`, plus ``trim_level`` (see :class:`DidFit`) and ``pscore``: the
    fitted probabilities and convergence flag of :func:`logit_fit` on the same design (any positive
    rescaling of the weights gives the same fit), which saves refitting it when the caller already has.
    """
    dy, d, x, w = _prepare(y1, y0, d, covariates, weights)
    p = _ipw_weights(x, d, w, trim_level, pscore)
    att_t = p.w_t * dy
    att_c = p.w_c * dy
    eta_t = np.mean(att_t) / np.mean(p.w_t)
    eta_c = np.mean(att_c) / np.mean(p.w_c)
    inf_t = (att_t - p.w_t * eta_t) / np.mean(p.w_t)
    m2 = np.mean((p.w_c * (dy - eta_c))[:, None] * x, axis=0)
    inf_c = (att_c - p.w_c * eta_c + p.effect(x, m2)) / np.mean(p.w_c)
    return DidFit(float(eta_t - eta_c), inf_t - inf_c, p.n_trimmed)


def dr_did_panel(y1: np.ndarray, y0: np.ndarray, d: np.ndarray, covariates: np.ndarray | None = None,
                 weights: np.ndarray | None = None, *, trim_level: float = TRIM_LEVEL,
                 pscore: tuple[np.ndarray, bool] | None = None) -> DidFit:
    """Locally efficient doubly robust DiD for panel data (Sant'Anna & Zhao 2020, eq. 3.1): a logit
    propensity score and a linear regression of the comparison units' outcome change, consistent if either
    model is right. Arguments as :func:`ipw_did_panel`."""
    dy, d, x, w = _prepare(y1, y0, d, covariates, weights)
    p = _ipw_weights(x, d, w, trim_level, pscore)
    beta = _wls_controls(x, dy, w, d)
    resid = dy - x @ beta
    dr_t = p.w_t * resid
    dr_c = p.w_c * resid
    eta_t = np.mean(dr_t) / np.mean(p.w_t)
    eta_c = np.mean(dr_c) / np.mean(p.w_c)
    m1 = np.mean(p.w_t[:, None] * x, axis=0)
    inf_t = (dr_t - p.w_t * eta_t - _ols_lin_rep_factor(x, w, d, resid, m1)) / np.mean(p.w_t)
    m2 = np.mean((p.w_c * (resid - eta_c))[:, None] * x, axis=0)
    m3 = np.mean(p.w_c[:, None] * x, axis=0)
    inf_c3 = _ols_lin_rep_factor(x, w, d, resid, m3)
    inf_c = (dr_c - p.w_c * eta_c + p.effect(x, m2) - inf_c3) / np.mean(p.w_c)
    return DidFit(float(eta_t - eta_c), inf_t - inf_c, p.n_trimmed)


# ---------------------------------------------------------------------------------------------- public
_LABEL = {"dr": "doubly robust DiD", "ipw": "IPW DiD", "reg": "outcome-regression DiD"}


def _two_periods(panel: Panel, periods: Sequence[Any] | None) -> tuple[int, int]:
    """Positions (1-based) of the earlier and the later period compared."""
    observed = [_plain(p) for p in panel.periods]
    if periods is None:
        if len(observed) != 2:
            more = " ..." if len(observed) > 3 else ""
            raise PanelError(f"drdid compares two periods; the panel has {len(observed)} "
                             f"({observed[:3]}{more}). Pass periods=(earlier, later) with two of them, or "
                             "use il.callaway_santanna, which uses every period.")
        return 1, 2
    chosen = list(periods) if isinstance(periods, (list, tuple)) else None
    if chosen is None or len(chosen) != 2:
        raise ValueError(f"The 'periods' parameter must be a pair (earlier, later) of the panel's periods. "
                         f"Got {periods!r} instead.")
    pos = []
    for value in chosen:
        hits = [i for i, p in enumerate(observed, start=1) if p == value]
        if not hits:
            raise PanelError(f"Period {value!r} is not a period of the panel. Its periods are "
                             f"{observed[:6]}{' ...' if len(observed) > 6 else ''}.")
        pos.append(hits[0])
    if pos[0] >= pos[1]:
        raise ValueError(f"The 'periods' parameter must give the earlier period first. Got {periods!r}.")
    return pos[0], pos[1]


def _plain(value: Any) -> Any:
    """A period value as the user wrote it (numpy scalars as Python numbers), for messages."""
    return value.item() if isinstance(value, np.generic) else value


def _treated(long: pd.DataFrame, pre: int, post: int, periods: tuple[Any, ...]) -> np.ndarray:
    """0/1 per row: 1 for units treated between the two periods; an error for any other treated cohort."""
    gp = long["cohort_period"].to_numpy()
    by_post = np.unique(gp[(gp > 0) & (gp <= post)])
    if len(by_post) > 1 or (len(by_post) == 1 and by_post[0] <= pre):
        cohorts = [_plain(periods[g - 1]) for g in by_post]
        raise EstimationError(
            f"drdid compares one cohort trained after period {_plain(periods[pre - 1])!r} and by period "
            f"{_plain(periods[post - 1])!r} with employees not trained by then; the panel has units first "
            f"trained in {cohorts}{' (already trained in the earlier period)' if by_post[0] <= pre else ''}. "
            "For staggered roll-outs use il.callaway_santanna, which compares each cohort with units not "
            "yet trained, period by period, and aggregates.")
    return ((gp > pre) & (gp <= post)).astype("float64")


def drdid(panel: Panel, *, method: Method = "dr", covariates: Sequence[str] | None = None,
          weights: str | None = None, periods: Sequence[Any] | None = None,
          repeated_cross_sections: bool = False, trim_level: float = TRIM_LEVEL) -> EffectResult:
    """Two-period difference-in-differences with covariates (Sant'Anna & Zhao 2020).

    The ATT of the units trained between two periods, against the units not trained by the later one,
    under parallel trends given the covariates: doubly robust (``"dr"``, consistent if either the
    propensity score or the outcome model is right), normalised inverse probability weighting (``"ipw"``,
    Abadie 2005) or outcome regression (``"reg"``, Heckman, Ichimura & Todd 1997). Without covariates all
    three are the simple difference in mean changes. For a frame with 0/1 treated and post columns, use
    :func:`drdid_frame`.

    Parameters
    ----------
    panel : Panel
        The panel; it is not modified. Treated: the units whose cohort starts after the earlier period
        and by the later one. Comparison: the units not treated by the later period (never treated, or
        treated later).
    method : {"dr", "ipw", "reg"}
        Estimator.
    covariates : list of str, optional
        Panel covariates to condition on, taken in the earlier period for panel data (an intercept is
        added). ``None``: no covariates.
    weights : str, optional
        Panel column (a covariate) with sampling weights, taken in the earlier period for panel data;
        normalised to mean 1.
    periods : pair of period values, optional
        The earlier and the later period compared, among ``panel.periods``. ``None``: the panel must have
        exactly two periods.
    repeated_cross_sections : bool
        Treat every row as a different individual (survey waves): the repeated cross-section estimators,
        covariates of each row's own period. ``False``: panel data, units observed in only one of the two
        periods are left out (listed in ``.excluded``).
    trim_level : float
        Comparison units with a propensity score at or above it get zero weight (``dr`` and ``ipw``).

    Returns
    -------
    EffectResult
        A new result; the panel is not modified. ``method="drdid"``, ``term="ATT"``, the influence function
        in ``influence`` (one value per unit or, for repeated cross-sections, per observation, scaled so
        that ``std_error = sqrt(sum(influence**2)) / n``); trimmed comparison units and units left out are
        listed in ``excluded``.

    Raises
    ------
    PanelError
        A covariate or weights column that is not in the panel, a period that is not one of the panel's,
        or a panel with more than two periods and no ``periods=``.
    EstimationError
        A staggered design (more than one treated cohort by the later period, or units treated already in
        the earlier one: use :func:`~impactlab.estimators.callaway_santanna.callaway_santanna`), no treated
        or comparison units, a singular design (naming the covariates), or a propensity-score logit that
        does not converge.

    Warns
    -----
    StatisticalWarning
        Units of a panel observed in only one of the two periods, left out.

    Examples
    --------
    >>> import pandas as pd
    >>> from impactlab.panel import Panel
    >>> df = pd.DataFrame({"id": [1, 1, 2, 2, 3, 3, 4, 4], "month": [1, 2] * 4,
    ...                    "first": [2, 2, 2, 2, 0, 0, 0, 0], "y": [1.0, 4.0, 2.0, 5.0, 1.0, 2.0, 3.0, 4.0]})
    >>> panel = Panel.from_frame(df, unit="id", time="month", outcome="y", cohort="first")
    >>> round(drdid(panel).estimate, 6)
    2.0
    """
    if isinstance(panel, pd.DataFrame):
        raise PanelError("drdid expects an impactlab Panel. Got a DataFrame instead: build a panel with "
                         "Panel.from_frame(df, unit=..., time=..., outcome=..., cohort=...), or use "
                         "il.drdid_frame(df, outcome=..., treated=..., post=..., unit=...) for 0/1 treated "
                         "and post columns.")
    if not isinstance(panel, Panel):
        raise PanelError(f"drdid expects an impactlab Panel. Got {type(panel).__name__} instead.")
    check_option("method", method, ("dr", "ipw", "reg"))
    if not isinstance(repeated_cross_sections, (bool, np.bool_)):
        raise ValueError("The 'repeated_cross_sections' parameter must be True or False. Got "
                         f"{repeated_cross_sections!r} instead.")
    covs = list(dict.fromkeys([covariates] if isinstance(covariates, str) else (covariates or [])))
    for name, what in [(c, "covariate") for c in covs] + ([(weights, "weights")] if weights else []):
        if name not in panel.covariates:
            raise PanelError(f"The {what} column {name!r} is not a covariate of the panel; its covariates "
                             f"are {list(panel.covariates)}. Add it with covariates=[...] when building the "
                             "panel.")
    pre, post = _two_periods(panel, periods)
    long = panel.long()
    long = long[long["period"].isin((pre, post))]
    excluded: list[tuple[str, Any, str]] = []
    notes: list[str] = []
    if not repeated_cross_sections:
        both = long.groupby("unit", sort=False)["period"].transform("size").to_numpy() == 2
        if not both.all():
            lone = pd.unique(long["unit"].to_numpy()[~both])
            msg = (f"{len(lone)} units observed in only one of the two periods were left out (panel data "
                   "need both; repeated_cross_sections=True uses every row).")
            warnings.warn(msg, StatisticalWarning, stacklevel=2)
            notes.append(msg)
            excluded += [("unit", u, "observed in only one of the two periods") for u in lone]
            long = long[both]
    d = _treated(long, pre, post, panel.periods)
    later = long["period"].to_numpy() == post
    y = long["outcome"].to_numpy(dtype="float64")
    x = None if not covs else np.column_stack([np.ones(len(long)), long[covs].to_numpy(dtype="float64")])
    w = None if weights is None else long[weights].to_numpy(dtype="float64")
    trim = {} if method == "reg" else {"trim_level": trim_level}
    try:
        if repeated_cross_sections:
            from impactlab.estimators._drdid_rcs import dr_did_rcs, ipw_did_rcs, reg_did_rcs

            rcs = {"dr": dr_did_rcs, "ipw": ipw_did_rcs, "reg": reg_did_rcs}[method]
            fit = rcs(y, later, d, x, w, **trim)
        else:
            first = ~later  # the panel is sorted by unit, then period: rows alternate earlier, later
            pan = {"dr": dr_did_panel, "ipw": ipw_did_panel, "reg": reg_did_panel}[method]
            fit = pan(y[later], y[first], d[first], None if x is None else x[first],
                      None if w is None else w[first], **trim)
    except EstimationError as exc:
        if x is not None:
            from impactlab.estimators.callaway_santanna.data import collinear

            bad = collinear(x[:, 1:], tuple(covs))
            if bad:
                raise EstimationError(f"Covariates {bad} are constant or collinear with the intercept and "
                                      f"the other covariates: {exc} Drop them from covariates=.") from exc
            if "separate" in str(exc):
                found = separating(x[:, 1:], d, covs, w)
                raise EstimationError(f"{exc} {separation_culprits(found, covs)}") from exc
        raise
    psi = fit.influence.copy()
    psi.setflags(write=False)
    se = float(np.sqrt(np.sum(psi**2)) / psi.size)
    if fit.n_trimmed:
        excluded.append(("observations", fit.n_trimmed, "propensity score trimmed: comparison units with a "
                         f"score of {trim_level} or more got zero weight"))
        notes.append(f"{fit.n_trimmed} comparison units trimmed (propensity score >= {trim_level})")
    chosen = (_plain(panel.periods[pre - 1]), _plain(panel.periods[post - 1]))
    return EffectResult(
        estimate=float(fit.att), std_error=se, term="ATT", method="drdid",
        label=f"Two-period {_LABEL[method]}", outcome=panel.outcome, n_obs=len(long), n_units=psi.size,
        influence=psi,
        excluded=pd.DataFrame(excluded, columns=["what", "id", "reason"]).astype("object"),
        spec={"estimator": "drdid", "method": method, "covariates": tuple(covs), "weights": weights,
              "periods": chosen, "repeated_cross_sections": bool(repeated_cross_sections),
              "trim_level": trim_level}, notes=tuple(notes))


def separation_culprits(found: Sequence[str], names: Sequence[str]) -> str:
    """The sentence naming the covariates that separate treated from comparison units: ``found``, those
    whose values do not overlap between the groups (see :func:`impactlab.estimators._logit.separating`),
    among the covariates ``names``."""
    if found:
        return (f"Covariates whose values do not overlap between the two groups: {list(found)} (one group "
                "lies entirely at or beyond the other's extreme value).")
    return f"No single covariate separates them; a combination of {list(names)} does."


def _binary(v: pd.Series, name: str) -> np.ndarray:
    vals = pd.to_numeric(v, errors="coerce").to_numpy(dtype="float64")
    bad = ~np.isin(vals, (0.0, 1.0))
    if bad.any():
        raise PanelError(f"The column {name!r} must hold 0/1 (or True/False); it has {int(bad.sum())} other "
                         f"values, e.g. {list(pd.unique(v[bad]))[:5]}.")
    return vals


def drdid_frame(data: pd.DataFrame, *, outcome: str, treated: str, post: str, unit: str | None = None,
                covariates: Sequence[str] | None = None, weights: str | None = None, method: Method = "dr",
                trim_level: float = TRIM_LEVEL) -> EffectResult:
    """:func:`drdid` on a frame that marks the treated group and the later period with 0/1 columns.

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
        Unit id column. Given: panel data, each unit observed once in each period (covariates and weights
        taken in the earlier period). ``None``: repeated cross-sections, every row its own individual.
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
        As :func:`drdid`; the frame is not modified.

    Raises
    ------
    PanelError
        Missing columns, non-binary ``treated``/``post``, missing values, a unit observed twice in a
        period or whose ``treated`` value changes.
    EstimationError
        As :func:`drdid`.

    Examples
    --------
    >>> import pandas as pd
    >>> df = pd.DataFrame({"id": [1, 1, 2, 2, 3, 3, 4, 4], "after": [0, 1] * 4,
    ...                    "d": [1, 1, 1, 1, 0, 0, 0, 0], "y": [1.0, 4.0, 2.0, 5.0, 1.0, 2.0, 3.0, 4.0]})
    >>> round(drdid_frame(df, outcome="y", treated="d", post="after", unit="id").estimate, 6)
    2.0
    """
    if not isinstance(data, pd.DataFrame):
        raise PanelError(f"drdid_frame expects a pandas DataFrame. Got {type(data).__name__} instead.")
    check_option("method", method, ("dr", "ipw", "reg"))
    covs = list(dict.fromkeys([covariates] if isinstance(covariates, str) else (covariates or [])))
    named = [outcome, treated, post, *covs, unit, weights]
    cols = list(dict.fromkeys(c for c in named if c is not None))
    missing = [c for c in cols if c not in data.columns]
    if missing:
        raise PanelError(f"Columns {missing} are not in the frame. Available columns: {list(data.columns)}.")
    na = data[cols].isna().any(axis=1)
    if na.any():
        raise PanelError(f"{int(na.sum())} rows have missing values in {cols} (first rows: "
                         f"{list(data.index[na][:5])}); drop or impute them first.")
    # the treated column becomes the cohort: 1 = first treated in the later period (post = 1), 0 = never
    frame = data[cols].assign(**{treated: _binary(data[treated], treated), post: _binary(data[post], post)})
    row = unit
    if row is None:
        row = next(name for name in ("row", "_row", "__row") if name not in frame.columns)
        frame[row] = np.arange(len(frame))
    else:
        rows = frame.groupby(unit, sort=False)[post].transform("size").to_numpy()
        if (rows != 2).any():
            raise PanelError(f"With unit={unit!r} every unit must appear exactly once with {post}=0 and once "
                             f"with {post}=1; {int((rows == 1).sum())} units appear once and "
                             f"{int((rows > 2).sum())} rows belong to units that appear more than twice. "
                             "Pass unit=None for repeated cross-sections.")
    extra = covs + ([weights] if weights is not None and weights not in covs else [])
    panel = Panel.from_frame(frame, unit=row, time=post, outcome=outcome, cohort=treated, covariates=extra)
    return drdid(panel, method=method, covariates=covs, weights=weights, repeated_cross_sections=unit is None,
                 trim_level=trim_level)
