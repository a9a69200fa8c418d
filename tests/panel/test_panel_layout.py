"""A frame that is already a balanced panel in storage order takes a path without hashing or sorting;
it must build exactly the panel the general path builds from the same rows in another order."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from impactlab import Panel
from impactlab.errors import PanelError
from impactlab.panel.panel import _block_layout


def _frame(n_units: int = 40, n_periods: int = 6, *, seed: int = 3, dates: bool = False) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    ids = np.arange(100, 100 + 7 * n_units, 7)  # sorted, not contiguous
    cohorts = rng.choice([0, 3, 4, 6, 9], size=n_units)  # 9: after the last period
    times = np.arange(1, n_periods + 1) * 2  # evenly spaced but not 1..T
    df = pd.DataFrame({
        "id": np.repeat(ids, n_periods),
        "t": np.tile(times, n_units),
        "g": np.repeat(cohorts * 2, n_periods),  # on the same scale as t; 6 falls on a period, 7 would not
        "y": rng.normal(size=n_units * n_periods),
        "x": rng.normal(size=n_units * n_periods),
        "team": np.repeat(ids // 50, n_periods),
    })
    df.loc[df["g"] == 8, "g"] = 7  # a cohort between observed periods: starts at the next one
    if dates:
        start = pd.Timestamp("2024-01-01")
        df["t"] = start + pd.to_timedelta(df["t"] * 30, unit="D")
        g = df["g"].astype("float64").where(df["g"] > 0)
        df["g"] = start + pd.to_timedelta(g * 30, unit="D")  # NaT = never treated
    return df


def _both(df: pd.DataFrame, **kw: object) -> tuple[Panel, Panel]:
    args = {"unit": "id", "time": "t", "outcome": "y", "cohort": "g", **kw}
    fast = Panel.from_frame(df, **args)  # type: ignore[arg-type]
    shuffled = df.sample(frac=1.0, random_state=1)
    general = Panel.from_frame(shuffled, **args)  # type: ignore[arg-type]
    return fast, general


@pytest.mark.parametrize("dates", [False, True])
def test_block_layout_builds_the_same_panel(dates: bool) -> None:
    df = _frame(dates=dates)
    assert _block_layout(df["id"], df["t"]) is not None
    fast, general = _both(df, covariates=["x"], cluster="team")
    pd.testing.assert_frame_equal(fast.long(), general.long())
    assert fast.periods == general.periods
    assert fast.n_units == general.n_units == 40
    assert fast.is_balanced and general.is_balanced
    # cohort 9 * 2 = 18 lies after the last period (12): never treated within the data
    if not dates:
        late = fast.long().loc[lambda d: d["cohort"] == 18, "cohort_period"]
        assert len(late) and (late == 0).all()


def test_cohort_between_periods_starts_at_the_next_period() -> None:
    df = _frame()
    fast, _ = _both(df)
    long = fast.long()
    assert set(long.loc[long["cohort"] == 7, "cohort_period"]) == {4}  # periods 2,4,6,8: 7 -> 8, 4th


def test_never_treated_missing_or_zero_and_float_cohorts() -> None:
    df = _frame()
    df["g"] = df["g"].astype("float64")
    df.loc[df["id"] == 100, "g"] = np.nan  # a whole unit missing: never treated
    fast, general = _both(df)
    pd.testing.assert_frame_equal(fast.long(), general.long())
    assert fast.long().loc[lambda d: d["unit"] == 100, "cohort_period"].eq(0).all()


def test_frames_not_in_layout_take_the_general_path() -> None:
    df = _frame()
    assert _block_layout(df["id"].astype(str), df["t"]) is None  # strings: hashed
    assert _block_layout(df["id"][::-1].reset_index(drop=True), df["t"]) is None  # descending ids
    unbalanced = df.drop(index=[5])
    assert _block_layout(unbalanced["id"], unbalanced["t"]) is None
    swapped = df.copy()
    swapped.loc[[0, 1], "t"] = swapped.loc[[1, 0], "t"].to_numpy()
    assert _block_layout(swapped["id"], swapped["t"]) is None
    one_unit = df[df["id"] == 100]
    assert _block_layout(one_unit["id"], one_unit["t"]) is not None


def test_errors_and_missing_outcomes_are_the_general_paths() -> None:
    df = _frame()
    bad = df.copy()
    bad.loc[3, "g"] = 4  # unit 100's cohort changes in its 4th row
    with pytest.raises(PanelError, match=r"changes within units \[(np\.int64\()?100"):
        Panel.from_frame(bad, unit="id", time="t", outcome="y", cohort="g")
    gap = df.copy()
    gap.loc[[2, 9], "y"] = np.nan
    p = Panel.from_frame(gap, unit="id", time="t", outcome="y", cohort="g")
    assert len(p.dropped) == 2 and p.n_obs == len(df) - 2 and not p.is_balanced


def test_the_panel_does_not_change_with_the_callers_frame() -> None:
    df = _frame()
    p = Panel.from_frame(df, unit="id", time="t", outcome="y", cohort="g")
    before = p.long()
    df.loc[0, "y"] = 1e9
    df.loc[0, "id"] = -5
    pd.testing.assert_frame_equal(p.long(), before)


@pytest.mark.parametrize("kind", ["datetime", "period", "categorical"])
def test_zero_means_never_treated_whatever_the_periods_are(kind: str) -> None:
    times = {"datetime": pd.to_datetime(["2020-01-01", "2020-02-01", "2020-03-01"]),
             "period": pd.period_range("2020-01", periods=3, freq="M"),
             "categorical": pd.Categorical([1, 2, 3])}[kind]
    df = pd.DataFrame({"id": np.repeat([1, 2, 3], 3), "t": list(times) * 3,
                       "g": np.repeat([0, 0, 0], 3), "y": np.arange(9.0)})
    if kind == "categorical":
        df["t"] = pd.Categorical(df["t"])
    p = Panel.from_frame(df, unit="id", time="t", outcome="y", cohort="g")
    assert (p.long()["cohort_period"] == 0).all() and p.long()["cohort"].isna().all()
    # one treated unit, cohort given as a period value: the zeros are still never treated
    df["g"] = df["g"].astype(object)
    df.loc[df["id"] == 2, "g"] = df["t"].iloc[1]
    if kind != "categorical":
        q = Panel.from_frame(df.assign(g=df["g"].where(df["id"] == 2)), unit="id", time="t", outcome="y",
                             cohort="g")
        assert q.long().groupby("unit")["cohort_period"].first().tolist() == [0, 2, 0]


def test_errors_name_rows_and_values_even_when_the_index_repeats_labels() -> None:
    df = pd.DataFrame({"id": [1, 1, 3, 3], "t": [1, 2, 1, 1], "g": [0, 0, 0, 0], "y": [1.0, 2, 3, 4]},
                      index=[0, 1, 3, 3])
    with pytest.raises(PanelError, match=r"row 3, column 'id, t': saw \(3, 1\)"):
        Panel.from_frame(df, unit="id", time="t", outcome="y", cohort="g")
    bad = pd.DataFrame({"id": [1, 1], "t": [1, 2], "g": [0, 0], "y": ["a", "2"]}, index=[5, 5])
    with pytest.raises(PanelError, match=r"row 5, column 'y': saw 'a'"):
        Panel.from_frame(bad, unit="id", time="t", outcome="y", cohort="g")
