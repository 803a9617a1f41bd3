"""The identity change's process: one per request, with real foreign keys to the request and
its scope."""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _
from viewflow.workflow.models import Process

from records.models import IdentityChangeRequest
from records.models import Province
from records.models import School


class IdentityChangeProcess(Process):
    request: models.OneToOneField[IdentityChangeRequest, IdentityChangeRequest] = (
        models.OneToOneField(
            IdentityChangeRequest,
            on_delete=models.PROTECT,
            related_name="process",
            verbose_name=_("identity change request"),
        )
    )
    school: models.ForeignKey[School, School] = models.ForeignKey(
        School, on_delete=models.PROTECT, related_name="+"
    )
    province: models.ForeignKey[Province, Province] = models.ForeignKey(
        Province, on_delete=models.PROTECT, related_name="+"
    )

    class Meta:
        verbose_name = _("identity change process")
        verbose_name_plural = _("identity change processes")
