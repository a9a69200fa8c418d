"""The benefit stream of a programme over its horizon: decay of the effect and discounting (NPV).

A programme whose effect is ``theta`` per participant and period in the first period after training
earns, in period ``t = 1, 2, ..., H`` of the horizon,

    b_t = theta x value x participants x (1 - decay) ** ((t - 1) / m) / (1 + r) ** (t / m),

where ``decay`` is the share of the effect lost per year, ``r`` the annual discount rate and ``m`` the
number of periods per year. The effect is full in the first period and fades geometrically after it;
each period's money is discounted from the end of that period (an ordinary annuity). The sum of the
weights, :func:`stream_weights`, is what multiplies ``theta x value x participants``; with no decay and no
discounting it equals ``H`` and the benefit is the plain ``theta x value x participants x H``.

References: net present value and discounting of training benefits, J. J. Phillips, *Return on
Investment in Training and Performance Improvement Programs* (2nd ed., 2003), ch. 8 ("Other ROI
measures"); decay of the skill after training, J. K. Ford, *Transfer of Training* (Annual Review of
Organizational Psychology, 2017) and the Phillips guiding principle of counting only the benefit that
lasts.
"""

from __future__ import annotations

import math

import numpy as np


def stream_weights(horizon: float, *, decay: float = 0.0, discount_rate: float = 0.0,
                   periods_per_year: float = 12.0) -> np.ndarray:
    """Weight of each period of the horizon (a fractional last period gets a partial weight).

    Parameters
    ----------
    horizon : float
        Number of periods (> 0); a non-integer horizon ends with a partial period.
    decay : float
        Share of the effect lost per year, in [0, 1).
    discount_rate : float
        Annual discount rate (>= 0).
    periods_per_year : float
        Periods in a year (12 for months, 52 for weeks, 1 for years).

    Returns
    -------
    ndarray
        ``w_t = (1 - decay) ** ((t - 1) / m) / (1 + r) ** (t / m)`` for ``t = 1..ceil(horizon)``, the last
        one multiplied by the fraction of the period covered.

    Examples
    --------
    >>> [round(float(w), 6) for w in stream_weights(3, decay=0.1, discount_rate=0.08, periods_per_year=1)]
    [0.925926, 0.771605, 0.643004]
    """
    n = math.ceil(horizon)
    t = np.arange(1, n + 1, dtype="float64")
    w = (1.0 - decay) ** ((t - 1) / periods_per_year) / (1.0 + discount_rate) ** (t / periods_per_year)
    part = horizon - (n - 1)
    w[-1] *= part
    return w


def payback(cost: float, per_period: float, *, decay: float = 0.0, discount_rate: float = 0.0,
            periods_per_year: float = 12.0, max_periods: int = 100_000) -> float:
    """Periods until the cumulative (decayed, discounted) benefit reaches ``cost``.

    ``per_period`` is the undiscounted benefit of the first period at full effect. With no decay and no
    discounting this is Phillips' ``cost / benefit per period``; otherwise the stream is followed period
    by period (beyond the horizon if need be) and the crossing is interpolated linearly within its
    period. Returns ``inf`` when the benefit is not positive or the stream never covers the cost.
    """
    if per_period <= 0:
        return math.inf
    if decay == 0 and discount_rate == 0:
        return cost / per_period
    q = ((1.0 - decay) / (1.0 + discount_rate)) ** (1.0 / periods_per_year)
    first = per_period / (1.0 + discount_rate) ** (1.0 / periods_per_year)
    if q < 1 and first / (1 - q) < cost:  # the whole infinite stream is worth less than the cost
        return math.inf
    total, t, b = 0.0, 0, first
    while t < max_periods:
        if total + b >= cost:
            return t + (cost - total) / b
        total += b
        b *= q
        t += 1
    return math.inf  # pragma: no cover - only for absurd inputs
