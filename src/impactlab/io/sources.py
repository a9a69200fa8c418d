"""Loading a source (CSV/TSV, Parquet, xlsx file or a DataFrame) into a raw frame with row numbers.

``source_row`` (the row number every kept or rejected row carries):

* CSV/TSV and xlsx: the 1-based line (spreadsheet row) of the record in the file, the header being line 1,
  so the first data row is 2. A quoted value spanning several lines counts from the line where the record
  starts. Records that are entirely empty are skipped (they hold nothing) and not counted in ``rows_read``.
* Parquet and DataFrames: the 0-based position of the row plus 1 (the index labels are not used: they need
  not be unique or numeric).

CSV text is decoded as UTF-8 (a byte-order mark is dropped) and, when that fails, as Windows-1252 (then
Latin-1, which cannot fail). The delimiter is sniffed among ``,``, ``;``, tab and ``|``: the candidate that
splits the header into the most fields *and* gives the same number of fields on the next lines wins. A
record with a different number of fields than the header is rejected with that reason, never realigned.
"""

from __future__ import annotations

import codecs
import csv
import io
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from impactlab.errors import DataError, check_option

DELIMITERS = (",", ";", "\t", "|")
CSV_SUFFIXES = (".csv", ".tsv", ".txt")
PARQUET_SUFFIXES = (".parquet", ".pq")
EXCEL_SUFFIXES = (".xlsx", ".xlsm")


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
    malformed : list of (source_row, values, reason)
        Records that could not be aligned with the header; they count as read and are rejected.
    notes : tuple of str
        How the source was read (encoding, delimiter), for ``Table.summary()``.
    """

    frame: pd.DataFrame
    rows: np.ndarray
    source: str
    malformed: list[tuple[int, dict[str, str], str]] = field(default_factory=list)
    notes: tuple[str, ...] = ()

    @property
    def rows_read(self) -> int:
        """Data rows read, including malformed ones."""
        return len(self.frame) + len(self.malformed)


def _unique_headers(header: list[Any]) -> list[str]:
    out: list[str] = []
    for i, h in enumerate(header):
        name = "" if h is None else str(h).replace("\ufeff", "").strip()
        name = name or f"column_{i + 1}"
        base, k = name, 2
        while name in out:
            name = f"{base} ({k})"
            k += 1
        out.append(name)
    return out


def decode(data: bytes) -> tuple[str, str]:
    """Decode file bytes; return the text and the encoding used."""
    if data.startswith(codecs.BOM_UTF8):
        return data[len(codecs.BOM_UTF8) :].decode("utf-8", errors="replace"), "utf-8 with BOM"
    for enc in ("utf-8", "cp1252"):
        try:
            return data.decode(enc), enc
        except UnicodeDecodeError:
            continue
    return data.decode("latin-1"), "latin-1"


def sniff_delimiter(text: str) -> str:
    """Pick the delimiter of a CSV text (see the module notes)."""
    lines = [ln for ln in text.splitlines()[:25] if ln.strip()]
    if not lines:
        return ","
    best, best_score = ",", (False, 0)
    for d in DELIMITERS:
        rows = list(csv.reader(lines, delimiter=d))
        width = len(rows[0])
        consistent = all(len(r) == width for r in rows[1:])
        score = (consistent and width > 1, width)
        if score > best_score:
            best, best_score = d, score
    return best


def _from_records(records: list[tuple[int, list[Any]]], source: str, notes: tuple[str, ...]) -> RawSource:
    if not records:
        raise DataError(
            "the file is empty: no header row found",
            source=source,
            hint="check the file, or that the right sheet was read (sheet=)",
        )
    header = _unique_headers(records[0][1])
    width = len(header)
    good: list[list[Any]] = []
    rows: list[int] = []
    malformed: list[tuple[int, dict[str, str], str]] = []
    for line, values in records[1:]:
        if all(v is None or (isinstance(v, str) and not v.strip()) for v in values):
            continue
        if len(values) != width:
            if len(values) > width and all(v is None or str(v).strip() == "" for v in values[width:]):
                values = values[:width]
            else:
                padded = {
                    h: ("" if i >= len(values) or values[i] is None else str(values[i]))
                    for i, h in enumerate(header)
                }
                malformed.append(
                    (
                        line,
                        padded,
                        f"record has {len(values)} fields but the header has {width}; "
                        "check the delimiter and quoting of this line",
                    )
                )
                continue
        good.append(list(values))
        rows.append(line)
    frame = (
        pd.DataFrame(good, columns=header, dtype=object)
        if good
        else pd.DataFrame({h: pd.Series(dtype=object) for h in header})
    )
    return RawSource(frame, np.asarray(rows, dtype=np.int64), source, malformed, notes)


def read_csv_source(path: Path, *, delimiter: str | None = None) -> RawSource:
    """Read a delimited text file (see the module notes)."""
    text, encoding = decode(path.read_bytes())
    if delimiter is None:
        delimiter = "\t" if path.suffix.lower() == ".tsv" else sniff_delimiter(text)
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)
    records: list[tuple[int, list[Any]]] = []
    start = 1
    for rec in reader:
        if records or any(v.strip() for v in rec):
            records.append((start, rec))
        start = reader.line_num + 1
    name = {",": "comma", ";": "semicolon", "\t": "tab", "|": "pipe"}.get(delimiter, repr(delimiter))
    return _from_records(records, str(path), (f"encoding {encoding}", f"{name}-delimited"))


def read_excel_source(path: Path, *, sheet: str | int | None = None) -> RawSource:
    """Read one sheet of an xlsx workbook (the first unless ``sheet=`` names or numbers another)."""
    import openpyxl

    wb = openpyxl.load_workbook(path, read_only=True, data_only=True)
    try:
        if sheet is None:
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
        records: list[tuple[int, list[Any]]] = []
        for i, row in enumerate(ws.iter_rows(values_only=True), start=1):
            values = list(row)
            if not records and all(v is None or str(v).strip() == "" for v in values):
                continue
            records.append((i, values))
        title = ws.title
    finally:
        wb.close()
    return _from_records(records, str(path), (f"sheet {title!r}",))


def load_source(source: Any, *, sheet: str | int | None = None) -> RawSource:
    """Load ``source``: a path (str or PathLike) to a CSV/TSV, Parquet or xlsx file, or a DataFrame."""
    if isinstance(source, pd.DataFrame):
        frame = source.copy()
        frame.columns = _unique_headers(list(frame.columns))
        frame = frame.reset_index(drop=True)
        return RawSource(frame, np.arange(1, len(frame) + 1, dtype=np.int64), "<DataFrame>")
    if not isinstance(source, (str, os.PathLike)):
        raise TypeError(
            f"The 'source' parameter must be a file path or a pandas DataFrame. "
            f"Got {type(source).__name__} instead."
        )
    path = Path(source)
    if not path.is_file():
        raise FileNotFoundError(f"No such file: {str(path)!r}")
    suffix = path.suffix.lower()
    if suffix in CSV_SUFFIXES:
        return read_csv_source(path)
    if suffix in PARQUET_SUFFIXES:
        frame = pd.read_parquet(path)
        frame.columns = _unique_headers(list(frame.columns))
        frame = frame.reset_index(drop=True)
        return RawSource(frame, np.arange(1, len(frame) + 1, dtype=np.int64), str(path), notes=("parquet",))
    if suffix in EXCEL_SUFFIXES:
        return read_excel_source(path, sheet=sheet)
    allowed = ", ".join(CSV_SUFFIXES + PARQUET_SUFFIXES + EXCEL_SUFFIXES)
    raise ValueError(
        f"Cannot read {str(path)!r}: the file type {suffix or '(none)'!r} is not supported. "
        f"Supported: {allowed}, or pass a pandas DataFrame."
    )
