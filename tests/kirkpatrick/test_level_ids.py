"""The Kirkpatrick joins use build_panel's id rule: ' 00123' and '123', 'E07' and 'e07' are one person;
ids that match nothing are named in a DataQualityWarning."""

from __future__ import annotations

import warnings

import pandas as pd
import pytest

from impactlab.errors import DataQualityWarning
from impactlab.kirkpatrick import behavior, reaction
from impactlab.kirkpatrick.chain import _joined

T0 = pd.Timestamp("2024-03-01", tz="UTC")


def _obs(ids: list[str]) -> pd.DataFrame:
    rows = []
    for who, (before, after) in zip(ids, [(2, 4), (3, 4), (2, 5), (1, 3)], strict=False):
        for day, r in ((-3, before), (30, after)):
            rows.append({"employee_id": who, "program": "A", "behavior": "coaching", "rating": r,
                         "observed_at": T0 + pd.Timedelta(days=day), "observer": "M"})
    return pd.DataFrame(rows)


def _completions(ids: list[str]) -> pd.DataFrame:
    return pd.DataFrame({"employee_id": ids, "program": "A", "status": "completed", "completed_at": T0})


def test_behavior_joins_training_dates_by_the_panels_id_rule_and_warns_the_unmatched_by_id():
    written_alike = behavior(_obs(["00123", "E07", "00456"]),
                             trained_at=_completions(["00123", "E07", "00456"]))
    unmatched = "1 observed employee id\\(s\\) have no training date .*: '999'"
    with pytest.warns(DataQualityWarning, match=unmatched):
        res = behavior(_obs([" 00123", "E07", "00456", "999"]),
                       trained_at=_completions(["123", "e07", "456"]))
    pd.testing.assert_frame_equal(res.by_checkpoint, written_alike.by_checkpoint)
    w = res.by_checkpoint.set_index("wave")
    assert w.loc["30", "n"] == 3 and w.loc["30", "change"] == pytest.approx((2 + 1 + 3) / 3)
    assert res.rejected["employee_id"].unique().tolist() == ["999"]
    said = "3 id(s) of the training dates matched to those of the observations ignoring leading zeros or case"
    assert any(said in n and "'123' -> '00123'" in n and "'e07' -> 'E07'" in n for n in res.notes)


def test_behavior_keeps_ids_apart_when_the_observations_tell_zeros_apart():
    # '0123' and '123' are two people in the observations: the leading-zeros rule is off, '00123' matches none
    with pytest.warns(DataQualityWarning, match="'0123'"):
        res = behavior(_obs(["0123", "123", "E07"]), trained_at=_completions(["00123", "123", "E07"]))
    assert res.by_checkpoint.set_index("wave").loc["30", "n"] == 2
    assert any("not matched by the rule" in n and "leading zeros tell ids apart" in n for n in res.notes)


def test_reaction_counts_respondents_against_the_roster_by_the_id_rule():
    surveys = pd.DataFrame({"employee_id": ["123", "456", "789"], "program": "A", "item": "useful",
                            "response": [4, 5, 3], "scale_min": 1, "scale_max": 5})
    with pytest.warns(DataQualityWarning, match="1 respondent id\\(s\\) are not among the invited .*: '789'"):
        res = reaction(surveys, nps_item=None, roster=["00123", "00456", "00999", "01000"])
    r = res.response.iloc[0]
    assert (r["invited"], r["respondents"], r["rate"]) == (4, 2, 0.5)


def test_the_chain_joins_levels_by_the_id_rule():
    left = pd.DataFrame({"employee_id": ["00123", "E07"], "program": "A", "normalised_gain": [0.5, 0.2]})
    right = pd.DataFrame({"employee_id": ["123", "e07", "8"], "program": "A", "change": [1.0, 0.5, 2.0]})
    said: list[str] = []
    m = _joined(left, right, ("learning", "behaviour"), said)
    assert m[["employee_id", "normalised_gain", "change"]].values.tolist() == [["00123", 0.5, 1.0],
                                                                               ["E07", 0.2, 0.5]]
    assert said and "'123' -> '00123'" in said[0]
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert _joined(left, left.rename(columns={"normalised_gain": "change"}), ("a", "b"), []).shape[0] == 2
