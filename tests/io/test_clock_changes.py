"""Naive times the clocks of ``tz`` skipped (spring forward) or repeated (fall back): read with the UTC offset
in force before the change (PEP 495 fold=0), the row kept, and a note naming the rows, values and fix."""

from __future__ import annotations

import pandas as pd
import pytest

import impactlab as il
from impactlab.io.dates import parse_timestamps

NY = "America/New_York"


def _sheet(dates: list) -> pd.DataFrame:
    n = len(dates)
    return pd.DataFrame({"User ID": [f"E{i}" for i in range(1, n + 1)], "Training Title": ["Safety"] * n,
                         "Transcript Status": ["Completed"] * n, "Transcript Completed Date": dates})


def test_a_skipped_time_is_read_an_hour_later_and_the_row_is_kept():
    # 2024-03-10 02:30 never happened in New York (02:00 EST -> 03:00 EDT); by the offset before the jump
    # (EST, -5) it is 07:30 UTC, i.e. 03:30 EDT
    t = il.read_completions(_sheet(["2024-03-10 02:30", "2024-03-11 09:00"]), tz=NY)
    assert t.n_rejected == 0
    assert t.frame["completed_at"].tolist() == [pd.Timestamp("2024-03-10 07:30", tz="UTC"),
                                                pd.Timestamp("2024-03-11 13:00", tz="UTC")]
    note = next(n for n in t.notes if "clocks" in n)
    assert "column 'Transcript Completed Date': 1 row(s) (row 1)" in note
    assert "'2024-03-10 02:30' did not exist there (the clocks jumped forward)" in note
    assert "read as 2024-03-10 03:30 EDT (07:30 UTC)" in note
    assert "give UTC times, or times with an offset" in note


def test_a_repeated_time_is_read_as_the_first_of_the_two():
    # 2024-11-03 01:30 happened twice (EDT, then EST): the first, 05:30 UTC
    t = il.read_completions(_sheet(["2024-11-03 01:30", "2024-11-03 03:30"]), tz=NY)
    assert t.frame["completed_at"].tolist() == [pd.Timestamp("2024-11-03 05:30", tz="UTC"),
                                                pd.Timestamp("2024-11-03 08:30", tz="UTC")]
    assert "'2024-11-03 01:30' happened twice there (the clocks went back), read as 2024-11-03 01:30 EDT " \
           "(05:30 UTC)" in " ".join(t.notes)


@pytest.mark.parametrize("column", [
    ["2024-03-10 02:30", "03/10/2024 02:30"],  # the batch (strict ISO) path and the registry path
    pd.to_datetime(["2024-03-10 02:30", "2024-03-10 02:30"]),  # a datetime64 column
    [45361 + 2.5 / 24, 45361 + 2.5 / 24],  # Excel serials (wall-clock times)
])
def test_every_way_of_writing_the_time_gives_the_same_instant(column):
    t = il.read_completions(_sheet(list(column)), tz=NY, dayfirst=False)
    assert t.frame["completed_at"].tolist() == [pd.Timestamp("2024-03-10 07:30", tz="UTC")] * 2
    assert any("(rows 1, 2)" in n for n in t.notes)


def test_times_with_an_offset_or_in_utc_need_no_choice_and_get_no_note():
    t = il.read_completions(_sheet(["2024-03-10T02:30:00-05:00", "2024-03-10 02:30"]))
    assert t.frame["completed_at"].tolist() == [pd.Timestamp("2024-03-10 07:30", tz="UTC"),
                                                pd.Timestamp("2024-03-10 02:30", tz="UTC")]
    assert not any("clocks" in n for n in t.notes)


def test_the_local_day_is_kept_in_a_zone_whose_clocks_change_at_midnight():
    # Santiago: 2024-09-08 00:00 -> 01:00 (spring forward at midnight): 00:30 is read as 01:30 the same day
    ts, bad = parse_timestamps(pd.Series(["2024-09-08 00:30"]), tz="America/Santiago", notes=[])
    assert not bad.any()
    assert ts.dt.tz_convert("America/Santiago").iloc[0] == pd.Timestamp("2024-09-08 01:30",
                                                                       tz="America/Santiago")


def test_kpi_periods_of_a_skipped_time_are_those_of_its_day():
    kpis = pd.DataFrame({"employee_id": ["E1", "E1"], "date": ["2024-03-10 02:30", "2024-04-01 09:00"],
                         "revenue": [1.0, 2.0]})
    t = il.read_kpis(kpis, unit="employee_id", time="date", tz=NY)
    assert t.n_rejected == 0 and t.frame["period"].astype(str).tolist() == ["2024-03", "2024-04"]
