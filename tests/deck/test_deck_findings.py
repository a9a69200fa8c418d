"""Deck findings: notes built from results (explain + summary), native editable bar charts."""

from __future__ import annotations

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import pytest  # noqa: E402

from impactlab.deck import Deck, notes_for  # noqa: E402
from impactlab.results.base import EffectResult  # noqa: E402

pptx = pytest.importorskip("pptx", reason="python-pptx (extra 'deck') is needed to read the saved deck")


def _effect() -> EffectResult:
    return EffectResult(estimate=2.3, std_error=0.25, method="callaway_santanna", label="Callaway-Sant'Anna",
                        outcome="revenue", spec={"control": "not_yet_treated"})


def test_notes_carry_method_assumption_caveats_and_numbers(tmp_path) -> None:
    fig, ax = plt.subplots()
    ax.set_title("Training raised revenue by +2.30", loc="left")
    deck = Deck("T").add(fig, result=_effect()).add(_effect())
    prs = pptx.Presentation(str(deck.save(tmp_path / "d.pptx")))
    s1, s2 = list(prs.slides)[1:]
    notes = s1.notes_slide.notes_text_frame.text
    assert notes == notes_for(_effect())
    assert "Parallel trends" in notes and "not yet trained" in notes  # assumption and comparison group
    assert "95% CI 1.81 to 2.79" in notes  # 2.3 +- 1.96 x 0.25
    assert "estimate 2.3000" in notes  # the summary's numbers
    # a result added as a text slide gets its explanation as notes by default
    assert "Identifying assumption" in s2.notes_slide.notes_text_frame.text
    plt.close(fig)


def test_native_bar_chart_is_editable_with_the_given_numbers(tmp_path) -> None:
    values = {"Naive: trained vs never trained": 1874.2, "Callaway-Sant'Anna": 946.4}
    deck = Deck("T").add_bars(values, title="Naive says +1,874; causal +946", note="n",
                              number_format="#,##0")
    prs = pptx.Presentation(str(deck.save(tmp_path / "bars.pptx")))
    slide = list(prs.slides)[1]
    charts = [s for s in slide.shapes if s.has_chart]
    assert len(charts) == 1
    chart = charts[0].chart
    assert list(chart.plots[0].categories) == list(values)
    assert list(chart.series[0].values) == pytest.approx(list(values.values()))
    assert charts[0]._element.nvGraphicFramePr.cNvPr.get("descr") == "Naive says +1,874; causal +946"
    assert slide.notes_slide.notes_text_frame.text == "n"
    assert any(s.has_text_frame and s.text_frame.text == "Naive says +1,874; causal +946"
               for s in slide.shapes)


def test_add_bars_validation() -> None:
    with pytest.raises(ValueError, match="non-empty mapping"):
        Deck("T").add_bars({}, title="x")
    with pytest.raises(ValueError, match="value of 'a' must be a number"):
        Deck("T").add_bars({"a": "many"}, title="x")
    with pytest.raises(ValueError, match="must be finite"):
        Deck("T").add_bars({"a": float("nan")}, title="x")
    with pytest.raises(ValueError, match="'title' must be a non-empty string"):
        Deck("T").add_bars({"a": 1.0}, title=" ")
