"""An adverse decision's life after the school issues it (DOMAIN.md §2.3, §4 item 14;
教育部令第41号 arts 53–64): the officer records its delivery (送达), which opens the student's
window of ``SCHOOL_APPEAL_DAYS`` to appeal to the school's appeal committee; without an
appeal the change applies when the window ends (``window_close``, run by the workflow's
periodic task); an appeal holds it until the committee decides: it upholds the decision,
which opens a window of ``PROVINCE_APPEAL_DAYS`` to appeal to the province (the change
applies at its end, or when the province upholds it), or it cancels it (the request ends
``overturned``, the status untouched).

The requester's-side actions (delivery, appeal) check and write here; the committee's and
the province's decisions are record services of the skeleton (``records.decisions``),
declared as steps in ``workflows.flows.status_change``.
"""

from __future__ import annotations

import datetime
from collections.abc import Mapping
from typing import Any

from django.core.exceptions import PermissionDenied
from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import UploadedFile
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from notifications.services import Recipient
from permissions import codenames
from permissions.checks import may
from records import notices
from records.audit import audit_append
from records.choices import AppealStage
from records.choices import DeliveryMethod
from records.choices import StatusChangeState
from records.corrections.evidence import check_evidence
from records.corrections.evidence import clean_file_name
from records.decisions import Decided
from records.errors import ConflictError
from records.errors import NotVisibleError
from records.models import StatusChangeRequest
from records.models import User
from records.status_changes import notices as sc_notices
from records.status_changes.services import RELATED
from records.status_changes.services import apply_effect
from records.status_changes.types import TYPES
from records.status_changes.types import article
from records.status_changes.written import PROVINCE_APPEAL_DAYS
from records.status_changes.written import SCHOOL_APPEAL_DAYS
from records.transactions import service
from records.transactions import writes

MAY_NOT_DELIVER = _("Only an officer of the school records the delivery of its decision.")
NOT_AWAITING_DELIVERY = _(
    "This request has no written decision waiting for its delivery (rule delivery_once)."
)
DELIVERY_DATE_REQUIRED = _("Give the date of delivery as YYYY-MM-DD.")
DELIVERY_IN_FUTURE = _("The delivery cannot be in the future (rule delivery_date).")
DELIVERY_BEFORE_ISSUE = _(
    "The delivery cannot be before the decision was issued, %(issued)s (rule delivery_date)."
)
METHOD_REQUIRED = _("Choose how the decision was delivered: %(choices)s.")
ONLY_STUDENT_APPEALS = _("Only the student concerned appeals an adverse decision.")
NOT_APPEALABLE = _("This request is not open for an appeal (rule appeal_stage).")
WINDOW_CLOSED = _(
    "The appeal period ended on %(deadline)s: an appeal is filed within %(days)s days of the "
    "delivery (rule appeal_window, %(source)s)."
)
WINDOW_OPEN = _("This request is not in an appeal window that has ended.")
APPEAL_REASON_REQUIRED = _("Give the grounds of the appeal.")
WRONG_STAGE = _("This request is not waiting for this decision.")


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
    if (
        request.state != StatusChangeState.IN_APPEAL
        or request.issued_at is None
        or request.delivered_on is not None
    ):
        raise ConflictError(str(NOT_AWAITING_DELIVERY), code="not_awaiting_delivery")
    errors: dict[str, list[ValidationError]] = {}
    issued = timezone.localdate(request.issued_at)
    if delivered_on is None:
        errors["delivered_on"] = [ValidationError(DELIVERY_DATE_REQUIRED, code="required")]
    elif delivered_on > timezone.localdate():
        errors["delivered_on"] = [ValidationError(DELIVERY_IN_FUTURE, code="delivery_date")]
    elif delivered_on < issued:
        errors["delivered_on"] = [
            ValidationError(
                DELIVERY_BEFORE_ISSUE, code="delivery_date", params={"issued": issued.isoformat()}
            )
        ]
    if method not in DeliveryMethod.values:
        errors["method"] = [
            ValidationError(
                METHOD_REQUIRED,
                code="invalid_choice",
                params={"choices": ", ".join(DeliveryMethod.values)},
            )
        ]
    content_type = ""
    if evidence is not None:
        try:
            content_type = check_evidence(evidence, field="evidence")
        except ValidationError as exc:
            errors.update(exc.error_dict)
    if errors:
        raise ValidationError(errors)
    assert delivered_on is not None  # noqa: S101  (checked above)
    deadline = delivered_on + datetime.timedelta(days=SCHOOL_APPEAL_DAYS)
    with writes():
        request.record_delivery(on=delivered_on, method=method, deadline=deadline)
        if evidence is not None:
            name = clean_file_name(evidence.name) or "evidence"
            request.delivery_evidence.save(name, evidence, save=False)
            request.delivery_evidence_type = content_type
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
            told=[("status_change_delivered", sc_notices.requester_and_student(request))],
        )
    return request


def appeal_open(request: StatusChangeRequest, today: datetime.date) -> bool:
    """Whether the student may appeal now (the stage and its deadline)."""
    if request.state != StatusChangeState.IN_APPEAL:
        return False
    if request.appeal not in (AppealStage.WINDOW, AppealStage.PROVINCE_WINDOW):
        return False
    return request.appeal_deadline is None or today <= request.appeal_deadline


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
        raise PermissionDenied(ONLY_STUDENT_APPEALS)
    if request.state != StatusChangeState.IN_APPEAL or request.appeal not in (
        AppealStage.WINDOW,
        AppealStage.PROVINCE_WINDOW,
    ):
        raise ConflictError(str(NOT_APPEALABLE), code="not_appealable")
    now = timezone.now()
    if not appeal_open(request, timezone.localdate(now)):
        to_school = request.appeal == AppealStage.WINDOW
        message = WINDOW_CLOSED % {
            "deadline": request.appeal_deadline,
            "days": SCHOOL_APPEAL_DAYS if to_school else PROVINCE_APPEAL_DAYS,
            "source": str(article(60 if to_school else 62)),
        }
        raise ConflictError(str(message), code="appeal_window_closed")
    reason = (reason or "").strip()
    if not reason:
        raise ValidationError({"reason": ValidationError(APPEAL_REASON_REQUIRED, code="required")})
    with writes():
        if request.appeal == AppealStage.WINDOW:
            request.appeal_to_school(reason=reason, at=now)
            action, deciders = "status_change.appealed", sc_notices.school_officers(request)
        else:
            request.appeal_to_province(reason=reason, at=now)
            action = "status_change.appealed_to_province"
            deciders = sc_notices.provincial_admins(request)
        request.save()
        _step(
            request,
            action=action,
            actor=acting_user,
            data={"reason": reason},
            told=[
                ("status_change_appeal_received", sc_notices.student_only(request)),
                ("status_change_appeal_filed", deciders),
            ],
        )
    return request


def window_ended(request: StatusChangeRequest, today: datetime.date) -> bool:
    """Whether the request's appeal window ended before ``today`` with no appeal."""
    return (
        request.state == StatusChangeState.IN_APPEAL
        and request.appeal in (AppealStage.WINDOW, AppealStage.PROVINCE_WINDOW)
        and request.appeal_deadline is not None
        and request.appeal_deadline < today
    )


@service
def window_close(*, request: StatusChangeRequest, today: datetime.date) -> StatusChangeRequest:
    """The appeal window ended with no appeal: the decision takes effect (the type's effect
    on the status, as an approval applies it). ``ConflictError`` ``window_open`` (nothing
    written) when the request is not, or no longer, in an ended window."""
    request = _lock(request.pk)
    if not window_ended(request, today):
        raise ConflictError(str(WINDOW_OPEN), code="window_open")
    with writes():
        request.close_appeals()
        applied = apply_effect(request, TYPES[request.type], actor=None, at=timezone.now())
        request.save()
        _step(
            request,
            action="status_change.took_effect",
            actor=None,
            data={"appeal_deadline": request.appeal_deadline, **applied},
            told=[("status_change_decision_effective", sc_notices.requester_and_student(request))],
        )
    return request


# --- the record services of the appeal committee's and the province's decisions -------------


def _check_stage(request: StatusChangeRequest, stage: str) -> None:
    if request.appeal != stage:
        raise ConflictError(str(WRONG_STAGE), code="already_decided")


def school_uphold(request: StatusChangeRequest, decided: Decided) -> Mapping[str, Any]:
    """The committee upholds the decision: the student may appeal to the province within
    ``PROVINCE_APPEAL_DAYS``; the change waits until then."""
    _check_stage(request, AppealStage.SCHOOL)
    deadline = timezone.localdate(decided.at) + datetime.timedelta(days=PROVINCE_APPEAL_DAYS)
    request.uphold_at_school(deadline=deadline)
    return {"appeal_deadline": deadline.isoformat()}


def school_cancel(request: StatusChangeRequest, decided: Decided) -> None:
    """The committee cancels the decision: the request ends, the status stays."""
    _check_stage(request, AppealStage.SCHOOL)
    request.overturn(at=decided.at)


def province_uphold(request: StatusChangeRequest, decided: Decided) -> Mapping[str, Any]:
    """The province upholds the decision: it takes effect now."""
    _check_stage(request, AppealStage.PROVINCE)
    request.close_appeals()
    return apply_effect(request, TYPES[request.type], actor=decided.acting_user, at=decided.at)


def province_cancel(request: StatusChangeRequest, decided: Decided) -> None:
    _check_stage(request, AppealStage.PROVINCE)
    request.overturn(at=decided.at)
