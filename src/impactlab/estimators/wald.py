"""Wald tests of linear hypotheses on estimates with a known covariance matrix.

``W = (R b - r)' (R V R')^{-1} (R b - r)``, asymptotically chi-square with ``rank(R)`` degrees of freedom
under the null (Wald 1943; e.g. Wooldridge 2010, *Econometric Analysis of Cross Section and Panel Data*,
eq. 7.52). Used for the Callaway–Sant'Anna pre-test of parallel trends and for the test that segment
effects are equal.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy import stats

__all__ = ["WaldTest", "wald_test"]

#: Reciprocal condition number at or under which the covariance of the tested contrasts is singular
#: (R ``did`` uses ``.Machine$double.eps`` for its pre-test).
RCOND_MIN = float(np.finfo(float).eps)


@dataclass(frozen=True)
class WaldTest:
    """The outcome of a Wald test.

    Attributes
    ----------
    name : str
        What was tested (the null hypothesis in words).
    statistic : float
        The Wald statistic (NaN when the test could not be computed).
    df : int
        Degrees of freedom of the chi-square reference distribution.
    p_value : float
        ``P(chi2(df) > statistic)``.
    reason : str or None
        Why the test could not be computed (``None`` when it was).
    """

    name: str
    statistic: float
    df: int
    p_value: float
    reason: str | None = None

    @property
    def valid(self) -> bool:
        """Whether the statistic was computed."""
        return self.reason is None

    def __str__(self) -> str:
        if self.reason is not None:
            return f"{self.name}: not computed ({self.reason})"
        return f"{self.name}: W = {self.statistic:.4f}, df = {self.df}, p = {self.p_value:.4g}"


def wald_test(estimates: np.ndarray, vcov: np.ndarray, name: str, *,
              restriction: np.ndarray | None = None) -> WaldTest:
    """Wald test of ``R b = 0`` (``R`` the identity by default: all estimates are zero).

    Parameters
    ----------
    estimates : ndarray, shape (k,)
        The estimates ``b``.
    vcov : ndarray, shape (k, k)
        Their covariance matrix.
    name : str
        Description of the null hypothesis.
    restriction : ndarray, shape (q, k), optional
        The matrix ``R``.

    Returns
    -------
    WaldTest
        With ``reason`` set, and NaN statistic, when there is nothing to test, the covariance has missing
        values or is singular.
    """
    b = np.asarray(estimates, dtype="float64").ravel()
    v = np.asarray(vcov, dtype="float64")
    r = np.eye(b.size) if restriction is None else np.asarray(restriction, dtype="float64")
    q = r.shape[0]
    if b.size == 0 or q == 0:
        return WaldTest(name, float("nan"), 0, float("nan"), "nothing to test")
    if not (np.all(np.isfinite(b)) and np.all(np.isfinite(v))):
        return WaldTest(name, float("nan"), q, float("nan"), "missing estimates or covariances")
    rb = r @ b
    rvr = r @ v @ r.T
    try:
        rc = 1.0 / np.linalg.cond(rvr, 1)
    except np.linalg.LinAlgError:  # pragma: no cover - cond returns inf rather than raising
        rc = 0.0
    if not rc > RCOND_MIN:
        return WaldTest(name, float("nan"), q, float("nan"), "singular covariance matrix")
    w = float(rb @ np.linalg.solve(rvr, rb))
    return WaldTest(name, w, q, float(stats.chi2.sf(w, q)))
