"""Ratings on a scale: behavior() without scale= takes 1-5 only when every rating lies on it, reads the
instrument's own scale columns, and refuses a 55 among 1-5 answers (naming the row) instead of averaging it
in; reaction() refuses an item answered on two scales."""

from __future__ import annotations

import pandas as pd
import pytest

from impactlab.errors import DataError
from impactlab.kirkpatrick import behavior, reaction

T0 = pd.Timestamp("2024-03-01", tz="UTC")
TRAINED = pd.Series([T0] * 3, index=["a", "b", "c"])


def _obs(ratings: dict[str, tuple[float, float]], **extra) -> pd.DataFrame:
    rows = []
    for who, (before, after) in ratings.items():
        for day, r in ((-3, before), (30, after)):
            rows.append({"employee_id": who, "program": "A", "behavior": "coaching", "rating": r,
                         "observed_at": T0 + pd.Timedelta(days=day), "observer": "M", **extra})
    return pd.DataFrame(rows)


def test_ratings_within_1_to_5_are_taken_on_1_to_5_with_a_note():
    res = behavior(_obs({"a": (2, 4), "b": (3, 5), "c": (3, 5)}), trained_at=TRAINED)
    w = res.by_checkpoint.set_index("wave")
    assert w.loc["30", "mean"] == pytest.approx(14 / 3) and w.loc["30", "conf_high"] == 5.0  # clipped at 5
    assert res.spec["scale"] == (1.0, 5.0)
    assert "rating scale taken as 1-5 (every rating lies on it; pass scale=(low, high) to state the " \
           "instrument's)" in res.notes


def test_a_55_among_1_to_5_ratings_is_refused_naming_the_row_without_scale():
    df = _obs({"a": (2, 55), "b": (3, 4), "c": (3, 5)})
    with pytest.raises(DataError, match="1 of 6 lie outside 1-5 \\(ratings range from 2 to 55; e.g. 55 "
                                        "\\(row 2\\)\\)") as info:
        behavior(df, trained_at=TRAINED)
    assert [(f.row, f.column, f.value) for f in info.value.failures] == [(2, "rating", "55")]
    assert "scale=(1, 5)" in info.value.hint
    # the hint's option does what it says: the 55 is left out by row, the rest summarised
    res = behavior(df, trained_at=TRAINED, scale=(1, 5))
    assert res.rejected["rating"].tolist() == [55] and res.rejected["source_row"].tolist() == [2]
    assert res.by_checkpoint.set_index("wave").loc["30", "mean"] == pytest.approx(4.5)


def test_a_wider_instrument_is_read_when_stated_and_from_its_scale_columns():
    df = _obs({"a": (20, 70), "b": (30, 60), "c": (40, 95)})
    with pytest.raises(DataError, match="not on one recognisable scale"):
        behavior(df, trained_at=TRAINED)
    stated = behavior(df, trained_at=TRAINED, scale=(0, 100), threshold=60)
    own = behavior(df.assign(scale_min=0, scale_max=100), trained_at=TRAINED, threshold=60)
    for res in (stated, own):
        w = res.by_checkpoint.set_index("wave")
        assert w.loc["30", "mean"] == pytest.approx(75.0) and w.loc["30", "applying"] == 1.0
        assert res.rejected.empty
    assert "rating scale read from the columns scale_min and scale_max (0-100)" in own.notes


def test_the_instruments_scale_columns_reject_a_rating_beyond_them_by_row():
    df = _obs({"a": (2, 6), "b": (3, 4), "c": (3, 5)}, scale_min=1, scale_max=5)
    res = behavior(df, trained_at=TRAINED)
    assert res.rejected["reason"].tolist() == ["rating 6 is outside the scale 1-5"]
    assert "1 rating(s) outside the scale 1-5 were left out (see .rejected)." in res.notes


def test_reaction_refuses_an_item_answered_on_two_scales():
    df = pd.DataFrame({"employee_id": ["a", "b", "c"], "program": ["A"] * 3, "item": ["useful"] * 3,
                       "response": [4, 4, 6], "scale_min": [1, 1, 1], "scale_max": [5, 5, 7]})
    with pytest.raises(DataError, match="1 survey item\\(s\\) are answered on more than one scale") as info:
        reaction(df, nps_item=None)
    assert info.value.failures[0].reason == ("item 'useful' is answered on several scales: 1-5 (row 1), "
                                             "1-7 (row 3)")
    same = reaction(df.assign(scale_max=7), nps_item=None)
    assert same.items["mean"].iloc[0] == pytest.approx(14 / 3)
