"""Aggregation of group-time ATTs into summary parameters (Callaway & Sant'Anna 2021, §3).

Works on plain arrays so that it is independent of how the ATT(g, t) were estimated:

* ``att`` (K,) — the group-time ATTs, ``group`` and ``time`` (K,) their cohort and calendar period as
  1-based period indices (so uneven spacing of the original periods does not matter);
* ``inf`` (n, K) — their influence functions, one row per unit, scaled as in R ``did``
  (``se = sqrt(sum(psi**2)) / n``): a dense array, or a compact form such as
  :class:`impactlab.estimators.callaway_santanna.moments.CompactInfluence` (``shape`` and ``combine(weights)``), since
  every aggregation only multiplies the influence functions by weights;
* ``unit_group`` (n,) — each unit's cohort index (0 for never treated).

The weights, and the extra influence-function term for estimating them (``wif``), follow Callaway &
Sant'Anna (2021), "Difference-in-differences with multiple time periods", *Journal of Econometrics*
225(2), 200–230, eqs. (3.10)–(3.14) and their Appendix B, and R ``did``'s ``compute.aggte``: cohort shares
``P(G = g)`` are estimated by the share of units in the cohort, and averages of ATT(g, t) weighted by
those shares carry the sampling error of the shares through ``wif``.

An aggregation is therefore a (K × J) matrix of weights on the cells plus a ``wif`` term that depends on
the unit's cohort only (without sampling weights). With the compact form both fold into a new compact form
of the J elements (``CompactInfluence.transform``): one pass over the units for all elements, and standard
errors, covariances and bootstrap draws from cohort-level quantities.

The multiplier bootstrap (Callaway & Sant'Anna 2021, Algorithm 1; Mammen 1993 weights) never stores the
draws × units weight matrix: :func:`mammen_products` streams it in blocks through a reused buffer.
"""

from __future__ import annotations

from dataclasses import dataclass, field
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
    overall : float
        The overall summary parameter.
    influence_all : ndarray, shape (n, len(keys) + 1)
        Influence functions of the elements and, in the last column, of the overall parameter (NaN when it
        is not defined); Fortran order, so each column is contiguous.
    form : CompactInfluence or None
        The same ``len(keys) + 1`` columns in the affine form of
        :class:`~impactlab.estimators.callaway_santanna.moments.CompactInfluence` when the cell influence functions were
        given in that form (standard errors, covariances and bootstrap draws then need no unit-level pass).
    """

    keys: np.ndarray
    estimates: np.ndarray
    overall: float
    influence_all: np.ndarray
    form: Any = None

    @property
    def influence(self) -> np.ndarray:
        """(n, len(keys)) influence functions of the elements (a view)."""
        return self.influence_all[:, :-1]

    @property
    def overall_influence(self) -> np.ndarray:
        """(n,) influence function of the overall parameter (a view)."""
        return self.influence_all[:, -1]


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


@dataclass
class _Columns:
    """Aggregation columns as weights on the cells (K, J) and weight-influence terms (rows, J)."""

    keys: list[Any] = field(default_factory=list)
    estimates: list[float] = field(default_factory=list)
    weights: list[np.ndarray] = field(default_factory=list)
    wif: list[np.ndarray] = field(default_factory=list)


def _columns(kind: str, att: np.ndarray, group: np.ndarray, time: np.ndarray, event: np.ndarray,
             pg: np.ndarray, pg_by_group: np.ndarray, glist: np.ndarray, onehot: np.ndarray,
             group_pos: np.ndarray, *, min_e: float, max_e: float, balance_e: int | None,
             last_period: int | None) -> tuple[np.ndarray, np.ndarray, float, np.ndarray, np.ndarray]:
    """Keys, estimates, overall value, cell weights ``(K, J + 1)`` and weight-influence terms
    ``(rows of onehot, J + 1)`` of one aggregation; the last column is the overall parameter.

    Every aggregation of Callaway & Sant'Anna (2021, eqs. 3.10–3.14) is linear in the ATT(g, t)'s influence
    functions plus a term for the estimated cohort shares that depends on the unit's cohort only, so these
    two matrices describe it entirely.
    """
    K, R = att.size, onehot.shape[0]
    cols = _Columns()

    def add(key: Any, cells: np.ndarray, shares: bool) -> None:
        w = np.zeros(K)
        if shares:  # cohort-share weights, with the influence of estimating them
            p = pg[cells]
            w[cells] = p / p.sum()
            cols.wif.append(_weight_influence(cells, pg, onehot[:, group_pos[cells]], att))
        else:
            w[cells] = 1.0 / cells.size
            cols.wif.append(np.zeros(R))
        cols.keys.append(key)
        cols.estimates.append(float(w[cells] @ att[cells]))
        cols.weights.append(w)

    overall_w: np.ndarray | None = None  # overall column as weights on the element columns
    overall_wif = np.zeros(R)
    if kind == "simple":
        keep = np.flatnonzero((group <= time) & (event <= max_e))
        if keep.size:
            add(None, keep, True)
            overall_w = np.ones(1)
    elif kind == "group":
        shares = []
        for j, g in enumerate(glist):
            cells = np.flatnonzero((group == g) & (time >= g) & (event <= max_e))
            if cells.size:
                add(g, cells, False)
                shares.append(pg_by_group[j])
        if cols.keys:
            p = np.asarray(shares)
            overall_w = p / p.sum()
            ind = onehot[:, np.searchsorted(glist, np.asarray(cols.keys))]
            overall_wif = _weight_influence(np.arange(p.size), p, ind, np.asarray(cols.estimates))
    elif kind == "dynamic":
        include = np.ones(K, dtype=bool)
        eseq = np.unique(event)
        if balance_e is not None:
            t_last = int(time.max()) if last_period is None else int(last_period)
            include = (t_last - group) >= balance_e
            eseq = np.unique(event[include])
            eseq = eseq[(eseq <= balance_e) & (eseq >= balance_e - t_last + 1)]
        for e in eseq[(eseq >= min_e) & (eseq <= max_e)]:
            cells = np.flatnonzero((event == e) & include)
            if cells.size:
                add(e, cells, True)
        pos = np.asarray(cols.keys) >= 0
        if pos.any():
            overall_w = pos / pos.sum()
    elif kind == "calendar":
        periods = np.unique(time)
        for t1 in periods[periods >= group.min()]:
            cells = np.flatnonzero((time == t1) & (group <= time))
            if cells.size:
                add(t1, cells, True)
        if cols.keys:
            overall_w = np.full(len(cols.keys), 1.0 / len(cols.keys))
    else:
        raise ValueError("The 'kind' parameter must be one of 'simple', 'group', 'dynamic', 'calendar', "
                         f"'cumulative'. Got {kind!r} instead.")
    J = len(cols.keys)
    weights = np.zeros((K, J + 1))
    wif = np.zeros((R, J + 1))
    if J:
        weights[:, :J] = np.column_stack(cols.weights)
        wif[:, :J] = np.column_stack(cols.wif)
    overall = float("nan")
    if overall_w is not None:
        weights[:, J] = weights[:, :J] @ overall_w
        wif[:, J] = wif[:, :J] @ overall_w + overall_wif
        overall = float(np.asarray(cols.estimates) @ overall_w)
    if kind == "simple":  # the overall column only
        return np.array([]), np.array([]), overall, weights[:, J:], wif[:, J:]
    return np.asarray(cols.keys), np.asarray(cols.estimates), overall, weights, wif


def _influence(inf: Any, weights: np.ndarray, wif: np.ndarray, rows: np.ndarray | None,
               values: np.ndarray | None) -> tuple[np.ndarray, Any]:
    """``inf @ weights + wif`` per unit, Fortran order, and the compact form of it when ``inf`` has one."""
    n, J1 = inf.shape[0], weights.shape[1]
    if isinstance(inf, np.ndarray):
        psi = np.empty((n, J1), order="F")
        for j in range(J1):  # only the cells each column uses (a NaN elsewhere does not leak in)
            nz = np.flatnonzero(weights[:, j])
            psi[:, j] = inf[:, nz] @ weights[nz, j] if nz.size else 0.0
            psi[:, j] += wif[:, j] if rows is None else wif[rows, j]
        return psi, None
    cohorts = getattr(inf, "cohorts", None)
    if rows is not None and values is not None and cohorts is not None:
        at = np.searchsorted(values, cohorts)
        if at.max(initial=0) < values.size and np.array_equal(values[at], cohorts):
            # wif is constant within cohorts: it becomes part of each cohort's constant
            form = inf.transform(weights, wif[at])
            return form.dense(order="F"), form
    psi = np.asfortranarray(inf.combine(weights))
    psi += wif if rows is None else wif[rows]
    return psi, None


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
        With ``form`` set when ``inf`` is a compact form and there are no sampling weights: all elements in
        one pass over the units (one (n_h × T)·(T × J) product per cohort).
    """
    n = inf.shape[0]
    glist = np.unique(group)
    # cohort shares over all units (never treated included in the denominator), as R's pg
    rows: np.ndarray | None = None
    values: np.ndarray | None = None
    codes = np.asarray(unit_group)
    if unit_weights is None and codes.dtype.kind in "iu" and codes.size:
        # one row per distinct cohort value instead of one per unit: wif is constant within cohorts
        low = int(codes.min())
        counts = np.bincount(codes - low)
        present = np.flatnonzero(counts)
        lookup = np.zeros(counts.size, dtype="int64")
        lookup[present] = np.arange(present.size)
        rows = lookup[codes - low]
        values = present + low
        onehot = (values[:, None] == glist[None, :]).astype("float64")
        pg_by_group = (counts[present] @ onehot) / n
    else:
        uw = np.ones(n) if unit_weights is None else np.asarray(unit_weights, dtype="float64")
        onehot = (unit_group[:, None] == glist[None, :]).astype("float64") * uw[:, None]
        pg_by_group = onehot.mean(axis=0)
    group_pos = np.searchsorted(glist, group)
    pg = pg_by_group[group_pos]
    event = time - group
    opts = {"min_e": min_e, "max_e": max_e, "balance_e": balance_e, "last_period": last_period}
    if kind == "cumulative":
        opts["min_e"] = 0
    keys, ests, overall, weights, wif = _columns("dynamic" if kind == "cumulative" else kind, att, group,
                                                 time, event, pg, pg_by_group, glist, onehot, group_pos,
                                                 **opts)  # type: ignore[arg-type]
    if kind == "cumulative" and keys.size:
        if not np.array_equal(keys, np.arange(keys.size)):
            missing = sorted(set(range(int(keys.max()) + 1)) - set(keys.tolist()))
            raise ValueError(f"The cumulative effect needs every event time from 0 on; event times {missing} "
                             "have no ATT(g,t). Lower max_e.")
        J = keys.size
        upper = np.triu(np.ones((J, J)))  # column k sums event times 0..k
        weights = np.column_stack([weights[:, :J] @ upper, weights[:, :J].sum(axis=1)])
        wif = np.column_stack([wif[:, :J] @ upper, wif[:, :J].sum(axis=1)])
        ests = np.cumsum(ests)
        overall = float(ests[-1])
    if keys.size == 0 and not np.isfinite(overall):
        return Aggregation(np.array([]), np.array([]), float("nan"), np.full((n, 1), np.nan, order="F"))
    psi, form = _influence(inf, weights, wif, rows, values)
    if not np.isfinite(overall):
        psi[:, -1] = np.nan
    return Aggregation(keys, ests, overall, psi, form)


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


#: Mammen (1993) two-point weights: ``MAMMEN_LOW`` with probability ``MAMMEN_P``, else ``MAMMEN_HIGH``.
MAMMEN_LOW = (1 - np.sqrt(5.0)) / 2
MAMMEN_HIGH = (1 + np.sqrt(5.0)) / 2
MAMMEN_P = (np.sqrt(5.0) + 1) / (2 * np.sqrt(5.0))
#: A weight is LOW when a 32-bit uniform integer is below this (probability within 2**-33 of MAMMEN_P, the
#: resolution of R's ``unif_rand``, which R ``did``'s ``mboot`` draws its weights from).
MAMMEN_THRESHOLD = np.uint32(round(MAMMEN_P * 2**32))
#: Weights drawn per block of the multiplier bootstrap (a 32 MB buffer, reused).
_BLOCK = 1 << 22


def _uniform32(rng: np.random.Generator, count: int) -> np.ndarray:
    """``count`` uniform 32-bit integers: the halves of ``ceil(count / 2)`` raw 64-bit outputs of ``rng``."""
    return rng.bit_generator.random_raw((count + 1) // 2).view(np.uint32)[:count]


def mammen(rng: np.random.Generator, size: tuple[int, int]) -> np.ndarray:
    """Mammen (1993) two-point multiplier weights: mean 0, variance 1, third moment 1.

    Row-major from 32-bit uniform integers of ``rng`` (two per raw 64-bit output), the stream
    :func:`mammen_products` uses for each segment.
    """
    count = int(size[0]) * int(size[1])
    low = (_uniform32(rng, count) < MAMMEN_THRESHOLD).reshape(size)
    return np.where(low, MAMMEN_LOW, MAMMEN_HIGH)


def mammen_products(z: np.ndarray, iters: int, seed: int,
                    bounds: np.ndarray | None = None) -> np.ndarray:
    """``V_s @ z[s:e]`` for each segment ``[s, e)`` of the rows of ``z``, with ``V_s`` (iters, e − s) Mammen
    weights drawn segment after segment.

    ``V_s`` is ``mammen(rng, (iters, e - s))`` for ``rng = numpy.random.default_rng(seed)`` shared by the
    segments in order, so the result does not depend on how the draws are blocked. Nothing of size
    iters × n is stored: blocks of draws go through one reused buffer, and since a weight is
    ``HIGH + (LOW − HIGH)·1{low}`` the product is ``(LOW − HIGH)·(1{low} @ z) + HIGH·colsum(z)``, one
    (draws × units)·(units × m) matrix product per block.

    Parameters
    ----------
    z : ndarray, shape (n, m)
    iters : int
    seed : int
    bounds : ndarray of int, optional
        Segment boundaries ``0 = b_0 <= b_1 <= ... = n`` (e.g. the units of each cohort); default one
        segment.

    Returns
    -------
    ndarray, shape (iters, n_segments, m)
    """
    n, m = z.shape
    edges = np.array([0, n]) if bounds is None else np.asarray(bounds, dtype="int64")
    segs = list(zip(edges[:-1].tolist(), edges[1:].tolist(), strict=True))
    out = np.zeros((iters, len(segs), m))
    rng = np.random.default_rng(seed)
    widest = max((e - s for s, e in segs), default=0)
    buf = np.empty(max(min(_BLOCK, iters * widest), 2 * widest))
    with progress(total=iters * len(segs), desc="Multiplier bootstrap", unit=" draws") as bar:
        for j, (s, e) in enumerate(segs):
            width = e - s
            step = max(1, min(iters, buf.size // max(1, width)))
            if width % 2 and step % 2 and step < iters:
                step = max(2, step - 1)  # whole 64-bit outputs per block: the stream ignores the blocking
            for start in range(0, iters, step):
                rows = min(step, iters - start)
                u = buf[: rows * width].reshape(rows, width)
                np.less(_uniform32(rng, rows * width).reshape(rows, width), MAMMEN_THRESHOLD, out=u)
                out[start:start + rows, j] = u @ z[s:e]
                bar.update(rows)
            out[:, j] *= MAMMEN_LOW - MAMMEN_HIGH
            out[:, j] += MAMMEN_HIGH * z[s:e].sum(axis=0)
    return out


def bootstrap_summary(draws: np.ndarray, level: float,
                      band: np.ndarray | None = None) -> tuple[np.ndarray, float]:
    """Bootstrap standard errors and the uniform (sup-t) critical value from draws (iters, K).

    The standard error is the interquartile range of the draws divided by that of the standard normal;
    the critical value is the ``level`` quantile of ``max_k |draw_k| / se_k`` over the columns ``band``
    selects (default: all) with a finite standard error (Callaway & Sant'Anna 2021, Algorithm 1; R ``did``
    ``mboot``).
    """
    q75, q25 = np.quantile(draws, [0.75, 0.25], axis=0, method="inverted_cdf")
    se = (q75 - q25) / (stats.norm.ppf(0.75) - stats.norm.ppf(0.25))
    se = np.where(se <= SE_ZERO, np.nan, se)
    ok = np.isfinite(se) if band is None else np.isfinite(se) & band
    if not ok.any():
        return se, float("nan")
    t_max = np.max(np.abs(draws[:, ok] / se[ok]), axis=1)
    return se, float(np.quantile(t_max, level, method="inverted_cdf"))


def draw_order(unit_group: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Order and segment bounds in which units receive multipliers when clustering by unit: cohort by cohort.

    The compact influence form draws cohort by cohort (:meth:`CompactInfluence.multiplier_sums
    <impactlab.estimators.callaway_santanna.moments.CompactInfluence.multiplier_sums>`); the dense route uses the same
    order and segments, so both give the same draws for the same seed. Any fixed order gives the same
    distribution.
    """
    codes = np.asarray(unit_group)
    _, counts = np.unique(codes, return_counts=True)
    return np.argsort(codes, kind="stable"), np.concatenate([[0], np.cumsum(counts)])


def bootstrap(psi: np.ndarray, cluster: np.ndarray | None, iters: int, seed: int, level: float,
              band: np.ndarray | None = None, unit_group: np.ndarray | None = None
              ) -> tuple[np.ndarray, float]:
    """Multiplier bootstrap of influence functions: standard errors and a uniform (sup-t) critical value.

    Each draw perturbs every cluster's influence sum by one Mammen weight (:func:`mammen_products`) and
    :func:`bootstrap_summary` turns the draws into standard errors and the critical value (Callaway &
    Sant'Anna 2021, Algorithm 1; R ``did`` ``mboot``). The same seed gives the same draws, so every
    aggregation of one fit uses the same weights. ``band`` (boolean, one per column) selects the columns the
    uniform band covers (default: all). Without clusters, ``unit_group`` (each unit's cohort) sets the order
    in which units receive their weights (:func:`draw_order`).
    """
    n = psi.shape[0]
    s = cluster_sums(psi, cluster)
    bounds = None
    if cluster is None and unit_group is not None:
        order, bounds = draw_order(unit_group)
        s = s[order]
    draws = mammen_products(s, iters, seed, bounds).sum(axis=1)
    draws /= n
    return bootstrap_summary(draws, level, band)
