"""The board deck of an evaluation: summary in editable text with the headline numbers as
impact_summary.json records them, an editable title on every slide, native charts whose bars add up, plain
notes (no code, no "100 %" for a probability below one), a title slide centred on the 16:9 page."""

from __future__ import annotations

import dataclasses
import re
import shutil
import subprocess
import warnings

import matplotlib

matplotlib.use("Agg")

import pytest  # noqa: E402

import impactlab as il  # noqa: E402
from impactlab.deck import board_deck, headline_numbers  # noqa: E402
from impactlab.deck.board import CODE, _plain  # noqa: E402
from impactlab.plot.charts import waterfall_steps  # noqa: E402
from impactlab.report import impact_summary  # noqa: E402
from impactlab.results.evaluation import checks_tally  # noqa: E402

pptx = pytest.importorskip("pptx", reason="python-pptx (extra 'deck') is needed to read the saved deck")

#: What reads as code or a Python object in a slide or a note.
CODE_PATTERNS = re.compile(r"Period\(|=True|=False|aggregate\(|\[[A-Z][a-z]+\(|\bil\.|\w+=\w|\(\)|None\b")


@pytest.fixture(scope="module")
def run():
    org = il.datasets.simulate_org(n_employees=600, n_periods=24, seed=7)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        completions = il.read_completions(org.completions)
        roster = il.read_roster(org.roster)
        kpis = il.read_kpis(org.kpis, unit="employee_id", time="month")
        costs = il.read_costs(org.costs)
        panel = il.build_panel(kpis, completions, program=org.program, outcome=org.outcome, roster=roster)
        ev = il.evaluate(panel)
        r = il.roi(ev.effect, margin=0.25, participants=panel.meta["trained_employees"], horizon=12,
                   costs=il.Costs.from_table(costs, program=org.program), seed=0)
    sources = {"completions": completions, "roster": roster, "KPIs": kpis, "costs": costs}
    return ev, r, panel, sources


def _texts(slide):
    return [sh.text_frame.text for sh in slide.shapes if sh.has_text_frame]


def _saved(deck, tmp_path, name="board.pptx"):
    return pptx.Presentation(str(deck.save(tmp_path / name)))


def test_board_deck_summary_titles_notes(run, tmp_path) -> None:
    ev, r, panel, sources = run
    prs = _saved(board_deck(ev, r, panel=panel, sources=sources, program="Consultative Selling"), tmp_path)
    slides = list(prs.slides)
    assert len(slides) >= 6
    assert prs.slide_width / prs.slide_height == pytest.approx(16 / 9, rel=1e-3)

    # every slide after the first has a title placeholder with text
    for s in slides[1:]:
        assert s.shapes.title is not None and s.shapes.title.is_placeholder
        assert s.shapes.title.text_frame.text.strip()

    # slide 2: the numbers of impact_summary.json's headline, in editable text
    head = impact_summary(ev.naive, r, program="Consultative Selling", panel=panel)["headline"]
    assert head == headline_numbers(ev.effect, r)
    lo, hi = ev.conf_int(0.95)
    assert head["effect"] == round(ev.estimate) and head["effect_interval"] == [round(lo), round(hi)]
    summary = "\n".join(_texts(slides[1]))
    assert slides[1].shapes.title.text_frame.text == "Executive summary"
    sign = lambda x: f"{x:+,}".replace("-", "\u2212")  # noqa: E731
    assert f"{sign(head['effect'])} USD per trained employee per month" in summary
    assert ev.causal and "Answer: yes." in summary
    assert f"interval {sign(head['effect_interval'][0])} to {sign(head['effect_interval'][1])})" in summary
    whole = lambda x: f"{x:,}".replace("-", "\u2212")  # noqa: E731
    rlo, rhi = head["roi_interval_pct"]
    assert (f"Return on investment: {whole(head['roi_pct'])} % (95 % interval {whole(rlo)} % to "
            f"{whole(rhi)} %)") in summary
    if rlo < 0 < head["roi_pct"]:  # this organisation: a positive ROI whose interval includes a loss
        assert "Recommendation: Keep and measure" in summary
    assert head["prob_roi_positive"] in summary
    assert (f"{checks_tally(ev.checks)} (see notes): none found a reason not to read the number as the "
            "effect of training.") in summary
    assert "Recommendation:" in summary

    # no code and no rounded-up certainty anywhere, slides or notes
    for s in slides:
        words = _texts(s) + ([s.notes_slide.notes_text_frame.text] if s.has_notes_slide else [])
        for text in words:
            assert not CODE_PATTERNS.search(text), text
            for sentence in re.split(r"(?<=[.:])\s", text):  # a chance below one is never "100 %"
                if r.prob_positive < 1 and re.search(r"[Cc]hance|[Pp]robab", sentence):
                    assert "100 %" not in sentence and "100%" not in sentence, sentence
    assert all(s.has_notes_slide and s.notes_slide.notes_text_frame.text for s in slides[1:])


def test_native_charts_add_up(run, tmp_path) -> None:
    ev, r, panel, sources = run
    slides = list(_saved(board_deck(ev, r, panel=panel, sources=sources), tmp_path).slides)
    charts = [sh.chart for s in slides for sh in s.shapes if sh.has_chart]
    assert len(charts) == 2
    bars, fall = charts
    # naive vs causal: one bar per estimate of the comparison, the causal one last
    values = list(bars.plots[0].series[0].values)
    assert values[-1] == pytest.approx(ev.estimate)
    assert values[0] == pytest.approx(ev.naive.naive.estimate)
    # waterfall: base + visible parts give each bar's top; the last bar is the net benefit
    base, up, down = (list(s.values) for s in fall.plots[0].series)
    names, starts, ends = waterfall_steps(r)
    for i in range(len(names)):
        top = base[i] + up[i] if base[i] >= 0 else base[i] + down[i]
        assert max(abs(starts[i]), abs(ends[i])) == pytest.approx(abs(top), rel=1e-9)
    assert ends[-1] == pytest.approx(r.benefit - r.cost) == pytest.approx(r.net_benefit)
    assert ends[-2] == pytest.approx(r.net_benefit)  # the costs step the benefit down to the net benefit


def test_a_failed_check_leads_the_summary_and_blocks_scaling(run, tmp_path) -> None:
    ev, r, panel, sources = run
    checks = ev.checks.copy()
    checks.loc[checks["status"] == "fail", "status"] = "pass"
    row = checks.index[checks["check"] == "clusters"][0]
    checks.loc[row, ["status", "meaning", "what_to_do"]] = [
        "fail", "too few clusters for a trustworthy interval.",
        "Build the panel without cluster= (the employee)."]
    bad = dataclasses.replace(ev, checks=checks)
    assert not bad.causal
    slides = list(_saved(board_deck(bad, r, panel=panel, sources=sources), tmp_path).slides)
    summary = _texts(slides[1])[-1].splitlines()
    assert summary[1].startswith("Not yet a causal answer: too few clusters for a trustworthy interval.")
    assert "cluster=" not in "\n".join(summary)
    assert summary[-1].startswith("Recommendation: Do not scale")
    assert (f"{checks_tally(checks)} (clusters): the number may not be read as the effect of training."
            in "\n".join(summary))
    assert checks_tally(checks).endswith(", 1 failed")


def test_title_slide_centred_and_long_names_stay_in_the_title_box(run, tmp_path) -> None:
    ev, r, panel, _ = run
    long_name = "Advanced Consultative Selling and Negotiation for Key Account Managers, EMEA Wave 2 " * 2
    prs = _saved(board_deck(ev, r, panel=panel, program=long_name.strip()), tmp_path)
    first = list(prs.slides)[0]
    title, sub = first.shapes.title, first.placeholders[1]
    for shape in (title, sub):
        assert shape.left + shape.width / 2 == pytest.approx(prs.slide_width / 2, abs=2)
        assert shape.left >= 0 and shape.left + shape.width <= prs.slide_width
    assert title.top + title.height <= sub.top  # the title wraps inside its box, above the subtitle
    assert title.text_frame.word_wrap is True
    assert title.text_frame.paragraphs[0].runs[0].font.size.pt <= 28  # smaller type for a long name


def test_plain_drops_code() -> None:
    assert _plain("Build the panel without cluster= (the employee).") == ""
    assert _plain("Noisy cohorts (see docs/validation.md). Measure again.") == "Noisy cohorts. Measure again."
    assert _plain("Checks passed; run aggregate('dynamic') later.") == "Checks passed;"
    assert CODE.search("[Period('2024-09', 'M')]")
    assert not CODE.search("the 2 months before training are left out")


@pytest.mark.skipif(shutil.which("soffice") is None, reason="LibreOffice (soffice) is not installed: this "
                    "test renders the deck only where it is")
def test_board_deck_renders_every_slide(run, tmp_path) -> None:
    """Checks only where LibreOffice is installed: the deck converts to a PDF with one page per slide."""
    ev, r, panel, sources = run
    path = board_deck(ev, r, panel=panel, sources=sources).save(tmp_path / "render.pptx")
    subprocess.run(["soffice", "--headless", "--convert-to", "pdf", "--outdir", str(tmp_path), str(path)],
                   check=True, capture_output=True, timeout=300)
    pdf = (tmp_path / "render.pdf").read_bytes()
    assert len(re.findall(rb"/Type\s*/Page\b", pdf)) == len(pptx.Presentation(str(path)).slides)
