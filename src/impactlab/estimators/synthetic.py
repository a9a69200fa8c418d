"""Synthetic difference-in-differences and synthetic control for a pilot: one or a few units (teams,
regions) trained at one time, compared with a weighted set of untrained units that tracked them before.

:func:`synthetic_did` is the estimator of Arkhangelsky, Athey, Hirshberg, Imbens & Wager (2021, AER):
unit weights ω make the weighted controls move in parallel with the treated units before training, time
weights λ pick the pre-training periods that resemble the post-training ones, and the effect is the
weighted difference-in-differences. :func:`synthetic_control` is Abadie, Diamond & Hainmueller (2010)
as R ``synthdid``'s ``sc_estimate``: the same unit weights without intercept or regularisation, no time
weights. Both reproduce R ``synthdid`` (California Proposition 99: −15.6 and −19.6 packs per capita).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Literal

import numpy as np
import pandas as pd

from impactlab.errors import EstimationError, PanelError, check_option
from impactlab.estimators import _synthetic_weights as sw
from impactlab.estimators._common import check_panel, excluded_frame, period_freq
from impactlab.panel import Panel
from impactlab.results.base import EffectResult, _fmt, critical_value, frame_html
from impactlab.results.explain import Explanation

__all__ = ["SyntheticResult", "synthetic_control", "synthetic_did"]

VARIANCE_OPTIONS = ("placebo", "jackknife", "bootstrap")

_ASSUMPTION = {
    "synthetic_did": (
        "Without the training, the trained units would have moved like the weighted untrained units, "
        "up to a constant gap, in the periods after training, as they did in the weighted periods "
        "before it (the unit weights were chosen so that the weighted untrained units run parallel to "
        "the trained ones before training). Nothing else changed for the trained units at the same time."),
    "synthetic_control": (
        "Without the training, the trained units would have followed the weighted untrained units "
        "exactly (same level, not just the same trend) after training, as they did before it; this "
        "needs the trained units to lie within the range of the untrained ones. Nothing else changed "
        "for the trained units at the same time."),
}


@dataclass(frozen=True, repr=False, eq=False)
class SyntheticResult(EffectResult):
    """A synthetic difference-in-differences or synthetic control estimate, with its weights.

    ``estimate`` is the average effect on the trained units over the periods after training, per unit
    and period; ``std_error`` comes from ``spec["variance"]`` (placebo, jackknife or bootstrap).

    Attributes
    ----------
    unit_weights : DataFrame
        ``unit`` and ``weight`` (ω, summing to one) of every untrained unit, largest first.
    time_weights : DataFrame
        ``time`` and ``weight`` (λ, summing to one) of every pre-training period; all zero for synthetic
        control, which compares levels after training only.
    trajectory : DataFrame
        ``time``, ``period`` ("pre" / "post"), ``treated`` (mean of the trained units) and ``synthetic``
        (ω-weighted untrained units, shifted by the λ-weighted pre-training gap for synthetic DiD) per
        period: what :func:`impactlab.plot.synthetic` draws.
    draws : ndarray
        The placebo or bootstrap estimates, or the leave-one-out estimates of the jackknife.
    """

    unit_weights: pd.DataFrame = field(default_factory=pd.DataFrame)
    time_weights: pd.DataFrame = field(default_factory=pd.DataFrame)
    trajectory: pd.DataFrame = field(default_factory=pd.DataFrame)
    draws: np.ndarray = field(default_factory=lambda: np.empty(0))

    def summary(self, level: float | None = None) -> str:
        """The estimate and interval (at the fit's ``level`` unless given), who was compared, and the
        largest unit weights."""
        level = float(self.spec.get("level", 0.95)) if level is None else level
        lines = super().summary(level).split("\n")
        s = self.spec
        top = self.unit_weights[self.unit_weights["weight"] > 0].head(5)
        names = ", ".join(f"{u} {w:.3f}" for u, w in zip(top["unit"], top["weight"], strict=True))
        how = "jackknife" if s["variance"] == "jackknife" else f"{s['variance']} ({s['n_draws']} draws)"
        lines.insert(3, f"  {s['n_treated']} trained vs {s['n_control']} untrained {s['units']}; "
                        f"{s['n_pre']} periods before training, {s['n_post']} after; variance: {how}")
        lines.insert(4, f"  largest unit weights: {names}")
        return "\n".join(lines)

    def explain(self, level: float = 0.95) -> Explanation:
        """What the estimate supports, in plain words: which units were compared, the assumption it
        rests on, and the caveats of a pilot with few trained units."""
        s = self.spec
        lo, hi = self.conf_int(level)
        pct = f"{level:.0%}"
        outcome = self.outcome or "the outcome"
        if s["unit"] != s.get("panel_unit", s["unit"]):
            outcome = f"the {s['unit_word']} average of {outcome}"
        what = self.label
        per = "per period"
        headline = (f"{what}: {_fmt(self.estimate)} on {outcome} {per} after training "
                    f"({pct} CI {_fmt(lo)} to {_fmt(hi)}).")
        claims: list[str] = []
        cautions: list[str] = []
        if np.isfinite(lo) and np.isfinite(hi):
            if lo > 0 or hi < 0:
                word = "raised" if self.estimate > 0 else "lowered"
                near, far = sorted((abs(lo), abs(hi)))
                claims.append(f"If the assumption below holds, the training {word} {outcome} by between "
                              f"{_fmt(near)} and {_fmt(far)} {per} on average over the {s['n_post']} periods "
                              f"after it ({pct} confidence).")
            else:
                claims.append(f"The data are consistent with no effect on {outcome}: the {pct} interval "
                              f"({_fmt(lo)} to {_fmt(hi)}) includes zero.")
        else:
            cautions.append("The interval could not be computed, so the estimate's precision is unknown.")
        top = self.unit_weights[self.unit_weights["weight"] > 0]
        trained = list(s["treated_units"])
        named = ", ".join(str(u) for u in trained[:5]) + (f" and {len(trained) - 5} more" if len(trained) > 5
                                                          else "")
        weights = ", ".join(f"{u} {w:.0%}" for u, w in zip(top["unit"].head(3), top["weight"].head(3),
                                                           strict=True))
        claims.append(f"Units compared: the trained {s['units']} ({named}; trained from "
                      f"{s['first_treated']}) against a weighted average of {len(top)} of the "
                      f"{s['n_control']} untrained {s['units']} (largest weights: {weights}).")
        if s["variance"] == "placebo":
            cautions.append("The interval comes from placebo pilots: untrained units given the training "
                            "date at random. It assumes the trained units' errors vary as the untrained "
                            "ones' do (the only variance available with very few trained units).")
        elif s["variance"] == "jackknife":
            cautions.append("The interval comes from the jackknife with the weights held fixed; with few "
                            "trained units it can be too narrow or too wide (Arkhangelsky et al. 2021, "
                            "section 5).")
        else:
            cautions.append("The interval comes from the unit bootstrap, which needs many trained units "
                            "to be reliable.")
        cautions.append("An effect estimated on a pilot speaks for the trained units; rolling the "
                        "programme out elsewhere need not give the same effect.")
        if len(self.excluded):
            cautions.append(f"Some data were left out ({len(self.excluded)} entries in .excluded); the "
                            "estimate speaks for the rest.")
        cautions += list(self.notes)
        return Explanation(headline=headline, claims=tuple(claims), cautions=tuple(cautions),
                           assumption=_ASSUMPTION[self.method],
                           comparison=(f"a weighted average of {len(top)} untrained {s['units']} "
                                       "chosen to track the trained ones before training"))

    def _repr_html_(self) -> str:
        return frame_html(self.unit_weights.head(10), self.label, self._html_lines())

    def __repr__(self) -> str:
        return (f"SyntheticResult(method={self.method!r}, estimate={self.estimate:.6g}, "
                f"std_error={self.std_error:.6g}, n_treated={self.spec['n_treated']}, "
                f"n_control={self.spec['n_control']})")


@dataclass(frozen=True)
class _Setup:
    Y: np.ndarray
    n0: int
    t0: int
    controls: list[Any]
    treated: list[Any]
    times: list[Any]
    excluded: pd.DataFrame
    units: str
    unit_word: str
    first: Any


def _setup(panel: Panel, unit: str | None, who: str) -> _Setup:
    long = panel.long()
    rows: list[tuple[str, object, str]] = []
    if unit is None or unit == panel.unit:
        units, unit_word = "units", "unit"
        frame = long[["unit", "period", "outcome", "cohort_period"]]
    elif panel.cluster is not None and unit == panel.cluster:
        units, unit_word = f"{unit}s", unit
        g = long.groupby(["cluster", "period"], sort=True)
        frame = g["outcome"].mean().reset_index().rename(columns={"cluster": "unit"})
        first = long[long["cohort_period"] > 0].groupby("cluster")["cohort_period"].min()
        frame["cohort_period"] = frame["unit"].map(first).fillna(0).astype("int64")
    else:
        allowed = [panel.unit] + ([panel.cluster] if panel.cluster else [])
        raise PanelError(f"{who}: unit={unit!r} is not a unit column of the panel; it can be one of "
                         f"{allowed} (the panel's unit or its cluster column, whose units are then averaged "
                         "per period). Build the panel with cluster='team' to compare teams.")
    T = panel.n_periods
    counts = frame.groupby("unit")["period"].nunique()
    short = counts[counts < T]
    for u in short.index:
        rows.append(("unit", u, f"observed in {int(short[u])} of {T} periods; synthetic weights need every "
                                "unit in every period"))
    frame = frame[~frame["unit"].isin(short.index)]
    g_unit = frame.drop_duplicates("unit").set_index("unit")["cohort_period"]
    always = g_unit[g_unit == 1]
    for u in always.index:
        rows.append(("unit", u, "trained from the first period: no period before training to match on"))
    g_unit = g_unit[g_unit != 1]
    cohorts = g_unit[g_unit > 0]
    if len(cohorts) == 0:
        raise EstimationError(f"{who}: no {unit_word} is trained within the data after its first period "
                              f"({len(rows)} left out, see the reasons above), so there is no effect to "
                              "estimate. Check the cohort column.")
    if cohorts.nunique() > 1:
        sizes = cohorts.map(lambda k: panel.periods[int(k) - 1]).value_counts().sort_index()
        listed = ", ".join(f"{k} ({n} {units})" for k, n in sizes.items())
        raise EstimationError(
            f"{who} needs every trained {unit_word} to start training in the same period (a pilot); this "
            f"panel has {len(sizes)} start periods: {listed}. For a staggered roll-out use "
            "il.callaway_santanna(panel) or il.imputation(panel).")
    controls = sorted(g_unit[g_unit == 0].index.tolist(), key=lambda v: (str(type(v)), v))
    treated = sorted(cohorts.index.tolist(), key=lambda v: (str(type(v)), v))
    if not controls:
        raise EstimationError(f"{who}: every {unit_word} is trained, so there is nothing to compare with.")
    k = int(cohorts.iloc[0])
    t0 = k - 1
    if t0 < 2:
        raise EstimationError(f"{who}: training starts in the panel's period {k} ({panel.periods[k - 1]}); "
                              "the weights need at least two periods before it. Add earlier periods.")
    wide = frame.pivot(index="unit", columns="period", values="outcome")
    Y = wide.loc[controls + treated].to_numpy(dtype="float64")
    if not np.isfinite(Y).all():
        raise PanelError(f"{who}: the outcome has missing or infinite values after aggregation.")
    excluded = excluded_frame(rows)
    return _Setup(Y=Y, n0=len(controls), t0=t0, controls=controls, treated=treated,
                  times=list(panel.periods), excluded=excluded, units=units, unit_word=unit_word,
                  first=panel.periods[k - 1])


def _estimate(panel: Panel, *, method: str, unit: str | None, level: float, variance: str, n_draws: int,
              seed: int | None) -> SyntheticResult:
    who = method
    panel = check_panel(panel, who)
    check_option("variance", variance, VARIANCE_OPTIONS)
    critical_value(level)
    if isinstance(n_draws, bool) or not isinstance(n_draws, (int, np.integer)) or n_draws < 2:
        raise ValueError(f"The 'n_draws' parameter must be an integer of at least 2. Got {n_draws!r} "
                         "instead.")
    st = _setup(panel, unit, who)
    Y, n0, t0 = st.Y, st.n0, st.t0
    n1, t1 = Y.shape[0] - n0, Y.shape[1] - t0
    sigma = sw.noise_level(Y, n0, t0)
    if method == "synthetic_did":
        tuning = sw.Tuning(zeta_omega=(n1 * t1) ** 0.25 * sigma, zeta_lambda=1e-6 * sigma,
                           min_decrease=1e-5 * sigma, omega_intercept=True, update_lambda=True)
    else:
        tuning = sw.Tuning(zeta_omega=1e-6 * sigma, zeta_lambda=1e-6 * sigma, min_decrease=1e-5 * sigma,
                           omega_intercept=False, update_lambda=False)
    base = sw.fit(Y, n0, t0, tuning)
    if seed is None:
        seed = int(np.random.SeedSequence().entropy % (2**32))  # type: ignore[operator]
    rng = np.random.default_rng(seed)
    notes: list[str] = []
    if variance == "placebo":
        if n0 <= n1:
            raise EstimationError(f"{who}: the placebo variance needs more untrained {st.units} than trained "
                                  f"ones ({n0} untrained, {n1} trained): add untrained {st.units} (e.g. "
                                  "from other regions) to the panel, or, with many trained units, use "
                                  "il.evaluate.")
        draws = sw.placebo_draws(Y, n0, t0, tuning, base, int(n_draws), rng)
        se = sw.draws_se(draws)
    elif variance == "bootstrap":
        if n1 == 1:
            raise EstimationError(f"{who}: the bootstrap variance is not defined with one trained "
                                  f"{st.unit_word} (a resample without it has no effect to estimate). Use "
                                  "variance='placebo'.")
        draws = sw.bootstrap_draws(Y, n0, t0, tuning, base, int(n_draws), rng)
        se = sw.draws_se(draws)
    else:
        if n1 == 1 or int((base.omega > 0).sum()) == 1:
            why = (f"one trained {st.unit_word}" if n1 == 1
                   else "a single untrained unit with a non-zero weight")
            raise EstimationError(f"{who}: the jackknife variance is not defined with {why} (leaving it out "
                                  "leaves no estimate; Arkhangelsky et al. 2021, Algorithm 3). Use "
                                  "variance='placebo'.")
        draws = sw.jackknife_values(Y, n0, t0, base)
        se = sw.jackknife_se(draws)
    if n1 == 1 and variance == "placebo":
        notes.append(f"One trained {st.unit_word}: the interval rests on placebo pilots among the "
                     f"{n0} untrained {st.units}.")
    uw = pd.DataFrame({"unit": st.controls, "weight": base.omega})
    uw = uw.sort_values("weight", ascending=False, kind="mergesort").reset_index(drop=True)
    tw = pd.DataFrame({"time": st.times[:t0], "weight": base.lam})
    treated_mean = Y[n0:].mean(axis=0)
    synthetic = base.omega @ Y[:n0]
    if method == "synthetic_did":
        shift = float((treated_mean[:t0] - synthetic[:t0]) @ base.lam)
        synthetic = synthetic + shift
    traj = pd.DataFrame({"time": st.times, "period": ["pre"] * t0 + ["post"] * t1,
                         "treated": treated_mean, "synthetic": synthetic})
    label = ("Synthetic difference-in-differences" if method == "synthetic_did" else "Synthetic control")
    spec = {"estimator": method, "variance": variance,
            "n_draws": int(n_draws) if variance != "jackknife" else len(draws), "seed": seed, "level": level,
            "unit": unit or panel.unit, "panel_unit": panel.unit, "units": st.units,
            "unit_word": st.unit_word, "n_treated": n1, "n_control": n0, "n_pre": t0, "n_post": t1,
            "treated_units": tuple(st.treated), "first_treated": st.first, "noise_level": sigma,
            "zeta_omega": tuning.zeta_omega, "zeta_lambda": tuning.zeta_lambda,
            "first_period": st.times[0], "last_period": st.times[-1], "freq": period_freq(panel)}
    return SyntheticResult(
        estimate=base.estimate, std_error=se, term="ATT", method=method, label=label, outcome=panel.outcome,
        n_obs=int(Y.size), n_units=int(Y.shape[0]), excluded=st.excluded, spec=spec, notes=tuple(notes),
        unit_weights=uw, time_weights=tw, trajectory=traj, draws=draws)


def synthetic_did(panel: Panel, *, unit: str | None = None, level: float = 0.95,
                  variance: Literal["placebo", "jackknife", "bootstrap"] = "placebo", n_draws: int = 200,
                  seed: int | None = 0) -> SyntheticResult:
    """Synthetic difference-in-differences for a pilot (Arkhangelsky, Athey, Hirshberg, Imbens & Wager
    2021, AER).

    For one or a few units trained in the same period. Unit weights ω (on the simplex, with an intercept
    and a ridge penalty ζ_ω = (N_tr·T_post)^(1/4)·σ̂, σ̂ the standard deviation of the period-to-period
    changes of the untrained units before training) make the weighted untrained units run parallel to the
    trained ones before training; time weights λ (intercept, ζ_λ = 10⁻⁶·σ̂) weight the pre-training
    periods that predict the post-training ones. The effect is the weighted difference-in-differences.
    The weights are found by Frank–Wolfe with R ``synthdid``'s stopping rule, sparsifying step and
    defaults, so the estimate and weights equal R ``synthdid`` 0.0.9 and diff-diff's ``SyntheticDiD``.

    Parameters
    ----------
    panel : Panel
        A panel whose trained units all start training in the same period; it is not modified.
    unit : str, optional
        The units compared: the panel's unit (default) or its cluster column (e.g. ``"team"`` for a
        panel built with ``cluster="team"``), whose members' outcomes are averaged per period; a team
        counts as trained from the first period any of its members was trained.
    level : float
        Confidence level of the interval ``summary()`` reports by default; recorded in ``spec["level"]``.
        ``conf_int``, ``tidy`` and ``explain`` take their own ``level`` (0.95 by default), as every
        result's do.
    variance : {"placebo", "jackknife", "bootstrap"}
        ``"placebo"`` (Algorithm 4, the one defined with a single trained unit): untrained units are given
        the training date at random, weights refitted, and the standard error is that of the placebo
        estimates. ``"jackknife"`` (Algorithm 3, weights fixed): needs two or more trained units.
        ``"bootstrap"`` (Algorithm 2): units resampled, weights refitted; needs many trained units.
    n_draws : int
        Placebo or bootstrap draws (ignored by the jackknife).
    seed : int or None
        Seed of the draws (None draws one and records it in ``spec``). The placebo draws are the
        permutations ``numpy.random.default_rng(seed).permutation`` gives, the same as diff-diff's
        ``SyntheticDiD(seed=seed)``, so both give the same standard error.

    Returns
    -------
    SyntheticResult
        ``estimate``, ``std_error``, ``conf_int``, ``unit_weights``, ``time_weights``, ``trajectory`` (for
        :func:`impactlab.plot.synthetic`), ``draws``; ``excluded`` lists units left out with the reason
        (not observed in every period; trained from the first period).

    Raises
    ------
    EstimationError
        Trained units starting in different periods (staggered adoption; the message names the start
        periods), fewer than two periods before training, no untrained unit, or a variance that is not
        defined for the design (placebo with no more untrained than trained units; jackknife or bootstrap
        with one trained unit).
    PanelError
        ``unit`` is neither the panel's unit nor its cluster column.

    Examples
    --------
    Two teams piloted a programme from period 7; the effect is +3.

    >>> import numpy as np, pandas as pd
    >>> import impactlab as il
    >>> rng = np.random.default_rng(0)
    >>> rows = [(u, t, 10 + u % 5 + 0.3 * t + (3.0 if u < 2 and t >= 7 else 0) + rng.normal(0, .2),
    ...          7 if u < 2 else 0) for u in range(12) for t in range(1, 11)]
    >>> df = pd.DataFrame(rows, columns=["team", "month", "sales", "pilot"])
    >>> panel = il.Panel.from_frame(df, unit="team", time="month", outcome="sales", cohort="pilot")
    >>> res = il.synthetic_did(panel, n_draws=50)
    >>> round(res.estimate), res.spec["n_treated"], res.spec["n_control"]
    (3, 2, 10)
    """
    return _estimate(panel, method="synthetic_did", unit=unit, level=level, variance=variance,
                     n_draws=n_draws, seed=seed)


def synthetic_control(panel: Panel, *, unit: str | None = None, level: float = 0.95,
                      variance: Literal["placebo", "jackknife", "bootstrap"] = "placebo", n_draws: int = 200,
                      seed: int | None = 0) -> SyntheticResult:
    """Synthetic control (Abadie, Diamond & Hainmueller 2010) for a pilot, as R ``synthdid``'s
    ``sc_estimate``.

    The unit weights ω fit the trained units' pre-training path by the untrained units' paths on the
    simplex, without intercept and with only a negligible ridge penalty (ζ = 10⁻⁶·σ̂); there are no time
    weights, so the effect is the post-training gap between the trained units and their synthetic
    control. Parameters, return value and errors as :func:`synthetic_did`.

    Parameters
    ----------
    panel : Panel
        A panel whose trained units all start training in the same period; it is not modified.
    unit : str, optional
        The units compared: the panel's unit (default) or its cluster column (see :func:`synthetic_did`).
    level : float
        Confidence level of the interval ``summary()`` reports by default; recorded in ``spec["level"]``.
        ``conf_int``, ``tidy`` and ``explain`` take their own ``level`` (0.95 by default), as every
        result's do.
    variance : {"placebo", "jackknife", "bootstrap"}
        As :func:`synthetic_did` (the jackknife is not recommended for synthetic control, Arkhangelsky
        et al. 2021, section 5).
    n_draws : int
        Placebo or bootstrap draws.
    seed : int or None
        Seed of the draws.

    Returns
    -------
    SyntheticResult
        As :func:`synthetic_did`; ``time_weights`` are all zero.
    """
    return _estimate(panel, method="synthetic_control", unit=unit, level=level, variance=variance,
                     n_draws=n_draws, seed=seed)
