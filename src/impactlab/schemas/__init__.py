"""The canonical tables and their checks: :mod:`~impactlab.schemas.tables` declares each table's columns and
row rules (:mod:`~impactlab.schemas.rules`), :mod:`~impactlab.schemas.vocab` the controlled vocabularies
(statuses, assessment kinds, Phillips cost categories), and :func:`validate` checks a typed frame against
the pandera schema generated from its declaration (:func:`to_pandera`).
"""

from impactlab.schemas.contract import to_pandera, validate
from impactlab.schemas.tables import (
    ASSESSMENTS,
    COMPLETIONS,
    COSTS,
    KIND_DTYPES,
    OBSERVATIONS,
    ROSTER,
    SCHEMAS,
    SURVEYS,
    ColumnSpec,
    TableSchema,
    get_schema,
    kpis_schema,
)
from impactlab.schemas.vocab import (
    ASSESSMENT_KINDS,
    COST_CATEGORIES,
    DEFAULT_CATEGORY_MAP,
    DEFAULT_KIND_MAP,
    DEFAULT_STATUS_MAP,
    STATUSES,
    TRAINED_STATUSES,
    normalise_key,
    normalise_status,
)

__all__ = [
    "ASSESSMENTS",
    "ASSESSMENT_KINDS",
    "COMPLETIONS",
    "COSTS",
    "COST_CATEGORIES",
    "ColumnSpec",
    "DEFAULT_CATEGORY_MAP",
    "DEFAULT_KIND_MAP",
    "DEFAULT_STATUS_MAP",
    "KIND_DTYPES",
    "OBSERVATIONS",
    "ROSTER",
    "SCHEMAS",
    "STATUSES",
    "SURVEYS",
    "TRAINED_STATUSES",
    "TableSchema",
    "get_schema",
    "kpis_schema",
    "normalise_key",
    "normalise_status",
    "to_pandera",
    "validate",
]
