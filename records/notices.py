"""Who hears of each step of a correction, in which words: calls ``notifications.notify``.

Each notice is keyed on the step's audit event, so a step announces once per recipient even
when a task runs twice, while a request returned twice is announced twice. Notices name the
corrected fields, never their values: a value may be an ID number.
"""

from __future__ import annotations

from collections.abc import Iterable

from django.conf import settings
from django.urls import NoReverseMatch
from django.urls import reverse
from django.utils import translation

from notifications.services import Recipient
from notifications.services import notify
from permissions import codenames
from permissions.checks import holders
from records.models import AuditEvent
from records.models import CorrectionRequest
from records.models import Qualification
from records.models import User


def correction_url(request: CorrectionRequest) -> str:
    try:
        path = reverse("corrections:detail", kwargs={"pk": request.pk})
    except NoReverseMatch:  # the web pages are not mounted (e.g. an API-only deployment)
        path = f"/api/v1/corrections/{request.pk}/"
    return str(settings.SITE_URL).rstrip("/") + path


def recipient_of(user: User, name: str = "") -> Recipient:
    """``user`` as a recipient: their address and language, and ``name`` or their own."""
    return Recipient(
        email=user.email,
        language=user.language,
        user_id=user.pk,
        name=name or user.get_full_name() or user.username,
    )


def requester_and_student(request: CorrectionRequest) -> list[Recipient]:
    """The requester and the student (one person when the student filed it)."""
    people: dict[int, Recipient] = {}
    student_user = request.student.user
    if student_user is not None:
        people[student_user.pk] = recipient_of(student_user, request.student.name)
    people.setdefault(request.requester_id, recipient_of(request.requester))
    return list(people.values())


def school_officers(request: CorrectionRequest) -> list[Recipient]:
    return [recipient_of(u) for u in holders(codenames.REVIEW_SCHOOL, request.school)]


def provincial_admins(request: CorrectionRequest) -> list[Recipient]:
    return [recipient_of(u) for u in holders(codenames.SIGNOFF_PROVINCE, request.province)]


def users(people: Iterable[User]) -> list[Recipient]:
    return [recipient_of(u) for u in people]


class FieldLabels:
    """The corrected fields' labels, joined in the language active when a template renders
    them, so one context serves recipients of every language."""

    def __init__(self, request: CorrectionRequest) -> None:
        self.labels = [
            Qualification._meta.get_field(c["field"]).verbose_name for c in request.changes
        ]

    def __str__(self) -> str:
        separator = "、" if translation.get_language() == "zh-hans" else ", "
        return separator.join(str(label) for label in self.labels)


def announce(
    event: str,
    *,
    request: CorrectionRequest,
    step: AuditEvent,
    recipients: Iterable[Recipient],
    comment: str = "",
) -> None:
    notify(
        event,
        object_key=f"records.auditevent:{step.pk}",
        recipients=recipients,
        context={
            "request_id": request.pk,
            "school": request.school.name,
            "fields": FieldLabels(request),
            "comment": comment,
            "url": correction_url(request),
        },
    )
