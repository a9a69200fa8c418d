"""No probability below 1 is shown as 100 % (nor one above 0 as 0 %): summaries, explanations, charts, deck.

The ROI below is built so that ``P(ROI > 0) = 0.99999`` exactly (the effect sits ``z_{0.99999}`` standard
errors above the break-even effect); every text a user or a board can see is collected and searched.
"""

from __future__ import annotations

import re

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import pytest  # noqa: E402
from scipy import stats  # noqa: E402

import impactlab as il  # noqa: E402
from impactlab.results.base import EffectResult  # noqa: E402
from impactlab.results.probability import fmt_prob, prob_statement  # noqa: E402

#: A rounded 100 % in any spelling: "100 %", "100%", "100.0 %", "100.0%".
HUNDRED = re.compile(r"(?<![\d.])100(\.0+)?\s?%")
BREAK_EVEN = 80_000 / (50 * 100 * 12)  # effect at which the ROI below is zero


def _roi(p: float, **kw):
    se = 0.5
    effect = EffectResult(estimate=BREAK_EVEN + se * float(stats.norm.ppf(p)), std_error=se,
                          label="Callaway-Sant'Anna", outcome="quality_score")
    return il.roi(effect, value_per_unit=50, participants=100, horizon=12, costs=80_000, **kw)


def _figure_text(fig) -> str:
    return "\n".join(t.get_text() for t in fig.findobj(matplotlib.text.Text))


@pytest.mark.parametrize(("p", "exact", "text"), [
    (0.97312, True, "97.3 %"), (0.99999, True, "> 99.9 %"), (0.9995, True, "> 99.9 %"),
    (0.99949, True, "99.9 %"), (0.0004, True, "< 0.1 %"), (0.0005, True, "0.1 %"), (1e-12, True, "< 0.1 %"),
    (1.0, True, "100 %"), (0.0, True, "0 %"), (1.0, False, "> 99.9 %"), (0.0, False, "< 0.1 %"),
    (0.5, False, "50.0 %"), (float("nan"), True, "n/a"), (1.2, True, "n/a"),
])
def test_fmt_prob(p, exact, text) -> None:
    assert fmt_prob(p, exact=exact) == text


def test_prob_statement() -> None:
    assert prob_statement("P(ROI > 0)", 0.973) == "P(ROI > 0) = 97.3 %"
    assert prob_statement("P(ROI > 0)", 0.99999) == "P(ROI > 0) > 99.9 %"
    assert prob_statement("power", 1e-6) == "power < 0.1 %"


def test_roi_built_at_the_wanted_probability() -> None:
    assert _roi(0.99999).prob_positive == pytest.approx(0.99999, abs=1e-9)


def test_no_hundred_percent_anywhere_for_p_just_below_one(tmp_path) -> None:
    r = _roi(0.99999)
    texts = {"summary": r.summary(), "explain": str(r.explain()), "html": r._repr_html_(), "repr": repr(r)}
    effect = EffectResult(estimate=r.effect, std_error=0.5, outcome="quality_score")
    chain = il.kirkpatrick.chain(results=effect, roi=r)
    texts["chain summary"] = chain.summary()
    texts["chain explain"] = str(chain.explain())
    figs = {"waterfall": il.plot.roi_waterfall(r).figure, "distribution": il.plot.roi_distribution(r).figure,
            "chain chart": il.plot.chain(chain).figure}
    texts.update({name: _figure_text(fig) for name, fig in figs.items()})
    pptx = pytest.importorskip("pptx", reason="python-pptx (extra 'deck') reads the saved deck")
    deck = il.Deck("ROI for the board")
    for name, fig in figs.items():
        deck.add(fig, result=r if name != "chain chart" else chain)
    deck.add(r)
    out = deck.save(tmp_path / "board.pptx")
    for fig in figs.values():
        plt.close(fig)
    slides = list(pptx.Presentation(str(out)).slides)
    texts["deck"] = "\n".join(sh.text_frame.text for s in slides for sh in s.shapes if sh.has_text_frame)
    texts["notes"] = "\n".join(s.notes_slide.notes_text_frame.text for s in slides if s.has_notes_slide)
    texts["alt text"] = "\n".join(sh._element.xpath("./*[1]/p:cNvPr/@descr")[0] for s in slides
                                  for sh in s.shapes if sh._element.xpath("./*[1]/p:cNvPr/@descr"))
    for where, text in texts.items():
        assert not HUNDRED.search(text), f"{where} shows 100 % for P = 0.99999:\n{text}"
    for where in ("summary", "explain", "waterfall", "distribution", "chain summary", "chain explain",
                  "chain chart", "notes"):
        assert "> 99.9 %" in texts[where], f"{where} does not say '> 99.9 %'"
    assert "0.99999" in texts["repr"]


def test_no_zero_percent_for_p_just_above_zero() -> None:
    r = _roi(0.00002)
    for text in (r.summary(), str(r.explain())):
        assert "P(ROI > 0) < 0.1 %" in text


def test_monte_carlo_share_of_one_is_not_a_certainty() -> None:
    # every draw positive: the share is 1.0, but the effect has a normal sampling error, so P < 1
    r = il.roi(EffectResult(estimate=10.0, std_error=0.5), value_per_unit=50, participants=100, horizon=12,
               costs=il.Costs(delivery=(70_000, 90_000)), n_draws=1_000)
    assert r.method == "monte_carlo" and r.prob_positive == 1.0
    assert "P(ROI > 0) > 99.9 %" in r.summary()


def test_plain_number_effect_is_a_certainty() -> None:
    r = il.roi(10.0, value_per_unit=50, participants=100, horizon=12, costs=80_000)
    assert r.prob_positive == 1.0
    assert "P(ROI > 0) = 100 %" in r.summary()
