"""Kirkpatrick level 2, learning: did participants learn?

Pre/post gain, Hake's normalised gain, paired effect sizes d_z and Hedges' g with intervals, the paired
t test, pass rates, retention from a delayed post-test and item difficulty. Scores are put on the percent
of the maximum score (``100 x score / max_score``) so that tests with different maxima compare.
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any, Literal

import numpy as np
import pandas as pd
from scipy import optimize, stats

from impactlab.errors import DataError, DataQualityWarning, check_option
from impactlab.io import read_assessments
from impactlab.kirkpatrick._level import LevelResult
from impactlab.kirkpatrick._stats import (
    as_frame,
    check_level,
    mean_ci,
    normalised_change,
    paired_share_change,
    share_row,
    t_interval,
    t_restated,
    wilson,
    z_value,
)
from impactlab.results.base import Row, rescaled

Attempt = Literal["first", "best", "last"]
REJECTED_COLUMNS = ("employee_id", "program", "source_row", "reason")
PASS_COLUMNS = ("pass_rate", "pass_low", "pass_high", "pass_rate_pre", "pass_pre_low", "pass_pre_high",
                "pass_change", "pass_change_low", "pass_change_high")


def hake_band(g: float) -> str:
    """Hake (1998) bands of the normalised gain: low < 0.3 <= medium < 0.7 <= high; a negative gain (the
    class's scores fell) is ``"negative"``, outside Hake's bands."""
    if not math.isfinite(g):
        return "n/a"
    if g < 0:
        return "negative"
    return "low" if g < 0.3 else "medium" if g < 0.7 else "high"


def d_z_interval(d: float, n: int, level: float = 0.95) -> tuple[float, float]:
    """Interval of the paired effect size ``d_z = mean(diff) / sd(diff)`` (see :func:`d_z_bounds`)."""
    lo, hi, _ = d_z_bounds(d, n, level)
    return lo, hi


def d_z_bounds(d: float, n: int, level: float = 0.95) -> tuple[float, float, str]:
    """Interval of ``d_z`` and how it was found: ``"exact"`` or ``"normal approximation"``.

    Exact: the noncentrality parameters ``λ`` at which the noncentral t distribution with ``n - 1`` df puts
    ``(1 - level) / 2`` of its mass beyond the observed ``t = d_z sqrt(n)``, divided by ``sqrt(n)`` (Steiger
    & Fouladi 1997; Cumming 2012, ch. 11). Each root is bracketed by stepping away from ``t`` with doubling
    steps, shortening a step that lands where scipy's noncentral t CDF is not finite (far in the tails for
    large ``|t|`` and few df), then solved by Brent's method. Where a root cannot be bracketed on finite CDF
    values, the normal approximation ``d_z ± z sqrt(1/n + d_z^2 / (2n))`` (the large-sample variance of a
    standardised mean difference, Hedges & Olkin 1985, ch. 5) is used for both ends, and the method says so.
    """
    if n < 3 or not math.isfinite(d):
        return math.nan, math.nan, "n/a"
    t = d * math.sqrt(n)
    df = n - 1
    a = (1 - level) / 2
    low = _nct_root(t, df, 1 - a, -1.0)
    high = _nct_root(t, df, a, 1.0)
    if math.isfinite(low) and math.isfinite(high):
        return low / math.sqrt(n), high / math.sqrt(n), "exact"
    half = z_value(level) * math.sqrt(1 / n + d * d / (2 * n))
    return d - half, d + half, "normal approximation"


def _nct_root(t: float, df: int, p: float, direction: float) -> float:
    """The noncentrality ``λ`` on the ``direction`` side of ``t`` with ``P(T <= t; df, λ) = p``, or NaN when
    it cannot be bracketed on finite CDF values (the CDF falls as ``λ`` grows)."""

    def f(ncp: float) -> float:
        return float(stats.nct.cdf(t, df, ncp)) - p

    a, fa = t, f(t)
    if not math.isfinite(fa):
        return math.nan
    step = 1.0 + abs(t) / 4
    for _ in range(200):
        b = a + direction * step
        fb = f(b)
        if not math.isfinite(fb):
            step /= 4
            if step < 1e-8:
                return math.nan
            continue
        if fa == 0:
            return a
        if (fa > 0) != (fb > 0) or fb == 0:
            try:
                return float(optimize.brentq(f, min(a, b), max(a, b), xtol=1e-12))
            except (ValueError, RuntimeError):
                return math.nan
        a, fa = b, fb
        step *= 2
    return math.nan


@dataclass(frozen=True, repr=False, eq=False)
class LearningResult(LevelResult):
    """Level-2 summaries. Built by :func:`learning`; frozen (tables and arrays read-only).

    The headline (``estimate``, ``std_error``, ``conf_int(level)``) is the mean pre→post gain of the
    first programme (and group), in percentage points of the maximum score, with its paired t interval.
    ``tidy(level)`` has, for each programme (and group), the gain (with its paired t test), Hake's
    normalised gain, Marx & Cummings' normalised change, d_z, Hedges' g, the pass rates before and after
    and their change, and the retention, each with the interval of :attr:`summary_table`; ``.table`` is
    :attr:`summary_table`. :meth:`headline` (Hake's gain) is the number the chain of evidence shows for
    level 2.

    Intervals: the gain, Hake's gain, the normalised change and the retention on Student's t with
    ``n - 1`` df (the gain clipped to -100..100 points, the change to -1..1); d_z exact from the noncentral
    t (``d_z_method`` says when the normal approximation replaced it, see :func:`d_z_bounds`); Hedges' g
    normal (Borenstein et al. 2009); pass rates Wilson, their change Newcombe's paired interval.

    Attributes
    ----------
    summary_table : DataFrame
        One row per programme (and group): ``n, pre_mean, post_mean, gain, gain_std_error, gain_low,
        gain_high, t_statistic, p_value, hake_gain, hake_low, hake_high, hake_band, mean_individual_gain,
        normalised_change, normalised_change_low, normalised_change_high, n_change, n_ceiling, n_fell, d_z,
        d_z_low, d_z_high, d_z_method, hedges_g, hedges_g_low, hedges_g_high, pass_rate, pass_low,
        pass_high, pass_rate_pre, pass_pre_low, pass_pre_high, pass_change, pass_change_low,
        pass_change_high, retention, retention_low, retention_high, n_delayed`` (scores in percent of each
        test's maximum; ``pass_rate`` is the post-test's). ``hake_band`` is ``"negative"`` when the class's
        scores fell. ``n_ceiling`` people scored 100 % on the pre-test: they have no individual normalised
        gain, and no normalised change when they also scored 100 % on the post-test (Marx & Cummings
        leave out a score that could not move); they stay in every other number. ``n_fell``: people whose
        score fell.
    people : DataFrame
        One row per person and programme: ``employee_id, program, pre, post, delayed, gain,
        normalised_gain, normalised_change``.
    items : DataFrame
        Item difficulty (share correct, Wilson interval) and item-rest discrimination, when item data were
        given; else empty.
    rejected : DataFrame
        Pairs left out, with ``reason`` (e.g. a post-test taken before the pre-test).
    attempt : str
        Which attempt of a retaken post-test (or delayed test) was kept: first, best or last. The pre-test
        is always the first attempt (the baseline).
    level : float
    spec : mapping
    """

    summary_table: pd.DataFrame
    people: pd.DataFrame
    items: pd.DataFrame
    rejected: pd.DataFrame
    attempt: str
    level: float
    spec: Mapping[str, Any] = field(default_factory=dict)

    _TABLE = "summary_table"
    _TITLE = "Level 2: learning"

    def headline(self) -> dict[str, Any]:
        """Hake normalised gain of the first programme, with its interval."""
        r = self.summary_table.iloc[0]
        return {"metric": "normalised gain (Hake)", "estimate": float(r["hake_gain"]),
                "conf_low": float(r["hake_low"]), "conf_high": float(r["hake_high"]), "n": int(r["n"])}

    @property
    def estimate(self) -> float:
        """The headline: the mean gain of the first programme, in percentage points."""
        return float(self.summary_table["gain"].iloc[0])

    @property
    def std_error(self) -> float:
        """Standard error of the mean gain."""
        return float(self.summary_table["gain_std_error"].iloc[0])

    def _rows(self, level: float) -> list[Row]:
        keys = self._keys()
        rows: list[Row] = []
        for r in self.summary_table.to_dict("records"):
            n = int(r["n"])
            key = {"n": n, **{k: r[k] for k in keys}}
            lo, hi = t_interval(r["gain"], r["gain_std_error"], n, level)
            rows.append({"term": "gain", "estimate": r["gain"], "std_error": r["gain_std_error"],
                         "statistic": r["t_statistic"], "p_value": r["p_value"], "conf_low": max(lo, -100.0),
                         "conf_high": min(hi, 100.0), **key})
            lo, hi = _clipped_restated(r["hake_gain"], r["hake_low"], r["hake_high"], n, self.level, level,
                                       (-math.inf, 1.0))
            rows.append({"term": "hake_gain", "estimate": r["hake_gain"], "conf_low": lo, "conf_high": hi,
                         **key})
            m = int(r["n_change"])
            c, c_lo, c_hi = (r[k] for k in ("normalised_change", "normalised_change_low",
                                            "normalised_change_high"))
            lo, hi = _clipped_restated(c, c_lo, c_hi, m, self.level, level, (-1.0, 1.0))
            rows.append({"term": "normalised_change", "estimate": r["normalised_change"],
                         "conf_low": lo, "conf_high": hi, **key, "n": m})
            lo, hi = rescaled(r["hedges_g"], r["hedges_g_low"], r["hedges_g_high"], self.level, level)
            rows.append({"term": "hedges_g", "estimate": r["hedges_g"], "conf_low": lo, "conf_high": hi,
                         **key})
            lo, hi, _ = d_z_bounds(r["d_z"], n, level)
            rows.append({"term": "d_z", "estimate": r["d_z"], "conf_low": lo, "conf_high": hi, **key})
            if math.isfinite(r["pass_rate"]):
                for term, share in (("pass_rate_pre", r["pass_rate_pre"]), ("pass_rate", r["pass_rate"])):
                    rows.append(share_row(term, share, n, level, **{k: r[k] for k in keys}))
                change = paired_share_change(*self._passed(r), level)
                rows.append({"term": "pass_change", "estimate": change[0], "conf_low": change[1],
                             "conf_high": change[2], **key})
            if r["n_delayed"] > 1:
                lo, hi = t_restated(r["retention"], r["retention_low"], r["retention_high"],
                                    int(r["n_delayed"]), self.level, level)
                rows.append({"term": "retention", "estimate": r["retention"], "conf_low": lo, "conf_high": hi,
                             **key, "n": int(r["n_delayed"])})
        return rows

    def _passed(self, r: Mapping[str, Any]) -> tuple[np.ndarray, np.ndarray]:
        """Who passed the pre-test and the post-test, in the programme (and group) of summary row ``r``."""
        people = self.people
        for k in self._keys():
            people = people[people[k] == r[k]] if pd.notna(r[k]) else people[people[k].isna()]
        mark = 100 * float(self.spec["pass_mark"])
        return (people["pre"] >= mark).to_numpy(), (people["post"] >= mark).to_numpy()

    def _explain_parts(self) -> tuple[str, str, str]:
        return ("Level 2, learning", "the mean gain from pre-test to post-test (percentage points)",
                "The gain is measured on the participants only: without an untrained group it includes "
                "practice on the test and any learning that would have happened anyway.")

    def summary(self) -> str:
        lines = [f"Level 2 learning ({self.attempt} attempt of retaken tests; pre-test: first attempt)"]
        for r in self.summary_table.itertuples():
            lines.append(
                f"  {r.program}: n = {r.n}, pre {r.pre_mean:.1f} % -> post {r.post_mean:.1f} %, gain "
                f"{r.gain:.1f} points ({r.gain_low:.1f} to {r.gain_high:.1f}); Hake g {r.hake_gain:.2f} "
                f"({r.hake_low:.2f} to {r.hake_high:.2f}, {r.hake_band}); d_z {r.d_z:.2f} "
                f"({r.d_z_low:.2f} to {r.d_z_high:.2f}); Hedges' g {r.hedges_g:.2f} "
                f"({r.hedges_g_low:.2f} to {r.hedges_g_high:.2f})")
            lines.append(f"    normalised change c (Marx & Cummings) {r.normalised_change:.2f} "
                         f"({r.normalised_change_low:.2f} to {r.normalised_change_high:.2f}), "
                         f"n = {r.n_change}")
            if r.d_z_method == "normal approximation":
                lines.append("    d_z interval: normal approximation (the exact noncentral t interval could "
                             "not be found)")
            if r.n_fell:
                lines.append(f"    {r.n_fell} of {r.n} scored lower on the post-test than on the pre-test")
            if r.n_ceiling:
                lines.append(f"    {r.n_ceiling} scored 100 % on the pre-test: no individual normalised "
                             "gain; left out of c when also 100 % on the post-test")
            if math.isfinite(r.pass_rate):
                lines.append(f"    pass rate {r.pass_rate_pre:.0%} before -> {r.pass_rate:.0%} after "
                             f"({r.pass_low:.0%} to {r.pass_high:.0%}); change {100 * r.pass_change:+.0f} "
                             f"points ({100 * r.pass_change_low:+.0f} to {100 * r.pass_change_high:+.0f})")
            if r.n_delayed:
                lines.append(f"    retention of the gain at the delayed test {r.retention:.0%} "
                             f"({r.retention_low:.0%} to {r.retention_high:.0%}), n = {r.n_delayed}")
        if len(self.rejected):
            lines.append(f"  {len(self.rejected)} person(s) left out of the pre/post pairs (see .rejected)")
        lines += [f"  note: {n}" for n in self.spec.get("notes", [])]
        return "\n".join(lines)

    def __repr__(self) -> str:
        h = self.headline()
        return f"LearningResult(hake_gain={h['estimate']:.3g}, n={h['n']}, attempt={self.attempt!r})"


def _pick(df: pd.DataFrame, how: str) -> pd.DataFrame:
    """One row per person, programme and kind: the chosen attempt."""
    order = ["employee_id", "program", "kind", "_attempt", "taken_at"]
    df = df.sort_values(order, kind="mergesort")
    keys = ["employee_id", "program", "kind"]
    if how == "first":
        return df.groupby(keys, sort=False).head(1)
    if how == "last":
        return df.groupby(keys, sort=False).tail(1)
    return df.sort_values([*keys, "pct", "taken_at"], ascending=[True, True, True, False, True],
                          kind="mergesort").groupby(keys, sort=False).head(1)


def _ratio_ci(a: np.ndarray, b: np.ndarray, level: float) -> tuple[float, float, float]:
    """Ratio of means ``mean(a) / mean(b)`` with a delta-method interval (paired observations), on
    Student's t with ``n - 1`` df so that small groups get wide intervals."""
    n = len(a)
    if n < 2 or b.mean() == 0:
        return math.nan, math.nan, math.nan
    r = a.mean() / b.mean()
    cov = np.cov(a, b, ddof=1)
    var = (cov[0, 0] - 2 * r * cov[0, 1] + r * r * cov[1, 1]) / (n * b.mean() ** 2)
    half = float(stats.t.ppf(0.5 + level / 2, n - 1)) * math.sqrt(max(var, 0.0))
    return float(r), float(r - half), float(r + half)


def _summarise(g: pd.DataFrame, level: float, pass_mark: float | None) -> dict[str, Any]:
    pre, post = g["pre"].to_numpy(), g["post"].to_numpy()
    diff = post - pre
    n = len(g)
    gain, se, glo, ghi = mean_ci(diff, level)
    glo, ghi = max(glo, -100.0), min(ghi, 100.0)  # a gain in points of percent lies in [-100, 100]
    sd = float(diff.std(ddof=1)) if n > 1 else math.nan
    t_stat = gain / se if se and se > 0 else math.nan
    p = float(2 * stats.t.sf(abs(t_stat), n - 1)) if math.isfinite(t_stat) else math.nan
    # Hake (1998, Am. J. Phys. 66(1)): class-average gain <g> = (<post> - <pre>) / (100 - <pre>);
    # delta-method standard error from the covariance of (pre, diff), on Student's t with n - 1 df
    room = 100 - pre.mean()
    hake = gain / room if room > 0 else math.nan
    hlo = hhi = math.nan
    if n > 1 and room > 0:
        cov = np.cov(pre, diff, ddof=1)
        grad = np.array([gain / room**2, 1 / room])
        half = float(stats.t.ppf(0.5 + level / 2, n - 1)) * math.sqrt(max(grad @ cov @ grad / n, 0.0))
        hlo, hhi = hake - half, min(hake + half, 1.0)  # <post> is at most 100 %, so <g> at most 1
    change = g["normalised_change"].to_numpy()
    c_mean, _, c_lo, c_hi = mean_ci(change, level)
    c_lo, c_hi = max(c_lo, -1.0), min(c_hi, 1.0)
    d_z = gain / sd if sd and sd > 0 else math.nan
    dz_lo, dz_hi, dz_method = d_z_bounds(d_z, n, level)
    # Hedges' g_av for the paired design (Lakens 2013, Front. Psychol. 4:863, eq. 10), variance of d for
    # matched groups (Borenstein et al. 2009, Introduction to Meta-Analysis, eq. 4.28)
    s_av = math.sqrt((pre.var(ddof=1) + post.var(ddof=1)) / 2) if n > 1 else math.nan
    hg = hg_lo = hg_hi = math.nan
    if n > 2 and s_av > 0:
        d_av = gain / s_av
        r = float(np.corrcoef(pre, post)[0, 1]) if pre.std() > 0 and post.std() > 0 else 0.0
        j = 1 - 3 / (4 * (n - 1) - 1)
        hg = j * d_av
        var = j**2 * (1 / n + d_av**2 / (2 * n)) * 2 * (1 - r)
        half = z_value(level) * math.sqrt(max(var, 0.0))
        hg_lo, hg_hi = hg - half, hg + half
    passes: dict[str, float] = dict.fromkeys(PASS_COLUMNS, math.nan)
    if pass_mark is not None:
        before, after = pre >= 100 * pass_mark, post >= 100 * pass_mark
        passes["pass_rate"] = float(after.mean())
        passes["pass_low"], passes["pass_high"] = wilson(float(after.sum()), n, level)
        passes["pass_rate_pre"] = float(before.mean())
        passes["pass_pre_low"], passes["pass_pre_high"] = wilson(float(before.sum()), n, level)
        passes["pass_change"], passes["pass_change_low"], passes["pass_change_high"] = paired_share_change(
            before, after, level)
    ret = rlo = rhi = math.nan
    d = g.dropna(subset=["delayed"])
    if len(d) > 1:
        ret, rlo, rhi = _ratio_ci((d["delayed"] - d["pre"]).to_numpy(), (d["post"] - d["pre"]).to_numpy(),
                                  level)
    indiv = g["normalised_gain"].to_numpy()
    return {"n": n, "pre_mean": float(pre.mean()), "post_mean": float(post.mean()), "gain": gain,
            "gain_std_error": se, "gain_low": glo, "gain_high": ghi, "t_statistic": t_stat, "p_value": p,
            "hake_gain": hake, "hake_low": hlo, "hake_high": hhi, "hake_band": hake_band(hake),
            "mean_individual_gain": float(np.nanmean(indiv)) if np.isfinite(indiv).any() else math.nan,
            "normalised_change": c_mean, "normalised_change_low": c_lo, "normalised_change_high": c_hi,
            "n_change": int(np.isfinite(change).sum()), "n_ceiling": int(np.sum(pre >= 100)),
            "n_fell": int(np.sum(diff < 0)),
            "d_z": d_z, "d_z_low": dz_lo, "d_z_high": dz_hi, "d_z_method": dz_method, "hedges_g": hg,
            "hedges_g_low": hg_lo, "hedges_g_high": hg_hi, **passes, "retention": ret,
            "retention_low": rlo, "retention_high": rhi, "n_delayed": len(d)}


def _maxima_note(chosen: pd.DataFrame) -> list[str]:
    """A note when the pre-test and the post-test of a programme have different maximum scores."""
    notes = []
    for prog, g in chosen.groupby("program", sort=True):
        pre = sorted(g.loc[g["kind"] == "pre", "max_score"].astype(float).unique())
        post = sorted(g.loc[g["kind"] == "post", "max_score"].astype(float).unique())
        if pre and post and pre != post:
            before, after = (", ".join(f"{m:g}" for m in ms) for ms in (pre, post))
            notes.append(f"{prog}: the pre-test is out of {before} and the post-test out of {after}; scores "
                         "are compared as percent of each test's maximum")
    return notes


def _clipped_restated(estimate: float, low: float, high: float, n: int, from_level: float, to_level: float,
                      bounds: tuple[float, float]) -> tuple[float, float]:
    """A symmetric t interval of ``n`` values that was clipped to ``bounds`` at ``from_level``, restated at
    ``to_level`` and clipped again: its half-width is read from the side the clipping left whole (restating
    the clipped ends would shrink a side that reached a bound)."""
    half = max(estimate - low, high - estimate)
    lo, hi = t_restated(estimate, estimate - half, estimate + half, n, from_level, to_level)
    return max(lo, bounds[0]), min(hi, bounds[1])


def _unpaired(wide: pd.DataFrame, rows_of: pd.DataFrame) -> list[dict[str, Any]]:
    """The people without both a pre-test and a post-test: left out of the paired gain, each listed with
    the row of one of their tests and why."""
    reasons = {"pre": "no post-test: left out of the paired gain (people who left after the pre-test may "
                      "differ from those who stayed)",
               "post": "no pre-test: left out of the paired gain",
               "neither": "a delayed test only (no pre-test and no post-test): left out of the paired gain"}
    out = []
    for (e, p), r in wide[wide["pre"].isna() | wide["post"].isna()].iterrows():
        row = rows_of.loc[[(e, p)]]
        rows = row["source_row"] if "source_row" in row else pd.Series(dtype="float64")
        out.append({"employee_id": e, "program": p, "source_row": rows.iloc[0] if len(rows) else None,
                    "reason": reasons["pre" if pd.notna(r["pre"]) else "post" if pd.notna(r["post"])
                                      else "neither"]})
    return out


def _item_table(items: Any, level: float) -> pd.DataFrame:
    df = getattr(items, "frame", items)
    if not isinstance(df, pd.DataFrame) or not {"employee_id", "item", "correct"} <= set(df.columns):
        raise DataError("Item data need columns employee_id, item and correct (1 right, 0 wrong).",
                        hint="Pass items=DataFrame with those columns (one row per person and item).")
    bad = df[~df["correct"].isin([0, 1, True, False])]
    if len(bad):
        raise DataError(f"{len(bad)} item answer(s) are not 0/1 in column 'correct'.",
                        hint="Score each item 1 (right) or 0 (wrong) before passing it.")
    df = df.assign(correct=df["correct"].astype(float))
    wide = df.pivot_table(index="employee_id", columns="item", values="correct", aggfunc="first")
    rows = []
    for item in wide.columns:
        x = wide[item].dropna()
        k = float(x.sum())
        lo, hi = wilson(k, len(x), level)
        rest = wide.drop(columns=item).loc[x.index].sum(axis=1)
        varied = len(x) > 2 and x.std() > 0 and rest.std() > 0
        disc = float(np.corrcoef(x, rest)[0, 1]) if varied else math.nan
        rows.append({"item": item, "n": len(x), "difficulty": k / len(x), "conf_low": lo, "conf_high": hi,
                     "discrimination": disc})
    return pd.DataFrame(rows)


def learning(assessments: Any, *, attempt: Attempt = "first", pass_mark: float | None = None,
             by: str | Iterable[str] | None = None, items: Any = None, level: float = 0.95) -> LearningResult:
    """Level-2 learning: gains, normalised gain, paired effect sizes, pass rates, retention, item difficulty.

    Parameters
    ----------
    assessments : Table or DataFrame
        The canonical assessments table (``read_assessments``): ``kind`` pre / post / delayed. A DataFrame is
        read strictly (any bad row raises :class:`DataError`).
    attempt : {"first", "best", "last"}
        Which attempt of a retaken post-test (and delayed test) counts, by ``attempt`` then ``taken_at``;
        stated in the result. The pre-test is always the first attempt.
    pass_mark : float, optional
        Share of the maximum score needed to pass (e.g. 0.8); gives the pass rate at the post-test.
    by : str or list of str, optional
        Grouping columns beside ``program``.
    items : DataFrame, optional
        Item-level answers ``employee_id, item, correct`` for item difficulty and discrimination.
    level : float
        Confidence level.

    Returns
    -------
    LearningResult

    Raises
    ------
    DataError
        No ``max_score`` (percent scores and Hake's gain need it), no complete pre/post pair, bad item data.

    Notes
    -----
    A pair whose post-test was taken before its pre-test is rejected (``.rejected``, with a
    :class:`DataQualityWarning`), never silently swapped. A person with a pre-test and no post-test (or the
    reverse) is listed in ``.rejected`` with that reason and counted in :meth:`LearningResult.summary`.
    """
    level = check_level(level)
    check_option("attempt", attempt, ("first", "best", "last"))
    if pass_mark is not None and (isinstance(pass_mark, bool) or not 0 < float(pass_mark) <= 1):
        raise ValueError(f"The 'pass_mark' parameter is a share of the maximum score in (0, 1]. "
                         f"Got {pass_mark!r} instead.")
    df = as_frame(assessments, read_assessments, "assessments",
                  ("employee_id", "program", "kind", "score", "taken_at"))
    if "max_score" not in df or df["max_score"].isna().any():
        raise DataError("Some assessment rows have no max_score: scores cannot be put on a percent scale.",
                        hint="Give max_score on every row "
                             "(read_assessments(..., columns={'Max': 'max_score'})).")
    by_cols = [by] if isinstance(by, str) else list(by or [])
    df = df.assign(pct=100 * df["score"].astype(float) / df["max_score"].astype(float),
                   _attempt=df["attempt"].astype("float64") if "attempt" in df else np.nan,
                   kind=df["kind"].astype(str).str.lower())
    chosen = pd.concat([_pick(df[df["kind"] == "pre"], "first"),
                        _pick(df[df["kind"] != "pre"], attempt)])
    keys = ["employee_id", "program"]
    extra = {c: "first" for c in by_cols}
    wide = chosen.pivot_table(index=keys, columns="kind", values="pct", aggfunc="first")
    when = chosen.pivot_table(index=keys, columns="kind", values="taken_at", aggfunc="first")
    if {"pre", "post"} - set(wide.columns):
        raise DataError("The assessments hold no pre-test and post-test of the same person.",
                        hint="Each person needs one row of kind 'pre' and one of kind 'post'.")
    wide = wide.reindex(columns=["pre", "post", "delayed"])
    both = wide.dropna(subset=["pre", "post"])
    order_bad = when.loc[both.index, "post"] < when.loc[both.index, "pre"]
    rows_of = chosen.set_index(keys)
    rejected = [{"employee_id": e, "program": p,
                 "source_row": rows_of.loc[(e, p)].query("kind == 'post'")["source_row"].iloc[0]
                 if "source_row" in rows_of else None,
                 "reason": "post-test taken before the pre-test"}
                for e, p in both.index[order_bad.to_numpy()]]
    if rejected:
        warnings.warn(f"{len(rejected)} pre/post pair(s) have the post-test before the pre-test and were "
                      "left out (see .rejected).", DataQualityWarning, stacklevel=2)
    rejected += _unpaired(wide, rows_of)
    people = both[~order_bad.to_numpy()].reset_index()
    if by_cols:
        people = people.merge(chosen.groupby(keys).agg(extra).reset_index(), on=keys, how="left")
    people["gain"] = people["post"] - people["pre"]
    room = 100 - people["pre"]
    people["normalised_gain"] = np.where(room > 0, people["gain"] / room.where(room > 0), np.nan)
    people["normalised_change"] = normalised_change(people["pre"].to_numpy(), people["post"].to_numpy())
    if people.empty:
        raise DataError("No usable pre/post pair remains.",
                        hint="See the rejected pairs and fix their dates.")
    out = []
    for key, g in people.groupby(["program", *by_cols], sort=True, dropna=False):
        key = key if isinstance(key, tuple) else (key,)
        out.append({**dict(zip(["program", *by_cols], key, strict=True)), **_summarise(g, level, pass_mark)})
    item_table = _item_table(items, level) if items is not None else pd.DataFrame(
        columns=["item", "n", "difficulty", "conf_low", "conf_high", "discrimination"])
    spec = {"attempt": attempt, "pass_mark": pass_mark, "by": by_cols, "level": level,
            "notes": _maxima_note(chosen)}
    return LearningResult(summary_table=pd.DataFrame(out), people=people.rename_axis(None, axis=1),
                          items=item_table, rejected=pd.DataFrame(rejected, columns=list(REJECTED_COLUMNS)),
                          attempt=attempt, level=level, spec=spec)


__all__ = ["LearningResult", "d_z_interval", "hake_band", "learning"]
