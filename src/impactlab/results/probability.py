"""How a probability is printed: never "100 %" for a chance below one, never "0 %" for one above zero.

A rounded percentage hides the difference between certain and very likely: ``f"{0.997:.0%}"`` prints
``100%``, and a board reads "the programme is certain to pay". Every place impactlab shows a probability
(summaries, ``explain()``, chart titles, slides and speaker notes) goes through :func:`fmt_prob`, which
keeps one decimal and writes ``> 99.9 %`` / ``< 0.1 %`` where one decimal would round to 100 or 0.
"""

from __future__ import annotations

import math
from typing import Any


def fmt_prob(p: float, *, exact: bool = True) -> str:
    """A probability as a percentage with one decimal, ``"> 99.9 %"`` or ``"< 0.1 %"`` near the ends.

    Parameters
    ----------
    p : float
        The probability, in [0, 1].
    exact : bool
        Whether a value of exactly 0 or 1 is a certainty (a plain-number effect without sampling error).
        When ``False`` (a share of random draws, or a tail probability that rounded to 1 in floating
        point), 1 and 0 mean "beyond what was resolved" and print as ``"> 99.9 %"`` / ``"< 0.1 %"``.

    Returns
    -------
    str
        ``"100 %"`` and ``"0 %"`` only for exact certainties; ``"n/a"`` for NaN or a value outside [0, 1].

    Examples
    --------
    >>> fmt_prob(0.97312), fmt_prob(0.99999), fmt_prob(0.0002), fmt_prob(1.0), fmt_prob(1.0, exact=False)
    ('97.3 %', '> 99.9 %', '< 0.1 %', '100 %', '> 99.9 %')
    """
    try:
        x = float(p)
    except (TypeError, ValueError):
        return "n/a"
    if not math.isfinite(x) or x < 0 or x > 1:
        return "n/a"
    if exact and x == 1:
        return "100 %"
    if exact and x == 0:
        return "0 %"
    text = f"{100 * x:.1f}"
    if text == "100.0":
        return "> 99.9 %"
    if text == "0.0":
        return "< 0.1 %"
    return f"{text} %"


def prob_statement(name: str, p: float, *, exact: bool = True) -> str:
    """``"name = 97.3 %"``, or ``"name > 99.9 %"`` / ``"name < 0.1 %"`` near the ends (see :func:`fmt_prob`).

    Examples
    --------
    >>> prob_statement("P(ROI > 0)", 0.973), prob_statement("P(ROI > 0)", 0.99999)
    ('P(ROI > 0) = 97.3 %', 'P(ROI > 0) > 99.9 %')
    """
    text = fmt_prob(p, exact=exact)
    return f"{name} {text}" if text[0] in "<>" else f"{name} = {text}"


def fmt_prob_positive(r: Any) -> str:
    """``"P(ROI > 0) = ..."`` of an ROI result, the probability printed by :func:`fmt_prob`.

    The probability is exact at 0 or 1 only when the effect has no sampling error (a plain number);
    with a standard error, a 0 or 1 is a rounded tail or a share of Monte Carlo draws.
    """
    se = getattr(r, "effect_std_error", math.nan)
    certain = isinstance(se, (int, float)) and se == 0
    return prob_statement("P(ROI > 0)", r.prob_positive, exact=certain)
