"""Revocation of a registered qualification (issue 11 item 6): the officer's filing, the
adverse-decision steps by the shared rules of ``records.adverse`` (delivery, appeal, the end
of a window), and the record service of each decision the steps in
``workflows.flows.revocation`` offer.

Rules: only a registered qualification (a lost-marked one too: the proof replaced the
paper, the qualification itself may still be revoked; never a draft or a revoked one), one
open request per qualification (``one_open_revocation``); filed by an officer of its school
with the date and the reference or summary of the leadership's decision, the basis, the
legality review and the hearing (``ADVERSE_RULES``, 第55–56条: each error on its field,
naming the rule and the article); a school with no other officer is refused. The province
confirms through ``records.qualifications.qualification_revoke``.
"""

from __future__ import annotations

import datetime
from collections.abc import Mapping
from typing import Any
from typing import cast

from django.core.exceptions import PermissionDenied
from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import UploadedFile
from django.db import IntegrityError
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from notifications.services import Recipient
from permissions import codenames
from permissions.checks import holders
from permissions.checks import may
from records import adverse
from records import notices
from records.audit import audit_append
from records.choices import AppealStage
from records.choices import QualificationStatus
from records.decisions import Decided
from records.errors import ConflictError
from records.errors import NotVisibleError
from records.models import Qualification
from records.models import StudentStatus
from records.models import User
from records.models.revocations import OPEN_REVOCATION_STATES
from records.models.revocations import RevocationRequest
from records.qualifications import qualification_revoke
from records.revocations import notices as rv_notices
from records.revocations.written import written_decision
from records.status_changes.types import ADVERSE_RULES
from records.status_changes.types import Check
from records.transactions import service
from records.transactions import writes

MAY_NOT_FILE = _("A revocation is proposed by an officer of the qualification's school.")
MAY_NOT_DELIVER = _("Only an officer of the school records the delivery of its decision.")
NOT_REGISTERED = _(
    "Only a registered qualification can be revoked; this one is %(state)s (rule registered_only)."
)
OPEN_EXISTS = _(
    "This qualification already has an open revocation (#%(id)s) (rule one_open_revocation)."
)
NO_OTHER_REVIEWER = _(
    "No other officer of the school could decide this revocation: its requester never decides it."
)
REQUIRED = _("This field is required.")
LEADERSHIP_DATE_FUTURE = _(
    "The leadership's decision cannot be in the future (rule leadership_decision_date)."
)

RELATED = ("requester", "student__user", "school", "province", "qualification")


def check_eligible(qualification: Qualification, *, ignore: int | None = None) -> None:
    if qualification.status != QualificationStatus.REGISTERED:
        raise ConflictError(
            str(NOT_REGISTERED % {"state": qualification.get_status_display()}),
            code="not_registered",
        )
    open_id = (
        RevocationRequest.objects.filter(
            qualification=qualification, state__in=OPEN_REVOCATION_STATES
        )
        .exclude(pk=ignore)
        .values_list("pk", flat=True)
        .first()
    )
    if open_id is not None:
        raise ConflictError(str(OPEN_EXISTS % {"id": open_id}), code="open_revocation_exists")


def _parse(values: Mapping[str, Any], today: datetime.date) -> dict[str, Any]:
    """The filing's fields, trimmed; every error at once, each on its field."""
    errors: dict[str, ValidationError] = {}
    cleaned: dict[str, Any] = {}
    for name in ("reason", "basis", "leadership_decision", "hearing_by", "hearing_summary"):
        cleaned[name] = str(values.get(name) or "").strip()
    for name in ("reason", "basis", "leadership_decision"):
        if not cleaned[name]:
            errors[name] = ValidationError(REQUIRED, code="required")
    for name in ("leadership_decision_date", "hearing_date"):
        value = values.get(name)
        if isinstance(value, str):
            try:
                value = datetime.date.fromisoformat(value) if value else None
            except ValueError:
                errors[name] = ValidationError(_("Give a date as YYYY-MM-DD."), code="invalid")
                value = None
        cleaned[name] = value
    leadership = cleaned["leadership_decision_date"]
    if leadership is None and "leadership_decision_date" not in errors:
        errors["leadership_decision_date"] = ValidationError(REQUIRED, code="required")
    elif leadership is not None and leadership > today:
        errors["leadership_decision_date"] = ValidationError(
            LEADERSHIP_DATE_FUTURE, code="leadership_decision_date"
        )
    cleaned["legality_reviewed"] = bool(values.get("legality_review"))
    check = Check(
        cast(StudentStatus, None),  # these rules read no status
        {
            "legality_review": "done" if cleaned["legality_reviewed"] else None,
            "hearing_date": cleaned["hearing_date"],
            "hearing_by": cleaned["hearing_by"] or None,
            "hearing_summary": cleaned["hearing_summary"] or None,
        },
        today,
    )
    for rule in ADVERSE_RULES:
        if rule.field not in errors and not rule.holds(check):
            errors[rule.field] = ValidationError(rule.error(), code=rule.code)
    if errors:
        raise ValidationError(errors)
    return cleaned


def _step(
    request: RevocationRequest,
    *,
    action: str,
    actor: User | None,
    data: dict[str, Any] | None,
    told: list[tuple[str, list[Recipient]]],
) -> None:
    event = audit_append(
        subject=request, action=action, actor=actor, data=data, subject_locked=True
    )
    said = {**rv_notices.context(request), "comment": ""}
    notices.announce_many([(name, event, people, said) for name, people in told])


@service
def revocation_file(
    *, qualification: Qualification, values: Mapping[str, Any], requester: User
) -> RevocationRequest:
    """Propose revoking ``qualification``: an officer of its school; every check before
    anything is written."""
    if not may(requester, codenames.VIEW, qualification):
        raise NotVisibleError(qualification.pk)
    if not may(requester, codenames.REVIEW_SCHOOL, qualification):
        raise PermissionDenied(MAY_NOT_FILE)
    cleaned = _parse(values, timezone.localdate())
    locked: Qualification = (
        Qualification.objects.select_for_update(of=("self",))
        .select_related("school", "student")
        .get(pk=qualification.pk)
    )
    check_eligible(locked)
    if not holders(codenames.REVIEW_SCHOOL, locked.school).exclude(pk=requester.pk).exists():
        raise ConflictError(str(NO_OTHER_REVIEWER), code="no_other_reviewer")
    with writes():
        try:
            request: RevocationRequest = RevocationRequest.objects.create(
                qualification=locked,
                student=locked.student,
                school=locked.school,
                province_id=locked.province_id,
                requester=requester,
                **cleaned,
            )
        except IntegrityError as exc:  # a concurrent filing won the partial unique index
            raise ConflictError(
                str(OPEN_EXISTS % {"id": "?"}), code="open_revocation_exists"
            ) from exc
        _step(
            request,
            action="revocation.filed",
            actor=requester,
            data={
                "reason": cleaned["reason"],
                "leadership_decision_date": cleaned["leadership_decision_date"].isoformat(),
                "leadership_decision": cleaned["leadership_decision"],
            },
            told=[("revocation_review_needed", rv_notices.school_officers(request))],
        )
    return request


def _lock(pk: int) -> RevocationRequest:
    found: RevocationRequest | None = (
        RevocationRequest.objects.select_for_update(of=("self",))
        .select_related(*RELATED)
        .filter(pk=pk)
        .first()
    )
    if found is None:
        raise NotVisibleError(pk)
    return found


@service
def revocation_deliver(
    *,
    request: RevocationRequest,
    delivered_on: datetime.date | None,
    method: str,
    evidence: UploadedFile | None,
    acting_user: User,
) -> RevocationRequest:
    """Record the delivery of the written decision: the student's window ends
    ``SCHOOL_APPEAL_DAYS`` after it. An officer of the school, once."""
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
            action="revocation.delivered",
            actor=acting_user,
            data={
                "delivered_on": delivered_on.isoformat(),
                "method": method,
                "appeal_deadline": deadline.isoformat(),
                "evidence": bool(evidence),
            },
            told=[("adverse_delivered", rv_notices.requester_and_student(request))],
        )
    return request


@service
def revocation_appeal(
    *, request: RevocationRequest, reason: str, acting_user: User
) -> RevocationRequest:
    """The student appeals: to the school's committee in the first window, to the province
    in the second."""
    request = _lock(request.pk)
    if not may(acting_user, codenames.VIEW, request):
        raise NotVisibleError(request.pk)
    if request.student.user_id != acting_user.pk:
        raise PermissionDenied(adverse.ONLY_STUDENT_APPEALS)
    to_school = adverse.file_appeal(request, reason=reason, at=timezone.now())
    with writes():
        if to_school:
            action, deciders = "revocation.appealed", rv_notices.school_officers(request)
        else:
            action = "revocation.appealed_to_province"
            deciders = rv_notices.provincial_admins(request)
        request.save()
        _step(
            request,
            action=action,
            actor=acting_user,
            data={"reason": reason.strip()},
            told=[
                ("adverse_appeal_received", rv_notices.student_only(request)),
                ("adverse_appeal_filed", deciders),
            ],
        )
    return request


@service
def window_close(*, request: RevocationRequest, today: datetime.date) -> RevocationRequest:
    """The appeal window ended with no appeal: the decision stands and goes to the province
    for confirmation. ``ConflictError`` ``window_open`` when not in an ended window."""
    request = _lock(request.pk)
    adverse.check_window_ended(request, today)
    with writes():
        request.take_effect()
        request.save()
        _step(
            request,
            action="revocation.appeal_period_ended",
            actor=None,
            data={"appeal_deadline": request.appeal_deadline},
            told=[("revocation_confirm_needed", rv_notices.provincial_admins(request))],
        )
    return request


# --- the record services of the steps' decisions -------------------------------------------


def approve(request: RevocationRequest, decided: Decided) -> Mapping[str, Any]:
    """A second officer of the school issues the written decision: the appeal period runs."""
    check_eligible(request.qualification, ignore=request.pk)
    request.issue_decision(at=decided.at, text=written_decision(request, decided))
    return {"decision": request.decision_text}


def reject(request: RevocationRequest, decided: Decided) -> None:
    request.reject(at=decided.at)


def school_uphold(request: RevocationRequest, decided: Decided) -> Mapping[str, Any]:
    deadline = adverse.uphold_at_school(request, decided.at)
    return {"appeal_deadline": deadline.isoformat()}


def school_cancel(request: RevocationRequest, decided: Decided) -> None:
    adverse.check_stage(request, AppealStage.SCHOOL)
    request.overturn(at=decided.at)


def province_uphold(request: RevocationRequest, decided: Decided) -> None:
    """The province upholds the decision on appeal: it goes to the province's confirmation."""
    adverse.check_stage(request, AppealStage.PROVINCE)
    request.take_effect()


def province_cancel(request: RevocationRequest, decided: Decided) -> None:
    adverse.check_stage(request, AppealStage.PROVINCE)
    request.overturn(at=decided.at)


def confirm(request: RevocationRequest, decided: Decided) -> Mapping[str, Any]:
    """The province confirms: the qualification (locked with the request) is revoked, never
    deleted; ``qualification_revoke`` checks the actor's provincial sign-off."""
    qualification_revoke(
        qualification=request.qualification,
        acting_user=decided.acting_user,
        reason=request.reason,
    )
    request.confirm(at=decided.at)
    return {"qualification": request.qualification_id}


def refuse(request: RevocationRequest, decided: Decided) -> None:
    request.refuse(at=decided.at)
