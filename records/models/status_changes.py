"""Status change requests (学籍异动): a student's or an officer's request to move a student
status, decided by the school in one or two levels and, where the type says so, confirmed by
the province. What each type asks for and does is declared in
``records.status_changes.types``."""

from __future__ import annotations

import datetime
from typing import Any
from typing import ClassVar

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _
from django_fsm import ConcurrentTransitionMixin
from django_fsm import FSMField
from django_fsm import transition

from records.choices import OPEN_STATUS_CHANGE_STATES
from records.choices import StatusChangeState
from records.models.admissions import StudentStatus
from records.models.adverse import AdverseDecision
from records.models.base import STUDENT_RECORD_SCOPE
from records.models.people import Student
from records.models.reference import Province
from records.models.reference import School

TYPE_MAX = 40


class StatusChangeRequest(ConcurrentTransitionMixin, AdverseDecision):
    """A request for one status change of one student status.

    ``submitted`` → (``department_approved``, at a two-level school) → (``school_approved``,
    where the province confirms) → ``approved``, the change then applied to the status;
    ``rejected`` at any level; ``returned`` to the requester for revision (then ``submitted``
    again); ``withdrawn`` by the requester while open. An adverse type's last school level
    issues its written decision instead (``in_appeal``: ``AdverseDecision``), which takes
    effect (``approved``) after the appeal period or is cancelled on appeal (``overturned``).
    At most one open request of a type per status (a partial unique index).
    """

    status = models.ForeignKey(
        StudentStatus,
        on_delete=models.PROTECT,
        related_name="change_requests",
        verbose_name=_("student status"),
    )
    student = models.ForeignKey(Student, on_delete=models.PROTECT, related_name="+")
    school = models.ForeignKey(School, on_delete=models.PROTECT, related_name="+")
    province = models.ForeignKey(Province, on_delete=models.PROTECT, related_name="+")
    # A key of ``records.status_changes.types.TYPES`` (no choices: a new type is data, not a
    # migration).
    type = models.CharField(_("type"), max_length=TYPE_MAX)
    fields = models.JSONField(_("fields"), default=dict)
    reason = models.TextField(_("reason"))
    requester = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name=_("requester"),
    )
    # Who approved the first of two school levels: never the second level's decider.
    first_decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("first level decided by"),
    )
    state = FSMField(
        _("state"),
        choices=StatusChangeState.choices,
        default=StatusChangeState.SUBMITTED,
        protected=True,
    )
    # A transfer (转学): the receiving school and its province (both see the request, and the
    # receiving school's and province's steps are scoped on them); when the receiving school
    # accepted it, when its public notice ends, and who confirmed it for each province of a
    # cross-province transfer.
    target_school = models.ForeignKey(
        School,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("receiving school"),
    )
    target_province = models.ForeignKey(
        Province,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("receiving province"),
    )
    accepted_at = models.DateTimeField(
        _("accepted by the receiving school at"), null=True, blank=True
    )
    notice_ends = models.DateTimeField(_("public notice ends"), null=True, blank=True)
    source_confirmed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("confirmed for the sending province by"),
    )
    target_confirmed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("confirmed for the receiving province by"),
    )
    # The status's values the approval replaced and the ones it set (state included).
    before = models.JSONField(_("values before"), null=True, blank=True)
    after = models.JSONField(_("values after"), null=True, blank=True)
    decided_at = models.DateTimeField(_("decided at"), null=True, blank=True)
    created = models.DateTimeField(_("filed at"), auto_now_add=True)
    updated = models.DateTimeField(auto_now=True)

    # A transfer is seen by the receiving school and its province too (grants stay on
    # schools and provinces: the paths name the request's columns).
    scope_paths: ClassVar[dict[str, str | tuple[str, ...]]] = {
        **STUDENT_RECORD_SCOPE,
        "records.school": ("school_id", "target_school_id"),
        "records.province": ("province_id", "target_province_id"),
    }

    class Meta:
        verbose_name = _("status change request")
        verbose_name_plural = _("status change requests")
        indexes: ClassVar = [
            models.Index(fields=["school", "-created"], name="statuschange_school_created"),
            models.Index(fields=["province", "-created"], name="statuschange_prov_created"),
            models.Index(fields=["student", "-created"], name="statuschange_student_created"),
        ]
        constraints: ClassVar = [
            models.UniqueConstraint(
                fields=["status", "type"],
                condition=models.Q(state__in=[str(s) for s in OPEN_STATUS_CHANGE_STATES]),
                name="one_open_status_change_per_type",
            )
        ]

    def __str__(self) -> str:
        return f"#{self.pk} {self.type} {self.status_id}"

    @property
    def is_open(self) -> bool:
        return self.state in OPEN_STATUS_CHANGE_STATES

    @transition(
        field=state,
        source=StatusChangeState.SUBMITTED,
        target=StatusChangeState.DEPARTMENT_APPROVED,
    )
    def approve_first_level(self, *, by: Any) -> None:
        self.first_decided_by = by

    @transition(
        field=state,
        source=[StatusChangeState.SUBMITTED, StatusChangeState.DEPARTMENT_APPROVED],
        target=StatusChangeState.SCHOOL_APPROVED,
    )
    def forward(self) -> None:
        """The school approved; the province confirms."""

    @transition(
        field=state,
        source=[
            StatusChangeState.SUBMITTED,
            StatusChangeState.DEPARTMENT_APPROVED,
            StatusChangeState.SCHOOL_APPROVED,
            StatusChangeState.IN_APPEAL,
            StatusChangeState.NOTICE_ENDED,
        ],
        target=StatusChangeState.APPROVED,
    )
    def approve(
        self, *, at: datetime.datetime, before: dict[str, Any], after: dict[str, Any]
    ) -> None:
        self.decided_at = at
        self.before = before
        self.after = after

    @transition(
        field=state,
        source=[
            StatusChangeState.SUBMITTED,
            StatusChangeState.DEPARTMENT_APPROVED,
            StatusChangeState.SCHOOL_APPROVED,
            StatusChangeState.TARGET_REVIEW,
            StatusChangeState.NOTICE_ENDED,
        ],
        target=StatusChangeState.REJECTED,
    )
    def reject(self, *, at: datetime.datetime) -> None:
        self.decided_at = at

    @transition(
        field=state,
        source=[StatusChangeState.SUBMITTED, StatusChangeState.DEPARTMENT_APPROVED],
        target=StatusChangeState.RETURNED,
    )
    def send_back(self) -> None:
        self.first_decided_by = None

    @transition(
        field=state,
        source=[StatusChangeState.SCHOOL_APPROVED, StatusChangeState.NOTICE_ENDED],
        target=StatusChangeState.SUBMITTED,
    )
    def return_to_school(self) -> None:
        """The province sends it back to the school's first level (a transfer: every step
        again, the receiving school's and the public notice included)."""
        self.first_decided_by = None
        self.accepted_at = None
        self.notice_ends = None

    # --- a transfer (转学) ---

    @transition(
        field=state,
        source=[StatusChangeState.SUBMITTED, StatusChangeState.DEPARTMENT_APPROVED],
        target=StatusChangeState.TARGET_REVIEW,
    )
    def send_to_target(self) -> None:
        """The sending school approved; the receiving school decides."""

    @transition(
        field=state, source=StatusChangeState.TARGET_REVIEW, target=StatusChangeState.IN_NOTICE
    )
    def accept(self, *, at: datetime.datetime, notice_ends: datetime.datetime) -> None:
        """The receiving school accepted: the public notice runs until ``notice_ends``."""
        self.accepted_at = at
        self.notice_ends = notice_ends

    @transition(
        field=state, source=StatusChangeState.IN_NOTICE, target=StatusChangeState.NOTICE_ENDED
    )
    def end_notice(self) -> None:
        """The public notice ended: the province(s) confirm."""

    @transition(field=state, source=StatusChangeState.RETURNED, target=StatusChangeState.SUBMITTED)
    def resubmit(self, *, fields: dict[str, Any], reason: str) -> None:
        self.fields = fields
        self.reason = reason

    @transition(
        field=state,
        # An issued adverse decision is the school's: its requester no longer withdraws it.
        source=[s for s in OPEN_STATUS_CHANGE_STATES if s != StatusChangeState.IN_APPEAL],
        target=StatusChangeState.WITHDRAWN,
    )
    def withdraw(self, *, at: datetime.datetime) -> None:
        self.decided_at = at

    # --- adverse decisions: the written decision, its delivery, the appeals ----------------

    @transition(
        field=state,
        source=[StatusChangeState.SUBMITTED, StatusChangeState.DEPARTMENT_APPROVED],
        target=StatusChangeState.IN_APPEAL,
    )
    def issue_decision(self, *, at: datetime.datetime, text: str) -> None:
        """The school's last level decided: the written decision is issued; it takes effect
        after the appeal period."""
        self.open_appeal_window(at=at, text=text)

    @transition(
        field=state, source=StatusChangeState.IN_APPEAL, target=StatusChangeState.OVERTURNED
    )
    def overturn(self, *, at: datetime.datetime) -> None:
        """An appeal cancels the decision: the request ends, the status stays."""
        self.decided_at = at
        self.close_appeals()
