"""Checks of the scalar inputs of :func:`impactlab.roi.roi` (numbers, rates, value per unit, level)."""

from __future__ import annotations

import math
import numbers
from typing import Any

from impactlab.results.base import _fmt


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
    v = _number(name, value)
    if v < 0 or (below_one and v >= 1):
        allowed = "in [0, 1)" if below_one else ">= 0"
        raise ValueError(f"The {name!r} parameter must be a yearly rate {allowed} (0.10 for 10 %). "
                         f"Got {value!r} instead.")
    return v
