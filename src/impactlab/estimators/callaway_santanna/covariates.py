"""The route for balanced panels with covariates (with sampling weights or without): one propensity and
outcome-regression fit per design (treated cohort, comparison cohorts, covariate period) shared by its
cells, the estimators of :mod:`impactlab.estimators.drdid` written for a whole design (see
``docs/explanation.md``). A design it cannot reproduce exactly makes :func:`fit` return ``None``."""

from __future__ import annotations

import numpy as np
from scipy.linalg import solve_triangular

from impactlab.errors import EstimationError
from impactlab.estimators._blocked import _mm, _tmm
from impactlab.estimators._logit import fit_logit
from impactlab.estimators.callaway_santanna.cells import Cell, Cells, CellTable, Design, trimmed_note
from impactlab.estimators.callaway_santanna.data import OVERLAP_MAX, CsData, cohort_layout
from impactlab.estimators.callaway_santanna.influence import Blocks
from impactlab.estimators.drdid import PS_CAP, RCOND_MIN, TRIM_LEVEL, _rcond

__all__ = ["fit"]


def _logit(x: np.ndarray, n_t: int, w: np.ndarray | None = None) -> tuple[np.ndarray, bool]:
    """Fitted probabilities of the propensity logit of the treated rows ``x[:n_t]`` against the comparison
    rows ``x[n_t:]``, and whether they are usable (converged, no score at 0 or 1): the one logit of
    :func:`impactlab.estimators._logit.fit_logit`, whose sums run over row blocks in cache."""
    d = np.zeros(x.shape[0])
    d[:n_t] = 1.0
    fit = fit_logit(x, d, w)
    return fit.fitted, fit.converged and not fit.separated


def _canonical_periods(xs: np.ndarray) -> np.ndarray:
    """For each period, the first period with the same covariates for every unit (the same design)."""
    n_per = xs.shape[1]
    if n_per > 1 and np.array_equal(xs[:, 1:], xs[:, :-1]):  # covariates that do not change: one pass
        return np.zeros(n_per, dtype="intp")
    canon = np.arange(n_per)
    reps: list[int] = []
    for p in range(n_per):
        for q in reps:
            if np.array_equal(xs[:, p, :], xs[:, q, :]):
                canon[p] = q
                break
        else:
            reps.append(p)
    return canon


def _scratch(buf: np.ndarray, rows: int, cols: int) -> np.ndarray:
    """A C-contiguous (rows, cols) view of the reusable work buffer (no fresh memory per design)."""
    return buf[:rows * cols].reshape(rows, cols)


def _fit_design(method: str, yt: np.ndarray, yc: np.ndarray, x: np.ndarray, n_t: int, sel: np.ndarray,
                scale: float, buf: np.ndarray, w: np.ndarray | None = None
                ) -> tuple[np.ndarray, np.ndarray, np.ndarray, int]:
    """The panel 2×2 estimators of :mod:`impactlab.estimators.drdid` for the J cells of one design.

    ``yt`` (n_t × T), ``yc`` (n_c × T): outcomes of the treated and comparison units; ``x``: their design
    (intercept, covariates), treated rows first; ``sel`` (T × J): ±1 columns taking each cell's outcome
    change; ``scale``: ``n / n_gt``; ``buf``: work memory; ``w``: sampling weights of mean one. Returns the
    ATTs, the influence of the treated and comparison units and the number trimmed; raises EstimationError
    where the 2×2 estimator would.
    """
    n_sel = x.shape[0]
    n_c = n_sel - n_t
    n_j = sel.shape[1]
    xt, xc = x[:n_t], x[n_t:]
    tmp_t, tmp_c = _scratch(buf, n_t, n_j), _scratch(buf, n_c, n_j)
    dy_t = _mm(yt, sel, np.empty((n_t, n_j)))  # exact: each entry is y_t − y_b (the rest are zeros)
    dy_c = _mm(yc, sel, np.empty((n_c, n_j)))
    w_t = None if w is None else w[:n_t]
    w_c = None if w is None else w[n_t:]
    sum_wt = float(n_t) if w_t is None else float(w_t.sum())
    mwt = sum_wt / n_sel
    if method in ("dr", "ipw"):
        ps, converged = _logit(x, n_t, w)
        if ps.max() >= OVERLAP_MAX:
            raise EstimationError("overlap condition violated (a propensity score reaches 0.999)")
        if not converged:
            raise EstimationError("The propensity-score logit did not converge.")
        np.minimum(ps, 1 - PS_CAP, out=ps)
        info = _tmm(x, (ps * (1 - ps) * (1.0 if w is None else w))[:, None] * x)
        if _rcond(info) < RCOND_MIN:
            raise EstimationError("The propensity score design matrix is singular.")
        ps_t, ps_c = ps[:n_t], ps[n_t:]
        kept = ps_c < TRIM_LEVEL
        n_trim = int(np.count_nonzero(~kept))
        wc = np.where(kept, ps_c / (1 - ps_c), 0.0)
        if w_c is not None:
            wc *= w_c
        mwc = wc.sum() / n_sel
    else:
        n_trim = 0
    if method in ("dr", "reg"):
        sw = None if w_c is None else np.sqrt(w_c)[:, None]
        xw = xc if sw is None else xc * sw  # weighted least squares: rows scaled by sqrt(w)
        xpx = _tmm(xw, xw)
        if _rcond(xpx) < RCOND_MIN:
            raise EstimationError("The outcome-regression design matrix of the comparison units is singular.")
        q, r = np.linalg.qr(xw)  # least squares as lstsq does it, without copying the outcome changes
        beta = solve_triangular(r, _tmm(q, yc if sw is None else yc * sw) @ sel)  # (p, J), one per cell
        v1 = np.linalg.solve(xpx / n_sel, (xt.sum(axis=0) if w_t is None else w_t @ xt) / n_sel)
        _mm(xc, beta, tmp_c)
        dy_c -= tmp_c  # the comparison units' residuals
    if method == "reg":
        _mm(xt, beta, tmp_t)
        if w_t is None:
            eta_t = dy_t.sum(axis=0) / n_t
            eta_c = tmp_t.sum(axis=0) / n_t
        else:
            eta_t = w_t @ dy_t / sum_wt
            eta_c = w_t @ tmp_t / sum_wt
        dy_t -= tmp_t
        dy_t -= eta_t - eta_c
        dy_t *= scale / mwt
        lin = _mm(xc, v1 * (-scale / mwt), np.empty(n_c))
        if w is not None:
            assert w_t is not None and w_c is not None  # noqa: S101 - both set when w is
            dy_t *= w_t[:, None]
            lin *= w_c
        dy_c *= lin[:, None]
        return eta_t - eta_c, dy_t, dy_c, n_trim
    if method == "dr":
        _mm(xt, beta, tmp_t)
        dy_t -= tmp_t
    resid_t, resid_c = dy_t, dy_c
    eta_t = resid_t.sum(axis=0) / n_t if w_t is None else w_t @ resid_t / sum_wt
    eta_c = _tmm(resid_c, wc) / wc.sum()
    np.subtract(resid_c, eta_c, out=tmp_c)
    tmp_c *= wc[:, None]
    u2 = np.linalg.solve(info, _tmm(xc, tmp_c) / n_sel)  # (p, J)
    # treated: (r − η_t) / E[w_t] − n (1 − ps) x'u2 / E[w_c]
    psi_t = resid_t
    psi_t -= eta_t
    psi_t *= scale / mwt
    if w_t is not None:
        psi_t *= w_t[:, None]
    _mm(((1 - ps_t) * (1.0 if w_t is None else w_t))[:, None] * xt, u2 * (scale * n_sel / mwc), tmp_t)
    psi_t -= tmp_t
    # comparison: −[w_c (r − η_c) − n ps x'u2] / E[w_c], and for DR the regression's estimation effect
    a_c = wc * (-scale / mwc)
    if method == "dr":
        v3 = np.linalg.solve(xpx / n_sel, _tmm(xc, wc) / n_sel)
        lin = _mm(xc, v3 * (scale / mwc) - v1 * (scale / mwt), np.empty(n_c))
        a_c += lin if w_c is None else lin * w_c
    psi_c = resid_c
    psi_c *= a_c[:, None]
    feats = np.empty((n_c, 1 + x.shape[1]))
    feats[:, 0] = wc
    np.multiply((ps_c if w_c is None else ps_c * w_c)[:, None], xc, out=feats[:, 1:])
    _mm(feats, np.vstack([eta_c[None, :] * (scale / mwc), u2 * (scale * n_sel / mwc)]), tmp_c)
    psi_c += tmp_c
    return eta_t - eta_c, psi_t, psi_c, n_trim


def fit(data: CsData, design: Design) -> Cells | None:
    """Every ATT(g, t) of a balanced panel with covariates, one fit per design; ``None`` when some design
    needs the cell-by-cell route (``data.y`` and ``data.xs`` are read, never written)."""
    if data.y is None or data.xs is None:
        return None
    uw = None if data.weights is None else np.asarray(data.weights, dtype="float64")
    n, method = data.n, design.method
    y, xs = data.y, data.xs
    lay = cohort_layout(data.gp)
    cohorts, counts = lay.cohorts, lay.sizes
    canon = _canonical_periods(xs)
    table = CellTable(design.periods)
    designs: dict[tuple[int, tuple[int, ...], int], list[tuple[int, Cell]]] = {}
    for cell, ctrl_h, n_t, n_c in design.walk(table, data.glist, data.n_periods, cohorts, counts):
        key = (cell.g, tuple(int(h) for h in cohorts[ctrl_h]), int(canon[min(cell.base, cell.t) - 1]))
        designs.setdefault(key, []).append((table.add(cell, n_t, n_c, np.nan), cell))
    if not len(table):
        return None
    rows = table.rows

    unit_rows = {int(h): lay.order[s:e]
                 for h, s, e in zip(cohorts, lay.bounds[:-1], lay.bounds[1:], strict=True)}
    y_of: dict[int, np.ndarray] = {}
    x_of: dict[tuple[int, int], np.ndarray] = {}

    def outcomes(h: int) -> np.ndarray:
        if h not in y_of:
            y_of[h] = np.asarray(y[unit_rows[h]], dtype="float64")
        return y_of[h]

    def covariates(h: int, p: int) -> np.ndarray:
        if (h, p) not in x_of:  # column by column: a 1-d gather from the strided (units, periods, k) array
            x_of[(h, p)] = np.column_stack([xs[:, p, j][unit_rows[h]] for j in range(xs.shape[2])])
        return x_of[(h, p)]

    n_cov = xs.shape[2]
    blocks: list[tuple[np.ndarray, np.ndarray, np.ndarray]] = []
    n_per = y.shape[1]
    width = max(len(cells) for cells in designs.values()) if designs else 0
    buf = np.empty(n * width)  # pages are touched only as far as the largest design uses them
    for (g, ctrl, xper), cells in designs.items():
        parts = [g, *ctrl]
        sizes = [unit_rows[h].size for h in parts]
        n_t, n_sel = sizes[0], sum(sizes)
        x = np.empty((n_sel, 1 + n_cov))
        x[:, 0] = 1.0
        start = 0
        for h, size in zip(parts, sizes, strict=True):
            x[start:start + size, 1:] = covariates(h, xper)
            start += size
        yc = outcomes(ctrl[0]) if len(ctrl) == 1 else np.concatenate([outcomes(h) for h in ctrl])
        rc = unit_rows[ctrl[0]] if len(ctrl) == 1 else np.concatenate([unit_rows[h] for h in ctrl])
        cols = np.array([c for c, _ in cells], dtype="intp")
        sel = np.zeros((n_per, cols.size))
        for j, (_, cell) in enumerate(cells):
            sel[cell.t - 1, j] = 1.0
            sel[cell.base - 1, j] = -1.0
        wsel = None
        if uw is not None:  # the design's weights, normalised to mean one as the 2×2 estimators do
            wsel = np.concatenate([uw[unit_rows[h]] for h in parts])
            wsel = wsel / np.mean(wsel) if np.mean(wsel) > 0 else wsel
        try:
            with np.errstate(all="ignore"):
                att, psi_t, psi_c, n_trim = _fit_design(method, outcomes(g), yc, x, n_t, sel, n / n_sel,
                                                        buf, wsel)
        except (EstimationError, np.linalg.LinAlgError):
            return None
        if not np.all(np.isfinite(att)) or (uw is not None and not (np.isfinite(psi_t).all()
                                                                    and np.isfinite(psi_c).all())):
            return None
        for (c, cell), a in zip(cells, att, strict=True):
            rows[c]["estimate"] = float(a)
            if n_trim:
                table.note(cell, trimmed_note(n_trim))
        blocks.append((unit_rows[g], cols, psi_t))
        blocks.append((rc, cols, psi_c))
    return table.result(Blocks(n, len(rows), blocks), "covariates")
