"""The chain of evidence: reaction -> learning -> behaviour -> results -> ROI, and a check of each link.

The "New World" Kirkpatrick model asks for a chain of evidence that each level supports the next
(Kirkpatrick & Kirkpatrick 2016, ch. 2); the hierarchy is an assumption, not a law (Alliger et al. 1997
find weak correlations between levels). So every link is checked on the data and reported as evidence
for the chain, never as proof of it: people who learned more are not a random subset of the trained.

The strongest link check is the causal one: is the KPI effect larger for people who learned more? The
trained are split by terciles of their normalised learning gain and :func:`impactlab.callaway_santanna`
is fitted on each sub-panel (that tercile's trained plus every untrained unit), with the difference
between the top and bottom terciles and its standard error from the influence functions (units shared
by both fits, the untrained, enter both).
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from impactlab.errors import DataQualityWarning
from impactlab.estimators import callaway_santanna
from impactlab.kirkpatrick._ids import align_ids, as_ids
from impactlab.kirkpatrick._stats import check_level, correlation, z_value
from impactlab.panel import Panel
from impactlab.results.base import ReportedRows, Row, _fmt, frame_html, freeze_fields
from impactlab.results.probability import fmt_prob

LEVEL_NAMES = {1: "Reaction", 2: "Learning", 3: "Behaviour", 4: "Results", 5: "ROI"}
LEVEL_COLUMNS = ("level", "name", "metric", "estimate", "std_error", "conf_low", "conf_high", "n")
LINK_COLUMNS = ("link", "evidence", "estimate", "conf_low", "conf_high", "n", "reading")
#: Evidence of the 4 -> 5 link: a probability, printed by :func:`~impactlab.results.probability.fmt_prob`.
PROB_EVIDENCE = "P(ROI > 0)"
CAVEAT = ("Evidence for the chain, not proof: the links are associations among the trained (except the "
          "level-4 effect itself), and people who learned more may differ in other ways.")


@dataclass(frozen=True, repr=False, eq=False)
class ChainResult(ReportedRows):
    """The chain of evidence. Built by :func:`chain`; frozen (tables and arrays read-only).

    The headline (``estimate``, ``std_error``, ``conf_int(level)``) is the level-4 effect, the causal
    effect on the business result, as its own result reports it; NaN when the chain was built without
    one. ``tidy(level)`` has a row for it first, then one per other level and one per link, with the
    intervals of :attr:`levels` and :attr:`links` (computed at the chain's ``level``: at another level
    those rows have NaN bounds); ``.table`` is :attr:`levels`.

    Attributes
    ----------
    levels : DataFrame
        One row per level given: ``level, name, metric, estimate, std_error, conf_low, conf_high, n``
        (``std_error`` NaN where the level's headline has none).
    links : DataFrame
        One row per link checked: ``link, evidence, estimate, conf_low, conf_high, n, reading``.
    by_tercile : DataFrame
        KPI effect by learning-gain tercile (``tercile, gain_low, gain_high, n_trained, estimate,
        std_error, conf_low, conf_high``), empty without a panel.
    level : float
    caveat : str
    spec : mapping
    effect : result or None
        The level-4 result given to :func:`chain`.
    """

    levels: pd.DataFrame
    links: pd.DataFrame
    by_tercile: pd.DataFrame
    level: float
    caveat: str = CAVEAT
    spec: Mapping[str, Any] = field(default_factory=dict)
    effect: Any = None

    def __post_init__(self) -> None:
        freeze_fields(self)  # read-only tables and arrays (no copy): the result stays as built

    @property
    def estimate(self) -> float:
        """The headline: the level-4 effect (NaN without one)."""
        return math.nan if self.effect is None else float(self.effect.estimate)

    @property
    def std_error(self) -> float:
        """Standard error of the level-4 effect (NaN without one)."""
        return math.nan if self.effect is None else float(self.effect.std_error)

    def conf_int(self, level: float = 0.95) -> tuple[float, float]:
        """Interval of the level-4 effect at ``level`` ((nan, nan) without one)."""
        check_level(level)
        if self.effect is None:
            return math.nan, math.nan
        lo, hi = self.effect.conf_int(level)
        return float(lo), float(hi)

    @property
    def table(self) -> pd.DataFrame:
        """One row per level: :attr:`levels`."""
        return self.levels

    def _rows(self, level: float) -> list[Row]:
        lo, hi = self.conf_int(level)
        rows: list[Row] = [{"term": "level_4", "estimate": self.estimate, "std_error": self.std_error,
                            "conf_low": lo, "conf_high": hi, "kirkpatrick_level": 4, "name": LEVEL_NAMES[4]}]
        same = math.isclose(level, self.level)
        for r in self.levels.to_dict("records"):
            if r["level"] == 4:
                rows[0].update(metric=r["metric"], n=r["n"])
                continue
            rows.append({"term": f"level_{r['level']}", "estimate": r["estimate"],
                         "std_error": r["std_error"], "conf_low": r["conf_low"] if same else math.nan,
                         "conf_high": r["conf_high"] if same else math.nan, "kirkpatrick_level": r["level"],
                         **{k: r[k] for k in ("name", "metric", "n")}})
        for r in self.links.to_dict("records"):
            rows.append({"term": f"link {r['link']}", "estimate": r["estimate"],
                         "conf_low": r["conf_low"] if same else math.nan,
                         "conf_high": r["conf_high"] if same else math.nan,
                         **{k: r[k] for k in ("link", "evidence", "n", "reading")}})
        return rows

    def _title(self) -> str:
        return "Chain of evidence"

    def explain(self, level: float = 0.95) -> Any:
        """The chain in plain language (an :class:`~impactlab.results.explain.Explanation`)."""
        from impactlab.results.explain import explain_chain

        return explain_chain(self, level)

    def summary(self) -> str:
        lines = ["Chain of evidence"]
        for r in self.levels.itertuples():
            lines.append(f"  {r.level} {r.name}: {r.metric} {_fmt(r.estimate)} ({self.level:.0%} CI "
                         f"{_fmt(r.conf_low)} to {_fmt(r.conf_high)})")
        for r in self.links.itertuples():
            est = fmt_prob(r.estimate, exact=False) if r.evidence == PROB_EVIDENCE else _fmt(r.estimate)
            lines.append(f"  link {r.link}: {r.evidence} {est} ({_fmt(r.conf_low)} to "
                         f"{_fmt(r.conf_high)}), n = {r.n}: {r.reading}")
        lines.append(f"  {self.caveat}")
        return "\n".join(lines)

    def _repr_html_(self) -> str:
        return frame_html(pd.concat([self.levels, self.links], ignore_index=True), "Chain of evidence",
                          [self.caveat])

    def __repr__(self) -> str:
        return f"ChainResult(levels={list(self.levels['level'])}, links={len(self.links)})"


def _reading(lo: float, hi: float, positive: str, none: str) -> str:
    if not (math.isfinite(lo) and math.isfinite(hi)):
        return "cannot be checked (too few data)"
    if lo > 0:
        return positive
    if hi < 0:
        return "goes against the chain"
    return none


def _level_rows(reaction: Any, learning: Any, behavior: Any, results: Any, roi: Any,
                level: float) -> list[dict[str, Any]]:
    rows = []
    for lvl, obj in ((1, reaction), (2, learning), (3, behavior)):
        if obj is not None:
            h = obj.headline()
            rows.append({"level": lvl, "name": LEVEL_NAMES[lvl], "std_error": h.get("std_error", math.nan),
                         **{k: h[k] for k in ("metric", "estimate", "conf_low", "conf_high", "n")}})
    if results is not None:
        lo, hi = results.conf_int(level)
        n = getattr(results, "n_units", None)
        rows.append({"level": 4, "name": LEVEL_NAMES[4],
                     "metric": f"causal effect on {getattr(results, 'outcome', '') or 'the KPI'}",
                     "estimate": float(results.estimate),
                     "std_error": float(getattr(results, "std_error", math.nan)),
                     "conf_low": lo, "conf_high": hi,
                     "n": int(n) if isinstance(n, (int, np.integer)) else None})
    if roi is not None:
        lo, hi = roi.conf_int(level)
        rows.append({"level": 5, "name": LEVEL_NAMES[5], "metric": "ROI %", "estimate": float(roi.roi_pct),
                     "std_error": float(roi.std_error), "conf_low": lo, "conf_high": hi, "n": None})
    return rows


def effect_by_gain(panel: Panel, people: pd.DataFrame, *, groups: int = 3, level: float = 0.95,
                   **cs_kwargs: Any) -> tuple[pd.DataFrame, dict[str, Any]]:
    """KPI effect by learning-gain group (terciles by default) and the top-minus-bottom difference.

    ``people`` has ``employee_id`` and ``normalised_gain`` (from :func:`impactlab.kirkpatrick.learning`),
    its ids matched to the panel's units by the rule of :func:`impactlab.build_panel` (leading zeros,
    case). Trained units without a gain are left out of every sub-panel; the untrained are in all.
    """
    long = panel.long()
    trained_units = long.loc[long["cohort_period"] > 0, "unit"].unique()
    key = pd.Index(trained_units).astype(str)
    scored = people.dropna(subset=["normalised_gain"])
    mapped, said = align_ids(pd.Series(key), scored["employee_id"], names=("panel", "learning people"))
    for sentence in said:
        warnings.warn(f"effect_by_gain(): {sentence}", DataQualityWarning, stacklevel=2)
    gains = scored.assign(employee_id=mapped.astype(str)).groupby("employee_id")["normalised_gain"].mean()
    g = pd.Series(gains.reindex(key).to_numpy(), index=trained_units).dropna()
    if len(g) < 3 * groups:
        raise ValueError(f"Only {len(g)} trained units have a learning gain: too few for {groups} groups.")
    bins = pd.qcut(g.rank(method="first"), groups, labels=False)
    # the normalised long frame, not panel.data: a time column named "period" collides there
    data = long[["unit", "time", "outcome", "cohort", "cluster", *panel.covariates]]
    never = long.loc[long["cohort_period"] == 0, "unit"].unique()
    z = z_value(level)
    rows, fits = [], []
    for b in range(groups):
        units = set(g.index[bins == b]) | set(never)
        sub = data[data["unit"].isin(units)]
        p = Panel.from_frame(sub, unit="unit", time="time", outcome="outcome", cohort="cohort",
                             covariates=panel.covariates, cluster="cluster" if panel.cluster else None)
        res = callaway_santanna(p, **cs_kwargs)
        simple = res.aggregate("simple")
        fits.append((res, simple))
        rows.append({"tercile" if groups == 3 else "group": b + 1, "gain_low": float(g[bins == b].min()),
                     "gain_high": float(g[bins == b].max()), "n_trained": int((bins == b).sum()),
                     "estimate": float(simple.estimate), "std_error": float(simple.std_error),
                     "conf_low": float(simple.estimate - z * simple.std_error),
                     "conf_high": float(simple.estimate + z * simple.std_error)})
    table = pd.DataFrame(rows)
    (r_lo, s_lo), (r_hi, s_hi) = fits[0], fits[-1]
    contrib = pd.Series(0.0, index=pd.Index(sorted(set(r_lo.unit_ids) | set(r_hi.unit_ids), key=str)))
    contrib = contrib.add(pd.Series(np.asarray(s_hi.influence) / len(r_hi.unit_ids), index=r_hi.unit_ids),
                          fill_value=0.0)
    contrib = contrib.sub(pd.Series(np.asarray(s_lo.influence) / len(r_lo.unit_ids), index=r_lo.unit_ids),
                          fill_value=0.0)
    if panel.cluster:
        clusters = long.drop_duplicates("unit").set_index("unit")["cluster"]
        contrib = contrib.groupby(clusters.reindex(contrib.index).to_numpy()).sum()
    diff = float(s_hi.estimate - s_lo.estimate)
    se = float(np.sqrt(np.sum(contrib.to_numpy() ** 2)))
    return table, {"estimate": diff, "std_error": se, "conf_low": diff - z * se, "conf_high": diff + z * se,
                   "n": int(len(g))}


def _joined(left: pd.DataFrame, right: pd.DataFrame, names: tuple[str, str], said: list[str]) -> pd.DataFrame:
    """The people of two levels joined on employee and programme, the right's ids matched to the left's by
    the rule of :func:`impactlab.build_panel` (leading zeros, case); what the rule did goes to ``said``."""
    left = left.assign(employee_id=as_ids(left["employee_id"]).astype(str))
    mapped, notes = align_ids(left["employee_id"], right["employee_id"], names=names)
    said += [f"{names[0]} -> {names[1]}: {n}" for n in notes]
    return left.merge(right.assign(employee_id=mapped.astype(str)), on=["employee_id", "program"])


def chain(*, reaction: Any = None, learning: Any = None, behavior: Any = None, results: Any = None,
          roi: Any = None, panel: Panel | None = None, level: float = 0.95,
          cs_kwargs: Mapping[str, Any] | None = None) -> ChainResult:
    """The chain of evidence from reaction to ROI, with a check of each link.

    Parameters
    ----------
    reaction, learning, behavior : results of :func:`reaction`, :func:`learning`, :func:`behavior`, optional
    results : result, optional
        The level-4 causal effect (anything with ``.estimate`` and ``.conf_int(level)``).
    roi : RoiResult, optional
        Level 5.
    panel : Panel, optional
        The panel of the KPI. With ``learning`` it gives the causal link check: the KPI effect by
        learning-gain tercile (``callaway_santanna`` on each sub-panel) and the top-minus-bottom difference.
    level : float
        Confidence level.
    cs_kwargs : mapping, optional
        Arguments for :func:`impactlab.callaway_santanna` in the tercile fits (e.g. ``control``); by
        default those of ``results`` when it carries a callaway_santanna spec.

    Returns
    -------
    ChainResult
        ``levels`` (an interval at every level given), ``links``, ``by_tercile``; stated as evidence,
        not proof.
    """
    level = check_level(level)
    levels = pd.DataFrame(_level_rows(reaction, learning, behavior, results, roi, level),
                          columns=list(LEVEL_COLUMNS))
    if levels.empty:
        raise ValueError("chain() needs at least one level: pass reaction=, learning=, behavior=, "
                         "results= or roi=.")
    links = []
    said: list[str] = []
    if reaction is not None and learning is not None:
        m = _joined(reaction.respondents, learning.people, ("reaction", "learning"), said)
        c = correlation(m["reaction"].to_numpy(), m["normalised_gain"].to_numpy(), level)
        reading = _reading(c["conf_low"], c["conf_high"], "those who liked it more learned more",
                           "no clear association (common: reactions predict learning weakly)")
        links.append({"link": "1 -> 2", "evidence": "correlation of reaction with normalised gain", **c,
                      "reading": reading})
    if learning is not None and behavior is not None:
        m = _joined(learning.people, behavior.people, ("learning", "behaviour"), said)
        c = correlation(m["normalised_gain"].to_numpy(), m["change"].to_numpy(), level)
        reading = _reading(c["conf_low"], c["conf_high"], "those who learned more changed more",
                           "no clear association")
        links.append({"link": "2 -> 3", "evidence": "correlation of normalised gain with behaviour change",
                      **c, "reading": reading})
    by_tercile = pd.DataFrame()
    if learning is not None and panel is not None:
        kwargs = dict(cs_kwargs or {})
        if not kwargs and isinstance(getattr(results, "spec", None), Mapping):
            spec = results.spec
            kwargs = {k: spec[k] for k in ("control", "method", "anticipation", "base_period") if k in spec}
        by_tercile, d = effect_by_gain(panel, learning.people, level=level, **kwargs)
        links.append({"link": "2 -> 4", "evidence": "KPI effect, top minus bottom learning-gain tercile",
                      **{k: d[k] for k in ("estimate", "conf_low", "conf_high", "n")},
                      "reading": _reading(d["conf_low"], d["conf_high"],
                                          "the effect is larger for those who learned more",
                                          "no clear difference in effect by learning")})
    if results is not None and roi is not None:
        p = float(roi.prob_positive)
        links.append({"link": "4 -> 5", "evidence": PROB_EVIDENCE, "estimate": p, "conf_low": math.nan,
                      "conf_high": math.nan, "n": None,
                      "reading": "the effect likely pays for the programme" if p >= 0.9 else
                      "the effect may not pay for the programme"})
    spec = {"level": level, "cs_kwargs": dict(cs_kwargs or {}), "has_panel": panel is not None, "ids": said}
    for sentence in said:
        warnings.warn(f"chain(): {sentence}", DataQualityWarning, stacklevel=2)
    link_table = pd.DataFrame(links, columns=list(LINK_COLUMNS))
    link_table["n"] = link_table["n"].astype("Int64")
    levels["n"] = levels["n"].astype("Int64")
    return ChainResult(levels=levels, links=link_table,
                       by_tercile=by_tercile, level=level, spec=spec, effect=results)
