"""Callaway–Sant'Anna with sampling weights, balanced panel, no covariates: weighted cohort moments.

Without covariates the DR, IPW and REG 2×2 estimators of :mod:`impactlab.estimators.drdid` reduce, with
sampling weights too, to a difference of *weighted* mean outcome changes (Sant'Anna & Zhao 2020, *J.
Econometrics* 219(1), §3, with an intercept-only propensity score, whose fitted value is the weighted share
of treated units, and an intercept-only outcome model, whose fit is the comparison units' weighted mean
change):

    ATT(g, t) = m_g − m_C,   m_S = Σ_{i∈S} w_i Δ_i / W_S,   W_S = Σ_{i∈S} w_i,   Δ_i = y_i,t − y_i,b.

The 2×2 estimators renormalise the weights of the cell's units to mean one, and R ``did`` scales the cell's
influence function by ``n / n_gt`` (Callaway & Sant'Anna 2021, *J. Econometrics* 225(2), §4); both
normalisations cancel, and with the weights normalised to mean one over all n units (as ``prepare`` does,
``wts / wts.mean()``) the influence function on R ``did``'s scale (``se = sqrt(Σ ψ²) / n``) is

    ψ_i = n · w_i · [ 1{G_i = g} (Δ_i − m_g) / W_g − 1{G_i ∈ C} (Δ_i − m_C) / W_C ].

This is ``w_i`` times the affine form of :mod:`impactlab.estimators.callaway_santanna.moments` in which cohort counts
become weighted counts and cohort means weighted means: ``ψ_i = w_i [a_h' (y_i − ȳ_h) + c_h]`` with h the
cohort of unit i. The cells, comparison groups and base periods therefore come from
:func:`~impactlab.estimators.callaway_santanna.moments.att_gt_from_moments` applied to the weighted moments (its
standard errors are not used: the weighted sum of squares needs ``w_i²``). The (units × cells) influence
functions are built from that weighted affine form (:class:`WeightedInfluence`, one product per cohort),
or, with :data:`KEEP_FORM`, kept in it: standard errors, the pre-test and bootstrap draws then follow from
per-cohort moments of ``w_i (y_i − ȳ_h)``; aggregations (whose weighted cohort shares add an influence
term that varies within cohorts, R ``did``) take one pass over the units each, and the dense matrix is
built only on demand. Cells whose propensity score
(the weighted treated share) approaches the trimming level are handed to the 2×2 estimator, as without
weights; a cohort whose weights are all zero sends the whole fit to the cell-by-cell route.
``tests/estimators/test_cs_weights_fast.py`` checks the route against the cell-by-cell code to 1e-10.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import replace
from typing import Any

import numpy as np
import pandas as pd

from impactlab.errors import EstimationError
from impactlab.estimators.callaway_santanna import moments as suff
from impactlab.estimators._blocked import _tmm
from impactlab.estimators.callaway_santanna.aggregate import mammen_products
from impactlab.estimators.callaway_santanna.cells import comparison, fit_cell
from impactlab.estimators.drdid import TRIM_LEVEL

__all__ = ["WeightedInfluence", "cells_weighted", "weighted_moments"]

#: A cell whose weighted or unweighted treated share is within this of the trimming level goes to the 2×2
#: estimator (which computes the share its own way, so rounding must not decide the route).
_TRIM_MARGIN = 1e-9
#: Keep the influence functions in their weighted affine form (:class:`WeightedInfluence`) instead of the
#: dense matrix (built on demand); ``tests/estimators/test_cs_weights_fast.py`` checks both settings against
#: the cell-by-cell code.
KEEP_FORM = True


def weighted_moments(y: np.ndarray, cohort: np.ndarray, weights: np.ndarray
                     ) -> tuple[suff.CohortMoments, np.ndarray] | None:
    """Weighted counts ``W_h`` and weighted mean outcomes ``ȳ_h`` per cohort, and the unit counts.

    Returns ``None`` when some cohort has a zero total weight (its weighted mean does not exist). The
    ``cross`` field of the moments is left at zero: the route does not use it.
    """
    cs, h_of, counts = np.unique(cohort, return_inverse=True, return_counts=True)
    wsum = np.bincount(h_of, weights=weights, minlength=cs.size)
    if not np.all(wsum > 0):
        return None
    T = y.shape[1]
    means = np.empty((cs.size, T))
    for h in range(cs.size):
        rows = np.flatnonzero(h_of == h)
        means[h] = (weights[rows] @ y[rows]) / wsum[h]
    return suff.CohortMoments(cs.astype("int64"), wsum, means, np.zeros((cs.size, T, T))), counts


def cells_weighted(data: Any, *, control: str, method: str, base_period: str, anticipation: int,
                   periods: tuple[Any, ...], cell_fit: Callable[..., tuple[float, np.ndarray, int]]
                   ) -> tuple[pd.DataFrame, Any, list[tuple[str, Any, str]], list[str]] | None:
    """Every ATT(g, t) of a weighted balanced panel without covariates; see the module docstring.

    Parameters
    ----------
    data : CsData
        Balanced-mode data of :func:`impactlab.estimators.callaway_santanna.data.prepare` with ``weights`` (mean one).
    control, method, base_period, anticipation, periods
        As :func:`impactlab.estimators.callaway_santanna.data.estimate_cells`.
    cell_fit : callable
        The 2×2 fit of one cell (``_cs_fit._cell_2x2``), for cells near the trimming level.

    Returns
    -------
    tuple or None
        The cell table, the (units × cells) influence functions (a :class:`WeightedInfluence`, or a dense
        matrix when some cell went to the 2×2 estimator), the ledger rows and the skipped cell names;
        ``None`` when this route cannot reproduce the fit (a cohort with zero total weight, or nothing
        estimable), and the caller takes the cell-by-cell route.
    """
    y, gp, w = data.y, data.gp, data.weights
    if y is None or w is None or not np.isfinite(y).all():
        return None
    got = weighted_moments(y, gp, w)
    if got is None:
        return None
    moments, counts = got
    try:
        sc = suff.att_gt_from_moments(moments, control=control, base_period=base_period,
                                      anticipation=anticipation, cohorts=data.glist)
    except EstimationError:
        return None
    # att_gt_from_moments scales by the total weight; the influence function's scale is the unit count
    n = data.n
    scale = n / moments.n_units
    sc = replace(sc, coef=sc.coef * scale, const=sc.const * scale)
    keys = [(int(g), int(t), k) for k, (g, t) in enumerate(zip(sc.group, sc.time, strict=True))]
    keys += [(g, t, -1) for g, t in sc.skipped]
    keys.sort()
    rows: list[dict[str, Any]] = []
    cols: list[int] = []
    replaced: dict[int, np.ndarray] = {}
    ledger: list[tuple[str, Any, str]] = []
    names: list[str] = []
    for g, cur, k in keys:
        key = (periods[g - 1], periods[cur - 1])
        where = f"cohort {key[0]}, time {key[1]}"
        if k < 0:
            ledger.append(("cell", key, "no comparison units"))
            names.append(where)
            continue
        base = g - 1 - anticipation if (g <= cur or base_period == "universal") else cur - 1
        ctrl_h = comparison(moments.cohorts, control, g, cur, base, anticipation)  # a mask on the cohorts
        n_t, n_c = counts[moments.cohorts == g].sum(), counts[ctrl_h].sum()
        w_t, w_c = moments.counts[moments.cohorts == g].sum(), moments.counts[ctrl_h].sum()
        row = {"g": g, "t": cur, "post": bool(sc.post[k]), "n_treated": int(n_t), "n_control": int(n_c),
               "estimate": float(sc.att[k])}
        near = max(n_t / (n_t + n_c), w_t / (w_t + w_c)) >= TRIM_LEVEL - _TRIM_MARGIN
        if method in ("dr", "ipw") and base != cur and near:
            ctrl = comparison(gp, control, g, cur, base, anticipation)
            done = fit_cell(cell_fit, (data, method, gp == g, ctrl, cur, base), key, where, ledger, names)
            if done is None:
                continue
            row["estimate"], replaced[k] = done
        rows.append(row)
        cols.append(k)
    if not rows:
        return None
    form = WeightedInfluence(sc, y, gp, w)
    if len(cols) < form.shape[1]:
        form = form.select(cols)
    if not replaced and KEEP_FORM:  # the weighted affine form holds every column: no (ids, cells) matrix
        return pd.DataFrame(rows), form, ledger, names
    influence = form.dense()
    for j, k in enumerate(cols):
        if k in replaced:
            influence[:, j] = replaced[k]
    return pd.DataFrame(rows), influence, ledger, names


class WeightedInfluence(suff.CompactInfluence):
    """The (n, K) influence functions of the weighted route in their affine form, times the unit weight.

    Row i, column k is ``w_i [coef[k, h] · (y_i − ȳ_h) + const[k, h]]`` with h the cohort of unit i and
    ``ȳ_h`` its weighted mean. Sums of squares and cross-products follow from per-cohort moments of the
    squared weights, ``V_h = Σ w_i² (y_i − ȳ_h)(y_i − ȳ_h)'``, ``s_h = Σ w_i² (y_i − ȳ_h)`` and
    ``S_h = Σ w_i²`` (``Σ_{i∈h} ψ_ik ψ_il = a_k' V_h a_l + c_k a_l' s_h + c_l a_k' s_h + c_k c_l S_h``);
    bootstrap draws from per-cohort sums of ``v_i w_i (y_i − ȳ_h)`` and ``v_i w_i`` (Callaway & Sant'Anna
    2021, Algorithm 1), with the multipliers of the dense route for the same seed. :meth:`transform` with a
    cohort constant is refused: aggregations with sampling weights add the influence of the weighted
    cohort shares, which varies within cohorts, to :meth:`combine` instead.
    """

    def __init__(self, cells: suff.SuffStatCells, y: np.ndarray, cohort: np.ndarray,
                 weights: np.ndarray) -> None:
        super().__init__(cells, y, cohort)
        self._w = weights
        H, T = len(self._rows), y.shape[1]
        self._v = np.empty((H, T, T))
        self._s = np.empty((H, T))
        self._s2 = np.empty(H)
        for h, rows in enumerate(self._rows):
            wr = weights[rows]
            z = (y[rows] - self._means[h]) * wr[:, None]  # w_i (y_i − ȳ_h)
            self._v[h] = _tmm(z, z)
            self._s[h] = wr @ z
            self._s2[h] = wr @ wr

    def sum_squares(self) -> np.ndarray:
        """``Σ_i ψ_ik²`` per column from the weighted cohort moments (no unit-level array)."""
        return self.cross_products(np.arange(self.shape[1]), diagonal=True)

    def cross_products(self, cols: np.ndarray, diagonal: bool = False) -> np.ndarray:
        """``Σ_i ψ_ik ψ_il`` for k, l in ``cols`` (only k = l with ``diagonal``)."""
        a, c = self.coef[cols], self.const[cols]
        a_s = np.einsum("khs,hs->kh", a, self._s)
        if diagonal:
            quad = np.einsum("khs,hst,kht->k", a, self._v, a, optimize=True)
            return quad + 2 * np.einsum("kh,kh->k", c, a_s) + (c**2) @ self._s2
        quad = np.einsum("khs,hst,lht->kl", a, self._v, a, optimize=True)
        mixed = c @ a_s.T
        return quad + mixed + mixed.T + (c * self._s2) @ c.T

    def combine(self, weights: np.ndarray) -> np.ndarray:
        """``dense() @ weights`` without building ``dense()``; ``weights`` is (K,) or (K, J)."""
        out = super().combine(weights)
        out *= self._w if out.ndim == 1 else self._w[:, None]
        return out

    def dense(self, order: str = "C") -> np.ndarray:
        """The (n, K) influence matrix (memory layout ``order``, "C" or "F")."""
        out = super().dense(order)
        out *= self._w[:, None]
        return out

    def _with(self, coef: np.ndarray, const: np.ndarray) -> WeightedInfluence:
        out = object.__new__(WeightedInfluence)
        out.__dict__.update(self.__dict__)
        out.coef, out.const = coef, const
        out.shape = (self.shape[0], int(coef.shape[0]))
        return out

    def select(self, cols: Sequence[int] | np.ndarray) -> WeightedInfluence:
        """The same form restricted to the columns ``cols``."""
        return self._with(self.coef[np.asarray(cols)], self.const[np.asarray(cols)])

    def transform(self, weights: np.ndarray, const: np.ndarray | None = None) -> WeightedInfluence:
        """The weighted form of ``dense() @ weights`` (``const`` must be ``None``, see the class)."""
        if const is not None:
            raise ValueError("A cohort constant cannot be added to a weighted influence form; use combine.")
        w = np.asarray(weights, dtype="float64")
        return self._with(np.tensordot(w, self.coef, axes=(0, 0)), w.T @ self.const)

    def multiplier_sums(self, iters: int, seed: int) -> suff.MultiplierSums:
        """Per-cohort sums of Mammen multipliers times ``w_i (y_i − ȳ_h)`` and ``w_i``; see the base class."""
        T = self._y.shape[1]
        sizes = np.array([r.size for r in self._rows], dtype="int64")
        bounds = np.concatenate([[0], np.cumsum(sizes)])
        z = np.empty((self.shape[0], T + 1))
        for h, rows in enumerate(self._rows):
            wr = self._w[rows]
            z[bounds[h]:bounds[h + 1], :T] = (self._y[rows] - self._means[h]) * wr[:, None]
            z[bounds[h]:bounds[h + 1], T] = wr
        prod = mammen_products(z, int(iters), int(seed), bounds)
        return suff.MultiplierSums(centred=prod[:, :, :T], total=prod[:, :, T], n_units=self.shape[0])

