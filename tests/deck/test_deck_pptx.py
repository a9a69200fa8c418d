"""Deck: a 16:9 .pptx with a title slide, one picture per chart slide, notes and alt text."""

from __future__ import annotations

import sys

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import pytest  # noqa: E402

from impactlab.deck import Deck  # noqa: E402
from impactlab.errors import MissingDependencyError  # noqa: E402
from impactlab.results.base import EffectResult  # noqa: E402
from impactlab.roi import roi  # noqa: E402

pptx = pytest.importorskip("pptx", reason="python-pptx (extra 'deck') is needed to read the saved deck")
from pptx.enum.shapes import MSO_SHAPE_TYPE  # noqa: E402


@pytest.fixture
def chart():
    fig, ax = plt.subplots(figsize=(40 / 3, 7.5))
    ax.plot([0, 1, 2], [1, 3, 2])
    ax.set_title("Revenue rose by +2.30 per month", loc="left")
    yield fig
    plt.close(fig)


def _pictures(slide):
    return [s for s in slide.shapes if s.shape_type == MSO_SHAPE_TYPE.PICTURE]


def test_deck_slides_notes_pictures_alt_text(tmp_path, chart) -> None:
    png = tmp_path / "saved_chart.png"
    chart.savefig(png, dpi=50)
    effect = EffectResult(estimate=2.3, std_error=0.25, label="Callaway-Sant'Anna", outcome="revenue")
    r = roi(effect, value_per_unit=50, participants=100, horizon=12, costs=80_000)
    deck = (Deck("Consultative Selling: impact on revenue", subtitle="Causal evaluation and ROI")
            .add(chart, note="Naive +5.1 vs causal +2.3")
            .add(chart.axes[0], title="Same chart from its axes")
            .add(png, note="from a file")
            .add(r, note="ROI details"))
    assert len(deck) == 5
    out = deck.save(tmp_path / "out" / "impact.pptx")
    assert out.exists()

    prs = pptx.Presentation(str(out))
    assert prs.slide_width / prs.slide_height == pytest.approx(16 / 9, rel=1e-3)
    slides = list(prs.slides)
    assert len(slides) == 5
    assert slides[0].shapes.title.text == "Consultative Selling: impact on revenue"
    assert "Causal evaluation and ROI" in [s.text_frame.text for s in slides[0].placeholders]

    for s in slides[1:4]:
        pics = _pictures(s)
        assert len(pics) == 1
        pic = pics[0]
        assert pic.width / pic.height == pytest.approx(16 / 9, rel=1e-2)
        assert 0 <= pic.left and pic.left + pic.width <= prs.slide_width
        assert pic.top + pic.height <= prs.slide_height
    assert slides[1].notes_slide.notes_text_frame.text == "Naive +5.1 vs causal +2.3"
    assert slides[3].notes_slide.notes_text_frame.text == "from a file"
    assert not slides[2].has_notes_slide
    alt = _pictures(slides[1])[0]._element.nvPicPr.cNvPr.get("descr")
    assert alt == "Revenue rose by +2.30 per month"
    assert _pictures(slides[3])[0]._element.nvPicPr.cNvPr.get("descr") == "saved chart"
    assert any(s.has_text_frame and s.text_frame.text == "Same chart from its axes" for s in slides[2].shapes)

    text_slide = slides[4]
    assert _pictures(text_slide) == []
    body = "\n".join(s.text_frame.text for s in text_slide.shapes if s.has_text_frame)
    assert f"ROI {r.roi_pct:.1f} %" in body
    assert text_slide.notes_slide.notes_text_frame.text == "ROI details"


def test_figure_is_rendered_when_added(tmp_path, chart) -> None:
    deck = Deck("T").add(chart)
    chart.axes[0].set_title("changed later", loc="left")
    prs = pptx.Presentation(str(deck.save(tmp_path / "d.pptx")))
    assert _pictures(list(prs.slides)[1])[0]._element.nvPicPr.cNvPr.get("descr") == \
        "Revenue rose by +2.30 per month"


def test_add_validation(tmp_path) -> None:
    deck = Deck("T")
    with pytest.raises(FileNotFoundError, match="no picture at"):
        deck.add(tmp_path / "missing.png")
    with pytest.raises(ValueError, match="PNG or JPEG"):
        deck.add(tmp_path / "notes.txt")
    with pytest.raises(TypeError, match="Got int instead"):
        deck.add(3)
    with pytest.raises(ValueError, match="'title' parameter must be a non-empty string"):
        Deck("")
    with pytest.raises(ValueError, match="must end in .pptx"):
        deck.save(tmp_path / "deck.ppt")
    assert len(deck) == 1


def test_missing_python_pptx_names_the_extra(tmp_path, monkeypatch) -> None:
    monkeypatch.setitem(sys.modules, "pptx", None)  # makes `import pptx` fail
    with pytest.raises(MissingDependencyError, match=r'pip install "impactlab\[deck\]"'):
        Deck("T").save(tmp_path / "d.pptx")
