"""The route for balanced panels without covariates (with sampling weights or without): every ATT(g, t)
and its influence from cohort moments (see ``docs/explanation.md``), and the public functions that work
from the moments alone, e.g. computed where the data live (:mod:`impactlab.panel.sql`)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from impactlab.errors import EstimationError, check_option
from impactlab.estimators._blocked import _tmm
from impactlab.estimators.callaway_santanna.aggregate import _weight_influence
from impactlab.estimators.callaway_santanna.by_cell import cell_2x2
from impactlab.estimators.callaway_santanna.cells import Cells, CellTable, Design
from impactlab.estimators.callaway_santanna.data import CsData, Layout, cohort_layout
from impactlab.estimators.callaway_santanna.influence import (
    CohortAffine,
    Features,
    standard_errors,
    with_columns,
)
from impactlab.estimators.drdid import TRIM_LEVEL
from impactlab.panel.panel import Panel

__all__ = ["CohortMoments", "SuffStatCells", "att_gt_from_moments", "balanced_arrays", "cohort_moments",
           "moments_from_frame", "simple_from_moments"]

#: With sampling weights, a cell whose weighted or unweighted treated share is within this of the trimming
#: level goes to the 2×2 estimator (which computes the share its own way: rounding must not decide).
_TRIM_MARGIN = 1e-9


@dataclass(frozen=True)
class CohortMoments:
    """Per cohort (``cohorts``: 1-based first treated period, 0 = never; sorted): unit ``counts``, mean
    outcome per period ``means`` (H, T) and centred cross-products ``cross`` (H, T, T)."""

    cohorts: np.ndarray
    counts: np.ndarray
    means: np.ndarray
    cross: np.ndarray

    @property
    def n_units(self) -> int:
        return int(self.counts.sum())


@dataclass(frozen=True)
class SuffStatCells:
    """ATT(g, t) from moments; unit i of cohort row h has influence ``coef[k, h] · (y_i − ȳ_h, 1)``."""

    group: np.ndarray
    time: np.ndarray
    post: np.ndarray
    att: np.ndarray
    std_error: np.ndarray
    n_treated: np.ndarray
    n_control: np.ndarray
    coef: np.ndarray
    moments: CohortMoments
    #: (cohort, period) of the cells left out because they have no comparison units
    skipped: tuple[tuple[int, int], ...] = ()


def balanced_arrays(panel: Panel, anticipation: int = 0) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Unit ids, outcomes (n, T) and cohorts of a balanced panel's units with a pre-treatment period."""
    if not panel.is_balanced:
        raise EstimationError(f"The moments need a balanced panel; this one has {panel.n_obs} rows for "
                              f"{panel.n_units} units × {panel.n_periods} periods. Use callaway_santanna, "
                              "which drops short units.")
    long, T = panel._long, panel.n_periods
    gp = long["cohort_period"].to_numpy(dtype="int64")[::T]
    keep = ~((gp > 0) & (gp <= 1 + anticipation))
    y = long["outcome"].to_numpy(dtype="float64").reshape(-1, T)
    return long["unit"].to_numpy()[::T][keep], y[keep], gp[keep]


def cohort_moments(y: np.ndarray, cohort: np.ndarray) -> CohortMoments:
    """Count, mean and centred cross-products of the outcomes ``y`` (n, T) per ``cohort`` (n,)."""
    y = np.asarray(y, dtype="float64")
    cohort = np.asarray(cohort, dtype="int64")
    if y.ndim != 2 or cohort.shape != (y.shape[0],):
        raise ValueError(f"y must be (n, T) and cohort (n,); got {y.shape} and {cohort.shape}.")
    if not np.isfinite(y).all():
        raise EstimationError("The outcome has missing or infinite values; the moments need a balanced "
                              "panel with every outcome observed.")
    return _moments(y, cohort_layout(cohort))


def _moments(y: np.ndarray, lay: Layout) -> CohortMoments:
    means = np.empty((lay.cohorts.size, y.shape[1]))
    cross = np.empty((lay.cohorts.size, y.shape[1], y.shape[1]))
    for h, (s, e) in enumerate(zip(lay.bounds[:-1], lay.bounds[1:], strict=True)):
        block = y[lay.order[s:e]]  # a copy (fancy indexing): centred in place
        means[h] = block.mean(axis=0)
        block -= means[h]
        cross[h] = _tmm(block, block)
    return CohortMoments(lay.cohorts, lay.sizes.astype("float64"), means, cross)


def moments_from_frame(frame: pd.DataFrame, periods: Sequence[Any], *, anticipation: int = 0
                       ) -> CohortMoments:
    """Cohort moments from the result of :func:`impactlab.panel.sql.moments_query` (DuckDB or Spark).

    Raw cohorts map to period positions as :class:`~impactlab.Panel` maps them (the first observed period
    on or after the cohort; later, missing or 0: never treated); cohorts on the same position are pooled
    (Chan, Golub & LeVeque 1983) and units treated within ``anticipation`` periods of the first dropped.
    """
    T = len(periods)
    raw = frame["cohort"]
    never = raw.isna().to_numpy().copy()
    if pd.api.types.is_numeric_dtype(raw):
        never |= (raw.fillna(0) == 0).to_numpy()
    pos = np.zeros(len(frame), dtype="int64")
    if (~never).any():
        found = pd.Index(list(periods)).searchsorted(pd.Index(raw[~never].to_numpy()), side="left") + 1
        pos[~never] = np.where(found > T, 0, found)
    n = frame["n"].to_numpy(dtype="float64")
    means = frame[[f"m{j}" for j in range(T)]].to_numpy(dtype="float64")
    cross = np.empty((len(frame), T, T))
    for j in range(T):
        for k in range(j, T):
            cross[:, j, k] = cross[:, k, j] = frame[f"w{j}_{k}"].to_numpy(dtype="float64")
    keep = ~((pos > 0) & (pos <= 1 + anticipation))
    cohorts = np.unique(pos[keep])
    counts = np.array([n[keep & (pos == c)].sum() for c in cohorts])
    out_means = np.empty((len(cohorts), T))
    out_cross = np.empty((len(cohorts), T, T))
    for h, c in enumerate(cohorts):
        rows = np.flatnonzero(keep & (pos == c))
        mean = (n[rows] @ means[rows]) / counts[h]
        dev = means[rows] - mean
        out_means[h] = mean
        out_cross[h] = cross[rows].sum(axis=0) + (dev * n[rows, None]).T @ dev
    return CohortMoments(cohorts.astype("int64"), counts, out_means, out_cross)


def _moment_matrices(m: CohortMoments) -> np.ndarray:
    """``Σ_{i∈h} z_i z_i'`` of ``z_i = (y_i − ȳ_h, 1)``: the cross-products and the count (the centred
    outcomes sum to zero)."""
    H, T = m.means.shape
    out = np.zeros((H, T + 1, T + 1))
    out[:, :T, :T] = m.cross
    out[:, T, T] = m.counts
    return out


def _affine_cell(counts: np.ndarray, means: np.ndarray, n: int, tr: np.ndarray, ctrl: np.ndarray, t: int,
                 b: int) -> tuple[float, np.ndarray]:
    """ATT(g, t) = (weighted) mean change of the treated cohort minus that of the comparison cohorts, and
    the coefficients (H, T + 1) of its influence ``n [1{T} (Δ_i − m_T) / N_T − 1{C} (Δ_i − m_C) / N_C]``."""
    delta = means[:, t - 1] - means[:, b - 1]
    n_t, n_c = float(counts[tr].sum()), float(counts[ctrl].sum())
    m_t, m_c = float(delta[tr] @ counts[tr]) / n_t, float(delta[ctrl] @ counts[ctrl]) / n_c
    theta = np.zeros((len(counts), means.shape[1] + 1))
    theta[tr, t - 1], theta[tr, b - 1] = n / n_t, -n / n_t
    theta[ctrl, t - 1], theta[ctrl, b - 1] = -n / n_c, n / n_c
    theta[tr, -1] = n * (delta[tr] - m_t) / n_t  # ψ at the cohort mean
    theta[ctrl, -1] = -n * (delta[ctrl] - m_c) / n_c
    return m_t - m_c, theta


def att_gt_from_moments(m: CohortMoments, *, control: str = "never_treated", base_period: str = "varying",
                        anticipation: int = 0, cohorts: Sequence[int] | np.ndarray | None = None
                        ) -> SuffStatCells:
    """Group-time ATTs and their unit-clustered standard errors from cohort moments.

    The moments must describe the units :func:`impactlab.callaway_santanna` keeps; ``cohorts`` restricts
    the cohorts estimated (every cohort still serves as a comparison). Cells come in the order of
    ``att_gt``; standard errors at or below ``SE_ZERO`` are NaN. Raises EstimationError without
    never-treated units for ``control="never_treated"``, or with too few periods.
    """
    check_option("control", control, ("never_treated", "not_yet_treated"))
    check_option("base_period", base_period, ("varying", "universal"))
    gp, n, T = m.cohorts, m.n_units, m.means.shape[1]
    glist, last_t = gp[gp > 0], T
    if not (gp == 0).any():
        if control == "never_treated":
            raise EstimationError("There are no never-treated units to compare with "
                                  "(control='never_treated'); use control='not_yet_treated'.")
        last_t = int(glist.max()) - anticipation - 1
        if last_t < 2:
            raise EstimationError("No never-treated units and too few periods before the last cohort.")
        glist = glist[glist < glist.max()]
    if cohorts is not None:
        glist = glist[np.isin(glist, np.asarray(cohorts, dtype="int64"))]
    design = Design(control, "dr", base_period, anticipation, tuple(range(1, T + 1)))
    table = CellTable(design.periods)
    coefs: dict[int, np.ndarray] = {}
    for cell, ctrl, n_t, n_c in design.walk(table, glist, last_t, gp, m.counts):
        att, theta = _affine_cell(m.counts, m.means, n, gp == cell.g, ctrl, cell.t, cell.base)
        coefs[table.add(cell, n_t, n_c, att)] = theta
    if not len(table):
        raise EstimationError("No ATT(g,t) could be estimated.")
    coef = np.zeros((len(table), len(gp), T + 1))
    coef[list(coefs)] = list(coefs.values()) if coefs else 0.0  # reference cells stay zero
    bounds = np.concatenate([[0], np.cumsum(m.counts)]).astype("int64")
    se = standard_errors(CohortAffine(Features(gp, bounds, None, _moment_matrices(m)), coef))
    rows = pd.DataFrame(table.rows)
    g, t = rows["g"].to_numpy(dtype="int64"), rows["t"].to_numpy(dtype="int64")
    return SuffStatCells(group=g, time=t, post=g <= t, att=rows["estimate"].to_numpy(dtype="float64"),
                         std_error=se, n_treated=rows["n_treated"].to_numpy(dtype="int64"),
                         n_control=rows["n_control"].to_numpy(dtype="int64"), coef=coef, moments=m,
                         skipped=tuple((int(e[1][0]), int(e[1][1])) for e in table.ledger))


def simple_from_moments(cells: SuffStatCells, *, max_e: float = np.inf) -> tuple[float, float]:
    """The ``simple`` aggregation (cohort-share weighted mean of post-treatment ATT(g, t)) and its standard
    error with the influence of the estimated shares (Callaway & Sant'Anna 2021, eq. 3.10, App. B)."""
    m = cells.moments
    keep = np.flatnonzero(cells.post & (cells.time - cells.group <= max_e))
    if keep.size == 0:
        return float("nan"), float("nan")
    p = (m.counts / m.n_units)[np.searchsorted(m.cohorts, cells.group)][keep]
    w = p / p.sum()
    coef = np.tensordot(w, cells.coef[keep], axes=1)[None]
    indicator = (m.cohorts[:, None] == cells.group[keep][None, :]).astype("float64")
    coef[0, :, -1] += _weight_influence(np.arange(keep.size), p, indicator, cells.att[keep])
    bounds = np.concatenate([[0], np.cumsum(m.counts)]).astype("int64")
    se = standard_errors(CohortAffine(Features(m.cohorts, bounds, None, _moment_matrices(m)), coef))
    return float(w @ cells.att[keep]), float(se[0])


def fit(data: CsData, design: Design) -> Cells | None:
    """Every ATT(g, t) of a balanced panel without covariates from (weighted) cohort moments; ``None`` when
    the route cannot reproduce the fit (an outcome missing, a cohort of zero total weight, nothing
    estimable). Cells at the trimming level of the propensity score (DR, IPW) take the 2×2 estimator."""
    y, gp, w = data.y, data.gp, data.weights
    if y is None or not np.isfinite(y).all():
        return None
    lay = cohort_layout(gp)
    cohorts, h_of, sizes, order, bounds = lay.cohorts, lay.h_of, lay.sizes, lay.order, lay.bounds
    T = y.shape[1]
    mom = None  # with sampling weights, from the vectors z
    if w is None:
        m = _moments(y, lay)
        counts, means, mom = m.counts, m.means, _moment_matrices(m)
    else:
        counts = np.bincount(h_of, weights=w, minlength=cohorts.size)
        if not np.all(counts > 0):
            return None
        means = np.stack([w[r] @ y[r] / counts[h] for h, r in enumerate(np.split(order, bounds[1:-1]))])

    def make(h: int, rows: Any) -> np.ndarray:  # z_i = (y_i − ȳ_h, 1), times w_i with sampling weights
        yr = y[rows]
        z = np.empty((yr.shape[0], T + 1))
        np.subtract(yr, means[h], out=z[:, :T])
        z[:, T] = 1.0
        return z if w is None else np.multiply(z, w[rows, None], out=z)

    table = CellTable(design.periods)
    coefs: dict[int, np.ndarray] = {}
    replaced: dict[int, np.ndarray] = {}
    for cell, ctrl, n_t, n_c in design.walk(table, data.glist, data.n_periods, cohorts, sizes):
        tr = cohorts == cell.g
        share = n_t / (n_t + n_c)
        if w is not None:
            share = max(share, counts[tr].sum() / (counts[tr].sum() + counts[ctrl].sum())) + _TRIM_MARGIN
        if design.method in ("dr", "ipw") and share >= TRIM_LEVEL:
            # the constant propensity score trims or fails overlap: the 2×2 estimator decides
            done = table.fit(cell, n_t, n_c, cell_2x2, (data, design.method, gp == cell.g, ctrl[h_of],
                                                        cell.t, cell.base))
            if done is not None:
                replaced[done[0]] = done[1]
            continue
        att, theta = _affine_cell(counts, means, data.n, tr, ctrl, cell.t, cell.base)
        coefs[table.add(cell, n_t, n_c, att)] = theta
    if not len(table):
        return None
    coef = np.zeros((len(table), cohorts.size, T + 1))
    coef[list(coefs)] = list(coefs.values()) if coefs else 0.0  # reference cells stay zero
    form = CohortAffine(Features(cohorts, bounds, order, mom, make=make, ones=w is None), coef)
    return table.result(with_columns(form, replaced), "moments")
