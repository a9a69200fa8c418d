"""Costs are whole or refused: a finance sheet's own item names are mapped to Phillips categories or the
sheet is refused, a costs table with rejected rows is never totalled, and ROI refuses costs that leave rows
out (issue "Hostile input", Build 4; issue "From the analyst's own files", Build 1)."""

from __future__ import annotations

import dataclasses

import pandas as pd
import pytest

import impactlab as il
from impactlab.errors import DataError
from impactlab.roi import CostAccounting, Costs

#: The finance sheet of the issue: its own item names, no programme column, dollars with thousands
#: separators. The whole programme costs 100,000 + 50,000 + 100,000 + 25,000 + 100,000 = 375,000; of these
#: only "Design" is a Phillips category by name, which is why the old reader totalled 100,000.
ITEMS = ["Trainer fees", "Venue hire", "Design", "Catering", "Staff time"]
AMOUNTS = ["$100,000", "$50,000", "$100,000.00", "$25,000", "$100,000"]
MAPPING = {"Trainer fees": "facilitators", "Venue hire": "facilities", "Catering": "materials",
           "Staff time": "participant time"}


@pytest.fixture(params=["xlsx", "csv"])
def finance_sheet(request, tmp_path):
    frame = pd.DataFrame({"Item": ITEMS, "Amount": AMOUNTS})
    path = tmp_path / f"finance.{request.param}"
    if request.param == "xlsx":
        frame.to_excel(path, index=False, sheet_name="FY25")
    else:
        frame.to_csv(path, index=False)
    return path


def test_unmapped_items_refuse_the_sheet_and_list_every_item(finance_sheet):
    for errors in ("quarantine", "raise"):
        with pytest.raises(DataError) as info:
            il.read_costs(finance_sheet, program="Leadership 101", errors=errors)
        msg = str(info.value)
        # CSV and xlsx number the header line 1, so the items are on lines 2..6
        assert ("4 cost item(s) on 4 row(s) are not Phillips cost categories: 'Trainer fees' (row 2), "
                "'Venue hire' (row 3), 'Catering' (row 5), 'Staff time' (row 6)") in msg
        assert "needs_assessment, design, delivery, facilitators" in msg
        assert "categories={'Trainer fees': '<category>'" in msg
        assert sorted(f.row for f in info.value.failures) == [2, 3, 5, 6]


def test_mapped_items_total_the_whole_programme(finance_sheet):
    t = il.read_costs(finance_sheet, program="Leadership 101", categories=MAPPING)
    assert t.rows_read == t.n_kept == 5 and t.n_rejected == 0
    assert t.frame["program"].tolist() == ["Leadership 101"] * 5
    assert t.frame["category"].tolist() == ["facilitators", "facilities", "design", "materials",
                                            "participant_time"]
    assert t.frame["amount"].tolist() == [100_000, 50_000, 100_000, 25_000, 100_000]
    assert any("'Trainer fees' -> facilitators" in n for n in t.notes)
    c = Costs.from_table(t)
    assert c.total == 375_000
    assert c.accounting == CostAccounting(source=str(finance_sheet), rows_read=5, n_costed=5)
    assert c.accounting.complete and "5 of 5 rows" in c.summary()
    # benefit 2 x 1,500 x 100 participants x 12 months = 3,600,000 against 375,000: ROI 860 %
    r = il.roi(2.0, value_per_unit=1_500, participants=100, horizon=12, costs=c)
    assert r.roi_pct == pytest.approx((3_600_000 - 375_000) / 375_000 * 100)


def test_item_names_are_compared_ignoring_case_and_punctuation():
    sheet = pd.DataFrame({"Line item": ["TRAINER-FEES", "venue  hire"], "Actual": ["1,000", "2,500"]})
    t = il.read_costs(sheet, program="P", categories={"Trainer fees": "facilitators",
                                                      "Venue hire": "facilities"})
    assert t.frame["category"].tolist() == ["facilitators", "facilities"]
    assert Costs.from_table(t).total == 3_500


def test_a_category_column_is_mapped_with_columns_and_the_items_are_kept():
    # a finance sheet that carries its own Phillips column beside the item names
    sheet = pd.DataFrame({"Program": ["P"] * 3, "Line item": ["Trainer fees", "Venue", "Staff time"],
                          "Phillips category": ["Facilitators", "Facilities", "Participant time"],
                          "Amount": ["1,000", "2,000", "4,000"]})
    t = il.read_costs(sheet, columns={"Phillips category": "category"})
    assert t.frame["category"].tolist() == ["facilitators", "facilities", "participant_time"]
    assert t.frame["line_item"].tolist() == ["Trainer fees", "Venue", "Staff time"]
    assert Costs.from_table(t).total == 7_000


def test_program_is_refused_for_a_sheet_with_a_program_column():
    sheet = pd.DataFrame({"Course": ["A", "B"], "Category": ["design", "travel"], "Amount": [1, 2]})
    with pytest.raises(DataError, match=r"program='A' is for a sheet without a program column.*'Course'"):
        il.read_costs(sheet, program="A")


def test_categories_must_name_phillips_categories():
    sheet = pd.DataFrame({"Item": ["Lunch"], "Amount": [5]})
    with pytest.raises(ValueError, match=r"'Lunch': 'food'.*Allowed: needs_assessment"):
        il.read_costs(sheet, program="P", categories={"Lunch": "food"})


def test_rejected_rows_are_never_totalled():
    sheet = pd.DataFrame({"Item": ["Design", "Delivery", "Travel"], "Amount": ["$10,000", "ten", "$500"]})
    t = il.read_costs(sheet, program="P")
    assert t.n_kept == 2 and t.n_rejected == 1  # quarantined, not lost
    with pytest.raises(DataError, match=r"1 rejected row\(s\) \(rows 2\): a total without them") as info:
        Costs.from_table(t)
    assert [(f.row, f.value) for f in info.value.failures] == [(2, "ten")]
    with pytest.raises(DataError, match=r"1 problem\(s\) on 1 of 3 rows of the costs table"):
        il.read_costs(sheet, program="P", errors="raise")


def test_other_programmes_are_accounted_for():
    sheet = pd.DataFrame({"Program": ["A", "A", "B"], "Category": ["design", "travel", "design"],
                          "Amount": [1_000, 200, 7]})
    c = Costs.from_table(il.read_costs(sheet), program="A")
    assert c.total == 1_200
    assert c.accounting == CostAccounting(source="<DataFrame>", rows_read=3, n_costed=2, n_other_programs=1)
    assert c.accounting.complete


def test_roi_refuses_costs_that_leave_rows_out():
    whole = Costs(design=300_000, accounting=CostAccounting("finance.xlsx", rows_read=5, n_costed=5))
    assert il.roi(1.0, value_per_unit=1_000, participants=100, horizon=12, costs=whole).cost == 300_000
    partial = dataclasses.replace(whole, accounting=CostAccounting("finance.xlsx", rows_read=5, n_costed=1,
                                                                   n_rejected=4))
    with pytest.raises(DataError, match=r"do not account for every row of their table \(1 of 5 rows of "
                                        r"finance.xlsx costed, 4 rejected\)"):
        il.roi(1.0, value_per_unit=1_000, participants=100, horizon=12, costs=partial)
    unaccounted = dataclasses.replace(whole, accounting=CostAccounting("f.csv", rows_read=5, n_costed=4))
    with pytest.raises(DataError, match="1 unaccounted for"):
        il.roi(1.0, value_per_unit=1_000, participants=100, horizon=12, costs=unaccounted)
    # costs typed in directly carry no accounting and are taken as given
    assert il.roi(1.0, value_per_unit=1_000, participants=100, horizon=12,
                  costs=Costs(design=300_000)).cost == 300_000


def test_a_totals_row_is_named_as_one_and_the_fix_offered_gives_the_whole_cost():
    # a finance sheet closes with its total (375,000): mapping it to a category, as the hint for an
    # ordinary item says, would cost the programme 750,000
    frame = pd.DataFrame({"Item": [*ITEMS, "Grand Total"], "Amount": [*AMOUNTS, "$375,000"]})
    with pytest.raises(DataError) as info:
        il.read_costs(frame, program="Leadership 101", categories=MAPPING)
    msg = str(info.value)
    assert "'Grand Total' (row 6)" in msg and "Totals rows are not cost items" in msg
    assert "categories={" not in msg  # no advice to map the total onto a category
    assert [f.reason for f in info.value.failures] == ["a totals row, not a cost item: leave it out"]
    assert "read_costs(sheet[sheet['Item'] != 'Grand Total'], ...)" in msg
    sheet = frame  # the fix as the message writes it
    t = il.read_costs(sheet[sheet["Item"] != "Grand Total"], program="Leadership 101", categories=MAPPING)
    assert Costs.from_table(t).total == 375_000
