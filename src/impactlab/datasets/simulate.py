""":func:`simulate_org`: a synthetic organisation with a training programme and a known true effect."""

from __future__ import annotations

import math
import re
from collections.abc import Mapping
from numbers import Integral, Real
from types import MappingProxyType
from typing import Any

import numpy as np
import pandas as pd

from impactlab.datasets import _programs, _tables
from impactlab.datasets._dgp import REGIONS, simulate_world, wave_months
from impactlab.datasets.org import Org
from impactlab.datasets.truth import Truth, att_cells

_RESERVED = ("employee_id", "month", "deals")


def _int(name: str, value: Any, minimum: int) -> int:
    if isinstance(value, bool) or not isinstance(value, Integral):
        raise TypeError(f"The {name!r} parameter must be an integer. Got {value!r} of type "
                        f"{type(value).__name__} instead.")
    if value < minimum:
        raise ValueError(f"The {name!r} parameter must be an integer >= {minimum}. Got {value!r} instead.")
    return int(value)


def _real(name: str, value: Any, low: float, high: float, *, closed_high: bool = True) -> float:
    if isinstance(value, bool) or not isinstance(value, Real) or not math.isfinite(float(value)):
        raise TypeError(f"The {name!r} parameter must be a finite number. Got {value!r} instead.")
    value = float(value)
    if not (low <= value and (value <= high if closed_high else value < high)):
        bracket = "]" if closed_high else ")"
        raise ValueError(f"The {name!r} parameter must be in [{low}, {high}{bracket}. Got {value!r} instead.")
    return value


def simulate_org(n_employees: int = 2000, n_periods: int = 24, seed: int = 0, *, start: str = "2024-01",
                 program: str = "Consultative Selling", outcome: str = "revenue", effect_scale: float = 1.0,
                 informative_attrition: bool = False, n_waves: int = 4, dip_periods: int = 2,
                 attrition: float = 0.015, selection: float = 0.6, teams: int | None = None,
                 attrition_on_outcome: float = 0.0, pilot_teams: int | None = None,
                 programs: Mapping[str, float] | None = None) -> Org:
    """Simulate a sales organisation that rolls out a training programme, with a known true effect.

    The tables look like real extracts (an HR roster, a Cornerstone-style LMS transcript, pre/post tests,
    a reaction survey, manager observations, monthly KPIs and Phillips programme costs) and read with the
    default arguments of impactlab's readers. The data contain the traps real data has:

    * **selection**: stronger performers (higher level ``alpha``) are booked into earlier waves and the
      never-trained are weaker on average, so a trained-vs-untrained comparison overstates the effect
      (by many standard errors at the default sizes);
    * an **Ashenfelter dip**: ``Y(0)`` of the trained drops in the ``dip_periods`` months before their
      first completion and is back on trend from the completion month, so before/after comparisons are
      inflated; Callaway-Sant'Anna with ``anticipation=dip_periods`` is unbiased;
    * **staggered waves** with effects that ramp up over six months and differ by wave (earlier waves
      gain more), plus heterogeneous gains across employees, which bias two-way fixed effects;
    * **seasonality** (a December peak, a summer dip) and a mild common trend, shared by everyone:
      parallel trends hold in ``Y(0)`` outside the dip;
    * **attrition and hires** (an unbalanced panel); by default attrition is unrelated to the gain;
    * **transcript noise**: retakes (Failed, then Completed), no-shows, withdrawals, cancelled sessions,
      rebookings, exempt employees (credited, *not* trained: never treated), registrations for a later
      session, rows of other programmes, and a sizeable never-trained group (about a third or more).

    An employee's cohort is the month of the first ``Completed`` row of ``program``.

    Parameters
    ----------
    n_employees : int, default 2000
        Employees on the roster over the window (about a fifth hired during it).
    n_periods : int, default 24
        Months in the window.
    seed : int, default 0
        Seed of :func:`numpy.random.default_rng`; the same seed gives identical tables.
    start : str, default "2024-01"
        First month, ``"YYYY-MM"``.
    program : str, default "Consultative Selling"
        Title of the programme in the transcript.
    outcome : str, default "revenue"
        Name of the KPI column holding the outcome (monthly revenue, about 10,000 per employee).
    effect_scale : float, default 1.0
        Multiplies every effect; 0 gives a programme with no effect at all.
    informative_attrition : bool, default False
        When true, trained employees who gained little leave more often after training, so the employed
        (what estimators see) gain more than everyone trained: ``truth.overall`` (the employed) then exceeds
        ``truth.overall_all`` (everyone trained), which is the bias attrition causes.
    n_waves : int, default 4
        Waves of the roll-out, spread between a quarter and five-eighths of the window.
    dip_periods : int, default 2
        Months of the Ashenfelter dip before the first completion (0 for none).
    attrition : float, default 0.015
        Mean monthly probability of leaving (weaker performers leave somewhat more often).
    selection : float, default 0.6
        Correlation between an employee's standardised level and eagerness to enrol (0 = random roll-out).
    teams : int, optional
        Assign training by team: the organisation has ``teams`` teams, about two thirds of them (the
        keenest on average; at least one per wave, at least one never) are booked whole into a wave, and
        employees of a team share a monthly shock (standard deviation 400) on top of their own noise, so
        that outcomes are correlated within teams. ``None`` (default): about one team per 12 employees,
        employees booked one by one, no team shocks. The truth stays exact either way.
    attrition_on_outcome : float, default 0.0
        How strongly a poor month makes an employee leave: after each month the hazard of leaving is
        multiplied by ``exp(-attrition_on_outcome * z)`` (normalised so that the overall rate of leaving
        is unchanged), ``z`` the employee's revenue that month standardised over those employed (their
        level, their own ups and downs and the effect of training so far; the months before training
        that the dip lowers count without the dip). Low performers, trained or not, then leave more:
        attrition that depends on the outcome, not only on the level. 0 (default): leaving does not
        depend on the month's revenue. The truth is still exact: ``truth.overall`` averages the effect
        over the employees employed in each month, the ones an estimator sees.
    pilot_teams : int, optional
        A pilot: only ``pilot_teams`` teams are trained, whole, in one wave (the month the first wave of
        the layout would take, a quarter into the window); the other teams never are. The pilot teams
        are the keenest on average (so, through ``selection``, stronger than the rest), employees of a
        team share a monthly shock as with ``teams=``, and the organisation has ``teams`` teams (by
        default about one per 12 employees). ``n_waves`` then only checks that the window is long
        enough. ``None`` (default): no pilot. ``truth.overall`` is the effect per trained employee; a
        team-level comparison (``synthetic_did(panel, unit="team")``) estimates the effect on the pilot
        teams' average, which also counts their untrained members.
    programs : mapping of str to float, optional
        Further programmes the organisation runs besides ``program``, title -> effect scale (multiplying
        the full effect of 900 a month; 0 = a programme with no effect), e.g.
        ``{"Negotiation Skills": 0.5, "Time Management": 0.0}``. Each has its own roll-out in the same
        window (its waves a month later per position, 60 % of employees booked, the keenest first with an
        eagerness that shares the level with the main programme's, so stronger performers take several
        programmes and many employees take two or more), its own gains, its own dip and its rows in the
        transcript and the cost table (8 hours per seat). Effects add up: an employee's revenue is the
        revenue without training plus the effect of each programme completed so far.
        ``org.truths[title]`` is each programme's own truth (see :class:`Truth`,
        ``overall_observations``). Assessments, surveys and observations stay about ``program``.
        ``None`` (default): one programme.

    Returns
    -------
    Org
        Frozen; ``org.truth`` holds the true effects and ``org.to_csv(directory)`` writes the files.

    Raises
    ------
    TypeError, ValueError
        An argument of the wrong type or out of range, or a window too short for the roll-out.

    Notes
    -----
    The model is documented in :mod:`impactlab.datasets._dgp`. ``Y(1) - Y(0)`` is rounded to cents before
    it is added, so the observed revenue minus the simulated ``Y(0)`` equals the effect exactly.
    The truth is defined on the employees employed in each month, as in Callaway & Sant'Anna (2021),
    see :class:`Truth`.

    Examples
    --------
    >>> import impactlab as il
    >>> org = il.datasets.simulate_org(n_employees=300, n_periods=18, seed=3)
    >>> org.program, org.outcome
    ('Consultative Selling', 'revenue')
    >>> bool(org.truth.overall > 0)
    True
    """
    n = _int("n_employees", n_employees, 20)
    n_periods = _int("n_periods", n_periods, 2)
    seed = _int("seed", seed, 0)
    n_waves = _int("n_waves", n_waves, 1)
    dip_periods = _int("dip_periods", dip_periods, 0)
    effect_scale = _real("effect_scale", effect_scale, -1e6, 1e6)
    attrition = _real("attrition", attrition, 0.0, 1.0, closed_high=False)
    selection = _real("selection", selection, -1.0, 1.0)
    if teams is not None:
        teams = _int("teams", teams, 2)
    attrition_on_outcome = _real("attrition_on_outcome", attrition_on_outcome, 0.0, 10.0)
    if pilot_teams is not None:
        pilot_teams = _int("pilot_teams", pilot_teams, 1)
        n_teams = teams if teams is not None else max(len(REGIONS), int(round(n / 12)))
        if pilot_teams >= n_teams:
            raise ValueError(f"The 'pilot_teams' parameter must be smaller than the number of teams "
                             f"({n_teams}): a pilot leaves some teams untrained. Got {pilot_teams!r} "
                             "instead.")
    further = _further(programs, program)
    if not isinstance(informative_attrition, (bool, np.bool_)):
        raise TypeError(f"The 'informative_attrition' parameter must be True or False. "
                        f"Got {informative_attrition!r} instead.")
    for name, value in (("program", program), ("outcome", outcome), ("start", start)):
        if not isinstance(value, str) or not value.strip():
            raise TypeError(f"The {name!r} parameter must be a non-empty string. Got {value!r} instead.")
    if outcome in _RESERVED:
        raise ValueError(f"The 'outcome' parameter names the KPI column and may not be one of {_RESERVED}. "
                         f"Got {outcome!r} instead.")
    # strict: pandas would read "January" as January of the current year
    if not re.fullmatch(r"\d{4}-(0[1-9]|1[0-2])", start.strip()):
        raise ValueError(f"The 'start' parameter must be a month like '2024-01'. Got {start!r} instead.")
    first = pd.Period(start.strip(), freq="M")
    if len(wave_months(n_periods, n_waves, dip_periods)) != n_waves:
        need = next(t for t in range(n_periods + 1, 10_000)
                    if len(wave_months(t, n_waves, dip_periods)) == n_waves)
        raise ValueError(
            f"n_periods={n_periods} is too short for n_waves={n_waves} and dip_periods={dip_periods}: the "
            "roll-out needs dip_periods + 2 months before the first wave, each wave in its own month and at "
            f"least 5 months after the last wave. Use n_periods >= {need} or fewer waves."
        )

    params = {"n_employees": n, "n_periods": n_periods, "seed": seed, "start": str(first),
              "program": program, "outcome": outcome, "effect_scale": effect_scale,
              "informative_attrition": bool(informative_attrition), "n_waves": n_waves,
              "dip_periods": dip_periods, "attrition": attrition, "selection": selection}
    if teams is not None:  # recorded only when used: the shipped sample's truth.json stays as it was
        params["teams"] = teams
    if attrition_on_outcome:
        params["attrition_on_outcome"] = attrition_on_outcome
    if pilot_teams is not None:
        params["pilot_teams"] = pilot_teams
    if further:
        params["programs"] = dict(further)
    r_world, r_lms, r_levels, r_kpi, r_cost = np.random.default_rng(seed).spawn(5)
    world = simulate_world(n, n_periods, r_world, start=first, n_waves=n_waves, dip_periods=dip_periods,
                           effect_scale=effect_scale, informative_attrition=bool(informative_attrition),
                           attrition=attrition, selection=selection, teams=teams,
                           attrition_on_outcome=attrition_on_outcome, pilot_teams=pilot_teams)
    ids = _tables.employee_ids(n)
    r_assess, r_survey, r_obs = r_levels.spawn(3)
    completions, first_done = _tables.completions(world, ids, program, r_lms)
    cells = att_cells(world.effect, world.effect_all, world.employed, world.cohort, world.months)
    truth = Truth.from_cells(cells, dip_periods=dip_periods,
                             informative_attrition=bool(informative_attrition), program=program,
                             outcome=outcome)
    costs = _tables.costs(completions, program, r_cost)
    truths = {program: truth}
    if further:  # a stream of their own: the main programme's tables stay as they are
        world, completions, costs, more = _programs.add_programs(
            world, ids, further, np.random.default_rng(seed).spawn(6)[5], completions=completions,
            costs=costs, outcome=outcome, selection=selection, dip_periods=dip_periods)
        truths.update(more)
    return Org(
        roster=_tables.roster(world, ids),
        completions=completions,
        assessments=_tables.assessments(world, ids, program, first_done, r_assess),
        surveys=_tables.surveys(world, ids, program, first_done, r_survey),
        observations=_tables.observations(world, ids, program, first_done, r_obs),
        kpis=_tables.kpis(world, ids, outcome, r_kpi),
        costs=costs,
        program=program,
        outcome=outcome,
        spec=MappingProxyType(params),
        truth=truth,
        potential_outcomes=_potential(world, ids),
        truths=MappingProxyType(truths),
    )


def _further(programs: Any, program: str) -> dict[str, float]:
    """The further programmes, checked: distinct titles, none the main one's or a background course's."""
    if programs is None:
        return {}
    if not isinstance(programs, Mapping) or not programs:
        raise TypeError("The 'programs' parameter must be a non-empty mapping of programme title -> effect "
                        f"scale, e.g. {{'Negotiation Skills': 0.5}}. Got {programs!r} instead.")
    taken = {program.strip().casefold(): program}
    taken.update({t.casefold(): t for t in _tables.OTHER_PROGRAMS})
    out: dict[str, float] = {}
    for title, scale in programs.items():
        if not isinstance(title, str) or not title.strip():
            raise TypeError(f"The 'programs' parameter must have non-empty titles. Got {title!r} instead.")
        key = title.strip().casefold()
        if key in taken:
            raise ValueError(f"The 'programs' parameter names {title!r}, which is already {taken[key]!r} "
                             "(the main programme, another entry, or a background course of the transcript). "
                             "Give each programme a title of its own.")
        taken[key] = title
        out[title.strip()] = _real(f"programs[{title!r}]", scale, -1e6, 1e6)
    return out


def _potential(world: Any, ids: np.ndarray) -> pd.DataFrame:
    n, n_periods = world.y0.shape
    cohort = pd.PeriodIndex([world.months[g] if g >= 0 else pd.NaT for g in world.cohort], freq="M")
    return pd.DataFrame({
        "employee_id": np.repeat(ids, n_periods),
        "month": pd.PeriodIndex(np.tile(world.months, n), freq="M"),
        "y0": world.y0.ravel(),
        "y1": (world.y0 + world.effect_all).ravel(),
        "employed": world.employed.ravel(),
        "cohort": np.repeat(cohort, n_periods),
    })
