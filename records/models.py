"""Reference data, people and the audit log.

Every model that a permission scope reaches declares ``scope_paths``: for each scope model
(``"records.school"``, ``"records.province"``) the lookup from this model to that model's
primary key, and ``"owner"``: the lookup to the user who owns the row. ``permissions`` reads
these paths; it never imports this module.
"""

from __future__ import annotations

import datetime
import uuid
from pathlib import Path
from typing import ClassVar

import pgtrigger
from django.conf import settings
from django.contrib.auth.models import AbstractUser
from django.contrib.contenttypes.models import ContentType
from django.core.exceptions import ValidationError
from django.core.validators import RegexValidator
from django.db import models
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy
from django_fsm import ConcurrentTransitionMixin
from django_fsm import FSMField
from django_fsm import transition

from records.choices import OPEN_CORRECTION_STATES
from records.choices import CorrectionState
from records.choices import EducationType
from records.choices import Gender
from records.choices import GraduationResult
from records.choices import IdType
from records.choices import LearningForm
from records.choices import Level
from records.choices import QualificationStatus
from records.choices import StudyLength
from records.validators import validate_identity
from records.validators import validate_person_name

PROVINCE_CODE_RULE = _("A province code is 2 digits (GB/T 2260).")
SCHOOL_CODE_RULE = _("A school code is 5 digits.")
AUDIT_APPEND_ONLY = "audit events are append-only"
REGISTERED_IMMUTABLE = _(
    "A registered qualification cannot be changed; file a correction request, which the school "
    "reviews and the province signs off."
)
REVISIONS_APPEND_ONLY = "qualification revisions are append-only"


# A student's record at a school: seen by the student, the school and the school's province.
STUDENT_RECORD_SCOPE: dict[str, str] = {
    "records.school": "school_id",
    "records.province": "province_id",
    "owner": "student__user_id",
}


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


class Student(models.Model):
    """A person whose records Xueji keeps (学生). Identity only: records point here."""

    name = models.CharField(
        pgettext_lazy("person", "name"), max_length=40, validators=[validate_person_name]
    )
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


class AppendOnlyModel(models.Model):
    """Rows are written once and never changed or deleted through the ORM (the PostgreSQL
    trigger of each subclass refuses it below the ORM too)."""

    append_only_message = "rows of this table are append-only"

    class Meta:
        abstract = True

    def save(self, *args: object, **kwargs: object) -> None:
        if not self._state.adding:
            raise ValidationError(self.append_only_message)
        super().save(*args, **kwargs)  # type: ignore[arg-type]

    def delete(self, *args: object, **kwargs: object) -> tuple[int, dict[str, int]]:
        raise ValidationError(self.append_only_message)


class AuditEvent(AppendOnlyModel):
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

    append_only_message = AUDIT_APPEND_ONLY

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


# The registered content of a qualification: what the certificate prints (DOMAIN.md §3.2).
QUALIFICATION_CONTENT_FIELDS = (
    "name",
    "gender",
    "birth_date",
    "id_type",
    "id_number",
    "photo",
    "education_type",
    "start_date",
    "graduation_date",
    "major_code",
    "major_name",
    "level",
    "study_length",
    "learning_form",
    "graduation_result",
    "principal_name",
    "certificate_number",
    "minor_note",
    "student_id",
    "school_id",
    "province_id",
)


def _registered_content_changed() -> pgtrigger.Q:
    changed = pgtrigger.Q()
    for field in QUALIFICATION_CONTENT_FIELDS:
        changed |= pgtrigger.Q(**{f"old__{field}__df": pgtrigger.F(f"new__{field}")})
    return pgtrigger.Q(old__status=QualificationStatus.REGISTERED) & changed


class Qualification(ConcurrentTransitionMixin, models.Model):
    """An academic qualification (学历): draft → registered (public, immutable) → revoked.

    Once registered, its content changes only through ``records.qualifications
    .qualification_amend``, called when a correction is approved; the model refuses any other
    save that changes content, and on PostgreSQL so does a trigger.
    """

    student = models.ForeignKey(
        Student, on_delete=models.PROTECT, related_name="qualifications", verbose_name=_("student")
    )
    school = models.ForeignKey(School, on_delete=models.PROTECT, verbose_name=_("school"))
    province = models.ForeignKey(Province, on_delete=models.PROTECT, verbose_name=_("province"))
    # The person as registered (a snapshot: the certificate prints these).
    name = models.CharField(
        pgettext_lazy("person", "name"), max_length=40, validators=[validate_person_name]
    )
    gender = models.CharField(_("gender"), max_length=6, choices=Gender.choices)
    birth_date = models.DateField(_("birth date"))
    id_type = models.CharField(_("ID type"), max_length=32, choices=IdType.choices)
    id_number = models.CharField(_("ID number"), max_length=32)
    photo = models.ImageField(_("photo"), upload_to="photos/qualifications/%Y/", blank=True)
    # Study and programme.
    education_type = models.CharField(
        _("education type"),
        max_length=16,
        choices=EducationType.choices,
        default=EducationType.REGULAR,
    )
    start_date = models.DateField(_("study start date"))
    graduation_date = models.DateField(
        _("graduation date"),
        help_text=_("Also the issue date, and the day the record becomes publicly searchable."),
    )
    major_code = models.CharField(_("major code"), max_length=9)
    major_name = models.CharField(_("major"), max_length=100)
    level = models.CharField(_("level"), max_length=16, choices=Level.choices)
    study_length = models.CharField(_("study length"), max_length=4, choices=StudyLength.choices)
    learning_form = models.CharField(
        _("learning form"), max_length=16, choices=LearningForm.choices
    )
    graduation_result = models.CharField(
        _("graduation result"), max_length=10, choices=GraduationResult.choices
    )
    principal_name = models.CharField(_("principal's name"), max_length=40)
    certificate_number = models.CharField(_("certificate number"), max_length=18, unique=True)
    minor_note = models.CharField(_("minor"), max_length=200, blank=True)

    status = FSMField(
        _("status"),
        choices=QualificationStatus.choices,
        default=QualificationStatus.DRAFT,
        protected=True,
    )
    registered_at = models.DateTimeField(_("registered at"), null=True, blank=True)
    revoked_at = models.DateTimeField(_("revoked at"), null=True, blank=True)
    revoke_reason = models.TextField(_("reason for revocation"), blank=True)
    created = models.DateTimeField(auto_now_add=True)
    updated = models.DateTimeField(auto_now=True)

    scope_paths: ClassVar[dict[str, str]] = STUDENT_RECORD_SCOPE

    class Meta:
        verbose_name = _("qualification")
        verbose_name_plural = _("qualifications")
        indexes: ClassVar = [
            models.Index(fields=["school", "-created"], name="qualification_school_created"),
            models.Index(fields=["province", "-created"], name="qualification_prov_created"),
        ]
        triggers: ClassVar = [
            pgtrigger.Protect(
                name="registered_immutable",
                operation=pgtrigger.Update,
                condition=_registered_content_changed(),
            ),
            pgtrigger.Protect(name="never_deleted", operation=pgtrigger.Delete),
        ]

    def __str__(self) -> str:
        return f"{self.certificate_number} {self.name}"

    _amendment_allowed = False
    _loaded_content: dict[str, object] | None = None
    _loaded_status: str | None = None

    def save(self, *args: object, **kwargs: object) -> None:
        if (
            self._loaded_status == QualificationStatus.REGISTERED
            and not self._amendment_allowed
            and self.content() != self._loaded_content
        ):
            raise ValidationError(REGISTERED_IMMUTABLE, code="registered_immutable")
        super().save(*args, **kwargs)
        self._loaded_content = self.content()
        self._loaded_status = self.status

    def delete(self, *args: object, **kwargs: object) -> tuple[int, dict[str, int]]:
        raise ValidationError(REGISTERED_IMMUTABLE, code="never_deleted")

    @classmethod
    def from_db(cls, db: str | None, field_names: object, values: object) -> Qualification:
        instance: Qualification = super().from_db(db, field_names, values)  # type: ignore[arg-type]
        instance._loaded_content = instance.content()
        instance._loaded_status = instance.status
        return instance

    def content(self) -> dict[str, object]:
        """The registered content, as stored (``photo`` as its file name)."""
        values = {field: getattr(self, field) for field in QUALIFICATION_CONTENT_FIELDS}
        values["photo"] = self.photo.name if self.photo else ""
        return values

    @transition(
        field=status, source=QualificationStatus.DRAFT, target=QualificationStatus.REGISTERED
    )
    def register(self, *, at: datetime.datetime) -> None:
        self.registered_at = at

    @transition(
        field=status, source=QualificationStatus.REGISTERED, target=QualificationStatus.REVOKED
    )
    def revoke(self, *, at: datetime.datetime, reason: str) -> None:
        self.revoked_at = at
        self.revoke_reason = reason


class QualificationRevision(AppendOnlyModel):
    """Every value a qualification ever had while registered: the registration, then each
    approved correction, with who approved it and when. Append-only."""

    qualification = models.ForeignKey(
        Qualification, on_delete=models.PROTECT, related_name="revisions"
    )
    number = models.PositiveIntegerField(_("revision"))
    content = models.JSONField(_("content"))
    changed_fields = models.JSONField(_("changed fields"), default=list)
    reason = models.TextField(_("reason"), blank=True)
    correction_id = models.BigIntegerField(_("correction request"), null=True, blank=True)
    approved_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("approved by"),
    )
    created = models.DateTimeField(_("time"))

    append_only_message = REVISIONS_APPEND_ONLY

    class Meta:
        verbose_name = _("qualification revision")
        verbose_name_plural = _("qualification revisions")
        ordering: ClassVar = ["qualification", "number"]
        constraints: ClassVar = [
            models.UniqueConstraint(
                fields=["qualification", "number"], name="qualificationrevision_unique_number"
            )
        ]
        triggers: ClassVar = [
            pgtrigger.Protect(name="append_only", operation=pgtrigger.Update | pgtrigger.Delete)
        ]

    def __str__(self) -> str:
        return f"{self.qualification_id} r{self.number}"


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
    def return_to_school(self, *, changes: list[dict[str, object]]) -> None:
        """The qualification changed since filing: the school reviews the refreshed request."""
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


def evidence_path(instance: CorrectionEvidence, filename: str) -> str:
    return f"evidence/{instance.request_id}/{uuid.uuid4().hex}{Path(filename).suffix.lower()}"


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
