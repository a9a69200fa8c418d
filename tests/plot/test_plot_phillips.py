"""plot.chain and plot.roi_distribution: 16:9, not blank, titles carry the numbers."""

from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np
import pytest

import impactlab as il
from impactlab.results.base import EffectResult


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
    assert f"P(ROI > 0) = {r.prob_positive:.0%}" in title
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
    assert "50.0" in texts  # ROI % card
    assert "Chain of evidence: 2 levels" in ax.get_title(loc="left")
    assert _drawn(ax.figure)[..., :3].std() > 5
    with pytest.raises(TypeError, match="expects a ChainResult"):
        il.plot.chain(r)
