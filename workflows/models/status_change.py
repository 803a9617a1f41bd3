"""The status change process: real foreign keys to the request and its scope."""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _
from viewflow.workflow.models import Process

from records.models import Province
from records.models import School
from records.models import StatusChangeRequest


class StatusChangeProcess(Process):
    request: models.OneToOneField[StatusChangeRequest, StatusChangeRequest] = models.OneToOneField(
        StatusChangeRequest,
        on_delete=models.PROTECT,
        related_name="process",
        verbose_name=_("status change request"),
    )
    school: models.ForeignKey[School, School] = models.ForeignKey(
        School, on_delete=models.PROTECT, related_name="+"
    )
    province: models.ForeignKey[Province, Province] = models.ForeignKey(
        Province, on_delete=models.PROTECT, related_name="+"
    )

    # A transfer's receiving school and province: the scope of their steps.
    target_school: models.ForeignKey[School | None, School | None] = models.ForeignKey(
        School, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    target_province: models.ForeignKey[Province | None, Province | None] = models.ForeignKey(
        Province, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )

    class Meta:
        verbose_name = _("status change process")
        verbose_name_plural = _("status change processes")
