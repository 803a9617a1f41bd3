"""Academic-year registration (学年注册, DOMAIN.md §2.2): a school's round of one academic year,
and each enrolled student's registration in it (``registered`` or ``deferred`` 暂缓注册)."""

from __future__ import annotations

import datetime
from typing import ClassVar

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy
from django_fsm import ConcurrentTransitionMixin
from django_fsm import FSMField
from django_fsm import transition

from records.choices import YearRegistrationState
from records.choices import YearRoundState
from records.models.admissions import StudentStatus
from records.models.base import STUDENT_RECORD_SCOPE
from records.models.people import Student
from records.models.people import User
from records.models.reference import Province
from records.models.reference import School
from records.years import window


class YearRegistrationRound(ConcurrentTransitionMixin, models.Model):
    """A school's registration of one academic year (2027: 2027–2028): its window, as the
    school's settings gave it when the round opened, its state and its kept counts. Opened by
    ``workflows.flows.year_registration`` (when the window opens, or by an officer), which
    starts its process; every write of its registrations locks its row first, so the counts
    move with them."""

    school = models.ForeignKey(
        School, on_delete=models.PROTECT, related_name="+", verbose_name=_("school")
    )
    province = models.ForeignKey(
        Province, on_delete=models.PROTECT, related_name="+", verbose_name=_("province")
    )
    academic_year = models.PositiveSmallIntegerField(_("academic year"))
    # The academic year's first day (the school's entry day): students who entered before it.
    starts = models.DateField(_("academic year starts"))
    opens = models.DateField(_("registration opens"))
    closes = models.DateField(_("registration closes"))
    state = FSMField(
        _("state"), choices=YearRoundState.choices, default=YearRoundState.OPEN, protected=True
    )
    registered_count = models.PositiveIntegerField(
        pgettext_lazy("year registration", "registered"), default=0
    )
    deferred_count = models.PositiveIntegerField(_("deferred"), default=0)
    completed_at = models.DateTimeField(_("completed at"), null=True, blank=True)
    completed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("completed by"),
    )
    created = models.DateTimeField(auto_now_add=True)

    scope_paths: ClassVar[dict[str, str]] = {
        "records.school": "school_id",
        "records.province": "province_id",
    }

    class Meta:
        verbose_name = _("year registration round")
        verbose_name_plural = _("year registration rounds")
        constraints: ClassVar = [
            models.UniqueConstraint(
                fields=["school", "academic_year"], name="yearround_unique_school_year"
            ),
        ]
        indexes: ClassVar = [
            models.Index(fields=["province", "academic_year"], name="yearround_province_year"),
        ]

    def __str__(self) -> str:
        return f"{self.school_id} {window.label(self.academic_year)}"

    @property
    def label(self) -> str:
        return window.label(self.academic_year)

    @property
    def deadline(self) -> datetime.datetime:
        """The end of the window: the start of the day after ``closes``."""
        return window.deadline_after(self.closes)

    @transition(field=state, source=YearRoundState.OPEN, target=YearRoundState.COMPLETED)
    def complete(self, *, by: User, at: datetime.datetime) -> None:
        """Everyone enrolled is registered or deferred: the round's task is done. Students who
        become enrolled later (a resumption) are still registered by registering again."""
        self.completed_by = by
        self.completed_at = at


class YearRegistration(ConcurrentTransitionMixin, models.Model):
    """One student status's registration for an academic year: ``registered``, or
    ``deferred`` (暂缓注册) with a reason until the student is registered. At most one per
    status and academic year. A round's bulk registration writes these rows by the thousand
    (``records.years.services``): the only indexes are the ones its lists and checks read."""

    status = models.ForeignKey(
        StudentStatus,
        on_delete=models.PROTECT,
        related_name="year_registrations",
        verbose_name=_("student status"),
    )
    # Served by the (round, state) index; the school and province are the round's.
    round = models.ForeignKey(
        YearRegistrationRound,
        on_delete=models.PROTECT,
        related_name="registrations",
        db_index=False,
        verbose_name=_("round"),
    )
    academic_year = models.PositiveSmallIntegerField(_("academic year"))
    # The status's, for the scope: the owner's look-up reads this column's index.
    student = models.ForeignKey(
        Student, on_delete=models.PROTECT, related_name="+", verbose_name=_("student")
    )
    school = models.ForeignKey(
        School, on_delete=models.PROTECT, related_name="+", db_index=False, verbose_name=_("school")
    )
    province = models.ForeignKey(
        Province,
        on_delete=models.PROTECT,
        related_name="+",
        db_index=False,
        verbose_name=_("province"),
    )
    state = FSMField(_("state"), choices=YearRegistrationState.choices, protected=True)
    # Why it was deferred (kept once the student is registered).
    reason = models.TextField(_("reason"), blank=True)
    registered_at = models.DateTimeField(
        pgettext_lazy("year registration", "registered at"), null=True, blank=True
    )
    registered_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        db_index=False,
        verbose_name=pgettext_lazy("year registration", "registered by"),
    )
    deferred_at = models.DateTimeField(_("deferred at"), null=True, blank=True)
    deferred_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        db_index=False,
        verbose_name=_("deferred by"),
    )
    created = models.DateTimeField(auto_now_add=True)
    updated = models.DateTimeField(auto_now=True)

    scope_paths: ClassVar[dict[str, str]] = STUDENT_RECORD_SCOPE

    class Meta:
        verbose_name = _("year registration")
        verbose_name_plural = _("year registrations")
        constraints: ClassVar = [
            models.UniqueConstraint(
                fields=["status", "academic_year"], name="yearregistration_unique_status_year"
            ),
        ]
        indexes: ClassVar = [
            models.Index(fields=["round", "state"], name="yearregistration_round_state"),
        ]

    def __str__(self) -> str:
        return f"{self.status_id} {window.label(self.academic_year)} ({self.state})"

    @property
    def label(self) -> str:
        return window.label(self.academic_year)

    @transition(
        field=state,
        source=YearRegistrationState.DEFERRED,
        target=YearRegistrationState.REGISTERED,
    )
    def register(self, *, by: User, at: datetime.datetime) -> None:
        """A deferred student meets the conditions: registered (the reason stays, as history)."""
        self.registered_by = by
        self.registered_at = at
