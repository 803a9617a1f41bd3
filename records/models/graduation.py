"""Qualification registration (学历注册): a school's graduates of one graduation date, and the
identity re-checks (毕业生身份复核) that release a graduate held by the photo comparison."""

from __future__ import annotations

import datetime
from typing import ClassVar

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _
from django_fsm import ConcurrentTransitionMixin
from django_fsm import FSMField
from django_fsm import transition

from records.choices import EducationType
from records.choices import GraduationCohortState
from records.choices import RecheckState
from records.models.people import User
from records.models.qualifications import Qualification
from records.models.reference import Province
from records.models.reference import School
from records.years import window


class GraduationCohort(ConcurrentTransitionMixin, models.Model):
    """A school's graduates of one graduation date: their qualifications are prepared as
    drafts from their statuses (``records.graduation.services``), checked, and registered
    together. The graduation date is every certificate's issue date and the day the records
    become publicly searchable (DOMAIN.md §2.4); the principal's name is printed on each.
    ``preparing → registered``, and back when drafts are added or released after it."""

    school = models.ForeignKey(
        School, on_delete=models.PROTECT, related_name="+", verbose_name=_("school")
    )
    province = models.ForeignKey(
        Province, on_delete=models.PROTECT, related_name="+", verbose_name=_("province")
    )
    graduation_date = models.DateField(
        _("graduation date"),
        help_text=_("Also the issue date, and the day the record becomes publicly searchable."),
    )
    principal_name = models.CharField(_("principal's name"), max_length=40)
    education_type = models.CharField(
        _("education type"),
        max_length=16,
        choices=EducationType.choices,
        default=EducationType.REGULAR,
    )
    state = FSMField(
        _("state"),
        choices=GraduationCohortState.choices,
        default=GraduationCohortState.PREPARING,
        protected=True,
    )
    registered_at = models.DateTimeField(_("registered at"), null=True, blank=True)
    registered_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("registered by"),
    )
    created = models.DateTimeField(auto_now_add=True)

    scope_paths: ClassVar[dict[str, str]] = {
        "records.school": "school_id",
        "records.province": "province_id",
    }

    class Meta:
        verbose_name = _("graduating cohort")
        verbose_name_plural = _("graduating cohorts")
        constraints: ClassVar = [
            models.UniqueConstraint(
                fields=["school", "graduation_date"], name="graduation_unique_school_date"
            ),
        ]
        indexes: ClassVar = [
            models.Index(fields=["province", "graduation_date"], name="graduation_province_date"),
        ]

    def __str__(self) -> str:
        return f"{self.school_id} {self.graduation_date.isoformat()}"

    @property
    def year(self) -> int:
        return self.graduation_date.year

    @property
    def deadline(self) -> datetime.datetime:
        """Registration is due on the graduation date (即时注册): the start of the next day."""
        return window.deadline_after(self.graduation_date)

    @transition(
        field=state,
        source=GraduationCohortState.PREPARING,
        target=GraduationCohortState.REGISTERED,
    )
    def register(self, *, by: User, at: datetime.datetime) -> None:
        self.registered_by = by
        self.registered_at = at

    @transition(
        field=state,
        source=GraduationCohortState.REGISTERED,
        target=GraduationCohortState.PREPARING,
    )
    def reopen(self) -> None:
        """Drafts to register came after the registration (a released graduate, a late one)."""


class PhotoRecheck(ConcurrentTransitionMixin, models.Model):
    """A school's re-check of a graduate flagged by the photo comparison (身份核验未通过 or
    不确定), filed with the province: what the officer checked and found. The graduate's draft
    stays held until the province approves (同意备案); a refused re-check leaves it held, and
    the school may re-check again. At most one pending re-check per qualification."""

    # Emptied when the draft is discarded (the student does not graduate now); a pending
    # re-check's draft is never discarded.
    qualification = models.ForeignKey(
        Qualification,
        on_delete=models.SET_NULL,
        null=True,
        related_name="rechecks",
        verbose_name=_("qualification"),
    )
    cohort = models.ForeignKey(
        GraduationCohort,
        on_delete=models.PROTECT,
        related_name="rechecks",
        verbose_name=_("graduating cohort"),
    )
    school = models.ForeignKey(
        School, on_delete=models.PROTECT, related_name="+", verbose_name=_("school")
    )
    province = models.ForeignKey(
        Province, on_delete=models.PROTECT, related_name="+", verbose_name=_("province")
    )
    requester = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name=_("filed by"),
    )
    finding = models.TextField(
        _("re-check"),
        help_text=_("What the school checked (documents, an interview) and what it found."),
    )
    state = FSMField(
        _("state"), choices=RecheckState.choices, default=RecheckState.PENDING, protected=True
    )
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("decided by"),
    )
    decided_at = models.DateTimeField(_("decided at"), null=True, blank=True)
    comment = models.TextField(_("the province's comment"), blank=True)
    created = models.DateTimeField(auto_now_add=True)

    scope_paths: ClassVar[dict[str, str]] = {
        "records.school": "school_id",
        "records.province": "province_id",
    }

    class Meta:
        verbose_name = _("identity re-check")
        verbose_name_plural = _("identity re-checks")
        constraints: ClassVar = [
            models.UniqueConstraint(
                fields=["qualification"],
                condition=Q(state=RecheckState.PENDING),
                name="recheck_one_pending",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.qualification_id} ({self.state})"

    @transition(field=state, source=RecheckState.PENDING, target=RecheckState.APPROVED)
    def approve(self, *, by: User, at: datetime.datetime, comment: str) -> None:
        self.decided_by, self.decided_at, self.comment = by, at, comment

    @transition(field=state, source=RecheckState.PENDING, target=RecheckState.REFUSED)
    def refuse(self, *, by: User, at: datetime.datetime, comment: str) -> None:
        self.decided_by, self.decided_at, self.comment = by, at, comment
