"""The admission re-examination's process: one per cohort (a school's freshmen of a year),
with real foreign keys to the cohort and its scope."""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _
from viewflow.workflow.models import Process

from records.models import AdmissionCohort
from records.models import Province
from records.models import School


class AdmissionReviewProcess(Process):
    cohort: models.OneToOneField[AdmissionCohort, AdmissionCohort] = models.OneToOneField(
        AdmissionCohort,
        on_delete=models.PROTECT,
        related_name="process",
        verbose_name=_("cohort"),
    )
    school: models.ForeignKey[School, School] = models.ForeignKey(
        School, on_delete=models.PROTECT, related_name="+"
    )
    province: models.ForeignKey[Province, Province] = models.ForeignKey(
        Province, on_delete=models.PROTECT, related_name="+"
    )

    class Meta:
        verbose_name = _("admission re-examination process")
        verbose_name_plural = _("admission re-examination processes")
