"""The cell-by-cell route, the reference of the others: every ATT(g, t) from its own 2×2 estimator, the
panel estimators of :mod:`impactlab.estimators.drdid` or, for repeated cross-sections and unbalanced
panels, those of :mod:`impactlab.estimators._drdid_rcs` with a unit's influence summed (R ``did``)."""

from __future__ import annotations

import numpy as np

from impactlab.errors import EstimationError
from impactlab.estimators._drdid_rcs import dr_did_rcs, ipw_did_rcs, reg_did_rcs
from impactlab.estimators._logit import separating
from impactlab.estimators.callaway_santanna.cells import Cells, CellTable, Design
from impactlab.estimators.callaway_santanna.data import OVERLAP_MAX, CsData, collinear
from impactlab.estimators.callaway_santanna.influence import Dense
from impactlab.estimators.drdid import (
    dr_did_panel,
    ipw_did_panel,
    logit_fit,
    reg_did_panel,
    separation_culprits,
)

PANEL_ESTIMATORS = {"dr": dr_did_panel, "ipw": ipw_did_panel, "reg": reg_did_panel}
RCS_ESTIMATORS = {"dr": dr_did_rcs, "ipw": ipw_did_rcs, "reg": reg_did_rcs}


def cell_2x2(data: CsData, method: str, treated: np.ndarray, ctrl: np.ndarray, cur: int, base: int
             ) -> tuple[float, np.ndarray, int]:
    """One 2×2 comparison of the ids ``treated`` with ``ctrl`` between ``base`` and ``cur``: the ATT, its
    influence per id (scaled by n / n_gt) and the number of trimmed comparison observations."""
    n = data.n
    if data.mode == "balanced":
        assert data.y is not None  # noqa: S101 - balanced arrays
        sel = treated | ctrl
        d = treated[sel].astype("float64")
        x = None
        if data.xs is not None:
            x = np.column_stack([np.ones(int(sel.sum())), data.xs[sel, min(base, cur) - 1, :]])
        w = None if data.weights is None else data.weights[sel]
        fitted = _overlap(method, x, d, w, int(treated.sum()), int(ctrl.sum()))
        kw = {"pscore": fitted} if fitted is not None else {}  # the logit is fitted once per cell
        fit = PANEL_ESTIMATORS[method](data.y[sel, cur - 1], data.y[sel, base - 1], d, x, w, **kw)
        psi = np.zeros(n)
        psi[sel] = fit.influence * (n / sel.sum())
        return fit.att, psi, fit.n_trimmed
    assert data.obs_id is not None and data.obs_t is not None and data.obs_y is not None  # noqa: S101
    rows = (treated | ctrl)[data.obs_id] & ((data.obs_t == cur) | (data.obs_t == base))
    ids = data.obs_id[rows]
    d = treated[ids].astype("float64")
    post = (data.obs_t[rows] == cur).astype("float64")
    x = None
    if data.obs_x is not None:
        x = np.column_stack([np.ones(int(rows.sum())), data.obs_x[rows]])
    w = None if data.obs_w is None else data.obs_w[rows]
    _overlap(method, x, d, w, int(d.sum()), int((1 - d).sum()))
    fit = RCS_ESTIMATORS[method](data.obs_y[rows], post, d, x, w)
    psi = np.zeros(n)
    np.add.at(psi, ids, fit.influence * (n / rows.sum()))
    return fit.att, psi, fit.n_trimmed


def _overlap(method: str, x: np.ndarray | None, d: np.ndarray, w: np.ndarray | None, n_t: int, n_c: int
             ) -> tuple[np.ndarray, bool] | None:
    """R ``did``'s overlap check before a DR or IPW cell; returns the logit fit (fitted probabilities,
    converged) so that the 2×2 estimator does not fit it again, or ``None`` without covariates."""
    if method not in ("dr", "ipw"):
        return None
    if x is None:
        if n_t / (n_t + n_c) >= OVERLAP_MAX:
            raise EstimationError("overlap condition violated (a propensity score reaches 0.999)")
        return None
    _, ps, converged = logit_fit(x, d, w)
    if ps.max() >= OVERLAP_MAX:
        raise EstimationError("overlap condition violated (a propensity score reaches 0.999)")
    return ps, converged


def fit(data: CsData, design: Design) -> Cells:
    """Every ATT(g, t) of ``data`` from its own 2×2 fit; raises when none can be estimated."""
    cohorts, h_of, sizes = np.unique(data.gp, return_inverse=True, return_counts=True)
    table = CellTable(design.periods)
    columns: dict[int, np.ndarray] = {}

    def fit_cell(treated: np.ndarray, ctrl: np.ndarray, cur: int, base: int) -> tuple[float, np.ndarray, int]:
        try:
            return cell_2x2(data, design.method, treated, ctrl, cur, base)
        except EstimationError as exc:  # name the covariates to blame when the design is singular
            bad = design.covs and ("singular" in str(exc) or "collinear" in str(exc)) and (
                _collinear(data, ctrl, cur, base, design.covs)
                or _collinear(data, treated | ctrl, cur, base, design.covs))
            if bad:
                raise EstimationError(f"collinear covariates {bad} in this comparison: {exc}") from exc
            if design.covs and ("separate" in str(exc) or "overlap" in str(exc)):
                found = _separation(data, treated, ctrl, cur, base, design.covs)
                if found or "separate" in str(exc):
                    stop = "" if str(exc).endswith(".") else "."
                    raise EstimationError(f"{exc}{stop} {separation_culprits(found, design.covs)}") from exc
            raise

    for cell, ctrl_h, n_t, n_c in design.walk(table, data.glist, data.n_periods, cohorts, sizes):
        done = table.fit(cell, n_t, n_c, fit_cell, (data.gp == cell.g, ctrl_h[h_of], cell.t, cell.base))
        if done is not None:
            columns[done[0]] = done[1]
    if not len(table):
        reasons = list(dict.fromkeys(r[2] for r in table.ledger))[:3]
        raise EstimationError("No ATT(g,t) could be estimated: check the cohorts, the comparison group and "
                              "the number of periods."
                              + (f" Reasons: {'; '.join(reasons)}" if reasons else ""))
    psi_all = np.zeros((data.n, len(table)))
    for k, psi in columns.items():
        psi_all[:, k] = psi
    return table.result(Dense(psi_all), "by_cell")


def _separation(data: CsData, treated: np.ndarray, ctrl: np.ndarray, cur: int, base: int,
                covs: tuple[str, ...]) -> list[str]:
    """The covariates whose values do not overlap between the cell's treated and comparison units."""
    if data.mode == "balanced":
        sel = treated | ctrl
        x, d = data.xs[sel, min(base, cur) - 1, :], treated[sel]  # type: ignore[index]
    else:
        rows = (treated | ctrl)[data.obs_id] & ((data.obs_t == cur) | (data.obs_t == base))  # type: ignore[index]
        x, d = data.obs_x[rows], treated[data.obs_id[rows]]  # type: ignore[index]
    return separating(x, d.astype("float64"), covs)


def _collinear(data: CsData, sel: np.ndarray, cur: int, base: int, covs: tuple[str, ...]) -> list[str]:
    if data.mode == "balanced":
        x = data.xs[sel, min(base, cur) - 1, :]  # type: ignore[index]
    else:
        rows = sel[data.obs_id] & ((data.obs_t == cur) | (data.obs_t == base))  # type: ignore[index]
        x = data.obs_x[rows]  # type: ignore[index]
    return collinear(x, covs)
