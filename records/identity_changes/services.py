"""The requester's side of an identity change (file, add evidence, resubmit, withdraw) and the
record service of each decision its steps offer (declared in
``workflows.flows.identity_change``).

The filing and the requester's actions check the permission and the rules, move the request
and audit the step; the decision services only move the locked request (and, on the
province's approval, the locked person and status), while ``records.decisions.decide`` checks,
saves, audits and announces. The approval is the one writer of an enrolled student's identity
besides an approved correction and a change of major (``records.models.identity``).
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
from records.corrections.evidence import EVIDENCE_NOT_ALLOWED
from records.corrections.evidence import check_evidence
from records.corrections.evidence import clean_file_name
from records.decisions import Decided
from records.decisions import Diverted
from records.errors import ConflictError
from records.errors import NotVisibleError
from records.identity_changes.fields import BY_NAME
from records.identity_changes.fields import PERSON
from records.identity_changes.fields import masked_changes
from records.identity_changes.fields import parse_changes
from records.identity_changes.fields import stored
from records.identity_changes.notices import context
from records.identity_changes.notices import requester_and_student
from records.identity_changes.notices import school_officers
from records.models import IdentityChangeEvidence
from records.models import IdentityChangeRequest
from records.models import Student
from records.models import StudentStatus
from records.models import User
from records.models import identity_writes
from records.models.corrections import EVIDENCE_EXTENSIONS
from records.models.identity import STATUS_IDENTITY_CHANGED
from records.models.identity import STUDENT_IDENTITY_CHANGED
from records.models.identity_changes import OPEN_IDENTITY_CHANGE_STATES
from records.models.identity_changes import IdentityChangeState
from records.names import split_name
from records.status_changes.services import filer_role
from records.status_changes.types import major_name
from records.transactions import service
from records.transactions import writes
from records.validators import masked_value

MAY_NOT_FILE = _("Only the student or an officer of the school can file an identity change.")
STATUS_ENDED = _(
    "This student status has ended (%(state)s): its identity is changed by a correction of "
    "the qualification, not here (rule status_ended)."
)
OPEN_EXISTS = _(
    "This student status already has an open identity change request (#%(id)s) "
    "(rule one_open_request)."
)
REASON_REQUIRED = _("Give the reason for the change.")
NO_OTHER_REVIEWER = _(
    "No other officer of the school could review this request: an officer who files it "
    "does not review it."
)
ONLY_REQUESTER = _("Only the requester can do this.")
NOT_OPEN = _("This request is no longer open.")
NOT_RETURNED = _("This request is not waiting for a revision.")
EVIDENCE_REQUIRED = _(
    "An identity change needs proof: attach at least one evidence file before the school "
    "approves it (rule evidence_required, DOMAIN.md §2.6)."
)
STALE = _(
    "%(fields)s changed since the request was filed: return it for revision (rule values_changed)."
)

# What the identity change's checks, services and notices read of a locked request.
RELATED = ("requester", "student__user", "school", "status__school", "status__student")


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


def _reason(reason: str) -> str:
    reason = (reason or "").strip()
    if not reason:
        raise ValidationError({"reason": ValidationError(REASON_REQUIRED, code="required")})
    return reason


def _parse(
    status: StudentStatus, fields: Mapping[str, Any], reason: str
) -> tuple[list[dict[str, str]], str]:
    """The parsed changes and the trimmed reason, every error at once."""
    errors: dict[str, Any] = {}
    try:
        reason = _reason(reason)
    except ValidationError as exc:
        errors.update(exc.error_dict)
    changes: list[dict[str, str]] = []
    try:
        changes = parse_changes(status, fields)
    except ValidationError as exc:
        errors.update(exc.error_dict)
    if errors:
        raise ValidationError(errors)
    return changes, reason


def _check_other_reviewer(requester: User, status: StudentStatus) -> None:
    others = holders(codenames.REVIEW_SCHOOL, status.school).exclude(pk=requester.pk)
    if not others.exists():
        raise ConflictError(str(NO_OTHER_REVIEWER), code="no_other_reviewer")


def _announce(
    request: IdentityChangeRequest,
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


def _attach(
    request: IdentityChangeRequest, upload: UploadedFile, content_type: str, user: User
) -> IdentityChangeEvidence:
    """Store a checked file with the locked (or just filed) request, and audit it."""
    extension = EVIDENCE_EXTENSIONS[content_type]
    evidence = IdentityChangeEvidence(
        request=request,
        original_name=clean_file_name(upload.name) or f"evidence{extension}",
        content_type=content_type,
        size=upload.size or 0,
        uploaded_by=user,
    )
    evidence.file.save(f"evidence{extension}", upload, save=False)  # a generated name
    evidence.save()
    audit_append(
        subject_locked=True,
        subject=request,
        action="identity_change.evidence_added",
        actor=user,
        data={"evidence": evidence.pk, "name": evidence.original_name, "type": content_type},
    )
    return evidence


@service
def identity_change_file(
    *,
    status: StudentStatus,
    fields: Mapping[str, Any],
    reason: str,
    requester: User,
    evidence: Sequence[UploadedFile] = (),
) -> IdentityChangeRequest:
    """File an identity change of ``status`` (and its person): the student, or an officer of
    the school; its values, rules and every evidence file checked before anything is
    written."""
    if not may(requester, codenames.VIEW, status):
        raise NotVisibleError(status.pk)
    if filer_role(requester, status) is None:
        raise PermissionDenied(MAY_NOT_FILE)
    status = _locked_status(status.pk)  # serializes filings per status
    _check_current(status)
    open_id = (
        IdentityChangeRequest.objects.filter(status=status, state__in=OPEN_IDENTITY_CHANGE_STATES)
        .values_list("pk", flat=True)
        .first()
    )
    if open_id is not None:
        raise ConflictError(str(OPEN_EXISTS % {"id": open_id}), code="open_request_exists")
    changes, reason = _parse(status, fields, reason)
    checked = [(upload, check_evidence(upload, field="evidence")) for upload in evidence]
    _check_other_reviewer(requester, status)
    with writes():
        try:
            request: IdentityChangeRequest = IdentityChangeRequest.objects.create(
                status=status,
                student=status.student,
                school=status.school,
                province_id=status.province_id,
                changes=changes,
                reason=reason,
                requester=requester,
            )
        except IntegrityError as exc:  # a concurrent filing won the partial unique index
            raise ConflictError(str(OPEN_EXISTS % {"id": "?"}), code="open_request_exists") from exc
        _announce(
            request,
            action="identity_change.filed",
            actor=requester,
            data={"changes": masked_changes(changes), "reason": reason},
            notices_=[
                ("identity_change_received", requester_and_student(request)),
                ("identity_change_review_needed", school_officers(request)),
            ],
        )
        for upload, content_type in checked:
            _attach(request, upload, content_type, requester)
    return request


def _lock(request: IdentityChangeRequest) -> IdentityChangeRequest:
    locked: IdentityChangeRequest = (
        IdentityChangeRequest.objects.select_for_update(of=("self",))
        .select_related(*RELATED)
        .get(pk=request.pk)
    )
    return locked


@service
def identity_change_add_evidence(
    *, request: IdentityChangeRequest, upload: UploadedFile, acting_user: User
) -> IdentityChangeEvidence:
    """Attach a file to an open request: the requester or the student only."""
    if not may(acting_user, codenames.VIEW, request):
        raise NotVisibleError(request.pk)
    request = _lock(request)
    is_party = acting_user.pk in (request.requester_id, request.student.user_id)
    if not is_party or not request.is_open:
        raise PermissionDenied(EVIDENCE_NOT_ALLOWED)
    content_type = check_evidence(upload)
    with writes():
        return _attach(request, upload, content_type, acting_user)


@service
def identity_change_resubmit(
    *,
    request: IdentityChangeRequest,
    fields: Mapping[str, Any],
    reason: str,
    acting_user: User,
    evidence: Sequence[UploadedFile] = (),
) -> IdentityChangeRequest:
    """The requester revises a returned request; it goes to school review again, its values
    and rules checked as at filing."""
    request = _lock(request)
    if request.requester_id != acting_user.pk:
        raise PermissionDenied(ONLY_REQUESTER)
    if request.state != IdentityChangeState.RETURNED:
        raise ConflictError(str(NOT_RETURNED), code="not_returned")
    _check_current(request.status)
    changes, reason = _parse(request.status, fields, reason)
    checked = [(upload, check_evidence(upload, field="evidence")) for upload in evidence]
    with writes():
        request.resubmit(changes=changes, reason=reason)
        request.save()
        _announce(
            request,
            action="identity_change.resubmitted",
            actor=acting_user,
            data={"changes": masked_changes(changes), "reason": reason},
            notices_=[("identity_change_review_needed", school_officers(request))],
        )
        for upload, content_type in checked:
            _attach(request, upload, content_type, acting_user)
    return request


@service
def identity_change_withdraw(
    *,
    request: IdentityChangeRequest,
    acting_user: User,
    waiting_on: Sequence[Recipient] = (),
) -> IdentityChangeRequest:
    """Withdraw an open request. ``waiting_on``: whoever could take its open task, who hear
    of it."""
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
            action="identity_change.withdrawn",
            actor=acting_user,
            data=None,
            notices_=[("identity_change_withdrawn", list(waiting_on))],
        )
    return request


# --- the record service of each decision --------------------------------------------------


def approve(request: IdentityChangeRequest, decided: Decided) -> Mapping[str, Any] | Diverted:
    """The school's approval forwards the request to the province (only with proof
    attached); the province's applies it."""
    if request.state == IdentityChangeState.SUBMITTED:
        if not request.evidence.exists():
            raise ConflictError(str(EVIDENCE_REQUIRED), code="evidence_required")
        request.forward()
        return Diverted("forwarded")
    return _apply(request, decided)


def _apply(request: IdentityChangeRequest, decided: Decided) -> Mapping[str, Any]:
    """The change, applied: the status (locked with the request) still current and every
    changed field still at the value the request replaces; the person locked and checked
    as a whole again (the ID number's owner may have changed); the old values kept in the
    person's chain (``student.identity_changed``: its history), the status's chain
    (``status.identity_changed``) and on the request."""
    status = request.status
    _check_current(status)
    stale = [c["field"] for c in request.changes if BY_NAME[c["field"]].current(status) != c["old"]]
    if stale:
        labels = ", ".join(str(BY_NAME[f].label) for f in stale)
        raise ConflictError(str(STALE % {"fields": labels}), code="values_changed")
    person: Student = Student.objects.select_for_update().get(pk=status.student_id)
    person_changes = [c for c in request.changes if BY_NAME[c["field"]].target == PERSON]
    status_changes = [c for c in request.changes if BY_NAME[c["field"]].target != PERSON]
    writer = f"identity_change:{request.pk}"
    with identity_writes(writer):
        if person_changes:
            _apply_person(person, person_changes, request, decided)
            request.student = person  # what the notices say next: the person as changed
        if status_changes:
            for change in status_changes:
                field = BY_NAME[change["field"]]
                setattr(status, field.attname, field.model_field.to_python(change["new"]))
                if field.name == "major_code":
                    status.major_name = major_name(status, change["new"]) or status.major_name
            status.save()
    before = {c["field"]: c["old"] for c in request.changes}
    after = {c["field"]: c["new"] for c in request.changes}
    audit_append(
        subject=status,
        action=STATUS_IDENTITY_CHANGED,
        actor=decided.acting_user,
        data={
            "type": "identity_change",
            "request": request.pk,
            "before": {f: masked_value(f, v) for f, v in before.items()},
            "after": {f: masked_value(f, v) for f, v in after.items()},
        },
        subject_locked=True,
    )
    request.approve(at=decided.at, before=before, after=after)
    return {"changes": masked_changes(request.changes)}


def _apply_person(
    person: Student,
    changes: list[dict[str, str]],
    request: IdentityChangeRequest,
    decided: Decided,
) -> None:
    for change in changes:
        field = BY_NAME[change["field"]]
        setattr(person, field.attname, field.model_field.to_python(change["new"]))
    document_changed = any(c["field"] in ("id_type", "id_number") for c in changes)
    names = {BY_NAME[c["field"]].name for c in changes}
    others = [f.name for f in Student._meta.concrete_fields if f.name not in names]
    try:
        person.full_clean(
            exclude=others, validate_unique=document_changed, validate_constraints=document_changed
        )
    except ValidationError as exc:
        raise ConflictError("; ".join(exc.messages), code="identity_invalid") from exc
    updated = [BY_NAME[c["field"]].attname for c in changes]
    person.save(update_fields=[*updated, "updated"])
    if "name" in names and person.user_id is not None:
        login = User.objects.get(pk=person.user_id)
        login.last_name, login.first_name = split_name(person.name)
        login.save(update_fields=["last_name", "first_name"])
    audit_append(
        subject=person,
        action=STUDENT_IDENTITY_CHANGED,
        actor=decided.acting_user,
        data={
            "identity_change": request.pk,
            "changes": [
                {"field": c["field"], "old": c["old"], "new": stored(getattr(person, f))}
                for c, f in zip(changes, updated, strict=True)
            ],
        },
        subject_locked=True,
    )


def reject(request: IdentityChangeRequest, decided: Decided) -> None:
    request.reject(at=decided.at)


def send_back(request: IdentityChangeRequest, decided: Decided) -> None:
    """The school returns the request to the requester for revision."""
    request.send_back()


def return_to_school(request: IdentityChangeRequest, decided: Decided) -> None:
    """The province returns the request to the school's review, with its comment."""
    request.return_to_school()
