"""Who hears of a status change, in which words. Notices name the type and the student,
never an ID number."""

from __future__ import annotations

from typing import Any

from notifications.services import Recipient
from records import adverse
from records import glossary
from records import notices
from records.models import Province
from records.models import School
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


def _merged(*groups: list[Recipient]) -> list[Recipient]:
    """The recipients of every group, each address once."""
    merged: dict[str, Recipient] = {}
    for group in groups:
        for recipient in group:
            merged.setdefault(recipient.email, recipient)
    return list(merged.values())


def parties(request: StatusChangeRequest) -> list[Recipient]:
    """The requester and the student; for a transfer also both schools' officers (who hear
    of every step of it, DOMAIN.md §2.3)."""
    people = requester_and_student(request)
    if request.target_school_id is None:
        return people
    return _merged(
        people,
        notices.school_officers(request.school),
        notices.school_officers(School(pk=request.target_school_id)),
    )


def filing_parties(request: StatusChangeRequest) -> list[Recipient]:
    """Whoever gets the receipt of a filing: the requester and the student, and for a
    transfer the receiving school's officers (the sending school's are asked to review it)."""
    people = requester_and_student(request)
    if request.target_school_id is None:
        return people
    return _merged(people, target_school_officers(request))


def target_school_officers(request: StatusChangeRequest) -> list[Recipient]:
    """The officers of a transfer's receiving school (its acceptance)."""
    return notices.school_officers(School(pk=request.target_school_id))


def target_provincial_admins(request: StatusChangeRequest) -> list[Recipient]:
    return notices.provincial_admins(Province(pk=request.target_province_id))


def provinces_and_parties(request: StatusChangeRequest) -> list[Recipient]:
    """A transfer's provinces' administrators (one, or both across provinces), and the
    parties."""
    provinces = sorted({request.province_id, request.target_province_id or request.province_id})
    return _merged(
        *(notices.provincial_admins(Province(pk=code)) for code in provinces),
        parties(request),
    )


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
        # A transfer's receiving school and the end of its public notice ("" otherwise).
        "target_school": request.target_school.name if request.target_school else "",
        "notice_ends": request.notice_ends,
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
