"""The validated table every reader returns."""

from __future__ import annotations

import html
from dataclasses import dataclass, field

import pandas as pd

#: Columns of ``Table.rejected`` after the raw row's own values.
REJECTED_COLUMNS = ("source_row", "column", "value", "reason", "check")


@dataclass(frozen=True, repr=False, eq=False)
class Table:
    """A canonical table read from one source, with the rows that could not be used.

    Attributes
    ----------
    frame : DataFrame
        Kept rows: the canonical columns of the table kind (DESIGN.md, "Canonical tables") in order, then
        the input's other columns with snake_case names, then ``source_row``.
    rejected : DataFrame
        One row per problem found: the raw row's values as strings (under their input headers), then
        ``source_row``, ``column`` (the input header concerned, or ``None`` for whole-row problems),
        ``value`` (as read), ``reason`` (what is wrong and what is allowed) and ``check`` (a short code such
        as ``"missing"``, ``"date"``, ``"status"``, ``"number"``, ``"duplicate"``). A row with several
        problems appears several times.
    source : str
        The file read, or ``"<DataFrame>"``.
    rows_read : int
        Data rows in the source. ``rows_read == len(frame) + rejected["source_row"].nunique()``.
    kind : str
        ``"completions"``, ``"assessments"``, ``"surveys"``, ``"observations"``, ``"roster"``, ``"kpis"``
        or ``"costs"``.
    columns : dict
        Canonical column -> input header it was read from.
    notes : tuple of str
        How the source was read (encoding, delimiter, sheet, decisions taken).
    """

    frame: pd.DataFrame
    rejected: pd.DataFrame
    source: str
    rows_read: int
    kind: str
    columns: dict[str, str] = field(default_factory=dict)
    notes: tuple[str, ...] = ()

    @property
    def n_kept(self) -> int:
        """Rows kept in :attr:`frame`."""
        return len(self.frame)

    @property
    def n_rejected(self) -> int:
        """Distinct source rows rejected."""
        return int(self.rejected["source_row"].nunique()) if len(self.rejected) else 0

    def top_reasons(self, n: int = 5) -> pd.Series:
        """Rejected rows per check code, most frequent first (at most ``n``)."""
        if not len(self.rejected):
            return pd.Series(dtype="int64", name="rows")
        counts = self.rejected.groupby(["check", "column"], dropna=False)["source_row"].nunique()
        counts = counts.sort_values(ascending=False).head(n)
        counts.index = [f"{c} ({col})" if isinstance(col, str) else str(c) for c, col in counts.index]
        return counts.rename("rows")

    def report(self) -> pd.DataFrame:
        """What was read, kept and rejected, and why: one row per reason, totals first.

        Columns ``what`` (``"read"``, ``"kept"``, ``"rejected"``, then one row per check and column),
        ``rows`` (distinct source rows), ``example_row`` and ``example`` (the first rejected row's
        ``source_row`` and reason). ``rows`` of the reason rows can add up to more than ``"rejected"``
        when a row has several problems; ``read == kept + rejected`` always holds.

        Examples
        --------
        >>> import pandas as pd
        >>> from impactlab.io import read_completions
        >>> raw = pd.DataFrame({"User ID": ["7", "7", ""], "Course": ["A"] * 3,
        ...                     "Status": ["Enrolled"] * 3})
        >>> read_completions(raw).report()[["what", "rows"]].values.tolist()
        [['read', 3], ['kept', 1], ['rejected', 2], ['duplicate', 1], ['missing (User ID)', 1]]
        """
        rows = [
            {"what": "read", "rows": self.rows_read, "example_row": None, "example": None},
            {"what": "kept", "rows": self.n_kept, "example_row": None, "example": None},
            {"what": "rejected", "rows": self.n_rejected, "example_row": None, "example": None},
        ]
        if len(self.rejected):
            rej = self.rejected
            for (check, col), grp in rej.groupby(["check", "column"], dropna=False, sort=True):
                first = grp.iloc[0]
                rows.append({
                    "what": f"{check} ({col})" if isinstance(col, str) else str(check),
                    "rows": int(grp["source_row"].nunique()),
                    "example_row": int(first["source_row"]),
                    "example": str(first["reason"]),
                })
        out = pd.DataFrame(rows, columns=["what", "rows", "example_row", "example"])
        out["rows"] = out["rows"].astype("int64")
        out["example_row"] = out["example_row"].astype("Int64")
        return out

    def summary(self) -> str:
        """A short text report: rows read, kept, rejected and the main reasons."""
        lines = [
            f"{self.kind} table from {self.source}",
            f"  rows read: {self.rows_read}, kept: {self.n_kept}, rejected: {self.n_rejected}",
        ]
        if self.notes:
            lines.append("  read as: " + ", ".join(self.notes))
        top = self.top_reasons()
        if len(top):
            lines.append("  top reasons for rejection:")
            lines += [f"    {idx}: {int(v)} row(s)" for idx, v in top.items()]
            example = self.rejected.iloc[0]
            lines.append(f"  e.g. row {example['source_row']}: {example['reason']}")
        return "\n".join(lines)

    def __repr__(self) -> str:
        return (
            f"<Table {self.kind}: {self.n_kept} kept, {self.n_rejected} rejected of {self.rows_read} read "
            f"from {self.source}>"
        )

    def _repr_html_(self) -> str:
        esc = html.escape
        head = (
            f"<p><b>{esc(self.kind)}</b> from <code>{esc(self.source)}</code>: {self.rows_read} rows read, "
            f"{self.n_kept} kept, {self.n_rejected} rejected.</p>"
        )
        top = self.top_reasons()
        reasons = ""
        if len(top):
            items = "".join(f"<li>{esc(str(k))}: {int(v)} row(s)</li>" for k, v in top.items())
            reasons = f"<p>Top reasons for rejection:</p><ul>{items}</ul>"
        return head + reasons + self.frame.head(5)._repr_html_()
