"""behavior(): waves around training dates, change from baseline, adoption, cohorts."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from statsmodels.stats.proportion import proportion_confint

from impactlab.errors import DataError
from impactlab.kirkpatrick import behavior

TRAINED = pd.Series(pd.to_datetime(["2024-03-01", "2024-03-01", "2024-04-01"], utc=True),
                    index=["a", "b", "c"])
# person -> ratings at baseline, 30, 60, 90 days (one behaviour)
RATINGS = {"a": [2, 3, 4, 5], "b": [3, 3, 4, 4], "c": [2, 2, 3, 3]}


def _observations(offsets: tuple[int, ...] = (-7, 31, 58, 92)) -> pd.DataFrame:
    rows = []
    for who, ratings in RATINGS.items():
        for off, rating in zip(offsets, ratings, strict=True):
            rows.append({"employee_id": who, "program": "P", "behavior": "asks questions", "rating": rating,
                         "observed_at": TRAINED[who] + pd.Timedelta(days=off), "observer": "M1"})
    return pd.DataFrame(rows)


def test_waves_change_and_adoption_by_hand() -> None:
    res = behavior(_observations(), trained_at=TRAINED)
    w = res.by_checkpoint.set_index("wave")
    assert list(w.index) == ["baseline", "30", "60", "90"]
    assert w.loc["baseline", "mean"] == pytest.approx(7 / 3)
    assert w.loc["90", "mean"] == pytest.approx(4.0)
    assert w.loc["90", "change"] == pytest.approx((3 + 1 + 1) / 3)
    # applying = rating >= 4: at 60 days a and b (2 of 3); at 90 days a and b
    assert w.loc["60", "applying"] == pytest.approx(2 / 3)
    assert (w.loc["60", "applying_low"], w.loc["60", "applying_high"]) == pytest.approx(
        proportion_confint(2, 3, method="wilson"))
    assert list(res.adoption()["wave"]) == ["30", "60", "90"]
    assert res.headline()["metric"] == "rating change at 90 days"
    assert set(res.people["change"]) == {3.0, 1.0}


def test_observation_far_from_checkpoints_is_left_out_with_a_note() -> None:
    res = behavior(_observations((-7, 31, 58, 120)), trained_at=TRAINED)
    assert "90" not in set(res.by_checkpoint["wave"])
    assert any("more than 10 days" in n for n in res.notes)
    assert res.rejected["reason"].str.contains("day 120 after training").all()


def test_by_cohort_is_the_training_month() -> None:
    res = behavior(_observations(), trained_at=TRAINED, by="cohort")
    assert set(res.by_checkpoint["cohort"]) == {"2024-03", "2024-04"}


def test_without_dates_the_first_observation_is_the_baseline() -> None:
    res = behavior(_observations((0, 30, 60, 90)))
    assert any("first observation" in n for n in res.notes)
    assert res.by_checkpoint.set_index("wave").loc["90", "change"] == pytest.approx(5 / 3)


def test_completions_table_gives_training_dates() -> None:
    comp = pd.DataFrame({"employee_id": list(TRAINED.index), "program": "P", "status": "completed",
                         "completed_at": TRAINED.to_numpy()})
    a = behavior(_observations(), trained_at=comp)
    b = behavior(_observations(), trained_at=TRAINED)
    pd.testing.assert_frame_equal(a.by_checkpoint, b.by_checkpoint)


def test_no_observation_near_checkpoints_is_a_data_error() -> None:
    with pytest.raises(DataError, match="No observation lies within"):
        behavior(_observations((-7, -5, -3, -1)), trained_at=TRAINED)
    with pytest.raises(ValueError, match="'checkpoints' parameter"):
        behavior(_observations(), checkpoints=(0,))


def test_rating_interval_widens_with_fewer_people() -> None:
    res = behavior(_observations(), trained_at=TRAINED)
    assert np.isfinite(res.by_checkpoint[["conf_low", "conf_high"]].to_numpy()).all()


def test_an_empty_programme_column_keeps_every_observation() -> None:
    # an observations export whose programme column is empty (as read_observations gives it when the
    # sheet has none filled in): same waves as with a programme, no row lost to a missing group key
    empty = _observations().assign(program=pd.Series([None] * 12, dtype="str"))
    for with_dates in (True, False):
        res = behavior(empty, trained_at=TRAINED if with_dates else None)
        w = res.by_checkpoint.set_index("wave")
        assert list(w.index) == ["baseline", "30", "60", "90"] and set(res.by_checkpoint["program"]) == {
            "programme"}
        assert w.loc["90", "mean"] == pytest.approx(4.0) and w.loc["90", "n_paired"] == 3
