"""plot.chain and plot.roi_distribution: 16:9, not blank, titles carry the numbers."""

from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np
import pytest

import impactlab as il
from impactlab.plot.theme import fmt_pct
from impactlab.results.base import EffectResult
from impactlab.results.probability import fmt_prob_positive


def _roi():
    return il.roi(EffectResult(estimate=2.0, std_error=0.5), value_per_unit=(45, 55), participants=100,
                  horizon=12, costs=il.Costs(delivery=(60_000, 100_000), participant_time=5_000), seed=1)


def _drawn(fig) -> np.ndarray:
    fig.canvas.draw()
    return np.asarray(fig.canvas.buffer_rgba())


def test_roi_distribution_title_and_shape() -> None:
    r = _roi()
    ax = il.plot.roi_distribution(r)
    fig = ax.figure
    assert tuple(round(x, 2) for x in fig.get_size_inches()) == (13.33, 7.5)
    title = ax.get_title(loc="left")
    assert fmt_prob_positive(r) in title and fmt_prob_positive(r).startswith("P(ROI > 0) = ")
    assert "ROI" in title and "interval" in title
    img = _drawn(fig)
    assert img[..., :3].std() > 5  # not blank
    assert any(abs(line.get_xdata()[0]) < 1e-9 for line in ax.get_lines())  # break-even line at 0


def test_roi_distribution_on_users_axes() -> None:
    fig, ax = plt.subplots()
    out = il.plot.roi_distribution(_roi(), ax=ax, title="Mine")
    assert out is ax and ax.get_title(loc="left") == "Mine"
    with pytest.raises(TypeError, match="expects a RoiResult"):
        il.plot.roi_distribution(object())


def test_chain_cards_and_title() -> None:
    res = EffectResult(estimate=2.0, std_error=0.5, outcome="sales")
    r = il.roi(res, value_per_unit=50, participants=100, horizon=12, costs=80_000)
    ch = il.kirkpatrick.chain(results=res, roi=r)
    ax = il.plot.chain(ch)
    texts = [t.get_text() for t in ax.texts]
    assert "Results" in texts and "ROI" in texts
    assert "50.0%" in texts  # ROI % card, with its unit
    assert "Chain of evidence: 2 levels" in ax.get_title(loc="left")
    assert _drawn(ax.figure)[..., :3].std() > 5
    with pytest.raises(TypeError, match="expects a ChainResult"):
        il.plot.chain(r)


@pytest.fixture(scope="module")
def doubt():
    """ROI under doubt on a fit with a known effect of 1 (8 periods, cohorts 5 and 6, 300 units)."""
    import pandas as pd

    rng = np.random.default_rng(21)
    n, t = 300, 8
    unit = np.repeat(np.arange(n), t)
    time = np.tile(np.arange(1, t + 1), n)
    cohort = np.repeat(np.select([np.arange(n) < 100, np.arange(n) < 200], [5, 6], 0), t)
    y = 0.1 * time + 1.0 * ((cohort > 0) & (time >= cohort)) + rng.normal(0, 1, n * t)
    panel = il.Panel.from_frame(pd.DataFrame({"id": unit, "t": time, "y": y, "g": cohort}), unit="id",
                                time="t", outcome="y", cohort="g")
    fit = il.callaway_santanna(panel)
    r = il.roi(fit.aggregate("simple"), value_per_unit=100, participants=200, horizon=12, costs=100_000)
    return il.roi_sensitivity(r, fit)


def test_roi_sensitivity_chart_is_a_slide_with_the_breakdown_in_its_title(doubt) -> None:
    ax = il.plot.roi_sensitivity(doubt)
    fig = ax.figure
    assert tuple(round(x, 2) for x in fig.get_size_inches()) == (13.33, 7.5)
    title = " ".join(ax.get_title(loc="left").split())
    m = f"{doubt.breakdown:.2g}"
    assert title.startswith(f"ROI {fmt_pct(doubt.roi_pct)} stays positive") and f"breakdown M̄ = {m}" in title
    assert len(ax.get_title(loc="left").splitlines()) <= 2  # fits above the chart
    img = _drawn(fig)
    assert img[..., :3].std() > 5
    # the breakdown line sits at the breakdown value; the band at M = 0 is the ROI's own interval
    assert any(np.allclose(line.get_xdata(), doubt.breakdown) for line in ax.get_lines())
    footnote = " ".join(t.get_text() for t in fig.texts)
    assert "Rambachan & Roth (2023)" in footnote and "break-even" in footnote


def test_roi_sensitivity_titles_of_the_edge_cases(doubt) -> None:
    import dataclasses

    broke = dataclasses.replace(doubt, breakdown=0.0)
    assert "includes a loss" in il.plot.roi_sensitivity(broke).get_title(loc="left")
    never = dataclasses.replace(doubt, breakdown=float("inf"))
    assert "every violation" in il.plot.roi_sensitivity(never).get_title(loc="left")
    with pytest.raises(TypeError, match="RoiSensitivityResult"):
        il.plot.roi_sensitivity(_roi())


def test_chain_cards_format_money_and_percent() -> None:
    res = EffectResult(estimate=946.3, std_error=74.0, outcome="revenue")
    r = il.roi(res, value_per_unit=0.25, participants=1251, horizon=12, costs=2_328_286)
    ax = il.plot.chain(il.kirkpatrick.chain(results=res, roi=r))
    texts = [t.get_text() for t in ax.texts]
    assert "946" in texts  # whole numbers from 100 up
    assert f"{r.roi_pct:.1f}%" in texts  # the ROI card carries its unit
    footnote = " ".join(t.get_text() for t in ax.figure.texts)
    assert "not proof" in footnote and "95% interval" in footnote


def test_roi_distribution_interval_is_the_headline_interval() -> None:
    r = il.roi(EffectResult(estimate=2.0, std_error=0.5), value_per_unit=50, participants=100, horizon=12,
               costs=80_000, seed=3)
    lo, hi = r.conf_int()
    title = il.plot.roi_distribution(r).get_title(loc="left")
    assert f"interval {fmt_pct(lo)} to {fmt_pct(hi)}" in " ".join(title.split())
