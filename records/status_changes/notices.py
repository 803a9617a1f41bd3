"""Who hears of a status change, in which words. Notices name the type and the student,
never an ID number."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.urls import NoReverseMatch
from django.urls import reverse

from notifications.services import Recipient
from records import glossary
from records import notices
from records.models import Province
from records.models import StatusChangeRequest
from records.status_changes.types import TYPES


def request_url(request: StatusChangeRequest) -> str:
    try:
        path = reverse("status_changes:detail", kwargs={"pk": request.pk})
    except NoReverseMatch:  # no web pages for status changes (yet): the API's
        path = f"/api/v1/status-changes/{request.pk}/"
    return str(settings.SITE_URL).rstrip("/") + path


def requester_and_student(request: StatusChangeRequest) -> list[Recipient]:
    """The requester and the student (one person when the student filed it)."""
    people: dict[int, Recipient] = {}
    student_user = request.student.user
    if student_user is not None:
        people[student_user.pk] = notices.recipient_of(student_user, request.student.name)
    people.setdefault(request.requester_id, notices.recipient_of(request.requester))
    return list(people.values())


def school_officers(request: StatusChangeRequest) -> list[Recipient]:
    """The officers of the request's school who may take its next school step: never the
    requester, nor the decider of its first level."""
    excluded = {request.requester_id, request.first_decided_by_id}
    return [r for r in notices.school_officers(request.school) if r.user_id not in excluded]


def provincial_admins(request: StatusChangeRequest) -> list[Recipient]:
    return notices.provincial_admins(Province(pk=request.province_id))


def context(request: StatusChangeRequest) -> dict[str, Any]:
    """What every status change email says of its request (lazy labels: each recipient
    reads them in their own language)."""
    kind = TYPES.get(request.type)
    return {
        "request_id": request.pk,
        "school": request.school.name,
        "student": request.student.name,
        "change": kind.label if kind else request.type,
        "state": glossary.STATUS_CHANGE_STATES.get(request.state, request.state),
        "waiting_for": glossary.STATUS_CHANGE_WAITING_FOR.get(request.state, ""),
        "url": request_url(request),
    }
