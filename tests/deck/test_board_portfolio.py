"""board_deck(..., portfolio=): one slide ranking the programmes, after the ROI, titled with which to grow
and which show no effect distinguishable from zero, plain notes with each programme's numbers."""

from __future__ import annotations

import re
import warnings

import matplotlib

matplotlib.use("Agg")

import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
import pytest  # noqa: E402
from scipy import stats  # noqa: E402

import impactlab as il  # noqa: E402
from impactlab.deck import board_deck  # noqa: E402
from impactlab.deck.side_by_side import advice  # noqa: E402
from impactlab.plot.programs import ranked  # noqa: E402
from impactlab.programs.result import PROGRAM_COLUMNS, PortfolioResult  # noqa: E402

pptx = pytest.importorskip("pptx", reason="python-pptx (extra 'deck') is needed to read the saved deck")

#: What reads as code in a slide or a note (as in test_board_deck.py).
CODE_PATTERNS = re.compile(r"Period\(|=True|=False|aggregate\(|\[[A-Z][a-z]+\(|\bil\.|\w+=\w|\(\)|None\b")


@pytest.fixture(scope="module")
def org_run():
    """A simulated organisation with three programmes (true effects about 740, 370 and 0 a month)."""
    org = il.datasets.simulate_org(n_employees=400, n_periods=24, seed=9,
                                   programs={"Negotiation Skills": 0.5, "Time Management": 0.0})
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        kpis = il.read_kpis(org.kpis, unit="employee_id", time="month")
        completions, costs = il.read_completions(org.completions), il.read_costs(org.costs)
        panel = org.panel()
        ev = il.evaluate(panel)
        r = il.roi(ev.effect, margin=0.25, participants=panel.meta["trained_employees"], horizon=12,
                   costs=il.Costs.from_table(costs, program=org.program), seed=0)
        res = il.portfolio(kpis, completions, programs=list(org.truths), outcome=org.outcome, anticipation=2,
                           costs=costs, margin=0.25, horizon=12, seed=1)
    return ev, r, panel, res


def _hand_result() -> PortfolioResult:
    """B clear with ROI 10 % to 73 % (grow), A crossing zero, C clear with ROI below zero."""
    est, se = np.array([40.0, 500.0, 300.0]), np.array([60.0, 100.0, 50.0])
    z, c = stats.norm.ppf(0.975), 2.3877
    p = 2 * stats.norm.sf(np.abs(est / se))
    table = pd.DataFrame({
        "program": ["Time Management", "Consultative Selling", "Negotiation Skills"], "estimate": est,
        "std_error": se, "ci_low": est - z * se, "ci_high": est + z * se, "p_value": p,
        "p_adjusted": np.minimum(1, 3 * p), "ci_low_simultaneous": est - c * se,
        "ci_high_simultaneous": est + c * se, "n_trained": [100, 200, 50], "n_also_other": [10, 20, 5],
        "roi": [-80.0, 41.5, -30.0], "roi_low": [-120.0, 10.3, -50.0], "roi_high": [-40.0, 72.6, -10.0]})
    cells = pd.DataFrame(columns=["program", "cohort", "event_time", "estimate", "n_obs"])
    return PortfolioResult(programs=table[list(PROGRAM_COLUMNS)], results={}, element_vcov=np.diag(se ** 2),
                           cells=cells, outcome="revenue", spec={"freq": "M", "seed": 0, "anticipation": 2})


def _slides(deck, tmp_path):
    return list(pptx.Presentation(str(deck.save(tmp_path / "board.pptx"))).slides)


def test_one_slide_after_the_roi_which_to_grow(org_run, tmp_path) -> None:
    ev, r, panel, _ = org_run
    without = _slides(board_deck(ev, r, panel=panel), tmp_path)
    slides = _slides(board_deck(ev, r, panel=panel, portfolio=_hand_result()), tmp_path)
    assert len(slides) == len(without) + 1
    titles = [s.shapes.title.text_frame.text for s in slides]
    i = titles.index("Grow Consultative Selling; Time Management shows no effect distinguishable from zero")
    assert titles[i - 1].startswith("ROI ") and titles[i + 1] == "Methods and assumptions"
    pictures = [sh for sh in slides[i].shapes if sh.shape_type == 13]
    assert len(pictures) == 1
    assert pictures[0]._element.nvPicPr.cNvPr.get("descr") == (
        "Programmes ranked by effect: Consultative Selling +500; Negotiation Skills +300; "
        "Time Management +40")
    note = slides[i].notes_slide.notes_text_frame.text
    lines = note.splitlines()
    # the ranges are the result's simultaneous intervals (Monte Carlo sup-t, near Sidak's 2.3877 x SE)
    sim = _hand_result().tidy(0.95).set_index("program")
    lo, hi = (sim[f"conf_{end}_simultaneous"].round().astype(int) for end in ("low", "high"))
    names = ["Consultative Selling", "Negotiation Skills", "Time Management"]
    np.testing.assert_allclose(lo[names], [261, 181, -103], atol=1)
    np.testing.assert_allclose(hi[names], [739, 419, 183], atol=1)
    s = lambda x: f"{x:+,}".replace("-", "\u2212")  # noqa: E731
    assert lines[1:] == [
        f"Consultative Selling: +500 USD per trained employee per month (95 % range "
        f"{s(lo['Consultative Selling'])} to {s(hi['Consultative Selling'])} when the 3 programmes are "
        "compared at once); return on investment 42 % (10 % to 73 %): grow: raised revenue and returned "
        "more than it cost.",
        f"Negotiation Skills: +300 USD per trained employee per month (95 % range "
        f"{s(lo['Negotiation Skills'])} to {s(hi['Negotiation Skills'])} when the 3 programmes are compared "
        "at once); return on investment \u221230 % (\u221250 % to \u221210 %): raised revenue but costs more "
        "than it returns.",
        f"Time Management: +40 USD per trained employee per month (95 % range {s(lo['Time Management'])} to "
        f"{s(hi['Time Management'])} when the 3 programmes are compared at once); return on investment "
        "\u221280 % (\u2212120 % to \u221240 %): no effect distinguishable from zero."]
    # the adjustment said once on the slide (its footnote), the assumption and the two numbers in the notes
    assert "leaving out the 2 months before training" in lines[0] and "the effects add up" in lines[0]
    assert (f"Consultative Selling shows +500 here and {round(ev.estimate):+,} in the summary"
            in lines[0])
    assert not CODE_PATTERNS.search(note) and "100 %" not in note


def test_advice_branches() -> None:
    row = {"verdict": "positive", "roi": 20.0, "roi_low": -5.0, "roi_high": 45.0}
    assert advice(row, "sales") == "raised sales; keep and measure: the return is not yet clear"
    assert advice({**row, "roi_low": 1.0}, "sales").startswith("grow")
    assert advice({**row, "roi_high": -1.0}, "sales") == "raised sales but costs more than it returns"
    assert advice({**row, "roi": np.nan}, "sales") == "raised sales; the return was not counted"
    unclear = {**row, "verdict": "unclear", "roi_low": 1.0}  # a good ROI on no clear effect is no reason
    assert advice(unclear, "sales") == "no effect distinguishable from zero"
    assert advice({**row, "verdict": "negative"}, "sales") == "do not scale: sales fell"


def test_a_real_portfolio_on_the_deck(org_run, tmp_path) -> None:
    ev, r, panel, res = org_run
    slides = _slides(board_deck(ev, r, panel=panel, portfolio=res), tmp_path)
    frame = ranked(res)
    slide = next(s for s in slides if any(sh.shape_type == 13 for sh in s.shapes)
                 and "programmes are compared at once" in s.notes_slide.notes_text_frame.text)
    note = slide.notes_slide.notes_text_frame.text
    # one line per programme, largest effect first, each with its ROI, in the order the chart draws them
    assert [line.split(":")[0] for line in note.splitlines()[1:]] == list(frame["program"])
    assert all("return on investment" in line for line in note.splitlines()[1:])
    title = slide.shapes.title.text_frame.text
    grow = [p for p, v, lo in zip(frame["program"], frame["verdict"], frame["roi_low"], strict=True)
            if v == "positive" and lo > 0]
    unclear = list(frame.loc[frame["verdict"] == "unclear", "program"])
    assert title.startswith(f"Grow {grow[0]}") if grow else not title.startswith("Grow")
    assert all(p in title for p in unclear)
    assert not CODE_PATTERNS.search(note + title)
