"""Who hears of a status change, in which words. Notices name the type and the student,
never an ID number."""

from __future__ import annotations

from typing import Any

from notifications.services import Recipient
from records import adverse
from records import glossary
from records import notices
from records.models import Province
from records.models import StatusChangeRequest
from records.status_changes.types import TYPES


def request_url(request: StatusChangeRequest) -> str:
    return notices.page_url(
        "status_changes:detail", {"pk": request.pk}, f"/api/v1/status-changes/{request.pk}/"
    )


# The requester and the student (one person when the student filed it).
requester_and_student = notices.requester_and_student


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
        **adverse_context(request),
    }


def student_only(request: StatusChangeRequest) -> list[Recipient]:
    """The student (an adverse decision's appeal belongs to them)."""
    user = request.student.user
    return [] if user is None else [notices.recipient_of(user, request.student.name)]


def adverse_context(request: StatusChangeRequest) -> dict[str, Any]:
    """What an adverse decision's emails add: the written decision, its delivery, the appeal
    period's stage and deadline, the days to appeal at each level."""
    if not request.issued_at:
        return {}
    return {
        "decision_text": request.decision_text,
        "delivered_on": request.delivered_on,
        "appeal": glossary.APPEAL_STAGES.get(request.appeal, request.appeal),
        "appeal_deadline": request.appeal_deadline,
        "school_days": adverse.SCHOOL_APPEAL_DAYS,
        "province_days": adverse.PROVINCE_APPEAL_DAYS,
    }
