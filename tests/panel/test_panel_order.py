"""The bounded-memory helpers of Panel.from_frame's general path equal the plain pandas / NumPy operations."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pyarrow as pa
import pytest

import impactlab as il
from impactlab.errors import PanelError
from impactlab.io.large import arrow_to_pandas
from impactlab.panel import _order
from impactlab.panel.panel import _factorize_sorted, _unit_codes

ARROW_STR = pd.StringDtype("pyarrow")


@pytest.fixture
def small_chunks(monkeypatch):
    """Chunks of 3 rows, so that every chunked loop crosses chunk boundaries."""
    monkeypatch.setattr(_order, "CHUNK", 3)


VALUES = {
    "int8 near the limits": pd.Series([120, -120, 5, 120], dtype="int8"),
    "uint64 above int64": pd.Series([2**63 + 5, 2**63 + 1, 2**63 + 5], dtype="uint64"),
    "periods with NaT": pd.Series(pd.PeriodIndex(["2024-03", None, "2024-01", "2024-03", None], freq="M")),
    "datetimes (ms) with NaT": pd.Series(pd.to_datetime(["2024-02-01", None, "2023-12-01"]).as_unit("ms")),
    "datetimes with a zone": pd.Series(pd.to_datetime(["2024-02-01", "2023-12-01", "2024-02-01"], utc=True)),
    "all NaT": pd.Series(pd.PeriodIndex([None, None], freq="M")),
    "digit ids over chunks": pd.Series([f"E{i:05d}" for i in [9, 3, 3, 7, 1, 9, 2, 8]], dtype=ARROW_STR),
}


@pytest.mark.parametrize("name", list(VALUES))
def test_codes_equal_sorted_factorize(name, small_chunks):
    values = VALUES[name]
    codes, uniques = _unit_codes(values)
    ref_codes, ref_uniques = _factorize_sorted(values)
    np.testing.assert_array_equal(codes, ref_codes)
    assert list(uniques) == list(ref_uniques)
    assert uniques.dtype == pd.Index(ref_uniques).dtype


def test_codes_take_the_smallest_integer_type():
    assert _order.code_dtype(100) == np.int8 and _order.code_dtype(200) == np.int16
    assert _order.code_dtype(10**6) == np.int32 and _order.code_dtype(2**31) == np.int64
    codes, _ = _unit_codes(pd.Series(pd.period_range("2020-01", periods=24, freq="M")).repeat(3))
    assert codes.dtype == np.int8 and codes.tolist() == np.repeat(np.arange(24), 3).tolist()


def test_digit_ids_refuse_a_bad_chunk(small_chunks):
    ok = [f"E{i:04d}" for i in range(7)]
    assert _order.digit_ids(pd.Series(ok, dtype=ARROW_STR)).tolist() == list(range(7))
    # the odd id sits in a later chunk than the first
    assert _order.digit_ids(pd.Series([*ok, "E12x4"], dtype=ARROW_STR)) is None
    assert _order.digit_ids(pd.Series([*ok, "F0001"], dtype=ARROW_STR)) is None
    assert _order.digit_ids(pd.Series([*ok, "E00001"], dtype=ARROW_STR)) is None


@pytest.mark.parametrize("n_keys", [40, 10**12])  # counting sort, then argsort
def test_pair_order_is_the_stable_argsort_and_finds_repeats(n_keys, small_chunks):
    rng = np.random.default_rng(5)
    key = rng.choice(40, size=25, replace=False).astype(np.int64) * (n_keys // 40)
    order, repeated = _order.pair_order(key, n_keys)
    np.testing.assert_array_equal(order, np.argsort(key, kind="stable"))
    assert not repeated
    key[7] = key[3]
    assert _order.pair_order(key, n_keys)[1]
    assert _order.pair_order(np.sort(np.unique(key)), n_keys) == (None, False)
    # already sorted but with a repeat: not strictly increasing, so ordered and flagged
    assert _order.pair_order(np.array([1, 2, 2, 5]), n_keys)[1]


def _arrow_strings() -> pd.arrays.ArrowStringArray:
    """Two chunks of large strings, as pandas >= 2.2 reads parquet text (pandas 2.1 takes only ``string``)."""
    chunks = [pa.array(["a", "bb"], pa.large_string()), pa.array(["c", None], pa.large_string())]
    try:
        return pd.arrays.ArrowStringArray(pa.chunked_array(chunks))
    except ValueError:
        return pd.arrays.ArrowStringArray(pa.chunked_array([c.cast(pa.string()) for c in chunks]))


TAKES = {
    "float": pd.Series([1.5, np.nan, 3.0, 4.0]),
    "arrow strings in chunks": pd.Series(_arrow_strings()),
    "periods": pd.Series(pd.PeriodIndex(["2024-01", None, "2024-03", "2024-02"], freq="M")),
    "nullable ints": pd.Series([1, None, 3, 4], dtype="Int64"),
    "object": pd.Series(["x", None, 3, 4.5], dtype=object),
}


@pytest.mark.parametrize("name", list(TAKES))
def test_take_column_equals_array_take(name, small_chunks):
    values = TAKES[name]
    at = np.array([3, 0, 2, 1, 3, 0, 0], dtype=np.int32)
    got = pd.Series(_order.take_column(values, at))
    ref = pd.Series(values.array.take(at.astype(np.intp)))
    pd.testing.assert_series_equal(got, ref)
    # take_values: -1 picks the last value
    last = pd.Series(_order.take_values(values, np.array([-1, 1], dtype=np.int8)))
    pd.testing.assert_series_equal(last, pd.Series(values.array.take(np.array([3, 1]))))


def _reference(df: pd.DataFrame) -> pd.DataFrame:
    """The long frame built the obvious way (object values, Python loops)."""
    sub = df.loc[df["y"].notna()]
    periods = sorted(set(sub["t"]))
    never = [pd.isna(g) or (not isinstance(g, pd.Period | pd.Timestamp) and g == 0) for g in sub["g"]]
    pos = [0 if nv else next((i + 1 for i, p in enumerate(periods) if p >= g), 0)
           for g, nv in zip(sub["g"], never, strict=True)]
    out = pd.DataFrame({"unit": sub["u"].to_numpy(dtype=object), "time": sub["t"].to_numpy(dtype=object),
                        "period": [periods.index(t) + 1 for t in sub["t"]], "outcome": sub["y"].to_numpy(),
                        "cohort_period": pos})
    return out.sort_values(["unit", "period"]).reset_index(drop=True)


@pytest.mark.parametrize("times", ["datetime64[ms]", "period", "int"])
@pytest.mark.parametrize("cohorts", ["same as times", "Int64 with NA", "int with 0 on a dropped row"])
def test_general_path_equals_the_reference(times, cohorts, small_chunks):
    rng = np.random.default_rng(11)
    n, T = 13, 5
    ids = [f"E{i:03d}" for i in rng.permutation(n)]
    tv = {"datetime64[ms]": pd.date_range("2024-01-01", periods=T, freq="MS").as_unit("ms"),
          "period": pd.period_range("2024-01", periods=T, freq="M"),
          "int": pd.Index(np.arange(0, 2 * T, 2))}[times]
    pick = rng.integers(-1, T, size=n)
    df = pd.DataFrame({"u": pd.array(np.repeat(ids, T), dtype=ARROW_STR), "t": np.tile(tv, n),
                       "y": rng.normal(size=n * T)})
    if cohorts == "same as times" or times != "int":
        g = pd.Series(tv).take(np.maximum(pick, 0)).to_numpy()
        g = pd.Series(g).where(pick >= 0)
        df["g"] = pd.Series(np.repeat(g.array, T)).array if times != "period" else np.repeat(g.array, T)
    elif cohorts == "Int64 with NA":
        df["g"] = pd.array(np.repeat(np.where(pick >= 0, tv.to_numpy()[np.maximum(pick, 0)], -1), T),
                           dtype="Int64")
        df.loc[df["g"] == -1, "g"] = pd.NA
    else:
        df["g"] = np.repeat(np.where(pick >= 0, tv.to_numpy()[np.maximum(pick, 0)], 0), T)
    df.loc[rng.choice(n * T, 9, replace=False), "y"] = np.nan
    df = df.sample(frac=1, random_state=3).drop(index=df.index[::7])
    panel = il.Panel.from_frame(df, unit="u", time="t", outcome="y", cohort="g")
    got, ref = panel.long(), _reference(df)
    for c in ref.columns:
        assert got[c].astype(object).tolist() == ref[c].tolist(), c
    assert len(panel.dropped) == int(df["y"].isna().sum())
    if cohorts == "int with 0 on a dropped row" and times == "int":
        assert got["cohort"].dtype == np.float64  # as Series.where gives it: 0 is "never" (NaN)


def test_general_path_reports_repeats_and_changing_cohorts(small_chunks):
    df = pd.DataFrame({"u": [3, 1, 2, 1, 2, 3, 3], "t": [1, 1, 1, 2, 2, 2, 1], "y": np.arange(7.0),
                       "g": [0, 2, 0, 2, 0, 0, 0]})
    with pytest.raises(PanelError, match=r"(?s)row 0.*once per period.*row 6.*once per period"):
        il.Panel.from_frame(df, unit="u", time="t", outcome="y", cohort="g")
    df = df.iloc[:6].assign(g=[0, 2, 0, 2, 2, 0])
    with pytest.raises(PanelError, match=r"changes within units \[(np\.int64\()?2\b"):
        il.Panel.from_frame(df, unit="u", time="t", outcome="y", cohort="g")


def test_build_panel_leaves_the_callers_table_alone():
    kpis = pd.DataFrame({"employee_id": ["b", "a", "b", "a"], "period": pd.PeriodIndex(
        ["2024-02", "2024-01", "2024-01", "2024-02"], freq="M"), "revenue": [1.0, np.nan, 3.0, 4.0]})
    comp = pd.DataFrame({"employee_id": ["a"], "program": ["P"], "status": ["completed"],
                         "completed_at": pd.to_datetime(["2024-02-10"], utc=True)})
    before = kpis.copy()
    panel = il.build_panel(kpis, comp, program="P", outcome="revenue")
    pd.testing.assert_frame_equal(kpis, before)
    assert panel.long()["unit"].tolist() == ["a", "b", "b"]
    assert panel.long()["cohort_period"].tolist() == [2, 0, 0]
    assert panel.dropped["source_row"].tolist() == [2]  # row numbers from 1 without a source_row column


def test_arrow_to_pandas_gives_one_contiguous_string_array():
    table = pa.Table.from_batches([
        pa.RecordBatch.from_pydict({"u": pa.array(["x", None]), "v": pa.array([1.0, 2.0])}),
        pa.RecordBatch.from_pydict({"u": pa.array(["z", "w"]), "v": pa.array([3.0, 4.0])})])
    ref = table.to_pandas()
    got = arrow_to_pandas(table)
    pd.testing.assert_frame_equal(got, ref)
    if hasattr(got["u"].array, "__arrow_array__"):  # pandas' Arrow-backed strings (pandas 3; object in 2.x)
        arr = got["u"].array.__arrow_array__()
        assert arr.num_chunks == 1 and arr.type == pa.large_string()
