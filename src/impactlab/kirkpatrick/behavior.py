"""Kirkpatrick level 3, behaviour: do participants apply the skill on the job?

Manager (or 360) ratings of the target behaviours at baseline and at checkpoints after training (30, 60
and 90 days by default): mean rating and change from baseline with intervals, and the share of
participants applying the skill (adoption), by programme and cohort. Observations are placed on the
checkpoint whose window (``tolerance_days`` either side, windows never overlapping) holds their day since
training, and the others are listed in ``.rejected``; the baseline is any observation before training.
Kirkpatrick & Kirkpatrick, *Kirkpatrick's Four Levels of Training Evaluation* (ATD Press, 2016), ch. 6,
for the checkpoints and the "required drivers" of level 3.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from impactlab.errors import DataError, Failure
from impactlab.io import read_observations
from impactlab.kirkpatrick._ids import align_ids, as_ids, warn_unmatched
from impactlab.kirkpatrick._level import LevelResult
from impactlab.kirkpatrick._stats import as_frame, check_level, mean_ci, share_row, t_restated, wilson
from impactlab.results.base import Row

TRAINED_STATUSES = ("completed", "passed")
REJECTED = ("employee_id", "program", "behavior", "rating", "observed_at", "day", "source_row", "reason")


@dataclass(frozen=True, repr=False, eq=False)
class BehaviorResult(LevelResult):
    """Level-3 summaries. Built by :func:`behavior`; frozen (tables and arrays read-only).

    The headline (``estimate``, ``std_error``, ``conf_int(level)``) is the share of participants meeting
    the threshold at the last checkpoint with ratings, for the first programme (and group): binomial
    standard error, Wilson interval. ``tidy(level)`` has that row first, then for every wave the mean
    rating, the change from baseline and the share applying, and the mean and change of each behaviour;
    ``.table`` is :attr:`by_checkpoint`. :meth:`headline` (the rating change) is the number the chain of
    evidence shows for level 3.

    Attributes
    ----------
    by_checkpoint : DataFrame
        One row per programme (and group) and wave (``baseline``, then each checkpoint in days): ``n, mean,
        conf_low, conf_high, change, change_low, change_high, n_paired, applying, applying_low,
        applying_high`` (change: paired on people rated at baseline and at the wave; applying: share whose
        mean rating is at least the threshold, Wilson interval). ``applying`` at a checkpoint is the
        adoption at that many days.
    behaviors : DataFrame
        The same by behaviour (mean and change only).
    people : DataFrame
        One row per person and programme: ``employee_id, program, baseline, latest, change`` (mean rating
        over behaviours; latest = the last checkpoint observed), for the chain of evidence.
    threshold : float
        Rating counted as applying the skill.
    level : float
    spec : mapping
    notes : tuple of str
    rejected : DataFrame
        Observations left out, one row each: ``employee_id, program, behavior, rating, observed_at, day,
        source_row, reason`` (a rating outside the declared ``scale``; a day outside every checkpoint's
        window; no training date).
    """

    by_checkpoint: pd.DataFrame
    behaviors: pd.DataFrame
    people: pd.DataFrame
    threshold: float
    level: float
    spec: Mapping[str, Any] = field(default_factory=dict)
    notes: tuple[str, ...] = ()
    rejected: pd.DataFrame = field(default_factory=lambda: pd.DataFrame(columns=list(REJECTED)))

    _TABLE = "by_checkpoint"
    _TITLE = "Level 3: behaviour"

    def adoption(self) -> pd.DataFrame:
        """Share applying the skill at each checkpoint, with its interval (the baseline row left out)."""
        w = self.by_checkpoint[self.by_checkpoint["wave"] != "baseline"]
        return w.drop(columns=["mean", "conf_low", "conf_high"]).reset_index(drop=True)

    def headline(self) -> dict[str, Any]:
        """Change from baseline at the last checkpoint with data of the first programme (and group)."""
        t = self.by_checkpoint
        keys = self._keys()
        first = tuple(t[keys].iloc[0])
        mine = np.array([all(a == b or (pd.isna(a) and pd.isna(b)) for a, b in zip(key, first, strict=True))
                         for key in t[keys].itertuples(index=False)], dtype=bool)
        w = t[mine & (t["wave"] != "baseline").to_numpy() & t["n_paired"].gt(1).to_numpy()]
        if w.empty:
            r = self.by_checkpoint.iloc[0]
            return {"metric": "mean rating", "estimate": float(r["mean"]), "conf_low": float(r["conf_low"]),
                    "conf_high": float(r["conf_high"]), "n": int(r["n"])}
        r = w.iloc[-1]
        return {"metric": f"rating change at {r['wave']} days", "estimate": float(r["change"]),
                "conf_low": float(r["change_low"]), "conf_high": float(r["change_high"]),
                "n": int(r["n_paired"])}

    def _headline_wave(self) -> int:
        """Position in :attr:`by_checkpoint` of the last wave with ratings of the first programme (and group),
        a checkpoint when one has ratings."""
        keys = self._keys()
        first = tuple(self.by_checkpoint[keys].iloc[0])
        same = [i for i, key in enumerate(self.by_checkpoint[keys].itertuples(index=False))
                if all(a == b or (pd.isna(a) and pd.isna(b)) for a, b in zip(key, first, strict=True))]
        seen = [i for i in same if self.by_checkpoint["n"].iloc[i] > 0]
        later = [i for i in seen if self.by_checkpoint["wave"].iloc[i] != "baseline"]
        return (later or seen or same)[-1]

    @property
    def estimate(self) -> float:
        """The headline: the share applying the skill at the last checkpoint (see the class notes)."""
        return float(self.by_checkpoint["applying"].iloc[self._headline_wave()])

    @property
    def std_error(self) -> float:
        """Binomial standard error of the headline share."""
        n = int(self.by_checkpoint["n"].iloc[self._headline_wave()])
        p = self.estimate
        return float(np.sqrt(p * (1 - p) / n)) if n else float("nan")

    def _rows(self, level: float) -> list[Row]:
        head = self._headline_wave()
        rows: list[Row] = []
        first: Row = {}
        for i, r in enumerate(self.by_checkpoint.to_dict("records")):
            key = {k: r[k] for k in [*self._keys(), "wave"]}
            applying = share_row("applying", r["applying"], int(r["n"]), level, **key)
            if i == head:
                first = applying
            else:
                rows.append(applying)
            rows += _mean_rows(r, key, self.level, level)
        for r in self.behaviors.to_dict("records"):
            rows += _mean_rows(r, {k: r[k] for k in [*self._keys(), "behavior", "wave"]}, self.level, level)
        return [first, *rows]

    def _explain_parts(self) -> tuple[str, str, str]:
        wave = self.by_checkpoint["wave"].iloc[self._headline_wave()]
        when = "at baseline" if wave == "baseline" else f"at {wave} days"
        return ("Level 3, behaviour", f"the share rated at least {self.threshold:g} {when}",
                "Ratings come from observers (managers or peers) and cover the people they rated; without "
                "an untrained group, a change from baseline is not by itself an effect of the training.")

    def summary(self) -> str:
        lines = [f"Level 3 behaviour (applying = mean rating >= {self.threshold:g})"]
        for r in self.by_checkpoint.itertuples():
            change = "" if r.wave == "baseline" else (f", change {r.change:+.2f} ({r.change_low:+.2f} to "
                                                      f"{r.change_high:+.2f}, n = {r.n_paired})")
            lines.append(f"  {r.program} {r.wave}: mean {r.mean:.2f} ({r.conf_low:.2f} to "
                         f"{r.conf_high:.2f}), "
                         f"applying {r.applying:.0%} ({r.applying_low:.0%} to {r.applying_high:.0%}){change}")
        lines += [f"  note: {n}" for n in self.notes]
        return "\n".join(lines)

    def __repr__(self) -> str:
        h = self.headline()
        return f"BehaviorResult({h['metric']}={h['estimate']:.3g}, n={h['n']})"


def _mean_rows(r: Mapping[str, Any], key: Mapping[str, Any], from_level: float, level: float) -> list[Row]:
    """The mean rating and, after baseline, the change from baseline of one wave (t intervals)."""
    lo, hi = t_restated(r["mean"], r["conf_low"], r["conf_high"], int(r["n"]), from_level, level)
    rows: list[Row] = [{"term": "mean", "estimate": r["mean"], "conf_low": lo, "conf_high": hi, "n": r["n"],
                        **key}]
    if r["wave"] != "baseline":
        lo, hi = t_restated(r["change"], r["change_low"], r["change_high"], int(r["n_paired"]), from_level,
                            level)
        rows.append({"term": "change", "estimate": r["change"], "conf_low": lo, "conf_high": hi,
                     "n": r["n_paired"], **key})
    return rows


def _training_dates(trained_at: Any) -> pd.DataFrame:
    """``employee_id, program (optional), trained_at`` from completions, a frame or a Series."""
    if isinstance(trained_at, pd.Series):
        out = trained_at.rename("trained_at").rename_axis("employee_id").reset_index()
    else:
        frame = getattr(trained_at, "frame", trained_at)
        if not isinstance(frame, pd.DataFrame) or "employee_id" not in frame:
            raise TypeError("The 'trained_at' parameter must be completions (Table or frame with "
                            "employee_id, status, completed_at), a frame with employee_id and trained_at, "
                            "or a Series of dates indexed by employee_id. "
                            f"Got {type(trained_at).__name__}.")
        if "trained_at" in frame:
            out = frame
        elif {"completed_at", "status"} <= set(frame.columns):
            out = frame[frame["status"].isin(TRAINED_STATUSES)].rename(columns={"completed_at": "trained_at"})
        else:
            raise DataError("The training dates need columns trained_at, or status and completed_at.",
                            hint="Pass the completions Table from impactlab.read_completions.")
        out = out[["employee_id", *(["program"] if "program" in out else []), "trained_at"]]
    out = out.assign(employee_id=as_ids(out["employee_id"]),
                     trained_at=pd.to_datetime(out["trained_at"], utc=True)).dropna(subset=["trained_at"])
    return _first_dates(out)


def _first_dates(out: pd.DataFrame) -> pd.DataFrame:
    """Each person's (and programme's) first training date."""
    keys = ["employee_id", *(["program"] if "program" in out else [])]
    return out.sort_values("trained_at").groupby(keys, as_index=False).first()


#: The scale behaviour ratings are taken to be on when ``scale=`` is not given and every rating lies on it:
#: the five-point frequency scale of Kirkpatrick level-3 checklists (1 never ... 5 always), the one the
#: default ``threshold`` (4, "usually") is written for.
DEFAULT_SCALE = (1.0, 5.0)


def _rating_scale(df: pd.DataFrame, scale: Any) -> tuple[pd.Series, pd.Series, tuple[float, float] | None,
                                                          str | None]:
    """Each row's (low, high) rating scale, the one scale of every row (None when they differ), and a note.

    ``scale=`` when given; else the instrument's own ``scale_min``/``scale_max`` columns when every row has
    them; else :data:`DEFAULT_SCALE` when every rating lies on it. Ratings on no recognisable scale (55
    among 1-5 answers, or a 1-7 or 0-100 instrument) raise :class:`DataError` asking for ``scale=``:
    guessing would either drop good ratings or average a typo in.
    """
    if scale is not None:
        lo, hi = float(scale[0]), float(scale[1])
        return (pd.Series(lo, index=df.index), pd.Series(hi, index=df.index), (lo, hi), None)
    if {"scale_min", "scale_max"} <= set(df.columns):
        lo = pd.to_numeric(df["scale_min"], errors="coerce")
        hi = pd.to_numeric(df["scale_max"], errors="coerce")
        if lo.notna().all() and hi.notna().all() and (lo < hi).all():
            pairs = sorted({(a, b) for a, b in zip(lo, hi, strict=True)})
            one = (float(pairs[0][0]), float(pairs[0][1])) if len(pairs) == 1 else None
            shown = ", ".join(f"{a:g}-{b:g}" for a, b in pairs[:4])
            return lo.astype(float), hi.astype(float), one, (
                f"rating scale read from the columns scale_min and scale_max ({shown})")
    lo_d, hi_d = DEFAULT_SCALE
    rating = df["rating"].astype("float64")
    off = (rating < lo_d) | (rating > hi_d)
    if not off.any():
        return (pd.Series(lo_d, index=df.index), pd.Series(hi_d, index=df.index), DEFAULT_SCALE,
                f"rating scale taken as {lo_d:g}-{hi_d:g} (every rating lies on it; pass scale=(low, high) "
                "to state the instrument's)")
    rows = df["source_row"] if "source_row" in df else pd.Series(np.arange(1, len(df) + 1), index=df.index)
    bad = df[off]
    first = f"{bad['rating'].iloc[0]:g} (row {rows[off].iloc[0]})"
    raise DataError(
        f"The ratings are not on one recognisable scale: {int(off.sum())} of {len(df)} lie outside "
        f"{lo_d:g}-{hi_d:g} (ratings range from {rating.min():g} to {rating.max():g}; e.g. {first}), so the "
        "scale cannot be inferred.",
        failures=[Failure(int(r), "rating", f"{v:g}", f"outside {lo_d:g}-{hi_d:g}, the scale taken when none "
                          "is given") for r, v in zip(rows[off].tolist()[:50], bad["rating"].tolist()[:50],
                                                      strict=True)],
        hint="state the instrument's scale: behavior(..., scale=(1, 5)) leaves out and lists in .rejected "
             "the ratings outside 1-5 (a typed 55); scale=(1, 7) or scale=(0, 100) reads a wider instrument "
             "(set threshold= on that scale)",
    )


def behavior(observations: Any, *, trained_at: Any = None, checkpoints: Iterable[int] = (30, 60, 90),
             tolerance_days: int = 10, threshold: float = 4.0, by: str | Iterable[str] | None = None,
             scale: tuple[float, float] | None = None, level: float = 0.95) -> BehaviorResult:
    """Level-3 behaviour: rating change from baseline and adoption at 30/60/90 days, with intervals.

    Parameters
    ----------
    observations : Table or DataFrame
        The canonical observations table (``read_observations``); a DataFrame is read strictly.
    trained_at : completions Table, DataFrame or Series, optional
        When each person was trained: the completions table (first completed or passed row), a frame with
        ``employee_id`` (``program``) and ``trained_at``, or a Series of dates by employee id. Without it
        each person's first observation is taken as the baseline, at day 0 (stated in ``notes``). Ids are
        joined by the rule of :func:`impactlab.build_panel` (``"123"`` is ``"00123"``, ``"e01"`` is
        ``"E01"``, while neither table tells such ids apart); observed ids that match no training date are
        named in a :class:`~impactlab.errors.DataQualityWarning` and their rows are in ``.rejected``.
    checkpoints : iterable of int
        Days after training at which behaviour is assessed.
    tolerance_days : int
        Half-width of each checkpoint's window: an observation ``d`` days after training counts for
        checkpoint ``c`` when ``c - tolerance_days <= d <= c + tolerance_days`` (20-40, 50-70 and 80-100
        days by default). Windows may not overlap; an observation outside every window is left out and
        listed in ``.rejected`` (day 45 with checkpoints 30 and 60).
    threshold : float
        Mean rating at or above which a person counts as applying the skill (4 on a 1-5 scale:
        "usually").
    by : str or list of str, optional
        Grouping columns beside ``program``; ``"cohort"`` is the month of training.
    scale : (low, high), optional
        The rating scale, e.g. ``(1, 5)``: a rating outside it is left out and listed in ``.rejected``
        (55 on a 1-5 item), and mean intervals are clipped to it. Without it, the scale is the
        observations' own ``scale_min``/``scale_max`` columns when every row has them, else 1-5 when every
        rating lies in 1-5 (a note says so); ratings outside 1-5 raise :class:`DataError` asking for
        ``scale=``, since a typed 55 and a 0-100 instrument cannot be told apart.
    level : float
        Confidence level.

    Returns
    -------
    BehaviorResult

    Raises
    ------
    DataError
        Missing columns, no rows, ratings on no recognisable scale without ``scale=``, or no observation
        near any checkpoint.
    """
    level = check_level(level)
    cps = sorted({int(c) for c in checkpoints})
    if not cps or cps[0] <= 0:
        raise ValueError(f"The 'checkpoints' parameter must list positive days. Got {list(checkpoints)!r}.")
    if isinstance(tolerance_days, bool) or not isinstance(tolerance_days, int) or tolerance_days < 0:
        raise ValueError("The 'tolerance_days' parameter must be a non-negative integer of days. "
                         f"Got {tolerance_days!r}.")
    for a, b in zip(cps, cps[1:], strict=False):
        if a + tolerance_days >= b - tolerance_days:
            raise ValueError(f"The 'tolerance_days' parameter ({tolerance_days}) makes the windows of the "
                             f"checkpoints {a} and {b} days meet or overlap, so an observation between them "
                             f"would have two checkpoints. Use at most {(b - a - 1) // 2} days.")
    if scale is not None and not (isinstance(scale, (tuple, list)) and len(scale) == 2
                                  and float(scale[0]) < float(scale[1])):
        raise ValueError(f"The 'scale' parameter must be a (low, high) pair with low < high, e.g. (1, 5). "
                         f"Got {scale!r} instead.")
    df = as_frame(observations, read_observations, "observations",
                  ("employee_id", "behavior", "rating", "observed_at"))
    df = df.assign(employee_id=as_ids(df["employee_id"]).astype(str),
                   program=df["program"].astype(object).where(df["program"].notna(), "programme").astype(str)
                   if "program" in df else "programme")  # an empty programme cell would drop the row
    if "source_row" not in df:
        df["source_row"] = np.arange(1, len(df) + 1)
    notes = []
    left_out: list[pd.DataFrame] = []
    lo_row, hi_row, scale, scale_note = _rating_scale(df, scale)
    if scale_note:
        notes.append(scale_note)
    outside = (df["rating"] < lo_row) | (df["rating"] > hi_row)
    if outside.any():
        cut = zip(df.loc[outside, "rating"], lo_row[outside], hi_row[outside], strict=True)
        left_out.append(df[outside].assign(reason=[f"rating {v:g} is outside the scale {a:g}-{b:g}"
                                                   for v, a, b in cut]))
        which = "their scale" if scale is None else f"the scale {scale[0]:g}-{scale[1]:g}"
        notes.append(f"{int(outside.sum())} rating(s) outside {which} were left out (see .rejected).")
        df = df[~outside]
    if trained_at is not None:
        dates = _training_dates(trained_at)
        mapped, said = align_ids(df["employee_id"], dates["employee_id"],
                                 names=("observations", "training dates"))
        notes += said
        dates = _first_dates(dates.assign(employee_id=mapped.astype(str)))
        on = [c for c in ("employee_id", "program") if c in dates]
        df = df.merge(dates, on=on, how="left")
        untrained = df["trained_at"].isna()
        if untrained.any():
            who = pd.unique(df.loc[untrained, "employee_id"]).tolist()
            dated = set(dates["employee_id"])
            other = sorted({e for e in who if e in dated})
            warned = warn_unmatched([e for e in who if e not in dated],
                                    "observed employee id(s) have no training date (no id of the training "
                                    "dates matches them) and their observations were left out", stacklevel=2)
            notes += [warned] if warned else []
            if other:
                notes.append(f"{len(other)} observed people were trained only in other programmes and were "
                             f"left out: {', '.join(map(repr, other[:5]))}")
            left_out.append(df[untrained].assign(reason="no training date for this person"))
            df = df[~untrained]
    else:
        df["trained_at"] = df.groupby(["employee_id", "program"])["observed_at"].transform("min")
        notes.append("no training dates given: each person's first observation is the baseline (day 0) and "
                     "checkpoints count from it.")
    days = (df["observed_at"] - df["trained_at"]).dt.total_seconds() / 86_400
    base = days < 0 if trained_at is not None else days < 1  # the first day of observation is the baseline
    near = np.abs(days.to_numpy()[:, None] - np.array(cps)[None, :])
    wave = np.where(near.min(axis=1) <= tolerance_days, np.array([str(c) for c in cps])[near.argmin(axis=1)],
                    None)
    df["wave"] = np.where(base, "baseline", wave)
    df["day"] = days.to_numpy()
    away = df["wave"].isna()
    if away.any():
        windows = ", ".join(f"{c - tolerance_days}-{c + tolerance_days}" for c in cps)
        notes.append(f"{int(away.sum())} observation(s) more than {tolerance_days} days from every "
                     f"checkpoint (windows {windows} days after training) were left out (see .rejected).")
        left_out.append(df[away].assign(reason=[f"day {d:.0f} after training is outside the checkpoint "
                                                f"windows {windows}" for d in df.loc[away, "day"]]))
    df = df.dropna(subset=["wave"])
    if not (df["wave"] != "baseline").any():
        raise DataError(f"No observation lies within {tolerance_days} days of the checkpoints {cps}.",
                        hint="Check the training dates, or widen tolerance_days= / change checkpoints=.")
    by_cols = [by] if isinstance(by, str) else list(by or [])
    if "cohort" in by_cols and "cohort" not in df:
        df["cohort"] = df["trained_at"].dt.tz_convert(None).dt.to_period("M").astype(str)
    keys = ["program", *by_cols]
    order = ["baseline", *[str(c) for c in cps]]
    person = df.groupby([*keys, "employee_id", "wave"], as_index=False)["rating"].mean()

    def summarise(frame: pd.DataFrame, group_keys: list[str], with_applying: bool) -> pd.DataFrame:
        rows = []
        for key, g in frame.groupby(group_keys, sort=True, dropna=False):
            key = key if isinstance(key, tuple) else (key,)
            ids = g.pivot_table(index="employee_id", columns="wave", values="rating", aggfunc="mean")
            for w in order:
                if w not in ids:
                    continue
                x = ids[w].dropna().to_numpy()
                m, _, lo, hi = mean_ci(x, level)
                if scale is not None:  # one scale for every row: the mean's interval stays on it
                    lo, hi = max(lo, float(scale[0])), min(hi, float(scale[1]))
                row = {**dict(zip(group_keys, key, strict=True)), "wave": w, "n": len(x), "mean": m,
                       "conf_low": lo, "conf_high": hi}
                if w != "baseline" and "baseline" in ids:
                    pair = ids[["baseline", w]].dropna()
                    c, _, clo, chi = mean_ci((pair[w] - pair["baseline"]).to_numpy(), level)
                    row.update(change=c, change_low=clo, change_high=chi, n_paired=len(pair))
                else:
                    row.update(change=np.nan, change_low=np.nan, change_high=np.nan, n_paired=0)
                if with_applying:
                    k = float(np.sum(x >= threshold))
                    alo, ahi = wilson(k, len(x), level)
                    row.update(applying=k / len(x) if len(x) else np.nan, applying_low=alo, applying_high=ahi)
                rows.append(row)
        return pd.DataFrame(rows)

    waves = summarise(person, keys, True)
    per_behavior = df.groupby([*keys, "behavior", "employee_id", "wave"], as_index=False)["rating"].mean()
    behaviors = summarise(per_behavior, [*keys, "behavior"], False)
    wide = person.pivot_table(index=["employee_id", "program"], columns="wave", values="rating",
                              aggfunc="mean")
    later = [str(c) for c in cps if str(c) in wide]
    people = pd.DataFrame({
        "baseline": wide["baseline"] if "baseline" in wide else np.nan,
        "latest": wide[later].ffill(axis=1).iloc[:, -1] if later else np.nan,
    }).reset_index()
    people["change"] = people["latest"] - people["baseline"]
    spec = {"checkpoints": cps, "tolerance_days": tolerance_days, "threshold": threshold, "by": by_cols,
            "level": level, "scale": scale,
            "anchored_on": "training date" if trained_at is not None else "first observation"}
    rejected = (pd.concat(left_out, ignore_index=True).reindex(columns=list(REJECTED)) if left_out
                else pd.DataFrame(columns=list(REJECTED)))
    return BehaviorResult(by_checkpoint=waves, behaviors=behaviors, people=people, threshold=float(threshold),
                          level=level, spec=spec, notes=tuple(notes), rejected=rejected)
