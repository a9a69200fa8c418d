"""Panel.from_frame: normalisation, uneven periods, and every failure reported."""

from __future__ import annotations

import dataclasses

import numpy as np
import pandas as pd
import pytest

from impactlab.errors import PanelError
from impactlab.panel import Panel


def test_uneven_periods_map_to_positions_and_cohorts_to_next_period():
    df = pd.DataFrame({"u": np.repeat([1, 2, 3], 4), "t": np.tile([2001, 2003, 2007, 2010], 3),
                       "y": np.arange(12.0), "g": np.repeat([2005, 0, np.nan], 4)})
    long = Panel.from_frame(df, unit="u", time="t", outcome="y", cohort="g").long()
    assert long["period"].tolist() == [1, 2, 3, 4] * 3
    # 2005 is not observed: treatment starts at the next observed period, 2007 (position 3)
    assert long.loc[long.unit == 1, "cohort_period"].unique().tolist() == [3]
    assert long.loc[long.unit != 1, "cohort_period"].unique().tolist() == [0]


def test_cohort_after_last_period_is_never_treated_within_data():
    df = pd.DataFrame({"u": [1, 1, 2, 2], "t": [1, 2, 1, 2], "y": [1.0, 2, 3, 4], "g": [5, 5, 0, 0]})
    p = Panel.from_frame(df, unit="u", time="t", outcome="y", cohort="g")
    assert (p.long()["cohort_period"] == 0).all()


def test_missing_outcomes_go_to_dropped_with_reason():
    df = pd.DataFrame({"u": [1, 1, 2, 2], "t": [1, 2, 1, 2], "y": [1.0, np.nan, 3, 4], "g": 0})
    p = Panel.from_frame(df, unit="u", time="t", outcome="y", cohort="g")
    assert p.n_obs == 3
    assert p.dropped[["unit", "time", "source_row"]].values.tolist() == [[1, 2, 1]]
    assert "missing" in p.dropped["reason"].iloc[0]
    assert p.n_obs + len(p.dropped) == len(df)


def test_all_failures_reported_at_once():
    df = pd.DataFrame({"u": [1, 1, None], "t": [1, 1, 2], "y": ["a", 2, 3], "g": 0})
    with pytest.raises(PanelError) as err:
        Panel.from_frame(df, unit="u", time="t", outcome="y", cohort="g")
    msg = str(err.value)
    assert "must be numeric" in msg and "unit id is missing" in msg and "once per period" in msg


def test_missing_columns_and_changing_cohort():
    df = pd.DataFrame({"u": [1, 1], "t": [1, 2], "y": [1.0, 2], "g": [2, 3]})
    with pytest.raises(PanelError, match=r"Columns \['z'\] are not in the frame"):
        Panel.from_frame(df, unit="u", time="t", outcome="z", cohort="g")
    with pytest.raises(PanelError, match="changes within units"):
        Panel.from_frame(df, unit="u", time="t", outcome="y", cohort="g")


def test_panel_is_frozen_and_input_untouched(staggered_frame):
    before = staggered_frame.copy()
    p = Panel.from_frame(staggered_frame, unit="id", time="year", outcome="y", cohort="first_treated")
    pd.testing.assert_frame_equal(staggered_frame, before)
    with pytest.raises(dataclasses.FrozenInstanceError):
        p.outcome = "x"  # type: ignore[misc]
    assert p.is_balanced and p.n_units == 60 and p.n_periods == 6
    assert p.cohort_sizes().to_dict() == {3: 20, 5: 20, "never": 20}


def test_data_uses_the_user_names_even_when_they_clash_with_internal_ones():
    df = pd.DataFrame({"id": [1, 1, 2, 2], "period": [1, 2, 1, 2], "y": [1.0, 2, 3, 4], "g": [2, 2, 0, 0],
                       "team": ["a", "a", "b", "b"]})
    p = Panel.from_frame(df, unit="id", time="period", outcome="y", cohort="g", cluster="team")
    assert list(p.data.columns) == ["id", "period", "y", "g", "team"]
    assert p.data["period"].tolist() == [1, 2, 1, 2]
