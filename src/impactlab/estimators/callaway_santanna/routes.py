"""The routes that compute every ATT(g, t) of a Callaway–Sant'Anna fit."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from impactlab.errors import EstimationError
from impactlab.estimators._drdid_rcs import dr_did_rcs, ipw_did_rcs, reg_did_rcs
from impactlab.estimators.callaway_santanna import covariates as _cs_cov
from impactlab.estimators.callaway_santanna import moments as suff
from impactlab.estimators.callaway_santanna.cells import Ledger, comparison, fit_cell, trimmed_note
from impactlab.estimators.callaway_santanna.data import OVERLAP_MAX, CsData, collinear
from impactlab.estimators.drdid import TRIM_LEVEL, dr_did_panel, ipw_did_panel, logit_fit, reg_did_panel

PANEL_ESTIMATORS = {"dr": dr_did_panel, "ipw": ipw_did_panel, "reg": reg_did_panel}
RCS_ESTIMATORS = {"dr": dr_did_rcs, "ipw": ipw_did_rcs, "reg": reg_did_rcs}

@dataclass(frozen=True)
class Cells:
    """ATT(g, t) of one fit: a frame (g, t, post, n_treated, n_control, estimate) and the ids × cells
    influence functions."""

    table: pd.DataFrame
    #: dense (ids, cells), or the affine form of the sufficient-statistics route (built densely on demand)
    influence: np.ndarray | suff.CompactInfluence


def _cell_2x2(data: CsData, method: str, treated: np.ndarray, ctrl: np.ndarray, cur: int, base: int
              ) -> tuple[float, np.ndarray, int]:
    """One 2×2 comparison; returns the ATT, its influence per id (scaled by n / n_gt) and units trimmed."""
    n = data.n
    if data.mode == "balanced":
        sel = treated | ctrl
        d = treated[sel].astype("float64")
        x = None
        if data.xs is not None:
            x = np.column_stack([np.ones(int(sel.sum())), data.xs[sel, min(base, cur) - 1, :]])
        w = None if data.weights is None else data.weights[sel]
        fitted = _overlap(method, x, d, w, int(treated.sum()), int(ctrl.sum()))
        kw = {"pscore": fitted} if fitted is not None else {}  # the logit is fitted once per cell
        fit = PANEL_ESTIMATORS[method](data.y[sel, cur - 1], data.y[sel, base - 1], d, x, w,  # type: ignore[index]
                                       **kw)
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


#: ``False`` sends every fit to the cell-by-cell route below (one 2×2 estimator per cell), the reference the
#: fast routes are tested against; for tests and checks, not for analyses.
FAST_ROUTES = True


def estimate_cells(data: CsData, *, control: str, method: str, base_period: str, anticipation: int,
                   periods: tuple[Any, ...], covs: tuple[str, ...], excluded: Ledger, skipped: list[str]
                   ) -> Cells:
    """Every ATT(g, t) of the cohorts in ``data.glist`` (Callaway & Sant'Anna 2021, eqs. 2.5–2.7).

    Cells that cannot be estimated are appended to ``excluded`` (and named in ``skipped``), with the
    covariates to blame when the design is singular in that cell.

    A balanced panel without covariates or weights takes the sufficient-statistics route
    (:func:`_cells_from_moments`): the same numbers without one 2×2 fit per cell.
    With sampling weights it takes the weighted-moments route
    (:func:`impactlab.estimators.callaway_santanna.weighted.cells_weighted`), the same numbers again.
    A balanced panel with covariates (with or without weights) takes the covariate route
    (:func:`impactlab.estimators.callaway_santanna.covariates.cells_with_covariates`): one propensity-score and outcome-regression
    fit per design (treated cohort, comparison cohorts, covariate period) shared by its cells, the same
    numbers; a design it cannot reproduce exactly sends the fit to the cell-by-cell code below.
    """
    if FAST_ROUTES and data.mode == "balanced" and data.xs is None and data.weights is None \
            and data.y is not None:
        fast = _cells_from_moments(data, control=control, method=method, base_period=base_period,
                                   anticipation=anticipation, periods=periods, excluded=excluded,
                                   skipped=skipped)
        if fast is not None:
            return fast
    if FAST_ROUTES and data.mode == "balanced" and data.xs is None and data.weights is not None \
            and data.y is not None:
        from impactlab.estimators.callaway_santanna import weighted as _cs_weighted  # sampling weights, no covariates: weighted moments
        wtd = _cs_weighted.cells_weighted(data, control=control, method=method, base_period=base_period,
                                          anticipation=anticipation, periods=periods, cell_fit=_cell_2x2)
        if wtd is not None:  # None: a cohort of zero total weight, or nothing estimable (the code below)
            excluded.extend(wtd[2])
            skipped.extend(wtd[3])
            return Cells(wtd[0], wtd[1])
    if FAST_ROUTES and data.mode == "balanced" and data.xs is not None and data.y is not None:  # any weights
        cov = _cs_cov.cells_with_covariates(data, control=control, method=method, base_period=base_period,
                                            anticipation=anticipation, periods=periods)
        if cov is not None:  # one fit per design (_cs_cov); None: some design needs the route below
            excluded.extend(cov[2])
            skipped.extend(cov[3])
            return Cells(cov[0], cov[1])  # type: ignore[arg-type]  # a compact form, like the moments route
    if FAST_ROUTES and data.mode == "rcs" and data.obs_x is None and data.weights is None \
            and data.obs_w is None:
        from impactlab.estimators.callaway_santanna import unbalanced as _cs_unbalanced  # unbalanced panel, no covariates: cohort moments
        unb = _cs_unbalanced.cells_unbalanced(data, control=control, method=method, base_period=base_period,
                                              anticipation=anticipation, periods=periods, cell_fit=_cell_2x2)
        if unb is not None:  # None: repeated cross-sections, or nothing estimable (the code below explains)
            excluded.extend(unb[2])
            skipped.extend(unb[3])
            return Cells(unb[0], unb[1])  # type: ignore[arg-type]
    if FAST_ROUTES and data.mode == "rcs" and data.obs_x is not None and data.weights is None \
            and data.obs_w is None:
        from impactlab.estimators.callaway_santanna import unbalanced_cov as _cs_unbalanced_cov  # unbalanced panel, covariates: gathered blocks
        ucov = _cs_unbalanced_cov.cells_unbalanced_cov(data, control=control, method=method,
                                                       base_period=base_period, anticipation=anticipation,
                                                       periods=periods)
        if ucov is not None:  # None: a unit seen twice in a period, an irregular cell (explained below)
            excluded.extend(ucov[2])
            skipped.extend(ucov[3])
            return Cells(ucov[0], ucov[1])  # type: ignore[arg-type]
    n = data.n
    gp = data.gp
    tfac = 1 if base_period == "varying" else 0
    rows: list[dict[str, Any]] = []
    infs: list[np.ndarray] = []
    for g in data.glist:
        g = int(g)
        base_post = g - 1 - anticipation
        treated = gp == g
        for cur in range(1 + tfac, data.n_periods + 1):
            post = g <= cur
            base = base_post if (post or base_period == "universal") else cur - 1
            ctrl = comparison(gp, control, g, cur, base, anticipation)
            row = {"g": g, "t": cur, "post": post, "n_treated": int(treated.sum()),
                   "n_control": int(ctrl.sum())}
            if base == cur:
                rows.append({**row, "estimate": 0.0})
                infs.append(np.zeros(n))
                continue
            key = (periods[g - 1], periods[cur - 1])
            where = f"cohort {key[0]}, time {key[1]}"
            if row["n_control"] == 0:
                excluded.append(("cell", key, "no comparison units"))
                skipped.append(where)
                continue
            try:
                att, psi, n_trim = _cell_2x2(data, method, treated, ctrl, cur, base)
            except EstimationError as exc:
                reason = str(exc)
                if covs and ("singular" in reason or "collinear" in reason):
                    bad = (_cell_collinear(data, ctrl, cur, base, covs)
                           or _cell_collinear(data, treated | ctrl, cur, base, covs))
                    if bad:
                        reason = f"collinear covariates {bad} in this comparison: {reason}"
                excluded.append(("cell", key, reason))
                skipped.append(where)
                continue
            if not np.isfinite(att):
                excluded.append(("cell", key, "the estimate is not finite"))
                skipped.append(where)
                continue
            if n_trim:
                excluded.append(("cell", key, trimmed_note(n_trim)))
            rows.append({**row, "estimate": att})
            infs.append(psi)
    if not rows:
        reasons = list(dict.fromkeys(r[2] for r in excluded if r[0] == "cell"))[:3]
        raise EstimationError("No ATT(g,t) could be estimated: check the cohorts, the comparison group and "
                              "the number of periods."
                              + (f" Reasons: {'; '.join(reasons)}" if reasons else ""))
    return Cells(pd.DataFrame(rows), np.column_stack(infs))


def _cells_from_moments(data: CsData, *, control: str, method: str, base_period: str, anticipation: int,
                        periods: tuple[Any, ...], excluded: Ledger, skipped: list[str]) -> Cells | None:
    """Every ATT(g, t) without covariates from cohort moments (:mod:`impactlab.estimators.callaway_santanna.moments`).

    Without covariates the DR, IPW and REG 2×2 estimators all reduce to a difference of mean outcome
    changes (Sant'Anna & Zhao 2020, §3), so the estimates and the per-unit influence functions follow from
    the cohort counts, means and centred cross-products in one pass; the ids × cells influence functions
    stay in their affine form (:class:`~impactlab.estimators.callaway_santanna.moments.CompactInfluence`) unless a
    cell needs the 2×2 estimator. Cells where the intercept-only propensity score reaches the
    trimming level (DR, IPW) are computed by the 2×2 estimator as before, so the trimming and overlap rules
    are unchanged. Returns ``None`` when nothing could be estimated this way, and the caller takes the
    cell-by-cell route (which raises the explained error); ``excluded`` and ``skipped`` are then untouched.
    """
    assert data.y is not None  # noqa: S101 - internal invariant of the balanced path
    try:
        sc = suff.att_gt_from_moments(suff.cohort_moments(data.y, data.gp), control=control,
                                      base_period=base_period, anticipation=anticipation,
                                      cohorts=data.glist)
    except EstimationError:
        return None
    compact = suff.CompactInfluence(sc, data.y, data.gp)
    replaced: dict[int, np.ndarray] = {}
    keys = [(int(g), int(t), k) for k, (g, t) in enumerate(zip(sc.group, sc.time, strict=True))]
    keys += [(g, t, -1) for g, t in sc.skipped]
    keys.sort()
    rows: list[dict[str, Any]] = []
    cols: list[int] = []
    ledger: Ledger = []
    names: list[str] = []
    for g, cur, k in keys:
        key = (periods[g - 1], periods[cur - 1])
        where = f"cohort {key[0]}, time {key[1]}"
        if k < 0:
            ledger.append(("cell", key, "no comparison units"))
            names.append(where)
            continue
        n_t, n_c = int(sc.n_treated[k]), int(sc.n_control[k])
        row = {"g": g, "t": cur, "post": bool(sc.post[k]), "n_treated": n_t, "n_control": n_c,
               "estimate": float(sc.att[k])}
        base = g - 1 - anticipation if (g <= cur or base_period == "universal") else cur - 1
        if method in ("dr", "ipw") and base != cur and n_t / (n_t + n_c) >= TRIM_LEVEL:
            # the constant propensity score trims or fails overlap: the 2×2 estimator decides, as before
            ctrl = comparison(data.gp, control, g, cur, base, anticipation)
            done = fit_cell(_cell_2x2, (data, method, data.gp == g, ctrl, cur, base), key, where, ledger,
                            names)
            if done is None:
                continue
            row["estimate"], replaced[k] = done
        rows.append(row)
        cols.append(k)
    if not rows:
        return None
    excluded.extend(ledger)
    skipped.extend(names)
    if not replaced:  # the affine form holds every column: no (ids, cells) matrix
        return Cells(pd.DataFrame(rows), compact if len(cols) == compact.shape[1] else compact.select(cols))
    influence = compact.dense()
    for k, psi in replaced.items():
        influence[:, k] = psi
    if len(cols) < influence.shape[1]:
        influence = np.ascontiguousarray(influence[:, cols])
    return Cells(pd.DataFrame(rows), influence)


def _cell_collinear(data: CsData, sel: np.ndarray, cur: int, base: int, covs: tuple[str, ...]) -> list[str]:
    if data.mode == "balanced":
        x = data.xs[sel, min(base, cur) - 1, :]  # type: ignore[index]
    else:
        rows = sel[data.obs_id] & ((data.obs_t == cur) | (data.obs_t == base))  # type: ignore[index]
        x = data.obs_x[rows]  # type: ignore[index]
    return collinear(x, covs)
