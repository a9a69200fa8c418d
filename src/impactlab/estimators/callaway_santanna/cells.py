"""One Callaway–Sant'Anna cell left to the 2×2 estimator by a fast route, and how the ledger explains it.

The fast routes (:mod:`._cs_suffstats`, :mod:`._cs_weighted`, :mod:`._cs_unbalanced`, :mod:`._cs_cov`,
:mod:`._cs_unbalanced_cov`) hand a cell whose propensity score reaches the trimming level, or that is
otherwise irregular, to the cell-by-cell 2×2 estimator, so that the trimming and overlap rules and the words
of ``.excluded`` stay those of the general route in :mod:`._cs_fit`.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

from impactlab.errors import EstimationError

#: (kind, what, reason) rows of ``.excluded``
Ledger = list[tuple[str, Any, str]]


def comparison(cohorts: np.ndarray, control: str, g: int, cur: int, base: int,
               anticipation: int) -> np.ndarray:
    """Which of ``cohorts`` (1-based first treated periods, 0 = never) compare with cohort ``g`` in the cell
    (g, cur) with base period ``base``: the never treated, or also those not yet treated by
    ``max(cur, base)`` (plus the anticipation window). Works on units' cohorts or on distinct cohorts."""
    if control == "never_treated":
        return cohorts == 0
    return (cohorts == 0) | ((cohorts > max(cur, base) + anticipation) & (cohorts != g))


def trimmed_note(n_trim: int) -> str:
    """The ledger's reason for a cell whose comparison observations were trimmed."""
    return (f"propensity score trimmed: {n_trim} comparison observations with a score of 0.995 or more got "
            "zero weight")


def fit_cell(fit: Callable[..., tuple[float, np.ndarray, int]], args: tuple[Any, ...], key: Any, where: str,
             ledger: Ledger, names: list[str]) -> tuple[float, np.ndarray] | None:
    """Run one cell's 2×2 fit, ``fit(*args)`` returning ``(att, influence, n_trimmed)``.

    Returns ``(att, influence)``, with a trimming note in ``ledger`` when observations were trimmed; ``None``
    when the cell cannot be estimated or its estimate is not finite, the reason then in ``ledger`` and the
    cell's name in ``names``.
    """
    try:
        att, psi, n_trim = fit(*args)
    except EstimationError as exc:
        ledger.append(("cell", key, str(exc)))
        names.append(where)
        return None
    if not np.isfinite(att):
        ledger.append(("cell", key, "the estimate is not finite"))
        names.append(where)
        return None
    if n_trim:
        ledger.append(("cell", key, trimmed_note(n_trim)))
    return att, psi
