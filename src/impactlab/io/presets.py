"""Vendor presets: per-LMS header and status maps that sit on top of the default matching.

A preset is consulted after the user's own ``columns=``/``status_map=`` and before the default synonyms of
:mod:`impactlab.schemas.tables`; it only *adds* knowledge, so a header or status the preset does not know
still goes through the default matching, and a status nobody knows is rejected, never guessed.

The maps follow the project's LMS_EXPORTS.md (vendor help pages, connector documentation and public
parsers of real exports); ``docs/presets.md`` documents each preset with the layout it expects, and
``tests/data/presets/`` holds a synthetic sample of each. Tenants rename things: every preset is a starting
map, extended per call with ``columns=`` and ``status_map=``.

SuccessFactors is special: its completion statuses are defined per tenant, each with a "provides credit"
flag, so the preset maps on that flag (:attr:`Preset.credit_columns`), not on the status names.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from types import MappingProxyType

from impactlab.errors import check_option


def _ro(d: Mapping[str, str]) -> Mapping[str, str]:
    return MappingProxyType(dict(d))


@dataclass(frozen=True)
class Preset:
    """Header and status maps of one LMS export layout.

    Attributes
    ----------
    name : str
        The preset's name as passed to ``preset=``.
    columns : mapping of table kind to {raw header: canonical column}
        Raw headers are matched case-, space- and punctuation-insensitively; when several raw headers of
        the map are present for one canonical column, the first listed wins.
    status_map : mapping of raw status to canonical status
        Extends (and overrides) the default status map for completions.
    credit_columns : tuple of str
        Headers of a "provides credit" flag. When one is present, a row flagged as credited is ``completed``
        (``exempt`` when its status maps to exempt) whatever its status is called, and a row flagged as not
        credited can never be completed or passed (its status is ``unknown`` when no map knows it).
    non_data_rows : mapping of str to str
        Cell values (normalised) that mark a row as not a learner's record, with the reason given when the
        row is rejected (e.g. Canvas's "Test Student").
    description : str
        One line for ``docs/presets.md`` and error messages.
    """

    name: str
    columns: Mapping[str, Mapping[str, str]] = field(default_factory=lambda: MappingProxyType({}))
    status_map: Mapping[str, str] = field(default_factory=lambda: MappingProxyType({}))
    credit_columns: tuple[str, ...] = ()
    non_data_rows: Mapping[str, str] = field(default_factory=lambda: MappingProxyType({}))
    description: str = ""

    def columns_for(self, kind: str) -> Mapping[str, str]:
        """The header map of table ``kind`` (empty when the preset has none)."""
        return self.columns.get(kind, {})


NO_PRESET = Preset("none", description="default header and status matching only")

CORNERSTONE = Preset(
    "cornerstone",
    columns=MappingProxyType({
        "completions": _ro({
            # Reporting 2.0 (section prefixes are also stripped by the default matching), older exports,
            # the reporting API's transcript view, and Spanish headers
            "User - User ID": "employee_id",
            "User ID": "employee_id",
            "user_id": "employee_id",
            "Identificación de usuario": "employee_id",
            "Training - Training Title": "program",
            "Training Title": "program",
            "Título de la capacitación": "program",
            "Transcript - Transcript Status": "status",
            "Transcript Status": "status",
            "Estado del expediente": "status",
            "Transcript - Transcript Completed Date": "completed_at",
            "Transcript Completed Date": "completed_at",
            "user_lo_comp_dt": "completed_at",
            "Fecha de finalización de expediente": "completed_at",
            "Transcript - Transcript Assigned Date": "assigned_at",
            "Transcript Assigned Date": "assigned_at",
            "Transcript Registration Date": "assigned_at",
            "Registration Number": "attempt",
            "reg_num": "attempt",
            "Training Hours": "hours",
            "Transcript Score": "score",
            "user_lo_score": "score",
        })
    }),
    status_map=_ro({
        "Completed (Equivalent)": "exempt",
        "Completed Equivalent": "exempt",
        "Equivalent": "exempt",
        "Exempt": "exempt",
        "Registered": "enrolled",
        "Waitlisted": "enrolled",
        "Pending Approval": "enrolled",
        "Pending Prerequisite": "enrolled",
        "Pending Pre-Work": "enrolled",
        "Pending Payment": "enrolled",
        "Exception Requested": "assigned",
        "Denied": "withdrawn",
        "No Show": "withdrawn",
        "Terminado": "completed",
        "En Progreso": "in_progress",
        "Registrado": "enrolled",
        "Exento": "exempt",
        "Retirado": "withdrawn",
        "Cancelado": "withdrawn",
    }),
    description="Cornerstone OnDemand transcript reports (Reporting 2.0, older exports, Spanish headers)",
)

WORKDAY = Preset(
    "workday",
    columns=MappingProxyType({
        "completions": _ro({
            "Learner_Reference": "employee_id",
            "Learner": "employee_id",
            "Worker ID": "employee_id",
            "Employee ID": "employee_id",
            "Learning_Content_Reference": "program",
            "Learning Content": "program",
            "Learning_Enrollment_Status": "status",
            "Enrollment Status": "status",
            "Completion Status": "status",
            "Learning_Enrollment_Completion_Date": "completed_at",
            "Completion Date": "completed_at",
            "Registered_Date": "assigned_at",
            "Registered Date": "assigned_at",
            "Overall_Course_Score": "score",
            "Overall Course Score": "score",
        })
    }),
    status_map=_ro({
        # enrolment statuses; dropped enrolments stay on the transcript as Dropped
        "Not Started": "enrolled",
        "In Progress": "in_progress",
        "Completed": "completed",
        "Dropped": "withdrawn",
        "Waived": "exempt",
        "Open": "assigned",
    }),
    description="Workday Learning enrolments (web-service field names or report headers)",
)

SUCCESSFACTORS = Preset(
    "successfactors",
    columns=MappingProxyType({
        "completions": _ro({
            "StudentId": "employee_id",
            "StudentID": "employee_id",
            "ComponentID": "program",
            "CompletionStatusID": "status",
            "CompletionDate": "completed_at",
            "TotalHours": "hours",
            "CreditHours": "hours",
        })
    }),
    status_map=_ro({"Exempt": "exempt", "Waived": "exempt", "Equivalent": "exempt"}),
    credit_columns=("ProvidesCredit", "Provides Credit", "ProvideCredit", "CreditGiven", "Credit Given"),
    description="SAP SuccessFactors Learning history (status read from the 'provides credit' flag)",
)

DOCEBO = Preset(
    "docebo",
    columns=MappingProxyType({
        "completions": _ro({
            "username": "employee_id",
            "user_id": "employee_id",
            "course_name": "program",
            "course_code": "program",
            "course_id": "program",
            "enrollment_status": "status",
            "status": "status",
            "course_complete_date": "completed_at",
            "date_complete": "completed_at",
            "enrollment_completion_date": "completed_at",
            "date_inscr": "assigned_at",
            "enrollment_date": "assigned_at",
            "enrollment_score": "score",
            "score": "score",
        })
    }),
    status_map=_ro({
        "subscribed": "enrolled",
        "enrolled": "enrolled",
        "not_started": "enrolled",
        "in_progress": "in_progress",
        "completed": "completed",
        "waiting": "enrolled",
        "waiting_list": "enrolled",
        "waiting users": "enrolled",
        "to confirm": "enrolled",
        "enrollment to confirm": "enrolled",
        "overbooking": "enrolled",
        "suspended": "withdrawn",
        # integer codes of the Docebo SDK and older exports
        "-2": "enrolled",  # waiting list
        "-1": "enrolled",  # to confirm
        "0": "enrolled",  # subscribed
        "1": "in_progress",
        "2": "completed",
        "3": "withdrawn",  # suspended
        "4": "enrolled",  # overbooking
    }),
    description="Docebo enrolment reports and API exports",
)

MOODLE = Preset(
    "moodle",
    columns=MappingProxyType({
        "completions": _ro({
            "userid": "employee_id",
            "fullname": "program",
            "coursename": "program",
            "course": "program",
            "completionstate": "status",
            "timecompleted": "completed_at",
            "Course complete": "completed_at",
            "timeenrolled": "assigned_at",
        })
    }),
    status_map=_ro({
        # completionstate: 0 incomplete, 1 complete, 2 complete and passed, 3 complete and failed,
        # 4 failed and hidden (newer versions)
        "0": "in_progress",
        "1": "completed",
        "2": "passed",
        "3": "failed",
        "4": "failed",
        "Not completed": "in_progress",
        "Completed (achieved pass grade)": "passed",
        "Completed (did not achieve pass grade)": "failed",
    }),
    description="Moodle course_completions / course_modules_completion extracts and completion reports",
)

CANVAS = Preset(
    "canvas",
    columns=MappingProxyType({
        "completions": _ro({
            "sis_user_id": "employee_id",
            "SIS User ID": "employee_id",
            "user_sis_id": "employee_id",
            "course_name": "program",
            "Course": "program",
            "workflow_state": "status",
            "enrollment_state": "status",
            "Enrollment State": "status",
            "completed_at": "completed_at",
            "created_at": "assigned_at",
            "final_score": "score",
            "Final Score": "score",
        })
    }),
    status_map=_ro({
        # Canvas cannot tell "enrolled" from "started": an active enrolment is read as in progress
        "active": "in_progress",
        "invited": "assigned",
        "creation_pending": "assigned",
        "completed": "completed",
        "inactive": "withdrawn",
        "deleted": "withdrawn",
        "rejected": "withdrawn",
    }),
    non_data_rows=_ro({
        "test student": "Canvas 'Test Student': the course's preview account, not a learner",
    }),
    description="Canvas LMS enrolment exports (Canvas Data, grade export) with gradebook quirks",
)

#: Registered presets by the name users pass; ``None`` means the default matching only.
PRESETS: dict[str | None, Preset] = {
    None: NO_PRESET,
    **{p.name: p for p in (CORNERSTONE, WORKDAY, SUCCESSFACTORS, DOCEBO, MOODLE, CANVAS)},
}


def get_preset(preset: str | None) -> Preset:
    """The :class:`Preset` named ``preset``; ``ValueError`` listing the valid names otherwise."""
    check_option("preset", preset, tuple(PRESETS))
    return PRESETS[preset]
