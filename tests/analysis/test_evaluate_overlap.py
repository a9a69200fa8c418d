"""The propensity-overlap check of ``evaluate(..., covariates=[...])`` on a simulated organisation: a
covariate that drives training but leaves trained and untrained employees side by side passes; one that
nearly separates them warns (more than 5 % of employees with a propensity below 0.01 or above 0.99)."""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
import pytest

import impactlab as il


@pytest.fixture(scope="module")
def org_frame() -> pd.DataFrame:
    org = il.datasets.simulate_org(n_employees=600, seed=61)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        panel = org.panel()
    return panel.long()


def _with_covariate(long: pd.DataFrame, push: float) -> il.Panel:
    """The panel with a per-employee covariate ``push`` · (ever trained) + N(0, 1): it drives training,
    the more so the larger ``push``."""
    units = long["unit"].unique()
    noise = pd.Series(np.random.default_rng(0).normal(size=len(units)), index=units)
    ever = (long.groupby("unit")["cohort_period"].first() > 0).astype(float)
    x = long["unit"].map(push * ever + noise)
    frame = pd.DataFrame({"unit": long["unit"], "time": long["time"], "y": long["outcome"],
                          "cohort": long["cohort"], "x": x.to_numpy()})
    return il.Panel.from_frame(frame, unit="unit", time="time", outcome="y", cohort="cohort",
                               covariates=["x"])


def _overlap(panel: il.Panel) -> pd.Series:
    return il.evaluate(panel, covariates=["x"]).checks.set_index("check").loc["propensity overlap"]


def test_a_covariate_that_drives_training_with_overlap_passes(org_frame) -> None:
    row = _overlap(_with_covariate(org_frame, 1.0))
    assert row["status"] == "pass"
    low, high = (float(v) for v in row["seen"].split("trained ")[1].split(";")[0].split(" to "))
    assert 0.01 < low < 0.5 < high < 0.99          # a real spread of propensities, none extreme
    assert "0.0% of employees below 0.01 or above 0.99" in row["seen"]


def test_a_covariate_that_nearly_separates_the_groups_warns(org_frame) -> None:
    ev = il.evaluate(_with_covariate(org_frame, 4.0), covariates=["x"])
    row = ev.checks.set_index("check").loc["propensity overlap"]
    assert row["status"] == "warn" and "no comparable untrained" in row["meaning"]
    share = float(row["seen"].split("; ")[1].split("%")[0])
    assert share > 5.0
    assert any(c.startswith("propensity overlap (warn)") for c in ev.explain().cautions)
