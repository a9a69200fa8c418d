"""A bad row fails alone, never its file (issue 15, build point 6): stray bytes, mixed decimal conventions,
duplicate headers, uncached Excel formulas, non-finite numbers, JSON nested too deep."""

from __future__ import annotations

import json
import zipfile

import numpy as np
import pandas as pd
import pytest

from impactlab.errors import DataError
from impactlab.io import read_completions, read_costs, read_kpis, read_xapi

HEAD = "User ID,Training Title,Transcript Status,Transcript Completed Date,Training Hours\n"


def _rows(t) -> dict[int, str]:
    return dict(zip(t.rejected["source_row"], t.rejected["reason"], strict=True))


# ------------------------------------------------------------------------------------------------ encoding
def _utf8_with_one_latin1_byte() -> bytes:
    body = "".join(f"E{i},Formación José,Completed,2024-03-0{1 + i % 9},2\n" for i in range(20))
    return HEAD.encode() + body.encode("utf-8") + b"E99,Formaci\xf3n Jos\xe9,Completed,2024-03-01,2\n"


def test_utf8_file_with_a_stray_latin1_byte_rejects_that_row_only(tmp_path, invariant):
    p = tmp_path / "mixed.csv"
    p.write_bytes(_utf8_with_one_latin1_byte())
    t = read_completions(p)
    invariant(t)
    assert t.rows_read == 21 and len(t.frame) == 20
    assert set(t.frame["program"]) == {"Formación José"}  # not "FormaciÃ³n JosÃ©"
    (row, reason), = _rows(t).items()
    assert row == 22
    assert r"b'Formaci\xf3n Jos\xe9'" in reason and "line 22" in reason and "UTF-8" in reason
    assert set(t.rejected["check"]) == {"encoding"}
    assert any("utf-8" in n and "1 line" in n for n in t.notes)
    assert t.rejected["Training Title"][0] == "Formaci\ufffdn Jos\ufffd"  # shown, and writable as UTF-8
    t.rejected.to_csv(tmp_path / "rejected.csv", encoding="utf-8")


def test_whole_file_legacy_encodings_still_read(tmp_path, invariant):
    text = HEAD + "".join(f"E{i},Formación José,Completed,2024-03-01,2\n" for i in range(5))
    for enc, note in (("cp1252", "encoding cp1252"), ("latin-1", "encoding cp1252")):
        p = tmp_path / f"{enc}.csv"
        p.write_bytes(text.encode(enc))
        t = read_completions(p)
        invariant(t)
        assert len(t.frame) == 5 and set(t.frame["program"]) == {"Formación José"}
        assert note in t.notes
    p = tmp_path / "utf16.csv"
    p.write_bytes(b"\xff\xfe" + text.encode("utf-16-le"))
    t = read_completions(p)
    assert len(t.frame) == 5 and set(t.frame["program"]) == {"Formación José"}


def test_cp1252_file_with_a_utf8_line_rejects_that_line(tmp_path, invariant):
    text = HEAD + "".join(f"E{i},Formación,Completed,2024-03-01,2\n" for i in range(5))
    p = tmp_path / "legacy.csv"
    p.write_bytes(text.encode("cp1252") + "E9,Formación,Completed,2024-03-01,2\n".encode())
    t = read_completions(p)
    invariant(t)
    assert len(t.frame) == 5 and set(t.frame["program"]) == {"Formación"}
    (row, reason), = _rows(t).items()
    assert row == 7 and r"b'Formaci\xc3\xb3n'" in reason and "cp1252" in reason


def test_jsonl_and_xapi_with_a_stray_byte(tmp_path, invariant):
    good = [{"User ID": f"E{i}", "Course": "Formación", "Status": "Completed", "Completed": "2024-03-01"}
            for i in range(4)]
    data = b"".join(json.dumps(r, ensure_ascii=False).encode() + b"\n" for r in good)
    data += b'{"User ID": "E9", "Course": "Formaci\xf3n", "Status": "Completed", "Completed": "2024-03-01"}\n'
    p = tmp_path / "c.jsonl"
    p.write_bytes(data)
    t = read_completions(p)
    invariant(t)
    assert len(t.frame) == 4 and set(t.frame["program"]) == {"Formación"}
    assert list(t.rejected["source_row"]) == [5] and r"b'Formaci\xf3n'" in t.rejected["reason"][0]

    def stmt(i: int, name: str) -> dict:
        return {"id": f"00000000-0000-4000-8000-{i:012d}", "actor": {"mbox": f"mailto:p{i}@example.com"},
                "verb": {"id": "http://adlnet.gov/expapi/verbs/completed"},
                "object": {"id": "https://example.com/act/1", "definition": {"name": {"en-US": name}}},
                "timestamp": "2024-03-01T10:00:00Z"}

    lines = [json.dumps(stmt(i, "Formación"), ensure_ascii=False).encode() for i in range(3)]
    lines.append(json.dumps(stmt(9, "Formaci@n"), ensure_ascii=False).encode().replace(b"@", b"\xf3"))
    px = tmp_path / "s.jsonl"
    px.write_bytes(b"\n".join(lines) + b"\n")
    x = read_xapi(px)
    assert set(x.completions.frame["program"]) == {"Formación"} and len(x.completions.frame) == 3
    assert list(x.malformed["source_row"]) == [4] and r"\xf3" in x.malformed["reason"][0]


def test_json_document_with_a_stray_byte_rejects_that_record(tmp_path, invariant):
    recs = [{"User ID": f"E{i}", "Course": "Formación", "Status": "Enrolled"} for i in range(3)]
    data = json.dumps(recs, ensure_ascii=False).encode()
    data = data[: data.rindex(b"Formaci")] + b"Formaci\xf3n" + data[data.rindex(b"Formaci") + 10:]
    p = tmp_path / "c.json"
    p.write_bytes(data)
    t = read_completions(p)
    invariant(t)
    assert t.frame["employee_id"].tolist() == ["E0", "E1"] and set(t.frame["program"]) == {"Formación"}
    assert list(t.rejected["source_row"]) == [3] and r"b'Formaci\xf3n'" in t.rejected["reason"][0]


# ------------------------------------------------------------------------------------------ decimal marks
def test_mixed_decimal_conventions_reject_the_contradicting_rows(invariant):
    raw = pd.DataFrame({"Program": ["P"] * 6, "Category": ["delivery"] * 6,
                        "Amount": ["1,234.56", "2,000.50", "12.5", "1,250", "8,50", "3.000,25"]})
    t = read_costs(raw)
    invariant(t)
    assert t.frame["amount"].tolist() == [1234.56, 2000.5, 12.5, 1250.0]
    assert sorted(_rows(t)) == [5, 6]
    assert _rows(t)[5].startswith(
        "'8,50' is written with a decimal comma, but column 'Amount' writes decimals with a decimal point "
        "(3 value(s) such as")
    assert "against 2 like this one" in _rows(t)[5] and "re-export" in _rows(t)[5]


def test_decimal_comma_column_by_majority(invariant):
    raw = pd.DataFrame({"Program": ["P"] * 4, "Category": ["delivery"] * 4,
                        "Amount": ["1.234,56", "8,50", "1.250", "1,234.56"]})
    t = read_costs(raw)
    invariant(t)
    assert t.frame["amount"].tolist() == [1234.56, 8.5, 1250.0]
    assert list(_rows(t)) == [4]
    assert "'1,234.56' is written with a decimal point, but column 'Amount' writes decimals with a decimal " \
        "comma (2 value(s) such as" in _rows(t)[4]


def test_ambiguous_values_alone_keep_the_decimal_point(invariant):
    raw = pd.DataFrame({"Program": ["P"] * 3, "Category": ["delivery"] * 3,
                        "Amount": ["1,234", "1.250", "7"]})
    t = read_costs(raw)
    invariant(t)
    assert t.frame["amount"].tolist() == [1234.0, 1.25, 7.0] and not len(t.rejected)


# ---------------------------------------------------------------------------------------- duplicate headers
@pytest.mark.parametrize("second", ["Training Hours", "training hours "])
def test_duplicate_headers_are_refused(tmp_path, second):
    p = tmp_path / "dup.csv"
    p.write_text(f"User ID,Training Title,Transcript Status,Training Hours,{second}\nE1,A,Enrolled,2,3\n")
    with pytest.raises(DataError, match=r"columns 4 \(D\) and 5 \(E\).*'hours'") as exc:
        read_completions(p)
    assert "columns=" in str(exc.value) and "rename" in str(exc.value)


def test_duplicate_headers_resolved_by_columns_map(tmp_path):
    p = tmp_path / "dup.csv"
    p.write_text("User ID,Training Title,Transcript Status,Training Hours,Training Hours\n"
                 "E1,A,Enrolled,2,3\n")
    t = read_completions(p, columns={"Training Hours (2)": "hours"})
    assert t.frame["hours"].tolist() == [3.0]


def test_duplicate_headers_after_normalisation_resolved_by_columns_map(tmp_path):
    p = tmp_path / "dup.csv"
    p.write_text("User ID,Training Title,Transcript Status,Training Hours,training hours \n"
                 "E1,A,Enrolled,2,3\n")
    t = read_completions(p, columns={"training hours": "hours"})
    assert t.frame["hours"].tolist() == [3.0] and t.frame["training_hours"].tolist() == ["2"]


def test_duplicate_headers_in_frames_and_kpis_are_refused(tmp_path):
    header = ["User ID", "Training Title", "Transcript Status", "Training Hours", "Training Hours"]
    raw = pd.DataFrame([["E1", "A", "Enrolled", 2, 3]], columns=header)
    with pytest.raises(DataError, match=r"columns 4 and 5 have headers that are identical"):
        read_completions(raw)
    p = tmp_path / "k.csv"
    p.write_text("employee_id,month,Revenue,revenue\nE1,2024-01,1,2\n")
    with pytest.raises(DataError, match=r"columns 3 \(C\) and 4 \(D\).*'revenue'"):
        read_kpis(p)
    t = read_kpis(p, metrics=["revenue"], columns={"revenue": "revenue"})
    assert t.frame["revenue"].tolist() == [2.0]


def test_duplicate_extra_headers_are_kept_apart(tmp_path):
    p = tmp_path / "dup.csv"
    p.write_text("User ID,Training Title,Transcript Status,Note,Note\nE1,A,Enrolled,x,y\n")
    t = read_completions(p)
    assert t.frame[["note", "note_2"]].values.tolist() == [["x", "y"]]


# ------------------------------------------------------------------------------------------ Excel formulas
def test_uncached_formulas_are_rejected(tmp_path, invariant):
    openpyxl = pytest.importorskip("openpyxl")
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.append(["User ID", "Training Title", "Transcript Status", "Transcript Completed Date",
               "Training Hours"])
    ws.append(["E1", "Safety", "Completed", "2024-03-01", 2])
    ws.append(["E2", "Safety", "Completed", "2024-03-01", "=E2*2"])
    ws.append(["=\"E\"&3", "Safety", "Completed", "2024-03-01", 1])
    ws.append(["E4", "Safety", "In Progress", None, None])
    p = tmp_path / "f.xlsx"
    wb.save(p)
    t = read_completions(p)
    invariant(t)
    assert t.frame["employee_id"].tolist() == ["E1", "E4"]
    r = _rows(t)
    assert sorted(r) == [3, 4]
    assert "=E2*2" in r[3] and "formula without a cached value" in r[3] and "open and save" in r[3]
    assert set(t.rejected["check"]) == {"formula"}


def test_cached_formulas_are_read_and_extra_columns_noted(tmp_path, invariant):
    openpyxl = pytest.importorskip("openpyxl")
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.append(["User ID", "Training Title", "Transcript Status", "Training Hours", "Check"])
    ws.append(["E1", "Safety", "Enrolled", "=1+1", "=D2>0"])
    p = tmp_path / "f.xlsx"
    wb.save(p)
    with zipfile.ZipFile(p) as z:  # give the hours formula the cached value Excel would have saved
        parts = {n: z.read(n) for n in z.namelist()}
    sheet = "xl/worksheets/sheet1.xml"
    parts[sheet] = parts[sheet].replace(b"<f>1+1</f><v></v>", b"<f>1+1</f><v>2</v>")
    with zipfile.ZipFile(p, "w") as z:
        for n, b in parts.items():
            z.writestr(n, b)
    t = read_completions(p)
    invariant(t)
    assert t.frame["hours"].tolist() == [2.0] and t.frame["check"].isna().all() and not len(t.rejected)
    assert any("'Check'" in n and "formulas without a cached value" in n for n in t.notes)


# -------------------------------------------------------------------------------------- non-finite numbers
@pytest.mark.parametrize("bad", ["1e309", "inf", "-inf", "-1e400", "Infinity"])
def test_non_finite_numbers_are_rejected(tmp_path, invariant, bad):
    p = tmp_path / "k.csv"
    p.write_text(f"employee_id,month,revenue\nE1,2024-01,10\nE2,2024-01,{bad}\n")
    t = read_kpis(p)
    invariant(t)
    assert t.frame["revenue"].tolist() == [10.0]
    assert list(_rows(t)) == [3] and "finite" in _rows(t)[3]


def test_nan_text_in_a_number_column_is_rejected_blank_is_missing(tmp_path, invariant):
    p = tmp_path / "k.csv"
    p.write_text("employee_id,month,revenue,calls\nE1,2024-01,10,NaN\nE2,2024-01,NaN,3\nE3,2024-01,,4\n")
    t = read_kpis(p, metrics=["revenue", "calls"])
    invariant(t)
    assert t.frame["employee_id"].tolist() == ["E3"] and np.isnan(t.frame["revenue"].iloc[0])
    r = _rows(t)
    assert sorted(r) == [2, 3] and all("'NaN' is not a finite number" in v for v in r.values())
    p = tmp_path / "c.csv"
    p.write_text(HEAD + "E1,A,Completed,2024-03-01,nan\nE2,A,Completed,2024-03-01,n/a\n")
    t = read_completions(p)
    assert t.frame["employee_id"].tolist() == ["E2"] and list(_rows(t)) == [2]


def test_non_finite_numbers_in_frames_are_rejected(invariant):
    raw = pd.DataFrame({"Program": ["P"] * 3, "Category": ["delivery"] * 3, "Amount": [1.0, np.inf, -np.inf]})
    t = read_costs(raw)
    invariant(t)
    assert t.frame["amount"].tolist() == [1.0] and sorted(_rows(t)) == [2, 3]


# ---------------------------------------------------------------------------------------------- deep JSON
def test_deeply_nested_json_line_is_rejected_alone(tmp_path, invariant):
    good = json.dumps({"User ID": "E1", "Course": "A", "Status": "Enrolled"})
    deep = '{"User ID": "E2", "x": ' + "[" * 100_000 + "]" * 100_000 + "}"
    p = tmp_path / "d.jsonl"
    p.write_text(good + "\n" + deep + "\n" + good.replace("E1", "E3") + "\n")
    t = read_completions(p)
    invariant(t)
    assert t.frame["employee_id"].tolist() == ["E1", "E3"]
    assert list(_rows(t)) == [2] and "nested" in _rows(t)[2]
    px = tmp_path / "d_xapi.jsonl"
    px.write_text(deep + "\n")
    x = read_xapi(px)
    assert list(x.malformed["source_row"]) == [1] and "nested" in x.malformed["reason"][0]


def test_deeply_nested_json_document_is_refused_clearly(tmp_path):
    p = tmp_path / "d.json"
    p.write_text("[" * 100_000 + "]" * 100_000)
    with pytest.raises(DataError, match="nested"):
        read_completions(p)
