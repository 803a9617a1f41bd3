"""The academic-year registration's process: one per round (a school's registration of an
academic year), with real foreign keys to the round and its scope."""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _
from viewflow.workflow.models import Process

from records.models import Province
from records.models import School
from records.models import YearRegistrationRound


class YearRegistrationProcess(Process):
    round: models.OneToOneField[YearRegistrationRound, YearRegistrationRound] = (
        models.OneToOneField(
            YearRegistrationRound,
            on_delete=models.PROTECT,
            related_name="process",
            verbose_name=_("round"),
        )
    )
    school: models.ForeignKey[School, School] = models.ForeignKey(
        School, on_delete=models.PROTECT, related_name="+"
    )
    province: models.ForeignKey[Province, Province] = models.ForeignKey(
        Province, on_delete=models.PROTECT, related_name="+"
    )

    class Meta:
        verbose_name = _("academic-year registration process")
        verbose_name_plural = _("academic-year registration processes")
