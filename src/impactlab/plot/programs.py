"""Programmes side by side: each programme's effect with its own interval and the interval adjusted for
comparing them all, ranked, with the ROI beside each (:func:`impactlab.portfolio`)."""

from __future__ import annotations

import math
import textwrap
from typing import Any

import numpy as np
import pandas as pd
from matplotlib.axes import Axes
from matplotlib.lines import Line2D
from matplotlib.ticker import FuncFormatter

from impactlab.plot.charts import _thousands, effect_unit
from impactlab.plot.theme import COLORS, deck_theme, figure_axes, finish, fmt_number, fmt_pct

#: Colour of a programme whose effect cannot be told from zero once all programmes are compared.
UNCLEAR = "#8C8C8C"
#: Columns of ``tidy(level)`` the chart reads.
_NEEDED = ("program", "estimate", "conf_low", "conf_high", "conf_low_simultaneous", "conf_high_simultaneous")


def ranked(result: Any, level: float = 0.95) -> pd.DataFrame:
    """One row per programme, largest estimated effect first: ``program``, ``estimate``, ``conf_low`` /
    ``conf_high`` (each programme alone), ``conf_low_simultaneous`` / ``conf_high_simultaneous`` (all
    programmes at once), ``verdict`` ("positive", "negative" or "unclear": where the simultaneous interval
    lies with respect to zero) and ``roi``, ``roi_low``, ``roi_high`` (percent at ``level``; NaN without
    costs). What :func:`portfolio` draws and the board deck's slide says."""
    programs = getattr(result, "programs", None)
    if not isinstance(programs, pd.DataFrame) or not callable(getattr(result, "tidy", None)):
        raise TypeError("plot.portfolio expects the result of impactlab.portfolio (a PortfolioResult). "
                        f"Got {type(result).__name__} instead.")
    frame = result.tidy(level)
    missing = [c for c in _NEEDED if c not in frame.columns]
    if missing:
        raise ValueError(f"plot.portfolio needs the column(s) {', '.join(missing)} in the result's tidy(); "
                         f"columns seen: {', '.join(map(str, frame.columns))}.")
    frame = frame.loc[:, list(_NEEDED)].sort_values("estimate", ascending=False, kind="stable")
    frame = frame.reset_index(drop=True)
    lo, hi = frame["conf_low_simultaneous"], frame["conf_high_simultaneous"]
    frame["verdict"] = np.where(lo > 0, "positive", np.where(hi < 0, "negative", "unclear"))
    rois = getattr(result, "roi_results", {}) or {}
    table = programs.set_index("program")
    roi = np.full((len(frame), 3), np.nan)
    for i, name in enumerate(frame["program"]):
        r = rois.get(name)
        if r is not None:
            r_lo, r_hi = r.conf_int(level)
            roi[i] = (float(r.roi_pct), float(r_lo), float(r_hi))
        elif "roi" in table.columns and level == 0.95:
            roi[i] = table.loc[name, ["roi", "roi_low", "roi_high"]].to_numpy(dtype="float64")
    frame["roi"], frame["roi_low"], frame["roi_high"] = roi[:, 0], roi[:, 1], roi[:, 2]
    return frame


def _colour(verdict: str) -> str:
    return {"positive": COLORS["causal"], "negative": COLORS["loss"]}.get(verdict, UNCLEAR)


def _default_title(frame: pd.DataFrame, outcome: str, unit: str) -> str:
    n = len(frame)
    up = int((frame["verdict"] == "positive").sum())
    down = int((frame["verdict"] == "negative").sum())
    top = frame.iloc[0]
    if not up and not down:
        return (f"None of the {n} programmes shows an effect on {outcome} distinguishable from zero "
                "once all are compared")
    head = (f"{up} of {n} programmes clearly raised {outcome}" if up
            else f"No programme clearly raised {outcome}")
    if down:
        head += f", {down} lowered it"
    return f"{head}; largest effect: {top['program']}, {fmt_number(float(top['estimate']))} {unit}"


def portfolio(result: Any, *, ax: Axes | None = None, title: str | None = None, footnote: str | None = None,
              currency: str | None = None, level: float = 0.95) -> Axes:
    """Programmes ranked by effect, each with its interval alone and its interval adjusted for comparing
    them all, the ROI beside each.

    Parameters
    ----------
    result : PortfolioResult
        From :func:`impactlab.portfolio`.
    ax : Axes, optional
        Where to draw; by default a new 16:9 figure (the ROI column then sits right of the axes; on axes
        of your own it is drawn there too, so leave room).
    title : str, optional
        Replaces the default, which counts the programmes with an effect distinguishable from zero and names
        the largest.
    footnote : str, optional
        Replaces the default footnote (what the dots, bars and colours are; the method).
    currency : str, optional
        The currency of the outcome when it is money (e.g. ``"USD"``), named on the axis.
    level : float
        Confidence level of both intervals and of the ROI's.

    Returns
    -------
    Axes

    Notes
    -----
    Largest estimated effect at the top. The dark bar is each programme's interval on its own; the pale,
    wider bar is the simultaneous (sup-t) interval, which holds all the programmes' effects at once with
    probability ``level``: the one to read when picking among programmes. A programme is coloured
    (blue up, vermillion down) when its pale bar lies on one side of zero, grey when it crosses zero.
    Ranking is of estimates: overlapping bars do not show that one programme beats another
    (``result.difference(a, b)`` gives the interval of the difference).
    """
    frame = ranked(result, level)
    spec = getattr(result, "spec", {}) or {}
    n = len(frame)
    outcome = getattr(result, "outcome", "") or "the outcome"
    y = np.arange(n)[::-1].astype("float64")
    has_roi = bool(np.isfinite(frame["roi"].to_numpy(dtype="float64")).any())
    size = 15 if n <= 5 else 13 if n <= 8 else 11
    pct = f"{level:.0%}"
    with deck_theme():
        fig, ax, new = figure_axes(ax)
        right = 0.72 if has_roi else 0.86
        if new:
            fig.subplots_adjust(left=0.2, right=right, top=0.74, bottom=0.2)
        for i, row in frame.iterrows():
            colour = _colour(str(row["verdict"]))
            ax.plot([row["conf_low_simultaneous"], row["conf_high_simultaneous"]], [y[i], y[i]], color=colour,
                    alpha=0.3, linewidth=22 if n <= 8 else 12, solid_capstyle="butt", gid="simultaneous")
            ax.plot([row["conf_low"], row["conf_high"]], [y[i], y[i]], color=colour, linewidth=5,
                    solid_capstyle="butt", gid="alone")
            ax.plot([row["estimate"]], [y[i]], "o", color=colour, markersize=13, markeredgecolor="white",
                    gid="estimate")
            effect = fmt_number(float(row["estimate"]))
            lines = [(effect + (", no clear effect" if row["verdict"] == "unclear" else ""), colour, "bold")]
            if has_roi:
                lines.append(("ROI n/a" if not math.isfinite(row["roi"]) else
                              f"ROI {fmt_pct(row['roi'])} ({fmt_pct(row['roi_low'])} to "
                              f"{fmt_pct(row['roi_high'])})", "#333333", "normal"))
            for k, (text, tint, weight) in enumerate(lines):
                ax.annotate(text, xy=(1.02, y[i]), xycoords=("axes fraction", "data"),
                            xytext=(0, (len(lines) / 2 - k - 0.5) * size * 1.35), textcoords="offset points",
                            ha="left", va="center", fontsize=size, color=tint, fontweight=weight,
                            annotation_clip=False, gid="label")
        ax.axvline(0, color=COLORS["truth"], linewidth=1.2, gid="zero")
        ax.annotate("no effect", xy=(0, 1.0), xycoords=("data", "axes fraction"), xytext=(4, -2),
                    textcoords="offset points", ha="left", va="top", fontsize=12, color="#444444")
        lows = np.r_[frame["conf_low_simultaneous"].to_numpy(dtype="float64"), 0.0]
        highs = np.r_[frame["conf_high_simultaneous"].to_numpy(dtype="float64"), 0.0]
        span = float(highs.max() - lows.min()) or 1.0
        ax.set_xlim(lows.min() - 0.06 * span, highs.max() + 0.06 * span)
        ax.set_ylim(-0.6, n - 0.4)
        ax.set_yticks(y, [textwrap.fill(str(p), 22, break_long_words=False) for p in frame["program"]],
                      fontsize=size)
        ax.grid(axis="y", visible=False)
        ax.set_xlabel(f"Effect on {outcome} ({effect_unit(spec, currency)})")
        ax.xaxis.set_major_formatter(FuncFormatter(_thousands))
        handles = [Line2D([], [], color=COLORS["causal"], linewidth=5,
                          label=f"{pct} interval, this programme alone"),
                   Line2D([], [], color=COLORS["causal"], alpha=0.3, linewidth=14,
                          label=f"{pct} interval, all {n} programmes at once")]
        ax.legend(handles=handles, loc="lower left", bbox_to_anchor=(0.0, 1.0), ncol=2, fontsize=13,
                  borderaxespad=0.3)
        if title is None:
            title = _default_title(frame, outcome, effect_unit(spec, None))
        if footnote is None:
            footnote = _footnote(result, frame, pct, has_roi)
        finish(ax, title, footnote, new=new)
        ax.tick_params(axis="y", labelsize=size)
        if title:  # above the legend; on a new figure it spans the ROI column too
            text = ax.get_title(loc="left")
            if new:
                width_pt = (0.97 - ax.get_position().x0) * fig.get_figwidth() * 72
                text = textwrap.fill(title, max(30, int(width_pt / (22 * 0.62))))
            ax.set_title(text, loc="left", fontsize=22, fontweight="bold", parse_math=False, y=1.09)
    return ax


def _footnote(result: Any, frame: pd.DataFrame, pct: str, has_roi: bool) -> str:
    n = len(frame)
    first = next(iter((getattr(result, "results", {}) or {}).values()), None)
    units = getattr(first, "n_units", None)
    seen = set(frame["verdict"])
    colours = [w for v, w in (("positive", "blue: raised"), ("negative", "vermillion: lowered"),
                              ("unclear", "grey: no effect distinguishable from zero")) if v in seen]
    parts = [f"Dark bars: each programme's {pct} interval on its own; pale bars: {pct} intervals holding "
             f"all {n} programmes at once (adjusted for comparing them), the ones to read when choosing; "
             f"{', '.join(colours)}."]
    parts.append("Programmes estimated together, effects assumed to add up for employees who took several "
                 "(imputation, Borusyak, Jaravel & Spiess 2024"
                 + (f"; {units:,} employees)." if isinstance(units, int) else ")."))
    if has_roi:
        parts.append(f"ROI with its {pct} interval, fully-loaded costs.")
    return " ".join(parts)
