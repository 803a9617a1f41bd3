"""Admissions (录取 / 入学资格), their imports, and the student status (学籍) registration
creates (DOMAIN.md §2.1, §3.1, §4 items 1-2)."""

from __future__ import annotations

from typing import ClassVar

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _
from django_fsm import ConcurrentTransitionMixin
from django_fsm import FSMField
from django_fsm import transition

from records.choices import OPEN_STATUS_STATES
from records.choices import AdmissionState
from records.choices import ImportMode
from records.choices import ImportState
from records.choices import LearningForm
from records.choices import Level
from records.choices import StatusState
from records.choices import StudyLength
from records.models.base import STUDENT_RECORD_SCOPE
from records.models.identity import STATUS_CURRENT_SQL
from records.models.identity import STATUS_GUARDED
from records.models.identity import IdentityGuarded
from records.models.identity import guard_trigger
from records.models.people import Student
from records.models.reference import Province
from records.models.reference import School

CANDIDATE_NUMBER_MAX = 18  # the platform's CHAR(18): gaokao's 14 digits and others
STUDENT_NUMBER_MAX = 20


class AdmissionType(models.Model):
    """特殊招生类型: a data table (DOMAIN.md §3.7 "make the list data-driven"), loaded from
    ``records/data/admission_types.csv`` by ``load_reference_data``."""

    code = models.SlugField(_("code"), max_length=40, primary_key=True)
    name = models.CharField(_("name"), max_length=60, unique=True)
    name_en = models.CharField(_("English name"), max_length=100)
    active = models.BooleanField(_("admitted today"), default=True)
    note = models.CharField(_("note"), max_length=200, blank=True)

    class Meta:
        verbose_name = _("admission type")
        verbose_name_plural = _("admission types")
        ordering: ClassVar = ["code"]

    def __str__(self) -> str:
        return self.name


class Programme(models.Model):
    """What a person was admitted to and studies: the programme an admission names and its
    student status copies on registration (``records.admissions.services``), declared once.
    Both records keep these fields exactly alike; a field that differs between them (the
    candidate number, optional on a status) is declared on each model instead."""

    major_code = models.CharField(_("major code"), max_length=8)
    major_name = models.CharField(_("major"), max_length=100)
    level = models.CharField(_("level"), max_length=20, choices=Level.choices)
    learning_form = models.CharField(
        _("learning form"), max_length=20, choices=LearningForm.choices
    )
    study_length = models.CharField(_("study length"), max_length=4, choices=StudyLength.choices)
    admission_type = models.ForeignKey(
        AdmissionType,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("admission type"),
    )

    class Meta:
        abstract = True


class AdmissionImport(models.Model):
    """One uploaded admission file and its progress (``records.admissions.imports``)."""

    uploaded_by = models.ForeignKey(  # null: from the command line (``import_admissions``)
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("uploaded by"),
    )
    school = models.ForeignKey(
        School,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("only for school"),
    )
    file = models.FileField(_("file"), upload_to="imports/admissions/%Y/")
    original_name = models.CharField(_("file name"), max_length=200)
    mode = models.CharField(
        _("mode"), max_length=20, choices=ImportMode.choices, default=ImportMode.SKIP_INVALID
    )
    state = models.CharField(
        _("state"), max_length=10, choices=ImportState.choices, default=ImportState.QUEUED
    )
    total = models.PositiveIntegerField(_("rows"), default=0)
    imported = models.PositiveIntegerField(_("imported"), default=0)
    duplicates = models.PositiveIntegerField(_("duplicates"), default=0)
    invalid = models.PositiveIntegerField(_("invalid"), default=0)
    failure = models.TextField(_("why it failed"), blank=True)
    created = models.DateTimeField(_("uploaded at"), auto_now_add=True)
    started = models.DateTimeField(_("started at"), null=True, blank=True)
    finished = models.DateTimeField(_("finished at"), null=True, blank=True)

    scope_paths: ClassVar[dict[str, str]] = {"owner": "uploaded_by_id"}

    class Meta:
        verbose_name = _("admission import")
        verbose_name_plural = _("admission imports")
        ordering: ClassVar = ["-created"]

    def __str__(self) -> str:
        return f"{self.original_name} ({self.get_state_display()})"


class AdmissionImportError(models.Model):
    """One problem of one row of an import: the error report's line."""

    batch = models.ForeignKey(AdmissionImport, on_delete=models.CASCADE, related_name="errors")
    row = models.PositiveIntegerField(_("row"))  # as a spreadsheet shows it: the header is 1
    column = models.CharField(_("column"), max_length=40, blank=True)
    code = models.CharField(_("code"), max_length=40)
    message = models.TextField(_("message"))

    class Meta:
        verbose_name = _("import error")
        verbose_name_plural = _("import errors")
        ordering: ClassVar = ["row", "pk"]

    def __str__(self) -> str:
        return f"{self.row} {self.column}: {self.message}"


class AdmissionRecord(ConcurrentTransitionMixin, Programme):
    """A person's admission to a school in a year, as the admission file gives it, and the
    school's outcome for it."""

    # Indexed by ``Meta``: a person's admissions by ``admission_one_per_person_and_year``, a
    # school's by ``admission_cohort``, the provinces without the ``LIKE`` index Django adds
    # to a foreign key to a text key (nothing searches codes by prefix): every index is
    # written again when a cohort's registration moves its admissions.
    student = models.ForeignKey(
        Student,
        on_delete=models.PROTECT,
        related_name="admissions",
        verbose_name=_("student"),
        db_index=False,
    )
    candidate_number = models.CharField(_("candidate number"), max_length=CANDIDATE_NUMBER_MAX)
    school = models.ForeignKey(
        School, on_delete=models.PROTECT, related_name="+", verbose_name=_("school"), db_index=False
    )
    province = models.ForeignKey(  # the school's: scope checks filter on it
        Province,
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name=_("province"),
        db_index=False,
    )
    origin_province = models.ForeignKey(
        Province,
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name=_("origin province"),
        db_index=False,
    )
    admission_year = models.PositiveSmallIntegerField(_("admission year"))
    # The programme: ``Programme``.
    state = FSMField(
        _("state"), choices=AdmissionState.choices, default=AdmissionState.ADMITTED, protected=True
    )
    reason = models.TextField(_("reason"), blank=True)
    retained_until = models.DateField(_("retained until"), null=True, blank=True)
    batch = models.ForeignKey(
        AdmissionImport,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="admissions",
        verbose_name=_("import"),
    )
    created = models.DateTimeField(auto_now_add=True)
    updated = models.DateTimeField(auto_now=True)

    scope_paths: ClassVar[dict[str, str]] = STUDENT_RECORD_SCOPE

    class Meta:
        verbose_name = _("admission")
        verbose_name_plural = _("admissions")
        constraints: ClassVar = [
            # A candidate number is the province's, once per year.
            models.UniqueConstraint(
                fields=["admission_year", "candidate_number"], name="admission_unique_candidate"
            ),
            models.UniqueConstraint(
                fields=["student", "admission_year"], name="admission_one_per_person_and_year"
            ),
        ]
        indexes: ClassVar = [
            models.Index(fields=["school", "admission_year", "state"], name="admission_cohort"),
            models.Index(
                fields=["candidate_number"],
                name="admission_candidate_prefix",
                opclasses=["varchar_pattern_ops"],
            ),
            models.Index(fields=["province"], name="admission_province"),
            models.Index(fields=["origin_province"], name="admission_origin_province"),
        ]

    def __str__(self) -> str:
        return f"{self.candidate_number} {self.school_id} {self.admission_year}"

    @transition(
        field=state,
        source=[AdmissionState.ADMITTED, AdmissionState.RETAINED],
        target=AdmissionState.REGISTERED,
    )
    def register(self) -> None:
        """注册学籍: the status is created beside it (``records.admissions.services``)."""

    @transition(
        field=state,
        source=[AdmissionState.ADMITTED, AdmissionState.RETAINED],
        target=AdmissionState.GAVE_UP,
    )
    def give_up(self) -> None:
        """放弃入学资格."""

    @transition(
        field=state,
        source=[AdmissionState.ADMITTED, AdmissionState.RETAINED],
        target=AdmissionState.CANCELLED,
    )
    def cancel(self) -> None:
        """取消入学资格 (confirmed by a second officer)."""

    @transition(field=state, source=AdmissionState.ADMITTED, target=AdmissionState.RETAINED)
    def retain(self) -> None:
        """保留入学资格: no student status meanwhile."""


class StudentStatus(IdentityGuarded, ConcurrentTransitionMixin, Programme):
    """学籍: created when an admission is registered. While current, its programme
    (``STATUS_GUARDED``) changes only through an identity change request, or the status change
    that moves it (``records.models.identity``)."""

    guarded: ClassVar[tuple[str, ...]] = STATUS_GUARDED

    student = models.ForeignKey(
        Student, on_delete=models.PROTECT, related_name="statuses", verbose_name=_("student")
    )
    admission = models.OneToOneField(
        AdmissionRecord,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="status",
        verbose_name=_("admission"),
    )
    school = models.ForeignKey(
        School, on_delete=models.PROTECT, related_name="+", verbose_name=_("school")
    )
    province = models.ForeignKey(
        Province, on_delete=models.PROTECT, related_name="+", verbose_name=_("province")
    )
    student_number = models.CharField(_("student number"), max_length=STUDENT_NUMBER_MAX)
    candidate_number = models.CharField(
        _("candidate number"), max_length=CANDIDATE_NUMBER_MAX, blank=True
    )
    # The programme (``Programme``), copied from the admission.
    entry_date = models.DateField(_("entry date"))
    expected_graduation = models.DateField(_("expected graduation date"))
    state = FSMField(
        _("state"), choices=StatusState.choices, default=StatusState.ENROLLED, protected=True
    )
    created = models.DateTimeField(auto_now_add=True)
    updated = models.DateTimeField(auto_now=True)

    scope_paths: ClassVar[dict[str, str]] = STUDENT_RECORD_SCOPE

    class Meta:
        verbose_name = _("student status")
        verbose_name_plural = _("student statuses")
        constraints: ClassVar = [
            models.UniqueConstraint(
                fields=["school", "student_number"], name="status_unique_student_number"
            ),
            # DOMAIN.md §4 item 1: one ordinary full-time status per person per study period,
            # i.e. at most one current one (a partial unique index, on SQLite too).
            models.UniqueConstraint(
                fields=["student"],
                condition=Q(learning_form=LearningForm.FULL_TIME)
                & Q(state__in=[str(state) for state in OPEN_STATUS_STATES]),
                name="status_one_current_full_time",
            ),
        ]
        indexes: ClassVar = [
            models.Index(fields=["school", "state"], name="status_school_state"),
            models.Index(
                fields=["student_number"],
                name="status_number_prefix",
                opclasses=["varchar_pattern_ops"],
            ),
        ]
        triggers: ClassVar = [guard_trigger(STATUS_GUARDED, STATUS_CURRENT_SQL)]

    def __str__(self) -> str:
        return f"{self.student_number} {self.school_id}"

    def is_identity_current(self) -> bool:
        return self.state in OPEN_STATUS_STATES

    @property
    def is_current(self) -> bool:
        """Enrolled, suspended or reserved: a status that ended (退学, 死亡, …) takes no
        change any more."""
        return self.state in OPEN_STATUS_STATES

    # The moves a status change makes (``records.status_changes.types`` names them). Each is
    # the graph only: the approval's record service saves, audits and mails.
    @transition(field=state, source=StatusState.ENROLLED, target=StatusState.SUSPENDED)
    def suspend(self) -> None:
        """休学."""

    @transition(field=state, source=StatusState.SUSPENDED, target=StatusState.ENROLLED)
    def resume(self) -> None:
        """复学."""

    @transition(field=state, source=StatusState.ENROLLED, target=StatusState.RESERVED)
    def reserve(self) -> None:
        """保留学籍."""

    @transition(field=state, source=StatusState.RESERVED, target=StatusState.ENROLLED)
    def end_reservation(self) -> None:
        """Back from a reserved status (保留学籍期满复学)."""

    @transition(field=state, source=list(OPEN_STATUS_STATES), target=StatusState.WITHDRAWN)
    def withdraw(self) -> None:
        """退学: the status ends (学籍注销)."""

    @transition(field=state, source=list(OPEN_STATUS_STATES), target=StatusState.DECEASED)
    def record_death(self) -> None:
        """死亡: the status ends (学籍注销)."""

    @transition(field=state, source=list(OPEN_STATUS_STATES), target=StatusState.CANCELLED)
    def cancel_status(self) -> None:
        """取消学籍: the status ends (an adverse decision, after its appeal period)."""

    @transition(field=state, source=list(OPEN_STATUS_STATES), target=StatusState.EXPELLED)
    def expel(self) -> None:
        """开除学籍: the status ends (an adverse decision, after its appeal period)."""

    # Registration of the qualification ends the status (学历注册, ``records.graduation``;
    # its bulk statements make the same move, from ``enrolled`` only).
    @transition(field=state, source=StatusState.ENROLLED, target=StatusState.GRADUATED)
    def graduate(self) -> None:
        """毕业: a 毕业 qualification is registered."""

    @transition(field=state, source=StatusState.ENROLLED, target=StatusState.COMPLETED)
    def complete_study(self) -> None:
        """结业: a 结业 qualification is registered."""
