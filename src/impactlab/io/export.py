"""Writing tables that people open in a spreadsheet, without letting a cell run as a formula.

A spreadsheet opening a CSV runs any cell that starts with ``=``, ``+``, ``-`` or ``@`` as a formula (and some
also after a tab, carriage return or line feed), so an export copied from an LMS or HR system can carry
``=HYPERLINK(...)`` or ``+cmd|...`` straight into the analyst's Excel. Every CSV, TSV and xlsx file impactlab
writes goes through :func:`write_table`, which follows the OWASP rule for CSV injection
(https://owasp.org/www-community/attacks/CSV_Injection): a text cell whose first character (after any
leading spaces) is one of ``= + - @``, tab, carriage return, line feed or NUL gets a leading apostrophe,
the mark spreadsheets read as "this is text"; every text cell is written between double quotes (embedded
quotes doubled), so that a separator inside it cannot start a new cell in a spreadsheet that splits on
another character. Numbers stay numbers: numeric columns are written as they are, and a text cell that is a
plain number (``-3.5``, ``+2``, ``-1e-3``) is left alone.
"""

from __future__ import annotations

import csv
import re
from pathlib import Path
from typing import Any

import pandas as pd

#: The first characters that make a spreadsheet read a cell as a formula (OWASP, plus NUL).
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r", "\n", "\0")
#: A text cell that is only a number in plain decimal or scientific notation: safe as it is.
_PLAIN_NUMBER = re.compile(r"[+-]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?")
_SUFFIXES = {".csv": ",", ".tsv": "\t", ".txt": ",", ".xlsx": None}


def escape_cell(value: Any) -> Any:
    """``value`` with a leading apostrophe when a spreadsheet would run it as a formula; anything that is
    not a string, and plain numbers written as text, come back unchanged.

    Examples
    --------
    >>> escape_cell("=HYPERLINK(A1)"), escape_cell("@SUM(A1)"), escape_cell("-3.5"), escape_cell(-3.5)
    ("'=HYPERLINK(A1)", "'@SUM(A1)", '-3.5', -3.5)
    """
    if not isinstance(value, str):
        return value
    first = value.lstrip(" ")[:1]
    if first and first in FORMULA_STARTS and not _PLAIN_NUMBER.fullmatch(value.strip()):
        return "'" + value
    return value


def spreadsheet_safe(frame: pd.DataFrame) -> pd.DataFrame:
    """A copy of ``frame`` whose text cells cannot run as formulas (:func:`escape_cell` on every text cell,
    column names included); numeric, boolean and date columns are not touched."""
    out = frame.copy()
    for column in out.columns:
        series = out[column]
        if (pd.api.types.is_numeric_dtype(series) or pd.api.types.is_datetime64_any_dtype(series)
                or isinstance(series.dtype, pd.DatetimeTZDtype)):
            continue
        out[column] = series.astype(object).map(escape_cell)
    out.columns = [escape_cell(c) for c in out.columns]
    return out


def write_table(frame: pd.DataFrame, path: str | Path) -> Path:
    """Write ``frame`` as CSV (``.csv``, ``.txt``), TSV (``.tsv``) or Excel (``.xlsx``) so that opening it in
    a spreadsheet runs no formula.

    Parameters
    ----------
    frame : DataFrame
        The table to write (its index is not written).
    path : str or Path
        The file; its folder is created when missing.

    Returns
    -------
    Path
        The file written.

    Notes
    -----
    In CSV/TSV a cell that starts like a formula gets a leading apostrophe and every text cell is quoted
    (the OWASP rule, see the module notes). In xlsx every text cell is stored as text, never as a formula,
    and a cell that starts like one is marked with Excel's quote prefix, so it shows exactly as it was read;
    times with a time zone are written in UTC (xlsx has no time zones).

    Examples
    --------
    >>> import tempfile, pandas as pd
    >>> frame = pd.DataFrame({"name": ["=1+2", "Ann"], "pay": [-3.5, 10.0]})
    >>> p = write_table(frame, tempfile.mkdtemp() + "/t.csv")
    >>> print(p.read_text(), end="")
    "name","pay"
    "'=1+2",-3.5
    "Ann",10.0
    """
    target = Path(path)
    suffix = target.suffix.lower()
    if suffix not in _SUFFIXES:
        raise ValueError(f"The 'path' parameter must name a {', '.join(_SUFFIXES)} file. Got {str(target)!r} "
                         "instead.")
    target.parent.mkdir(parents=True, exist_ok=True)
    if suffix == ".xlsx":
        _write_xlsx(frame, target)
    else:
        spreadsheet_safe(frame).to_csv(target, index=False, sep=_SUFFIXES[suffix], encoding="utf-8",
                                       quoting=csv.QUOTE_NONNUMERIC, lineterminator="\n")
    return target


def _write_xlsx(frame: pd.DataFrame, target: Path) -> None:
    import openpyxl

    book = openpyxl.Workbook()
    sheet = book.active
    rows = [list(frame.columns), *frame.astype(object).where(frame.notna(), None).itertuples(index=False)]
    for r, row in enumerate(rows, start=1):
        for c, value in enumerate(row, start=1):
            if isinstance(value, pd.Timestamp):
                value = value.tz_convert("UTC").tz_localize(None) if value.tzinfo is not None else value
                value = value.to_pydatetime()  # xlsx has no time zones: aware times are written in UTC
            elif not isinstance(value, (str, int, float, bool)) and value is not None:
                value = str(value)
            cell = sheet.cell(row=r, column=c)
            cell.value = value
            if isinstance(value, str):
                cell.data_type = "s"  # text, never a formula, whatever it starts with
                if escape_cell(value) != value:
                    cell.quotePrefix = True
    book.save(target)
