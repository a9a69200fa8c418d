"""Plain-language findings: what a result lets the analyst claim, and what it does not.

Every result's ``explain()`` returns an :class:`Explanation`, which prints as text (for speaker notes and
logs) and renders as HTML in a notebook. The text is built from the result alone: the estimate and its
interval, the method's identifying assumption, the comparison group, the pre-trend test when the result
holds pre-training event times, and the caveats the estimator recorded.

References
----------
B. Callaway and P. H. C. Sant'Anna (2021), "Difference-in-differences with multiple time periods",
*Journal of Econometrics* 225(2), 200-230.
A. Goodman-Bacon (2021), "Difference-in-differences with variation in treatment timing", *Journal of
Econometrics* 225(2), 254-277.
O. Ashenfelter (1978), "Estimating the effect of training programs on earnings", *Review of Economics and
Statistics* 60(1), 47-57.
J. Roth (2022), "Pretest with caution: event-study estimates after testing for parallel trends",
*American Economic Review: Insights* 4(3), 305-322.
"""

from __future__ import annotations

import html
import math
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np
from scipy import stats

from impactlab.results.probability import fmt_prob, fmt_prob_positive

__all__ = ["Explanation", "PretrendTest", "explain_chain", "explain_compare", "explain_effect",
           "explain_exposure", "explain_level", "explain_power", "explain_roi", "explain_roi_sensitivity",
           "explain_self_estimates", "explain_sensitivity", "pretrend_test"]


@dataclass(frozen=True)
class PretrendTest:
    """Joint Wald test that every pre-training event-time effect is zero.

    Attributes
    ----------
    statistic : float
        ``b' V^-1 b`` over the pre-training estimates ``b`` with covariance ``V``.
    df : int
        Number of pre-training event times tested.
    p_value : float
        Upper tail of the chi-squared distribution with ``df`` degrees of freedom (of the F distribution
        with ``df`` and ``df_denom`` when ``distribution="F"``).
    covariance : str
        ``"joint"`` when the estimator's element covariance was used, ``"diagonal"`` when only standard
        errors were available (the test then ignores correlation between event times).
    distribution : str
        ``"chi2"``, or ``"F"`` when the estimator's own test is reported (an event study with t-based
        inference: the statistic is then ``b' V⁻¹ b / df``).
    df_denom : float or None
        Denominator degrees of freedom of the F distribution.
    """

    statistic: float
    df: int
    p_value: float
    covariance: str = "joint"
    distribution: str = "chi2"
    df_denom: float | None = None

    def __str__(self) -> str:
        if self.distribution == "F" and self.df_denom is not None:
            return f"F({self.df}, {self.df_denom:g}) = {self.statistic:.2f}, p = {self.p_value:.3f}"
        return f"chi2({self.df}) = {self.statistic:.2f}, p = {self.p_value:.3f}"


def pretrend_test(result: Any) -> PretrendTest | None:
    """Joint test of the pre-training effects of an event-study result, or ``None`` when it has none.

    A result that carries its estimator's own joint test (``result.pretrend``, as the results of
    :func:`impactlab.event_study` do) reports that test, so that the explanation and the result's summary
    agree; otherwise the test is computed here from the pre-training elements and their covariance
    (chi-squared).

    Parameters
    ----------
    result : EffectResult
        A result whose ``elements`` have an ``event_time`` column (e.g.
        ``callaway_santanna(panel).aggregate("dynamic")``).

    Returns
    -------
    PretrendTest or None
        ``None`` when there are no finite pre-training estimates. With ``anticipation=a`` in the result's
        spec, event times ``-a`` to ``-1`` are left out (they may already show the effect).

    Notes
    -----
    A large p-value is not proof of parallel trends: the test has little power against smooth violations,
    and conditioning the analysis on passing it distorts later inference (Roth 2022).
    """
    own = getattr(result, "pretrend", None)
    if own is not None and all(hasattr(own, a) for a in ("statistic", "df", "p_value", "distribution")):
        # the estimator's own joint test (an event study's, e.g. F with cluster degrees of freedom): the
        # explanation then quotes the number its summary and chart show
        return PretrendTest(statistic=float(own.statistic), df=int(own.df), p_value=float(own.p_value),
                            covariance="joint", distribution=str(own.distribution),
                            df_denom=getattr(own, "df_denom", None))
    el = getattr(result, "elements", None)
    if el is None or "event_time" not in el:
        return None
    spec = getattr(result, "spec", None) or {}
    # event times inside the anticipation window may carry the effect already: they are not placebos
    first_effect = -int(spec.get("anticipation", 0) or 0)
    est_all = el["estimate"].to_numpy(dtype="float64")
    se_all = el["std_error"].to_numpy(dtype="float64")
    pre = (el["event_time"].to_numpy() < first_effect) & np.isfinite(est_all) & np.isfinite(se_all) \
        & (se_all > 0)
    if not pre.any():
        return None
    b = el["estimate"].to_numpy(dtype="float64")[pre]
    vcov = getattr(result, "element_vcov", None)
    kind = "diagonal"
    V = np.diag(el["std_error"].to_numpy(dtype="float64")[pre] ** 2)
    if vcov is not None and np.shape(vcov) == (len(el), len(el)):
        V_joint = np.asarray(vcov, dtype="float64")[np.ix_(pre, pre)]
        if np.all(np.isfinite(V_joint)) and np.linalg.matrix_rank(V_joint) == len(b):
            V, kind = V_joint, "joint"
    stat = float(b @ np.linalg.solve(V, b))
    return PretrendTest(statistic=stat, df=int(len(b)), p_value=float(stats.chi2.sf(stat, len(b))),
                        covariance=kind)


@dataclass(frozen=True)
class Explanation:
    """What a result supports, in plain language.

    Attributes
    ----------
    headline : str
        One sentence with the estimate and its interval.
    claims : tuple of str
        What can be claimed.
    cautions : tuple of str
        What cannot be claimed, and the caveats.
    assumption : str
        The identifying assumption the causal reading rests on.
    comparison : str
        Who the trained employees are compared with.
    pretrend : PretrendTest or None
        The joint pre-training test, when the result has pre-training event times.
    """

    headline: str
    claims: tuple[str, ...]
    cautions: tuple[str, ...]
    assumption: str
    comparison: str
    pretrend: PretrendTest | None = None

    def __str__(self) -> str:
        lines = [self.headline, "", "What this supports:"]
        lines += [f"  - {c}" for c in self.claims]
        lines += ["", "What it does not support, and caveats:"]
        lines += [f"  - {c}" for c in self.cautions]
        lines += ["", f"Comparison group: {self.comparison}", f"Identifying assumption: {self.assumption}"]
        return "\n".join(lines)

    def _repr_html_(self) -> str:
        def items(xs: tuple[str, ...]) -> str:
            return "".join(f"<li>{html.escape(x)}</li>" for x in xs)

        return (f"<div class='impactlab-explain'><p><b>{html.escape(self.headline)}</b></p>"
                f"<p>What this supports:</p><ul>{items(self.claims)}</ul>"
                f"<p>What it does not support, and caveats:</p><ul>{items(self.cautions)}</ul>"
                f"<p><i>Comparison group:</i> {html.escape(self.comparison)}<br>"
                f"<i>Identifying assumption:</i> {html.escape(self.assumption)}</p></div>")


# --------------------------------------------------------------------------------------- by method
_COMPARISON = {
    "not_yet_treated": "employees not yet trained at the time (later waves), and never-trained employees",
    "never_treated": "employees never trained during the data window",
}


def _cs_design(spec: Mapping[str, Any]) -> tuple[str, str, bool]:
    control = spec.get("control", "not_yet_treated")
    anticipation = int(spec.get("anticipation", 0) or 0)
    ant = (f"no effect earlier than {anticipation} period(s) before training" if anticipation
           else "no effect before training (no anticipation)")
    covs = tuple(spec.get("covariates") or ())
    cond = f" given {', '.join(covs)}" if covs else ""
    assumption = (f"Parallel trends: without the training, each wave's outcome would have moved like that of "
                  f"its comparison group{cond}; and {ant} (Callaway & Sant'Anna 2021).")
    return assumption, _COMPARISON.get(control, str(control)), True


def _sa_design(spec: Mapping[str, Any]) -> tuple[str, str, bool]:
    last = spec.get("control") == "last_treated"
    comparison = ("the last-trained wave before its training, and never-trained employees" if last
                  else _COMPARISON["never_treated"])
    return ("Parallel trends: without the training, each wave's outcome would have moved like that of the "
            "comparison group; and no effect before training (no anticipation) (Sun & Abraham 2021).",
            comparison, True)


def _drdid_design(spec: Mapping[str, Any]) -> tuple[str, str, bool]:
    covs = tuple(spec.get("covariates") or ())
    cond = f" given {', '.join(covs)}" if covs else ""
    return (f"Parallel trends: without the training, the trained group's outcome would have moved like that "
            f"of the comparison group{cond}, and the two groups overlap in their covariates (Sant'Anna & "
            "Zhao 2020).", "employees not trained by the later of the two periods", True)


def _imputation_design(spec: Mapping[str, Any], source: str | None = None) -> tuple[str, str, bool]:
    anticipation = int(spec.get("anticipation", 0) or 0)
    ant = (f"no effect earlier than {anticipation} period(s) before training" if anticipation
           else "no effect before training (no anticipation)")
    covs = tuple(spec.get("covariates") or ())
    cond = f" given {', '.join(covs)}" if covs else ""
    return (f"Parallel trends in untreated outcomes, in every period: without the training, each employee's "
            f"outcome would have been their own level plus a period effect common to all{cond}, before and "
            f"after training; and {ant} ({source or 'Borusyak, Jaravel & Spiess 2024'}).",
            "every untrained employee-period: never-trained employees, employees not yet trained, and "
            "trained employees before training", True)


def _stacked_design(spec: Mapping[str, Any]) -> tuple[str, str, bool]:
    anticipation = int(spec.get("anticipation", 0) or 0)
    ant = (f"no effect earlier than {anticipation} period(s) before training" if anticipation
           else "no effect before training (no anticipation)")
    lo, hi = spec.get("window", (None, None))
    comparison = ("employees never trained" if spec.get("control") == "never_treated"
                  else "employees not yet trained by the end of each wave's window (never-trained included)")
    return (f"Parallel trends within each wave's window (event times {lo} to {hi}): without the training, "
            f"the wave's outcome would have moved like that of its comparison employees; and {ant}. Waves "
            "whose window does not fit in the data, or that have no comparison employees, are left out, so "
            "the effect is the average over the waves kept (Wing, Freedman & Hollingsworth 2024).",
            comparison, True)


def _design(method: str, spec: Mapping[str, Any]) -> tuple[str, str, bool]:
    """(identifying assumption, comparison group, causal under that assumption) of a method."""
    if method in ("callaway_santanna", "event_study_cs"):
        return _cs_design(spec)
    if method == "sun_abraham":
        return _sa_design(spec)
    if method == "drdid":
        return _drdid_design(spec)
    if method in ("imputation", "two_stage"):
        return _imputation_design(spec, "Gardner 2022" if method == "two_stage" else None)
    if method == "stacked":
        return _stacked_design(spec)
    if method in ("twfe", "event_study_twfe", "bacon"):
        return ("Parallel trends and an effect that is the same for every wave and every period since "
                "training; with staggered roll-outs and growing effects the coefficient mixes comparisons, "
                "some with negative weights (Goodman-Bacon 2021).",
                "all other employee-periods, including already-trained employees", False)
    if method == "regression":
        covs = tuple(spec.get("covariates") or ())
        given = ", ".join(covs) if covs else "the period"
        return (f"Selection on observables: given {given}, who took the training is unrelated to what "
                "their outcome would otherwise have been.",
                "untrained employee-periods with the same covariates", False)
    if method == "naive_difference":
        return ("None that holds in practice: it would need trained and untrained employees to be alike "
                "in everything but the training.",
                "never-trained employees", False)
    if method == "pre_post":
        return ("None that holds in practice: it would need the outcome to stay flat without the training "
                "(no trend, no seasonality, no regression to the mean after a dip; Ashenfelter 1978).",
                "the same employees before training", False)
    return ("Not recorded for this method; see its documentation.", "not recorded", False)


def _num(x: float) -> str:
    if x is None or not math.isfinite(x):
        return "n/a"
    a = abs(x)
    spec = ",.0f" if a >= 100 else ".1f" if a >= 10 else ".2f" if a >= 0.01 or a == 0 else ".2g"
    return format(x, spec)


def _window(spec: Mapping[str, Any]) -> str:
    if spec.get("data_window"):
        return str(spec["data_window"])
    first, last = spec.get("first_period"), spec.get("last_period")
    return f"{first} to {last}" if first is not None and last is not None else ""


def _per_unit(result: Any, spec: Mapping[str, Any]) -> str:
    """What one unit of the estimate is: per employee-period, or a total over event times 0..k."""
    if spec.get("kind") != "cumulative" and getattr(result, "term", "") != "cumulative ATT":
        return "per employee and period"
    el = getattr(result, "elements", None)
    k = None
    if el is not None and len(el) and "event_time" in el:
        k = int(np.max(el["event_time"].to_numpy()))
    elif spec.get("max_e") is not None and math.isfinite(float(spec["max_e"])):
        k = int(spec["max_e"])
    if k is None:
        return "per trained employee, summed over the periods since training"
    return (f"per trained employee in total over event times 0 to {k} (the first {k + 1} periods after "
            "training, summed)")


def _quantity(result: Any, method: str) -> str:
    """Which average an event study's headline is (they differ when cohorts are observed for different
    numbers of event times): fixest's ATT, or the mean of the event-time effects."""
    term = str(getattr(result, "term", ""))
    if method == "sun_abraham" and term == "ATT":
        return (", ATT (the post-training cohort × event-time effects weighted by their observations, as "
                "fixest's ATT)")
    m = re.fullmatch(r"(?:mean|ATT)\((-?\d+)\.\.(-?\d+)\)", term)
    if m and method in ("sun_abraham", "event_study_twfe", "event_study_cs", "stacked"):
        return f", mean of the effects at event times {m[1]} to {m[2]} (each event time weighted equally)"
    if method in ("imputation", "two_stage") and term == "ATT":
        return ", average over the trained employee-periods"
    return ""


def explain_effect(result: Any, level: float = 0.95, window: str | None = None) -> Explanation:
    """Build the :class:`Explanation` of an :class:`~impactlab.EffectResult` (see its ``explain``).

    ``window`` (e.g. ``"2024-01 to 2025-06"``) names the data window when the result's spec has none.
    """
    spec: Mapping[str, Any] = getattr(result, "spec", {}) or {}
    method = result.method or str(spec.get("estimator", ""))
    assumption, comparison, causal = _design(method, spec)
    est = float(result.estimate)
    lo, hi = result.conf_int(level)
    outcome = result.outcome or "the outcome"
    pct = f"{level:.0%}"
    name = (result.label or method or "The estimate") + _quantity(result, method)
    unit = _per_unit(result, spec)
    headline = (f"{name}: {_num(est)} on {outcome} {unit} "
                f"({pct} CI {_num(lo)} to {_num(hi)}).")
    claims: list[str] = []
    cautions: list[str] = []
    window = _window(spec) or window or ""
    where = f" over {window}" if window else ""
    if "event times" in name:  # the headline averages event times, not the data window
        where = " over those event times"
    finite = math.isfinite(lo) and math.isfinite(hi)
    if not finite:
        cautions.append("The interval could not be computed, so the estimate's precision is unknown.")
    elif causal:
        if lo > 0 or hi < 0:
            direction = "raised" if est > 0 else "lowered"
            near, far = sorted((abs(lo), abs(hi)))
            claims.append(f"If the assumption below holds, the training {direction} {outcome} by between "
                          f"{_num(near)} and {_num(far)} {unit} on average{where} "
                          f"({pct} confidence).")
        else:
            claims.append(f"The data are consistent with no effect on {outcome}: the {pct} interval "
                          f"({_num(lo)} to {_num(hi)}) includes zero.")
            cautions.append("'No significant effect' is not 'no effect': effects as large as "
                            f"{_num(max(abs(lo), abs(hi)))} are not ruled out.")
        cautions.append("The effect is an average over the trained employees in the data; it does not say "
                        "who benefited most, nor what the same course would do for other groups.")
    else:
        claims.append(f"The number summarises the data ({_num(est)}, {pct} CI {_num(lo)} to {_num(hi)}); "
                      "it is the kind of figure people usually quote, useful as a baseline.")
        cautions.append("It cannot be read as the effect of the training: the comparison is confounded "
                        "(see the assumption it would need, below). Use the causal estimate for decisions "
                        "and ROI.")
    test = pretrend_test(result)
    if test is not None:
        how = "" if test.covariance == "joint" else " (standard errors only, correlation ignored)"
        if test.p_value < 0.05:
            cautions.append(f"Pre-training check fails: the effects before training are jointly different "
                            f"from zero ({test}{how}); parallel trends is doubtful.")
        else:
            claims.append(f"Pre-training check: the effects before training are jointly indistinguishable "
                          f"from zero ({test}{how}), consistent with parallel trends.")
            cautions.append("Passing the pre-training check does not prove parallel trends; the test has "
                            "little power against gradual differences (Roth 2022).")
    elif causal and method == "stacked":
        cautions.append("This result carries no pre-training test: its window has no event time before the "
                        "reference; a window starting earlier (e.g. window=(-3, ...)) gives one.")
    elif causal:
        cautions.append("This result carries no pre-training test; run the dynamic aggregation "
                        "(aggregate('dynamic')) and look at the effects before training.")
    excluded = getattr(result, "excluded", None)
    if excluded is not None and len(excluded):
        cautions.append(f"Some data were left out ({len(excluded)} entries in .excluded); the estimate "
                        "speaks for the rest.")
    cautions += [str(n) for n in getattr(result, "notes", ())]
    return Explanation(headline=headline, claims=tuple(claims), cautions=tuple(cautions),
                       assumption=assumption, comparison=comparison, pretrend=test)


def with_pretrend(base: Explanation, event_study: Any, level: float = 0.95) -> Explanation:
    """``base`` with the pre-training check of ``event_study`` (an event-study result of the same fit, e.g.
    its dynamic aggregation) in place of the note that the result carries none."""
    dyn = explain_effect(event_study, level)
    if dyn.pretrend is None:
        return base
    cautions = [c for c in base.cautions if not c.startswith("This result carries no pre-training test")]
    claims = [*base.claims, *(c for c in dyn.claims if c.startswith("Pre-training check"))]
    cautions = [c for c in dyn.cautions if c.startswith(("Pre-training check", "Passing the"))] + cautions
    return Explanation(headline=base.headline, claims=tuple(claims), cautions=tuple(cautions),
                       assumption=base.assumption, comparison=base.comparison, pretrend=dyn.pretrend)


def explain_compare(cmp: Any, level: float = 0.95, event_study: Any = None) -> Explanation:
    """Build the :class:`Explanation` of a :class:`~impactlab.CompareResult` (see its ``explain``)."""
    base = explain_effect(cmp.causal, level, _window(getattr(cmp, "spec", {}) or {}))
    if event_study is not None:
        base = with_pretrend(base, event_study, level)
    claims = list(base.claims)
    cautions = list(base.cautions)
    pretrend = base.pretrend
    naive = cmp.results.get("naive_difference")
    c_est = float(cmp.causal.estimate)
    if naive is not None:
        n_est = float(naive.estimate)
        gap = n_est - c_est
        word = "overstates" if gap > 0 else "understates"
        rel = f" ({abs(gap) / abs(c_est):.0%} of the causal estimate)" if c_est else ""
        claims.insert(0, f"The naive comparison of trained vs never-trained employees says {_num(n_est)}; "
                         f"it {word} the causal estimate by {_num(abs(gap))}{rel}, the part due to who "
                         "chose to train rather than to the training.")
    if cmp.truth is not None and math.isfinite(float(cmp.truth)):
        lo, hi = cmp.causal.conf_int(level)
        inside = "inside" if lo <= cmp.truth <= hi else "outside"
        claims.append(f"Simulated data: the true effect is {_num(float(cmp.truth))}, {inside} the causal "
                      f"estimate's {level:.0%} interval.")
    return Explanation(headline=base.headline, claims=tuple(claims), cautions=tuple(cautions),
                       assumption=base.assumption, comparison=base.comparison, pretrend=pretrend)


# --------------------------------------------------------------------------------------- other results
# The functions below explain results that are not effects of one design (ROI, bounds, power, exposure,
# self-estimates, Kirkpatrick levels). Each states what the numbers are and what they rest on; none
# suggests an option it has not checked.

def _interval_text(lo: float, hi: float, pct: str, unit: str = "") -> str:
    if not (math.isfinite(lo) and math.isfinite(hi)):
        return "no interval"
    return f"{pct} interval {_num(lo)}{unit} to {_num(hi)}{unit}"


def explain_roi(r: Any, level: float = 0.95) -> Explanation:
    """Build the :class:`Explanation` of a :class:`~impactlab.RoiResult` (see its ``explain``)."""
    pct = f"{level:.0%}"
    lo, hi = r.conf_int(level)
    how = ("the Monte Carlo draws of the effect, value and costs" if r.method == "monte_carlo"
           else "the effect's sampling distribution (value and costs fixed)")
    headline = (f"Phillips ROI of {r.source}: {_num(r.roi_pct)} % ({_interval_text(lo, hi, pct, ' %')}, from "
                f"{how}); {fmt_prob_positive(r)}.")
    claims = [f"Benefit {_num(r.benefit)} {r.currency} against a cost of {_num(r.cost)} {r.currency}: "
              f"net {_num(r.net_benefit)} {r.currency}, benefit-cost ratio {r.bcr:.2f}."]
    cautions = []
    if math.isfinite(lo) and lo > 0:
        claims.append(f"The {pct} interval of the ROI lies above zero: the benefit exceeds the cost at this "
                      "confidence, if the effect estimate is causal.")
    elif math.isfinite(hi) and hi < 0:
        claims.append(f"The {pct} interval of the ROI lies below zero: the programme does not pay for "
                      "itself at this confidence.")
    else:
        cautions.append(f"The {pct} interval of the ROI includes zero: a loss is not ruled out.")
    claims.append(f"The programme breaks even at an effect of {_num(r.break_even_effect)} per participant "
                  f"and period (estimated effect {_num(r.effect)}).")
    if not getattr(r, "paid_back", True):
        periods = getattr(r, "period_name", "periods")
        when = (f"payback would take {_num(r.payback_periods)} {periods}" if math.isfinite(r.payback_periods)
                else "the benefit never covers the cost")
        cautions.append(f"Not paid back within the horizon of {r.horizon:,.4g} {periods}: {when}.")
    if r.effect_std_error == 0:
        cautions.append("The effect was given as a plain number: the interval carries no sampling "
                        "uncertainty of the effect.")
    if r.value_range is None:
        cautions.append(f"The value per outcome unit ({_num(r.value_per_unit)} {r.currency}) is an input "
                        "taken as exact; the interval does not include doubt about it.")
    if r.intangibles:
        cautions.append("Benefits not converted to money are left out of the ROI: "
                        f"{', '.join(r.intangibles)}.")
    cautions += [str(n) for n in r.notes]
    return Explanation(headline=headline, claims=tuple(claims), cautions=tuple(cautions),
                       assumption=f"Those of the effect estimate it converts ({r.source}); the ROI is "
                                  "causal only if that effect is.",
                       comparison="That of the effect estimate.")


_RESTRICTION_TEXT = {
    "relative_magnitude": ("M̄", "post-training changes in the trend difference are at most M̄ times the "
                                "largest pre-training one (Rambachan & Roth 2023)"),
    "smoothness": ("M", "the slope of the trend difference changes by at most M a period (Rambachan & Roth "
                        "2023)"),
}


def explain_sensitivity(s: Any, level: float = 0.95) -> Explanation:
    """Build the :class:`Explanation` of a :class:`~impactlab.estimators.SensitivityResult`."""
    sym, rule = _RESTRICTION_TEXT.get(s.restriction, ("M", str(s.restriction)))
    lo, hi = s.conf_int(level)
    pct = f"{level:.0%}"
    headline = (f"{s.target}: {_num(s.estimate)} under parallel trends ({_interval_text(lo, hi, pct)}); "
                f"breakdown {sym} = {'never' if math.isinf(s.breakdown) else _num(s.breakdown)}.")
    claims, cautions = [], []
    at = f"{s.level:.0%}"
    if s.breakdown == 0:
        cautions.append(f"Even under exact parallel trends the {at} interval includes zero.")
    elif math.isinf(s.breakdown):
        claims.append(f"The {at} interval excludes zero for every {sym} allowed by the restriction.")
    else:
        claims.append(f"The {at} interval excludes zero as long as {sym} is below {_num(s.breakdown)}; "
                      f"from {sym} = {_num(s.breakdown)} on it includes zero.")
    cautions.append(f"The bounds hold under the restriction that {rule}; whether that restriction is "
                    "plausible is a judgement about the programme, not something the data settle.")
    if s.ci_method == "C-LF":
        claims.append("The intervals are the conditional-least-favourable confidence sets of R's HonestDiD; "
                      "they allow for the sampling error of the pre-training moves that set the bound.")
    elif s.restriction == "relative_magnitude":
        cautions.append("These intervals widen the estimated identified set by the estimate's own sampling "
                        "error only; they leave out that of the pre-training moves that set the bound, so "
                        "they do not have the stated coverage (on HonestDiD's published examples they are "
                        "narrower than its confidence sets from M̄ = 1 on).")
    cautions += [str(n) for n in s.notes]
    return Explanation(headline=headline, claims=tuple(claims), cautions=tuple(cautions),
                       assumption=f"Trends may differ from parallel, bounded by: {rule}.",
                       comparison="That of the event study the bounds were computed from.")


def explain_roi_sensitivity(d: Any, level: float = 0.95) -> Explanation:
    """Build the :class:`Explanation` of a :class:`~impactlab.RoiSensitivityResult`."""
    sym, rule = _RESTRICTION_TEXT.get(d.restriction, ("M", str(d.restriction)))
    lo, hi = d.conf_int(level)
    interval = _interval_text(lo, hi, f"{level:.0%}", " %")
    headline = f"ROI {_num(d.roi_pct)} % under parallel trends ({interval}). {d.sentence()}"
    cautions = [f"The bounds hold under the restriction that {rule}.",
                f"Value per unit and costs are those of the ROI and are taken as exact here (break-even "
                f"effect {_num(d.break_even_effect)})."]
    return Explanation(headline=headline, claims=(d.sentence(),), cautions=tuple(cautions),
                       assumption=f"Trends may differ from parallel, bounded by: {rule}.",
                       comparison="That of the effect behind the ROI.")


def _link_value(evidence: str, value: float) -> str:
    """A link's number: a probability (the 4 -> 5 link's ``P(ROI > 0)``) as a percentage."""
    return fmt_prob(value, exact=False) if evidence == "P(ROI > 0)" else _num(value)


def explain_power(p: Any, level: float = 0.95) -> Explanation:
    """Build the :class:`Explanation` of a :class:`~impactlab.estimators.PowerResult`."""
    waves = p.plan[p.plan["wave"] != "comparison"]
    n_c = int(p.plan.loc[p.plan["wave"] == "comparison", "units"].iloc[0])
    headline = (f"The plan ({len(waves)} wave(s), {int(waves['units'].sum()):,} trained, {n_c:,} kept as "
                f"comparison) can detect an effect of {_num(p.mde)} with {p.target_power:.0%} power at the "
                f"{p.level:.0%} level (standard error of the design {_num(p.std_error)}).")
    claims = []
    if p.effect is not None and math.isfinite(p.power):
        claims.append(f"An effect of {_num(p.effect)} would be detected with probability "
                      f"{fmt_prob(p.power, exact=False)} ({p.method}).")
    cautions = ["Smaller effects may exist and go undetected: a non-significant result from this plan does "
                f"not rule out effects below {_num(p.mde)}.",
                "The figures replay the history panel: they hold if the outcome's noise, seasonality and "
                "serial correlation stay as they were, and if units are assigned to waves at random."]
    cautions += [str(n) for n in p.notes]
    return Explanation(headline=headline, claims=tuple(claims), cautions=tuple(cautions),
                       assumption="Units are assigned to waves at random; the evaluation uses the "
                                  "Callaway–Sant'Anna simple ATT with never-trained comparisons.",
                       comparison=f"the {n_c:,} units kept untrained under the plan")


def explain_exposure(x: Any, level: float = 0.95) -> Explanation:
    """Build the :class:`Explanation` of a :class:`~impactlab.ExposureEffect`."""
    pct = f"{level:.0%}"
    lo, hi = x.conf_int(level)
    tlo, thi = x.total_conf_int(level)
    outcome = x.outcome or "the outcome"
    headline = (f"Training changed {outcome} by {_num(x.estimate)} per trained employee-period "
                f"({_interval_text(lo, hi, pct)}), {_num(x.total)} in total over {x.employee_periods:,.0f} "
                f"trained employee-periods of {x.participants:,} people ({_interval_text(tlo, thi, pct)}).")
    claims = ["The total adds up the group-time effects over the trained employee-periods actually observed, "
              "so people trained late or who left count only for the periods they were there."]
    cautions = ["The exposures are observed counts and are taken as fixed: the interval reflects the "
                "uncertainty of the effects only.",
                "The causal reading rests on the assumptions of the fit the cells come from "
                f"({x.source or 'callaway_santanna'})."]
    if x.spec.get("skipped_cells"):
        cautions.append(f"{len(x.spec['skipped_cells'])} cell(s) had no estimate and are left out "
                        "(spec['skipped_cells']).")
    return Explanation(headline=headline, claims=tuple(claims), cautions=tuple(cautions),
                       assumption="Those of the Callaway–Sant'Anna fit whose group-time effects are "
                                  "added up.",
                       comparison="That of the Callaway–Sant'Anna fit.")


def explain_self_estimates(s: Any, level: float = 0.95) -> Explanation:
    """Build the :class:`Explanation` of a :class:`~impactlab.SelfEstimateResult`."""
    pct = f"{level:.0%}"
    lo, hi = s.conf_int(level)
    blo, bhi = s.bias_conf_int(level)
    if s.causal is None:
        return Explanation(
            headline=(f"Participants' self-estimates credit the programme with {_num(s.estimate)} per "
                      f"participant and period ({_interval_text(lo, hi, pct)}), adjusted for error "
                      "(improvement x share attributed x confidence); there is no causal estimate to check "
                      "them against."),
            claims=(f"The raw claim before the adjustments is {_num(s.raw.estimate)}.",),
            cautions=(f"{s.n_respondents} of {s.n_participants} participants answered; non-respondents count "
                      "as no improvement.",
                      "Self-estimates are weak evidence (what people believe the programme did): an ROI "
                      "built on them is estimate-based, not causal; a comparison group would test them."),
            assumption="None that identifies an effect: the credited change is the participants' own "
                       "attribution (improvement x share attributed x confidence).",
            comparison="none (participants judge their own improvement)")
    headline = (f"Participants' self-estimates credit the programme with {_num(s.estimate)} per participant "
                f"and period ({_interval_text(lo, hi, pct)}), against a causal estimate of "
                f"{_num(s.causal.estimate)}.")
    claims = [f"The self-estimates claim {s.ratio:.2f} times the causal effect; their bias is {_num(s.bias)} "
              f"({_interval_text(blo, bhi, pct)})."]
    cautions = [f"{s.n_respondents} of {s.n_participants} participants answered; non-respondents count as no "
                "improvement.",
                "Self-estimates are weak evidence (what people believe the programme did); they calibrate "
                "future surveys and do not replace the causal estimate."]
    return Explanation(headline=headline, claims=tuple(claims), cautions=tuple(cautions),
                       assumption="None that identifies an effect: the credited change is the participants' "
                                  "own attribution (improvement x share attributed x confidence).",
                       comparison="none (participants judge their own improvement)")


_DESCRIPTIVE = "None needed for a description; it is not an effect of the training (no comparison group)."


def explain_level(result: Any, level: float = 0.95) -> Explanation:
    """Build the :class:`Explanation` of a Kirkpatrick level 1-3 result (reaction, learning, behaviour)."""
    pct = f"{level:.0%}"
    lo, hi = result.conf_int(level)
    name, what, caution = result._explain_parts()
    headline = f"{name}: {what} {_num(result.estimate)} ({_interval_text(lo, hi, pct)})."
    claims = ["It describes the participants who were measured; it is not an effect of the training."]
    cautions = [caution, "It says nothing by itself about the business results; see the chain of evidence."]
    cautions += [str(n) for n in getattr(result, "notes", ())]
    return Explanation(headline=headline, claims=tuple(claims), cautions=tuple(cautions),
                       assumption=_DESCRIPTIVE, comparison="none (participants only)")


def explain_chain(ch: Any, level: float = 0.95) -> Explanation:
    """Build the :class:`Explanation` of a :class:`~impactlab.kirkpatrick.ChainResult`."""
    lo, hi = ch.conf_int(level)
    pct = f"{level:.0%}"
    if math.isfinite(ch.estimate):
        headline = (f"Level 4, results: causal effect {_num(ch.estimate)} ({_interval_text(lo, hi, pct)}); "
                    f"{len(ch.levels)} level(s) and {len(ch.links)} link(s) checked.")
    else:
        headline = (f"Chain of evidence without a level-4 effect: {len(ch.levels)} level(s) and "
                    f"{len(ch.links)} link(s) checked.")
    claims = [f"Level {r.level} {r.name}: {r.metric} {_num(float(r.estimate))}."
              for r in ch.levels.itertuples()]
    claims += [f"Link {r.link}: {r.reading} ({r.evidence} {_link_value(r.evidence, float(r.estimate))})."
               for r in ch.links.itertuples()]
    return Explanation(headline=headline, claims=tuple(claims), cautions=(ch.caveat,),
                       assumption="Each link is an association among the trained, except the level-4 "
                                  "effect, which rests on the assumptions of its own design.",
                       comparison="That of the level-4 effect; the links compare trained people with each "
                                  "other.")
