"""plot.synthetic: the lines are the result's trajectory, the bars its time weights, the side panel its
largest unit weights; anything else is refused."""

from __future__ import annotations

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import pytest

import impactlab as il


@pytest.fixture(scope="module")
def result():
    rng = np.random.default_rng(0)
    rows = [(f"team{u:02d}", t, 10 + u % 5 + 0.3 * t + (3.0 if u < 2 and t >= 7 else 0.0)
             + rng.normal(0, 0.2), 7 if u < 2 else 0) for u in range(12) for t in range(1, 11)]
    frame = pd.DataFrame(rows, columns=["team", "month", "sales", "pilot"])
    panel = il.Panel.from_frame(frame, unit="team", time="month", outcome="sales", cohort="pilot")
    return il.synthetic_did(panel, n_draws=10)


def test_lines_bars_and_unit_weights_are_the_results(result):
    ax = il.plot.synthetic(result)
    try:
        treated, synthetic = ax.get_lines()[:2]
        np.testing.assert_allclose(treated.get_ydata(), result.trajectory["treated"])
        np.testing.assert_allclose(synthetic.get_ydata(), result.trajectory["synthetic"])
        heights = np.array([p.get_height() for p in ax.patches])
        lam = result.time_weights["weight"].to_numpy()
        np.testing.assert_allclose(heights / heights.max(), lam / lam.max())
        side = [a for a in ax.figure.axes if a is not ax][0]
        names = [t.get_text() for t in side.get_yticklabels()]
        top = result.unit_weights[result.unit_weights["weight"] > 0].head(8)
        assert names[::-1] == [str(u) for u in top["unit"]]
        assert "per period after training" in ax.get_title(loc="left").replace("\n", " ")
    finally:
        plt.close(ax.figure)


def test_on_given_axes_draws_only_the_trend(result):
    fig, ax = plt.subplots()
    try:
        assert il.plot.synthetic(result, ax=ax, title="Pilot") is ax
        assert len(fig.axes) == 1 and ax.get_title(loc="left") == "Pilot"
    finally:
        plt.close(fig)


def test_other_results_are_refused():
    with pytest.raises(TypeError, match="synthetic_did"):
        il.plot.synthetic(il.twfe(il.datasets.example_panel()))
