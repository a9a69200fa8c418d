"""Benchmark workloads: the synthetic data, the sizes, and which tools run on which workload.

The data are a staggered roll-out with known effects, generated with numpy in a vectorised way (the
organisation simulator of :mod:`impactlab.datasets` models HR detail that the estimators do not need and is
slower at a million employees). Every tool reads the same Parquet file.

Design of the data (``make_panel``): units ``id``, periods ``t = 1..T``, cohort ``g`` (first treated
period; 0 = never treated) drawn from a multinomial logit in two time-invariant covariates ``x1`` (normal)
and ``x2`` (binary), so that covariates matter; outcome
``y = a_i + 0.1 t + 0.3 x1 t / T + 1{t >= g} (1 + 0.1 (t - g)) + e`` with ``a_i ~ N(x1, 1)`` and
``e ~ N(0, 1)``; ``d = 1{g > 0, t >= g}`` is the trained-now indicator of the TWFE regression.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

#: Sizes of the full run (units, periods) and of ``--quick``.
SIZES = {
    "full": {"small": (100_000, 20), "large": (1_000_000, 10)},
    "quick": {"small": (2_000, 8), "large": (5_000, 6)},
    "tiny": {"small": (300, 6), "large": (400, 5)},
}

#: Tools compared on each kind of workload (impactlab first).
CS_PEERS = ("diff-diff", "csdid", "differences")


@dataclass(frozen=True)
class Workload:
    """One benchmark: a task run by impactlab and its peers on one data file.

    Attributes
    ----------
    name : str
        Identifier, e.g. ``cs_nocov_large``.
    task : str
        What is estimated: ``cs`` (group-time ATTs and the simple aggregation), ``cs_dynamic`` (the
        event-study aggregation), ``cs_boot`` (CS with a multiplier bootstrap), ``twfe`` (static TWFE
        coefficient), ``dr2x2`` (one doubly robust 2x2 DiD), ``sun_abraham``, ``imputation``,
        ``two_stage``, ``stacked``, ``dose_response``.
    size : str
        ``small`` or ``large`` (see :data:`SIZES`).
    covariates : tuple of str
    tools : tuple of str
    options : dict
        Task options (e.g. the number of bootstrap draws).
    title : str
        Row label in RESULTS.md.
    """

    name: str
    task: str
    size: str
    covariates: tuple[str, ...] = ()
    tools: tuple[str, ...] = ("impactlab", *CS_PEERS)
    options: dict = field(default_factory=dict)
    title: str = ""


WORKLOADS: tuple[Workload, ...] = (
    Workload("cs_nocov_small", "cs", "small", title="CS DR, no covariates"),
    Workload("cs_nocov_large", "cs", "large", title="CS DR, no covariates",
             tools=("impactlab", "impactlab-suffstats", *CS_PEERS)),
    Workload("cs_cov_small", "cs", "small", ("x1", "x2"), title="CS DR, covariates x1 x2"),
    Workload("cs_cov_large", "cs", "large", ("x1", "x2"), title="CS DR, covariates x1 x2"),
    Workload("cs_unbalanced_large", "cs_unbalanced", "large", tools=("impactlab", "diff-diff", "csdid"),
             title="CS DR, unbalanced panel (10 % of rows missing)"),
    Workload("twfe_large", "twfe", "large", tools=("impactlab", "pyfixest", "linearmodels"),
             title="TWFE, unit + period FE, CR1 by unit"),
    Workload("event_study_small", "cs_dynamic", "small", title="Event study (CS dynamic aggregation)"),
    Workload("cs_boot_small", "cs_boot", "small", options={"draws": 999},
             title="CS DR + multiplier bootstrap, 999 draws"),
    Workload("dr2x2_large", "dr2x2", "large", ("x1", "x2"), tools=("impactlab", "drdid"),
             title="DR 2x2 DiD (one cell), covariates"),
    # the small size too: diff-diff's Sun–Abraham needs about 20 GB at 1M x 10, more than a 24 GB machine
    # running anything else can give it, so the agreement and an exact ratio are measured here
    Workload("sun_abraham_small", "sun_abraham", "small", tools=("impactlab", "diff-diff", "pyfixest"),
             title="Sun–Abraham event study"),
    Workload("sun_abraham_large", "sun_abraham", "large", tools=("impactlab", "diff-diff", "pyfixest"),
             title="Sun–Abraham event study"),
    # the imputation estimator of Borusyak, Jaravel & Spiess: the ATT and the event study with Theorem 3's
    # conservative standard errors; pyfixest's did2s gives the same point estimate (two-stage GMM SE)
    Workload("imputation_small", "imputation", "small", tools=("impactlab", "diff-diff", "pyfixest"),
             title="Imputation (BJS): ATT and event study"),
    Workload("imputation_large", "imputation", "large", tools=("impactlab", "diff-diff", "pyfixest"),
             title="Imputation (BJS): ATT and event study"),
    # Gardner's two-stage DiD (GMM standard errors: diff-diff's TwoStageDiD, pyfixest's did2s) and stacked
    # DiD with the corrective weights of Wing, Freedman & Hollingsworth (window (-2, 2), not-yet-treated
    # clean controls, CR1 by unit: diff-diff's StackedDiD)
    Workload("two_stage_small", "two_stage", "small", tools=("impactlab", "diff-diff", "pyfixest"),
             title="Two-stage DiD (Gardner): ATT and event study"),
    Workload("stacked_small", "stacked", "small", tools=("impactlab", "diff-diff"),
             title="Stacked DiD (Wing et al.), window (-2, 2): ATT and event study"),
    # continuous-treatment DiD (Callaway, Goodman-Bacon & Sant'Anna 2024) with a dose made from the unit id:
    # ATT^o and its analytic standard error (diff-diff's ContinuousDiD, never-treated comparison)
    Workload("dose_response_small", "dose_response", "small", tools=("impactlab", "diff-diff"),
             title="Dose response (continuous DiD): ATT^o, ATT(d), ACRT(d)"),
)


def make_panel(n_units: int, n_periods: int, seed: int = 20260) -> pd.DataFrame:
    """The benchmark panel (see the module docstring), one row per unit and period, sorted by unit, time."""
    rng = np.random.default_rng(seed)
    x1 = rng.normal(size=n_units)
    x2 = (rng.random(n_units) < 0.4).astype("float64")
    # cohorts spread over the middle of the window (at least one pre-period, some post-periods)
    cohorts = np.unique(np.linspace(3, n_periods - 1, 4).round().astype("int64"))
    cohorts = np.r_[0, cohorts]
    logits = np.column_stack([np.zeros(n_units)] + [0.3 * x1 * (-1) ** k + 0.2 * x2 * k
                                                    for k in range(1, len(cohorts))])
    p = np.exp(logits - logits.max(axis=1, keepdims=True))
    p /= p.sum(axis=1, keepdims=True)
    g = cohorts[np.minimum((rng.random(n_units)[:, None] > p.cumsum(axis=1)).sum(axis=1), len(cohorts) - 1)]
    t = np.arange(1, n_periods + 1, dtype="int64")
    a = rng.normal(size=n_units) + x1
    post = (g[:, None] > 0) & (t[None, :] >= g[:, None])
    y = (a[:, None] + 0.1 * t[None, :] + 0.3 * x1[:, None] * t[None, :] / n_periods
         + post * (1.0 + 0.1 * (t[None, :] - g[:, None])) + rng.normal(size=(n_units, n_periods)))
    return pd.DataFrame({
        "id": np.repeat(np.arange(1, n_units + 1, dtype="int64"), n_periods),
        "t": np.tile(t, n_units),
        "g": np.repeat(g, n_periods),
        "y": y.ravel(),
        "d": post.ravel().astype("float64"),
        "x1": np.repeat(x1, n_periods),
        "x2": np.repeat(x2, n_periods),
    })


def write_data(directory: Path, mode: str, sizes: set[str]) -> dict[str, Path]:
    """Generate each needed size once and write it to Parquet; returns size -> path."""
    out = {}
    for size in sorted(sizes):
        n, T = SIZES[mode][size]
        path = Path(directory) / f"panel_{size}_{n}x{T}.parquet"
        if not path.exists():
            make_panel(n, T).to_parquet(path, index=False)
        out[size] = path
    return out


if __name__ == "__main__":
    import sys

    write_data(Path(sys.argv[1]), sys.argv[2], set(sys.argv[3:]))
