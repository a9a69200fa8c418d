"""A grade column (SuccessFactors 'Grade', read as the completion's score) holding Pass/Fail or letters keeps
its row: the score is left empty, the grade kept as written in ``grade``, a note says so."""

from __future__ import annotations

import math

import pandas as pd
import pytest

import impactlab as il
from impactlab.schemas.vocab import is_grade_word


def _history(grades: list) -> pd.DataFrame:
    n = len(grades)
    return pd.DataFrame({"StudentID": [f"E{i}" for i in range(1, n + 1)], "ComponentID": ["SAFE-1"] * n,
                         "CompletionStatusID": ["COMPLETE"] * n, "ProvidesCredit": ["Y"] * n,
                         "CompletionDate": ["2024-03-01"] * n, "Grade": grades})


def test_pass_fail_and_letters_keep_the_row_with_the_grade_and_no_score():
    t = il.read_completions(_history(["Pass", "Fail", "B+", "92", "incomplete"]), preset="successfactors")
    assert t.n_rejected == 0 and t.n_kept == 5
    f = t.frame
    assert f["grade"].tolist()[:3] == ["Pass", "Fail", "B+"] and f["grade"].tolist()[4] == "incomplete"
    assert pd.isna(f["grade"].iloc[3]) and f["score"].iloc[3] == 92.0
    assert [math.isnan(x) for x in f["score"]] == [True, True, True, False, True]
    # the credit flag decides the status: a 'Fail' grade on a credited row stays completed
    assert f["status"].tolist() == ["completed"] * 5
    note = next(n for n in t.notes if "grade" in n)
    assert note == ("column 'Grade': 4 row(s) (rows 1, 2, 3, 5) hold a grade, not a number ('Pass' x1, "
                    "'Fail' x1, 'B+' x1, 'incomplete' x1): kept, with score left empty and the grade in "
                    "column 'grade'")


def test_another_word_is_rejected_naming_the_way_to_read_the_column_as_grades():
    t = il.read_completions(_history(["Pass", "Competent"]), preset="successfactors")
    assert t.rejected["source_row"].tolist() == [2]
    reason = t.rejected["reason"].iloc[0]
    assert reason.startswith("'Competent' is not a number")
    assert "read other grade words as text with columns={'Grade': 'grade'}" in reason
    # ... and that option does what the reason says: every grade kept as text, no score
    t2 = il.read_completions(_history(["Pass", "Competent"]), preset="successfactors",
                             columns={"Grade": "grade"})
    assert t2.n_rejected == 0 and t2.frame["grade"].tolist() == ["Pass", "Competent"]
    assert t2.frame["score"].isna().all()


def test_a_numeric_score_column_is_untouched():
    t = il.read_completions(_history([80, 92.5]), preset="successfactors")
    assert t.frame["score"].tolist() == [80.0, 92.5] and t.frame["grade"].isna().all()
    assert not any("grade" in n for n in t.notes)


@pytest.mark.parametrize(("text", "grade"), [("Pass", True), (" passed ", True), ("A-", True), ("f", True),
                                             ("No Credit", True), ("G", False), ("8O", False), ("", False),
                                             ("Competent", False)])
def test_grade_words(text, grade):
    assert is_grade_word(text) is grade
