"""Raw-looking extracts built from a simulated :class:`~impactlab.datasets._dgp.World`.

Layouts (the contract with the readers in :mod:`impactlab.io`):

* roster: ``Employee ID, Team, Region, Role, Manager ID, Hire Date, Termination Date`` (dates
  ``YYYY-MM-DD``, termination empty while employed);
* completions (Cornerstone-style transcript): ``User ID, Training Title, Transcript Status,
  Transcript Assigned Date, Transcript Completed Date, Training Hours, Score`` (local
  ``YYYY-MM-DD HH:MM:SS`` strings; completed date empty unless Completed or Failed);
* assessments ``employee_id, program, kind, score, max_score, taken_at``; surveys ``employee_id, program,
  item, response, scale_min, scale_max, answered_at``; observations ``employee_id, program, behavior,
  rating, observed_at, observer`` (ISO ``YYYY-MM-DDTHH:MM:SS``);
* kpis ``employee_id, month (YYYY-MM), <outcome>, deals``; costs ``program, category, amount, currency``.

Completion times are drawn between 08:00 and 18:00 and never on the first or last day of a month, so the
month of a completion does not depend on the time zone a reader assumes.
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd

from impactlab.datasets._dgp import OUTCOMES, REGIONS, ROLES, World

OTHER_PROGRAMS = ("Compliance Essentials 2024", "Negotiation Masterclass")
PROGRAM_HOURS = 16.0
SEAT_PER_SESSION = 20
BEHAVIORS = ("Asks discovery questions", "Handles objections with evidence", "Proposes a tailored solution")
NAT = np.datetime64("NaT", "s")


def employee_ids(n: int) -> np.ndarray:
    """``E00001``-style ids (wider when ``n`` needs more digits)."""
    width = max(5, len(str(n)))
    return np.array([f"E{i:0{width}d}" for i in range(1, n + 1)], dtype=object)


def _fmt(ts: np.ndarray, fmt: str) -> pd.Series:
    """Format datetime64 values; NaT becomes missing."""
    return pd.Series(pd.to_datetime(ts)).dt.strftime(fmt)


def _in_month(rng: np.random.Generator, world: World, month: np.ndarray) -> np.ndarray:
    """A working-hours time on a day strictly inside each given month (datetime64[s])."""
    start = world.months.start_time.to_numpy().astype("datetime64[D]")
    days = world.months.days_in_month.to_numpy()
    m = np.asarray(month, dtype="int64")
    day = 1 + np.floor(rng.random(m.shape) * (days[m] - 2)).astype("int64")
    secs = rng.integers(8 * 3600, 18 * 3600, m.shape)
    return (start[m] + day.astype("timedelta64[D]")).astype("datetime64[s]") + secs.astype("timedelta64[s]")


def _days(x: np.ndarray) -> np.ndarray:
    return (np.asarray(x) * 86_400).astype("int64").astype("timedelta64[s]")


def roster(world: World, ids: np.ndarray) -> pd.DataFrame:
    """The HR roster: one row per employee seen in the window."""
    team_no = world.team // len(REGIONS) + 1
    regions = np.array(REGIONS, dtype=object)[world.region]
    team_name = [f"{r} {k:02d}" for r, k in zip(regions, team_no, strict=True)]
    return pd.DataFrame({
        "Employee ID": ids,
        "Team": team_name,
        "Region": regions,
        "Role": np.array(ROLES, dtype=object)[world.role],
        "Manager ID": [f"M{k + 1:04d}" for k in world.team],
        "Hire Date": _fmt(world.hire_date.astype("datetime64[s]"), "%Y-%m-%d").to_numpy(),
        "Termination Date": _fmt(world.term_date.astype("datetime64[s]"), "%Y-%m-%d").to_numpy(),
    })


def completions(world: World, ids: np.ndarray, program: str,
                rng: np.random.Generator) -> tuple[pd.DataFrame, np.ndarray]:
    """The LMS transcript, and the timestamp of each employee's first completion (NaT if none)."""
    n, n_periods = world.y0.shape
    months_start = world.months.start_time.to_numpy().astype("datetime64[s]")
    waves = world.waves
    # end of the last working day; far future for those still employed
    term = np.where(np.isnat(world.term_date), np.datetime64("9999-12-31T00:00:00", "s"),
                    world.term_date.astype("datetime64[s]") + np.timedelta64(18 * 3600, "s"))
    w1 = waves[np.clip(world.plan_wave, 0, None)]
    w2 = waves[np.clip(world.rebooked_wave, 0, None)]
    # every draw is made for everyone, so the stream does not depend on who ends up where
    assigned1 = (months_start[w1] - rng.integers(10, 46, n) * np.timedelta64(86_400, "s")
                 + rng.integers(7 * 3600, 19 * 3600, n) * np.timedelta64(1, "s"))
    session1 = _in_month(rng, world, w1)
    done_at = _in_month(rng, world, np.clip(world.plan_month, 0, None))
    # a retake or rebooking is assigned between the first session and the start of its own month
    gap_retake = months_start[np.clip(world.plan_month, 0, None)] - session1
    reassign = session1 + (gap_retake * rng.uniform(0.1, 0.6, n)).astype("timedelta64[s]")
    gap_rebook = months_start[w2] - session1
    rebook_at = session1 + (gap_rebook * rng.uniform(0.1, 0.6, n)).astype("timedelta64[s]")
    score_pass = np.round(rng.uniform(70, 100, n))
    score_fail = np.round(rng.uniform(40, 69, n))

    rows: list[tuple] = []
    first_done = np.full(n, NAT)

    def add(i: int, status: str, assigned: np.datetime64, completed: np.datetime64 = NAT,
            score: float = np.nan) -> None:
        rows.append((ids[i], program, status, assigned, completed, PROGRAM_HOURS, score))

    def pending(i: int, month: int) -> str:
        # an enrolment that did not end: left before the session month, or during the course
        return "Registered" if world.term_month[i] < month else "In Progress"

    for i in np.flatnonzero(world.plan_wave >= 0).tolist():
        name = OUTCOMES[world.outcome[i]]
        w = int(w1[i])
        if term[i] < assigned1[i]:
            continue                                    # left before being booked
        done = world.cohort[i] >= 0
        if name in ("complete", "late"):
            if done:
                add(i, "Completed", assigned1[i], done_at[i], score_pass[i])
            else:
                add(i, pending(i, w), assigned1[i])
        elif name in ("retake", "fail_only"):
            if world.term_month[i] <= w:
                add(i, pending(i, w), assigned1[i])
                continue
            add(i, "Failed", assigned1[i], session1[i], score_fail[i])
            if name == "retake" and term[i] > reassign[i]:
                if done:
                    add(i, "Completed", reassign[i], done_at[i], score_pass[i])
                else:
                    add(i, "In Progress", reassign[i])
        elif name in ("no_show", "cancelled"):
            add(i, ("No Show" if name == "no_show" else "Cancelled") if world.term_month[i] >= w
                else "Registered", assigned1[i])
            if world.rebooked_wave[i] >= 0 and term[i] > rebook_at[i]:
                if done:
                    add(i, "Completed", rebook_at[i], done_at[i], score_pass[i])
                else:
                    add(i, pending(i, int(w2[i])), rebook_at[i])
        elif name == "withdrawn":
            add(i, "Withdrawn" if world.term_month[i] >= w else "Registered", assigned1[i])
        else:                                            # exempt: credited, not trained
            add(i, "Exempt", assigned1[i])
        if done:
            first_done[i] = done_at[i]

    # booked for a session after the extract date: registered, not trained
    still = (world.plan_wave < 0) & (world.term_month >= n_periods) & (world.first_month < n_periods)
    future = still & (rng.random(n) < 0.04)
    reg_at = _in_month(rng, world, np.full(n, n_periods - 1))
    rows += [(ids[i], program, "Registered", reg_at[i], NAT, PROGRAM_HOURS, np.nan)
             for i in np.flatnonzero(future)]
    rows += _other_programs(world, ids, rng)

    frame = pd.DataFrame(rows, columns=["User ID", "Training Title", "Transcript Status",
                                        "Transcript Assigned Date", "Transcript Completed Date",
                                        "Training Hours", "Score"])
    frame = frame.sort_values(["User ID", "Transcript Assigned Date"], kind="mergesort")
    frame = frame.reset_index(drop=True)
    for col in ("Transcript Assigned Date", "Transcript Completed Date"):
        frame[col] = _fmt(frame[col].to_numpy(dtype="datetime64[s]"), "%Y-%m-%d %H:%M:%S").to_numpy()
    frame["Training Hours"] = frame["Training Hours"].astype("float64")
    frame["Score"] = frame["Score"].round().astype("Int64")     # whole points, empty when not scored
    return frame, first_done


def _other_programs(world: World, ids: np.ndarray, rng: np.random.Generator) -> list[tuple]:
    """A few rows of other programmes (they must not be mistaken for the one analysed)."""
    n, n_periods = world.y0.shape
    span = np.maximum(world.last_month - world.first_month + 1, 0)
    month = world.first_month + np.floor(rng.random(n) * np.maximum(span, 1)).astype("int64")
    when = _in_month(rng, world, np.clip(month, 0, n_periods - 1))
    assigned = np.maximum(when - rng.integers(3, 31, n) * np.timedelta64(86_400, "s"),
                          world.hire_date.astype("datetime64[s]") + np.timedelta64(9 * 3600, "s"))
    pick = rng.random(n)
    score = np.round(rng.uniform(80, 100, n))
    status = rng.choice(np.array(["Completed", "In Progress", "Registered"], dtype=object), n,
                        p=[0.6, 0.25, 0.15])
    rows = []
    for i in np.flatnonzero((span > 0) & (pick < 0.25)):
        rows.append((ids[i], OTHER_PROGRAMS[0], "Completed", assigned[i], when[i], 1.0, score[i]))
    for i in np.flatnonzero((span > 0) & (pick > 0.97)):
        done = status[i] == "Completed"
        rows.append((ids[i], OTHER_PROGRAMS[1], status[i], assigned[i], when[i] if done else NAT, 8.0,
                     score[i] if done else np.nan))
    return rows


def assessments(world: World, ids: np.ndarray, program: str, first_done: np.ndarray,
                rng: np.random.Generator) -> pd.DataFrame:
    """Pre-test a few days before the first completion, post-test at completion (out of 50)."""
    n = len(ids)
    max_score = 50
    pre = np.clip(np.round(rng.normal(0.52, 0.12, n) * max_score), 5, max_score - 5)
    hake = np.clip(0.45 + 0.2 * (world.gain - 1.0) + rng.normal(0, 0.1, n), 0.05, 0.95)
    post = np.minimum(max_score, np.maximum(pre + 1, np.round(pre + hake * (max_score - pre))))
    pre_at = (first_done.astype("datetime64[D]").astype("datetime64[s]")
              - rng.integers(1, 11, n) * np.timedelta64(86_400, "s")
              + rng.integers(8 * 3600, 18 * 3600, n) * np.timedelta64(1, "s"))
    who = np.flatnonzero(world.cohort >= 0)
    frame = pd.DataFrame({
        "employee_id": np.concatenate([ids[who], ids[who]]),
        "program": program,
        "kind": ["pre"] * len(who) + ["post"] * len(who),
        "score": np.concatenate([pre[who], post[who]]).astype("int64"),
        "max_score": max_score,
        "taken_at": np.concatenate([pre_at[who], first_done[who]]),
    })
    frame = frame.sort_values(["taken_at", "employee_id"], kind="mergesort").reset_index(drop=True)
    frame["taken_at"] = _fmt(frame["taken_at"].to_numpy(dtype="datetime64[s]"),
                             "%Y-%m-%dT%H:%M:%S").to_numpy()
    return frame


def surveys(world: World, ids: np.ndarray, program: str, first_done: np.ndarray,
            rng: np.random.Generator) -> pd.DataFrame:
    """Reaction survey after completion: recommend (0-10), relevance and satisfaction (1-5); ~60 % answer."""
    n = len(ids)
    respond = (world.cohort >= 0) & (rng.random(n) < 0.6)
    mood = 0.3 * (world.gain - 1.0) / 0.5 + rng.standard_normal(n)
    items = {
        "recommend": (np.clip(np.round(8.0 + 1.4 * mood + rng.normal(0, 0.8, n)), 0, 10), 0, 10),
        "relevance": (np.clip(np.round(3.9 + 0.7 * mood + rng.normal(0, 0.5, n)), 1, 5), 1, 5),
        "satisfaction": (np.clip(np.round(4.1 + 0.6 * mood + rng.normal(0, 0.5, n)), 1, 5), 1, 5),
    }
    answered = first_done + _days(rng.uniform(0.05, 7, n))
    skip = rng.random((n, len(items))) < 0.03
    parts = []
    for j, (item, (resp, lo, hi)) in enumerate(items.items()):
        sel = np.flatnonzero(respond & ~skip[:, j])
        parts.append(pd.DataFrame({"employee_id": ids[sel], "program": program, "item": item,
                                   "response": resp[sel].astype("int64"), "scale_min": lo, "scale_max": hi,
                                   "answered_at": answered[sel]}))
    frame = pd.concat(parts, ignore_index=True)
    frame = frame.sort_values(["answered_at", "employee_id"], kind="mergesort").reset_index(drop=True)
    frame["answered_at"] = _fmt(frame["answered_at"].to_numpy(dtype="datetime64[s]"),
                                "%Y-%m-%dT%H:%M:%S").to_numpy()
    return frame


def observations(world: World, ids: np.ndarray, program: str, first_done: np.ndarray,
                 rng: np.random.Generator) -> pd.DataFrame:
    """Manager ratings (1-5) at baseline and 30/60/90 days for ~40 % of the trained, while employed."""
    n = len(ids)
    end = world.months[-1].end_time.to_datetime64().astype("datetime64[s]")
    leave = np.where(np.isnat(world.term_date), end,
                     world.term_date.astype("datetime64[s]") + np.timedelta64(12 * 3600, "s"))
    chosen = (world.cohort >= 0) & (rng.random(n) < 0.4)
    base = rng.normal(2.6, 0.5, n)
    day0 = first_done.astype("datetime64[D]").astype("datetime64[s]")
    offsets = {"baseline": -rng.integers(5, 15, n), "30": 30 + rng.integers(-3, 4, n),
               "60": 60 + rng.integers(-3, 4, n), "90": 90 + rng.integers(-3, 4, n)}
    clock = rng.integers(9 * 3600, 17 * 3600, (n, len(offsets))) * np.timedelta64(1, "s")
    lift = {"baseline": 0.0, "30": 0.5, "60": 0.8, "90": 1.0}
    observer = np.array([f"M{k + 1:04d}" for k in world.team], dtype=object)
    parts = []
    for b, behavior in enumerate(BEHAVIORS):
        for j, (when, off) in enumerate(offsets.items()):
            at = day0 + off * np.timedelta64(86_400, "s") + clock[:, j] + np.timedelta64(b * 600, "s")
            raw = base + lift[when] * world.gain + rng.normal(0, 0.6, n)
            rating = np.clip(np.round(raw), 1, 5).astype("int64")
            sel = np.flatnonzero(chosen & (at <= leave) & (at <= end))
            parts.append(pd.DataFrame({"employee_id": ids[sel], "program": program, "behavior": behavior,
                                       "rating": rating[sel], "observed_at": at[sel],
                                       "observer": observer[sel]}))
    frame = pd.concat(parts, ignore_index=True)
    frame = frame.sort_values(["observed_at", "employee_id"], kind="mergesort").reset_index(drop=True)
    frame["observed_at"] = _fmt(frame["observed_at"].to_numpy(dtype="datetime64[s]"),
                                "%Y-%m-%dT%H:%M:%S").to_numpy()
    return frame


def kpis(world: World, ids: np.ndarray, outcome: str, rng: np.random.Generator) -> pd.DataFrame:
    """Monthly KPIs while employed, plus a few stray rows outside employment (late postings)."""
    n, n_periods = world.y0.shape
    y = np.round(world.y, 2)
    deals = rng.poisson(np.maximum(y, 0.0) / 2_400.0)
    labels = np.array([str(m) for m in world.months], dtype=object)
    unit, month = np.nonzero(world.employed)
    frame = pd.DataFrame({"employee_id": ids[unit], "month": labels[month], outcome: y[unit, month],
                          "deals": deals[unit, month]})
    # trailing commission posted the month after the termination month; a sign-on bonus before the hire month
    after = np.flatnonzero((world.term_month < n_periods - 1) & (world.last_month >= world.first_month))
    before = np.flatnonzero((world.first_month >= 1) & (world.first_month < n_periods)
                            & (world.last_month >= world.first_month)
                            & (world.hire_date >= world.months[0].start_time.to_datetime64()))
    n_after = min(len(after), max(2, n // 400))
    n_before = min(len(before), max(1, n // 1000))
    a = np.sort(rng.choice(after, n_after, replace=False)) if n_after else after[:0]
    b = np.sort(rng.choice(before, n_before, replace=False)) if n_before else before[:0]
    hire_month = np.searchsorted(world.months.start_time.to_numpy(), world.hire_date[b], side="right") - 1
    stray = pd.DataFrame({
        "employee_id": np.concatenate([ids[a], ids[b]]),
        "month": np.concatenate([labels[world.term_month[a] + 1], labels[np.maximum(hire_month - 1, 0)]]),
        outcome: np.round(rng.uniform(200, 1_500, len(a) + len(b)), 2),
        "deals": np.zeros(len(a) + len(b), dtype="int64"),
    })
    frame = pd.concat([frame, stray], ignore_index=True)
    frame = frame.sort_values(["month", "employee_id"], kind="mergesort").reset_index(drop=True)
    frame["deals"] = frame["deals"].astype("int64")
    return frame


def costs(completions_frame: pd.DataFrame, program: str, rng: np.random.Generator) -> pd.DataFrame:
    """Fully-loaded Phillips cost categories for the programme, in USD.

    Seats are the Completed and Failed rows (each attended a two-day session); participant time is valued
    at a loaded USD 48 an hour, the largest line as it usually is (Phillips & Phillips, *Measuring ROI in
    Learning and Development*, 2012, ch. 7: leaving it out is the classic inflation).
    """
    mine = completions_frame["Training Title"] == program
    seats = int((mine & completions_frame["Transcript Status"].isin(["Completed", "Failed"])).sum())
    sessions = max(1, math.ceil(seats / SEAT_PER_SESSION))
    jitter = rng.uniform(0.9, 1.1, 10)
    direct = {
        "needs_assessment": 25_000.0,
        "design": 60_000.0,
        "delivery": 150.0 * seats,
        "facilitators": 4_000.0 * sessions,
        "materials": 85.0 * seats,
        "facilities": 1_200.0 * sessions,
        "participant_time": PROGRAM_HOURS * 48.0 * seats,
        "travel": 0.3 * 450.0 * seats,
        "evaluation": 30_000.0,
    }
    amounts = {k: round(v * j) for (k, v), j in zip(direct.items(), jitter[:9], strict=True)}
    amounts["overhead"] = round(0.10 * sum(amounts.values()) * jitter[9])
    return pd.DataFrame({"program": program, "category": list(amounts),
                         "amount": np.array(list(amounts.values()), dtype="int64"), "currency": "USD"})
