"""The interaction-weighted event study of Sun & Abraham (2021, *Journal of Econometrics* 225(2)):
cohort × event-time effects from one regression, averaged with the cohorts' shares, with a variance that
includes the sampling variance of the shares; the headline is fixest's ATT (every post-training cell weighted
by its observations); a closed-form route for balanced panels without covariates. The estimator and its
variance: docs/explanation.md, "Event studies".
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Literal

import numpy as np
import pandas as pd

from impactlab.errors import EstimationError, check_option
from impactlab.estimators._blocked import _mm, _tmm
from impactlab.estimators._common import check_panel, period_freq, resolve_covariates
from impactlab.estimators._eventtime import (
    ES_VCOV,
    EventStudyResult,
    check_window,
    check_window_in_data,
    drop_first_period_cohorts,
    event_indicator,
    ledger,
    n_clusters_check,
    outside_window_note,
    post_mean,
    wald_test,
    within_fit,
)
from impactlab.estimators.inference import balanced_units, demean
from impactlab.panel import Panel
from impactlab.results.base import _fmt

__all__ = ["sun_abraham"]

Control = Literal["never_treated", "last_treated"]


def sun_abraham(panel: Panel, window: tuple[int, int] | None = None, ref: int = -1, *,
                control: Control = "never_treated", vcov: str = "cluster", bin_endpoints: bool = False,
                covariates: Sequence[str] | None = None, share_variance: bool = True) -> EventStudyResult:
    """Interaction-weighted event study of Sun & Abraham (2021).

    Parameters
    ----------
    panel : Panel
        The employee × period panel; it is not modified.
    window : (int, int), optional
        Event times ``lo..hi`` that get cohort-specific coefficients (except ``ref``); event times
        outside fall into the baseline (or into the binned end points). ``None`` (default): every event
        time in the data, the saturated specification of the paper.
    ref : int
        Reference event time (default: the period before training). Sun & Abraham need at least one
        excluded pre-treatment event time; ``ref`` is it.
    control : {"never_treated", "last_treated"}
        Comparison units: never-treated units, or the last-treated cohort (with never-treated units, if
        any), in which case periods from that cohort's first treated period on are dropped (listed in
        ``.excluded``).
    vcov : {"cluster", "robust", "iid"}
        Variance of the cohort × event-time coefficients: CR1 by the panel's cluster (t inference with
        ``G - 1`` degrees of freedom; the fixest / pyfixest convention), HC1, or classical.
    bin_endpoints : bool
        Make each cohort's first and last dummies cover every event time beyond them.
    covariates : sequence of str, optional
        Time-varying panel covariates added to the regression.
    share_variance : bool
        Include the sampling variance of the cohort shares (Prop. 6) in the standard errors of the IW
        coefficients and of the ATT. ``False`` treats them as fixed (the fixest / pyfixest aggregation).

    Returns
    -------
    EventStudyResult
        ``estimate`` (term ``"ATT"``): the average effect over the trained observations at event times
        ``0..hi``, i.e. the cohort × event-time CATTs of those event times weighted by their number of
        observations, which is fixest's ``aggregate(res, agg = "ATT")``; its standard error is the delta
        method with the covariance of the cells (plus the variance of the weights unless
        ``share_variance=False``, which gives fixest's). ``event_time_mean``: the mean of the IW
        coefficients at event times ``0..hi``, each event time weighted equally (a different quantity: the
        late event times, observed for fewer cohorts, weigh as much as the early ones). ``elements``: the
        IW coefficient per event time; ``cells``: the cohort × event-time CATTs and ``cell_vcov``;
        ``shares``: the weight of each cohort at each event time with its standard error; ``pretrend``:
        joint F test of the pre-treatment IW coefficients; ``excluded``: units and periods left out.

    Raises
    ------
    EstimationError
        No never-treated unit with ``control="never_treated"`` (use ``"last_treated"``); a single treated
        cohort with ``control="last_treated"``; a window wider than the data; one cluster.

    Warns
    -----
    StatisticalWarning
        Units treated from the first observed period are left out (no pre-treatment period).

    Notes
    -----
    The share of cohort ``g`` at event time ``e`` is the number of its observations at ``e`` over the
    number of treated observations at ``e`` (in a balanced panel: the cohort's share of units among the
    cohorts observed ``e`` periods after treatment), as in fixest's ``sunab`` and diff-diff.

    Examples
    --------
    Two waves with constant effects, 2 for the first and 4 for the second: each event time averages the
    waves observed there.

    >>> import numpy as np
    >>> from impactlab.datasets import example_panel
    >>> res = sun_abraham(example_panel(lambda cohort, event_time: np.where(cohort == 3, 2.0, 4.0)))
    >>> res.elements["event_time"].tolist()
    [-4, -3, -2, 0, 1, 2, 3]
    >>> (res.elements["estimate"].round(6) + 0.0).tolist()
    [0.0, 0.0, 0.0, 3.0, 3.0, 2.0, 2.0]

    The ATT weights the six post-training cells by their observations (four of them are the first wave's,
    at effect 2); the mean of the four event-time effects weighs each event time equally.

    >>> round(res.estimate, 6), round(res.event_time_mean.estimate, 6)
    (2.666667, 2.5)
    """
    return _sun_abraham(panel, window, ref, control, vcov, bin_endpoints, covariates, share_variance)


def _sun_abraham(panel: Panel, window: tuple[int, int] | None, ref: int, control: Control, vcov: str,
                 bin_endpoints: bool, covariates: Sequence[str] | None,
                 share_variance: bool) -> EventStudyResult:
    """:func:`sun_abraham`, called by it and by :func:`impactlab.event_study` (its warnings name the caller
    of either: both are two frames above)."""
    panel = check_panel(panel, "sun_abraham")
    check_option("control", control, ("never_treated", "last_treated"))
    check_option("vcov", vcov, ES_VCOV)
    if not isinstance(share_variance, bool):
        raise ValueError(f"sun_abraham: the 'share_variance' parameter must be True or False. "
                         f"Got {share_variance!r} instead.")
    if window is not None:
        check_window(window, ref, bin_endpoints, "sun_abraham")
    covs = resolve_covariates(panel, covariates)
    rows: list[tuple[str, Any, str]] = []
    # the panel's own frame, read only (a copy would double the memory at a million units)
    long = drop_first_period_cohorts(panel._long, panel.periods, "sun_abraham", rows, stacklevel=4)
    g = long["cohort_period"].to_numpy()
    if not (g > 0).any():
        raise EstimationError("sun_abraham: no unit is treated within the data; there is no effect to "
                              "estimate. Check the cohort column of the panel.")
    long, g, is_control = _comparison(long, g, control, panel.periods, rows)
    n_clusters_check(long, vcov, "sun_abraham")
    treated = ~is_control
    e = np.where(treated, long["period"].to_numpy() - g, 0)
    e_min, e_max = int(e[treated].min()), int(e[treated].max())
    if window is None:
        if not e_min <= ref <= e_max:
            raise ValueError(f"sun_abraham: ref={ref} is not an event time of the data ({e_min} to {e_max}). "
                             "Pass ref= within that range.")
        lo, hi = e_min, e_max
        ref = int(ref)
    else:
        lo, hi, ref = check_window(window, ref, bin_endpoints, "sun_abraham")
        check_window_in_data(lo, hi, e_min, e_max, "sun_abraham")

    # --- cohort × event-time cells present in the data
    cohorts = np.unique(g[treated])
    ks = [k for k in range(lo, hi + 1) if k != ref]
    periods = panel.periods
    fast = None if covs else _balanced_fit(long, g, cohorts, ks, lo, hi, bin_endpoints, vcov)
    if fast is not None:
        return _finish(panel, long, fast, e, treated, lo, hi, ref, control, vcov, bin_endpoints, covs,
                       share_variance, rows)
    cols, cell_g, cell_k = [], [], []
    for c in cohorts:
        in_c = treated & (g == c)
        for k in ks:
            ind = in_c & event_indicator(e, k, lo, hi, bin_endpoints)
            if ind.any():
                cols.append(ind)
                cell_g.append(int(c))
                cell_k.append(k)
    D = np.column_stack(cols).astype("float64")
    del cols
    cov_x = [long[c].to_numpy(dtype="float64") for c in covs]
    X = np.column_stack([D, *cov_x]) if cov_x else D
    names = [f"cohort={periods[c - 1]!r}, event_time={k}" for c, k in zip(cell_g, cell_k, strict=True)]
    fit = within_fit(long, X, names + list(covs), vcov)
    m = D.shape[1]
    codes, G = _groups(long, vcov)
    n_cell_c = np.column_stack([np.bincount(codes, weights=D[:, j], minlength=G) for j in range(m)])
    s_ss = s_sn = bread = None
    if vcov == "cluster" and share_variance:
        # regression scores on the same clusters, scaled so that their outer product gives fit.vcov
        Xd = demean(X, [long["unit"].to_numpy(), long["period"].to_numpy()])
        bread = np.linalg.inv(Xd.T @ Xd)
        sc = np.column_stack([np.bincount(codes, weights=Xd[:, j] * fit.resid, minlength=G)
                              for j in range(X.shape[1])])
        del Xd
        s_ss, s_sn = sc.T @ sc, sc.T @ n_cell_c
    pieces = _Pieces(np.asarray(cell_g), np.asarray(cell_k), fit.params[:m], fit.vcov, fit.df, fit.n_obs,
                     D.sum(axis=0), n_cell_c.T @ n_cell_c, G, s_ss, s_sn, bread)
    return _finish(panel, long, pieces, e, treated, lo, hi, ref, control, vcov, bin_endpoints, covs,
                   share_variance, rows)


@dataclass(frozen=True)
class _Pieces:
    """What the interaction weighting needs from the cohort × event-time regression."""

    cell_g: np.ndarray
    cell_k: np.ndarray
    delta: np.ndarray
    vcov: np.ndarray  # of every regressor (cells first)
    df: float
    n_obs: int
    n_cell: np.ndarray  # observations per cell
    #: Σ_c n_c n_c' of the observations per cell n_c in each variance group c (cluster, or unit)
    s_nn: np.ndarray
    n_groups: int
    #: Σ_c s_c s_c' and Σ_c s_c n_c' of the per-cluster scores s_c of the regressors (cluster + share
    #: variance only)
    s_ss: np.ndarray | None
    s_sn: np.ndarray | None
    bread: np.ndarray | None  # (X'X)^-1 of the within-transformed regressors


def _groups(long: pd.DataFrame, vcov: str) -> tuple[np.ndarray, int]:
    """Codes of the variance groups: clusters for ``vcov="cluster"``, otherwise units (shares are
    unit-level proportions: their sampling unit is the employee)."""
    codes, uniq = pd.factorize(long["cluster"] if vcov == "cluster" else long["unit"])
    return codes, len(uniq)


def _finish(panel: Panel, long: pd.DataFrame, pc: _Pieces, e: np.ndarray, treated: np.ndarray, lo: int,
            hi: int, ref: int, control: str, vcov: str, bin_endpoints: bool, covs: list[str],
            share_variance: bool, rows: list[tuple[str, Any, str]]) -> EventStudyResult:
    periods = panel.periods
    cell_g, cell_k_arr, delta, n_cell = pc.cell_g, pc.cell_k, pc.delta, pc.n_cell
    m = len(delta)
    Vd = pc.vcov[:m, :m]

    # --- interaction weights: share of each cohort among the treated observations at each event time
    ev = np.asarray(sorted(set(cell_k_arr.tolist())), dtype="int64")
    W = np.zeros((len(ev), m))
    for i, k in enumerate(ev):
        at = cell_k_arr == k
        W[i, at] = n_cell[at] / n_cell[at].sum()
    nu = W @ delta

    # --- variance: per-cluster scores of delta (regression) and of the shares
    V_fixed = W @ Vd @ W.T
    V, share_se = _iw_variance(pc, W, np.searchsorted(ev, cell_k_arr), vcov, share_variance)
    V.setflags(write=False)
    Vd = np.array(Vd)
    Vd.setflags(write=False)
    overall, se = _att(pc, vcov, share_variance)
    pre = ev < 0
    pretrend = wald_test(nu[pre], V[np.ix_(pre, pre)], ev[pre].tolist(), df_denom=pc.df)
    cohort_values = [periods[c - 1] for c in cell_g]
    cells = pd.DataFrame({"cohort": cohort_values, "event_time": cell_k_arr, "estimate": delta,
                          "std_error": np.sqrt(np.diag(Vd)), "n_obs": n_cell.astype("int64")})
    iw = np.nonzero(W.T)  # (cell, event time) pairs with a weight
    shares = pd.DataFrame({"event_time": ev[iw[1]], "cohort": [cohort_values[j] for j in iw[0]],
                           "share": W.T[iw], "std_error": share_se.T[iw]})
    shares = shares.sort_values(["event_time", "cohort"], kind="mergesort").reset_index(drop=True)
    elements = pd.DataFrame({"term": [_term(int(k), lo, hi, bin_endpoints) for k in ev], "event_time": ev,
                             "estimate": nu, "std_error": np.sqrt(np.diag(V))})
    notes = outside_window_note(e[treated], lo, hi, bin_endpoints)
    if not share_variance:
        notes.append("cohort shares treated as known (share_variance=False), as fixest/pyfixest do")
    if control == "last_treated":
        notes.append("comparison: the last-treated cohort before its treatment (and never-treated units)")
    mean, mean_se = post_mean(ev, nu, V)
    notes.insert(0, f"the headline ATT weights each cohort × event-time cell of event times 0..{hi} by its "
                    f"observations (fixest's ATT); the mean of the event-time effects, each event time "
                    f"weighted equally, is {_fmt(mean)} (SE {_fmt(mean_se)}), in .event_time_mean")
    return EventStudyResult(
        estimate=overall, std_error=se, term="ATT",
        method="sun_abraham", label="Event study (Sun & Abraham)", outcome=panel.outcome, n_obs=pc.n_obs,
        n_units=int(long["unit"].nunique()), df=pc.df, elements=elements, element_vcov=V,
        excluded=ledger(rows), pretrend=pretrend, cells=cells, cell_vcov=Vd, shares=shares,
        notes=tuple(notes),
        spec={"estimator": "sun_abraham", "window": (lo, hi), "ref": ref, "control": control, "vcov": vcov,
              "bin_endpoints": bin_endpoints, "covariates": covs, "share_variance": share_variance,
              "variance_fixed_shares": V_fixed, "freq": period_freq(panel)},
    )


def _term(k: int, lo: int, hi: int, bin_endpoints: bool) -> str:
    if bin_endpoints and k in (lo, hi):
        return f"event_time{'<=' if k == lo else '>='}{k}"
    return f"event_time={k}"


def _comparison(long: pd.DataFrame, g: np.ndarray, control: str, periods: Sequence[Any],
                rows: list[tuple[str, Any, str]]) -> tuple[pd.DataFrame, np.ndarray, np.ndarray]:
    """Restrict the sample to the comparison asked for; return it, its cohorts and the control flag."""
    never = g == 0
    if control == "never_treated":
        if not never.any():
            raise EstimationError(
                "sun_abraham: there are no never-treated units to compare with (everyone is trained within "
                "the data). Use control='last_treated' (the last wave, before it is trained, is the "
                "comparison).")
        return long, g, never
    last = int(g.max())
    if len(np.unique(g[g > 0])) < 2:
        raise EstimationError(
            "sun_abraham: control='last_treated' needs at least two treated cohorts (the last one is the "
            "comparison); the data have one. Add never-treated units and use control='never_treated'.")
    late = long["period"].to_numpy() >= last
    for t in range(last, len(periods) + 1):
        rows.append(("period", periods[t - 1],
                     "on or after the last cohort's treatment: no comparison unit left "
                     "(control='last_treated')"))
    keep = ~late
    long = long.loc[keep].reset_index(drop=True)
    g = g[keep]
    return long, g, (g == 0) | (g == last)


def _att(pc: _Pieces, vcov: str, share_variance: bool) -> tuple[float, float]:
    """fixest's ATT and its standard error: the post-training cells (event time >= 0) weighted by their
    observations, the variance by the delta method with the cells' covariance (``w' V w``, as fixest's
    ``aggregate``), plus the variance of the weights when ``share_variance`` (the weights are a share of
    observations, as the IW shares are, over one group of cells instead of one event time)."""
    post = pc.cell_k >= 0
    if not post.any():
        return float("nan"), float("nan")
    group = np.where(post, 0, 1)
    W = np.zeros((2, len(pc.delta)))
    for i, cells in enumerate((post, ~post)):
        if cells.any():
            W[i, cells] = pc.n_cell[cells] / pc.n_cell[cells].sum()
    V, _ = _iw_variance(pc, W, group, vcov, share_variance)
    return float(W[0] @ pc.delta), float(np.sqrt(max(V[0, 0], 0.0)))


def _iw_variance(pc: _Pieces, W: np.ndarray, e_of: np.ndarray, vcov: str, share_variance: bool,
                 ) -> tuple[np.ndarray, np.ndarray]:
    """Covariance of the IW coefficients and the standard errors of the shares (same shape as ``W``).

    Row ``i`` of ``W`` averages the cells ``j`` with ``e_of[j] == i`` (one event time; or, for the ATT,
    every post-training cell) with weights proportional to their observations.

    Every per-cluster quantity is linear in the cluster's cell counts ``n_c`` or regression scores
    ``s_c``: the share scores ``w_hat - w ≈ Σ_c (n_{g,e,c} - w n_{e,c}) / n_e = Σ_c M' n_c``, so the sums of
    their squares and cross-products come from the Gram matrices of ``n_c`` and ``s_c`` (no clusters ×
    cells array).
    """
    m = len(pc.delta)
    V_fixed = W @ pc.vcov[:m, :m] @ W.T
    G = pc.n_groups
    cells = np.arange(m)
    same_e = (e_of[:, None] == e_of[None, :]).astype("float64")
    n_e = same_e @ pc.n_cell
    M = (np.eye(m) - same_e * W[e_of, cells][None, :]) / n_e[None, :]
    g_adj = G / (G - 1) if G > 1 else np.nan
    share_se = np.zeros_like(W)
    share_se[e_of, cells] = np.sqrt(np.maximum(g_adj * np.einsum("ij,ik,kj->j", M, pc.s_nn, M), 0.0))
    if not share_variance:
        return np.array(V_fixed), share_se
    onehot = np.zeros((m, W.shape[0]))
    onehot[cells, e_of] = 1.0
    Bm = M @ (pc.delta[:, None] * onehot)  # b_c = Bm' n_c: delta' (w_hat - w) per cluster
    bb = Bm.T @ pc.s_nn @ Bm
    if vcov == "cluster":
        assert pc.s_ss is not None and pc.s_sn is not None and pc.bread is not None  # noqa: S101
        Am = pc.bread[:, :m] @ W.T  # a_c = Am' s_c
        aa, ab = Am.T @ pc.s_ss @ Am, Am.T @ pc.s_sn @ Bm
        # the CR1 factor G/(G-1)(N-1)/(N-K) of the fit, recovered from its covariance
        scale = float(np.trace(pc.vcov[:m, :m]) / np.trace((pc.bread @ pc.s_ss @ pc.bread)[:m, :m]))
        V = scale * aa + g_adj * bb + np.sqrt(scale * g_adj) * (ab + ab.T)
        return V, share_se
    # robust / iid errors are not clustered on units: shares enter as an independent term
    return np.array(V_fixed) + g_adj * bb, share_se


def _balanced_fit(long: pd.DataFrame, g: np.ndarray, cohorts: np.ndarray, ks: list[int], lo: int, hi: int,
                  bin_endpoints: bool, vcov: str, chunk: int = 100_000) -> _Pieces | None:
    """The cohort × event-time regression of a balanced panel without covariates, in closed form.

    In a balanced units × periods grid, the two-way within transformation of the indicator of cohort ``g``
    at the periods ``S`` of a cell is separable: ``(1{G_i = g} − π_g)(1{t ∈ S} − |S|/T)``, with ``π_g``
    the cohort's share of units (demeaning a product of a unit and a period function by unit and by
    period; Wooldridge 2010, §10.5). So ``X'X``, ``X'y``, the residuals and the per-cluster scores follow
    from cohort × period sums and one units × cells product per chunk of units: memory proportional to the
    data, no observations × cells matrix. Returns ``None`` (the general route is taken) when the panel is
    not balanced, the clusters are not nested in units, or the design is rank deficient (the general route
    names the culprit columns).
    """
    T = int(long["period"].max()) if len(long) else 0
    N = balanced_units(long, T)
    if N is None:
        return None
    cl_codes = None
    if vcov == "cluster":
        cl = pd.factorize(long["cluster"])[0].reshape(N, T)
        if not (cl == cl[:, :1]).all():
            return None
        cl_codes = cl[:, 0].copy()
        del cl
    gu = g.reshape(N, T)[:, 0]
    hs, hcode = np.unique(gu, return_inverse=True)
    n_h = np.bincount(hcode, minlength=len(hs)).astype("float64")
    t = np.arange(1, T + 1)
    cell_g, cell_k, masks = [], [], []
    for c in cohorts:
        for k in ks:
            mask = event_indicator(t - int(c), k, lo, hi, bin_endpoints)
            if mask.any():
                cell_g.append(int(c))
                cell_k.append(k)
                masks.append(mask)
    m = len(cell_g)
    h_of = np.searchsorted(hs, cell_g)
    size = np.array([mk.sum() for mk in masks], dtype="float64")
    B = np.column_stack(masks).astype("float64") - size / T  # (T, m): period part
    A = (np.arange(len(hs))[:, None] == h_of[None, :]) - (n_h / N)[h_of][None, :]  # (H, m): cohort part
    gram = (A.T @ (n_h[:, None] * A)) * (B.T @ B)
    d = np.sqrt(np.diag(gram))
    n = N * T
    if not (d > 0).all():
        return None
    lam = np.linalg.eigvalsh(gram / np.outer(d, d))
    if np.sqrt(max(lam.min(), 0.0)) <= 1e-9 * max(n, m):  # the rank rule of check_full_rank
        return None
    Y = long["outcome"].to_numpy(dtype="float64").reshape(N, T)
    R = Y - Y.mean(axis=1, keepdims=True)
    R -= R.mean(axis=0, keepdims=True)
    sy = np.column_stack([np.bincount(hcode, weights=R[:, j], minlength=len(hs)) for j in range(T)])
    bread = np.linalg.inv(gram)
    params = bread @ (A * (sy @ B)).sum(axis=0)
    R -= ((A * params) @ B.T)[hcode]  # residuals, in place
    nested = vcov == "cluster"
    K = m + (T if nested else N + T - 1)
    if n - K <= 0:
        return None
    s_ss = s_sn = None
    if vcov == "iid":
        cov = float(np.einsum("ij,ij->", R, R)) / (n - K) * bread
        df = float(n - K)
        groups, G = np.arange(N), N
    elif vcov == "robust":
        q = np.column_stack([np.bincount(hcode, weights=R[:, j] ** 2, minlength=len(hs)) for j in range(T)])
        v = (A[:, None, :] * B[None, :, :]).reshape(-1, m)
        meat = v.T @ (q.reshape(-1, 1) * v)
        cov = n / (n - K) * bread @ meat @ bread
        df = float(n - K)
        groups, G = np.arange(N), N
    else:
        assert cl_codes is not None  # noqa: S101 - set for vcov="cluster"
        G = int(cl_codes.max()) + 1
        U = _mm(R, B, np.empty((N, m)))  # unit scores, in row blocks (no units × cells temporaries)
        for s0 in range(0, N, chunk):
            part = slice(s0, s0 + chunk)
            U[part] *= A[hcode[part]]
        if G == N:  # one unit per cluster: the unit scores are the cluster scores
            s_ss = _tmm(U, U)
            sc_by_cohort = np.column_stack([np.bincount(hcode, weights=U[:, j], minlength=len(hs))
                                            for j in range(m)])  # Σ_c s_c C_c' with C_c the unit's cohort
        else:
            order = np.argsort(cl_codes, kind="stable")
            starts = np.flatnonzero(np.r_[True, np.diff(cl_codes[order]) != 0])
            sc = np.add.reduceat(U[order], starts)
            del U
            s_ss = _tmm(sc, sc)
        cov = G / (G - 1) * (n - 1) / (n - K) * bread @ s_ss @ bread
        df = float(G - 1)
        groups = cl_codes
    # cell counts per variance group: the group's units of each cohort times the cell's periods
    # cell counts per variance group: n_c = P' C_c, the group's units per cohort C_c times each cell's
    # number of periods (P), so only Gram matrices of C are needed
    H = len(hs)
    counts = np.bincount(groups * H + hcode, minlength=G * H).reshape(G, H).astype("float64")
    P = np.zeros((H, m))
    P[h_of, np.arange(m)] = size
    if s_ss is not None:
        s_sn = (sc_by_cohort.T if G == N else sc.T @ counts) @ P
    return _Pieces(np.asarray(cell_g), np.asarray(cell_k), params, cov, df, n, n_h[h_of] * size,
                   P.T @ (counts.T @ counts) @ P, G, s_ss, s_sn, bread)
