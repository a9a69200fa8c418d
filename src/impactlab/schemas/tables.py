"""The canonical tables (DESIGN.md, "Canonical tables"), declared once: for each, its columns (name, kind,
required, the header spellings matched to it) and the rules its rows keep across columns
(:mod:`~impactlab.schemas.rules`); the readers parse by this declaration and
:mod:`~impactlab.schemas.contract` generates the pandera schema that checks their output from it.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from typing import Literal

from impactlab.schemas.rules import (
    COST_HAS_AMOUNT,
    SCORE_WITHIN_MAX,
    TRAINED_HAS_DATE,
    RowRule,
    id_not_scientific,
    not_in_future,
    not_negative,
    ordered,
    within_scale,
)
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
    """One canonical column: its snake_case ``name`` and ``kind`` (a key of :data:`KIND_DTYPES`, which
    decides how raw values are parsed and the output dtype). A ``required`` column must be in the input
    and a row with no value there is rejected. ``synonyms`` are the other header spellings matched to it
    (compared after :func:`~impactlab.schemas.vocab.normalise_key`, so case, spaces and punctuation do not
    matter); ``allowed`` the canonical values of a ``category``/``status`` column; a ``derived`` column is
    filled by the reader, not read from the input (``status_raw``). A number column with ``grades_into``
    may hold grades written as words or letters (``Pass``, ``Fail``, ``B+``:
    :func:`~impactlab.schemas.vocab.is_grade_word`): such a cell leaves the number missing and its grade,
    as written, goes into the column named there, unless the input has that column itself.
    """

    name: str
    kind: Kind
    required: bool = False
    synonyms: tuple[str, ...] = ()
    allowed: tuple[str, ...] = ()
    derived: bool = False
    grades_into: str | None = None


@dataclass(frozen=True)
class TableSchema:
    """The contract of one canonical table: its columns, in output order, and the rules of its rows."""

    kind: str
    columns: tuple[ColumnSpec, ...]
    notes: tuple[str, ...] = field(default=())
    rules: tuple[RowRule, ...] = ()

    def with_rules(self, *rules: RowRule) -> TableSchema:
        """The same table held to ``rules`` instead of its own."""
        return replace(self, rules=rules)

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


def _words(text: str) -> tuple[str, ...]:
    """Header spellings written one per ``|``-separated field."""
    return tuple(w.strip() for w in text.split("|"))


_EMPLOYEE = _words(
    "employee id | employee | emp id | employee number | employee no | user id | userid | user | learner id"
    " | learner | worker id | student id | studentid | person id | participant id | staff id | username"
    " | learner reference"
)
_PROGRAM = _words(
    "program | programme | program name | programme name | training | training title | training name | course"
    " | course title | course name | course id | learning content | learning content reference | component id"
    " | item | activity"
)

COMPLETIONS = TableSchema(
    "completions",
    (
        ColumnSpec("employee_id", "id", True, _EMPLOYEE),
        ColumnSpec("program", "text", True, _PROGRAM),
        ColumnSpec("status", "status", True, _words(
            "transcript status | completion status | enrollment status | enrolment status | assignment status"
            " | status | state | completion state | completionstate"), allowed=STATUSES),
        ColumnSpec("status_raw", "text", derived=True),
        ColumnSpec("completed_at", "timestamp", False, _words(
            "completion date | completed date | transcript completed date | date completed | completed"
            " | completed on | completion time | date complete | course complete date"
            " | learning enrollment completion date | timecompleted | completiondate")),
        ColumnSpec("assigned_at", "timestamp", False, _words(
            "assigned date | transcript assigned date | assignment date | date assigned | registration date"
            " | transcript registration date | registered date | enrolled at | enrollment date"
            " | enrolment date | date inscr | timeenrolled")),
        ColumnSpec("attempt", "integer", False, _words(
            "attempt number | registration number | reg num | attempts | try")),
        ColumnSpec("hours", "number", False, _words(
            "training hours | duration hours | total hours | credit hours | hours spent | time spent hours"
            " | learning hours")),
        ColumnSpec("score", "number", False, _words(
            "final score | course score | overall course score | enrollment score | grade | result score"),
            grades_into="grade"),
        ColumnSpec("grade", "text", False, _words(
            "letter grade | grade letter | pass fail | learning grade reference")),
    ),
    rules=(TRAINED_HAS_DATE, not_in_future("completed_at"), not_negative("score"), not_negative("hours"),
           id_not_scientific("employee_id")),
)

ASSESSMENTS = TableSchema(
    "assessments",
    (
        ColumnSpec("employee_id", "id", True, _EMPLOYEE),
        ColumnSpec("program", "text", True, _PROGRAM),
        ColumnSpec("kind", "category", True, _words(
            "assessment kind | assessment type | test type | type | phase | timing"),
            allowed=ASSESSMENT_KINDS),
        ColumnSpec("score", "number", True, _words("raw score | points | result | assessment score")),
        ColumnSpec("max_score", "number", False, _words(
            "maximum score | max | max points | points possible | out of | total points")),
        ColumnSpec("taken_at", "timestamp", True, _words(
            "date | taken on | assessment date | test date | completed at | timestamp | submitted at")),
        ColumnSpec("attempt", "integer", False, _words("attempt number | try")),
    ),
    rules=(SCORE_WITHIN_MAX, not_negative("score"), not_negative("max_score"), not_in_future("taken_at"),
           id_not_scientific("employee_id")),
)

SURVEYS = TableSchema(
    "surveys",
    (
        ColumnSpec("employee_id", "id", False, _EMPLOYEE + ("respondent id", "respondent")),
        ColumnSpec("response_id", "id", False, _words(
            "responseid | submission id | submission | survey response id | record id")),
        ColumnSpec("program", "text", True, _PROGRAM[:-2]),
        ColumnSpec("item", "text", True, _words(
            "question | question id | item id | survey item | statement")),
        ColumnSpec("response", "number", True, _words("answer | rating | value | score")),
        ColumnSpec("scale_min", "number", False, _words("min | scale minimum | minimum")),
        ColumnSpec("scale_max", "number", False, _words("max | scale maximum | maximum")),
        ColumnSpec("answered_at", "timestamp", False, _words(
            "date | submitted at | response date | timestamp | completed at")),
    ),
    rules=(within_scale("scale_min"), within_scale("scale_max")),
)

OBSERVATIONS = TableSchema(
    "observations",
    (
        ColumnSpec("employee_id", "id", True, _EMPLOYEE),
        ColumnSpec("program", "text", False, _PROGRAM[:-2]),
        ColumnSpec("behavior", "text", True, _words("behaviour | behavior item | competency | skill | item")),
        ColumnSpec("rating", "number", True, _words("score | value | observed rating")),
        ColumnSpec("observed_at", "timestamp", True, _words(
            "date | observation date | observed on | timestamp")),
        ColumnSpec("observer", "text", False, _words(
            "observer id | rater | rater id | manager | manager id")),
    ),
)

ROSTER = TableSchema(
    "roster",
    (
        ColumnSpec("employee_id", "id", True, _EMPLOYEE[:-1] + ("id",)),
        ColumnSpec("team", "text", False, _words("team name | department | dept | group | unit")),
        ColumnSpec("manager_id", "id", False, _words(
            "manager | manager employee id | supervisor id | supervisor | reports to")),
        ColumnSpec("role", "text", False, _words("job | job title | title | position")),
        ColumnSpec("location", "text", False, _words("store | site | office | branch")),
        ColumnSpec("hire_date", "timestamp", False, _words(
            "hired | hire | start date | date hired | hired on | hired at")),
        ColumnSpec("termination_date", "timestamp", False, _words(
            "terminated | termination | end date | leave date | leaving date | exit date | terminated on"
            " | terminated at")),
        ColumnSpec("valid_from", "timestamp", False, _words("effective from | effective date | as of")),
        ColumnSpec("valid_to", "timestamp", False, _words("effective to | effective until | valid until")),
    ),
    rules=(
        ordered("hire_date", "termination_date", "an employee cannot leave before joining"),
        ordered("valid_from", "valid_to", "an as-of row must end after it starts"),
        id_not_scientific("employee_id"),
    ),
)

COSTS = TableSchema(
    "costs",
    (
        ColumnSpec("program", "text", True, _PROGRAM[:-2]),
        ColumnSpec("category", "category", True,
                   _words("cost category | cost type | type | item | cost item | line item | expense | "
                          "expense type"),
                   allowed=COST_CATEGORIES),
        ColumnSpec("amount", "number", False, _words("cost | value | total | amount spent | actual | spend")),
        ColumnSpec("low", "number", False, _words("amount low | min | minimum | lower")),
        ColumnSpec("high", "number", False, _words("amount high | max | maximum | upper")),
        ColumnSpec("currency", "text", False, _words("ccy | currency code")),
    ),
    rules=(COST_HAS_AMOUNT, ordered("low", "high", "a cost range must have low <= high")),
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
