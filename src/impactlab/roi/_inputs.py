"""Checks of the inputs of :func:`impactlab.roi.roi` (numbers, rates, value per unit, level) and what
the effect says about itself (its outcome, the length of its periods)."""

from __future__ import annotations

import math
import numbers
import re
from collections.abc import Mapping
from typing import Any

import pandas as pd

from impactlab.errors import DataError
from impactlab.results.base import _fmt

#: Words of an outcome name that mean money coming in rather than profit (matched as whole words of the
#: name split at non-letters, or inside it for the unambiguous ones): Phillips converts such outcomes at
#: their profit contribution, never at face value (Phillips & Phillips 2016, ch. "Converting data to
#: money": standard values are profit contribution, not revenue).
REVENUE_WORDS: tuple[str, ...] = ("revenue", "revenues", "sales", "sale", "bookings", "booking", "billings",
                                  "billing", "gmv", "arr", "mrr", "acv", "tcv", "income", "turnover_value",
                                  "order_value", "deal_value", "basket_value")
_REVENUE_INSIDE = ("revenue",)

#: Periods in a year by the base of a pandas period frequency (its letters without the multiple and
#: anchor): months 12, weeks 52, quarters 4, years 1, days 365, business days 260.
PERIODS_PER_YEAR: dict[str, tuple[float, str]] = {
    "M": (12.0, "months"), "W": (52.0, "weeks"), "Q": (4.0, "quarters"), "Y": (1.0, "years"),
    "A": (1.0, "years"), "D": (365.0, "days"), "B": (260.0, "business days"),
}


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



def _value_input(value_per_unit: Any, margin: Any) -> tuple[float, tuple[float, float] | None, str]:
    """(point value, range or None, how it was monetised) from ``value_per_unit`` or ``margin``."""
    if (value_per_unit is None) == (margin is None):
        raise ValueError("Give exactly one of 'value_per_unit' (money per outcome unit) and 'margin' (share "
                         "of revenue that is profit, for a revenue outcome). "
                         f"Got value_per_unit={value_per_unit!r}, margin={margin!r}.")
    name = "value_per_unit" if margin is None else "margin"
    raw = value_per_unit if margin is None else margin
    if isinstance(raw, (tuple, list)):
        if len(raw) != 2:
            raise ValueError(f"The {name!r} range must be a (low, high) pair. Got {raw!r} instead.")
        lo, hi = _number(f"{name} (low)", raw[0]), _number(f"{name} (high)", raw[1])
        if lo > hi:
            raise ValueError(f"The {name!r} range has low > high: {tuple(raw)!r}. "
                             f"Write it as ({hi!r}, {lo!r}).")
        if lo < 0 < hi or (lo < hi and 0 in (lo, hi)):
            raise ValueError(f"The {name!r} range {tuple(raw)!r} straddles zero: the sign of the value must "
                             "be known.")
        point, rng = (lo + hi) / 2, ((lo, hi) if hi > lo else None)
    else:
        point, rng = _number(name, raw, nonzero=True), None
    if point == 0:
        raise ValueError(f"The {name!r} parameter must be non-zero (a zero value makes every benefit zero). "
                         f"Got {raw!r} instead.")
    if margin is not None and not all(0 < m <= 1 for m in (rng or (point, point))):
        raise ValueError(f"The 'margin' parameter is the share of revenue kept as profit, in (0, 1]. "
                         f"Got {raw!r} instead.")
    how = (f"value per unit {_fmt(point)}" if margin is None
           else f"margin {point:.1%} on revenue (profit contribution, not revenue)")
    return point, rng, how


def _rate(name: str, value: Any, *, below_one: bool) -> float:
    """A yearly rate given as a share; a number above 1 is taken for a percentage and refused."""
    v = _number(name, value)
    if v > 1:
        raise ValueError(f"The {name!r} parameter is a yearly rate given as a share: {name}={value!r} means "
                         f"{v * 100:,.0f} % a year. Pass {v / 100:g} for {v:g} %.")
    if v < 0 or (below_one and v >= 1):
        allowed = "in [0, 1)" if below_one else "in [0, 1]"
        raise ValueError(f"The {name!r} parameter must be a yearly rate {allowed} (0.10 for 10 %). "
                         f"Got {value!r} instead.")
    return v


def _outcome_of(effect: Any) -> str:
    """The outcome name an effect carries (an evaluation's is that of its effect); ``""`` when none."""
    for obj in (effect, getattr(effect, "effect", None)):
        name = getattr(obj, "outcome", None)
        if isinstance(name, str) and name.strip():
            return name.strip()
    return ""


def _revenue_like(outcome: str) -> bool:
    """Whether an outcome name reads as revenue (see :data:`REVENUE_WORDS`)."""
    low = outcome.lower()
    words = set(re.split(r"[^a-z]+", low))
    joined = re.sub(r"[^a-z]+", "_", low)
    return (bool(words & set(REVENUE_WORDS)) or any(w in joined for w in REVENUE_WORDS if "_" in w)
            or any(w in low for w in _REVENUE_INSIDE))


def _freq_of(effect: Any) -> str | None:
    """The pandas period frequency of the panel behind an effect, when the effect carries it.

    Read from ``spec["freq"]``, from a period in the spec (``first_period``), or from the periods in its
    cells or elements (cohort, time); an evaluation's from its effect.
    """
    for obj in (effect, getattr(effect, "effect", None)):
        if obj is None:
            continue
        spec = getattr(obj, "spec", None)
        if isinstance(spec, Mapping):
            if isinstance(spec.get("freq"), str) and spec["freq"]:
                return str(spec["freq"])
            for v in spec.values():
                if isinstance(v, pd.Period):
                    return str(v.freqstr)
        for table in ("cells", "elements"):
            frame = getattr(obj, table, None)
            if isinstance(frame, pd.DataFrame):
                for col in ("cohort", "time", "group", "calendar"):
                    if col in frame and isinstance(frame[col].dtype, pd.PeriodDtype):
                        return str(frame[col].dtype.freq.freqstr)
    return None


def _periods_per_year_of(freq: str) -> tuple[float, str] | None:
    """(periods a year, name of the periods) of a pandas frequency such as ``"M"``, ``"W-SUN"``,
    ``"2W"``, ``"Q-DEC"``; ``None`` when it is not one of :data:`PERIODS_PER_YEAR`."""
    m = re.fullmatch(r"(\d*)([A-Za-z]+)(-\w+)?", freq.strip())
    if m is None:
        return None
    base = m.group(2).upper()
    base = {"ME": "M", "QE": "Q", "YE": "Y", "BME": "M"}.get(base, base)
    if base not in PERIODS_PER_YEAR:
        return None
    per, name = PERIODS_PER_YEAR[base]
    mult = int(m.group(1)) if m.group(1) else 1
    return per / mult, (name if mult == 1 else f"{mult}-{name[:-1]} periods")


def _periods_per_year(effect: Any, periods_per_year: Any) -> tuple[float, str, bool]:
    """(periods a year, what a period is, whether it was assumed) for :func:`impactlab.roi.roi`.

    The effect's own frequency wins; a ``periods_per_year`` that contradicts it is refused, since the
    horizon, decay and discounting are counted in the effect's periods.
    """
    freq = _freq_of(effect)
    seen = _periods_per_year_of(freq) if freq else None
    if periods_per_year is None:
        if seen is not None:
            return seen[0], seen[1], False
        return 12.0, "periods", True
    ppy = _number("periods_per_year", periods_per_year, positive=True)
    if seen is not None and not math.isclose(ppy, seen[0]):
        raise ValueError(f"The effect was estimated on a panel of {seen[1]} ({seen[0]:g} a year), but "
                         f"periods_per_year={periods_per_year!r} was given: the horizon, decay and "
                         f"discounting are counted in the effect's periods. Leave periods_per_year out (or "
                         f"pass {seen[0]:g}).")
    return ppy, seen[1] if seen is not None else "periods", False


def _currency(currency: Any, of_costs: str | None) -> tuple[str, bool]:
    """(currency code, whether it was assumed): ``currency=`` checked against the costs' own currency."""
    if currency is not None and (not isinstance(currency, str) or not currency.strip()):
        raise ValueError(f"The 'currency' parameter must be a currency code such as 'EUR'. "
                         f"Got {currency!r} instead.")
    code = None if currency is None else currency.strip().upper()
    if of_costs is not None:
        if code is not None and code != of_costs:
            raise DataError(
                f"The costs are in {of_costs} but currency={currency!r} was given for the value per unit: "
                "benefits and costs must be in one currency.",
                hint=f"Convert the value per unit to {of_costs} (and drop currency=), or, if the costs are "
                     f"already in {code}, build them with Costs(..., currency={code!r}) or "
                     f"Costs.from_table(..., currency={code!r}).")
        return of_costs, False
    return (code, False) if code is not None else ("USD", True)
