"""The requester's side of a certificate proof application (file, resubmit, withdraw) and the
record service of each decision its step offers (declared in
``workflows.flows.certificate_proof``).

The rules (DOMAIN.md §2.7, §4 item 10): a proof replaces the certificate of a registered
qualification, never of a draft or a revoked one; one proof per certificate, ever (a lost
qualification takes no more applications, and the partial unique index
``one_certificate_proof_issued`` holds it in the database); one open application per
qualification (``one_open_certificate_proof``). Approval issues the proof with its own number
and marks the qualification lost (``Qualification.lost_at``, ``lost_proof``), the only write
of that mark.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from django.core.exceptions import PermissionDenied
from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import UploadedFile
from django.db import IntegrityError
from django.db.models import Max
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from notifications.services import Recipient
from permissions import codenames
from permissions.checks import holders
from permissions.checks import may
from records import notices
from records.audit import audit_append
from records.choices import OPEN_CERTIFICATE_PROOF_STATES
from records.choices import CertificateLoss
from records.choices import CertificateProofState
from records.choices import QualificationStatus
from records.corrections.evidence import check_evidence
from records.corrections.evidence import clean_file_name
from records.decisions import Decided
from records.errors import ConflictError
from records.errors import NotVisibleError
from records.models import CertificateProof
from records.models import CertificateProofEvidence
from records.models import Qualification
from records.models import School
from records.models import User
from records.models.corrections import EVIDENCE_EXTENSIONS
from records.proofs.notices import context
from records.proofs.notices import requester_and_student
from records.proofs.notices import school_officers
from records.transactions import service
from records.transactions import writes

MAY_NOT_APPLY = _(
    "A certificate proof is applied for by the student, or by an officer of the school for them."
)
NOT_REGISTERED = _(
    "Only a registered qualification's certificate can be replaced by a proof; this one is "
    "%(state)s (rule registered_only)."
)
PROOF_EXISTS = _(
    "A certificate proof (%(number)s) was already issued for certificate %(certificate)s: a "
    "certificate is replaced only once (rule one_proof_per_certificate)."
)
OPEN_EXISTS = _(
    "This qualification already has an open application for a certificate proof (#%(id)s) "
    "(rule one_open_application)."
)
NOTE_REQUIRED = _("Say how the certificate was lost or damaged (when, where, any loss notice).")
BAD_REASON = _("Choose one of: %(choices)s.")
NO_OTHER_REVIEWER = _(
    "No other officer of the school could decide this application: its requester never decides it."
)
ONLY_REQUESTER = _("Only the requester can do this.")
NOT_OPEN = _("This application is no longer open.")
NOT_RETURNED = _("This application is not waiting for a revision.")
MAX_EVIDENCE = 5
TOO_MANY_FILES = _("Attach at most %(max)d files.")

# What the checks, services and notices read of a locked application.
RELATED = ("requester", "student__user", "school", "qualification")

# A proof number: the school's 5-digit code, the year of issue (Beijing time), and a serial
# of 5 digits within the school and year, e.g. 10001202600001. 14 digits: never mistaken for
# a certificate number (17 or 18 digits).
SERIAL_DIGITS = 5


def filer_role(user: User, qualification: Qualification) -> str | None:
    """``student`` for the qualification's own student, ``officer`` for an officer of its
    school, else ``None``."""
    if qualification.student.user_id == user.pk:
        return "student"
    if may(user, codenames.REVIEW_SCHOOL, qualification):
        return "officer"
    return None


def check_eligible(qualification: Qualification, *, ignore: int | None = None) -> None:
    """409 unless ``qualification`` may get a proof: registered, not marked lost; with no
    other open application (but ``ignore``, the application being decided)."""
    if qualification.status != QualificationStatus.REGISTERED:
        raise ConflictError(
            str(NOT_REGISTERED % {"state": qualification.get_status_display()}),
            code="not_registered",
        )
    if qualification.lost_at is not None:
        number = (
            CertificateProof.objects.filter(pk=qualification.lost_proof_id)
            .values_list("number", flat=True)
            .first()
        )
        raise ConflictError(
            str(PROOF_EXISTS % {"number": number, "certificate": qualification.certificate_number}),
            code="proof_exists",
        )
    open_id = (
        CertificateProof.objects.filter(
            qualification=qualification, state__in=OPEN_CERTIFICATE_PROOF_STATES
        )
        .exclude(pk=ignore)
        .values_list("pk", flat=True)
        .first()
    )
    if open_id is not None:
        raise ConflictError(str(OPEN_EXISTS % {"id": open_id}), code="open_application_exists")


def _parse(reason: str, note: str, evidence: Sequence[UploadedFile]) -> tuple[str, str, list[str]]:
    """The reason, the trimmed note and each file's checked type, every error at once."""
    errors: dict[str, list[ValidationError]] = {}
    if reason not in CertificateLoss.values:
        errors["reason"] = [
            ValidationError(
                BAD_REASON,
                code="invalid_choice",
                params={"choices": ", ".join(CertificateLoss.values)},
            )
        ]
    note = (note or "").strip()
    if not note:
        errors["note"] = [ValidationError(NOTE_REQUIRED, code="required")]
    types: list[str] = []
    if len(evidence) > MAX_EVIDENCE:
        errors["evidence"] = [
            ValidationError(TOO_MANY_FILES, code="too_many", params={"max": MAX_EVIDENCE})
        ]
    else:
        for upload in evidence:
            try:
                types.append(check_evidence(upload, field="evidence"))
            except ValidationError as refused:
                errors.setdefault("evidence", []).extend(refused.error_dict["evidence"])
    if errors:
        raise ValidationError(errors)
    return reason, note, types


def _locked_qualification(pk: int) -> Qualification:
    """The qualification as of now, row-locked: applications of one qualification queue."""
    locked: Qualification = (
        Qualification.objects.select_for_update(of=("self",))
        .select_related("school", "student")
        .get(pk=pk)
    )
    return locked


def _attach(
    proof: CertificateProof, uploads: Sequence[UploadedFile], types: Sequence[str], user: User
) -> None:
    for upload, content_type in zip(uploads, types, strict=True):
        extension = EVIDENCE_EXTENSIONS[content_type]
        evidence = CertificateProofEvidence(
            proof=proof,
            original_name=clean_file_name(upload.name) or f"evidence{extension}",
            content_type=content_type,
            size=upload.size or 0,
            uploaded_by=user,
        )
        evidence.file.save(f"evidence{extension}", upload, save=False)
        evidence.save()
        audit_append(
            subject=proof,
            action="certificate_proof.evidence_added",
            actor=user,
            data={"evidence": evidence.pk, "name": evidence.original_name, "type": content_type},
            subject_locked=True,
        )


def _announce(
    proof: CertificateProof,
    *,
    action: str,
    actor: User,
    data: dict[str, Any] | None,
    notices_: Sequence[tuple[str, list[Recipient]]] = (),
) -> None:
    step = audit_append(subject=proof, action=action, actor=actor, data=data, subject_locked=True)
    said = {**context(proof), "comment": ""}
    notices.announce_many([(event, step, recipients, said) for event, recipients in notices_])


@service
def proof_file(
    *,
    qualification: Qualification,
    reason: str,
    note: str,
    requester: User,
    evidence: Sequence[UploadedFile] = (),
) -> CertificateProof:
    """Apply for a certificate proof of ``qualification``: its student, or an officer of its
    school for them; every check before anything is written."""
    if not may(requester, codenames.VIEW, qualification):
        raise NotVisibleError(qualification.pk)
    role = filer_role(requester, qualification)
    if role is None:
        raise PermissionDenied(MAY_NOT_APPLY)
    reason, note, types = _parse(reason, note, evidence)
    qualification = _locked_qualification(qualification.pk)  # serializes applications
    check_eligible(qualification)
    if role == "officer":
        others = holders(codenames.REVIEW_SCHOOL, qualification.school).exclude(pk=requester.pk)
        if not others.exists():
            raise ConflictError(str(NO_OTHER_REVIEWER), code="no_other_reviewer")
    with writes():
        try:
            proof: CertificateProof = CertificateProof.objects.create(
                qualification=qualification,
                student=qualification.student,
                school=qualification.school,
                province_id=qualification.province_id,
                requester=requester,
                reason=reason,
                note=note,
            )
        except IntegrityError as exc:  # a concurrent application won the partial unique index
            raise ConflictError(
                str(OPEN_EXISTS % {"id": "?"}), code="open_application_exists"
            ) from exc
        _announce(
            proof,
            action="certificate_proof.filed",
            actor=requester,
            data={"reason": reason, "note": note},
            notices_=[
                ("certificate_proof_received", requester_and_student(proof)),
                ("certificate_proof_review_needed", school_officers(proof)),
            ],
        )
        _attach(proof, evidence, types, requester)
    return proof


def _lock(proof: CertificateProof) -> CertificateProof:
    locked: CertificateProof = (
        CertificateProof.objects.select_for_update(of=("self",))
        .select_related(*RELATED)
        .get(pk=proof.pk)
    )
    return locked


@service
def proof_resubmit(
    *,
    proof: CertificateProof,
    reason: str,
    note: str,
    acting_user: User,
    evidence: Sequence[UploadedFile] = (),
) -> CertificateProof:
    """The requester revises a returned application; it goes to the school again, checked as
    at filing."""
    proof = _lock(proof)
    if proof.requester_id != acting_user.pk:
        raise PermissionDenied(ONLY_REQUESTER)
    if proof.state != CertificateProofState.RETURNED:
        raise ConflictError(str(NOT_RETURNED), code="not_returned")
    reason, note, types = _parse(reason, note, evidence)
    check_eligible(_locked_qualification(proof.qualification_id), ignore=proof.pk)
    with writes():
        proof.resubmit(reason=reason, note=note)
        proof.save()
        _attach(proof, evidence, types, acting_user)
        _announce(
            proof,
            action="certificate_proof.resubmitted",
            actor=acting_user,
            data={"reason": reason, "note": note},
            notices_=[("certificate_proof_review_needed", school_officers(proof))],
        )
    return proof


@service
def proof_withdraw(
    *,
    proof: CertificateProof,
    acting_user: User,
    waiting_on: Sequence[Recipient] = (),
) -> CertificateProof:
    """Withdraw an open application. ``waiting_on``: whoever could take its open task, who
    hear of it."""
    proof = _lock(proof)
    if proof.requester_id != acting_user.pk:
        raise PermissionDenied(ONLY_REQUESTER)
    if not proof.is_open:
        raise ConflictError(str(NOT_OPEN), code="not_open")
    with writes():
        proof.withdraw(at=timezone.now())
        proof.save()
        _announce(
            proof,
            action="certificate_proof.withdrawn",
            actor=acting_user,
            data=None,
            notices_=[("certificate_proof_withdrawn", list(waiting_on))],
        )
    return proof


# --- the record service of each decision --------------------------------------------------


def next_number(school_id: str, at: Any) -> str:
    """The next proof number of the school in the year of ``at`` (Beijing time). The school's
    row is locked (``FOR NO KEY UPDATE``: rows referring to it are not held up), so two
    approvals at one school number one after the other; the number is unique in the
    database too."""
    School.objects.select_for_update(no_key=True).filter(pk=school_id).values_list(
        "pk", flat=True
    ).first()
    prefix = f"{school_id}{timezone.localtime(at).year}"
    last = CertificateProof.objects.filter(number__startswith=prefix).aggregate(Max("number"))
    serial = int(last["number__max"][len(prefix) :]) + 1 if last["number__max"] else 1
    return f"{prefix}{serial:0{SERIAL_DIGITS}d}"


def approve(proof: CertificateProof, decided: Decided) -> dict[str, Any]:
    """Issue the proof: its number, the original certificate number, and the qualification
    (locked with the application: the step's ``lock_related``) marked lost, on its own audit
    chain. Refused (409) when the qualification was revoked or got a proof meanwhile."""
    qualification = proof.qualification
    check_eligible(qualification, ignore=proof.pk)
    number = next_number(proof.school_id, decided.at)
    proof.approve(at=decided.at, number=number, original=qualification.certificate_number)
    qualification.mark_lost(at=decided.at, proof_id=proof.pk)
    qualification._lost_mark_allowed = True
    try:
        qualification.save(update_fields=["lost_at", "lost_proof", "updated"])
    finally:
        qualification._lost_mark_allowed = False
    audit_append(
        subject=qualification,
        action="qualification.marked_lost",
        actor=decided.acting_user,
        data={"proof": proof.pk, "proof_number": number, "reason": proof.reason},
        subject_locked=True,
    )
    return {"proof_number": number, "certificate_number": qualification.certificate_number}


def reject(proof: CertificateProof, decided: Decided) -> None:
    proof.reject(at=decided.at)


def send_back(proof: CertificateProof, decided: Decided) -> None:
    """The school returns the application to the requester for revision."""
    proof.send_back()


EVIDENCE_NOT_ALLOWED = _(
    "Evidence is added by the requester or the student, while the application is open."
)


@service
def proof_add_evidence(
    *, proof: CertificateProof, upload: UploadedFile, acting_user: User
) -> CertificateProofEvidence:
    """Attach a file to an open application: the requester or the student only."""
    if not may(acting_user, codenames.VIEW, proof):
        raise NotVisibleError(proof.pk)
    proof = _lock(proof)  # the state as of now, not as the caller loaded it
    is_party = acting_user.pk in (proof.requester_id, proof.student.user_id)
    if not is_party or not proof.is_open:
        raise PermissionDenied(EVIDENCE_NOT_ALLOWED)
    content_type = check_evidence(upload)
    with writes():
        _attach(proof, [upload], [content_type], acting_user)
    return proof.evidence.order_by("-pk")[0]
