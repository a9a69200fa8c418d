"""Small interval estimators shared by the Kirkpatrick levels (proportions, means, NPS, correlations)."""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from typing import Any

import numpy as np
import pandas as pd
from scipy import stats

from impactlab.errors import DataError


def check_level(level: Any) -> float:
    if isinstance(level, bool) or not isinstance(level, (int, float)) or not 0 < float(level) < 1:
        raise ValueError(f"The 'level' parameter must be between 0 and 1 (e.g. 0.95). Got {level!r} instead.")
    return float(level)


def z_value(level: float) -> float:
    return float(stats.norm.ppf(0.5 + level / 2))


def wilson(successes: float, n: float, level: float = 0.95) -> tuple[float, float]:
    """Wilson score interval of a proportion (Wilson 1927, *JASA* 22(158); Agresti & Coull 1998).

    ``(p + z^2/2n -/+ z sqrt(p(1-p)/n + z^2/4n^2)) / (1 + z^2/n)``; ``(nan, nan)`` when ``n == 0``.
    """
    if n <= 0:
        return math.nan, math.nan
    z = z_value(level)
    p = successes / n
    denom = 1 + z * z / n
    centre = (p + z * z / (2 * n)) / denom
    half = z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / denom
    return max(0.0, centre - half), min(1.0, centre + half)


def mean_ci(values: np.ndarray, level: float = 0.95) -> tuple[float, float, float, float]:
    """(mean, std_error, conf_low, conf_high) with a Student t interval; NaN bounds when n < 2."""
    x = np.asarray(values, dtype="float64")
    x = x[np.isfinite(x)]
    n = len(x)
    if n == 0:
        return math.nan, math.nan, math.nan, math.nan
    m = float(x.mean())
    if n < 2:
        return m, math.nan, math.nan, math.nan
    se = float(x.std(ddof=1) / math.sqrt(n))
    t = float(stats.t.ppf(0.5 + level / 2, n - 1))
    return m, se, m - t * se, m + t * se


def nps(scores: np.ndarray, level: float = 0.95) -> dict[str, float]:
    """Net Promoter Score in points (-100..100) with an adjusted-Wald interval.

    NPS = 100 (p_P - p_D), promoters 9-10 and detractors 0-6 on the 0-10 scale (Reichheld 2003, *Harvard
    Business Review* 81(12)). The interval is the adjusted Wald one that Rocks (2016, "Interval estimation
    for the 'Net Promoter Score'", *The American Statistician* 70(4)) found to keep its coverage: add 3/4 of
    an answer to the promoters and to the detractors and 3 to ``n``, then take the multinomial variance
    ``(p_P + p_D - (p_P - p_D)^2) / n`` of the adjusted shares around the adjusted difference; clipped to
    [-100, 100]. ``std_error`` is that adjusted standard error (the plain one is 0 when every answer is a
    promoter, an interval of no width; the adjusted one is not).
    """
    x = np.asarray(scores, dtype="float64")
    x = x[np.isfinite(x)]
    n = len(x)
    promoters = int(np.sum(x >= 9))
    detractors = int(np.sum(x <= 6))
    if n == 0:
        return {"n": 0, "promoters": 0, "passives": 0, "detractors": 0, "nps": math.nan,
                "std_error": math.nan, "conf_low": math.nan, "conf_high": math.nan}
    centre, se = nps_adjusted(promoters, detractors, n)
    z = z_value(level)
    return {"n": n, "promoters": promoters, "passives": n - promoters - detractors, "detractors": detractors,
            "nps": 100 * (promoters - detractors) / n, "std_error": 100 * se,
            "conf_low": max(-100.0, 100 * (centre - z * se)),
            "conf_high": min(100.0, 100 * (centre + z * se))}


def nps_adjusted(promoters: float, detractors: float, n: float) -> tuple[float, float]:
    """Centre and standard error (shares, not points) of Rocks' (2016) adjusted-Wald NPS interval."""
    m = n + 3
    pp, pd_ = (promoters + 0.75) / m, (detractors + 0.75) / m
    return pp - pd_, math.sqrt(max(pp + pd_ - (pp - pd_) ** 2, 0.0) / m)


def correlation(x: np.ndarray, y: np.ndarray, level: float = 0.95) -> dict[str, float]:
    """Pearson correlation with its Fisher-z interval (Fisher 1921) and the two-sided p-value."""
    a = np.asarray(x, dtype="float64")
    b = np.asarray(y, dtype="float64")
    ok = np.isfinite(a) & np.isfinite(b)
    a, b = a[ok], b[ok]
    n = len(a)
    if n < 4 or np.std(a) == 0 or np.std(b) == 0:
        nan = math.nan
        return {"n": n, "estimate": nan, "conf_low": nan, "conf_high": nan, "p_value": nan}
    r, p = stats.pearsonr(a, b)
    z = math.atanh(min(max(float(r), -0.999999), 0.999999))
    half = z_value(level) / math.sqrt(n - 3)
    return {"n": n, "estimate": float(r), "conf_low": math.tanh(z - half), "conf_high": math.tanh(z + half),
            "p_value": float(p)}


def as_frame(data: Any, reader: Callable[..., Any], what: str, required: tuple[str, ...]) -> pd.DataFrame:
    """The canonical frame of a Table, or of a DataFrame read (strictly) by ``reader``.

    A DataFrame is validated by the reader with ``errors="raise"``, so a bad row raises :class:`DataError`
    listing every failure; a Table has already been validated (its rejected rows stay in ``.rejected``).
    """
    frame = getattr(data, "frame", None)
    if isinstance(frame, pd.DataFrame):
        out = frame.copy()
    elif isinstance(data, pd.DataFrame):
        out = reader(data, errors="raise").frame.copy()
    else:
        raise TypeError(f"{what} expects a Table (from impactlab.read_{what}) or a DataFrame. "
                        f"Got {type(data).__name__} instead.")
    missing = [c for c in required if c not in out.columns]
    if missing:
        raise DataError(f"The {what} table lacks the column(s) {', '.join(missing)}.",
                        hint=f"Read it with impactlab.read_{what}(..., columns={{...}}) to map its headers.")
    if out.empty:
        raise DataError(f"The {what} table has no rows.", hint="Check the file and the filters applied.")
    return out


def t_interval(estimate: float, std_error: float, n: int, level: float) -> tuple[float, float]:
    """Student t interval ``estimate ± t(n - 1) · std_error`` of a mean of ``n`` values (see ``mean_ci``)."""
    if n < 2 or not math.isfinite(std_error):
        return math.nan, math.nan
    t = float(stats.t.ppf(0.5 + level / 2, n - 1))
    return estimate - t * std_error, estimate + t * std_error


def t_restated(estimate: float, low: float, high: float, n: int, from_level: float,
               to_level: float) -> tuple[float, float]:
    """A t interval of a mean of ``n`` values computed at ``from_level``, restated at ``to_level``."""
    if n < 2 or math.isclose(from_level, to_level):
        return float(low), float(high)
    ratio = float(stats.t.ppf(0.5 + to_level / 2, n - 1) / stats.t.ppf(0.5 + from_level / 2, n - 1))
    return estimate - (estimate - low) * ratio, estimate + (high - estimate) * ratio


def share_row(term: str, share: float, n: int, level: float, **keys: Any) -> dict[str, Any]:
    """Tidy row of a proportion among ``n``: the binomial standard error ``sqrt(p(1-p)/n)`` and the Wilson
    interval, then ``n`` and the keys."""
    if not n or not math.isfinite(share):
        return {"term": term, "estimate": share, "n": n, **keys}
    lo, hi = wilson(round(share * n), n, level)
    return {"term": term, "estimate": share, "std_error": math.sqrt(share * (1 - share) / n), "conf_low": lo,
            "conf_high": hi, "n": n, **keys}


def nps_interval(row: Mapping[str, Any], level: float) -> tuple[float, float]:
    """The adjusted-Wald interval (see :func:`nps`) of an NPS row (``n, promoters, detractors``) at
    ``level``, in points clipped to [-100, 100]."""
    if not row["n"]:
        return math.nan, math.nan
    centre, se = nps_adjusted(row["promoters"], row["detractors"], row["n"])
    z = z_value(level)
    return max(-100.0, 100 * (centre - z * se)), min(100.0, 100 * (centre + z * se))


def normalised_change(pre: np.ndarray, post: np.ndarray) -> np.ndarray:
    """Marx & Cummings (2007, *Am. J. Phys.* 75(1)) normalised change ``c`` of each person, in [-1, 1].

    On percent scores: ``(post - pre) / (100 - pre)`` when the score rose, ``(post - pre) / pre`` when it
    fell, 0 when it stayed; NaN (the person is left out) when it stayed at 0 or at 100, where no change
    was possible in one direction.
    """
    pre = np.asarray(pre, dtype="float64")
    post = np.asarray(post, dtype="float64")
    diff = post - pre
    with np.errstate(divide="ignore", invalid="ignore"):
        up = diff / (100 - pre)
        down = diff / pre
    c = np.where(diff > 0, up, np.where(diff < 0, down, 0.0))
    return np.where((diff == 0) & ((pre <= 0) | (pre >= 100)), np.nan, c)


def paired_share_change(before: np.ndarray, after: np.ndarray,
                        level: float = 0.95) -> tuple[float, float, float]:
    """Change of a share measured twice on the same people, ``mean(after) - mean(before)`` of 0/1 arrays,
    with Newcombe's (1998, *Statistics in Medicine* 17(22), method 10) hybrid score interval: the Wilson
    intervals of the two shares combined with the phi correlation of the paired table, its numerator
    ``ad - bc`` shrunk towards 0 by ``n/2`` when positive (Newcombe's continuity correction; phi is 0 when a
    margin is empty)."""
    b = np.asarray(before, dtype=bool)
    a = np.asarray(after, dtype=bool)
    n = len(a)
    if n == 0:
        return math.nan, math.nan, math.nan
    p1, p2 = a.mean(), b.mean()
    l1, u1 = wilson(float(a.sum()), n, level)
    l2, u2 = wilson(float(b.sum()), n, level)
    both, only_after = float(np.sum(a & b)), float(np.sum(a & ~b))
    only_before, neither = float(np.sum(~a & b)), float(np.sum(~a & ~b))
    margins = (both + only_after) * (only_before + neither) * (both + only_before) * (only_after + neither)
    cross = both * neither - only_after * only_before
    cross = cross - n / 2 if cross > n / 2 else min(cross, 0.0)
    phi = cross / math.sqrt(margins) if margins > 0 else 0.0
    diff = float(p1 - p2)
    down = math.sqrt(max((p1 - l1) ** 2 - 2 * phi * (p1 - l1) * (u2 - p2) + (u2 - p2) ** 2, 0.0))
    up = math.sqrt(max((u1 - p1) ** 2 - 2 * phi * (u1 - p1) * (p2 - l2) + (p2 - l2) ** 2, 0.0))
    return diff, max(-1.0, diff - down), min(1.0, diff + up)
