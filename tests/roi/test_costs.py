"""Costs: Phillips categories, ranges, tables and validation."""

from __future__ import annotations

import dataclasses

import pandas as pd
import pytest

from impactlab.errors import DataError
from impactlab.roi import CATEGORIES, Costs


def test_fields_match_categories() -> None:
    names = tuple(f.name for f in dataclasses.fields(Costs)
                  if f.name not in ("currency", "expected_runs", "accounting"))
    assert names == CATEGORIES


def test_totals_with_ranges() -> None:
    c = Costs(design=20_000, delivery=(30_000, 40_000), participant_time=(10_000, 20_000), currency="eur")
    assert c.total == 20_000 + 35_000 + 15_000
    assert c.low == 60_000 and c.high == 80_000
    assert c.has_ranges and c.currency == "EUR"
    assert not Costs(design=5).has_ranges
    assert c.point("delivery") == 35_000


def test_table() -> None:
    c = Costs(design=20_000, delivery=(30_000, 50_000), overhead=20_000)
    t = c.table().set_index("category")
    assert list(t.columns) == ["low", "high", "point", "share"]
    assert list(t.index) == list(CATEGORIES)
    assert t.loc["delivery", "point"] == 40_000
    assert t.loc["delivery", "share"] == pytest.approx(0.5)
    assert t["share"].sum() == pytest.approx(1.0)
    assert t.loc["travel", "share"] == 0


@pytest.mark.parametrize(("kwargs", "match"), [
    ({"design": -1}, "'design' must be a finite, non-negative number"),
    ({"travel": (5, 2)}, "'travel' has low > high"),
    ({"materials": (-1, 2)}, "'materials' must hold finite, non-negative"),
    ({"delivery": "1000"}, "'delivery' must be a number or a \\(low, high\\) range"),
    ({"overhead": (1, 2, 3)}, "'overhead' must be a number or a \\(low, high\\) range"),
    ({"currency": ""}, "'currency' parameter must be a currency code"),
])
def test_validation(kwargs: dict, match: str) -> None:
    with pytest.raises(ValueError, match=match):
        Costs(**kwargs)


def test_unknown_category_keyword() -> None:
    with pytest.raises(TypeError, match="catering"):
        Costs(catering=3)  # type: ignore[call-arg]


def test_frozen_and_repr() -> None:
    c = Costs(design=1_000)
    with pytest.raises(dataclasses.FrozenInstanceError):
        c.design = 5  # type: ignore[misc]
    assert "design=1,000" in repr(c) and "total 1,000 USD" in repr(c)
    assert "design" in c.summary() and "<table" in c._repr_html_()


def _table() -> pd.DataFrame:
    return pd.DataFrame({
        "program": ["Sales 101"] * 5 + ["Other"],
        "category": ["Design and development", "Delivery", "delivery", "Participant time", "overhead",
                     "design"],
        "amount": [20_000, 10_000, None, 25_000, 5_000, 1],
        "low": [None, None, 15_000, None, None, None],
        "high": [None, None, 25_000, None, None, None],
        "currency": ["usd"] * 6,
        "source_row": [2, 3, 4, 5, 6, 7],
    })


def test_from_table_sums_categories_and_ranges() -> None:
    c = Costs.from_table(_table(), program="Sales 101")
    assert c.design == 20_000
    assert c.delivery == (25_000, 35_000)  # 10,000 known + 15,000-25,000 range
    assert c.participant_time == 25_000 and c.overhead == 5_000
    assert c.total == 80_000 and c.currency == "USD"


def test_from_table_accepts_a_table_object() -> None:
    class Table:
        frame = _table()

    assert Costs.from_table(Table(), program="Other").total == 1


def test_from_table_needs_program_when_several() -> None:
    with pytest.raises(DataError, match="(?s)several programmes.*Other, Sales 101"):
        Costs.from_table(_table())
    with pytest.raises(DataError, match="no row for program 'Nope'"):
        Costs.from_table(_table(), program="Nope")


def test_from_table_reports_every_bad_row() -> None:
    df = pd.DataFrame({
        "program": ["P"] * 5,
        "category": ["catering", "design", "delivery", "travel", "overhead"],
        "amount": [100, -5, None, None, 10],
        "low": [None, None, 9, None, None],
        "high": [None, None, 3, None, None],
        "currency": ["USD", "USD", "USD", "USD", "EUR"],
        "source_row": [10, 11, 12, 13, 14],
    })
    with pytest.raises(DataError) as info:
        Costs.from_table(df)
    rows = {(f.row, f.column) for f in info.value.failures}
    assert rows == {(10, "category"), (11, "amount"), (12, "low/high"), (13, "amount"), (None, "currency")}
    assert "not a Phillips cost category" in str(info.value)
    assert "low is greater than high" in str(info.value)


def test_from_table_missing_columns() -> None:
    with pytest.raises(DataError, match="lacks the column.*amount \\(or low and high\\)"):
        Costs.from_table(pd.DataFrame({"program": ["P"], "category": ["design"]}))
