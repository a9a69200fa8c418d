"""The wild cluster bootstrap with the null imposed (WCR) for the headline of the imputation estimator, for
inference with few clusters: :func:`imputation_wild` and :class:`WildImputationResult`.

The imputation estimate is linear in the outcome, ``tau = sum_i v_i Y_i`` (``v`` = 1/N on the averaged
trained observations and the weights the fit of untreated outcomes gives the untreated ones; Borusyak,
Jaravel & Spiess 2024, Theorem 1), and so are the pieces of its conservative variance (the residuals of the
untreated fit and the trained effects net of their cohort × event-time means). Under the null ``ATT = r``
the outcome is fitted on every observation the estimator uses with unit and period effects (and the
time-varying covariates) and an effect of ``r`` on every trained observation; its residuals ``u(r)`` are
multiplied by one draw per cluster (Webb's six-point weights by default) and added back. The fitted part
is reproduced exactly by the imputation (its effect is ``r``, its variance pieces are zero), so each draw's
estimate minus ``r`` and each draw's cluster scores are sums over clusters of quantities computed once per
cluster: ``G`` fits in all, none per draw. They are linear in ``r``, so every null value is tested with the
same draws and the interval is found by test inversion (the null values the symmetric bootstrap test does
not reject at ``1 - level``), as in :mod:`impactlab.estimators.wild_bootstrap` (Cameron, Gelbach & Miller
2008; Roodman, MacKinnon, Nielsen & Webb 2019, "Fast and wild", Stata Journal 19(1)).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field, fields
from typing import Any

import numpy as np
import pandas as pd

from impactlab.estimators.imputation import ImputationResult, _sum_by, _TwoWay, _unit_codes
from impactlab.estimators.wild_bootstrap import Multiplier, _Engine, draw_multipliers
from impactlab.panel import Panel
from impactlab.results.base import critical_value

__all__ = ["WildImputationResult", "imputation_wild"]


@dataclass(frozen=True, repr=False, eq=False)
class WildImputationResult(ImputationResult):
    """An :class:`ImputationResult` whose headline p-value and interval come from the wild cluster
    bootstrap (WCR, null imposed, test inversion). ``std_error`` stays the analytic one; the event-time
    and cohort elements keep their analytic intervals.

    Attributes
    ----------
    n_draws : int
        Bootstrap draws.
    multiplier : str
        The multiplier distribution (``"webb"`` or ``"rademacher"``).
    seed : int
        Seed of the draws.
    n_clusters : int
        Number of clusters.
    """

    n_draws: int = 0
    multiplier: Multiplier = "webb"
    seed: int = 0
    n_clusters: int = 0
    _engine: Any = field(default=None, init=False, repr=False, compare=False)

    @property
    def p_value(self) -> float:
        return self._engine.p_value(0.0)

    def conf_int(self, level: float = 0.95) -> tuple[float, float]:
        """Bootstrap interval of the headline at ``level`` (test inversion, the same draws for every
        null value)."""
        critical_value(level)
        return self._engine.conf_int(level)

    def tidy(self, level: float = 0.95) -> pd.DataFrame:
        out = super().tidy(level)
        lo, hi = self.conf_int(level)
        out.loc[0, ["p_value", "conf_low", "conf_high"]] = [self.p_value, lo, hi]
        return out


def imputation_wild(panel: Panel, result: ImputationResult, *, n_draws: int = 9999, seed: int = 0,
                    multiplier: Multiplier = "webb", scale: float = 1.0) -> WildImputationResult:
    """``result`` (``imputation(panel, ...)``, possibly with CR1-scaled standard errors) with its headline
    interval and p-value from the WCR bootstrap clustered on the panel's cluster.

    ``scale`` is the factor ``result``'s standard error carries over the conservative one (it cancels from
    the bootstrap t statistics). The panel and ``result`` are not modified; ``n_draws`` draws of the
    ``multiplier`` distribution from ``seed`` (deterministic).
    """
    anticipation = int(result.spec.get("anticipation", 0) or 0)
    covs = list(result.spec.get("covariates", []) or [])
    eng, g = wcr_engine(panel, anticipation, covs, n_draws=n_draws, seed=seed, multiplier=multiplier,
                        scale=scale)
    kept = {f.name: getattr(result, f.name) for f in fields(ImputationResult) if f.init}
    note = (f"Headline interval and p-value from the wild cluster bootstrap (WCR, null imposed, {n_draws:,} "
            f"{multiplier} draws over {g} clusters, seed {seed}); event-time intervals analytic.")
    kept["notes"] = (*result.notes, note)
    kept["spec"] = {**dict(result.spec), "inference": "wild cluster bootstrap (WCR)", "n_draws": n_draws,
                    "seed": seed, "multiplier": multiplier}
    out = WildImputationResult(**kept, n_draws=n_draws, multiplier=multiplier, seed=seed, n_clusters=g)
    object.__setattr__(out, "_engine", eng)
    return out


@dataclass(frozen=True)
class _Design:
    """The observations the imputation headline uses: untreated (``0``) and trained from training on
    (``1``), with compact unit and period codes, covariates, outcome, cluster codes and cells."""

    u0: np.ndarray
    t0: np.ndarray
    X0: np.ndarray
    y0: np.ndarray
    c0: np.ndarray
    u1: np.ndarray
    t1: np.ndarray
    X1: np.ndarray
    y1: np.ndarray
    c1: np.ndarray
    cell: np.ndarray
    n_units: int
    n_periods: int
    n_clusters: int


def _design(panel: Panel, anticipation: int, covs: Sequence[str]) -> _Design:
    long = panel.long()
    unit_codes, _ = _unit_codes(long["unit"])
    period = long["period"].to_numpy().astype(np.int64)
    gp = long["cohort_period"].to_numpy().astype(np.int64)
    ever = gp > 0
    untreated = ~ever | (period < gp - anticipation)
    has_u = np.bincount(unit_codes[untreated], minlength=int(unit_codes.max()) + 1) > 0
    has_t = np.bincount(period[untreated], minlength=panel.n_periods + 1) > 0
    post = ever & (period >= gp) & has_u[unit_codes] & has_t[period]
    u_map, t_map = np.cumsum(has_u) - 1, np.cumsum(has_t) - 1
    y = long["outcome"].to_numpy(dtype="float64")
    X = (np.column_stack([long[c].to_numpy(dtype="float64") for c in covs]) if covs
         else np.zeros((len(long), 0)))
    source = long["cluster"] if panel.cluster is not None else long["unit"]
    clusters, uniq = pd.factorize(source.to_numpy())
    _, cell = np.unique(np.column_stack([gp[post], period[post] - gp[post]]), axis=0, return_inverse=True)
    i0, i1 = np.flatnonzero(untreated), np.flatnonzero(post)
    return _Design(u0=u_map[unit_codes[i0]], t0=t_map[period[i0]], X0=X[i0], y0=y[i0], c0=clusters[i0],
                   u1=u_map[unit_codes[i1]], t1=t_map[period[i1]], X1=X[i1], y1=y[i1], c1=clusters[i1],
                   cell=np.asarray(cell).ravel(), n_units=int(has_u.sum()), n_periods=int(has_t.sum()),
                   n_clusters=len(uniq))


def _pieces(fe: _TwoWay, d: _Design, M0: np.ndarray, M1: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """For outcome columns ``M`` (untreated rows ``M0``, trained rows ``M1``): the residuals of the untreated
    fit and the trained effects minus their cohort × event-time means, the pieces of the variance."""
    coef = fe.solve(*fe.rhs(M0))
    r0 = M0 - fe.predict(coef, d.u0, d.t0, d.X0)
    tau = M1 - fe.predict(coef, d.u1, d.t1, d.X1)
    n_cells = int(d.cell.max()) + 1
    means = _sum_by(d.cell, tau, n_cells) / np.bincount(d.cell, minlength=n_cells)[:, None]
    return r0, tau - means[d.cell]


def wcr_engine(panel: Panel, anticipation: int, covs: Sequence[str], *, n_draws: int, seed: int,
               multiplier: Multiplier = "webb", scale: float = 1.0, null: str = "homogeneous"
               ) -> tuple[_Engine, int]:
    """The bootstrap engine of the imputation headline (see the module docstring) and the number of
    clusters."""
    d = _design(panel, anticipation, covs)
    fe = _TwoWay(d.u0, d.t0, d.n_units, d.n_periods, d.X0)
    n1 = len(d.y1)
    # v on the untreated rows: minus what their fit passes to the imputed outcomes (weight 1/N each)
    w1 = np.full(n1, 1.0 / n1)
    b_s = np.concatenate([np.bincount(d.t1, weights=w1, minlength=d.n_periods)[1:], d.X1.T @ w1])
    coef = fe.solve(np.bincount(d.u1, weights=w1, minlength=d.n_units)[:, None], b_s[:, None])
    v0 = -fe.predict(coef, d.u0, d.t0, d.X0)[:, 0]
    G = d.n_clusters
    # the restricted fit: unit and period effects (and covariates) and an effect r on the trained rows
    dose = np.ones(n1)
    Xb = np.vstack([d.X0, d.X1])
    if null == "cells":  # free cohort x event-time effects whose weighted mean is r
        n_cells = int(d.cell.max()) + 1
        omega = np.bincount(d.cell, minlength=n_cells) / n1
        D = (d.cell[:, None] == np.arange(n_cells)[None, :]).astype("float64")
        Z = D[:, 1:] - D[:, :1] * (omega[1:] / omega[0])[None, :]
        Xb = np.hstack([Xb, np.vstack([np.zeros((len(d.y0), n_cells - 1)), Z])])
        dose = D[:, 0] / omega[0]
    both = _TwoWay(np.concatenate([d.u0, d.u1]), np.concatenate([d.t0, d.t1]), d.n_units, d.n_periods, Xb)
    YD = np.column_stack([np.concatenate([d.y0, d.y1]), np.concatenate([np.zeros(len(d.y0)), dose])])
    resid = YD - both.predict(both.solve(*both.rhs(YD)), both.u, both.t, both.X)  # u(0), M D
    n0 = len(d.y0)
    c = np.concatenate([d.c0, d.c1])
    v = np.concatenate([v0, w1])
    # one column per cluster and per part (u(0), M D): the residuals of that cluster only
    onehot = c[:, None] == np.arange(G)[None, :]
    M = np.hstack([onehot * resid[:, :1], onehot * resid[:, 1:]])
    r0, r1 = _pieces(fe, d, M[:n0], M[n0:])
    P = _sum_by(d.c0, v0[:, None] * r0, G) + _sum_by(d.c1, w1[:, None] * r1, G)   # scores x columns
    a = _sum_by(c, v[:, None] * resid, G)        # cluster sums of v * u(0) and v * M D
    # the statistic of the data: the estimate and its conservative standard error
    q0, q1 = _pieces(fe, d, d.y0[:, None], d.y1[:, None])
    psi = _sum_by(d.c0, v0[:, None] * q0, G) + _sum_by(d.c1, w1[:, None] * q1, G)
    estimate = float(v @ np.concatenate([d.y0, d.y1]))
    se = float(scale * np.sqrt(psi[:, 0] @ psi[:, 0]))
    V, _ = draw_multipliers(multiplier, n_draws, G, seed)
    eng = _Engine(beta=estimate, se=se, num0=V @ a[:, 0], num1=V @ a[:, 1], sc0=V @ P[:, :G].T,
                  sc1=V @ P[:, G:].T, xx=1.0, adj=scale**2)
    return eng, G

