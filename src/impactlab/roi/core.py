"""Phillips ROI of a training programme, with the uncertainty of the effect carried through.

Definitions (J. J. Phillips, *Return on Investment in Training and Performance Improvement Programs*,
2nd ed., Butterworth-Heinemann, 2003, ch. 8 "Calculating the Return on Investment"):

* benefit-cost ratio ``BCR = benefits / costs``;
* ``ROI % = (benefits - costs) / costs x 100 = (BCR - 1) x 100``;
* payback period ``= costs / benefits per period``.

Here the monetary benefit of a causal effect ``theta`` (outcome units per participant and period) is
``benefit = theta x value_per_unit x participants x horizon``, or, with decay of the effect after training
and discounting, ``theta x value_per_unit x participants x S`` where ``S`` is the sum of the period
weights of :func:`impactlab.roi.stream.stream_weights` (the NPV of the stream). Every headline is linear
in ``theta`` for fixed value and costs, so a normal sampling distribution of ``theta`` gives exact
intervals and ``P(ROI > 0)``; ranges of value and costs are propagated by a seeded Monte Carlo, whose
draws are always available through :meth:`RoiResult.distribution`.
"""

from __future__ import annotations

import math
import numbers
import warnings
from collections.abc import Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any

import numpy as np
import pandas as pd
from scipy import stats

from impactlab.errors import DataError, StatisticalWarning, check_option
from impactlab.results.base import _fmt, frame_html, freeze_fields, restore_frozen, tidy_frame
from impactlab.results.probability import fmt_prob_positive
from impactlab.roi._inputs import (
    _check_level,
    _currency,
    _number,
    _outcome_of,
    _periods_per_year,
    _rate,
    _revenue_like,
    _value_input,
)
from impactlab.roi.costs import Costs
from impactlab.roi.stream import payback, stream_weights

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


def _sig(x: float) -> str:
    """An estimate for people: four significant digits (``773.6``, ``0.01235``), whole numbers from 10,000
    (``12,346``); never the six or more digits of a computation."""
    if not math.isfinite(x):
        return "—"
    return f"{x:,.0f}" if abs(x) >= 10_000 else f"{x:,.4g}"


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


def _interval_scale(effect: Any, est: float, se: float, df: float | None,
                    level: float) -> tuple[float, float] | None:
    """Half-widths of the effect's own ``level`` interval over the critical value, when that interval is
    not ``estimate ± critical value × SE`` (e.g. the wild cluster bootstrap of ``evaluate`` with few
    clusters); ``None`` otherwise, or for a plain number."""
    conf_int = getattr(effect, "conf_int", None)
    if not callable(conf_int) or not se > 0:
        return None
    try:
        lo, hi = (float(x) for x in conf_int(level))
    except Exception:  # noqa: BLE001 - a result without an interval at this level: keep the SE
        return None
    c = float((stats.norm() if df is None else stats.t(df)).ppf(0.5 + level / 2))
    if not (math.isfinite(lo) and math.isfinite(hi) and lo <= est <= hi):
        return None
    if max(abs(lo - (est - c * se)), abs(hi - (est + c * se))) <= 1e-9 * max(c * se, abs(est)):
        return None
    return (est - lo) / c, (hi - est) / c


@dataclass(frozen=True, repr=False, eq=False)
class RoiResult:
    """ROI of a programme: Phillips headline numbers and their uncertainty.

    Built by :func:`roi`; frozen (tables and arrays read-only). All money is in ``currency``.

    The headline (``estimate``) is the ROI in percent, ``roi_pct``. Its ``conf_int(level)`` is the image
    of the effect's interval when value and costs are fixed (exact: the ROI is linear in the effect) and
    the central quantile interval of the Monte Carlo draws when a value or cost range was given;
    ``std_error`` is the effect's standard error carried through that linear map, NaN under the Monte
    Carlo (whose interval is not a multiple of a standard error). ``tidy(level)`` has one row per
    Phillips number (ROI first), with a ``unit`` column.

    Attributes
    ----------
    effect, effect_std_error : float
        Effect per participant and period (outcome units) and its standard error (0 for a plain number).
    effect_df : float or None
        Degrees of freedom of the effect's t distribution; ``None`` means normal.
    effect_interval_scale : (float, float) or None
        Scale of the effect below and above its estimate when the effect's own interval is not
        ``estimate ± critical value × SE`` (the wild cluster bootstrap of ``evaluate`` with few clusters):
        the half-widths of that interval at ``level`` over the critical value. The ROI's interval,
        ``prob_positive`` and the draws then use this two-piece distribution, so that the ROI's interval
        is the image of the effect's; ``None``: the standard error.
    value_per_unit, participants, horizon : float
        Money per outcome unit, number of participants, number of periods the benefit lasts.
    cost : float
        Fully-loaded cost (point value: midpoints of any cost ranges).
    costs : Costs or None
        The cost breakdown, when one was given.
    currency : str
    level : float
        Confidence level of :meth:`summary`, :meth:`to_dict`, :meth:`benefit_interval` and the charts
        (``conf_int`` and ``tidy`` take theirs, 0.95 by default).
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
    stream_factor: float | None = None
    decay: float = 0.0
    discount_rate: float = 0.0
    periods_per_year: float = 12.0
    period_name: str = "periods"
    value_range: tuple[float, float] | None = None
    intangibles: tuple[str, ...] = ()
    effect_interval_scale: tuple[float, float] | None = None
    # the Monte Carlo draws (read-only arrays), set by roi() once the result is built
    _effect_draws: np.ndarray | None = field(default=None, init=False, repr=False)
    _cost_draws: np.ndarray | None = field(default=None, init=False, repr=False)
    _value_draws: np.ndarray | None = field(default=None, init=False, repr=False)

    def __post_init__(self) -> None:
        freeze_fields(self)  # read-only tables and arrays (no copy): the result stays as built

    def __getstate__(self) -> dict[str, Any]:
        state = dict(self.__dict__)
        state["spec"] = dict(self.spec)  # a read-only mapping does not pickle; made read-only again below
        return state

    def __setstate__(self, state: dict[str, Any]) -> None:
        state = {**state, "spec": MappingProxyType(dict(state.get("spec") or {}))}
        restore_frozen(self, state)  # still frozen after pickle (multiprocessing, caches)

    # ------------------------------------------------------------------ headline numbers
    @property
    def periods_factor(self) -> float:
        """Sum of the period weights of the benefit stream (``horizon`` without decay or discounting)."""
        return self.horizon if self.stream_factor is None else self.stream_factor

    @property
    def benefit_per_unit_effect(self) -> float:
        """Money gained per one outcome unit of effect: ``value_per_unit x participants x horizon``.

        With decay or discounting, ``horizon`` is replaced by :attr:`periods_factor`.
        """
        return self.value_per_unit * self.participants * self.periods_factor

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
        """Periods of benefit needed to recover the cost; ``inf`` when the benefit is not positive.

        Phillips' ``cost / benefit per period``; with decay or discounting, the period at which the
        cumulative stream reaches the cost (see :func:`impactlab.roi.stream.payback`).
        """
        if self.decay == 0 and self.discount_rate == 0:
            per = self.benefit_per_period
            return self.cost / per if per > 0 else math.inf
        return payback(self.cost, self.effect * self.value_per_unit * self.participants, decay=self.decay,
                       discount_rate=self.discount_rate, periods_per_year=self.periods_per_year)

    @property
    def paid_back(self) -> bool:
        """Whether the cost is recovered within the horizon counted (``payback_periods <= horizon``).

        ``False`` flags a programme that is "not paid back within the horizon": its payback lies beyond
        the periods whose benefit the ROI counts (or never comes).
        """
        return bool(self.payback_periods <= self.horizon)

    @property
    def break_even_effect(self) -> float:
        """Effect per participant and period at which the net benefit is zero."""
        return self.cost / self.benefit_per_unit_effect

    # ------------------------------------------------------------------ uncertainty
    def _dist(self) -> Any:
        return stats.norm() if self.effect_df is None else stats.t(self.effect_df)

    def _scales(self) -> tuple[float, float]:
        """Scale of the effect's distribution below and above the estimate: its standard error, or the
        half-widths of the effect's own interval over the critical value (``effect_interval_scale``)."""
        if self.effect_interval_scale is not None:
            return self.effect_interval_scale
        return self.effect_std_error, self.effect_std_error

    def _effect_bounds(self, level: float) -> tuple[float, float]:
        c = float(self._dist().ppf(0.5 + level / 2))
        below, above = self._scales()
        return self.effect - c * below, self.effect + c * above

    def _draws(self) -> tuple[np.ndarray, np.ndarray]:
        if self._effect_draws is None or self._cost_draws is None:
            raise RuntimeError("This RoiResult has no Monte Carlo draws; build it with impactlab.roi().")
        return self._effect_draws, self._cost_draws

    def _benefit_draws(self) -> np.ndarray:
        e, _ = self._draws()
        value = self.value_per_unit if self._value_draws is None else self._value_draws
        return e * value * self.participants * self.periods_factor

    def distribution(self, quantity: str = "roi_pct") -> np.ndarray:
        """Monte Carlo draws of a headline: ``"roi_pct"``, ``"bcr"``, ``"benefit"`` or ``"net_benefit"``.

        Each draw combines an effect drawn from its sampling distribution (normal, or t when the effect
        has ``df``), a value per unit drawn uniformly in its range (if a range was given) and each cost
        category drawn uniformly in its range. Seeded: the same ``seed`` gives the same draws.
        """
        check_option("quantity", quantity, ("roi_pct", "bcr", "benefit", "net_benefit"))
        _, c = self._draws()
        b = self._benefit_draws()
        out = {"benefit": b, "net_benefit": b - c, "roi_pct": (b - c) / c * 100, "bcr": b / c}[quantity]
        out = np.array(out, dtype="float64")
        out.setflags(write=False)
        return out

    def mc_interval(self, level: float | None = None, quantity: str = "roi_pct") -> tuple[float, float]:
        """Central quantile interval of the Monte Carlo draws of ``quantity`` (see :meth:`distribution`)."""
        level = self.level if level is None else _check_level(level)
        return self._mc_quantiles(self.distribution(quantity), level)

    @property
    def mc_median(self) -> float:
        """Median of the Monte Carlo ROI % draws (close to :attr:`roi_pct` when the ranges are symmetric)."""
        return float(np.median(self.distribution("roi_pct")))

    def _mc_quantiles(self, values: np.ndarray, level: float) -> tuple[float, float]:
        a = (1 - level) / 2
        lo, hi = np.quantile(values, [a, 1 - a])
        return float(lo), float(hi)

    def _interval_of(self, quantity: str, level: float | None) -> tuple[float, float]:
        level = self.level if level is None else _check_level(level)
        k = self.benefit_per_unit_effect
        if self.method == "monte_carlo" and (quantity != "benefit" or self.value_range is not None):
            return self._mc_quantiles(self.distribution(quantity), level)
        lo_e, hi_e = self._effect_bounds(level)
        ends = []
        for bound in (lo_e, hi_e):
            money = k * bound
            values = {"benefit": money, "net_benefit": money - self.cost,
                      "roi_pct": (money - self.cost) / self.cost * 100, "bcr": money / self.cost}
            ends.append(values[quantity])
        return float(min(ends)), float(max(ends))

    @property
    def estimate(self) -> float:
        """The headline: the ROI in percent (:attr:`roi_pct`)."""
        return self.roi_pct

    @property
    def std_error(self) -> float:
        """Standard error of :attr:`roi_pct` from the effect's (NaN under the Monte Carlo)."""
        return self._std_error_of("roi_pct")

    def _std_error_of(self, quantity: str) -> float:
        """The effect's standard error through the linear map to ``quantity``; NaN when its interval is
        taken from the Monte Carlo draws, or the quantity has no sampling error."""
        monte_carlo = self.method == "monte_carlo" and (quantity != "benefit" or self.value_range is not None)
        k = self.benefit_per_unit_effect
        scale = {"benefit": k, "net_benefit": k, "roi_pct": k / self.cost * 100, "bcr": k / self.cost}
        if monte_carlo or quantity not in scale:
            return math.nan
        return abs(scale[quantity]) * self.effect_std_error

    def conf_int(self, level: float = 0.95) -> tuple[float, float]:
        """Interval of the ROI % at ``level``.

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
            _, c = self._draws()
            return float(np.mean(self._benefit_draws() > c))
        threshold = self.cost / k  # effect at which ROI = 0
        if self.effect_std_error == 0:
            return float(self.effect > threshold if k > 0 else self.effect < threshold)
        below, above = self._scales()
        z = (threshold - self.effect) / (below if threshold < self.effect else above)
        return float(self._dist().sf(z) if k > 0 else self._dist().cdf(z))

    # ------------------------------------------------------------------ tables
    def tidy(self, level: float = 0.95) -> pd.DataFrame:
        """One row per Phillips number, ``roi_pct`` first: the tidy columns, then ``unit``, ``low``,
        ``high`` and ``note``.

        ``conf_low`` / ``conf_high`` are confidence intervals of the sampled quantities (benefit, net
        benefit, ROI, BCR); ``std_error`` is the effect's carried through the linear map (NaN under the
        Monte Carlo). Cost, payback and break-even are not sampled: their interval columns are empty, and
        ``low`` / ``high`` hold the range the cost ranges give (the cost itself, and the break-even effect
        at the low and high cost). ``note`` says "not paid back within the horizon" on the payback row
        when it is not.
        """
        level = _check_level(level)
        cost_lo, cost_hi = (self.cost, self.cost) if self.costs is None else (self.costs.low, self.costs.high)
        k = self.benefit_per_unit_effect
        rows = []
        for term, unit in sorted(ROI_TERMS, key=lambda t: t[0] != "roi_pct"):
            est = float(getattr(self, term))
            lo = hi = low = high = math.nan
            note = ""
            if term in ("benefit", "net_benefit", "roi_pct", "bcr"):
                lo, hi = self._interval_of(term, level)
            elif term == "cost":
                low, high = cost_lo, cost_hi
            elif term == "break_even_effect":
                low, high = sorted([cost_lo / k, cost_hi / k])
            elif term == "payback_periods":
                unit = self.period_name
                note = "" if self.paid_back else "not paid back within the horizon"
            rows.append({"term": term, "estimate": est, "std_error": self._std_error_of(term), "conf_low": lo,
                         "conf_high": hi, "unit": self.currency if unit == "currency" else unit, "low": low,
                         "high": high, "note": note})
        return tidy_frame(rows)

    def to_dict(self) -> dict[str, Any]:
        """JSON-able headline numbers (``inf`` and ``NaN`` become ``None``)."""
        def clean(x: float) -> float | None:
            return float(x) if math.isfinite(x) else None

        lo, hi = self.conf_int(self.level)
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
            "paid_back": self.paid_back,
            "periods_per_year": self.periods_per_year,
            "break_even_effect": clean(self.break_even_effect),
            "prob_positive": clean(self.prob_positive),
            "method": self.method,
            "decay": self.decay,
            "discount_rate": self.discount_rate,
            "intangibles": list(self.intangibles),
        }

    def _headline(self) -> str:
        lo, hi = self.conf_int(self.level)
        return (f"ROI {self.roi_pct:.1f} % ({self.level:.0%} interval {lo:.1f} % to {hi:.1f} %), "
                f"{fmt_prob_positive(self)}")

    def summary(self) -> str:
        """Plain-text summary of the ROI, its interval and the inputs."""
        blo, bhi = self.benefit_interval()
        payback = ("never (benefit not positive)" if not math.isfinite(self.payback_periods)
                   else f"{self.payback_periods:.2f} {self.period_name}")
        if not self.paid_back:
            payback += f", not paid back within the horizon of {_fmt(self.horizon)} {self.period_name}"
        lines = [
            f"Phillips ROI ({self.currency}) of {self.source}",
            f"  {self._headline()}",
            (f"  benefit {self.benefit:,.0f} ({self.level:.0%} interval {blo:,.0f} to {bhi:,.0f}), "
             f"cost {self.cost:,.0f}, net benefit {self.net_benefit:,.0f}"),
            f"  BCR {self.bcr:.2f}; payback {payback}; break-even effect {_sig(self.break_even_effect)}",
            (f"  inputs: effect {_sig(self.effect)} (SE {_sig(self.effect_std_error)}) x "
             f"{self.spec.get('monetised') or 'value per unit ' + f'{self.value_per_unit:g}'} x "
             f"{_fmt(self.participants)} participants x {_fmt(self.horizon)} {self.period_name}"),
        ]
        if self.value_range is not None:
            lines.append(f"  value per unit range {self.value_range[0]:g} to {self.value_range[1]:g} "
                         f"(Monte Carlo, {self.spec.get('n_draws')} draws, seed {self.spec.get('seed')})")
        if self.costs is not None and self.costs.has_ranges:
            lines.append(f"  costs range {self.costs.low:,.0f} to {self.costs.high:,.0f} "
                         f"(Monte Carlo, {self.spec.get('n_draws')} draws, seed {self.spec.get('seed')})")
        if self.decay or self.discount_rate:
            lines.append(f"  benefit stream: effect decays {self.decay:.0%} a year, discounted at "
                         f"{self.discount_rate:.0%} a year ({self.periods_per_year:g} {self.period_name} a "
                         f"year): {self.periods_factor:.3f} period-equivalents over {_fmt(self.horizon)} "
                         f"{self.period_name}")
        if self.intangibles:
            lines.append(f"  intangible benefits (not converted to money): {', '.join(self.intangibles)}")
        lines += [f"  note: {n}" for n in self.notes]
        return "\n".join(lines)

    def explain(self, level: float = 0.95) -> Any:
        """What the ROI lets you claim, in plain language: its interval, the chance it is positive, what
        it rests on. ``str()`` gives the text; it renders as HTML in a notebook."""
        from impactlab.results.explain import explain_roi

        return explain_roi(self, level)

    def _repr_html_(self) -> str:
        return frame_html(self.tidy(self.level), f"Phillips ROI ({self.currency}) of {self.source}",
                          [self._headline()] + [f"Note: {n}" for n in self.notes])

    def __repr__(self) -> str:
        lo, hi = self.conf_int(self.level)
        return (f"RoiResult(roi_pct={self.roi_pct:.4g}, interval=({lo:.4g}, {hi:.4g}), bcr={self.bcr:.4g}, "
                f"prob_positive={self.prob_positive!r})")


def roi(effect: Any, *, value_per_unit: float | tuple[float, float] | None = None,
        participants: float | None = None, horizon: float | None = None, costs: float | Costs,
        margin: float | tuple[float, float] | None = None, currency: str | None = None, decay: float = 0.0,
        discount_rate: float = 0.0, periods_per_year: float | None = None, first_year_only: bool = False,
        completers: float | None = None, fully_loaded: bool = False,
        intangibles: tuple[str, ...] | list[str] = (), level: float = 0.95, n_draws: int = 20_000,
        seed: int | None = 0) -> RoiResult:
    """Phillips ROI of a programme from its causal effect.

    Parameters
    ----------
    effect : result or float
        The effect per participant and period, in outcome units: any result with ``.estimate`` and
        ``.std_error`` (e.g. ``callaway_santanna(panel).aggregate("simple")``), or a plain number (then
        there is no sampling uncertainty). A result with a ``df`` attribute uses a t distribution. An
        :class:`~impactlab.roi.ExposureEffect` (from :func:`~impactlab.roi.exposure`) also brings the
        participants and periods actually observed, so ``participants`` and ``horizon`` may be left out.
        A :class:`~impactlab.roi.SelfEstimateResult` (from :func:`~impactlab.roi.self_estimates`) gives
        the estimate-based ROI of Phillips' isolation by estimates: its credited effect, each claim
        adjusted for error (improvement x share attributed x confidence), labelled as weak evidence.
    value_per_unit : float or (float, float)
        Money per outcome unit (non-zero), or a ``(low, high)`` range drawn uniformly in the Monte Carlo.
        Use profit contribution, not revenue (Phillips' conservative standard values). Negative when a
        decrease of the outcome is the gain (e.g. handle time).
    participants : float
        Number of people trained (> 0).
    horizon : float
        Number of periods the benefit is counted (> 0). Phillips counts first-year benefits only for short
        programmes (see ``first_year_only``).
    costs : float or Costs
        Fully-loaded cost (> 0), or a :class:`Costs` breakdown whose ranges are propagated.
    margin : float or (float, float), optional
        Monetise a revenue outcome by its profit margin (share of revenue, in (0, 1]) instead of
        ``value_per_unit``; give exactly one of the two. On an effect whose outcome reads as revenue
        (``revenue``, ``sales``, ``bookings``... in its name), ``value_per_unit`` warns
        (:class:`~impactlab.errors.StatisticalWarning`): Phillips counts profit contribution, not revenue.
    currency : str, optional
        Currency of ``value_per_unit`` and of a plain-number ``costs``. Default: that of the
        :class:`Costs`, or ``"USD"`` (stated in the notes) for a plain number. A ``currency`` that differs
        from the Costs' own is refused (:class:`~impactlab.errors.DataError`): convert one of them.
    decay : float
        Share of the effect lost per year after training, in [0, 1) (0: the effect lasts unchanged).
        Refused with an :func:`~impactlab.roi.exposure` effect, which already holds the decline observed.
        A number above 1 (``decay=30``) is taken for a percentage and refused: pass ``0.30``.
    discount_rate : float
        Yearly discount rate in [0, 1]: the benefit becomes a net present value. ``discount_rate=8``
        means 800 % a year and is refused: pass ``0.08``.
    periods_per_year : float, optional
        Periods in a year; used by ``decay``, ``discount_rate`` and ``first_year_only``. Default: from the
        frequency of the panel the effect was estimated on when the effect carries it (months 12, weeks
        52, quarters 4, years 1, days 365), else 12 (stated in the notes when it matters). A value that
        contradicts the effect's frequency is refused.
    first_year_only : bool
        Count at most one year of benefits (Phillips' guiding principle for short programmes).
    completers : float, optional
        Number of participants who completed; the benefit counts only them (no benefit for
        non-completers) while the costs stay those of everyone.
    fully_loaded : bool
        Require fully-loaded costs: a :class:`Costs` with a non-zero ``participant_time``.
    intangibles : sequence of str
        Benefits reported beside the money and not converted (e.g. "engagement", "teamwork").
    level : float
        Default confidence level of the intervals.
    n_draws : int
        Monte Carlo draws.
    seed : int or None
        Seed of the Monte Carlo draws; the same seed gives the same intervals and distribution.

    Returns
    -------
    RoiResult
        Frozen; ``benefit``, ``cost``, ``net_benefit``, ``roi_pct``, ``bcr``, ``payback_periods``,
        ``break_even_effect``, ``conf_int(level)``, ``benefit_interval(level)``, ``prob_positive``,
        ``distribution()``, ``mc_interval()``.

    Raises
    ------
    ValueError
        Non-finite inputs, zero value per unit, non-positive participants, horizon or cost, a bad level
        or rate (a percentage such as ``discount_rate=8``), both or neither of ``value_per_unit`` and
        ``margin``, costs not fully loaded when asked, ``periods_per_year`` against the effect's
        frequency, ``decay`` on an exposure effect.
    TypeError
        ``effect`` is neither a number nor a result; ``costs`` neither a number nor a Costs.
    DataError
        ``costs`` built from a costs table that leaves rows out (:attr:`Costs.accounting` not complete).
        ``currency`` differs from the currency of the Costs.

    Notes
    -----
    ROI % = (benefits - costs) / costs x 100 = (BCR - 1) x 100 and payback = costs / benefit per period
    (Phillips 2003, ch. 8). With fixed value and costs every quantity is a monotone function of the
    effect, so its interval is the image of the effect's interval and
    ``P(ROI > 0) = P(effect > break_even_effect)``. With ranges of value or costs each is drawn uniformly
    and independently within its range, together with the effect from its sampling distribution
    (``n_draws`` draws with ``seed``); point values use range midpoints. Conservative options follow the
    guiding principles of J. J. Phillips & P. P. Phillips, *Handbook of Training Evaluation and
    Measurement Methods* (4th ed., 2016), ch. 1 (first-year benefits for short programmes, no data no
    improvement, fully-loaded costs, intangibles reported and not monetised).

    Examples
    --------
    >>> r = roi(2.0, value_per_unit=50, participants=100, horizon=12, costs=80_000)
    >>> r.benefit, r.net_benefit, r.roi_pct, r.bcr
    (120000.0, 40000.0, 50.0, 1.5)
    """
    notes = []
    if all(hasattr(effect, a) for a in ("credited", "raw", "n_respondents")):  # a SelfEstimateResult
        est, se, df, _ = _read_effect(effect.credited)
        source = "Phillips self-estimates adjusted for error (improvement x attribution x confidence)"
        notes.append("effect isolated by participants' self-estimates, adjusted for error (Phillips: claimed "
                     "improvement x share attributed x confidence, non-respondents as no improvement): weak "
                     "evidence; the ROI is estimate-based, not causal.")
    else:
        est, se, df, source = _read_effect(effect)
    scale = _interval_scale(getattr(effect, "credited", effect), est, se, df, level)
    if scale is not None:
        notes.append("the effect's interval comes from its own method (e.g. the wild cluster bootstrap with "
                     "few clusters), not from its standard error: the ROI's interval and P(ROI > 0) follow "
                     "that interval (a two-piece distribution with its half-widths).")
    value, value_range, monetised = _value_input(value_per_unit, margin)
    outcome = _outcome_of(effect)
    if margin is None and outcome and _revenue_like(outcome):
        shown = value_per_unit if not isinstance(value_per_unit, (list, tuple)) else tuple(value_per_unit)
        share = value_range is None and 0 < value < 1
        example = (f"margin={shown!r} if {shown!r} is that share; same arithmetic" if share
                   else "e.g. margin=0.25 when a quarter of revenue is profit")
        msg = (f"The effect's outcome {outcome!r} reads as revenue, and value_per_unit={shown!r} counts "
               f"each unit of it as {value:g} of money gained. Phillips converts revenue at its profit "
               "contribution, not at face value: state the share of revenue kept as profit with margin= "
               f"instead of value_per_unit= ({example}). If the outcome is not revenue, ignore this.")
        warnings.warn(msg, StatisticalWarning, stacklevel=2)
        notes.append(f"value per unit {value:g} on a revenue-like outcome ({outcome}) not stated as a "
                     "margin: the benefit counts revenue, not profit contribution, unless that value is one.")
    if participants is None or horizon is None:
        seen_n = getattr(effect, "participants", None)
        seen_periods = getattr(effect, "employee_periods", None)
        if seen_n is None or seen_periods is None:
            missing = [n for n, v in (("participants", participants), ("horizon", horizon)) if v is None]
            raise ValueError(f"The {' and '.join(repr(m) for m in missing)} parameter(s) are needed: the "
                             "effect does not say how many people and periods were exposed. Pass them, or "
                             "pass impactlab.roi.exposure(result) as the effect.")
        participants = seen_n if participants is None else participants
        horizon = seen_periods / seen_n if horizon is None else horizon
        notes.append(f"participants and periods from the exposure observed: {float(seen_n):,.0f} people, "
                     f"{float(seen_periods):,.0f} trained employee-periods.")
    n = _number("participants", participants, positive=True)
    h = _number("horizon", horizon, positive=True)
    level = _check_level(level)
    decay = _rate("decay", decay, below_one=True)
    discount_rate = _rate("discount_rate", discount_rate, below_one=False)
    if decay and hasattr(effect, "employee_periods") and hasattr(effect, "by_event_time"):
        raise ValueError("decay= cannot be applied to an exposure() effect: it adds up the effect observed "
                         "at each time since training, so any fading over those periods is already in it, "
                         "and a decay would count that decline twice. Pass decay=0 with this effect.")
    ppy, period_name, assumed = _periods_per_year(effect, periods_per_year)
    if assumed and (first_year_only or decay or discount_rate):
        notes.append("12 periods a year assumed (months): the effect does not say how long its periods are; "
                     "pass periods_per_year= (52 for weeks, 4 for quarters) if they are not months.")
    if first_year_only and h > ppy:
        notes.append(f"first-year benefits only (Phillips, short programme): horizon cut from {_fmt(h)} to "
                     f"{_fmt(ppy)} {period_name}.")
        h = ppy
    if completers is not None:
        done = _number("completers", completers)
        if not 0 <= done <= n:
            raise ValueError(f"The 'completers' parameter must be between 0 and participants ({_fmt(n)}). "
                             f"Got {completers!r} instead.")
        if done < n:
            notes.append(f"no benefit for non-completers: benefit counts {_fmt(done)} of {_fmt(n)} "
                         "participants; costs cover all.")
        n = done
        if n == 0:
            raise ValueError("The 'completers' parameter is 0: no one can benefit, so ROI is -100 % by "
                             "construction. Check the completion data.")
    if isinstance(costs, Costs):
        if costs.accounting is not None and not costs.accounting.complete:
            raise DataError(f"The costs do not account for every row of their table ({costs.accounting}): a "
                            "total without the missing rows understates the cost and overstates the ROI.",
                            hint="Fix or map the rows the reader rejected (read_costs(..., categories=...)) "
                                 "and build the costs again with Costs.from_table.")
        breakdown: Costs | None = costs
        cost = costs.total
        currency, _ = _currency(currency, costs.currency)
        if cost <= 0:
            raise ValueError("The costs add up to zero: ROI is undefined. Fill in the fully-loaded cost "
                             "categories of the programme (including participant_time).")
    elif isinstance(costs, numbers.Real) and not isinstance(costs, bool):
        breakdown = None
        cost = _number("costs", costs, positive=True)
        currency, guessed = _currency(currency, None)
        if guessed:
            notes.append("currency not stated: value per unit and costs taken as USD (pass currency=).")
    else:
        raise TypeError(f"The 'costs' parameter must be a number or an impactlab Costs. "
                        f"Got {type(costs).__name__} instead.")
    if not isinstance(n_draws, numbers.Integral) or isinstance(n_draws, bool) or n_draws < 100:
        raise ValueError(f"The 'n_draws' parameter must be an integer >= 100. Got {n_draws!r} instead.")
    no_time = breakdown is None or breakdown.ranges()["participant_time"][1] == 0
    if fully_loaded and no_time:
        raise ValueError("fully_loaded=True needs a Costs breakdown with participant_time (participants' "
                         "salaries and benefits for the time away). Got "
                         f"{'a single number' if breakdown is None else 'participant_time = 0'}.")
    if breakdown is not None and no_time:
        notes.append("participant_time is zero: Phillips counts participants' loaded salaries as a cost; "
                     "leaving them out inflates ROI.")
    has_ranges = (breakdown is not None and breakdown.has_ranges) or value_range is not None
    method = "monte_carlo" if has_ranges else "analytic"
    weights = stream_weights(h, decay=decay, discount_rate=discount_rate, periods_per_year=ppy)
    factor = None if decay == 0 and discount_rate == 0 else float(weights.sum())

    rng = np.random.default_rng(seed)
    raw = rng.standard_normal(n_draws) if df is None else rng.standard_t(df, n_draws)
    effect_draws = est + se * raw if scale is None else est + np.where(raw < 0, scale[0], scale[1]) * raw
    cost_draws = np.zeros(n_draws)
    for lo, hi in (breakdown.ranges().values() if breakdown is not None else [(cost, cost)]):
        cost_draws += rng.uniform(lo, hi, n_draws) if hi > lo else np.full(n_draws, lo)
    value_draws = None if value_range is None else rng.uniform(*value_range, n_draws)
    for arr in (effect_draws, cost_draws, value_draws):
        if arr is not None:
            arr.setflags(write=False)
    spec = MappingProxyType({
        "effect": source, "value_per_unit": value, "value_range": value_range, "monetised": monetised,
        "participants": n, "horizon": h, "costs": repr(breakdown) if breakdown is not None else cost,
        "currency": currency, "decay": decay, "discount_rate": discount_rate, "periods_per_year": ppy,
        "period_name": period_name,
        "first_year_only": bool(first_year_only), "completers": completers,
        "fully_loaded": bool(fully_loaded),
        "level": level, "n_draws": int(n_draws), "seed": seed,
    })
    result = RoiResult(effect=est, effect_std_error=se, effect_df=df, value_per_unit=value, participants=n,
                       horizon=h, cost=cost, costs=breakdown, currency=currency, level=level, method=method,
                       source=source, spec=spec, notes=tuple(notes), stream_factor=factor, decay=decay,
                       discount_rate=discount_rate, periods_per_year=ppy, period_name=period_name,
                       value_range=value_range,
                       intangibles=tuple(str(x) for x in intangibles), effect_interval_scale=scale)
    draws = {"_effect_draws": effect_draws, "_cost_draws": cost_draws, "_value_draws": value_draws}
    for name, arr in draws.items():
        object.__setattr__(result, name, arr)  # read-only arrays (made so above)
    return result
