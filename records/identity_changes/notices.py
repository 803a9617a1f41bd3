"""Who hears of an identity change, in which words. Notices name the changed fields, never
their values (a value may be an ID number), and the student by name."""

from __future__ import annotations

from typing import Any

from django.utils import translation

from notifications.services import Recipient
from records import glossary
from records import notices
from records.identity_changes.fields import BY_NAME
from records.models import IdentityChangeRequest
from records.models import Province


def request_url(request: IdentityChangeRequest) -> str:
    return notices.page_url(
        "identity_changes:detail", {"pk": request.pk}, f"/api/v1/identity-changes/{request.pk}/"
    )


# The requester and the student (one person when the student filed it).
requester_and_student = notices.requester_and_student


def school_officers(request: IdentityChangeRequest) -> list[Recipient]:
    """The officers of the request's school, never its requester (an officer who filed it
    does not review it)."""
    return [r for r in notices.school_officers(request.school) if r.user_id != request.requester_id]


def provincial_admins(request: IdentityChangeRequest) -> list[Recipient]:
    return notices.provincial_admins(Province(pk=request.province_id))


class FieldLabels:
    """The changed fields' labels, joined in the language active when a template renders
    them, so one context serves recipients of every language."""

    def __init__(self, fields: list[str]) -> None:
        self.labels = [BY_NAME[f].label for f in fields if f in BY_NAME]

    def __str__(self) -> str:
        separator = "、" if translation.get_language() == "zh-hans" else ", "
        return separator.join(str(label) for label in self.labels)


def context(request: IdentityChangeRequest) -> dict[str, Any]:
    """What every identity change email says of its request (lazy labels: each recipient
    reads them in their own language)."""
    return {
        "request_id": request.pk,
        "school": request.school.name,
        "student": request.student.name,
        "fields": FieldLabels(request.requested_fields),
        "state": glossary.STATES.get(request.state, request.state),
        "waiting_for": glossary.IDENTITY_CHANGE_WAITING_FOR.get(request.state, ""),
        "url": request_url(request),
    }
