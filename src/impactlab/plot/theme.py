"""The deck theme: 16:9 slides, large type, a colour-blind-safe palette, takeaway titles, footnotes.

Every chart of :mod:`impactlab.plot` is drawn inside :func:`deck_theme`, and the same context manager
can wrap a user's own charts so that they match. The palette is Okabe & Ito's, distinguishable under the
common forms of colour-vision deficiency (M. Okabe & K. Ito, *Color Universal Design (CUD): how to make
figures and presentations that are friendly to colorblind people*, 2008, https://jfly.uni-koeln.de/color/;
recommended by B. Wong, "Points of view: Color blindness", *Nature Methods* 8, 441, 2011).
"""

from __future__ import annotations

import math
import textwrap
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import matplotlib as mpl
import matplotlib.pyplot as plt
from cycler import cycler
from matplotlib.axes import Axes
from matplotlib.figure import Figure

#: Okabe-Ito palette, by name.
OKABE_ITO: dict[str, str] = {
    "black": "#000000",
    "orange": "#E69F00",
    "sky_blue": "#56B4E9",
    "bluish_green": "#009E73",
    "yellow": "#F0E442",
    "blue": "#0072B2",
    "vermillion": "#D55E00",
    "reddish_purple": "#CC79A7",
}

#: Colour roles used by the charts (all from :data:`OKABE_ITO`, plus a neutral grey).
COLORS: dict[str, str] = {
    "causal": OKABE_ITO["blue"],
    "naive": OKABE_ITO["vermillion"],
    "other": OKABE_ITO["orange"],
    "pre": OKABE_ITO["sky_blue"],
    "post": OKABE_ITO["blue"],
    "gain": OKABE_ITO["bluish_green"],
    "loss": OKABE_ITO["vermillion"],
    "truth": OKABE_ITO["black"],
    "grid": "#B0B0B0",
}

#: Slide size in inches (16:9, the PowerPoint "widescreen" default).
FIGSIZE: tuple[float, float] = (40 / 3, 7.5)  # 13.333 x 7.5 in
#: Resolution of saved PNG files (13.333 in x 150 dpi = 2000 px wide).
DPI: int = 150

#: Margins of a full-slide chart (fractions of the figure); the bottom leaves room for the footnote.
MARGINS: dict[str, float] = {"left": 0.09, "right": 0.97, "top": 0.84, "bottom": 0.18}

DECK_RC: dict[str, Any] = {
    "figure.figsize": FIGSIZE,
    "figure.dpi": 100,
    "savefig.dpi": DPI,
    "figure.facecolor": "white",
    "axes.facecolor": "white",
    "font.size": 16,
    "axes.titlesize": 22,
    "axes.titleweight": "bold",
    "axes.titlelocation": "left",
    "axes.titlepad": 14,
    "axes.labelsize": 17,
    "xtick.labelsize": 15,
    "ytick.labelsize": 15,
    "legend.fontsize": 15,
    "legend.frameon": False,
    "axes.prop_cycle": cycler(color=list(OKABE_ITO.values())[1:] + [OKABE_ITO["black"]]),
    "axes.spines.top": False,
    "axes.spines.right": False,
    "axes.grid": True,
    "grid.color": COLORS["grid"],
    "grid.alpha": 0.35,
    "grid.linewidth": 0.8,
    "lines.linewidth": 2.5,
    "lines.markersize": 9,
    "svg.fonttype": "none",
    "text.parse_math": False,
}


@contextmanager
def deck_theme() -> Iterator[None]:
    """Apply the deck theme to the charts drawn inside the block.

    Examples
    --------
    >>> import matplotlib.pyplot as plt
    >>> with deck_theme():
    ...     fig, ax = plt.subplots()
    >>> [round(float(x), 3) for x in fig.get_size_inches()]
    [13.333, 7.5]
    >>> plt.close(fig)
    """
    with mpl.rc_context(DECK_RC):  # type: ignore[arg-type]
        yield


def figure_axes(ax: Axes | None) -> tuple[Figure, Axes, bool]:
    """The axes to draw on: ``ax`` as given, or a new full-slide figure. The flag says it is new."""
    if ax is not None:
        if not isinstance(ax, Axes):
            raise TypeError(f"The 'ax' parameter must be a matplotlib Axes or None. Got {type(ax).__name__}.")
        return ax.figure, ax, False  # type: ignore[return-value]
    fig, new = plt.subplots(figsize=FIGSIZE)
    fig.subplots_adjust(**MARGINS)
    return fig, new, True


def finish(ax: Axes, title: str, footnote: str | None, *, new: bool = False) -> None:
    """Title (the takeaway, wrapped to the axes width), footnote, and the theme's tick sizes.

    On a figure made by impactlab (``new=True``) the footnote sits at the bottom left of the slide;
    on the user's axes it sits under the axes. Tick properties are set on the axes so that ticks created
    later, outside the theme block, keep them. Dollar signs are literal text, never mathtext.
    """
    fig = getattr(ax.figure, "figure", ax.figure)  # the root figure, also for axes of a SubFigure
    if not isinstance(fig, Figure):  # pragma: no cover - an Axes always belongs to a figure
        raise TypeError("The axes belong to no figure.")
    ax.tick_params(labelsize=DECK_RC["xtick.labelsize"])
    ax.set_axisbelow(True)
    width_pt = ax.get_position().width * fig.get_figwidth() * 72
    size = DECK_RC["axes.titlesize"]
    chars = max(30, int(width_pt / (size * 0.62)))
    ax.set_title(textwrap.fill(title, chars), loc="left", fontsize=size, fontweight="bold", parse_math=False)
    if not footnote:
        return
    if new:
        fig.text(0.015, 0.015, textwrap.fill(footnote, int(fig.get_figwidth() * 72 / (11 * 0.56))),
                 ha="left", va="bottom", fontsize=11, color="#444444", parse_math=False)
    else:
        ax.annotate(textwrap.fill(footnote, max(40, int(width_pt / (11 * 0.56)))), xy=(0, 0),
                    xycoords="axes fraction", xytext=(0, -62), textcoords="offset points", ha="left",
                    va="top", fontsize=11, color="#444444", annotation_clip=False, parse_math=False)


def fmt_number(x: float, *, signed: bool = True) -> str:
    """A number for a title: 3 significant figures or so, thousands separated, signed by default.

    Examples
    --------
    >>> fmt_number(2.3456), fmt_number(-12.345), fmt_number(1234.5, signed=False)
    ('+2.35', '-12.3', '1,234')
    """
    if x is None or not math.isfinite(x):
        return "n/a"
    a = abs(x)
    spec = ",.0f" if a >= 100 else ".1f" if a >= 10 else ".2f" if a >= 0.01 or a == 0 else ".2g"
    return format(x, ("+" if signed else "") + spec)


_SYMBOLS = {"USD": "$", "EUR": "€", "GBP": "£", "JPY": "¥", "INR": "₹"}


def fmt_money(x: float, currency: str = "USD") -> str:
    """Money with a currency sign and k/M/B suffix.

    Examples
    --------
    >>> fmt_money(120_000), fmt_money(-40_000, "EUR"), fmt_money(1_750_000, "CHF"), fmt_money(26_790)
    ('$120k', '-€40k', 'CHF 1.75M', '$26.8k')
    """
    if not math.isfinite(x):
        return "n/a"
    a = abs(x)
    for div, suffix in ((1e9, "B"), (1e6, "M"), (1e3, "k"), (1, "")):
        if a >= div or div == 1:
            v = a / div
            body = (f"{v:.0f}" if v >= 100 else f"{v:.3g}") + suffix
            break
    sym = _SYMBOLS.get(currency.upper())
    text = f"{sym}{body}" if sym else f"{currency.upper()} {body}"
    return ("-" if x < 0 else "") + text


def fmt_pct(x: float) -> str:
    """A percentage for a title: no decimals from 10 % up, one below.

    Examples
    --------
    >>> fmt_pct(50.0), fmt_pct(-4.26)
    ('50%', '-4.3%')
    """
    if not math.isfinite(x):
        return "n/a"
    return f"{x:.0f}%" if abs(x) >= 10 else f"{x:.1f}%"
