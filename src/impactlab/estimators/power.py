"""Design a staggered roll-out: power and minimum detectable effect, from the organisation's own history.

A plan (which period each wave starts, how many people per wave, how many kept untrained for comparison) is
laid on the periods of a panel of *pre-programme* outcomes: the plan replays history, so the noise, the
seasonality and the serial correlation of the real outcome are those the evaluation will face (the
approach of Burlig, Preonas & Woerman 2020, "Panel data and experimental design", J. Development
Economics 144, who show that ignoring serial correlation misstates power in panel designs).

**Analytic.** The estimand is the Callaway–Sant'Anna simple ATT with never-treated comparisons: for wave
``w`` starting in period ``s_w``, each unit's ``A_i^w = mean_{t ≥ s_w} y_it − y_{i, s_w − 1}``; the wave
effect is the difference of the means of ``A^w`` between the wave and the comparison group, and the
overall effect weights waves by ``ω_w ∝ n_w · (T − s_w + 1)`` (its cells, weighted by cohort size). With
units assigned to waves at random,

``Var(θ̂) = Σ_w ω_w² S_ww / n_w + ω'Sω / n_C``,

where ``S`` is the covariance across units of ``(A^1, …, A^W)`` estimated on the history. The minimum
detectable effect at power ``1 − κ`` and two-sided level ``α`` is ``(z_{1−α/2} + z_{1−κ}) · SE``
(Bloom 1995, "Minimum detectable effects", Evaluation Review 19(5)).

**Simulation.** Units are assigned to waves at random, ``effect`` is added to their post-start outcomes,
and the estimator is run; power is the share of draws whose confidence interval excludes zero. Every
draw is seeded.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Literal

import numpy as np
import pandas as pd
from scipy import stats

from impactlab._progress import progress
from impactlab.errors import EstimationError, PanelError, check_option
from impactlab.estimators._common import check_panel
from impactlab.panel import Panel
from impactlab.results.base import ReportedRows, Row, _fmt, critical_value, frame_html, freeze_fields
from impactlab.results.probability import fmt_prob

PLAN_COLUMNS = ("wave", "start", "units")


@dataclass(frozen=True, repr=False, eq=False)
class PowerResult(ReportedRows):
    """Power of a planned roll-out and its minimum detectable effect (frozen: tables read-only).

    The headline (``estimate``) is the minimum detectable effect of the recommended (or given) plan and
    ``std_error`` the standard error of the design, the analytic standard error of the simple ATT under
    that plan. The MDE is a design quantity without a sampling interval: ``conf_int`` is (nan, nan).
    ``tidy(level)`` has the ``mde`` row and, when an effect was given, the ``power`` row; the plans
    compared are ``.table`` (also ``candidates``).

    Attributes
    ----------
    plan : DataFrame
        ``wave, start, units`` (start as a period label of the panel), plus the comparison group as wave
        ``"comparison"`` with start ``None``.
    mde : float
        Minimum detectable effect (analytic) at ``level`` and ``target_power``.
    std_error : float
        Analytic standard error of the simple ATT under the plan.
    power : float
        Power at ``effect`` (analytic, or simulated when ``method="simulation"``); NaN without an effect.
    effect : float or None
        Effect the power is computed for.
    candidates : DataFrame
        Plans compared when the plan was recommended (sorted by MDE), else the single plan.
    method : str
        ``"analytic"`` or ``"simulation"``.
    simulation : DataFrame or None
        One row per simulated draw (``estimate``, ``std_error``, ``reject``) when simulated.
    """

    plan: pd.DataFrame
    mde: float
    std_error: float
    power: float
    effect: float | None
    level: float
    target_power: float
    candidates: pd.DataFrame
    method: str
    simulation: pd.DataFrame | None = None
    notes: tuple[str, ...] = ()
    spec: Mapping[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        freeze_fields(self)  # read-only tables and arrays (no copy): the result stays as built

    def summary(self) -> str:
        lines = [f"Roll-out design ({self.method}): minimum detectable effect {_fmt(self.mde)} at "
                 f"{self.target_power:.0%} power, {self.level:.0%} level (SE {_fmt(self.std_error)})"]
        if self.effect is not None:
            lines.append(f"  power to detect an effect of {_fmt(self.effect)}: "
                         f"{fmt_prob(self.power, exact=False)}")
        lines += [f"  note: {n}" for n in self.notes]
        lines.append(self.plan.to_string(index=False))
        return "\n".join(lines)

    @property
    def estimate(self) -> float:
        """The headline: the minimum detectable effect (:attr:`mde`)."""
        return self.mde

    @property
    def table(self) -> pd.DataFrame:
        """The plans compared, sorted by MDE (:attr:`candidates`)."""
        return self.candidates

    def _rows(self, level: float) -> list[Row]:
        keys = {"level": self.level, "target_power": self.target_power, "method": self.method}
        rows: list[Row] = [{"term": "mde", "estimate": self.mde, "std_error": self.std_error, **keys}]
        if self.effect is not None:
            rows.append({"term": "power", "estimate": self.power, "effect": self.effect, **keys})
        return rows

    def explain(self, level: float = 0.95) -> Any:
        """What the plan can and cannot detect, in plain language (an :class:`~impactlab.results.explain.
        Explanation`); the level is the plan's (``level`` is accepted for the common signature)."""
        from impactlab.results.explain import explain_power

        return explain_power(self, level)

    def _repr_html_(self) -> str:
        head = [f"MDE {_fmt(self.mde)} at {self.target_power:.0%} power (SE {_fmt(self.std_error)})"]
        if self.effect is not None:
            head.append(f"Power for an effect of {_fmt(self.effect)}: {fmt_prob(self.power, exact=False)}")
        return frame_html(self.plan, f"Roll-out design ({self.method})", head + list(self.notes))

    def __repr__(self) -> str:
        return f"PowerResult(mde={self.mde:.6g}, power={self.power:.4g}, waves={len(self.plan) - 1})"


# ------------------------------------------------------------------------------------------ analytic core
def _wide(panel: Panel) -> np.ndarray:
    long = panel.long()
    return long.pivot(index="unit", columns="period", values="outcome").reindex(
        columns=range(1, panel.n_periods + 1)).to_numpy(dtype="float64")


def _wave_contrasts(Y: np.ndarray, starts: np.ndarray) -> np.ndarray:
    """``A_i^w`` for every unit and wave (NaN where the unit lacks the base period or every post period)."""
    out = np.empty((Y.shape[0], len(starts)))
    for j, s in enumerate(starts):  # s is a 1-based period index
        block = Y[:, s - 1:]
        seen = np.isfinite(block)
        post = np.where(seen.any(axis=1), np.where(seen, block, 0.0).sum(axis=1)
                        / np.maximum(seen.sum(axis=1), 1), np.nan)
        out[:, j] = post - Y[:, s - 2]
    return out


def _analytic_se(S: np.ndarray, starts: np.ndarray, sizes: np.ndarray, n_control: int,
                 n_periods: int) -> float:
    omega = sizes * (n_periods - starts + 1)
    omega = omega / omega.sum()
    var = float(np.sum(omega**2 * np.diag(S) / sizes) + omega @ S @ omega / n_control)
    return float(np.sqrt(var))


def _power_at(effect: float, se: float, level: float) -> float:
    z = critical_value(level)
    return float(stats.norm.cdf(effect / se - z) + stats.norm.cdf(-effect / se - z))


# ------------------------------------------------------------------------------------------ plans
Plan = tuple[np.ndarray, np.ndarray, int]


def _resolve_plan(panel: Panel, waves: Mapping[Any, int], n_control: int | None) -> Plan:
    index = pd.Index(panel.periods)
    starts, sizes = [], []
    for label, n in waves.items():
        pos = index.get_indexer([label])[0]
        if pos < 0:
            raise PanelError(f"Wave start {label!r} is not a period of the panel; periods run from "
                             f"{panel.periods[0]!r} to {panel.periods[-1]!r}.")
        if pos == 0:
            raise EstimationError(f"A wave starting in the first period ({label!r}) has no pre-period to "
                                  "compare with; start it at least one period later.")
        if isinstance(n, bool) or not isinstance(n, (int, np.integer)) or n < 1:
            raise ValueError(f"Wave sizes must be positive integers; wave {label!r} has {n!r}.")
        starts.append(pos + 1)
        sizes.append(int(n))
    if not starts:
        raise ValueError("The 'waves' parameter must name at least one wave: {start_period: units}.")
    n_units = panel.n_units
    n_c = n_units - sum(sizes) if n_control is None else n_control
    if isinstance(n_c, bool) or not isinstance(n_c, (int, np.integer)) or n_c < 2:
        raise EstimationError(f"The plan leaves {n_c} units untrained; at least 2 (better 30 or more) "
                              "are needed as the comparison group. Make the waves smaller or pass "
                              "n_control=.")
    if sum(sizes) + n_c > n_units:
        raise EstimationError(f"The plan needs {sum(sizes) + n_c} units (waves {sizes}, comparison {n_c}), "
                              f"but the panel has {n_units}.")
    order = np.argsort(starts)
    return np.asarray(starts)[order], np.asarray(sizes)[order], int(n_c)


def _candidates(n_units: int, n_periods: int, min_pre: int, min_post: int) -> list[Plan]:
    first, last = min_pre + 1, n_periods - min_post + 1
    if last < first:
        raise EstimationError(f"The panel's {n_periods} periods cannot hold {min_pre} pre-period(s) and "
                              f"{min_post} post-period(s); provide a longer history or smaller minima.")
    plans = []
    for n_waves in range(1, 5):
        if last - first + 1 < n_waves:
            continue
        timings = {tuple(range(first, first + n_waves)),
                   tuple(np.unique(np.round(np.linspace(first, last, n_waves + 1)[:-1]).astype(int)))}
        for starts in timings:
            if len(starts) != n_waves:
                continue
            for share_c in (0.2, 0.3, 0.4, 0.5, 0.6):
                n_c = int(round(share_c * n_units))
                n_t = n_units - n_c
                if n_c < 2 or n_t < n_waves:
                    continue
                sizes = np.full(n_waves, n_t // n_waves)
                sizes[: n_t - sizes.sum()] += 1
                plans.append((np.asarray(starts), sizes, n_c))
    return plans


# ------------------------------------------------------------------------------------------ public
def power(panel: Panel, effect: float | None = None, *, waves: Mapping[Any, int] | None = None,
          n_control: int | None = None, level: float = 0.95, target_power: float = 0.8,
          method: Literal["analytic", "simulation"] = "analytic", n_draws: int = 200, seed: int | None = None,
          min_pre: int = 2, min_post: int = 2) -> PowerResult:
    """Power and minimum detectable effect of a planned staggered roll-out, on the organisation's history.

    Parameters
    ----------
    panel : Panel
        Outcomes from before the programme (any cohort column is ignored): the plan is laid on its periods.
    effect : float, optional
        Effect (in outcome units) whose detection probability is reported.
    waves : mapping, optional
        ``{start_period: units}``: the period each wave starts (a period label of the panel) and its size.
        When omitted, plans with 1–4 waves, back-to-back or spread out, and 20–60 % kept as comparison are
        compared and the one with the smallest MDE is recommended (``candidates`` lists them all).
    n_control : int, optional
        Units kept untrained, the comparison group (default: all units not in a wave).
    level : float
        Confidence level of the planned test.
    target_power : float
        Power at which the MDE is computed.
    method : {"analytic", "simulation"}
        Power from the analytic variance, or from placebo roll-outs on the history estimated with
        :func:`impactlab.callaway_santanna` (``effect`` required).
    n_draws : int
        Simulated roll-outs (``method="simulation"``).
    seed : int, optional
        Seed of the random assignment (simulation); recorded in ``spec``.
    min_pre, min_post : int
        Candidate plans keep at least this many periods before the first and after the last wave start.

    Returns
    -------
    PowerResult
        The panel is not modified.
    """
    panel = check_panel(panel, "power")
    check_option("method", method, ("analytic", "simulation"))
    critical_value(level)
    if not 0 < target_power < 1:
        raise ValueError(f"The 'target_power' parameter must be between 0 and 1. "
                         f"Got {target_power!r} instead.")
    if effect is not None and not np.isfinite(effect):
        raise ValueError(f"The 'effect' parameter must be a finite number. Got {effect!r} instead.")
    if method == "simulation" and effect is None:
        raise ValueError("method='simulation' needs the effect to simulate: pass effect=.")
    Y = _wide(panel)
    T = panel.n_periods
    z_sum = critical_value(level) + float(stats.norm.ppf(target_power))

    def evaluate(starts: np.ndarray, sizes: np.ndarray, n_c: int) -> float:
        A = _wave_contrasts(Y, starts)
        ok = np.isfinite(A).all(axis=1)
        if ok.sum() < 3:
            raise EstimationError("Too few units are observed in the base and post periods of the plan to "
                                  "estimate the outcome's variability.")
        S = np.atleast_2d(np.cov(A[ok], rowvar=False))
        return _analytic_se(S, starts, sizes.astype("float64"), n_c, T)

    rows = []
    if waves is None:
        plans = _candidates(panel.n_units, T, min_pre, min_post)
    else:
        plans = [_resolve_plan(panel, waves, n_control)]
    for starts, sizes, n_c in plans:
        se = evaluate(starts, sizes, n_c)
        rows.append({"waves": len(starts), "starts": tuple(panel.periods[s - 1] for s in starts),
                     "units_per_wave": tuple(int(x) for x in sizes), "comparison": n_c,
                     "std_error": se, "mde": z_sum * se, "_plan": (starts, sizes, n_c)})
    cand = pd.DataFrame(rows).sort_values(["mde", "waves"], kind="mergesort").reset_index(drop=True)
    starts, sizes, n_c = cand.loc[0, "_plan"]
    se, mde = float(cand.loc[0, "std_error"]), float(cand.loc[0, "mde"])
    cand = cand.drop(columns="_plan")
    plan = pd.DataFrame({"wave": [*(str(i + 1) for i in range(len(starts))), "comparison"],
                         "start": pd.Series([*(panel.periods[s - 1] for s in starts), None], dtype="object"),
                         "units": [*(int(x) for x in sizes), n_c]})
    notes: list[str] = []
    if waves is None:
        notes.append(f"Recommended among {len(cand)} plans: {len(starts)} wave(s) starting "
                     f"{', '.join(map(str, plan['start'][:-1]))}, {n_c} kept as comparison. Earlier and "
                     "fewer waves give more post-training periods; a larger comparison group steadies every "
                     "wave's contrast.")
    pw = _power_at(effect, se, level) if effect is not None else float("nan")
    sim = None
    if method == "simulation":
        if seed is None:
            seed = int(np.random.default_rng().integers(0, 2**31 - 1))
        if isinstance(n_draws, bool) or not isinstance(n_draws, (int, np.integer)) or n_draws < 10:
            raise ValueError(f"The 'n_draws' parameter must be an integer of at least 10. "
                             f"Got {n_draws!r} instead.")
        sim = _simulate(panel, starts, sizes, n_c, float(effect), level, int(n_draws), seed)  # type: ignore[arg-type]
        pw = float(sim["reject"].mean())
        analytic = _power_at(float(effect), se, level)  # type: ignore[arg-type]
        notes.append(f"Simulated power from {n_draws} placebo roll-outs (seed {seed}); analytic power "
                     f"{fmt_prob(analytic, exact=False)}; SD of simulated estimates "
                     f"{_fmt(float(sim['estimate'].std(ddof=1)))} vs analytic SE {_fmt(se)}.")
    return PowerResult(plan=plan, mde=mde, std_error=se, power=pw, effect=effect, level=level,
                       target_power=target_power, candidates=cand, method=method, simulation=sim,
                       notes=tuple(notes),
                       spec={"waves": dict(waves) if waves is not None else None, "n_control": n_control,
                             "level": level, "target_power": target_power, "method": method,
                             "n_draws": n_draws, "seed": seed, "min_pre": min_pre, "min_post": min_post})


def _simulate(panel: Panel, starts: np.ndarray, sizes: np.ndarray, n_c: int, effect: float, level: float,
              n_draws: int, seed: int) -> pd.DataFrame:
    import warnings

    from impactlab.estimators.callaway_santanna import callaway_santanna

    long = panel.long()
    units = np.unique(long["unit"].to_numpy())
    rng = np.random.default_rng(seed)
    z = critical_value(level)
    rows = []
    for _ in progress(range(n_draws), desc="Power simulation", unit=" roll-outs"):
        perm = rng.permutation(units)
        cohort = np.zeros(len(units), dtype="int64")
        pos = 0
        for s, n in zip(starts, sizes, strict=True):
            cohort[np.searchsorted(units, perm[pos:pos + n])] = s
            pos += n
        chosen = perm[: pos + n_c]
        g = cohort[np.searchsorted(units, long["unit"].to_numpy())]
        frame = pd.DataFrame({"unit": long["unit"], "period": long["period"], "g": g,
                              "y": long["outcome"] + effect * ((g > 0) & (long["period"] >= g))})
        frame = frame[frame["unit"].isin(chosen)]
        p = Panel.from_frame(frame, unit="unit", time="period", outcome="y", cohort="g")
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            res = callaway_santanna(p, method="reg").aggregate("simple")
        rows.append({"estimate": res.estimate, "std_error": res.std_error,
                     "reject": abs(res.estimate) > z * res.std_error})
    return pd.DataFrame(rows)


def minimum_detectable_effect(panel: Panel, waves: Mapping[Any, int] | None = None, *,
                              n_control: int | None = None, level: float = 0.95,
                              target_power: float = 0.8) -> float:
    """Minimum detectable effect of a roll-out plan (analytic; see :func:`power`).

    With ``waves=None`` the recommended plan's MDE is returned.
    """
    return power(panel, waves=waves, n_control=n_control, level=level, target_power=target_power).mde
