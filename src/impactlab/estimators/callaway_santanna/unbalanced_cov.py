"""The route for unbalanced panels and repeated cross-sections with covariates, without weights: each
cell from its four blocks of observations (treated and comparison, after and before), contiguous once the
observations are sorted by (period, cohort); see ``docs/explanation.md``."""

from __future__ import annotations

import numpy as np

from impactlab.errors import EstimationError
from impactlab.estimators._blocked import _BLOCK, _blocks, _tmm
from impactlab.estimators.callaway_santanna.cells import Cells, CellTable, Design, trimmed_note
from impactlab.estimators.callaway_santanna.covariates import _logit
from impactlab.estimators.callaway_santanna.data import OVERLAP_MAX, CsData, cohort_layout
from impactlab.estimators.callaway_santanna.influence import Blocks
from impactlab.estimators.drdid import PS_CAP, RCOND_MIN, TRIM_LEVEL, _rcond


class _Irregular(Exception):
    """A cell the route does not reproduce: the cell-by-cell code decides and explains."""


def _ols(x: np.ndarray, y: np.ndarray, n: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Least squares of one block (``X'X / n`` as :func:`impactlab.estimators._drdid_rcs._ols`): the
    coefficients, the inverse of ``X'X / n`` and the residuals."""
    xtx = x.T @ x / n
    if _rcond(xtx) < RCOND_MIN:
        raise _Irregular
    beta = np.linalg.solve(xtx, x.T @ y / n)
    return beta, np.linalg.inv(xtx), y - x @ beta


def _colmean(x: np.ndarray) -> np.ndarray:
    """Column means of a tall block (summed in row blocks)."""
    return _tmm(x, np.ones(x.shape[0])) / x.shape[0]


def _gather(xs: np.ndarray, slices: list[slice], scratch: list[np.ndarray]) -> np.ndarray:
    """The design of one cell, ``[1, xs[s]]`` stacked over ``slices``, in a reused buffer whose first
    column holds the intercept (no fresh memory per cell)."""
    m = sum(s.stop - s.start for s in slices)
    if scratch[0].shape[0] < m:
        scratch[0] = np.empty((m, xs.shape[1] + 1))
        scratch[0][:, 0] = 1.0
    x = scratch[0][:m]
    at = 0
    for s in slices:
        x[at:at + s.stop - s.start, 1:] = xs[s]
        at += s.stop - s.start
    return x


def _centred(v: np.ndarray, wts: np.ndarray | None, n: int) -> tuple[float, np.ndarray]:
    """Hájek mean of ``v`` over one block and its influence there (zero elsewhere); ``wts=None`` is 1."""
    if wts is None:
        mw = v.size / n
        est = float(np.sum(v) / n / mw)
        return est, (v - est) / mw
    mw = float(np.sum(wts)) / n
    est = float(np.sum(wts * v) / n / mw)
    return est, wts * (v - est) / mw


def _pscore(x: np.ndarray, n_t: int) -> tuple[np.ndarray, np.ndarray]:
    """Capped propensity scores and ``inv(X' diag(p(1-p)) X) · n`` (the logit's linear representation)."""
    ps, converged = _logit(x, n_t)
    if not converged or ps.max() >= OVERLAP_MAX:
        raise _Irregular
    ps = np.minimum(ps, 1 - PS_CAP)
    wp = ps * (1 - ps)
    info = np.zeros((x.shape[1], x.shape[1]))
    for s in _blocks(x.shape[0]):  # X' diag(p(1-p)) X in cache-sized blocks (no n × k temporary)
        xb = x[s:s + _BLOCK]
        info += xb.T @ (wp[s:s + _BLOCK, None] * xb)
    if _rcond(info) < RCOND_MIN:
        raise _Irregular
    return ps, np.linalg.inv(info) * x.shape[0]


def _cell(method: str, x: np.ndarray, y: np.ndarray, seg: tuple[int, int, int], trim_level: float
          ) -> tuple[float, np.ndarray, int]:
    """ATT and influence per row (unscaled) of one cell whose rows are ``tp | t0 | cp | c0``.

    ``seg = (a, b, c)`` are the block ends: ``tp = [0, a)``, ``t0 = [a, b)``, ``cp = [b, c)``,
    ``c0 = [c, n)``. The formulas are those of :mod:`impactlab.estimators._drdid_rcs` with every term
    restricted to the block where it is not zero.
    """
    n = y.size
    a, b, c = seg
    if min(a, b - a, c - b, n - c) == 0:
        raise _Irregular
    xt, xtp, xt0, xcp, xc0 = x[:b], x[:a], x[a:b], x[b:c], x[c:]
    ytp, yt0, ycp, yc0 = y[:a], y[a:b], y[b:c], y[c:]
    psi = np.empty(n)
    n_trim = 0
    if method == "reg":
        b_cp, a_cp, e_cp = _ols(xcp, ycp, n)
        b_c0, a_c0, e_c0 = _ols(xc0, yc0, n)
        a_post, i_post = _centred(ytp, None, n)
        a_pre, i_pre = _centred(yt0, None, n)
        a_cf, i_cf = _centred(xt @ b_cp - xt @ b_c0, None, n)
        m = _colmean(xt)
        psi[:a] = i_post - i_cf[:a]
        psi[a:b] = -i_pre - i_cf[a:]
        psi[b:c] = -e_cp * (xcp @ (a_cp @ m))
        psi[c:] = e_c0 * (xc0 @ (a_c0 @ m))
        return a_post - a_pre - a_cf, psi, 0
    ps, lin_ps = _pscore(x, b)
    psc = ps[b:]
    keep = (psc < trim_level).astype("float64")
    n_trim = int(np.sum(keep == 0))
    wc = keep * psc / (1 - psc)
    wcp, wc0 = wc[:c - b], wc[c - b:]
    dps = -ps
    dps[:b] += 1  # d − p
    if method == "ipw":
        tp, itp = _centred(ytp, None, n)
        t0, it0 = _centred(yt0, None, n)
        cp, icp = _centred(ycp, wcp, n)
        c0, ic0 = _centred(yc0, wc0, n)
        m_post = (wcp * (ycp - cp)) @ xcp / np.sum(wcp)
        m_pre = (wc0 * (yc0 - c0)) @ xc0 / np.sum(wc0)
        ps_term = dps * (x @ (lin_ps @ (m_post - m_pre)))
        psi[:a] = itp
        psi[a:b] = -it0
        psi[b:c] = -icp
        psi[c:] = ic0
        psi -= ps_term
        return (tp - t0) - (cp - c0), psi, n_trim
    b_tp, a_tp, e_tp = _ols(xtp, ytp, n)
    b_t0, a_t0, e_t0 = _ols(xt0, yt0, n)
    b_cp, a_cp, e_cp = _ols(xcp, ycp, n)
    b_c0, a_c0, e_c0 = _ols(xc0, yc0, n)
    r_tp, r_t0 = ytp - xtp @ b_cp, yt0 - xt0 @ b_c0
    tp, itp = _centred(r_tp, None, n)
    t0, it0 = _centred(r_t0, None, n)
    cp, icp = _centred(e_cp, wcp, n)
    c0, ic0 = _centred(e_c0, wc0, n)
    v_post = xt @ b_tp - xt @ b_cp
    v_pre = xt @ b_t0 - xt @ b_c0
    dp, idp = _centred(v_post, None, n)
    d1, id1 = _centred(v_post[:a], None, n)
    dq, idq = _centred(v_pre, None, n)
    d0, id0 = _centred(v_pre[a:], None, n)
    att = (tp - t0) - (cp - c0) + (dp - d1) - (dq - d0)
    sw_cp, sw_c0 = float(np.sum(wcp)), float(np.sum(wc0))
    xbar_tp, xbar_t0, xbar_d = _colmean(xtp), _colmean(xt0), _colmean(xt)
    xbar_wcp, xbar_wc0 = wcp @ xcp / sw_cp, wc0 @ xc0 / sw_c0
    a_ps = (wcp * (e_cp - cp)) @ xcp / sw_cp - (wc0 * (e_c0 - c0)) @ xc0 / sw_c0
    mom_post, mom_pre = xbar_d - xbar_tp, xbar_d - xbar_t0
    psi[:a] = itp + idp[:a] - id1 - idq[:a] + e_tp * (xtp @ (a_tp @ mom_post))
    psi[a:b] = -it0 + idp[a:] - idq[a:] + id0 - e_t0 * (xt0 @ (a_t0 @ mom_pre))
    psi[b:c] = -icp + e_cp * (xcp @ (a_cp @ (xbar_wcp - xbar_tp - mom_post)))
    psi[c:] = ic0 + e_c0 * (xc0 @ (a_c0 @ (xbar_t0 - xbar_wc0 + mom_pre)))
    psi -= dps * (x @ (lin_ps @ a_ps))
    return float(att), psi, n_trim


def fit(data: CsData, design: Design) -> Cells | None:
    """Every ATT(g, t) of an unbalanced panel with covariates on gathered blocks; ``None`` when the route
    does not apply or a cell is irregular (the cell-by-cell route then decides and explains)."""
    if (data.mode != "rcs" or data.obs_x is None or data.obs_id is None or data.obs_t is None
            or data.obs_y is None or data.obs_w is not None or data.weights is not None):
        return None
    n, n_per = data.n, data.n_periods
    lay = cohort_layout(data.gp)  # units by cohort, and each unit's position within its cohort
    cohorts, unit_h, sizes, unit_order, starts_u = lay.cohorts, lay.h_of, lay.sizes, lay.order, lay.bounds
    n_h, obs_id = cohorts.size, np.asarray(data.obs_id)
    pos = np.empty(n, dtype="intp")
    pos[unit_order] = np.arange(n) - np.repeat(starts_u[:-1], sizes)
    # observations sorted by (period, cohort): a cell's rows are a few slices
    small = "int32" if n_per * n_h >= 2 ** 15 else "int16"  # a 16-bit key is radix-sorted
    key = (np.asarray(data.obs_t) - 1).astype(small) * n_h + unit_h[obs_id].astype(small)
    order = np.argsort(key, kind="stable")
    bounds = np.concatenate([[0], np.cumsum(np.bincount(key, minlength=n_per * n_h))])
    del key
    obs_x = np.asarray(data.obs_x, dtype="float64").reshape(obs_id.size, -1)
    xs = obs_x[order]
    ys = np.asarray(data.obs_y, dtype="float64")[order]
    ids_sorted = obs_id[order]
    loc = pos[ids_sorted]
    seen = np.zeros(n, dtype="intp")
    for t in range(n_per):  # each unit at most once per period (the influence is added by position)
        period_ids = ids_sorted[bounds[t * n_h]:bounds[(t + 1) * n_h]]
        seen[period_ids] = t + 1
        if np.count_nonzero(seen == t + 1) != period_ids.size:
            return None
    del ids_sorted, order, seen

    def block(t: int, hs: np.ndarray) -> list[slice]:
        return [slice(int(bounds[(t - 1) * n_h + h]), int(bounds[(t - 1) * n_h + h + 1])) for h in hs]

    scratch = [np.empty((0, xs.shape[1] + 1))]
    table = CellTable(design.periods)
    cols: dict[int, list[tuple[int, np.ndarray]]] = {}
    for cell, ctrl, n_t, n_c in design.walk(table, data.glist, n_per, cohorts, sizes):
        hg, hc = int(np.searchsorted(cohorts, cell.g)), np.flatnonzero(ctrl)
        parts = [block(cell.t, np.array([hg])), block(cell.base, np.array([hg])), block(cell.t, hc),
                 block(cell.base, hc)]
        ends = np.cumsum([sum(s.stop - s.start for s in p) for p in parts])
        sl = [s for p in parts for s in p]
        try:
            att, psi, n_trim = _cell(design.method, _gather(xs, sl, scratch),
                                     np.concatenate([ys[s] for s in sl]),
                                     (int(ends[0]), int(ends[1]), int(ends[2])), TRIM_LEVEL)
        except (_Irregular, EstimationError, np.linalg.LinAlgError):
            return None
        if not np.isfinite(att):
            return None
        if n_trim:
            table.note(cell, trimmed_note(n_trim))
        k = table.add(cell, n_t, n_c, att)
        psi *= n / psi.size
        # add each block's influence at its units' positions within their cohort (unique per period)
        offs = np.concatenate([[0], np.cumsum([s.stop - s.start for s in sl])])
        for i, h in enumerate([hg, *hc]):
            col = np.zeros(int(sizes[h]))
            for j in ((0, 1) if i == 0 else (1 + i, 1 + hc.size + i)):
                col[loc[sl[j]]] += psi[offs[j]:offs[j + 1]]
            cols.setdefault(int(h), []).append((k, col))
    if not len(table):
        return None
    blocks = []
    for h, entries in sorted(cols.items()):
        units = unit_order[starts_u[h]:starts_u[h + 1]]
        blocks.append((units, np.array([k for k, _ in entries], dtype="intp"),
                       np.column_stack([v for _, v in entries])))
    return table.result(Blocks(n, len(table), blocks), "unbalanced_covariates")
