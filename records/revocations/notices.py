"""Who hears of a revocation, in which words (the adverse decisions' layout). Notices name the
student and the school, never an ID number nor a full certificate number."""

from __future__ import annotations

from typing import Any

from django.utils.translation import gettext_lazy as _

from notifications.services import Recipient
from records import adverse
from records import glossary
from records import notices
from records.models.revocations import RevocationRequest
from records.models.revocations import RevocationState

CHANGE = _("Revocation of a qualification")
STATES: dict[str, Any] = dict(RevocationState.choices)


def request_url(request: RevocationRequest) -> str:
    return notices.page_url(
        "revocations:detail", {"pk": request.pk}, f"/api/v1/revocations/{request.pk}/"
    )


requester_and_student = notices.requester_and_student


def student_only(request: RevocationRequest) -> list[Recipient]:
    user = request.student.user
    return [] if user is None else [notices.recipient_of(user, request.student.name)]


def school_officers(request: RevocationRequest) -> list[Recipient]:
    """The school's officers who may decide it: never its requester."""
    return [r for r in notices.school_officers(request.school) if r.user_id != request.requester_id]


def provincial_admins(request: RevocationRequest) -> list[Recipient]:
    return notices.provincial_admins(request.province)


def context(request: RevocationRequest) -> dict[str, Any]:
    """What every revocation email says (lazy labels: each recipient reads their language)."""
    said: dict[str, Any] = {
        "request_id": request.pk,
        "school": request.school.name,
        "student": request.student.name,
        "change": CHANGE,
        "state": STATES.get(request.state, request.state),
        "waiting_for": "",
        "url": request_url(request),
    }
    if request.issued_at:
        said.update(
            {
                "decision_text": request.decision_text,
                "delivered_on": request.delivered_on,
                "appeal": glossary.APPEAL_STAGES.get(request.appeal, request.appeal),
                "appeal_deadline": request.appeal_deadline,
                "school_days": adverse.SCHOOL_APPEAL_DAYS,
                "province_days": adverse.PROVINCE_APPEAL_DAYS,
            }
        )
    return said
