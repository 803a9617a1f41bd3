"""A school's freshmen of one year (the cohort its re-examination and registration are about),
and the requests to cancel an admission that wait for a second officer."""

from __future__ import annotations

import datetime
from typing import ClassVar
from zoneinfo import ZoneInfo

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy
from django_fsm import ConcurrentTransitionMixin
from django_fsm import FSMField
from django_fsm import transition

from records.admissions.numbering import add_months
from records.choices import UNDECIDED_CANCELLATION_STATES
from records.choices import CancellationState
from records.choices import CohortState
from records.models.admissions import AdmissionRecord
from records.models.adverse import AdverseDecision
from records.models.people import User
from records.models.reference import Province
from records.models.reference import School

# DOMAIN.md §2.1 item 3: the re-examination ends within three months of entry.
REVIEW_MONTHS = 3


class AdmissionCohort(ConcurrentTransitionMixin, models.Model):
    """A school's admissions of one year: re-examined within three months of the entry date,
    then registered (``records.admissions.services.cohort_register``). Opened when its first
    admissions are imported (``workflows.flows.admission``, which starts its review); reopened
    (``registered → reviewing``) when admissions are imported after its registration."""

    school = models.ForeignKey(
        School, on_delete=models.PROTECT, related_name="+", verbose_name=_("school")
    )
    province = models.ForeignKey(
        Province, on_delete=models.PROTECT, related_name="+", verbose_name=_("province")
    )
    year = models.PositiveSmallIntegerField(_("year"))
    # The school's entry day in that year, as it was when the cohort opened.
    entry_date = models.DateField(pgettext_lazy("cohort", "entry date"))
    state = FSMField(
        _("state"), choices=CohortState.choices, default=CohortState.REVIEWING, protected=True
    )
    # The sequence of the last student number given (``School.student_number_pattern``).
    last_sequence = models.PositiveIntegerField(default=0)
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
        verbose_name = _("cohort")
        verbose_name_plural = _("cohorts")
        constraints: ClassVar = [
            models.UniqueConstraint(fields=["school", "year"], name="cohort_unique_school_year"),
        ]
        indexes: ClassVar = [
            models.Index(fields=["province", "year"], name="cohort_province_year"),
        ]

    def __str__(self) -> str:
        return f"{self.school_id} {self.year}"

    @property
    def deadline(self) -> datetime.datetime:
        """The end of the re-examination: the start of the day three months after the entry
        date, in the site's time zone (entry 1 September → 1 December, 00:00)."""
        day = add_months(self.entry_date, REVIEW_MONTHS)
        return datetime.datetime(day.year, day.month, day.day, tzinfo=ZoneInfo(settings.TIME_ZONE))

    def admissions(self) -> models.QuerySet[AdmissionRecord]:
        """The cohort's admissions (``admission_cohort`` serves them)."""
        admissions: models.QuerySet[AdmissionRecord] = AdmissionRecord.objects.filter(
            school_id=self.school_id, admission_year=self.year
        )
        return admissions

    @transition(field=state, source=CohortState.REVIEWING, target=CohortState.REGISTERED)
    def register(self, *, by: User, at: datetime.datetime) -> None:
        """The re-examination is over: the cohort's admitted freshmen are registered."""
        self.registered_by = by
        self.registered_at = at

    @transition(field=state, source=CohortState.REGISTERED, target=CohortState.REVIEWING)
    def reopen(self) -> None:
        """Admissions came after the registration: the cohort is re-examined again, for them
        (``registered_at`` and ``registered_by`` keep its last registration)."""


class AdmissionCancellation(ConcurrentTransitionMixin, AdverseDecision):
    """A request to cancel an admission (取消入学资格, DOMAIN.md §2.1), an adverse decision: an
    officer of the school asks with a reason, the legality review and the record of the
    student's hearing; another officer of the school confirms it (the written decision is
    issued: ``in_appeal``) or refuses it. The admission stays ``admitted`` (or ``retained``)
    until the decision takes effect after its appeal period (``confirmed``); an appeal may
    cancel it (``overturned``)."""

    admission = models.ForeignKey(
        AdmissionRecord,
        on_delete=models.PROTECT,
        related_name="cancellations",
        verbose_name=pgettext_lazy("cancellation", "admission"),
    )
    cohort = models.ForeignKey(
        AdmissionCohort,
        on_delete=models.PROTECT,
        related_name="cancellations",
        verbose_name=_("cohort"),
    )
    school = models.ForeignKey(School, on_delete=models.PROTECT, related_name="+")
    province = models.ForeignKey(Province, on_delete=models.PROTECT, related_name="+")
    requester = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name=_("requester"),
    )
    reason = models.TextField(_("reason"))
    # What the school records before it decides (arts 55–56).
    legality_reviewed = models.BooleanField(_("legality review"), default=False)
    hearing_date = models.DateField(_("hearing date"), null=True, blank=True)
    hearing_by = models.CharField(_("heard by"), max_length=200, blank=True)
    hearing_summary = models.TextField(_("hearing summary"), blank=True)
    state = FSMField(
        _("state"),
        choices=CancellationState.choices,
        default=CancellationState.PENDING,
        protected=True,
    )
    decided_at = models.DateTimeField(_("decided at"), null=True, blank=True)
    created = models.DateTimeField(_("requested at"), auto_now_add=True)

    # Officers and administrators of the school see it; the student sees it (to appeal).
    scope_paths: ClassVar[dict[str, str]] = {
        "records.school": "school_id",
        "records.province": "province_id",
        "owner": "admission__student__user_id",
    }

    class Meta:
        verbose_name = _("admission cancellation")
        verbose_name_plural = _("admission cancellations")
        constraints: ClassVar = [
            models.UniqueConstraint(
                fields=["admission"],
                condition=Q(state__in=[str(s) for s in UNDECIDED_CANCELLATION_STATES]),
                name="cancellation_one_pending",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.admission_id} ({self.state})"

    @transition(field=state, source=CancellationState.PENDING, target=CancellationState.IN_APPEAL)
    def issue_decision(self, *, at: datetime.datetime, text: str) -> None:
        """The second officer confirms: the written decision is issued; it takes effect after
        the appeal period."""
        self.open_appeal_window(at=at, text=text)

    @transition(field=state, source=CancellationState.IN_APPEAL, target=CancellationState.CONFIRMED)
    def confirm(self, *, at: datetime.datetime) -> None:
        """The decision takes effect: the admission is cancelled."""
        self.decided_at = at
        self.close_appeals()

    @transition(
        field=state, source=CancellationState.IN_APPEAL, target=CancellationState.OVERTURNED
    )
    def overturn(self, *, at: datetime.datetime) -> None:
        """An appeal cancels the decision: the admission stays as it was."""
        self.decided_at = at
        self.close_appeals()

    @transition(field=state, source=CancellationState.PENDING, target=CancellationState.REFUSED)
    def refuse(self, *, at: datetime.datetime) -> None:
        self.decided_at = at
