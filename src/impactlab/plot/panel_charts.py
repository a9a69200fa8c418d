"""Deck charts of the panel itself: outcome trends by training wave, and the roll-out (who was trained when).

These come before any estimate: they show the reader what the comparison is made of. Like every chart of
:mod:`impactlab.plot`, each takes ``ax=None``, returns the Axes, and states its takeaway with numbers.
"""

from __future__ import annotations

from typing import Any, Literal

import numpy as np
import pandas as pd
from matplotlib import colormaps
from matplotlib.axes import Axes
from matplotlib.colors import ListedColormap
from matplotlib.lines import Line2D
from matplotlib.patches import Patch
from matplotlib.ticker import FuncFormatter

from impactlab.errors import check_option
from impactlab.panel import Panel
from impactlab.plot.charts import per_period
from impactlab.plot.theme import COLORS, OKABE_ITO, deck_theme, figure_axes, finish

__all__ = ["data_window", "rollout", "trends"]

TrendsBy = Literal["cohort", "status"]


def _check_panel(panel: Any, what: str) -> Panel:
    if not isinstance(panel, Panel):
        raise TypeError(f"{what} expects an impactlab Panel (from il.build_panel or il.Panel.from_frame). "
                        f"Got {type(panel).__name__} instead.")
    return panel


def data_window(panel: Panel) -> str:
    """The first and last observed periods of a panel, as ``"2024-01 to 2025-12"``."""
    panel = _check_panel(panel, "data_window")
    return f"{panel.periods[0]} to {panel.periods[-1]}"


def _label(period: Any) -> str:
    return str(period)


def _panel_note(panel: Panel, extra: str = "") -> str:
    parts = [f"Data {data_window(panel)}: {panel.n_units:,} employees, {panel.n_obs:,} employee-periods"]
    if len(panel.dropped):
        parts.append(f"{len(panel.dropped):,} rows left out while building the panel (see panel.dropped)")
    text = "; ".join(parts) + "."
    return f"{text} {extra}" if extra else text


def _period_ticks(ax: Axes, panel: Panel, labels: list[str], most: int = 8) -> None:
    """At most ``most`` period labels, evenly spaced, so that dates never run into each other."""
    step = max(1, int(np.ceil(panel.n_periods / most)))
    ax.set_xticks(np.arange(1, panel.n_periods + 1)[::step], labels[::step])


def _wave_sizes(long: pd.DataFrame) -> pd.Series:
    units = long.drop_duplicates("unit")
    return units.loc[units["cohort_period"] > 0].groupby("cohort_period").size()


# ------------------------------------------------------------------------------------------- trends
def trends(panel: Panel, *, by: TrendsBy = "status", ax: Axes | None = None, title: str | None = None,
           footnote: str | None = None, currency: str | None = None) -> Axes:
    """Average outcome per period for each training wave and for employees never trained.

    Parameters
    ----------
    panel : Panel
    by : {"status", "cohort"}
        ``"status"`` (default): three lines per period, the averages of employees already trained, not yet
        trained, and never trained. ``"cohort"``: one line per training wave (dashed before its training,
        solid after, a dot where it starts) and one for the never trained; busy beyond six or so waves.
    ax : Axes, optional
        Where to draw; by default a new 16:9 figure.
    title : str, optional
        Replaces the default, which names what the lines are (raw averages by training status, not the
        effect of training).
    footnote : str, optional
    currency : str, optional
        The currency of the outcome when it is money (e.g. ``"USD"``), named on the axis.

    Returns
    -------
    Axes

    Notes
    -----
    Lines that run parallel before training are what the difference-in-differences designs rely on; the
    chart shows raw averages, so a gap after training is not yet an effect (the estimators say how much of
    it is).
    """
    panel = _check_panel(panel, "trends")
    check_option("by", by, ("status", "cohort"))
    long = panel.long()
    gp = long["cohort_period"].to_numpy()
    trained = gp > 0
    after = trained & (long["period"].to_numpy() >= gp)
    before = trained & ~after
    labels = [_label(p) for p in panel.periods]

    with deck_theme():
        fig, ax, new = figure_axes(ax)
        if by == "cohort":
            sizes = _wave_sizes(long)
            cmap = colormaps["cividis"]
            shades = cmap(np.linspace(0.0, 0.85, max(len(sizes), 1)))
            means = long.assign(g=gp).groupby(["g", "period"])["outcome"].mean()
            for colour, (g, n) in zip(shades, sizes.items(), strict=False):
                m = means.loc[g]
                pre, post = m[m.index < g], m[m.index >= g]
                if len(pre):
                    ax.plot(list(pre.index) + ([g] if len(post) else []),
                            list(pre.to_numpy()) + ([post.iloc[0]] if len(post) else []),
                            color=colour, linestyle=(0, (3, 2)), linewidth=2)
                ax.plot(post.index, post.to_numpy(), color=colour, linewidth=2.5,
                        label=f"Wave {labels[g - 1]} ({n:,})")
                if len(post):
                    ax.plot([g], [post.iloc[0]], "o", color=colour, markersize=8, markeredgecolor="white")
            if 0 in means.index.get_level_values(0):
                m0 = means.loc[0]
                n_never = int((long.drop_duplicates("unit")["cohort_period"] == 0).sum())
                ax.plot(m0.index, m0.to_numpy(), color=OKABE_ITO["vermillion"], linewidth=3.5,
                        label=f"Never trained ({n_never:,})")
            handles, names = ax.get_legend_handles_labels()
            handles.append(Line2D([], [], color="#555555", linestyle=(0, (3, 2)), linewidth=2))
            names.append("Before the wave's training")
            ax.legend(handles, names, loc="upper left", bbox_to_anchor=(1.01, 1.0),
                      fontsize=13 if len(names) <= 10 else 11 if len(names) <= 16 else 9)
        else:
            status = np.where(after, "Already trained", np.where(before, "Not yet trained", "Never trained"))
            means = long.assign(status=status).groupby(["status", "period"])["outcome"].mean()
            colours = {"Already trained": COLORS["causal"], "Not yet trained": OKABE_ITO["orange"],
                       "Never trained": OKABE_ITO["vermillion"]}
            for name, colour in colours.items():
                if name in means.index.get_level_values(0):
                    m = means.loc[name]
                    ax.plot(m.index, m.to_numpy(), color=colour, linewidth=3, marker="o", markersize=6,
                            label=name)
            ax.legend(loc="upper left", bbox_to_anchor=(1.01, 1.0))
        _period_ticks(ax, panel, labels)
        ax.set_xlim(0.5, panel.n_periods + 0.5)
        money = f"{currency} " if currency else ""
        ax.set_ylabel(f"Average {panel.outcome} ({money}per employee "
                      f"{per_period({'freq': panel.meta.get('freq')})})")
        ax.yaxis.set_major_formatter(FuncFormatter(lambda v, _p: format(v, ",.6g")))
        if new:
            fig.subplots_adjust(right=0.78)
        if title is None:
            per = per_period({"freq": panel.meta.get("freq")})
            title = (f"Average {panel.outcome} per employee by training status, {per}: raw averages, "
                     "not the effect of training")
        if footnote is None:
            footnote = _panel_note(panel, "Raw averages per period, not effects: waves may differ before "
                                          "training (see the estimates)")
        finish(ax, title, footnote, new=new)
    return ax


# ------------------------------------------------------------------------------------------ roll-out
def rollout(panel: Panel, *, ax: Axes | None = None, title: str | None = None,
            footnote: str | None = None) -> Axes:
    """Who was trained when: one row per employee (grouped by wave), one column per period.

    Cells are coloured "trained" from the employee's training period on, "not yet / never trained"
    before, and left light grey where the employee has no data (not yet hired, left, or rows dropped).

    Parameters
    ----------
    panel : Panel
    ax : Axes, optional
    title : str, optional
        Replaces the default, which states the number of waves, their span, and how many employees were
        trained and never trained.
    footnote : str, optional

    Returns
    -------
    Axes
    """
    panel = _check_panel(panel, "rollout")
    long = panel.long()
    units = long.drop_duplicates("unit")[["unit", "cohort_period"]]
    # waves in order of training, the never trained last
    order_key = units["cohort_period"].where(units["cohort_period"] > 0, panel.n_periods + 1)
    units = units.assign(key=order_key.to_numpy()).sort_values(["key", "unit"], kind="mergesort")
    row = pd.Series(np.arange(len(units)), index=units["unit"].to_numpy())
    grid = np.zeros((len(units), panel.n_periods), dtype="int8")  # 0 = no data
    r = row.loc[long["unit"].to_numpy()].to_numpy()
    c = long["period"].to_numpy() - 1
    gp = long["cohort_period"].to_numpy()
    grid[r, c] = np.where((gp > 0) & (long["period"].to_numpy() >= gp), 2, 1)
    sizes = _wave_sizes(long)
    n_never = int((units["cohort_period"] == 0).sum())
    labels = [_label(p) for p in panel.periods]

    with deck_theme():
        fig, ax, new = figure_axes(ax)
        cmap = ListedColormap(["#EFEFEF", OKABE_ITO["orange"], OKABE_ITO["blue"]])
        ax.imshow(grid, aspect="auto", interpolation="nearest", cmap=cmap, vmin=0, vmax=2,
                  extent=(0.5, panel.n_periods + 0.5, len(units), 0))
        ax.grid(False)
        counts = [int(sizes.get(g, 0)) for g in sizes.index] + ([n_never] if n_never else [])
        names = [f"Wave {labels[g - 1]} ({n:,})" for g, n in sizes.items()]
        names += [f"Never trained ({n_never:,})"] if n_never else []
        edges = np.cumsum([0, *counts])
        for e in edges[1:-1]:
            ax.axhline(e, color="white", linewidth=1.2)
        mids = (edges[:-1] + edges[1:]) / 2
        shown = [i for i, n in enumerate(counts) if n >= len(units) / 60] or list(range(len(counts)))
        ax.set_yticks(mids[shown], [names[i] for i in shown], fontsize=12 if len(shown) > 8 else 14)
        _period_ticks(ax, panel, labels)
        ax.set_xlabel(per_period({"freq": panel.meta.get("freq")}).removeprefix("per ").capitalize())
        ax.legend(handles=[Patch(color=OKABE_ITO["blue"], label="Trained"),
                           Patch(color=OKABE_ITO["orange"], label="Not yet / never trained"),
                           Patch(facecolor="#EFEFEF", edgecolor="#999999", label="No data")],
                  loc="upper left", bbox_to_anchor=(1.01, 1.0), fontsize=13)
        if new:
            fig.subplots_adjust(left=0.17, right=0.78)
        if title is None:
            n_trained = int(sizes.sum())
            span = (f", {labels[int(sizes.index.min()) - 1]} to {labels[int(sizes.index.max()) - 1]}"
                    if len(sizes) else "")
            title = (f"{len(sizes)} training wave{'s' if len(sizes) != 1 else ''}{span}: "
                     f"{n_trained:,} of {len(units):,} employees trained")
        if footnote is None:
            footnote = _panel_note(panel, "One row per employee, grouped by training wave; a wave is the "
                                          "period of the employee's first completion")
        finish(ax, title, footnote, new=new)
    return ax
