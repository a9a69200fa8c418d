"""Declarative contracts of the canonical tables (DESIGN.md, "Canonical tables").

Why our own small schema *and* pandera
--------------------------------------
The readers must turn messy strings into typed values and, for every value that cannot be used, say which
row and column failed, what was seen and what is allowed (a date format list, a status list, a pointer to
``status_map=``). That parsing is domain work pandera does not do, so each column is declared here with a
:class:`ColumnSpec` (name, kind, required, synonyms for header matching) and the readers run the checks.
The *typed* result is then validated against a pandera ``DataFrameSchema`` generated from the same
declaration (:func:`impactlab.schemas.contract.validate`): one source of truth, pandera's lazy
validation as the boundary check, its ``failure_cases`` wrapped into our :class:`~impactlab.errors.DataError`.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

from impactlab.schemas.vocab import ASSESSMENT_KINDS, COST_CATEGORIES, STATUSES

Kind = Literal["id", "text", "status", "timestamp", "number", "integer", "category", "period"]

#: Column kinds and the dtype each has in a reader's output frame.
KIND_DTYPES: dict[str, str] = {
    "id": "str",
    "text": "str",
    "status": "str",
    "category": "str",
    "timestamp": "datetime64[us, UTC]",
    "number": "float64",
    "integer": "Int64",
    "period": "period",
}


@dataclass(frozen=True)
class ColumnSpec:
    """One canonical column.

    Attributes
    ----------
    name : str
        Canonical snake_case name.
    kind : str
        One of :data:`KIND_DTYPES`; decides how raw values are parsed and the output dtype.
    required : bool
        A row with no value here is rejected (and the column must be present in the input).
    synonyms : tuple of str
        Other header spellings matched to this column (compared after :func:`~impactlab.schemas.vocab.
        normalise_key`, so case, spaces and punctuation do not matter).
    allowed : tuple of str
        For ``category``/``status`` kinds, the canonical values.
    derived : bool
        Filled by the reader, not read from the input (``status_raw``, ``source_row``).
    """

    name: str
    kind: Kind
    required: bool = False
    synonyms: tuple[str, ...] = ()
    allowed: tuple[str, ...] = ()
    derived: bool = False


@dataclass(frozen=True)
class TableSchema:
    """The contract of one canonical table: its columns, in output order."""

    kind: str
    columns: tuple[ColumnSpec, ...]
    notes: tuple[str, ...] = field(default=())

    @property
    def names(self) -> tuple[str, ...]:
        """Canonical column names in output order (``source_row`` last)."""
        return tuple(c.name for c in self.columns) + ("source_row",)

    def column(self, name: str) -> ColumnSpec:
        """The spec of column ``name``."""
        for c in self.columns:
            if c.name == name:
                return c
        raise KeyError(name)

    @property
    def readable(self) -> tuple[ColumnSpec, ...]:
        """Columns that are read from the input (not derived)."""
        return tuple(c for c in self.columns if not c.derived)


_EMPLOYEE = (
    "employee id",
    "employee",
    "emp id",
    "user id",
    "userid",
    "user",
    "learner id",
    "learner",
    "worker id",
    "student id",
    "studentid",
    "person id",
    "participant id",
    "staff id",
    "username",
    "learner reference",
)
_PROGRAM = (
    "program",
    "programme",
    "program name",
    "programme name",
    "training",
    "training title",
    "training name",
    "course",
    "course title",
    "course name",
    "course id",
    "learning content",
    "learning content reference",
    "component id",
    "item",
    "activity",
)

COMPLETIONS = TableSchema(
    "completions",
    (
        ColumnSpec("employee_id", "id", True, _EMPLOYEE),
        ColumnSpec("program", "text", True, _PROGRAM),
        ColumnSpec(
            "status",
            "status",
            True,
            (
                "transcript status",
                "completion status",
                "enrollment status",
                "enrolment status",
                "assignment status",
                "status",
                "state",
                "completion state",
                "completionstate",
            ),
            allowed=STATUSES,
        ),
        ColumnSpec("status_raw", "text", derived=True),
        ColumnSpec(
            "completed_at",
            "timestamp",
            False,
            (
                "completion date",
                "completed date",
                "transcript completed date",
                "date completed",
                "completed",
                "completed on",
                "completion time",
                "date complete",
                "course complete date",
                "learning enrollment completion date",
                "timecompleted",
                "completiondate",
            ),
        ),
        ColumnSpec(
            "assigned_at",
            "timestamp",
            False,
            (
                "assigned date",
                "transcript assigned date",
                "assignment date",
                "date assigned",
                "registration date",
                "transcript registration date",
                "registered date",
                "enrolled at",
                "enrollment date",
                "enrolment date",
                "date inscr",
                "timeenrolled",
            ),
        ),
        ColumnSpec(
            "attempt",
            "integer",
            False,
            ("attempt number", "registration number", "reg num", "attempts", "try"),
        ),
        ColumnSpec(
            "hours",
            "number",
            False,
            (
                "training hours",
                "duration hours",
                "total hours",
                "credit hours",
                "hours spent",
                "time spent hours",
                "learning hours",
            ),
        ),
        ColumnSpec(
            "score",
            "number",
            False,
            (
                "final score",
                "course score",
                "overall course score",
                "enrollment score",
                "grade",
                "result score",
            ),
        ),
    ),
)

ASSESSMENTS = TableSchema(
    "assessments",
    (
        ColumnSpec("employee_id", "id", True, _EMPLOYEE),
        ColumnSpec("program", "text", True, _PROGRAM),
        ColumnSpec(
            "kind",
            "category",
            True,
            ("assessment kind", "assessment type", "test type", "type", "phase", "timing"),
            allowed=ASSESSMENT_KINDS,
        ),
        ColumnSpec("score", "number", True, ("raw score", "points", "result", "assessment score")),
        ColumnSpec(
            "max_score",
            "number",
            False,
            ("maximum score", "max", "max points", "points possible", "out of", "total points"),
        ),
        ColumnSpec(
            "taken_at",
            "timestamp",
            True,
            ("date", "taken on", "assessment date", "test date", "completed at", "timestamp", "submitted at"),
        ),
        ColumnSpec("attempt", "integer", False, ("attempt number", "try")),
    ),
)

SURVEYS = TableSchema(
    "surveys",
    (
        ColumnSpec("employee_id", "id", False, _EMPLOYEE + ("respondent id", "respondent")),
        ColumnSpec("program", "text", True, _PROGRAM[:-2]),
        ColumnSpec("item", "text", True, ("question", "question id", "item id", "survey item", "statement")),
        ColumnSpec("response", "number", True, ("answer", "rating", "value", "score")),
        ColumnSpec("scale_min", "number", False, ("min", "scale minimum", "minimum")),
        ColumnSpec("scale_max", "number", False, ("max", "scale maximum", "maximum")),
        ColumnSpec(
            "answered_at",
            "timestamp",
            False,
            ("date", "submitted at", "response date", "timestamp", "completed at"),
        ),
    ),
)

OBSERVATIONS = TableSchema(
    "observations",
    (
        ColumnSpec("employee_id", "id", True, _EMPLOYEE),
        ColumnSpec("program", "text", False, _PROGRAM[:-2]),
        ColumnSpec("behavior", "text", True, ("behaviour", "behavior item", "competency", "skill", "item")),
        ColumnSpec("rating", "number", True, ("score", "value", "observed rating")),
        ColumnSpec(
            "observed_at", "timestamp", True, ("date", "observation date", "observed on", "timestamp")
        ),
        ColumnSpec("observer", "text", False, ("observer id", "rater", "rater id", "manager", "manager id")),
    ),
)

ROSTER = TableSchema(
    "roster",
    (
        ColumnSpec("employee_id", "id", True, _EMPLOYEE[:-1] + ("id",)),
        ColumnSpec("team", "text", False, ("team name", "department", "dept", "group", "unit")),
        ColumnSpec(
            "manager_id",
            "id",
            False,
            ("manager", "manager employee id", "supervisor id", "supervisor", "reports to"),
        ),
        ColumnSpec("role", "text", False, ("job", "job title", "title", "position")),
        ColumnSpec("location", "text", False, ("store", "site", "office", "branch")),
        ColumnSpec(
            "hire_date",
            "timestamp",
            False,
            ("hired", "hire", "start date", "date hired", "hired on", "hired at"),
        ),
        ColumnSpec(
            "termination_date",
            "timestamp",
            False,
            (
                "terminated",
                "termination",
                "end date",
                "leave date",
                "leaving date",
                "exit date",
                "terminated on",
                "terminated at",
            ),
        ),
        ColumnSpec("valid_from", "timestamp", False, ("effective from", "effective date", "as of")),
        ColumnSpec("valid_to", "timestamp", False, ("effective to", "effective until", "valid until")),
    ),
)

COSTS = TableSchema(
    "costs",
    (
        ColumnSpec("program", "text", True, _PROGRAM[:-2]),
        ColumnSpec(
            "category",
            "category",
            True,
            ("cost category", "cost type", "type", "item"),
            allowed=COST_CATEGORIES,
        ),
        ColumnSpec("amount", "number", False, ("cost", "value", "total", "amount spent")),
        ColumnSpec("low", "number", False, ("amount low", "min", "minimum", "lower")),
        ColumnSpec("high", "number", False, ("amount high", "max", "maximum", "upper")),
        ColumnSpec("currency", "text", False, ("ccy", "currency code")),
    ),
)

#: Every schema by table kind (kpis has no fixed columns: see :func:`kpis_schema`).
SCHEMAS: dict[str, TableSchema] = {
    s.kind: s for s in (COMPLETIONS, ASSESSMENTS, SURVEYS, OBSERVATIONS, ROSTER, COSTS)
}


def kpis_schema(unit: str, metrics: tuple[str, ...]) -> TableSchema:
    """The KPI table contract for a given unit column and metric columns."""
    cols = [ColumnSpec(unit, "id", True), ColumnSpec("period", "period", True)]
    cols += [ColumnSpec(m, "number", False) for m in metrics]
    return TableSchema("kpis", tuple(cols))


def get_schema(kind: str) -> TableSchema:
    """The schema of table ``kind`` (one of :data:`SCHEMAS`)."""
    from impactlab.errors import check_option

    check_option("kind", kind, tuple(SCHEMAS))
    return SCHEMAS[kind]
