"""The requester's side of a status change (file, resubmit, withdraw) and the record service of
each decision its steps offer (declared in ``workflows.flows.status_change``).

What a type asks for, its rules and its effect come from its declaration
(``records.status_changes.types``); nothing here names a type. The filing and the
requester's actions check the permission and the rules, move the request and audit the step;
the decision services only move the locked request (and, on the last approval, the locked
status), while ``records.decisions.decide`` checks, saves, audits and announces.
"""

from __future__ import annotations

import datetime
from collections.abc import Mapping
from collections.abc import Sequence
from typing import Any

from django.core.exceptions import PermissionDenied
from django.core.exceptions import ValidationError
from django.db import IntegrityError
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from notifications.services import Recipient
from permissions import codenames
from permissions.checks import holders
from permissions.checks import may
from records import notices
from records.audit import audit_append
from records.choices import OPEN_STATUS_CHANGE_STATES
from records.choices import StatusChangeState
from records.decisions import Decided
from records.decisions import Diverted
from records.errors import ConflictError
from records.errors import NotVisibleError
from records.models import School
from records.models import StatusChangeRequest
from records.models import StudentStatus
from records.models import User
from records.models import identity_writes
from records.status_changes.notices import context
from records.status_changes.notices import filing_parties
from records.status_changes.notices import provinces_and_parties
from records.status_changes.notices import school_officers
from records.status_changes.types import OFFICER
from records.status_changes.types import STUDENT
from records.status_changes.types import TYPES
from records.status_changes.types import Check
from records.status_changes.types import StatusChangeType
from records.status_changes.written import written_decision
from records.transactions import service
from records.transactions import writes

UNKNOWN_TYPE = _("Choose one of: %(choices)s.")
MAY_NOT_FILE = _("%(type)s is filed by: %(filers)s.")
FILERS = {STUDENT: _("the student"), OFFICER: _("an officer of the school")}
STATUS_ENDED = _(
    "This student status has ended (%(state)s): it takes no more requests (rule status_ended)."
)
OPEN_EXISTS = _(
    "This student status already has an open request of this type (#%(id)s) "
    "(rule one_open_request)."
)
REASON_REQUIRED = _("Give the reason for the request.")
NO_OTHER_REVIEWER = _(
    "Not enough other officers of the school could decide this request: it needs %(levels)d, "
    "and neither its requester nor one level's decider decides another."
)
ONLY_REQUESTER = _("Only the requester can do this.")
NOT_OPEN = _("This request is no longer open.")
NOT_RETURNED = _("This request is not waiting for a revision.")
DECISION_ISSUED = _(
    "The school has issued its written decision: it is no longer withdrawn, only appealed "
    "or decided on appeal."
)
RULES_BROKEN = _("The request no longer meets its rules: %(rules)s")
IN_NOTICE = _(
    "The transfer is in its public notice until %(ends)s: it cannot be approved before "
    "(rule public_notice, %(source)s)."
)
NOTICE_SOURCE = _("Notice on the transfer of students of regular institutions, 教学厅〔2015〕4号")

# What the status change's checks, services and notices read of a locked request.
RELATED = ("requester", "student__user", "school", "status__school", "target_school")


def kind_of(type_key: str) -> StatusChangeType:
    """The declaration of ``type_key``, or a ``ValidationError`` on ``type``."""
    kind = TYPES.get(type_key)
    if kind is None:
        raise ValidationError(
            {
                "type": ValidationError(
                    UNKNOWN_TYPE, code="invalid_choice", params={"choices": ", ".join(TYPES)}
                )
            }
        )
    if not kind.available:
        raise ValidationError({"type": ValidationError(kind.unavailable, code="unavailable")})
    return kind


def filer_role(user: User, status: StudentStatus) -> str | None:
    """``student`` for the status's own student, ``officer`` for an officer of its school."""
    if status.student.user_id == user.pk:
        return STUDENT
    if may(user, codenames.REVIEW_SCHOOL, status):
        return OFFICER
    return None


def _check_filer(kind: StatusChangeType, user: User, status: StudentStatus) -> None:
    if filer_role(user, status) not in kind.filers:
        filers = ", ".join(str(FILERS[f]) for f in sorted(kind.filers))
        raise PermissionDenied(str(MAY_NOT_FILE % {"type": kind.label, "filers": filers}))


def _locked_status(pk: int) -> StudentStatus:
    """The status as of now, row-locked: filings of one status queue."""
    locked: StudentStatus = (
        StudentStatus.objects.select_for_update(of=("self",))
        .select_related("school", "student")
        .get(pk=pk)
    )
    return locked


def _check_current(status: StudentStatus) -> None:
    if not status.is_current:
        raise ConflictError(
            str(STATUS_ENDED % {"state": status.get_state_display()}), code="status_ended"
        )


def _today() -> datetime.date:
    return timezone.localdate()


def _parse(
    kind: StatusChangeType, status: StudentStatus, fields: Mapping[str, Any], reason: str
) -> tuple[dict[str, Any], str]:
    """The parsed fields and the trimmed reason, every field error at once; then the rules."""
    errors: dict[str, Any] = {}
    reason = (reason or "").strip()
    if not reason:
        errors["reason"] = [ValidationError(REASON_REQUIRED, code="required")]
    values: dict[str, Any] = {}
    try:
        values = kind.parse(fields, status)
    except ValidationError as exc:
        errors.update(exc.error_dict)
    if errors:
        raise ValidationError(errors)
    kind.check(Check(status, values, _today()))
    return values, reason


def _check_other_reviewers(requester: User, status: StudentStatus) -> None:
    """Each school level needs an officer who neither filed the request nor decided another
    level of it."""
    levels = status.school.status_change_levels
    others = holders(codenames.REVIEW_SCHOOL, status.school).exclude(pk=requester.pk)
    if others.count() < levels:
        raise ConflictError(str(NO_OTHER_REVIEWER % {"levels": levels}), code="no_other_reviewer")


def _announce(
    request: StatusChangeRequest,
    *,
    action: str,
    actor: User | None,
    data: dict[str, Any] | None,
    notices_: Sequence[tuple[str, list[Recipient]]] = (),
) -> None:
    """Record a step of the requester's in the request's audit chain, and announce it."""
    step = audit_append(subject=request, action=action, actor=actor, data=data, subject_locked=True)
    said = {**context(request), "comment": ""}
    notices.announce_many([(event, step, recipients, said) for event, recipients in notices_])


@service
def status_change_file(
    *,
    status: StudentStatus,
    type_key: str,
    fields: Mapping[str, Any],
    reason: str,
    requester: User,
) -> StatusChangeRequest:
    """File a status change of ``status``: the student, or an officer of the school, as the
    type's declaration allows; its fields and rules checked before anything is written."""
    if not may(requester, codenames.VIEW, status):
        raise NotVisibleError(status.pk)
    kind = kind_of(type_key)
    _check_filer(kind, requester, status)
    status = _locked_status(status.pk)  # serializes filings per status
    _check_current(status)
    open_id = (
        StatusChangeRequest.objects.filter(
            status=status, type=kind.key, state__in=OPEN_STATUS_CHANGE_STATES
        )
        .values_list("pk", flat=True)
        .first()
    )
    if open_id is not None:
        raise ConflictError(str(OPEN_EXISTS % {"id": open_id}), code="open_request_exists")
    values, reason = _parse(kind, status, fields, reason)
    _check_other_reviewers(requester, status)
    stored = kind.dump(values)
    target = _target_of(kind, values)
    with writes():
        try:
            request: StatusChangeRequest = StatusChangeRequest.objects.create(
                target_school=target,
                target_province_id=target.province_id if target else None,
                status=status,
                student=status.student,
                school=status.school,
                province_id=status.province_id,
                type=kind.key,
                fields=stored,
                reason=reason,
                requester=requester,
            )
        except IntegrityError as exc:  # a concurrent filing won the partial unique index
            raise ConflictError(str(OPEN_EXISTS % {"id": "?"}), code="open_request_exists") from exc
        _announce(
            request,
            action="status_change.filed",
            actor=requester,
            data={"type": kind.key, "fields": stored, "reason": reason},
            notices_=[
                ("status_change_received", filing_parties(request)),
                ("status_change_review_needed", school_officers(request)),
            ],
        )
    return request


def _target_of(kind: StatusChangeType, values: Mapping[str, Any]) -> School | None:
    """A transfer's receiving school (the field ``target_school`` of a type whose chain
    names it)."""
    if "target_school" not in kind.chain:
        return None
    target: School = School.objects.get(pk=values["target_school"])
    return target


def _lock(request: StatusChangeRequest) -> StatusChangeRequest:
    locked: StatusChangeRequest = (
        StatusChangeRequest.objects.select_for_update(of=("self",))
        .select_related(*RELATED)
        .get(pk=request.pk)
    )
    return locked


@service
def status_change_resubmit(
    *,
    request: StatusChangeRequest,
    fields: Mapping[str, Any],
    reason: str,
    acting_user: User,
) -> StatusChangeRequest:
    """The requester revises a returned request; it goes to the school's first level again,
    its fields and rules checked as at filing."""
    request = _lock(request)
    if request.requester_id != acting_user.pk:
        raise PermissionDenied(ONLY_REQUESTER)
    if request.state != StatusChangeState.RETURNED:
        raise ConflictError(str(NOT_RETURNED), code="not_returned")
    kind = TYPES[request.type]
    _check_current(request.status)
    values, reason = _parse(kind, request.status, fields, reason)
    stored = kind.dump(values)
    target = _target_of(kind, values)
    with writes():
        request.resubmit(fields=stored, reason=reason)
        if target is not None:
            request.target_school = target
            request.target_province_id = target.province_id
        request.save()
        _announce(
            request,
            action="status_change.resubmitted",
            actor=acting_user,
            data={"fields": stored, "reason": reason},
            notices_=[("status_change_review_needed", school_officers(request))],
        )
    return request


@service
def status_change_withdraw(
    *,
    request: StatusChangeRequest,
    acting_user: User,
    waiting_on: Sequence[Recipient] = (),
) -> StatusChangeRequest:
    """Withdraw an open request. ``waiting_on``: whoever could take its open task, who hear
    of it."""
    request = _lock(request)
    if request.requester_id != acting_user.pk:
        raise PermissionDenied(ONLY_REQUESTER)
    if not request.is_open:
        raise ConflictError(str(NOT_OPEN), code="not_open")
    if request.state == StatusChangeState.IN_APPEAL:
        raise ConflictError(str(DECISION_ISSUED), code="decision_issued")
    with writes():
        request.withdraw(at=timezone.now())
        request.save()
        _announce(
            request,
            action="status_change.withdrawn",
            actor=acting_user,
            data=None,
            notices_=[("status_change_withdrawn", list(waiting_on))],
        )
    return request


# --- the record service of each decision --------------------------------------------------


def approve(request: StatusChangeRequest, decided: Decided) -> Mapping[str, Any] | Diverted:
    """One approval, at whichever level: the first of a two-level school's levels passes it
    to the second (``first_level_approved``); the school's last level passes it to the
    province when the type says so (``forwarded``); the last approval applies the change to
    the status (locked with the request: the steps' ``lock_related``)."""
    kind = TYPES[request.type]
    two_levels = request.school.status_change_levels > 1
    if request.state == StatusChangeState.SUBMITTED and two_levels:
        request.approve_first_level(by=decided.acting_user)
        return Diverted("first_level_approved")
    if "target_school" in kind.chain:
        return _transfer_approve(request, kind, decided)
    if kind.province and request.state != StatusChangeState.SCHOOL_APPROVED:
        request.forward()
        return Diverted("forwarded")
    if kind.adverse:
        return _issue(request, kind, decided)
    return _apply(request, kind, decided)


def _check_rules(
    request: StatusChangeRequest, kind: StatusChangeType, at: datetime.datetime
) -> None:
    """The type's rules again on the locked status (it may have moved since filing)."""
    status = request.status
    _check_current(status)
    broken = kind.broken_rules(Check(status, kind.load(request.fields), timezone.localdate(at)))
    if broken:
        rules = "; ".join(rule.error() for rule in broken)
        raise ConflictError(str(RULES_BROKEN % {"rules": rules}), code="rules_broken")


def _issue(request: StatusChangeRequest, kind: StatusChangeType, decided: Decided) -> Diverted:
    """An adverse decision: the school's last level issues the written decision (stored,
    and mailed with the appeal route); the change waits for its delivery and the appeal
    period (``records.status_changes.appeals``)."""
    _check_rules(request, kind, decided.at)
    request.issue_decision(at=decided.at, text=written_decision(request, decided))
    return Diverted("decision_issued", {"decision": request.decision_text})


def _json(value: Any) -> Any:
    return value.isoformat() if isinstance(value, datetime.date) else value


def _apply(
    request: StatusChangeRequest, kind: StatusChangeType, decided: Decided
) -> Mapping[str, Any]:
    """The type's effect on the status: its rules checked again (the status may have moved
    since filing), the transition and the fields, the values before and after kept on the
    request and in the status's own audit chain (its history)."""
    return apply_effect(request, kind, actor=decided.acting_user, at=decided.at)


def apply_effect(
    request: StatusChangeRequest,
    kind: StatusChangeType,
    *,
    actor: User | None,
    at: datetime.datetime,
) -> Mapping[str, Any]:
    """``_apply`` by ``actor`` (``None``: the end of an adverse decision's appeal period)."""
    status = request.status
    _check_rules(request, kind, at)
    values = kind.load(request.fields)
    changes = kind.effect.changes(status, values)
    before = {"state": status.state, **{f: _json(getattr(status, f)) for f in changes}}
    if kind.effect.transition:
        getattr(status, kind.effect.transition)()
    for name, value in changes.items():
        setattr(status, name, value)
    with identity_writes(f"status_change:{request.pk}"):  # 转专业 moves the programme
        status.save()
    after = {"state": status.state, **{f: _json(v) for f, v in changes.items()}}
    audit_append(
        subject=status,
        action="status.changed",
        actor=actor,
        data={
            "type": kind.key,
            "request": request.pk,
            "fields": request.fields,
            "before": before,
            "after": after,
        },
        subject_locked=True,
    )
    request.approve(at=at, before=before, after=after)
    return {"before": before, "after": after}


# --- a transfer (转学) --------------------------------------------------------------------


def _transfer_approve(
    request: StatusChangeRequest, kind: StatusChangeType, decided: Decided
) -> Diverted:
    """The sending school's last level passes a transfer to the receiving school
    (``sent_to_target``); the province's confirmation, once its public notice has ended,
    applies it (``transferred``)."""
    if request.state in (StatusChangeState.SUBMITTED, StatusChangeState.DEPARTMENT_APPROVED):
        request.send_to_target()
        return Diverted("sent_to_target")
    return Diverted("transferred", _apply_transfer(request, kind, decided))


def _apply_transfer(
    request: StatusChangeRequest, kind: StatusChangeType, decided: Decided
) -> Mapping[str, Any]:
    """The transfer's effect, never before its public notice has ended."""
    _check_notice_over(request, decided)
    return _apply(request, kind, decided)


def transfer_accept(
    request: StatusChangeRequest, decided: Decided, *, notice_ends: datetime.datetime
) -> None:
    """The receiving school accepts: the public notice runs until ``notice_ends``."""
    request.accept(at=decided.at, notice_ends=notice_ends)


def transfer_confirm(
    request: StatusChangeRequest, decided: Decided, *, side: str
) -> Mapping[str, Any] | Diverted:
    """One province's confirmation of a cross-province transfer (``side``: ``source`` or
    ``target``): the second one applies it (``transferred``)."""
    kind = TYPES[request.type]
    setattr(request, f"{side}_confirmed_by", decided.acting_user)
    if request.source_confirmed_by_id is None or request.target_confirmed_by_id is None:
        _check_notice_over(request, decided)
        return {"side": side}
    return Diverted("transferred", _apply_transfer(request, kind, decided))


def _check_notice_over(request: StatusChangeRequest, decided: Decided) -> None:
    """409 ``in_notice`` while the public notice runs (the flow never opens a province's step
    before it ends; this keeps the rule in the record layer too)."""
    if request.notice_ends is None or request.notice_ends > decided.at:
        ends = timezone.localtime(request.notice_ends) if request.notice_ends else "-"
        raise ConflictError(
            str(IN_NOTICE % {"ends": ends, "source": NOTICE_SOURCE}), code="in_notice"
        )


@service
def transfer_notice_end(*, request_pk: int) -> StatusChangeRequest:
    """The public notice of a transfer has ended (the flow's timer): the province, or both,
    confirm now. Everyone concerned hears of it."""
    request = _lock(StatusChangeRequest(pk=request_pk))
    with writes():
        request.end_notice()
        request.save()
        _announce(
            request,
            action="status_change.notice_ended",
            actor=None,
            data={"notice_ends": request.notice_ends.isoformat() if request.notice_ends else None},
            notices_=[("status_change_notice_ended", provinces_and_parties(request))],
        )
    return request


def reject(request: StatusChangeRequest, decided: Decided) -> None:
    request.reject(at=decided.at)


def send_back(request: StatusChangeRequest, decided: Decided) -> None:
    """The school returns the request to the requester for revision."""
    request.send_back()


def return_to_school(request: StatusChangeRequest, decided: Decided) -> None:
    """The province returns the request to the school's first level, with its comment."""
    request.return_to_school()
