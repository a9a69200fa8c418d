"""The result of :func:`impactlab.evaluate`: the causal estimate, the checks that decide whether it may be
called causal, the event study it rests on and the naive numbers beside it (the function, which runs the
estimators, is in :mod:`impactlab.analysis`)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from impactlab.results._frozen import freeze_fields, restore_frozen
from impactlab.results.base import EffectResult, ReportedRows, Row, frame_html, normal_row
from impactlab.results.compare import CompareResult
from impactlab.results.suggestion import Suggestion

__all__ = ["CHECK_COLUMNS", "STATUSES", "Evaluation", "checks_tally", "number"]

#: Columns of :attr:`Evaluation.checks`, in this order.
CHECK_COLUMNS = ("check", "status", "seen", "meaning", "what_to_do")
#: The statuses a check can have; one ``"fail"`` means the estimate is not called causal.
STATUSES = ("pass", "warn", "fail")


def number(x: float | None) -> str:
    """A number for prose: whole units with thousands separators from 100 on, three significant digits
    below."""
    if x is None or not np.isfinite(float(x)):
        return "—"
    x = float(x)
    return f"{x:,.0f}" if abs(x) >= 100 else f"{x:.3g}"


def checks_tally(checks: pd.DataFrame) -> str:
    """The checks counted in words an executive reads at a glance: ``"9 checks: 7 passed, 2 cautions"``,
    ``"9 checks: 8 passed, 1 failed"`` (a caution is a ``"warn"``). The deck's summary, the HTML view of
    an :class:`Evaluation`, its ``explain()`` and ``impact_summary.json`` all use this phrase.

    Examples
    --------
    >>> checks = pd.DataFrame({"check": ["a", "b", "c"], "status": ["pass", "warn", "pass"]})
    >>> checks_tally(checks)
    '3 checks: 2 passed, 1 caution'
    """
    status = checks["status"].astype(str)
    n = len(status)
    counts = [(int((status == "pass").sum()), "passed", "passed"),
              (int((status == "warn").sum()), "caution", "cautions"),
              (int((status == "fail").sum()), "failed", "failed")]
    said = [f"{k} {one if k == 1 else many}" for k, one, many in counts if k or many == "passed"]
    return f"{n} check{'' if n == 1 else 's'}: " + ", ".join(said)


@dataclass(frozen=True, repr=False, eq=False)
class Evaluation(ReportedRows):
    """The answer of :func:`impactlab.evaluate`: one causal estimate and whether it may be called causal.

    The headline (``estimate``, ``std_error``, ``conf_int``) is the overall effect of training of the
    estimator ``method`` (per trained employee and period, averaged over the post-training periods);
    ``tidy(level)`` has its row first, then the naive numbers of :attr:`naive` beside it.

    Attributes
    ----------
    effect : EffectResult
        The headline effect.
    checks : DataFrame
        One row per check, columns ``check``, ``status`` (``"pass"``, ``"warn"`` or ``"fail"``), ``seen``
        (what was measured), ``meaning`` and ``what_to_do``.
    event_study : EffectResult or None
        The event study (effects by months since training) of the same design, whose pre-training
        effects the checks test.
    naive : CompareResult or None
        The naive and regression estimates of the same panel, side by side.
    anticipation : int
        Months before training left out of the comparison (set by the dip check).
    spec : mapping
        The arguments and the choices made (``anticipation``, ``inference``, ``n_clusters``...).
    suggestions : tuple of Suggestion
        Designs the data call for (a pilot in a few teams: synthetic difference-in-differences; other
        programmes taken by the same employees: the programmes evaluated together, ``portfolio``), each
        with the reason in numbers from the data, what it gave on the simulator and the exact call; empty
        when none does. They never change the estimate.
    """

    effect: EffectResult
    checks: pd.DataFrame
    event_study: EffectResult | None = None
    naive: CompareResult | None = None
    anticipation: int = 0
    spec: Mapping[str, Any] = field(default_factory=dict)
    suggestions: tuple[Suggestion, ...] = ()

    def __post_init__(self) -> None:
        object.__setattr__(self, "suggestions", tuple(self.suggestions))
        freeze_fields(self)

    def __setstate__(self, state: dict[str, Any]) -> None:
        restore_frozen(self, state)

    # -- the headline
    @property
    def estimate(self) -> float:
        return float(self.effect.estimate)

    @property
    def std_error(self) -> float:
        return float(self.effect.std_error)

    @property
    def method(self) -> str:
        """The estimator of the headline (e.g. ``"imputation"``, ``"callaway_santanna"``)."""
        return self.effect.method

    @property
    def n_units(self) -> int | None:
        """Employees (units) the headline used."""
        return self.effect.n_units

    @property
    def causal(self) -> bool:
        """True only when no check failed: the estimate may then be read as the effect of training."""
        return not bool((self.checks["status"] == "fail").any())

    @property
    def failed(self) -> pd.DataFrame:
        """The checks that failed (empty when the estimate is called causal)."""
        return self.checks[self.checks["status"] == "fail"].reset_index(drop=True)

    def conf_int(self, level: float = 0.95) -> tuple[float, float]:
        """Interval of the headline at ``level`` (from the estimator, or the small-cluster method the
        ``clusters`` check names)."""
        return self.effect.conf_int(level)

    def _rows(self, level: float) -> list[Row]:
        lo, hi = self.conf_int(level)
        head = normal_row(self.effect.term, self.estimate, self.std_error, level, self.effect.df,
                          method=self.method, causal=self.causal)
        head.update(conf_low=lo, conf_high=hi, p_value=float(self.effect.p_value))  # the bootstrap's, if any
        rows = [head]
        if self.naive is not None:
            for key, res in self.naive.results.items():
                if key == self.naive.causal_method:
                    continue
                rlo, rhi = res.conf_int(level)
                rows.append(normal_row(res.term, res.estimate, res.std_error, level, res.df, method=key,
                                       causal=False) | {"conf_low": rlo, "conf_high": rhi})
        return rows

    def _title(self) -> str:
        return f"Evaluation: effect of training on {self.effect.outcome or 'the outcome'}"

    # -- prose
    def summary(self, level: float = 0.95) -> str:
        """Plain text: the headline, whether it is causal, and every check."""
        lo, hi = self.conf_int(level)
        lines = [f"{self._title()} ({self.method})",
                 f"  estimate {number(self.estimate)}  ({level:.0%} CI {number(lo)} to {number(hi)}; "
                 f"std. error {number(self.std_error)}); {number(self.n_units)} employees",
                 f"  causal: {'yes' if self.causal else 'no'}; anticipation window {self.anticipation} "
                 f"period(s)", "  checks:"]
        for _, r in self.checks.iterrows():
            lines.append(f"    [{r['status']}] {r['check']}: {r['seen']}")
        if self.naive is not None:
            nv = self.naive.naive
            lines.append(f"  naive trained-vs-untrained difference: {number(nv.estimate)}")
        if self.suggestions:
            lines.append("  suggested designs:")
            for s in self.suggestions:
                lines += [f"    {s.function}: {s.reason} {s.evidence}", f"      {s.call}"]
        return "\n".join(lines)

    def explain(self, level: float = 0.95) -> Any:
        """What the evaluation lets you claim. The number is called causal only when :attr:`causal` is
        True; otherwise the first sentence says which check failed and what would fix it.

        Returns
        -------
        Explanation
            See :class:`impactlab.results.explain.Explanation`.
        """
        return _explain(self, level)

    def _html_lines(self) -> list[str]:
        level = float(self.spec.get("level", 0.95))
        lo, hi = self.conf_int(level)
        verdict = (f"{checks_tally(self.checks)}: may be read as causal" if self.causal else
                   f"{checks_tally(self.checks)}: NOT causal (" + "; ".join(self.failed["check"]) + ")")
        return [f"{self.effect.term} = {number(self.estimate)} ({level:.0%} CI {number(lo)} to "
                f"{number(hi)}), {self.method}, {number(self.n_units)} employees; {verdict}"]

    def _repr_html_(self) -> str:
        head = frame_html(self.tidy(), self._title(), self._html_lines())
        html = head + frame_html(self.checks, "Checks", [])
        if self.suggestions:
            table = pd.DataFrame([(s.function, s.reason, s.evidence, s.call) for s in self.suggestions],
                                 columns=["design", "why", "on the simulator", "call"])
            html += frame_html(table, "Suggested designs", [])
        return html

    def __repr__(self) -> str:
        return (f"Evaluation(method={self.method!r}, estimate={self.estimate:.6g}, "
                f"std_error={self.std_error:.6g}, causal={self.causal})")


def _explain(ev: Evaluation, level: float) -> Any:
    from impactlab.results.explain import Explanation, pretrend_test

    lo, hi = ev.conf_int(level)
    pct = f"{level:.0%}"
    outcome = ev.effect.outcome or "the outcome"
    said = (f"{number(ev.estimate)} per trained employee and period ({pct} CI {number(lo)} to "
            f"{number(hi)}, {ev.method})")
    if ev.causal:
        headline = f"Training changed {outcome} by {said}; {checks_tally(ev.checks)}."
        # a pilot or other programmes put this interval at risk; a dose only adds a question to ask
        at_risk = [s for s in ev.suggestions if s.function != "dose_response"]
        coverage = (f"The interval holds the effect in about {pct} of samples like this one."
                    if not at_risk else
                    f"Whether the interval holds the effect in {pct} of samples like this one is in doubt "
                    "here: see the design suited to these data below and what it showed on simulated data.")
        claims: tuple[str, ...] = (f"The effect of training on {outcome}: {said}.", coverage)
    else:
        first = ev.failed.iloc[0]
        headline = (f"{number(ev.estimate)} ({pct} CI {number(lo)} to {number(hi)}) is not a causal "
                    f"estimate of the effect of training on {outcome}: {first['meaning']} "
                    f"{first['what_to_do']}")
        claims = ("Nothing causal: the checks below say why.",)
    cautions = tuple(f"{r['check']} ({r['status']}): {r['meaning']} {r['what_to_do']}".strip()
                     for _, r in ev.checks.iterrows() if r["status"] != "pass")
    if ev.naive is not None:
        nv = ev.naive.naive
        cautions += (f"The naive trained-vs-untrained difference is {number(nv.estimate)}: it compares "
                     "different people, not the same people with and without training.",)
    cautions += tuple(f"A design suited to these data: {s.reason} {s.evidence}" for s in ev.suggestions)
    window = (f", outside the {ev.anticipation} period(s) before training (the anticipation window)"
              if ev.anticipation else "")
    assumption = ("Without training, the outcome of the trained would have moved like that of the not yet "
                  f"trained and never trained{window}.")
    return Explanation(headline=headline, claims=claims, cautions=cautions, assumption=assumption,
                       comparison="employees not yet trained at the time (later waves), and never-trained "
                                  "employees",
                       pretrend=None if ev.event_study is None else pretrend_test(ev.event_study))
