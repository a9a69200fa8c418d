"""Stacked difference-in-differences with corrective weights (Wing, Freedman & Hollingsworth 2024).

One sub-experiment per training cohort: its trained employees and its clean controls (employees not yet
trained by the end of the event window, or never trained), observed over the window of event times around
the cohort's period of training. The sub-experiments are stacked and one event-study regression is run on
the stack (a trained-group indicator, event-time indicators and their interactions, the period before
training the reference). Left unweighted, that regression weights each cohort by its share of controls as
well as of trained employees; the corrective weights (the paper's Q-weights: 1 for trained observations,
the cohort's share of trained observations over its share of control observations, at each event time,
for controls) make each event-time coefficient the trimmed aggregate ATT: the average over the cohorts
kept of their effect at that event time, weighted by their trained observations.

The regression is saturated in the trained-group × event-time cells, so its coefficients are differences
of weighted cell means and its cluster-robust covariance (CR1 with Stata's ``G/(G-1) (n-1)/(n-p)``) comes
from per-cluster sums of weighted residuals by cell: the stack is never turned into a design matrix.

References
----------
C. Wing, S. M. Freedman and A. Hollingsworth (2024), "Stacked difference-in-differences", NBER Working
Paper 32054: section 3 (the sub-experiments, inclusion criteria IC1 and IC2), Table 1 (the corrective
weights for the trimmed aggregate ATT).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal

import numpy as np
import pandas as pd

from impactlab.errors import EstimationError, check_option
from impactlab.estimators._common import check_panel
from impactlab.estimators._eventtime import EventStudyResult, check_window, ledger, post_mean, wald_test
from impactlab.estimators._imputation_grid import cohort_labels
from impactlab.panel import Panel
from impactlab.results.base import _fmt

__all__ = ["StackedResult", "stacked"]

Control = Literal["not_yet_treated", "never_treated"]

#: Below this many clusters cluster-robust standard errors rest on few independent groups.
FEW_CLUSTERS = 30


@dataclass(frozen=True, repr=False, eq=False)
class StackedResult(EventStudyResult):
    """Stacked DiD: the effect by event time over the cohorts kept, and its average.

    ``estimate`` is the mean of the event-time effects from 0 to the window's end (each event time
    weighted equally, term ``"ATT(0..hi)"``); ``elements`` holds one row per event time of the window
    other than the reference (``event_time``, ``estimate``, ``std_error``, ``n_obs``: trained observations
    at that event time), ``element_vcov`` their covariance, ``pretrend`` the joint test of the event times
    before ``-1 - anticipation``.

    Attributes
    ----------
    sub_experiments : DataFrame
        One row per cohort kept: ``cohort``, ``first_period`` and ``last_period`` of its window,
        ``n_treated`` and ``n_control`` (employees), ``n_obs`` (rows in the stack) and ``share`` (its share
        of the trained employees kept: its weight in the aggregate ATT).
    """

    sub_experiments: pd.DataFrame | None = None

    def __repr__(self) -> str:
        return (f"StackedResult(estimate={self.estimate:.6g}, std_error={self.std_error:.6g}, "
                f"event_times={self._event_times()}, n_units={self.n_units})")

    def summary(self, level: float = 0.95) -> str:
        """Plain-text summary: the average effect, the pre-trend test, each event time, the cohorts kept."""
        text = super().summary(level)
        if self.sub_experiments is not None and len(self.sub_experiments):
            text += "\n  sub-experiments:\n" + self.sub_experiments.to_string(index=False)
        return text


def stacked(panel: Panel, *, window: tuple[int, int] = (-4, 4), control: Control = "not_yet_treated",
            anticipation: int = 0) -> StackedResult:
    """Stacked difference-in-differences with the corrective weights of Wing, Freedman & Hollingsworth.

    Each training cohort whose window fits in the data and that has clean controls becomes a
    sub-experiment: its trained employees and its controls over the event times ``lo - anticipation ..
    hi`` around the cohort's period of training. The weighted event study on the stack gives the effect at
    each event time, averaged over the cohorts kept (the trimmed aggregate ATT).

    Parameters
    ----------
    panel : Panel
        The employee × period panel; it is not modified. Standard errors are clustered by its cluster (the
        employee by default; an employee appearing in several sub-experiments is one cluster).
    window : (int, int)
        Event times ``(lo, hi)`` of each sub-experiment, ``lo <= -1 < 0 <= hi``: ``-lo`` periods before
        training (besides the anticipation window) and ``hi`` after it. A cohort whose window does not fit
        in the panel's periods is left out (inclusion criterion IC1 of the paper).
    control : {"not_yet_treated", "never_treated"}
        The clean controls of a cohort: employees not trained by the end of its window (never-trained
        included) nor in the ``anticipation`` periods after it, or never-trained employees only. A cohort
        without any is left out (IC2).
    anticipation : int
        Number of periods before training in which its effect may already show: the window starts that
        many periods earlier, the reference is event time ``-1 - anticipation``, and event times
        ``-anticipation .. -1`` are reported but not in the headline.

    Returns
    -------
    StackedResult
        The mean effect over event times ``0..hi`` (``estimate``), each event time (``elements``), the
        cohorts kept (``sub_experiments``) and ``excluded``: the cohorts left out and why. A new result; the
        panel is not modified.

    Raises
    ------
    EstimationError
        When no cohort can be kept, or the reference event time has no trained or no control observation.

    Notes
    -----
    The coefficients and the clustered standard errors (CR1 with ``G/(G-1) (n-1)/(n-p)``, ``n`` the rows
    of the stack and ``p`` the trained-group × event-time cells) equal diff-diff's ``StackedDiD`` with
    ``weighting="aggregate"`` (and ``clean_control="not_yet_treated"`` or ``"never_treated"``), which
    follows the paper's R code; its overall effect averages the event times from ``-anticipation`` on,
    the headline here from 0 on. With ``anticipation > 0`` and not-yet-treated controls, diff-diff keeps
    employees trained in the ``anticipation`` periods after a window's end as controls, although their own
    anticipation months (a dip before training) fall inside the window; they are not clean here. Event
    times are counted in the panel's periods (positions in the ordered set of observed periods).

    Examples
    --------
    >>> import impactlab as il
    >>> panel = il.datasets.example_panel()
    >>> res = il.stacked(panel, window=(-1, 1))
    >>> res.tidy()["term"].iloc[0]
    'ATT(0..1)'
    """
    panel = check_panel(panel, "stacked")
    lo, hi, _ = check_window(window, -1, False, "stacked")
    if hi < 0:
        raise ValueError(f"stacked: window=(lo, hi) needs hi >= 0 (event time 0 is the period of training). "
                         f"Got {window!r} instead.")
    check_option("control", control, ("not_yet_treated", "never_treated"))
    if isinstance(anticipation, bool) or not isinstance(anticipation, (int, np.integer)) or anticipation < 0:
        raise ValueError("The 'anticipation' parameter of stacked must be a non-negative integer. "
                         f"Got {anticipation!r} instead.")
    a = int(anticipation)
    long = panel._long  # read only
    period = long["period"].to_numpy().astype(np.int64)
    gp = long["cohort_period"].to_numpy().astype(np.int64)
    y = long["outcome"].to_numpy(dtype="float64")
    units = long["unit"].to_numpy()
    label_of = cohort_labels(long["cohort"].to_numpy(), gp)
    T = panel.n_periods
    first_e = lo - a
    ne = hi - first_e + 1  # event times of the window
    ref = -1 - a

    # the sub-experiments: rows of each cohort kept and of its clean controls within its window
    rows, subs, treated, events = [], [], [], []
    excluded: list[tuple[str, Any, str]] = []
    kept: list[int] = []
    never = gp == 0
    for g in sorted(label_of):
        start, end = g + first_e, g + hi
        name = label_of[g]
        gone = (f"its {_fmt(len(pd.unique(units[gp == g])))} trained employees are compared in no "
                "sub-experiment" + (" (they may still be controls of earlier cohorts)"
                                    if control == "not_yet_treated" else ""))
        if start < 1 or end > T:
            excluded.append(("cohort", name, f"its window (event times {first_e} to {hi}) runs outside the "
                             f"panel's periods (inclusion criterion IC1): {gone}"))
            continue
        # a not-yet-treated control must stay clear of its own anticipation months too: trained after
        # end + anticipation, so that no dip or early effect of its own training falls in the window
        clean = never if control == "never_treated" else never | (gp > end + a)
        if not clean.any():
            excluded.append(("cohort", name, "no clean control, i.e. no employee "
                             + ("never trained" if control == "never_treated"
                                else "untrained by the end of its window and its anticipation months")
                             + f" (inclusion criterion IC2): {gone}"))
            continue
        on = (period >= start) & (period <= end) & ((gp == g) | clean)
        idx = np.flatnonzero(on)
        rows.append(idx)
        subs.append(np.full(len(idx), len(kept)))
        treated.append(gp[idx] == g)
        events.append(period[idx] - g)
        kept.append(g)
    if not kept:
        raise EstimationError(f"stacked: no cohort can be kept with window={window!r} and "
                              f"control={control!r} "
                              "(see the reasons: " + "; ".join(f"{r[1]}: {r[2]}" for r in excluded) + "). "
                              "Use a narrower window, or control='not_yet_treated'.")
    idx = np.concatenate(rows)
    sub = np.concatenate(subs)
    d = np.concatenate(treated).astype(np.int64)
    e = np.concatenate(events) - first_e  # 0 .. ne-1
    S = len(kept)

    # corrective weights of controls: the cohort's share of trained over its share of control observations,
    # at each event time
    counts = np.bincount((sub * ne + e) * 2 + d, minlength=S * ne * 2).reshape(S, ne, 2).astype("float64")
    n_t, n_c = counts[..., 1], counts[..., 0]
    tot_t, tot_c = n_t.sum(axis=0), n_c.sum(axis=0)
    with np.errstate(divide="ignore", invalid="ignore"):
        q = (n_t / tot_t) / (n_c / tot_c)
    q = np.where((n_c > 0) & (tot_t > 0) & (tot_c > 0), q, 1.0)
    w = np.where(d == 1, 1.0, q[sub, e])

    # weighted means of the trained-group × event-time cells; the coefficients are differences of them
    cell = d * ne + e
    n_cell = 2 * ne
    w_cell = np.bincount(cell, weights=w, minlength=n_cell)
    r_ref = ref - first_e
    if not (w_cell[ne + r_ref] > 0 and w_cell[r_ref] > 0):
        who = "trained" if not w_cell[ne + r_ref] > 0 else "control"
        raise EstimationError(f"stacked: the reference event time {ref} has no {who} observation in any "
                              "sub-experiment, so there is no baseline to measure the effects against. Fill "
                              "the gap in the panel's periods or change the window.")
    if not (w_cell > 0).all():
        empty = [int(c % ne) + first_e for c in np.flatnonzero(w_cell <= 0)]
        raise EstimationError(f"stacked: event time(s) {sorted(set(empty))} have no trained or no control "
                              "observation in any sub-experiment. Narrow the window to the event times the "
                              "panel observes.")
    ys = y[idx]
    mean = np.bincount(cell, weights=w * ys, minlength=n_cell) / w_cell
    ets = np.array([h for h in range(first_e, hi + 1) if h != ref], dtype=np.int64)
    L = np.zeros((n_cell, len(ets)))
    for j, h in enumerate(ets):
        c = h - first_e
        L[[ne + c, ne + r_ref, c, r_ref], j] = [1.0, -1.0, -1.0, 1.0]
    est = mean @ L

    # CR1: per-cluster sums of weighted residuals by cell, mapped through the contrasts
    codes = (pd.factorize(long["cluster"].to_numpy()[idx])[0] if panel.cluster is not None
             else pd.factorize(units[idx])[0])
    G = int(codes.max()) + 1
    resid = w * (ys - mean[cell])
    R = np.bincount(codes * n_cell + cell, weights=resid, minlength=G * n_cell).reshape(G, n_cell)
    scores = R @ (L / w_cell[:, None])
    n = int((w > 0).sum())
    adj = G / (G - 1) * (n - 1) / (n - n_cell) if G > 1 and n > n_cell else float("nan")
    V = adj * (scores.T @ scores)
    se = np.sqrt(np.maximum(np.diag(V), 0.0))
    headline, headline_se = post_mean(ets, est, V)

    n_obs_e = np.bincount(e[d == 1], minlength=ne)[ets - first_e]
    elements = pd.DataFrame({"term": [f"ATT(event_time={int(h)})" for h in ets], "event_time": ets,
                             "estimate": est, "std_error": se, "n_obs": n_obs_e.astype(np.int64)})
    pre = ets < -a
    pretrend = wald_test(est[pre], V[np.ix_(pre, pre)], [int(h) for h in ets[pre]], df_denom=float(G - 1),
                         hypothesis="no effect before training: the event times "
                                    f"{int(ets[pre].min()) if pre.any() else ''}..{ref - 1} are zero") \
        if pre.any() else None
    unit_codes = pd.factorize(units[idx])[0]
    per_sub = []
    n_treated_all = 0
    for s, g in enumerate(kept):
        on = sub == s
        nt = len(np.unique(unit_codes[on & (d == 1)]))
        n_treated_all += nt
        per_sub.append((label_of[g], panel.periods[g + first_e - 1], panel.periods[g + hi - 1], nt,
                        len(np.unique(unit_codes[on & (d == 0)])), int(on.sum())))
    subs_frame = pd.DataFrame(per_sub, columns=["cohort", "first_period", "last_period", "n_treated",
                                                "n_control", "n_obs"])
    subs_frame["share"] = subs_frame["n_treated"] / n_treated_all
    notes: list[str] = []
    if G < FEW_CLUSTERS:
        notes.append(f"Only {G} clusters: the standard errors rest on few independent groups and may be too "
                     "small.")
    if excluded:
        notes.append(f"{len(excluded)} cohort(s) left out (see .excluded): the average is over the cohorts "
                     "kept.")
    spec = {"estimator": "stacked", "window": (lo, hi), "anticipation": a, "control": control, "ref": ref,
            "cluster": panel.cluster or "unit", "first_period": panel.periods[0] if panel.periods else None,
            "last_period": panel.periods[-1] if panel.periods else None}
    return StackedResult(
        estimate=headline, std_error=headline_se, term=f"ATT(0..{hi})", method="stacked",
        label="Stacked DiD (Wing, Freedman & Hollingsworth)", outcome=panel.outcome, n_obs=len(idx),
        n_units=int(unit_codes.max()) + 1, elements=elements, element_vcov=V, excluded=ledger(excluded),
        spec=spec, notes=tuple(notes), pretrend=pretrend, sub_experiments=subs_frame)
