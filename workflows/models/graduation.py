"""The qualification registration's process: one per graduating cohort (a school's graduates
of one graduation date), with real foreign keys to the cohort and its scope."""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _
from viewflow.workflow.models import Process

from records.models import GraduationCohort
from records.models import Province
from records.models import School


class QualificationRegistrationProcess(Process):
    cohort: models.OneToOneField[GraduationCohort, GraduationCohort] = models.OneToOneField(
        GraduationCohort,
        on_delete=models.PROTECT,
        related_name="process",
        verbose_name=_("graduating cohort"),
    )
    school: models.ForeignKey[School, School] = models.ForeignKey(
        School, on_delete=models.PROTECT, related_name="+"
    )
    province: models.ForeignKey[Province, Province] = models.ForeignKey(
        Province, on_delete=models.PROTECT, related_name="+"
    )

    class Meta:
        verbose_name = _("qualification registration process")
        verbose_name_plural = _("qualification registration processes")
