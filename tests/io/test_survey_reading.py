"""read_surveys on the surveys analysts have: anonymous rows, response ids, answers written as labels."""

from __future__ import annotations

import pandas as pd
import pytest

import impactlab as il
from impactlab.io import read_surveys

# 100 anonymous answers: 45 promoters (9-10), 35 passives (7-8), 20 detractors (0-6): NPS = 45 - 20 = +25
NPS_100 = [10] * 30 + [9] * 15 + [8] * 20 + [7] * 15 + [6] * 5 + [5] * 5 + [3] * 10


def _anonymous(values: list[int]) -> pd.DataFrame:
    return pd.DataFrame({"Program": "Coaching", "Question": "recommend", "Answer": values,
                         "Min": 0, "Max": 10})


def test_anonymous_nps_survey_is_read_whole(invariant) -> None:
    t = read_surveys(_anonymous(NPS_100))
    invariant(t)
    assert len(t.frame) == 100 and t.rejected.empty
    r = il.kirkpatrick.reaction(t)
    row = r.nps.iloc[0]
    assert (row["n"], row["promoters"], row["passives"], row["detractors"]) == (100, 45, 35, 20)
    assert r.estimate == 25.0


def test_identical_rows_of_one_respondent_are_duplicates(invariant) -> None:
    raw = pd.DataFrame({"employee_id": ["a", "a", "b", None, None], "program": "P", "item": "q",
                        "response": [4, 4, 4, 4, 4], "scale_min": 1, "scale_max": 5})
    t = read_surveys(raw)
    invariant(t)
    assert t.frame["employee_id"].tolist()[:2] == ["a", "b"] and len(t.frame) == 4
    assert t.rejected["check"].tolist() == ["duplicate"]
    assert t.rejected["source_row"].tolist() == [2] and "duplicate of row 1" in t.rejected["reason"].iloc[0]


def test_response_id_is_honoured(invariant) -> None:
    raw = pd.DataFrame({"ResponseId": ["R1", "R1", "R2", "R2", "R3", "R3"], "program": "P",
                        "item": ["q1", "q2", "q1", "q1", "q1", "q1"], "response": [4, 5, 4, 4, 3, 5],
                        "scale_min": 1, "scale_max": 5})
    t = read_surveys(raw)
    invariant(t)
    assert t.frame["response_id"].tolist() == ["R1", "R1", "R2", "R3"]
    rej = t.rejected.set_index("source_row")
    assert "exact duplicate of row 3" in rej.loc[4, "reason"]
    assert "second answer of response 'R3' to item 'q1' (first answer: row 5)" in rej.loc[6, "reason"]
    with pytest.raises(il.errors.DataError, match="second answer"):
        read_surveys(raw, errors="raise")


def test_likert_text_on_a_five_point_scale(invariant) -> None:
    raw = pd.DataFrame({"Program": "P", "Question": "relevance",
                        "Answer": ["Strongly agree", "Agree", "agree", "Neither agree nor disagree",
                                   "Neutral",
                                   "Disagree", "strongly disagree", "Agree strongly", "4", "Kinda"]})
    t = read_surveys(raw)
    invariant(t)
    assert t.frame["response"].tolist() == [5, 4, 4, 3, 3, 2, 1, 5, 4]
    assert t.frame["scale_min"].tolist()[:3] == [1, 1, 1] and t.frame["scale_max"].iloc[0] == 5
    labels = t.frame["response_label"]
    assert labels.iloc[0] == "Strongly agree" and pd.isna(labels.iloc[8])
    assert pd.isna(t.frame["scale_max"].iloc[8])  # a number keeps the scale it was given (none here)
    assert t.rejected["source_row"].tolist() == [10] and "'Kinda'" in t.rejected["reason"].iloc[0]
    assert any("'Kinda'" in n and "scale={label: point}" in n for n in t.notes)
    r = il.kirkpatrick.reaction(t.frame.iloc[:7], nps_item=None)
    assert r.items["mean"].iloc[0] == pytest.approx((5 + 4 + 4 + 3 + 3 + 2 + 1) / 7)
    assert r.items["top_box"].iloc[0] == pytest.approx(3 / 7)


def test_seven_point_labels_when_an_item_has_plain_and_mild_answers() -> None:
    raw = pd.DataFrame({"program": "P", "item": ["a"] * 4 + ["b"] * 2,
                        "response": ["Strongly agree", "Agree", "Somewhat agree", "Somewhat disagree",
                                     "Somewhat agree", "Strongly disagree"]})
    f = read_surveys(raw).frame
    assert f["response"].tolist() == [7, 6, 5, 3, 4, 1]
    assert f["scale_max"].tolist() == [7, 7, 7, 7, 5, 5]


def test_scale_mapping_for_other_languages(invariant) -> None:
    fr = {"Pas du tout d'accord": 1, "Plutôt pas d'accord": 2, "Plutôt d'accord": 3,
          "Tout à fait d'accord": 4}
    raw = pd.DataFrame({"program": "P", "item": "utile",
                        "response": ["tout à fait d'accord", "Plutôt pas d'accord", "Plutôt d'accord"]})
    t = read_surveys(raw, scale=fr)
    invariant(t)
    assert t.frame["response"].tolist() == [4, 2, 3]
    assert (t.frame["scale_min"].iloc[0], t.frame["scale_max"].iloc[0]) == (1, 4)


def test_value_outside_declared_scale_is_rejected_per_row(invariant) -> None:
    raw = pd.DataFrame({"program": "P", "item": "q", "response": [3, 55, 5], "scale_min": 1, "scale_max": 5})
    t = read_surveys(raw)
    invariant(t)
    assert t.frame["response"].tolist() == [3, 5]
    assert t.rejected["source_row"].tolist() == [2] and "outside the scale" in t.rejected["reason"].iloc[0]


def test_a_missing_required_column_lists_each_accepted_header_once(tmp_path):
    path = tmp_path / "survey.csv"
    path.write_text("item,response\nuseful,5\n", encoding="utf-8")
    with pytest.raises(il.DataError) as info:
        read_surveys(path)
    reason = next(f.reason for f in info.value.failures if f.column == "program")
    accepted = reason.split("headers accepted include ", 1)[1].split(", ")
    assert accepted[:3] == ["'program'", "'programme'", "'program name'"]
    assert len(accepted) == len(set(accepted))
