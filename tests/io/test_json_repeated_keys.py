"""A JSON object that writes a key twice: with different values the record (row, line, statement) is
rejected naming the key and both values; with the same value it is read once and counted in the notes; a
document whose records sit under a key written twice is refused."""

from __future__ import annotations

import json

import pytest

import impactlab as il
from impactlab.errors import DataError
from impactlab.io.decoding import loads, repeated_keys

ROW = '"employee_id": "{e}", "program": "Safety", "status": "Completed", "completed_at": "2024-03-0{d}"'


def _write(tmp_path, name: str, text: str):
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def test_a_record_with_two_scores_is_rejected_naming_the_key_and_both_values(tmp_path):
    text = ("[{" + ROW.format(e="E1", d=1) + ', "score": 85, "score": 90},\n'
            " {" + ROW.format(e="E2", d=2) + ', "status": "Completed", "score": 70},\n'
            " {" + ROW.format(e="E3", d=3) + ', "score": 60}]')
    t = il.read_completions(_write(tmp_path, "export.json", text))
    assert t.frame["employee_id"].tolist() == ["E2", "E3"] and t.frame["score"].tolist() == [70.0, 60.0]
    assert t.rejected["source_row"].tolist() == [1] and t.rejected["check"].tolist() == ["repeated_key"]
    assert t.rejected["reason"].iloc[0] == (
        "record 1: the key 'score' is written twice with different values (85, then 90): which one is meant "
        "cannot be known (most JSON readers silently keep the last); export each key once")
    assert "1 key(s) written twice in one object with the same value, read once" in t.notes
    assert t.rows_read == t.n_kept + t.n_rejected == 3


def test_json_lines_reject_the_line_and_tell_true_from_one(tmp_path):
    text = ("{" + ROW.format(e="E1", d=1) + ', "result": {"success": 1, "success": true}}\n'
            "{" + ROW.format(e="E2", d=2) + "}\n")
    t = il.read_completions(_write(tmp_path, "export.jsonl", text))
    assert t.frame["employee_id"].tolist() == ["E2"]
    assert t.rejected["reason"].iloc[0].startswith(
        "line 1: the key 'result.success' is written twice with different values (1, then true)")


def test_records_under_a_key_written_twice_are_refused(tmp_path):
    text = '{"value": [{' + ROW.format(e="E1", d=1) + '}], "value": []}'
    with pytest.raises(DataError, match="writes the key 'value' twice, with different values \\(holding 1 "
                                        "and 0 records\\)"):
        il.read_completions(_write(tmp_path, "odata.json", text))


def test_an_xapi_statement_with_two_verbs_is_malformed(tmp_path):
    def stmt(i: int, verb: str) -> str:
        one = {"id": f"6d0f2c5e-0000-4000-8000-00000000000{i}",
               "actor": {"account": {"homePage": "https://lms.example.com", "name": f"lms{i}"}},
               "verb": {"id": "http://adlnet.gov/expapi/verbs/completed"},
               "object": {"id": "https://lms.example.com/course/safety"}, "result": {"completion": True},
               "timestamp": "2024-03-01T09:00:00Z"}
        return json.dumps(one).replace('"verb": {', verb + '"verb": {', 1)

    second = '"verb": {"id": "http://adlnet.gov/expapi/verbs/failed"}, '
    x = il.read_xapi(_write(tmp_path, "statements.json", "[" + stmt(1, second) + ", " + stmt(2, "") + "]"))
    assert x.malformed["source_row"].tolist() == [1]
    assert "the key 'verb' is written twice with different values" in x.malformed["reason"].iloc[0]
    assert x.completions.frame["employee_id"].tolist() == ["lms2"]


def test_parsed_values_are_those_of_json_loads_when_no_key_repeats():
    text = json.dumps({"a": [1, {"b": 2.5, "c": None}], "d": "x"})
    found: list = []
    assert loads(text, found) == json.loads(text) and found == []
    assert repeated_keys(loads(text)) == (None, 0)
