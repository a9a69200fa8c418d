"""The chart of a synthetic DiD or synthetic control result: the trained units against their synthetic
comparison, with the time weights under the curves and the largest unit weights beside them."""

from __future__ import annotations

from typing import Any

import numpy as np
from matplotlib.axes import Axes

from impactlab.plot.theme import COLORS, deck_theme, figure_axes, finish, fmt_number

#: Unit weights drawn beside the trend (the largest ones); the rest are in ``result.unit_weights``.
SHOWN_UNITS = 8


def synthetic(result: Any, *, ax: Axes | None = None, title: str | None = None,
              footnote: str | None = None) -> Axes:
    """The trained units' mean outcome and their synthetic comparison per period, with the weights.

    Parameters
    ----------
    result : SyntheticResult
        From :func:`impactlab.synthetic_did` or :func:`impactlab.synthetic_control`.
    ax : Axes, optional
        Where to draw the trend; by default a new 16:9 figure, which also gets a panel of the largest
        unit weights on the right.
    title : str, optional
        Replaces the default title, which states the effect and its 95 % interval.
    footnote : str, optional
        Replaces the default footnote (method, units compared, variance).

    Returns
    -------
    Axes
        The axes of the trend.

    Notes
    -----
    For synthetic DiD the synthetic line is the ω-weighted untrained units shifted by the λ-weighted gap
    before training, so after training the vertical distance between the lines averages to the estimate.
    The grey bars at the bottom are the time weights λ (which pre-training periods the comparison uses).
    """
    traj = getattr(result, "trajectory", None)
    uw = getattr(result, "unit_weights", None)
    if traj is None or uw is None or not {"time", "treated", "synthetic"} <= set(traj.columns):
        raise TypeError("plot.synthetic expects the result of il.synthetic_did or il.synthetic_control. "
                        f"Got {type(result).__name__} instead.")
    spec = result.spec
    tw = result.time_weights
    times = [str(t) for t in traj["time"]]
    x = np.arange(len(times))
    t0 = int((traj["period"] == "pre").sum())
    with deck_theme():
        fig, ax, new = figure_axes(ax)
        if new:
            fig.subplots_adjust(right=0.68)
            side = fig.add_axes((0.76, 0.2, 0.22, 0.62))
        ax.plot(x, traj["treated"], color=COLORS["causal"], linewidth=3,
                label=f"Trained {spec['units']} ({spec['n_treated']})")
        ax.plot(x, traj["synthetic"], color=COLORS["other"], linewidth=3, linestyle="--",
                label="Synthetic comparison")
        ax.axvline(t0 - 0.5, color=COLORS["grid"], linestyle=":", linewidth=2)
        if float(tw["weight"].sum()) > 0:
            low, high = ax.get_ylim()
            scale = 0.2 * (high - low)
            ax.bar(x[:t0], tw["weight"].to_numpy() * scale, bottom=low, width=0.8, color=COLORS["grid"],
                   alpha=0.6, label="Time weights (λ)")
            ax.set_ylim(low, high)
        step = max(1, len(x) // 10)
        ax.set_xticks(x[::step], times[::step])
        ax.set_ylabel(result.outcome or "outcome")
        ax.legend(loc="best")
        if new:
            top = uw[uw["weight"] > 0].head(SHOWN_UNITS)[::-1]
            side.barh([str(u) for u in top["unit"]], top["weight"], color=COLORS["other"])
            side.set_title("Unit weights (ω)", loc="left", fontsize=14)
            side.tick_params(labelsize=11)
            side.set_xlabel("weight", fontsize=11)
        if title is None:
            lo, hi = result.conf_int(0.95)
            title = (f"{result.label}: {fmt_number(result.estimate)} per period after training (95% CI "
                     f"{fmt_number(lo)} to {fmt_number(hi)})")
        if footnote is None:
            shown = uw[uw["weight"] > 0].head(3)
            names = ", ".join(f"{u} {w:.0%}" for u, w in zip(shown["unit"], shown["weight"], strict=True))
            footnote = (f"{spec['n_treated']} trained vs {spec['n_control']} untrained {spec['units']}; "
                        f"training from {spec['first_treated']}. Largest unit weights: {names}. Interval: "
                        f"{spec['variance']} variance.")
        finish(ax, title, footnote, new=new)
    return ax
