"""The route for unbalanced panels without covariates or weights: each cell a difference of four
cohort-period means, the influence affine within cohorts (see ``docs/explanation.md``); a cell that is not
regular (an empty cohort-period cell, trimming, overlap) takes the 2×2 estimator."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from impactlab.estimators.callaway_santanna.by_cell import cell_2x2
from impactlab.estimators.callaway_santanna.cells import Cells, CellTable, Design
from impactlab.estimators.callaway_santanna.data import CsData
from impactlab.estimators.callaway_santanna.influence import CohortAffine, Features, with_columns
from impactlab.estimators.drdid import TRIM_LEVEL


@dataclass(frozen=True)
class _Layout:
    """Cohorts, their sizes, each unit's cohort row, observation counts and means per cohort and period
    (H, T), and the vectors ``z`` of the units in cohort order with their cohort moments."""

    cohorts: np.ndarray
    sizes: np.ndarray
    h_of: np.ndarray
    count: np.ndarray
    mean: np.ndarray
    features: Features


def _layout(data: CsData) -> _Layout | None:
    """:class:`_Layout` in one pass over the observations and one over the units; None when the ids are not
    units (repeated cross-sections), an outcome is not finite or a (unit, period) is observed twice."""
    n, T = data.n, data.n_periods
    obs_id, obs_t, obs_y = data.obs_id, data.obs_t, data.obs_y
    if obs_id is None or obs_t is None or obs_y is None:
        return None
    if n == 0 or obs_id.size <= n or not np.isfinite(obs_y).all():
        return None
    cohorts, h_of = np.unique(data.gp, return_inverse=True)
    H, W = len(cohorts), 2 * T + 1
    sizes = np.bincount(h_of, minlength=H)
    key = h_of[obs_id]  # cohort row * T + period of each observation (in place: no extra temporaries)
    key *= T
    key += obs_t
    key -= 1
    count = np.bincount(key, minlength=H * T).astype("float64")
    mean = np.divide(np.bincount(key, weights=obs_y, minlength=H * T), count, out=np.zeros(H * T),
                     where=count > 0)
    resid = mean[key]
    del key
    np.subtract(obs_y, resid, out=resid)
    if np.all(h_of[1:] >= h_of[:-1]):  # units already in cohort order: z rows are the units
        order, flat = None, obs_id * W
    else:
        order = np.argsort(h_of, kind="stable")
        inv = np.empty(n, dtype="intp")
        inv[order] = np.arange(n)
        flat = inv[obs_id]
        del inv
        flat *= W
    flat += obs_t
    flat -= 1
    z = np.zeros((n, W))
    zf = z.reshape(-1)  # a view
    zf[flat] = resid
    del resid
    flat += T
    zf[flat] = 1.0
    del flat
    z[:, -1] = 1.0
    bounds = np.concatenate([[0], np.cumsum(sizes)])
    features = Features(cohorts, bounds, order, z=z)
    if features.moments[:, T:2 * T, -1].sum() != obs_id.size:  # a (unit, period) observed twice: not a panel
        return None
    return _Layout(cohorts, sizes, h_of, count.reshape(H, T), mean.reshape(H, T), features)


def fit(data: CsData, design: Design) -> Cells | None:
    """Every ATT(g, t) of an unbalanced panel without covariates or weights; ``None`` when the route does not
    apply or nothing could be estimated (the cell-by-cell route then explains)."""
    if data.obs_x is not None or data.obs_w is not None or data.weights is not None or data.obs_id is None:
        return None
    lay = _layout(data)
    if lay is None:
        return None
    cohorts, sizes, cnt, mean = lay.cohorts, lay.sizes, lay.count, lay.mean
    H, T, n = len(cohorts), data.n_periods, data.n
    table = CellTable(design.periods)
    coefs: dict[int, np.ndarray] = {}
    replaced: dict[int, np.ndarray] = {}
    for cell, ctrl, n_t, n_c in design.walk(table, data.glist, T, cohorts, sizes):
        hg = int(np.searchsorted(cohorts, cell.g))
        c, b = cell.t - 1, cell.base - 1
        n_tp, n_t0 = cnt[hg, c], cnt[hg, b]
        n_cp, n_c0 = cnt[ctrl, c].sum(), cnt[ctrl, b].sum()
        n_obs = n_tp + n_t0 + n_cp + n_c0
        trims = design.method != "reg" and (n_tp + n_t0) / n_obs >= TRIM_LEVEL
        if min(n_tp, n_t0, n_cp, n_c0) == 0 or trims:
            # an empty cell, trimming or overlap: the 2×2 estimator decides
            done = table.fit(cell, n_t, n_c, cell_2x2, (data, design.method, lay.h_of == hg, ctrl[lay.h_of],
                                                        cell.t, cell.base))
            if done is not None:
                replaced[done[0]] = done[1]
            continue
        theta = np.zeros((H, 2 * T + 1))
        m_cp = float(cnt[ctrl, c] @ mean[ctrl, c]) / n_cp
        m_c0 = float(cnt[ctrl, b] @ mean[ctrl, b]) / n_c0
        theta[hg, c], theta[hg, b] = n / n_tp, -n / n_t0
        theta[ctrl, c], theta[ctrl, b] = -n / n_cp, n / n_c0
        theta[ctrl, T + c] = -n * (mean[ctrl, c] - m_cp) / n_cp
        theta[ctrl, T + b] = n * (mean[ctrl, b] - m_c0) / n_c0
        coefs[table.add(cell, n_t, n_c, float((mean[hg, c] - mean[hg, b]) - (m_cp - m_c0)))] = theta
    if not len(table):
        return None
    coef = np.zeros((len(table), H, 2 * T + 1))
    coef[list(coefs)] = list(coefs.values()) if coefs else 0.0  # reference cells stay zero
    return table.result(with_columns(CohortAffine(lay.features, coef), replaced), "unbalanced")
