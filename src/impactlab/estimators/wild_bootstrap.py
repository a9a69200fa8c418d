"""The wild cluster bootstrap with the null imposed (WCR) for the training coefficient of ``twfe`` or
``regression``, for inference with few clusters: :func:`wild_bootstrap`, :class:`WildBootstrapResult` and
the fast linear algebra that computes every draw at once (docs/explanation.md, "Event studies, the Bacon
decomposition and the wild bootstrap").
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

import numpy as np
import pandas as pd

from impactlab._progress import progress
from impactlab.errors import EstimationError, check_option
from impactlab.estimators._common import check_panel, need_both_groups, resolve_covariates, treated_now
from impactlab.estimators.inference import _codes, check_full_rank, demean, design_warnings
from impactlab.panel import Panel
from impactlab.results.base import TIDY_COLUMNS, EffectResult, critical_value

Multiplier = Literal["rademacher", "webb"]
MULTIPLIERS = ("rademacher", "webb")
_WEBB = np.array([-np.sqrt(1.5), -1.0, -np.sqrt(0.5), np.sqrt(0.5), 1.0, np.sqrt(1.5)])


def draw_multipliers(kind: str, n_draws: int, n_clusters: int, seed: int) -> tuple[np.ndarray, bool]:
    """Cluster multipliers, shape ``(n_draws, n_clusters)``; full enumeration for Rademacher when it fits.

    Returns the multipliers and whether they are the full enumeration of Rademacher sign vectors.
    """
    check_option("multiplier", kind, MULTIPLIERS)
    if kind == "rademacher" and n_clusters <= 20 and 2**n_clusters <= n_draws:
        codes = np.arange(2**n_clusters)[:, None] >> np.arange(n_clusters)[None, :] & 1
        return (2.0 * codes - 1.0), True
    rng = np.random.default_rng(seed)
    if kind == "rademacher":
        return rng.choice(np.array([-1.0, 1.0]), size=(n_draws, n_clusters)), False
    return rng.choice(_WEBB, size=(n_draws, n_clusters)), False


@dataclass(frozen=True)
class _Engine:
    """Pieces of the WCR bootstrap that are linear in the null value ``r`` (see the module notes)."""

    beta: float
    se: float
    num0: np.ndarray      # (D,)   V @ a(0)
    num1: np.ndarray      # (D,)   V @ c        so that numerator(r) = (num0 - r num1) / xx
    sc0: np.ndarray       # (D, G) scores at r = 0
    sc1: np.ndarray       # (D, G) their slope in r
    xx: float
    adj: float

    def t_star(self, r: float) -> np.ndarray:
        num = (self.num0 - r * self.num1) / self.xx
        sc = self.sc0 - r * self.sc1
        se = np.sqrt(self.adj * np.einsum("dg,dg->d", sc, sc)) / self.xx
        with np.errstate(divide="ignore", invalid="ignore"):
            return np.where(se > 0, num / se, 0.0)

    def p_value(self, r: float) -> float:
        t = (self.beta - r) / self.se
        return float(np.mean(np.abs(self.t_star(r)) >= abs(t) - 1e-12 * max(1.0, abs(t))))

    def conf_int(self, level: float) -> tuple[float, float]:
        alpha = 1 - level
        out = []
        bar = progress(desc="Wild bootstrap interval", unit=" nulls")  # one step per null value tested
        for sign in (-1.0, 1.0):
            inside, step = self.beta, self.se * max(critical_value(level), 1.0)
            outside = self.beta + sign * step
            for _ in range(60):
                bar.update()
                if self.p_value(outside) < alpha:
                    break
                inside, step = outside, step * 2
                outside = self.beta + sign * step
            else:
                out.append(sign * np.inf)
                continue
            for _ in range(80):
                bar.update()
                mid = 0.5 * (inside + outside)
                if self.p_value(mid) < alpha:
                    outside = mid
                else:
                    inside = mid
                if abs(outside - inside) <= 1e-9 * max(self.se, 1e-300):
                    break
            out.append(0.5 * (inside + outside))
        bar.close()
        return float(out[0]), float(out[1])


def wild_engine(X: np.ndarray, y: np.ndarray, j: int, clusters: np.ndarray, V: np.ndarray, *,
                absorbed: int = 0, names: Sequence[str] | None = None) -> _Engine:
    """Set up the WCR bootstrap for coefficient ``j`` of ``y = X b + u`` with cluster multipliers ``V``.

    ``X`` and ``y`` must already be demeaned by any fixed effects nested in the clusters; ``absorbed`` counts
    such effects not nested in the clusters (for the CR1 factor only, which cancels from the p-value).
    """
    X = np.asarray(X, dtype="float64")
    y = np.asarray(y, dtype="float64")
    names = list(names) if names is not None else [f"x{i}" for i in range(X.shape[1])]
    check_full_rank(X, names)
    n, k = X.shape
    codes, uniq = _codes(clusters)
    g = len(uniq)
    if g < 2:
        raise EstimationError("The wild cluster bootstrap needs at least 2 clusters; the data have 1. "
                              "Cluster at a finer level or report classical standard errors with care.")
    A_inv = np.linalg.inv(X.T @ X)
    beta = A_inv @ (X.T @ y)
    resid = y - X @ beta
    Z = np.delete(X, j, axis=1)
    xj = X[:, j]
    x_t = xj - Z @ np.linalg.lstsq(Z, xj, rcond=None)[0] if Z.shape[1] else xj.copy()
    u0 = y - (Z @ np.linalg.lstsq(Z, y, rcond=None)[0] if Z.shape[1] else 0.0)   # restricted residual at r=0
    xx = float(x_t @ x_t)

    def by_cluster(m: np.ndarray) -> np.ndarray:
        out = np.zeros((g,) + m.shape[1:])
        np.add.at(out, codes, m)
        return out

    a0 = by_cluster(x_t * u0)                 # a_g(r) = a0 - r c
    c = by_cluster(x_t * x_t)
    S0 = by_cluster(X * u0[:, None])          # S_g(r) = S0 - r B
    B = by_cluster(X * x_t[:, None])
    big_k = k + absorbed
    adj = g / (g - 1) * (n - 1) / (n - big_k)
    score = by_cluster(x_t * resid)
    se = float(np.sqrt(adj * score @ score) / xx)
    proj = A_inv @ B.T                        # (k, G)
    sc0 = V * a0[None, :] - (V @ S0) @ proj
    sc1 = V * c[None, :] - (V @ B) @ proj
    return _Engine(beta=float(beta[j]), se=se, num0=V @ a0, num1=V @ c, sc0=sc0, sc1=sc1, xx=xx, adj=adj)


@dataclass(frozen=True, repr=False, eq=False)
class WildBootstrapResult(EffectResult):
    """An :class:`EffectResult` whose p-value and confidence interval come from the wild cluster bootstrap.

    ``std_error`` stays the analytic CR1 standard error (what ROI and comparisons consume); ``p_value``,
    ``conf_int(level)`` and the ``tidy()`` row use the bootstrap (WCR, test inversion for the interval).

    Attributes
    ----------
    n_draws : int
        Bootstrap draws used (``2**G`` under full enumeration).
    multiplier : str
        The multiplier distribution, ``"rademacher"`` or ``"webb"``.
    seed : int
        Seed of the draws.
    null : float
        Null value the p-value tests.
    n_clusters : int
        Number of clusters.
    enumerated : bool
        True when every Rademacher sign vector was used (exact, no simulation noise).
    """

    n_draws: int = 0
    multiplier: Multiplier = "rademacher"
    seed: int = 0
    null: float = 0.0
    n_clusters: int = 0
    enumerated: bool = False
    # the bootstrap draws behind p_value and conf_int; set by wild_bootstrap, not a constructor argument
    _engine: Any = field(default=None, init=False, repr=False, compare=False)

    @property
    def p_value(self) -> float:
        return self._engine.p_value(self.null)

    def conf_int(self, level: float = 0.95) -> tuple[float, float]:
        """Bootstrap confidence interval at ``level`` by test inversion (same draws for every null)."""
        critical_value(level)
        return self._engine.conf_int(level)

    def tidy(self, level: float = 0.95) -> pd.DataFrame:
        lo, hi = self.conf_int(level)
        row = {"term": self.term, "estimate": self.estimate, "std_error": self.std_error,
               "statistic": (self.estimate - self.null) / self.std_error, "p_value": self.p_value,
               "conf_low": lo, "conf_high": hi, "method": self.method}
        return pd.DataFrame([row], columns=[*TIDY_COLUMNS, "method"])


def wild_bootstrap(panel: Panel, estimator: Literal["twfe", "regression"] = "twfe",
                   covariates: Sequence[str] | None = None, *, n_draws: int = 9999,
                   multiplier: Multiplier = "webb", seed: int | None = None, null: float = 0.0,
                   time_effects: bool = True) -> WildBootstrapResult:
    """Wild cluster bootstrap (WCR, null imposed) of the training coefficient of ``twfe`` or ``regression``.

    Also reachable as ``il.twfe(panel, vcov="wild", ...)`` and ``il.regression(panel, vcov="wild", ...)``.

    Parameters
    ----------
    panel : Panel
        Clustered by the panel's ``cluster`` column (the unit when none was given).
    estimator : {"twfe", "regression"}
        The model whose ``trained`` coefficient is tested: unit and period effects, or period effects and
        covariates.
    covariates : sequence of str, optional
        Panel covariates in the model.
    n_draws : int
        Number of bootstrap draws (9,999 by default; with Rademacher multipliers and at most
        ``log2(n_draws)`` clusters, all ``2**G`` sign vectors are used instead).
    multiplier : {"webb", "rademacher"}
        Distribution of the cluster multipliers. Webb's six-point distribution is the safer default with
        fewer than about 12 clusters
        (Rademacher allows only ``2**G`` distinct draws; Webb 2023, Canadian J. Economics 56(3)).
    seed : int, optional
        Seed of the draws; one is drawn and recorded in ``spec['seed']`` when ``None``.
    null : float
        Value of the coefficient under the null hypothesis of the p-value.
    time_effects : bool
        ``regression`` only: include period effects.

    Returns
    -------
    WildBootstrapResult
        Estimate and CR1 standard error as the analytic fit; p-value and interval from the bootstrap.
        The panel is not modified.

    Raises
    ------
    EstimationError
        One cluster; units that move between clusters (unit effects must be nested in the clusters);
        collinear regressors.

    Examples
    --------
    >>> import impactlab as il
    >>> org = il.datasets.simulate_org(n_employees=300, n_periods=8, seed=1)  # doctest: +SKIP
    >>> res = il.wild_bootstrap(panel, "twfe", seed=0)  # doctest: +SKIP
    >>> res.p_value, res.conf_int(0.95)  # doctest: +SKIP
    """
    panel = check_panel(panel, "wild_bootstrap")
    check_option("estimator", estimator, ("twfe", "regression"))
    check_option("multiplier", multiplier, MULTIPLIERS)
    if isinstance(n_draws, bool) or not isinstance(n_draws, (int, np.integer)) or n_draws < 99:
        raise ValueError(f"The 'n_draws' parameter must be an integer of at least 99 (9999 recommended). "
                         f"Got {n_draws!r} instead.")
    if not np.isfinite(null):
        raise ValueError(f"The 'null' parameter must be a finite number. Got {null!r} instead.")
    if seed is None:
        seed = int(np.random.default_rng().integers(0, 2**31 - 1))
    covs = resolve_covariates(panel, covariates)
    long = panel.long()
    d = treated_now(long)
    need_both_groups(d, f"wild_bootstrap({estimator})")
    y = long["outcome"].to_numpy(dtype="float64")
    cov_cols = [long[c].to_numpy(dtype="float64") for c in covs]
    period = long["period"].to_numpy()
    dummies = (period[:, None] == np.arange(2, panel.n_periods + 1)[None, :]).astype("float64")
    names = ["trained", *covs]
    if estimator == "twfe":
        if long.groupby("unit")["cluster"].nunique().max() > 1:
            raise EstimationError(
                "wild_bootstrap(twfe) needs every unit to stay in one cluster (unit effects nested in "
                "clusters); some units move between clusters. Cluster by unit, or by a level that contains "
                "each unit's whole history.")
        X = np.column_stack([d, *cov_cols, dummies])
        Z = demean(np.column_stack([y, X]), [long["unit"].to_numpy()])
        yz, Xz = Z[:, 0], Z[:, 1:]
        absorbed = 1  # the nested unit effects count as one parameter, as in twfe (fixest convention)
        names += [f"period[{p}]" for p in range(2, panel.n_periods + 1)]
    else:
        if time_effects:
            X = np.column_stack([d, *cov_cols, np.ones(len(y)), dummies])
            names += ["const", *(f"period[{p}]" for p in range(2, panel.n_periods + 1))]
        else:
            X = np.column_stack([d, *cov_cols, np.ones(len(y))])
            names += ["const"]
        yz, Xz, absorbed = y, X, 0
    clusters = long["cluster"].to_numpy()
    n_clusters = len(np.unique(clusters))
    V, enumerated = draw_multipliers(multiplier, int(n_draws), n_clusters, seed)
    eng = wild_engine(Xz, yz, 0, clusters, V, absorbed=absorbed, names=names)
    design_warnings(long, f"wild_bootstrap({estimator})", clustered=False, cohorts=True, stacklevel=3)
    how = "all 2^G Rademacher sign vectors (exact)" if enumerated else f"{V.shape[0]:,} {multiplier} draws"
    notes: tuple[str, ...] = (f"Wild cluster bootstrap (WCR, null imposed) over {n_clusters} clusters, "
                              f"{how}, seed {seed}: p-value and interval from the bootstrap, "
                              "standard error CR1.",)
    if multiplier == "rademacher" and not enumerated and n_clusters < 12:
        notes += ("With fewer than 12 clusters Rademacher multipliers allow few distinct draws; "
                  "multiplier='webb' is smoother.",)
    label = "Two-way fixed effects (wild bootstrap)" if estimator == "twfe" else "Regression (wild bootstrap)"
    res = WildBootstrapResult(
        estimate=eng.beta, std_error=eng.se, term="trained", method=estimator, label=label,
        outcome=panel.outcome, n_obs=len(y), n_units=panel.n_units, df=float(n_clusters - 1),
        spec={"estimator": estimator, "covariates": covs, "vcov": "wild", "n_draws": int(n_draws),
              "multiplier": multiplier, "seed": seed, "null": null, "time_effects": time_effects},
        notes=notes, n_draws=int(V.shape[0]), multiplier=multiplier, seed=seed, null=float(null),
        n_clusters=n_clusters, enumerated=enumerated)
    object.__setattr__(res, "_engine", eng)
    return res

