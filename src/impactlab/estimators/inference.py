"""Least squares with classical, heteroskedasticity-robust and cluster-robust variances.

Small-sample corrections follow the conventions of Stata's ``regress``/``reghdfe`` (Correia 2017) and
Cameron & Miller (2015, "A Practitioner's Guide to Cluster-Robust Inference", J. Human Resources 50(2)):

- ``iid``: ``s² (X'X)⁻¹`` with ``s² = RSS / (N − K)``;
- ``robust`` (HC1): ``N / (N − K) · (X'X)⁻¹ X' diag(u²) X (X'X)⁻¹``;
- ``cluster`` (CR1): ``G / (G − 1) · (N − 1) / (N − K) · (X'X)⁻¹ (Σ_g X_g'u_g u_g'X_g) (X'X)⁻¹``,
  with inference on a t distribution with ``G − 1`` degrees of freedom.

``K`` counts the estimated coefficients plus the absorbed fixed effects that are *not* nested in the
clusters (fixed effects nested in clusters do not reduce the cluster-robust degrees of freedom).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal

import numpy as np

from impactlab.errors import EstimationError, check_option

Vcov = Literal["cluster", "robust", "iid"]
VCOV_OPTIONS = ("cluster", "robust", "iid")


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
        clusters: np.ndarray | None = None, absorbed: int = 0) -> OLSFit:
    """Fit ``y = X b + u`` by least squares and compute the chosen covariance of ``b``.

    Parameters
    ----------
    X, y : ndarray
        Regressors (already demeaned when fixed effects are absorbed) and outcome.
    names : sequence of str
        Column names of ``X`` (for error messages).
    vcov : {"cluster", "robust", "iid"}
    clusters : ndarray, optional
        Cluster labels, required for ``vcov="cluster"``.
    absorbed : int
        Number of absorbed fixed-effect parameters counted in ``K`` (see the module notes).
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
    elif vcov == "robust":
        meat = (X * resid[:, None] ** 2).T @ X
        cov = n / (n - big_k) * bread @ meat @ bread
        df = float(n - big_k)
    else:
        if clusters is None:
            raise ValueError("vcov='cluster' needs cluster labels.")
        codes, uniq = _codes(clusters)
        n_clusters = len(uniq)
        if n_clusters < 2:
            raise EstimationError("Cluster-robust standard errors need at least 2 clusters; got 1.")
        scores = np.zeros((n_clusters, k))
        np.add.at(scores, codes, X * resid[:, None])
        meat = scores.T @ scores
        adj = n_clusters / (n_clusters - 1) * (n - 1) / (n - big_k)
        cov = adj * bread @ meat @ bread
        df = float(n_clusters - 1)
    return OLSFit(params=params, vcov=cov, resid=resid, df=df, n_obs=n, n_clusters=n_clusters, vcov_type=vcov)


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
    for it in range(max_iter):
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
