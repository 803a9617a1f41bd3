"""The checks of a prepared qualification before registration (DOMAIN.md §2.4, §4 items
3–5, 15), each a clear error per student: the status it concludes is at the cohort's school
and level, held by the same person and still enrolled; the identity and programme are the
status record's; the certificate number is valid; the issue date is the cohort's graduation
date; a photo is there. The photo gate (``held``) is not an error: the graduate waits for the
province's approval of the school's re-check.

The checks read plain values (one query per chunk), never a model instance per graduate: a
cohort is thousands of them."""

from __future__ import annotations

import datetime
from dataclasses import dataclass
from typing import Any

from django.utils.translation import gettext_lazy as _
from django_stubs_ext import StrOrPromise

from records.choices import FLAGGED_IDENTITY_CHECKS
from records.choices import StatusState
from records.models import Qualification
from records.qualifications import certificate_errors

NO_STATUS = _("The qualification is not prepared from a student status.")
STATUS_SCHOOL = _("The student status is at another school (%(school)s).")
STATUS_PERSON = _("The student status belongs to another person.")
STATUS_LEVEL = _("The student status is of another level (%(level)s).")
STATUS_STATE = _("The student status is “%(state)s”, not enrolled.")
DIFFERS = _("“%(label)s” differs from the student status record: %(status)s.")
ISSUE_DATE = _("The issue date must be the cohort's graduation date, %(date)s.")
NO_PHOTO = _("The graduation photo is missing.")
HELD = _(
    "Held by the photo comparison (%(check)s): the school re-checks the graduate's identity "
    "and the province approves the re-check before registration."
)

# What is compared with the person (the ``Student`` row) and with the status.
IDENTITY_FIELDS = ("name", "gender", "birth_date", "id_type", "id_number")
PROGRAMME_FIELDS = ("major_code", "major_name", "level", "study_length", "learning_form")
# The fields a draft is read with.
DRAFT_FIELDS = (
    "pk",
    "student_id",
    "student_status_id",
    *IDENTITY_FIELDS,
    *PROGRAMME_FIELDS,
    "start_date",
    "graduation_date",
    "graduation_result",
    "education_type",
    "certificate_number",
    "photo",
    "identity_check",
    "identity_cleared_at",
)


@dataclass(frozen=True)
class Problem:
    """One failed check of a graduate: the field it is about, a stable code, the message."""

    field: str
    code: str
    message: str

    def as_dict(self) -> dict[str, str]:
        return {"field": self.field, "code": self.code, "message": self.message}


def problem(field: str, code: str, message: StrOrPromise, **params: Any) -> Problem:
    return Problem(field, code, str(message % params if params else message))


def is_held(identity_check: str, cleared_at: datetime.datetime | None) -> bool:
    """Flagged by the photo comparison and not released by the province."""
    return identity_check in FLAGGED_IDENTITY_CHECKS and cleared_at is None


def _shown(value: Any, field: str, labels: dict[str, dict[str, Any]]) -> str:
    """A value as an officer reads it (a choice's label), never an ID number: the message
    goes to the pages, the API and the audit."""
    if field == "id_number":
        return str(_("another ID number"))
    label = labels.get(field, {}).get(value)
    return str(label if label is not None else value)


def check(
    draft: dict[str, Any],
    *,
    status: dict[str, Any] | None,
    person: dict[str, Any] | None,
    school_id: str,
    graduation_date: datetime.date,
    labels: dict[str, dict[str, Any]],
) -> list[Problem]:
    """Every failed check of one draft (its values by field name) against its ``status`` and
    the status's ``person`` (their values, ``None`` when missing)."""
    if status is None or person is None:
        return [problem("student_status", "no_status", NO_STATUS)]
    found = _status_problems(draft, status, school_id, labels)
    for field in IDENTITY_FIELDS:
        if draft[field] != person[field]:
            found.append(_differs(field, person[field], "identity_differs", labels))
    for field in PROGRAMME_FIELDS:
        if field != "level" and draft[field] != status[field]:
            found.append(_differs(field, status[field], "programme_differs", labels))
    if draft["start_date"] != status["entry_date"]:
        found.append(_differs("start_date", status["entry_date"], "programme_differs", labels))
    for error in certificate_errors(
        draft["certificate_number"],
        school_code=school_id,
        education_type=draft["education_type"],
        issue_year=draft["graduation_date"].year,
        level=draft["level"],
    ):
        found.append(Problem("certificate_number", str(error.code), " ".join(error.messages)))
    if draft["graduation_date"] != graduation_date:
        found.append(
            problem("graduation_date", "issue_date", ISSUE_DATE, date=graduation_date.isoformat())
        )
    if not draft["photo"]:
        found.append(problem("photo", "photo_missing", NO_PHOTO))
    return found


def _status_problems(
    draft: dict[str, Any], status: dict[str, Any], school_id: str, labels: dict[str, dict[str, Any]]
) -> list[Problem]:
    """The status is at the school and level, held by the draft's person, still enrolled."""
    found: list[Problem] = []
    if status["school_id"] != school_id:
        found.append(
            problem("student_status", "status_school", STATUS_SCHOOL, school=status["school_id"])
        )
    if status["student_id"] != draft["student_id"]:
        found.append(problem("student_status", "status_person", STATUS_PERSON))
    if status["level"] != draft["level"]:
        level = _shown(status["level"], "level", labels)
        found.append(problem("level", "status_level", STATUS_LEVEL, level=level))
    if status["state"] != StatusState.ENROLLED:
        state = StatusState(status["state"]).label
        found.append(problem("student_status", "status_state", STATUS_STATE, state=state))
    return found


def _differs(field: str, expected: Any, code: str, labels: dict[str, dict[str, Any]]) -> Problem:
    name = Qualification._meta.get_field(field).verbose_name
    if field == "start_date":
        return problem(field, code, DIFFERS, label=name, status=expected.isoformat())
    return problem(field, code, DIFFERS, label=name, status=_shown(expected, field, labels))
