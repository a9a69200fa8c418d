"""Loading a source (CSV/TSV, JSON, JSON Lines, Parquet, xlsx file or a DataFrame) into a raw frame of text
cells with the ``source_row`` of each record: encoding, delimiter and header line detected, ragged records
rejected, never realigned (``docs/explanation.md``, "Reading exports", says what ``source_row`` counts).
"""

from __future__ import annotations

import contextlib
import csv
import dataclasses
import io
import json
import math
import os
import re
import zipfile
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from impactlab.errors import DataError, Failure, check_option
from impactlab.io.decoding import (
    TooDeep,
    decode,
    encoding_reason,
    loads,
    printable,
    repeated_keys,
    same_json,
    stray_bytes,
    stray_in,
)

__all__ = ["RawSource", "decode", "json_lines", "load_source", "parse_json", "sniff_delimiter", "undecodable"]

DELIMITERS = (",", ";", "\t", "|")
CSV_SUFFIXES = (".csv", ".tsv", ".txt")
JSON_SUFFIXES = (".json",)
JSONL_SUFFIXES = (".jsonl", ".ndjson")
#: Largest text file (CSV/TSV/JSON) the in-memory readers take, in bytes. Reading a CSV transcript costs
#: about 12 times the file's size in memory at its peak (more when its values are mostly distinct), JSON
#: Lines about 17 times; the limit keeps the worst of these near 2 GB. Above it, read through DuckDB
#: (:mod:`impactlab.io.large`), or raise the limit: ``impactlab.io.sources.MAX_FILE_BYTES = 500_000_000``.
MAX_FILE_BYTES = 100_000_000
#: Records searched for the header row.
HEADER_SEARCH = 30
#: Keys under which a JSON object commonly holds its records (OData, LRS, REST exports).
JSON_RECORD_KEYS = ("value", "results", "data", "records", "items", "rows", "statements", "d")
PARQUET_SUFFIXES = (".parquet", ".pq")
EXCEL_SUFFIXES = (".xlsx", ".xlsm")


#: (source_row, raw values, reason, check) of a record rejected while loading.
Malformed = tuple[int, dict[str, str], str, str]


@dataclass(frozen=True)
class RawSource:
    """A source as read, before any column matching.

    Attributes
    ----------
    frame : DataFrame
        Raw values (strings for text files; typed values for Parquet, xlsx and frames), unique column names.
    rows : ndarray of int
        ``source_row`` of each row of ``frame``.
    source : str
        The file path, or ``"<DataFrame>"``.
    malformed : list of (source_row, values, reason, check)
        Records that could not be read (not aligned with the header, bytes not of the file's encoding, JSON
        that does not parse); they count as read and are rejected with ``check``.
    notes : tuple of str
        How the source was read (encoding, delimiter), for ``Table.summary()``.
    headers : tuple of str
        The header of each column of ``frame`` as written (stripped), before repeated names were told apart
        (``Score``, ``Score (2)``); empty when they are the column names.
    formulas : tuple of (position, column, formula)
        Cells of an xlsx sheet holding a formula without a cached value (read as empty): the row's position
        in ``frame``, its column and the formula.
    """

    frame: pd.DataFrame
    rows: np.ndarray
    source: str
    malformed: list[Malformed] = field(default_factory=list)
    notes: tuple[str, ...] = ()
    headers: tuple[str, ...] = ()
    formulas: tuple[tuple[int, str, str], ...] = ()

    @property
    def rows_read(self) -> int:
        """Data rows read, including malformed ones."""
        return len(self.frame) + len(self.malformed)


def _header_names(header: list[Any]) -> tuple[str, ...]:
    """Headers as written, stripped (a byte-order mark and bytes not of the file's encoding dropped)."""
    return tuple("" if h is None else printable(str(h)).replace("\ufeff", "").strip() for h in header)


def _unique_headers(header: list[Any]) -> list[str]:
    out: list[str] = []
    for i, name in enumerate(_header_names(header)):
        name = name or f"column_{i + 1}"
        base, k = name, 2
        while name in out:
            name = f"{base} ({k})"
            k += 1
        out.append(name)
    return out


def sniff_delimiter(text: str) -> str:
    """Pick the delimiter of a CSV text (docs/explanation.md, "Reading exports")."""
    lines = [ln for ln in text.splitlines()[:40] if ln.strip()]
    if not lines:
        return ","
    best, best_score = ",", (0, 0)
    for d in DELIMITERS:
        widths = [len(r) for r in csv.reader(lines, delimiter=d)]
        counts: dict[int, int] = {}
        for w in widths:
            if w > 1:
                counts[w] = counts.get(w, 0) + 1
        if not counts:
            continue
        width, freq = max(counts.items(), key=lambda kv: (kv[1], kv[0]))
        score = (freq, width)
        if score > best_score:
            best, best_score = d, score
    return best


def _is_texty(v: Any) -> bool:
    if v is None or isinstance(v, (bool, int, float)):
        return False
    t = str(v).strip()
    if not t:
        return False
    try:
        float(t.replace(",", "."))
    except ValueError:
        return True
    return False


def find_header(records: Sequence[tuple[int, list[Any]]]) -> int:
    """Position of the header among ``records`` (the first that fills most of the widest record's cells with
    text that is not a number); 0 when nothing better is found."""
    head = records[:HEADER_SEARCH]
    filled = [sum(1 for v in vals if v is not None and str(v).strip()) for _, vals in head]
    if not filled:
        return 0
    need = max(2, math.ceil(0.8 * max(filled)))
    for i, (_, vals) in enumerate(head):
        cells = [v for v in vals if v is not None and str(v).strip()]
        # line 1 is the header unless it is clearly a title: a header may leave some names blank
        enough = len(cells) >= (need if i else min(need, max(3, math.ceil(0.5 * max(filled)))))
        if enough and all(_is_texty(v) for v in cells):
            return i
    return 0


def _blank(values: list[Any]) -> bool:
    """A record whose every cell is empty or white space (None counts as empty)."""
    try:
        return not "".join(values).strip()  # all text: one join (the usual case)
    except TypeError:
        return all(v is None or (isinstance(v, str) and not v.strip()) for v in values)


def _from_records(records: list[tuple[int, list[Any]]], source: str, notes: tuple[str, ...]) -> RawSource:
    if not records:
        raise DataError(
            "the file is empty: no header row found",
            source=source,
            hint="check the file, or that the right sheet was read (sheet=)",
        )
    at = find_header(records)
    if at:
        notes = notes + (
            f"header found on line {records[at][0]}; {at} line(s) above it skipped (title or filter block)",
        )
        records = records[at:]
    header = _unique_headers(records[0][1])
    width = len(header)
    good: list[list[Any]] = []
    rows: list[int] = []
    malformed: list[Malformed] = []
    for line, values in records[1:]:
        if _blank(values):
            continue
        if any(isinstance(v, str) and "\x00" in v for v in values):
            padded = {h: "" if i >= len(values) or values[i] is None else printable(str(values[i]))
                      for i, h in enumerate(header)}
            malformed.append((line, padded, "the record holds a NUL byte (\\x00): the file is damaged or was "
                              "written in another encoding; re-export it", "malformed"))
            continue
        if len(values) != width:
            if len(values) > width and all(v is None or str(v).strip() == "" for v in values[width:]):
                values = values[:width]
            else:
                padded = {
                    h: ("" if i >= len(values) or values[i] is None else printable(str(values[i])))
                    for i, h in enumerate(header)
                }
                malformed.append(
                    (
                        line,
                        padded,
                        f"record has {len(values)} fields but the header has {width}; "
                        "check the delimiter and quoting of this line",
                        "malformed",
                    )
                )
                continue
        good.append(values)
        rows.append(line)
    frame = (
        pd.DataFrame(good, columns=header, dtype=object)
        if good
        else pd.DataFrame({h: pd.Series(dtype=object) for h in header})
    )
    return RawSource(frame, np.asarray(rows, dtype=np.int64), source, malformed, notes,
                     _header_names(records[0][1]))


def read_csv_source(path: Path, *, delimiter: str | None = None) -> RawSource:
    """Read a delimited text file (docs/explanation.md, "Reading exports")."""
    text, encoding = decode(path.read_bytes())
    with _fields_of_any_size():
        return _read_csv_text(path, text, encoding, delimiter)


@contextlib.contextmanager
def _fields_of_any_size() -> Iterator[None]:
    """Lift the csv module's 128 KiB field limit while a file is read (a long comment cell is data)."""
    before = csv.field_size_limit(2**31 - 1)
    try:
        yield
    finally:
        csv.field_size_limit(before)


def _read_csv_text(path: Path, text: str, encoding: str, delimiter: str | None) -> RawSource:
    if delimiter is None:
        delimiter = "\t" if path.suffix.lower() == ".tsv" else sniff_delimiter(text)
    name = {",": "comma", ";": "semicolon", "\t": "tab", "|": "pipe"}.get(delimiter, repr(delimiter))
    notes = (f"encoding {encoding}", f"{name}-delimited")
    escaped = encoding.endswith("rejected)")  # bytes not of the encoding: the careful reader keeps them
    fast = None if escaped else _read_plain_csv(text, delimiter, str(path), notes)
    if fast is not None:
        return fast
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)
    records: list[tuple[int, list[Any]]] = []
    start = 1
    seen: dict[str, str] = {}  # one string object per distinct value: exports repeat theirs
    for rec in reader:
        if records or any(v.strip() for v in rec):
            records.append((start, list(map(seen.setdefault, rec, rec))))
        start = reader.line_num + 1
    del seen
    raw = _from_records(records, str(path), notes)
    return _reject_stray(raw, encoding) if escaped else raw


def _reject_stray(raw: RawSource, encoding: str) -> RawSource:
    """Move the rows holding bytes that are not of the file's encoding (:func:`decode`) to ``malformed``,
    each with its first such value shown as bytes."""
    found: dict[int, tuple[str, bytes]] = {}
    for col in raw.frame.columns:
        values = raw.frame[col].to_numpy(dtype=object)
        for i, v in enumerate(values):
            if i not in found and isinstance(v, str) and (b := stray_bytes(v)) is not None:
                found[i] = (col, b)
    if not found:
        return raw
    malformed = [
        (line, {h: printable(v) for h, v in values.items()}, reason, check)
        for line, values, reason, check in raw.malformed
    ]
    cells = {h: raw.frame[h].to_numpy(dtype=object) for h in raw.frame.columns}
    for i, (col, b) in sorted(found.items()):
        line = int(raw.rows[i])
        values = {h: "" if c[i] is None else printable(str(c[i])) for h, c in cells.items()}
        malformed.append((line, values, encoding_reason(b, encoding, line, f"column {col!r}: "), "encoding"))
    keep = np.ones(len(raw.frame), dtype=bool)
    keep[list(found)] = False
    frame = pd.DataFrame({h: c[keep] for h, c in cells.items()}, columns=raw.frame.columns, dtype=object)
    return RawSource(frame, raw.rows[keep], raw.source, sorted(malformed), raw.notes, raw.headers)


def _read_plain_csv(text: str, delimiter: str, source: str, notes: tuple[str, ...]) -> RawSource | None:
    """Read a CSV text without quotes through pandas' C parser; ``None`` when it needs the careful reader.

    Without a quote character every record is one line, so the line numbers, blank records and the width
    of every record are known from the lines themselves; any record whose width differs from the header's
    (rejected as malformed by the careful reader), a lone carriage return or a NUL sends the text to
    :func:`read_csv_source`'s record-by-record reader, which gives the same table. The C parser keeps one
    string object per distinct value of a column, which is what makes this path lean in memory.
    """
    if '"' in text or "\x00" in text or text.count("\r") != text.count("\r\n"):
        return None
    lines = text.split("\n")
    if lines and lines[-1] == "":
        lines.pop()
    first = next((i for i, ln in enumerate(lines) if ln.strip()), None)
    if first is None:
        return None
    head = [
        (i + 1, next(csv.reader([lines[i].rstrip("\r")], delimiter=delimiter), []))
        for i in range(first, min(len(lines), first + HEADER_SEARCH))
    ]
    at = find_header(head)
    header_line = head[at][0]
    header = _unique_headers(head[at][1])
    width = len(header)
    body = lines[header_line:]
    if any(ln.count(delimiter) != width - 1 for ln in body if ln.strip()):
        return None
    if not body:
        return None
    frame = pd.read_csv(
        io.StringIO(text),
        sep=delimiter,
        header=None,
        names=header,
        skiprows=header_line,
        dtype=object,
        na_filter=False,
        skip_blank_lines=False,
        quoting=csv.QUOTE_NONE,
        index_col=False,
        engine="c",
    )
    if len(frame) != len(body):
        return None
    # a record is blank when every field is white space: without quotes, when its line is
    blank = np.fromiter((not ln.replace(delimiter, "").strip() for ln in body), dtype=bool, count=len(body))
    rows = np.arange(header_line + 1, header_line + 1 + len(frame), dtype=np.int64)[~blank]
    frame = frame.loc[~blank].reset_index(drop=True).astype(object)
    if at:
        notes = notes + (
            f"header found on line {header_line}; {at} line(s) above it skipped (title or filter block)",
        )
    return RawSource(frame, rows, source, [], notes, _header_names(head[at][1]))


HeaderTest = Callable[[list[str]], bool]


def _sheet_records(ws: Any) -> list[tuple[int, list[Any]]]:
    records: list[tuple[int, list[Any]]] = []
    for i, row in enumerate(ws.iter_rows(values_only=True), start=1):
        values = list(row)
        if not records and all(v is None or str(v).strip() == "" for v in values):
            continue
        records.append((i, values))
    return records


def _choose_sheet(wb: Any, path: Path, accept: HeaderTest) -> tuple[Any, list[tuple[int, list[Any]]], str]:
    """The first sheet whose header the table can use, and a note saying which sheets were looked at."""
    seen: list[tuple[str, list[str]]] = []
    for ws in wb.worksheets:
        records = _sheet_records(ws)
        header = _unique_headers(records[find_header(records)][1]) if records else []
        if records and accept(header):
            others = [w.title for w in wb.worksheets if w.title != ws.title]
            note = f"sheet {ws.title!r} used: the first with the table's columns (also in the file: {others})"
            return ws, records, note
        seen.append((ws.title, header))
    from impactlab.errors import Failure

    raise DataError(
        f"no sheet of the workbook has the columns this table needs (sheets: {[t for t, _ in seen]})",
        source=str(path),
        failures=[Failure(None, None, None, f"sheet {t!r} has headers {h[:12]}") for t, h in seen],
        hint="pass sheet='<name>' and columns={'<your header>': '<canonical column>'}",
    )


def read_excel_source(
    path: Path, *, sheet: str | int | None = None, accept: HeaderTest | None = None
) -> RawSource:
    """Read one sheet of an xlsx workbook.

    ``sheet=`` names or numbers it; otherwise, for a workbook of several sheets and a reader that says
    which headers it can use (``accept``), every sheet is looked at and the first usable one is read (the
    notes say which); else the first sheet.
    """
    import openpyxl

    wb = openpyxl.load_workbook(path, read_only=True, data_only=True)
    try:
        chosen: str | None = None
        if sheet is None and accept is not None and len(wb.worksheets) > 1:
            ws, records, chosen = _choose_sheet(wb, path, accept)
        elif sheet is None:
            ws = wb.worksheets[0]
        elif isinstance(sheet, int):
            if not 0 <= sheet < len(wb.worksheets):
                raise ValueError(
                    f"The 'sheet' parameter must be a sheet position from 0 to "
                    f"{len(wb.worksheets) - 1} or a name in {wb.sheetnames}. Got {sheet!r} instead."
                )
            ws = wb.worksheets[sheet]
        else:
            check_option("sheet", sheet, wb.sheetnames)
            ws = wb[sheet]
        if chosen is None:
            records = _sheet_records(ws)
        title = ws.title
    finally:
        wb.close()
    raw = _from_records(records, str(path), (chosen or f"sheet {title!r}",))
    cells = _uncached_formulas(path, title, records)
    if not cells:
        return raw
    position = {int(line): k for k, line in enumerate(raw.rows)}
    names = list(raw.frame.columns)
    found = tuple(
        (position[line], names[j], formula)
        for (line, j), formula in sorted(cells.items())
        if line in position and j < len(names)
    )
    return dataclasses.replace(raw, formulas=found)


_FORMULA_TAG = re.compile(rb"<(?:\w+:)?f[\s>/]")


def _uncached_formulas(path: Path, title: str, records: list[tuple[int, list[Any]]]) -> dict[
        tuple[int, int], str]:
    """``{(sheet row, 0-based column): formula}`` of the cells read as empty that hold a formula: a
    workbook written by a program that does not compute formulas (openpyxl, many report generators) stores
    them without the cached value that ``data_only=True`` reads."""
    empty = {(line, j) for line, values in records for j, v in enumerate(values) if v is None}
    if not empty:
        return {}
    with zipfile.ZipFile(path) as z:
        sheets = [n for n in z.namelist() if n.startswith("xl/worksheets/") and n.endswith(".xml")]
        if not any(_FORMULA_TAG.search(z.read(n)) for n in sheets):
            return {}
    import openpyxl

    wb = openpyxl.load_workbook(path, read_only=True, data_only=False)
    try:
        found: dict[tuple[int, int], str] = {}
        for line, row in enumerate(wb[title].iter_rows(values_only=True), start=1):
            for j, v in enumerate(row):
                if isinstance(v, str) and v.startswith("=") and (line, j) in empty:
                    found[(line, j)] = v
    finally:
        wb.close()
    return found


def _flatten(obj: dict[str, Any], prefix: str = "") -> dict[str, Any]:
    out: dict[str, Any] = {}
    for k, v in obj.items():
        name = f"{prefix}{k}"
        if isinstance(v, dict) and v:
            out.update(_flatten(v, name + "."))
        elif isinstance(v, (list, dict)):
            out[name] = json.dumps(v, ensure_ascii=False)
        else:
            out[name] = v
    return out


def _json_records(data: Any, source: str = "") -> list[Any] | None:
    """The list of records in a parsed JSON document (docs/explanation.md, "Reading exports"), or ``None``;
    a :class:`DataError` when the key holding them is written twice with different values."""
    for _ in range(3):
        if isinstance(data, list):
            return data
        if not isinstance(data, dict):
            return None
        lists = [k for k in JSON_RECORD_KEYS if k in data]
        if not lists:
            return None
        _refuse_repeated_wrapper(data, lists[0], source)
        data = data[lists[0]]
    return data if isinstance(data, list) else None


def _refuse_repeated_wrapper(data: dict[str, Any], key: str, source: str) -> None:
    """Refuse a document whose records sit under a key written twice with different values: which of the
    two arrays holds the records cannot be known, and reading the last would drop the first silently."""
    for k, a, b in getattr(data, "repeats", ()):
        if k == key and not same_json(a, b):
            sizes = [len(v) if isinstance(v, list) else type(v).__name__ for v in (a, b)]
            raise DataError(
                f"the JSON document writes the key {key!r} twice, with different values (holding {sizes[0]} "
                f"and {sizes[1]} records): which one holds the records cannot be known",
                source=source,
                failures=[Failure(None, key, None, "key written twice with different values")],
                hint="export the records once, as one array",
            )


def _frame_from_dicts(
    items: list[tuple[int, Any]], source: str, notes: tuple[str, ...], what: str, repeats: bool = False
) -> RawSource:
    """The records ``items`` as a raw frame; ``repeats``: the document writes some key twice in an object,
    so each record is checked (:func:`~impactlab.io.decoding.repeated_keys`)."""
    rows: list[int] = []
    flat: list[dict[str, Any]] = []
    malformed: list[Malformed] = []
    same = 0
    encoding = next((n[len("encoding ") :] for n in notes if n.startswith("encoding ")), "utf-8")
    for line, rec in items:
        reason = undecodable(rec, encoding, line)
        twice, n_same = repeated_keys(rec) if repeats else (None, 0)
        same += n_same
        if reason is not None:
            malformed.append((line, {}, reason, "encoding"))
        elif twice is not None:
            malformed.append((line, {}, f"{what} {line}: {twice}", "repeated_key"))
        elif isinstance(rec, dict):
            flat.append(_flatten(rec))
            rows.append(line)
        else:
            shown = json.dumps(rec, ensure_ascii=False)[:80]
            malformed.append((line, {}, f"{what} {shown} is not a JSON object (record)", "malformed"))
    if not flat and not malformed:
        raise DataError("the file holds no records", source=source, hint="check the export")
    if same:
        notes = (*notes, f"{same} key(s) written twice in one object with the same value, read once")
    columns: dict[str, None] = {}
    for rec in flat:
        columns.update(dict.fromkeys(rec))
    header = _unique_headers(list(columns))
    frame = pd.DataFrame(
        [[rec.get(c) for c in columns] for rec in flat], columns=header, dtype=object
    ) if flat else pd.DataFrame({h: pd.Series(dtype=object) for h in header})
    return RawSource(frame, np.asarray(rows, dtype=np.int64), source, malformed, notes)


def undecodable(value: Any, encoding: str, line: int | None) -> str | None:
    """Why a parsed JSON record holding bytes not of the file's ``encoding`` is rejected, or ``None``."""
    b = stray_in(value)
    return None if b is None else encoding_reason(b, encoding, line)


def parse_json(text: str, source: str, hint: str, repeats: list[Any] | None = None) -> Any:
    """The JSON document in ``text``, or a :class:`DataError` saying where it breaks (or that it is nested
    too deeply to read); objects that write a key twice are added to ``repeats``
    (:func:`~impactlab.io.decoding.loads`)."""
    try:
        return loads(text, repeats)
    except json.JSONDecodeError as exc:
        raise DataError(
            f"the file is not valid JSON: {exc.msg} at line {exc.lineno}, column {exc.colno}",
            source=source,
            hint=hint,
        ) from None
    except TooDeep as exc:
        raise DataError(
            f"the JSON document is {exc}",
            source=source,
            hint="export the records as a flat array of objects, or one object per line (.jsonl), where "
            "a record nested too deeply is rejected alone",
        ) from None


def _json_lines(text: str, encoding: str) -> tuple[list[tuple[int, Any]], list[tuple[int, str, str]]]:
    items: list[tuple[int, Any]] = []
    broken: list[tuple[int, str, str]] = []
    for line, raw_line in enumerate(text.split("\n"), start=1):  # JSON Lines ends lines with \n only
        if not raw_line.strip():
            continue
        shown = printable(raw_line.strip()[:80])
        repeats: list[Any] = []
        try:
            value = loads(raw_line, repeats)
        except json.JSONDecodeError as exc:
            if (b := stray_bytes(raw_line)) is not None:
                broken.append((line, encoding_reason(b[:80], encoding, line), "encoding"))
            else:
                why = f"line is not valid JSON ({exc.msg} at column {exc.colno}): {shown!r}"
                broken.append((line, why, "malformed"))
            continue
        except TooDeep as exc:
            broken.append((line, f"line is {exc}: {shown[:40]!r}", "malformed"))
            continue
        reason = undecodable(value, encoding, line)
        twice = repeated_keys(value)[0] if repeats else None
        if reason is not None:
            broken.append((line, reason, "encoding"))
        elif twice is not None:
            broken.append((line, f"line {line}: {twice}", "repeated_key"))
        else:
            items.append((line, value))
    return items, broken


def json_lines(text: str, encoding: str = "utf-8") -> tuple[list[tuple[int, Any]], list[tuple[int, str]]]:
    """JSON Lines: ``(line, value)`` of each parsed line and ``(line, reason)`` of each line that is not
    valid JSON, is nested too deeply (:data:`~impactlab.io.decoding.MAX_JSON_DEPTH`) or holds bytes not of
    the file's ``encoding`` (as :func:`~impactlab.io.decoding.decode` names it).

    Lines end with ``\\n`` (a ``\\r`` before it is white space); blank lines are skipped; lines are
    numbered from 1.
    """
    items, broken = _json_lines(text, encoding)
    return items, [(line, reason) for line, reason, _ in broken]


def read_json_source(path: Path) -> RawSource:
    """Read a JSON document holding an array of records (docs/explanation.md, "Reading exports")."""
    text, encoding = decode(path.read_bytes())
    repeats: list[Any] = []
    data = parse_json(text, str(path), "for one JSON object per line, name the file .jsonl", repeats)
    records = _json_records(data, str(path))
    if records is None:
        keys = list(data)[:10] if isinstance(data, dict) else type(data).__name__
        raise DataError(
            f"the JSON document holds no array of records (top level: {keys})",
            source=str(path),
            hint=f"export an array of objects, or one under a key such as {list(JSON_RECORD_KEYS[:4])}",
        )
    return _frame_from_dicts(
        list(enumerate(records, start=1)), str(path), (f"encoding {encoding}", "JSON"), "record",
        bool(repeats),
    )


def read_jsonl_source(path: Path) -> RawSource:
    """Read JSON Lines: one object per line; bad lines are rejected, never skipped."""
    text, encoding = decode(path.read_bytes())
    items, broken = _json_lines(text, encoding)
    bad: list[Malformed] = [(line, {}, reason, check) for line, reason, check in broken]
    if not items and not bad:
        raise DataError("the file holds no records", source=str(path), hint="check the export")
    raw = _frame_from_dicts(items, str(path), (f"encoding {encoding}", "JSON Lines"), "line") if items else (
        RawSource(pd.DataFrame(), np.asarray([], dtype=np.int64), str(path))
    )
    return RawSource(raw.frame, raw.rows, raw.source, sorted(raw.malformed + bad), raw.notes)


def load_source(
    source: Any, *, sheet: str | int | None = None, accept: HeaderTest | None = None
) -> RawSource:
    """Load ``source``: a path (str or PathLike) to a CSV/TSV, JSON, JSON Lines, Parquet or xlsx file, or a
    DataFrame. ``accept(headers)`` tells an xlsx reader which sheet a table can use when ``sheet`` is None.
    """
    if isinstance(source, pd.DataFrame):
        frame = source.copy()
        written = _header_names(list(frame.columns))
        frame.columns = _unique_headers(list(frame.columns))
        frame = frame.reset_index(drop=True)
        return RawSource(frame, np.arange(1, len(frame) + 1, dtype=np.int64), "<DataFrame>", headers=written)
    if not isinstance(source, (str, os.PathLike)):
        raise TypeError(
            f"The 'source' parameter must be a file path or a pandas DataFrame. "
            f"Got {type(source).__name__} instead."
        )
    path = Path(source)
    if not path.is_file():
        raise FileNotFoundError(f"No such file: {str(path)!r}")
    suffix = path.suffix.lower()
    size = path.stat().st_size
    if suffix in CSV_SUFFIXES + JSON_SUFFIXES + JSONL_SUFFIXES and size > MAX_FILE_BYTES:
        raise DataError(
            f"the file is {size / 1e6:.0f} MB, above the {MAX_FILE_BYTES / 1e6:.0f} MB the in-memory "
            "readers take (reading costs about 12 times the file's size in memory, 17 times for JSON "
            "Lines, more when most values are distinct)",
            source=str(path),
            hint="read it through DuckDB, which keeps only the columns and rows a panel needs: "
            "impactlab.io.large.scan_completions(path, program=...) or scan_kpis(...); or select them "
            "with il.read_sql(\"select ... from read_csv_auto('<file>') where ...\") and pass the "
            "DataFrame to the reader; or raise impactlab.io.sources.MAX_FILE_BYTES if the machine has "
            "the memory",
        )
    if suffix in CSV_SUFFIXES:
        return read_csv_source(path)
    if suffix in PARQUET_SUFFIXES:
        frame = pd.read_parquet(path)
        frame.columns = _unique_headers(list(frame.columns))
        frame = frame.reset_index(drop=True)
        return RawSource(frame, np.arange(1, len(frame) + 1, dtype=np.int64), str(path), notes=("parquet",))
    if suffix in EXCEL_SUFFIXES:
        return read_excel_source(path, sheet=sheet, accept=accept)
    if suffix in JSON_SUFFIXES:
        return read_json_source(path)
    if suffix in JSONL_SUFFIXES:
        return read_jsonl_source(path)
    allowed = ", ".join(CSV_SUFFIXES + JSON_SUFFIXES + JSONL_SUFFIXES + PARQUET_SUFFIXES + EXCEL_SUFFIXES)
    raise ValueError(
        f"Cannot read {str(path)!r}: the file type {suffix or '(none)'!r} is not supported. "
        f"Supported: {allowed}, or pass a pandas DataFrame."
    )
