"""The hash-free unit codes and counting sort of Panel.from_frame's general path equal factorize/argsort."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

import impactlab as il
from impactlab.errors import PanelError
from impactlab.panel.panel import _digit_ids, _factorize_sorted, _sort_order, _unit_codes

ARROW_STR = pd.StringDtype("pyarrow")


def _ids(values, dtype):
    return pd.Series(values, dtype=dtype)


CASES = {
    "ints with gaps, unsorted": pd.Series([7, 3, 3, 10, 7, 4], dtype="int64"),
    "ints of a wide range": pd.Series([10**12, 5, 10**12, -3], dtype="int64"),
    "unsigned ints": pd.Series([2, 1, 2], dtype="uint32"),
    "prefixed digit strings": _ids(["E0000123", "E0000007", "E0000123", "E0100000"], ARROW_STR),
    "digit strings with leading zeros": _ids(["0012", "0003", "0100", "0003"], ARROW_STR),
    "strings of different widths": _ids(["E9", "E10", "E100", "E9"], ARROW_STR),
    "different prefixes": _ids(["A001", "B000", "A001"], ARROW_STR),
    "a missing id": _ids(["E01", None, "E00"], ARROW_STR),
    "non-ASCII digits": _ids(["E\u0661\u0662", "E012", "E012"], ARROW_STR),
    "object strings": pd.Series(["E0000123", "E0000007", "E0000123"], dtype=object),
}


@pytest.mark.parametrize("name", list(CASES))
def test_unit_codes_equal_sorted_factorize(name):
    values = CASES[name]
    codes, uniques = _unit_codes(values)
    ref_codes, ref_uniques = _factorize_sorted(values)
    np.testing.assert_array_equal(codes, ref_codes)
    assert list(uniques) == list(ref_uniques)


def test_prefixed_ids_take_the_dense_route_and_keep_their_dtype():
    # 'E0000123' ids read as the integers 123, ...: the dense route gives strings back, as the ids were
    values = _ids([f"E{i:07d}" for i in [5, 2, 9, 2, 5]], ARROW_STR)
    assert _digit_ids(values).tolist() == [5, 2, 9, 2, 5]
    assert _digit_ids(CASES["strings of different widths"]) is None
    assert _digit_ids(CASES["a missing id"]) is None
    codes, uniques = _unit_codes(values)
    assert codes.tolist() == [1, 0, 2, 0, 1]
    assert list(uniques) == ["E0000002", "E0000005", "E0000009"] and uniques.dtype == values.dtype


def test_sort_order_is_the_stable_argsort():
    rng = np.random.default_rng(3)
    for n_keys in (50, 10**9):  # counting sort, then argsort
        key = rng.choice(min(n_keys, 10**6), size=40, replace=False).astype("int64")
        np.testing.assert_array_equal(_sort_order(key, n_keys), np.argsort(key, kind="stable"))


def _frame(n=60, T=5, seed=1):
    rng = np.random.default_rng(seed)
    g = rng.choice([0, 3, 4], size=n)
    df = pd.DataFrame({"id": np.repeat([f"E{i * 3:07d}" for i in range(n)], T),
                       "t": np.tile(np.arange(1, T + 1), n), "g": np.repeat(g, T),
                       "y": rng.normal(size=n * T), "x": rng.normal(size=n * T)})
    df.loc[[4, 17], "y"] = np.nan  # dropped rows
    return df.sample(frac=1.0, random_state=seed).drop(index=[30, 31]).reset_index(drop=True)


def _panel(df, dtype):
    return il.Panel.from_frame(df.astype({"id": dtype}), unit="id", time="t", outcome="y", cohort="g",
                               covariates=["x"])


def test_string_ids_unsorted_with_missing_outcomes_give_the_general_panel():
    df = _frame()
    fast, ref = _panel(df, ARROW_STR), _panel(df, object)
    a, b = fast.long(), ref.long()
    assert a["unit"].astype(object).tolist() == b["unit"].astype(object).tolist()
    for c in ("time", "period", "outcome", "cohort", "cohort_period", "x"):
        np.testing.assert_array_equal(a[c].to_numpy(), b[c].to_numpy())
    assert fast.n_units == ref.n_units == 60 and fast.n_obs == ref.n_obs == len(df) - 2
    assert sorted(fast.dropped["source_row"]) == sorted(ref.dropped["source_row"])
    assert len(fast.dropped) == 2


def test_duplicates_and_missing_ids_raise_the_same_errors():
    df = _frame()
    dup = pd.concat([df, df.iloc[[5]]], ignore_index=True)
    messages = []
    for dtype in (ARROW_STR, object):
        with pytest.raises(PanelError, match="each unit may appear once per period") as err:
            _panel(dup, dtype)
        messages.append(str(err.value))
    assert messages[0] == messages[1]
    gap = df.astype({"id": object})
    gap.loc[3, "id"] = None
    for dtype in (ARROW_STR, object):
        with pytest.raises(PanelError, match="the unit id is missing"):
            _panel(gap, dtype)


def test_build_panel_maps_cohorts_and_doses_through_the_codes():
    kpis = pd.DataFrame({"employee_id": ["E02", "E01", "E03", "E02", "E01", "E03"],
                         "period": pd.PeriodIndex(["2024-01"] * 3 + ["2024-02"] * 3, freq="M"),
                         "revenue": [1.0, 2.0, 3.0, 4.0, 5.0, 6.0]}).astype({"employee_id": ARROW_STR})
    comps = pd.DataFrame({"employee_id": ["E02", "E09", "E02"], "program": "P",
                          "status": ["completed", "completed", "failed"],
                          "completed_at": pd.to_datetime(["2024-02-10", "2024-01-05", "2024-01-01"],
                                                         utc=True),
                          "hours": [2.0, 1.0, 1.5]})
    panel = il.build_panel(kpis, comps, program="P", outcome="revenue", dose=["attempts", "hours"])
    long = panel.long()
    assert long["unit"].tolist() == ["E01", "E01", "E02", "E02", "E03", "E03"]
    assert long["cohort_period"].tolist() == [0, 0, 2, 2, 0, 0]
    assert long["attempts"].tolist() == [0, 0, 2, 2, 0, 0]
    assert long["hours"].tolist() == [0, 0, 3.5, 3.5, 0, 0]
    assert long["outcome"].tolist() == [2.0, 5.0, 1.0, 4.0, 3.0, 6.0]
    assert panel.meta["trained_without_kpis"] == 1  # E09
