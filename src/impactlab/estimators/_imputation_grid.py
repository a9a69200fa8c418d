"""The imputation estimator's computations on the units × periods grid.

The panel is sorted by unit and period with one row per (unit, period), so its outcomes fill a units ×
periods array (a reshape when balanced, one scatter when hires and leavers leave holes). With the units
ordered by cohort, each cohort is a contiguous block of rows whose untreated observations are the
columns before its training window: every sum by unit, by period and by cohort × event time is a sum
along an axis of a block, and every weighted sum by unit is a thin matrix product. The normal
equations, the conservative variance of Theorem 3 and Test 1 are those of the row-wise computation in
:mod:`impactlab.estimators.imputation` (which handles covariates and clusters that cut across units),
summed in another order.

Also here: what both computations share (the pieces of a fit handed to the result, the ledger of
observations left out, the cohort labels and Test 1's coefficient table).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
import scipy.linalg

from impactlab.errors import EstimationError
from impactlab.estimators._blocked import _mm, _tmm
from impactlab.estimators._common import excluded_frame
from impactlab.estimators._eventtime import WaldTest, wald_test
from impactlab.estimators.inference import balanced_units
from impactlab.results.base import _fmt

#: The grid is used when it has at most this many cells per observation (holes left by hires and leavers).
GRID_FILL = 2

Lead = tuple[pd.DataFrame | None, WaldTest | None]


@dataclass(frozen=True)
class Fit:
    """What a fit hands to the result: cohort × event-time cells of the imputed effects, counts, the ledger,
    and the variance of any targets (weights per cell, one column per target) and Test 1 on demand.

    ``vcov(W, fitted=None)``: each trained observation's residual is its effect minus ``fitted`` (cells ×
    targets, what each target's second stage fits to the cell), by default its cell's mean (Theorem 3)."""

    cell_g: np.ndarray
    cell_e: np.ndarray
    cell_n: np.ndarray
    cell_sum: np.ndarray
    n_units: int
    n_obs: int
    n_left: int
    clusters: int
    excluded: pd.DataFrame
    label_of: dict[int, Any]
    vcov: Callable[..., np.ndarray]
    test_one: Callable[[], Lead]


# ------------------------------------------------------------------------------------------ shared pieces
def need(any_window: bool, any_untreated: bool) -> None:
    if not any_window:
        raise EstimationError("imputation: no employee is trained within the data, so there is no effect "
                              "to estimate.")
    if not any_untreated:
        raise EstimationError("imputation: no untreated observation, so no unit or period effect can be "
                              "fitted.")


def need_imputable(any_post: bool) -> None:
    if not any_post:
        raise EstimationError("imputation: no trained observation can be imputed (every trained employee "
                              "lacks an untreated observation, or their periods have none).")


def cho(S: np.ndarray) -> Any:
    try:
        return scipy.linalg.cho_factor(S)
    except np.linalg.LinAlgError as exc:
        raise EstimationError(
            "imputation: the period effects and covariates cannot be told apart on the untreated "
            "observations (their design is singular). Drop a covariate that is constant within "
            "employees or collinear with the others.") from exc


def unit_codes(units: pd.Series) -> tuple[np.ndarray, Any]:
    """Codes 0..U-1 of the units in order of appearance; the panel is sorted by unit, so a change of value
    starts a new unit (no hashing), with factorize as the fallback."""
    values = units.to_numpy()
    if len(values) > 1 and values.dtype.kind in "iuf":
        new = np.empty(len(values), dtype=bool)
        new[0] = True
        np.not_equal(values[1:], values[:-1], out=new[1:])
        codes = np.cumsum(new) - 1
        if int(codes[-1]) + 1 == len(pd.unique(values[new])):
            return codes, values[new]
    return pd.factorize(units, sort=False)


def cohort_labels(cohort: np.ndarray, gp: np.ndarray) -> dict[int, Any]:
    """Cohort position -> the cohort as given (first treated period), from aligned cohort values and
    positions (of rows or of units)."""
    out: dict[int, Any] = {}
    first = pd.Series(gp).drop_duplicates()
    for i, p in zip(first.index, first.to_numpy(), strict=True):
        if p > 0:
            value = cohort[i]
            value = value.item() if isinstance(value, np.generic) else value
            out[int(p)] = int(value) if isinstance(value, float) and value.is_integer() else value
    return out


def ledger(unit_ids: Any, unit_counts: np.ndarray, periods: Sequence[Any], period_counts: np.ndarray
           ) -> pd.DataFrame:
    """The excluded trained observations: by unit code (no untreated observation) and by period position
    0..T-1 (no untreated observation in the period), with their numbers."""
    rows: list[tuple[str, object, str]] = []
    for code in np.flatnonzero(unit_counts):
        reason = ("no untreated observation (trained from its first observed period): no unit effect "
                  f"to impute from, so its {_fmt(int(unit_counts[code]))} trained observations are left out")
        rows.append(("unit", unit_ids[code], reason))
    for p in np.flatnonzero(period_counts):
        rows.append(("period", periods[int(p)],
                     f"no untreated observation in this period: no period effect to impute from, so its "
                     f"{_fmt(int(period_counts[p]))} trained observations are left out"))
    return excluded_frame(rows)


def singular(M: np.ndarray) -> bool:
    """Whether Test 1's regressors are collinear with the two-way effects (e.g. leads without never-trained
    employees): a condition number past 1e9 rather than rank at machine precision, which rounding decides."""
    s = np.linalg.svd(M, compute_uv=False)
    return not s[-1] > 1e-9 * s[0]


def lead_table(lead_times: list[int], beta: np.ndarray, V: np.ndarray, n_lead: np.ndarray, G: int) -> Lead:
    """Test 1's coefficients and their joint test from the lead coefficients and their covariance."""
    leads = pd.DataFrame({"event_time": np.array(lead_times, dtype=np.int64), "estimate": beta,
                          "std_error": np.sqrt(np.maximum(np.diag(V), 0.0)),
                          "n_obs": n_lead.astype(np.int64)})
    test = wald_test(beta, V, lead_times, df_denom=float(G - 1),
                     hypothesis=("no effect before training: untreated outcomes show no departure at the "
                                 f"event times {lead_times[0]}..{lead_times[-1]} (Test 1)"))
    return leads, test


# ------------------------------------------------------------------------------------------ the grid
def _sum_by(codes: np.ndarray, M: np.ndarray, n_groups: int) -> np.ndarray:
    """Column sums of ``M`` (rows × columns) within groups: groups × columns."""
    if not M.shape[1]:
        return np.zeros((n_groups, 0))
    return np.column_stack([np.bincount(codes, weights=M[:, j], minlength=n_groups)
                            for j in range(M.shape[1])])


def grid_fit(panel: Any, a: int) -> Fit | None:
    """The imputation fit without covariates on the units × periods grid; ``None`` when the grid does not
    apply (more than ``GRID_FILL`` cells per observation, or clusters that cut across units)."""
    long = panel._long  # read only
    n, T = len(long), panel.n_periods
    n_bal = balanced_units(long, T)
    codes: np.ndarray | None = None
    if n_bal is not None:
        U = n_bal
        first = np.arange(0, n, T)
        unit_ids: Any = long["unit"].to_numpy()[first]
    else:
        codes, unit_ids = unit_codes(long["unit"])
        U = len(unit_ids)
        if U * T > GRID_FILL * n:
            return None
        first = np.flatnonzero(np.diff(codes, prepend=-1))
    gp = long["cohort_period"].to_numpy()
    gu = gp[first].astype(np.int64)
    order = np.argsort(gu, kind="stable")  # units by cohort: each cohort a block of rows
    gs = gu[order]
    starts = np.flatnonzero(np.diff(gs, prepend=-1))
    blocks = [(int(gs[s]), int(s), int(e)) for s, e in zip(starts, np.append(starts[1:], U), strict=True)]
    rows = {lo: hi for _, lo, hi in blocks}  # block start -> end
    y = long["outcome"].to_numpy(dtype="float64")
    obs: np.ndarray | None = None
    pos: np.ndarray | None = None
    if codes is None:
        Y = np.take(y.reshape(U, T), order, axis=0)
    else:
        rank = np.empty(U, dtype=np.int64)
        rank[order] = np.arange(U)
        pos = rank[codes] * T + (long["period"].to_numpy() - 1)
        Y = np.zeros(U * T)
        Y[pos] = y
        Y = Y.reshape(U, T)
        obs = np.zeros(U * T, dtype=bool)
        obs[pos] = True
        obs = obs.reshape(U, T)

    # untreated cells and the training window (event time >= -a): a column range of each cohort's block
    M0 = np.ones((U, T), dtype=bool) if obs is None else obs.copy()
    win = np.zeros((U, T), dtype=bool)
    for g, lo, hi in blocks:
        if g > 0:
            b = max(0, g - 1 - a)
            M0[lo:hi, b:] = False
            win[lo:hi, b:] = True if obs is None else obs[lo:hi, b:]
    need(bool(win.any()), bool(M0.any()))
    has_u = np.asarray(M0.any(axis=1))
    has_t = np.asarray(M0.any(axis=0))
    kept = win & has_u[:, None] & has_t
    no_u = np.zeros(U, dtype=np.int64)
    no_u[order[~has_u]] = win[~has_u].sum(axis=1)
    no_t = np.zeros(T, dtype=np.int64)
    no_t[~has_t] = win[:, ~has_t][has_u].sum(axis=0)
    excluded = ledger(unit_ids, no_u, panel.periods, no_t)
    need_imputable(any(bool(kept[lo:hi, g - 1:].any()) for g, lo, hi in blocks if 0 < g <= T))
    n_left = int(win.sum() - kept.sum())
    del win
    tsel = np.flatnonzero(has_t)
    if len(tsel) < T:
        Y, M0, kept = Y[:, tsel], M0[:, tsel], kept[:, tsel]
    per = tsel + 1  # period positions of the grid's columns
    Tp = len(tsel)

    clusters = int(has_u.sum())
    cu: np.ndarray | None = None
    if panel.cluster is not None:
        cc = pd.factorize(long["cluster"].to_numpy(), sort=False)[0]
        if pos is None:
            C = cc.reshape(U, T)[order]
        else:
            C = np.full(U * T, -1, dtype=np.int64)
            C[pos] = cc
            C = C.reshape(U, T)
        if len(tsel) < T:
            C = C[:, tsel]
        used: np.ndarray = M0 | kept
        cu = C[np.arange(U), used.argmax(axis=1)]
        if not bool(((C == cu[:, None]) | ~used).all()):
            return None  # clusters cut across units: the row-wise computation
        del C, used
        seen, inverse = np.unique(cu[has_u], return_inverse=True)
        clusters = len(seen)
        cu = np.zeros(U, dtype=np.int64)  # units outside the fit add zeros
        cu[has_u] = inverse

    # the two-way fit on the untreated cells: the unit block eliminated (Schur complement on the periods)
    cnt_u = M0.sum(axis=1)
    inv_u = np.divide(1.0, cnt_u, out=np.zeros(U), where=cnt_u > 0)
    E0 = np.where(M0, Y, 0.0)
    b_u, b_t = E0.sum(axis=1), E0.sum(axis=0)
    Mf = M0.astype("float64")
    # per block, N'D^-1 N and N'D^-1 K (N, K: the untreated and imputed cells, D: untreated cells per unit)
    P: dict[int, np.ndarray] = {}
    PK: dict[int, np.ndarray] = {}
    ndb = np.zeros(Tp)  # N'D^-1 b_u
    for g, lo, hi in blocks:
        DM = Mf[lo:hi] * inv_u[lo:hi, None]
        P[lo] = _tmm(DM, Mf[lo:hi])
        ndb += _tmm(DM, b_u[lo:hi])
        if g > 0:
            PK[lo] = _tmm(DM, kept[lo:hi].astype("float64"))
    del DM
    factor = cho((np.diag(M0.sum(axis=0)) - sum(P.values()))[1:, 1:])

    def periods_of(rhs: np.ndarray) -> np.ndarray:
        """Period effects (first at 0) for period right-hand sides already net of the unit block."""
        return np.vstack([np.zeros((1, rhs.shape[1])), scipy.linalg.cho_solve(factor, rhs[1:])])

    def unit_sums(v: np.ndarray, lo: int = 0, hi: int = U) -> np.ndarray:
        """``M0 @ v``: sums of a period vector over each unit's untreated cells."""
        return _mm(Mf[lo:hi], v, np.empty(hi - lo))

    gam = periods_of((b_t - ndb)[:, None])[:, 0]
    alpha = inv_u * (b_u - unit_sums(gam))
    E = Y  # the outcomes are not needed past this point: residuals in their place
    E -= alpha[:, None]
    E -= gam
    np.multiply(E, Mf, out=E0)  # residuals of the fit on its cells

    # cohort × event-time cells of the imputed effects
    treated = [(g, lo, hi) for g, lo, hi in blocks if g > 0]
    cells: dict[int, tuple[np.ndarray, np.ndarray]] = {}  # block -> (grid columns, cell numbers)
    cg, ce, cn, cs = [], [], [], []
    n_cells = 0
    for g, lo, hi in treated:
        kb = kept[lo:hi]
        n_ct = kb.sum(axis=0)
        js = np.flatnonzero(n_ct)
        if not len(js):
            continue
        s_ct = np.where(kb, E[lo:hi], 0.0).sum(axis=0)
        cells[lo] = (js, np.arange(n_cells, n_cells + len(js)))
        n_cells += len(js)
        cg.append(np.full(len(js), g))
        ce.append(per[js] - g)
        cn.append(n_ct[js].astype("float64"))
        cs.append(s_ct[js])
    cell_n = np.concatenate(cn)
    cell_mean = np.concatenate(cs) / cell_n

    def by_cluster(pieces: Callable[[int, int, int], tuple[np.ndarray, np.ndarray]], k: int) -> np.ndarray:
        """``Psi'Psi`` where each block's rows of ``Psi`` (one per unit) are ``Q @ Z`` for the block's
        ``(Q, Z)``, cells by columns: summed by cluster first, or, by unit, through the cross product
        ``Q'Q`` of the block (columns the periods) so that ``Psi`` is never formed."""
        acc = np.zeros((k, k) if cu is None else (clusters, k))
        for g, lo, hi in blocks:
            Q, Z = pieces(g, lo, hi)
            if cu is None:
                acc += Z.T @ _tmm(Q, Q) @ Z
            else:
                acc += _sum_by(cu[lo:hi], Q, clusters) @ Z
        return acc if cu is None else _tmm(acc, acc)

    def vcov(W: np.ndarray, fitted: np.ndarray | None = None) -> np.ndarray:
        K = W.shape[1]
        Wc: dict[int, np.ndarray] = {}
        r = np.zeros((Tp, K))  # A_1'w on the periods, net of the unit block
        for lo, (js, ids) in cells.items():
            w = np.zeros((Tp, K))
            w[js] = W[ids]
            Wc[lo] = w
            r += kept[lo:rows[lo]].sum(axis=0)[:, None] * w - PK[lo] @ w
        z_t = periods_of(r)

        def psi(g: int, lo: int, hi: int) -> tuple[np.ndarray, np.ndarray]:
            # untreated cells carry -z_t, imputed ones their targets' weights less their cell's mean
            if lo not in Wc:
                return E0[lo:hi], -z_t
            js, ids = cells[lo]
            mean = np.bincount(js, weights=cell_mean[ids], minlength=Tp)
            Q = np.where(kept[lo:hi], E[lo:hi] - mean, E0[lo:hi])
            Z = np.where((per >= g - a)[:, None], Wc[lo], -z_t)
            if fitted is None:
                return Q, Z
            # trained cells' residuals about ``fitted`` rather than their mean: the difference per column
            shift = np.zeros((Tp, K))
            shift[js] = (cell_mean[ids][:, None] - fitted[ids]) * W[ids]
            return np.hstack([Q, kept[lo:hi].astype("float64")]), np.vstack([Z, shift])

        return by_cluster(psi, K)

    def test_one() -> Lead:
        n0 = {lo: M0[lo:hi].sum(axis=0) for _, lo, hi in treated}
        pre = {lo: (np.flatnonzero(n0[lo]), g, hi) for g, lo, hi in treated}
        lead_times = sorted({int(e) for lo, (js, g, _) in pre.items() for e in per[js] - g} - {-1 - a})
        if not lead_times:
            return None, None
        k = len(lead_times)
        idx = {h: i for i, h in enumerate(lead_times)}
        L: dict[int, np.ndarray] = {}  # per block: 1 where a column is a lead
        mdz, zdz, zt = np.zeros((Tp, k)), np.zeros((k, k)), np.zeros((Tp, k))
        n_lead, zy = np.zeros(k), np.zeros(k)
        for lo, (js, g, hi) in pre.items():
            js = js[per[js] - g != -1 - a]
            if not len(js):
                continue
            hs = np.array([idx[int(e)] for e in per[js] - g])
            L[lo] = np.zeros((Tp, k))
            L[lo][js, hs] = 1.0
            mdz[:, hs] += P[lo][:, js]
            zdz[np.ix_(hs, hs)] += P[lo][np.ix_(js, js)]
            zt[js, hs] += n0[lo][js]
            n_lead[hs] += n0[lo][js]
            zy[hs] += E0[lo:hi].sum(axis=0)[js]
        g_z = periods_of(zt - mdz)
        bread_inv = np.diag(n_lead) - (zdz - mdz.T @ g_z) - zt.T @ g_z
        if singular(bread_inv):
            return None, None
        bread = np.linalg.inv(bread_inv)
        beta = bread @ zy
        gb = g_z @ beta

        def scores(g: int, lo: int, hi: int) -> tuple[np.ndarray, np.ndarray]:
            lead = L.get(lo, np.zeros((Tp, k)))
            zb = lead @ beta  # each column's lead coefficient
            ab = inv_u[lo:hi] * unit_sums(zb - gb, lo, hi)
            return (E0[lo:hi] + ab[:, None] + (gb - zb)) * Mf[lo:hi], lead - g_z

        G, m0 = clusters, int(M0.sum())
        big_k = k + Tp  # unit effects nested in the clusters count as one, as fixest and twfe() count them
        if G < 2 or m0 - big_k <= 0:
            return None, None
        adj = G / (G - 1) * (m0 - 1) / (m0 - big_k)
        V = adj * bread @ by_cluster(scores, k) @ bread
        return lead_table(lead_times, beta, V, n_lead, G)

    cohort_values = long["cohort"].to_numpy()[first]
    return Fit(cell_g=np.concatenate(cg), cell_e=np.concatenate(ce), cell_n=cell_n,
               cell_sum=np.concatenate(cs), n_units=int(has_u.sum()), n_obs=int(M0.sum() + kept.sum()),
               n_left=n_left, clusters=clusters, excluded=excluded,
               label_of=cohort_labels(cohort_values, gu), vcov=vcov, test_one=test_one)
