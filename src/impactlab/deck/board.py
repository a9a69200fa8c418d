"""The board deck of an evaluation: what an executive presents, in editable slides with plain speaker notes.

:func:`board_deck` turns :func:`impactlab.evaluate`'s answer, the ROI and the tables read into a
:class:`~impactlab.deck.Deck`: a title slide; an executive summary (the question, the causal answer with its
interval, the ROI with its interval, the checks counted and a recommendation no stronger than the checks
allow); the naive numbers beside the causal one; the effect month by month; the ROI waterfall; methods and
assumptions; and where every row of data went. The numbers are those of :func:`headline_numbers`, which
``impact_summary.json`` records too, so the slides and the file agree; the checks are counted by
:func:`~impactlab.results.evaluation.checks_tally`, as in the evaluation's own view and in the file.

Each slide is a function ``(deck, board) -> None`` listed in :data:`SLIDES`; :class:`Board` carries what
they share (the evaluation, the ROI, the data, the units and the headline, worked out once).
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, replace
from typing import Any

from impactlab.deck.pptx import _EMU_PER_INCH as EMU_PER_INCH
from impactlab.deck.pptx import _MARGIN as MARGIN
from impactlab.deck.pptx import _TITLE_HEIGHT as TITLE_HEIGHT
from impactlab.deck.pptx import SLIDE_HEIGHT, SLIDE_WIDTH, Deck, _figure_of
from impactlab.deck.side_by_side import portfolio_slide
from impactlab.results.evaluation import checks_tally
from impactlab.results.probability import fmt_prob_positive

__all__ = ["SLIDES", "Board", "board_deck", "headline_numbers"]

#: Text that reads as code or a Python object on a slide: such sentences are left out of slide text.
CODE = re.compile(r"\w=|\w\(\)|\w\(['\"]|\.\w+\(|\bil\.|Period\(|\[\w|\w\]|\.md\b|\.py\b|\bNone\b|\bTrue\b|"
                  r"\bFalse\b")

#: The space a chart has under a slide's title, in inches: a chart drawn at this size fills it at 100 %.
PICTURE_WIDTH_IN = (SLIDE_WIDTH - 2 * MARGIN) / EMU_PER_INCH
PICTURE_HEIGHT_IN = (SLIDE_HEIGHT - 2 * MARGIN - TITLE_HEIGHT) / EMU_PER_INCH

_PLAIN_METHODS = {
    "imputation": ("each trained employee's results after training are compared with what they would have "
                   "been without it, predicted from the employee's own results before training and from how "
                   "colleagues not (yet) trained moved in the same months (the imputation method of "
                   "Borusyak, Jaravel & Spiess, 2024)"),
    "callaway_santanna": ("each training wave is compared with colleagues not yet trained at the time, month "
                          "by month, and the comparisons are averaged (Callaway & Sant'Anna, 2021)"),
    "sun_abraham": ("each training wave is compared with colleagues trained last or never, month by month "
                    "(Sun & Abraham, 2021)"),
    "twfe": ("trained and untrained employees' changes are compared in one regression with employee and "
             "month effects (two-way fixed effects)"),
}

#: The method in a few words, for the slide (the notes carry :data:`_PLAIN_METHODS`).
_SHORT_METHODS = {
    "imputation": "each trained employee against a forecast of their results without training",
    "callaway_santanna": "each training wave against colleagues not yet trained, month by month",
    "sun_abraham": "each training wave against colleagues trained last or never, month by month",
    "twfe": "one regression of trained and untrained employees' changes",
}

#: Bar labels that are an analyst's names, in words a board reads.
_PLAIN_BARS = {
    "Regression (period effects)": "Regression: trained vs untrained, same month",
    "Two-way fixed effects": "Regression: employee and month effects",
}


def _signed(x: int | None) -> str:
    return "n/a" if x is None else f"{x:+,}".replace("-", "\u2212")


def _whole(x: int | None) -> str:
    return "n/a" if x is None else f"{x:,}".replace("-", "\u2212")


def _plain(text: str) -> str:
    """``text`` without the sentences or brackets that read as code; "" when nothing plain is left."""
    text = re.sub(r"\s*\([^()]*\)", lambda m: "" if CODE.search(m.group(0)) else m.group(0), str(text))
    sentences = re.split(r"(?<=[.;])\s+", text.strip())
    return " ".join(s for s in sentences if s and not CODE.search(s)).strip()


def _periods(text: str, period: str) -> str:
    """"period(s)" and "periods" as the panel's own period ("months")."""
    text = re.sub(r"\bperiod\(s\)|\bperiods\b", f"{period}s", text)
    text = re.sub(r"\bperiod\b", period, text)
    return re.sub(r"(\w)\(s\)", r"\1s", text)


def headline_numbers(effect: Any, roi: Any = None, *, level: float = 0.95) -> dict[str, Any]:
    """The headline as a board sees it: the causal effect and its interval in whole units, the ROI and its
    interval in whole percent, and the printed chance that the ROI is positive. The deck's summary slide
    shows exactly these numbers, and ``impact_summary.json`` records them under ``"headline"``."""

    def whole(x: Any) -> int | None:
        try:
            v = float(x)
        except (TypeError, ValueError):
            return None
        return int(round(v)) if math.isfinite(v) else None

    lo, hi = effect.conf_int(level)
    out: dict[str, Any] = {"effect": whole(effect.estimate), "effect_interval": [whole(lo), whole(hi)]}
    if roi is not None:
        rlo, rhi = roi.conf_int(level)
        out.update(roi_pct=whole(roi.roi_pct), roi_interval_pct=[whole(rlo), whole(rhi)],
                   prob_roi_positive=fmt_prob_positive(roi).removeprefix("P(ROI > 0)").strip(" ="))
    return out


@dataclass(frozen=True)
class Board:
    """What every slide of the board deck reads: the evaluation, the ROI, the data, and the words and
    numbers worked out once (units, the headline, the checks) so that all slides say the same thing.

    A slide is a function ``(deck, board) -> None`` that adds its slide(s) to ``deck``; :data:`SLIDES`
    lists them in order, and a new slide is one more such function in that tuple.
    """

    result: Any
    r: Any
    panel: Any
    sources: Mapping[str, Any] | None
    program: str
    outcome: str
    level: float
    pct: str                    # "95 %"
    per: str                    # "per month"
    period: str                 # "month"
    unit: str                   # "USD per trained employee per month"
    currency: str | None        # the outcome's currency when the ROI took it as money
    money_outcome: bool
    headline: Mapping[str, Any]  # headline_numbers(...)
    window: str                 # "2024-01 to 2025-12" ("" without a panel)
    warned: tuple[str, ...]
    failed: tuple[str, ...]
    portfolio: Any = None       # a PortfolioResult: the slide of programmes side by side

    @property
    def checks(self) -> Any:
        return self.result.checks

    @property
    def effect_text(self) -> str:
        est, (lo, hi) = self.headline["effect"], self.headline["effect_interval"]
        return f"{_signed(est)} {self.unit} ({self.pct} interval {_signed(lo)} to {_signed(hi)})"


def board_deck(result: Any, r: Any = None, *, panel: Any = None, sources: Mapping[str, Any] | None = None,
               program: str | None = None, level: float = 0.95, portfolio: Any = None) -> Deck:
    """The board deck of an evaluation, ready for :meth:`Deck.save`.

    Parameters
    ----------
    result : Evaluation
        From :func:`impactlab.evaluate`.
    r : RoiResult, optional
        From :func:`impactlab.roi` on ``result.effect``. Without it the deck has no ROI slide and the
        summary says the money was not counted.
    panel : Panel, optional
        The panel evaluated: its data window, rows dropped and employee ids for the data-accounting slide.
    sources : mapping of str to Table, optional
        The tables read (name -> the reader's Table, e.g. ``{"completions": completions, ...}``): rows
        read, kept and rejected per source on the data-accounting slide.
    program : str, optional
        The programme's name (default: the panel's).
    level : float
        Confidence level of every interval.
    portfolio : PortfolioResult, optional
        From :func:`impactlab.portfolio`: adds, after the ROI, a slide ranking the organisation's
        programmes by effect with their intervals and ROI (:func:`impactlab.plot.portfolio`), titled with
        which to grow and which show no effect distinguishable from zero.

    Returns
    -------
    Deck
        Title, executive summary, naive vs causal (native chart), effect by month since training,
        ROI waterfall (native chart, with ``r``), methods and assumptions, data accounting.

    Examples
    --------
    >>> import impactlab as il                                   # doctest: +SKIP
    >>> ev = il.evaluate(panel)                                  # doctest: +SKIP
    >>> il.deck.board_deck(ev, r, panel=panel).save("impact.pptx")   # doctest: +SKIP
    """
    from impactlab.plot.charts import per_period

    for name in ("estimate", "conf_int", "checks", "causal", "effect"):
        if not hasattr(result, name):
            raise TypeError("board_deck takes the result of impactlab.evaluate (an Evaluation). "
                            f"Got {type(result).__name__}, which has no {name!r}.")
    meta = getattr(panel, "meta", {}) or {}
    spec = dict(getattr(result.effect, "spec", {}) or {})
    if meta.get("freq"):
        spec["freq"] = meta["freq"]
    per = per_period(spec)                       # "per month"
    # the ROI took the outcome as money (a margin on it): the outcome is then in the ROI's currency
    money_outcome = r is not None and str(getattr(r, "spec", {}).get("monetised", "")).startswith("margin")
    currency = getattr(r, "currency", None) if money_outcome else None
    checks = result.checks
    periods: Any = getattr(panel, "periods", ()) if panel is not None else ()
    board = Board(
        result=result, r=r, panel=panel, sources=sources,
        program=program or meta.get("program") or "the programme",
        outcome=result.effect.outcome or "the outcome", level=level,
        pct=f"{level:.0%}".replace("%", " %"), per=per, period=per.removeprefix("per "),
        unit=f"{currency + ' ' if currency else ''}per trained employee {per}", currency=currency,
        money_outcome=money_outcome, headline=headline_numbers(result.effect, r, level=level),
        window=f"{periods[0]} to {periods[-1]}" if len(periods) else "",
        warned=tuple(checks.loc[checks["status"] == "warn", "check"]),
        failed=tuple(checks.loc[checks["status"] == "fail", "check"]), portfolio=portfolio)
    deck = Deck(f"{board.program}: did it raise {board.outcome}, and was it worth it?",
                subtitle="Causal evaluation and return on investment"
                + (f"\nData from {_month_words(periods[0])} to {_month_words(periods[-1])}"
                   if len(periods) else ""))
    for add_slide in SLIDES:
        add_slide(deck, board)
    return deck


def _month_words(period: Any) -> str:
    """A monthly period as "January 2024"; any other period as it prints."""
    if str(getattr(period, "freqstr", "")).lstrip("0123456789").upper().startswith("M"):
        return str(period.strftime("%B %Y"))
    return str(period)


def summary_slide(deck: Deck, b: Board) -> None:
    """The whole story in five lines: question, answer, return, checks, recommendation."""
    from impactlab.plot.theme import fmt_money

    h, checks, failed, warned = b.headline, b.checks, b.failed, b.warned
    lo, hi = h["effect_interval"]
    question = f"Question: did {b.program} raise {b.outcome}, and did it pay for itself?"
    if failed:
        first = checks[checks["status"] == "fail"].iloc[0]
        why = _periods(_plain(first["meaning"]) or f"the check '{first['check']}' failed", b.period)
        fix = _periods(_plain(first["what_to_do"]), b.period)
        answer = (f"Not yet a causal answer: {why.rstrip('.')}." + (f" To fix: {fix}" if fix else "")
                  + f" Taken at face value the estimate is {b.effect_text}.")
    elif lo is not None and lo > 0:
        answer = f"Answer: yes. {b.program} raised {b.outcome} by {b.effect_text}."
    elif hi is not None and hi < 0:
        answer = f"Answer: no, {b.outcome} fell: {b.effect_text}."
    else:
        answer = f"Answer: no clear effect: {b.effect_text}, an interval that includes no effect."
    lines = [question, answer]
    roi_ok = roi_bad = False
    if b.r is not None:
        rlo, rhi = h["roi_interval_pct"]
        sign = fmt_money(1, b.r.currency).replace("1", "")
        horizon = f"{float(b.r.horizon):,.0f} {getattr(b.r, 'period_name', 'periods')}"
        lines.append(f"Return on investment: {_whole(h['roi_pct'])} % ({b.pct} interval {_whole(rlo)} % to "
                     f"{_whole(rhi)} %) over the first {horizon}: each {sign}1 spent "
                     f"returned {sign}{float(b.r.bcr):.2f}. Chance that the programme more than paid for "
                     f"itself: {h['prob_roi_positive']}.")
        roi_ok = rlo is not None and rlo > 0
        roi_bad = rhi is not None and rhi < 0
    else:
        lines.append("Return on investment: not computed (the money value and costs were not given).")
    tally = checks_tally(checks)
    if failed:
        lines.append(f"{tally} ({', '.join(failed)}): the number may not be read as the effect of training.")
    else:
        lines.append(f"{tally}{' (see notes)' if warned else ''}: none found a reason not to read the number "
                     "as the effect of training.")
    if failed:
        rec = "Do not scale on this evidence: fix the failed check first and measure again."
    elif hi is not None and hi < 0:
        rec = f"Do not scale: {b.outcome} fell after training."
    elif lo is not None and lo > 0 and roi_ok:
        rec = ("Grow: the checks found no reason to doubt the effect, and the return is positive across its "
               "interval"
               + (f"; keep an eye on the {_count(len(warned), 'caution')}." if warned else "."))
    elif roi_bad:
        rec = "Do not scale: the effect is real but the programme costs more than it returns."
    else:
        rec = ("Keep and measure: the evidence does not yet show a return above cost with confidence; "
               "measure again with more months or more participants before scaling.")
    lines.append(f"Recommendation: {rec}")
    cautions = [f"{row['check']}: {meaning.rstrip('.')}." for _, row in checks[checks["status"] == "warn"]
                .iterrows() if (meaning := _periods(_plain(str(row["meaning"])), b.period))]
    note = ("This slide is the whole story in five lines. "
            f"The effect is measured {b.per} for each trained employee, and the range is where the true "
            f"value lies with {b.pct} confidence. "
            + ("The return counts only the profit on the extra revenue, not the revenue itself, against the "
               "full cost of the programme. " if b.money_outcome else "")
            + (f"The cautions: {' '.join(cautions)} " if cautions and not failed else "")
            + ("Every check is on the methods slide." if not failed else
               "The failed check is explained on the methods slide; until it is fixed the number is a "
               "description, not a cause."))
    deck.add_text(lines, title="Executive summary", note=note)


def naive_slide(deck: Deck, b: Board) -> None:
    """The naive numbers beside the causal one (a native bar chart), when the evaluation has them."""
    result = b.result
    if result.naive is None:
        return
    est, (lo, hi) = b.headline["effect"], b.headline["effect_interval"]
    values: dict[str, float] = {}
    rows = result.naive.results
    for key, res in rows.items():
        label = str(getattr(res, "label", key))
        label = _PLAIN_BARS.get(label, label)
        if key == result.naive.causal_method:
            label = "Causal estimate (this evaluation)"
        values[label] = float(res.estimate)
    naive_est = int(round(float(result.naive.naive.estimate)))
    head = "training caused" if not b.failed else "the design estimates"
    deck.add_bars(values, title=f"Comparing trained with untrained employees says {_signed(naive_est)} "
                                f"{b.per}; {head} {_signed(est)}",
                  note=(f"Bars: the effect per trained employee {b.per} by each way of counting. "
                        f"The simple comparison, {_signed(naive_est)}, sets trained employees against "
                        "different, untrained people, who may have differed before any training. The two "
                        "regressions in the middle are the usual analyst's adjustments; neither follows each "
                        "training wave on its own. The causal estimate compares the same employees before "
                        "and after training with colleagues who were not trained at the time: "
                        f"{_signed(est)} ({b.pct} interval {_signed(lo)} to {_signed(hi)})."))
    # colours as in the charts: naive numbers vermillion, other comparisons orange, the causal one blue
    colours = tuple("#0072B2" if k == result.naive.causal_method else
                    "#D55E00" if k in ("naive_difference", "pre_post") else "#E69F00" for k in rows)
    deck._slides[-1] = replace(deck._slides[-1], colours=colours, text=f"Effect on {b.outcome} ({b.unit})")


def by_period_slide(deck: Deck, b: Board) -> None:
    """The effect period by period since training: the event-study chart drawn to fill the space under
    the slide's title (the takeaway is the slide title, not a chart title)."""
    import matplotlib.pyplot as plt

    from impactlab.plot import deck_theme
    from impactlab.plot import event_study as event_chart

    dynamic = getattr(b.result, "event_study", None)
    if dynamic is None:
        return
    period, pct, checks = b.period, b.pct, b.checks
    el = dynamic.elements
    post = el[el["event_time"] >= 0].sort_values("event_time")
    ant = int(getattr(b.result, "anticipation", 0) or 0)
    placebo = bool((el["event_time"] < -ant).any())
    footnote = (f"Dots: the effect in each {period} counted from training; bars: its {pct} range. "
                + (f"Left of the dashed line: the {period}s before training, where the dots should sit near "
                   "zero. " if placebo else "")
                + (f"The {ant} {period}s just before training, when results dipped, are left out of the "
                   "comparison. " if ant else "")
                + (f"Data {b.window}." if b.window else ""))
    with deck_theme():
        ax = event_chart(dynamic, title="", footnote=footnote.strip(), level=b.level, currency=b.currency)
        fig = _figure_of(ax)
        fig.set_size_inches(PICTURE_WIDTH_IN, PICTURE_HEIGHT_IN)  # the space under the title, filled
        fig.subplots_adjust(left=0.11, right=0.98, top=0.97, bottom=0.2)
        ax.set_ylabel(ax.get_ylabel().replace(" (", "\n(", 1))  # the unit on its own line: never cut off
        legend = ax.get_legend()
        for text in legend.get_texts() if legend is not None else ():
            words = text.get_text()
            if words.startswith("Anticipation window"):
                text.set_text("Dip before training (left out)")
            elif words.startswith("Before training"):
                text.set_text("Before training (should be near zero)")
    if len(post):
        first_val = int(round(float(post["estimate"].iloc[0])))
        later = post[post["event_time"] == 12] if (post["event_time"] == 12).any() else post.iloc[[-1]]
        k = int(later["event_time"].iloc[0])
        later_val = int(round(float(later["estimate"].iloc[0])))
        chart_title = (f"The effect by {period} since training: {_signed(first_val)} in the {period} "
                       f"of training, {_signed(later_val)} after {k} {period}s")
    else:
        chart_title = f"The effect by {period}s since training"
    pre = checks.loc[checks["check"] == "pre-training effects", "status"]
    near_zero = {"pass": "and they do.", "warn": "and they mostly do.", "fail": "and they do not."}
    note = f"Each dot is the effect in one {period} counted from training, with its {pct} range. "
    if placebo:
        note += (f"Dots further left than {ant} {period}s before training are checks: training cannot "
                 f"have acted yet, so they should sit near zero, "
                 + near_zero.get(str(pre.iloc[0]) if len(pre) else "", "") + " ")
    if ant:
        note += (f"The {ant} {period}s just before training show a dip (people away on the course, or a "
                 "slow spell before it); they are left out of the comparison so that the dip does not "
                 "inflate the effect.")
    deck.add(fig, title=chart_title, alt=chart_title, note=note.strip())
    plt.close(fig)


def roi_slide(deck: Deck, b: Board) -> None:
    """The ROI waterfall (a native chart), when the ROI was given."""
    from impactlab.plot.theme import fmt_money

    if b.r is None:
        return
    h, r = b.headline, b.r
    rlo, rhi = h["roi_interval_pct"]
    sign = fmt_money(1, r.currency).replace("1", "")
    deck.add_waterfall(r, title=f"ROI {_whole(h['roi_pct'])} % ({b.pct} interval {_whole(rlo)} % to "
                                f"{_whole(rhi)} %): each {sign}1 spent returned {sign}{float(r.bcr):.2f}",
                       note=_roi_note(r, h, b.pct, b.per))


def methods_slide(deck: Deck, b: Board) -> None:
    """How the number was obtained, in at most five short bullets; the detail in the speaker notes."""
    bullets, detail = _methods(b.result, b.per, b.period, b.pct)
    deck.add_text(bullets, title="Methods and assumptions",
                  note=("This slide is for questions on how the number was obtained. The key point: the "
                        "comparison is between the same employees before and after training, against "
                        "colleagues not trained at the time, so differences between people who were and "
                        "were not trained do not count as effect.\n" + "\n".join(detail)))


def accounting_slide(deck: Deck, b: Board) -> None:
    """Where every row of every table went."""
    deck.add_text(_accounting(b.result, b.panel, b.sources, b.period), title="Where the data went",
                  note=("Every row of every file is accounted for: either used, or set aside with a reason "
                        "that can be shown row by row. Nothing was dropped silently."))


#: The slides after the title slide, in order: each a function ``(deck, board) -> None``.
SLIDES: tuple[Callable[[Deck, Board], None], ...] = (
    summary_slide, naive_slide, by_period_slide, roi_slide, portfolio_slide, methods_slide, accounting_slide)


def _tally_named(checks: Any) -> str:
    """:func:`checks_tally` with the checks that did not pass named after their count: "9 checks: 6 passed,
    2 cautions (dip before training, cohort sizes), 1 failed (turnover)"."""
    text = checks_tally(checks)
    for status, counted in (("warn", r"\d+ cautions?"), ("fail", r"\d+ failed")):
        names = ", ".join(str(c) for c in checks.loc[checks["status"] == status, "check"])
        found = re.search(counted, text)
        if names and found:
            text = f"{text[:found.end()]} ({names}){text[found.end():]}"
    return text


def _count(n: int, word: str) -> str:
    return f"{n} {word}{'' if n == 1 else 's'}"


def _roi_note(r: Any, h: Mapping[str, Any], pct: str, per: str) -> str:
    cur = r.currency
    parts = [f"From left to right: the money value of the effect over the first {float(r.horizon):,.0f} "
             f"{getattr(r, 'period_name', 'periods')} ({cur} {float(r.benefit):,.0f}), each cost of the "
             f"programme, and what is left ({cur} {float(r.net_benefit):,.0f})."]
    if str(getattr(r, "spec", {}).get("monetised", "")).startswith("margin"):
        parts.append(f"Only the profit share ({float(r.value_per_unit):.0%}) of the extra revenue counts as "
                     "benefit.")
    rlo, rhi = h["roi_interval_pct"]
    parts.append(f"The ROI range ({_whole(rlo)} % to {_whole(rhi)} %) "
                 "carries the uncertainty of the effect; the costs and the profit share are taken as given.")
    parts.append(f"Chance that the programme more than paid for itself: {h['prob_roi_positive']}.")
    return " ".join(parts)


def _methods(result: Any, per: str, period: str, pct: str) -> tuple[list[str], list[str]]:
    """The methods slide's bullets (at most five, short) and the detail for its notes."""
    checks = result.checks
    spec = getattr(result, "spec", {}) or {}
    method = str(result.method)
    label = getattr(result.effect, "label", method)
    bullets = [f"- Method: {_SHORT_METHODS.get(method, f'the {label} design')}."]
    detail = [f"Method: {_PLAIN_METHODS.get(method, f'the {label} design')}."]
    bullets.append("- Compared with: colleagues not yet trained at the time, and those never trained.")
    control = checks.loc[checks["check"] == "comparison group", "seen"]
    if len(control):
        detail.append("Comparison group: colleagues not yet trained at the time and those never trained "
                      f"({_periods(_plain(str(control.iloc[0])), period)}).")
    ant = int(getattr(result, "anticipation", 0) or 0)
    if ant:
        bullets.append(f"- Left out: the {ant} {period}s before training, when results dipped.")
        detail.append(f"Anticipation window: the {ant} {period}s before training are left out of the "
                      "comparison, because trained employees' results dipped then (the dip check); counting "
                      "them would make the effect look larger than it is.")
    else:
        detail.append(f"Anticipation window: none; no dip was found in the {period}s before training.")
    n_cl = spec.get("n_clusters")
    unit_name = "employees" if not spec.get("cluster") else f"{spec['cluster']}s"
    how = ("the wild cluster bootstrap, suited to few groups" if "bootstrap" in str(spec.get("inference", ""))
           else "standard errors that allow each group's results to be related from month to month")
    detail.append(f"Uncertainty: {pct} intervals from {how}"
                  + (f", over {int(n_cl):,} {unit_name}." if isinstance(n_cl, (int, float)) and
                     not math.isnan(float(n_cl)) else "."))
    trend = checks[checks["check"].isin(("pre-training effects", "pre-training trend"))]
    statuses = set(trend["status"])
    support = ("" if trend.empty else "; the months before training contradict it" if "fail" in statuses
               else "; the months before training mostly support it" if "warn" in statuses
               else "; the months before training support it")
    bullets.append("- Assumption: without training, the trained would have moved like untrained colleagues"
                   + _periods(support, period) + ".")
    said = ", ".join(f"'{c}' {st}" for c, st in zip(trend["check"], trend["status"].map(
        {"pass": "passed", "warn": "warned", "fail": "failed"}), strict=True))
    detail.append("Assumption: without training, trained employees' results would have moved like those of "
                  "colleagues not trained at the time" + (f", outside the {ant} {period}s before training"
                                                          if ant else "")
                  + (f". Checks on the {period}s before training: {said}." if said else "."))
    bullets.append(f"- {_tally_named(checks)}.")
    passed = list(checks.loc[checks["status"] == "pass", "check"])
    if passed:
        detail.append(f"Checks passed ({len(passed)} of {len(checks)}): {', '.join(passed)}.")
    for status, word in (("fail", "Failed"), ("warn", "Caution")):
        for _, row in checks[checks["status"] == status].iterrows():
            meaning = _periods(_plain(str(row["meaning"])), period)
            detail.append(f"{word}, {row['check']}" + (f": {meaning.rstrip('.')}." if meaning else "."))
    return bullets, detail


def _accounting(result: Any, panel: Any, sources: Mapping[str, Any] | None, period: str) -> list[str]:
    out: list[str] = []
    for name, table in (sources or {}).items():
        read, kept, rejected = (getattr(table, a, None) for a in ("rows_read", "n_kept", "n_rejected"))
        if read is None:
            continue
        label = f"{str(name)[:1].upper()}{str(name)[1:]}"
        line = f"- {label}: {read:,} rows read, {kept:,} kept, {rejected:,} rejected"
        if rejected and len(getattr(table, "rejected", ())):
            reasons = table.rejected.groupby("check")["source_row"].nunique().sort_values(ascending=False)
            line += " (" + ", ".join(f"{v:,} {k}" for k, v in reasons.head(3).items()) + ")"
        out.append(line + ".")
    if panel is not None:
        dropped = getattr(panel, "dropped", None)
        line = (f"- Panel: {panel.n_units:,} employees over {panel.n_periods} {period}s, "
                f"{panel.n_obs:,} employee-{period}s")
        if dropped is not None and len(dropped):
            reasons = dropped["reason"].value_counts()
            line += (f"; {len(dropped):,} employee-{period}s set aside: "
                     + ", ".join(f"{_periods(str(k), period)} ({v:,})" for k, v in reasons.items()))
        out.append(line + ".")
        ids = (getattr(panel, "meta", {}) or {}).get("ids")
        if ids is not None and hasattr(ids, "columns") and len(ids) and "reason" in ids:
            unmatched = ids[ids["matched_to"].isna()] if "matched_to" in ids else ids
            if len(unmatched):
                out.append("- Employees not in the panel: " + ", ".join(
                    f"{v:,} {k}" for k, v in unmatched["reason"].value_counts().items()) + ".")
                out[-1] = out[-1].replace("only: no", "only, with no")
    used = getattr(result, "n_units", None)
    row = result.checks.loc[result.checks["check"] == "employees used"]
    if used is not None:
        line = f"- Employees in the estimate: {used:,}"
        if len(row):
            line = f"- Employees in the estimate: {_periods(_plain(str(row['seen'].iloc[0])), period)}"
            meaning = _plain(str(row["meaning"].iloc[0]))
            if meaning:
                line += f": {meaning.rstrip('.')}"
        out.append(line + ".")
    return out or ["- The tables read and the panel were not given to the deck: rows are not counted here."]
