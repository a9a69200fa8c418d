"""The imputation estimator of Borusyak, Jaravel & Spiess (2024) for staggered roll-outs.

Unit and period effects (and covariates) are fitted by least squares on the untreated observations only:
never-trained employees, employees not yet trained, and trained employees before their cohort's period
minus ``anticipation``. Each trained observation's untreated outcome is imputed from its unit's and
period's effects, and the effect of training is the observed minus the imputed outcome, averaged over the
trained observations (overall, by event time, by cohort). Unbalanced panels need no special treatment:
every employee with an untreated observation gets a unit effect, hires and leavers included.

The two-way least squares is solved exactly through the normal equations with the unit block eliminated
(the unit block is diagonal, so only the period-and-covariate block, of size ``T + K``, is factorised):
no unit-dummy matrix and no iteration, and the same factorisation gives the observation weights of the
conservative variance for every aggregation at once.

Without covariates, and with employees nested in the clusters, every sum runs on the units × periods grid
with the units ordered by cohort (:mod:`impactlab.estimators._imputation_grid`): about ten passes over
the observations in all. Covariates and clusters that employees move between take the row-wise
computation below; both give the same numbers (to rounding, ``tests/estimators/test_imputation_grid.py``).

References
----------
K. Borusyak, X. Jaravel and J. Spiess (2024), "Revisiting event-study designs: robust and efficient
estimation", *Review of Economic Studies* 91(6), 3253-3285: Theorem 2 (the imputation estimator and its
weights), Theorem 3 (the conservative variance with the auxiliary cohort × event-time averages), and
Test 1 (the pre-trend test on untreated observations).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
import scipy.linalg
from scipy import sparse

from impactlab.estimators._blocked import _mm, _tmm
from impactlab.estimators._common import check_panel, resolve_covariates
from impactlab.estimators._eventtime import EventStudyResult, WaldTest
from impactlab.estimators._imputation_grid import (
    Fit,
    _sum_by,
    cho,
    grid_fit,
    lead_table,
    need,
    need_imputable,
    singular,
)
from impactlab.estimators._imputation_grid import cohort_labels as _cohort_labels
from impactlab.estimators._imputation_grid import ledger as _ledger
from impactlab.estimators._imputation_grid import unit_codes as _unit_codes
from impactlab.panel import Panel
from impactlab.results.base import EffectResult, _fmt

__all__ = ["ImputationResult", "imputation"]

#: Below this many clusters the conservative variance rests on few independent pieces of information.
FEW_CLUSTERS = 30


# ------------------------------------------------------------------------------------------ the result
@dataclass(frozen=True, repr=False, eq=False)
class ImputationResult(EventStudyResult):
    """The imputation estimator's result: the overall effect, by event time and by cohort, and Test 1.

    ``estimate`` is the average effect over every trained observation from the period of training on
    (event time 0 and later, term ``"ATT"``); ``elements`` holds one row per event time (``event_time``,
    ``estimate``, ``std_error``, ``n_obs``), from ``-anticipation`` (the anticipation window, where the
    effect may already show) to the last observed. ``element_vcov`` is their covariance (the conservative
    variance of Theorem 3 extended to pairs). ``cells`` holds the cohort × event-time averages.

    Attributes
    ----------
    by_cohort : EffectResult
        The same headline with one element per cohort (``cohort``, ``estimate``, ``std_error``, ``n_obs``):
        the average effect over each cohort's observations from its training on.
    leads : DataFrame or None
        The pre-trend coefficients of Test 1 (``event_time``, ``estimate``, ``std_error``, ``n_obs``),
        relative to the last period before the anticipation window; ``pretrend`` is their joint test.
    """

    by_cohort: EffectResult | None = None
    leads: pd.DataFrame | None = None

    def __repr__(self) -> str:
        return (f"ImputationResult(estimate={self.estimate:.6g}, std_error={self.std_error:.6g}, "
                f"event_times={self._event_times()}, n_units={self.n_units})")

    def summary(self, level: float = 0.95) -> str:
        """Plain-text summary: the overall effect, the pre-trend test, each event time and each cohort."""
        text = super().summary(level)
        if self.by_cohort is not None and self.by_cohort.elements is not None:
            rows = self.by_cohort.tidy(level).iloc[1:].drop(columns=["method"])
            text += "\n  by cohort:\n" + rows.to_string(index=False)
        return text


# ------------------------------------------------------------------------------- exact two-way least squares
#: Above this many unit × period cells the incidence matrix is kept sparse rather than dense.
DENSE_CELLS = 30_000_000


def _dense(x: Any) -> np.ndarray:
    return x.toarray() if sparse.issparse(x) else np.asarray(x)


def _tprod(a: Any, b: Any) -> np.ndarray:
    """``a.T @ b``; for dense tall arrays in row blocks (one-thread BLAS calls, see ``_blocked``)."""
    if isinstance(a, np.ndarray) and isinstance(b, np.ndarray):
        return _tmm(a, b)
    return _dense(a.T @ b)


def _prod(a: Any, b: Any) -> np.ndarray:
    """``a @ b``; for a dense tall ``a`` in row blocks."""
    if isinstance(a, np.ndarray) and isinstance(b, np.ndarray):
        return _mm(a, b, np.empty((a.shape[0], *b.shape[1:])))
    return _dense(a @ b)


def _by_pair(rows: np.ndarray, cols: np.ndarray, values: np.ndarray, shape: tuple[int, int],
             dense: bool = True) -> Any:
    """The rows × cols matrix of sums of ``values`` by (row, col) pair: dense when small (and ``dense``),
    else CSR, built without sorting when ``rows`` is non-decreasing (unit codes of the unit-sorted panel
    are; repeated pairs are then summed by the products)."""
    if dense and shape[0] * shape[1] <= DENSE_CELLS:
        return np.bincount(rows * shape[1] + cols, weights=values, minlength=shape[0] * shape[1]) \
            .reshape(shape)
    if len(rows) < 2 or bool((rows[1:] >= rows[:-1]).all()):
        indptr = np.concatenate([[0], np.cumsum(np.bincount(rows, minlength=shape[0]))])
        return sparse.csr_matrix((values, cols, indptr), shape=shape)
    return sparse.csr_matrix((values, (rows, cols)), shape=shape)


class _TwoWay:
    """Normal equations of ``y = alpha_unit + gamma_period + X beta`` on a set of rows, the unit block
    eliminated (Schur complement on the period-and-covariate block; the first period's effect is 0).

    ``solve`` returns the coefficients for any right-hand sides of the normal equations, which serves both
    the fit (right-hand side ``A'y``) and the imputation weights of Theorem 3 (``A_1'w``)."""

    def __init__(self, u: np.ndarray, t: np.ndarray, n_units: int, n_periods: int, X: np.ndarray):
        self.u, self.t, self.X = u, t, X
        self.n_units, self.n_periods = n_units, n_periods
        self.inv_u = 1.0 / np.bincount(u, minlength=n_units).astype("float64")
        cnt_t = np.bincount(t, minlength=n_periods).astype("float64")
        self.N = _by_pair(u, t, np.ones(len(u)), (n_units, n_periods))  # unit × period incidence
        self.Xu = _sum_by(u, X, n_units)
        Xt = _sum_by(t, X, n_periods)
        DN = self.N.multiply(self.inv_u[:, None]) if sparse.issparse(self.N) else self.inv_u[:, None] * self.N
        ntdn = _tprod(self.N, DN)
        s_pp = (np.diag(cnt_t) - ntdn)[1:, 1:]
        s_px = (Xt - _tprod(self.N, self.inv_u[:, None] * self.Xu))[1:]
        s_xx = _tprod(X, X) - _tprod(self.Xu, self.inv_u[:, None] * self.Xu)
        self.S = np.block([[s_pp, s_px], [s_px.T, s_xx]])
        self.factor = cho(self.S)

    def rhs(self, M: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """``A'M`` for columns ``M`` on these rows, as (unit block, period-and-covariate block)."""
        return _sum_by(self.u, M, self.n_units), np.vstack([_sum_by(self.t, M, self.n_periods)[1:],
                                                            _tprod(self.X, M)])

    def solve(self, b_u: np.ndarray, b_s: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """(unit effects, period effects with the first at 0, covariate coefficients) solving the normal
        equations with right-hand sides ``b_u``, ``b_s`` (one column per right-hand side)."""
        p = self.n_periods - 1
        db = self.inv_u[:, None] * b_u
        r = b_s - np.vstack([_tprod(self.N, db)[1:], _tprod(self.Xu, db)])
        z_s = scipy.linalg.cho_solve(self.factor, r)
        periods = np.vstack([np.zeros((1, z_s.shape[1])), z_s[:p]])
        z_u = self.inv_u[:, None] * (b_u - _prod(self.N, periods) - _prod(self.Xu, z_s[p:]))
        return z_u, periods, z_s[p:]

    def predict(self, coef: tuple[np.ndarray, np.ndarray, np.ndarray], u: np.ndarray, t: np.ndarray,
                X: np.ndarray) -> np.ndarray:
        z_u, periods, beta = coef
        out = z_u[u] + periods[t]
        return out + _prod(X, beta) if X.shape[1] else out


# ------------------------------------------------------------------------------------------ the estimator
def imputation(panel: Panel, *, anticipation: int = 0,
               covariates: Sequence[str] | None = None) -> ImputationResult:
    """The imputation estimator of Borusyak, Jaravel & Spiess (2024) for staggered roll-outs.

    Unit and period effects (and ``covariates``) are fitted by least squares on every untreated
    observation: never-trained employees, employees not yet trained, and trained employees before their
    period of training minus ``anticipation``. The untreated outcome of each trained observation is
    imputed from them, and its effect is the observed minus the imputed outcome. Unbalanced panels are
    used as they are: hires and leavers keep every row.

    Parameters
    ----------
    panel : Panel
        The employee × period panel; it is not modified.
    anticipation : int
        Number of periods before training in which its effect may already show (e.g. a dip while people
        wait for the course). Those observations are left out of the fit of the untreated outcomes; their
        effects are reported as event times ``-anticipation .. -1`` and are not in the headline.
    covariates : sequence of str, optional
        Time-varying panel covariates added to the model of untreated outcomes.

    Returns
    -------
    ImputationResult
        The average effect over trained observations from training on (``estimate``), by event time
        (``elements``) and by cohort (``by_cohort``), with the conservative standard errors of the paper's
        Theorem 3 clustered by the panel's cluster (the employee by default), the pre-trend test
        (``pretrend``, Test 1) and ``excluded``: employees with no untreated observation (trained from
        their first observed period) have no unit effect, so their trained observations are left out, as
        are trained observations in a period with no untreated observation. A new result; the panel is
        not modified.

    Notes
    -----
    The standard error is the paper's conservative one: observation weights ``v`` (``1/N`` on the
    averaged trained observations, and the implied weights of the fit on the untreated ones), residuals
    of the untreated fit, and for trained observations the effect minus its cohort × event-time average;
    the variance is the sum over clusters of the squared sums of ``v × residual``. It equals diff-diff's
    ``ImputationDiD`` and R ``didimputation``. Test 1 regresses the untreated outcomes on unit and period
    effects and one indicator per pre-training event time (before the anticipation window, the last one
    being the reference) and tests them jointly (cluster-robust F with ``G - 1`` degrees of freedom).
    When those indicators are collinear with the unit and period effects (as can happen when every
    employee is trained in the end), there is no test: ``pretrend`` and ``leads`` are ``None``.

    Examples
    --------
    >>> import impactlab as il
    >>> panel = il.datasets.example_panel()
    >>> res = il.imputation(panel)
    >>> round(res.estimate, 6) == round(res.tidy()["estimate"].iloc[0], 6)
    True
    """
    return _estimate(panel, anticipation, covariates, name="imputation", result_cls=ImputationResult,
                     label="Imputation (Borusyak, Jaravel & Spiess)", gardner=False)


def _estimate(panel: Panel, anticipation: int, covariates: Sequence[str] | None, *, name: str,
              result_cls: type[ImputationResult], label: str, gardner: bool) -> Any:
    """The fit on untreated observations and the effects of every target, with the conservative variance
    of Borusyak, Jaravel & Spiess or (``gardner``) the two-stage GMM variance of Gardner (2022), whose
    trained residuals are taken about each target's own average rather than its cohort × event-time
    cells' (:func:`impactlab.estimators.two_stage`). Test 1 tests the untreated fit both share."""
    panel = check_panel(panel, name)
    if isinstance(anticipation, bool) or not isinstance(anticipation, (int, np.integer)) or anticipation < 0:
        raise ValueError(f"The 'anticipation' parameter of {name} must be a non-negative integer. "
                         f"Got {anticipation!r} instead.")
    a = int(anticipation)
    covs = resolve_covariates(panel, covariates)
    fit = grid_fit(panel, a) if not covs else None
    if fit is None:
        fit = _row_fit(panel, a, covs)
    cell_g, cell_e, cell_n, cell_sum = fit.cell_g, fit.cell_e, fit.cell_n, fit.cell_sum
    n_cells = len(cell_n)

    # targets: the overall effect, each event time, each cohort (weights per cell, 1/N over its observations)
    post = cell_e >= 0
    event_times = np.unique(cell_e)
    cohorts = np.unique(cell_g[post])
    W = np.zeros((n_cells, 1 + len(event_times) + len(cohorts)))
    W[post, 0] = 1.0 / cell_n[post].sum()
    for j, h in enumerate(event_times, start=1):
        on = cell_e == h
        W[on, j] = 1.0 / cell_n[on].sum()
    for j, g in enumerate(cohorts, start=1 + len(event_times)):
        on = post & (cell_g == g)
        W[on, j] = 1.0 / cell_n[on].sum()
    n_obs_target = cell_n @ (W > 0)
    estimates = cell_sum @ W
    # Gardner's second stage fits each target's own average to its trained observations
    vcov = fit.vcov(W, np.broadcast_to(estimates, W.shape) if gardner else None)
    se = np.sqrt(np.maximum(np.diag(vcov), 0.0))

    label_of, clusters, excluded = fit.label_of, fit.clusters, fit.excluded
    h_idx = np.arange(1, 1 + len(event_times))
    c_idx = np.arange(1 + len(event_times), W.shape[1])
    elements = pd.DataFrame({"term": [f"ATT(event_time={int(h)})" for h in event_times],
                             "event_time": event_times.astype(np.int64), "estimate": estimates[h_idx],
                             "std_error": se[h_idx], "n_obs": n_obs_target[h_idx].astype(np.int64)})
    cells = pd.DataFrame({"cohort": [label_of[g] for g in cell_g], "event_time": cell_e.astype(np.int64),
                          "estimate": cell_sum / cell_n, "n_obs": cell_n.astype(np.int64)})
    n_obs = fit.n_obs
    notes: list[str] = []
    if clusters < FEW_CLUSTERS:
        notes.append(f"Only {clusters} clusters: the standard errors rest on few independent groups and may "
                     "be too small.")
    if len(excluded):
        notes.append(f"{fit.n_left} trained observations could not be imputed (see .excluded).")
    spec = {"estimator": name, "anticipation": a, "covariates": covs,
            "cluster": panel.cluster or "unit", "first_period": panel.periods[0] if panel.periods else None,
            "last_period": panel.periods[-1] if panel.periods else None}
    common: dict[str, Any] = dict(method=name, outcome=panel.outcome, n_obs=n_obs,
                                  n_units=fit.n_units, excluded=excluded, spec=spec, notes=tuple(notes))
    by_cohort = EffectResult(
        estimate=float(estimates[0]), std_error=float(se[0]), term="ATT",
        label=f"{label} by cohort",
        elements=pd.DataFrame({"term": [f"ATT(cohort={_fmt(label_of[g])})" for g in cohorts],
                               "cohort": [label_of[g] for g in cohorts], "estimate": estimates[c_idx],
                               "std_error": se[c_idx], "n_obs": n_obs_target[c_idx].astype(np.int64)}),
        element_vcov=vcov[np.ix_(c_idx, c_idx)], **common)
    leads, pretrend = fit.test_one()
    return result_cls(
        estimate=float(estimates[0]), std_error=float(se[0]), term="ATT",
        label=label, elements=elements,
        element_vcov=vcov[np.ix_(h_idx, h_idx)], pretrend=pretrend, cells=cells, by_cohort=by_cohort,
        leads=leads, **common)


# ------------------------------------------------------------------------------------------ row-wise fit
def _row_fit(panel: Panel, a: int, covs: list[str]) -> Fit:
    """The fit on the rows of the panel, for covariates and clusters that cut across units (and panels
    whose units × periods grid would be mostly holes)."""
    long = panel._long  # read only
    n = len(long)
    unit_codes, unit_ids = _unit_codes(long["unit"])
    period = long["period"].to_numpy().astype(np.int64)
    gp = long["cohort_period"].to_numpy().astype(np.int64)
    y = long["outcome"].to_numpy(dtype="float64")
    X = (np.column_stack([long[c].to_numpy(dtype="float64") for c in covs]) if covs
         else np.zeros((n, 0)))
    ever = gp > 0
    ev = np.where(ever, period - gp, 0)
    untreated = ~ever | (period < gp - a)
    window = ever & ~untreated  # event time >= -anticipation
    need(bool(window.any()), bool(untreated.any()))
    n_all_units = len(unit_ids)
    has_u = np.bincount(unit_codes[untreated], minlength=n_all_units) > 0
    has_t = np.bincount(period[untreated], minlength=panel.n_periods + 1) > 0
    kept = window & has_u[unit_codes] & has_t[period]
    no_unit = window & ~has_u[unit_codes]
    no_period = window & has_u[unit_codes] & ~has_t[period]
    excluded = _ledger(unit_ids, np.bincount(unit_codes[no_unit], minlength=n_all_units), panel.periods,
                       np.bincount(period[no_period], minlength=len(has_t))[1:])
    need_imputable(bool((kept & (ev >= 0)).any()))

    # compact codes of the untreated fit
    u_map = np.cumsum(has_u) - 1
    t_map = np.cumsum(has_t) - 1
    n_u0, n_t0 = int(has_u.sum()), int(has_t.sum())
    i0, i1 = np.flatnonzero(untreated), np.flatnonzero(kept)
    u0, t0, u1, t1 = u_map[unit_codes[i0]], t_map[period[i0]], u_map[unit_codes[i1]], t_map[period[i1]]
    X0, X1 = X[i0], X[i1]
    fe = _TwoWay(u0, t0, n_u0, n_t0, X0)
    coef = fe.solve(*fe.rhs(y[i0][:, None]))
    eps0 = y[i0] - fe.predict(coef, u0, t0, X0)[:, 0]
    tau = y[i1] - fe.predict(coef, u1, t1, X1)[:, 0]

    # cohort × event-time cells of the trained observations
    g1, e1 = gp[i1], ev[i1]
    span = int(e1.max()) + a + 1
    cell_key, cell = np.unique((g1 * span + (e1 + a)), return_inverse=True)
    n_cells = len(cell_key)
    cell_n = np.bincount(cell, minlength=n_cells).astype("float64")
    cell_sum = np.bincount(cell, weights=tau, minlength=n_cells)
    c0, c1, clusters, nested = _clusters(long, panel, u0, u1, i0, i1, n_u0)
    return Fit(cell_g=cell_key // span, cell_e=cell_key % span - a, cell_n=cell_n, cell_sum=cell_sum,
               n_units=n_u0, n_obs=len(i0) + len(i1), n_left=int((window & ~kept).sum()), clusters=clusters,
               excluded=excluded, label_of=_cohort_labels(long["cohort"].to_numpy(), gp),
               vcov=lambda W, fitted=None: _conservative_vcov(fe, c0, c1, clusters, nested, u1, t1, X1, eps0,
                                                              tau, cell, cell_sum / cell_n, W, fitted),
               test_one=lambda: _test_one(long, fe, i0, ev, a, c0, clusters, nested,
                                          eps0 if not covs else None))


# ------------------------------------------------------------------------------------------ pieces
def _conservative_vcov(fe: _TwoWay, c0: np.ndarray, c1: np.ndarray, n_clusters: int, nested: bool,
                       u1: np.ndarray, t1: np.ndarray, X1: np.ndarray, eps0: np.ndarray, tau: np.ndarray,
                       cell: np.ndarray, cell_mean: np.ndarray, W: np.ndarray,
                       fitted: np.ndarray | None = None) -> np.ndarray:
    """Theorem 3's conservative covariance of the targets (columns of ``W``).

    For a target with weights ``w`` on the trained observations, the untreated observations carry
    ``v = -A_0 (A_0'A_0)^{-1} A_1'w`` (what the imputed outcomes take from each of them). The trained
    residual is the effect minus its cohort × event-time average (each target's weights are equal within
    a cell, so the paper's weighted average is the cell mean), the untreated one the fit's residual;
    ``psi_c = sum over cluster c of v × residual`` and the covariance is ``Psi'Psi``. Sums by cluster and
    period (and unit, when units are not nested in clusters: otherwise the untreated residuals sum to zero
    within each unit) replace the observation-level weights.

    With ``fitted`` (cells × targets), the trained residual is the effect minus ``fitted`` instead of its
    cell's mean: Gardner's two-stage variance (see :mod:`impactlab.estimators.two_stage`)."""
    n_cells = W.shape[0]
    # A_1'w by unit, period and covariate, for every target: through the unit × cell counts B (sparse), so
    # that the unit block is eliminated without a units × targets array (needed only for non-nested clusters)
    B = _by_pair(u1, cell, np.ones(len(u1)), (fe.n_units, n_cells), dense=False)
    DB = B.multiply(fe.inv_u[:, None]).tocsr()
    ntdb = _dense(DB.T @ fe.N).T  # periods × cells: N' D^-1 B
    xtdb = _dense(DB.T @ fe.Xu).T if fe.X.shape[1] else np.zeros((0, n_cells))
    b_t = np.bincount(t1 * n_cells + cell, minlength=fe.n_periods * n_cells).reshape(fe.n_periods, n_cells)
    b_x = _sum_by(cell, X1, n_cells).T
    r = np.vstack([((b_t - ntdb) @ W)[1:], (b_x - xtdb) @ W])
    z_s = scipy.linalg.cho_solve(fe.factor, r)
    p = fe.n_periods - 1
    z_t, z_x = np.vstack([np.zeros((1, W.shape[1])), z_s[:p]]), z_s[p:]
    G = n_clusters
    psi = -_prod(_by_pair(c0, fe.t, eps0, (G, fe.n_periods)), z_t)
    if not nested:
        z_u = fe.inv_u[:, None] * (_prod(B, W) - _prod(fe.N, z_t) - _prod(fe.Xu, z_x))
        psi -= _prod(_by_pair(c0, fe.u, eps0, (G, fe.n_units), dense=False), z_u)
    if fe.X.shape[1]:
        psi -= _prod(_sum_by(c0, eps0[:, None] * fe.X, G), z_x)
    psi += _prod(_by_pair(c1, cell, tau - cell_mean[cell], (G, n_cells)), W)
    if fitted is not None:
        psi += _prod(_by_pair(c1, cell, np.ones(len(c1)), (G, n_cells)), (cell_mean[:, None] - fitted) * W)
    return _tprod(psi, psi)


def _clusters(long: pd.DataFrame, panel: Panel, u0: np.ndarray, u1: np.ndarray, i0: np.ndarray,
              i1: np.ndarray, n_units: int) -> tuple[np.ndarray, np.ndarray, int, bool]:
    """Cluster codes of the untreated and the imputed rows, their number, and whether units are nested."""
    if panel.cluster is None:
        return u0, u1, n_units, True
    codes, uniq = pd.factorize(long["cluster"].to_numpy()[np.concatenate([i0, i1])], sort=False)
    c0, c1 = codes[: len(i0)], codes[len(i0):]
    first = np.zeros(n_units, dtype=np.int64)
    first[u0] = c0
    nested = bool((first[u0] == c0).all()) and bool((first[u1] == c1).all())
    return c0, c1, len(uniq), nested


def _test_one(long: pd.DataFrame, fe: _TwoWay, i0: np.ndarray, ev: np.ndarray, a: int, codes: np.ndarray,
              n_clusters: int, nested: bool, y_within: np.ndarray | None
              ) -> tuple[pd.DataFrame | None, WaldTest | None]:
    """Test 1 of the paper: untreated outcomes on unit and period effects (and the covariates) and one
    indicator per pre-training event time before the anticipation window, the last being the reference;
    joint cluster-robust (CR1) F test with G - 1 degrees of freedom.

    By Frisch-Waugh-Lovell on the two-way effects, with the indicators never formed: the effects of each
    regressor on the unit and period dummies come from one solve of the normal equations, and every cross
    product and cluster score is a sum by group, so no observations × regressors matrix is built.
    ``y_within`` is the outcome net of the two-way effects when the fit had no covariates (its residual)."""
    u0, t0 = fe.u, fe.t
    gp0 = long["cohort_period"].to_numpy()[i0]
    e0 = ev[i0]
    pre = (gp0 > 0) & (e0 < -a)
    lead_times = [int(h) for h in np.unique(e0[pre]) if h != -1 - a]
    if not lead_times:
        return None, None
    m0, k = len(i0), len(lead_times)
    lo = int(e0.min())
    table = np.full(int(e0.max()) - lo + 1, -1, dtype=np.int64)
    table[np.array(lead_times) - lo] = np.arange(k)
    lead_of = np.where(pre, table[e0 - lo], -1)
    on = lead_of >= 0
    lead_on, u_on, t_on = lead_of[on], u0[on], t0[on]
    X = fe.X
    plain = fe if not X.shape[1] else _TwoWay(u0, t0, fe.n_units, fe.n_periods, np.zeros((m0, 0)))
    # the regressors' sums by unit and by period, and their two-way effects
    zu = np.hstack([np.bincount(u_on * k + lead_on, minlength=fe.n_units * k).reshape(fe.n_units, k), fe.Xu])
    zt = np.hstack([np.bincount(t_on * k + lead_on, minlength=fe.n_periods * k).reshape(fe.n_periods, k),
                    _sum_by(t0, X, fe.n_periods)])
    a_z, g_z, _ = plain.solve(zu.astype("float64"), zt[1:].astype("float64"))
    if y_within is None:
        y0 = long["outcome"].to_numpy(dtype="float64")[i0]
        y_within = y0 - plain.predict(plain.solve(*plain.rhs(y0[:, None])), u0, t0, X[:, :0])[:, 0]
    # Z'Z, Z'y within: leads are disjoint indicators
    n_lead = np.bincount(lead_on, minlength=k).astype("float64")
    lx = _sum_by(lead_on, X[on], k)
    zz = np.block([[np.diag(n_lead), lx], [lx.T, _tprod(X, X)]])
    bread_inv = zz - _tprod(zu, a_z) - zt.T @ g_z
    if singular(bread_inv):
        return None, None
    bread = np.linalg.inv(bread_inv)
    zy = np.concatenate([np.bincount(lead_on, weights=y_within[on], minlength=k), _tprod(X, y_within)])
    beta = bread @ zy
    z_beta = np.zeros(m0)
    z_beta[on] = beta[:k][lead_on]
    if X.shape[1]:
        z_beta += _prod(X, beta[k:])
    resid = y_within - z_beta + _prod(a_z, beta)[u0] + (g_z @ beta)[t0]
    G = n_clusters
    if G < 2:
        return None, None
    scores = np.hstack([_dense(_by_pair(codes[on], lead_on, resid[on], (G, k))),
                        _sum_by(codes, X * resid[:, None], G)])
    scores -= _prod(_by_pair(codes, t0, resid, (G, fe.n_periods)), g_z)
    if not nested:
        scores -= _prod(_by_pair(codes, u0, resid, (G, fe.n_units)), a_z)
    m = bread.shape[0]
    # absorbed effects counted as fixest and twfe() count them (unit effects nested in clusters as one)
    big_k = m + fe.n_periods + (0 if nested else fe.n_units - 1)
    if m0 - big_k <= 0:
        return None, None
    adj = G / (G - 1) * (m0 - 1) / (m0 - big_k)
    V = (adj * bread @ _tprod(scores, scores) @ bread)[:k, :k]
    return lead_table(lead_times, beta[:k], V, n_lead, G)
