"""Several programmes in one simulated organisation (``simulate_org(programs=...)``).

The organisation of :func:`impactlab.datasets._dgp.simulate_world` runs its main programme as before; each
further programme gets its own roll-out in the same window, drawn from a stream of its own so that the main
programme's tables do not depend on how many others there are:

* **booking**: ``BOOKED_SHARE`` of the employees are booked, the keenest first, with an eagerness
  ``selection * z + sqrt(1 - selection**2) * noise`` that shares the standardised level ``z`` with the main
  programme's (so stronger performers take every programme earlier, and many employees take several) and
  has noise of its own (so the orders differ between programmes);
* **waves**: the main programme's wave months shifted by the programme's position (1, 2, ... months later,
  capped at the last month the layout allows), so roll-outs overlap and an employee's programmes are often
  a few months apart;
* **completion**: in the wave month (``P_ON_TIME``), a month late (``P_LATE``) or never (a no-show); a
  completion needs the employee to be employed in that month and hired ``dip_periods + 2`` months before
  the wave, as for the main programme;
* **effects**: the main programme's shape (a linear ramp to the full size over ``RAMP_MONTHS`` months,
  earlier waves gaining more), its full size ``scale * FULL_EFFECT`` times a gain of the employee's own
  for that programme (mean 1, independent of everything else), and an Ashenfelter dip of
  ``dip_periods`` months before the completion in the outcome without training;
* **additivity**: an employee's revenue is the revenue without any programme plus the effect of each
  programme completed so far. The truth of a programme (a :class:`~impactlab.datasets.truth.Truth`) is
  built from that programme's own effect, on the employees who completed it, in the months they were
  employed from its completion on.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping

import numpy as np
import pandas as pd

from impactlab.datasets import _tables
from impactlab.datasets._dgp import DIP_MEAN, FULL_EFFECT, POST_MONTHS_MIN, RAMP_MONTHS, World
from impactlab.datasets.truth import Truth, att_cells

BOOKED_SHARE = 0.6   # share of employees booked into each further programme
P_ON_TIME = 0.8      # completed in the wave month
P_LATE = 0.1         # completed a month late (the rest do not show up)
HOURS = 8.0          # hours of a further programme


@dataclasses.dataclass(frozen=True)
class Further:
    """One further programme's realised roll-out (internal)."""

    title: str
    cohort: np.ndarray        # month of completion, -1 = never
    wave: np.ndarray          # wave month the employee was booked into, -1 = not booked
    effect: np.ndarray        # (n, T) the programme's own effect while employed
    effect_all: np.ndarray    # (n, T) the same for every month from completion on
    dip: np.ndarray           # (n, T) the dip it puts into the outcome without training (>= 0)


def _roll_out(world: World, title: str, position: int, scale: float, rng: np.random.Generator, *,
              selection: float, dip_periods: int) -> Further:
    n, n_periods = world.y0.shape
    last_ok = n_periods - 3 - POST_MONTHS_MIN
    waves = np.unique(np.minimum(world.waves + position, max(last_ok, int(world.waves[-1]))))
    z = (world.alpha - world.alpha.mean()) / world.alpha.std()
    keen = selection * z + np.sqrt(1.0 - selection**2) * rng.standard_normal(n)
    gain = rng.gamma(4.0, 0.25, n)
    late = rng.random(n)
    dip_size = DIP_MEAN * rng.uniform(0.5, 1.5, n)
    rank = np.empty(n, "int64")
    rank[np.argsort(-keen, kind="stable")] = np.arange(n)
    n_booked = int(round(BOOKED_SHARE * n))
    planned = np.where(rank < n_booked, rank * len(waves) // max(n_booked, 1), -1)
    # hires need dip_periods + 2 full months before their wave: a later wave, or none
    plan_wave = np.full(n, -1, "int64")
    for k in range(len(waves)):
        ok = ((planned >= 0) & (planned <= k) & (plan_wave < 0)
              & (world.first_month <= waves[k] - dip_periods - 2))
        plan_wave[ok] = k
    booked = plan_wave >= 0
    wave = np.where(booked, waves[np.clip(plan_wave, 0, None)], -1)
    month = np.where(late < P_ON_TIME, wave, np.where(late < P_ON_TIME + P_LATE, wave + 1, -1))
    done = booked & (month >= 0) & (month < n_periods) & (world.term_month > month)
    cohort = np.where(done, month, -1)

    wave_gain = np.linspace(1.15, 0.8, len(waves)) if len(waves) > 1 else np.ones(1)
    tau = np.where(done, scale * FULL_EFFECT * gain * wave_gain[np.clip(plan_wave, 0, None)], 0.0)
    t_idx = np.arange(n_periods)
    rel = t_idx[None, :] - np.where(done, cohort, n_periods + dip_periods + 1)[:, None]
    ramp = np.clip((rel + 1) / RAMP_MONTHS, 0.0, 1.0)
    effect_all = np.where(done[:, None] & (rel >= 0), np.round(tau[:, None] * ramp, 2), 0.0)
    in_dip = done[:, None] & (rel >= -dip_periods) & (rel < 0)
    return Further(title=title, cohort=cohort, wave=wave, effect=np.where(world.employed, effect_all, 0.0),
                   effect_all=effect_all, dip=np.asarray(dip_size)[:, None] * in_dip)


def _transcript(world: World, ids: np.ndarray, f: Further, rng: np.random.Generator) -> pd.DataFrame:
    """Transcript rows of a further programme: Completed, No Show, or In Progress (left before finishing)."""
    n = len(ids)
    n_periods = world.y0.shape[1]
    months_start = world.months.start_time.to_numpy().astype("datetime64[s]")
    w = np.clip(f.wave, 0, n_periods - 1)
    assigned = (months_start[w] - rng.integers(10, 46, n) * np.timedelta64(86_400, "s")
                + rng.integers(7 * 3600, 19 * 3600, n) * np.timedelta64(1, "s"))
    done_at = _tables._in_month(rng, world, np.clip(f.cohort, 0, None))
    score = np.round(rng.uniform(70, 100, n))
    hire = world.hire_date.astype("datetime64[s]")
    # booked and still there at the wave; an assignment before the hire date is moved to the hire date
    rows = np.flatnonzero((f.wave >= 0) & (world.term_month >= f.wave))
    done = f.cohort[rows] >= 0
    status = np.where(done, "Completed", np.where(world.term_month[rows] > f.wave[rows] + 1, "No Show",
                                                  "In Progress"))
    frame = pd.DataFrame({
        "User ID": ids[rows],
        "Training Title": f.title,
        "Transcript Status": status,
        "Transcript Assigned Date": np.maximum(assigned[rows], hire[rows] + np.timedelta64(9 * 3600, "s")),
        "Transcript Completed Date": np.where(done, done_at[rows], _tables.NAT),
        "Training Hours": HOURS,
        "Score": np.where(done, score[rows], np.nan),
    })
    return frame


def add_programs(world: World, ids: np.ndarray, programs: Mapping[str, float], rng: np.random.Generator, *,
                 completions: pd.DataFrame, costs: pd.DataFrame, outcome: str, selection: float,
                 dip_periods: int) -> tuple[World, pd.DataFrame, pd.DataFrame, dict[str, Truth]]:
    """The world with every programme's effect and dip in its outcomes, the transcript and the cost table
    with the further programmes' rows, and each further programme's truth."""
    streams = rng.spawn(len(programs))
    effect = world.effect.copy()
    dips = np.zeros_like(world.y0)
    parts = [completions]
    cost_streams: list[tuple[str, np.random.Generator]] = []
    truths: dict[str, Truth] = {}
    for position, ((title, scale), stream) in enumerate(zip(programs.items(), streams, strict=True), start=1):
        r_roll, r_lms, r_cost = stream.spawn(3)
        f = _roll_out(world, title, position, float(scale), r_roll, selection=selection,
                      dip_periods=dip_periods)
        effect += f.effect
        dips += f.dip
        rows = _transcript(world, ids, f, r_lms)
        for col in ("Transcript Assigned Date", "Transcript Completed Date"):
            stamps = rows[col].to_numpy(dtype="datetime64[s]")
            rows[col] = _tables._fmt(stamps, "%Y-%m-%d %H:%M:%S").to_numpy()
        parts.append(rows)
        cells = att_cells(f.effect, f.effect_all, world.employed, f.cohort, world.months)
        truths[title] = Truth.from_cells(cells, dip_periods=dip_periods, informative_attrition=False,
                                         program=title, outcome=outcome)
        cost_streams.append((title, r_cost))
    transcript = pd.concat(parts, ignore_index=True)
    transcript = transcript.sort_values(["User ID", "Transcript Assigned Date"], kind="mergesort")
    transcript = transcript.reset_index(drop=True)
    transcript["Training Hours"] = transcript["Training Hours"].astype("float64")
    transcript["Score"] = pd.to_numeric(transcript["Score"]).round().astype("Int64")
    table = [costs] + [_tables.costs(transcript, title, r) for title, r in cost_streams]
    y0 = np.round(world.y0 - dips, 2)
    return (dataclasses.replace(world, y0=y0, effect=effect), transcript,
            pd.concat(table, ignore_index=True), truths)
