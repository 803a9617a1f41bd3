"""Reference data: provinces, schools, majors, ethnic groups (loaded by ``load_reference_data``)."""

from __future__ import annotations

from typing import ClassVar

from django.core.validators import MaxValueValidator
from django.core.validators import RegexValidator
from django.db import models
from django.utils.translation import gettext_lazy as _

from records.admissions import numbering
from records.choices import ApprovalLevels
from records.years import window

PROVINCE_CODE_RULE = _("A province code is 2 digits (GB/T 2260).")
SCHOOL_CODE_RULE = _("A school code is 5 digits.")


class Province(models.Model):
    code = models.CharField(
        _("code"),
        max_length=2,
        primary_key=True,
        validators=[RegexValidator(r"^\d{2}$", PROVINCE_CODE_RULE)],
    )
    name = models.CharField(_("name"), max_length=40, unique=True)
    note = models.TextField(_("note"), blank=True)

    scope_paths: ClassVar[dict[str, str]] = {"records.province": "pk"}

    class Meta:
        ordering: ClassVar = ["code"]
        verbose_name = _("province")
        verbose_name_plural = _("provinces")
        permissions: ClassVar = [
            ("view_province_records", _("Can see the records of the province's schools")),
            ("signoff_province", _("Can sign off the province's requests")),
        ]

    def __str__(self) -> str:
        return f"{self.code} {self.name}"


class School(models.Model):
    code = models.CharField(
        _("school code"),
        max_length=5,
        primary_key=True,
        validators=[RegexValidator(r"^\d{5}$", SCHOOL_CODE_RULE)],
    )
    identifier = models.CharField(_("institution identifier"), max_length=10, unique=True)
    name = models.CharField(_("name"), max_length=100, unique=True)
    province = models.ForeignKey(
        Province, on_delete=models.PROTECT, related_name="schools", verbose_name=_("province")
    )
    department = models.CharField(_("competent department"), max_length=100, blank=True)
    level = models.CharField(_("level"), max_length=10, blank=True)
    remarks = models.CharField(_("remarks"), max_length=200, blank=True)
    principal_name = models.CharField(_("principal's name"), max_length=40, blank=True)
    credit_system = models.BooleanField(_("credit system"), default=False)
    # Status changes (``records.status_changes``): how many school levels decide them, and
    # how many years past the study length a student may take (the maximum study period,
    # counting suspension and reservation: 《普通高等学校学生管理规定》第28条).
    status_change_levels = models.PositiveSmallIntegerField(
        _("status change approval levels"),
        choices=ApprovalLevels.choices,
        default=ApprovalLevels.ONE,
    )
    max_extension_years = models.PositiveSmallIntegerField(
        _("years allowed beyond the study length"),
        default=2,
        validators=[MaxValueValidator(6)],
        help_text=_(
            "The maximum study period is the study length plus these years, suspension and "
            "reservation included."
        ),
    )
    # The school's rules for its freshmen (``records.admissions.numbering``).
    student_number_pattern = models.CharField(
        _("student number pattern"),
        max_length=40,
        default=numbering.DEFAULT_PATTERN,
        validators=[numbering.validate_pattern],
        help_text=_(
            "{year} or {yy}, {school}, {seq:N} (a sequence of N digits) and literal letters, "
            "digits and hyphens; the default {year}{seq:6} gives 2026000001."
        ),
    )
    entry_day = models.CharField(
        _("entry day"),
        max_length=5,
        default=numbering.DEFAULT_ENTRY_DAY,
        validators=[numbering.validate_entry_day],
        help_text=_(
            "MM-DD: the freshmen's entry date each year; re-examination ends three months later."
        ),
    )
    # The window of its academic-year registration (``records.years.window``).
    year_registration_opens = models.CharField(
        _("year registration opens"),
        max_length=5,
        default=window.DEFAULT_OPENS,
        validators=[window.validate_day],
        help_text=_("MM-DD: the first day of each academic year's registration (学年注册)."),
    )
    year_registration_closes = models.CharField(
        _("year registration closes"),
        max_length=5,
        default=window.DEFAULT_CLOSES,
        validators=[window.validate_day],
        help_text=_(
            "MM-DD: its last day, the deadline of the school's officers; a day before the "
            "opening day falls in the next calendar year."
        ),
    )

    scope_paths: ClassVar[dict[str, str]] = {
        "records.school": "pk",
        "records.province": "province_id",
    }

    class Meta:
        ordering: ClassVar = ["code"]
        verbose_name = _("school")
        verbose_name_plural = _("schools")
        permissions: ClassVar = [
            ("view_school_records", _("Can see the school's records")),
            ("review_school", _("Can review the school's requests")),
        ]

    def __str__(self) -> str:
        return f"{self.code} {self.name}"


class Major(models.Model):
    """The Ministry's undergraduate major catalogue (专业目录)."""

    code = models.CharField(_("code"), max_length=9, primary_key=True)
    name = models.CharField(_("name"), max_length=100)
    discipline = models.CharField(_("discipline"), max_length=40)
    class_code = models.CharField(_("class code"), max_length=4, blank=True)
    class_name = models.CharField(_("class name"), max_length=60, blank=True)
    note = models.TextField(_("note"), blank=True)

    class Meta:
        ordering: ClassVar = ["code"]
        verbose_name = _("major")
        verbose_name_plural = _("majors")

    def __str__(self) -> str:
        return f"{self.code} {self.name}"


class SchoolMajor(models.Model):
    """A major a school defines outside the catalogue (e.g. a 专科 or graduate programme)."""

    school = models.ForeignKey(School, on_delete=models.CASCADE, related_name="own_majors")
    code = models.CharField(_("code"), max_length=9)
    name = models.CharField(_("name"), max_length=100)

    scope_paths: ClassVar[dict[str, str]] = {
        "records.school": "school_id",
        "records.province": "school__province_id",
    }

    class Meta:
        verbose_name = _("school-defined major")
        verbose_name_plural = _("school-defined majors")
        constraints: ClassVar = [
            models.UniqueConstraint(fields=["school", "code"], name="schoolmajor_unique_code")
        ]

    def __str__(self) -> str:
        return f"{self.code} {self.name}"


class MajorCutoff(models.Model):
    """录取分数线: the lowest gaokao score a school admitted to a major from one origin province
    in one year. A transfer into the major needs at least this score (教育部令第41号 art 22); the
    receiving school keeps these rows (entered in the admin on its behalf)."""

    school = models.ForeignKey(
        School, on_delete=models.CASCADE, related_name="cutoffs", verbose_name=_("school")
    )
    major_code = models.CharField(_("major code"), max_length=9)
    origin_province = models.ForeignKey(
        Province, on_delete=models.PROTECT, related_name="+", verbose_name=_("origin province")
    )
    year = models.PositiveSmallIntegerField(_("admission year"))
    score = models.DecimalField(_("cut-off score"), max_digits=5, decimal_places=1)

    scope_paths: ClassVar[dict[str, str]] = {
        "records.school": "school_id",
        "records.province": "school__province_id",
    }

    class Meta:
        verbose_name = _("admission cut-off")
        verbose_name_plural = _("admission cut-offs")
        constraints: ClassVar = [
            models.UniqueConstraint(
                fields=["school", "major_code", "origin_province", "year"],
                name="cutoff_unique_major_origin_year",
            )
        ]

    def __str__(self) -> str:
        return f"{self.school_id} {self.major_code} {self.origin_province_id} {self.year}"


class Ethnicity(models.Model):
    code = models.CharField(_("code"), max_length=2, primary_key=True)
    name = models.CharField(_("name"), max_length=20, unique=True)
    note = models.TextField(_("note"), blank=True)

    class Meta:
        ordering: ClassVar = ["code"]
        verbose_name = _("ethnic group")
        verbose_name_plural = _("ethnic groups")

    def __str__(self) -> str:
        return self.name
