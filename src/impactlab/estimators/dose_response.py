"""Difference-in-differences with a continuous treatment: does more training do more?

Callaway, Goodman-Bacon & Sant'Anna (2024). Each trained employee has a dose (hours of training, modules
completed), fixed over time; never-trained employees (dose 0) are the comparison group. For each training
cohort ``g`` and period ``t`` from training on, the change in the outcome since the period before training
(``g - 1 - anticipation``) is taken for the cohort's employees and for the never-trained; the never-trained
average change is subtracted from each trained employee's change, and the result is regressed on a
B-spline of the dose (degree ``degree``, ``knots`` interior knots at quantiles of the trained doses, an
intercept): the fit at dose ``d`` is ATT(d) in that cell, its slope ACRT(d). Cells are averaged with each
cohort weighted by its share of the trained employees, split equally over its periods from training on.

The overall averages are ATT^o, the trained employees' average change minus the never-trained's (the
binary DiD on the same cells), and ACRT^o, the slope averaged over the trained employees' doses.

On an unbalanced panel (hires, leavers, months without a KPI) each comparison of a cohort's period with its
base period uses the employees observed in both; an employee is left out (with the reason in ``excluded``)
only when no comparison can use them. This rests on who is observed in a comparison's two periods being
unrelated to the change in outcome they would have had and to their dose (levels may differ: the changes
remove them).

Standard errors come from the influence function of each cell (the spline regression and the comparison
mean), summed per cluster; the uniform band over the dose grid from a multiplier bootstrap (Rademacher
weights per cluster) of the largest studentised deviation along the curve. ATT^o and ACRT^o are averages over
the trained employees' doses and over cohorts weighted by their size, and both the doses and the cohort sizes
are drawn with the employees: by default their influence functions count it (for ACRT^o the spread of ACRT(d)
over the trained doses, as contdid's ``cont_did_acrt`` does; for every average the cohort shares, as R
``did``'s group aggregation does). ATT(d) and ACRT(d) are taken at given doses of the grid.

References
----------
B. Callaway, A. Goodman-Bacon and P. H. C. Sant'Anna (2024), "Difference-in-differences with a continuous
treatment", NBER Working Paper 32117: section 3 (parallel trends and strong parallel trends, Assumptions
1 and 2), section 4 (the B-spline estimator and the averages ATT^o and ACRT^o; ACRT^o = E[ACRT(D|D) | D > 0]
is an expectation over the dose distribution). B. Callaway, contdid 0.1.0 (R), ``cont_did_acrt``: the
influence function of ACRT^o adds ACRT(D_i) - ACRT^o to the regression's.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
from scipy.interpolate import BSpline

from impactlab.errors import EstimationError, PanelError, StatisticalWarning
from impactlab.estimators._common import check_panel, excluded_frame, period_freq
from impactlab.estimators._imputation_grid import cohort_labels
from impactlab.panel import Panel
from impactlab.results.base import EffectResult, _fmt, critical_value

__all__ = ["DoseResponseResult", "dose_response"]

#: Evaluation grid: these quantiles of the trained employees' doses (10 % to 99 % by 1 %).
GRID_QUANTILES = np.arange(10, 100) / 100


@dataclass(frozen=True, repr=False, eq=False)
class DoseResponseResult(EffectResult):
    """The effect of training by dose: ATT(d) and ACRT(d) curves and their averages ATT^o and ACRT^o.

    ``estimate`` is ATT^o (term ``"ATT^o"``): the average effect on the trained employees, whatever their
    dose. ``elements`` holds ACRT^o first (``curve`` ``"ACRT^o"``), then ATT(d) and ACRT(d) at each dose of
    the grid (``curve`` ``"ATT"`` / ``"ACRT"``, ``dose``), with the uniform band's critical value in
    ``crit`` (``tidy(level)`` at ``spec["band_level"]`` gives the band, at any other level pointwise
    intervals).

    Attributes
    ----------
    acrt, acrt_std_error : float
        ACRT^o, the average causal response per unit of dose, and its standard error.
    curves : DataFrame
        One row per curve and dose: ``curve`` (``"ATT"``, ``"ACRT"``), ``dose``, ``estimate``,
        ``std_error`` (analytic), ``boot_std_error`` (standard deviation of the bootstrap draws; NaN
        without draws), ``conf_low`` / ``conf_high`` (pointwise, at ``spec["band_level"]``) and
        ``band_low`` / ``band_high`` (uniform over the grid, at the same level; NaN without draws).
    cells : DataFrame
        One row per cohort × period used: ``cohort``, ``period``, ``weight``, ``n_treated``,
        ``n_control``, ``att`` (the cell's ATT^o) and ``acrt`` (its ACRT^o).
    """

    acrt: float = float("nan")
    acrt_std_error: float = float("nan")
    curves: pd.DataFrame | None = None
    cells: pd.DataFrame | None = None

    def __repr__(self) -> str:
        return (f"DoseResponseResult(estimate={self.estimate:.6g}, std_error={self.std_error:.6g}, "
                f"acrt={self.acrt:.6g}, acrt_std_error={self.acrt_std_error:.6g}, n_units={self.n_units})")

    def summary(self, level: float = 0.95) -> str:
        """Plain-text summary: ATT^o and ACRT^o, then the curves at five doses of the grid."""
        lo, hi = self.conf_int(level)
        c = critical_value(level, self.df)
        lines = [
            f"{self.label}: effect of {self.spec.get('dose', 'the dose')} on {self.outcome or 'the outcome'}",
            (f"  ATT^o  {_fmt(self.estimate)}  (std. error {_fmt(self.std_error)}, {level:.0%} CI {_fmt(lo)} "
             f"to {_fmt(hi)}, p = {_fmt(self.p_value, 3)})"),
            (f"  ACRT^o {_fmt(self.acrt)}  (std. error {_fmt(self.acrt_std_error)}, {level:.0%} CI "
             f"{_fmt(self.acrt - c * self.acrt_std_error)} to {_fmt(self.acrt + c * self.acrt_std_error)}) "
             "per unit of dose"),
            f"  {_fmt(self.n_obs)} observations, {_fmt(self.n_units)} units",
        ]
        if len(self.excluded):
            lines.append(f"  excluded: {len(self.excluded)} (see .excluded)")
        lines += [f"  note: {n}" for n in self.notes]
        if self.curves is not None and len(self.curves):
            att = self.curves.loc[self.curves["curve"] == "ATT"].reset_index(drop=True)
            acrt = self.curves.loc[self.curves["curve"] == "ACRT"].reset_index(drop=True)
            pick = sorted({0, len(att) // 4, len(att) // 2, (3 * len(att)) // 4, len(att) - 1})
            table = pd.DataFrame({"dose": att["dose"].iloc[pick], "ATT(d)": att["estimate"].iloc[pick],
                                  "se": att["std_error"].iloc[pick], "ACRT(d)": acrt["estimate"].iloc[pick],
                                  "se ": acrt["std_error"].iloc[pick]})
            lines.append(table.to_string(index=False, float_format=lambda v: f"{v:.4g}"))
        return "\n".join(lines)

    def explain(self, level: float = 0.95) -> Any:
        """What the dose-response result supports, and the assumptions each part rests on.

        ATT^o (the average effect of training on the trained) rests on parallel trends: without the
        training, employees at each dose would have followed the never-trained on average. That assumption
        identifies ATT(d|d), the effect of dose d on those who took dose d, but comparing doses (ATT(d)
        across d, ACRT(d), ACRT^o) needs strong parallel trends: employees who took other doses would have
        gained what those who took d gained, had they taken d (no selection into doses on the gains).

        Parameters
        ----------
        level : float
            Confidence level of the intervals quoted.

        Returns
        -------
        Explanation
            See :class:`impactlab.results.explain.Explanation`.
        """
        from impactlab.results.explain import Explanation, _num

        lo, hi = self.conf_int(level)
        c = critical_value(level, self.df)
        alo, ahi = self.acrt - c * self.acrt_std_error, self.acrt + c * self.acrt_std_error
        dose = str(self.spec.get("dose", "the dose"))
        outcome = self.outcome or "the outcome"
        pct = f"{level:.0%}"
        headline = (f"{self.label}: trained employees' {outcome} changed by {_num(self.estimate)} per "
                    f"period on average ({pct} CI {_num(lo)} to {_num(hi)}); each extra unit of {dose} added "
                    f"{_num(self.acrt)} on average ({pct} CI {_num(alo)} to {_num(ahi)}).")
        claims = [f"Under parallel trends, the average effect on the trained employees is between {_num(lo)} "
                  f"and {_num(hi)} ({pct} confidence), whatever dose each took; each dose's effect on those "
                  "who took it (ATT(d|d)) is identified too."]
        if math_finite(alo, ahi) and (alo > 0 or ahi < 0):
            way = "more" if self.acrt > 0 else "less"
            claims.append(f"Under strong parallel trends, more {dose} did {way}: an extra unit of {dose} "
                          f"changed {outcome} by between {_num(min(abs(alo), abs(ahi)))} and "
                          f"{_num(max(abs(alo), abs(ahi)))} on average.")
        else:
            claims.append(f"The data are consistent with extra {dose} adding nothing on average: the {pct} "
                          f"interval of ACRT^o ({_num(alo)} to {_num(ahi)}) includes zero.")
        cautions = [
            "Comparing doses (the ATT(d) curve across doses, its slope ACRT(d), ACRT^o) needs strong "
            "parallel trends: those who took little training would have gained what those who took much "
            "gained, had they taken as much. If employees chose their dose because they expected to gain "
            "more, the slope mixes the effect of the dose with who chose it; parallel trends alone "
            "identifies only each dose's effect on those who took it.",
            f"The curves are a smooth fit (B-spline of degree {self.spec.get('degree')} with "
            f"{self.spec.get('knots')} interior knots); near the ends of the grid they rest on few "
            "employees.",
        ]
        if self.spec.get("unbalanced"):
            cautions.append("Some employees miss periods (hires, leavers): each comparison of a period "
                            "with the period before training uses the employees observed in both. That is "
                            "sound if who is observed is unrelated to the change in outcome they would have "
                            f"had and to their {dose}. On simulated organisations where weaker employees "
                            "left more, or a poor month made leaving more likely, it held the truth "
                            "(44 of 48 and 19 of 19 intervals, docs/validation.md); leaving because of "
                            "what training did or would do is not covered by that, so look at who left.")
        a = int(self.spec.get("anticipation", 0) or 0)
        if a:
            cautions.append(f"Changes are measured from {a + 1} periods before training; the {a} period(s) "
                            "just before it (an early effect or a dip before training) are in no average.")
        if self.spec.get("dose_variance", False) or self.spec.get("share_variance", False):
            cautions.append(f"The intervals of the averages count the trained employees' {dose} and the "
                            "cohort sizes as drawn with the employees: they are about employees like these, "
                            "not only these ones (Callaway, Goodman-Bacon & Sant'Anna 2024, section 4; "
                            "contdid).")
        if self.spec.get("n_draws"):
            band = f"{self.spec.get('band_level'):.0%}"
            cautions.append(f"The band around each curve is uniform over the grid at {band}: it is built to "
                            "hold the whole curve with that confidence, and held it in 181 to 186 of 200 "
                            "simulated organisations (docs/validation.md); the pointwise intervals hold one "
                            "dose at a time.")
        cautions += list(self.notes)
        assumption = ("Parallel trends for ATT^o and ATT(d|d): without training, employees at each dose "
                      "would have followed the never-trained on average. Strong parallel trends (no "
                      "selection into doses on the gains) for ATT(d), ACRT(d) and ACRT^o. No anticipation "
                      f"beyond {self.spec.get('anticipation', 0)} period(s).")
        return Explanation(headline=headline, claims=tuple(claims), cautions=tuple(cautions),
                           assumption=assumption, comparison="never-trained employees (dose 0)")


def math_finite(*xs: float) -> bool:
    return bool(np.all(np.isfinite(xs)))


def _basis(knots: np.ndarray, degree: int, x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The design (intercept and the B-spline columns but the first) at ``x`` and its derivative."""
    n_basis = len(knots) - degree - 1
    x = np.clip(np.asarray(x, dtype="float64"), knots[degree], knots[-degree - 1])
    spline = BSpline(knots, np.eye(n_basis), degree)
    B = spline(x)
    dB = spline.derivative()(x)
    ones, zeros = np.ones((len(x), 1)), np.zeros((len(x), 1))
    return np.hstack([ones, B[:, 1:]]), np.hstack([zeros, dB[:, 1:]])


def _check_int(name: str, value: Any, low: int) -> int:
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < low:
        raise ValueError(f"The '{name}' parameter of dose_response must be an integer >= {low}. "
                         f"Got {value!r} instead.")
    return int(value)


def dose_response(panel: Panel, *, dose: str, degree: int = 3, knots: int = 0, anticipation: int = 0,
                  n_draws: int | None = 999, seed: int | None = None, level: float = 0.95,
                  allow_unbalanced: bool = True, dose_variance: bool = True,
                  share_variance: bool = True) -> DoseResponseResult:
    """Difference-in-differences with a continuous treatment: the effect of training by dose.

    Each trained employee's change in the outcome since the period before training, net of the
    never-trained's average change, is regressed on a B-spline of the dose, cohort by cohort and period by
    period; the fits are averaged over cohorts and periods. Gives ATT(d) (the effect of dose ``d``), ACRT(d)
    (the effect of one more unit of dose at ``d``), and their averages ATT^o and ACRT^o.

    Parameters
    ----------
    panel : Panel
        The employee × period panel (e.g. ``build_panel(..., dose=["hours"])``); it is not modified.
        Standard errors are clustered by its cluster (the employee by default).
    dose : str
        The panel column holding each employee's dose (hours, modules), the same in every period. Trained
        employees need a positive dose; never-trained employees are the comparison group, with dose 0 (or
        missing).
    degree : int
        Degree of the B-spline in the dose (3: cubic). With ``knots=0`` it is a polynomial of that degree.
    knots : int
        Number of interior knots, placed at evenly spaced quantiles of the trained employees' doses.
    anticipation : int
        Number of periods before training in which its effect may already show (or a dip before it, such
        as an Ashenfelter dip): changes are taken from the period ``anticipation + 1`` periods before
        training, and the periods in between enter no comparison; the averages are over the periods from
        training on.
    n_draws : int or None
        Multiplier-bootstrap draws for the uniform band over the dose grid (and bootstrap standard
        errors); ``None`` for no band.
    seed : int, optional
        Seed of the draws (None draws one and records it in ``spec``).
    level : float
        Confidence level of the band and of the pointwise intervals in ``curves``.
    allow_unbalanced : bool
        True (default): each comparison of a cohort's period with its base period uses the employees observed
        in both, so hires and leavers count where they are observed. False: only employees observed in every
        period are used; the others are listed in ``excluded`` and a ``StatisticalWarning`` gives their share.
    dose_variance : bool
        Count the trained employees' doses as drawn in ACRT^o's standard error (default): its influence
        function adds each employee's ACRT(D_i) - ACRT^o, so the interval is about employees like these, not
        only these doses. False takes the doses as given, as diff-diff's ``ContinuousDiD`` does.
    share_variance : bool
        Count the cohort shares that weight the averages as drawn (default): each trained employee's
        influence function adds (their cohort's average - the overall average) / the number trained. False
        takes them as given, as diff-diff's ``ContinuousDiD`` does. No difference with one cohort.

    Returns
    -------
    DoseResponseResult
        ATT^o (``estimate``), ACRT^o (``acrt``), the curves at 90 doses (the 10 % to 99 % quantiles of the
        trained doses; ``curves``, ``elements``), the cohort × period cells (``cells``, with the employees
        each used) and ``excluded``: employees trained without a dose, never trained with a dose, with a dose
        that changes over time, in cohorts with no period before training, observed in no comparison's two
        periods (or, with ``allow_unbalanced=False``, not in every period). A new result.

    Raises
    ------
    EstimationError
        No never-trained employee, no trained employee with a dose, every trained dose equal (use
        :func:`impactlab.callaway_santanna`), no cell with more trained employees than spline terms, or a
        cell whose doses take too few distinct values for the spline. A cell with too few trained employees
        is left out when its cohort has others (a note says so; the cohort's weight goes to its other
        periods).

    Notes
    -----
    Estimates equal diff-diff's ``ContinuousDiD`` (never-treated comparison, ``base_period="varying"``,
    B-spline ``degree`` and ``num_knots``) on its documented example, and so do the analytic standard errors
    with ``dose_variance=False, share_variance=False``: diff-diff takes the trained doses and the cohort
    shares as given, so its ACRT^o variance leaves out the spread of ACRT(d) over the doses. The paper's
    ACRT^o is an expectation over the dose distribution (section 4), and the authors' contdid adds that
    spread to its influence function; on simulated organisations with ACRT(d) varying with d, the fixed-dose
    interval held the true ACRT^o in 102 of 200, this one in 185 (docs/validation.md). diff-diff and contdid
    refuse unbalanced panels; the rule used here for them (each comparison on the employees observed in both
    of its periods) held the truth in 185 of the same 200 organisations, which have hires and leavers.

    With ``anticipation`` > 0 the periods between the base period and training are left out of every
    average, as R ``did`` leaves them out of its aggregations; diff-diff's ``ContinuousDiD`` averages them in
    (cells with ``t >= g - anticipation``), so the two then differ. On ``simulate_org``'s organisations
    (the two-month dip before training, ``anticipation=2``; 2,000 employees, hours 4 to 24 and a gain
    proportional to them, seeds 9600-9649) ATT^o's interval held its estimand in 44 of 49 (bias -3; mean
    standard error 70 against a spread of the errors of 76); averaging the dip months in had given 30 of 49
    and a bias of -112. The weaker employees leave more there (attrition on the level): comparing each
    period with the base period on the employees observed in both held the truth under that, and under
    leaving after a poor month (19 of 19), where pooling everyone observed in each period
    (``callaway_santanna(..., allow_unbalanced=True)``) was biased by -197 and -587 (docs/validation.md,
    "Dose response on the simulator's organisations").

    Examples
    --------
    >>> import impactlab as il
    >>> import pandas as pd
    >>> rows = [(u, t, u % 5 + t + (2.0 * (u % 4 + 1) if u >= 20 and t >= 3 else 0.0),
    ...          3 if u >= 20 else 0, float(u % 4 + 1) if u >= 20 else 0.0)
    ...         for u in range(60) for t in range(1, 5)]
    >>> frame = pd.DataFrame(rows, columns=["id", "t", "y", "g", "hours"])
    >>> panel = il.Panel.from_frame(frame, unit="id", time="t", outcome="y", cohort="g", covariates=["hours"])
    >>> res = il.dose_response(panel, dose="hours", degree=1, n_draws=None)
    >>> round(res.acrt, 6)
    2.0
    """
    panel = check_panel(panel, "dose_response")
    if not isinstance(dose, str) or dose not in panel.covariates:
        raise PanelError(f"dose_response: dose={dose!r} is not a column of the panel; it holds "
                         f"{list(panel.covariates)}. Carry the dose into the panel (build_panel(..., "
                         "dose=['hours']) or Panel.from_frame(..., covariates=[...])).")
    degree = _check_int("degree", degree, 1)
    n_knots = _check_int("knots", knots, 0)
    a = _check_int("anticipation", anticipation, 0)
    if n_draws is not None:
        n_draws = _check_int("n_draws", n_draws, 2)
    for name, flag in (("allow_unbalanced", allow_unbalanced), ("dose_variance", dose_variance),
                       ("share_variance", share_variance)):
        if not isinstance(flag, bool):
            raise ValueError(f"The '{name}' parameter of dose_response must be True or False. "
                             f"Got {flag!r} instead.")
    critical_value(level)  # checks the level
    if seed is None:
        seed = int(np.random.SeedSequence().generate_state(1)[0])

    long = panel._long  # read only
    T = panel.n_periods
    codes, uniq = pd.factorize(long["unit"], sort=True)
    n_all = len(uniq)
    period = long["period"].to_numpy().astype(np.int64)
    Y = np.full((n_all, T), np.nan)
    Y[codes, period - 1] = long["outcome"].to_numpy(dtype="float64")
    seen = np.isfinite(Y)
    gp = np.zeros(n_all, dtype=np.int64)
    gp[codes] = long["cohort_period"].to_numpy().astype(np.int64)
    label_of = cohort_labels(long["cohort"].to_numpy(), long["cohort_period"].to_numpy())
    dv = pd.to_numeric(long[dose], errors="coerce").to_numpy(dtype="float64")
    by_unit = pd.DataFrame({"u": codes, "d": dv}).groupby("u")["d"]
    d_min = by_unit.min().reindex(range(n_all)).to_numpy()
    d_max = by_unit.max().reindex(range(n_all)).to_numpy()
    cluster = pd.Series(long["cluster"].to_numpy()).groupby(codes).first().reindex(range(n_all)).to_numpy()

    excluded: list[tuple[str, Any, str]] = []
    keep = np.ones(n_all, dtype=bool)

    def drop(mask: np.ndarray, reason: str) -> None:
        for i in np.flatnonzero(mask & keep):
            excluded.append(("unit", uniq[i], reason))
        keep[mask] = False

    if not allow_unbalanced:
        gaps = ~seen.all(axis=1)
        drop(gaps, "not observed in every period (allow_unbalanced=False keeps the balanced panel only)")
        if gaps.any():
            warnings.warn(
                f"dose_response: {int(gaps.sum())} of {n_all} employees ({gaps.mean():.1%}) are not observed "
                "in every period and were left out (allow_unbalanced=False; each is listed in .excluded). "
                "With allow_unbalanced=True each comparison uses every employee observed in its two periods.",
                StatisticalWarning, stacklevel=2)
    drop(np.isfinite(d_min) & (d_min != d_max), f"{dose} changes over time (the dose must be fixed)")
    drop(np.isfinite(d_min) & (d_min < 0), f"negative {dose}")
    unit_dose = np.where(np.isfinite(d_min), d_min, 0.0)
    drop((gp > 0) & ~(unit_dose > 0), f"trained with no {dose} recorded (0 or missing)")
    drop((gp == 0) & (unit_dose > 0), f"never trained but has a positive {dose}")
    for g in sorted(label_of):
        if g - 1 - a < 1:
            drop(gp == g, f"trained in cohort {label_of[g]}, with no observed period before training"
                          + (f" and its {a} anticipation period(s)" if a else ""))

    if not (keep & (gp == 0)).any():
        raise EstimationError("dose_response: no never-trained employee with dose 0 is left to compare "
                              "with (see .excluded reasons); this design compares with the untrained.")
    if not (keep & (gp > 0)).any():
        raise EstimationError(f"dose_response: no trained employee with a positive {dose} is left.")

    # The comparisons: cohort g from its base period (g - 1 - anticipation) to each period t from training on,
    # each with the employees observed in both periods (all of them when the panel is balanced).
    K = degree + 1 + n_knots  # intercept and the B-spline columns but the first
    plan: list[tuple[int, int, int, np.ndarray, np.ndarray]] = []
    skipped: dict[int, list[int]] = {}
    for g in sorted(label_of):
        in_g = keep & (gp == g)
        if not in_g.any():
            continue
        base = g - 1 - a
        for t in range(g, T + 1):  # the anticipation periods between base and g are in no comparison
            both = seen[:, t - 1] & seen[:, base - 1]
            t_idx, c_idx = np.flatnonzero(in_g & both), np.flatnonzero(keep & (gp == 0) & both)
            if len(t_idx) <= K or not len(c_idx):
                skipped.setdefault(g, []).append(t)
            else:
                plan.append((g, base, t, t_idx, c_idx))
    used = np.zeros(n_all, dtype=bool)
    for *_, t_idx, c_idx in plan:
        used[t_idx] = True
        used[c_idx] = True
    for i in np.flatnonzero(keep & ~used):
        g = int(gp[i])
        if g and not seen[i, g - 2 - a]:
            reason = (f"not observed in {panel.periods[g - 2 - a]}, the period before training that the "
                      "comparisons start from")
        elif g and not seen[i, g - 1:].any():
            reason = "not observed in any period from training on"
        elif g:
            reason = (f"trained in cohort {label_of[g]}, whose comparisons have too few trained employees "
                      f"for the spline's {K} terms (see the notes)")
        else:
            reason = ("never trained and not observed in both periods of any comparison (the period before a "
                      "cohort's training and one from training on)")
        excluded.append(("unit", uniq[i], reason))
    keep &= used
    treated = keep & (gp > 0)
    if not plan:
        raise EstimationError(f"dose_response: no cohort has more than {K} trained employees observed both "
                              f"in the period before training and in a period after it, for {K} spline "
                              "terms; lower degree= or knots=.")
    doses = unit_dose[treated]
    if doses.min() == doses.max():
        raise EstimationError(f"dose_response: every trained employee has the same {dose} "
                              f"({_fmt(doses.min())}), so there is no dose-response to estimate; use "
                              "callaway_santanna for the effect of training.")
    inner = np.quantile(doses, np.linspace(0, 1, n_knots + 2)[1:-1]) if n_knots else np.array([])
    knot_vec = np.concatenate([np.repeat(doses.min(), degree + 1), inner, np.repeat(doses.max(), degree + 1)])
    grid = np.quantile(doses, GRID_QUANTILES)
    PsiE, dPsiE = _basis(knot_vec, degree, grid)
    PsiU, dPsiU = _basis(knot_vec, degree, unit_dose)
    n_grid = len(grid)

    # targets: ATT^o, ACRT^o, ATT(d) on the grid, ACRT(d) on the grid. Their influence functions are linear
    # in M = [IF of ATT^o, IF of ACRT^o, w-weighted IF of the spline coefficients] through L (the grid's
    # design rows), so M is accumulated per employee and L applied to the cluster sums only.
    n_targets = 2 + 2 * n_grid
    L = np.zeros((n_targets, 2 + K))
    L[0, 0] = L[1, 1] = 1.0
    L[2:2 + n_grid, 2:] = PsiE
    L[2 + n_grid:, 2:] = dPsiE
    M = np.zeros((n_all, 2 + K))
    est = np.zeros(n_targets)
    groups = sorted({g for g, *_ in plan})
    n_g = {g: int((treated & (gp == g)).sum()) for g in groups}
    n_cells = {g: sum(1 for p in plan if p[0] == g) for g in groups}
    total = sum(n_g.values())
    by_cohort = {g: np.zeros(2 + K) for g in groups}  # cohort averages of [ATT^o, ACRT^o, beta]
    cell_rows = []
    for g, base, t, t_idx, c_idx in plan:
        w = n_g[g] / total / n_cells[g]
        Psi, dPsi = PsiU[t_idx], dPsiU[t_idx]
        n_t, n_c = len(t_idx), len(c_idx)
        gram = Psi.T @ Psi / n_t
        if np.linalg.matrix_rank(gram) < K:
            raise EstimationError(f"dose_response: the doses of cohort {label_of[g]} observed in "
                                  f"{panel.periods[t - 1]} take too few distinct values for a spline of "
                                  f"degree {degree} with {n_knots} knots; lower degree= or knots=.")
        bread = np.linalg.inv(gram)
        psi_bar, dpsi_bar = Psi.mean(axis=0), dPsi.mean(axis=0)
        dy_t = Y[t_idx, t - 1] - Y[t_idx, base - 1]
        dy_c = Y[c_idx, t - 1] - Y[c_idx, base - 1]
        mu0 = dy_c.mean()
        beta = np.linalg.lstsq(Psi, dy_t - mu0, rcond=None)[0]
        resid = dy_t - mu0 - Psi @ beta
        att_o = dy_t.mean() - mu0
        slopes = dPsi @ beta
        acrt_o = float(slopes.mean())
        est += w * np.concatenate([[att_o, acrt_o], PsiE @ beta, dPsiE @ beta])
        by_cohort[g] += np.concatenate([[att_o, acrt_o], beta]) / n_cells[g]
        # influence of beta: the spline's score for the trained, the comparison mean's for the others
        bt = (Psi * resid[:, None]) @ bread.T / n_t
        bc = -np.outer((dy_c - mu0) / n_c, bread @ psi_bar)
        M[t_idx, 0] += w * (dy_t - dy_t.mean()) / n_t
        M[c_idx, 0] -= w * (dy_c - mu0) / n_c
        if dose_variance:  # ACRT^o averages ACRT(d) over the cell's doses, themselves a sample
            M[t_idx, 1] += w * (slopes - acrt_o) / n_t
        for idx, b in ((t_idx, bt), (c_idx, bc)):
            M[idx, 1] += w * (b @ dpsi_bar)
            M[idx, 2:] += w * b
        cell_rows.append((label_of[g], panel.periods[t - 1], w, n_t, n_c, att_o, acrt_o))
    if share_variance and len(groups) > 1:  # the cohort weights n_g / total are sample shares too
        overall = sum(n_g[g] / total * by_cohort[g] for g in groups)
        for g in groups:
            M[treated & (gp == g)] += (by_cohort[g] - overall) / total

    kept = keep
    cl_codes, cl_uniq = pd.factorize(pd.Series(cluster[kept]))
    if len(cl_uniq) == int(kept.sum()):  # one employee per cluster: the sums are the rows
        Mc = M[kept]
    else:
        Mc = np.zeros((len(cl_uniq), 2 + K))
        np.add.at(Mc, cl_codes, M[kept])
    se = np.sqrt(np.maximum(np.einsum("ij,jk,ik->i", L, Mc.T @ Mc, L), 0.0))
    z = critical_value(level)
    boot_se = np.full(n_targets, np.nan)
    crit_att = crit_acrt = np.nan
    if n_draws is not None:
        rng = np.random.default_rng(seed)
        step = max(1, 20_000_000 // max(len(cl_uniq), 1))  # draws per block: ~160 MB of weights at most
        dev = np.vstack([rng.choice(np.array([-1.0, 1.0]), size=(min(step, n_draws - i), len(cl_uniq))) @ Mc
                         for i in range(0, n_draws, step)]) @ L.T
        boot_se = dev.std(axis=0, ddof=1)
        with np.errstate(divide="ignore", invalid="ignore"):
            tt = np.abs(dev) / np.where(se > 0, se, np.nan)
        crit_att = float(np.quantile(np.nanmax(tt[:, 2:2 + n_grid], axis=1), level))
        crit_acrt = float(np.quantile(np.nanmax(tt[:, 2 + n_grid:], axis=1), level))

    curves = []
    parts = (("ATT", slice(2, 2 + n_grid), crit_att), ("ACRT", slice(2 + n_grid, None), crit_acrt))
    for name, sl, crit in parts:
        e, s = est[sl], se[sl]
        curves.append(pd.DataFrame({"curve": name, "dose": grid, "estimate": e, "std_error": s,
                                    "boot_std_error": boot_se[sl], "conf_low": e - z * s,
                                    "conf_high": e + z * s,
                                    "band_low": e - crit * s, "band_high": e + crit * s}))
    curve_frame = pd.concat(curves, ignore_index=True)
    elements = pd.concat([
        pd.DataFrame({"term": ["ACRT^o"], "curve": ["ACRT^o"], "dose": [np.nan], "estimate": [est[1]],
                      "std_error": [se[1]], "crit": [z]}),
        pd.DataFrame({"term": [f"{c}(d={_fmt(d)})" for c, d in zip(curve_frame["curve"], curve_frame["dose"],
                                                                    strict=True)],
                      "curve": curve_frame["curve"], "dose": curve_frame["dose"],
                      "estimate": curve_frame["estimate"], "std_error": curve_frame["std_error"],
                      "crit": np.where(curve_frame["curve"] == "ATT", crit_att, crit_acrt)
                      if n_draws is not None else z}),
    ], ignore_index=True)
    notes = []
    if len(excluded):
        notes.append(f"{len(excluded)} employees left out (see .excluded).")
    gappy = int((kept & ~seen.all(axis=1)).sum())
    if gappy:
        notes.append(f"Unbalanced panel: {gappy} of the {int(kept.sum())} employees used miss some periods; "
                     "each comparison of a cohort's period with its base period uses the employees "
                     "observed in both.")
    for g, ts in skipped.items():
        notes.append(f"Cohort {label_of[g]}: {len(ts)} period(s) from {panel.periods[ts[0] - 1]} left out, "
                     f"with at most {K} trained employees (or no never-trained one) observed there and in "
                     f"the base period, too few for the spline's {K} terms; the cohort's weight is spread "
                     "over its other periods (lower degree= or knots= to keep them).")
    if n_draws is None:
        notes.append("No bootstrap draws (n_draws=None): the curves carry pointwise intervals only.")
    spec = {"estimator": "dose_response", "dose": dose, "degree": degree, "knots": n_knots,
            "anticipation": a, "n_draws": n_draws, "seed": seed, "band_level": level,
            "control": "never_treated", "freq": period_freq(panel),
            "first_period": panel.periods[0], "last_period": panel.periods[-1],
            "allow_unbalanced": allow_unbalanced, "unbalanced": bool(gappy), "dose_variance": dose_variance,
            "share_variance": share_variance}
    return DoseResponseResult(
        estimate=float(est[0]), std_error=float(se[0]), term="ATT^o", method="dose_response",
        label="Dose response (Callaway, Goodman-Bacon & Sant'Anna)", outcome=panel.outcome,
        n_obs=int(seen[kept].sum()), n_units=int(kept.sum()), elements=elements,
        excluded=excluded_frame(excluded), spec=spec, notes=tuple(notes),
        acrt=float(est[1]), acrt_std_error=float(se[1]), curves=curve_frame,
        cells=pd.DataFrame(cell_rows, columns=["cohort", "period", "weight", "n_treated", "n_control", "att",
                                               "acrt"]))
