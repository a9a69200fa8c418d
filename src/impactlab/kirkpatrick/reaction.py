"""Kirkpatrick level 1, reaction: did participants find the programme engaging and relevant?

Net Promoter Score of the recommend item (0-10), mean and top-box share of every Likert item, by
programme and any grouping column (cohort, facilitator...), each with a confidence interval, and the
response rate when the roster of invitees is given. Reactions are weak predictors of transfer (Alliger
et al. 1997, *Personnel Psychology* 50(2)); utility items do better than liking items. They are the first
link of the chain, not evidence of impact.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from impactlab.errors import DataError, Failure
from impactlab.io import read_surveys
from impactlab.kirkpatrick._ids import align_ids, as_ids, warn_unmatched
from impactlab.kirkpatrick._level import LevelResult
from impactlab.kirkpatrick._stats import (
    as_frame,
    check_level,
    mean_ci,
    nps,
    nps_interval,
    share_row,
    t_interval,
    wilson,
)
from impactlab.results.base import Row, _fmt

Scale = tuple[float, float]


@dataclass(frozen=True, repr=False, eq=False)
class ReactionResult(LevelResult):
    """Level-1 summaries. Built by :func:`reaction`; frozen (tables and arrays read-only).

    The headline (``estimate``, ``std_error``, ``conf_int(level)``) is the NPS of every programme pooled
    when there is a recommend item (Rocks' adjusted-Wald interval, clipped to -100..100, see
    :func:`~impactlab.kirkpatrick._stats.nps`), else the mean of the first item (t interval clipped to the
    item's scale): the number :meth:`headline` gives the chain of evidence. ``tidy(level)`` has that row,
    then the NPS of each programme (and group) when there are several, the mean and the top-box share
    (binomial standard error, Wilson interval) of every item, and the response rates; ``.table`` is
    :attr:`items`.

    Attributes
    ----------
    items : DataFrame
        One row per programme (and group) and item: ``n, mean, std_error, conf_low, conf_high, scale_min,
        scale_max, top_box, top_box_low, top_box_high, top_box_from, reversed`` (mean interval clipped to
        the scale; top box: share at or above ``top_box_from``, Wilson interval; see :func:`reaction`).
    nps : DataFrame
        One row per programme (and group): ``n, promoters, passives, detractors, nps, std_error, conf_low,
        conf_high`` (empty when there is no recommend item).
    response : DataFrame
        ``program, invited, respondents, rate, conf_low, conf_high`` when a roster was given, else empty.
    respondents : DataFrame
        One row per respondent and programme: ``employee_id, program, reaction`` (mean of the Likert items
        rescaled to 0-1, reverse-coded items turned), for the chain of evidence.
    level : float
    spec : mapping
    notes : tuple of str
        What was decided on the way (a 1-10 recommend item scored with the 0-10 cut-offs, say).
    """

    items: pd.DataFrame
    nps: pd.DataFrame
    response: pd.DataFrame
    respondents: pd.DataFrame
    level: float
    spec: Mapping[str, Any] = field(default_factory=dict)
    notes: tuple[str, ...] = ()

    _TABLE = "items"
    _TITLE = "Level 1: reaction"

    def headline(self) -> dict[str, Any]:
        """The level's headline: NPS (all programmes pooled) when available, else the first item's mean."""
        if len(self.nps) and "pooled" in self.spec:
            return dict(self.spec["pooled"])
        row = self.items.iloc[0]
        return {"metric": f"mean {row['item']}", "estimate": float(row["mean"]),
                "std_error": float(row["std_error"]), "conf_low": float(row["conf_low"]),
                "conf_high": float(row["conf_high"]), "n": int(row["n"])}

    @property
    def estimate(self) -> float:
        """The headline number (see the class notes)."""
        return float(self.headline()["estimate"])

    @property
    def std_error(self) -> float:
        """Standard error of the headline."""
        return float(self.headline().get("std_error", np.nan))

    def _rows(self, level: float) -> list[Row]:
        keys = self._keys()
        rows: list[Row] = []
        h = self.headline()
        if h["metric"] == "NPS":  # pooled, then each programme (and group) when there are several
            scores = [{"nps": h["estimate"], "std_error": h["std_error"], "n": h["n"],
                       "promoters": h["promoters"], "detractors": h["detractors"]}]
            scores += self.nps.to_dict("records") if len(self.nps) > 1 else []
            for r in scores:
                lo, hi = nps_interval(r, level)
                rows.append({"term": "nps", "estimate": r["nps"], "std_error": r["std_error"], "conf_low": lo,
                             "conf_high": hi, "n": r["n"], **{k: r.get(k) for k in keys}})
        items = self.items.to_dict("records")
        for r in items:
            lo, hi = t_interval(r["mean"], r["std_error"], int(r["n"]), level)
            lo, hi = max(lo, r["scale_min"]), min(hi, r["scale_max"])
            rows.append({"term": "mean", "estimate": r["mean"], "std_error": r["std_error"], "conf_low": lo,
                         "conf_high": hi, "n": r["n"], **{k: r[k] for k in [*keys, "item"]}})
        rows += [share_row("top_box", r["top_box"], int(r["n"]), level, **{k: r[k] for k in [*keys, "item"]})
                 for r in items]
        rows += [share_row("response_rate", r["rate"], int(r["invited"]), level, program=r["program"])
                 for r in self.response.to_dict("records")]
        return rows

    def _explain_parts(self) -> tuple[str, str, str]:
        h = self.headline()
        return ("Level 1, reaction", h["metric"] if h["metric"] == "NPS" else f"the {h['metric']}",
                "Reactions are weak predictors of learning and transfer (Alliger et al. 1997); those who "
                "answered may differ from those who did not.")

    def summary(self) -> str:
        h = self.headline()
        method = ", adjusted Wald" if h["metric"] == "NPS" else ""
        digits = 1 if h["metric"] == "NPS" else 2  # NPS in points, means and shares to two decimals
        lines = [f"Level 1 reaction: {h['metric']} {_fmt(h['estimate'], digits)} ({self.level:.0%} CI "
                 f"{_fmt(h['conf_low'], digits)} to {_fmt(h['conf_high'], digits)}{method}), n = {h['n']}"]
        for r in self.items.itertuples():
            lines.append(f"  {r.program} / {r.item}: mean {r.mean:.2f} ({r.conf_low:.2f} to "
                         f"{r.conf_high:.2f}), "
                         f"top box {r.top_box:.0%} ({r.top_box_low:.0%} to {r.top_box_high:.0%}), n = {r.n}")
        for r in self.response.itertuples():
            lines.append(f"  response rate {r.program}: {r.rate:.0%} ({r.conf_low:.0%} to "
                         f"{r.conf_high:.0%}), "
                         f"{r.respondents} of {r.invited}")
        lines += [f"  note: {n}" for n in self.notes]
        return "\n".join(lines)

    def __repr__(self) -> str:
        h = self.headline()
        return f"ReactionResult({h['metric']}={h['estimate']:.4g}, items={len(self.items)})"


def _nps_item(nps_item: str | None, items: set[str]) -> tuple[str | None, list[str]]:
    """The item scored as NPS: ``nps_item`` as written in the data, found ignoring case and surrounding
    spaces. A named item that is not there is refused; when the default ``"recommend"`` is not there, a
    note names the items that read like the recommend question (scored as ordinary items)."""
    if nps_item is None or nps_item in items:
        return nps_item, []
    if not isinstance(nps_item, str):
        raise TypeError(f"The 'nps_item' parameter must be an item name or None. Got {nps_item!r} instead.")
    same = sorted(i for i in items if i.strip().casefold() == nps_item.strip().casefold())
    if len(same) == 1:
        return same[0], []
    if nps_item != "recommend":
        raise DataError(f"The NPS item {nps_item!r} is not among the survey's items.",
                        hint=f"Items: {', '.join(map(repr, sorted(items)))}. Pass one of them as nps_item=, "
                             "or nps_item=None for no NPS.")
    alike = sorted(i for i in items if "recommend" in i.casefold())
    if not alike:
        return None, []
    return None, [f"no item is named 'recommend', so no NPS is computed; {', '.join(map(repr, alike))} "
                  f"reads like the recommend question and is scored as an ordinary item (pass "
                  f"nps_item={alike[0]!r} for its NPS)"]


def _scales(df: pd.DataFrame, scale: Any) -> tuple[pd.Series, pd.Series]:
    """Per-row (low, high) of the scale: declared (one pair or a mapping item -> pair) or read."""
    lo = df["scale_min"].astype("float64") if "scale_min" in df else pd.Series(np.nan, index=df.index)
    hi = df["scale_max"].astype("float64") if "scale_max" in df else pd.Series(np.nan, index=df.index)
    if scale is None:
        return lo, hi
    pairs: Mapping[str, Any] = scale if isinstance(scale, Mapping) else None  # type: ignore[assignment]
    if pairs is None:
        pairs = {item: scale for item in df["item"].unique()}
    lo, hi = lo.copy(), hi.copy()
    for item, pair in pairs.items():
        if not (isinstance(pair, (tuple, list)) and len(pair) == 2 and float(pair[0]) < float(pair[1])):
            raise ValueError(f"The 'scale' of item {item!r} must be a (low, high) pair with low < high, e.g. "
                             f"(1, 5). Got {pair!r} instead.")
        sel = df["item"] == item
        lo[sel], hi[sel] = float(pair[0]), float(pair[1])
    return lo, hi


def _one_scale_per_item(df: pd.DataFrame, lo: pd.Series, hi: pd.Series, keys: list[str],
                        where: pd.Series) -> None:
    """Refuse an item answered on several scales within one programme (and group): its mean and top box
    would mix a 4 of 5 with a 4 of 7."""
    scales = pd.DataFrame({"item": df["item"], "lo": lo, "hi": hi, "row": where,
                           **{k: df[k] for k in keys}})
    failures = []
    for key, g in scales.groupby([*keys, "item"], sort=True, dropna=False):
        seen = g.drop_duplicates(["lo", "hi"])
        if len(seen) > 1:
            shown = ", ".join(f"{a:g}-{b:g} (row {r})" for a, b, r in zip(seen["lo"], seen["hi"], seen["row"],
                                                                           strict=True))
            failures.append(Failure(seen["row"].iloc[1], "scale_min/scale_max", None,
                                    f"item {key[-1]!r} is answered on several scales: {shown}"))
    if failures:
        raise DataError(f"{len(failures)} survey item(s) are answered on more than one scale; their means "
                        "and top-box shares would mix answers of different scales.", failures=failures,
                        hint="Rescale the answers to one scale, or name the versions as different items.")


def _top_from(low: float, high: float, top_box: int) -> float:
    """The lowest answer counted in the top box: the top ``top_box`` points of a scale of up to 11 points,
    the top ``top_box`` of five equal bands of a wider one (a 0-100 slider)."""
    if high - low > 10:
        return high - top_box * (high - low) / 5
    return high - top_box + 1


def _invited(roster: Any) -> pd.DataFrame:
    frame = getattr(roster, "frame", roster)
    if isinstance(frame, pd.DataFrame):
        if "employee_id" not in frame:
            raise DataError("The roster given to reaction() has no 'employee_id' column.",
                            hint="Pass the invitees as a table with employee_id (and program), or a list "
                                 "of ids.")
        cols = ["employee_id"] + (["program"] if "program" in frame else [])
        out = frame[cols].dropna(subset=["employee_id"])
        return out.assign(employee_id=as_ids(out["employee_id"]).astype(str)).drop_duplicates()
    if isinstance(roster, Iterable) and not isinstance(roster, (str, bytes)):
        return pd.DataFrame({"employee_id": sorted({str(x) for x in as_ids(list(roster))})})
    raise TypeError(f"The 'roster' parameter must be a table or a list of employee ids. "
                    f"Got {type(roster).__name__}.")


def reaction(surveys: Any, *, nps_item: str | None = "recommend",
             scale: Scale | Mapping[str, Scale] | None = None, reverse: Iterable[str] = (),
             by: str | Iterable[str] | None = None, roster: Any = None, top_box: int = 2,
             level: float = 0.95) -> ReactionResult:
    """Level-1 reaction: NPS, top-box shares and item means with intervals; response rate.

    Parameters
    ----------
    surveys : Table or DataFrame
        The canonical surveys table (``read_surveys``); a DataFrame is read strictly (any bad row raises).
    nps_item : str or None
        The 0-10 "would you recommend" item scored as NPS (promoters 9-10, detractors 0-6); ``None``: none.
        Matched ignoring case and surrounding spaces; a named item that is not in the data is refused, and
        when the default ``"recommend"`` is not there a note names any item that reads like it.
        A 1-10 item is scored with the same cut-offs (promoters 9-10, passives 7-8, detractors 1-6), as
        survey tools that ask on 1-10 do, and a note says so: its NPS is not strictly comparable with 0-10
        benchmarks, which also count the 0s. Any other scale (1-5, 0-100) is refused: NPS is defined on
        the eleven-point question only.
    scale : (low, high) or mapping item -> (low, high), optional
        Declared Likert scale(s); by default each row's ``scale_min``/``scale_max`` are read.
    reverse : iterable of str
        Reverse-coded items: a response ``x`` counts as ``low + high - x``.
    by : str or list of str, optional
        Grouping columns beside ``program`` (e.g. ``"facilitator"``, ``"cohort"``).
    roster : Table, DataFrame or list of ids, optional
        The people invited to answer; gives the response rate (Wilson interval), per programme when the
        roster has a ``program`` column. Respondent ids are matched to the roster's by the rule of
        :func:`impactlab.build_panel` (leading zeros and case); respondents not among the invited are named
        in a :class:`~impactlab.errors.DataQualityWarning`.
    top_box : int
        Number of top scale points counted as favourable (2: top-2-box) on scales of up to 11 points. On a
        wider scale (a 0-100 slider) the range is cut into five equal bands, as a five-point scale, and
        the top ``top_box`` bands count: 2 means at least 60 on 0-100, 1 at least 80 (never "at least
        99"). ``items.top_box_from`` states the cut-off used.
    level : float
        Confidence level.

    Returns
    -------
    ReactionResult

    Raises
    ------
    DataError
        A response outside its scale, an item with no scale (neither read nor declared), a missing
        column, or no rows.
    """
    level = check_level(level)
    df = as_frame(surveys, read_surveys, "surveys", ("program", "item", "response"))
    by_cols = [by] if isinstance(by, str) else list(by or [])
    absent = [c for c in by_cols if c not in df.columns]
    if absent:
        raise DataError(f"The surveys table has no column {', '.join(map(repr, absent))} to group by.",
                        hint=f"Columns available: {', '.join(map(str, df.columns))}.")
    if isinstance(top_box, bool) or not isinstance(top_box, int) or top_box < 1:
        raise ValueError(f"The 'top_box' parameter must be a positive integer. Got {top_box!r} instead.")
    reverse = {str(x) for x in reverse}
    df["item"] = df["item"].astype(str)
    unknown = sorted(reverse - set(df["item"]))
    if unknown:
        raise ValueError(f"The 'reverse' parameter names items not in the data: {unknown}. "
                         f"Items: {sorted(set(df['item']))}.")
    nps_item, nps_note = _nps_item(nps_item, set(df["item"]))
    lo, hi = _scales(df, scale)
    resp = df["response"].astype("float64")
    failures = []
    where = df["source_row"] if "source_row" in df else pd.Series(df.index, index=df.index)
    for i in np.flatnonzero((lo.isna() | hi.isna()).to_numpy()):
        failures.append(Failure(where.iloc[i], "scale_min/scale_max", None,
                                f"item {df['item'].iloc[i]!r} has no scale; declare it with "
                                f"scale={{{df['item'].iloc[i]!r}: (low, high)}}"))
    bad = (resp < lo) | (resp > hi)
    for i in np.flatnonzero(bad.to_numpy()):
        failures.append(Failure(where.iloc[i], "response", resp.iloc[i],
                                f"outside the scale {lo.iloc[i]:g} to {hi.iloc[i]:g} of item "
                                f"{df['item'].iloc[i]!r}"))
    if failures:
        raise DataError(f"{len(failures)} survey answer(s) cannot be scored.", failures=failures,
                        hint="Declare the right scale (scale=(1, 7) or {item: (low, high)}) or fix the "
                             "answers.")
    _one_scale_per_item(df, lo, hi, ["program", *by_cols], where)
    turned = df["item"].isin(reverse)
    resp = resp.where(~turned, lo + hi - resp)
    df = df.assign(_r=resp, _lo=lo, _hi=hi)

    keys = ["program", *by_cols]
    rows = []
    for key, g in df.groupby([*keys, "item"], sort=True, dropna=False):
        m, se, cl, ch = mean_ci(g["_r"].to_numpy(), level)
        top = _top_from(float(g["_lo"].iloc[0]), float(g["_hi"].iloc[0]), top_box)
        fav = float(np.sum(g["_r"] >= top))
        tl, th = wilson(fav, len(g), level)
        lo_s, hi_s = float(g["_lo"].iloc[0]), float(g["_hi"].iloc[0])
        rows.append({**dict(zip([*keys, "item"], key, strict=True)), "n": len(g), "mean": m, "std_error": se,
                     "conf_low": max(cl, lo_s), "conf_high": min(ch, hi_s), "scale_min": lo_s,
                     "scale_max": hi_s, "top_box": fav / len(g), "top_box_low": tl, "top_box_high": th,
                     "top_box_from": top, "reversed": key[-1] in reverse})
    items = pd.DataFrame(rows)

    nps_rows = []
    notes: list[str] = nps_note
    pooled = None
    if nps_item is not None and nps_item in set(df["item"]):
        rec = df[df["item"] == nps_item]
        one_to_ten = (rec["_lo"] == 1) & (rec["_hi"] == 10)
        wrong = rec[~(((rec["_lo"] == 0) & (rec["_hi"] == 10)) | one_to_ten)]
        if len(wrong):
            seen = sorted({f"{a:g}-{b:g}" for a, b in zip(wrong["_lo"], wrong["_hi"], strict=True)})
            raise DataError(f"The NPS item {nps_item!r} is on the scale {', '.join(seen)}; NPS is defined on "
                            "the 0-10 'how likely are you to recommend' question (1-10 is accepted with the "
                            "same cut-offs).",
                            failures=[Failure(r, "scale_min/scale_max", None, "not 0-10 or 1-10") for r in
                                      wrong.get("source_row", wrong.index)[:20]],
                            hint="Pass nps_item=None to score it as an ordinary item (mean and top box).")
        if one_to_ten.any():
            notes.append(f"the NPS item {nps_item!r} is on 1-10 for {int(one_to_ten.sum())} answer(s): "
                         "scored with the 0-10 cut-offs (promoters 9-10, detractors 1-6); not strictly "
                         "comparable with 0-10 benchmarks")
        for key, g in rec.groupby(keys, sort=True, dropna=False):
            key = key if isinstance(key, tuple) else (key,)
            nps_rows.append({**dict(zip(keys, key, strict=True)), **nps(g["_r"].to_numpy(), level)})
        p = nps(rec["_r"].to_numpy(), level)
        pooled = {"metric": "NPS", "estimate": p["nps"], "std_error": p["std_error"],
                  "conf_low": p["conf_low"], "conf_high": p["conf_high"], "n": p["n"],
                  "promoters": p["promoters"], "detractors": p["detractors"]}
    nps_table = pd.DataFrame(nps_rows, columns=[*keys, "n", "promoters", "passives", "detractors", "nps",
                                                "std_error", "conf_low", "conf_high"])

    likert = df[df["item"] != nps_item] if nps_item is not None else df
    respondents = pd.DataFrame(columns=["employee_id", "program", "reaction"])
    if "employee_id" in df and len(likert):
        scaled = (likert["_r"] - likert["_lo"]) / (likert["_hi"] - likert["_lo"])
        respondents = (likert.assign(reaction=scaled).dropna(subset=["employee_id"])
                       .groupby(["employee_id", "program"], as_index=False)["reaction"].mean())

    response = pd.DataFrame(columns=["program", "invited", "respondents", "rate", "conf_low", "conf_high"])
    if roster is not None:
        invited = _invited(roster)
        if "employee_id" in df and df["employee_id"].notna().any():
            mapped, said = align_ids(invited["employee_id"], df["employee_id"], names=("roster", "surveys"))
            df = df.assign(employee_id=mapped.where(df["employee_id"].notna(), None))
            notes += said
            outside = sorted(set(df["employee_id"].dropna().astype(str)) - set(invited["employee_id"]))
            warned = warn_unmatched(outside, "respondent id(s) are not among the invited (the roster): their "
                                    "answers are scored but not counted as responses", stacklevel=2)
            notes += [warned] if warned else []
        out = []
        for prog in sorted(df["program"].astype(str).unique()):
            inv = invited if "program" not in invited else invited[invited["program"].astype(str) == prog]
            ids = set(inv["employee_id"])
            mine = df[df["program"].astype(str) == prog]
            if "employee_id" in mine and mine["employee_id"].notna().any():
                answered = len(ids & set(mine["employee_id"].dropna().astype(str)))
            else:  # anonymous survey: the largest number of answers to one item
                answered = int(mine.groupby("item").size().max())
            if not ids:
                continue
            cl, ch = wilson(answered, len(ids), level)
            out.append({"program": prog, "invited": len(ids), "respondents": answered,
                        "rate": answered / len(ids), "conf_low": cl, "conf_high": ch})
        response = pd.DataFrame(out, columns=response.columns)
    spec: dict[str, Any] = {"nps_item": nps_item, "scale": scale, "reverse": sorted(reverse), "by": by_cols,
            "top_box": top_box, "level": level}
    if pooled is not None:
        spec["pooled"] = pooled
    return ReactionResult(items=items, nps=nps_table, response=response, respondents=respondents,
                          level=level, spec=spec, notes=tuple(notes))


__all__ = ["ReactionResult", "reaction"]
