"""Phillips ROI of a training programme, with the uncertainty of the effect carried through.

Definitions (J. J. Phillips, *Return on Investment in Training and Performance Improvement Programs*,
2nd ed., Butterworth-Heinemann, 2003, ch. 8 "Calculating the Return on Investment"):

* benefit-cost ratio ``BCR = benefits / costs``;
* ``ROI % = (benefits - costs) / costs x 100 = (BCR - 1) x 100``;
* payback period ``= costs / benefits per period``.

Here the monetary benefit of a causal effect ``theta`` (outcome units per participant and period) is
``benefit = theta x value_per_unit x participants x horizon``. Every headline is linear in ``theta`` for
fixed costs, so a normal sampling distribution of ``theta`` gives exact intervals and ``P(ROI > 0)``;
cost ranges are propagated by a seeded Monte Carlo.
"""

from __future__ import annotations

import math
import numbers
from collections.abc import Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any

import numpy as np
import pandas as pd
from scipy import stats

from impactlab.results.base import _fmt, frame_html
from impactlab.roi.costs import Costs

#: Rows of :meth:`RoiResult.tidy`, with their unit.
ROI_TERMS: tuple[tuple[str, str], ...] = (
    ("benefit", "currency"),
    ("cost", "currency"),
    ("net_benefit", "currency"),
    ("roi_pct", "%"),
    ("bcr", "ratio"),
    ("payback_periods", "periods"),
    ("break_even_effect", "outcome units"),
)


def _number(name: str, value: Any, *, positive: bool = False, nonzero: bool = False) -> float:
    if not isinstance(value, numbers.Real) or isinstance(value, bool) or not math.isfinite(float(value)):
        raise ValueError(f"The {name!r} parameter must be a finite number. Got {value!r} instead.")
    v = float(value)
    if positive and v <= 0:
        raise ValueError(f"The {name!r} parameter must be positive. Got {value!r} instead.")
    if nonzero and v == 0:
        raise ValueError(f"The {name!r} parameter must be non-zero (a zero value makes every benefit zero). "
                         f"Got {value!r} instead.")
    return v


def _check_level(level: Any) -> float:
    if not isinstance(level, numbers.Real) or isinstance(level, bool) or not 0 < float(level) < 1:
        raise ValueError(f"The 'level' parameter must be between 0 and 1 (e.g. 0.95). Got {level!r} instead.")
    return float(level)


def _read_effect(effect: Any) -> tuple[float, float, float | None, str]:
    """(estimate, std_error, df, description) of a result or a plain number."""
    if isinstance(effect, numbers.Real) and not isinstance(effect, bool):
        return _number("effect", effect), 0.0, None, "assumed effect (no uncertainty)"
    if not (hasattr(effect, "estimate") and hasattr(effect, "std_error")):
        raise TypeError("The 'effect' parameter must be a result with .estimate and .std_error (e.g. "
                        "callaway_santanna(...).aggregate('simple')) or a number. "
                        f"Got {type(effect).__name__} instead.")
    est = _number("effect.estimate", effect.estimate)
    se = effect.std_error
    if not isinstance(se, numbers.Real) or not math.isfinite(float(se)) or float(se) < 0:
        raise ValueError(f"The effect's std_error must be a finite, non-negative number. Got {se!r}. "
                         "Pass the estimate alone (a number) to compute ROI without uncertainty.")
    raw_df = getattr(effect, "df", None)
    df = None
    if isinstance(raw_df, numbers.Real) and math.isfinite(float(raw_df)) and float(raw_df) > 0:
        df = float(raw_df)
    desc = getattr(effect, "label", "") or getattr(effect, "method", "") or type(effect).__name__
    return est, float(se), df, str(desc)


@dataclass(frozen=True, repr=False, eq=False)
class RoiResult:
    """ROI of a programme: Phillips headline numbers and their uncertainty.

    Built by :func:`roi`; immutable. All money is in ``currency``.

    Attributes
    ----------
    effect, effect_std_error : float
        Effect per participant and period (outcome units) and its standard error (0 for a plain number).
    effect_df : float or None
        Degrees of freedom of the effect's t distribution; ``None`` means normal.
    value_per_unit, participants, horizon : float
        Money per outcome unit, number of participants, number of periods the benefit lasts.
    cost : float
        Fully-loaded cost (point value: midpoints of any cost ranges).
    costs : Costs or None
        The cost breakdown, when one was given.
    currency : str
    level : float
        Default confidence level of :meth:`interval` and :meth:`benefit_interval`.
    method : str
        ``"analytic"`` (fixed costs) or ``"monte_carlo"`` (cost ranges drawn uniformly).
    source : str
        Description of the effect (its estimator label).
    spec : mapping
        The arguments of :func:`roi`.
    notes : tuple of str
    """

    effect: float
    effect_std_error: float
    effect_df: float | None
    value_per_unit: float
    participants: float
    horizon: float
    cost: float
    costs: Costs | None
    currency: str
    level: float
    method: str
    source: str
    spec: Mapping[str, Any] = field(default_factory=dict)
    notes: tuple[str, ...] = ()
    _effect_draws: np.ndarray | None = None
    _cost_draws: np.ndarray | None = None

    # ------------------------------------------------------------------ headline numbers
    @property
    def benefit_per_unit_effect(self) -> float:
        """Money gained per one outcome unit of effect: ``value_per_unit x participants x horizon``."""
        return self.value_per_unit * self.participants * self.horizon

    @property
    def benefit(self) -> float:
        """Monetary benefit ``effect x value_per_unit x participants x horizon``."""
        return self.effect * self.benefit_per_unit_effect

    @property
    def benefit_per_period(self) -> float:
        """Benefit earned per period of the horizon."""
        return self.benefit / self.horizon

    @property
    def net_benefit(self) -> float:
        """``benefit - cost``."""
        return self.benefit - self.cost

    @property
    def roi_pct(self) -> float:
        """Phillips ROI in percent: ``(benefit - cost) / cost x 100``."""
        return self.net_benefit / self.cost * 100

    @property
    def bcr(self) -> float:
        """Benefit-cost ratio ``benefit / cost`` (equals ``1 + roi_pct / 100``)."""
        return self.benefit / self.cost

    @property
    def payback_periods(self) -> float:
        """Periods of benefit needed to recover the cost; ``inf`` when the benefit is not positive."""
        per = self.benefit_per_period
        return self.cost / per if per > 0 else math.inf

    @property
    def break_even_effect(self) -> float:
        """Effect per participant and period at which the net benefit is zero."""
        return self.cost / self.benefit_per_unit_effect

    # ------------------------------------------------------------------ uncertainty
    def _dist(self) -> Any:
        return stats.norm() if self.effect_df is None else stats.t(self.effect_df)

    def _effect_bounds(self, level: float) -> tuple[float, float]:
        c = float(self._dist().ppf(0.5 + level / 2))
        return self.effect - c * self.effect_std_error, self.effect + c * self.effect_std_error

    def _draws(self) -> tuple[np.ndarray, np.ndarray]:
        if self._effect_draws is None or self._cost_draws is None:
            raise RuntimeError("This RoiResult has no Monte Carlo draws; build it with impactlab.roi().")
        return self._effect_draws, self._cost_draws

    def _mc_quantiles(self, values: np.ndarray, level: float) -> tuple[float, float]:
        a = (1 - level) / 2
        lo, hi = np.quantile(values, [a, 1 - a])
        return float(lo), float(hi)

    def _interval_of(self, quantity: str, level: float | None) -> tuple[float, float]:
        level = self.level if level is None else _check_level(level)
        k = self.benefit_per_unit_effect
        if self.method == "monte_carlo" and quantity != "benefit":
            e, c = self._draws()
            b = k * e
            values = {"net_benefit": b - c, "roi_pct": (b - c) / c * 100, "bcr": b / c}[quantity]
            return self._mc_quantiles(values, level)
        lo_e, hi_e = self._effect_bounds(level)
        ends = []
        for bound in (lo_e, hi_e):
            money = k * bound
            values = {"benefit": money, "net_benefit": money - self.cost,
                      "roi_pct": (money - self.cost) / self.cost * 100, "bcr": money / self.cost}
            ends.append(values[quantity])
        return float(min(ends)), float(max(ends))

    def interval(self, level: float | None = None) -> tuple[float, float]:
        """Interval of the ROI % at ``level`` (default: the ``level`` given to :func:`roi`).

        With fixed costs the ROI is linear in the effect, so the interval is the image of the effect's
        normal (or t) interval: exact. With cost ranges it is the central quantile interval of the Monte
        Carlo draws.
        """
        return self._interval_of("roi_pct", level)

    def benefit_interval(self, level: float | None = None) -> tuple[float, float]:
        """Interval of the monetary benefit (it does not depend on costs, so it is always analytic)."""
        return self._interval_of("benefit", level)

    def net_benefit_interval(self, level: float | None = None) -> tuple[float, float]:
        """Interval of the net benefit ``benefit - cost``."""
        return self._interval_of("net_benefit", level)

    def bcr_interval(self, level: float | None = None) -> tuple[float, float]:
        """Interval of the benefit-cost ratio."""
        return self._interval_of("bcr", level)

    @property
    def prob_positive(self) -> float:
        """``P(ROI > 0) = P(benefit > cost)`` under the sampling distribution of the effect.

        With fixed costs: ``P(theta x k > cost)`` in closed form (``k`` the benefit per unit of effect);
        a plain number gives 0 or 1. With cost ranges: the share of Monte Carlo draws with benefit > cost.
        """
        k = self.benefit_per_unit_effect
        if self.method == "monte_carlo":
            e, c = self._draws()
            return float(np.mean(k * e > c))
        threshold = self.cost / k  # effect at which ROI = 0
        if self.effect_std_error == 0:
            return float(self.effect > threshold if k > 0 else self.effect < threshold)
        z = (threshold - self.effect) / self.effect_std_error
        return float(self._dist().sf(z) if k > 0 else self._dist().cdf(z))

    # ------------------------------------------------------------------ tables
    def tidy(self, level: float | None = None) -> pd.DataFrame:
        """One row per headline: ``term, estimate, conf_low, conf_high, unit``.

        Payback and break-even rows carry no interval (``NaN``), except break-even under cost ranges,
        whose bounds follow from the cost bounds.
        """
        level = self.level if level is None else _check_level(level)
        rows = []
        for term, unit in ROI_TERMS:
            est = float(getattr(self, term))
            if term in ("benefit", "net_benefit", "roi_pct", "bcr"):
                lo, hi = self._interval_of(term, level)
            elif term == "cost" and self.costs is not None and self.costs.has_ranges:
                lo, hi = self.costs.low, self.costs.high
            elif term == "cost":
                lo = hi = self.cost
            elif term == "break_even_effect" and self.costs is not None and self.costs.has_ranges:
                ends = sorted([self.costs.low / self.benefit_per_unit_effect,
                               self.costs.high / self.benefit_per_unit_effect])
                lo, hi = ends
            else:
                lo = hi = math.nan
            rows.append({"term": term, "estimate": est, "conf_low": lo, "conf_high": hi,
                         "unit": self.currency if unit == "currency" else unit})
        return pd.DataFrame(rows, columns=["term", "estimate", "conf_low", "conf_high", "unit"])

    def to_dict(self) -> dict[str, Any]:
        """JSON-able headline numbers (``inf`` and ``NaN`` become ``None``)."""
        def clean(x: float) -> float | None:
            return float(x) if math.isfinite(x) else None

        lo, hi = self.interval()
        blo, bhi = self.benefit_interval()
        return {
            "currency": self.currency,
            "effect": clean(self.effect),
            "effect_std_error": clean(self.effect_std_error),
            "value_per_unit": clean(self.value_per_unit),
            "participants": clean(self.participants),
            "horizon": clean(self.horizon),
            "benefit": clean(self.benefit),
            "benefit_conf_low": clean(blo),
            "benefit_conf_high": clean(bhi),
            "cost": clean(self.cost),
            "net_benefit": clean(self.net_benefit),
            "roi_pct": clean(self.roi_pct),
            "roi_conf_low": clean(lo),
            "roi_conf_high": clean(hi),
            "level": self.level,
            "bcr": clean(self.bcr),
            "payback_periods": clean(self.payback_periods),
            "break_even_effect": clean(self.break_even_effect),
            "prob_positive": clean(self.prob_positive),
            "method": self.method,
        }

    def _headline(self) -> str:
        lo, hi = self.interval()
        return (f"ROI {self.roi_pct:.1f} % ({self.level:.0%} interval {lo:.1f} % to {hi:.1f} %), "
                f"P(ROI > 0) = {self.prob_positive:.1%}")

    def summary(self) -> str:
        """Plain-text summary of the ROI, its interval and the inputs."""
        blo, bhi = self.benefit_interval()
        payback = ("never (benefit not positive)" if not math.isfinite(self.payback_periods)
                   else f"{self.payback_periods:.2f} periods")
        lines = [
            f"Phillips ROI ({self.currency}) of {self.source}",
            f"  {self._headline()}",
            (f"  benefit {self.benefit:,.0f} ({self.level:.0%} interval {blo:,.0f} to {bhi:,.0f}), "
             f"cost {self.cost:,.0f}, net benefit {self.net_benefit:,.0f}"),
            f"  BCR {self.bcr:.2f}; payback {payback}; break-even effect {_fmt(self.break_even_effect)}",
            (f"  inputs: effect {_fmt(self.effect)} (SE {_fmt(self.effect_std_error)}) x value per unit "
             f"{_fmt(self.value_per_unit)} x {_fmt(self.participants)} participants x "
             f"{_fmt(self.horizon)} periods"),
        ]
        if self.costs is not None and self.costs.has_ranges:
            lines.append(f"  costs range {self.costs.low:,.0f} to {self.costs.high:,.0f} "
                         f"(Monte Carlo, {self.spec.get('n_draws')} draws, seed {self.spec.get('seed')})")
        lines += [f"  note: {n}" for n in self.notes]
        return "\n".join(lines)

    def _repr_html_(self) -> str:
        return frame_html(self.tidy(), f"Phillips ROI ({self.currency}) of {self.source}",
                          [self._headline()] + [f"Note: {n}" for n in self.notes])

    def __repr__(self) -> str:
        lo, hi = self.interval()
        return (f"RoiResult(roi_pct={self.roi_pct:.4g}, interval=({lo:.4g}, {hi:.4g}), bcr={self.bcr:.4g}, "
                f"prob_positive={self.prob_positive:.3g})")


def roi(effect: Any, *, value_per_unit: float, participants: float, horizon: float, costs: float | Costs,
        level: float = 0.95, n_draws: int = 20_000, seed: int | None = 0) -> RoiResult:
    """Phillips ROI of a programme from its causal effect.

    Parameters
    ----------
    effect : result or float
        The effect per participant and period, in outcome units: any result with ``.estimate`` and
        ``.std_error`` (e.g. ``callaway_santanna(panel).aggregate("simple")``), or a plain number (then
        there is no sampling uncertainty). A result with a ``df`` attribute uses a t distribution.
    value_per_unit : float
        Money per outcome unit (non-zero). Use profit contribution, not revenue (Phillips' conservative
        standard values). Negative when a decrease of the outcome is the gain (e.g. handle time).
    participants : float
        Number of people trained (> 0).
    horizon : float
        Number of periods the benefit is counted (> 0). Phillips counts first-year benefits only for short
        programmes.
    costs : float or Costs
        Fully-loaded cost (> 0), or a :class:`Costs` breakdown whose ranges are propagated.
    level : float
        Default confidence level of the intervals.
    n_draws : int
        Monte Carlo draws, used only when ``costs`` has ranges.
    seed : int or None
        Seed of the Monte Carlo draws; the same seed gives the same intervals.

    Returns
    -------
    RoiResult
        Frozen; ``benefit``, ``cost``, ``net_benefit``, ``roi_pct``, ``bcr``, ``payback_periods``,
        ``break_even_effect``, ``interval(level)``, ``benefit_interval(level)``, ``prob_positive``.

    Raises
    ------
    ValueError
        Non-finite inputs, zero value per unit, non-positive participants, horizon or cost, a bad level.
    TypeError
        ``effect`` is neither a number nor a result; ``costs`` neither a number nor a Costs.

    Notes
    -----
    ROI % = (benefits - costs) / costs x 100 = (BCR - 1) x 100 and payback = costs / benefit per period
    (Phillips 2003, ch. 8). With fixed costs every quantity is a monotone function of the effect, so its
    interval is the image of the effect's interval and ``P(ROI > 0) = P(effect > break_even_effect)``.
    With cost ranges each category is drawn uniformly and independently within its range, together with
    the effect from its sampling distribution (``n_draws`` draws with ``seed``). Point values use range
    midpoints.

    Examples
    --------
    >>> r = roi(2.0, value_per_unit=50, participants=100, horizon=12, costs=80_000)
    >>> r.benefit, r.net_benefit, r.roi_pct, r.bcr
    (120000.0, 40000.0, 50.0, 1.5)
    """
    est, se, df, source = _read_effect(effect)
    value = _number("value_per_unit", value_per_unit, nonzero=True)
    n = _number("participants", participants, positive=True)
    h = _number("horizon", horizon, positive=True)
    level = _check_level(level)
    if isinstance(costs, Costs):
        breakdown: Costs | None = costs
        cost = costs.total
        currency = costs.currency
        if cost <= 0:
            raise ValueError("The costs add up to zero: ROI is undefined. Fill in the fully-loaded cost "
                             "categories of the programme (including participant_time).")
    elif isinstance(costs, numbers.Real) and not isinstance(costs, bool):
        breakdown = None
        cost = _number("costs", costs, positive=True)
        currency = "USD"
    else:
        raise TypeError(f"The 'costs' parameter must be a number or an impactlab Costs. "
                        f"Got {type(costs).__name__} instead.")
    if not isinstance(n_draws, numbers.Integral) or isinstance(n_draws, bool) or n_draws < 100:
        raise ValueError(f"The 'n_draws' parameter must be an integer >= 100. Got {n_draws!r} instead.")

    notes = []
    if breakdown is not None and breakdown.ranges()["participant_time"][1] == 0:
        notes.append("participant_time is zero: Phillips counts participants' loaded salaries as a cost; "
                     "leaving them out inflates ROI.")
    method = "monte_carlo" if breakdown is not None and breakdown.has_ranges else "analytic"
    effect_draws = cost_draws = None
    if method == "monte_carlo" and breakdown is not None:
        rng = np.random.default_rng(seed)
        raw = rng.standard_normal(n_draws) if df is None else rng.standard_t(df, n_draws)
        effect_draws = est + se * raw
        cost_draws = np.zeros(n_draws)
        for lo, hi in breakdown.ranges().values():
            cost_draws += rng.uniform(lo, hi, n_draws) if hi > lo else np.full(n_draws, lo)
        effect_draws.setflags(write=False)
        cost_draws.setflags(write=False)
    spec = MappingProxyType({
        "effect": source, "value_per_unit": value, "participants": n, "horizon": h,
        "costs": repr(breakdown) if breakdown is not None else cost, "level": level,
        "n_draws": int(n_draws), "seed": seed,
    })
    return RoiResult(effect=est, effect_std_error=se, effect_df=df, value_per_unit=value, participants=n,
                     horizon=h, cost=cost, costs=breakdown, currency=currency, level=level, method=method,
                     source=source, spec=spec, notes=tuple(notes),
                     _effect_draws=effect_draws, _cost_draws=cost_draws)
