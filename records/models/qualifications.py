"""Qualifications (学历) and their append-only revisions."""

from __future__ import annotations

import datetime
from typing import ClassVar

import pgtrigger
from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy
from django_fsm import ConcurrentTransitionMixin
from django_fsm import FSMField
from django_fsm import transition

from records.choices import EducationType
from records.choices import Gender
from records.choices import GraduationResult
from records.choices import IdentityCheck
from records.choices import IdType
from records.choices import LearningForm
from records.choices import Level
from records.choices import QualificationStatus
from records.choices import StudyLength
from records.models.base import STUDENT_RECORD_SCOPE
from records.models.base import AppendOnlyModel
from records.models.people import Student
from records.models.reference import Province
from records.models.reference import School
from records.validators import validate_person_name

REGISTERED_IMMUTABLE = _(
    "A registered qualification cannot be changed; file a correction request, which the school "
    "reviews and the province signs off."
)
REVISIONS_APPEND_ONLY = "qualification revisions are append-only"


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


LOST_MARK_REFUSED = _(
    "Only a registered qualification not yet marked lost can be marked lost (遗失作废), and "
    "only when its certificate proof is issued; the mark never changes afterwards (rule "
    "lost_mark)."
)

CREATED_AS_DRAFT = _(
    "A qualification is created as a draft; only registration (qualification_register) makes "
    "it registered."
)
# The states in which a qualification is published: its content never changes but by an
# approved correction (and a revoked one not even so).
PUBLISHED = (QualificationStatus.REGISTERED, QualificationStatus.REVOKED)


def _published_row_changed() -> pgtrigger.Q:
    """An update the database refuses: a published row's content changed, a revoked row
    changed at all, or a published row moved back to draft."""
    changed = pgtrigger.Q()
    for field in QUALIFICATION_CONTENT_FIELDS:
        changed |= pgtrigger.Q(**{f"old__{field}__df": pgtrigger.F(f"new__{field}")})
    lost_changed = pgtrigger.Q(new__lost_at__df=pgtrigger.F("old__lost_at")) | pgtrigger.Q(
        new__lost_proof_id__df=pgtrigger.F("old__lost_proof_id")
    )
    revoked_changed = pgtrigger.Q(old__status=QualificationStatus.REVOKED) & (
        pgtrigger.Q(new__status__df=pgtrigger.F("old__status"))
        | pgtrigger.Q(new__revoked_at__df=pgtrigger.F("old__revoked_at"))
        | pgtrigger.Q(new__revoke_reason__df=pgtrigger.F("old__revoke_reason"))
        | lost_changed
    )
    back_to_draft = ~pgtrigger.Q(old__status=QualificationStatus.DRAFT) & pgtrigger.Q(
        new__status=QualificationStatus.DRAFT
    )
    # The lost mark (遗失作废) is set once, on a registered row, and never changed again.
    lost_refused = lost_changed & (
        ~pgtrigger.Q(old__status=QualificationStatus.REGISTERED)
        | pgtrigger.Q(old__lost_at__isnull=False)
    )
    return (
        (pgtrigger.Q(old__status__in=PUBLISHED) & changed)
        | revoked_changed
        | back_to_draft
        | lost_refused
    )


class Qualification(ConcurrentTransitionMixin, models.Model):
    """An academic qualification (学历): draft → registered (public, immutable) → revoked.

    Created only as a draft. Once registered, its content changes only through
    ``records.qualifications.qualification_amend``, called when a correction is approved; a
    revoked one never changes, and neither goes back to draft. The model refuses any other
    save, and on PostgreSQL so do triggers (which also refuse inserting a row that is not a
    draft).
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
    # The lost mark (遗失作废, DOMAIN.md §2.7): not content. Set once, on a registered
    # qualification, by ``records.proofs.services`` when its certificate proof is issued;
    # ``lost_proof`` is that proof (its number, the original certificate number).
    lost_at = models.DateTimeField(_("marked lost at"), null=True, blank=True)
    lost_proof = models.OneToOneField(
        "records.CertificateProof",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("certificate proof"),
    )
    # Registration from the student status (学历注册, ``records.graduation``): the status the
    # qualification concludes and the graduating cohort it was prepared in (empty for records
    # registered before, or loaded from elsewhere). Not content: the certificate prints
    # neither.
    student_status = models.ForeignKey(
        "records.StudentStatus",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="qualifications",
        verbose_name=_("student status"),
    )
    cohort = models.ForeignKey(
        "records.GraduationCohort",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="qualifications",
        verbose_name=_("graduating cohort"),
    )
    # The photo comparison (身份核验) before registration, and when the province approved
    # the school's re-check of a flagged one: a flagged draft is held until then.
    identity_check = models.CharField(
        _("identity check"),
        max_length=10,
        choices=IdentityCheck.choices,
        blank=True,
        default="",
        db_default="",
    )
    identity_cleared_at = models.DateTimeField(_("re-check approved at"), null=True, blank=True)
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
        constraints: ClassVar = [
            # A status concludes in one qualification of its level (a minor is a note on the
            # major's, ``minor_note``); a revoked one leaves room for its re-issue.
            models.UniqueConstraint(
                fields=["student_status", "level"],
                condition=models.Q(
                    status__in=[QualificationStatus.DRAFT, QualificationStatus.REGISTERED]
                ),
                name="qualification_one_per_status_level",
            ),
            models.CheckConstraint(
                condition=models.Q(lost_at__isnull=True, lost_proof__isnull=True)
                | models.Q(lost_at__isnull=False, lost_proof__isnull=False),
                name="qualification_lost_mark_whole",
            ),
        ]
        triggers: ClassVar = [
            pgtrigger.Protect(
                name="registered_immutable",
                operation=pgtrigger.Update,
                condition=_published_row_changed(),
            ),
            # A draft not graduating after all is discarded; nothing published ever goes.
            pgtrigger.Protect(
                name="never_deleted",
                operation=pgtrigger.Delete,
                condition=~pgtrigger.Q(old__status=QualificationStatus.DRAFT),
            ),
            pgtrigger.Protect(
                name="created_as_draft",
                operation=pgtrigger.Insert,
                condition=~pgtrigger.Q(new__status=QualificationStatus.DRAFT),
            ),
        ]

    def __str__(self) -> str:
        return f"{self.certificate_number} {self.name}"

    _amendment_allowed = False
    _lost_mark_allowed = False
    _loaded_content: dict[str, object] | None = None
    _loaded_status: str | None = None
    _loaded_lost: tuple[object, object] = (None, None)

    def save(self, *args: object, **kwargs: object) -> None:
        if self._state.adding and self.status != QualificationStatus.DRAFT:
            raise ValidationError(CREATED_AS_DRAFT, code="created_as_draft")
        if self._lost_mark() != self._loaded_lost:
            may_mark = (
                self._lost_mark_allowed
                and not self._state.adding
                and self._loaded_status == QualificationStatus.REGISTERED
                and self._loaded_lost == (None, None)
            )
            if not may_mark:
                raise ValidationError(LOST_MARK_REFUSED, code="lost_mark")
        if self._loaded_status in PUBLISHED and self.content() != self._loaded_content:
            revoked = self._loaded_status == QualificationStatus.REVOKED
            if revoked or not self._amendment_allowed:
                raise ValidationError(REGISTERED_IMMUTABLE, code="registered_immutable")
        super().save(*args, **kwargs)
        self._loaded_content = self.content()
        self._loaded_status = self.status
        self._loaded_lost = self._lost_mark()

    def delete(self, *args: object, **kwargs: object) -> tuple[int, dict[str, int]]:
        """Only a draft is ever deleted (discarded: the student does not graduate now)."""
        if self._state.adding or self._loaded_status != QualificationStatus.DRAFT:
            raise ValidationError(REGISTERED_IMMUTABLE, code="never_deleted")
        return super().delete(*args, **kwargs)  # type: ignore[arg-type]

    @classmethod
    def from_db(cls, db: str | None, field_names: object, values: object) -> Qualification:
        instance: Qualification = super().from_db(db, field_names, values)  # type: ignore[arg-type]
        instance._loaded_content = instance.content()
        instance._loaded_status = instance.status
        instance._loaded_lost = instance._lost_mark()
        return instance

    @property
    def is_lost(self) -> bool:
        """Marked lost (遗失作废): a certificate proof replaces its certificate."""
        return self.lost_at is not None

    def _lost_mark(self) -> tuple[object, object]:
        return (self.lost_at, self.lost_proof_id)

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

    def mark_lost(self, *, at: datetime.datetime, proof_id: int) -> None:
        """Mark the registered qualification lost (遗失作废), its certificate replaced by the
        proof ``proof_id``. Not a transition: the state stays ``registered``."""
        if self.status != QualificationStatus.REGISTERED or self.lost_at is not None:
            raise ValidationError(LOST_MARK_REFUSED, code="lost_mark")
        self.lost_at = at
        self.lost_proof_id = proof_id

    @transition(
        field=status, source=QualificationStatus.REGISTERED, target=QualificationStatus.REVOKED
    )
    def revoke(self, *, at: datetime.datetime, reason: str) -> None:
        self.revoked_at = at
        self.revoke_reason = reason


class QualificationRevision(AppendOnlyModel):
    """Every value a qualification ever had while registered: the registration, then each
    approved correction, with who approved it and when. Append-only."""

    # Served by the unique (qualification, number) index: no index of its own (a
    # registration writes thousands of revisions at once).
    qualification = models.ForeignKey(
        Qualification, on_delete=models.PROTECT, related_name="revisions", db_index=False
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
