"""The pandera schema of each canonical table, generated from its declaration in
:mod:`~impactlab.schemas.tables`: column dtypes, required values, allowed categories, and each row rule as a
dataframe-level ``Check``; its failures come back as :class:`~impactlab.errors.DataError` records.
"""

from __future__ import annotations

import warnings
from functools import lru_cache
from typing import Any

import numpy as np
import pandas as pd

from impactlab.errors import DataError, Failure
from impactlab.schemas.rules import RowRule
from impactlab.schemas.tables import KIND_DTYPES, TableSchema


def _pandera():  # noqa: ANN202 - pandera types are internal
    """``pandera.pandas``, imported without pyspark's warnings: where pyspark is installed, importing pandera
    imports ``pyspark.pandas``, which warns about the pandas version although impactlab never uses it."""
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", category=FutureWarning, module="pyspark")
        import pandera.pandas as pa
    return pa


def _column_check(spec_kind: str):  # noqa: ANN202 - pandera types are internal
    pa = _pandera()

    if spec_kind == "period":
        return pa.Check(
            lambda s: isinstance(s.dtype, pd.PeriodDtype),
            element_wise=False,
            error="dtype must be a pandas Period dtype",
        )
    return None


def _rule_check(rule: RowRule):  # noqa: ANN202
    pa = _pandera()

    return pa.Check(lambda frame: pd.Series(~rule.fails(frame), index=frame.index), element_wise=False,
                    name=rule.name, error=rule.name)


@lru_cache(maxsize=64)
def to_pandera(schema: TableSchema, *, extra_columns: bool = True):  # noqa: ANN201
    """Build the pandera ``DataFrameSchema`` of a canonical table.

    Required columns must be non-null; ``category``/``status`` columns must hold one of their allowed
    values; ``source_row`` is a non-null integer; every row rule of the table is a dataframe-level check
    named after the rule. Extra (non-canonical) columns are allowed when ``extra_columns`` is true.
    """
    pa = _pandera()
    from pandera.backends.pandas.register import register_pandas_backends

    # the checks are also called on their own (rule_failures); pandera 0.24 registers its pandas backends
    # only when a schema validates, so a check called first found none
    with warnings.catch_warnings():  # its checks module tries pyspark.pandas again (see _pandera)
        warnings.filterwarnings("ignore", category=FutureWarning, module="pyspark")
        register_pandas_backends("pandas.core.frame.DataFrame")
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
    return pa.DataFrameSchema(columns, checks=[_rule_check(r) for r in schema.rules],
                              strict=not extra_columns, ordered=False, name=schema.kind)


def rule_failures(schema: TableSchema, frame: pd.DataFrame) -> list[tuple[RowRule, np.ndarray]]:
    """Each row rule of ``schema`` with the positions of the rows of ``frame`` that break it.

    The rules run as the checks of the generated pandera schema, on a frame that may lack the optional
    columns (a rule whose columns are absent passes).
    """
    checks = to_pandera(schema).checks
    out = []
    for rule, check in zip(schema.rules, checks, strict=True):
        passed = np.asarray(check(frame).check_output, dtype=bool)
        out.append((rule, np.flatnonzero(~passed)))
    return out


def _row(frame: pd.DataFrame, idx: Any) -> int | None:
    if idx is None or pd.isna(idx) or "source_row" not in frame.columns or idx not in frame.index:
        return None
    return int(frame.loc[idx, "source_row"])


def validate(schema: TableSchema, frame: pd.DataFrame, *, source: str | None = None) -> pd.DataFrame:
    """Validate ``frame`` against ``schema``; return it unchanged or raise :class:`DataError`.

    All failures are collected (pandera lazy mode) and reported as :class:`~impactlab.errors.Failure`
    records whose ``row`` is the frame's ``source_row`` when the failure points at a row; a broken row
    rule is reported once per row, on the rule's column, with its reason and code.
    """
    import pandera.errors as pe

    try:
        to_pandera(schema).validate(frame, lazy=True)
    except pe.SchemaErrors as exc:
        rules = {r.name: r for r in schema.rules}
        failures = []
        seen: set[tuple[str, Any]] = set()
        for rec in exc.failure_cases.to_dict("records"):
            idx, check = rec.get("index"), str(rec.get("check"))
            rule = rules.get(check)
            if rule is None:
                failures.append(Failure(_row(frame, idx), rec.get("column"), rec.get("failure_case"),
                                        f"fails the {schema.kind} contract: {check}", check))
            elif (check, idx) not in seen:
                seen.add((check, idx))
                i = int(frame.index.get_loc(idx))
                failures.append(Failure(_row(frame, idx), rule.column, frame[rule.column].iloc[i],
                                        rule.reason(frame, i, rule.column), rule.check))
        raise DataError(
            f"the {schema.kind} table does not meet its contract",
            source=source,
            failures=failures,
            hint="build the table with the impactlab readers, which parse and check each value",
        ) from None
    return frame
