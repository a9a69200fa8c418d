"""build_panel(dose="hours") is read as dose=["hours"], not letter by letter."""

from __future__ import annotations

import pandas as pd

import impactlab as il


def test_one_dose_name_as_a_string() -> None:
    org = il.datasets.simulate_org(n_employees=200, seed=3)
    one, listed = org.panel(dose="hours"), org.panel(dose=["hours"])
    assert "hours" in one.covariates and one.covariates == listed.covariates
    pd.testing.assert_frame_equal(one.data, listed.data)
    assert one.data["hours"].max() > 0
