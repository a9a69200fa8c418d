"""The board deck's slide of programmes side by side (``board_deck(..., portfolio=...)``): the programmes
ranked by effect with their intervals and ROI (the chart of :func:`impactlab.plot.portfolio`), a title that
says which to grow and which show no effect distinguishable from zero, and plain speaker notes."""

from __future__ import annotations

import math
from typing import TYPE_CHECKING, Any

from impactlab.deck.pptx import (
    _EMU_PER_INCH,
    _MARGIN,
    _TITLE_HEIGHT,
    SLIDE_HEIGHT,
    SLIDE_WIDTH,
    Deck,
    _figure_of,
)

if TYPE_CHECKING:
    from impactlab.deck.board import Board

__all__ = ["advice", "portfolio_slide"]

#: The space a chart has under a slide's title, in inches (as the board deck's other charts).
_WIDTH_IN = (SLIDE_WIDTH - 2 * _MARGIN) / _EMU_PER_INCH
_HEIGHT_IN = (SLIDE_HEIGHT - 2 * _MARGIN - _TITLE_HEIGHT) / _EMU_PER_INCH


def _signed(x: float) -> str:
    return f"{int(round(x)):+,}".replace("-", "\u2212")


def _whole(x: float) -> str:
    return f"{int(round(x)):,}".replace("-", "\u2212")


def _names(names: list[str]) -> str:
    return names[0] if len(names) == 1 else ", ".join(names[:-1]) + " and " + names[-1]


def advice(row: Any, outcome: str) -> str:
    """What a board does with one programme (a row of :func:`impactlab.plot.programs.ranked`), in plain
    words: grow it only when its effect stands out from zero once all programmes are compared and its ROI
    interval lies above zero (the conservative reading the Phillips methodology asks for)."""
    if row["verdict"] == "negative":
        return f"do not scale: {outcome} fell"
    if row["verdict"] == "unclear":
        return "no effect distinguishable from zero"
    if not math.isfinite(row["roi"]):
        return f"raised {outcome}; the return was not counted"
    if row["roi_low"] > 0:
        return "grow: raised " + outcome + " and returned more than it cost"
    if row["roi_high"] < 0:
        return f"raised {outcome} but costs more than it returns"
    return f"raised {outcome}; keep and measure: the return is not yet clear"


def _title(frame: Any, outcome: str) -> str:
    grow = [p for p, a in zip(frame["program"], frame["advice"], strict=True) if a.startswith("grow")]
    up = [p for p, v in zip(frame["program"], frame["verdict"], strict=True) if v == "positive"]
    unclear = [p for p, v in zip(frame["program"], frame["verdict"], strict=True) if v == "unclear"]
    head = (f"Grow {_names(grow)}" if grow else f"{_names(up)} raised {outcome}" if up
            else f"No programme clearly raised {outcome}")
    if unclear and (grow or up):
        verb = "shows" if len(unclear) == 1 else "show"
        head += f"; {_names(unclear)} {verb} no effect distinguishable from zero"
    return head


def portfolio_slide(deck: Deck, b: Board) -> None:
    """Programmes side by side, when ``board_deck`` was given ``portfolio=``: the ranking chart filling the
    space under a title that says which programme to grow and which show no clear effect."""
    import matplotlib.pyplot as plt

    from impactlab.plot import deck_theme
    from impactlab.plot import portfolio as portfolio_chart
    from impactlab.plot.programs import ranked

    p = b.portfolio
    if p is None:
        return
    outcome = getattr(p, "outcome", "") or b.outcome
    currency = b.currency or _currency_of(p)
    frame = ranked(p, b.level)
    frame["advice"] = [advice(row, outcome) for _, row in frame.iterrows()]
    n = len(frame)
    footnote = (f"Dots: each programme's effect; pale bars: the {b.pct} range of each, allowing for "
                f"comparing {n} programmes at once; dark bars: the range of each on its own. Grey: no effect "
                "distinguishable from zero."
                + (f" Vermillion: {outcome} fell." if (frame["verdict"] == "negative").any() else ""))
    with deck_theme():
        ax = portfolio_chart(p, title="", footnote=footnote, currency=currency, level=b.level)
        fig = _figure_of(ax)
        fig.set_size_inches(_WIDTH_IN, _HEIGHT_IN)  # the space under the title, filled
        has_roi = any("ROI" in t.get_text() for t in ax.texts)
        fig.subplots_adjust(left=0.19, right=0.72 if has_roi else 0.86, top=0.9, bottom=0.2)
    title = _title(frame, outcome)
    unit = f"{currency + ' ' if currency else ''}per trained employee {b.per}"
    lines = []
    for _, row in frame.iterrows():
        text = (f"{row['program']}: {_signed(row['estimate'])} {unit} ({b.pct} range "
                f"{_signed(row['conf_low_simultaneous'])} to {_signed(row['conf_high_simultaneous'])} when "
                f"the {n} programmes are compared at once)")
        if math.isfinite(row["roi"]):
            text += (f"; return on investment {_whole(row['roi'])} % ({_whole(row['roi_low'])} % to "
                     f"{_whole(row['roi_high'])} %)")
        lines.append(f"{text}: {row['advice']}.")
    ant = int((getattr(p, "spec", {}) or {}).get("anticipation", 0) or 0)
    note = (f"Each programme's effect on {outcome} is measured together with the others, because many "
            "employees took more than one: each trained employee's results are compared with colleagues "
            "whom no programme had reached yet"
            + (f", leaving out the {ant} {b.period}s before training" if ant else "")
            + ". Assumed: without training, they would have moved like those colleagues, and a programme "
            "does as much for someone who also took another (the effects add up). "
            f"Testing {n} programmes at once makes a chance result more likely; the ranges on the chart "
            "allow for that, so a programme counts as having an effect only when its whole range lies on "
            "one side of zero. Where two programmes' ranges do not overlap, the higher one is ahead with "
            "that confidence; where they overlap, the chart alone cannot say which is ahead.")
    own = frame.loc[frame["program"] == b.program, "estimate"]
    if len(own) and b.headline.get("effect") is not None:
        note += (f" {b.program} shows {_signed(float(own.iloc[0]))} here and {_signed(b.headline['effect'])} "
                 "in the summary: here the other programmes' effects are taken out at the same time.")
    note += "\n" + "\n".join(lines)
    alt = "Programmes ranked by effect: " + "; ".join(
        f"{row['program']} {_signed(row['estimate'])}" for _, row in frame.iterrows())
    deck.add(fig, title=title, alt=alt, note=note)
    plt.close(fig)


def _currency_of(p: Any) -> str | None:
    """The outcome's currency when the portfolio's ROI took the outcome as money (a margin on it)."""
    for r in (getattr(p, "roi_results", {}) or {}).values():
        if str(getattr(r, "spec", {}).get("monetised", "")).startswith("margin"):
            return getattr(r, "currency", None)
    return None
