"""Boundary check of a typed canonical frame with pandera (see :mod:`impactlab.schemas.tables`)."""

from __future__ import annotations

import pandas as pd

from impactlab.errors import DataError, Failure
from impactlab.schemas.tables import KIND_DTYPES, TableSchema


def _column_check(spec_kind: str):  # noqa: ANN202 - pandera types are internal
    import pandera.pandas as pa

    if spec_kind == "period":
        return pa.Check(
            lambda s: isinstance(s.dtype, pd.PeriodDtype),
            element_wise=False,
            error="dtype must be a pandas Period dtype",
        )
    return None


def to_pandera(schema: TableSchema, *, extra_columns: bool = True):  # noqa: ANN201
    """Build the pandera ``DataFrameSchema`` of a canonical table.

    Required columns must be non-null; ``category``/``status`` columns must hold one of their allowed
    values; ``source_row`` is a non-null integer. Extra (non-canonical) columns are allowed when
    ``extra_columns`` is true.
    """
    import pandera.pandas as pa

    columns = {}
    for spec in schema.columns:
        checks = []
        if spec.allowed:
            checks.append(pa.Check.isin(list(spec.allowed)))
        extra = _column_check(spec.kind)
        if extra is not None:
            checks.append(extra)
        dtype = None if spec.kind == "period" else KIND_DTYPES[spec.kind]
        columns[spec.name] = pa.Column(dtype, checks=checks, nullable=not spec.required, required=True)
    columns["source_row"] = pa.Column("int64", nullable=False)
    return pa.DataFrameSchema(columns, strict=not extra_columns, ordered=False, name=schema.kind)


def validate(schema: TableSchema, frame: pd.DataFrame, *, source: str | None = None) -> pd.DataFrame:
    """Validate ``frame`` against ``schema``; return it unchanged or raise :class:`DataError`.

    All failures are collected (pandera lazy mode) and reported as :class:`~impactlab.errors.Failure`
    records whose ``row`` is the frame's ``source_row`` when the failure points at a row.
    """
    import pandera.errors as pe

    try:
        to_pandera(schema).validate(frame, lazy=True)
    except pe.SchemaErrors as exc:
        cases = exc.failure_cases
        failures = []
        for rec in cases.to_dict("records"):
            idx = rec.get("index")
            row = None
            if idx is not None and not pd.isna(idx) and "source_row" in frame.columns and idx in frame.index:
                row = int(frame.loc[idx, "source_row"])
            failures.append(
                Failure(
                    row=row,
                    column=rec.get("column"),
                    value=rec.get("failure_case"),
                    reason=f"fails the {schema.kind} contract: {rec.get('check')}",
                    check=str(rec.get("check")),
                )
            )
        raise DataError(
            f"the {schema.kind} table does not meet its contract",
            source=source,
            failures=failures,
            hint="build the table with the impactlab readers, which parse and check each value",
        ) from None
    return frame
