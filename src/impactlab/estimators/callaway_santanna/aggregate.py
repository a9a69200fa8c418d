"""Aggregation of group-time ATTs into summary parameters (Callaway & Sant'Anna 2021, §3; R ``did``'s
``aggte``): every aggregation is a (cells × elements) matrix of weights plus the influence of the estimated
cohort shares, which depends on the unit's cohort only (without sampling weights), so an affine influence
form folds both into a new form of the elements (derivation in ``docs/explanation.md``).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np

from impactlab.estimators.callaway_santanna.data import cohort_rows
from impactlab.estimators.callaway_santanna.influence import Dense, Influence


@dataclass(frozen=True)
class Aggregation:
    """Keys (cohort, event time or period index; empty for ``simple``), estimates and the overall value of
    one aggregation; ``influence_all`` (n, keys + 1, Fortran order) holds the elements' influence and, last,
    the overall one (NaN when undefined), ``form`` the same columns as an :class:`Influence`."""

    keys: np.ndarray
    estimates: np.ndarray
    overall: float
    influence_all: np.ndarray
    form: Influence

    @property
    def influence(self) -> np.ndarray:
        return self.influence_all[:, :-1]

    @property
    def overall_influence(self) -> np.ndarray:
        return self.influence_all[:, -1]


def _weight_influence(cells: np.ndarray, pg: np.ndarray, indicator: np.ndarray,
                      att: np.ndarray) -> np.ndarray:
    """``wif @ att[cells]``: influence of estimating the cohort-share weights ``pg[cells] / sum(pg[cells])``
    (``indicator``: the (rows, len(cells)) matrix of ``1{G_i = g_k}``; Callaway & Sant'Anna 2021, App. B)."""
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
    ``(rows of onehot, J + 1)`` of one aggregation (Callaway & Sant'Anna 2021, eqs. 3.10–3.14); the last
    column is the overall parameter."""
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


def _influence(inf: Influence, weights: np.ndarray, wif: np.ndarray, rows: np.ndarray | None,
               values: np.ndarray | None) -> tuple[np.ndarray, Influence]:
    """``inf @ weights + wif`` per unit (Fortran order) and as an :class:`Influence`: an affine form when
    ``inf`` is affine within cohorts and ``wif`` constant within them, else the matrix."""
    cohorts = inf.cohorts
    if rows is not None and values is not None and cohorts is not None:
        at = np.searchsorted(values, cohorts)
        if at.max(initial=0) < values.size and np.array_equal(values[at], cohorts):
            form = inf.transform(weights, wif[at])
            if form is not None:
                return form.dense(order="F"), form
    psi = np.asfortranarray(inf.combine(weights))
    psi += wif if rows is None else wif[rows]
    return psi, Dense(psi)


def aggregate_cells(kind: str, att: np.ndarray, inf: Any, group: np.ndarray, time: np.ndarray,
                    unit_group: np.ndarray, *, min_e: float = -np.inf, max_e: float = np.inf,
                    balance_e: int | None = None, last_period: int | None = None,
                    unit_weights: np.ndarray | None = None) -> Aggregation:
    """Aggregate the ATT(g, t) ``att`` of cohorts ``group`` at periods ``time`` (1-based period indices)
    with influence ``inf`` the way R ``did``'s ``aggte`` does; ``kind``, ``min_e``, ``max_e`` and
    ``balance_e`` as :meth:`~.result.CallawaySantAnnaResult.aggregate`. ``unit_group`` is each unit's
    cohort, ``last_period`` the last period index (default ``max(time)``), ``unit_weights`` sampling weights
    of mean one (cohort shares become weighted shares, as R ``did``)."""
    n = inf.shape[0]
    glist = np.unique(group)
    # cohort shares over all units (never treated included in the denominator), as R's pg
    rows: np.ndarray | None = None
    values: np.ndarray | None = None
    codes = np.asarray(unit_group)
    if unit_weights is None and codes.dtype.kind in "iu" and codes.size:
        # one row per distinct cohort value instead of one per unit: wif is constant within cohorts
        values, rows, counts = cohort_rows(codes)
        onehot = (values[:, None] == glist[None, :]).astype("float64")
        pg_by_group = (counts @ onehot) / n
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
        nan = np.full((n, 1), np.nan, order="F")
        return Aggregation(np.array([]), np.array([]), float("nan"), nan, Dense(nan))
    psi, form = _influence(inf, weights, wif, rows, values)
    if not np.isfinite(overall):
        psi[:, -1] = np.nan
    return Aggregation(keys, ests, overall, psi, form)
