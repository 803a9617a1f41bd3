"""Admin pages. Reference data is edited here; records that change only through services
(students' registered qualifications, revisions, corrections, admission cohorts and their
cancellation requests, the audit log) are read-only."""

from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.contrib.auth.admin import UserAdmin as DjangoUserAdmin
from django.contrib.auth.forms import AdminPasswordChangeForm
from django.db import transaction
from django.http import HttpRequest
from django.utils.translation import gettext_lazy as _

from permissions.admin import ScopeObjectAdmin
from records.accounts import announce_password_change
from records.logins import AdminLoginForm
from records.models import AdmissionCancellation
from records.models import AdmissionCohort
from records.models import AuditEvent
from records.models import CertificateProof
from records.models import CorrectionRequest
from records.models import Ethnicity
from records.models import GraduationCohort
from records.models import Major
from records.models import MajorCutoff
from records.models import PhotoRecheck
from records.models import Province
from records.models import Qualification
from records.models import QualificationRevision
from records.models import School
from records.models import SchoolMajor
from records.models import StatusChangeRequest
from records.models import Student
from records.models import User
from records.models import YearRegistration
from records.models import YearRegistrationRound
from records.validators import mask_id_number

# The admin's login form says when a lockout ends (records.logins), as the site's does.
admin.site.login_form = AdminLoginForm


class AnnouncedPasswordChangeForm(AdminPasswordChangeForm):  # type: ignore[type-arg]  # generic in the stubs only
    """An administrator's change of a user's password is announced to the user by email,
    as their own change is."""

    def save(self, commit: bool = True) -> Any:
        with transaction.atomic():
            user = super().save(commit=commit)
            if commit:
                announce_password_change(user)
        return user


@admin.register(User)
class UserAdmin(DjangoUserAdmin[User]):
    change_password_form = AnnouncedPasswordChangeForm
    fieldsets = (*DjangoUserAdmin.fieldsets, (_("Preferences"), {"fields": ("language",)}))  # type: ignore[misc]
    list_display = ("username", "email", "language", "is_staff", "is_active")


@admin.register(Province)
class ProvinceAdmin(ScopeObjectAdmin):
    list_display = ("code", "name")
    search_fields = ("code", "name")


@admin.register(School)
class SchoolAdmin(ScopeObjectAdmin):
    list_display = ("code", "name", "province", "level", "credit_system")
    list_filter = ("province", "level", "credit_system")
    search_fields = ("code", "name")


@admin.register(Major)
class MajorAdmin(admin.ModelAdmin[Major]):
    list_display = ("code", "name", "discipline", "class_name")
    search_fields = ("code", "name")


@admin.register(SchoolMajor)
class SchoolMajorAdmin(admin.ModelAdmin[SchoolMajor]):
    list_display = ("school", "code", "name")
    search_fields = ("code", "name", "school__name")


@admin.register(MajorCutoff)
class MajorCutoffAdmin(admin.ModelAdmin[MajorCutoff]):
    """The receiving school's cut-offs, which the transfer ban ``transfer_below_cutoff``
    reads."""

    list_display = ("school", "major_code", "origin_province", "year", "score")
    list_filter = ("year", "origin_province")
    search_fields = ("school__code", "school__name", "major_code")
    raw_id_fields = ("school",)


@admin.register(Ethnicity)
class EthnicityAdmin(admin.ModelAdmin[Ethnicity]):
    list_display = ("code", "name")


@admin.register(Student)
class StudentAdmin(admin.ModelAdmin[Student]):
    """A person's identity is read here, never edited: it changes through an identity change
    request (while enrolled) or a correction, reviewed, audited and keeping the old values
    (``records.models.identity``). The ID number is shown masked."""

    list_display = ("name", "gender", "birth_date", "masked_id", "user")
    search_fields = ("name",)
    raw_id_fields = ("user",)
    fields = (
        "name",
        "gender",
        "birth_date",
        "id_type",
        "masked_id",
        "ethnicity",
        "email",
        "photo",
        "user",
    )
    readonly_fields = ("name", "gender", "birth_date", "id_type", "masked_id", "ethnicity")

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False  # people are created by imports, registration and the claims

    @admin.display(description=_("ID number"))
    def masked_id(self, obj: Student) -> str:
        return mask_id_number(obj.id_number)


class ReadOnlyAdmin(admin.ModelAdmin[Any]):
    """Changes go through the services (with their rules, audit and emails), never here."""

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


@admin.register(Qualification)
class QualificationAdmin(ReadOnlyAdmin):
    list_display = ("certificate_number", "name", "school", "status", "graduation_date")
    list_filter = ("status", "level")
    search_fields = ("certificate_number", "name")
    exclude = ("id_number",)


@admin.register(QualificationRevision)
class QualificationRevisionAdmin(ReadOnlyAdmin):
    list_display = ("qualification", "number", "approved_by", "created")


@admin.register(CorrectionRequest)
class CorrectionRequestAdmin(ReadOnlyAdmin):
    list_display = ("pk", "qualification", "school", "state", "created")
    list_filter = ("state",)


@admin.register(AdmissionCohort)
class AdmissionCohortAdmin(ReadOnlyAdmin):
    """A school's freshmen of a year: re-examined and registered through the admission flow
    (``workflows.flows.admission``), never here."""

    list_display = (
        "pk",
        "school",
        "year",
        "state",
        "entry_date",
        "deadline",
        "registered_at",
        "registered_by",
    )
    list_filter = ("state", "year", "province")
    search_fields = ("=school__code", "school__name")
    list_select_related = ("school", "registered_by")
    ordering = ("-year", "school")

    @admin.display(description=_("deadline"))
    def deadline(self, obj: AdmissionCohort) -> Any:
        return obj.deadline


@admin.register(AdmissionCancellation)
class AdmissionCancellationAdmin(ReadOnlyAdmin):
    """A request to cancel an admission: confirmed or refused by a second officer in the work
    list, never here. The admission is named by its candidate number and the person's name
    (never the ID number)."""

    list_display = (
        "pk",
        "candidate_number",
        "student_name",
        "school",
        "cohort_year",
        "state",
        "requester",
        "created",
        "decided_at",
    )
    list_filter = ("state", "province")
    search_fields = (
        "=admission__candidate_number",
        "admission__student__name",
        "=school__code",
        "school__name",
    )
    list_select_related = ("admission__student", "school", "cohort", "requester")
    ordering = ("-created",)

    @admin.display(description=_("candidate number"), ordering="admission__candidate_number")
    def candidate_number(self, obj: AdmissionCancellation) -> str:
        return obj.admission.candidate_number

    @admin.display(description=_("student"), ordering="admission__student__name")
    def student_name(self, obj: AdmissionCancellation) -> str:
        return obj.admission.student.name

    @admin.display(description=_("year"), ordering="cohort__year")
    def cohort_year(self, obj: AdmissionCancellation) -> int:
        return obj.cohort.year


@admin.register(StatusChangeRequest)
class StatusChangeRequestAdmin(ReadOnlyAdmin):
    list_display = ("pk", "type", "status", "school", "state", "created")
    list_filter = ("state", "type")


@admin.register(CertificateProof)
class CertificateProofAdmin(ReadOnlyAdmin):
    list_display = ("pk", "qualification", "school", "reason", "state", "number", "created")
    list_filter = ("state", "reason")
    search_fields = ("number", "original_certificate_number")


@admin.register(AuditEvent)
class AuditEventAdmin(ReadOnlyAdmin):
    list_display = ("subject_type", "subject_id", "seq", "action", "actor", "created")
    list_filter = ("subject_type", "action")


@admin.register(YearRegistrationRound)
class YearRegistrationRoundAdmin(ReadOnlyAdmin):
    list_display = ("school", "academic_year", "state", "opens", "closes", "registered_count")
    list_filter = ("state", "academic_year")
    search_fields = ("school__name", "school__code")


@admin.register(GraduationCohort)
class GraduationCohortAdmin(ReadOnlyAdmin):
    list_display = ("school", "graduation_date", "principal_name", "state", "registered_at")
    list_filter = ("state",)
    search_fields = ("school__name", "school__code")


@admin.register(PhotoRecheck)
class PhotoRecheckAdmin(ReadOnlyAdmin):
    list_display = ("pk", "qualification", "school", "state", "created", "decided_at")
    list_filter = ("state",)
    raw_id_fields = ("qualification", "cohort")


@admin.register(YearRegistration)
class YearRegistrationAdmin(ReadOnlyAdmin):
    list_display = ("status", "academic_year", "state", "registered_at", "deferred_at")
    list_filter = ("state", "academic_year")
    raw_id_fields = ("status", "student")
