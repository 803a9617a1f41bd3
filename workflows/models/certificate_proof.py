"""The certificate proof process: real foreign keys to the request and its scope."""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _
from viewflow.workflow.models import Process

from records.models import CertificateProof
from records.models import Province
from records.models import School


class CertificateProofProcess(Process):
    request: models.OneToOneField[CertificateProof, CertificateProof] = models.OneToOneField(
        CertificateProof,
        on_delete=models.PROTECT,
        related_name="process",
        verbose_name=_("certificate proof application"),
    )
    school: models.ForeignKey[School, School] = models.ForeignKey(
        School, on_delete=models.PROTECT, related_name="+"
    )
    province: models.ForeignKey[Province, Province] = models.ForeignKey(
        Province, on_delete=models.PROTECT, related_name="+"
    )

    class Meta:
        verbose_name = _("certificate proof process")
        verbose_name_plural = _("certificate proof processes")
