"""Who hears of an admission's outcome, and what the emails say. The student hears of each
outcome when they have an account (``Student.user``); an email names the admission by its
school, year, major and candidate number, never by an ID number, and a reason typed by an
officer has anything that looks like one masked."""

from __future__ import annotations

from typing import Any

from django.conf import settings

from notifications.services import Recipient
from records import adverse
from records import glossary
from records import notices
from records.choices import AdmissionState
from records.choices import CancellationState
from records.choices import LearningForm
from records.choices import Level
from records.models import AdmissionCancellation
from records.models import AdmissionCohort
from records.models import AdmissionRecord
from records.models import Province
from records.models import StudentStatus
from records.validators import mask_id_numbers_in

# The email of each outcome recorded directly (a cancellation is announced when confirmed).
OUTCOME_EVENTS = {
    AdmissionState.GAVE_UP: "admission_gave_up",
    AdmissionState.RETAINED: "admission_retained",
}

# DOMAIN.md §2.3 "Adverse decisions": a student may appeal to the school within 10 days.
APPEAL_DAYS = 10


def student(admission: AdmissionRecord) -> list[Recipient]:
    """The admitted student, when they have an account (loaded with ``student__user``)."""
    login = admission.student.user
    return [notices.recipient_of(login, admission.student.name)] if login is not None else []


def site_url() -> str:
    return str(settings.SITE_URL).rstrip("/") + "/"


def context(admission: AdmissionRecord) -> dict[str, Any]:
    """What every admission email says of the admission (labels lazy: each recipient reads
    them in their own language)."""
    return {
        "school": admission.school.name,
        "year": admission.admission_year,
        "major": admission.major_name,
        "level": Level(admission.level).label,
        "learning_form": LearningForm(admission.learning_form).label,
        "candidate_number": admission.candidate_number,
        "reason": mask_id_numbers_in(admission.reason),
        "until": admission.retained_until,
        "appeal_days": APPEAL_DAYS,
        "url": site_url(),
    }


def registered_context(admission: AdmissionRecord, status: StudentStatus) -> dict[str, Any]:
    """The year is the status's: a retained admission registers with a later cohort."""
    return {
        **context(admission),
        "year": status.entry_date.year,
        "student_number": status.student_number,
        "entry_date": status.entry_date,
        "expected_graduation": status.expected_graduation,
    }


def cancellation_student(cancellation: AdmissionCancellation) -> list[Recipient]:
    """The student of a confirmed cancellation (loaded with ``admission__student__user``)."""
    return student(cancellation.admission)


def cancellation_requester(cancellation: AdmissionCancellation) -> list[Recipient]:
    return [notices.recipient_of(cancellation.requester)]


def cancellation_officers(cancellation: AdmissionCancellation) -> list[Recipient]:
    """Who may confirm it: the school's officers but its requester."""
    return [
        r
        for r in notices.school_officers(cancellation.school)
        if r.user_id != cancellation.requester_id
    ]


def cancellation_context(cancellation: AdmissionCancellation) -> dict[str, Any]:
    """The admission as it is once the decision is taken, with the request's reason."""
    return {
        **context(cancellation.admission),
        "reason": mask_id_numbers_in(cancellation.reason),
        "cancellation_id": cancellation.pk,
        "student": cancellation.admission.student.name,
    }


def cohort_officers(cohort: AdmissionCohort) -> list[Recipient]:
    return notices.school_officers(cohort.school)


def cohort_context(cohort: AdmissionCohort, unexamined: int) -> dict[str, Any]:
    """What the re-examination's reminders and escalation say of the cohort."""
    return {"year": cohort.year, "unexamined": unexamined, "entry_date": cohort.entry_date}


# --- the cancellation as an adverse decision ------------------------------------------------


def cancellation_url(cancellation: AdmissionCancellation) -> str:
    return notices.page_url(
        "home:cancellation",
        {"pk": cancellation.pk},
        f"/api/v1/admission-cancellations/{cancellation.pk}/",
    )


def cancellation_student_and_requester(cancellation: AdmissionCancellation) -> list[Recipient]:
    """The student (with an account) and the officer who asked."""
    people = {r.user_id: r for r in cancellation_student(cancellation)}
    people.setdefault(cancellation.requester_id, notices.recipient_of(cancellation.requester))
    return list(people.values())


def cancellation_admins(cancellation: AdmissionCancellation) -> list[Recipient]:
    return notices.provincial_admins(Province(pk=cancellation.province_id))


def adverse_context(cancellation: AdmissionCancellation) -> dict[str, Any]:
    """What the adverse decisions' emails (``adverse_*``) say of a cancellation."""
    return {
        "request_id": cancellation.pk,
        "school": cancellation.school.name,
        "student": cancellation.admission.student.name,
        "change": glossary.CANCELLATION_SUMMARY,
        "state": CancellationState(cancellation.state).label,
        "waiting_for": "",
        "url": cancellation_url(cancellation),
        "decision_text": cancellation.decision_text,
        "delivered_on": cancellation.delivered_on,
        "appeal": glossary.APPEAL_STAGES.get(cancellation.appeal, cancellation.appeal),
        "appeal_deadline": cancellation.appeal_deadline,
        "school_days": adverse.SCHOOL_APPEAL_DAYS,
        "province_days": adverse.PROVINCE_APPEAL_DAYS,
    }
