import pandas as pd
import pytest

from impactlab.errors import DataError
from impactlab.io import read_assessments, read_costs, read_observations, read_surveys


def test_assessments_kinds_and_score_range(invariant):
    raw = pd.DataFrame(
        {
            "employee_id": ["a", "a", "b", "c"],
            "program": ["P"] * 4,
            "kind": ["Pre-test", "POST", "follow up", "mid"],
            "score": [40, 70, 120, 50],
            "max_score": [100, 100, 100, 100],
            "taken_at": ["2024-01-01", "2024-02-01", "2024-05-01", "2024-02-01"],
        }
    )
    t = read_assessments(raw)
    invariant(t)
    assert t.frame["kind"].tolist() == ["pre", "post"]
    rej = t.rejected.set_index("source_row")
    assert "above max_score" in rej.loc[3, "reason"]
    assert rej.loc[4, "check"] == "category" and "pre, post, delayed" in rej.loc[4, "reason"]


def test_surveys_scale_and_optional_employee():
    raw = pd.DataFrame(
        {
            "program": ["P"] * 3,
            "question": ["relevant", "relevant", "nps"],
            "answer": [4, 6, 9],
            "scale_min": [1, 1, 0],
            "scale_max": [5, 5, 10],
        }
    )
    t = read_surveys(raw)
    assert t.frame["response"].tolist() == [4.0, 9.0]
    assert t.frame["employee_id"].isna().all()
    assert "outside the scale [1.0, 5.0]" in t.rejected.loc[0, "reason"]


def test_observations():
    raw = pd.DataFrame(
        {
            "employee_id": ["a"],
            "behaviour": ["asks open questions"],
            "rating": ["3,5"],
            "observation date": ["2024-04-02"],
            "rater": ["m1"],
        }
    )
    f = read_observations(raw).frame
    assert f.loc[0, "behavior"] == "asks open questions"
    assert f.loc[0, "rating"] == 3.5
    assert f.loc[0, "observer"] == "m1"
    assert f.loc[0, "observed_at"] == pd.Timestamp("2024-04-02", tz="UTC")


def test_costs_categories_amounts_and_ranges(invariant):
    raw = pd.DataFrame(
        {
            "Program": ["P"] * 5,
            "Category": [
                "Design and Development",
                "Participant salaries and benefits",
                "Travel",
                "Lunch",
                "Facilitators",
            ],
            "Amount": ["12,000", None, "500", "10", None],
            "Low": [None, 20000, None, None, 9000],
            "High": [None, 30000, None, None, 8000],
        }
    )
    with pytest.raises(DataError, match=r"1 cost item\(s\) on 1 row\(s\) are not Phillips cost categories: "
                       r"'Lunch' \(row 4\)") as info:
        read_costs(raw)
    assert [(f.row, f.value) for f in info.value.failures] == [(4, "Lunch")]
    assert "categories={'Lunch': '<category>'}" in str(info.value)
    t = read_costs(raw, categories={"lunch": "materials"})
    invariant(t)
    assert t.frame["category"].tolist() == ["design", "participant_time", "travel", "materials"]
    assert t.frame["amount"].tolist()[0] == 12000.0
    assert t.frame["low"].tolist()[1] == 20000.0
    rej = t.rejected.set_index("source_row")
    assert list(rej.index) == [5]
    assert "low <= high" in rej.loc[5, "reason"]
    with pytest.raises(DataError, match="needs an 'amount' column"):
        read_costs(pd.DataFrame({"program": ["P"], "category": ["travel"]}))


def test_shared_options_are_checked_once_before_reading():
    from impactlab.io import ReadOptions

    for reader in (read_assessments, read_surveys, read_observations, read_costs):
        with pytest.raises(ValueError, match="'errors' parameter must be one of 'quarantine', 'raise'"):
            reader("no-such-file.csv", errors="drop")
    with pytest.raises(ValueError, match="'preset' parameter"):
        ReadOptions(preset="blackboard")


def test_an_unreadable_value_is_reported_once_not_again_by_a_row_rule(invariant):
    raw = pd.DataFrame({"program": ["P"] * 2, "category": ["design"] * 2, "amount": ["x", ""],
                        "low": ["", ""], "high": ["", ""]})
    t = read_costs(raw)
    invariant(t)
    assert t.rejected[["source_row", "check"]].values.tolist() == [[1, "number"], [2, "missing"]]
