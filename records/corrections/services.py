"""The requester's side of a correction (file, resubmit, withdraw) and the record service of
each decision the correction's steps offer (declared in ``workflows.flows.correction``).

Each runs in the caller's transaction: the filing and the requester's actions check the
permission and the rule, move the request's state and audit the step; the decision services
only move the locked request (and amend the qualification on approval), while
``records.decisions.decide`` checks, saves, audits and announces.
"""

from __future__ import annotations

from collections.abc import Mapping
from collections.abc import Sequence
from typing import Any

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
from records import notices
from records.audit import audit_append
from records.choices import OPEN_CORRECTION_STATES
from records.choices import CorrectionState
from records.choices import QualificationStatus
from records.corrections.changes import display
from records.corrections.changes import parse_changes
from records.corrections.changes import parse_value
from records.corrections.evidence import attach_evidence
from records.corrections.evidence import check_evidence
from records.corrections.notices import context
from records.corrections.notices import requester_and_student
from records.corrections.notices import school_officers
from records.decisions import Decided
from records.decisions import Diverted
from records.errors import ConflictError
from records.errors import NotVisibleError
from records.models import PERSON_FIELDS
from records.models import CorrectionRequest
from records.models import Qualification
from records.models import User
from records.qualifications import qualification_amend
from records.services import student_correct
from records.transactions import service
from records.transactions import writes

NOT_CORRECTABLE_STATE = _("Only a registered, non-revoked qualification can be corrected.")
OPEN_EXISTS = _("This qualification already has an open correction request (#%(id)s).")
REASON_REQUIRED = _("Give the reason for the correction.")
MAY_NOT_FILE = _("Only the student or an officer of the school can request a correction.")
NO_OTHER_REVIEWER = _(
    "No other officer of the school could review this request: an officer never reviews a "
    "request they filed. Ask another officer of the school to file it, or the student."
)
ONLY_REQUESTER = _("Only the requester can do this.")
NOT_OPEN = _("This request is no longer open.")
NOT_RETURNED = _("This request is not waiting for a revision.")

# What the correction's checks, services and notices read of a locked request.
RELATED = ("requester", "student__user", "school", "qualification")


def _require_reason(reason: str) -> str:
    if not (reason or "").strip():
        raise ValidationError({"reason": ValidationError(REASON_REQUIRED, code="required")})
    return reason.strip()


def may_file(user: User, qualification: Qualification) -> bool:
    """The student, or an officer of the school on the student's behalf."""
    owner = qualification.student.user_id == user.pk
    return owner or may(user, codenames.REVIEW_SCHOOL, qualification)


def _locked_qualification(qualification_id: int) -> Qualification:
    locked: Qualification = (
        Qualification.objects.select_for_update(of=("self",))
        .select_related("school", "student__user")
        .get(pk=qualification_id)
    )
    return locked


def _lock(request: CorrectionRequest) -> CorrectionRequest:
    """The request as of now, row-locked, with what its checks and notices read."""
    locked: CorrectionRequest = (
        CorrectionRequest.objects.select_for_update(of=("self",))
        .select_related(*RELATED)
        .get(pk=request.pk)
    )
    return locked


def _announce(
    request: CorrectionRequest,
    *,
    action: str,
    actor: User,
    data: dict[str, Any] | None,
    notices_: Sequence[tuple[str, list[Recipient]]] = (),
) -> None:
    """Record a step of the requester's in the request's audit chain, and announce it."""
    step = audit_append(subject=request, action=action, actor=actor, data=data, subject_locked=True)
    said = {**context(request), "comment": ""}
    notices.announce_many([(event, step, recipients, said) for event, recipients in notices_])


def _check_other_reviewer(requester: User, qualification: Qualification) -> None:
    """An officer filing on the student's behalf never reviews the request: someone else of
    the school must be able to."""
    if qualification.student.user_id == requester.pk:
        return
    others = holders(codenames.REVIEW_SCHOOL, qualification.school).exclude(pk=requester.pk)
    if not others.exists():
        raise ConflictError(str(NO_OTHER_REVIEWER), code="no_other_reviewer")


@service
def correction_file(
    *,
    qualification: Qualification,
    changes: dict[str, Any],
    reason: str,
    requester: User,
    evidence: Sequence[UploadedFile] = (),
) -> CorrectionRequest:
    """File a correction of ``qualification`` for the student, or on the student's behalf,
    with its evidence files. Every file is checked before anything is written: a refused file
    files nothing."""
    if not may(requester, codenames.VIEW, qualification):
        raise NotVisibleError(qualification.pk)
    if not may_file(requester, qualification):
        raise PermissionDenied(MAY_NOT_FILE)
    qualification = _locked_qualification(qualification.pk)  # serializes filings per record
    if qualification.status != QualificationStatus.REGISTERED:
        raise ValidationError(
            {"qualification": ValidationError(NOT_CORRECTABLE_STATE, code="not_registered")}
        )
    open_id = (
        CorrectionRequest.objects.filter(
            qualification=qualification, state__in=OPEN_CORRECTION_STATES
        )
        .values_list("pk", flat=True)
        .first()
    )
    if open_id is not None:
        raise ConflictError(str(OPEN_EXISTS % {"id": open_id}), code="open_correction_exists")
    reason = _require_reason(reason)
    parsed = parse_changes(qualification, changes)
    checked = [(upload, check_evidence(upload, field="evidence")) for upload in evidence]
    _check_other_reviewer(requester, qualification)
    with writes():
        try:
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
            raise ConflictError(
                str(OPEN_EXISTS % {"id": "?"}), code="open_correction_exists"
            ) from exc
        _record_filing(request, requester, parsed, reason, checked)
    return request


def _record_filing(
    request: CorrectionRequest,
    requester: User,
    parsed: list[dict[str, str]],
    reason: str,
    checked: list[tuple[UploadedFile, str]],
) -> None:
    _announce(
        request,
        action="correction.filed",
        actor=requester,
        data={"changes": parsed, "reason": reason},
        notices_=[
            ("correction_received", requester_and_student(request)),
            ("correction_review_needed", school_officers(request)),
        ],
    )
    for upload, content_type in checked:
        attach_evidence(request, upload, content_type=content_type, acting_user=requester)


@service
def correction_resubmit(
    *,
    request: CorrectionRequest,
    changes: dict[str, Any],
    reason: str,
    acting_user: User,
    evidence: Sequence[UploadedFile] = (),
) -> CorrectionRequest:
    """The requester revises a returned request; it goes to school review again. A refused
    evidence file resubmits nothing."""
    request = _lock(request)
    if request.requester_id != acting_user.pk:
        raise PermissionDenied(ONLY_REQUESTER)
    if request.state != CorrectionState.RETURNED:
        raise ConflictError(str(NOT_RETURNED), code="not_returned")
    reason = _require_reason(reason)
    parsed = parse_changes(request.qualification, changes)
    checked = [(upload, check_evidence(upload, field="evidence")) for upload in evidence]
    with writes():
        request.resubmit(changes=parsed, reason=reason)
        request.save()
        _announce(
            request,
            action="correction.resubmitted",
            actor=acting_user,
            data={"changes": parsed, "reason": reason},
            notices_=[("correction_review_needed", school_officers(request))],
        )
        for upload, content_type in checked:
            attach_evidence(request, upload, content_type=content_type, acting_user=acting_user)
    return request


@service
def correction_withdraw(
    *,
    request: CorrectionRequest,
    acting_user: User,
    waiting_on: Sequence[Recipient] = (),
) -> CorrectionRequest:
    """Withdraw an open request. ``waiting_on``: whoever could take its open task (the
    workflow knows them from the step's declaration), who hear of it."""
    request = _lock(request)
    if request.requester_id != acting_user.pk:
        raise PermissionDenied(ONLY_REQUESTER)
    if not request.is_open:
        raise ConflictError(str(NOT_OPEN), code="not_open")
    with writes():
        request.withdraw(at=timezone.now())
        request.save()
        _announce(
            request,
            action="correction.withdrawn",
            actor=acting_user,
            data=None,
            notices_=[("correction_withdrawn", list(waiting_on))],
        )
    return request


# --- the record service of each decision --------------------------------------------------


def forward(request: CorrectionRequest, decided: Decided) -> None:
    """The school forwards the request to the province."""
    request.forward()


def reject(request: CorrectionRequest, decided: Decided) -> None:
    request.reject(at=decided.at)


def send_back(request: CorrectionRequest, decided: Decided) -> None:
    """The school returns the request to the requester for revision."""
    request.send_back()


def return_to_school(request: CorrectionRequest, decided: Decided) -> None:
    """The province returns the request to school review, with its comment."""
    request.return_to_school()


def approve(request: CorrectionRequest, decided: Decided) -> Mapping[str, Any] | Diverted:
    """Provincial approval: amends the qualification. If the qualification changed since the
    request was filed, the stale change is refused and the request returns to school review
    with the current values as the new "old" values (the ``stale`` outcome). The step locks
    the qualification with the request (``lock_related``)."""
    qualification = request.qualification
    stale = [
        c["field"]
        for c in request.changes
        if display(getattr(qualification, c["field"])) != c["old"]
    ]
    if stale or qualification.status != QualificationStatus.REGISTERED:
        refreshed = [
            {**c, "old": display(getattr(qualification, c["field"]))} for c in request.changes
        ]
        request.return_to_school(changes=refreshed)
        return Diverted("stale", {"fields": stale})
    values = {c["field"]: parse_value(c["field"], c["new"]) for c in request.changes}
    revision = qualification_amend(
        qualification=qualification,
        changes=values,
        approved_by=decided.acting_user,
        reason=request.reason,
        correction_id=request.pk,
        locked=True,
    )
    student_correct(  # the person too, with the identity fields among the changes
        student=request.student,
        changes={field: value for field, value in values.items() if field in PERSON_FIELDS},
        acting_user=decided.acting_user,
        correction_id=request.pk,
        locked=True,  # the provincial step locks the person with the request
    )
    request.approve(at=decided.at)
    return {"revision": revision.number}
