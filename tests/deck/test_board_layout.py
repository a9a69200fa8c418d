"""What the board sees: the checks counted the same way on the summary slide, in impact_summary.json, in the
evaluation's HTML view and in its explain(); the effect-by-month chart filling the space under its title;
a methods slide readable at a glance (the detail in the notes); plain bar labels and round axis steps; the
data window in words; a slide added by appending to SLIDES."""

from __future__ import annotations

import dataclasses
import io
import warnings

import matplotlib

matplotlib.use("Agg")

import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
import pytest  # noqa: E402
from matplotlib import image as mpimg  # noqa: E402

import impactlab as il  # noqa: E402
from impactlab.deck import board  # noqa: E402
from impactlab.deck.board import PICTURE_HEIGHT_IN, PICTURE_WIDTH_IN, board_deck  # noqa: E402
from impactlab.deck.pptx import _EMU_PER_INCH, _MARGIN, _TITLE_HEIGHT, SLIDE_WIDTH, _tick_step  # noqa: E402
from impactlab.report import impact_summary  # noqa: E402
from impactlab.results.evaluation import checks_tally  # noqa: E402

pptx = pytest.importorskip("pptx", reason="python-pptx (extra 'deck') is needed to read the saved deck")


@pytest.fixture(scope="module")
def run():
    org = il.datasets.simulate_org(n_employees=600, n_periods=24, seed=7)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        panel = org.panel()
        ev = il.evaluate(panel)
        r = il.roi(ev.effect, margin=0.25, participants=panel.meta["trained_employees"], horizon=12,
                   costs=il.Costs.from_table(il.read_costs(org.costs), program=org.program), seed=0)
    return ev, r, panel


@pytest.fixture(scope="module")
def slides(run, tmp_path_factory):
    ev, r, panel = run
    path = board_deck(ev, r, panel=panel).save(tmp_path_factory.mktemp("board") / "board.pptx")
    return list(pptx.Presentation(str(path)).slides)


def _body(slide) -> list[str]:
    return [p.text for sh in slide.shapes if sh.has_text_frame and not sh.is_placeholder
            for p in sh.text_frame.paragraphs if p.text]


def test_checks_tally_in_words() -> None:
    frame = lambda *st: pd.DataFrame({"check": [f"c{i}" for i in range(len(st))], "status": st})  # noqa: E731
    assert checks_tally(frame("pass", "warn", "pass", "warn", "pass")) == "5 checks: 3 passed, 2 cautions"
    assert checks_tally(frame("pass", "fail", "warn")) == "3 checks: 1 passed, 1 caution, 1 failed"
    assert checks_tally(frame("fail", "fail")) == "2 checks: 0 passed, 2 failed"
    assert checks_tally(frame("pass")) == "1 check: 1 passed"


def test_the_checks_read_the_same_on_the_slide_in_the_file_and_in_the_html(run, slides) -> None:
    ev, r, panel = run
    status = ev.checks["status"]
    n, passed, warned = len(status), int((status == "pass").sum()), int((status == "warn").sum())
    assert ev.causal and n == 9 and warned >= 1  # this organisation: every check passed or warned
    text = f"{n} checks: {passed} passed, {warned} caution{'s' if warned > 1 else ''}"
    assert checks_tally(ev.checks) == text
    assert (f"{text} (see notes): none found a reason not to read the number as the "
            "effect of training.") in _body(slides[1])
    summary = impact_summary(ev, r, panel=panel)
    assert summary["checks"]["text"] == text and summary["checks"]["causal"] is True
    assert summary["checks"]["cautions"] == list(ev.checks.loc[status == "warn", "check"])
    assert len(summary["checks"]["passed"]) == passed and summary["checks"]["failed"] == []
    # the evaluation's own views and the file built from its naive numbers agree with it
    assert f"{text}: may be read as causal" in ev._repr_html_()
    assert ev.explain().headline.endswith(f"; {text}.")
    assert {k: v for k, v in summary.items() if k != "checks"} == impact_summary(ev.naive, r, panel=panel)
    # the summary's notes say what each caution is
    notes = slides[1].notes_slide.notes_text_frame.text
    for check in summary["checks"]["cautions"]:
        assert f"{check}: " in notes


def test_a_failed_check_is_counted_and_named(run, tmp_path) -> None:
    ev, r, panel = run
    checks = ev.checks.copy()
    checks.loc[checks["check"] == "turnover", "status"] = "fail"
    bad = dataclasses.replace(ev, checks=checks)
    text = checks_tally(checks)
    assert text.endswith(", 1 failed")
    path = board_deck(bad, r, panel=panel).save(tmp_path / "bad.pptx")
    saved = list(pptx.Presentation(str(path)).slides)
    summary = _body(saved[1])
    assert f"{text} (turnover): the number may not be read as the effect of training." in summary
    # the methods slide names each check that did not pass after its own count
    cautions = ", ".join(checks.loc[checks["status"] == "warn", "check"])
    counts = checks["status"].value_counts()
    assert _body(saved[5])[-1] == (f"\u2022 9 checks: {counts['pass']} passed, {counts['warn']} cautions "
                                   f"({cautions}), 1 failed (turnover).")
    assert f"{text}: NOT causal (turnover)" in bad._repr_html_()
    assert impact_summary(bad, r)["checks"] | {"passed": None} == {
        "text": text, "causal": False, "passed": None, "failed": ["turnover"],
        "cautions": list(checks.loc[checks["status"] == "warn", "check"])}


def test_the_chart_fills_the_space_under_its_title(slides) -> None:
    slide = slides[3]
    assert slide.shapes.title.text_frame.text.startswith("The effect by month since training")
    pics = [sh for sh in slide.shapes if sh.shape_type == 13]  # MSO_SHAPE_TYPE.PICTURE
    assert len(pics) == 1
    pic, title = pics[0], slide.shapes.title
    box_w = SLIDE_WIDTH - 2 * _MARGIN
    assert title.top + title.height == _MARGIN + _TITLE_HEIGHT
    # drawn at the size of the space under the title: it fills it, flush under the title
    assert abs(pic.top - (title.top + title.height)) <= 0.02 * _EMU_PER_INCH
    assert pic.width >= 0.99 * box_w and pic.left == pytest.approx(_MARGIN, abs=0.02 * _EMU_PER_INCH)
    assert pic.width / pic.height == pytest.approx(PICTURE_WIDTH_IN / PICTURE_HEIGHT_IN, rel=0.01)
    # no empty band at the top of the picture: ink (ticks, dots, legend) starts in its top 6 %
    pixels = mpimg.imread(io.BytesIO(pic.image.blob), format="png")[..., :3]
    ink_rows = np.flatnonzero((pixels.min(axis=2) < 0.5).any(axis=1))
    assert ink_rows[0] < 0.06 * pixels.shape[0], ink_rows[0] / pixels.shape[0]


def test_methods_at_a_glance_detail_in_the_notes(run, slides) -> None:
    ev, _, _ = run
    slide = slides[5]
    assert slide.shapes.title.text_frame.text == "Methods and assumptions"
    bullets = _body(slide)
    assert 3 <= len(bullets) <= 5 and all(len(b) <= 140 for b in bullets), bullets  # two lines each
    box = next(sh for sh in slide.shapes if sh.has_text_frame and not sh.is_placeholder)
    sizes = {run.font.size.pt for p in box.text_frame.paragraphs for run in p.runs}
    assert min(sizes) >= 22  # readable at a glance (was 16 pt for eight bullets)
    assert bullets[-1] == f"\u2022 {checks_tally(ev.checks)} (dip before training, cohort sizes)."
    assert any(b.startswith("\u2022 Left out: the 2 months before training") for b in bullets)
    notes = slide.notes_slide.notes_text_frame.text
    assert "Borusyak, Jaravel & Spiess, 2024" in notes and "Uncertainty: 95 % intervals" in notes
    for _, row in ev.checks[ev.checks["status"] != "pass"].iterrows():
        assert f"Caution, {row['check']}:" in notes


def test_plain_bar_labels_and_round_axis_steps(slides) -> None:
    from pptx.enum.chart import XL_TICK_LABEL_POSITION

    charts = [sh.chart for s in slides for sh in s.shapes if sh.has_chart]
    assert len(charts) == 2  # naive vs causal, the ROI waterfall
    for chart in charts:  # category labels at the left edge, never on a bar below zero (a net loss)
        assert chart.category_axis.tick_label_position == XL_TICK_LABEL_POSITION.LOW
    chart = next(sh.chart for sh in slides[2].shapes if sh.has_chart)
    labels = list(chart.plots[0].categories)
    assert "Two-way fixed effects" not in labels and "Regression (period effects)" not in labels
    assert labels[-1] == "Causal estimate (this evaluation)"
    values = list(chart.plots[0].series[0].values)
    step = chart.value_axis.major_unit
    assert step == _tick_step(values) and 3 <= max(values) / step <= 10
    assert chart.value_axis.tick_labels.number_format == "#,##0"
    assert (_tick_step([1874, 850]), _tick_step([-3.0, 2.0]), _tick_step([0.42])) == (500, 1, 0.1)


def test_the_data_window_in_words(slides) -> None:
    subtitle = slides[0].placeholders[1].text_frame.text
    assert subtitle.splitlines()[-1] == "Data from January 2024 to December 2025"


def test_a_slide_is_one_function_appended_to_slides(run, monkeypatch) -> None:
    ev, r, panel = run

    def programmes(deck, b):
        deck.add_text([f"- {b.program}: {b.headline['effect']:+,}"], title="Programmes side by side")

    before = len(board_deck(ev, r, panel=panel))
    monkeypatch.setattr(board, "SLIDES", (*board.SLIDES, programmes))
    deck = board_deck(ev, r, panel=panel)
    assert len(deck) == before + 1
    assert deck._slides[-1].paragraphs == (f"- {panel.meta['program']}: {round(ev.estimate):+,}",)
