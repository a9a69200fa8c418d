"""The data-generating process behind :func:`impactlab.datasets.simulate_org`: arrays indexed by employee
(rows) and month (columns) in a :class:`World`, from which :mod:`impactlab.datasets._tables` builds the
raw-looking tables. The model (selection into early waves, the transitory pre-training dip, growing wave
effects, seasonality, AR(1) noise) is written out in docs/explanation.md ("The simulated organisation").
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

REGIONS = ("North", "South", "East", "West", "Central")
REGION_EFFECT = np.array([300.0, -200.0, 0.0, 150.0, -250.0])
ROLES = ("Sales Development Rep", "Account Executive", "Senior Account Executive")
ROLE_SHARE = np.array([0.25, 0.55, 0.20])
ROLE_EFFECT = np.array([-1200.0, 0.0, 1500.0])

#: Month-of-year seasonal shifts as a share of the base level: quarter-end pushes, a summer dip and a
#: December peak (a stylised B2B sales calendar).
SEASON = np.array([-0.06, -0.03, 0.02, 0.00, 0.00, 0.03, -0.07, -0.08, 0.03, 0.01, 0.04, 0.12])

BASE_LEVEL = 10_000.0      # mean monthly revenue per employee
TREND = 25.0               # common trend per month
PERSON_SD = 1_500.0        # person part of alpha
TEAM_SD = 500.0            # team part of alpha
NOISE_SD = 1_500.0         # month-to-month noise
NOISE_RHO = 0.3            # its first-order autocorrelation
DIP_MEAN = 800.0           # mean Ashenfelter dip per dip month
FULL_EFFECT = 900.0        # mean effect once fully ramped up (times effect_scale)
RAMP_MONTHS = 6            # effect grows linearly to its full size over this many months
HIRE_SHARE = 0.18          # share of employees hired during the window
NOMINATED_SHARE = 0.95     # share of employees planned into a wave
POST_MONTHS_MIN = 3        # months kept after the last wave's latest completion
TEAM_SHOCK_SD = 400.0      # team x month shock, with training assigned by team (``teams=``)
TRAINED_TEAM_SHARE = 2 / 3  # share of teams booked into a wave, with training assigned by team

#: What happens to a planned enrolment: completed in the wave month, completed a month late, failed then
#: passed a retake, failed only, no show, withdrew, exempt (credited, not trained), session cancelled.
OUTCOMES = ("complete", "late", "retake", "fail_only", "no_show", "withdrawn", "exempt", "cancelled")
OUTCOME_P = np.array([0.72, 0.08, 0.05, 0.02, 0.05, 0.03, 0.04, 0.01])
REBOOK_P = 0.5             # no-shows and cancelled sessions rebooked into the next wave


@dataclass(frozen=True)
class World:
    """Arrays of one simulated organisation (internal)."""

    months: pd.PeriodIndex        # calendar month of each column
    waves: np.ndarray             # 0-based month of each wave
    # people
    team: np.ndarray              # team index
    region: np.ndarray            # region index
    role: np.ndarray              # role index
    hire_date: np.ndarray         # datetime64[D]
    term_date: np.ndarray         # datetime64[D], NaT if still employed at the end
    term_month: np.ndarray        # month of the termination date (n_periods = none in the window)
    first_month: np.ndarray       # first full month employed (n_periods = none in the window)
    last_month: np.ndarray        # last full month employed (-1 = none)
    alpha: np.ndarray             # level
    gain: np.ndarray              # person effect multiplier (mean 1)
    # programme
    plan_wave: np.ndarray         # wave index the employee was first booked in, -1 = never booked
    outcome: np.ndarray           # index into OUTCOMES (-1 = never booked)
    rebooked_wave: np.ndarray     # wave index of the rebooking after a no-show/cancellation, -1 = none
    plan_month: np.ndarray        # month of the planned first completion, -1 = none planned
    cohort: np.ndarray            # month of the actual first completion, -1 = never treated
    done_wave: np.ndarray         # wave of the actual completion, -1 = never treated
    # outcomes
    y0: np.ndarray                # (n, T) potential outcome without training
    effect: np.ndarray            # (n, T) Y(1) - Y(0) on the realised path (0 before g / never treated)
    effect_all: np.ndarray        # (n, T) the gain every cohort member would have had in each month
    employed: np.ndarray          # (n, T) bool, a full month of employment (= a KPI row)

    @property
    def y(self) -> np.ndarray:
        """Observed outcome."""
        return self.y0 + self.effect


def wave_months(n_periods: int, n_waves: int, dip_periods: int) -> np.ndarray:
    """0-based months of the waves: ``dip_periods + 2`` months or more in, ending before a post window.

    Returns an empty array when ``n_periods`` is too short for the layout.
    """
    first = max(dip_periods + 2, round(0.25 * n_periods))
    last = min(n_periods - 3 - POST_MONTHS_MIN, round(0.625 * n_periods))
    if last < first:
        return np.array([], dtype="int64")
    waves = np.round(np.linspace(first, last, n_waves)).astype("int64")
    if n_waves > 1 and np.any(np.diff(waves) <= 0):
        return np.array([], dtype="int64")
    return waves


def _month_bounds(months: pd.PeriodIndex) -> tuple[np.ndarray, np.ndarray]:
    starts = months.start_time.to_numpy().astype("datetime64[D]")
    ends = months.end_time.to_numpy().astype("datetime64[D]")
    return starts, ends


def team_waves(keen: np.ndarray, team: np.ndarray, n_teams: int, n_waves: int) -> np.ndarray:
    """Wave of each team when training is assigned by team (-1 = never booked): the keenest teams (mean
    eagerness of their members) go first, ``TRAINED_TEAM_SHARE`` of the teams (at least one per wave, at
    least one team never) are booked, spread evenly over the waves."""
    mean_keen = np.array([keen[team == k].mean() if np.any(team == k) else -np.inf for k in range(n_teams)])
    order = np.argsort(-mean_keen, kind="stable")
    n_trained = min(n_teams - 1, max(min(n_waves, n_teams - 1), round(TRAINED_TEAM_SHARE * n_teams)))
    waves = np.full(n_teams, -1, "int64")
    waves[order[:n_trained]] = np.arange(n_trained) * n_waves // max(n_trained, 1)
    return waves


def pilot_waves(keen: np.ndarray, team: np.ndarray, n_teams: int, pilot_teams: int) -> np.ndarray:
    """Wave of each team in a pilot (-1 = not booked): the ``pilot_teams`` teams whose members are keenest
    on average are booked into the one wave (0), the others never."""
    mean_keen = np.array([keen[team == k].mean() if np.any(team == k) else -np.inf for k in range(n_teams)])
    waves = np.full(n_teams, -1, "int64")
    waves[np.argsort(-mean_keen, kind="stable")[:pilot_teams]] = 0
    return waves


def _poor_month(alpha: np.ndarray, e_prev: np.ndarray, tau: np.ndarray, cohort: np.ndarray, month: int,
                active: np.ndarray, strength: float) -> np.ndarray:
    """Multipliers of the leaving hazard of the active employees after ``month``: ``exp(-strength * z)``
    with ``z`` their revenue that month (level, noise and the effect of training so far, without the
    seasonal and common parts everyone shares and without the pre-training dip) standardised over the
    active employees, divided by its mean, so that poor performers leave more and the overall rate of
    leaving stays the same."""
    trained = (cohort >= 0) & (cohort <= month)
    ramp = np.clip((month - cohort + 1) / RAMP_MONTHS, 0.0, 1.0)
    y = (alpha + e_prev + np.where(trained, tau * ramp, 0.0))[active]
    m = np.exp(-strength * (y - y.mean()) / max(float(y.std()), 1e-9))
    return m / m.mean()


def simulate_world(n: int, n_periods: int, rng: np.random.Generator, *, start: pd.Period, n_waves: int,
                   dip_periods: int, effect_scale: float, informative_attrition: bool, attrition: float,
                   selection: float, teams: int | None = None, attrition_on_outcome: float = 0.0,
                   pilot_teams: int | None = None) -> World:
    """Draw one organisation. See the module docstring for the model."""
    r_people, r_plan, r_path, r_y = rng.spawn(4)
    months = pd.period_range(start, periods=n_periods, freq="M")
    m_start, m_end = _month_bounds(months)
    waves = wave_months(n_periods, n_waves, dip_periods)
    if pilot_teams is not None:  # a pilot: one wave only, the layout's first
        waves = waves[:1]

    # -- people: hires before the window (ids by hire date) and during it
    n_new = int(round(HIRE_SHARE * n))
    n_old = n - n_new
    tenure_days = 30 + np.minimum(r_people.gamma(2.0, 700.0, n_old), 11_000.0).astype("int64")
    old_hire = m_start[0] - tenure_days.astype("timedelta64[D]")
    new_month = r_people.integers(1, n_periods, n_new)
    on_first = r_people.random(n_new) < 0.6
    new_day = np.where(on_first, 0, r_people.integers(1, 28, n_new))
    new_hire = m_start[new_month] + new_day.astype("timedelta64[D]")
    hire_date = np.concatenate([old_hire, new_hire])
    first_month = np.concatenate([np.zeros(n_old, "int64"), new_month + (new_day > 0)])
    order = np.argsort(hire_date, kind="stable")
    hire_date, first_month = hire_date[order], first_month[order]

    n_teams = max(len(REGIONS), int(round(n / 12))) if teams is None else teams
    team = r_people.integers(0, n_teams, n)
    region = team % len(REGIONS)
    role = r_people.choice(len(ROLES), size=n, p=ROLE_SHARE)
    team_effect = r_people.normal(0.0, TEAM_SD, n_teams)
    alpha = (REGION_EFFECT[region] + team_effect[team] + ROLE_EFFECT[role]
             + r_people.normal(0.0, PERSON_SD, n))
    gain = r_people.gamma(4.0, 0.25, n)          # mean 1, sd 0.5: heterogeneous gains, independent of alpha

    # -- the roll-out plan: keener (and, through selection, stronger) employees are booked earlier
    z = (alpha - alpha.mean()) / alpha.std()
    keen = selection * z + np.sqrt(1.0 - selection**2) * r_plan.standard_normal(n)
    rank = np.empty(n, "int64")
    rank[np.argsort(-keen, kind="stable")] = np.arange(n)
    n_booked = int(round(NOMINATED_SHARE * n))
    planned = np.where(rank < n_booked, rank * len(waves) // max(n_booked, 1), -1)
    if teams is not None:  # the whole team is booked into its team's wave
        planned = team_waves(keen, team, n_teams, len(waves))[team]
    if pilot_teams is not None:  # the pilot_teams keenest teams (mean eagerness) are booked, whole
        planned = pilot_waves(keen, team, n_teams, pilot_teams)[team]
    # new hires need dip_periods + 2 full months before their wave: move them to a later wave or drop them
    plan_wave = np.full(n, -1, "int64")
    for k in range(len(waves)):
        ok = (planned >= 0) & (planned <= k) & (plan_wave < 0) & (first_month <= waves[k] - dip_periods - 2)
        plan_wave[ok] = k
    outcome = np.where(plan_wave >= 0, r_plan.choice(len(OUTCOMES), size=n, p=OUTCOME_P), -1)
    name = np.array(OUTCOMES + ("",))[outcome]    # -1 maps to ""
    rebook = (np.isin(name, ("no_show", "cancelled")) & (plan_wave + 1 < len(waves))
              & (r_plan.random(n) < REBOOK_P))
    rebooked_wave = np.where(rebook, plan_wave + 1, -1)
    w = np.clip(plan_wave, 0, None)
    retake_lag = r_plan.integers(1, 3, n)
    plan_month = np.select(
        [np.isin(name, ("complete",)), name == "late", name == "retake", rebook],
        [waves[w], waves[w] + 1, waves[w] + retake_lag, waves[np.clip(rebooked_wave, 0, None)]], -1)
    plan_done_wave = np.where(rebook, rebooked_wave, np.where(plan_month >= 0, plan_wave, -1))

    # the noise of the outcomes, drawn here (same stream and order as before) so that leaving can react to it
    e = np.empty((n, n_periods))
    e[:, 0] = r_y.normal(0.0, NOISE_SD, n)
    shocks = r_y.normal(0.0, NOISE_SD * np.sqrt(1.0 - NOISE_RHO**2), (n, n_periods))
    for t in range(1, n_periods):
        e[:, t] = NOISE_RHO * e[:, t - 1] + shocks[:, t]
    wave_gain = np.linspace(1.15, 0.8, len(waves)) if len(waves) > 1 else np.ones(1)
    tau = effect_scale * FULL_EFFECT * gain * wave_gain[np.clip(plan_done_wave, 0, None)]

    # -- month by month: who leaves, who completes
    base_hazard = np.exp(-0.25 * z)
    base_hazard *= attrition / base_hazard.mean()
    u_leave = r_path.random((n, n_periods))
    term_month = np.full(n, n_periods, "int64")
    cohort = np.full(n, -1, "int64")
    for t in range(n_periods):
        active = (first_month <= t) & (term_month == n_periods)
        hazard = base_hazard.copy()
        if informative_attrition:
            post = (cohort >= 0) & (cohort < t)
            # after training, employees who gained little leave more often, those who gained a lot stay
            hazard[post] *= np.exp(3.0 * (1.0 - gain[post]))
        if attrition_on_outcome and t > 0 and active.sum() > 1:
            hazard[active] *= _poor_month(alpha, e[:, t - 1], tau, cohort, t - 1, active,
                                          attrition_on_outcome)
        leave = active & (u_leave[:, t] < np.minimum(hazard, 1.0))
        term_month[leave] = t
        cohort[active & ~leave & (plan_month == t)] = t
    done_wave = np.where(cohort >= 0, plan_done_wave, -1)

    left = term_month < n_periods
    days_in = (m_end - m_start).astype("int64") + 1
    tm = np.clip(term_month, 0, n_periods - 1)
    term_day = np.floor(r_path.random(n) * days_in[tm]).astype("int64")
    term_date = np.where(left, m_start[tm] + term_day.astype("timedelta64[D]"), np.datetime64("NaT"))
    full_last = term_day == days_in[tm] - 1
    last_month = np.where(left, term_month - (~full_last).astype("int64"), n_periods - 1)
    t_idx = np.arange(n_periods)
    employed = (t_idx[None, :] >= first_month[:, None]) & (t_idx[None, :] <= last_month[:, None])

    # -- potential outcomes
    common = BASE_LEVEL * SEASON[months.month.to_numpy() - 1] + TREND * t_idx
    dip_size = DIP_MEAN * r_y.uniform(0.5, 1.5, n)
    treated = cohort >= 0
    rel = t_idx[None, :] - np.where(treated, cohort, n_periods + dip_periods + 1)[:, None]
    in_dip = treated[:, None] & (rel >= -dip_periods) & (rel < 0)
    shared: np.ndarray | float = 0.0
    if teams is not None or pilot_teams is not None:  # employees of a team share monthly ups and downs
        shared = r_y.normal(0.0, TEAM_SHOCK_SD, (n_teams, n_periods))[team]
    y0 = np.round(BASE_LEVEL + alpha[:, None] + common[None, :] + e + shared - dip_size[:, None] * in_dip, 2)

    tau = np.where(treated, tau, 0.0)
    ramp = np.clip((rel + 1) / RAMP_MONTHS, 0.0, 1.0)
    effect_all = np.where(treated[:, None] & (rel >= 0), np.round(tau[:, None] * ramp, 2), 0.0)
    effect = np.where(employed, effect_all, 0.0)

    return World(months=months, waves=waves, team=team, region=region, role=role, hire_date=hire_date,
                 term_date=term_date, term_month=term_month, first_month=first_month, last_month=last_month,
                 alpha=alpha, gain=gain,
                 plan_wave=plan_wave, outcome=outcome, rebooked_wave=rebooked_wave, plan_month=plan_month,
                 cohort=cohort, done_wave=done_wave, y0=y0, effect=effect, effect_all=effect_all,
                 employed=employed)
