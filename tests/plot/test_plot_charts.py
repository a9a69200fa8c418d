"""Deck charts: 16:9, not blank, the title carries the result's number."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from matplotlib import image as mpimg
from matplotlib import pyplot as plt

import impactlab.plot as ilplot
from impactlab.plot.theme import COLORS, OKABE_ITO, fmt_money, fmt_number, fmt_pct
from impactlab.results.base import EffectResult
from impactlab.roi import Costs, roi


def _dynamic() -> EffectResult:
    el = pd.DataFrame({"event_time": np.arange(-3, 5),
                       "estimate": [0.1, -0.1, 0.0, 1.0, 1.5, 2.0, 2.5, 3.0],
                       "std_error": [0.3] * 8})
    return EffectResult(estimate=2.0, std_error=0.25, label="Callaway-Sant'Anna (dynamic)",
                        method="callaway_santanna", outcome="revenue", n_obs=4800, n_units=200, elements=el,
                        spec={"data_window": "2023-01 to 2024-12"})


def _compare_frame() -> pd.DataFrame:
    f = pd.DataFrame({"method": ["naive_difference", "pre_post", "twfe", "callaway_santanna"],
                      "label": ["Naive", "Before vs after", "TWFE", "Callaway-Sant'Anna"],
                      "estimate": [5.1, 3.9, 1.6, 2.3], "std_error": [0.3, 0.3, 0.2, 0.25]})
    f["conf_low"] = f["estimate"] - 1.959964 * f["std_error"]
    f["conf_high"] = f["estimate"] + 1.959964 * f["std_error"]
    return f


def _roi():
    costs = Costs(design=(15_000, 25_000), delivery=20_000, participant_time=25_000, overhead=15_000)
    return roi(EffectResult(estimate=2.0, std_error=0.5), value_per_unit=50, participants=100, horizon=12,
               costs=costs)


def _check_slide_png(ax, tmp_path, name):
    fig = ax.figure
    w, h = fig.get_size_inches()
    assert w / h == pytest.approx(16 / 9, rel=1e-3)
    png, svg = ilplot.save(fig, tmp_path / name)
    assert png.suffix == ".png" and svg.suffix == ".svg" and svg.stat().st_size > 1000
    pixels = mpimg.imread(png)
    assert pixels.shape[1] / pixels.shape[0] == pytest.approx(16 / 9, rel=2e-3)
    assert pixels.shape[1] == 2000  # 13.333 in x 150 dpi
    assert pixels[..., :3].std() > 0.05  # not blank
    return pixels


def test_event_study_from_result(tmp_path) -> None:
    ax = ilplot.event_study(_dynamic())
    title = ax.get_title("left")
    assert "+2.00" in title and "+1.51" in title and "+2.49" in title  # 2 +- 1.96 x 0.25
    _check_slide_png(ax, tmp_path, "es")
    # pre and post points in their colours, with the split line before e = 0
    colours = {c.get_color() for c in ax.lines}
    assert COLORS["pre"] in colours and COLORS["post"] in colours
    assert any(list(line.get_xdata()) == [-0.5, -0.5] for line in ax.lines)
    foot = " ".join(t.get_text() for t in ax.figure.texts)
    assert "Callaway-Sant'Anna" in foot and "2023-01 to 2024-12" in foot


def test_event_study_from_frame_title_uses_post_mean() -> None:
    frame = _dynamic().elements
    ax = ilplot.event_study(frame)
    assert fmt_number(float(frame.loc[frame.event_time >= 0, "estimate"].mean())) in ax.get_title("left")
    assert "+2.00" in ax.get_title("left")  # mean of 1, 1.5, 2, 2.5, 3


def test_event_study_draws_on_given_axes() -> None:
    fig, (a, b) = plt.subplots(1, 2)
    out = ilplot.event_study(_dynamic(), ax=b, title="Custom")
    assert out is b and b.get_title("left") == "Custom" and not a.lines


def test_event_study_rejects_missing_columns() -> None:
    with pytest.raises(ValueError, match="needs the column\\(s\\) std_error"):
        ilplot.event_study(pd.DataFrame({"event_time": [0], "estimate": [1.0]}))
    with pytest.raises(TypeError, match="expects a result with .elements"):
        ilplot.event_study(3.0)


def test_compare_frame_with_truth(tmp_path) -> None:
    ax = ilplot.compare(_compare_frame(), truth=2.2)
    title = ax.get_title("left").replace("\n", " ")
    assert "Naive comparison says +5.10; the causal estimate is +2.30 (95% CI +1.81 to +2.79)" in title
    _check_slide_png(ax, tmp_path, "cmp")
    truth_lines = [ln for ln in ax.lines if list(ln.get_xdata()) == [2.2, 2.2]]
    assert len(truth_lines) == 1
    assert [t.get_text() for t in ax.get_yticklabels()] == ["Naive", "Before vs after", "TWFE",
                                                            "Callaway-Sant'Anna"]


def test_compare_result_object_uses_truth_and_causal_method() -> None:
    class Cmp:
        truth = 2.2
        causal_method = "twfe"
        outcome = "revenue"

        def tidy(self):
            return _compare_frame()

    ax = ilplot.compare(Cmp())
    assert "the causal estimate is +1.60" in ax.get_title("left").replace("\n", " ")
    assert any(list(ln.get_xdata()) == [2.2, 2.2] for ln in ax.lines)
    with pytest.raises(ValueError, match="No row has method 'bogus'"):
        ilplot.compare(Cmp(), causal_method="bogus")


def test_roi_waterfall(tmp_path) -> None:
    r = _roi()
    ax = ilplot.roi_waterfall(r)
    title = ax.get_title("left").replace("\n", " ")
    lo, hi = r.conf_int()
    assert title.startswith(f"ROI {fmt_pct(r.roi_pct)}") and "ROI 50%" in title
    assert f"{fmt_pct(lo)} to {fmt_pct(hi)}" in title and "$1.50" in title
    _check_slide_png(ax, tmp_path, "roi")
    names = [t.get_text().replace("\n", " ") for t in ax.get_xticklabels()]
    assert names == ["Benefit", "Design", "Delivery", "Participant time", "Overhead", "Net benefit"]
    bars = ax.patches
    assert bars[0].get_height() == pytest.approx(120_000)
    assert bars[-1].get_height() == pytest.approx(40_000)
    assert bars[1].get_y() == pytest.approx(100_000)  # design (midpoint 20,000) hangs from the benefit
    assert bars[-1].get_facecolor()[:3] == pytest.approx(tuple(int(OKABE_ITO["blue"][i:i + 2], 16) / 255
                                                                 for i in (1, 3, 5)))


def test_roi_waterfall_plain_cost_and_loss() -> None:
    r = roi(0.5, value_per_unit=50, participants=100, horizon=12, costs=80_000)
    ax = ilplot.roi_waterfall(r)
    names = [t.get_text().replace("\n", " ") for t in ax.get_xticklabels()]
    assert names == ["Benefit", "Fully-loaded cost", "Net benefit"]
    assert ax.patches[-1].get_height() == pytest.approx(-50_000)
    assert "ROI -62%" in ax.get_title("left")
    with pytest.raises(TypeError, match="expects a RoiResult"):
        ilplot.roi_waterfall(_dynamic())


def test_save_formats_and_validation(tmp_path) -> None:
    ax = ilplot.event_study(_dynamic())
    paths = ilplot.save(ax, tmp_path / "sub" / "chart.png", formats=("png",))
    assert paths == [tmp_path / "sub" / "chart.png"] and paths[0].exists()
    with pytest.raises(ValueError, match="'formats' parameter must be one of 'png', 'svg', 'pdf'. Got 'gif'"):
        ilplot.save(ax, tmp_path / "x", formats=("gif",))


def test_theme_sets_slide_size_and_palette() -> None:
    with ilplot.deck_theme():
        fig, ax = plt.subplots()
        line, = ax.plot([0, 1])
    assert tuple(fig.get_size_inches()) == pytest.approx((40 / 3, 7.5))
    assert line.get_color().upper() == OKABE_ITO["orange"]
    assert plt.rcParams["figure.figsize"] != [13.333, 7.5]  # restored on exit


def test_formatters() -> None:
    assert fmt_number(2.3456) == "+2.35" and fmt_number(-1234.4) == "-1,234"
    assert fmt_money(120_000) == "$120k" and fmt_money(-1.5e6, "GBP") == "-£1.5M"
    assert fmt_pct(50) == "50%" and fmt_pct(-4.26) == "-4.3%"


def test_event_study_marks_the_anticipation_window() -> None:
    el = pd.DataFrame({"event_time": [-3, -2, -1, 0, 1], "estimate": [0.0, 0.1, -0.8, 1.0, 1.5],
                       "std_error": [0.2] * 5})
    res = EffectResult(estimate=1.25, std_error=0.2, method="callaway_santanna", outcome="revenue",
                       elements=el, spec={"anticipation": 1})
    ax = ilplot.event_study(res, data_window="2024-01 to 2025-12")
    labels = ax.get_legend_handles_labels()[1]
    assert labels == ["Before training (placebo)", "Anticipation window (1 period)", "After training"]
    note = ax.figure.texts[0].get_text().replace("\n", " ")
    assert "data 2024-01 to 2025-12" in note and "anticipation" in note


def test_event_study_onset_shift_puts_training_back_at_zero() -> None:
    frame = pd.DataFrame({"event_time": [-3, -2, 0, 1, 2, 3], "estimate": [0.0, 0.1, -8.0, -7.0, 5.0, 7.0],
                          "std_error": [1.0] * 6})
    ax = ilplot.event_study(frame, onset_shift=2)
    xs = sorted(float(x) for line in ax.get_lines() if line.get_marker() == "o" for x in line.get_xdata())
    assert xs == [-5.0, -4.0, -2.0, -1.0, 0.0, 1.0]  # event times moved back by 2
    labels = [t.get_text() for t in ax.get_legend().get_texts()]
    assert "Anticipation window (2 periods)" in labels
    assert "+6.00 per period over event times 0 to 1" in " ".join(ax.get_title(loc="left").split())
    with pytest.raises(ValueError, match="onset_shift"):
        ilplot.event_study(frame, onset_shift=-1)
def test_compare_wraps_long_method_labels_instead_of_cutting_them():
    long = "Imputation (Borusyak, Jaravel & Spiess)"
    frame = pd.DataFrame({"method": ["naive_difference", "imputation"],
                          "label": ["Naive: trained vs never trained", long],
                          "estimate": [1874.0, 850.0], "conf_low": [1680.0, 753.0],
                          "conf_high": [2068.0, 947.0], "causal": [False, True]})
    ax = ilplot.compare(frame)
    labels = [t.get_text() for t in ax.get_yticklabels()]
    assert "Naive: trained vs never trained" in labels
    assert "Imputation (Borusyak, Jaravel &\nSpiess)" in labels
    plt.close(ax.figure)


def test_axes_say_the_unit_and_the_caption_every_colour() -> None:
    monthly = EffectResult(estimate=2.0, std_error=0.25, outcome="revenue", elements=_dynamic().elements,
                           spec={"freq": "M"})
    ax = ilplot.event_study(monthly, currency="USD")
    assert ax.get_ylabel() == "Effect on revenue (USD per employee per month)"
    assert ax.get_xlabel() == "Months since training"
    assert "+2.00 per month" in ax.get_title("left")
    weekly = ilplot.event_study(_dynamic().elements)  # a plain frame records no period: "per period"
    assert weekly.get_ylabel() == "Effect (per employee per period)"

    class Cmp:
        outcome = "revenue"
        causal_method = "callaway_santanna"
        causal = EffectResult(estimate=2.3, std_error=0.25, spec={"first_period": pd.Period("2024-01", "M")})

        def tidy(self):
            return _compare_frame()

    ax = ilplot.compare(Cmp(), currency="EUR")
    assert ax.get_xlabel() == "Estimated effect of training on revenue (EUR per employee per month)"
    foot = " ".join(t.get_text() for t in ax.figure.texts).replace("\n", " ")
    # three colours drawn (naive vermillion, pre_post and twfe orange, the causal one blue), three explained
    drawn = {ln.get_color() for ln in ax.lines}
    assert {COLORS["naive"], COLORS["other"], COLORS["causal"]} <= drawn
    assert "Vermillion: naive" in foot and "blue: causal" in foot and "orange: the other estimates" in foot
    only_two = ilplot.compare(_compare_frame().iloc[[0, 3]])
    assert "orange" not in " ".join(t.get_text() for t in only_two.figure.texts)
