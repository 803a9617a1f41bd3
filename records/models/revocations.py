"""Revocation of a registered qualification (DOMAIN.md §2.7, §4 item 11; issue 11 item 6): a
school officer proposes it with the decision of the school's leadership; it is an adverse
decision (``AdverseDecision``: the legality review and the hearing before, the written
decision, its delivery and the appeal period after); then the province confirms and the
qualification becomes ``revoked`` (``records.qualifications.qualification_revoke``), never
deleted."""

from __future__ import annotations

import datetime
from typing import ClassVar

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _
from django_fsm import ConcurrentTransitionMixin
from django_fsm import FSMField
from django_fsm import transition

from records.models.adverse import AdverseDecision
from records.models.base import STUDENT_RECORD_SCOPE
from records.models.people import Student
from records.models.qualifications import Qualification
from records.models.reference import Province
from records.models.reference import School


class RevocationState(models.TextChoices):
    SUBMITTED = "submitted", _("Waiting for the school's review")
    REJECTED = "rejected", _("Rejected by the school")
    IN_APPEAL = "in_appeal", _("Decision issued, in its appeal period")
    OVERTURNED = "overturned", _("Cancelled on appeal")
    CONFIRMING = "confirming", _("Waiting for the province's confirmation")
    REFUSED = "refused", _("Not confirmed by the province")
    REVOKED = "revoked", _("Qualification revoked")


OPEN_REVOCATION_STATES = (
    RevocationState.SUBMITTED,
    RevocationState.IN_APPEAL,
    RevocationState.CONFIRMING,
)


class RevocationRequest(ConcurrentTransitionMixin, AdverseDecision):
    """A proposal to revoke one registered qualification.

    ``submitted`` → ``in_appeal`` (a second officer issues the written decision) or
    ``rejected``; ``in_appeal`` → ``confirming`` (the window ended with no appeal, or the
    province upheld the appeal's decision) or ``overturned`` (an appeal cancelled it);
    ``confirming`` → ``revoked`` or ``refused`` by the province. One open request per
    qualification (partial unique index)."""

    qualification = models.ForeignKey(
        Qualification,
        on_delete=models.PROTECT,
        related_name="revocations",
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
    reason = models.TextField(_("reason"))
    basis = models.TextField(_("basis"))
    # The decision of the school's leadership (校长办公会 or the like) the proposal rests on.
    leadership_decision_date = models.DateField(_("leadership decision date"))
    leadership_decision = models.TextField(_("leadership decision"))
    # What the school records before it decides (arts 55–56), as for any adverse decision.
    legality_reviewed = models.BooleanField(_("legality review"), default=False)
    hearing_date = models.DateField(_("hearing date"), null=True, blank=True)
    hearing_by = models.CharField(_("heard by"), max_length=200, blank=True)
    hearing_summary = models.TextField(_("hearing summary"), blank=True)
    state = FSMField(
        _("state"),
        choices=RevocationState.choices,
        default=RevocationState.SUBMITTED,
        protected=True,
    )
    decided_at = models.DateTimeField(_("decided at"), null=True, blank=True)
    created = models.DateTimeField(_("filed at"), auto_now_add=True)
    updated = models.DateTimeField(auto_now=True)

    scope_paths: ClassVar[dict[str, str]] = STUDENT_RECORD_SCOPE

    class Meta:
        verbose_name = _("revocation request")
        verbose_name_plural = _("revocation requests")
        indexes: ClassVar = [
            models.Index(fields=["school", "-created"], name="revocation_school_created"),
            models.Index(fields=["province", "-created"], name="revocation_prov_created"),
            models.Index(fields=["student", "-created"], name="revocation_student_created"),
        ]
        constraints: ClassVar = [
            models.UniqueConstraint(
                fields=["qualification"],
                condition=models.Q(state__in=[str(s) for s in OPEN_REVOCATION_STATES]),
                name="one_open_revocation",
            ),
        ]

    def __str__(self) -> str:
        return f"#{self.pk} {self.qualification_id} ({self.state})"

    @property
    def is_open(self) -> bool:
        return self.state in OPEN_REVOCATION_STATES

    @transition(field=state, source=RevocationState.SUBMITTED, target=RevocationState.IN_APPEAL)
    def issue_decision(self, *, at: datetime.datetime, text: str) -> None:
        self.open_appeal_window(at=at, text=text)

    @transition(field=state, source=RevocationState.SUBMITTED, target=RevocationState.REJECTED)
    def reject(self, *, at: datetime.datetime) -> None:
        self.decided_at = at

    @transition(field=state, source=RevocationState.IN_APPEAL, target=RevocationState.CONFIRMING)
    def take_effect(self) -> None:
        """The appeal period is over and the decision stands: the province confirms."""
        self.close_appeals()

    @transition(field=state, source=RevocationState.IN_APPEAL, target=RevocationState.OVERTURNED)
    def overturn(self, *, at: datetime.datetime) -> None:
        self.decided_at = at
        self.close_appeals()

    @transition(field=state, source=RevocationState.CONFIRMING, target=RevocationState.REVOKED)
    def confirm(self, *, at: datetime.datetime) -> None:
        self.decided_at = at

    @transition(field=state, source=RevocationState.CONFIRMING, target=RevocationState.REFUSED)
    def refuse(self, *, at: datetime.datetime) -> None:
        self.decided_at = at
