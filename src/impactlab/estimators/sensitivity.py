"""How robust is the effect to violations of parallel trends? (Rambachan & Roth 2023)

Event-study coefficients are ``β = τ + δ``: the effect ``τ`` (zero before training) plus a bias ``δ`` from
any difference in trends, normalised to ``δ_0 = 0`` at the reference period (event time −1). Parallel
trends says ``δ = 0``; Rambachan & Roth (2023, "A more credible approach to parallel trends", Review of
Economic Studies 90(5), 2555–2591) instead let ``δ`` lie in a set ``Δ`` disciplined by what the
pre-period coefficients show, and report bounds for ``θ = l'τ_post``, any linear combination of the post
coefficients. Two restrictions are offered:

- **relative magnitudes**, ``Δ^RM(M̄)``: every post-period change of the trend difference,
  ``|δ_{t+1} − δ_t|``, is at most ``M̄`` times the largest pre-period one (M̄ = 1: "as bad as the worst
  pre-period move"). With ``δ_pre = β_pre`` known, the identified set is
  ``l'β_post ± M̄ · c · Σ_t |Σ_{k>t} l_k|`` with ``c = max_s |β_{s+1} − β_s|`` over the pre-periods and
  the reference (eq. 5–6 and Lemma 2.2 of the paper, in closed form). The confidence set is the one the
  paper recommends and R's HonestDiD reports: the conditional-least-favourable hybrid test of Andrews,
  Roth & Pakes (2023) inverted over a grid of values of the target, for each location and sign of the
  largest pre-period move, and their union (:mod:`impactlab.estimators._rm_conditional`). It accounts for
  the sampling error of the pre-period moves that set the bound. ``ci_method="identified_set"`` gives
  instead the estimated identified set widened by ``z_{1−α/2}`` standard errors of ``l'β̂_post``: it
  ignores that sampling error, so it is narrower than the C-LF set for M̄ ≥ 1 or so and does not have the
  stated coverage; it is kept for comparison only.
- **smoothness**, ``Δ^SD(M)``: the slope of the trend difference changes by at most ``M`` per period
  (``|δ_{t+1} − 2δ_t + δ_{t−1}| ≤ M``; M = 0 allows exactly a linear pre-trend, extrapolated). The
  confidence interval is the optimal fixed-length interval (FLCI; §4.1 of the paper, after Armstrong &
  Kolesár 2018, Econometrica 86(2)): among affine estimators ``v'β̂`` with ``v_post = l`` that are
  unbiased under linear trends, the one whose interval ``v'β̂ ± σ_v · cv_α(b̄_v / σ_v)`` is shortest,
  where ``b̄_v`` is the worst-case bias over ``Δ^SD(M)`` and ``cv_α(t)`` the ``1 − α`` quantile of
  ``|N(t, 1)|``. The worst-case bias is computed exactly (a closed form in the slope weights); the
  optimum lies on the bias–variance frontier, an ℓ1-penalised least-squares path that does not depend on
  ``M``: it is traced exactly once per call (a lasso homotopy) and each ``M`` is a one-dimensional search
  along it (:mod:`impactlab.estimators._sd_flci`), so a grid and the breakdown search cost milliseconds. The
  identified set ``[id_lower, id_upper]`` is also reported (empty, NaN, when the estimated pre-period
  curvature already exceeds ``M``).

The **breakdown value** is the smallest ``M̄`` (or ``M``) at which the confidence set includes zero: how
large a violation of parallel trends the conclusion survives. It is solved for, not read off the grid: for
``Δ^RM`` by bisection on whether the C-LF test accepts zero (to 0.5 % of the bracket), in closed form
for the identified-set interval; for ``Δ^SD`` by Brent's method to machine precision after bracketing by
doubling.

For Callaway–Sant'Anna with ``base_period="varying"`` the pre-period coefficients are period-to-period
changes (ATT(g, g+e) compares ``e`` with ``e − 1``); they are cumulated into coefficients relative to the
reference period (``β_{−k−1} = −Σ_{j≤k} β^{varying}_{−j}``) with their covariance, so both base periods
are handled. Inference is normal throughout, as in the paper.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

import numpy as np
import pandas as pd
from scipy import optimize

from impactlab.errors import EstimationError, check_option
from impactlab.estimators._rm_conditional import rm_accepts_value, rm_interval
from impactlab.estimators._sd_flci import SDFrontier, sd_post_constant
from impactlab.estimators._sd_flci import folded_normal_cv as folded_normal_cv  # re-exported
from impactlab.results.base import (
    EffectResult,
    ReportedRows,
    Row,
    _fmt,
    critical_value,
    frame_html,
    freeze_fields,
    normal_row,
)

Restriction = Literal["relative_magnitude", "smoothness"]
CiMethod = Literal["C-LF", "identified_set", "FLCI"]
RESTRICTIONS = ("relative_magnitude", "smoothness")
TABLE_COLUMNS = ("M", "lower", "upper", "id_lower", "id_upper")
CI_METHODS = ("C-LF", "identified_set", "FLCI")
CI_IDSET = "identified set ± z·SE"
_METHOD_TEXT = {"C-LF": "C-LF (HonestDiD's conditional-least-favourable confidence sets)"}


# ------------------------------------------------------------------------------------------ the result
@dataclass(frozen=True, repr=False, eq=False)
class SensitivityResult(ReportedRows):
    """Bounds on an effect under bounded violations of parallel trends.

    The headline (``estimate``, ``std_error``, ``conf_int(level)``) is the original estimate of the
    target under parallel trends, with its normal interval. ``tidy(level)`` adds one row per ``M`` of the
    grid, whose interval is the robust one (at any ``level`` for relative magnitudes, whose interval is
    the identified set widened by ``z · std_error``; the FLCI of smoothness bounds exists only at the
    ``level`` of the fit, so other levels give NaN bounds there), and a ``breakdown`` row. The grid
    itself is ``.table``.

    Attributes
    ----------
    table : DataFrame
        One row per ``M``: ``M``, ``lower``, ``upper`` (the robust confidence interval), ``id_lower``,
        ``id_upper`` (the estimated identified set).
    breakdown : float
        Smallest ``M`` at which the interval includes zero (0 when it does even under parallel trends,
        ``inf`` when no ``M`` does).
    restriction : str
        ``"relative_magnitude"`` (``M`` is M̄) or ``"smoothness"``.
    target : str
        What the bounds are for (e.g. ``"simple ATT"``, ``"cumulative effect, event times 0..3"``).
    target_weights : Series
        The vector ``l`` over post event times: ``θ = l'β_post``.
    estimate, std_error : float
        ``l'β̂_post`` and its standard error (the number under parallel trends).
    level : float
        Confidence level.
    ci_method : str
        ``"C-LF"`` (relative magnitudes, the default), ``"identified set ± z·SE"`` or ``"FLCI"``.
    pre_event_times, post_event_times : tuple of int
        Event times used.
    notes : tuple of str
    spec : mapping
    """

    table: pd.DataFrame
    breakdown: float
    restriction: str
    target: str
    target_weights: pd.Series
    estimate: float
    std_error: float
    level: float
    ci_method: str
    pre_event_times: tuple[int, ...]
    post_event_times: tuple[int, ...]
    notes: tuple[str, ...] = ()
    spec: Mapping[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        freeze_fields(self)  # read-only tables and arrays (no copy): the result stays as built

    def _rows(self, level: float) -> list[Row]:
        return robust_rows(self, self.target, TABLE_COLUMNS[1:], level)

    def _title(self) -> str:
        return f"Sensitivity ({self.restriction.replace('_', ' ')})"

    def explain(self, level: float = 0.95) -> Any:
        """The bounds and the breakdown value in plain language (see :class:`~impactlab.results.explain.
        Explanation`)."""
        from impactlab.results.explain import explain_sensitivity

        return explain_sensitivity(self, level)

    def summary(self) -> str:
        sym = "M̄" if self.restriction == "relative_magnitude" else "M"
        bd = ("never (significant for every M)" if np.isinf(self.breakdown) else _fmt(self.breakdown))
        lines = [
            f"Sensitivity to parallel-trends violations ({self.restriction.replace('_', ' ')}, "
            f"Rambachan & Roth 2023): {self.target}",
            f"  estimate under parallel trends {_fmt(self.estimate)} (SE {_fmt(self.std_error)}); "
            f"{self.level:.0%} intervals by {_METHOD_TEXT.get(self.ci_method, self.ci_method)}",
            f"  breakdown {sym}: {bd}",
            *(f"  note: {n}" for n in self.notes),
            self.table.to_string(index=False),
        ]
        return "\n".join(lines)

    def _repr_html_(self) -> str:
        sym = "M̄" if self.restriction == "relative_magnitude" else "M"
        bd = "never" if np.isinf(self.breakdown) else _fmt(self.breakdown)
        lines = [f"{self.target}: {_fmt(self.estimate)} (SE {_fmt(self.std_error)}) under parallel trends; "
                 f"breakdown {sym} = {bd}", *(f"Note: {n}" for n in self.notes)]
        return frame_html(self.table, f"Sensitivity ({self.restriction.replace('_', ' ')})", lines)

    def __repr__(self) -> str:
        return (f"SensitivityResult(restriction={self.restriction!r}, target={self.target!r}, "
                f"breakdown={self.breakdown:.6g}, rows={len(self.table)})")


def robust_rows(res: Any, term: str, columns: Sequence[str], level: float) -> list[Row]:
    """Tidy rows of a sensitivity result: the estimate under parallel trends (normal interval), one row per
    ``M`` of ``res.table`` with the robust interval, and the breakdown value.

    ``columns`` names the table's (lower, upper, id_lower, id_upper). At the fit's level the robust
    interval is the table's; at another level it is the identified set widened by ``z · std_error`` when
    that is the method, and NaN otherwise (the C-LF set and the FLCI are computed for one level only).
    """
    lower, upper, id_lower, id_upper = columns
    rows = [normal_row(term, res.estimate, res.std_error, level, M=np.nan)]
    z = critical_value(level)
    same = bool(np.isclose(level, res.level))
    for r in res.table.to_dict("records"):
        if same:
            lo, hi = float(r[lower]), float(r[upper])
        elif (getattr(res, "ci_method", None) or res.spec.get("ci_method")) in (CI_IDSET, "identified_set"):
            lo, hi = float(r[id_lower]) - z * res.std_error, float(r[id_upper]) + z * res.std_error
        else:
            lo = hi = float("nan")
        rows.append({"term": f"{term}, robust", "estimate": res.estimate, "conf_low": lo, "conf_high": hi,
                     "M": float(r["M"]), "id_lower": float(r[id_lower]), "id_upper": float(r[id_upper])})
    rows.append({"term": "breakdown", "estimate": res.breakdown})
    return rows


# ------------------------------------------------------------------------------------------ the maths
def _tail_sums(l_vec: np.ndarray) -> np.ndarray:
    """``L_t = Σ_{k>t} l_k`` for t = 0..Tbar−1 (weight of the post first difference ``δ_{t+1} − δ_t``)."""
    return np.cumsum(l_vec[::-1])[::-1]


def rm_identified_set(beta_pre: np.ndarray, beta_post: np.ndarray, l_vec: np.ndarray,
                      mbar: float) -> tuple[float, float]:
    """Identified set of ``l'τ_post`` under ``Δ^RM(M̄)`` (closed form, see the module notes)."""
    theta = float(l_vec @ beta_post)
    c = float(np.max(np.abs(np.diff(np.r_[beta_pre, 0.0])))) if len(beta_pre) else 0.0
    half = mbar * c * float(np.abs(_tail_sums(l_vec)).sum())
    return theta - half, theta + half


def sd_identified_set(beta_pre: np.ndarray, beta_post: np.ndarray, l_vec: np.ndarray,
                      m: float) -> tuple[float, float]:
    """Identified set under ``Δ^SD(M)``; NaN when the pre-period curvature of ``β̂`` already exceeds M."""
    full = np.r_[beta_pre, 0.0]
    if len(full) >= 3 and np.max(np.abs(np.diff(full, 2))) > m * (1 + 1e-12) + 1e-15:
        return float("nan"), float("nan")
    slope = -float(beta_pre[-1])  # δ_0 − δ_{−1}
    target = float(np.arange(1, len(l_vec) + 1) @ l_vec)
    centre = float(l_vec @ beta_post) - target * slope
    half = m * sd_post_constant(l_vec)
    return centre - half, centre + half


def flci(beta_pre: np.ndarray, beta_post: np.ndarray, sigma: np.ndarray, l_vec: np.ndarray, m: float,
         level: float) -> tuple[float, float]:
    """Optimal fixed-length confidence interval under ``Δ^SD(M)`` (see the module notes).

    For several values of ``M`` build :class:`~impactlab.estimators._sd_flci.SDFrontier` once instead.
    """
    frontier = SDFrontier.build(sigma, l_vec, len(beta_pre))
    return frontier.interval(np.r_[beta_pre, beta_post], m, level)


# ------------------------------------------------------------------------------------------ inputs
@dataclass(frozen=True)
class _EventStudy:
    pre_e: np.ndarray
    beta_pre: np.ndarray
    post_e: np.ndarray
    beta_post: np.ndarray
    sigma: np.ndarray
    base: str
    simple_weights: np.ndarray | None
    shift: int = 0  # anticipation periods: internal event time = reported event time + shift


def _from_effect(res: EffectResult, base: str | None) -> tuple[pd.DataFrame, np.ndarray, str, int]:
    el = res.elements
    if el is None or "event_time" not in el or res.element_vcov is None:
        raise EstimationError(
            "sensitivity needs event-time coefficients with their covariance: pass a Callaway–Sant'Anna fit "
            "(il.callaway_santanna(...)), its .aggregate('dynamic'), or an il.event_study(...) result. "
            f"Got a {res.method or 'result'} without event-time elements and element_vcov.")
    spec = dict(res.spec)
    ref = spec.get("ref", -1)
    shift = int(spec.get("anticipation", 0) or 0)
    if ref != -1:
        raise EstimationError(
            f"sensitivity needs the reference period at event time -1 (or -1 - anticipation); this result "
            f"has ref={ref!r}. Refit with ref=-1.")
    if base is None:
        base = "varying" if (spec.get("estimator") == "callaway_santanna"
                             and spec.get("base_period") == "varying") else "universal"
    return el.reset_index(drop=True), np.asarray(res.element_vcov, dtype="float64"), base, shift


def _simple_weights(cs: Any, post_e: np.ndarray) -> np.ndarray:
    """Weights ``l_e`` such that ``l'θ_post`` is the simple ATT: cohort-share mass of the cells at each e.

    Cohort shares are those of the fit's aggregation (weighted by the sampling weights when it has them).
    """
    group, time, unit_group = (np.asarray(getattr(cs, a)) for a in ("_group", "_time", "_unit_group"))
    e = time - group
    post = (group <= time) & np.isfinite(cs.att_gt["estimate"].to_numpy(dtype="float64"))
    raw_w = getattr(cs, "_weights", None)  # sampling weights: cohort shares are weighted, as in aggregate
    uw = np.ones(len(unit_group)) if raw_w is None else np.asarray(raw_w, dtype="float64")
    pg = np.array([np.mean((unit_group == g) * uw) for g in group])
    mass = np.array([pg[post & (e == k)].sum() for k in post_e])
    return mass / pg[post].sum()


def _prepare(result: Any, base: str | None, n_pre: int | None) -> _EventStudy:
    simple_w = None
    if hasattr(result, "att_gt") and hasattr(result, "aggregate"):
        dyn = result.aggregate("dynamic")
        el, vc, base, shift = _from_effect(dyn, base)
        cs = result
    elif isinstance(result, EffectResult):
        el, vc, base, shift = _from_effect(result, base)
        cs = None
    else:
        raise TypeError(f"sensitivity expects an impactlab result with event-time coefficients. "
                        f"Got {type(result).__name__} instead.")
    check_option("base_period", base, ("varying", "universal"))
    # With anticipation δ the design's reference period is −1−δ and event times −δ..−1 are measured like
    # post periods (long differences from the reference; Callaway & Sant'Anna 2021, sec. 3.1). Shifting
    # event times by δ gives the no-anticipation layout the restrictions are written for; the anticipation
    # window then carries zero weight in every target (targets refer to event times >= 0).
    e = el["event_time"].to_numpy(dtype="int64") + shift
    est = el["estimate"].to_numpy(dtype="float64")
    se = el["std_error"].to_numpy(dtype="float64")
    keep = ~((e == -1) & (base == "universal")) & np.isfinite(est)
    if base == "universal":
        keep &= np.isfinite(se) & (se > 0)
    idx = np.flatnonzero(keep)
    e, est, vc = e[idx], est[idx], vc[np.ix_(idx, idx)]
    pre, post = e < 0, e >= 0
    if base == "varying":
        # β^v_e = δ_e − δ_{e−1} for e ≤ −1 → β_{e−1} = −Σ_{j=e}^{−1} β^v_j (relative to event time −1)
        pe = np.sort(e[pre])[::-1]
        if len(pe) and not np.array_equal(pe, -np.arange(1, len(pe) + 1)):
            raise EstimationError(f"sensitivity needs consecutive pre-period event times; got {sorted(pe)}.")
        pos = {k: i for i, k in enumerate(e)}
        T = len(pe)
        A = np.zeros((T + int(post.sum()), len(e)))
        new_e = []
        for r in range(T):  # new pre event time −(r+2), from oldest to newest below
            new_e.append(-(r + 2))
        new_e = new_e[::-1]
        for i, ne in enumerate(new_e):
            for j in range(-1, ne, -1):
                A[i, pos[j]] = -1.0
        post_idx = np.flatnonzero(post)
        post_idx = post_idx[np.argsort(e[post_idx])]
        for i, j in enumerate(post_idx.tolist()):
            A[T + i, j] = 1.0
        est, vc = A @ est, A @ vc @ A.T
        e = np.r_[np.asarray(new_e, dtype="int64"), e[post_idx]]
        pre, post = e < 0, e >= 0
    order = np.argsort(e)
    e, est, vc = e[order], est[order], vc[np.ix_(order, order)]
    pre, post = e < 0, e >= 0
    pre_e, post_e = e[pre], e[post]
    if len(post_e) == 0 or post_e[0] != 0 or np.any(np.diff(post_e) != 1):
        raise EstimationError(f"sensitivity needs post-period event times 0, 1, 2, ... without gaps; got "
                              f"{post_e.tolist()}.")
    if len(pre_e) == 0:
        raise EstimationError("sensitivity needs at least one pre-period coefficient (besides the reference) "
                              "to learn how large trend violations can be; this event study has none. Use a "
                              "window that starts at least two periods before training.")
    if pre_e[-1] != -2 or np.any(np.diff(pre_e) != 1):
        raise EstimationError(f"sensitivity needs consecutive pre-period event times ending at -2 (reference "
                              f"-1); got {pre_e.tolist()}.")
    if n_pre is not None:
        if isinstance(n_pre, bool) or not isinstance(n_pre, (int, np.integer)) or n_pre < 1:
            raise ValueError(f"The 'n_pre' parameter must be a positive integer. Got {n_pre!r} instead.")
        drop = max(len(pre_e) - int(n_pre), 0)
        sel = np.r_[np.arange(drop, len(pre_e)), len(pre_e) + np.arange(len(post_e))]
        pre_e, est, vc = pre_e[drop:], est[sel], vc[np.ix_(sel, sel)]
    n_p = len(pre_e)
    if cs is not None:
        simple_w = _simple_weights(cs, post_e - shift)
    return _EventStudy(pre_e=pre_e, beta_pre=est[:n_p], post_e=post_e, beta_post=est[n_p:], sigma=vc,
                       base=base, simple_weights=simple_w, shift=shift)


def _weights(target: Any, es: _EventStudy, horizon: int | None) -> tuple[np.ndarray, str]:
    post_e = es.post_e - es.shift          # reported event times; the anticipation window is < 0
    after = (post_e >= 0).astype("float64")
    if isinstance(target, str):
        check_option("target", target, ("simple", "average", "cumulative"))
        if target == "simple":
            if es.simple_weights is None:
                raise EstimationError("target='simple' needs the Callaway–Sant'Anna fit itself (il.callaway_"
                                      "santanna(...)), which knows the cohort sizes; pass it instead of an "
                                      "aggregate, or use target='average' or an event time.")
            return es.simple_weights, "simple ATT"
        if target == "average":
            return after / after.sum(), f"average effect, event times 0..{post_e[-1]}"
        k = int(post_e[-1]) if horizon is None else horizon
        if isinstance(k, bool) or not isinstance(k, (int, np.integer)) or not 0 <= k <= post_e[-1]:
            raise ValueError(f"The 'horizon' parameter must be an integer from 0 to {post_e[-1]} (the last "
                             f"post event time). Got {horizon!r} instead.")
        return after * (post_e <= k), f"cumulative effect, event times 0..{k}"
    if isinstance(target, (int, np.integer)) and not isinstance(target, bool):
        if target not in post_e or target < 0:
            raise ValueError(f"The 'target' event time must be one of the post event times "
                             f"{post_e.tolist()}. Got {target!r} instead.")
        return (post_e == target).astype("float64"), f"effect at event time {int(target)}"
    if isinstance(target, Mapping):
        bad = [k for k in target if k not in post_e or (k < 0 and target[k] != 0)]
        if bad:
            raise ValueError(f"target weights name event times {bad} that are not post event times "
                             f"{post_e.tolist()}.")
        lv = np.array([float(target.get(int(k), 0.0)) for k in post_e])
        return lv, "l'β with l = " + ", ".join(f"{k}: {_fmt(v)}" for k, v in target.items())
    raise TypeError("The 'target' parameter must be 'simple', 'average', 'cumulative', a post event time "
                    f"(int) or a mapping event time -> weight. Got {target!r} instead.")


# ------------------------------------------------------------------------------------------ public
def sensitivity(result: Any, restriction: Restriction = "relative_magnitude", *,
                grid: Sequence[float] | None = None, target: Any = None, horizon: int | None = None,
                level: float = 0.95, base_period: str | None = None,
                n_pre: int | None = None, ci_method: CiMethod | None = None,
                theta_grid: Sequence[float] | None = None, seed: int = 0) -> SensitivityResult:
    """Bounds on the reported effect when parallel trends may fail (Rambachan & Roth 2023).

    Parameters
    ----------
    result : CallawaySantAnnaResult or EffectResult
        A Callaway–Sant'Anna fit (its dynamic aggregation is used, and ``target="simple"`` is available),
        or an event-study result with ``event_time`` elements and ``element_vcov`` (e.g.
        ``cs.aggregate("dynamic")`` or ``il.event_study(...)``) with reference period −1 (−1 − anticipation
        for a fit with anticipation, whose anticipation window then carries zero weight in every target).
    restriction : {"relative_magnitude", "smoothness"}
        ``Δ^RM(M̄)`` or ``Δ^SD(M)``; see the module notes for the intervals used.
    grid : sequence of float, optional
        Values of M̄ (default 0, 0.25, …, 2) or M (default 10 points from 0 to the upper 95 % confidence
        bound of the largest pre-period curvature, as R's HonestDiD).
    target : "simple", "average", "cumulative", int or mapping, optional
        The number to bound (default: ``"simple"`` for a Callaway–Sant'Anna fit, ``"average"``
        otherwise): the simple ATT (Callaway–Sant'Anna fit only; the exact event-time weights of
        ``aggregate("simple")``), the average over post event times (``aggregate("dynamic").estimate``),
        the cumulative effect over event times ``0..horizon``, the effect at one event time, or weights
        ``{event_time: weight}`` for any ``l'β``.
    horizon : int, optional
        Last event time of the cumulative effect (default: the last one).
    level : float
        Confidence level.
    base_period : {"varying", "universal"}, optional
        How the pre-period coefficients were computed; read from the result by default.
    n_pre : int, optional
        Use only the ``n_pre`` pre-period coefficients closest to training.
    ci_method : {"C-LF", "identified_set", "FLCI"}, optional
        How the robust interval is computed (default: ``"C-LF"`` for relative magnitudes, ``"FLCI"`` for
        smoothness). ``"identified_set"`` (relative magnitudes only) widens the estimated identified set
        by ``z`` standard errors of the estimate; it ignores the sampling error of the pre-period bound and
        is narrower than the C-LF set (see the module notes).
    theta_grid : sequence of float, optional
        Values of the target tested to build the C-LF set (relative magnitudes). Default: R HonestDiD's
        grid, 1,000 evenly spaced values from ``−20`` to ``+20`` standard errors of the estimate, continued
        with the same spacing to 20 standard errors plus half its width beyond the identified set (and
        further wherever the set still reaches an end; HonestDiD cuts the set at its grid's ends instead).
        The reported bounds are the smallest and largest accepted values, so they are as fine as the grid;
        with a grid given here, a bound at its end is flagged in ``notes``.
    seed : int
        Seed of the 1,000 normal draws behind the least-favourable critical value of the C-LF test (R's
        generator: ``seed`` gives the draws of R's ``set.seed(seed)``, HonestDiD's default 0).

    Returns
    -------
    SensitivityResult
        Frozen; ``.table`` (M, lower, upper, id_lower, id_upper) and ``.breakdown``.

    Examples
    --------
    >>> s = il.sensitivity(cs, "relative_magnitude", target="cumulative", horizon=3)  # doctest: +SKIP
    >>> s.breakdown  # doctest: +SKIP
    """
    check_option("restriction", restriction, RESTRICTIONS)
    critical_value(level)
    if ci_method is None:
        ci_method = "C-LF" if restriction == "relative_magnitude" else "FLCI"
    check_option("ci_method", ci_method,
                 ("C-LF", "identified_set") if restriction == "relative_magnitude" else ("FLCI",))
    es = _prepare(result, base_period, n_pre)
    if target is None:
        target = "simple" if es.simple_weights is not None else "average"
    l_vec, label = _weights(target, es, horizon)
    sig_post = es.sigma[len(es.pre_e):, len(es.pre_e):]
    theta = float(l_vec @ es.beta_post)
    se = float(np.sqrt(l_vec @ sig_post @ l_vec))
    if not se > 0:
        raise EstimationError("The target has no sampling variance (standard error 0); nothing to bound.")
    z = critical_value(level)
    frontier = SDFrontier.build(es.sigma, l_vec, len(es.pre_e)) if restriction == "smoothness" else None
    beta = np.r_[es.beta_pre, es.beta_post]

    n_pre_, n_post_ = len(es.pre_e), len(es.post_e)
    if theta_grid is None:
        thetas = np.linspace(-20 * se, 20 * se, 1000)
    else:
        thetas = np.asarray(list(theta_grid), dtype="float64")
        if thetas.ndim != 1 or len(thetas) < 2 or not np.all(np.isfinite(thetas)):
            raise ValueError(f"The 'theta_grid' parameter must be a sequence of at least two finite numbers. "
                             f"Got {theta_grid!r} instead.")
        thetas = np.sort(thetas)
    open_ends: list[float] = []

    def interval(m: float) -> tuple[float, float, float, float]:
        if frontier is None:
            lo, hi = rm_identified_set(es.beta_pre, es.beta_post, l_vec, m)
            if ci_method == "identified_set":
                return lo - z * se, hi + z * se, lo, hi
            grid_m = thetas
            if theta_grid is None:  # HonestDiD's points, continued past the identified set
                h, margin = thetas[1] - thetas[0], 20 * se + (hi - lo) / 2
                below = int(np.ceil(max(thetas[0] - (lo - margin), 0.0) / h))
                above = int(np.ceil(max((hi + margin) - thetas[-1], 0.0) / h))
                grid_m = np.r_[thetas[0] - h * np.arange(below, 0, -1), thetas,
                               thetas[-1] + h * np.arange(1, above + 1)]
            for _ in range(30):
                c_lo, c_hi, at_end = rm_interval(beta, es.sigma, n_pre_, n_post_, l_vec, m, grid_m, 1 - level,
                                                 seed)
                if not at_end or theta_grid is not None:
                    break
                # HonestDiD's grid cut the set: extend it by the same spacing past the end(s) reached
                h, more = grid_m[1] - grid_m[0], np.arange(1, len(thetas) // 2 + 1)
                if c_lo <= grid_m[0]:
                    grid_m = np.r_[grid_m[0] - h * more[::-1], grid_m]
                if c_hi >= grid_m[-1]:
                    grid_m = np.r_[grid_m, grid_m[-1] + h * more]
            if at_end:
                open_ends.append(m)
            return c_lo, c_hi, lo, hi
        lo, hi = sd_identified_set(es.beta_pre, es.beta_post, l_vec, m)
        c_lo, c_hi = frontier.interval(beta, m, level)
        return c_lo, c_hi, lo, hi

    if grid is None:
        if restriction == "relative_magnitude":
            grid = list(np.linspace(0.0, 2.0, 9))
        else:
            grid = list(np.linspace(0.0, _sd_default_max(es, z), 10))
    ms = np.asarray(list(grid), dtype="float64")
    if ms.ndim != 1 or len(ms) == 0 or not np.all(np.isfinite(ms)) or np.any(ms < 0):
        raise ValueError(f"The 'grid' parameter must be a non-empty sequence of non-negative numbers. "
                         f"Got {grid!r} instead.")
    rows = [(m, *interval(float(m))) for m in ms]
    table = pd.DataFrame(rows, columns=list(TABLE_COLUMNS))
    if restriction == "relative_magnitude" and ci_method == "C-LF":
        breakdown = _rm_breakdown(table, beta, es, l_vec, level, seed)
    else:
        breakdown = _breakdown(interval, restriction, es, l_vec, theta, se, z)
    notes: list[str] = []
    if open_ends:
        notes.append(f"For M̄ = {', '.join(_fmt(m) for m in open_ends)} the confidence set reaches an end of "
                     f"the grid of tested values ({_fmt(thetas[0])} to {_fmt(thetas[-1])}); the bound there "
                     "is the grid's end, not the set's.")
    if breakdown == 0.0:
        notes.append("The interval includes zero even under exact parallel trends.")
    if es.base == "varying":
        notes.append("Pre-period coefficients of the varying base period were cumulated to the reference "
                     "period -1.")
    return SensitivityResult(
        table=table, breakdown=breakdown, restriction=restriction, target=label,
        target_weights=pd.Series(l_vec, index=pd.Index(es.post_e - es.shift, name="event_time"),
                                 name="weight"),
        estimate=theta, std_error=se, level=level,
        ci_method=CI_IDSET if ci_method == "identified_set" else ci_method,
        pre_event_times=tuple(int(x) - es.shift for x in es.pre_e),
        post_event_times=tuple(int(x) - es.shift for x in es.post_e),
        notes=tuple(notes),
        spec={"restriction": restriction, "grid": ms.tolist(), "target": target, "horizon": horizon,
              "level": level, "base_period": es.base, "n_pre": n_pre, "ci_method": ci_method,
              "theta_grid": None if theta_grid is None else thetas.tolist(), "seed": seed})


def _sd_default_max(es: _EventStudy, z: float) -> float:
    """Upper confidence bound of the largest pre-period second difference (or of ``|β_{−2}|`` alone)."""
    n = len(es.pre_e)
    full = np.r_[es.beta_pre, 0.0]
    sig = np.zeros((n + 1, n + 1))
    sig[:n, :n] = es.sigma[:n, :n]
    if n + 1 < 3:
        return float(abs(es.beta_pre[0]) + z * np.sqrt(es.sigma[0, 0]))
    D = np.diff(np.eye(n + 1), 2, axis=0)
    d = D @ full
    sd = np.sqrt(np.maximum(np.diag(D @ sig @ D.T), 0.0))
    return float(np.max(np.abs(d) + z * sd))


def _rm_breakdown(table: pd.DataFrame, beta: np.ndarray, es: _EventStudy, l_vec: np.ndarray, level: float,
                  seed: int) -> float:
    """Smallest M̄ at which the C-LF test accepts a zero target, by bisection (to 0.5 % of the bracket).

    The bracket comes from the grid already computed (the last M̄ whose set excludes zero and the first
    that includes it) or, past the grid, by doubling M̄ up to 1,024.
    """
    n_pre, n_post = len(es.pre_e), len(es.post_e)

    def accepts(m: float) -> bool:
        return rm_accepts_value(beta, es.sigma, n_pre, n_post, l_vec, m, 0.0, 1 - level, seed)

    if accepts(0.0):
        return 0.0
    ms, lo_b, hi_b = table["M"].to_numpy(), table["lower"].to_numpy(), table["upper"].to_numpy()
    covers = np.isfinite(lo_b) & (lo_b <= 0) & (hi_b >= 0)
    below = ms[~covers & (ms > 0)]
    lo = float(below.max()) if len(below) else 0.0
    hits = ms[covers & (ms > lo)]
    hi = float(hits.min()) if len(hits) else max(2 * lo, 1.0)
    while not accepts(hi):
        lo, hi = hi, 2 * hi
        if hi > 1024:
            return float("inf")
    tol = 5e-3 * hi
    while hi - lo > tol:
        mid = (lo + hi) / 2
        if accepts(mid):
            hi = mid
        else:
            lo = mid
    return hi


def _breakdown(interval: Any, restriction: str, es: _EventStudy, l_vec: np.ndarray, theta: float,
               se: float, z: float) -> float:
    def covers(m: float) -> bool:
        lo, hi = interval(m)[:2]
        return not (np.isfinite(lo) and np.isfinite(hi)) or lo <= 0 <= hi

    if covers(0.0):
        return 0.0
    if restriction == "relative_magnitude":
        c = float(np.max(np.abs(np.diff(np.r_[es.beta_pre, 0.0]))))
        w = c * float(np.abs(_tail_sums(l_vec)).sum())
        return float((abs(theta) - z * se) / w) if w > 0 else float("inf")
    # the FLCI is cheap once its frontier is built: find where the interval reaches zero to machine
    # precision (Brent on the signed distance of zero inside the interval) after bracketing by doubling
    def inside(m: float) -> float:
        lo, hi = interval(m)[:2]
        return min(hi, -lo) if np.isfinite(lo) and np.isfinite(hi) else 1.0

    lo, hi = 0.0, max(se, 1e-12)
    for _ in range(60):
        if covers(hi):
            break
        lo, hi = hi, 2 * hi
    else:
        return float("inf")
    return float(optimize.brentq(inside, lo, hi, xtol=1e-13 * hi))
