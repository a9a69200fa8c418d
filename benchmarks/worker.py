"""Run one tool on one workload in this process and write what it estimated, as JSON.

Called by ``run.py`` as ``python worker.py TOOL TASK DATA.parquet OUT.json [--covariates x1,x2]
[--draws N]``, one process per (tool, workload), so that peak memory is the tool's own. The Parquet file
is read with only the columns the task needs (the same for every tool). The timed section starts after it
is read and ends when the numbers are in plain Python lists: it includes the tool's own data preparation
(for impactlab, ``Panel.from_frame``), because that is part of what a user waits for.

Every adapter returns a dict with any of:

* ``att_gt``: ``[[cohort, time, estimate, std_error], ...]``
* ``overall``: ``[estimate, std_error]`` (the simple aggregation, or the TWFE coefficient)
* ``dynamic``: ``[[event_time, estimate, std_error], ...]``
* ``known_shares``: (impactlab's Sun–Abraham only) a dict of the same keys with the event-time effects'
  standard errors for cohort shares treated as known, and the overall effect weighted by the number of
  treated observations at each post event time: the quantities diff-diff and pyfixest report (see
  ``benchmarks/README.md``).
"""

from __future__ import annotations

import argparse
import importlib
import json
import math
import resource
import sys
import time
import warnings
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

Estimates = dict[str, Any]


def _rss_mb() -> float:
    """Peak resident memory of this process so far (MB).

    ``VmHWM`` belongs to this process image only; ``ru_maxrss`` on Linux also carries the resident size of
    the parent at the time of the fork, so it is the fallback where ``/proc`` is missing.
    """
    try:
        with open("/proc/self/status") as fh:
            return next(int(x.split()[1]) for x in fh if x.startswith("VmHWM")) / 1024.0
    except (OSError, StopIteration):
        return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0


# ------------------------------------------------------------------------------------------------ impactlab
def _il_panel(df: pd.DataFrame, covs: list[str]):  # type: ignore[no-untyped-def]
    import impactlab as il

    return il.Panel.from_frame(df, unit="id", time="t", outcome="y", cohort="g", covariates=covs or None)


def _il_cs(df: pd.DataFrame, covs: list[str], task: str, draws: int) -> Estimates:
    import impactlab as il

    boot = draws if task == "cs_boot" else None
    res = il.callaway_santanna(_il_panel(df, covs), covariates=covs or None, n_draws=boot, seed=1,
                               allow_unbalanced=task == "cs_unbalanced")
    at = res.att_gt
    out: Estimates = {
        "att_gt": at[["cohort", "time", "estimate", "std_error"]].to_numpy(dtype="float64").tolist(),
        "overall": [res.estimate, res.std_error],
    }
    if task == "cs_dynamic":
        dyn = res.aggregate("dynamic")
        out["dynamic"] = dyn.elements[["event_time", "estimate", "std_error"]].to_numpy("float64").tolist()
        out["overall"] = [dyn.estimate, dyn.std_error]
    return out


def _il_suffstats(df: pd.DataFrame, covs: list[str], task: str, draws: int) -> Estimates:
    """The sufficient-statistics functions alone (callaway_santanna takes this route and builds a result)."""
    from impactlab.estimators.callaway_santanna import moments as fast

    units, y, gp = fast.balanced_arrays(_il_panel(df, []))
    cells = fast.att_gt_from_moments(fast.cohort_moments(y, gp))
    est, se = fast.simple_from_moments(cells)
    return {"att_gt": np.column_stack([cells.group, cells.time, cells.att, cells.std_error]).tolist(),
            "overall": [est, se]}


def _il_twfe(df: pd.DataFrame, covs: list[str], task: str, draws: int) -> Estimates:
    import impactlab as il

    res = il.twfe(_il_panel(df, []), vcov="cluster")
    return {"overall": [res.estimate, res.std_error]}


def _cell_arrays(df: pd.DataFrame, covs: list[str]) -> tuple[np.ndarray, ...]:
    """The first cohort's ATT(g, g) cell against never-treated units, as arrays (untimed)."""
    g0 = int(df.loc[df["g"] > 0, "g"].min())
    sub = df[(df["g"] == g0) | (df["g"] == 0)]
    y1 = sub.loc[sub["t"] == g0, "y"].to_numpy()
    y0 = sub.loc[sub["t"] == g0 - 1, "y"].to_numpy()
    first = sub[sub["t"] == g0 - 1]
    d = (first["g"] == g0).to_numpy(dtype="float64")
    x = np.column_stack([np.ones(len(d)), first[covs].to_numpy(dtype="float64")])
    return y1, y0, d, x, np.array([g0, g0], dtype="float64")


def _il_dr2x2(arrays: tuple[np.ndarray, ...]) -> Estimates:
    from impactlab.estimators.drdid import dr_did_panel

    y1, y0, d, x, key = arrays
    fit = dr_did_panel(y1, y0, d, x)
    return {"att_gt": [[*key.tolist(), fit.att, fit.std_error]], "overall": [fit.att, fit.std_error]}


def _il_sun_abraham(df: pd.DataFrame, covs: list[str], task: str, draws: int) -> Estimates:
    import impactlab as il

    res = il.sun_abraham(_il_panel(df, []))
    el = res.elements
    return {"dynamic": el[["event_time", "estimate", "std_error"]].to_numpy("float64").tolist(),
            "overall": [res.estimate, res.std_error], "known_shares": _known_shares(res)}


def _known_shares(res: Any) -> Estimates:
    """impactlab's Sun–Abraham cells aggregated as diff-diff and pyfixest aggregate them.

    The event-time effects ``w_e' delta`` with variance ``w_e' V w_e`` (cohort shares ``w_e`` treated as
    known: no share-variance term of Sun & Abraham's Prop. 6), and diff-diff's overall effect, the post
    cohort × event-time effects weighted by their numbers of treated observations. ``delta``, ``V``, the
    shares and the counts are impactlab's own (``cells``, ``cell_vcov``, ``shares``).
    """
    cells = res.cells.reset_index(drop=True)
    keys = zip(cells["cohort"], cells["event_time"], strict=True)
    pos = {(int(g), int(e)): i for i, (g, e) in enumerate(keys)}
    est, V = cells["estimate"].to_numpy(dtype="float64"), np.asarray(res.cell_vcov, dtype="float64")
    dynamic = []
    for e, grp in res.shares.groupby("event_time", sort=True):
        c = np.zeros(len(cells))
        for g, share in zip(grp["cohort"], grp["share"], strict=True):
            c[pos[int(g), int(e)]] = share
        dynamic.append([float(e), float(c @ est), float(np.sqrt(c @ V @ c))])
    post = (cells["event_time"] >= 0).to_numpy()
    c = np.where(post, cells["n_obs"].to_numpy(dtype="float64"), 0.0)
    c /= c.sum()
    return {"dynamic": dynamic, "overall": [float(c @ est), float(np.sqrt(c @ V @ c))]}


# ------------------------------------------------------------------------------------------------ peers
def _dd_cs(df: pd.DataFrame, covs: list[str], task: str, draws: int) -> Estimates:
    # With covariates diff-diff's DR estimate is not R did's: the comparison-group term is divided by the
    # number of treated units instead of by the sum of the odds weights (benchmarks/README.md); no option
    # of CallawaySantAnna changes that, so the adapter runs it as it is and the report explains the gap.
    from diff_diff import CallawaySantAnna

    kw: dict[str, Any] = {"estimation_method": "dr", "control_group": "never_treated"}
    if task == "cs_unbalanced":
        kw["allow_unbalanced_panel"] = True
    if task == "cs_boot":
        kw.update(n_bootstrap=draws, bootstrap_weights="mammen", seed=1)
    fit_kw = {"aggregate": "event_study"} if task == "cs_dynamic" else {}
    r = CallawaySantAnna(**kw).fit(df, outcome="y", unit="id", time="t", first_treat="g",
                                   covariates=covs or None, **fit_kw)
    out: Estimates = {
        "att_gt": [[float(g), float(t), float(v["effect"]), float(v["se"])]
                   for (g, t), v in r.group_time_effects.items()],
        "overall": [float(r.overall_att), float(r.overall_se)],
    }
    if task == "cs_dynamic":
        out["dynamic"] = [[float(e), float(v["effect"]), float(v["se"])]
                          for e, v in r.event_study_effects.items()]
        del out["overall"]  # diff-diff's overall_att stays the simple aggregation, another estimand
    if task == "cs_unbalanced":
        # On an unbalanced panel diff-diff clusters the observation-level influence functions by unit
        # through its survey variance (one stratum, PSU = unit), which multiplies the variance by
        # N / (N - 1), N the number of units; R did (impactlab, csdid) does not. The same quantity is
        # compared by taking that factor out (benchmarks/README.md).
        n_units = df["id"].nunique()
        f = math.sqrt((n_units - 1) / n_units)
        out["att_gt"] = [[g, t, e, se * f] for g, t, e, se in out["att_gt"]]
        out["overall"] = [out["overall"][0], out["overall"][1] * f]
    return out


def _scalar(x: Any) -> float:
    return float(np.ravel(x)[0])


def _csdid_cs(df: pd.DataFrame, covs: list[str], task: str, draws: int) -> Estimates:
    from csdid.att_gt import ATTgt

    boot = task == "cs_boot"
    xf = f"y ~ {' + '.join(covs)}" if covs else None
    att = ATTgt(yname="y", tname="t", idname="id", gname="g", data=df, control_group=["nevertreated"],
                xformla=xf, biters=draws if boot else 1000,
                allow_unbalanced_panel=task == "cs_unbalanced")
    if boot:
        np.random.seed(1)
    att.fit(est_method="dr", bstrap=boot)
    r = att.results
    out: Estimates = {"att_gt": np.column_stack([r["group"], r["year"], r["att"], r["se"]])
                      .astype("float64").tolist()}
    att.aggte(typec="simple", bstrap=boot)
    out["overall"] = [_scalar(att.atte["overall_att"]), _scalar(att.atte["overall_se"])]
    if task == "cs_dynamic":
        att.aggte(typec="dynamic", bstrap=boot)
        a = att.atte
        out["dynamic"] = np.column_stack([a["egt"], a["att_egt"], np.ravel(a["se_egt"])]) \
            .astype("float64").tolist()
        out["overall"] = [_scalar(a["overall_att"]), _scalar(a["overall_se"])]
    return out


def _differences_cs(df: pd.DataFrame, covs: list[str], task: str, draws: int) -> Estimates:
    import differences

    data = df.assign(g=df["g"].where(df["g"] > 0)).set_index(["id", "t"])
    att = differences.ATTgt(data=data, cohort_column="g")
    kw: dict[str, Any] = {"boot_iterations": draws, "random_state": 1} if task == "cs_boot" else {}
    att.fit(formula="y ~ " + " + ".join(covs) if covs else "y", est_method="dr", progress_bar=False, **kw)
    res = att.results()
    res.columns = [c[-1] for c in res.columns]
    idx = res.index.to_frame(index=False)
    out: Estimates = {"att_gt": np.column_stack([idx["cohort"], idx["time"], res["ATT"], res["std_error"]])
                      .astype("float64").tolist()}
    simple = att.aggregate("simple", **kw)
    simple.columns = [c[-1] for c in simple.columns]
    out["overall"] = [float(simple["ATT"].iloc[0]), float(simple["std_error"].iloc[0])]
    if task == "cs_dynamic":
        ev = att.aggregate("event", **kw)
        ev.columns = [c[-1] for c in ev.columns]
        out["dynamic"] = np.column_stack([ev.index.to_numpy(), ev["ATT"], ev["std_error"]]) \
            .astype("float64").tolist()
        ov = att.aggregate("event", overall=True, **kw)
        ov.columns = [c[-1] for c in ov.columns]
        out["overall"] = [float(ov["ATT"].iloc[0]), float(ov["std_error"].iloc[0])]
    return out


def _pyfixest_twfe(df: pd.DataFrame, covs: list[str], task: str, draws: int) -> Estimates:
    import pyfixest as pf

    fit = pf.feols("y ~ d | id + t", data=df, vcov={"CRV1": "id"})
    return {"overall": [float(fit.coef()["d"]), float(fit.se()["d"])]}


def _linearmodels_twfe(df: pd.DataFrame, covs: list[str], task: str, draws: int) -> Estimates:
    """PanelOLS with the clustered sandwich unscaled, times the CR1 factor impactlab and pyfixest use.

    linearmodels' own factors cannot give CR1 with fixest's count of parameters: by default (two effects)
    it counts every unit effect, ``n / (n - n_units - T)`` (5 % larger standard errors at 1M × 10);
    ``debiased`` multiplies by ``n / (n - k)`` with ``k`` the regressors only, ``group_debias`` by
    ``G / (G - 1) * (n - 1) / n``; the closest combination (both, effects not counted) is ``G / (G - 1)``,
    short of ``(n - 1) / (n - K)`` (5e-7 in the standard error at 1M × 10). So the fit asks for no factor
    (``debiased=False``, effects not counted, ``group_debias=False``) and the adapter applies
    ``sqrt(G / (G - 1) * (n - 1) / (n - K))`` with
    ``K = 1 + T`` (the slope, the unit effects nested in the clusters as one, ``T - 1`` period effects;
    fixest's ``fixef.K = "nested"``), as documented in ``benchmarks/README.md``.
    """
    from linearmodels.panel import PanelOLS

    data = df.set_index(["id", "t"])
    fit = PanelOLS(data["y"], data[["d"]], entity_effects=True, time_effects=True) \
        .fit(cov_type="clustered", cluster_entity=True, debiased=False, auto_df=False, count_effects=False,
             group_debias=False)
    n, n_units, n_periods = len(df), df["id"].nunique(), df["t"].nunique()
    cr1 = np.sqrt(n_units / (n_units - 1) * (n - 1) / (n - (1 + n_periods)))
    return {"overall": [float(fit.params["d"]), float(fit.std_errors["d"]) * cr1]}


def _drdid_dr2x2(arrays: tuple[np.ndarray, ...]) -> Estimates:
    from drdid._estimators import drdid_panel

    y1, y0, d, x, key = arrays
    att, inf = drdid_panel(y1, y0, d, x)
    # the same formula as impactlab's DidFit.std_error, so that the influence functions are compared
    se = float(np.sqrt(np.mean(np.asarray(inf) ** 2) / len(inf)))
    return {"att_gt": [[*key.tolist(), float(att), se]], "overall": [float(att), se]}


def _dd_sun_abraham(df: pd.DataFrame, covs: list[str], task: str, draws: int) -> Estimates:
    from diff_diff import SunAbraham

    # event-time standard errors with the cohort shares as known; overall_att weights the post event times
    # by their numbers of treated observations: compared with impactlab's ``known_shares``
    r = SunAbraham().fit(df, outcome="y", unit="id", time="t", first_treat="g")
    return {"dynamic": [[float(e), float(v["effect"]), float(v["se"])]
                        for e, v in r.event_study_effects.items()],
            "overall": [float(r.overall_att), float(r.overall_se)]}


def _pyfixest_sun_abraham(df: pd.DataFrame, covs: list[str], task: str, draws: int) -> Estimates:
    """pyfixest's saturated event study, aggregated by event time with cohort-share weights.

    pyfixest 0.60 has no ``sunab()`` formula term. ``event_study(estimator="saturated")`` fits
    ``y ~ i(rel_time, cohort, ref=-1, ref2=0) | id + t`` (every treated cohort × event time except -1,
    never-treated units as the comparison, CR1 by unit) and ``aggregate()`` weights each event time's
    cohort coefficients by the cohorts' shares of treated observations there, shares taken as known:
    Sun & Abraham's interaction-weighted estimator, compared with impactlab's ``known_shares``.
    """
    import pyfixest as pf

    fit = pf.event_study(df, yname="y", idname="id", tname="t", gname="g", estimator="saturated",
                         cluster="id")
    agg = fit.aggregate()
    return {"dynamic": np.column_stack([agg.index.to_numpy(dtype="float64"),
                                        agg["Estimate"].to_numpy(dtype="float64"),
                                        agg["Std. Error"].to_numpy(dtype="float64")]).tolist()}


def _il_imputation(df: pd.DataFrame, covs: list[str], task: str, draws: int) -> Estimates:
    import impactlab as il

    res = il.imputation(_il_panel(df, []))
    return {"overall": [res.estimate, res.std_error],
            "dynamic": res.elements[["event_time", "estimate", "std_error"]].to_numpy("float64").tolist()}


def _dd_imputation(df: pd.DataFrame, covs: list[str], task: str, draws: int) -> Estimates:
    from diff_diff import ImputationDiD

    r = ImputationDiD().fit(df, outcome="y", unit="id", time="t", first_treat="g")
    es = r.aggregate("event_study").to_dataframe()
    es = es[~es["is_reference"]]
    return {"overall": [float(r.overall_att), float(r.overall_se)],
            "dynamic": es[["event_time", "att", "se"]].to_numpy("float64").tolist()}


def _pyfixest_did2s(df: pd.DataFrame, covs: list[str], task: str, draws: int) -> Estimates:
    """pyfixest's did2s (Gardner's two-stage DiD): unit and period effects on the untreated rows, then the
    residualised outcome on the trained-now indicator. Its point estimate is the imputation ATT; its
    standard error is the two-stage GMM one (Butts & Gardner), not Theorem 3's, so only estimates agree."""
    import pyfixest as pf

    fit = pf.did2s(df, yname="y", first_stage="~ 0 | id + t", second_stage="~ d", treatment="d", cluster="id")
    return {"overall": [float(fit.coef()["d"]), float(fit.se()["d"])]}


def _il_two_stage(df: pd.DataFrame, covs: list[str], task: str, draws: int) -> Estimates:
    import impactlab as il

    res = il.two_stage(_il_panel(df, []))
    return {"overall": [res.estimate, res.std_error],
            "dynamic": res.elements[["event_time", "estimate", "std_error"]].to_numpy("float64").tolist()}


def _dd_two_stage(df: pd.DataFrame, covs: list[str], task: str, draws: int) -> Estimates:
    from diff_diff import TwoStageDiD

    r = TwoStageDiD().fit(df, outcome="y", unit="id", time="t", first_treat="g")
    es = r.aggregate("event_study").to_dataframe()
    es = es[~es["is_reference"]]
    return {"overall": [float(r.overall_att), float(r.overall_se)],
            "dynamic": es[["event_time", "att", "se"]].to_numpy("float64").tolist()}


#: Event window of the stacked workload.
STACKED_WINDOW = (-2, 2)


def _il_stacked(df: pd.DataFrame, covs: list[str], task: str, draws: int) -> Estimates:
    import impactlab as il

    res = il.stacked(_il_panel(df, []), window=STACKED_WINDOW, control="not_yet_treated")
    return {"overall": [res.estimate, res.std_error],
            "dynamic": res.elements[["event_time", "estimate", "std_error"]].to_numpy("float64").tolist()}


def _dd_stacked(df: pd.DataFrame, covs: list[str], task: str, draws: int) -> Estimates:
    from diff_diff import StackedDiD

    r = StackedDiD(kappa_pre=-STACKED_WINDOW[0], kappa_post=STACKED_WINDOW[1],
                   control_group="not_yet_treated").fit(df, outcome="y", unit="id", time="t", first_treat="g")
    dyn = [[float(h), float(v["effect"]), float(v["se"])] for h, v in sorted(r.event_study_effects.items())
           if h != -1]
    return {"overall": [float(r.overall_att), float(r.overall_se)], "dynamic": dyn}


def _with_dose(df: pd.DataFrame) -> pd.DataFrame:
    """The benchmark panel with a dose for the dose-response workload: 1 to 10.6 (by unit id) for trained
    units, 0 for never-trained ones (the outcome does not depend on it; the workload measures time and
    agreement)."""
    return df.assign(dose=np.where(df["g"].to_numpy() > 0, 1.0 + (df["id"].to_numpy() % 97) / 10.0, 0.0))


def _il_dose_response(df: pd.DataFrame, covs: list[str], task: str, draws: int) -> Estimates:
    import impactlab as il

    res = il.dose_response(_il_panel(_with_dose(df), ["dose"]), dose="dose", n_draws=None,
                           dose_variance=False, share_variance=False)  # diff-diff's variance
    return {"overall": [res.estimate, res.std_error]}


def _dd_dose_response(df: pd.DataFrame, covs: list[str], task: str, draws: int) -> Estimates:
    from diff_diff import ContinuousDiD

    r = ContinuousDiD().fit(_with_dose(df), outcome="y", unit="id", time="t", first_treat="g", dose="dose")
    return {"overall": [float(r.overall_att), float(r.overall_att_se)]}


def _pilot_post(df: pd.DataFrame) -> list[int]:
    start = int(df.loc[df["g"] > 0, "g"].min())
    return sorted(int(t) for t in df["t"].unique() if t >= start)


def _il_synthetic(df: pd.DataFrame, covs: list[str], task: str, draws: int) -> Estimates:
    import impactlab as il

    teams = task != "synthetic_did"
    panel = il.Panel.from_frame(df, unit="id", time="t", outcome="y", cohort="g",
                                cluster="team" if teams else None)
    fit = il.synthetic_control if task == "synthetic_control_teams" else il.synthetic_did
    res = fit(panel, unit="team" if teams else None, n_draws=draws, seed=0)
    if task == "synthetic_control_teams":  # the placebo variance has no counterpart in the peer
        return {"overall": [res.estimate, float("nan")], "placebo_se": res.std_error}
    return {"overall": [res.estimate, res.std_error]}


def _team_frame(df: pd.DataFrame) -> pd.DataFrame:
    """The per-employee pilot panel averaged by team and period (what ``unit="team"`` does in impactlab)."""
    out = df.groupby(["team", "t"], sort=True).agg(y=("y", "mean"), g=("g", "max")).reset_index()
    out["ever"] = (out["g"] > 0).astype("int64")
    return out


def _dd_synthetic_did(df: pd.DataFrame, covs: list[str], task: str, draws: int) -> Estimates:
    from diff_diff import SyntheticDiD

    post = _pilot_post(df)
    if task == "synthetic_did_teams":
        data, unit = _team_frame(df), "team"
    else:
        data, unit = df.assign(ever=(df["g"] > 0).astype("int64")), "id"
    r = SyntheticDiD(variance_method="placebo", n_bootstrap=draws, seed=0).fit(
        data, outcome="y", treatment="ever", unit=unit, time="t", post_periods=post)
    return {"overall": [float(r.att), float(r.se)]}


def _dd_synthetic_control(df: pd.DataFrame, covs: list[str], task: str, draws: int) -> Estimates:
    """diff-diff's SyntheticControl (Abadie et al.; one treated unit) on the teams, the pilot teams averaged
    into one unit, every pre-period outcome a predictor with weight one, not standardised: the least-squares
    fit on the simplex that synthdid's synthetic control solves (without its ridge of 1e-6 sigma)."""
    from diff_diff import SyntheticControl

    post = _pilot_post(df)
    teams = _team_frame(df)
    pilot = teams[teams["ever"] == 1].groupby("t", as_index=False)["y"].mean().assign(team=0, ever=1)
    cols = ["team", "t", "y", "ever"]
    data = pd.concat([teams[teams["ever"] == 0][cols], pilot[cols]])
    data["d"] = ((data["ever"] == 1) & data["t"].isin(post)).astype("int64")
    n_pre = data["t"].nunique() - len(post)
    r = SyntheticControl(v_method="custom", custom_v=np.ones(n_pre), standardize="none").fit(
        data, outcome="y", treatment="d", unit="team", time="t", post_periods=post, treated_unit=0,
        pre_period_outcomes="all")
    return {"overall": [float(r.att), float("nan")]}


def _il_triple_difference(df: pd.DataFrame, covs: list[str], task: str, draws: int) -> Estimates:
    import impactlab as il

    panel = il.Panel.from_frame(df, unit="id", time="t", outcome="y", cohort="g",
                                covariates=["eligible", "region"])
    res = il.triple_difference(panel, eligible="eligible", group="region", method="dr")
    return {"overall": [res.estimate, res.std_error]}


def _dd_triple_difference(df: pd.DataFrame, covs: list[str], task: str, draws: int) -> Estimates:
    from diff_diff import TripleDifference

    launch = int(df.loc[df["g"] > 0, "g"].min())
    reached = df.loc[df["g"] > 0, "region"].unique()
    data = df.assign(G=df["region"].isin(reached).astype("int64"), post=(df["t"] >= launch).astype("int64"))
    r = TripleDifference(estimation_method="dr", cluster="id").fit(
        data, outcome="y", group="G", partition="eligible", post="post")
    return {"overall": [float(r.att), float(r.se)]}


ADAPTERS: dict[tuple[str, str], Callable[..., Estimates]] = {
    **{("impactlab", t): _il_synthetic for t in ("synthetic_did", "synthetic_did_teams",
                                                 "synthetic_control_teams")},
    ("diff-diff", "synthetic_did"): _dd_synthetic_did,
    ("diff-diff", "synthetic_did_teams"): _dd_synthetic_did,
    ("diff-diff", "synthetic_control_teams"): _dd_synthetic_control,
    ("impactlab", "triple_difference"): _il_triple_difference,
    ("diff-diff", "triple_difference"): _dd_triple_difference,
    ("impactlab", "dose_response"): _il_dose_response,
    ("diff-diff", "dose_response"): _dd_dose_response,
    ("impactlab", "two_stage"): _il_two_stage,
    ("diff-diff", "two_stage"): _dd_two_stage,
    ("pyfixest", "two_stage"): _pyfixest_did2s,
    ("impactlab", "stacked"): _il_stacked,
    ("diff-diff", "stacked"): _dd_stacked,
    ("impactlab", "imputation"): _il_imputation,
    ("diff-diff", "imputation"): _dd_imputation,
    ("pyfixest", "imputation"): _pyfixest_did2s,
    **{("impactlab", t): _il_cs for t in ("cs", "cs_dynamic", "cs_boot", "cs_unbalanced")},
    ("impactlab", "twfe"): _il_twfe,
    ("impactlab-suffstats", "cs"): _il_suffstats,
    ("impactlab", "sun_abraham"): _il_sun_abraham,
    **{("diff-diff", t): _dd_cs for t in ("cs", "cs_dynamic", "cs_boot", "cs_unbalanced")},
    **{("csdid", t): _csdid_cs for t in ("cs", "cs_dynamic", "cs_boot", "cs_unbalanced")},
    **{("differences", t): _differences_cs for t in ("cs", "cs_dynamic", "cs_boot")},
    ("pyfixest", "twfe"): _pyfixest_twfe,
    ("linearmodels", "twfe"): _linearmodels_twfe,
    ("diff-diff", "sun_abraham"): _dd_sun_abraham,
    ("pyfixest", "sun_abraham"): _pyfixest_sun_abraham,
}
#: Imported before the timer starts (import time is not estimation time; JIT compilation on first use is).
IMPORTS = {"impactlab": "impactlab.estimators", "impactlab-suffstats": "impactlab.estimators",
           "diff-diff": "diff_diff", "csdid": "csdid.att_gt",
           "differences": "differences", "pyfixest": "pyfixest", "linearmodels": "linearmodels.panel",
           "drdid": "drdid._estimators"}
ARRAY_ADAPTERS = {("impactlab", "dr2x2"): _il_dr2x2, ("drdid", "dr2x2"): _drdid_dr2x2}


def _resident_mb() -> float | None:
    """Resident memory of this process now (MB), ``None`` where ``/proc`` is missing."""
    try:
        with open("/proc/self/status") as fh:
            return next(int(x.split()[1]) for x in fh if x.startswith("VmRSS")) / 1024.0
    except (OSError, StopIteration):
        return None


def _release_arrow_pool() -> None:
    """Give back the buffers Arrow's allocator keeps after the Parquet read (about half a GB at 1M × 10),
    for every tool alike, so that what a tool allocates afterwards is not hidden behind them."""
    try:
        import pyarrow as pa
    except ImportError:  # pragma: no cover - pandas read the file with pyarrow
        return
    pa.default_memory_pool().release_unused()


#: Share of the rows the unbalanced workload leaves out (the same rows for every tool).
DROP_SHARE = 0.1


def drop_rows(df: pd.DataFrame, share: float = DROP_SHARE, seed: int = 7) -> pd.DataFrame:
    """The benchmark panel with a seeded random ``share`` of its rows left out (untimed): units with gaps,
    as when KPI months are missing, for the unbalanced-panel workload."""
    keep = np.random.default_rng(seed).random(len(df)) >= share
    return df.loc[keep].reset_index(drop=True)


def needed_columns(task: str, covs: list[str]) -> list[str]:
    """The columns of the benchmark file a task reads (every tool reads the same ones), so that the peak
    memory of a worker is the tool's, not that of columns it never touches."""
    cols = ["id", "t", "g", "y", *covs]
    if task in ("twfe", "imputation", "two_stage"):
        cols.append("d")
    if task in ("synthetic_did_teams", "synthetic_control_teams"):
        cols.append("team")
    if task == "triple_difference":
        cols += ["eligible", "region"]
    return list(dict.fromkeys(cols))


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("tool")
    ap.add_argument("task")
    ap.add_argument("data", type=Path)
    ap.add_argument("out", type=Path)
    ap.add_argument("--covariates", default="")
    ap.add_argument("--draws", type=int, default=999)
    a = ap.parse_args(argv)
    covs = [c for c in a.covariates.split(",") if c]
    report: dict[str, Any] = {"tool": a.tool, "task": a.task}
    warnings.simplefilter("ignore")
    try:
        importlib.import_module(IMPORTS[a.tool])
        df = pd.read_parquet(a.data, columns=needed_columns(a.task, covs))
        if a.task == "cs_unbalanced":
            df = drop_rows(df)
        report["rss_after_load_mb"] = _rss_mb()
        _release_arrow_pool()
        report["resident_after_load_mb"] = _resident_mb()
        if (a.tool, a.task) in ARRAY_ADAPTERS:
            arrays = _cell_arrays(df, covs)
            del df
            cpu = time.process_time()
            start = time.perf_counter()
            est = ARRAY_ADAPTERS[a.tool, a.task](arrays)
        else:
            cpu = time.process_time()
            start = time.perf_counter()
            est = ADAPTERS[a.tool, a.task](df, covs, a.task, a.draws)
        report.update(status="ok", seconds=time.perf_counter() - start, estimates=est,
                      cpu_seconds=time.process_time() - cpu)
        report["peak_mb"] = _rss_mb()
    except Exception as exc:  # noqa: BLE001 - a failing peer is a result to report, not a crash
        report.update(status="error", error=f"{type(exc).__name__}: {str(exc)[:300]}")
    a.out.write_text(json.dumps(report))
    return 0


if __name__ == "__main__":
    sys.exit(main())
