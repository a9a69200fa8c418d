"""What the event-time estimators (:mod:`.event_study`, :mod:`.sun_abraham`) share: the Wald pre-trend
test (:class:`WaldTest`), :class:`EventStudyResult`, the window checks, and the within-transformed
least-squares fit with the fixest/reghdfe count of absorbed parameters. Event time is counted in observed
periods (docs/explanation.md, "Event studies").
"""

from __future__ import annotations

import warnings
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
from scipy import stats

from impactlab.errors import EstimationError, StatisticalWarning
from impactlab.estimators.inference import OLSFit, demean, ols
from impactlab.results.base import EffectResult, _fmt

EXCLUDED_COLUMNS = ("what", "id", "reason")
#: Variances of the event-time regressions: CR1, HC1 and classical (leverage-based HC2/HC3 would need the
#: leverage of the absorbed effects, which the within-transformation does not give).
ES_VCOV = ("cluster", "robust", "iid")


# ------------------------------------------------------------------------------------------- the Wald test
@dataclass(frozen=True)
class WaldTest:
    """Joint test that several coefficients are all zero.

    Attributes
    ----------
    statistic : float
        The Wald statistic ``W = b' V⁻¹ b`` (``distribution="chi2"``) or ``W / q``
        (``distribution="F"``).
    df : int
        Number of restrictions ``q``.
    p_value : float
        Upper-tail probability of ``statistic``.
    distribution : str
        ``"chi2"`` (normal inference) or ``"F"`` (t-based inference with ``df_denom`` degrees of freedom,
        e.g. ``G - 1`` with ``G`` clusters).
    df_denom : float or None
        Denominator degrees of freedom of the F distribution.
    terms : tuple
        The event times tested.
    hypothesis : str
        What the test is of, in words.
    """

    statistic: float
    df: int
    p_value: float
    distribution: str
    df_denom: float | None
    terms: tuple[Any, ...]
    hypothesis: str = "all pre-treatment event-time coefficients are zero"

    def __str__(self) -> str:
        dist = (f"F({self.df}, {_fmt(self.df_denom)})" if self.distribution == "F"
                else f"chi2({self.df})")
        return f"{dist} = {_fmt(self.statistic)}, p = {_fmt(self.p_value, 3)} (H0: {self.hypothesis})"


def wald_test(estimates: np.ndarray, vcov: np.ndarray, terms: Sequence[Any], df_denom: float | None = None,
              hypothesis: str = "all pre-treatment event-time coefficients are zero") -> WaldTest | None:
    """Wald test of ``estimates == 0`` given their covariance; ``None`` when there is nothing to test.

    With ``df_denom`` (t-based inference, e.g. cluster-robust with ``G - 1`` degrees of freedom) the
    statistic ``W / q`` is referred to ``F(q, df_denom)``, the small-sample form Stata and fixest use;
    otherwise ``W`` is referred to ``chi2(q)``. A singular covariance uses its pseudo-inverse and the
    rank as ``q``.
    """
    b = np.asarray(estimates, dtype="float64")
    v = np.asarray(vcov, dtype="float64")
    keep = np.isfinite(b) & np.isfinite(np.diag(v)) if b.size else np.zeros(0, dtype=bool)
    b, v = b[keep], v[np.ix_(keep, keep)]
    if b.size == 0:
        return None
    terms = tuple(t for t, k in zip(terms, keep, strict=True) if k)
    q = int(np.linalg.matrix_rank(v))
    if q == 0:
        return None
    w = float(b @ np.linalg.pinv(v) @ b)
    if df_denom is not None and np.isfinite(df_denom):
        stat = w / q
        p = float(stats.f.sf(stat, q, df_denom))
        return WaldTest(stat, q, p, "F", float(df_denom), terms, hypothesis)
    return WaldTest(w, q, float(stats.chi2.sf(w, q)), "chi2", None, terms, hypothesis)


# ------------------------------------------------------------------------------------------- the result
@dataclass(frozen=True, repr=False, eq=False)
class EventStudyResult(EffectResult):
    """An event study: effects by time since treatment, with a joint pre-trend test.

    ``elements`` holds one row per estimated event time (``event_time``, ``estimate``, ``std_error``); the
    reference event time is not a row (its coefficient is 0 by construction; it is ``spec["ref"]``).
    ``element_vcov`` is the covariance of the elements. ``estimate`` is, for the two-way fixed-effects and
    Callaway–Sant'Anna event studies, the mean of the post-treatment event-time coefficients (event times
    ``0..hi``, term ``"ATT(0..hi)"``); for Sun & Abraham, fixest's ATT (term ``"ATT"``: the post-treatment
    cohort × event-time cells weighted by their observations). ``event_time_mean`` is the mean of the
    event-time coefficients for every method.

    Attributes
    ----------
    pretrend : WaldTest or None
        Joint test that the pre-treatment coefficients (event times below 0, other than the reference) are
        zero; ``None`` when the window has none.
    cells : DataFrame or None
        Sun & Abraham only: the cohort × event-time coefficients (``cohort``, ``event_time``,
        ``estimate``, ``std_error``, ``n_obs``).
    cell_vcov : ndarray or None
        Sun & Abraham only: the covariance of ``cells``.
    shares : DataFrame or None
        Sun & Abraham only: the cohort share behind each event time (``event_time``, ``cohort``, ``share``,
        ``std_error``).
    """

    pretrend: WaldTest | None = None
    cells: pd.DataFrame | None = None
    cell_vcov: np.ndarray | None = None
    shares: pd.DataFrame | None = None

    def summary(self, level: float = 0.95) -> str:
        """Plain-text summary: the average post-treatment effect, the pre-trend test and each event time."""
        lines = super().summary(level).split("\n")
        at = 3 + (1 if len(self.excluded) else 0)
        extra = [] if len(self.excluded) else ["  excluded: none"]
        extra.append("  pre-trend test: " + (str(self.pretrend) if self.pretrend is not None
                                             else "no pre-treatment event time in the window"))
        return "\n".join(lines[:at] + extra + lines[at:])

    def _html_lines(self) -> list[str]:
        headline, *rest = super()._html_lines()
        test = (f"Pre-trend test: {self.pretrend}" if self.pretrend is not None
                else "Pre-trend test: no pre-treatment event time in the window")
        return [headline, test, *rest]

    def __repr__(self) -> str:
        return (f"EventStudyResult(method={self.method!r}, event_times={self._event_times()}, "
                f"estimate={self.estimate:.6g}, std_error={self.std_error:.6g})")

    @property
    def event_time_mean(self) -> EffectResult:
        """The mean of the post-treatment event-time coefficients (event times ``0..hi``, each weighted
        equally) with its standard error from ``element_vcov``, as an :class:`EffectResult` (term
        ``"mean(0..hi)"``). It is the headline of the two-way fixed-effects and Callaway–Sant'Anna event
        studies; for Sun & Abraham the headline is the ATT, which weights the cells by their observations."""
        el = self.elements
        ev = (np.asarray(el["event_time"], dtype="int64") if el is not None
              else np.zeros(0, dtype="int64"))
        est = np.asarray(el["estimate"], dtype="float64") if el is not None else np.zeros(0)
        V = self.element_vcov if self.element_vcov is not None else np.zeros((len(ev), len(ev)))
        mean, se = post_mean(ev, est, V)
        hi = int(ev.max()) if len(ev) else 0
        return EffectResult(
            estimate=mean, std_error=se, term=f"mean(0..{hi})", method=self.method,
            label=self.label, outcome=self.outcome,
            n_obs=self.n_obs, n_units=self.n_units, df=self.df, excluded=self.excluded, spec=self.spec)

    def _event_times(self) -> list[int]:
        if self.elements is None:
            return []
        return [int(e) for e in self.elements["event_time"]]


# ------------------------------------------------------------------------------------------- helpers
def ledger(rows: list[tuple[str, Any, str]]) -> pd.DataFrame:
    """The ``.excluded`` frame (``what``, ``id``, ``reason``) from a list of rows."""
    if not rows:
        return pd.DataFrame({c: pd.Series(dtype="object") for c in EXCLUDED_COLUMNS})
    return pd.DataFrame(rows, columns=list(EXCLUDED_COLUMNS))


def check_window(window: Any, ref: Any, bin_endpoints: bool, who: str) -> tuple[int, int, int]:
    """Validate ``window=(lo, hi)`` and ``ref``; return them as ints."""
    def _is_int(v: Any) -> bool:
        return isinstance(v, (int, np.integer)) and not isinstance(v, bool)

    if (not isinstance(window, (tuple, list)) or len(window) != 2
            or not all(_is_int(v) for v in window)):
        raise ValueError(f"{who}: the 'window' parameter must be a pair of integers (lo, hi) of event times, "
                         f"e.g. (-4, 4). Got {window!r} instead.")
    lo, hi = int(window[0]), int(window[1])
    if lo >= hi:
        raise ValueError(f"{who}: window=(lo, hi) needs lo < hi. Got {window!r} instead.")
    if not _is_int(ref):
        raise ValueError(f"{who}: the 'ref' parameter must be an integer event time (e.g. -1). "
                         f"Got {ref!r} instead.")
    ref = int(ref)
    if not lo <= ref <= hi:
        raise ValueError(f"{who}: ref={ref} must lie in window={window!r}; the reference event time is the "
                         "baseline the other event times are measured against.")
    if not isinstance(bin_endpoints, bool):
        raise ValueError(f"{who}: the 'bin_endpoints' parameter must be True or False. "
                         f"Got {bin_endpoints!r} instead.")
    if bin_endpoints and ref in (lo, hi):
        raise ValueError(f"{who}: with bin_endpoints=True the reference ({ref}) cannot be an end point of "
                         f"the window {window!r}, which bins every event time beyond it. Widen the window.")
    return lo, hi, ref


def check_window_in_data(lo: int, hi: int, e_min: int, e_max: int, who: str) -> None:
    """Refuse a window wider than the event times the data contain."""
    if lo < e_min or hi > e_max:
        raise EstimationError(
            f"{who}: window=({lo}, {hi}) is wider than the data, whose treated units are observed at event "
            f"times {e_min} to {e_max}; event times without data cannot be estimated. Use "
            f"window=({max(lo, e_min)}, {min(hi, e_max)}) or narrower.")


def event_indicator(e: np.ndarray, k: int, lo: int, hi: int, bin_endpoints: bool) -> np.ndarray:
    """Rows at event time ``k`` (or beyond, for a binned end point of the window)."""
    if bin_endpoints and k == lo:
        return e <= lo
    if bin_endpoints and k == hi:
        return e >= hi
    return e == k


def drop_first_period_cohorts(long: pd.DataFrame, periods: Sequence[Any], who: str,
                              rows: list[tuple[str, Any, str]], stacklevel: int) -> pd.DataFrame:
    """Remove units treated from the first observed period (no pre-treatment period), with a warning."""
    first = long["cohort_period"].to_numpy() == 1
    if not first.any():
        return long
    units = pd.unique(long.loc[first, "unit"])
    rows += [("unit", u, "treated from the first observed period: no pre-treatment period to compare with")
             for u in units]
    warnings.warn(
        f"{who}: {len(units)} units were treated from the first observed period ({periods[0]!r}) and have no "
        "pre-treatment period; they are left out (see .excluded). Add earlier periods to the panel to use "
        "them.", StatisticalWarning, stacklevel=stacklevel)
    return long.loc[~first].reset_index(drop=True)


def n_clusters_check(long: pd.DataFrame, vcov: str, who: str) -> None:
    """Refuse cluster-robust inference with a single cluster."""
    if vcov == "cluster":
        g = long["cluster"].nunique()
        if g < 2:
            raise EstimationError(
                f"{who}: cluster-robust standard errors need at least 2 clusters; the panel has {g}. Cluster "
                "by a finer level (Panel.from_frame(..., cluster=None) clusters by employee) or use "
                "vcov='robust'.")


def within_fit(long: pd.DataFrame, X: np.ndarray, names: Sequence[str], vcov: str) -> OLSFit:
    """OLS of the outcome on ``X`` after absorbing unit and period effects (alternating projections).

    The count ``K`` of the small-sample factor follows fixest's default (``fixef.K = "nested"``) and
    Stata's ``reghdfe``: with cluster-robust errors and units nested in clusters, the unit effects count
    as one parameter and the period effects as ``T - 1``; otherwise all ``n_units + T - 1`` effects count.
    This is what pyfixest's default ``ssc()`` does too, so coefficients and standard errors agree with
    ``feols("y ~ x | unit + period", vcov={"CRV1": cluster})``.
    """
    raw = np.column_stack([long["outcome"].to_numpy(dtype="float64"), X])
    Z = demean(raw, [long["unit"].to_numpy(), long["period"].to_numpy()])
    n_units = int(long["unit"].nunique())
    n_periods = int(long["period"].nunique())
    if vcov == "cluster":
        nested = bool(long.groupby("unit")["cluster"].nunique().max() == 1)
        absorbed = n_periods if nested else n_units + n_periods - 1
    else:
        absorbed = n_units + n_periods - 1
    clusters = long["cluster"].to_numpy() if vcov == "cluster" else None
    return ols(Z[:, 1:], Z[:, 0], names=list(names), vcov=vcov, clusters=clusters, absorbed=absorbed)


def outside_window_note(e_treated: np.ndarray, lo: int, hi: int, bin_endpoints: bool) -> list[str]:
    """A note when trained observations beyond the window fall into the baseline."""
    if bin_endpoints:
        return []
    n_after = int((e_treated > hi).sum())
    if not n_after:
        return []
    return [f"{n_after} trained observations lie beyond event time {hi} and count as baseline; if effects "
            "persist, widen the window or use bin_endpoints=True."]


def post_mean(event_times: np.ndarray, estimates: np.ndarray, vcov: np.ndarray) -> tuple[float, float]:
    """Mean of the coefficients at event times >= 0 and its standard error."""
    post = event_times >= 0
    if not post.any():
        return float("nan"), float("nan")
    r = post / post.sum()
    return float(r @ estimates), float(np.sqrt(max(r @ vcov @ r, 0.0)))
