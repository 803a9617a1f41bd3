"""Who hears of a correction, in which words. Notices name the corrected fields, never their
values: a value may be an ID number."""

from __future__ import annotations

from typing import Any

from django.utils import translation

from notifications.services import Recipient
from records import glossary
from records import notices
from records.models import CorrectionRequest
from records.models import Province
from records.models import Qualification


def correction_url(request: CorrectionRequest) -> str:
    return notices.page_url(
        "corrections:detail", {"pk": request.pk}, f"/api/v1/corrections/{request.pk}/"
    )


# The requester and the student (one person when the student filed it).
requester_and_student = notices.requester_and_student


def school_officers(request: CorrectionRequest) -> list[Recipient]:
    """The officers of the request's school, but never the requester: an officer who filed on
    the student's behalf does not review it."""
    return [r for r in notices.school_officers(request.school) if r.user_id != request.requester_id]


def provincial_admins(request: CorrectionRequest) -> list[Recipient]:
    return notices.provincial_admins(Province(pk=request.province_id))  # its key is enough


class FieldLabels:
    """The corrected fields' labels, joined in the language active when a template renders
    them, so one context serves recipients of every language."""

    def __init__(self, fields: list[str]) -> None:
        self.labels = [Qualification._meta.get_field(f).verbose_name for f in fields]

    def __str__(self) -> str:
        separator = "、" if translation.get_language() == "zh-hans" else ", "
        return separator.join(str(label) for label in self.labels)


def context(request: CorrectionRequest) -> dict[str, Any]:
    """What every correction email says of its request."""
    return {
        "request_id": request.pk,
        "school": request.school.name,
        "fields": FieldLabels(request.requested_fields),
        # Lazy: each recipient reads them in their own language, as the pages name them.
        "state": glossary.STATES.get(request.state, request.state),
        "waiting_for": glossary.WAITING_FOR.get(request.state, ""),
        "url": correction_url(request),
    }
