"""Identity change requests (DOMAIN.md §2.6): a change of an enrolled student's name, gender,
birth date, ID document, ethnic group or programme, with proof, reviewed by the school and
the province; and their evidence files. What each field accepts is declared in
``records.identity_changes.fields``."""

from __future__ import annotations

import datetime
import os
import uuid
from typing import Any
from typing import ClassVar

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _
from django_fsm import ConcurrentTransitionMixin
from django_fsm import FSMField
from django_fsm import transition

from records.choices import OPEN_CORRECTION_STATES
from records.choices import CorrectionState
from records.models.admissions import StudentStatus
from records.models.base import STUDENT_RECORD_SCOPE
from records.models.corrections import EVIDENCE_EXTENSIONS
from records.models.corrections import EVIDENCE_NAME_EXTENSIONS
from records.models.people import Student
from records.models.reference import Province
from records.models.reference import School

# The states of an identity change are a correction's.
IdentityChangeState = CorrectionState
OPEN_IDENTITY_CHANGE_STATES = OPEN_CORRECTION_STATES


class IdentityChangeRequest(ConcurrentTransitionMixin, models.Model):
    """A request to change the identity or programme of one current student status.

    ``submitted`` → ``school_approved`` (the school forwards it) → ``approved``, the change
    then applied to the person and the status, their old values kept; ``rejected`` by the
    school or the province; ``returned`` to the requester for revision (then ``submitted``
    again); the province may return it to the school; ``withdrawn`` by the requester while
    open. At most one open request per status (a partial unique index).
    """

    status = models.ForeignKey(
        StudentStatus,
        on_delete=models.PROTECT,
        related_name="identity_changes",
        verbose_name=_("student status"),
    )
    student = models.ForeignKey(Student, on_delete=models.PROTECT, related_name="+")
    school = models.ForeignKey(School, on_delete=models.PROTECT, related_name="+")
    province = models.ForeignKey(Province, on_delete=models.PROTECT, related_name="+")
    # [{"field", "old", "new"}]: each changed field, its value at filing and the new one, as
    # stored (a date as YYYY-MM-DD, a choice or an ethnic group or a major by its code).
    changes = models.JSONField(_("changes"), default=list)
    reason = models.TextField(_("reason"))
    requester = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name=_("requester"),
    )
    state = FSMField(
        _("state"),
        choices=IdentityChangeState.choices,
        default=IdentityChangeState.SUBMITTED,
        protected=True,
    )
    # The values the approval replaced and the ones it set (field → value, as stored).
    before = models.JSONField(_("values before"), null=True, blank=True)
    after = models.JSONField(_("values after"), null=True, blank=True)
    decided_at = models.DateTimeField(_("decided at"), null=True, blank=True)
    created = models.DateTimeField(_("filed at"), auto_now_add=True)
    updated = models.DateTimeField(auto_now=True)

    scope_paths: ClassVar[dict[str, str]] = STUDENT_RECORD_SCOPE

    class Meta:
        verbose_name = _("identity change request")
        verbose_name_plural = _("identity change requests")
        indexes: ClassVar = [
            models.Index(fields=["school", "-created"], name="identitychange_school_created"),
            models.Index(fields=["province", "-created"], name="identitychange_prov_created"),
            models.Index(fields=["student", "-created"], name="identitychange_student_created"),
        ]
        constraints: ClassVar = [
            models.UniqueConstraint(
                fields=["status"],
                condition=models.Q(state__in=[str(s) for s in OPEN_IDENTITY_CHANGE_STATES]),
                name="one_open_identity_change_per_status",
            )
        ]

    def __str__(self) -> str:
        return f"#{self.pk} {self.status_id}"

    @property
    def is_open(self) -> bool:
        return self.state in OPEN_IDENTITY_CHANGE_STATES

    @property
    def requested_fields(self) -> list[str]:
        return [change["field"] for change in self.changes]

    @transition(
        field=state,
        source=IdentityChangeState.SUBMITTED,
        target=IdentityChangeState.SCHOOL_APPROVED,
    )
    def forward(self) -> None:
        """The school approved; the province reviews."""

    @transition(
        field=state, source=IdentityChangeState.SCHOOL_APPROVED, target=IdentityChangeState.APPROVED
    )
    def approve(
        self, *, at: datetime.datetime, before: dict[str, Any], after: dict[str, Any]
    ) -> None:
        self.decided_at = at
        self.before = before
        self.after = after

    @transition(
        field=state,
        source=[IdentityChangeState.SUBMITTED, IdentityChangeState.SCHOOL_APPROVED],
        target=IdentityChangeState.REJECTED,
    )
    def reject(self, *, at: datetime.datetime) -> None:
        self.decided_at = at

    @transition(
        field=state, source=IdentityChangeState.SUBMITTED, target=IdentityChangeState.RETURNED
    )
    def send_back(self) -> None:
        """The school returns it to the requester for revision."""

    @transition(
        field=state,
        source=IdentityChangeState.SCHOOL_APPROVED,
        target=IdentityChangeState.SUBMITTED,
    )
    def return_to_school(self) -> None:
        """The province sends it back to the school's review."""

    @transition(
        field=state, source=IdentityChangeState.RETURNED, target=IdentityChangeState.SUBMITTED
    )
    def resubmit(self, *, changes: list[dict[str, str]], reason: str) -> None:
        self.changes = changes
        self.reason = reason

    @transition(
        field=state,
        source=list(OPEN_IDENTITY_CHANGE_STATES),
        target=IdentityChangeState.WITHDRAWN,
    )
    def withdraw(self, *, at: datetime.datetime) -> None:
        self.decided_at = at


def identity_evidence_path(instance: IdentityChangeEvidence, filename: str) -> str:
    """A generated name with the extension of the checked type (``filename`` is ignored), as
    a correction's evidence is stored."""
    extension = EVIDENCE_EXTENSIONS[instance.content_type]  # a KeyError: an unchecked file
    return f"evidence/identity/{instance.request_id}/{uuid.uuid4().hex}{extension}"


class IdentityChangeEvidence(models.Model):
    """The proof of an identity change (a police certificate of a new name, an ID card):
    PDF, JPEG or PNG, at most 5 MB, type checked by content
    (``records.corrections.evidence.check_evidence``)."""

    request = models.ForeignKey(
        IdentityChangeRequest, on_delete=models.PROTECT, related_name="evidence"
    )
    file = models.FileField(_("file"), upload_to=identity_evidence_path)
    original_name = models.CharField(_("file name"), max_length=200)
    content_type = models.CharField(_("type"), max_length=40)
    size = models.PositiveIntegerField(_("size"))
    uploaded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    created = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("identity change evidence")
        verbose_name_plural = _("identity change evidence")
        ordering: ClassVar = ["created"]

    def __str__(self) -> str:
        return self.original_name

    @property
    def download_name(self) -> str:
        stem, extension = os.path.splitext(self.original_name)
        if extension.lower() in EVIDENCE_NAME_EXTENSIONS.get(self.content_type, ()):
            return self.original_name
        return f"{stem or 'evidence'}{EVIDENCE_EXTENSIONS.get(self.content_type, '.bin')}"
