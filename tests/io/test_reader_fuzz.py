"""Any bytes into a file reader give a Table whose ledger adds up, or an ImpactlabError: never another
exception (issue 15, build point 10). The default suite runs a few examples per reader, the slow one many."""

from __future__ import annotations

import json

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import impactlab as il
from impactlab.errors import ImpactlabError

READERS = {
    "completions": (il.read_completions, ["User ID", "Training Title", "Transcript Status",
                                          "Transcript Completed Date", "Training Hours", "Score"]),
    "assessments": (il.read_assessments, ["employee_id", "program", "kind", "score", "max_score",
                                          "taken_at"]),
    "surveys": (il.read_surveys, ["employee_id", "program", "item", "response", "scale_min", "scale_max"]),
    "observations": (il.read_observations, ["employee_id", "program", "behavior", "rating", "observed_at"]),
    "roster": (il.read_roster, ["employee_id", "team", "hire_date", "termination_date"]),
    "kpis": (il.read_kpis, ["employee_id", "month", "revenue", "calls"]),
    "costs": (il.read_costs, ["program", "category", "amount", "low", "high"]),
}

# Cells that exercise the readers' rules: numbers in both decimal conventions, non-finite values, dates,
# statuses, stray bytes, quotes, separators and JSON-looking text.
TOKENS = [b"", b"E1", b"E2", b"Safety", b"Completed", b"In Progress", b"pre", b"post", b"delivery",
          b"2024-03-01", b"2024-13-45", b"03/04/2024", b"2024-01", b"12", b"1,234.56", b"1.234,56", b"8,50",
          b"1e309", b"-inf", b"NaN", b"n/a", b"(300)", b"$1,200", b"Jos\xe9", "José".encode(), b"\xff\xfe",
          b'"', b'"a,b"', b",", b";", b"\t", b"\r", b"\x00", b"[" * 50, b"[" * 3000, b'{"a": ', b"=1+1",
          b"  "]
hostile = st.one_of(st.sampled_from(TOKENS), st.binary(max_size=6))
NUMBERS = ["2", "12.5", "1,234.56", "8,50", "1.250", "0"]
DATES = ["2024-03-01", "2023-12-31 10:00", "2024-02-29T08:00:00Z"]
# Plausible values per header, so that most rows are kept and the hostile cells meet real rules.
POOLS = {
    "User ID": ["E1", "E2", "E3"], "employee_id": ["E1", "E2", "E3"],
    "Training Title": ["Safety", "Formación"],
    "program": ["Safety", "Formación"], "Transcript Status": ["Completed", "In Progress", "Exempt"],
    "Transcript Completed Date": DATES, "taken_at": DATES, "observed_at": DATES, "hire_date": DATES,
    "termination_date": ["", "2025-01-01"], "kind": ["pre", "post"], "item": ["Q1", "Q2"],
    "response": ["1", "4", "5"], "scale_min": ["1"], "scale_max": ["5"], "behavior": ["listens"],
    "rating": ["2", "3"], "team": ["North", "Süd"], "month": ["2024-01", "2024-02"],
    "category": ["delivery", "design"], "max_score": ["100"],
}


def _cell(header: str) -> st.SearchStrategy[bytes]:
    plausible = st.sampled_from([v.encode() for v in POOLS.get(header, NUMBERS)])
    return st.one_of(plausible, plausible, plausible, hostile)


def _line(header: list[str]) -> st.SearchStrategy[bytes]:
    cells = st.tuples(*(_cell(h) for h in header)).map(list)
    ragged = st.lists(hostile, max_size=len(header) + 2)
    return st.one_of(cells, cells, ragged).map(lambda c: b",".join(c))


def _csv(header: list[str]) -> st.SearchStrategy[bytes]:
    line = ",".join(header).encode()
    head = st.sampled_from([line, line, line, b"Report title\n" + line, b""])
    return st.builds(lambda h, rows, end: h + b"\n" + b"\n".join(rows) + end, head,
                     st.lists(_line(header), max_size=8), st.sampled_from([b"", b"\n", b"\r\n"]))


def _jsonl(header: list[str]) -> st.SearchStrategy[bytes]:
    def value(h: str) -> st.SearchStrategy[object]:
        return st.one_of(st.sampled_from(POOLS.get(h, NUMBERS)), st.sampled_from(POOLS.get(h, NUMBERS)),
                         st.sampled_from([t.decode("latin-1") for t in TOKENS]), st.integers(), st.floats(),
                         st.none(), st.booleans())

    record = st.one_of(st.fixed_dictionaries({h: value(h) for h in header}),
                       st.fixed_dictionaries({h: value(h) for h in header}),
                       st.fixed_dictionaries({}, optional={h: value(h) for h in header}))
    good = record.map(lambda r: json.dumps(r, ensure_ascii=False).encode())
    return st.lists(st.one_of(good, good, _line(header), st.binary(max_size=20)), max_size=8).map(b"\n".join)


def _check(reader, path) -> None:
    try:
        t = reader(path)
    except ImpactlabError:
        return
    assert t.rows_read == len(t.frame) + t.n_rejected
    assert t.rejected["reason"].map(lambda r: isinstance(r, str) and len(r) > 0).all()


def _fuzz(kind: str, suffix: str, data: bytes, tmp_path_factory) -> None:
    reader, header = READERS[kind]
    p = tmp_path_factory.mktemp("fuzz") / f"input{suffix}"
    p.write_bytes(data)
    _check(reader, p)


FAST = settings(max_examples=8, deadline=None, suppress_health_check=list(HealthCheck), database=None)
SLOW = settings(max_examples=200, deadline=None, suppress_health_check=list(HealthCheck), database=None)


def _csv_or_bytes(kind: str) -> st.SearchStrategy[bytes]:
    return st.one_of(_csv(READERS[kind][1]), st.binary(max_size=200))


def _jsonl_or_bytes(kind: str) -> st.SearchStrategy[bytes]:
    return st.one_of(_jsonl(READERS[kind][1]), st.binary(max_size=200))


@pytest.mark.parametrize("kind", sorted(READERS))
def test_any_csv_bytes_give_a_table_or_an_impactlab_error(kind, tmp_path_factory):
    FAST(given(data=_csv_or_bytes(kind))(lambda data: _fuzz(kind, ".csv", data, tmp_path_factory)))()


@pytest.mark.parametrize("kind", sorted(READERS))
def test_any_jsonl_bytes_give_a_table_or_an_impactlab_error(kind, tmp_path_factory):
    FAST(given(data=_jsonl_or_bytes(kind))(lambda data: _fuzz(kind, ".jsonl", data, tmp_path_factory)))()


def _xapi(data: bytes, suffix: str, tmp_path_factory) -> None:
    p = tmp_path_factory.mktemp("fuzz") / f"statements{suffix}"
    p.write_bytes(data)
    try:
        x = il.read_xapi(p)
    except ImpactlabError:
        return
    c = x.counts
    assert c["read"] == sum(v for k, v in c.items() if k != "read")
    for t in (x.completions, x.assessments):
        assert t.rows_read == len(t.frame) + t.n_rejected


STATEMENT_KEYS = ["id", "actor", "verb", "object", "result", "timestamp", "context"]


def test_any_xapi_bytes_give_statements_or_an_impactlab_error(tmp_path_factory):
    FAST(given(data=_jsonl_or_bytes("completions") | _jsonl(STATEMENT_KEYS))(
        lambda data: _xapi(data, ".jsonl", tmp_path_factory)))()


@pytest.mark.slow
@pytest.mark.parametrize("kind", sorted(READERS))
def test_many_bytes_give_a_table_or_an_impactlab_error(kind, tmp_path_factory):
    SLOW(given(data=_csv_or_bytes(kind))(lambda data: _fuzz(kind, ".csv", data, tmp_path_factory)))()
    SLOW(given(data=_jsonl_or_bytes(kind))(lambda data: _fuzz(kind, ".jsonl", data, tmp_path_factory)))()
    SLOW(given(data=_jsonl(STATEMENT_KEYS))(lambda data: _xapi(data, ".jsonl", tmp_path_factory)))()
