"""The fast paths of the readers give exactly what the value-by-value rules give.

Each fast path (the C parser for CSV text without quotes, batch reading of ISO 8601 and numeric dates,
one call per distinct value) is compared with the careful path it stands in for, on generated inputs that
mix what each path can and cannot read.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from impactlab.io import dates, sources
from impactlab.io.dates import parse_timestamps
from impactlab.io.values import as_id, as_text, is_missing_value, map_values, text_values

# ------------------------------------------------------------------------------------------- CSV text
cell = st.sampled_from(["", " ", "a", "E001", "007", "1,5", "2024-03-31", "Completed", " x ", "NA", "é"])
line = st.one_of(
    st.lists(cell, min_size=3, max_size=3).map(",".join),  # a record of the header's width
    st.lists(cell, min_size=1, max_size=5).map(",".join),  # any width: blank, short, long
    st.sampled_from(["", "   ", "Report: transcript", ",,,"]),
)


@settings(max_examples=60, deadline=None)
@given(title=st.lists(st.sampled_from(["Report", "", "Filter: all"]), max_size=3),
       body=st.lists(line, max_size=12), crlf=st.booleans(), end=st.booleans())
def test_plain_csv_reader_equals_the_careful_reader(title, body, crlf, end, tmp_path_factory):
    nl = "\r\n" if crlf else "\n"
    text = nl.join([*title, "User ID,Course,Status", *body]) + (nl if end else "")
    path = tmp_path_factory.mktemp("csv") / "t.csv"
    path.write_bytes(text.encode("utf-8"))
    fast = sources.read_csv_source(path)
    original = sources._read_plain_csv
    try:
        sources._read_plain_csv = lambda *a, **k: None
        careful = sources.read_csv_source(path)
    finally:
        sources._read_plain_csv = original
    pd.testing.assert_frame_equal(fast.frame, careful.frame)
    assert fast.rows.tolist() == careful.rows.tolist()
    assert fast.malformed == careful.malformed
    assert fast.notes == careful.notes


def test_plain_csv_reader_takes_simple_text_and_leaves_quotes(tmp_path):
    simple = "id,score\n1,2\n\n3,4\n"
    got = sources._read_plain_csv(simple, ",", "s", ())
    assert got is not None
    assert got.rows.tolist() == [2, 4]  # the blank line 3 is skipped, not counted
    assert got.frame.to_numpy().tolist() == [["1", "2"], ["3", "4"]]
    assert sources._read_plain_csv('id,score\n"1",2\n', ",", "s", ()) is None  # quotes: careful reader
    assert sources._read_plain_csv("id,score\n1,2,3\n", ",", "s", ()) is None  # ragged: careful reader
    assert sources._read_plain_csv("id,score\r1,2\r", ",", "s", ()) is None  # lone CR: careful reader


# ------------------------------------------------------------------------------------------------ dates
date_text = st.one_of(
    st.datetimes(min_value=pd.Timestamp("1990-01-01").to_pydatetime(),
                 max_value=pd.Timestamp("2030-12-31").to_pydatetime()).flatmap(
        lambda d: st.sampled_from([
            d.strftime("%Y-%m-%d"), d.strftime("%Y-%m-%d %H:%M"), d.strftime("%Y-%m-%dT%H:%M:%S"),
            d.strftime("%Y-%m-%dT%H:%M:%S.%f"), d.strftime("%Y-%m-%dT%H:%M:%SZ"),
            d.strftime("%Y-%m-%d %H:%M:%S+02:00"), d.strftime("%Y-%m-%dT%H:%M-0530"),
            d.strftime("%d/%m/%Y"), d.strftime("%Y%m%d"), d.strftime(" %Y-%m-%d "),
            str(int(pd.Timestamp(d).timestamp())), str(int(pd.Timestamp(d).timestamp() * 1000)),
            f"{(pd.Timestamp(d) - pd.Timestamp('1899-12-30')) / pd.Timedelta(days=1):.4f}",
            f"/Date({int(pd.Timestamp(d).timestamp() * 1000)})/",
        ])),
    st.sampled_from(["", "0", "n/a", "2024-02-30", "2024-03-31T25:00", "2024-13-01", "12345", "soon",
                     "2024-03-31 UTC", "2024-3-5", "2024-03-31T09:30:00,5", "2024-03-31T02:30"]),
)


@settings(max_examples=60, deadline=None)
@given(texts=st.lists(date_text, max_size=15),
       tz=st.sampled_from(["UTC", "Europe/Paris", "America/New_York"]))
def test_batch_dates_equal_value_by_value(texts, tz, monkeypatch_module):
    values = pd.Series(texts, dtype=object)
    batch = parse_timestamps(values, tz=tz, dayfirst=True)
    monkeypatch_module.setattr(dates, "_builtin_registry", lambda: False)
    try:
        one_by_one = parse_timestamps(values, tz=tz, dayfirst=True)
    finally:
        monkeypatch_module.undo()
    pd.testing.assert_series_equal(batch[0], one_by_one[0])
    assert batch[1].tolist() == one_by_one[1].tolist()


@pytest.fixture(scope="module")
def monkeypatch_module():
    with pytest.MonkeyPatch.context() as mp:
        yield mp


def test_batch_dates_known_values():
    got, bad = parse_timestamps(
        pd.Series(["2024-03-31 09:30", "2024-03-31T09:30:00+02:00", "1711843200", "45383.5", "0", "x"]),
        tz="Europe/Paris",
    )
    assert got.dt.strftime("%Y-%m-%d %H:%M").fillna("NaT").tolist() == [
        "2024-03-31 07:30",  # 09:30 summer time in Paris
        "2024-03-31 07:30",
        "2024-03-31 00:00",  # epoch seconds are UTC
        "2024-04-01 10:00",  # Excel serial 45383.5 = 2024-04-01 12:00 in Paris
        "NaT",  # 0 means not set
        "NaT",
    ]
    assert bad.tolist() == [False, False, False, False, False, True]


def test_numeric_date_column_reads_like_its_text():
    x = pd.Series([1711843200.0, 45383.5, 0.0, np.nan, 5.0])
    got, bad = parse_timestamps(x, tz="Europe/Paris")
    text, text_bad = parse_timestamps(x.map(lambda v: "" if np.isnan(v) else f"{v:g}" if v < 1e6 else
                                            f"{v:.0f}"), tz="Europe/Paris")
    pd.testing.assert_series_equal(got, text)
    assert bad.tolist() == text_bad.tolist() == [False, False, False, False, True]


# ----------------------------------------------------------------------------------------- distinct values
def test_map_values_tells_apart_values_that_hash_alike():
    mixed = pd.Series([1, 1.0, True, "1.0", None, np.nan], dtype=object)
    assert map_values(mixed, as_id).tolist() == ["1", "1", "True", "1", None, None]
    assert text_values(mixed).tolist() == ["1", "1", "True", "1.0", "", ""]
    strings = pd.Series(["a", " NA ", "a", None, ""], dtype=object)
    assert map_values(strings, is_missing_value, null=True).tolist() == [False, True, False, True, True]
    calls: list[object] = []
    map_values(pd.Series(["x", "y"] * 50, dtype=object), lambda v: calls.append(v))
    assert sorted(calls) == ["x", "y"]  # once per distinct value


@settings(max_examples=40, deadline=None)
@given(st.lists(st.one_of(st.none(), st.floats(allow_nan=True, allow_infinity=False), st.integers(-5, 5),
                          st.booleans(), st.sampled_from(["", "NA", " 007 ", "1.0", "x"])), max_size=20))
def test_text_values_equal_as_text_of_each_value(values):
    s = pd.Series(values, dtype=object)
    assert text_values(s).tolist() == [as_text(v) for v in values]
