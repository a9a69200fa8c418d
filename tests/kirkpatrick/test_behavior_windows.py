"""behavior(): stated checkpoint windows, ratings outside the scale, the first programme's headline."""

from __future__ import annotations

import pandas as pd
import pytest

from impactlab.kirkpatrick import behavior

T0 = pd.Timestamp("2024-03-01", tz="UTC")


def _rows(program: str, who: str, days_ratings: list[tuple[int, float]]) -> list[dict]:
    return [{"employee_id": who, "program": program, "behavior": "coaching", "rating": r,
             "observed_at": T0 + pd.Timedelta(days=d), "observer": "M"} for d, r in days_ratings]


def _two_programmes() -> pd.DataFrame:
    rows = []
    for who, ratings in {"a": (2, 4), "b": (3, 4), "c": (2, 3)}.items():  # A: change at 30 days +4/3
        rows += _rows("A", who, [(-5, ratings[0]), (30, ratings[1])])
    for who, ratings in {"d": (1, 5), "e": (2, 5)}.items():  # B: change at 90 days +3.5
        rows += _rows("B", who, [(-5, ratings[0]), (90, ratings[1])])
    return pd.DataFrame(rows)


def test_headline_is_the_first_programme() -> None:
    res = behavior(_two_programmes())
    h = res.headline()
    assert h["metric"] == "rating change at 30 days"
    assert h["estimate"] == pytest.approx(4 / 3) and h["n"] == 3


def test_day_45_is_outside_the_30_and_60_day_windows_and_reported() -> None:
    rows = _rows("A", "a", [(-3, 2), (30, 3), (45, 5)]) + _rows("A", "b", [(-3, 3), (29, 4)])
    df = pd.DataFrame(rows)
    trained = pd.Series([T0, T0], index=["a", "b"])
    res = behavior(df, trained_at=trained)
    assert res.rejected["day"].tolist() == [45.0]
    assert "day 45 after training is outside the checkpoint windows 20-40, 50-70, 80-100" in \
        res.rejected["reason"].iloc[0]
    assert res.by_checkpoint.set_index("wave").loc["30", "mean"] == pytest.approx(3.5)
    assert any("(see .rejected)" in n for n in res.notes)
    with pytest.raises(ValueError, match="windows of the checkpoints 30 and 60 days meet"):
        behavior(df, trained_at=trained, tolerance_days=15)


def test_rating_outside_the_scale_is_rejected_per_row() -> None:
    rows = _rows("A", "a", [(-3, 2), (30, 55)]) + _rows("A", "b", [(-3, 3), (30, 4)]) + \
        _rows("A", "c", [(-3, 3), (31, 5)])
    res = behavior(pd.DataFrame(rows), trained_at=pd.Series([T0] * 3, index=["a", "b", "c"]), scale=(1, 5))
    assert res.rejected["rating"].tolist() == [55]
    assert res.rejected["reason"].iloc[0] == "rating 55 is outside the scale 1-5"
    w = res.by_checkpoint.set_index("wave")
    assert w.loc["30", "mean"] == pytest.approx(4.5) and w.loc["30", "conf_high"] <= 5.0
    with pytest.raises(ValueError, match="'scale' parameter must be a \\(low, high\\) pair"):
        behavior(pd.DataFrame(rows), scale=(5, 1))
