""":class:`PortfolioResult`: several programmes of one organisation side by side
(:func:`impactlab.portfolio`)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd
from scipy import stats

from impactlab.estimators._common import excluded_frame
from impactlab.results.base import ReportedRows, Row, _fmt, critical_value, freeze_fields, restore_frozen
from impactlab.results.evaluation import CHECK_COLUMNS
from impactlab.results.explain import Explanation

__all__ = ["PROGRAM_COLUMNS", "PortfolioResult", "holm", "normal_p", "sup_t_critical"]

#: Columns of :attr:`PortfolioResult.programs`, in this order.
PROGRAM_COLUMNS = ("program", "estimate", "std_error", "ci_low", "ci_high", "p_value", "p_adjusted",
                   "ci_low_simultaneous", "ci_high_simultaneous", "n_trained", "n_also_other", "roi",
                   "roi_low", "roi_high")

#: Draws of the multivariate normal (or t) behind the sup-t critical value.
SUP_T_DRAWS = 200_000


def holm(p_values: Any) -> np.ndarray:
    """Holm's step-down adjusted p-values (Holm 1979): the k-th smallest p-value times ``m - k + 1``,
    made non-decreasing in that order and capped at 1. Rejecting where the adjusted value is below
    ``alpha`` keeps the chance of any false claim among the ``m`` programmes below ``alpha``."""
    p = np.asarray(p_values, dtype="float64")
    m = len(p)
    order = np.argsort(p, kind="stable")
    stepped = np.maximum.accumulate(np.minimum(1.0, (m - np.arange(m)) * p[order]))
    out = np.empty(m)
    out[order] = stepped
    return out


def sup_t_critical(corr: np.ndarray, level: float, df: float | None, seed: int) -> float:
    """The critical value ``c`` with ``P(max_k |T_k| <= c) = level`` for ``T`` normal (or Student t with
    ``df``) with correlation ``corr``: simultaneous intervals ``estimate ± c × SE`` that hold every
    programme's effect together with probability ``level`` (Monte Carlo, ``SUP_T_DRAWS`` seeded draws)."""
    critical_value(level)
    k = corr.shape[0]
    if k == 1:
        return critical_value(level, df)
    rng = np.random.default_rng(seed)
    w, v = np.linalg.eigh((corr + corr.T) / 2)
    root = v * np.sqrt(np.clip(w, 0.0, None))
    draws = rng.standard_normal((SUP_T_DRAWS, k)) @ root.T
    if df is not None:
        draws /= np.sqrt(rng.chisquare(df, SUP_T_DRAWS) / df)[:, None]
    return float(np.quantile(np.abs(draws).max(axis=1), level))


@dataclass(frozen=True, repr=False, eq=False)
class PortfolioResult(ReportedRows):
    """Several training programmes of one organisation, each with its effect, side by side.

    Built by :func:`impactlab.portfolio`. Each programme's effect is the average effect of that programme
    on the employees who completed it, per employee and period, over the periods from their completion on,
    with the other programmes' effects modelled (they add up).

    The headline (``estimate``, ``std_error``, ``conf_int``) is the programme with the largest estimated
    effect; ``tidy(level)`` has one row per programme, largest effect first (so the headline row is first),
    with the per-programme interval in ``conf_low``/``conf_high`` and, as further columns, ``program``,
    ``p_adjusted`` (Holm), the simultaneous interval and the counts. Being first is no test of being
    better: compare intervals (or :attr:`difference`) before ranking.

    Attributes
    ----------
    programs : DataFrame
        One row per programme, in the order given: the columns of :data:`PROGRAM_COLUMNS`. ``ci_low`` /
        ``ci_high`` are 95 % intervals for each programme alone; ``p_adjusted`` are Holm's adjusted
        p-values (family-wise error over the programmes); ``ci_low_simultaneous`` /
        ``ci_high_simultaneous`` are 95 % sup-t intervals that hold all programmes' effects together
        (critical value from the joint covariance of the estimates, seeded); ``n_trained`` counts the
        employees with a completion of the programme, ``n_also_other`` those of them who also completed
        another programme of the list; ``roi``, ``roi_low``, ``roi_high`` are each programme's ROI in
        percent and its 95 % interval (NaN without costs).
    results : mapping of str to EffectResult
        Each programme's effect (term ``"ATT"``) with its elements by event time (from ``-anticipation``).
    roi_results : mapping of str to RoiResult
        Each programme's ROI (empty without costs).
    element_vcov : ndarray
        Covariance of the programmes' effects (the elements of this result, in the order of
        :attr:`programs`), clustered: what :meth:`difference` and the simultaneous intervals use.
    cells : DataFrame
        The fitted cohort × event-time effects of every programme (``program``, ``cohort``, ``event_time``,
        ``estimate``, ``n_obs``).
    excluded : DataFrame
        Trained observations the estimator left out, each with a reason (``what``, ``id``, ``reason``).
    outcome : str
        The outcome.
    df : float or None
        Degrees of freedom of Student's t (fewer than 40 clusters), ``None`` for normal intervals.
    spec : mapping
        The arguments and choices (``anticipation``, ``cluster``, ``n_clusters``, ``multiple_testing``,
        ``simultaneous``, ``seed``...).
    notes : tuple of str
        Caveats worth reading.
    checks : DataFrame
        The checks, one row each (``check``, ``status`` pass/warn/fail, ``seen``, ``meaning``,
        ``what_to_do``, as :attr:`Evaluation.checks`): each programme's dip before training when the
        anticipation window was set from the data, each programme's pre-training effects, and the
        clusters.
    """

    programs: pd.DataFrame
    results: Mapping[str, Any]
    element_vcov: np.ndarray
    cells: pd.DataFrame
    outcome: str = ""
    df: float | None = None
    roi_results: Mapping[str, Any] = field(default_factory=dict)
    spec: Mapping[str, Any] = field(default_factory=dict)
    notes: tuple[str, ...] = ()
    excluded: pd.DataFrame = field(default_factory=lambda: excluded_frame([]))
    checks: pd.DataFrame = field(default_factory=lambda: pd.DataFrame(columns=list(CHECK_COLUMNS)))

    def __post_init__(self) -> None:
        freeze_fields(self)  # read-only tables and arrays, as every result

    def __setstate__(self, state: dict[str, Any]) -> None:
        restore_frozen(self, state)

    # -- the headline: the largest estimated effect
    @property
    def ranking(self) -> list[str]:
        """The programmes, largest estimated effect first."""
        t = self.programs
        order = np.argsort(-t["estimate"].to_numpy(dtype="float64"), kind="stable")
        return [str(t["program"].iloc[i]) for i in order]

    @property
    def _head(self) -> pd.Series:
        t = self.programs
        return t.loc[t["program"] == self.ranking[0]].iloc[0]

    @property
    def estimate(self) -> float:
        return float(self._head["estimate"])

    @property
    def std_error(self) -> float:
        return float(self._head["std_error"])

    def simultaneous_critical(self, level: float = 0.95) -> float:
        """The sup-t critical value of the simultaneous intervals at ``level``."""
        se = np.sqrt(np.clip(np.diag(self.element_vcov), 0.0, None))
        with np.errstate(divide="ignore", invalid="ignore"):
            corr = self.element_vcov / np.outer(se, se)
        corr = np.where(np.isfinite(corr), corr, 0.0)
        np.fill_diagonal(corr, 1.0)
        return sup_t_critical(corr, level, self.df, int(self.spec.get("seed", 0)))

    def difference(self, program: str, other: str, level: float = 0.95) -> tuple[float, float, float]:
        """The difference of two programmes' effects, ``program - other``, and its interval at ``level``
        (from their joint covariance): ``(estimate, low, high)``."""
        names = list(self.programs["program"])
        for name in (program, other):
            if name not in names:
                raise KeyError(f"No programme {name!r} in this portfolio; it holds {names}.")
        i, j = names.index(program), names.index(other)
        est = float(self.programs["estimate"].iloc[i] - self.programs["estimate"].iloc[j])
        v = self.element_vcov
        se = float(np.sqrt(max(v[i, i] + v[j, j] - 2 * v[i, j], 0.0)))
        c = critical_value(level, self.df)
        return est, est - c * se, est + c * se

    def _rows(self, level: float) -> list[Row]:
        c = critical_value(level, self.df)
        c_sim = self.simultaneous_critical(level)
        t = self.programs.set_index("program")
        rows: list[Row] = []
        for name in self.ranking:
            r = t.loc[name]
            est, se = float(r["estimate"]), float(r["std_error"])
            stat = est / se if se > 0 else float("nan")
            rows.append({"term": f"ATT({name})", "estimate": est, "std_error": se, "statistic": stat,
                         "p_value": float(r["p_value"]), "conf_low": est - c * se, "conf_high": est + c * se,
                         "program": name, "p_adjusted": float(r["p_adjusted"]),
                         "conf_low_simultaneous": est - c_sim * se,
                         "conf_high_simultaneous": est + c_sim * se,
                         "n_trained": int(r["n_trained"]), "n_also_other": int(r["n_also_other"])})
        return rows

    def _title(self) -> str:
        return f"Programmes side by side: effect on {self.outcome or 'the outcome'}"

    # -- prose
    def summary(self, level: float = 0.95) -> str:
        """Plain text: one line per programme, largest effect first, with both intervals and the ROI."""
        tidy = self.tidy(level)
        lines = [self._title(),
                 f"  {len(tidy)} programmes; {level:.0%} intervals per programme and simultaneous (sup-t, "
                 "all programmes at once); p-values Holm-adjusted"]
        rois = self.programs.set_index("program")
        for _, r in tidy.iterrows():
            roi = rois.loc[r["program"], "roi"]
            roi_txt = "" if not np.isfinite(roi) else (
                f"; ROI {_fmt(float(roi))} % (95% {_fmt(float(rois.loc[r['program'], 'roi_low']))} to "
                f"{_fmt(float(rois.loc[r['program'], 'roi_high']))})")
            lines.append(f"  {r['program']}: {_fmt(r['estimate'])} (SE {_fmt(r['std_error'])}, CI "
                         f"{_fmt(r['conf_low'])} to {_fmt(r['conf_high'])}, simultaneous "
                         f"{_fmt(r['conf_low_simultaneous'])} to {_fmt(r['conf_high_simultaneous'])}, "
                         f"Holm p = {_fmt(r['p_adjusted'], 3)}); {int(r['n_trained']):,} trained, "
                         f"{int(r['n_also_other']):,} of them also in another{roi_txt}")
        if len(self.excluded):
            lines.append(f"  excluded: {len(self.excluded)} (see .excluded)")
        lines += [f"  note: {n}" for n in self.notes]
        return "\n".join(lines)

    def explain(self, level: float = 0.95) -> Explanation:
        """What the comparison supports, in plain language (see :class:`Explanation`)."""
        from impactlab.results.evaluation import number

        tidy = self.tidy(level)
        top = tidy.iloc[0]
        a = int(self.spec.get("anticipation", 0))
        unit = f"per employee per {self.spec.get('period_name', 'period')}"
        # the largest of several estimates is picked after seeing them: only the simultaneous interval
        # keeps its level for it, so the headline gives that one
        headline = (f"Of {len(tidy)} programmes, {top['program']} shows the largest effect on "
                    f"{self.outcome or 'the outcome'}: {number(top['estimate'])} {unit} ({level:.0%} "
                    f"interval holding all programmes at once {number(top['conf_low_simultaneous'])} to "
                    f"{number(top['conf_high_simultaneous'])}).")
        claims = []
        for _, r in tidy.iterrows():
            # one rule with the chart and the slide: clear when the simultaneous interval excludes zero
            sig = r["conf_low_simultaneous"] > 0 or r["conf_high_simultaneous"] < 0
            claims.append(
                f"{r['program']}: {number(r['estimate'])} {unit} ({level:.0%} CI {number(r['conf_low'])} to "
                f"{number(r['conf_high'])}; all programmes at once {number(r['conf_low_simultaneous'])} to "
                f"{number(r['conf_high_simultaneous'])}; Holm-adjusted p = {_fmt(r['p_adjusted'], 3)}); "
                + (f"distinguishable from no effect with all {len(tidy)} programmes compared at once."
                   if sig else
                   f"not distinguishable from no effect once {len(tidy)} programmes are compared at once."))
        overlap = int(tidy["n_also_other"].sum())
        cautions = [
            "The ranking is of estimates: a programme ranks above another only where the difference of "
            "their effects is clear (PortfolioResult.difference gives its interval).",
            "Effects are assumed to add up: a programme does as much for an employee who also took another "
            "as for one who did not, whichever came first. Employees trained in several programmes are "
            f"kept ({overlap:,} programme completions belong to such employees), each programme's effect "
            "being a term of its own; if programmes reinforce or replace each other, each effect mixes in "
            "part of that interaction.",
            "Each effect is an average over the periods observed after completion, which for late cohorts "
            "are the first months only: programmes rolled out at different times are compared over "
            "different horizons.",
        ]
        if a:
            cautions.append(f"The {a} period(s) before each completion are left out of the comparison "
                            "(anticipation: the dip while people wait for a course) and reported as event "
                            "times below zero in each programme's result.")
        checks = self.checks
        if len(checks):
            warned = checks["check"].str.startswith("pre-training") | (checks["check"] == "clusters")
            bad = checks[(checks["status"] == "fail") | ((checks["status"] == "warn") & warned)]
            cautions = [f"{r['check']} ({r['status']}): {r['seen']}; {r['meaning']}"
                        for _, r in bad.iterrows()] + cautions
        cautions += list(self.notes)
        assumption = ("parallel trends: without any programme, the employees who took each programme would "
                      "have followed the same trend as those not yet (or never) trained, apart from the "
                      f"{a} period(s) before completion left out; and effects add up across programmes.")
        comparison = ("employee-periods no programme had reached yet: employees who completed none of the "
                      "programmes, and the others before their first completion"
                      + (f" minus {a} period(s)." if a else "."))
        return Explanation(headline=headline, claims=tuple(claims), cautions=tuple(cautions),
                           assumption=assumption, comparison=comparison)

    def _html_lines(self) -> list[str]:
        return self.summary().splitlines()[1:2] + [f"Note: {n}" for n in self.notes]

    def __repr__(self) -> str:
        return (f"PortfolioResult({len(self.programs)} programmes, largest {self.ranking[0]!r} "
                f"{self.estimate:.6g} (SE {self.std_error:.6g}))")


def normal_p(estimate: np.ndarray, se: np.ndarray, df: float | None) -> np.ndarray:
    """Two-sided p-values of ``estimate = 0`` (normal, or Student t with ``df``)."""
    with np.errstate(divide="ignore", invalid="ignore"):
        z = np.abs(np.where(se > 0, estimate / se, np.nan))
    return 2 * (stats.norm.sf(z) if df is None else stats.t.sf(z, df))
