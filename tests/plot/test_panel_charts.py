"""Panel charts (trends, rollout): 16:9, not blank, hand-computed numbers in the titles and the cells."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from matplotlib import image as mpimg
from matplotlib import pyplot as plt

import impactlab as il
import impactlab.plot as ilplot
from impactlab.panel import Panel


@pytest.fixture
def panel() -> Panel:
    # A trained in period 2, B in period 3, C and D never; D has no data in period 1.
    y = {"A": [10, 10, 20, 20], "B": [5, 5, 5, 15], "C": [1, 2, 3, 4], "D": [2, 3, 4, 5]}
    g = {"A": 2, "B": 3, "C": 0, "D": 0}
    rows = [{"id": u, "t": t + 1, "y": v, "g": g[u]} for u, vals in y.items() for t, v in enumerate(vals)]
    df = pd.DataFrame(rows)
    df = df[~((df["id"] == "D") & (df["t"] == 1))]
    return Panel.from_frame(df, unit="id", time="t", outcome="y", cohort="g")


def _check_png(ax, tmp_path, name) -> None:
    w, h = ax.figure.get_size_inches()
    assert w / h == pytest.approx(16 / 9, rel=1e-3)
    png, svg = ilplot.save(ax.figure, tmp_path / name)
    pixels = mpimg.imread(png)
    assert pixels.shape[:2] == (1125, 2000)
    assert pixels[..., :3].std() > 0.05
    assert svg.stat().st_size > 1000


def test_trends_lines_have_hand_computed_means_and_the_title_claims_no_effect(panel, tmp_path) -> None:
    ax = il.plot.trends(panel)
    # a before/after difference in the title would read as an effect: the title says what the lines are
    title = " ".join(ax.get_title("left").split())
    assert title == ("Average y per employee by training status, per period: raw averages, not the effect "
                     "of training")
    assert ax.get_ylabel() == "Average y (per employee per period)"
    assert il.plot.trends(panel, currency="EUR").get_ylabel() == "Average y (EUR per employee per period)"
    lines = {ln.get_label(): ln for ln in ax.lines}
    trained = lines["Already trained"]
    np.testing.assert_allclose(trained.get_xdata(), [2, 3, 4])
    np.testing.assert_allclose(trained.get_ydata(), [10, 12.5, 17.5])  # (20 + 5) / 2, (20 + 15) / 2
    np.testing.assert_allclose(lines["Not yet trained"].get_ydata(), [7.5, 5])
    np.testing.assert_allclose(lines["Never trained"].get_ydata(), [1, 2.5, 3.5, 4.5])
    assert "Data 1 to 4: 4 employees, 15 employee-periods" in ax.figure.texts[0].get_text()
    _check_png(ax, tmp_path, "trends")


def test_trends_by_cohort_splits_each_wave_at_its_training(panel) -> None:
    ax = il.plot.trends(panel, by="cohort")
    labels = [ln.get_label() for ln in ax.lines if not ln.get_label().startswith("_")]
    assert labels == ["Wave 2 (1)", "Wave 3 (1)", "Never trained (2)"]
    solid_a = next(ln for ln in ax.lines if ln.get_label() == "Wave 2 (1)")
    np.testing.assert_allclose(solid_a.get_ydata(), [10, 20, 20])  # from its training period on
    with pytest.raises(ValueError, match="'by' parameter must be one of 'status', 'cohort'. Got 'wave'"):
        il.plot.trends(panel, by="wave")


def test_rollout_cells_and_title(panel, tmp_path) -> None:
    ax = il.plot.rollout(panel)
    grid = np.asarray(ax.images[0].get_array())
    # rows: wave 2 (A), wave 3 (B), never (C, D); 0 no data, 1 untrained, 2 trained
    np.testing.assert_array_equal(grid, [[1, 2, 2, 2], [1, 1, 2, 2], [1, 1, 1, 1], [0, 1, 1, 1]])
    title = " ".join(ax.get_title("left").split())
    assert title == "2 training waves, 2 to 3: 2 of 4 employees trained"
    assert ax.get_xlabel() == "Period"  # plain-number periods; a monthly panel says "Month"
    assert [t.get_text() for t in ax.get_yticklabels()] == ["Wave 2 (1)", "Wave 3 (1)", "Never trained (2)"]
    _check_png(ax, tmp_path, "rollout")


def test_panel_charts_draw_on_given_axes_and_reject_non_panels(panel) -> None:
    fig, (a1, a2) = plt.subplots(1, 2)
    assert il.plot.trends(panel, ax=a1) is a1
    assert il.plot.rollout(panel, ax=a2) is a2
    assert il.plot.data_window(panel) == "1 to 4"
    with pytest.raises(TypeError, match="expects an impactlab Panel"):
        il.plot.rollout(pd.DataFrame())


def test_sample_data_rollout_matches_the_panel(sample_panel) -> None:
    ax = il.plot.rollout(sample_panel)
    units = sample_panel.long().drop_duplicates("unit")
    n_trained = int((units["cohort_period"] > 0).sum())
    n_waves = units.loc[units["cohort_period"] > 0, "cohort_period"].nunique()
    title = " ".join(ax.get_title("left").split())
    assert title.startswith(f"{n_waves} training waves")
    assert f"{n_trained:,} of {sample_panel.n_units:,} employees trained" in title
    assert ax.get_xlabel() == "Month"
