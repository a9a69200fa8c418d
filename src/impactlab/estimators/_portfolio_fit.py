"""The imputation estimator with several programmes at once: the numerical core of
:func:`impactlab.portfolio`.

An observation (employee × period) is *untouched* when no programme has reached it: the employee never
completed any programme, or the period lies before each programme's completion minus ``anticipation``.
Unit and period effects are fitted by least squares on the untouched observations only (Borusyak,
Jaravel & Spiess 2024), and every other observation gets its outcome without training imputed from them.
What is left, ``r = Y - Y(0)``, is the sum of the effects of the programmes that reached the
observation (effects add up across programmes). Each programme's effect is modelled by one coefficient per
cohort × event-time cell of that programme (event times from ``-anticipation`` on), and the coefficients
of all programmes are fitted jointly to ``r`` by least squares: an observation reached by two programmes
has both cells' coefficients. With one programme the cells do not overlap, each coefficient is its cell's
mean of ``r`` and the estimator is the imputation estimator exactly.

A programme's effect is the average of its cells' coefficients over its observations from completion on
(event time 0 and later), each observation counted once: the average effect of the programme on the
employees who completed it, in the periods after. Every target is linear in the outcome,
``theta = sum_i v_i Y_i``; the standard errors are Borusyak, Jaravel & Spiess's conservative ones (their
Theorem 3), with the residual of a touched observation taken about the joint cell fit (about its cell's
mean with one programme, as in the paper), clustered, and the covariance across programmes comes from the
same cluster sums.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
import scipy.linalg
from scipy import sparse

from impactlab.errors import EstimationError
from impactlab.estimators._common import excluded_frame
from impactlab.estimators._imputation_grid import _sum_by
from impactlab.estimators.imputation import _TwoWay


@dataclass(frozen=True)
class JointFit:
    """What the joint fit returns (internal): the targets, their covariance and the cells."""

    targets: pd.DataFrame     # program (position), kind ("ATT" or "event_time"), event_time, estimate, n_obs
    vcov: np.ndarray          # covariance of the targets (rows of ``targets``), clustered
    cells: pd.DataFrame       # program, cohort (period code), event_time, estimate, n_obs
    n_clusters: int
    n_obs: int                # observations used (untouched + imputed)
    n_units: int
    n_untouched: int
    excluded: pd.DataFrame    # what, id, reason


def joint_fit(unit: np.ndarray, period: np.ndarray, y: np.ndarray, cluster: np.ndarray,
              cohorts: np.ndarray, anticipation: int, unit_ids: np.ndarray, periods: list,
              names: list[str]) -> JointFit:
    """Fit every programme's effect jointly.

    Parameters
    ----------
    unit : int codes 0..U-1; period : int codes 1..T; y : outcomes; cluster : int codes 0..G-1
    cohorts : (n_obs, P) int, the period code of each programme's completion (0 = never)
    anticipation : periods before completion left out of the untouched fit (and modelled as cells)
    unit_ids, periods : labels of the unit codes and of the period codes 1..T (``periods[t - 1]``)
    names : the programmes' titles, for messages
    """
    n_obs, n_prog = cohorts.shape
    a = int(anticipation)
    reached = (cohorts > 0) & (period[:, None] >= cohorts - a)            # (n, P)
    touched = reached.any(axis=1)
    untouched = ~touched
    if not untouched.any():
        raise EstimationError("portfolio: every observation comes after some programme's completion, so the "
                              "outcome without training cannot be fitted on any observation.")
    n_units_all = int(unit.max()) + 1 if len(unit) else 0
    n_t = len(periods) + 1
    has_u = np.bincount(unit[untouched], minlength=n_units_all) > 0
    has_t = np.bincount(period[untouched], minlength=n_t) > 0
    kept = touched & has_u[unit] & has_t[period]
    rows: list[tuple[str, object, str]] = []
    no_u = touched & ~has_u[unit]
    for code, k in zip(*np.unique(unit[no_u], return_counts=True), strict=True):
        rows.append(("unit", unit_ids[code], "no observation before any programme's completion (minus "
                     f"anticipation): no unit effect to impute from, so its {int(k)} trained observations "
                     "are left out"))
    no_t = touched & has_u[unit] & ~has_t[period]
    for code, k in zip(*np.unique(period[no_t], return_counts=True), strict=True):
        rows.append(("period", periods[int(code) - 1], "no untouched observation in this period (everyone "
                     f"observed had started a programme): no period effect, so its {int(k)} trained "
                     "observations are left out"))
    excluded = excluded_frame(rows)

    # the fit of the outcome without training on the untouched observations (compact codes)
    u_map, t_map = np.cumsum(has_u) - 1, np.cumsum(has_t) - 1
    i0, i1 = np.flatnonzero(untouched), np.flatnonzero(kept)
    u0, t0, u1, t1 = u_map[unit[i0]], t_map[period[i0]], u_map[unit[i1]], t_map[period[i1]]
    fe = _TwoWay(u0, t0, int(has_u.sum()), int(has_t.sum()), np.zeros((len(i0), 0)))
    coef = fe.solve(*fe.rhs(y[i0][:, None]))
    eps0 = y[i0] - fe.predict(coef, u0, t0, np.zeros((len(i0), 0)))[:, 0]
    r = y[i1] - fe.predict(coef, u1, t1, np.zeros((len(i1), 0)))[:, 0]

    # the cells of every programme and the joint least squares of r on them
    g1, on1 = cohorts[i1], reached[i1]
    ev1 = period[i1][:, None] - g1
    span = n_t + a + 1
    obs_idx, prog_idx = np.nonzero(on1)
    keys = (prog_idx * (n_t + 1) + g1[obs_idx, prog_idx]) * span + (ev1[obs_idx, prog_idx] + a)
    cell_key, cell_of = np.unique(keys, return_inverse=True)
    n_cells = len(cell_key)
    Z = sparse.csr_matrix((np.ones(len(obs_idx)), (obs_idx, cell_of)), shape=(len(i1), n_cells))
    ztz = (Z.T @ Z).toarray()
    s = np.linalg.svd(ztz, compute_uv=False) if n_cells else np.zeros(0)
    if n_cells == 0 or not s[-1] > 1e-9 * s[0]:
        raise EstimationError(
            "portfolio: the effects of the programmes cannot be told apart, because some cohort of one "
            f"programme ({', '.join(map(repr, names))}) completed another at the same time and nobody else "
            "shares either timing. Evaluate those programmes as one, or leave one of them out.")
    factor = scipy.linalg.cho_factor(ztz)
    beta = scipy.linalg.cho_solve(factor, np.asarray(Z.T @ r).ravel())
    eps1 = r - Z @ beta

    cell_prog = cell_key // span // (n_t + 1)
    cell_g = cell_key // span % (n_t + 1)
    cell_e = cell_key % span - a
    cell_n = np.asarray(Z.sum(axis=0)).ravel()
    # targets: each programme's effect from completion on, and each of its event times
    spec: list[tuple[int, str, int | None, np.ndarray]] = []
    for p in range(n_prog):
        mine = cell_prog == p
        post = mine & (cell_e >= 0)
        if post.any():
            spec.append((p, "ATT", None, post))
        for e in np.unique(cell_e[mine]):
            spec.append((p, "event_time", int(e), mine & (cell_e == e)))
    W = np.zeros((n_cells, len(spec)))
    for j, (_, _, _, on) in enumerate(spec):
        W[on, j] = cell_n[on] / cell_n[on].sum()
    estimates = beta @ W
    # observation weights: v1 on the imputed rows, v0 on the untouched ones (what their fit passes on)
    v1 = Z @ scipy.linalg.cho_solve(factor, W)
    z_u, z_t, _ = fe.solve(_sum_by(u1, v1, fe.n_units), _sum_by(t1, v1, fe.n_periods)[1:])
    v0 = -(z_u[u0] + z_t[t0])
    codes, uniq = pd.factorize(cluster[np.concatenate([i0, i1])], sort=False)
    c0, c1 = codes[: len(i0)], codes[len(i0):]
    psi = _sum_by(c0, v0 * eps0[:, None], len(uniq)) + _sum_by(c1, v1 * eps1[:, None], len(uniq))
    vcov = psi.T @ psi

    targets = pd.DataFrame({"program": [p for p, _, _, _ in spec], "kind": [k for _, k, _, _ in spec],
                            "event_time": pd.array([e for _, _, e, _ in spec], dtype="Int64"),
                            "estimate": estimates,
                            "n_obs": [int(cell_n[on].sum()) for _, _, _, on in spec]})
    cells = pd.DataFrame({"program": cell_prog.astype(np.int64), "cohort": cell_g.astype(np.int64),
                          "event_time": cell_e.astype(np.int64), "estimate": beta,
                          "n_obs": cell_n.astype(np.int64)})
    return JointFit(targets=targets, vcov=vcov, cells=cells, n_clusters=len(uniq), n_obs=len(i0) + len(i1),
                    n_units=int(has_u.sum()), n_untouched=len(i0), excluded=excluded)
