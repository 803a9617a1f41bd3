"""An adverse status change's life after the school issues it (DOMAIN.md §2.3, §4 item 14;
教育部令第41号 arts 53–64), by the shared rules of ``records.adverse``: the officer records its
delivery (送达), which opens the student's window to appeal to the school's appeal committee;
without an appeal the change applies when the window ends (``window_close``, run by the
workflow's periodic task); an appeal holds it until the committee decides: it upholds the
decision, which opens the window to appeal to the province (the change applies at its end,
or when the province upholds it), or it cancels it (the request ends ``overturned``, the
status untouched).

The requester's-side actions (delivery, appeal) check and write here; the committee's and
the province's decisions are record services of the skeleton (``records.decisions``),
declared as steps in ``workflows.flows.status_change``.
"""

from __future__ import annotations

import datetime
from collections.abc import Mapping
from typing import Any

from django.core.exceptions import PermissionDenied
from django.core.files.uploadedfile import UploadedFile
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from notifications.services import Recipient
from permissions import codenames
from permissions.checks import may
from records import adverse
from records import notices
from records.audit import audit_append
from records.choices import AppealStage
from records.decisions import Decided
from records.errors import NotVisibleError
from records.models import StatusChangeRequest
from records.models import User
from records.status_changes import notices as sc_notices
from records.status_changes.services import RELATED
from records.status_changes.services import apply_effect
from records.status_changes.types import TYPES
from records.transactions import service
from records.transactions import writes

MAY_NOT_DELIVER = _("Only an officer of the school records the delivery of its decision.")


def _lock(pk: int) -> StatusChangeRequest:
    """The request as of now, with its status, both row-locked (applying moves the status)."""
    found: StatusChangeRequest | None = (
        StatusChangeRequest.objects.select_for_update(of=("self", "status"))
        .select_related(*RELATED)
        .filter(pk=pk)
        .first()
    )
    if found is None:
        raise NotVisibleError(pk)
    return found


def _step(
    request: StatusChangeRequest,
    *,
    action: str,
    actor: User | None,
    data: dict[str, Any] | None,
    told: list[tuple[str, list[Recipient]]],
) -> None:
    """Audit the step on the request's chain and announce it."""
    event = audit_append(
        subject=request, action=action, actor=actor, data=data, subject_locked=True
    )
    said = {**sc_notices.context(request), "comment": ""}
    notices.announce_many([(name, event, people, said) for name, people in told])


@service
def status_change_deliver(
    *,
    request: StatusChangeRequest,
    delivered_on: datetime.date | None,
    method: str,
    evidence: UploadedFile | None,
    acting_user: User,
) -> StatusChangeRequest:
    """Record the delivery of the written decision (date, method, an optional evidence
    file): the student's window to appeal to the school ends ``SCHOOL_APPEAL_DAYS`` after
    it. An officer of the school, once per decision."""
    request = _lock(request.pk)
    if not may(acting_user, codenames.VIEW, request):
        raise NotVisibleError(request.pk)
    if not may(acting_user, codenames.REVIEW_SCHOOL, request):
        raise PermissionDenied(MAY_NOT_DELIVER)
    content_type = adverse.check_delivery(
        request, delivered_on=delivered_on, method=method, evidence=evidence
    )
    assert delivered_on is not None  # noqa: S101  (checked)
    with writes():
        deadline = adverse.deliver(
            request,
            delivered_on=delivered_on,
            method=method,
            evidence=evidence,
            content_type=content_type,
        )
        request.save()
        _step(
            request,
            action="status_change.delivered",
            actor=acting_user,
            data={
                "delivered_on": delivered_on.isoformat(),
                "method": method,
                "appeal_deadline": deadline.isoformat(),
                "evidence": bool(evidence),
            },
            told=[("adverse_delivered", sc_notices.requester_and_student(request))],
        )
    return request


appeal_open = adverse.appeal_open


@service
def status_change_appeal(
    *, request: StatusChangeRequest, reason: str, acting_user: User
) -> StatusChangeRequest:
    """The student appeals the decision: to the school's appeal committee in the first
    window, to the province in the second. The change waits for the decision on it."""
    request = _lock(request.pk)
    if not may(acting_user, codenames.VIEW, request):
        raise NotVisibleError(request.pk)
    if request.student.user_id != acting_user.pk:
        raise PermissionDenied(adverse.ONLY_STUDENT_APPEALS)
    to_school = adverse.file_appeal(request, reason=reason, at=timezone.now())
    with writes():
        if to_school:
            action, deciders = "status_change.appealed", sc_notices.school_officers(request)
        else:
            action = "status_change.appealed_to_province"
            deciders = sc_notices.provincial_admins(request)
        request.save()
        _step(
            request,
            action=action,
            actor=acting_user,
            data={"reason": reason.strip()},
            told=[
                ("adverse_appeal_received", sc_notices.student_only(request)),
                ("adverse_appeal_filed", deciders),
            ],
        )
    return request


@service
def window_close(*, request: StatusChangeRequest, today: datetime.date) -> StatusChangeRequest:
    """The appeal window ended with no appeal: the decision takes effect (the type's effect
    on the status, as an approval applies it). ``ConflictError`` ``window_open`` (nothing
    written) when the request is not, or no longer, in an ended window."""
    request = _lock(request.pk)
    adverse.check_window_ended(request, today)
    with writes():
        request.close_appeals()
        applied = apply_effect(request, TYPES[request.type], actor=None, at=timezone.now())
        request.save()
        _step(
            request,
            action="status_change.took_effect",
            actor=None,
            data={"appeal_deadline": request.appeal_deadline, **applied},
            told=[("adverse_decision_effective", sc_notices.requester_and_student(request))],
        )
    return request


# --- the record services of the appeal committee's and the province's decisions -------------


def school_uphold(request: StatusChangeRequest, decided: Decided) -> Mapping[str, Any]:
    """The committee upholds the decision: the student may appeal to the province within
    ``PROVINCE_APPEAL_DAYS``; the change waits until then."""
    deadline = adverse.uphold_at_school(request, decided.at)
    return {"appeal_deadline": deadline.isoformat()}


def school_cancel(request: StatusChangeRequest, decided: Decided) -> None:
    """The committee cancels the decision: the request ends, the status stays."""
    adverse.check_stage(request, AppealStage.SCHOOL)
    request.overturn(at=decided.at)


def province_uphold(request: StatusChangeRequest, decided: Decided) -> Mapping[str, Any]:
    """The province upholds the decision: it takes effect now."""
    adverse.check_stage(request, AppealStage.PROVINCE)
    request.close_appeals()
    return apply_effect(request, TYPES[request.type], actor=decided.acting_user, at=decided.at)


def province_cancel(request: StatusChangeRequest, decided: Decided) -> None:
    adverse.check_stage(request, AppealStage.PROVINCE)
    request.overturn(at=decided.at)
