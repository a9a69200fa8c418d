"""Vendor presets (Cornerstone, Workday, SuccessFactors, Docebo, Moodle, Canvas): per-LMS header and
status maps consulted after the user's own ``columns=``/``status_map=`` and before the default matching,
only adding knowledge (a status nobody knows is still rejected); SuccessFactors maps on its "provides
credit" flag (:attr:`Preset.credit_columns`) rather than on status names, and ``docs/presets.md`` documents
each layout.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from types import MappingProxyType

from impactlab.errors import check_option


def _by_target(groups: Mapping[str, Sequence[str]]) -> Mapping[str, str]:
    """``{raw: target}`` from ``{target: raw spellings, preferred first}``, read-only."""
    return MappingProxyType({raw: target for target, raws in groups.items() for raw in raws})


def _completions(**groups: Sequence[str]) -> Mapping[str, Mapping[str, str]]:
    """A preset's header map for the completions table: ``canonical column=(raw headers...)``."""
    return MappingProxyType({"completions": _by_target(groups)})


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
    status_from_times : tuple of str
        Headers of the completed, started and enrolled timestamps of a table that has no status column
        (Moodle's ``course_completions``): the status is then ``completed`` when the first is set,
        ``in_progress`` when the second is, ``enrolled`` otherwise (empty and ``0`` mean not set).
    description : str
        One line for ``docs/presets.md`` and error messages.
    """

    name: str
    columns: Mapping[str, Mapping[str, str]] = field(default_factory=lambda: MappingProxyType({}))
    status_map: Mapping[str, str] = field(default_factory=lambda: MappingProxyType({}))
    credit_columns: tuple[str, ...] = ()
    non_data_rows: Mapping[str, str] = field(default_factory=lambda: MappingProxyType({}))
    status_from_times: tuple[str, ...] = ()
    description: str = ""

    def columns_for(self, kind: str) -> Mapping[str, str]:
        """The header map of table ``kind`` (empty when the preset has none)."""
        return self.columns.get(kind, {})


NO_PRESET = Preset("none", description="default header and status matching only")

CORNERSTONE = Preset(
    "cornerstone",
    # Reporting 2.0 (section prefixes are also stripped by the default matching), older exports, the
    # reporting API's transcript view, and Spanish headers
    columns=_completions(
        employee_id=("User - User ID", "User ID", "user_id", "Identificación de usuario"),
        program=("Training - Training Title", "Training Title", "Título de la capacitación"),
        status=("Transcript - Transcript Status", "Transcript Status", "Estado del expediente"),
        completed_at=("Transcript - Transcript Completed Date", "Transcript Completed Date",
                      "user_lo_comp_dt", "Fecha de finalización de expediente"),
        assigned_at=("Transcript - Transcript Assigned Date", "Transcript Assigned Date",
                     "Transcript Registration Date"),
        attempt=("Registration Number", "reg_num"),
        hours=("Training Hours",),
        score=("Transcript Score", "user_lo_score"),
    ),
    status_map=_by_target({
        "exempt": ("Completed (Equivalent)", "Completed Equivalent", "Equivalent", "Exempt", "Exento"),
        "enrolled": ("Registered", "Waitlisted", "Pending Approval", "Pending Prerequisite",
                     "Pending Pre-Work", "Pending Payment", "Registrado"),
        "withdrawn": ("Denied", "No Show", "Retirado", "Cancelado"),
        "assigned": ("Exception Requested",), "completed": ("Terminado",), "in_progress": ("En Progreso",),
    }),
    description="Cornerstone OnDemand transcript reports (Reporting 2.0, older exports, Spanish headers)",
)

WORKDAY = Preset(
    "workday",
    columns=_completions(
        employee_id=("Learner_Reference", "Learner", "Worker ID", "Employee ID"),
        program=("Learning_Content_Reference", "Learning Content"),
        status=("Learning_Enrollment_Status", "Enrollment Status", "Completion Status"),
        completed_at=("Learning_Enrollment_Completion_Date", "Completion Date"),
        assigned_at=("Registered_Date", "Registered Date"),
        score=("Overall_Course_Score", "Overall Course Score"),
    ),
    # enrolment statuses; dropped enrolments stay on the transcript as Dropped
    status_map=_by_target({
        "enrolled": ("Not Started",), "in_progress": ("In Progress",), "completed": ("Completed",),
        "withdrawn": ("Dropped",), "exempt": ("Waived",), "assigned": ("Open",),
    }),
    description="Workday Learning enrolments (web-service field names or report headers)",
)

SUCCESSFACTORS = Preset(
    "successfactors",
    columns=_completions(
        employee_id=("StudentId", "StudentID"),
        program=("ComponentID",),
        status=("CompletionStatusID",),
        completed_at=("CompletionDate",),
        hours=("TotalHours", "CreditHours"),
    ),
    status_map=_by_target({"exempt": ("Exempt", "Waived", "Equivalent")}),
    credit_columns=("ProvidesCredit", "Provides Credit", "ProvideCredit", "CreditGiven", "Credit Given"),
    description="SAP SuccessFactors Learning history (status read from the 'provides credit' flag)",
)

DOCEBO = Preset(
    "docebo",
    columns=_completions(
        employee_id=("username", "user_id"),
        program=("course_name", "course_code", "course_id"),
        status=("enrollment_status", "status"),
        completed_at=("course_complete_date", "date_complete", "enrollment_completion_date"),
        assigned_at=("date_inscr", "enrollment_date"),
        score=("enrollment_score", "score"),
    ),
    # the integer codes are those of the Docebo SDK and older exports: -2 waiting list, -1 to confirm,
    # 0 subscribed, 1 in progress, 2 completed, 3 suspended, 4 overbooking
    status_map=_by_target({
        "enrolled": ("subscribed", "enrolled", "not_started", "waiting", "waiting_list", "waiting users",
                     "to confirm", "enrollment to confirm", "overbooking", "-2", "-1", "0", "4"),
        "in_progress": ("in_progress", "1"),
        "completed": ("completed", "2"),
        "withdrawn": ("suspended", "3"),
    }),
    description="Docebo enrolment reports and API exports",
)

MOODLE = Preset(
    "moodle",
    columns=_completions(
        employee_id=("userid",),
        program=("fullname", "coursename", "course"),
        status=("completionstate",),
        completed_at=("timecompleted", "Course complete"),
        assigned_at=("timeenrolled",),
    ),
    # completionstate: 0 incomplete, 1 complete, 2 complete and passed, 3 complete and failed,
    # 4 failed and hidden (newer versions)
    status_map=_by_target({
        "in_progress": ("0", "Not completed"), "completed": ("1",),
        "passed": ("2", "Completed (achieved pass grade)"),
        "failed": ("3", "4", "Completed (did not achieve pass grade)"),
    }),
    # course_completions has no status: it is read from its Unix-second timestamps (0 = not set)
    status_from_times=("timecompleted", "timestarted", "timeenrolled"),
    description="Moodle course_completions / course_modules_completion extracts and completion reports",
)

CANVAS = Preset(
    "canvas",
    columns=_completions(
        employee_id=("sis_user_id", "SIS User ID", "user_sis_id"),
        program=("course_name", "Course"),
        status=("workflow_state", "enrollment_state", "Enrollment State"),
        completed_at=("completed_at",),
        assigned_at=("created_at",),
        score=("final_score", "Final Score"),
    ),
    # Canvas cannot tell "enrolled" from "started": an active enrolment is read as in progress
    status_map=_by_target({
        "in_progress": ("active",), "assigned": ("invited", "creation_pending"), "completed": ("completed",),
        "withdrawn": ("inactive", "deleted", "rejected"),
    }),
    non_data_rows=MappingProxyType({
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
