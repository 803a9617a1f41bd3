"""Correction requests of registered qualifications, and their evidence files."""

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

from records.choices import OPEN_CORRECTION_STATES
from records.choices import CorrectionState
from records.models.base import STUDENT_RECORD_SCOPE
from records.models.people import Student
from records.models.qualifications import Qualification
from records.models.reference import Province
from records.models.reference import School

# Fields a correction may change (DOMAIN.md §2.5, §2.6): identity, study dates, programme.
# Never the certificate number, the school, or derived values such as the major's name.
CORRECTABLE_FIELDS = (
    "name",
    "gender",
    "birth_date",
    "id_type",
    "id_number",
    "start_date",
    "graduation_date",
    "major_code",
    "level",
    "learning_form",
    "study_length",
    "graduation_result",
    # Corrected with the level or the graduation year it encodes, or on its own (a legacy
    # record's opaque key typed wrong); signed off by the province like every correction.
    "certificate_number",
)


class CorrectionRequest(ConcurrentTransitionMixin, models.Model):
    """A request to correct a registered qualification (学历注册信息修改).

    ``submitted`` → ``school_approved`` (forwarded) → ``approved``; the school may reject or
    return it for revision (``returned`` → ``submitted`` again); the province may reject; the
    requester may withdraw while it is open.
    """

    qualification = models.ForeignKey(
        Qualification,
        on_delete=models.PROTECT,
        related_name="corrections",
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
    changes = models.JSONField(_("changes"), default=list)
    reason = models.TextField(_("reason"))
    state = FSMField(
        _("state"),
        choices=CorrectionState.choices,
        default=CorrectionState.SUBMITTED,
        protected=True,
    )
    decided_at = models.DateTimeField(_("decided at"), null=True, blank=True)
    created = models.DateTimeField(_("filed at"), auto_now_add=True)
    updated = models.DateTimeField(auto_now=True)

    scope_paths: ClassVar[dict[str, str]] = STUDENT_RECORD_SCOPE

    class Meta:
        verbose_name = _("correction request")
        verbose_name_plural = _("correction requests")
        indexes: ClassVar = [
            models.Index(fields=["school", "-created"], name="correction_school_created"),
            models.Index(fields=["province", "-created"], name="correction_prov_created"),
        ]
        constraints: ClassVar = [
            models.UniqueConstraint(
                fields=["qualification"],
                condition=models.Q(state__in=OPEN_CORRECTION_STATES),
                name="one_open_correction_per_qualification",
            )
        ]

    def __str__(self) -> str:
        return f"#{self.pk} {self.qualification_id}"

    @property
    def is_open(self) -> bool:
        return self.state in OPEN_CORRECTION_STATES

    @property
    def requested_fields(self) -> list[str]:
        return [change["field"] for change in self.changes]

    @transition(
        field=state, source=CorrectionState.SUBMITTED, target=CorrectionState.SCHOOL_APPROVED
    )
    def forward(self) -> None:
        pass

    @transition(field=state, source=CorrectionState.SUBMITTED, target=CorrectionState.RETURNED)
    def send_back(self) -> None:
        pass

    @transition(field=state, source=CorrectionState.RETURNED, target=CorrectionState.SUBMITTED)
    def resubmit(self, *, changes: list[dict[str, object]], reason: str) -> None:
        self.changes = changes
        self.reason = reason

    @transition(
        field=state, source=CorrectionState.SCHOOL_APPROVED, target=CorrectionState.SUBMITTED
    )
    def return_to_school(self, *, changes: list[dict[str, object]] | None = None) -> None:
        """Back to school review: the province returned it, or the qualification changed since
        filing (``changes``: the request refreshed with the current values)."""
        if changes is not None:
            self.changes = changes

    @transition(
        field=state,
        source=[CorrectionState.SUBMITTED, CorrectionState.SCHOOL_APPROVED],
        target=CorrectionState.REJECTED,
    )
    def reject(self, *, at: datetime.datetime) -> None:
        self.decided_at = at

    @transition(
        field=state, source=CorrectionState.SCHOOL_APPROVED, target=CorrectionState.APPROVED
    )
    def approve(self, *, at: datetime.datetime) -> None:
        self.decided_at = at

    @transition(field=state, source=list(OPEN_CORRECTION_STATES), target=CorrectionState.WITHDRAWN)
    def withdraw(self, *, at: datetime.datetime) -> None:
        self.decided_at = at


# The extension a stored evidence file gets, from its type as checked by content, and the
# other extensions a download may keep from the uploader's name.
EVIDENCE_EXTENSIONS = {"application/pdf": ".pdf", "image/jpeg": ".jpg", "image/png": ".png"}
EVIDENCE_NAME_EXTENSIONS = {
    "application/pdf": (".pdf",),
    "image/jpeg": (".jpg", ".jpeg", ".jpe", ".jfif"),
    "image/png": (".png",),
}


def evidence_path(instance: CorrectionEvidence, filename: str) -> str:
    """A generated name with the extension of the checked type: nothing of the uploader's
    file name reaches the storage path (``filename`` is ignored)."""
    extension = EVIDENCE_EXTENSIONS[instance.content_type]  # a KeyError: an unchecked file
    return f"evidence/{instance.request_id}/{uuid.uuid4().hex}{extension}"


class CorrectionEvidence(models.Model):
    """A file supporting a correction: PDF, JPEG or PNG, at most 5 MB, type checked by content."""

    request = models.ForeignKey(
        CorrectionRequest, on_delete=models.PROTECT, related_name="evidence"
    )
    file = models.FileField(_("file"), upload_to=evidence_path)
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
        """The uploader's (cleaned) name with an extension of the checked type: a PNG sent
        as ``x.html`` is downloaded as ``x.png``, never opened as a page."""
        stem, extension = os.path.splitext(self.original_name)
        if extension.lower() in EVIDENCE_NAME_EXTENSIONS.get(self.content_type, ()):
            return self.original_name
        return f"{stem or 'evidence'}{EVIDENCE_EXTENSIONS.get(self.content_type, '.bin')}"
