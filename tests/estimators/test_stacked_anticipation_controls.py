"""stacked's not-yet-treated controls with anticipation: an employee trained within ``anticipation`` periods
after a window's end would dip inside that window, so it is not a clean control."""

from __future__ import annotations

import numpy as np
import pandas as pd

import impactlab as il


def _panel() -> il.Panel:
    # two employees per cohort: trained in period 3, 5, 6, 8, or never (0)
    cohorts = [3, 3, 5, 5, 6, 6, 8, 8, 0, 0]
    rows = [(i, t, float(10 * i + t + (t >= g > 0)), g) for i, g in enumerate(cohorts) for t in range(1, 9)]
    frame = pd.DataFrame(rows, columns=["id", "t", "y", "g"])
    return il.Panel.from_frame(frame, unit="id", time="t", outcome="y", cohort="g")


def test_controls_clear_of_their_own_anticipation() -> None:
    panel = _panel()
    no_ant = il.stacked(panel, window=(-1, 1)).sub_experiments.set_index("cohort")
    ant = il.stacked(panel, window=(-1, 1), anticipation=1).sub_experiments.set_index("cohort")
    # cohort 3's window ends in period 4: without anticipation cohorts 5, 6, 8 and the never-trained are
    # clean (8 employees); with anticipation=1 cohort 5 dips in period 4, so 6 remain
    assert no_ant["n_control"].iloc[0] == 8
    assert ant["n_control"].iloc[0] == 6
    # cohort 5 (window to 6): cohort 8 and never without anticipation, and with it (8 > 6 + 1)
    assert no_ant["n_control"].iloc[1] == ant["n_control"].iloc[1] == 4
    # the effect is exactly 1 in every trained period and there is no dip: both recover it
    assert np.isclose(il.stacked(panel, window=(-1, 1), anticipation=1).estimate, 1.0)
