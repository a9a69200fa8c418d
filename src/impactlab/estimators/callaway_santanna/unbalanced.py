"""Callaway–Sant'Anna on an unbalanced panel without covariates, from cohort-by-period statistics.

With ``allow_unbalanced=True`` every ATT(g, t) is the repeated cross-section 2×2 estimator of
:mod:`impactlab.estimators._drdid_rcs` on the observations of the base period ``b`` and of period ``t``,
and the influence of a unit's observations is summed (Callaway & Sant'Anna 2021, *J. Econometrics* 225(2),
§4; R ``did`` ``allow_unbalanced_panel = TRUE``). Without covariates and sampling weights the propensity
score is the share of treated observations and the outcome regressions are cell means, so the doubly
robust, IPW and regression estimators all reduce to a difference of four cell means (Sant'Anna & Zhao 2020,
*J. Econometrics* 219(1), §3.2)::

    ATT(g, t) = (ȳ_g,t − ȳ_g,b) − (ȳ_C,t − ȳ_C,b),

with ``ȳ_C,s`` the mean of the comparison cohorts' observations in period ``s``. Scaled as
:func:`impactlab.estimators.callaway_santanna.data._cell_2x2` scales it (``n / N`` with ``n`` units and ``N``
observations in the cell), the influence of one observation of period ``s`` is affine in its outcome with
coefficients that depend only on the unit's cohort ``h`` and on ``s``: ``n (y − ȳ_cell) / N_cell`` with
the sign of its cell. Summed over a unit's observations,

    ψ_i = Σ_s u_is A[h, s] + Σ_s o_is C[h, s] + D[h],   u_is = o_is (y_is − ȳ_h,s),

where ``o_is`` says whether unit i is observed in period s, ``A`` holds ``±n / N_cell``, ``C`` the same
times the distance of the cohort's period mean from the pooled cell mean, and ``D`` (zero for a cell) the
per-unit constants an aggregation adds (the influence of the estimated cohort shares). With
``z_i = (u_i, o_i, 1)`` (2T + 1 values) every sum of squares and cross-product of influence functions is
``Σ_h θ_k[h]' M_h θ_l[h]`` with ``M_h = Σ_{i∈h} z_i z_i'``: one pass over the units gives the moments, and
no units × cells matrix is needed for the standard errors, the aggregations, the pre-test or the multiplier
bootstrap (:class:`ObservedInfluence`).

A cell whose two-by-two comparison is not regular (an empty cohort-period cell, a share of treated
observations at which the propensity score is trimmed or fails the overlap check) is computed by the
cell-by-cell code, which decides and explains, and the influence matrix is then built densely. Repeated
cross-sections (one observation per id), covariates and sampling weights are left to that code.
``tests/estimators/test_cs_unbalanced_fast.py`` checks both routes agree to 1e-10.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from impactlab.estimators._blocked import _tmm
from impactlab.estimators.callaway_santanna.aggregate import mammen_products
from impactlab.estimators.callaway_santanna.cells import Ledger, comparison, fit_cell
from impactlab.estimators.drdid import TRIM_LEVEL

if TYPE_CHECKING:  # _cs_fit dispatches to this module
    from impactlab.estimators.callaway_santanna.data import CsData

__all__ = ["ObservedInfluence", "ObservedSums", "cells_unbalanced"]

#: ``(data, method, treated, ctrl, cur, base) -> (att, psi, n_trimmed)``: the cell-by-cell 2×2 estimator.
CellFit = Callable[["CsData", str, np.ndarray, np.ndarray, int, int], tuple[float, np.ndarray, int]]


@dataclass(frozen=True)
class ObservedSums:
    """Per-cohort multiplier sums ``Σ_{i∈h} v_i z_i`` of :meth:`ObservedInfluence.multiplier_sums`.

    Attributes
    ----------
    products : ndarray, shape (iters, H, 2T + 1)
    n_units : int
    """

    products: np.ndarray
    n_units: int


class ObservedInfluence:
    """The (n, K) influence functions of an unbalanced panel without covariates, in their affine form.

    Row i, column k is ``θ_k[h] · z_i`` with ``z_i = (u_i, o_i, 1)`` (see the module docstring) and h the
    cohort of unit i. The form keeps ``z`` (units sorted by cohort), the per-cohort moment matrices
    ``M_h = Σ_{i∈h} z_i z_i'`` and K × H × (2T + 1) coefficients. It offers what the result and the
    aggregations use of :class:`~impactlab.estimators.callaway_santanna.moments.CompactInfluence`: column sums of
    squares and cross-products from the moments, linear combinations (:meth:`combine`, :meth:`transform`),
    multiplier-bootstrap draws from one pass over ``z`` and the dense matrix on demand.

    Parameters
    ----------
    z : ndarray, shape (n, 2T + 1)
        ``z_i`` of the units, sorted by cohort (stable: the units of a cohort in their row order).
    bounds : ndarray of int, shape (H + 1,)
        Rows of ``z`` of each cohort: ``bounds[h]:bounds[h + 1]``.
    order : ndarray of int, shape (n,) or None
        Unit (row of the influence matrix) of each row of ``z``; ``None`` when they are the same.
    cohorts : ndarray of int, shape (H,)
        Cohort (1-based period index, 0 = never treated) of each coefficient row h.
    moments : ndarray, shape (H, 2T + 1, 2T + 1)
    coef : ndarray, shape (K, H, 2T + 1)
    """

    def __init__(self, z: np.ndarray, bounds: np.ndarray, order: np.ndarray | None, cohorts: np.ndarray,
                 moments: np.ndarray, coef: np.ndarray) -> None:
        self._z = z
        self._bounds = bounds
        self._order = order
        self._cohorts = cohorts
        self._moments = moments
        self.coef = coef
        self.shape = (int(z.shape[0]), int(coef.shape[0]))

    def _with(self, coef: np.ndarray) -> ObservedInfluence:
        return ObservedInfluence(self._z, self._bounds, self._order, self._cohorts, self._moments, coef)

    @property
    def cohorts(self) -> np.ndarray:
        """The cohort (1-based period index, 0 = never treated) of each coefficient row h."""
        return np.asarray(self._cohorts)

    def select(self, cols: Sequence[int] | np.ndarray) -> ObservedInfluence:
        """The same form restricted to the columns ``cols``."""
        return self._with(self.coef[np.asarray(cols, dtype="intp")])

    def nonzero_columns(self) -> np.ndarray:
        """Columns whose coefficients are not all zero (a zero column is an exactly zero function)."""
        return np.asarray(self.coef.any(axis=(1, 2)))

    def sum_squares(self) -> np.ndarray:
        """``Σ_i ψ_ik²`` per column from the cohort moments (no unit-level array)."""
        return np.einsum("khs,hst,kht->k", self.coef, self._moments, self.coef, optimize=True)

    def cross_products(self, cols: np.ndarray) -> np.ndarray:
        """``Σ_i ψ_ik ψ_il`` for k, l in ``cols`` from the cohort moments."""
        coef = self.coef[np.asarray(cols, dtype="intp")]
        return np.einsum("khs,hst,lht->kl", coef, self._moments, coef, optimize=True)

    def transform(self, weights: np.ndarray, const: np.ndarray | None = None) -> ObservedInfluence:
        """The affine form of ``dense() @ weights + c``, with ``c`` constant within cohorts.

        Parameters
        ----------
        weights : ndarray, shape (K, J)
        const : ndarray, shape (H, J), optional
            Added to column j for every unit of cohort row h (the influence of estimated cohort shares,
            Callaway & Sant'Anna 2021, App. B).
        """
        w = np.asarray(weights, dtype="float64")
        coef = np.tensordot(w, self.coef, axes=(0, 0))  # (J, H, W)
        if const is not None:
            coef[:, :, -1] += np.asarray(const, dtype="float64").T
        return self._with(coef)

    def dense(self, order: str = "C") -> np.ndarray:
        """The (n, K) influence matrix (memory layout ``order``, "C" or "F")."""
        out = np.empty(self.shape, order=order)  # type: ignore[call-overload]
        self._fill(out, self.coef)
        return out

    def combine(self, weights: np.ndarray) -> np.ndarray:
        """``dense() @ weights`` without building ``dense()``; ``weights`` is (K,) or (K, J)."""
        w = np.asarray(weights, dtype="float64")
        w2 = w[:, None] if w.ndim == 1 else w
        out = np.empty((self.shape[0], w2.shape[1]))
        self._fill(out, np.tensordot(w2, self.coef, axes=(0, 0)))
        return out[:, 0] if w.ndim == 1 else out

    def _fill(self, out: np.ndarray, coef: np.ndarray) -> None:
        # blocks of units small enough for cache, so small BLAS calls stay single-threaded on a busy machine
        step = max(8, (1 << 17) // max(1, self._z.shape[1] * coef.shape[0]))
        for h in range(len(self._cohorts)):
            a = np.ascontiguousarray(coef[:, h, :].T)  # (W, K)
            for s in range(int(self._bounds[h]), int(self._bounds[h + 1]), step):
                e = min(s + step, int(self._bounds[h + 1]))
                if self._order is None:
                    out[s:e] = self._z[s:e] @ a
                else:
                    out[self._order[s:e]] = self._z[s:e] @ a

    def multiplier_sums(self, iters: int, seed: int) -> ObservedSums:
        """Per-cohort sums ``Σ_{i∈h} v_i z_i`` of Mammen multipliers for ``iters`` bootstrap draws.

        Units receive their weights cohort by cohort in row order, as on the dense route
        (:func:`~impactlab.estimators.callaway_santanna.aggregate.draw_order`), so both give the same draws for a seed.
        """
        return ObservedSums(mammen_products(self._z, int(iters), int(seed), self._bounds), self.shape[0])

    def multiplier_draws(self, sums: ObservedSums) -> np.ndarray:
        """Bootstrap draws ``Σ_i v_i ψ_ik / n`` of every column, (iters, K), from :meth:`multiplier_sums`."""
        B, H, W = sums.products.shape
        draws = sums.products.reshape(B, H * W) @ self.coef.reshape(-1, H * W).T
        draws /= sums.n_units
        return draws

    def __array__(self, dtype: Any = None, copy: Any = None) -> np.ndarray:
        d = self.dense()
        return d if dtype is None else d.astype(dtype)


@dataclass(frozen=True)
class _Layout:
    """The statistics of one fit: cohort values and unit sizes, each unit's cohort row, observation counts
    and means per cohort and period (H, T), and the arrays of :class:`ObservedInfluence`."""

    cohorts: np.ndarray
    sizes: np.ndarray
    h_of: np.ndarray
    count: np.ndarray
    mean: np.ndarray
    z: np.ndarray
    bounds: np.ndarray
    order: np.ndarray | None
    moments: np.ndarray


def _layout(data: CsData) -> _Layout | None:
    """The statistics of :class:`_Layout`: one pass over the observations and one over the units.

    ``None`` when the ids are not units (no more observations than ids, as with repeated cross-sections,
    where ``z`` would waste T times the memory), an outcome is not finite, or a (unit, period) is observed
    twice.
    """
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
    moments = np.stack([_tmm(z[s:e], z[s:e]) for s, e in zip(bounds[:-1], bounds[1:], strict=True)])
    if moments[:, T:2 * T, -1].sum() != obs_id.size:  # a (unit, period) observed twice: not a panel
        return None
    return _Layout(cohorts, sizes, h_of, count.reshape(H, T), mean.reshape(H, T), z, bounds, order, moments)


def cells_unbalanced(data: CsData, *, control: str, method: str, base_period: str, anticipation: int,
                     periods: tuple[Any, ...], cell_fit: CellFit
                     ) -> tuple[pd.DataFrame, ObservedInfluence | np.ndarray, Ledger, list[str]] | None:
    """Every ATT(g, t) of an unbalanced panel without covariates or weights (see the module docstring).

    Parameters
    ----------
    data : CsData
        Arrays of :func:`impactlab.estimators.callaway_santanna.data.prepare` in mode ``"rcs"`` (ids are units).
    control, method, base_period, anticipation, periods
        As :func:`impactlab.estimators.callaway_santanna.data.estimate_cells`.
    cell_fit : callable
        The cell-by-cell 2×2 estimator (:func:`impactlab.estimators.callaway_santanna.data._cell_2x2`), used for the
        cells that are not regular.

    Returns
    -------
    (table, influence, ledger, skipped) or None
        The cells in the order of the cell-by-cell route, their influence functions (the affine form, or a
        dense matrix when some cell needed the 2×2 estimator), the ledger entries and the names of the
        skipped cells; ``None`` when the route does not apply or nothing could be estimated (the caller then
        takes the cell-by-cell route, which explains why).
    """
    if data.obs_x is not None or data.obs_w is not None or data.weights is not None or data.obs_id is None:
        return None
    lay = _layout(data)
    if lay is None:
        return None
    cohorts, sizes, cnt, mean = lay.cohorts, lay.sizes, lay.count, lay.mean
    H, T, n = len(cohorts), data.n_periods, data.n
    W = 2 * T + 1
    tfac = 1 if base_period == "varying" else 0
    rows: list[dict[str, Any]] = []
    coefs: list[np.ndarray] = []
    replaced: dict[int, np.ndarray] = {}
    ledger: Ledger = []
    names: list[str] = []
    for g in data.glist:
        g = int(g)
        hg = int(np.searchsorted(cohorts, g))
        base_post = g - 1 - anticipation
        for cur in range(1 + tfac, T + 1):
            post = g <= cur
            base = base_post if (post or base_period == "universal") else cur - 1
            ctrl = comparison(cohorts, control, g, cur, base, anticipation)
            row = {"g": g, "t": cur, "post": post, "n_treated": int(sizes[hg]),
                   "n_control": int(sizes[ctrl].sum())}
            theta = np.zeros((H, W))
            if base == cur:
                rows.append({**row, "estimate": 0.0})
                coefs.append(theta)
                continue
            key = (periods[g - 1], periods[cur - 1])
            where = f"cohort {key[0]}, time {key[1]}"
            if row["n_control"] == 0:
                ledger.append(("cell", key, "no comparison units"))
                names.append(where)
                continue
            c, b = cur - 1, base - 1
            n_tp, n_t0 = cnt[hg, c], cnt[hg, b]
            n_cp, n_c0 = cnt[ctrl, c].sum(), cnt[ctrl, b].sum()
            n_obs = n_tp + n_t0 + n_cp + n_c0
            regular = min(n_tp, n_t0, n_cp, n_c0) > 0 and (
                method == "reg" or (n_tp + n_t0) / n_obs < TRIM_LEVEL)
            if not regular:  # an empty cell, trimming or overlap: the 2×2 estimator decides, as before
                done = fit_cell(cell_fit, (data, method, lay.h_of == hg, ctrl[lay.h_of], cur, base), key,
                                where, ledger, names)
                if done is None:
                    continue
                att, replaced[len(rows)] = done
                rows.append({**row, "estimate": att})
                coefs.append(theta)
                continue
            m_cp = float(cnt[ctrl, c] @ mean[ctrl, c]) / n_cp
            m_c0 = float(cnt[ctrl, b] @ mean[ctrl, b]) / n_c0
            theta[hg, c], theta[hg, b] = n / n_tp, -n / n_t0
            theta[ctrl, c], theta[ctrl, b] = -n / n_cp, n / n_c0
            theta[ctrl, T + c] = -n * (mean[ctrl, c] - m_cp) / n_cp
            theta[ctrl, T + b] = n * (mean[ctrl, b] - m_c0) / n_c0
            rows.append({**row, "estimate": float((mean[hg, c] - mean[hg, b]) - (m_cp - m_c0))})
            coefs.append(theta)
    if not rows:
        return None
    form = ObservedInfluence(lay.z, lay.bounds, lay.order, cohorts, lay.moments, np.stack(coefs))
    if not replaced:
        return pd.DataFrame(rows), form, ledger, names
    influence = form.dense()
    for k, psi in replaced.items():
        influence[:, k] = psi
    return pd.DataFrame(rows), influence, ledger, names
