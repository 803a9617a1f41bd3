"""Correction requests of registered qualifications: the rules of DOMAIN.md §2.5 and their
record-side services. Who acts in what order is ``workflows.corrections``' business; these
functions check the permission and the rule, move the request's state, amend the
qualification when approved, and audit every step, all in the caller's transaction."""

from __future__ import annotations

import copy
import datetime
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.contrib.contenttypes.models import ContentType
from django.core.exceptions import PermissionDenied
from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import UploadedFile
from django.db import IntegrityError
from django.db import models
from django.db import transaction
from django.utils import timezone
from django.utils import translation
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _
from PIL import Image

from notifications.services import Recipient
from permissions import codenames
from permissions.checks import may
from records import notices
from records.audit import audit_append
from records.choices import CorrectionState
from records.choices import QualificationStatus
from records.errors import ConflictError
from records.errors import NotVisibleError
from records.models import CORRECTABLE_FIELDS
from records.models import AuditEvent
from records.models import CorrectionEvidence
from records.models import CorrectionRequest
from records.models import Qualification
from records.models import User
from records.qualifications import qualification_amend
from records.qualifications import validate_qualification

NOT_CORRECTABLE_STATE = _("Only a registered, non-revoked qualification can be corrected.")
OPEN_EXISTS = _("This qualification already has an open correction request (#%(id)s).")
NO_CHANGES = _("Name at least one field to correct.")
FIELD_NOT_CORRECTABLE = _(
    "%(field)s cannot be corrected: only identity fields, study dates, major, level, learning "
    "form, study length and graduation result can."
)
UNCHANGED = _("The new value is the same as the current one.")
BAD_DATE = _("Enter a date as YYYY-MM-DD.")
NOT_A_CHOICE = _("Choose one of: %(choices)s.")
REASON_REQUIRED = _("Give the reason for the correction.")
COMMENT_REQUIRED = _("A comment is required when you reject or return a request.")
MAY_NOT_FILE = _("Only the student or an officer of the school can request a correction.")
ONLY_REQUESTER = _("Only the requester can do this.")
REQUESTER_NEVER_DECIDES = _("The requester of a correction cannot decide it.")
NOT_OPEN = _("This request is no longer open.")
WRONG_STEP = _("This request is not waiting for this decision.")
BAD_DECISION = _("The decision must be one of: %(choices)s.")

DATE_FIELDS = frozenset({"birth_date", "start_date", "graduation_date"})


class Decision(models.TextChoices):
    APPROVE = "approve", _("Approve")
    REJECT = "reject", _("Reject")
    RETURN = "return", _("Return for revision")


def _display(value: Any) -> str:
    if isinstance(value, datetime.date):
        return value.isoformat()
    return "" if value is None else str(value)


def value_label(field: str, value: Any) -> Any:
    """A stored value of a correctable field as the pages show it: a choice's label in the
    active language (``female`` → 女), anything else as it is."""
    field_object = Qualification._meta.get_field(field)
    return dict(field_object.choices or []).get(value, value)


def _choice(field: str, value: str) -> str:
    """A choice field's code, given as the code (``female``) or as its label in any of the
    site's languages (``女``, ``Female``), as the pages show it."""
    choices = Qualification._meta.get_field(field).choices or []
    codes = [str(code) for code, _label in choices]
    if value in codes:
        return value
    wanted = value.casefold()
    for language, _name in settings.LANGUAGES:
        with translation.override(language):
            for code, label in choices:
                if str(label).casefold() == wanted:
                    return str(code)
    separator = "、" if translation.get_language() == "zh-hans" else ", "
    labels = separator.join(str(label) for _code, label in choices)
    raise ValidationError(
        {
            f"changes.{field}": ValidationError(
                NOT_A_CHOICE, code="invalid_choice", params={"choices": labels}
            )
        }
    )


def _parse(field: str, raw: Any) -> Any:
    value = str(raw).strip() if raw is not None else ""
    if field in DATE_FIELDS:
        try:
            return datetime.date.fromisoformat(value)
        except ValueError as exc:
            raise ValidationError({f"changes.{field}": ValidationError(BAD_DATE)}) from exc
    if Qualification._meta.get_field(field).choices:
        return _choice(field, value)
    return value


def parse_changes(qualification: Qualification, raw: dict[str, Any]) -> list[dict[str, str]]:
    """Validate requested changes against the qualification as it is now.

    Returns ``[{"field", "old", "new"}]``. Each new value must differ from the current one and
    the qualification must satisfy every registration rule after all changes (an ID number
    change must agree with the birth date and gender after the change). Errors are keyed
    ``changes.<field>``.
    """
    if not isinstance(raw, dict) or not raw:
        raise ValidationError({"changes": ValidationError(NO_CHANGES, code="required")})
    errors: dict[str, list[ValidationError]] = {}
    candidate = copy.copy(qualification)
    parsed: list[dict[str, str]] = []
    for field, raw_value in raw.items():
        if field not in CORRECTABLE_FIELDS:
            errors.setdefault(f"changes.{field}", []).append(
                ValidationError(
                    FIELD_NOT_CORRECTABLE, code="not_correctable", params={"field": field}
                )
            )
            continue
        try:
            value = _parse(field, raw_value)
        except ValidationError as exc:
            for key, errs in exc.error_dict.items():
                errors.setdefault(key, []).extend(errs)
            continue
        old = getattr(qualification, field)
        if _display(value) == _display(old):
            errors.setdefault(f"changes.{field}", []).append(
                ValidationError(UNCHANGED, code="unchanged")
            )
            continue
        setattr(candidate, field, value)
        parsed.append({"field": field, "old": _display(old), "new": _display(value)})
    if not errors:
        try:
            validate_qualification(candidate, changed={c["field"] for c in parsed})
        except ValidationError as exc:
            for key, errs in exc.error_dict.items():
                errors.setdefault(f"changes.{key}", []).extend(errs)
    if errors:
        raise ValidationError(errors)
    for change in parsed:  # the ID number as normalized by its validator
        change["new"] = _display(getattr(candidate, change["field"]))
    return parsed


def _require_reason(reason: str) -> str:
    if not (reason or "").strip():
        raise ValidationError({"reason": ValidationError(REASON_REQUIRED, code="required")})
    return reason.strip()


def _may_file(user: User, qualification: Qualification) -> bool:
    owner = qualification.student.user_id == user.pk
    return owner or may(user, codenames.REVIEW_SCHOOL, qualification)


def _locked_qualification(qualification_id: int) -> Qualification:
    locked: Qualification = (
        Qualification.objects.select_for_update(of=("self",))
        .select_related("school", "student__user")
        .get(pk=qualification_id)
    )
    return locked


@transaction.atomic
def correction_file(
    *, qualification: Qualification, changes: dict[str, Any], reason: str, requester: User
) -> CorrectionRequest:
    """File a correction of ``qualification`` for the student, or on the student's behalf."""
    if not may(requester, codenames.VIEW, qualification):
        raise NotVisibleError(qualification.pk)
    if not _may_file(requester, qualification):
        raise PermissionDenied(MAY_NOT_FILE)
    qualification = _locked_qualification(qualification.pk)  # serializes filings per record
    if qualification.status != QualificationStatus.REGISTERED:
        raise ValidationError(
            {"qualification": ValidationError(NOT_CORRECTABLE_STATE, code="not_registered")}
        )
    open_id = (
        CorrectionRequest.objects.filter(qualification=qualification, state__in=_open())
        .values_list("pk", flat=True)
        .first()
    )
    if open_id is not None:
        raise ConflictError(str(OPEN_EXISTS % {"id": open_id}), code="open_correction_exists")
    reason = _require_reason(reason)
    parsed = parse_changes(qualification, changes)
    try:
        with transaction.atomic():
            request: CorrectionRequest = CorrectionRequest.objects.create(
                qualification=qualification,
                student=qualification.student,
                school=qualification.school,
                province_id=qualification.province_id,
                requester=requester,
                changes=parsed,
                reason=reason,
            )
    except IntegrityError as exc:  # a concurrent filing won the partial unique index
        raise ConflictError(str(OPEN_EXISTS % {"id": "?"}), code="open_correction_exists") from exc
    _step(
        request,
        action="correction.filed",
        actor=requester,
        data={"changes": parsed, "reason": reason},
        announce=[
            ("correction_received", notices.requester_and_student(request)),
            ("correction_review_needed", notices.school_officers(request)),
        ],
    )
    return request


def _step(
    request: CorrectionRequest,
    *,
    action: str,
    actor: User,
    data: dict[str, Any] | None = None,
    announce: Sequence[tuple[str, list[Recipient]]] = (),
    comment: str = "",
) -> None:
    """Record a step of a locked (or just created) request in its audit chain, and announce it."""
    step = audit_append(subject=request, action=action, actor=actor, data=data, subject_locked=True)
    for event, recipients in announce:
        notices.announce(event, request=request, step=step, recipients=recipients, comment=comment)


def _open() -> list[str]:
    return [CorrectionState.SUBMITTED, CorrectionState.SCHOOL_APPROVED, CorrectionState.RETURNED]


def _lock(request: CorrectionRequest) -> CorrectionRequest:
    """The request as of now, row-locked, with what its checks and notices read."""
    locked: CorrectionRequest = (
        CorrectionRequest.objects.select_for_update(of=("self",))
        .select_related("requester", "student__user", "school", "province")
        .get(pk=request.pk)
    )
    return locked


@transaction.atomic
def correction_resubmit(
    *, request: CorrectionRequest, changes: dict[str, Any], reason: str, acting_user: User
) -> CorrectionRequest:
    """The requester revises a returned request; it goes to school review again."""
    request = _lock(request)
    if request.requester_id != acting_user.pk:
        raise PermissionDenied(ONLY_REQUESTER)
    if request.state != CorrectionState.RETURNED:
        raise ConflictError(str(WRONG_STEP), code="not_returned")
    reason = _require_reason(reason)
    parsed = parse_changes(request.qualification, changes)
    request.resubmit(changes=parsed, reason=reason)
    request.save()
    _step(
        request,
        action="correction.resubmitted",
        actor=acting_user,
        data={"changes": parsed, "reason": reason},
        announce=[("correction_review_needed", notices.school_officers(request))],
    )
    return request


@transaction.atomic
def correction_withdraw(
    *, request: CorrectionRequest, acting_user: User, task_holders: Sequence[User] = ()
) -> CorrectionRequest:
    """Withdraw an open request. Whoever holds its open task hears of it: ``task_holders``
    when the caller knows them (a claimed task), else everyone who may take the step."""
    request = _lock(request)
    if request.requester_id != acting_user.pk:
        raise PermissionDenied(ONLY_REQUESTER)
    if not request.is_open:
        raise ConflictError(str(NOT_OPEN), code="not_open")
    waiting_on = request.state
    request.withdraw(at=timezone.now())
    request.save()
    if task_holders:
        recipients = notices.users(task_holders)
    elif waiting_on == CorrectionState.SUBMITTED:
        recipients = notices.school_officers(request)
    elif waiting_on == CorrectionState.SCHOOL_APPROVED:
        recipients = notices.provincial_admins(request)
    else:  # returned: the requester holds it
        recipients = []
    _step(
        request,
        action="correction.withdrawn",
        actor=acting_user,
        announce=[("correction_withdrawn", recipients)],
    )
    return request


def _check_decision(decision: str, comment: str, allowed: tuple[str, ...]) -> str:
    if decision not in allowed:
        raise ValidationError(
            {
                "decision": ValidationError(
                    BAD_DECISION, code="invalid_choice", params={"choices": ", ".join(allowed)}
                )
            }
        )
    if decision != Decision.APPROVE and not (comment or "").strip():
        raise ValidationError({"comment": ValidationError(COMMENT_REQUIRED, code="required")})
    return (comment or "").strip()


def _check_decider(request: CorrectionRequest, user: User, perm: str) -> None:
    if not may(user, codenames.VIEW, request):
        raise NotVisibleError(request.pk)
    if not may(user, perm, request):
        raise PermissionDenied
    if request.requester_id == user.pk:
        raise PermissionDenied(REQUESTER_NEVER_DECIDES)


@transaction.atomic
def correction_school_decide(
    *, request: CorrectionRequest, decision: str, comment: str, acting_user: User
) -> str:
    """School review: forward to the province, reject, or return to the requester."""
    request = _lock(request)
    _check_decider(request, acting_user, codenames.REVIEW_SCHOOL)
    comment = _check_decision(
        decision, comment, (Decision.APPROVE, Decision.REJECT, Decision.RETURN)
    )
    if request.state != CorrectionState.SUBMITTED:
        raise ConflictError(str(WRONG_STEP), code="already_decided")
    if decision == Decision.APPROVE:
        request.forward()
        action, event = "correction.forwarded", "correction_forwarded"
        recipients = notices.provincial_admins(request)
    elif decision == Decision.REJECT:
        request.reject(at=timezone.now())
        action, event = "correction.rejected", "correction_rejected"
        recipients = notices.requester_and_student(request)
    else:
        request.send_back()
        action, event = "correction.returned", "correction_returned"
        recipients = notices.requester_and_student(request)
    request.save()
    _step(
        request,
        action=action,
        actor=acting_user,
        data={"step": "school", "comment": comment},
        announce=[(event, recipients)],
        comment=comment,
    )
    return str(request.state)


@dataclass(frozen=True)
class SignoffResult:
    state: str
    stale_fields: tuple[str, ...] = ()


@transaction.atomic
def correction_province_decide(
    *, request: CorrectionRequest, decision: str, comment: str, acting_user: User
) -> SignoffResult:
    """Provincial sign-off. Approval amends the qualification in the same transaction; if the
    qualification changed since filing, the stale change is refused and the request returns to
    school review with the current values as the new "old" values."""
    request = _lock(request)
    _check_decider(request, acting_user, codenames.SIGNOFF_PROVINCE)
    comment = _check_decision(decision, comment, (Decision.APPROVE, Decision.REJECT))
    if request.state != CorrectionState.SCHOOL_APPROVED:
        raise ConflictError(str(WRONG_STEP), code="already_decided")
    now = timezone.now()
    if decision == Decision.REJECT:
        request.reject(at=now)
        request.save()
        _step(
            request,
            action="correction.rejected",
            actor=acting_user,
            data={"step": "province", "comment": comment},
            announce=[("correction_rejected", notices.requester_and_student(request))],
            comment=comment,
        )
        return SignoffResult(request.state)
    qualification = _locked_qualification(request.qualification_id)
    stale = tuple(
        c["field"]
        for c in request.changes
        if _display(getattr(qualification, c["field"])) != c["old"]
    )
    if stale or qualification.status != QualificationStatus.REGISTERED:
        refreshed = [
            {**c, "old": _display(getattr(qualification, c["field"]))} for c in request.changes
        ]
        request.return_to_school(changes=refreshed)
        request.save()
        _step(
            request,
            action="correction.stale",
            actor=acting_user,
            data={"step": "province", "fields": list(stale), "comment": comment},
            announce=[("correction_review_needed", notices.school_officers(request))],
        )
        return SignoffResult(request.state, stale)
    values = {c["field"]: _parse(c["field"], c["new"]) for c in request.changes}
    revision = qualification_amend(
        qualification=qualification,
        changes=values,
        approved_by=acting_user,
        reason=request.reason,
        correction_id=request.pk,
        locked=True,
    )
    request.approve(at=now)
    request.save()
    _step(
        request,
        action="correction.approved",
        actor=acting_user,
        data={"step": "province", "comment": comment, "revision": revision.number},
        announce=[("correction_approved", notices.requester_and_student(request))],
        comment=comment,
    )
    return SignoffResult(request.state)


@dataclass(frozen=True)
class HistoryEntry:
    action: str
    actor: str
    at: datetime.datetime
    comment: str
    data: dict[str, Any]


def correction_history(request: CorrectionRequest) -> list[HistoryEntry]:
    """Every step of the request, from its audit chain: who, what, when, comment."""
    content_type = ContentType.objects.get_for_model(CorrectionRequest)
    events = (
        AuditEvent.objects.filter(subject_type=content_type, subject_id=str(request.pk))
        .select_related("actor")
        .order_by("seq")
    )
    return [
        HistoryEntry(
            action=event.action.removeprefix("correction."),
            actor=event.actor.username if event.actor else gettext("system"),
            at=event.created,
            comment=str(event.data.get("comment") or event.data.get("reason") or ""),
            data=event.data,
        )
        for event in events
    ]


EVIDENCE_MAX_BYTES = 5 * 1024 * 1024
EVIDENCE_TOO_LARGE = _("An evidence file may be at most 5 MB.")
EVIDENCE_TYPE = _("Evidence must be a PDF, JPEG or PNG file (checked by its content).")
EVIDENCE_NOT_ALLOWED = _(
    "Only the requester or the student can add evidence, while the request is open."
)

_SIGNATURES = (
    (b"%PDF-", "application/pdf"),
    (b"\xff\xd8\xff", "image/jpeg"),
    (b"\x89PNG\r\n\x1a\n", "image/png"),
)


def sniff_evidence_type(upload: UploadedFile) -> str | None:
    """The file's real type from its first bytes, whatever its name or declared type; images
    must also decode."""
    upload.seek(0)
    head = upload.read(16)
    upload.seek(0)
    content_type = next((t for sig, t in _SIGNATURES if head.startswith(sig)), None)
    if content_type and content_type.startswith("image/"):
        try:
            with Image.open(upload) as image:
                image.verify()
        except (OSError, SyntaxError, ValueError):
            return None
        finally:
            upload.seek(0)
    return content_type


@transaction.atomic
def correction_add_evidence(
    *, request: CorrectionRequest, upload: UploadedFile, acting_user: User
) -> CorrectionEvidence:
    if not may(acting_user, codenames.VIEW, request):
        raise NotVisibleError(request.pk)
    request = _lock(request)  # the state as of now, not as the caller loaded it
    is_party = acting_user.pk in (request.requester_id, request.student.user_id)
    if not is_party or not request.is_open:
        raise PermissionDenied(EVIDENCE_NOT_ALLOWED)
    if upload.size is None or upload.size > EVIDENCE_MAX_BYTES:
        raise ValidationError({"file": ValidationError(EVIDENCE_TOO_LARGE, code="too_large")})
    content_type = sniff_evidence_type(upload)
    if content_type is None:
        raise ValidationError({"file": ValidationError(EVIDENCE_TYPE, code="type")})
    evidence = CorrectionEvidence(
        request=request,
        original_name=(upload.name or "evidence")[-200:],
        content_type=content_type,
        size=upload.size,
        uploaded_by=acting_user,
    )
    evidence.file.save(upload.name or "evidence", upload, save=False)
    evidence.save()
    audit_append(
        subject_locked=True,
        subject=request,
        action="correction.evidence_added",
        actor=acting_user,
        data={"evidence": evidence.pk, "name": evidence.original_name, "type": content_type},
    )
    return evidence
