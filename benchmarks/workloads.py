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
    "full": {"small": (100_000, 20), "large": (1_000_000, 10), "medium": (100_000, 10), "mini": (10_000, 10),
             "pilot": (100_000, 10), "ddd": (100_000, 10)},
    "quick": {"small": (2_000, 8), "large": (5_000, 6), "medium": (3_000, 10), "mini": (1_000, 10),
              "pilot": (2_000, 10), "ddd": (3_000, 10)},
    "tiny": {"small": (300, 6), "large": (400, 5), "medium": (300, 10), "mini": (200, 10),
             "pilot": (500, 10), "ddd": (400, 10)},
}

#: Sizes whose data are not the staggered roll-out of ``make_panel``: size -> generator.
DESIGNS = {"pilot": "make_pilot_panel", "ddd": "make_ddd_panel"}

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
        ``two_stage``, ``stacked``, ``dose_response``, ``synthetic_did`` (units of the pilot design),
        ``synthetic_did_teams`` and ``synthetic_control_teams`` (its teams), ``triple_difference``.
    size : str
        ``small``, ``large``, ``medium``, ``mini`` (the staggered roll-out), ``pilot`` or ``ddd`` (see
        :data:`SIZES` and :data:`DESIGNS`).
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
    # issue 17: every new estimator at 100,000 units x 10 periods against its peer. diff-diff's TwoStageDiD
    # variance forms a dense units x units matrix (74.5 GiB at 100k units), so two-stage is also run at
    # 10,000 x 10, where the ratio can be measured
    Workload("two_stage_medium", "two_stage", "medium", tools=("impactlab", "diff-diff", "pyfixest"),
             title="Two-stage DiD (Gardner): ATT and event study"),
    Workload("two_stage_mini", "two_stage", "mini", tools=("impactlab", "diff-diff", "pyfixest"),
             title="Two-stage DiD (Gardner): ATT and event study"),
    Workload("stacked_medium", "stacked", "medium", tools=("impactlab", "diff-diff"),
             title="Stacked DiD (Wing et al.), window (-2, 2): ATT and event study"),
    Workload("dose_response_medium", "dose_response", "medium", tools=("impactlab", "diff-diff"),
             title="Dose response (continuous DiD): ATT^o, ATT(d), ACRT(d)"),
    # a pilot (make_pilot_panel): 2 % of the employees, the members of 40 of 2,000 teams, trained from
    # period 7. Synthetic DiD is made for a few trained units compared with many: on the teams (the
    # per-employee panel averaged by team, as il.synthetic_did(unit="team") does) with R synthdid's 200
    # placebo draws; and on the 100,000 employees themselves (2,000 trained, 98,000 weights), where one fit
    # takes thousands of Frank-Wolfe steps over all the weights, so the placebo variance is timed with 4
    # draws (the same permutations in both tools: equal standard errors)
    Workload("synthetic_did_teams", "synthetic_did_teams", "pilot", tools=("impactlab", "diff-diff"),
             options={"draws": 200}, title="Synthetic DiD, a pilot: teams, 200 placebo draws"),
    Workload("synthetic_did_units", "synthetic_did", "pilot", tools=("impactlab", "diff-diff"),
             options={"draws": 4}, title="Synthetic DiD, a pilot: every employee a unit, 4 placebo draws"),
    # diff-diff has no synthdid-style synthetic control; its SyntheticControl (Abadie et al.) takes one
    # treated unit: the 40 pilot teams' average, every pre-period outcome a predictor with equal weight
    # (V fixed, not standardised), which is the same least-squares fit on the simplex without synthdid's
    # negligible ridge, solved exactly where impactlab stops Frank-Wolfe by R synthdid's rule. The peer's fit
    # has no variance, so impactlab's is timed with the fewest placebo draws it takes (2)
    Workload("synthetic_control_teams", "synthetic_control_teams", "pilot",
             tools=("impactlab", "diff-diff"), options={"draws": 2},
             title="Synthetic control, a pilot: teams (the fit; 2 placebo draws)"),
    # triple difference (make_ddd_panel): eligible employees of 3 of 6 regions offered a programme at the
    # launch, a regional shock at the same time; 2x2x2 with diff-diff's TripleDifference, clustered by
    # employee, doubly robust without covariates
    Workload("triple_difference_ddd", "triple_difference", "ddd", tools=("impactlab", "diff-diff"),
             title="Triple difference (eligible x reached region x after launch)"),
)

#: The pilot design: employees per team, teams piloting, first period of training.
PILOT_TEAM_SIZE, PILOT_TEAMS, PILOT_START = 50, 40, 7
#: The triple-difference design: regions, of which the first ones are reached, and the launch period.
DDD_REGIONS, DDD_REACHED, DDD_LAUNCH = 6, 3, 6


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


def make_pilot_panel(n_units: int, n_periods: int, seed: int = 20261) -> pd.DataFrame:
    """A pilot: employees ``id`` in teams of :data:`PILOT_TEAM_SIZE` (``team``), the members of
    :data:`PILOT_TEAMS` teams drawn at random (at most a fifth of the teams) trained from period
    :data:`PILOT_START` (``g``; 0 = untrained). Outcome ``y = a_i + c_team + b_i f_t + 1{trained, t >= g}
    + e``: levels, a team level, a common path ``f_t`` (a random walk with drift) that units follow with
    their own loading ``b_i ~ N(1, 0.5)``, the effect 1 and ``e ~ N(0, 1)``."""
    rng = np.random.default_rng(seed)
    team = np.arange(n_units) // PILOT_TEAM_SIZE
    n_teams = int(team.max()) + 1
    pilots = rng.choice(n_teams, min(PILOT_TEAMS, max(2, n_teams // 5)), replace=False)
    trained = np.isin(team, pilots)
    t = np.arange(1, n_periods + 1, dtype="int64")
    f = np.cumsum(rng.normal(0.2, 0.5, n_periods))
    level = rng.normal(size=n_units) + rng.normal(0, 0.5, n_teams)[team]
    load = rng.normal(1.0, 0.5, n_units)
    post = trained[:, None] & (t[None, :] >= PILOT_START)
    y = level[:, None] + load[:, None] * f[None, :] + post + rng.normal(size=(n_units, n_periods))
    return _long(t, y, g=np.where(trained, PILOT_START, 0).astype("int64"), team=team.astype("int64") + 1)


def make_ddd_panel(n_units: int, n_periods: int, seed: int = 20262) -> pd.DataFrame:
    """A programme offered at period :data:`DDD_LAUNCH` to the eligible employees (``eligible``, about
    half, more often the ones with higher ``x1``) of regions 1 to :data:`DDD_REACHED` of
    :data:`DDD_REGIONS` (``region``); every employee of a reached region gains 3 from the launch (a
    regional campaign, which biases a plain DiD), eligible ones have their own trend, and the trained ones
    gain 2 (``g`` = the launch for them, 0 otherwise)."""
    rng = np.random.default_rng(seed)
    region = rng.integers(1, DDD_REGIONS + 1, n_units)
    x1 = rng.normal(size=n_units)
    eligible = (rng.random(n_units) < 1 / (1 + np.exp(-0.5 * x1))).astype("int64")
    reached = region <= DDD_REACHED
    trained = reached & (eligible == 1)
    t = np.arange(1, n_periods + 1, dtype="int64")
    after = t[None, :] >= DDD_LAUNCH
    y = (10 + rng.normal(size=n_units)[:, None] + 0.3 * t[None, :] + 0.4 * eligible[:, None] * t[None, :]
         + 0.2 * region[:, None] * t[None, :] / DDD_REGIONS + 3.0 * (reached[:, None] & after)
         + 2.0 * (trained[:, None] & after) + rng.normal(size=(n_units, n_periods)))
    return _long(t, y, g=np.where(trained, DDD_LAUNCH, 0).astype("int64"), eligible=eligible,
                 region=region.astype("int64"))


def _long(t: np.ndarray, y: np.ndarray, **per_unit: np.ndarray) -> pd.DataFrame:
    """Units x periods outcomes ``y`` as a long frame sorted by unit and period (ids from 1), with the
    per-unit columns repeated on each of the unit's rows."""
    n_units, n_periods = y.shape
    return pd.DataFrame({"id": np.repeat(np.arange(1, n_units + 1, dtype="int64"), n_periods),
                         "t": np.tile(t, n_units), "y": y.ravel(),
                         **{k: np.repeat(v, n_periods) for k, v in per_unit.items()}})


def write_data(directory: Path, mode: str, sizes: set[str]) -> dict[str, Path]:
    """Generate each needed size once and write it to Parquet; returns size -> path."""
    out = {}
    for size in sorted(sizes):
        n, T = SIZES[mode][size]
        path = Path(directory) / f"panel_{size}_{n}x{T}.parquet"
        if not path.exists():
            make = globals()[DESIGNS[size]] if size in DESIGNS else make_panel
            make(n, T).to_parquet(path, index=False)
        out[size] = path
    return out


if __name__ == "__main__":
    import sys

    write_data(Path(sys.argv[1]), sys.argv[2], set(sys.argv[3:]))
