"""Panel.from_frame on integer codes: the same long frame as a plain pandas construction, no shared memory."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from impactlab.errors import PanelError
from impactlab.panel import Panel


def _reference(df: pd.DataFrame) -> pd.DataFrame:
    """The long frame built the obvious way: drop missing outcomes, rank periods, sort."""
    sub = df.loc[df["y"].notna()]
    periods = pd.Index(pd.unique(sub["t"])).sort_values()
    g = sub["g"].astype("object").where(sub["g"].notna(), None)
    pos = np.array([0 if v is None else int(periods.searchsorted(v)) + 1 for v in g])
    pos[pos > len(periods)] = 0
    out = pd.DataFrame({"unit": sub["u"].to_numpy(), "time": sub["t"].to_numpy(),
                        "period": periods.get_indexer(sub["t"]) + 1, "outcome": sub["y"].to_numpy(),
                        "cohort_period": pos, "cluster": sub["team"].to_numpy(), "x": sub["x"].to_numpy()})
    return out.sort_values(["unit", "period"]).reset_index(drop=True)


@pytest.mark.parametrize("shuffle", [False, True])
def test_codes_give_the_reference_long_frame(shuffle):
    rng = np.random.default_rng(2)
    n, T = 40, 6
    units = np.array([f"e{i:03d}" for i in rng.permutation(n)])
    times = pd.period_range("2024-01", periods=T, freq="M")
    first = rng.choice([None, *times[[2, 4]], pd.Period("2024-12", "M")], size=n)
    df = pd.DataFrame({"u": np.repeat(units, T), "t": np.tile(times, n), "g": np.repeat(first, T),
                       "y": rng.normal(size=n * T), "x": rng.normal(size=n * T),
                       "team": np.repeat(rng.choice(["a", "b", "c"], size=n), T)})
    df.loc[rng.choice(n * T, 15, replace=False), "y"] = np.nan
    if shuffle:
        df = df.sample(frac=1, random_state=4)
    panel = Panel.from_frame(df, unit="u", time="t", outcome="y", cohort="g", covariates=["x"],
                             cluster="team")
    got = panel.long()
    ref = _reference(df)
    for c in ref.columns:
        np.testing.assert_array_equal(got[c].to_numpy(), ref[c].to_numpy(), err_msg=c)
    assert panel.periods == tuple(times)
    assert len(panel.dropped) == 15 and sorted(panel.dropped["source_row"]) == sorted(
        df.index[df["y"].isna()])
    # a cohort after the last period is never treated within the data
    late = got.loc[got["cohort"] == pd.Period("2024-12", "M"), "cohort_period"]
    assert late.empty or (late == 0).all()


def test_panel_does_not_share_memory_with_the_frame():
    df = pd.DataFrame({"u": [1, 1, 2, 2], "t": [1, 2, 1, 2], "y": [1.0, 2, 3, 4], "g": [0, 0, 2, 2],
                       "x": [1.0, 2, 3, 4]})
    panel = Panel.from_frame(df, unit="u", time="t", outcome="y", cohort="g", covariates=["x"])
    df.loc[0, ["y", "x", "u", "t"]] = [99.0, 99.0, 7, 5]
    long = panel.long()
    assert long["outcome"].tolist() == [1.0, 2, 3, 4] and long["x"].tolist() == [1.0, 2, 3, 4]
    assert long["unit"].tolist() == [1, 1, 2, 2] and long["time"].tolist() == [1, 2, 1, 2]


def test_duplicates_found_on_codes_with_many_sparse_pairs():
    # many distinct units and periods, few rows: the sort-based duplicate check, not the bincount
    df = pd.DataFrame({"u": [10**9, 5, 5, 7, 10**9], "t": [1, 2, 2, 3, 1], "y": 1.0, "g": 0})
    df = pd.concat([df, pd.DataFrame({"u": np.arange(2000), "t": np.arange(2000) + 10, "y": 1.0, "g": 0})],
                   ignore_index=True)
    with pytest.raises(PanelError) as err:
        Panel.from_frame(df, unit="u", time="t", outcome="y", cohort="g")
    msg = str(err.value)
    assert msg.count("once per period") == 4
    assert [line.split(":")[0] for line in msg.splitlines()[1:]] == [f"  - row {i}, column 'u, t'"
                                                                     for i in (0, 1, 2, 4)]


def test_changing_cohort_names_the_units_in_order_of_appearance():
    df = pd.DataFrame({"u": ["b", "b", "a", "a", "c", "c"], "t": [1, 2] * 3, "y": 1.0,
                       "g": [np.nan, 2, 0, 0, 2, 0]})
    with pytest.raises(PanelError, match=r"changes within units \['b', 'c'\]"):
        Panel.from_frame(df, unit="u", time="t", outcome="y", cohort="g")


def test_sorted_frame_with_a_repeated_index_keeps_rows_in_place():
    df = pd.DataFrame({"u": [1, 1, 2, 2], "t": [1, 2, 1, 2], "y": [1.0, 2, 3, 4], "g": [0, 0, 2, 2]},
                      index=[5, 5, 6, 6])
    panel = Panel.from_frame(df, unit="u", time="t", outcome="y", cohort="g")
    long = panel.long()
    assert long.index.tolist() == [0, 1, 2, 3] and long["outcome"].tolist() == [1.0, 2, 3, 4]
    df.iloc[0, 2] = -1.0  # the caller writes after the panel was built: the panel keeps its values
    df.iloc[3, 0] = 9
    assert panel.long()["outcome"].tolist() == [1.0, 2, 3, 4]
    assert panel.long()["unit"].tolist() == [1, 1, 2, 2]
