"""Aggregation of group-time ATTs into summary parameters (Callaway & Sant'Anna 2021, §3).

Works on plain arrays so that it is independent of how the ATT(g, t) were estimated:

* ``att`` (K,) — the group-time ATTs, ``group`` and ``time`` (K,) their cohort and calendar period as
  1-based period indices (so uneven spacing of the original periods does not matter);
* ``inf`` (n, K) — their influence functions, one row per unit, scaled as in R ``did``
  (``se = sqrt(sum(psi**2)) / n``): a dense array, or a compact form such as
  :class:`impactlab.estimators._cs_suffstats.CompactInfluence` (``shape`` and ``combine(weights)``), since
  every aggregation only multiplies the influence functions by weights;
* ``unit_group`` (n,) — each unit's cohort index (0 for never treated).

The weights, and the extra influence-function term for estimating them (``wif``), follow Callaway &
Sant'Anna (2021), "Difference-in-differences with multiple time periods", *Journal of Econometrics*
225(2), 200–230, eqs. (3.10)–(3.14) and their Appendix B, and R ``did``'s ``compute.aggte``: cohort shares
``P(G = g)`` are estimated by the share of units in the cohort, and averages of ATT(g, t) weighted by
those shares carry the sampling error of the shares through ``wif``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
from scipy import stats

from impactlab._progress import progress

#: Standard errors at or below this are reported as missing (R ``did``: ``sqrt(.Machine$double.eps) * 10``).
SE_ZERO = float(np.sqrt(np.finfo(float).eps) * 10)


@dataclass(frozen=True)
class Aggregation:
    """Point estimates and influence functions of one aggregation.

    Attributes
    ----------
    keys : ndarray
        Element keys (cohort index, event time or period index); empty for ``simple``.
    estimates : ndarray
        Per-element estimates.
    influence : ndarray, shape (n, len(keys))
        Per-element influence functions.
    overall : float
        The overall summary parameter.
    overall_influence : ndarray, shape (n,)
        Its influence function.
    """

    keys: np.ndarray
    estimates: np.ndarray
    influence: np.ndarray
    overall: float
    overall_influence: np.ndarray


def _weight_influence(cells: np.ndarray, pg: np.ndarray, indicator: np.ndarray,
                      att: np.ndarray) -> np.ndarray:
    """``wif @ att[cells]``: influence of estimating the cohort-share weights ``pg[cells] / sum(pg[cells])``.

    ``indicator`` is the (n, len(cells)) matrix of ``1{G_i = g_k}``. With ``s = sum(pg)`` the weight of
    cell k is ``pg_k / s``; its influence is ``(1{G=g_k} - pg_k) / s - sum_j (1{G=g_j} - pg_j) pg_k / s**2``.
    """
    p = pg[cells]
    s = p.sum()
    dev = indicator - p[None, :]
    a = att[cells]
    return dev @ a / s - dev.sum(axis=1) * (p @ a) / s**2


def _combine(inf: Any, cells: np.ndarray, wts: np.ndarray) -> np.ndarray:
    """``inf[:, cells] @ wts`` for a dense matrix or a compact form with ``combine`` (no dense matrix)."""
    if isinstance(inf, np.ndarray):
        return inf[:, cells] @ wts
    full = np.zeros(inf.shape[1])
    full[cells] = wts
    return np.asarray(inf.combine(full))


def _weighted(att: np.ndarray, inf: Any, cells: np.ndarray, pg: np.ndarray, onehot: np.ndarray,
              group_pos: np.ndarray, rows: np.ndarray | None = None) -> tuple[float, np.ndarray]:
    """Cohort-share weighted average of ``att[cells]`` and its influence function (with ``wif``).

    ``onehot`` has one row per unit, or (``rows`` given) one row per distinct cohort value with ``rows``
    the row of each unit: without sampling weights ``wif`` is constant within a cohort.
    """
    p = pg[cells]
    wts = p / p.sum()
    est = float(wts @ att[cells])
    wif = _weight_influence(cells, pg, onehot[:, group_pos[cells]], att)
    psi = _combine(inf, cells, wts) + (wif if rows is None else wif[rows])
    return est, psi


def aggregate_cells(kind: str, att: np.ndarray, inf: Any, group: np.ndarray, time: np.ndarray,
                    unit_group: np.ndarray, *, min_e: float = -np.inf, max_e: float = np.inf,
                    balance_e: int | None = None, last_period: int | None = None,
                    unit_weights: np.ndarray | None = None) -> Aggregation:
    """Aggregate group-time ATTs the way R ``did``'s ``aggte`` does.

    Parameters
    ----------
    kind : {"simple", "group", "dynamic", "calendar", "cumulative"}
        ``simple``: post-treatment ATT(g, t) averaged with cohort-size weights. ``group``: per cohort, the
        mean of its post-treatment ATT(g, t); overall, their cohort-size weighted mean. ``dynamic``: per event
        time e = t - g, the cohort-size weighted mean of ATT(g, g + e); overall, the mean over e >= 0.
        ``calendar``: per period t, the cohort-size weighted mean of ATT(g, t) of cohorts treated by t;
        overall, the mean over periods. ``cumulative``: per event time k >= 0, the sum of the ``dynamic``
        effects of event times 0..k (the total effect accumulated over the first k + 1 periods, what an ROI
        over a horizon needs); overall, the sum up to ``max_e`` (or the last event time).
    att, inf, group, time, unit_group
        See the module docstring.
    min_e, max_e : float
        Event-time window. As in R, ``max_e`` also bounds the post-treatment cells used by ``simple`` and
        ``group``; ``min_e`` only affects ``dynamic``.
    balance_e : int, optional
        ``dynamic`` only: keep cohorts observed for at least ``balance_e`` periods after treatment, and event
        times in ``[balance_e - (T - 1), balance_e]`` (a balanced event-time sample).
    last_period : int, optional
        Index of the last period (T); defaults to ``max(time)``.
    unit_weights : ndarray, optional
        Sampling weights of the units (mean 1): cohort shares become weighted shares, as R ``did``.

    Returns
    -------
    Aggregation
    """
    n = inf.shape[0]
    glist = np.unique(group)
    # cohort shares over all units (never treated included in the denominator), as R's pg
    rows: np.ndarray | None = None
    codes = np.asarray(unit_group)
    if unit_weights is None and codes.dtype.kind in "iu" and codes.size:
        # one row per distinct cohort value instead of one per unit: wif is constant within cohorts
        low = int(codes.min())
        counts = np.bincount(codes - low)
        present = np.flatnonzero(counts)
        lookup = np.zeros(counts.size, dtype="int64")
        lookup[present] = np.arange(present.size)
        rows = lookup[codes - low]
        onehot = ((present + low)[:, None] == glist[None, :]).astype("float64")
        pg_by_group = (counts[present] @ onehot) / n
    else:
        uw = np.ones(n) if unit_weights is None else np.asarray(unit_weights, dtype="float64")
        onehot = (unit_group[:, None] == glist[None, :]).astype("float64") * uw[:, None]
        pg_by_group = onehot.mean(axis=0)
    group_pos = np.searchsorted(glist, group)
    pg = pg_by_group[group_pos]
    event = time - group
    empty = np.zeros((n, 0))

    if kind == "simple":
        keep = np.flatnonzero((group <= time) & (event <= max_e))
        if keep.size == 0:
            return Aggregation(np.array([]), np.array([]), empty, float("nan"), np.full(n, np.nan))
        est, psi = _weighted(att, inf, keep, pg, onehot, group_pos, rows)
        return Aggregation(np.array([]), np.array([]), empty, est, psi)

    if kind == "group":
        keys, ests, infs, shares = [], [], [], []
        for j, g in enumerate(glist):
            cells = np.flatnonzero((group == g) & (time >= g) & (event <= max_e))
            if cells.size == 0:
                continue
            keys.append(g)
            ests.append(float(np.mean(att[cells])))
            infs.append(inf[:, cells].mean(axis=1) if isinstance(inf, np.ndarray)
                        else _combine(inf, cells, np.full(cells.size, 1.0 / cells.size)))
            shares.append(pg_by_group[j])
        if not keys:
            return Aggregation(np.array([]), np.array([]), empty, float("nan"), np.full(n, np.nan))
        k_arr = np.asarray(keys)
        e_arr = np.asarray(ests)
        i_mat = np.column_stack(infs)
        p = np.asarray(shares)
        wts = p / p.sum()
        overall = float(wts @ e_arr)
        ind = onehot[:, np.searchsorted(glist, k_arr)]
        dev = ind - p[None, :]
        wif = dev @ e_arr / p.sum() - dev.sum(axis=1) * (p @ e_arr) / p.sum() ** 2
        if rows is not None:
            wif = wif[rows]
        return Aggregation(k_arr, e_arr, i_mat, overall, i_mat @ wts + wif)

    if kind == "cumulative":
        dyn = aggregate_cells("dynamic", att, inf, group, time, unit_group, min_e=0, max_e=max_e,
                              balance_e=balance_e, last_period=last_period, unit_weights=unit_weights)
        if dyn.keys.size == 0:
            return dyn
        if not np.array_equal(dyn.keys, np.arange(dyn.keys.size)):
            missing = sorted(set(range(int(dyn.keys.max()) + 1)) - set(dyn.keys.tolist()))
            raise ValueError(f"The cumulative effect needs every event time from 0 on; event times {missing} "
                             "have no ATT(g,t). Lower max_e.")
        c_est, c_inf = np.cumsum(dyn.estimates), np.cumsum(dyn.influence, axis=1)
        return Aggregation(dyn.keys, c_est, c_inf, float(c_est[-1]), c_inf[:, -1])

    if kind == "dynamic":
        include = np.ones(att.size, dtype=bool)
        eseq = np.unique(event)
        if balance_e is not None:
            t_last = int(time.max()) if last_period is None else int(last_period)
            include = (t_last - group) >= balance_e
            eseq = np.unique(event[include])
            eseq = eseq[(eseq <= balance_e) & (eseq >= balance_e - t_last + 1)]
        eseq = eseq[(eseq >= min_e) & (eseq <= max_e)]
        keys, ests, infs = [], [], []
        for e in eseq:
            cells = np.flatnonzero((event == e) & include)
            if cells.size == 0:
                continue
            est, psi = _weighted(att, inf, cells, pg, onehot, group_pos, rows)
            keys.append(e)
            ests.append(est)
            infs.append(psi)
        if not keys:
            return Aggregation(np.array([]), np.array([]), empty, float("nan"), np.full(n, np.nan))
        k_arr, e_arr, i_mat = np.asarray(keys), np.asarray(ests), np.column_stack(infs)
        pos = k_arr >= 0
        if not pos.any():
            return Aggregation(k_arr, e_arr, i_mat, float("nan"), np.full(n, np.nan))
        return Aggregation(k_arr, e_arr, i_mat, float(e_arr[pos].mean()), i_mat[:, pos].mean(axis=1))

    if kind == "calendar":
        periods = np.unique(time)
        periods = periods[periods >= group.min()]
        keys, ests, infs = [], [], []
        for t1 in periods:
            cells = np.flatnonzero((time == t1) & (group <= time))
            if cells.size == 0:
                continue
            est, psi = _weighted(att, inf, cells, pg, onehot, group_pos, rows)
            keys.append(t1)
            ests.append(est)
            infs.append(psi)
        if not keys:
            return Aggregation(np.array([]), np.array([]), empty, float("nan"), np.full(n, np.nan))
        k_arr, e_arr, i_mat = np.asarray(keys), np.asarray(ests), np.column_stack(infs)
        return Aggregation(k_arr, e_arr, i_mat, float(e_arr.mean()), i_mat.mean(axis=1))

    raise ValueError("The 'kind' parameter must be one of 'simple', 'group', 'dynamic', 'calendar', "
                     f"'cumulative'. "
                     f"Got {kind!r} instead.")


# ---------------------------------------------------------------------------------------------- inference
def cluster_sums(psi: np.ndarray, cluster: np.ndarray | None) -> np.ndarray:
    """Sum influence functions within clusters (rows); unit-level when ``cluster`` is None."""
    if cluster is None:
        return psi
    out = np.zeros((int(cluster.max()) + 1,) + psi.shape[1:])
    np.add.at(out, cluster, psi)
    return out


def analytic_se(psi: np.ndarray, cluster: np.ndarray | None) -> np.ndarray:
    """``sqrt(sum_c (sum_{i in c} psi_i)^2) / n`` per column; NaN when degenerate (as R ``did``)."""
    psi2 = psi if psi.ndim == 2 else psi[:, None]
    n = psi2.shape[0]
    s = cluster_sums(psi2, cluster)
    se = np.sqrt(np.sum(s**2, axis=0)) / n
    se = np.where(se <= SE_ZERO, np.nan, se)
    return se if psi.ndim == 2 else se[:1]


def mammen(rng: np.random.Generator, size: tuple[int, int]) -> np.ndarray:
    """Mammen (1993) two-point multiplier weights: mean 0, variance 1, third moment 1."""
    s5 = np.sqrt(5.0)
    p = (s5 + 1) / (2 * s5)
    return np.where(rng.random(size) < p, (1 - s5) / 2, (1 + s5) / 2)


def bootstrap(psi: np.ndarray, cluster: np.ndarray | None, iters: int, seed: int, level: float,
               band: np.ndarray | None = None) -> tuple[np.ndarray, float]:
    """Multiplier bootstrap of influence functions: standard errors and a uniform (sup-t) critical value.

    Each draw perturbs every cluster's influence sum by one Mammen weight; the bootstrap standard error is the
    interquartile range of the draws divided by that of the standard normal, and the critical value is the
    ``level`` quantile of ``max_k |draw_k| / se_k`` (Callaway & Sant'Anna 2021, Algorithm 1; R ``did``
    ``mboot``). The same seed gives the same draws, so every aggregation of one fit uses the same weights.
    ``band`` (boolean, one per column) selects the columns the uniform band covers (default: all).
    """
    n = psi.shape[0]
    s = cluster_sums(psi, cluster)
    rng = np.random.default_rng(seed)
    draws = np.empty((iters, s.shape[1]))
    chunk = max(1, min(iters, 2_000_000 // max(1, s.shape[0])))
    with progress(total=iters, desc="Multiplier bootstrap", unit=" draws") as bar:
        for start in range(0, iters, chunk):
            stop = min(iters, start + chunk)
            draws[start:stop] = mammen(rng, (stop - start, s.shape[0])) @ s / n
            bar.update(stop - start)
    q75, q25 = np.quantile(draws, [0.75, 0.25], axis=0, method="inverted_cdf")
    se = (q75 - q25) / (stats.norm.ppf(0.75) - stats.norm.ppf(0.25))
    se = np.where(se <= SE_ZERO, np.nan, se)
    ok = np.isfinite(se) if band is None else np.isfinite(se) & band
    if not ok.any():
        return se, float("nan")
    t_max = np.max(np.abs(draws[:, ok] / se[ok]), axis=1)
    crit = float(np.quantile(t_max, level, method="inverted_cdf"))
    return se, crit
