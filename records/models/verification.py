"""Verification reports (学历/学籍在线验证报告) the student controls, and their access log
(DOMAIN.md §5)."""

from __future__ import annotations

from typing import ClassVar

from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from records.models.admissions import StudentStatus
from records.models.people import Student
from records.models.qualifications import Qualification

CODE_LENGTH = 16


class AccessOutcome(models.TextChoices):
    """What one access of a report answered."""

    SHOWN = "shown", _("Shown")
    SIGNED = "signed", _("Signed report downloaded")
    EXPIRED = "expired", _("Refused: expired")
    REVOKED = "revoked", _("Refused: revoked")


class VerificationReport(models.Model):
    """A report of one qualification or of one student status (exactly one of the two), shown
    to whoever has its code until ``expires``, unless the student revokes it first."""

    student = models.ForeignKey(
        Student,
        on_delete=models.PROTECT,
        related_name="verification_reports",
        verbose_name=_("student"),
    )
    qualification = models.ForeignKey(
        Qualification,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="verification_reports",
        verbose_name=_("qualification"),
    )
    status = models.ForeignKey(
        StudentStatus,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="verification_reports",
        verbose_name=_("student status"),
    )
    code = models.CharField(_("verification code"), max_length=CODE_LENGTH, unique=True)
    months = models.PositiveSmallIntegerField(_("validity in months"))
    expires = models.DateTimeField(_("valid until"))
    revoked_at = models.DateTimeField(_("revoked at"), null=True, blank=True)
    created = models.DateTimeField(_("created"), auto_now_add=True)

    scope_paths: ClassVar[dict[str, str]] = {"owner": "student__user_id"}

    class Meta:
        verbose_name = _("verification report")
        verbose_name_plural = _("verification reports")
        constraints: ClassVar = [
            models.CheckConstraint(
                condition=(Q(qualification__isnull=False) & Q(status__isnull=True))
                | (Q(qualification__isnull=True) & Q(status__isnull=False)),
                name="verificationreport_one_subject",
            ),
            models.CheckConstraint(
                condition=Q(months__gte=1) & Q(months__lte=6),
                name="verificationreport_months_1_6",
            ),
        ]
        indexes: ClassVar = [
            models.Index(fields=["student", "-created"], name="verificationreport_student"),
        ]

    def __str__(self) -> str:
        return self.code

    @property
    def is_revoked(self) -> bool:
        return self.revoked_at is not None

    @property
    def is_expired(self) -> bool:
        return self.expires <= timezone.now()

    @property
    def is_valid(self) -> bool:
        return not self.is_revoked and not self.is_expired


class ReportAccess(models.Model):
    """One access of a report by its code: when, from which address, what it answered.
    Written by every public look-up; read by the report's student."""

    report = models.ForeignKey(
        VerificationReport,
        on_delete=models.CASCADE,
        related_name="accesses",
        verbose_name=_("verification report"),
    )
    at = models.DateTimeField(_("when"))
    address = models.GenericIPAddressField(_("network address"), null=True, blank=True)
    outcome = models.CharField(_("outcome"), max_length=10, choices=AccessOutcome.choices)

    class Meta:
        verbose_name = _("report access")
        verbose_name_plural = _("report accesses")
        indexes: ClassVar = [models.Index(fields=["report", "-at"], name="reportaccess_report_at")]

    def __str__(self) -> str:
        return f"{self.report_id} {self.at:%Y-%m-%d %H:%M} {self.outcome}"


class CertificateCheck(models.Model):
    """One look-up of a qualification by certificate number and name (零散查询) that found it:
    when and from which address. A look-up that finds nothing names no one's record and is
    only counted against its address (``records.verification.throttle``)."""

    qualification = models.ForeignKey(
        Qualification,
        on_delete=models.PROTECT,
        related_name="certificate_checks",
        verbose_name=_("qualification"),
    )
    at = models.DateTimeField(_("when"))
    address = models.GenericIPAddressField(_("network address"), null=True, blank=True)

    class Meta:
        verbose_name = _("certificate check")
        verbose_name_plural = _("certificate checks")
        indexes: ClassVar = [
            models.Index(fields=["qualification", "-at"], name="certificatecheck_qual_at")
        ]

    def __str__(self) -> str:
        return f"{self.qualification_id} {self.at:%Y-%m-%d %H:%M}"
