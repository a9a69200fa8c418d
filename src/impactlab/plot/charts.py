"""Deck charts of results: event study, naive vs causal comparison, ROI waterfall.

Each function takes a result (keyword-only options after it), draws on ``ax`` or on a new 16:9 figure,
and returns the Axes. Titles state the takeaway with its number; footnotes say the method and the data.
Nothing is shown (no ``plt.show()``): notebooks display the figure, :func:`impactlab.plot.save` writes it.
"""

from __future__ import annotations

import math
import textwrap
from collections.abc import Mapping
from typing import Any

import numpy as np
import pandas as pd
from matplotlib.axes import Axes
from matplotlib.ticker import FuncFormatter

from impactlab.plot.theme import COLORS, deck_theme, figure_axes, finish, fmt_money, fmt_number, fmt_pct
from impactlab.results.base import critical_value
from impactlab.results.probability import fmt_prob_positive


def _frame_of(obj: Any, what: str, required: tuple[str, ...], attr: str) -> pd.DataFrame:
    """The frame a chart needs from a result (``attr``) or a DataFrame, with ``required`` columns."""
    if isinstance(obj, pd.DataFrame):
        frame = obj
    elif attr == "tidy" and callable(getattr(obj, "tidy", None)):
        frame = obj.tidy()
    elif isinstance(getattr(obj, attr, None), pd.DataFrame):
        frame = getattr(obj, attr)
    else:
        raise TypeError(f"{what} expects a result with .{attr} or a DataFrame with columns "
                        f"{', '.join(required)}. Got {type(obj).__name__} instead.")
    missing = [c for c in required if c not in frame.columns]
    if missing:
        raise ValueError(f"{what} needs the column(s) {', '.join(missing)}; columns seen: "
                         f"{', '.join(map(str, frame.columns))}.")
    if frame.empty:
        raise ValueError(f"{what}: there is nothing to plot (the frame has no rows).")
    return frame


def _window(spec: Any) -> str:
    """The data window a result's spec records, as text (``""`` if it records none)."""
    if not isinstance(spec, Mapping):
        return ""
    if spec.get("data_window"):
        return f"data {spec['data_window']}"
    first, last = spec.get("first_period"), spec.get("last_period")
    return f"data {first} to {last}" if first is not None and last is not None else ""


def _method_note(result: Any) -> str:
    parts = []
    label = getattr(result, "label", "") or getattr(result, "method", "")
    if label:
        parts.append(f"Method: {label}")
    n_units, n_obs = getattr(result, "n_units", None), getattr(result, "n_obs", None)
    if n_units is not None and n_obs is not None:
        parts.append(f"{n_units:,} units, {n_obs:,} observations")
    window = _window(getattr(result, "spec", None))
    if window:
        parts.append(window)
    return "; ".join(parts)


def per_period(spec: Any) -> str:
    """"per month", "per week", "per quarter"... from a result's recorded period frequency."""
    freq = str(spec.get("freq") or "") if isinstance(spec, Mapping) else ""
    first = spec.get("first_period") if isinstance(spec, Mapping) else None
    if not freq and isinstance(first, pd.Period):  # results that record their data window, not the freq
        freq = str(first.freqstr)
    names = {"M": "month", "W": "week", "Q": "quarter", "Y": "year", "A": "year", "D": "day"}
    key = freq.lstrip("0123456789")[:1].upper()
    return f"per {names[key]}" if key in names else "per period"


def effect_unit(spec: Any, currency: str | None) -> str:
    """The unit of an effect per employee: "USD per employee per month" (no currency: without it)."""
    money = f"{currency} " if currency else ""
    return f"{money}per employee {per_period(spec)}"


# ---------------------------------------------------------------------- event study
def event_study(result: Any, *, ax: Axes | None = None, title: str | None = None,
                footnote: str | None = None, level: float = 0.95, data_window: str | None = None,
                onset_shift: int = 0, currency: str | None = None) -> Axes:
    """Effect by time since training, with confidence intervals.

    Parameters
    ----------
    result : EffectResult or DataFrame
        A result whose ``elements`` has ``event_time``, ``estimate``, ``std_error`` (e.g.
        ``callaway_santanna(panel).aggregate("dynamic")``), or a frame with those columns.
    ax : Axes, optional
        Where to draw; by default a new 16:9 figure.
    title : str, optional
        Replaces the default title, which states the average post-training effect and its interval.
    footnote : str, optional
        Replaces the default footnote (method, units, observations, data window when recorded).
    level : float
        Confidence level of the pointwise intervals.
    data_window : str, optional
        The data window for the footnote (e.g. ``il.plot.data_window(panel)``) when the result's spec
        records none.
    onset_shift : int
        For a result fitted on a roll-out re-dated to the start of anticipation (event time 0 is this many
        periods before training, as :func:`impactlab.sensitivity` needs): the axis is shifted back so that
        0 is training again, those periods are drawn as the anticipation window, and the default title
        averages the points from training on (the result's own estimate would include them).
    currency : str, optional
        The currency of the outcome when it is money (e.g. ``"USD"``), named on the axis.

    Returns
    -------
    Axes

    Notes
    -----
    Pre-training estimates (event time < 0) are placebo checks: near zero supports parallel trends.
    The dashed line separates them from the effects (event time >= 0). Intervals are pointwise.
    """
    frame = _frame_of(result, "event_study", ("event_time", "estimate", "std_error"), "elements")
    frame = frame.sort_values("event_time")
    crit = critical_value(level)
    if isinstance(onset_shift, bool) or not isinstance(onset_shift, int) or onset_shift < 0:
        raise ValueError(f"The 'onset_shift' parameter must be a whole number of periods >= 0. "
                         f"Got {onset_shift!r} instead.")
    e = frame["event_time"].to_numpy(dtype="float64") - onset_shift
    est = frame["estimate"].to_numpy(dtype="float64")
    half = crit * frame["std_error"].to_numpy(dtype="float64")
    spec = getattr(result, "spec", None)
    ant = int(spec.get("anticipation", 0) or 0) if isinstance(spec, Mapping) else 0
    ant = max(ant, onset_shift)
    word = per_period(spec).removeprefix("per ")
    with deck_theme():
        fig, ax, new = figure_axes(ax)
        groups = ((e < -ant, "pre", "Before training (placebo)"),
                  ((e >= -ant) & (e < 0), "other", f"Anticipation window ({ant} {word}"
                                                    f"{'s' if ant > 1 else ''})"),
                  (e >= 0, "post", "After training"))
        for mask, key, name in groups:
            if mask.any():
                ax.errorbar(e[mask], est[mask], yerr=half[mask], fmt="o", color=COLORS[key],
                            ecolor=COLORS[key], elinewidth=2.5, capsize=5, markersize=10, label=name)
        ax.axhline(0, color=COLORS["truth"], linewidth=1.2)
        ax.axvline(-0.5, color=COLORS["grid"], linestyle="--", linewidth=1.5)
        ax.set_xlabel(f"{word.capitalize()}s since training")
        outcome = getattr(result, "outcome", "")
        unit = effect_unit(spec, currency)
        ax.set_ylabel(f"Effect on {outcome} ({unit})" if outcome else f"Effect ({unit})")
        ax.xaxis.set_major_locator(_integer_locator())
        ax.yaxis.set_major_formatter(FuncFormatter(_thousands))
        ax.legend(loc="upper left")
        post = e >= 0
        if title is None:
            if hasattr(result, "estimate") and hasattr(result, "conf_int") and not onset_shift:
                avg = float(result.estimate)
                lo, hi = result.conf_int(level)
                title = (f"After training the effect averages {fmt_number(avg)} {per_period(spec)} "
                         f"({level:.0%} CI {fmt_number(lo)} to {fmt_number(hi)})")
            elif post.any():
                avg = float(est[post].mean())
                title = (f"After training the effect averages {fmt_number(avg)} {per_period(spec)} "
                         f"over event times 0 to {int(e[post].max())}")
            else:
                title = "No post-training event times to show"
        if footnote is None:
            note = _method_note(result)
            if data_window and "data " not in note:
                note = f"{note}; data {data_window}" if note else f"Data {data_window}"
            placebo = bool((e < -ant).any())  # pre-training event times outside the anticipation window
            footnote = (f"{note + '. ' if note else ''}Points: effect at each period since training; "
                        f"bars: pointwise {level:.0%} confidence intervals. Left of the dashed line: "
                        "before training" + (f"; the last {ant} may already show the effect (anticipation)"
                                             + (", the earlier ones are placebo checks." if placebo else ".")
                                             if ant else " (placebo checks)."))
        finish(ax, title, footnote, new=new)
    return ax


def _thousands(v: float, _pos: Any = None) -> str:
    return format(v, ",.6g")


def _integer_locator() -> Any:
    from matplotlib.ticker import MaxNLocator

    return MaxNLocator(integer=True)


# ---------------------------------------------------------------------- naive vs causal
def _pick(frame: pd.DataFrame, method: str | None, fallback: Any) -> int:
    if method is not None:
        hits = np.flatnonzero(frame["method"].astype(str).to_numpy() == method)
        if not len(hits):
            raise ValueError(f"No row has method {method!r}; methods seen: "
                             f"{', '.join(map(str, frame['method']))}.")
        return int(hits[0])
    return int(fallback)


def compare(cmp: Any, *, ax: Axes | None = None, title: str | None = None, footnote: str | None = None,
            truth: float | None = None, naive_method: str | None = None,
            causal_method: str | None = None, currency: str | None = None) -> Axes:
    """Naive and causal estimates side by side, with confidence intervals and the truth when known.

    Parameters
    ----------
    cmp : CompareResult or DataFrame
        ``cmp.tidy()`` (or the frame) must have ``method``, ``label``, ``estimate``, ``conf_low``,
        ``conf_high``; a ``causal`` column, when present, marks the causal rows.
    ax : Axes, optional
    title : str, optional
        Replaces the default: "Naive comparison says +X; the causal estimate is +Y (95% CI a to b)".
    footnote : str, optional
    truth : float, optional
        The true effect (simulated data); by default ``cmp.truth`` when it exists.
    naive_method, causal_method : str, optional
        Methods to name in the title. Defaults: ``naive_difference`` (else the first row) and
        ``cmp.causal_method`` (else ``callaway_santanna``, else the first causal row, else the last row).
    currency : str, optional
        The currency of the outcome when it is money (e.g. ``"USD"``), named on the axis.

    Returns
    -------
    Axes
    """
    frame = _frame_of(cmp, "compare", ("method", "label", "estimate", "conf_low", "conf_high"), "tidy")
    if isinstance(getattr(cmp, "results", None), Mapping):  # the comparison's display order, not tidy's
        order = {m: i for i, m in enumerate(cmp.results)}
        frame = frame.sort_values("method", key=lambda s: s.map(order), kind="stable")
    frame = frame.reset_index(drop=True)
    methods = frame["method"].astype(str).tolist()
    if truth is None:
        truth = getattr(cmp, "truth", None)
    if truth is not None and not math.isfinite(float(truth)):
        truth = None
    is_causal = (frame["causal"].astype(bool).to_numpy() if "causal" in frame
                 else np.array([m == "callaway_santanna" for m in methods]))
    naive_default = methods.index("naive_difference") if "naive_difference" in methods else 0
    preferred = [m for m in (getattr(cmp, "causal_method", None), "callaway_santanna") if m in methods]
    if preferred:
        causal_default = methods.index(preferred[0])
    else:
        causal_default = int(np.flatnonzero(is_causal)[0]) if is_causal.any() else len(frame) - 1
    i_naive = _pick(frame, naive_method, naive_default)
    i_causal = _pick(frame, causal_method, causal_default)

    y = np.arange(len(frame))[::-1]
    with deck_theme():
        fig, ax, new = figure_axes(ax)
        for i, row in frame.iterrows():
            role = "naive" if i == i_naive else "causal" if (i == i_causal or is_causal[i]) else "other"
            color = COLORS[role]
            ax.plot([row["conf_low"], row["conf_high"]], [y[i], y[i]], color=color, linewidth=5,
                    solid_capstyle="butt", alpha=0.8)
            ax.plot(row["estimate"], y[i], "o", color=color, markersize=14, markeredgecolor="white")
            ax.annotate(fmt_number(float(row["estimate"])), (row["conf_high"], y[i]), xytext=(10, 0),
                        textcoords="offset points", va="center", fontsize=15, color=color, fontweight="bold")
        ax.axvline(0, color=COLORS["grid"], linewidth=1.2)
        if truth is not None:
            ax.axvline(float(truth), color=COLORS["truth"], linestyle="--", linewidth=2,
                       label=f"True effect ({fmt_number(float(truth))})")
            ax.legend(loc="lower right")
        labels = [textwrap.fill(str(lbl) if isinstance(lbl, str) and lbl else m, 32)  # long names: two lines
                  for lbl, m in zip(frame["label"], methods, strict=True)]
        ax.set_yticks(y, labels)
        ax.grid(axis="y", visible=False)
        ax.set_ylim(-0.7, len(frame) - 0.3)
        lo = min(frame["conf_low"].min(), 0.0, truth if truth is not None else 0.0)
        hi = max(frame["conf_high"].max(), 0.0, truth if truth is not None else 0.0)
        ax.set_xlim(lo - 0.05 * (hi - lo or 1), hi + 0.18 * (hi - lo or 1))  # room for the value labels
        outcome = getattr(cmp, "outcome", "")
        head = getattr(getattr(cmp, "causal", None), "spec", None)
        ax.set_xlabel(f"Estimated effect of training{' on ' + outcome if outcome else ''} "
                      f"({effect_unit(head, currency)})")
        ax.xaxis.set_major_formatter(FuncFormatter(_thousands))
        if new:
            fig.subplots_adjust(left=0.27)
        if title is None:
            n, c = frame.iloc[i_naive], frame.iloc[i_causal]
            title = (f"Naive comparison says {fmt_number(float(n['estimate']))}; the causal estimate is "
                     f"{fmt_number(float(c['estimate']))} (95% CI {fmt_number(float(c['conf_low']))} to "
                     f"{fmt_number(float(c['conf_high']))})")
        if footnote is None:
            window = _window(getattr(cmp, "spec", None))
            roles = {"naive" if i == i_naive else "causal" if (i == i_causal or is_causal[i]) else "other"
                     for i in range(len(frame))}
            footnote = ("Points: estimates; bars: 95% confidence intervals. Vermillion: naive comparison of "
                        "trained vs untrained; blue: causal (difference-in-differences) estimate"
                        + ("; orange: the other estimates of the comparison, shown for reference, not the "
                           "headline" if "other" in roles else "")
                        + ("; dashed line: the true effect of the simulated data" if truth is not None
                           else "") + (f". {window[0].upper()}{window[1:]}." if window else "."))
        finish(ax, title, footnote, new=new)
    return ax


# ---------------------------------------------------------------------- ROI waterfall
def _cost_steps(r: Any) -> list[tuple[str, float]]:
    """The cost steps of a waterfall: each non-zero Phillips category, else one fully-loaded cost."""
    needed = ("benefit", "cost", "net_benefit", "roi_pct", "bcr", "conf_int", "prob_positive")
    missing = [n for n in needed if not hasattr(r, n)]
    if missing:
        raise TypeError(f"roi_waterfall expects a RoiResult (from impactlab.roi). {type(r).__name__} lacks "
                        f"{', '.join(missing)}.")
    costs = getattr(r, "costs", None)
    steps: list[tuple[str, float]] = []
    if costs is not None and hasattr(costs, "table"):
        t = costs.table()
        steps = [(str(c).replace("_", " ").capitalize(), float(p))
                 for c, p in zip(t["category"], t["point"], strict=True) if p > 0]
    return steps or [("Fully-loaded cost", float(r.cost))]


def waterfall_steps(r: Any) -> tuple[list[str], list[float], list[float]]:
    """Names and the level each bar of the ROI waterfall starts and ends at: benefit from 0, each cost
    category down from the running total, net benefit from 0 (the same bars :func:`roi_waterfall` draws)."""
    steps = _cost_steps(r)
    names, starts, ends = ["Benefit"], [0.0], [float(r.benefit)]
    running = float(r.benefit)
    for name, amount in steps:
        names.append(name)
        starts.append(running)
        running -= amount
        ends.append(running)
    names.append("Net benefit")
    starts.append(0.0)
    ends.append(float(r.net_benefit))
    return names, starts, ends


def roi_default_title(r: Any) -> str:
    """"ROI 37% (95% interval 21% to 53%): each $1 spent returns $1.37", the waterfall's default title."""
    currency = getattr(r, "currency", "USD") or "USD"
    lvl = getattr(r, "level", 0.95)
    lo, hi = r.conf_int(lvl)
    sign = fmt_money(1, currency).replace("1", "")
    return (f"ROI {fmt_pct(r.roi_pct)} ({lvl:.0%} interval {fmt_pct(lo)} to {fmt_pct(hi)}): "
            f"each {sign}1 spent returns {sign}{r.bcr:.2f}")


def roi_waterfall(r: Any, *, ax: Axes | None = None, title: str | None = None,
                  footnote: str | None = None) -> Axes:
    """From benefit to net benefit: a waterfall of the money, with the ROI and its interval in the title.

    Parameters
    ----------
    r : RoiResult
        From :func:`impactlab.roi`. When it was given a :class:`~impactlab.Costs`, each non-zero cost
        category is its own step (at its point value); otherwise one "Fully-loaded cost" step.
    ax : Axes, optional
    title : str, optional
        Replaces the default, which states the ROI %, its interval and the return per unit of money.
    footnote : str, optional

    Returns
    -------
    Axes
    """
    steps = _cost_steps(r)
    currency = getattr(r, "currency", "USD")
    names = ["Benefit"] + [s[0] for s in steps] + ["Net benefit"]
    bottoms, heights, colors = [0.0], [float(r.benefit)], [COLORS["gain"]]
    running = float(r.benefit)
    for _, amount in steps:
        bottoms.append(running - amount)
        heights.append(amount)
        colors.append(COLORS["loss"])
        running -= amount
    net = float(r.net_benefit)
    bottoms.append(0.0)
    heights.append(net)
    colors.append(COLORS["causal"] if net >= 0 else COLORS["loss"])

    x = np.arange(len(names))
    with deck_theme():
        fig, ax, new = figure_axes(ax)
        ax.bar(x, heights, bottom=bottoms, color=colors, width=0.62, edgecolor="white")
        running_level = float(r.benefit)
        for i, (_, amount) in enumerate(steps, start=1):
            ax.plot([i - 1 + 0.31, i - 0.31], [running_level] * 2, color=COLORS["grid"], linewidth=1.2)
            running_level -= amount
        last = len(steps)
        ax.plot([last + 0.31, last + 1 - 0.31], [running_level] * 2, color=COLORS["grid"], linewidth=1.2)
        # type shrinks when many categories share the width, so labels never run into each other
        slot_pt = ax.get_position().width * fig.get_figwidth() * 72 / len(names)
        size = 15 if len(names) <= 7 else 12 if len(names) <= 10 else 11
        for i in range(len(names)):
            value = heights[i] if i in (0, len(names) - 1) else -heights[i]
            top = bottoms[i] + max(heights[i], 0.0)
            ax.annotate(fmt_money(value, currency), (x[i], top), xytext=(0, 6), textcoords="offset points",
                        ha="center", va="bottom", fontsize=size, fontweight="bold")
        ax.axhline(0, color=COLORS["truth"], linewidth=1.2)
        wrap = max(6, int(slot_pt / (size * 0.55)))
        ax.set_xticks(x, [textwrap.fill(n, wrap, break_long_words=False) for n in names], fontsize=size)
        ax.grid(axis="x", visible=False)
        ax.yaxis.set_major_formatter(FuncFormatter(lambda v, _pos: fmt_money(v, currency)))
        ax.set_ylabel(f"Money ({currency})")
        if title is None:
            title = roi_default_title(r)
        if footnote is None:
            parts = []
            if all(hasattr(r, a) for a in ("effect", "value_per_unit", "participants", "horizon")):
                stream = "" if getattr(r, "stream_factor", None) is None else " (decayed, discounted)"
                periods = getattr(r, "period_name", "periods")
                parts.append(f"Benefit = effect {fmt_number(r.effect, signed=False)} x "
                             f"{fmt_money(r.value_per_unit, currency)} per unit x {r.participants:,.0f} "
                             f"participants x {r.horizon:,.0f} {periods}{stream}")
            parts.append("fully-loaded costs (Phillips ROI Methodology)")
            parts.append(f"{fmt_prob_positive(r)}")
            source = getattr(r, "source", "")
            if source:
                parts.append(f"effect from {source}")
            footnote = "; ".join(parts) + "."
        finish(ax, title, footnote, new=new)
        ax.tick_params(axis="x", labelsize=size)
    return ax
