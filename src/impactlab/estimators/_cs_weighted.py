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

This is ``w_i`` times the affine form of :mod:`impactlab.estimators._cs_suffstats` in which cohort counts
become weighted counts and cohort means weighted means: ``ψ_i = w_i [a_h' (y_i − ȳ_h) + c_h]`` with h the
cohort of unit i. The cells, comparison groups and base periods therefore come from
:func:`~impactlab.estimators._cs_suffstats.att_gt_from_moments` applied to the weighted moments (its
standard errors are not used: the weighted sum of squares needs ``w_i²``), and the (units × cells) influence
matrix is built densely, as on the cell-by-cell route, so that every aggregation (weighted cohort shares,
R ``did``), the multiplier bootstrap and the pre-test see the same matrix. Cells whose propensity score
(the weighted treated share) approaches the trimming level are handed to the 2×2 estimator, as without
weights; a cohort whose weights are all zero sends the whole fit to the cell-by-cell route.
``tests/estimators/test_cs_weights_fast.py`` checks the route against the cell-by-cell code to 1e-10.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from typing import Any

import numpy as np
import pandas as pd

from impactlab.errors import EstimationError
from impactlab.estimators import _cs_suffstats as suff
from impactlab.estimators.drdid import TRIM_LEVEL

__all__ = ["cells_weighted"]

#: A cell whose weighted or unweighted treated share is within this of the trimming level goes to the 2×2
#: estimator (which computes the share its own way, so rounding must not decide the route).
_TRIM_MARGIN = 1e-9


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
                   periods: tuple[Any, ...], cell_fit: Callable[..., tuple[float, np.ndarray, int]],
                   controls: Callable[..., np.ndarray]
                   ) -> tuple[pd.DataFrame, np.ndarray, list[tuple[str, Any, str]], list[str]] | None:
    """Every ATT(g, t) of a weighted balanced panel without covariates; see the module docstring.

    Parameters
    ----------
    data : CsData
        Balanced-mode data of :func:`impactlab.estimators._cs_fit.prepare` with ``weights`` (mean one).
    control, method, base_period, anticipation, periods
        As :func:`impactlab.estimators._cs_fit.estimate_cells`.
    cell_fit : callable
        The 2×2 fit of one cell (``_cs_fit._cell_2x2``), for cells near the trimming level.
    controls : callable
        The comparison units of a cell (``_cs_fit._controls``).

    Returns
    -------
    tuple or None
        The cell table, the dense (units × cells) influence matrix, the ledger rows and the skipped cell
        names; ``None`` when this route cannot reproduce the fit (a cohort with zero total weight, or
        nothing estimable), and the caller takes the cell-by-cell route.
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
        ctrl_h = controls(moments.cohorts, control, g, cur, base, anticipation)  # a mask on the cohorts
        n_t, n_c = counts[moments.cohorts == g].sum(), counts[ctrl_h].sum()
        w_t, w_c = moments.counts[moments.cohorts == g].sum(), moments.counts[ctrl_h].sum()
        row = {"g": g, "t": cur, "post": bool(sc.post[k]), "n_treated": int(n_t), "n_control": int(n_c),
               "estimate": float(sc.att[k])}
        near = max(n_t / (n_t + n_c), w_t / (w_t + w_c)) >= TRIM_LEVEL - _TRIM_MARGIN
        if method in ("dr", "ipw") and base != cur and near:
            ctrl = controls(gp, control, g, cur, base, anticipation)
            try:
                att, psi, n_trim = cell_fit(data, method, gp == g, ctrl, cur, base)
            except EstimationError as exc:
                ledger.append(("cell", key, str(exc)))
                names.append(where)
                continue
            if not np.isfinite(att):
                ledger.append(("cell", key, "the estimate is not finite"))
                names.append(where)
                continue
            if n_trim:
                ledger.append(("cell", key, f"propensity score trimmed: {n_trim} comparison observations "
                               "with a score of 0.995 or more got zero weight"))
            replaced[k] = psi
            row["estimate"] = att
        rows.append(row)
        cols.append(k)
    if not rows:
        return None
    keep = np.asarray(cols)
    form = suff.CompactInfluence(sc, y, gp)
    influence = form.dense() if keep.size == form.shape[1] else form.select(keep).dense()
    influence *= w[:, None]  # ψ_i = w_i [a_h' (y_i − ȳ_h) + c_h]
    for j, k in enumerate(cols):
        if k in replaced:
            influence[:, j] = replaced[k]
    return pd.DataFrame(rows), influence, ledger, names

