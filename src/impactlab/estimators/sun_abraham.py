"""Sun & Abraham (2021) interaction-weighted event study.

The dynamic TWFE regression pools cohorts: each of its event-time coefficients is a weighted mix of the
cohorts' effects at that event time *and at other event times*, with weights that can be negative (Sun &
Abraham 2021, Prop. 3). The interaction-weighted (IW) estimator avoids this in three steps:

1. regress the outcome on unit and period effects and one dummy per treated cohort ``g`` and event time
   ``e`` in the window (except ``ref``), using only never-treated units — or the last-treated cohort,
   before it is treated — as the comparison; the coefficients ``delta_{g,e}`` are cohort-specific
   average treatment effects (CATT, eq. 7);
2. estimate the share ``w_{g,e}`` of each cohort among the treated observations at event time ``e``;
3. average: ``nu_e = sum_g w_{g,e} delta_{g,e}`` (eq. 9).

Its variance (Prop. 6) has a term for the regression coefficients and one for the estimated shares; both
come here from per-cluster scores, so their covariance is included: ``nu_e - nu ≈ w'(delta_hat - delta)
+ delta'(w_hat - w)``. ``share_variance=False`` drops the second term, treating the shares as known, which
is what fixest's and pyfixest's aggregations report.

Reference: Sun, L. and Abraham, S. (2021), "Estimating dynamic treatment effects in event studies with
heterogeneous treatment effects", *Journal of Econometrics* 225(2), 175–199.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, Literal

import numpy as np
import pandas as pd

from impactlab.errors import EstimationError, check_option
from impactlab.estimators._common import check_panel, resolve_covariates
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
from impactlab.estimators.inference import demean
from impactlab.panel import Panel

__all__ = ["sun_abraham"]

Control = Literal["never_treated", "last_treated"]


def sun_abraham(panel: Panel, window: tuple[int, int] | None = None, ref: int = -1, *,
                control: Control = "never_treated", vcov: str = "cluster", bin_endpoints: bool = False,
                covariates: Sequence[str] | None = None, share_variance: bool = True,
                _stacklevel: int = 3) -> EventStudyResult:
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
        Include the sampling variance of the cohort shares (Prop. 6). ``False`` treats them as fixed (the
        fixest / pyfixest aggregation).

    Returns
    -------
    EventStudyResult
        ``elements``: the IW coefficient per event time; ``cells``: the cohort × event-time CATTs and
        ``cell_vcov``; ``shares``: the weight of each cohort at each event time with its standard error;
        ``estimate``: the mean of the IW coefficients at event times ``0..hi``; ``pretrend``: joint F test
        of the pre-treatment IW coefficients; ``excluded``: units and periods left out.

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
    >>> import numpy as np, pandas as pd
    >>> from impactlab.panel.panel import Panel
    >>> unit, time = np.repeat(np.arange(30), 6), np.tile(np.arange(1, 7), 30)
    >>> g = np.repeat(np.select([np.arange(30) < 10, np.arange(30) < 20], [3, 5], 0), 6)
    >>> y = 0.1 * unit + 0.5 * time + np.where((g > 0) & (time >= g), np.where(g == 3, 2.0, 4.0), 0.0)
    >>> df = pd.DataFrame({"id": unit, "t": time, "y": y, "g": g})
    >>> res = sun_abraham(Panel.from_frame(df, unit="id", time="t", outcome="y", cohort="g"))
    >>> res.elements["event_time"].tolist()
    [-4, -3, -2, 0, 1, 2, 3]
    >>> (res.elements["estimate"].round(6) + 0.0).tolist()
    [0.0, 0.0, 0.0, 3.0, 3.0, 2.0, 2.0]
    """
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
    long = drop_first_period_cohorts(panel.long(), panel.periods, "sun_abraham", rows, stacklevel=_stacklevel)
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
    cov_x = [long[c].to_numpy(dtype="float64") for c in covs]
    X = np.column_stack([D, *cov_x]) if cov_x else D
    periods = panel.periods
    names = [f"cohort={periods[c - 1]!r}, event_time={k}" for c, k in zip(cell_g, cell_k, strict=True)]
    fit = within_fit(long, X, names + list(covs), vcov)
    m = D.shape[1]
    delta, Vd = fit.params[:m], fit.vcov[:m, :m]
    n_cell = D.sum(axis=0)

    # --- interaction weights: share of each cohort among the treated observations at each event time
    cell_k_arr = np.asarray(cell_k)
    ev = np.asarray(sorted(set(cell_k)), dtype="int64")
    W = np.zeros((len(ev), m))
    for i, k in enumerate(ev):
        at = cell_k_arr == k
        W[i, at] = n_cell[at] / n_cell[at].sum()
    nu = W @ delta

    # --- variance: per-cluster scores of delta (regression) and of the shares
    V_fixed = W @ Vd @ W.T
    V, share_se = _iw_variance(long, D, X, fit, W, delta, cell_k_arr, ev, vcov, share_variance)
    V.setflags(write=False)
    Vd = np.array(Vd)
    Vd.setflags(write=False)
    overall, se = post_mean(ev, nu, V)
    pre = ev < 0
    pretrend = wald_test(nu[pre], V[np.ix_(pre, pre)], ev[pre].tolist(), df_denom=fit.df)
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
    return EventStudyResult(
        estimate=overall, std_error=se, term=f"ATT(0..{hi})",
        method="sun_abraham", label="Event study (Sun & Abraham)", outcome=panel.outcome, n_obs=fit.n_obs,
        n_units=int(long["unit"].nunique()), df=fit.df, elements=elements, element_vcov=V,
        excluded=ledger(rows), pretrend=pretrend, cells=cells, cell_vcov=Vd, shares=shares,
        notes=tuple(notes),
        spec={"estimator": "sun_abraham", "window": (lo, hi), "ref": ref, "control": control, "vcov": vcov,
              "bin_endpoints": bin_endpoints, "covariates": covs, "share_variance": share_variance,
              "variance_fixed_shares": V_fixed},
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


def _iw_variance(long: pd.DataFrame, D: np.ndarray, X: np.ndarray, fit: Any, W: np.ndarray, delta: np.ndarray,
                 cell_k: np.ndarray, ev: np.ndarray, vcov: str, share_variance: bool,
                 ) -> tuple[np.ndarray, np.ndarray]:
    """Covariance of the IW coefficients and the standard errors of the shares (same shape as ``W``)."""
    m = D.shape[1]
    V_fixed = W @ fit.vcov[:m, :m] @ W.T
    if vcov == "cluster":
        groups = long["cluster"].to_numpy()
    else:  # shares are unit-level proportions: their sampling unit is the employee
        groups = long["unit"].to_numpy()
    codes, uniq = pd.factorize(groups)
    G = len(uniq)
    # share scores: w_hat - w ≈ sum_c (n_{g,e,c} - w n_{e,c}) / n_e
    n_cell_c = np.zeros((G, m))
    np.add.at(n_cell_c, codes, D)
    share_score = np.zeros((G, len(ev), m))
    for i, k in enumerate(ev):
        at = cell_k == k
        n_e_c = n_cell_c[:, at].sum(axis=1, keepdims=True)
        share_score[:, i, at] = (n_cell_c[:, at] - W[i, at] * n_e_c) / n_cell_c[:, at].sum()
    g_adj = G / (G - 1) if G > 1 else np.nan
    share_se = np.sqrt(g_adj * (share_score**2).sum(axis=0))
    if not share_variance:
        return np.array(V_fixed), share_se
    b = share_score @ delta  # (G, len(ev)): delta' (w_hat - w) per cluster
    if vcov == "cluster":
        # regression scores on the same clusters, scaled so that their outer product gives fit.vcov
        Xd = demean(X, [long["unit"].to_numpy(), long["period"].to_numpy()])
        bread = np.linalg.inv(Xd.T @ Xd)
        sc = np.zeros((G, X.shape[1]))
        np.add.at(sc, codes, Xd * fit.resid[:, None])
        a = sc @ bread[:, :m] @ W.T  # (G, len(ev))
        meat = sc.T @ sc
        # the CR1 factor G/(G-1)(N-1)/(N-K) of the fit, recovered from its covariance
        scale = float(np.trace(fit.vcov[:m, :m]) / np.trace((bread @ meat @ bread)[:m, :m]))
        V = scale * (a.T @ a) + g_adj * (b.T @ b) + np.sqrt(scale * g_adj) * (a.T @ b + b.T @ a)
        return V, share_se
    # robust / iid errors are not clustered on units: shares enter as an independent term
    return np.array(V_fixed) + g_adj * (b.T @ b), share_se
