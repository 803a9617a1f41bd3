"""Reference data, people and the audit log.

Every model that a permission scope reaches declares ``scope_paths``: for each scope model
(``"records.school"``, ``"records.province"``) the lookup from this model to that model's
primary key, and ``"owner"``: the lookup to the user who owns the row. ``permissions`` reads
these paths; it never imports this module.
"""

from __future__ import annotations

from typing import ClassVar

import pgtrigger
from django.conf import settings
from django.contrib.auth.models import AbstractUser
from django.contrib.contenttypes.models import ContentType
from django.core.exceptions import ValidationError
from django.core.validators import RegexValidator
from django.db import models
from django.utils.translation import gettext_lazy as _

from records.choices import Gender
from records.choices import IdType
from records.validators import validate_identity
from records.validators import validate_person_name

PROVINCE_CODE_RULE = _("A province code is 2 digits (GB/T 2260).")
SCHOOL_CODE_RULE = _("A school code is 5 digits.")
AUDIT_APPEND_ONLY = "audit events are append-only"


class User(AbstractUser):
    """A login. People's identity lives in ``Student``; roles are groups."""

    language = models.CharField(
        _("language"), max_length=10, choices=settings.LANGUAGES, default=settings.LANGUAGE_CODE
    )

    class Meta:
        swappable = "AUTH_USER_MODEL"
        verbose_name = _("user")
        verbose_name_plural = _("users")


class Province(models.Model):
    code = models.CharField(
        _("code"),
        max_length=2,
        primary_key=True,
        validators=[RegexValidator(r"^\d{2}$", PROVINCE_CODE_RULE)],
    )
    name = models.CharField(_("name"), max_length=40, unique=True)
    note = models.CharField(_("note"), max_length=200, blank=True)

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
    note = models.CharField(_("note"), max_length=200, blank=True)

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


class Ethnicity(models.Model):
    code = models.CharField(_("code"), max_length=2, primary_key=True)
    name = models.CharField(_("name"), max_length=20, unique=True)
    note = models.CharField(_("note"), max_length=200, blank=True)

    class Meta:
        ordering: ClassVar = ["code"]
        verbose_name = _("ethnic group")
        verbose_name_plural = _("ethnic groups")

    def __str__(self) -> str:
        return self.name


class Student(models.Model):
    """A person whose records Xueji keeps (学生). Identity only: records point here."""

    name = models.CharField(_("name"), max_length=40, validators=[validate_person_name])
    gender = models.CharField(_("gender"), max_length=6, choices=Gender.choices)
    birth_date = models.DateField(_("birth date"))
    id_type = models.CharField(
        _("ID type"), max_length=32, choices=IdType.choices, default=IdType.RESIDENT_ID
    )
    id_number = models.CharField(_("ID number"), max_length=32)
    ethnicity = models.ForeignKey(
        Ethnicity, on_delete=models.PROTECT, verbose_name=_("ethnic group")
    )
    email = models.EmailField(_("email"), blank=True)
    photo = models.ImageField(_("photo"), upload_to="photos/students/%Y/", blank=True)
    user = models.OneToOneField(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="student",
        verbose_name=_("login"),
    )
    created = models.DateTimeField(auto_now_add=True)
    updated = models.DateTimeField(auto_now=True)

    scope_paths: ClassVar[dict[str, str]] = {"owner": "user_id"}

    class Meta:
        verbose_name = _("student")
        verbose_name_plural = _("students")
        constraints: ClassVar = [
            models.UniqueConstraint(fields=["id_type", "id_number"], name="student_unique_id")
        ]

    def __str__(self) -> str:
        return self.name

    def clean(self) -> None:
        try:
            self.id_number = validate_identity(
                id_type=self.id_type,
                id_number=self.id_number,
                birth_date=self.birth_date,
                gender=self.gender,
            )
        except ValidationError as exc:
            raise ValidationError(exc.message_dict) from exc


class AuditEvent(models.Model):
    """An append-only, hash-chained log entry about one subject record.

    Each subject has its own chain: ``seq`` counts from 1 and ``hash`` is
    ``sha256(prev_hash + canonical JSON of this row)``. Rows are appended by
    ``records.audit.audit_append`` under the subject's row lock; on PostgreSQL a trigger
    refuses UPDATE and DELETE.
    """

    subject_type = models.ForeignKey(ContentType, on_delete=models.PROTECT)
    subject_id = models.CharField(max_length=64)
    seq = models.PositiveIntegerField()
    action = models.CharField(max_length=64)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    data = models.JSONField(default=dict)
    created = models.DateTimeField()
    prev_hash = models.CharField(max_length=64)
    hash = models.CharField(max_length=64, unique=True)

    class Meta:
        verbose_name = _("audit event")
        verbose_name_plural = _("audit events")
        constraints: ClassVar = [
            models.UniqueConstraint(
                fields=["subject_type", "subject_id", "seq"], name="auditevent_unique_seq"
            )
        ]
        triggers: ClassVar = [
            pgtrigger.Protect(name="append_only", operation=pgtrigger.Update | pgtrigger.Delete)
        ]

    def __str__(self) -> str:
        return f"{self.subject_type_id}:{self.subject_id}#{self.seq} {self.action}"

    def save(self, *args: object, **kwargs: object) -> None:
        if not self._state.adding:
            raise ValidationError(AUDIT_APPEND_ONLY)
        super().save(*args, **kwargs)  # type: ignore[arg-type]

    def delete(self, *args: object, **kwargs: object) -> tuple[int, dict[str, int]]:
        raise ValidationError(AUDIT_APPEND_ONLY)
