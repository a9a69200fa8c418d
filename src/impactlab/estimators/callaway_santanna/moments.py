"""Callaway–Sant'Anna without covariates from cohort-by-period sufficient statistics.

Without covariates every 2×2 estimator of :mod:`impactlab.estimators.drdid` (DR, IPW, REG) reduces to the
difference of mean outcome changes, ``ATT(g, t) = (ȳ_g,t − ȳ_g,b) − (ȳ_C,t − ȳ_C,b)`` with ``b`` the base
period and ``C`` the comparison cohorts (Callaway & Sant'Anna 2021, *J. Econometrics* 225(2), eq. 2.6 with
an intercept-only propensity score and outcome model; Sant'Anna & Zhao 2020, *J. Econometrics* 219(1),
§3). Its influence function, on R ``did``'s scale (``se = sqrt(Σ ψ²) / n``), is

    ψ_i = n · [ 1{G_i = g} (Δ_i − m_g) / n_g − 1{G_i ∈ C} (Δ_i − m_C) / n_C ],   Δ_i = y_i,t − y_i,b,

an affine function of unit i's outcome vector whose coefficients depend only on i's cohort:
``ψ_i = a_{G_i}' (y_i − ȳ_{G_i}) + c_{G_i}``. So every ATT(g, t), every cohort-share weighted aggregation
of them (the weights' own influence term is also constant within cohorts) and their unit-clustered standard
errors follow from three statistics per cohort h: the number of units ``n_h``, the mean outcome per period
``ȳ_h`` (T) and the centred cross-product matrix ``W_h = Σ_i (y_i − ȳ_h)(y_i − ȳ_h)'`` (T × T), because

    Σ_{i ∈ h} ψ_i² = a_h' W_h a_h + n_h c_h².

These statistics are a single pass over the data, need memory proportional to cohorts × periods², and can
be computed where the data live (SQL on DuckDB or Spark: :mod:`impactlab.panel.sql`). The dense n × K
influence matrix that :class:`~impactlab.estimators.callaway_santanna.CallawaySantAnnaResult` keeps (for
other aggregations and the bootstrap) is built from the same coefficients by one matrix product per cohort
(:func:`influence_matrix`), instead of one boolean selection and one 2×2 fit per cell.

The cells, comparison groups, base periods and the handling of anticipation reproduce
:func:`impactlab.callaway_santanna` (and R ``did``) for a balanced panel without covariates, clustered by
unit; ``tests/estimators/test_fast_cs.py`` checks them against it to 1e-10.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from impactlab.errors import EstimationError, check_option
from impactlab.estimators._blocked import _tmm
from impactlab.estimators.callaway_santanna.aggregate import SE_ZERO, _weight_influence, mammen_products
from impactlab.panel.panel import Panel

__all__ = ["CohortMoments", "CompactInfluence", "MultiplierSums", "SuffStatCells", "balanced_arrays",
           "cohort_moments", "att_gt_from_moments", "influence_matrix", "moments_from_frame",
           "simple_from_moments"]


@dataclass(frozen=True)
class CohortMoments:
    """Sufficient statistics of a balanced panel by cohort.

    Attributes
    ----------
    cohorts : ndarray of int, shape (H,)
        Cohort of each row: the 1-based period of first treatment, 0 for never treated; sorted.
    counts : ndarray, shape (H,)
        Units per cohort.
    means : ndarray, shape (H, T)
        Mean outcome per cohort and period.
    cross : ndarray, shape (H, T, T)
        Centred cross-products ``Σ_i (y_i − ȳ_h)(y_i − ȳ_h)'`` per cohort.
    """

    cohorts: np.ndarray
    counts: np.ndarray
    means: np.ndarray
    cross: np.ndarray

    @property
    def n_units(self) -> int:
        return int(self.counts.sum())

    @property
    def n_periods(self) -> int:
        return int(self.means.shape[1])


@dataclass(frozen=True)
class SuffStatCells:
    """ATT(g, t) with the affine form of their influence functions.

    ``ψ_ik = coef[k, h] · (y_i − ȳ_h) + const[k, h]`` for unit i in cohort row h of :attr:`moments`.
    """

    group: np.ndarray
    time: np.ndarray
    post: np.ndarray
    att: np.ndarray
    std_error: np.ndarray
    n_treated: np.ndarray
    n_control: np.ndarray
    coef: np.ndarray
    const: np.ndarray
    moments: CohortMoments
    #: (cohort, period) of the cells left out because they have no comparison units.
    skipped: tuple[tuple[int, int], ...] = ()


@dataclass(frozen=True)
class MultiplierSums:
    """Per-cohort multiplier sums of :meth:`CompactInfluence.multiplier_sums` (one row per draw).

    Attributes
    ----------
    centred : ndarray, shape (iters, H, T)
        ``Σ_{i∈h} v_i (y_i − ȳ_h)`` per draw and cohort row h.
    total : ndarray, shape (iters, H)
        ``Σ_{i∈h} v_i``.
    n_units : int
    """

    centred: np.ndarray
    total: np.ndarray
    n_units: int


def balanced_arrays(panel: Panel, anticipation: int = 0) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Unit ids, outcomes (n, T) and cohort indices of the units :func:`impactlab.callaway_santanna` uses.

    The panel's long frame is sorted by unit and period, so for a balanced panel the outcome matrix is a
    reshape of the outcome column (no scatter). Units treated within ``anticipation`` periods of the first
    one are dropped, as there.

    Raises
    ------
    EstimationError
        The panel is not balanced (use :func:`impactlab.callaway_santanna`, which drops the short units).
    """
    if not panel.is_balanced:
        raise EstimationError("The sufficient-statistics path needs a balanced panel; "
                              f"this one has {panel.n_obs} rows for {panel.n_units} units × "
                              f"{panel.n_periods} periods. Use callaway_santanna, which drops short units.")
    long = panel._long
    T = panel.n_periods
    units = long["unit"].to_numpy()[::T]
    y = long["outcome"].to_numpy(dtype="float64").reshape(-1, T)
    gp = long["cohort_period"].to_numpy(dtype="int64")[::T]
    keep = ~((gp > 0) & (gp <= 1 + anticipation))
    return units[keep], y[keep], gp[keep]


def cohort_moments(y: np.ndarray, cohort: np.ndarray) -> CohortMoments:
    """Count, mean and centred cross-products of the outcome per cohort.

    Parameters
    ----------
    y : ndarray, shape (n, T)
        Outcomes of a balanced panel, one row per unit, columns the ordered periods.
    cohort : ndarray of int, shape (n,)
        Each unit's cohort as a 1-based period index (0 = never treated), as the ``cohort_period`` column
        of ``Panel.long()``.
    """
    y = np.asarray(y, dtype="float64")
    cohort = np.asarray(cohort, dtype="int64")
    if y.ndim != 2 or cohort.shape != (y.shape[0],):
        raise ValueError(f"y must be (n, T) and cohort (n,); got {y.shape} and {cohort.shape}.")
    if not np.isfinite(y).all():
        raise EstimationError("The outcome has missing or infinite values; the fast path needs a balanced "
                              "panel with every outcome observed.")
    order = np.argsort(cohort, kind="stable")
    cs, starts, counts = np.unique(cohort[order], return_index=True, return_counts=True)
    T = y.shape[1]
    means = np.empty((len(cs), T))
    cross = np.empty((len(cs), T, T))
    for h, (s, c) in enumerate(zip(starts, counts, strict=True)):
        block = y[order[s:s + c]]  # a copy (fancy indexing): centred in place
        means[h] = block.mean(axis=0)
        block -= means[h]
        cross[h] = _tmm(block, block)
    return CohortMoments(cs, counts.astype("float64"), means, cross)


def moments_from_frame(frame: pd.DataFrame, periods: Sequence[Any], *,
                       anticipation: int = 0) -> CohortMoments:
    """Cohort moments from the result of :func:`impactlab.panel.sql.moments_query` (DuckDB or Spark).

    Raw cohort values are mapped to period positions as :class:`~impactlab.Panel` does (the first observed
    period on or after the cohort; after the last period or missing or 0: never treated), cohorts that fall
    on the same position are pooled (Chan, Golub & LeVeque 1983, pairwise update of centred sums), and units
    treated within ``anticipation`` periods of the first period are dropped, as
    :func:`impactlab.callaway_santanna` does.
    """
    T = len(periods)
    index = pd.Index(list(periods))
    raw = frame["cohort"]
    never = raw.isna().to_numpy().copy()
    if pd.api.types.is_numeric_dtype(raw):
        never |= (raw.fillna(0) == 0).to_numpy()
    pos = np.zeros(len(frame), dtype="int64")
    if (~never).any():
        found = index.searchsorted(pd.Index(raw[~never].to_numpy()), side="left") + 1
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


def _variance_sums(m: CohortMoments, coef: np.ndarray, const: np.ndarray) -> np.ndarray:
    """``Σ_i ψ_ik²`` for each column k of the affine influence form."""
    quad = np.einsum("khs,hst,kht->k", coef, m.cross, coef, optimize=True)
    return quad + (const**2) @ m.counts


def att_gt_from_moments(m: CohortMoments, *, control: str = "never_treated", base_period: str = "varying",
                        anticipation: int = 0, cohorts: Sequence[int] | np.ndarray | None = None
                        ) -> SuffStatCells:
    """Group-time ATTs and their unit-clustered standard errors from cohort moments.

    The moments must describe the units :func:`impactlab.callaway_santanna` keeps: observed in every period
    and not treated within ``anticipation`` periods of the first one.

    Parameters
    ----------
    m : CohortMoments
    control : {"never_treated", "not_yet_treated"}
    base_period : {"varying", "universal"}
    anticipation : int
    cohorts : sequence of int, optional
        Estimate only these cohorts (1-based period indices), e.g. without the singleton cohorts that
        :func:`impactlab.callaway_santanna` leaves out; every cohort still serves as a comparison.

    Returns
    -------
    SuffStatCells
        Cells in the order of ``callaway_santanna(...).att_gt`` (cohort, then period); standard errors at or
        below ``SE_ZERO`` are NaN, as there.

    Raises
    ------
    EstimationError
        No never-treated units with ``control="never_treated"``, or too few periods.
    """
    check_option("control", control, ("never_treated", "not_yet_treated"))
    check_option("base_period", base_period, ("varying", "universal"))
    gp, cnt, mu = m.cohorts, m.counts, m.means
    n, T = m.n_units, m.n_periods
    glist = gp[gp > 0]
    last_t = T
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
    tfac = 1 if base_period == "varying" else 0
    H = len(gp)
    rows: list[tuple[int, int, bool, float, float, float]] = []
    coefs: list[np.ndarray] = []
    consts: list[np.ndarray] = []
    skipped: list[tuple[int, int]] = []
    for g in glist:
        g = int(g)
        base_post = g - 1 - anticipation
        tr = gp == g
        for cur in range(1 + tfac, last_t + 1):
            post = g <= cur
            base = base_post if (post or base_period == "universal") else cur - 1
            if control == "never_treated":
                ctrl = gp == 0
            else:
                ctrl = (gp == 0) | ((gp > max(cur, base) + anticipation) & (gp != g))
            n_t, n_c = float(cnt[tr].sum()), float(cnt[ctrl].sum())
            a = np.zeros((H, T))
            c = np.zeros(H)
            if base == cur:
                rows.append((g, cur, post, 0.0, n_t, n_c))
                coefs.append(a)
                consts.append(c)
                continue
            if n_c == 0:
                skipped.append((g, cur))
                continue
            delta = mu[:, cur - 1] - mu[:, base - 1]  # mean change per cohort
            m_t = float(delta[tr] @ cnt[tr]) / n_t
            m_c = float(delta[ctrl] @ cnt[ctrl]) / n_c
            a[tr, cur - 1], a[tr, base - 1] = n / n_t, -n / n_t
            a[ctrl, cur - 1], a[ctrl, base - 1] = -n / n_c, n / n_c
            # ψ at the cohort mean: n (ȳ_h change − pooled mean change) / size of the pooled set
            c[tr] = n * (delta[tr] - m_t) / n_t
            c[ctrl] = -n * (delta[ctrl] - m_c) / n_c
            rows.append((g, cur, post, m_t - m_c, n_t, n_c))
            coefs.append(a)
            consts.append(c)
    if not rows:
        raise EstimationError("No ATT(g,t) could be estimated.")
    coef, const = np.stack(coefs), np.stack(consts)
    se = np.sqrt(np.maximum(_variance_sums(m, coef, const), 0.0)) / n
    se = np.where(se <= SE_ZERO, np.nan, se)
    arr = np.array(rows, dtype="float64")
    return SuffStatCells(group=arr[:, 0].astype("int64"), time=arr[:, 1].astype("int64"),
                         post=arr[:, 2].astype(bool), att=arr[:, 3], std_error=se,
                         n_treated=arr[:, 4].astype("int64"), n_control=arr[:, 5].astype("int64"),
                         coef=coef, const=const, moments=m, skipped=tuple(skipped))


def simple_from_moments(cells: SuffStatCells, *, max_e: float = np.inf) -> tuple[float, float]:
    """The ``simple`` aggregation (cohort-size weighted mean of post-treatment ATT(g, t)) and its standard
    error, with the influence of the estimated weights (Callaway & Sant'Anna 2021, eq. 3.10 and App. B),
    from the moments alone (no unit-level array)."""
    m = cells.moments
    keep = np.flatnonzero(cells.post & (cells.time - cells.group <= max_e))
    if keep.size == 0:
        return float("nan"), float("nan")
    n = m.n_units
    pg_by = m.counts / n
    pos = np.searchsorted(m.cohorts, cells.group)
    p = pg_by[pos]
    w = p[keep] / p[keep].sum()
    est = float(w @ cells.att[keep])
    coef = np.tensordot(w, cells.coef[keep], axes=1)[None]
    indicator = (m.cohorts[:, None] == cells.group[keep][None, :]).astype("float64")
    wif = _weight_influence(np.arange(keep.size), p[keep], indicator, cells.att[keep])
    const = (w @ cells.const[keep] + wif)[None]
    se = float(np.sqrt(max(_variance_sums(m, coef, const)[0], 0.0)) / n)
    return est, (se if se > SE_ZERO else float("nan"))


def influence_matrix(cells: SuffStatCells, y: np.ndarray, cohort: np.ndarray) -> np.ndarray:
    """The dense (n, K) influence functions of the cells, one matrix product per cohort.

    Equal to the ``influence`` attribute :func:`impactlab.callaway_santanna` builds cell by cell; rows in
    the order of ``y``.
    """
    y = np.asarray(y, dtype="float64")
    m = cells.moments
    h_of = np.searchsorted(m.cohorts, cohort)
    out = np.empty((y.shape[0], len(cells.att)))
    for h in range(len(m.cohorts)):
        rows = np.flatnonzero(h_of == h)
        if rows.size:
            out[rows] = (y[rows] - m.means[h]) @ cells.coef[:, h, :].T + cells.const[:, h]
    return out


class CompactInfluence:
    """The (n, K) influence functions of :class:`SuffStatCells` kept in their affine form.

    Row i, column k is ``coef[k, h] · (y_i − ȳ_h) + const[k, h]`` with h the cohort of unit i, so the form
    needs the outcome matrix (shared, not copied), the units of each cohort and K × H × T coefficients:
    memory proportional to the data instead of units × cells. Linear combinations of the columns (every
    aggregation of Callaway & Sant'Anna 2021, §3, is one) cost one (n_h, T) × (T, J) product per cohort
    (:meth:`combine`, :meth:`transform`), multiplier-bootstrap draws need one pass over the outcomes
    (:meth:`multiplier_sums`); :meth:`dense` builds the full matrix (for cluster sums and
    ``CallawaySantAnnaResult.influence``).

    Parameters
    ----------
    cells : SuffStatCells
    y : ndarray, shape (n, T)
        Outcomes of the units, in the row order of the influence functions.
    cohort : ndarray of int, shape (n,)
        Each unit's cohort (1-based period index, 0 = never treated); every value is in
        ``cells.moments.cohorts``.
    """

    def __init__(self, cells: SuffStatCells, y: np.ndarray, cohort: np.ndarray) -> None:
        m = cells.moments
        h_of = np.searchsorted(m.cohorts, np.asarray(cohort, dtype="int64"))
        self._y = y
        self._moments = m
        self._rows = [np.flatnonzero(h_of == h) for h in range(len(m.cohorts))]
        self._means = m.means
        self.coef = cells.coef
        self.const = cells.const
        self.shape = (int(y.shape[0]), int(cells.coef.shape[0]))

    def select(self, cols: Sequence[int] | np.ndarray) -> CompactInfluence:
        """The same form restricted to the columns ``cols``."""
        out = object.__new__(CompactInfluence)
        out.__dict__.update(self.__dict__)
        out.coef = self.coef[np.asarray(cols)]
        out.const = self.const[np.asarray(cols)]
        out.shape = (self.shape[0], int(out.coef.shape[0]))
        return out

    def nonzero_columns(self) -> np.ndarray:
        """Columns whose coefficients are not all zero (a zero column is an exactly zero function)."""
        return np.asarray(self.coef.any(axis=(1, 2)) | self.const.any(axis=1))

    def sum_squares(self) -> np.ndarray:
        """``Σ_i ψ_ik²`` per column from the cohort moments (no unit-level array)."""
        return _variance_sums(self._moments, self.coef, self.const)

    def cross_products(self, cols: np.ndarray) -> np.ndarray:
        """``Σ_i ψ_ik ψ_il`` for k, l in ``cols`` from the cohort moments (``a_k' W_h a_l + n_h c_k c_l``)."""
        coef, const = self.coef[cols], self.const[cols]
        m = self._moments
        return np.einsum("khs,hst,lht->kl", coef, m.cross, coef, optimize=True) + (const * m.counts) @ const.T

    def combine(self, weights: np.ndarray) -> np.ndarray:
        """``dense() @ weights`` without building ``dense()``; ``weights`` is (K,) or (K, J)."""
        w = np.asarray(weights, dtype="float64")
        w2 = w[:, None] if w.ndim == 1 else w
        out = np.empty((self.shape[0], w2.shape[1]))
        for h, rows in enumerate(self._rows):
            if rows.size:
                a = np.tensordot(self.coef[:, h, :], w2, axes=(0, 0))  # (T, J)
                out[rows] = (self._y[rows] - self._means[h]) @ a + self.const[:, h] @ w2
        return out[:, 0] if w.ndim == 1 else out

    def dense(self, order: str = "C") -> np.ndarray:
        """The (n, K) influence matrix (memory layout ``order``, "C" or "F")."""
        out = np.empty(self.shape, order=order)  # type: ignore[call-overload]
        # blocks of units small enough to stay in cache: no cohort-sized temporaries, and small products
        # that a threaded BLAS runs on one thread (on a busy machine its threads otherwise wait on each other)
        step = max(8, (1 << 17) // max(1, self._y.shape[1] * self.shape[1]))
        for h, rows in enumerate(self._rows):
            a, c, mean = self.coef[:, h, :].T, self.const[:, h], self._means[h]
            for s in range(0, rows.size, step):
                block = rows[s:s + step]
                out[block] = (self._y[block] - mean) @ a + c
        return out

    @property
    def cohorts(self) -> np.ndarray:
        """The cohort (1-based period index, 0 = never treated) of each coefficient row h."""
        return np.asarray(self._moments.cohorts)

    def transform(self, weights: np.ndarray, const: np.ndarray | None = None) -> CompactInfluence:
        """The affine form of ``dense() @ weights + c``, with ``c`` constant within cohorts.

        Parameters
        ----------
        weights : ndarray, shape (K, J)
        const : ndarray, shape (H, J), optional
            Added to column j for every unit of cohort row h (e.g. the influence of estimated cohort shares,
            Callaway & Sant'Anna 2021, App. B, which depends on the unit's cohort only).

        Returns
        -------
        CompactInfluence
            J columns sharing this form's outcome matrix (nothing unit-level is copied).
        """
        w = np.asarray(weights, dtype="float64")
        out = object.__new__(CompactInfluence)
        out.__dict__.update(self.__dict__)
        out.coef = np.tensordot(w, self.coef, axes=(0, 0))  # (J, H, T)
        out.const = w.T @ self.const + (0.0 if const is None else np.asarray(const, dtype="float64").T)
        out.shape = (self.shape[0], int(w.shape[1]))
        return out

    def multiplier_sums(self, iters: int, seed: int) -> MultiplierSums:
        """Per-cohort sums of Mammen multipliers times centred outcomes, for ``iters`` bootstrap draws.

        A multiplier-bootstrap draw of column k is ``Σ_i v_i ψ_ik / n`` (Callaway & Sant'Anna 2021,
        Algorithm 1). With the affine form it is ``Σ_h [a_kh · Σ_{i∈h} v_i (y_i − ȳ_h) + c_kh Σ_{i∈h} v_i]
        / n``, so the draws of *every* column, and of every aggregation (:meth:`transform`), follow from
        ``Σ_{i∈h} v_i (y_i − ȳ_h)`` (T values) and ``Σ_{i∈h} v_i`` per cohort and draw: one pass over the
        n × T outcomes instead of over an n × K matrix, and no unit-level array kept. Units receive their
        weights cohort by cohort in row order (:func:`~impactlab.estimators.callaway_santanna.aggregate.draw_order`), as
        on the dense route, so both give the same draws for the same seed.
        """
        T = self._y.shape[1]
        sizes = np.array([r.size for r in self._rows], dtype="int64")
        bounds = np.concatenate([[0], np.cumsum(sizes)])
        z = np.empty((self.shape[0], T + 1))
        for h, rows in enumerate(self._rows):
            z[bounds[h]:bounds[h + 1], :T] = self._y[rows] - self._means[h]
        z[:, T] = 1.0
        prod = mammen_products(z, int(iters), int(seed), bounds)
        return MultiplierSums(centred=prod[:, :, :T], total=prod[:, :, T], n_units=self.shape[0])

    def multiplier_draws(self, sums: MultiplierSums) -> np.ndarray:
        """Bootstrap draws ``Σ_i v_i ψ_ik / n`` of every column, (iters, K), from :meth:`multiplier_sums`."""
        B, H, T = sums.centred.shape
        draws = sums.centred.reshape(B, H * T) @ self.coef.reshape(-1, H * T).T + sums.total @ self.const.T
        draws /= sums.n_units
        return draws

    def __array__(self, dtype: Any = None, copy: Any = None) -> np.ndarray:
        d = self.dense()
        return d if dtype is None else d.astype(dtype)
