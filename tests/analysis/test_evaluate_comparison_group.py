"""evaluate's comparison-group check with one cohort and few never-trained employees names the month, not an
internal period number, and the numbers behind the failure."""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd

import impactlab as il


def test_one_cohort_and_few_never_trained_names_the_month() -> None:
    rng = np.random.default_rng(4)
    months = pd.period_range("2024-01", periods=8, freq="M")
    rows = []
    for i in range(80):
        cohort = months[4] if i < 60 else pd.NaT  # 60 trained in May 2024, 20 never trained
        for m in months:
            rows.append((i, m, 100 + rng.normal() + (2.0 if cohort is not pd.NaT and m >= cohort else 0.0),
                         cohort))
    frame = pd.DataFrame(rows, columns=["id", "month", "y", "cohort"])
    panel = il.Panel.from_frame(frame, unit="id", time="month", outcome="y", cohort="cohort")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        ev = il.evaluate(panel)
    row = ev.checks.set_index("check").loc["comparison group"]
    assert row["status"] == "fail"
    assert row["meaning"].startswith("only 20 never-trained employees (fewer than 30) and one cohort: from "
                                     f"{months[4 - ev.anticipation]} on")
    assert "period " not in row["meaning"]
