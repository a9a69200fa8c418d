"""Text given to a deck loses the characters a .pptx cannot store, with a warning naming the field,
instead of a raw lxml error at save()."""

from __future__ import annotations

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import pytest  # noqa: E402

from impactlab.deck import Deck  # noqa: E402
from impactlab.errors import DataQualityWarning  # noqa: E402
from impactlab.results.base import EffectResult  # noqa: E402

pptx = pytest.importorskip("pptx", reason="python-pptx (extra 'deck') is needed to read the saved deck")


def _texts(slide) -> list[str]:
    return [s.text_frame.text for s in slide.shapes if s.has_text_frame and s.text_frame.text]


def test_control_characters_are_removed_with_a_warning_naming_the_field(tmp_path):
    with pytest.warns(DataQualityWarning) as caught:
        deck = Deck("Q3\x1b impact\x00", subtitle="Sales\x07 team")
        deck.add_bars({"Na\x0bive": 1874.0, "Causal\ufffe": 850.0}, title="Causal +850\x0c a month",
                      note="from \x1fthe sample")
        path = deck.save(tmp_path / "deck.pptx")
    fields = [str(w.message).split(" '")[0] for w in caught]
    assert fields == ["Deck: the deck title", "Deck: the deck subtitle", "Deck: the category",
                      "Deck: the category", "Deck: the slide title", "Deck: the note"]
    assert "(U+0000, U+001B)" in str(caught[0].message) and "removed" in str(caught[0].message)
    assert all(w.filename == __file__ for w in caught)  # points at the caller's line
    prs = pptx.Presentation(str(path))
    title_slide, bars = prs.slides
    assert _texts(title_slide) == ["Q3 impact", "Sales team"]
    assert "Causal +850 a month" in _texts(bars)
    chart = next(s for s in bars.shapes if s.has_chart).chart
    assert list(chart.plots[0].categories) == ["Naive", "Causal"]
    assert bars.notes_slide.notes_text_frame.text == "from the sample"


@pytest.mark.filterwarnings("ignore:Glyph 8:UserWarning")  # matplotlib drawing the chart's own title
def test_chart_and_result_text_is_cleaned_too(tmp_path):
    fig, ax = plt.subplots()
    ax.set_title("Revenue\x08 rose", loc="left")
    effect = EffectResult(estimate=2.3, std_error=0.25, label="Callaway\x1bSant'Anna", outcome="revenue")
    with pytest.warns(DataQualityWarning) as caught:
        deck = Deck("Impact").add(fig, title="Chart\x01", alt=None)
        deck.add(effect)
    plt.close(fig)
    ours = [str(w.message) for w in caught if w.category is DataQualityWarning]
    fields = [m.split(" '")[0].split(' "')[0] for m in ours]
    assert fields == ["Deck: the slide title", "Deck: the chart title", "Deck: the result summary",
                      "Deck: the result label", "Deck: the note"]
    prs = pptx.Presentation(str(deck.save(tmp_path / "d.pptx")))
    picture = next(s for s in prs.slides[1].shapes if s.shape_type == 13)
    assert picture._element.nvPicPr.cNvPr.get("descr") == "Revenue rose"
    assert "Callaway" in _texts(prs.slides[2])[0] and "\x1b" not in _texts(prs.slides[2])[0]


def test_clean_text_gives_no_warning():
    import warnings

    with warnings.catch_warnings():
        warnings.simplefilter("error")
        Deck("Impact\tof training\n2026", subtitle="é ü — ✓").add_bars({"Naïve": 1.0}, title="ok")
