"""Event studies: the effect of training by time since training, with a joint pre-trend test, from the
dynamic TWFE regression, Sun & Abraham's interaction-weighted estimator or Callaway–Sant'Anna's dynamic
aggregation (``event_study(panel, window=(-4, 4), ref=-1, method=...)``). What each method estimates and
when the TWFE coefficients are contaminated: docs/explanation.md, "Event studies".
"""

from __future__ import annotations

import warnings
from collections.abc import Sequence
from typing import Any, Literal

import numpy as np
import pandas as pd

from impactlab.errors import EstimationError, StatisticalWarning, check_option
from impactlab.estimators import _eventtime as et
from impactlab.estimators._common import check_panel, period_freq, resolve_covariates
from impactlab.estimators._eventtime import EventStudyResult
from impactlab.estimators.callaway_santanna import callaway_santanna
from impactlab.estimators.sun_abraham import _sun_abraham
from impactlab.panel import Panel

__all__ = ["EventStudyResult", "event_study"]

Method = Literal["twfe", "sun_abraham", "callaway_santanna"]
METHODS = ("twfe", "sun_abraham", "callaway_santanna")
Control = Literal["never_treated", "not_yet_treated", "last_treated"]


def event_study(panel: Panel, window: tuple[int, int] = (-4, 4), ref: int = -1, *, method: Method = "twfe",
                vcov: str = "cluster", bin_endpoints: bool = False, covariates: Sequence[str] | None = None,
                control: Control | None = None) -> EventStudyResult:
    """Effects by time since training (an event study) and a joint pre-trend test.

    Parameters
    ----------
    panel : Panel
        The employee × period panel; it is not modified.
    window : (int, int)
        Event times ``lo..hi`` (in observed periods; 0 is the first trained period) that get a
        coefficient, except ``ref``. Event times outside the window get no dummy: they fall into the
        baseline (``bin_endpoints=False``) or into the end points (``bin_endpoints=True``).
    ref : int
        Reference event time, normalised to 0 (default: the period before training).
    method : {"twfe", "sun_abraham", "callaway_santanna"}
        Dynamic TWFE regression, Sun & Abraham's interaction-weighted estimator, or Callaway &
        Sant'Anna's dynamic aggregation (universal base period; needs ``ref=-1``).
    vcov : {"cluster", "robust", "iid"}
        Variance of the regression methods: CR1 by the panel's cluster (the employee by default; t
        inference with ``G - 1`` degrees of freedom), HC1, or classical. ``callaway_santanna`` always uses
        its influence functions clustered as the panel, so only ``"cluster"`` is accepted with it.
    bin_endpoints : bool
        Make the first and last dummies cover every event time beyond them (regression methods only).
    covariates : sequence of str, optional
        Panel covariates: time-varying controls in the regressions, pre-treatment covariates of the
        doubly robust 2×2 comparisons for Callaway–Sant'Anna.
    control : {"never_treated", "not_yet_treated", "last_treated"}, optional
        Comparison group: ``"never_treated"`` (default) or ``"last_treated"`` for ``sun_abraham``;
        ``"never_treated"`` (default) or ``"not_yet_treated"`` for ``callaway_santanna``. The TWFE
        regression uses every unit not treated at the event times in the window and takes no ``control``.

    Returns
    -------
    EventStudyResult
        ``elements`` (``event_time``, ``estimate``, ``std_error``) for every event time of the window but
        ``ref``; ``element_vcov``; ``estimate`` is the mean of the coefficients at event times ``0..hi``
        (term ``"ATT(0..hi)"``), except for ``"sun_abraham"``, whose headline is fixest's ATT (term
        ``"ATT"``: the post-training cohort × event-time cells weighted by their observations, see
        :func:`impactlab.sun_abraham`); ``event_time_mean`` is the mean for every method;
        ``pretrend`` the joint Wald test of the pre-treatment coefficients (F with ``G - 1`` denominator
        degrees of freedom for clustered regressions, chi-square for Callaway–Sant'Anna); ``excluded``
        the units or periods left out. A new result; the panel is not modified.

    Raises
    ------
    EstimationError
        A window wider than the data; one cluster with ``vcov="cluster"``; no untreated comparison for the
        control asked for; a singular design (the message names the columns).
    ValueError
        An option outside its allowed values.

    Warns
    -----
    StatisticalWarning
        Units treated from the first period (left out); a TWFE event study without never-treated units,
        identified only by the event times outside the window.

    Examples
    --------
    Two waves whose effect grows by one each period since training (``1 + event_time``):

    >>> from impactlab.datasets import example_panel
    >>> res = event_study(example_panel(), window=(-3, 3), method="sun_abraham")
    >>> (res.elements["estimate"].round(6) + 0.0).tolist()
    [0.0, 0.0, 1.0, 2.0, 3.0, 4.0]
    """
    panel = check_panel(panel, "event_study")
    check_option("method", method, METHODS)
    check_option("vcov", vcov, et.ES_VCOV)
    lo, hi, ref = et.check_window(window, ref, bin_endpoints, "event_study")
    if method == "sun_abraham":
        sa_control: Any = control or "never_treated"  # checked by sun_abraham
        return _sun_abraham(panel, (lo, hi), ref, sa_control, vcov, bin_endpoints, covariates, True)
    if method == "callaway_santanna":
        return _cs_event_study(panel, lo, hi, ref, vcov, bin_endpoints, covariates,
                               control or "never_treated")
    if control is not None:
        raise ValueError("event_study: control= applies to method='sun_abraham' or 'callaway_santanna'. The "
                         "TWFE event study compares with every unit outside the window's event times; "
                         f"drop control= or choose another method. Got control={control!r}.")
    return _twfe_event_study(panel, lo, hi, ref, vcov, bin_endpoints, covariates)


def _twfe_event_study(panel: Panel, lo: int, hi: int, ref: int, vcov: str, bin_endpoints: bool,
                      covariates: Sequence[str] | None) -> EventStudyResult:
    covs = resolve_covariates(panel, covariates)
    rows: list[tuple[str, Any, str]] = []
    long = et.drop_first_period_cohorts(panel.long(), panel.periods, "event_study", rows, stacklevel=4)
    et.n_clusters_check(long, vcov, "event_study")
    g = long["cohort_period"].to_numpy()
    treated = g > 0
    if not treated.any():
        raise EstimationError("event_study: no unit is treated within the data, so there is no event time "
                              "to estimate. Check the cohort column of the panel.")
    e = np.where(treated, long["period"].to_numpy() - g, 0)
    et.check_window_in_data(lo, hi, int(e[treated].min()), int(e[treated].max()), "event_study")
    if not (~treated).any():
        warnings.warn(
            "event_study: there are no never-treated units, so the TWFE event study is identified only by "
            "the event times outside the window (treated as the baseline); with effects that change over "
            "time this is biased. Use method='sun_abraham' with control='last_treated', or "
            "method='callaway_santanna' with control='not_yet_treated'.", StatisticalWarning, stacklevel=3)
    ks = [k for k in range(lo, hi + 1) if k != ref]
    X = np.column_stack([treated & et.event_indicator(e, k, lo, hi, bin_endpoints) for k in ks]
                        + [long[c].to_numpy(dtype="float64") for c in covs]).astype("float64")
    names = [_dummy_name(k, lo, hi, bin_endpoints) for k in ks] + list(covs)
    fit = et.within_fit(long, X, names, vcov)
    m = len(ks)
    est, V = fit.params[:m], fit.vcov[:m, :m]
    ev = np.asarray(ks, dtype="int64")
    elements = pd.DataFrame({"term": [_dummy_name(k, lo, hi, bin_endpoints) for k in ks], "event_time": ev,
                             "estimate": est, "std_error": np.sqrt(np.diag(V))})
    overall, se = et.post_mean(ev, est, V)
    pre = ev < 0
    pretrend = et.wald_test(est[pre], V[np.ix_(pre, pre)], ev[pre].tolist(), df_denom=fit.df)
    V = np.array(V)
    V.setflags(write=False)
    notes = ["Dynamic TWFE: with waves whose effects differ, each coefficient mixes effects from other event "
             "times (Sun & Abraham 2021); compare with method='sun_abraham' or 'callaway_santanna'."]
    notes += et.outside_window_note(e[treated], lo, hi, bin_endpoints)
    return EventStudyResult(
        estimate=overall, std_error=se, term=f"ATT(0..{hi})", method="event_study_twfe",
        label="Event study (two-way fixed effects)", outcome=panel.outcome, n_obs=fit.n_obs,
        n_units=int(long["unit"].nunique()), df=fit.df, elements=elements, element_vcov=V,
        excluded=et.ledger(rows), pretrend=pretrend, notes=tuple(notes),
        spec={"estimator": "event_study", "method": "twfe", "window": (lo, hi), "ref": ref, "vcov": vcov,
              "bin_endpoints": bin_endpoints, "covariates": covs, "control": None,
              "freq": period_freq(panel)},
    )


def _dummy_name(k: int, lo: int, hi: int, bin_endpoints: bool) -> str:
    if bin_endpoints and k == lo:
        return f"event_time<={k}"
    if bin_endpoints and k == hi:
        return f"event_time>={k}"
    return f"event_time={k}"


def _cs_event_study(panel: Panel, lo: int, hi: int, ref: int, vcov: str, bin_endpoints: bool,
                    covariates: Sequence[str] | None, control: str) -> EventStudyResult:
    check_option("control", control, ("never_treated", "not_yet_treated"))
    if vcov != "cluster":
        raise ValueError("event_study: method='callaway_santanna' computes standard errors from influence "
                         "functions clustered as the panel; only vcov='cluster' applies. Got "
                         f"vcov={vcov!r}.")
    if bin_endpoints:
        raise ValueError("event_study: bin_endpoints=True applies to the regression methods; Callaway–"
                         "Sant'Anna estimates each event time separately. Use a narrower window instead.")
    if ref != -1:
        raise ValueError("event_study: method='callaway_santanna' measures every event time against the "
                         f"period before training (ref=-1). Got ref={ref}; use ref=-1.")
    et.n_clusters_check(panel.long(), vcov, "event_study")
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        cs_control: Any = control  # checked above
        cs = callaway_santanna(panel, control=cs_control,
                               covariates=list(covariates) if covariates else None, base_period="universal")
    for w in caught:  # re-issue at the caller of event_study
        warnings.warn(w.message, w.category, stacklevel=4)
    et_all = cs.att_gt["event_time"].to_numpy()
    et.check_window_in_data(lo, hi, int(et_all.min()), int(et_all.max()), "event_study")
    dyn = cs.aggregate("dynamic", min_e=lo, max_e=hi)
    assert dyn.elements is not None and dyn.element_vcov is not None  # set by the dynamic aggregation
    keep = (dyn.elements["event_time"] != ref).to_numpy()
    elements = dyn.elements.loc[keep].reset_index(drop=True)
    elements.insert(0, "term", [f"event_time={int(k)}" for k in elements["event_time"]])
    V = np.array(dyn.element_vcov)[np.ix_(keep, keep)]
    V.setflags(write=False)
    ev = elements["event_time"].to_numpy()
    pre = ev < 0
    pretrend = et.wald_test(elements["estimate"].to_numpy()[pre], V[np.ix_(pre, pre)], ev[pre].tolist())
    infl = None if dyn.element_influence is None else np.array(dyn.element_influence)[:, keep]
    if infl is not None:
        infl.setflags(write=False)
    spec = dict(dyn.spec)
    spec.update(estimator="event_study", method="callaway_santanna", window=(lo, hi), ref=ref, vcov=vcov,
                bin_endpoints=False, covariates=list(covariates or []), control=control)
    return EventStudyResult(
        estimate=dyn.estimate, std_error=dyn.std_error, term=f"ATT(0..{hi})",
        method="event_study_cs", label="Event study (Callaway–Sant'Anna)", outcome=panel.outcome,
        n_obs=dyn.n_obs, n_units=dyn.n_units, df=None, elements=elements, influence=dyn.influence,
        element_influence=infl, element_vcov=V, excluded=dyn.excluded, pretrend=pretrend, notes=dyn.notes,
        spec=spec)
