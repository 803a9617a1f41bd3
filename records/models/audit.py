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


# Every inserted event must follow its chain's head, and the statement moves the heads to its
# events: the database keeps the heads (no statement of the writer's), and an event that does
# not continue its chain is refused whoever writes it. Once per statement, over its new rows
# (``new_events``), not once per row: a chunk's 500 events are checked in one query and their
# heads moved in one upsert. The heads are locked first, in key order, so that the check reads
# them as the last writer committed them; a chain's first event in the statement follows its
# head (or the genesis), every later one the event before it.
_KEEP_HEAD = """
PERFORM 1 FROM records_audithead
    WHERE (subject_type_id, subject_id) IN (SELECT subject_type_id, subject_id FROM new_events)
    ORDER BY subject_type_id, subject_id FOR UPDATE;
SELECT e.seq, e.subject_type_id, e.subject_id,
       coalesce(e.before_seq, h.seq, 0) AS follows
    INTO broken
    FROM (SELECT subject_type_id, subject_id, seq, prev_hash,
                 lag(seq) OVER chain AS before_seq, lag(hash) OVER chain AS before_hash
          FROM new_events
          WINDOW chain AS (PARTITION BY subject_type_id, subject_id ORDER BY seq)) e
    LEFT JOIN records_audithead h
        ON h.subject_type_id = e.subject_type_id AND h.subject_id = e.subject_id
    WHERE CASE WHEN e.before_seq IS NULL
               THEN e.seq <> coalesce(h.seq, 0) + 1
                    OR e.prev_hash <> coalesce(h.hash, repeat('0', 64))  -- GENESIS_HASH
               ELSE e.seq <> e.before_seq + 1 OR e.prev_hash <> e.before_hash
          END
    ORDER BY e.subject_type_id, e.subject_id, e.seq
    LIMIT 1;
IF FOUND THEN
    RAISE EXCEPTION 'audit event % of %:% does not follow its chain''s head (seq %)',
        broken.seq, broken.subject_type_id, broken.subject_id, broken.follows;
END IF;
INSERT INTO records_audithead (subject_type_id, subject_id, seq, hash)
    SELECT DISTINCT ON (subject_type_id, subject_id) subject_type_id, subject_id, seq, hash
    FROM new_events
    ORDER BY subject_type_id, subject_id, seq DESC
    ON CONFLICT (subject_type_id, subject_id)
    DO UPDATE SET seq = EXCLUDED.seq, hash = EXCLUDED.hash;
RETURN NULL;
"""

# A head is written only by the trigger above (one level down), never by a statement of its own.
_WRITTEN_BY_APPEND = """
IF pg_trigger_depth() < 2 THEN
    RAISE EXCEPTION 'pgtrigger: audit heads move only when an audit event is inserted';
END IF;
RETURN NULL;
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
            # Migration 0009 sets ``plan_cache_mode = force_custom_plan`` on this trigger's
            # function (``pgtrigger_keep_head_283c4``): pgtrigger writes a new version of the
            # trigger with CREATE OR REPLACE FUNCTION, which drops the setting, so the
            # migration that installs one must run 0009's ALTER FUNCTION statement again
            # (``tests/records/test_audit_heads.py`` fails without it).
            pgtrigger.Trigger(
                name="keep_head",
                level=pgtrigger.Statement,
                when=pgtrigger.After,
                operation=pgtrigger.Insert,
                referencing=pgtrigger.Referencing(new="new_events"),  # type: ignore[no-untyped-call]
                declare=[("broken", "record")],
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

    # No index of its own: the unique (subject_type, subject_id) serves the foreign key, and
    # one on subject_type alone drew the planner (equal costs on a small or unanalysed table)
    # to reading every head of a subject type for each append (migration 0009).
    subject_type = models.ForeignKey(
        ContentType, on_delete=models.PROTECT, related_name="+", db_index=False
    )
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
                level=pgtrigger.Statement,
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
