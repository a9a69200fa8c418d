"""Controlled vocabularies of the canonical tables (statuses, assessment kinds, Phillips cost categories),
each a tuple of canonical values with a default map from raw strings, compared after
:func:`normalise_key` (case and punctuation ignored); their sources are in ``docs/explanation.md``,
"Reading exports".
"""

from __future__ import annotations

import re
from collections.abc import Mapping

#: Canonical completion statuses (DOMAIN.md).
STATUSES: tuple[str, ...] = (
    "assigned",
    "enrolled",
    "in_progress",
    "completed",
    "passed",
    "failed",
    "withdrawn",
    "expired",
    "overdue",
    "exempt",
    "unknown",
)

#: Statuses that mean the person finished the training (``completed_at`` is then required).
TRAINED_STATUSES: tuple[str, ...] = ("completed", "passed")

#: Phillips fully-loaded cost categories.
COST_CATEGORIES: tuple[str, ...] = (
    "needs_assessment",
    "design",
    "delivery",
    "facilitators",
    "materials",
    "facilities",
    "participant_time",
    "travel",
    "evaluation",
    "overhead",
)

#: Assessment kinds.
ASSESSMENT_KINDS: tuple[str, ...] = ("pre", "post", "delayed")

#: Grade words an LMS writes in a grade or score column instead of a number (SuccessFactors grades are
#: tenant-defined: numbers, letters or Pass/Fail/Incomplete), compared after :func:`normalise_key`; the
#: letter grades A-F with a + or - are recognised too (:func:`is_grade_word`).
GRADE_WORDS: frozenset[str] = frozenset({
    "pass", "passed", "fail", "failed", "incomplete", "complete", "satisfactory", "unsatisfactory",
    "credit", "no credit", "distinction", "merit", "pass with distinction", "pass with merit", "not graded",
    "ungraded", "s", "u", "p",
})
_LETTER_GRADE = re.compile(r"\s*[A-Fa-f][+-]?\s*")


def is_grade_word(value: object) -> bool:
    """True for a grade written as a word (:data:`GRADE_WORDS`) or a letter (``A`` to ``F``, ``B+``)."""
    if not isinstance(value, str):
        return False
    return bool(_LETTER_GRADE.fullmatch(value)) or normalise_key(value) in GRADE_WORDS

_NON_ALNUM = re.compile(r"[^0-9a-z]+")


_NEGATIVE_INT = re.compile(r"\s*-\s*(\d+)\s*")


def normalise_key(value: object) -> str:
    """Lower-case ``value`` and collapse every run of non-alphanumeric characters into one space.

    A negative whole number keeps its sign (``"-2"`` -> ``"-2"``): vendors code statuses as integers
    (Docebo's ``-2`` waiting list), and ``-2`` must not become ``2``.
    """
    m = _NEGATIVE_INT.fullmatch(str(value))
    if m is not None:
        return "-" + m.group(1)
    return _NON_ALNUM.sub(" ", str(value).lower()).strip()


def _norm_map(pairs: Mapping[str, str]) -> dict[str, str]:
    return {normalise_key(k): v for k, v in pairs.items()}


# Choices worth stating (they change who counts as trained):
# * "Completed Equivalent", "Completed (Equivalent)", "Equivalent", "Exempt", "Waived" -> exempt: credited
#   but not trained, so never treated (DOMAIN.md).
# * "No Show" -> withdrawn: the person was registered and did not attend; not trained, not a failed attempt.
# * "Incomplete" -> in_progress (SCORM 1.2 meaning: started, not finished).
# * Pending-approval / waitlist states -> enrolled (asked for a seat, not started).
# * "Denied", "Cancelled", "Dropped" -> withdrawn.
# * A "<status> / Past Due" suffix keeps <status>; "Past Due" alone -> overdue.
DEFAULT_STATUS_MAP: dict[str, str] = _norm_map(
    {
        "assigned": "assigned",
        "not started": "assigned",
        "not attempted": "assigned",
        "open": "assigned",
        "exception requested": "assigned",
        "enrolled": "enrolled",
        "registered": "enrolled",
        "subscribed": "enrolled",
        "waitlisted": "enrolled",
        "waiting users": "enrolled",
        "enrollment to confirm": "enrolled",
        "pending approval": "enrolled",
        "pending prerequisite": "enrolled",
        "pending pre work": "enrolled",
        "pending payment": "enrolled",
        "in progress": "in_progress",
        "started": "in_progress",
        "incomplete": "in_progress",
        "completed": "completed",
        "complete": "completed",
        "finished": "completed",
        "attended": "completed",
        "passed": "passed",
        "pass": "passed",
        "completed achieved pass grade": "passed",
        "failed": "failed",
        "fail": "failed",
        "completed did not achieve pass grade": "failed",
        "withdrawn": "withdrawn",
        "withdrew": "withdrawn",
        "cancelled": "withdrawn",
        "canceled": "withdrawn",
        "dropped": "withdrawn",
        "denied": "withdrawn",
        "no show": "withdrawn",
        "expired": "expired",
        "past due": "overdue",
        "overdue": "overdue",
        "exempt": "exempt",
        "exempted": "exempt",
        "waived": "exempt",
        "equivalent": "exempt",
        "completed equivalent": "exempt",
        "completed equivalency": "exempt",
        "unknown": "unknown",
    }
)

DEFAULT_KIND_MAP: dict[str, str] = _norm_map(
    {
        "pre": "pre",
        "pretest": "pre",
        "pre test": "pre",
        "pre assessment": "pre",
        "baseline": "pre",
        "before": "pre",
        "post": "post",
        "posttest": "post",
        "post test": "post",
        "post assessment": "post",
        "after": "post",
        "delayed": "delayed",
        "delayed post": "delayed",
        "follow up": "delayed",
        "followup": "delayed",
        "retention": "delayed",
    }
)

DEFAULT_CATEGORY_MAP: dict[str, str] = _norm_map(
    {
        **{c: c for c in COST_CATEGORIES},
        "needs assessment": "needs_assessment",
        "needs analysis": "needs_assessment",
        "analysis": "needs_assessment",
        "front end analysis": "needs_assessment",
        "design and development": "design",
        "design development": "design",
        "development": "design",
        "instructional design": "design",
        "delivery costs": "delivery",
        "program delivery": "delivery",
        "facilitator": "facilitators",
        "facilitator fees": "facilitators",
        "instructor": "facilitators",
        "instructors": "facilitators",
        "trainer": "facilitators",
        "trainers": "facilitators",
        "material": "materials",
        "materials and supplies": "materials",
        "course materials": "materials",
        "facility": "facilities",
        "venue": "facilities",
        "room": "facilities",
        "participant time": "participant_time",
        "participants time": "participant_time",
        "participant salaries": "participant_time",
        "participants salaries and benefits": "participant_time",
        "participant salaries and benefits": "participant_time",
        "salaries and benefits": "participant_time",
        "travel and expenses": "travel",
        "travel lodging and meals": "travel",
        "t e": "travel",
        "evaluation costs": "evaluation",
        "overheads": "overhead",
        "administration": "overhead",
        "admin": "overhead",
    }
)

_PAST_DUE_SUFFIX = re.compile(r"\s*/\s*past\s*due\s*$", re.IGNORECASE)


def normalise_status(raw: object, status_map: Mapping[str, str]) -> str | None:
    """Map a raw status string to a canonical status, or ``None`` when it is not known.

    ``status_map`` must already have normalised keys (see :func:`normalise_key`). A ``"X / Past Due"``
    suffix is dropped when ``X`` is known (the row keeps the status ``X``); the suffix alone is not a status.
    """
    key = normalise_key(raw)
    if key in status_map:
        return status_map[key]
    stripped = _PAST_DUE_SUFFIX.sub("", str(raw))
    if stripped != str(raw):
        base = normalise_key(stripped)
        if base in status_map:
            return status_map[base]
    return None


def extend_status_map(
    status_map: Mapping[str, str] | None = None, *, preset: Mapping[str, str] | None = None
) -> dict[str, str]:
    """:data:`DEFAULT_STATUS_MAP`, updated by a vendor preset's map, then by the user's ``status_map``.

    Keys are normalised (:func:`normalise_key`).

    Raises
    ------
    ValueError
        When ``status_map`` maps a string onto something that is not a canonical status.
    """
    merged = dict(DEFAULT_STATUS_MAP)
    merged.update({normalise_key(k): v for k, v in (preset or {}).items()})
    if status_map:
        bad = {k: v for k, v in status_map.items() if v not in STATUSES}
        if bad:
            raise ValueError(
                f"The 'status_map' parameter must map raw strings onto one of "
                f"{', '.join(STATUSES)}. Got {bad!r} instead."
            )
        merged.update({normalise_key(k): v for k, v in status_map.items()})
    return merged
