"""Least squares with classical (``iid``), heteroskedasticity-robust (``hc0``–``hc3``, ``robust`` = HC1)
and cluster-robust (CR1) variances, with the small-sample conventions of Stata's ``regress``/``reghdfe``; the
formulas and the degrees-of-freedom rule are in docs/explanation.md ("How the numbers are computed").
"""

from __future__ import annotations

import warnings
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal

import numpy as np
import pandas as pd

from impactlab.errors import EstimationError, StatisticalWarning, check_option

Vcov = Literal["cluster", "robust", "iid", "hc0", "hc1", "hc2", "hc3"]
VCOV_OPTIONS = ("cluster", "robust", "iid", "hc0", "hc1", "hc2", "hc3")
#: Options that need the leverage of each observation.
LEVERAGE_VCOV = ("hc2", "hc3")
#: Fewer clusters than this make cluster-robust inference unreliable (Cameron, Gelbach & Miller 2008).
FEW_CLUSTERS = 30
#: Cohorts with fewer units than this give noisy cohort-level effects.
SMALL_COHORT = 5


@dataclass(frozen=True)
class OLSFit:
    """Coefficients, their covariance and the degrees of freedom for inference."""

    params: np.ndarray
    vcov: np.ndarray
    resid: np.ndarray
    df: float
    n_obs: int
    n_clusters: int | None
    vcov_type: str


def check_full_rank(X: np.ndarray, names: Sequence[str]) -> None:
    """Raise :class:`EstimationError` naming the columns that make ``X`` rank deficient."""
    if X.shape[1] == 0:
        return
    scale = np.sqrt((X**2).sum(axis=0))
    zero = scale < 1e-12 * max(1.0, float(scale.max(initial=0.0)))
    if zero.any():
        cols = [names[int(i)] for i in np.flatnonzero(zero)]
        raise EstimationError(
            f"The design has no variation left in {cols} once the fixed effects are removed (for example a "
            "covariate that is constant within units, or a treatment indicator that never changes). "
            "Remove these columns."
        )
    Xs = X / scale
    rank = np.linalg.matrix_rank(Xs, tol=1e-9 * max(Xs.shape))
    if rank < X.shape[1]:
        # find a minimal set of redundant columns by greedy QR
        kept: list[int] = []
        redundant: list[str] = []
        for j in range(X.shape[1]):
            trial = kept + [j]
            if np.linalg.matrix_rank(Xs[:, trial], tol=1e-9 * max(Xs.shape)) == len(trial):
                kept = trial
            else:
                redundant.append(names[j])
        raise EstimationError(
            f"The columns {redundant} are collinear with the other regressors (or with the fixed effects), "
            "so their effects cannot be told apart. Drop them or combine them."
        )


def ols(X: np.ndarray, y: np.ndarray, *, names: Sequence[str], vcov: str = "cluster",
        clusters: np.ndarray | None = None, absorbed: int = 0,
        absorbed_leverage: np.ndarray | None = None, cluster_codes: np.ndarray | None = None) -> OLSFit:
    """Fit ``y = X b + u`` by least squares and compute the chosen covariance of ``b``.

    Parameters
    ----------
    X, y : ndarray
        Regressors (already demeaned when fixed effects are absorbed) and outcome.
    names : sequence of str
        Column names of ``X`` (for error messages).
    vcov : {"cluster", "robust", "iid", "hc0", "hc1", "hc2", "hc3"}
        See the module notes; ``robust`` is ``hc1``.
    clusters : ndarray, optional
        Cluster labels, required for ``vcov="cluster"``.
    absorbed : int
        Number of absorbed fixed-effect parameters counted in ``K`` (see the module notes).
    absorbed_leverage : ndarray, optional
        Leverage of each observation in the absorbed fixed effects alone (e.g. ``1 / n_t`` for period
        effects). The leverage in the full model is this plus the leverage of the demeaned ``X``
        (the two column spaces are orthogonal). Used by ``hc2`` and ``hc3`` only.
    cluster_codes : ndarray of int, optional
        Instead of ``clusters``: dense integer cluster codes ``0 .. G-1`` (every code present), which
        spares sorting the labels.
    """
    check_option("vcov", vcov, VCOV_OPTIONS)
    X = np.asarray(X, dtype="float64")
    y = np.asarray(y, dtype="float64")
    check_full_rank(X, names)
    n, k = X.shape
    xtx = X.T @ X
    try:
        bread = np.linalg.inv(xtx)
    except np.linalg.LinAlgError as exc:  # pragma: no cover - guarded by check_full_rank
        raise EstimationError(f"The design matrix with columns {list(names)} is singular.") from exc
    params = bread @ (X.T @ y)
    resid = y - X @ params
    big_k = k + absorbed
    if n - big_k <= 0:
        raise EstimationError(f"Too few observations ({n}) for {big_k} parameters.")
    n_clusters: int | None = None
    if vcov == "iid":
        s2 = float(resid @ resid) / (n - big_k)
        cov = s2 * bread
        df = float(n - big_k)
    elif vcov in ("robust", "hc0", "hc1", "hc2", "hc3"):
        u2 = resid**2
        factor = 1.0
        if vcov in ("robust", "hc1"):
            factor = n / (n - big_k)
        elif vcov in LEVERAGE_VCOV:
            h = leverage(X, bread)
            if absorbed_leverage is not None:
                h = h + np.asarray(absorbed_leverage, dtype="float64")
            if np.any(h > 1 - 1e-10):
                bad = int(np.sum(h > 1 - 1e-10))
                raise EstimationError(
                    f"vcov={vcov!r}: {bad} observation(s) have leverage 1 (they alone determine a parameter, "
                    "e.g. a unit observed once), so their residual is 0 and HC2/HC3 are undefined. "
                    "Use vcov='hc1' or 'cluster', or drop those observations.")
            u2 = u2 / (1 - h) ** (1 if vcov == "hc2" else 2)
        meat = (X * u2[:, None]).T @ X
        cov = factor * bread @ meat @ bread
        df = float(n - big_k)
    else:
        if cluster_codes is not None:
            codes = np.asarray(cluster_codes, dtype="intp")
            n_clusters = int(codes.max()) + 1 if codes.size else 0
        elif clusters is None:
            raise ValueError("vcov='cluster' needs cluster labels.")
        else:
            codes, uniq = _codes(clusters)
            n_clusters = len(uniq)
        if n_clusters < 2:
            raise EstimationError("Cluster-robust standard errors need at least 2 clusters; got 1.")
        # score sums per cluster, accumulated in row order (as np.add.at, much faster)
        scores = np.column_stack([np.bincount(codes, weights=X[:, j] * resid, minlength=n_clusters)
                                  for j in range(k)])
        meat = scores.T @ scores
        adj = n_clusters / (n_clusters - 1) * (n - 1) / (n - big_k)
        cov = adj * bread @ meat @ bread
        df = float(n_clusters - 1)
    return OLSFit(params=params, vcov=cov, resid=resid, df=df, n_obs=n, n_clusters=n_clusters, vcov_type=vcov)


def leverage(X: np.ndarray, bread: np.ndarray | None = None) -> np.ndarray:
    """Diagonal of the hat matrix ``X (X'X)⁻¹ X'`` without forming it."""
    X = np.asarray(X, dtype="float64")
    if bread is None:
        bread = np.linalg.inv(X.T @ X)
    return np.einsum("ij,jk,ik->i", X, bread, X)


def design_warnings(long: pd.DataFrame, who: str, *, clustered: bool = True, cohorts: bool = True,
                    never_treated: bool = False, stacklevel: int = 3) -> list[str]:
    """Warn about designs whose inference or identification deserves caution; one helper for every estimator.

    Checks, each giving a :class:`~impactlab.errors.StatisticalWarning` that says what to do:

    - ``clustered``: fewer than :data:`FEW_CLUSTERS` clusters, where cluster-robust standard errors are too
      small and tests over-reject (Cameron, Gelbach & Miller 2008, REStat 90(3)); suggests the wild
      cluster bootstrap (``vcov="wild"`` / :func:`impactlab.wild_bootstrap`).
    - ``cohorts``: a treated cohort with fewer than :data:`SMALL_COHORT` units.
    - ``never_treated``: no never-treated unit; suggests ``control="not_yet_treated"``.

    Parameters
    ----------
    long : DataFrame
        :meth:`Panel.long` frame (columns ``unit``, ``cohort_period``, ``cohort``, ``cluster``).
    who : str
        Name of the calling estimator, used in the messages.
    stacklevel : int
        Passed to :func:`warnings.warn`; the default suits a helper called directly by a public function.

    Returns
    -------
    list of str
        The messages warned (empty when the design is fine), so callers can also record them as notes.
    """
    msgs: list[str] = []
    units = long.drop_duplicates("unit")
    if clustered:
        g = int(long["cluster"].nunique())
        if g < FEW_CLUSTERS:
            msgs.append(
                f"{who}: only {g} clusters; cluster-robust standard errors understate uncertainty with fewer "
                f"than {FEW_CLUSTERS} (Cameron, Gelbach & Miller 2008). Use the wild cluster bootstrap: "
                "vcov='wild' or il.wild_bootstrap(...).")
    if cohorts:
        treated = units[units["cohort_period"] > 0]
        sizes = treated.groupby("cohort", sort=True)["unit"].size()
        small = sizes[sizes < SMALL_COHORT]
        if len(small):
            listed = ", ".join(f"{k!r} ({v} units)" for k, v in small.items())
            msgs.append(
                f"{who}: cohort(s) {listed} have fewer than {SMALL_COHORT} units, so their effects are "
                "estimated from very few people; report them with care or merge neighbouring waves.")
    if never_treated and not (units["cohort_period"] == 0).any():
        msgs.append(
            f"{who}: no unit is never treated, so there is no never-treated comparison group. "
            "Use control='not_yet_treated' (units trained later serve as the comparison until they are "
            "trained).")
    for m in msgs:
        warnings.warn(m, StatisticalWarning, stacklevel=stacklevel)
    return msgs


def balanced_units(long: pd.DataFrame, n_periods: int) -> int | None:
    """Number of units when a long frame sorted by unit and period is a full units × periods grid (periods
    ``1..n_periods``), else ``None``.

    Each unit's rows are contiguous in such a frame, so the grid holds when every block of ``n_periods``
    rows is one unit observed in periods 1..T and neighbouring blocks are different units.
    """
    n = len(long)
    if n_periods == 0 or n == 0 or n % n_periods:
        return None
    per = long["period"].to_numpy().reshape(-1, n_periods)
    if not (per == np.arange(1, n_periods + 1)).all():
        return None
    units = long["unit"].to_numpy().reshape(-1, n_periods)
    first = units[:, 0]
    if not (units == first[:, None]).all() or (first[1:] == first[:-1]).any():
        return None
    return len(first)


def _codes(labels: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    uniq, codes = np.unique(np.asarray(labels), return_inverse=True)
    return codes.ravel(), uniq


def demean(values: np.ndarray, groups: Sequence[np.ndarray], *, tol: float = 1e-10,
           max_iter: int = 10_000) -> np.ndarray:
    """Remove one or more sets of fixed effects by alternating projections.

    Each column of ``values`` is demeaned within each grouping in turn until the largest change falls below
    ``tol`` (relative to the column scale). With a single grouping, or a balanced two-way panel, one sweep is
    exact. (Method of alternating projections: Guimarães & Portugal 2010; Gaure 2013.)
    """
    out = np.array(values, dtype="float64", copy=True)
    if out.ndim == 1:
        out = out[:, None]
    coded = [_codes(g)[0] for g in groups]
    counts = [np.bincount(c) for c in coded]
    scale = np.maximum(np.abs(out).max(axis=0), 1.0)
    for _it in range(max_iter):
        delta = 0.0
        for c, cnt in zip(coded, counts, strict=True):
            for j in range(out.shape[1]):
                means = np.bincount(c, weights=out[:, j], minlength=len(cnt)) / cnt
                step = means[c]
                out[:, j] -= step
                delta = max(delta, float(np.abs(step).max() / scale[j]))
        if len(coded) == 1 or delta < tol:
            break
    else:  # pragma: no cover - pathological designs only
        raise EstimationError(f"Fixed effects did not converge after {max_iter} sweeps (change {delta:.2e}).")
    return out
