"""Wide KPI sheets, one row per unit and one column per period (``"Jan 2024"`` … ``"Jun 2025"``), as BI
tools export them: each cell becomes one long row, so that every cell is kept or rejected with a reason
naming it (the sheet's row, the column header and the value).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping

import numpy as np
import pandas as pd

from impactlab.errors import DataError, Failure
from impactlab.io.sources import RawSource
from impactlab.io.table import Table

#: Long-frame columns naming a cell: the sheet's row (as ``source_row`` of a long sheet) and the header.
LINE, HEADER = "source_line", "source_column"

#: Rows of a wide export that are not a unit's values (normalised cell value -> reason of rejection).
TOTAL_ROWS: dict[str, str] = {
    "total": "a totals row of the export, not a unit",
    "grand total": "a totals row of the export, not a unit",
    "sum": "a totals row of the export, not a unit",
}


def melt(raw: RawSource, unit: str, periods: Mapping[str, pd.Period], metric: str) -> RawSource:
    """One row per cell of the ``periods`` columns: the unit column, the other columns, the cell's sheet
    row (:data:`LINE`) and header (:data:`HEADER`) and its value under ``metric``; ``source_row`` numbers
    the cells (row by row, left to right). Records the source could not read keep their line in the
    reason and are numbered after the cells."""
    frame = raw.frame
    heads = list(periods)
    others = [c for c in frame.columns if c not in periods]
    n, p = len(frame), len(heads)
    long = pd.DataFrame({c: np.repeat(frame[c].to_numpy(dtype=object), p) for c in others})
    long[LINE] = np.repeat(raw.rows.astype("int64"), p)
    long[HEADER] = np.tile(np.array(heads, dtype=object), n)
    long[metric] = frame[heads].to_numpy(dtype=object).reshape(-1) if p else np.array([], dtype=object)
    cells = n * p
    col_of = {h: j for j, h in enumerate(heads)}
    formulas: list[tuple[int, str, str]] = []
    for pos, col, f in raw.formulas:
        if col in col_of:
            formulas.append((pos * p + col_of[col], metric, f))
        elif col == unit:
            formulas += [(pos * p + j, col, f) for j in range(p)]
        elif p:
            formulas.append((pos * p, col, f))
    malformed = [
        (cells + k + 1, {c: v for c, v in values.items() if c in long.columns}, f"line {line}: {reason}",
         check)
        for k, (line, values, reason, check) in enumerate(raw.malformed)
    ]
    first, last = (heads[0], heads[-1]) if heads else ("", "")
    note = (f"wide layout: {n} row(s) x {p} period column(s) ({first!r} ... {last!r}) read as {cells} cells, "
            f"one row each (source_row numbers the cells; {LINE} and {HEADER} name each in the sheet)")
    return RawSource(frame=long, rows=np.arange(1, cells + 1, dtype="int64"), source=raw.source,
                     malformed=malformed, notes=(*raw.notes, note), formulas=tuple(formulas))


def name_cells(table: Table, metric: str) -> Table:
    """The table with each rejection naming its cell: ``column`` is the period header of the cell (for a
    problem with its value, its period or its whole row; a problem with the unit keeps the unit's header)
    and the reason starts with the sheet's row and the cell's header."""
    rej = table.rejected
    if not len(rej) or HEADER not in rej.columns:
        return table
    rej = rej.copy()
    # a problem with the cell's value or period, or with the whole row (a totals row): the cell's header
    is_cell = (rej["column"].isin([metric, HEADER]) | rej["column"].isna()).to_numpy()
    header = rej[HEADER].astype(object)
    line = rej[LINE].astype(object)
    prefix = [f"cell at row {ln}, column {h!r}: " if isinstance(h, str) and h else "" for ln, h in
              zip(line, header, strict=True)]
    empty = is_cell & (rej["check"] == "missing").to_numpy()
    reason = [f"empty cell (no {metric} value for this period)" if e else str(r)
              for e, r in zip(empty, rej["reason"], strict=True)]
    rej["reason"] = [p + r for p, r in zip(prefix, reason, strict=True)]
    rej["column"] = np.where(is_cell, header, rej["column"].astype(object))
    return dataclasses.replace(table, rejected=rej)


def cell_errors(table: Table) -> DataError:
    """``errors="raise"`` for a wide sheet: every rejected cell, by the sheet's row and the cell's header."""
    rej = table.rejected
    failures = [
        Failure(int(line) if str(line).isdigit() else None, col if isinstance(col, str) else None,
                val if isinstance(val, str) else None, str(reason), str(check))
        for line, col, val, reason, check in zip(rej[LINE], rej["column"], rej["value"], rej["reason"],
                                                 rej["check"], strict=True)
    ]
    return DataError(
        f"{len(failures)} problem(s) in {table.n_rejected} of {table.rows_read} cells of the wide kpis sheet",
        source=table.source,
        failures=failures,
        hint="correct the cells listed, or read with errors='quarantine' to keep the good cells and inspect "
        ".rejected",
    )
