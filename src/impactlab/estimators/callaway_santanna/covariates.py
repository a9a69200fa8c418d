"""Callaway–Sant'Anna with covariates on a balanced panel: one propensity fit per comparison, not per cell.

Every ATT(g, t) is a 2×2 comparison of cohort ``g`` with its comparison units between the base period ``b``
and period ``t``, with the covariates of period ``min(b, t)`` (as R ``did``). Many cells share that design:
with ``base_period="varying"`` every post-treatment cell of cohort ``g`` has ``b = g − 1 − anticipation``,
and with never-treated comparison units the comparison set is the same for all of them. When the covariates
are also the same in two periods (time-invariant covariates), pre-treatment cells join the same design. The
cells of one design (treated cohort, comparison cohorts, covariate period) share

* the propensity-score logit, its overlap check, the trimming and its information matrix;
* the comparison units' ``X'X`` of the outcome regression, solved once for the outcome changes of every
  period of the design (one least-squares problem with several right-hand sides);
* the ``X'X``-solves of the estimation-effect terms that do not depend on the period.

The estimators are those of :mod:`impactlab.estimators.drdid` (doubly robust: Sant'Anna & Zhao 2020,
*J. Econometrics* 219(1), eq. 3.1; normalised IPW: Abadie 2005; outcome regression: Heckman, Ichimura &
Todd 1997), written for a whole design at once: the treated units' and the comparison units' parts of each
sum are computed on their own rows (cohort blocks gathered once), so no n-length boolean selection is made
per cell. The influence functions (R ``did`` scale, ``se = sqrt(Σ ψ²) / n``) are kept per design as the
blocks of the units that take part (:class:`BlockInfluence`); the dense units × cells matrix is built only
when it is asked for.

The route covers balanced panels, with sampling weights or without (every sum of the 2×2 estimators then
carries the unit's weight, normalised to mean one over the design's units as there; the blocks are handed
on as a dense matrix unless :data:`KEEP_BLOCKS_WEIGHTED`). Anything it cannot reproduce exactly — a design
whose logit does not converge, fails the overlap check or is singular, an estimate that is not finite —
makes :func:`cells_with_covariates` return ``None`` and the caller takes the cell-by-cell route, which
explains the problem in its ledger. ``tests/estimators/test_cs_cov_fast.py`` checks both routes agree to
1e-10.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd
from scipy.linalg import solve_triangular
from scipy.special import expit

from impactlab.errors import EstimationError
from impactlab.estimators._blocked import _BLOCK, _blocks, _mm, _tmm
from impactlab.estimators.callaway_santanna.cells import Ledger, comparison, trimmed_note
from impactlab.estimators.drdid import PS_CAP, RCOND_MIN, TRIM_LEVEL, _rcond

__all__ = ["BlockInfluence", "cells_with_covariates"]



class BlockInfluence:
    """The (n, K) influence functions of the covariate route, kept as the blocks of units that take part.

    Each block is ``(rows, cols, values)``: the influence of the units ``rows`` on the cells ``cols``
    (``values`` has shape ``(len(rows), len(cols))``); every other entry of the matrix is zero, and no entry
    belongs to two blocks. One design contributes a block for its treated cohort and one for its comparison
    units, so the memory is that of the non-zero entries. It offers what the result needs of a compact
    influence form (:class:`~impactlab.estimators.callaway_santanna.moments.CompactInfluence`): column sums of squares,
    cross-products, linear combinations of the columns (every aggregation of Callaway & Sant'Anna 2021, §3)
    and the dense matrix on demand.

    Parameters
    ----------
    n : int
        Number of units (rows of the dense matrix).
    n_cells : int
        Number of cells (columns).
    blocks : sequence of (ndarray, ndarray, ndarray)
        ``(rows, cols, values)`` as above.
    """

    def __init__(self, n: int, n_cells: int, blocks: Sequence[tuple[np.ndarray, np.ndarray, np.ndarray]]
                 ) -> None:
        self.shape = (int(n), int(n_cells))
        self._blocks = list(blocks)

    def nonzero_columns(self) -> np.ndarray:
        """Columns with at least one non-zero entry."""
        out = np.zeros(self.shape[1], dtype=bool)
        for _, cols, vals in self._blocks:
            out[cols] |= vals.any(axis=0)
        return out

    def sum_squares(self) -> np.ndarray:
        """``Σ_i ψ_ik²`` per column."""
        out = np.zeros(self.shape[1])
        for _, cols, vals in self._blocks:
            out[cols] += np.einsum("ij,ij->j", vals, vals)
        return out

    def _dense_cols(self, cols: np.ndarray) -> np.ndarray:
        pos = np.full(self.shape[1], -1, dtype="intp")
        pos[cols] = np.arange(cols.size)
        out = np.zeros((self.shape[0], cols.size))
        for rows, bcols, vals in self._blocks:
            at = pos[bcols]
            use = at >= 0
            if use.any():
                out[np.ix_(rows, at[use])] = vals[:, use]
        return out

    def cross_products(self, cols: np.ndarray) -> np.ndarray:
        """``Σ_i ψ_ik ψ_il`` for k, l in ``cols``."""
        sub = self._dense_cols(np.asarray(cols, dtype="intp"))
        return sub.T @ sub

    def combine(self, weights: np.ndarray) -> np.ndarray:
        """``dense() @ weights`` without building ``dense()``; ``weights`` is (K,) or (K, J)."""
        w = np.asarray(weights, dtype="float64")
        w2 = w[:, None] if w.ndim == 1 else w
        out = np.zeros((self.shape[0], w2.shape[1]))
        for rows, cols, vals in self._blocks:
            wb = w2[cols]
            if wb.any():
                out[rows] += vals @ wb
        return out[:, 0] if w.ndim == 1 else out

    def dense(self) -> np.ndarray:
        """The (n, K) influence matrix."""
        return self._dense_cols(np.arange(self.shape[1]))

    def __array__(self, dtype: Any = None, copy: Any = None) -> np.ndarray:
        d = self.dense()
        return d if dtype is None else d.astype(dtype)


def _logit(x: np.ndarray, n_t: int, w: np.ndarray | None = None, *, tol: float = 1e-11, max_iter: int = 100
           ) -> tuple[np.ndarray, bool]:
    """Fitted probabilities and convergence of the propensity logit of the treated rows ``x[:n_t]`` against
    the comparison rows ``x[n_t:]`` (``x[:, 0]`` is the intercept), with sampling weights ``w`` if given.

    The fit of :func:`~impactlab.estimators.drdid.logit_fit` without weights — the same start (the
    intercept-only fit), Newton steps, singularity checks and stopping rule
    (``max|step| < tol · (1 + max|β|)``) — with the gradient and information summed over row blocks in
    cache, so that no n-length temporary is allocated per iteration.
    """
    n, k = x.shape
    p0 = float(np.clip(n_t / n if w is None else w[:n_t].sum() / w.sum(), 1e-6, 1 - 1e-6))
    beta = np.zeros(k)
    beta[0] = np.log(p0 / (1 - p0))
    eta = np.empty(min(n, _BLOCK))
    converged = False
    # Σ d x of the gradient; the Σ p x part is summed block by block
    sum_dx = x[:n_t].sum(axis=0) if w is None else w[:n_t] @ x[:n_t]
    for it in range(max_iter):
        grad = sum_dx.copy()
        info = np.zeros((k, k))
        for s in _blocks(n):
            xb = x[s:s + _BLOCK]
            pb = expit(np.matmul(xb, beta, out=eta[:xb.shape[0]]), out=eta[:xb.shape[0]])
            if w is not None:
                pb *= w[s:s + _BLOCK]
                grad -= pb @ xb
                pb *= 1 - expit(xb @ beta)
            else:
                grad -= pb @ xb
                pb *= 1 - pb
            info += xb.T @ (pb[:, None] * xb)
        if _rcond(info) < RCOND_MIN:
            raise EstimationError("The propensity-score information matrix is singular"
                                  + (" (separation)" if it > 0 else " (collinear covariates)"))
        step = np.linalg.solve(info, grad)
        beta = beta + step
        if np.max(np.abs(step)) < tol * (1 + np.max(np.abs(beta))):
            converged = True
            break
    ps = _mm(x, beta, np.empty(n))
    return expit(ps, out=ps), converged


def _canonical_periods(xs: np.ndarray) -> np.ndarray:
    """For each period, the first period whose covariates equal its own for every unit.

    Two periods with identical covariates give identical 2×2 designs, so their cells share one fit.
    """
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
    """The 2×2 estimator of :mod:`impactlab.estimators.drdid` for all cells of one design.

    ``yt`` (n_t × T) and ``yc`` (n_c × T) are the outcomes of the treated and comparison units, ``x`` the
    design (intercept and covariates) of the treated rows followed by the comparison rows, ``sel`` (T × J)
    the ±1 matrix whose columns take the outcome change of each cell (``y_t − y_b``), ``scale`` the factor
    ``n / n_gt`` of R ``did``, ``buf`` a work buffer of at least ``max(n_t, n_c) · J`` values, ``w`` the
    sampling weights of the rows of ``x`` normalised to mean one (as the 2×2 estimators do). Returns the
    ATTs (J), the influence of the treated (n_t × J) and comparison units (n_c × J), and the number of
    trimmed comparison units. Raises EstimationError where the 2×2 estimator would (a singular design, an
    overlap failure, a logit that does not converge): the caller then takes the cell-by-cell route.

    The formulas are those of :func:`~impactlab.estimators.drdid.dr_did_panel`,
    :func:`~impactlab.estimators.drdid.ipw_did_panel` and :func:`~impactlab.estimators.drdid.reg_did_panel`
    (with unit weights when ``w`` is None), each sum split into its treated and comparison rows (the treated
    have ``w_c = 0`` and no regression residual term, the comparison units ``w_t = 0``).
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


#: Overlap check before a propensity-score fit, as in :mod:`impactlab.estimators.callaway_santanna.data`.
OVERLAP_MAX = 0.999
#: With sampling weights, keep the influence blocks (:class:`BlockInfluence`) instead of the dense matrix
#: (built on demand); ``tests/estimators/test_cs_weights_fast.py`` checks both settings.
KEEP_BLOCKS_WEIGHTED = True


def cells_with_covariates(data: Any, *, control: str, method: str, base_period: str, anticipation: int,
                          periods: tuple[Any, ...]
                          ) -> tuple[pd.DataFrame, BlockInfluence, Ledger, list[str]] | None:
    """Every ATT(g, t) of a balanced panel with covariates, one fit per design (see the module docstring).

    Parameters
    ----------
    data : CsData
        Balanced arrays of :func:`impactlab.estimators.callaway_santanna.data.prepare` with covariates
        (``data.y`` and ``data.xs`` are read, never written).
    control, method, base_period, anticipation, periods
        As in :func:`impactlab.estimators.callaway_santanna.data.estimate_cells`.

    Returns
    -------
    (table, influence, ledger, skipped) or None
        The cells frame of :class:`~impactlab.estimators.callaway_santanna.data.Cells` (same rows and order as the
        cell-by-cell route), the influence functions, the ledger entries (cells without comparison units,
        trimming) and the names of the skipped cells; ``None`` when some design needs the cell-by-cell route
        (nothing is then recorded).
    """

    if data.y is None or data.xs is None:
        return None
    uw = None if data.weights is None else np.asarray(data.weights, dtype="float64")
    n = data.n
    gp = np.asarray(data.gp)
    y, xs = data.y, data.xs
    cohorts, counts = np.unique(gp, return_counts=True)
    canon = _canonical_periods(xs)
    tfac = 1 if base_period == "varying" else 0
    rows: list[dict[str, Any]] = []
    ledger: Ledger = []
    names: list[str] = []
    designs: dict[tuple[int, tuple[int, ...], int], list[tuple[int, int, int]]] = {}
    for g in data.glist:
        g = int(g)
        base_post = g - 1 - anticipation
        n_t = int(counts[np.searchsorted(cohorts, g)])
        for cur in range(1 + tfac, data.n_periods + 1):
            post = g <= cur
            base = base_post if (post or base_period == "universal") else cur - 1
            ctrl = cohorts[comparison(cohorts, control, g, cur, base, anticipation)]
            n_c = int(counts[np.isin(cohorts, ctrl)].sum())
            row = {"g": g, "t": cur, "post": post, "n_treated": n_t, "n_control": n_c}
            if base == cur:
                rows.append({**row, "estimate": 0.0})
                continue
            if n_c == 0:
                key = (periods[g - 1], periods[cur - 1])
                ledger.append(("cell", key, "no comparison units"))
                names.append(f"cohort {key[0]}, time {key[1]}")
                continue
            design = (g, tuple(int(h) for h in ctrl), int(canon[min(base, cur) - 1]))
            designs.setdefault(design, []).append((len(rows), cur, base))
            rows.append({**row, "estimate": np.nan})
    if not rows:
        return None

    unit_rows: dict[int, np.ndarray] = {}
    y_of: dict[int, np.ndarray] = {}
    x_of: dict[tuple[int, int], np.ndarray] = {}

    def members(h: int) -> np.ndarray:
        if h not in unit_rows:
            unit_rows[h] = np.flatnonzero(gp == h)
        return unit_rows[h]

    def outcomes(h: int) -> np.ndarray:
        if h not in y_of:
            y_of[h] = np.asarray(y[members(h)], dtype="float64")
        return y_of[h]

    def covariates(h: int, p: int) -> np.ndarray:
        if (h, p) not in x_of:
            rows_h = members(h)  # column by column: a 1-d gather from the strided (units, periods, k) array
            x_of[(h, p)] = np.column_stack([xs[:, p, j][rows_h] for j in range(xs.shape[2])])
        return x_of[(h, p)]

    n_cov = xs.shape[2]
    blocks: list[tuple[np.ndarray, np.ndarray, np.ndarray]] = []
    trimmed: dict[int, int] = {}
    n_per = y.shape[1]
    width = max(len(cells) for cells in designs.values()) if designs else 0
    buf = np.empty(n * width)  # pages are touched only as far as the largest design uses them
    for (g, ctrl, xper), cells in designs.items():
        parts = [g, *ctrl]
        sizes = [members(h).size for h in parts]
        n_t, n_sel = sizes[0], sum(sizes)
        x = np.empty((n_sel, 1 + n_cov))
        x[:, 0] = 1.0
        start = 0
        for h, size in zip(parts, sizes, strict=True):
            x[start:start + size, 1:] = covariates(h, xper)
            start += size
        yc = outcomes(ctrl[0]) if len(ctrl) == 1 else np.concatenate([outcomes(h) for h in ctrl])
        rc = members(ctrl[0]) if len(ctrl) == 1 else np.concatenate([members(h) for h in ctrl])
        cols = np.array([c for c, _, _ in cells], dtype="intp")
        sel = np.zeros((n_per, cols.size))
        for j, (_, cur, base) in enumerate(cells):
            sel[cur - 1, j] = 1.0
            sel[base - 1, j] = -1.0
        wsel = None
        if uw is not None:  # the design's weights, normalised to mean one as the 2×2 estimators do
            wsel = np.concatenate([uw[members(h)] for h in parts])
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
        for c, a in zip(cols, att, strict=True):
            rows[c]["estimate"] = float(a)
            if n_trim:
                trimmed[int(c)] = n_trim
        blocks.append((members(g), cols, psi_t))
        blocks.append((rc, cols, psi_c))
    if trimmed:  # in the cell order of the cell-by-cell route
        for c in sorted(trimmed):
            key = (periods[rows[c]["g"] - 1], periods[rows[c]["t"] - 1])
            ledger.append(("cell", key, trimmed_note(trimmed[c])))
        ledger.sort(key=lambda e: _cell_order(e[1], periods))
    influence = BlockInfluence(n, len(rows), blocks)
    if uw is not None and not KEEP_BLOCKS_WEIGHTED:
        return pd.DataFrame(rows), influence.dense(), ledger, names  # type: ignore[return-value]
    return pd.DataFrame(rows), influence, ledger, names


def _cell_order(key: tuple[Any, Any], periods: tuple[Any, ...]) -> tuple[int, int]:
    """Position of a (cohort, time) ledger key in the cell-by-cell loop (cohort first, then time)."""
    return periods.index(key[0]), periods.index(key[1])


def clearly_full_rank(x: np.ndarray, *, margin: float = 1e-6) -> bool:
    """True when ``[1, x]`` has full column rank by a wide margin, from its Gram matrix alone.

    A quick pre-check for :func:`impactlab.estimators.callaway_santanna.data.collinear` (which takes the rank of the
    n × (k + 1) matrix by SVD, several times): if the smallest eigenvalue of ``[1, x]'[1, x]`` is at least
    ``margin`` times the largest, the smallest singular value is at least ``sqrt(margin)`` times the largest,
    far above the rank tolerance (``σ_max · n · eps``), and the Gram matrix's rounding error (of order
    ``n · eps`` relative) cannot change that; every leading subset of the columns is then of full rank too
    (interlacing). ``False`` means "not sure": run the exact check.
    """
    x = np.asarray(x, dtype="float64")
    n, k = x.shape
    if n <= k or not np.all(np.isfinite(x)):
        return False
    gram = np.empty((k + 1, k + 1))
    gram[0, 0] = n
    gram[0, 1:] = gram[1:, 0] = x.sum(axis=0)
    gram[1:, 1:] = _tmm(x, x)
    ev = np.linalg.eigvalsh(gram)
    return bool(ev[0] > margin * ev[-1] and margin * n * np.finfo(float).eps < 1e-3)
