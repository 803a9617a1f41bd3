"""The audit log's rows (written by ``records.audit``)."""

from __future__ import annotations

from typing import ClassVar

import pgtrigger
from django.conf import settings
from django.contrib.contenttypes.models import ContentType
from django.db import models
from django.utils.translation import gettext_lazy as _

from records.models.base import AppendOnlyModel

AUDIT_APPEND_ONLY = "audit events are append-only"


class AuditEvent(AppendOnlyModel):
    """An append-only, hash-chained log entry about one subject record.

    Each subject has its own chain: ``seq`` counts from 1 and ``hash`` is
    ``sha256(prev_hash + canonical JSON of this row)``. Rows are appended by
    ``records.audit.audit_append`` under the subject's row lock; on PostgreSQL a trigger
    refuses UPDATE and DELETE.
    """

    subject_type = models.ForeignKey(ContentType, on_delete=models.PROTECT)
    subject_id = models.CharField(max_length=64)
    seq = models.PositiveIntegerField()
    action = models.CharField(max_length=64)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    data = models.JSONField(default=dict)
    created = models.DateTimeField()
    prev_hash = models.CharField(max_length=64)
    hash = models.CharField(max_length=64, unique=True)

    append_only_message = AUDIT_APPEND_ONLY

    class Meta:
        verbose_name = _("audit event")
        verbose_name_plural = _("audit events")
        constraints: ClassVar = [
            models.UniqueConstraint(
                fields=["subject_type", "subject_id", "seq"], name="auditevent_unique_seq"
            )
        ]
        triggers: ClassVar = [
            pgtrigger.Protect(name="append_only", operation=pgtrigger.Update | pgtrigger.Delete)
        ]

    def __str__(self) -> str:
        return f"{self.subject_type_id}:{self.subject_id}#{self.seq} {self.action}"
