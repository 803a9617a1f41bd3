"""The audit log's rows and its chains' heads (written by ``records.audit``)."""

from __future__ import annotations

from typing import ClassVar

import pgtrigger
from django.conf import settings
from django.contrib.contenttypes.models import ContentType
from django.core.exceptions import ValidationError
from django.db import models
from django.utils.translation import gettext_lazy as _

from records.models.base import AppendOnlyModel

AUDIT_APPEND_ONLY = "audit events are append-only"
AUDIT_HEADS_MOVE_ON_APPEND = "audit heads move only when an audit event is appended"

# The genesis of every chain: the ``prev_hash`` of its first event.
GENESIS_HASH = "0" * 64


def _no_truncate() -> pgtrigger.Trigger:
    """A statement trigger refusing ``TRUNCATE`` (which fires no row trigger), also when the
    table is reached by ``TRUNCATE … CASCADE`` of a table it references."""
    return pgtrigger.Trigger(
        name="no_truncate",
        level=pgtrigger.Statement,
        when=pgtrigger.Before,
        operation=pgtrigger.Truncate,
        func="RAISE EXCEPTION 'pgtrigger: Cannot truncate the % table', TG_TABLE_NAME;",
    )


# Every inserted event must follow its chain's head, and moves the head to itself, in the same
# statement: the database keeps the heads (no statement of the writer's), and an event that
# does not continue its chain is refused whoever writes it.
_KEEP_HEAD = """
SELECT seq, hash INTO head_seq, head_hash FROM records_audithead
    WHERE subject_type_id = NEW.subject_type_id AND subject_id = NEW.subject_id FOR UPDATE;
IF NOT FOUND THEN
    head_seq := 0;
    head_hash := repeat('0', 64);  -- GENESIS_HASH
END IF;
IF NEW.seq <> head_seq + 1 OR NEW.prev_hash <> head_hash THEN
    RAISE EXCEPTION 'audit event % of %:% does not follow its chain''s head (seq %)',
        NEW.seq, NEW.subject_type_id, NEW.subject_id, head_seq;
END IF;
INSERT INTO records_audithead (subject_type_id, subject_id, seq, hash)
    VALUES (NEW.subject_type_id, NEW.subject_id, NEW.seq, NEW.hash)
    ON CONFLICT (subject_type_id, subject_id)
    DO UPDATE SET seq = EXCLUDED.seq, hash = EXCLUDED.hash;
RETURN NEW;
"""

# A head is written only by the trigger above (one level down), never by a statement of its own.
_WRITTEN_BY_APPEND = """
IF pg_trigger_depth() < 2 THEN
    RAISE EXCEPTION 'pgtrigger: audit heads move only when an audit event is inserted';
END IF;
RETURN NEW;
"""


class AuditEvent(AppendOnlyModel):
    """An append-only, hash-chained log entry about one subject record.

    Each subject has its own chain: ``seq`` counts from 1 and ``hash`` is
    ``sha256(prev_hash + canonical JSON of this row)``. Rows are appended by
    ``records.audit.audit_append`` under the subject's row lock; on PostgreSQL triggers refuse
    UPDATE, DELETE and TRUNCATE, and an inserted row that does not follow its chain's
    ``AuditHead`` (which the insert then moves).
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
            pgtrigger.Protect(name="append_only", operation=pgtrigger.Update | pgtrigger.Delete),
            _no_truncate(),
            pgtrigger.Trigger(
                name="keep_head",
                when=pgtrigger.Before,
                operation=pgtrigger.Insert,
                declare=[("head_seq", "integer"), ("head_hash", "varchar(64)")],
                func=_KEEP_HEAD,
            ),
        ]

    def __str__(self) -> str:
        return f"{self.subject_type_id}:{self.subject_id}#{self.seq} {self.action}"


class AuditHead(models.Model):
    """The last event of each chain: its ``seq`` and ``hash``, moved in the transaction of
    every append. ``verify_chains`` holds the rows against it, so removing a chain's last rows
    (or the whole chain) shows, and ``audit_checkpoint`` signs the heads.

    On PostgreSQL the insert of an event moves its head (``AuditEvent``'s ``keep_head``
    trigger) and nothing else may insert, update, delete or truncate a head; on SQLite
    ``records.audit`` upserts the heads of each batch in one statement. The model never saves
    or deletes one.
    """

    subject_type = models.ForeignKey(ContentType, on_delete=models.PROTECT, related_name="+")
    subject_id = models.CharField(max_length=64)
    seq = models.PositiveIntegerField()
    hash = models.CharField(max_length=64)

    class Meta:
        verbose_name = _("audit chain head")
        verbose_name_plural = _("audit chain heads")
        constraints: ClassVar = [
            models.UniqueConstraint(
                fields=["subject_type", "subject_id"], name="audithead_unique_subject"
            )
        ]
        triggers: ClassVar = [
            pgtrigger.Trigger(
                name="written_by_append",
                when=pgtrigger.Before,
                operation=pgtrigger.Insert | pgtrigger.Update,
                func=_WRITTEN_BY_APPEND,
            ),
            pgtrigger.Protect(name="never_deleted", operation=pgtrigger.Delete),
            _no_truncate(),
        ]

    def __str__(self) -> str:
        return f"{self.subject_type_id}:{self.subject_id}@{self.seq}"

    def save(self, *args: object, **kwargs: object) -> None:
        raise ValidationError(AUDIT_HEADS_MOVE_ON_APPEND)

    def delete(self, *args: object, **kwargs: object) -> tuple[int, dict[str, int]]:
        raise ValidationError(AUDIT_HEADS_MOVE_ON_APPEND)
