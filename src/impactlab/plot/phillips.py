"""Charts of the Kirkpatrick/Phillips chain: the chain of evidence and the ROI distribution.

Functions of results, ``ax=None``, return the Axes; the deck theme of :mod:`impactlab.plot.theme`.
"""

from __future__ import annotations

import math
import textwrap
from typing import Any

import numpy as np
from matplotlib.axes import Axes
from matplotlib.patches import FancyArrowPatch, FancyBboxPatch

from impactlab.plot.theme import COLORS, deck_theme, figure_axes, finish, fmt_pct
from impactlab.results.probability import fmt_prob, fmt_prob_positive

_UNITS = {"ROI %": "%"}  # unit printed after the number on a card


def _fmt_value(x: float, unit: str = "") -> str:
    """A card number: whole numbers from 100 up (thousands separated), one decimal from 10, two below."""
    if x is None or not math.isfinite(x):
        return "n/a"
    a = abs(x)
    if a >= 100:
        text = f"{x:,.0f}"
    elif a >= 10:
        text = f"{x:.1f}"
    else:
        text = f"{x:.2f}"
    return text + unit


def chain(ch: Any, *, ax: Axes | None = None, title: str | None = None, footnote: str | None = None) -> Axes:
    """The chain of evidence: one card per level (estimate and interval), the link checks on the arrows.

    Parameters
    ----------
    ch : ChainResult
        From :func:`impactlab.kirkpatrick.chain`.
    ax : Axes, optional
    title, footnote : str, optional
        Replace the defaults (the title states how many links the data support).

    Returns
    -------
    Axes
    """
    if not (hasattr(ch, "levels") and hasattr(ch, "links")):
        raise TypeError(f"plot.chain expects a ChainResult (from impactlab.kirkpatrick.chain). "
                        f"Got {type(ch).__name__} instead.")
    levels = ch.levels.reset_index(drop=True)
    links = ch.links
    k = len(levels)
    with deck_theme():
        fig, ax, new = figure_axes(ax)
        ax.set_xlim(0, k)
        ax.set_ylim(0, 1)
        ax.axis("off")
        width = 0.82
        for i, r in levels.iterrows():
            x0 = i + (1 - width) / 2
            ax.add_patch(FancyBboxPatch((x0, 0.38), width, 0.5, boxstyle="round,pad=0.01,rounding_size=0.04",
                                        facecolor="#F2F6FA", edgecolor=COLORS["causal"], linewidth=1.8))
            cx = i + 0.5
            ax.text(cx, 0.82, f"Level {r['level']}", ha="center", va="center", fontsize=13, color="#444444")
            ax.text(cx, 0.75, str(r["name"]), ha="center", va="center", fontsize=18, fontweight="bold")
            unit = _UNITS.get(str(r["metric"]), "")
            ax.text(cx, 0.6, _fmt_value(r["estimate"], unit), ha="center", va="center", fontsize=24,
                    fontweight="bold", color=COLORS["causal"])
            ax.text(cx, 0.5, f"CI {_fmt_value(r['conf_low'], unit)} to {_fmt_value(r['conf_high'], unit)}",
                    ha="center", va="center", fontsize=12)
            ax.text(cx, 0.43, "\n".join(_wrap(str(r["metric"]), 21)), ha="center", va="center", fontsize=11,
                    color="#444444")
        level_pos = {int(v): i for i, v in enumerate(levels["level"])}
        for _, ln in links.iterrows():
            a, b = (int(s) for s in str(ln["link"]).split("->"))
            if a not in level_pos or b not in level_pos:
                continue
            ia, ib = level_pos[a], level_pos[b]
            y = 0.31 if ib - ia == 1 else 0.13
            ax.add_patch(FancyArrowPatch((ia + 0.58, y), (ib + 0.42, y), arrowstyle="-|>", mutation_scale=18,
                                         color=COLORS["grid"] if "no clear" in str(ln["reading"]) else
                                         COLORS["causal"], linewidth=2))
            est = (fmt_prob(ln["estimate"], exact=False) if ln["evidence"] == "P(ROI > 0)"
                   else _fmt_value(ln["estimate"]))
            interval = ("" if not math.isfinite(ln["conf_low"]) else
                        f" ({_fmt_value(ln['conf_low'])} to {_fmt_value(ln['conf_high'])})")
            label = "\n".join(textwrap.wrap(f"{ln['evidence']}: {est}{interval}", int(27 * (ib - ia)))[:3])
            ax.text((ia + ib + 1) / 2, y - 0.03, label, ha="center", va="top", fontsize=10.5, color="#333333")
        if title is None:
            supported = int(links["reading"].str.startswith(("those", "the effect")).sum())
            title = (f"Chain of evidence: {k} levels, {supported} of {len(links)} links supported by the data"
                     if len(links) else f"Chain of evidence: {k} levels, each with its interval")
        if footnote is None:
            footnote = str(getattr(ch, "caveat", "")) + " Cards: estimate and 95% interval of each level."
        finish(ax, title, footnote, new=new)
    return ax


def _wrap(text: str, width: int) -> list[str]:
    return textwrap.wrap(text, width)[:2]


def roi_distribution(r: Any, *, ax: Axes | None = None, title: str | None = None,
                     footnote: str | None = None, bins: int = 60) -> Axes:
    """Monte Carlo distribution of the ROI %, with the break-even line, the point ROI and its interval.

    Parameters
    ----------
    r : RoiResult
        From :func:`impactlab.roi` (its seeded draws, :meth:`RoiResult.distribution`).
    ax : Axes, optional
    title, footnote : str, optional
        Replace the defaults (the title states ``P(ROI > 0)`` and the interval).
    bins : int
        Histogram bins.

    Returns
    -------
    Axes
    """
    if not hasattr(r, "distribution") or not hasattr(r, "roi_pct"):
        raise TypeError(f"roi_distribution expects a RoiResult (from impactlab.roi). Got {type(r).__name__}.")
    draws = np.asarray(r.distribution("roi_pct"))
    level = float(getattr(r, "level", 0.95))
    lo, hi = r.conf_int(level)  # the headline interval (as in the summary and the waterfall), not the draws'
    with deck_theme():
        fig, ax, new = figure_axes(ax)
        counts, edges = np.histogram(draws, bins=bins)
        centres = (edges[:-1] + edges[1:]) / 2
        colors = [COLORS["causal"] if c >= 0 else COLORS["loss"] for c in centres]
        ax.bar(centres, counts / counts.sum(), width=np.diff(edges), color=colors, alpha=0.85,
               edgecolor="white", linewidth=0.4)
        ax.axvspan(lo, hi, color=COLORS["grid"], alpha=0.18, zorder=0)
        ax.axvline(0, color="#222222", linewidth=1.6, linestyle="--")
        ax.axvline(r.roi_pct, color=COLORS["gain"], linewidth=2.5)
        ax.text(r.roi_pct, ax.get_ylim()[1] * 0.96, f" point ROI {fmt_pct(r.roi_pct)}", va="top", fontsize=13)
        ax.set_xlabel("ROI % (Monte Carlo draws)")
        ax.set_ylabel("Share of draws")
        if title is None:
            title = (f"ROI {fmt_pct(r.roi_pct)} ({level:.0%} interval {fmt_pct(lo)} to {fmt_pct(hi)}); "
                     f"{fmt_prob_positive(r)}")
        if footnote is None:
            footnote = (f"{len(draws):,} seeded draws of the effect from its sampling distribution"
                        + (", value per unit and costs from their ranges" if r.method == "monte_carlo"
                           else "")
                        + f". Dashed line: break-even (ROI 0 %). Shaded: {level:.0%} interval.")
        finish(ax, title, footnote, new=new)
    return ax


def roi_sensitivity(d: Any, *, ax: Axes | None = None, title: str | None = None,
                    footnote: str | None = None) -> Axes:
    """ROI bounds as parallel trends are allowed to fail by more and more, with the breakdown value.

    Parameters
    ----------
    d : RoiSensitivityResult
        From :func:`impactlab.roi.roi_sensitivity`.
    ax : Axes, optional
    title, footnote : str, optional
        Replace the defaults (the title is the one-sentence answer).

    Returns
    -------
    Axes
    """
    if not (hasattr(d, "table") and hasattr(d, "breakdown") and hasattr(d, "sentence")):
        raise TypeError(f"plot.roi_sensitivity expects a RoiSensitivityResult (from impactlab.roi."
                        f"roi_sensitivity). Got {type(d).__name__} instead.")
    t = d.table
    sym = "M̄" if d.restriction == "relative_magnitude" else "M"
    with deck_theme():
        fig, ax, new = figure_axes(ax)
        ax.fill_between(t["M"], t["roi_lower"], t["roi_upper"], color=COLORS["causal"], alpha=0.25,
                        label=f"{d.level:.0%} robust interval")
        if np.isfinite(t["roi_id_lower"]).any():
            ax.plot(t["M"], t["roi_id_lower"], color=COLORS["causal"], linewidth=2, label="identified set")
            ax.plot(t["M"], t["roi_id_upper"], color=COLORS["causal"], linewidth=2)
        ax.axhline(0, color="#222222", linewidth=1.6, linestyle="--")
        if math.isfinite(d.breakdown) and d.breakdown > 0:
            ax.axvline(d.breakdown, color=COLORS["loss"], linewidth=2)
            ax.annotate(f" breakdown {sym} = {d.breakdown:.3g}", xy=(d.breakdown, 0), xytext=(6, 12),
                        textcoords="offset points", color=COLORS["loss"], fontsize=13)
        ax.set_xlabel(f"Allowed violation of parallel trends ({sym}, {d.restriction.replace('_', ' ')})")
        ax.set_ylabel("ROI %")
        ax.legend(loc="upper left", frameon=False, fontsize=12)
        if title is None:
            title = _doubt_title(d)
        if footnote is None:
            meaning = ("M̄ = 1: after training, the gap between trained and comparison employees may move "
                       "each period by as much as its largest move before training"
                       if d.restriction == "relative_magnitude" else
                       "M: how much the slope of the gap between trained and comparison employees may change "
                       "from one period to the next")
            footnote = (f"Bounds of Rambachan & Roth (2023) on the {d.target}, mapped to ROI at fixed value "
                        f"and costs; point ROI {fmt_pct(d.roi_pct)} under parallel trends. {meaning}. "
                        "Dashed line: break-even.")
        finish(ax, title, footnote, new=new)
    return ax


def _doubt_title(d: Any) -> str:
    """The takeaway of the ROI-under-doubt chart as a slide title (the full sentence: ``d.sentence()``)."""
    roi = fmt_pct(d.roi_pct)
    if d.breakdown == 0:
        return f"ROI {roi}, but even with parallel trends its {d.level:.0%} interval includes a loss"
    if math.isinf(d.breakdown):
        return f"ROI {roi} stays positive under every violation of parallel trends tested"
    m = f"{d.breakdown:.2g}"
    what = ("the largest pre-training move" if d.restriction == "relative_magnitude"
            else "a change of trend slope per period")
    return (f"ROI {roi} stays positive unless trends drift by more than {m} x {what} "
            f"(breakdown {'M̄' if d.restriction == 'relative_magnitude' else 'M'} = {m})")
