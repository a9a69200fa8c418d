"""A crosswalk (ids=) is looked up by the id rule build_panel joins tables with: exact, else ignoring the
leading zeros of a digits-only id, else ignoring case, each while no table tells such ids apart."""

from __future__ import annotations

import pandas as pd

import impactlab as il


def test_a_crosswalk_is_looked_up_by_the_same_rule():
    # the crosswalk keeps the LMS's zero-padded ids; the export went through Excel
    raw = pd.DataFrame({"User ID": [123, "U7", "456"], "Course": "Leadership 101", "Status": "Completed",
                        "Completion Date": "2024-03-15"})
    t = il.read_completions(raw, ids={"00123": "E1", "u7": "E7"})
    assert t.frame["employee_id"].tolist() == ["E1", "E7"]
    assert t.frame["source_employee_id"].tolist() == ["123", "U7"]  # the id as written stays beside it
    assert t.rejected["value"].tolist() == ["456"] and t.rejected["check"].tolist() == ["identity"]
    # a source holding "0123" and "123" tells them apart: neither is taken for the crosswalk's "00123"
    both = raw.assign(**{"User ID": ["0123", "123", "U7"]})
    t = il.read_completions(both, ids={"00123": "E1", "u7": "E7"})
    assert t.frame["employee_id"].tolist() == ["E7"] and t.n_rejected == 2
