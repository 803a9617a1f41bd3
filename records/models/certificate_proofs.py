"""Applications for a 学历证明书 (certificate proof) when a certificate is lost or damaged
(DOMAIN.md §2.7). One model is the application and, once approved, the proof itself: it then
carries its own number and the original certificate number it replaces, and the
qualification is marked lost (``Qualification.lost_at``, ``Qualification.lost_proof``)."""

from __future__ import annotations

import datetime
import os
import uuid
from typing import ClassVar

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _
from django_fsm import ConcurrentTransitionMixin
from django_fsm import FSMField
from django_fsm import transition

from records.choices import OPEN_CERTIFICATE_PROOF_STATES
from records.choices import CertificateLoss
from records.choices import CertificateProofState
from records.models.base import STUDENT_RECORD_SCOPE
from records.models.corrections import EVIDENCE_EXTENSIONS
from records.models.corrections import EVIDENCE_NAME_EXTENSIONS
from records.models.people import Student
from records.models.qualifications import Qualification
from records.models.reference import Province
from records.models.reference import School

PROOF_NUMBER_MAX = 14


class CertificateProof(ConcurrentTransitionMixin, models.Model):
    """An application for a certificate proof of one registered qualification.

    ``submitted`` → ``approved`` (the proof issued: ``number``, ``issued_at``) · ``rejected``
    · ``returned`` to the requester (then ``submitted`` again) · ``withdrawn`` by the
    requester while open. At most one open application per qualification, and at most one
    issued proof per qualification (partial unique indexes).
    """

    qualification = models.ForeignKey(
        Qualification,
        on_delete=models.PROTECT,
        related_name="certificate_proofs",
        verbose_name=_("qualification"),
    )
    student = models.ForeignKey(Student, on_delete=models.PROTECT, related_name="+")
    school = models.ForeignKey(School, on_delete=models.PROTECT, related_name="+")
    province = models.ForeignKey(Province, on_delete=models.PROTECT, related_name="+")
    requester = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name=_("requester"),
    )
    reason = models.CharField(_("reason"), max_length=10, choices=CertificateLoss.choices)
    note = models.TextField(_("note"))
    state = FSMField(
        _("state"),
        choices=CertificateProofState.choices,
        default=CertificateProofState.SUBMITTED,
        protected=True,
    )
    # Set when the proof is issued: its own number (school code + year + serial) and the
    # number of the certificate it replaces, as it stood then.
    number = models.CharField(
        _("proof number"), max_length=PROOF_NUMBER_MAX, null=True, blank=True, unique=True
    )
    original_certificate_number = models.CharField(
        _("original certificate number"), max_length=18, blank=True
    )
    issued_at = models.DateTimeField(_("issued at"), null=True, blank=True)
    decided_at = models.DateTimeField(_("decided at"), null=True, blank=True)
    created = models.DateTimeField(_("filed at"), auto_now_add=True)
    updated = models.DateTimeField(auto_now=True)

    scope_paths: ClassVar[dict[str, str]] = STUDENT_RECORD_SCOPE

    class Meta:
        verbose_name = _("certificate proof")
        verbose_name_plural = _("certificate proofs")
        indexes: ClassVar = [
            models.Index(fields=["school", "-created"], name="certproof_school_created"),
            models.Index(fields=["province", "-created"], name="certproof_prov_created"),
            models.Index(fields=["student", "-created"], name="certproof_student_created"),
        ]
        constraints: ClassVar = [
            models.UniqueConstraint(
                fields=["qualification"],
                condition=models.Q(state__in=[str(s) for s in OPEN_CERTIFICATE_PROOF_STATES]),
                name="one_open_certificate_proof",
            ),
            models.UniqueConstraint(
                fields=["qualification"],
                condition=models.Q(state=CertificateProofState.APPROVED),
                name="one_certificate_proof_issued",
            ),
        ]

    def __str__(self) -> str:
        return f"#{self.pk} {self.number or ''} {self.qualification_id}".strip()

    @property
    def is_open(self) -> bool:
        return self.state in OPEN_CERTIFICATE_PROOF_STATES

    @transition(
        field=state, source=CertificateProofState.SUBMITTED, target=CertificateProofState.APPROVED
    )
    def approve(self, *, at: datetime.datetime, number: str, original: str) -> None:
        self.decided_at = at
        self.issued_at = at
        self.number = number
        self.original_certificate_number = original

    @transition(
        field=state, source=CertificateProofState.SUBMITTED, target=CertificateProofState.REJECTED
    )
    def reject(self, *, at: datetime.datetime) -> None:
        self.decided_at = at

    @transition(
        field=state, source=CertificateProofState.SUBMITTED, target=CertificateProofState.RETURNED
    )
    def send_back(self) -> None:
        """The school returns it to the requester for revision."""

    @transition(
        field=state, source=CertificateProofState.RETURNED, target=CertificateProofState.SUBMITTED
    )
    def resubmit(self, *, reason: str, note: str) -> None:
        self.reason = reason
        self.note = note

    @transition(
        field=state,
        source=list(OPEN_CERTIFICATE_PROOF_STATES),
        target=CertificateProofState.WITHDRAWN,
    )
    def withdraw(self, *, at: datetime.datetime) -> None:
        self.decided_at = at


def proof_evidence_path(instance: CertificateProofEvidence, filename: str) -> str:
    """A generated name with the extension of the checked type (``filename`` is ignored), as a
    correction's evidence is stored."""
    extension = EVIDENCE_EXTENSIONS[instance.content_type]  # a KeyError: an unchecked file
    return f"evidence/proofs/{instance.proof_id}/{uuid.uuid4().hex}{extension}"


class CertificateProofEvidence(models.Model):
    """A file supporting an application (a published loss notice, a photo of the damaged
    certificate): PDF, JPEG or PNG, at most 5 MB, checked by content as a correction's."""

    proof = models.ForeignKey(CertificateProof, on_delete=models.PROTECT, related_name="evidence")
    file = models.FileField(_("file"), upload_to=proof_evidence_path)
    original_name = models.CharField(_("file name"), max_length=200)
    content_type = models.CharField(_("type"), max_length=40)
    size = models.PositiveIntegerField(_("size"))
    uploaded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    created = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("evidence")
        verbose_name_plural = _("evidence")
        ordering: ClassVar = ["created"]

    def __str__(self) -> str:
        return self.original_name

    @property
    def download_name(self) -> str:
        """The uploader's (cleaned) name with an extension of the checked type."""
        stem, extension = os.path.splitext(self.original_name)
        if extension.lower() in EVIDENCE_NAME_EXTENSIONS.get(self.content_type, ()):
            return self.original_name
        return f"{stem or 'evidence'}{EVIDENCE_EXTENSIONS.get(self.content_type, '.bin')}"
