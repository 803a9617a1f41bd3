"""The history of a status change request and of a student status, read from their audit
chains: every step of a request; every change a status took (values before and after)."""

from __future__ import annotations

from django.contrib.contenttypes.models import ContentType
from django.db import connection
from django.db import models
from django.utils.translation import gettext

from records.admissions.services import ADMISSIONS_REGISTERED
from records.corrections.history import HistoryEntry
from records.models import AdmissionCohort
from records.models import AuditEvent
from records.models import StudentStatus
from records.validators import mask_id_numbers_in


def _history(subject: models.Model, prefix: str) -> list[HistoryEntry]:
    content_type = ContentType.objects.get_for_model(type(subject))
    events = (
        AuditEvent.objects.filter(subject_type=content_type, subject_id=str(subject.pk))
        .select_related("actor")
        .order_by("seq")
    )
    return [
        HistoryEntry(
            action=event.action.removeprefix(prefix),
            actor=event.actor.display_name if event.actor else gettext("system"),
            at=event.created,
            # A reason or comment is shown again to readers of every kind: never a full ID
            # number in it.
            comment=mask_id_numbers_in(
                str(event.data.get("comment") or event.data.get("reason") or "")
            ),
            data=event.data,
        )
        for event in events
    ]


def request_history(request: models.Model) -> list[HistoryEntry]:
    """Every step of a status change request: who, what, when, comment."""
    return _history(request, "status_change.")


def status_history(status: StudentStatus) -> list[HistoryEntry]:
    """The status's registration (``registered``: its cohort, admission and student number,
    read from the cohort's chain, whose events each record a registration's admissions), then
    every event of the status's own chain (its changes: ``changed``, with the type, the
    request and the values before and after)."""
    return [*_registration(status), *_history(status, "status.")]


def _registration(status: StudentStatus) -> list[HistoryEntry]:
    """The registration that created ``status``: the event of its cohort's chain (the
    school's cohort of its entry year) that lists its admission. A cohort has one such event
    for each chunk of its registration (and for each return of a retained admission): on
    PostgreSQL the one listing the status is found by JSON containment, elsewhere among
    them."""
    if status.admission_id is None:
        return []
    cohorts = [
        str(pk)
        for pk in AdmissionCohort.objects.filter(
            school_id=status.school_id, year=status.entry_date.year
        ).values_list("pk", flat=True)
    ]
    events = AuditEvent.objects.filter(
        subject_type=ContentType.objects.get_for_model(AdmissionCohort),
        subject_id__in=cohorts,
        action=ADMISSIONS_REGISTERED,
    ).select_related("actor")
    entry = [status.admission_id, status.pk]  # the number may have changed since
    if connection.vendor == "postgresql":
        events = events.filter(data__registered__contains=[entry])
    for event in events.order_by("seq"):
        if any(item[:2] == entry for item in event.data["registered"]):
            return [
                HistoryEntry(
                    action="registered",
                    actor=event.actor.display_name if event.actor else gettext("system"),
                    at=event.created,
                    comment="",
                    data={
                        "cohort": int(event.subject_id),
                        "admission": status.admission_id,
                        "student_number": next(
                            item[2] for item in event.data["registered"] if item[:2] == entry
                        ),
                    },
                )
            ]
    return []
