""":func:`evaluate`: the one call an analyst makes. It fits the imputation estimator (every employee kept),
sets the anticipation window when the data show a dip before training, runs the checks that decide whether
the number may be called causal, and puts the naive numbers beside it.

The dip rule (docs/explanation.md, "evaluate: the one call, its checks and the dip rule"): a probe
Callaway–Sant'Anna event study with a universal base period ``PROBE + 1`` periods before training measures
the level of the trained, relative to the comparison group, in each of the ``PROBE`` periods just before
training. The anticipation window is the furthest of those periods whose deviation is significant at 5 %
(two-sided, Bonferroni over the ``PROBE`` periods), and 0 when none is. A window that reaches the probe's
edge (the dip may start earlier than the check can see) fails the check. With fewer than ``FEW_CLUSTERS``
clusters the widest window, ``PROBE - 1``, is used. Its coverage and false-alarm rate on the simulator are
in docs/validation.md.
"""

from __future__ import annotations

import warnings
from collections.abc import Sequence
from dataclasses import dataclass, replace
from typing import Any

import numpy as np
import pandas as pd
from scipy import stats

from impactlab.analysis.compare import beside
from impactlab.analysis.suggest import advise
from impactlab.errors import EstimationError
from impactlab.estimators._common import check_panel, resolve_covariates
from impactlab.estimators.callaway_santanna import callaway_santanna
from impactlab.estimators.imputation import ImputationResult, imputation
from impactlab.estimators.imputation_wild import WildImputationResult, imputation_wild
from impactlab.estimators.inference import demean
from impactlab.panel import Panel
from impactlab.results.base import EffectResult, critical_value
from impactlab.results.compare import CompareResult
from impactlab.results.evaluation import CHECK_COLUMNS, Evaluation
from impactlab.results.evaluation import number as _fmt
from impactlab.results.explain import pretrend_test

__all__ = ["evaluate"]

#: Periods before training the dip check looks at (the largest anticipation window it can set is
#: ``PROBE - 1``: a deviation in the furthest period fails the check).
PROBE = 4
#: Family-wise size of the dip check over the ``PROBE`` periods (two-sided, Bonferroni).
DIP_ALPHA = 0.05
#: p-value below which the joint pre-training test fails (warns below 0.05): strict, because a test over
#: many event times, some estimated from small cohorts, rejects more often than its size; a smooth trend is
#: caught with more power by the trend check.
PRETREND_FAIL = 0.001
#: |z| of the pre-training slope above which the trend check fails (two-sided 1 %).
TREND_Z = float(stats.norm.ppf(0.995))
#: Pre-training event times with fewer observations than this (or than this share of the best-supported
#: one) do not decide the joint test: a lead resting on a handful of employees has a standard error that
#: understates its noise, and one such lead alone made the test reject on the simulator.
MIN_LEAD_OBS = 30
MIN_LEAD_SHARE = 0.1
#: Share of employees with KPI rows the estimator must use to pass (fails below half).
USED_PASS = 0.9
#: Clusters below which clustered standard errors are unreliable (Cameron, Gelbach & Miller 2008); below
#: it the headline interval comes from the wild cluster bootstrap (``WILD_DRAWS`` Webb draws), validated on
#: the simulator from ``MIN_CLUSTERS`` clusters (docs/validation.md); with fewer the clusters check fails.
FEW_CLUSTERS = 40
WILD_DRAWS = 9999
MIN_CLUSTERS = 4
#: Smallest cohort, and comparison group, that pass without a warning.
SMALL_COHORT = 10
SMALL_CONTROL = 30


@dataclass(frozen=True)
class _Dip:
    anticipation: int
    row: dict[str, str]


@dataclass(frozen=True)
class _Fit:
    effect: EffectResult
    event_study: EffectResult
    units_used: set[Any]


def evaluate(panel: Panel, *, covariates: Sequence[str] | None = None, level: float = 0.95,
             truth: float | None = None, seed: int | None = 0) -> Evaluation:
    """Estimate the effect of training on the panel's outcome, right by default, with the checks that say
    whether the number may be called causal.

    The estimator is the imputation estimator of Borusyak, Jaravel & Spiess (2024): unit and period
    effects fitted on every untrained observation (never trained, not yet trained), so hires and leavers
    keep every row; on ``simulate_org`` its interval covers the truth where balanced Callaway–Sant'Anna
    drops about 40 % of the employees (docs/validation.md). When the months just before training show a dip
    (or a rise) in the trained employees' outcome, the anticipation window is set to cover it by the rule
    of the module docstring and the ``dip`` check says so. The checks (``.checks``): pre-training effects
    (joint test and the largest deviation), the pre-training trend, the dip, the share of employees and
    observations used, turnover, the number of clusters, propensity overlap (with covariates), cohort sizes
    and the size of the comparison group.

    Parameters
    ----------
    panel : Panel
        The employee × period panel; it is not modified.
    covariates : sequence of str, optional
        Panel covariates to condition on (``None``: none, even when the panel has some).
    level : float
        Confidence level of the intervals.
    truth : float, optional
        The true effect (simulated data), shown beside the estimates in ``.naive``; taken from
        ``panel.truth`` when the panel has one.
    seed : int, optional
        Seed of the wild cluster bootstrap draws used with fewer than ``FEW_CLUSTERS`` clusters (the same
        seed gives the same interval; ``None`` draws one and records it in ``spec``).

    Returns
    -------
    Evaluation
        ``.estimate``, ``.conf_int(level)``, ``.causal`` (True only when no check fails), ``.checks``,
        ``.event_study``, ``.naive``; ``.explain()`` says in its first sentence why a number is not causal.
        ``.suggestions`` names the designs the data call for, each measured on the simulator first (a pilot
        in a few teams: synthetic DiD on the teams; other programmes taken by the same employees:
        ``portfolio``), with a check that warns where evaluate's own interval or reading is at risk; see
        :mod:`impactlab.analysis.suggest`. The estimate is the same either way.

    Raises
    ------
    EstimationError
        When no estimate can be computed (no trained or no comparison employees).

    Examples
    --------
    >>> import impactlab as il
    >>> ev = il.evaluate(il.datasets.example_panel())        # doctest: +SKIP
    >>> ev.checks[["check", "status"]]                         # doctest: +SKIP
    """
    panel = check_panel(panel, "evaluate")
    covs = resolve_covariates(panel, covariates)
    critical_value(level)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        n_clusters = int(_unit_frame(panel)["cluster"].nunique())
        pr = probe(panel, covs)
        dip = _dip_rule(pr, n_clusters)
        if n_clusters < FEW_CLUSTERS and dip.row["status"] != "fail":
            dip = _Dip(PROBE - 1, _row(
                "dip before training", "warn", dip.row["seen"],
                f"with {n_clusters} clusters a dip cannot be measured reliably: the widest window the check "
                f"allows ({PROBE - 1} periods before training) is left out of the comparison."))
        if seed is None:
            seed = int(np.random.default_rng().integers(0, 2**31 - 1))
        fit = _fit(panel, dip.anticipation, covs, int(seed))
        naive = _naive(panel, covs, dip.anticipation, fit.effect, truth)
    notes = tuple(dict.fromkeys(str(w.message) for w in caught))
    checks = [_pretrends(fit.event_study, n_clusters), _trend(panel, dip.anticipation, n_clusters), dip.row,
              *_usage(panel, fit), _clusters(panel, fit.effect), _overlap(panel, covs),
              *_cohorts(panel, dip.anticipation)]
    advice = advise(panel, wild=isinstance(fit.effect, WildImputationResult), anticipation=dip.anticipation)
    checks += advice.checks  # rows only where a design is suggested or the interval is at risk
    table = pd.DataFrame(checks, columns=list(CHECK_COLUMNS))
    spec = {"covariates": covs, "level": level, "anticipation": dip.anticipation,
            "estimator": fit.effect.method, "n_clusters": n_clusters,
            "inference": (f"wild cluster bootstrap (WCR, null imposed, {WILD_DRAWS:,} Webb draws, seed "
                          f"{seed})" if isinstance(fit.effect, WildImputationResult) else
                          "clustered, CR1 and Student's t" if n_clusters < FEW_CLUSTERS else "clustered"),
            "seed": seed, "estimator_notes": notes}
    return Evaluation(effect=fit.effect, checks=table, event_study=fit.event_study, naive=naive,
                      anticipation=dip.anticipation, spec=spec, suggestions=advice.suggestions)


# ------------------------------------------------------------------------------------------ fitting
def _fit(panel: Panel, anticipation: int, covs: list[str], seed: int = 0) -> _Fit:
    res = imputation(panel, anticipation=anticipation, covariates=time_varying(panel, covs) or None)
    dropped = set(res.excluded.loc[res.excluded["what"] == "unit", "id"]) if len(res.excluded) else set()
    units = set(_unit_frame(panel)["unit"]) - dropped
    effect: EffectResult = res
    event_study: EffectResult = res
    frame = _unit_frame(panel)
    used = frame[frame["unit"].isin(units)]
    g = int(used["cluster"].nunique())
    if g < FEW_CLUSTERS:
        # the information is in the clusters with trained employees and those without: the smaller count
        g_trained = int(used.loc[used["cohort_period"] > 0, "cluster"].nunique())
        g_eff = min(g, g_trained + 1, g - g_trained + 1) if 0 < g_trained < g else g
        effect, event_study = few_clusters(effect, g, g_eff), few_clusters(event_study, g, g_eff)
        if g >= 2 and isinstance(effect, ImputationResult):
            effect = imputation_wild(panel, effect, n_draws=WILD_DRAWS, seed=seed,
                                     scale=float(np.sqrt(g / (g - 1))))
    return _Fit(effect=effect, event_study=event_study, units_used=units)


def few_clusters(result: EffectResult, n_clusters: int, effective: int | None = None) -> EffectResult:
    """The result with small-cluster inference: clustered standard errors scaled by ``sqrt(G / (G - 1))``
    (CR1) and intervals and tests from Student's t with ``effective - 1`` degrees of freedom (``G - 1`` by
    default; Cameron, Gelbach & Miller 2008; Bester, Conley & Hansen 2011). A new result; ``result`` is
    not changed."""
    if n_clusters < 2:
        return result
    dof = max((n_clusters if effective is None else effective) - 1, 1)
    scale = float(np.sqrt(n_clusters / (n_clusters - 1)))
    elements = None
    if result.elements is not None:
        elements = result.elements.copy()
        elements["std_error"] = elements["std_error"] * scale
        if "crit" in elements:
            elements = elements.drop(columns=["crit"])
    vcov = None if result.element_vcov is None else np.asarray(result.element_vcov) * scale**2
    note = (f"{n_clusters} clusters: standard errors scaled by sqrt(G/(G-1)) and intervals from Student's t "
            f"with {dof} degrees of freedom")
    return replace(result, std_error=result.std_error * scale, df=float(dof), elements=elements,
                   element_vcov=vcov, notes=(*result.notes, note))


def time_varying(panel: Panel, covs: Sequence[str]) -> list[str]:
    """The covariates that change within some employee: the others are absorbed by the employee effects of
    the imputation estimator (they still enter the overlap check and the naive regressions)."""
    if not covs:
        return []
    long = panel.long()
    spread = long.groupby("unit", sort=False, observed=True)[list(covs)].nunique(dropna=False).max()
    return [c for c in covs if int(spread[c]) > 1]


def _naive(panel: Panel, covs: list[str], anticipation: int, effect: EffectResult, truth: float | None
           ) -> CompareResult | None:
    """The naive and regression numbers of :func:`compare` beside the evaluation's own estimate, which is
    the comparison's causal row: a chart, a deck or a summary made from it shows the evaluation's number."""
    try:
        return beside(panel, effect, covs, truth=truth,
                      spec={"anticipation": anticipation, "causal": "the evaluation's estimate"})
    except EstimationError:
        return None


def _unit_frame(panel: Panel) -> pd.DataFrame:
    """One row per unit: its cohort period (0 = never trained), cluster and number of observations."""
    long = panel.long()
    return (long.groupby("unit", sort=False, observed=True)
            .agg(cohort_period=("cohort_period", "first"), cluster=("cluster", "first"),
                 n_obs=("period", "size"))
            .reset_index())


def _row(check: str, status: str, seen: str, meaning: str, what_to_do: str = "") -> dict[str, str]:
    return dict(zip(CHECK_COLUMNS, (check, status, seen, meaning, what_to_do), strict=True))


# ------------------------------------------------------------------------------------------ the dip rule
@dataclass(frozen=True)
class Probe:
    """Event study of levels: the trained relative to the comparison group at each event time, measured
    from the period ``PROBE + 1`` before training (Callaway–Sant'Anna, not yet trained, universal base,
    anticipation ``PROBE``)."""

    elements: pd.DataFrame     # event_time, estimate, std_error
    vcov: np.ndarray


def probe(panel: Panel, covs: Sequence[str] = ()) -> Probe | None:
    """The level event study the dip and trend checks read; ``None`` when it cannot be fitted (too few
    periods before the first training)."""
    try:
        dyn = callaway_santanna(panel, control="not_yet_treated", anticipation=PROBE,
                                base_period="universal", covariates=list(covs) or None).aggregate("dynamic")
    except EstimationError:
        return None
    if dyn.elements is None or dyn.element_vcov is None:
        return None
    return Probe(elements=dyn.elements[["event_time", "estimate", "std_error"]].reset_index(drop=True),
                 vcov=np.asarray(dyn.element_vcov, dtype="float64"))


def dip_deviations(pr: Probe | None) -> pd.DataFrame | None:
    """Level of the trained relative to the comparison group in each of the ``PROBE`` periods before
    training, from the period ``PROBE + 1`` before it: event_time, estimate, std_error, z."""
    if pr is None:
        return None
    el = pr.elements
    el = el[(el["event_time"] >= -PROBE) & (el["event_time"] <= -1) & (el["std_error"] > 0)].copy()
    el["z"] = el["estimate"] / el["std_error"]
    return el.reset_index(drop=True)


def pre_trend(panel: Panel, anticipation: int = 0) -> tuple[float, float, int] | None:
    """Differential linear trend of the trained before training: the slope per period of the
    eventually-trained employees' outcome, relative to the others', fitted with unit and period effects on
    every observation before the anticipation window (event times before ``-anticipation``; never-trained
    employees in every period), in the spirit of the pre-trend test of Borusyak, Jaravel & Spiess (2024).
    Standard error clustered on the panel's cluster (CR1). Returns (slope, standard error, number of
    clusters); ``None`` when the slope is not identified."""
    long = panel.long()
    g = long["cohort_period"].to_numpy()
    t = long["period"].to_numpy()
    keep = (g <= 0) | (t < g - anticipation)
    if not keep.any():
        return None
    x = np.where(g > 0, t - g, 0).astype("float64")[keep]
    y = long["outcome"].to_numpy(dtype="float64")[keep]
    units = long["unit"].to_numpy()[keep]
    both = demean(np.column_stack([y, x]), [units, t[keep]])
    yt, xt = both[:, 0], both[:, 1]
    sxx = float(xt @ xt)
    if sxx <= 1e-9 * max(float(x @ x), 1.0):
        return None
    slope = float(xt @ yt) / sxx
    score = xt * (yt - slope * xt)
    codes, uniq = pd.factorize(long["cluster"].to_numpy()[keep])
    n_g = len(uniq)
    if n_g < 2:
        return None
    sums = np.bincount(codes, weights=score, minlength=n_g)
    n = len(y)
    adj = n_g / (n_g - 1) * (n - 1) / max(n - 2, 1)
    return slope, float(np.sqrt(adj * float(sums @ sums)) / sxx), n_g


def _crit(q: float, n_clusters: int | None) -> tuple[float, float]:
    """Critical value at quantile ``q`` and the CR1 scale of standard errors: normal, or with fewer than
    ``FEW_CLUSTERS`` clusters Student's t with ``G - 1`` degrees of freedom and ``sqrt(G / (G - 1))``."""
    if n_clusters is None or n_clusters >= FEW_CLUSTERS or n_clusters < 2:
        return float(stats.norm.ppf(q)), 1.0
    return float(stats.t.ppf(q, n_clusters - 1)), float(np.sqrt(n_clusters / (n_clusters - 1)))


def dip_window(deviations: pd.DataFrame | None, n_clusters: int | None = None) -> int:
    """The anticipation window the dip rule sets: the furthest period before training whose deviation is
    significant (two-sided, ``DIP_ALPHA`` Bonferroni over ``PROBE`` periods; with fewer than
    ``FEW_CLUSTERS`` clusters, Student's t with ``G - 1`` degrees of freedom on CR1-scaled standard
    errors), 0 when none is."""
    if deviations is None or not len(deviations):
        return 0
    crit, scale = _crit(1 - DIP_ALPHA / (2 * PROBE), n_clusters)
    sig = deviations.loc[np.abs(deviations["z"].to_numpy()) / scale > crit, "event_time"]
    return int(-sig.min()) if len(sig) else 0


def dip_seen(deviations: pd.DataFrame, event: str = "training") -> str:
    """What the dip check saw, for its row: each period's level against the reference, before ``event``."""
    levels = ", ".join(f"{int(e)}: {_fmt(float(v))}" for e, v in zip(deviations["event_time"],
                                                                      deviations["estimate"], strict=True))
    return f"level vs {PROBE + 1} periods before {event}, by period: {levels}"


def _dip_rule(pr: Probe | None, n_clusters: int) -> _Dip:
    dev = dip_deviations(pr)
    if dev is None or not len(dev):
        return _Dip(0, _row("dip before training", "warn", "could not be measured (too few periods before "
                            "the first training)", "a dip before training would bias the estimate upward "
                            "and cannot be ruled out here."))
    a = dip_window(dev, n_clusters)
    seen = dip_seen(dev)
    if a == 0:
        return _Dip(0, _row("dip before training", "pass", seen, "no significant change in the periods "
                            "just before training; no anticipation window."))
    if a >= PROBE:
        return _Dip(PROBE - 1, _row(
            "dip before training", "fail", seen,
            f"the outcome of the trained moves as early as {PROBE} periods before training, as far back as "
            "this check can see: a dip that long, or trends that differ, cannot be separated from the "
            "effect.",
            "Find out when employees were nominated and whether those sent to training were chosen after a "
            "bad spell; the number cannot be called causal from these data."))
    return _Dip(a, _row("dip before training", "warn", seen,
                        f"the trained dip (or rise) in the {a} period(s) before training: those periods are "
                        f"left out of the comparison (anticipation window of {a}), so the dip does not "
                        "inflate the effect."))


# ------------------------------------------------------------------------------------------ the checks
def _pretrends(event_study: EffectResult, n_clusters: int) -> dict[str, str]:
    test = pretrend_test(event_study)
    if test is None:
        return _row("pre-training effects", "warn", "no pre-training periods to test",
                    "parallel trends cannot be checked.")
    leads = getattr(event_study, "leads", None)
    if leads is not None and len(leads):
        pre = leads[leads["std_error"] > 0]
    else:
        el = event_study.elements
        assert el is not None  # pretrend_test found pre-training elements
        first = -int(event_study.spec.get("anticipation", 0) or 0)
        pre = el[(el["event_time"] < first) & (el["std_error"] > 0)]
    z = (pre["estimate"] / pre["std_error"]).abs()
    seen = f"joint test {test}"
    if len(pre):
        worst = pre.loc[z.idxmax()]
        seen += (f"; largest deviation {_fmt(float(worst['estimate']))} at event time "
                 f"{int(worst['event_time'])} ({float(z.max()):.1f} SE)")
    supported = pre
    if "n_obs" in pre:
        supported = pre[pre["n_obs"] >= max(MIN_LEAD_OBS, MIN_LEAD_SHARE * float(pre["n_obs"].max()))]
    if len(supported) < len(pre):
        chi2 = float(((supported["estimate"] / supported["std_error"]) ** 2).sum())
        p_supported = float(stats.chi2.sf(chi2, len(supported))) if len(supported) else 1.0
        seen += (f"; over the {len(supported)} event times with at least {MIN_LEAD_SHARE:.0%} of the "
                 f"observations of the best-supported one: chi2({len(supported)}) = {chi2:.2f}, "
                 f"p = {p_supported:.3f} (diagonal)")
        test = replace(test, p_value=max(test.p_value, p_supported))
    if n_clusters < FEW_CLUSTERS and test.df >= n_clusters - 1:
        return _row("pre-training effects", "warn" if test.p_value < 0.05 else "pass", seen,
                    f"with {n_clusters} clusters, a joint test of {test.df} event times has no reliable "
                    "size; the pre-training trend check is the one to read.")
    if test.p_value < PRETREND_FAIL:
        return _row("pre-training effects", "fail", seen,
                    "before training, the trained already moved differently from the comparison group: "
                    "the gap after training mixes that difference with the effect.",
                    "The data cannot separate that difference from the effect; .event_study shows when the "
                    "groups part.")
    if test.p_value < 0.05:
        return _row("pre-training effects", "warn", seen,
                    f"some difference before training (p < 0.05), short of the {PRETREND_FAIL} that fails "
                    "the check; .event_study shows where.")
    return _row("pre-training effects", "pass", seen,
                "no clear difference in trends before training (a test that passes is not proof).")


def _trend(panel: Panel, anticipation: int, n_clusters: int) -> dict[str, str]:
    fit = pre_trend(panel, anticipation)
    if fit is None:
        return _row("pre-training trend", "warn", "too few periods before training to fit a trend",
                    "a trend that differs before training cannot be ruled out.")
    slope, se, _ = fit
    z = slope / se
    seen = (f"before training, the trained drift by {_fmt(slope)} per period (SE {_fmt(se)}, z = {z:.1f}) "
            "relative to the others")
    crit = TREND_Z if n_clusters >= FEW_CLUSTERS else float(stats.t.ppf(0.995, max(n_clusters - 1, 1)))
    if abs(z) > crit:
        return _row("pre-training trend", "fail", seen,
                    "the trained were already trending away from the comparison group before training; "
                    "the same trend after training would be read as an effect.",
                    "The data cannot separate that trend from the effect of training.")
    return _row("pre-training trend", "pass", seen, "no clear difference in trend before training.")


def _usage(panel: Panel, fit: _Fit) -> list[dict[str, str]]:
    units = _unit_frame(panel)
    n_units = len(units)
    used = units["unit"].isin(fit.units_used)
    share = used.mean() if n_units else 0.0
    obs_share = units.loc[used, "n_obs"].sum() / max(units["n_obs"].sum(), 1)
    seen = (f"{int(used.sum()):,} of {n_units:,} employees with KPI rows ({share:.0%}), {obs_share:.0%} of "
            "the observations")
    if share >= USED_PASS:
        row = _row("employees used", "pass", seen, "the estimate speaks for (nearly) everyone with data.")
    else:
        row = _row("employees used", "warn" if share >= 0.5 else "fail", seen,
                   "the estimator left out employees not observed in every period (hires and leavers); "
                   "the estimate speaks for the employees who stayed throughout.",
                   "See .effect.excluded for who was left out.")
    per = panel.n_periods
    moved = int((units["n_obs"] < per).sum())
    turnover = _row("turnover", "pass" if moved == 0 or share >= USED_PASS else "warn",
                    f"{moved:,} of {n_units:,} employees ({moved / max(n_units, 1):.0%}) joined or left "
                    f"during the {per} periods",
                    "hires and leavers are kept by the estimator." if share >= USED_PASS else
                    "hires and leavers are dropped by the estimator; if leaving is related to the gain "
                    "from training, the estimate is biased.")
    return [row, turnover]


def _clusters(panel: Panel, effect: EffectResult) -> dict[str, str]:
    units = _unit_frame(panel)
    g = int(units["cluster"].nunique())
    what = "employees" if panel.cluster is None else f"values of {panel.cluster!r}"
    seen = f"standard errors clustered on {g:,} {what}"
    if g >= FEW_CLUSTERS:
        return _row("clusters", "pass", seen, "enough clusters for clustered standard errors.")
    if g < MIN_CLUSTERS or not isinstance(effect, WildImputationResult):
        return _row("clusters", "fail", seen,
                    f"with fewer than {MIN_CLUSTERS} clusters no interval is reliable: the wild cluster "
                    f"bootstrap used from {MIN_CLUSTERS} to {FEW_CLUSTERS - 1} clusters has not been "
                    "validated on so few.",
                    "If training was not assigned by these groups and outcomes are not shared within them, "
                    "build the panel without cluster= (the employee).")
    seen += (f"; headline interval from the wild cluster bootstrap (WCR, null imposed, "
             f"{effect.n_draws:,} {effect.multiplier} draws, seed {effect.seed})")
    return _row("clusters", "warn", seen,
                f"with fewer than {FEW_CLUSTERS} clusters clustered standard errors are too small, so the "
                "interval comes from the wild cluster bootstrap: it held the truth in 100 %, 96.5 % and "
                "93 % of simulated organisations with training assigned by 4, 6 and 12 teams "
                "(docs/validation.md). It is wide when few clusters are trained or few are not; the "
                "event-study intervals use Student's t with few degrees of freedom.",
                "If training was not assigned by these groups and outcomes are not shared within them, build "
                "the panel without cluster= (the employee) for a narrower interval.")


def _overlap(panel: Panel, covs: list[str]) -> dict[str, str]:
    if not covs:
        return _row("propensity overlap", "pass", "no covariates", "not needed without covariates.")
    from impactlab.estimators._logit import fit_logit

    long = panel.long()
    first = long.groupby("unit", sort=False, observed=True)[["cohort_period", *covs]].first()
    x = np.column_stack([np.ones(len(first)), first[covs].to_numpy(dtype="float64")])
    d = (first["cohort_period"].to_numpy() > 0).astype("float64")
    try:
        ps = np.asarray(fit_logit(x, d).fitted)
    except EstimationError as err:
        return _row("propensity overlap", "fail", f"the propensity model could not be fitted: {err}",
                    "trained and untrained employees do not overlap on the covariates.")
    extreme = float(np.mean((ps < 0.01) | (ps > 0.99)))
    seen = (f"propensity of being trained {ps.min():.3f} to {ps.max():.3f}; {extreme:.1%} of employees "
            "below 0.01 or above 0.99")
    if extreme > 0.05:
        return _row("propensity overlap", "warn", seen, "some trained employees have no comparable untrained "
                    "ones; the estimate leans on few comparisons.")
    return _row("propensity overlap", "pass", seen, "trained and untrained employees overlap.")


def _cohorts(panel: Panel, anticipation: int) -> list[dict[str, str]]:
    units = _unit_frame(panel)
    sizes = units.loc[units["cohort_period"] > 0, "cohort_period"].value_counts().sort_index()
    smallest = int(sizes.min()) if len(sizes) else 0
    seen = f"{len(sizes)} cohort(s), smallest {smallest} employee(s)"
    cohorts = (_row("cohort sizes", "pass", seen, "every cohort is large enough to estimate.")
               if smallest >= SMALL_COHORT else
               _row("cohort sizes", "warn", seen, f"cohorts under {SMALL_COHORT} employees give noisy "
                    "effects and standard errors that miss their own variability."))
    never = int((units["cohort_period"] <= 0).sum())
    last = int(sizes.index.max()) if len(sizes) else 0
    seen = f"{never:,} never-trained employees; {len(sizes)} cohort(s) trained at different times"
    if never >= SMALL_CONTROL or len(sizes) > 1:
        control = _row("comparison group", "pass" if never >= SMALL_CONTROL else "warn", seen,
                       "the not-yet-trained and never-trained are compared with the trained.")
    else:
        start = last - anticipation  # position of the cohort's first period affected, 1-based
        when = str(panel.periods[start - 1]) if 1 <= start <= len(panel.periods) else f"period {start}"
        control = _row("comparison group", "fail", seen,
                       f"only {never:,} never-trained employees (fewer than {SMALL_CONTROL}) and one cohort: "
                       f"from {when} on, every comparison rests on them, too few to compare with.",
                       "Add employees who were not trained to the data.")
    return [cohorts, control]
