"""The revocation process: real foreign keys to the request and its scope."""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _
from viewflow.workflow.models import Process

from records.models import Province
from records.models import RevocationRequest
from records.models import School


class RevocationProcess(Process):
    request: models.OneToOneField[RevocationRequest, RevocationRequest] = models.OneToOneField(
        RevocationRequest,
        on_delete=models.PROTECT,
        related_name="process",
        verbose_name=_("revocation request"),
    )
    school: models.ForeignKey[School, School] = models.ForeignKey(
        School, on_delete=models.PROTECT, related_name="+"
    )
    province: models.ForeignKey[Province, Province] = models.ForeignKey(
        Province, on_delete=models.PROTECT, related_name="+"
    )

    class Meta:
        verbose_name = _("revocation process")
        verbose_name_plural = _("revocation processes")
