"""The audit log: one SHA-256 hash chain per subject record, and its head.

``audit_append`` locks the subject's row, so writers of one subject are ordered and writers
of different subjects never wait on each other (no global chain, no table lock). Each chain's
head (``AuditHead``: its last seq and hash) moves in the same transaction as the append.
``verify_chains`` recomputes every chain, holds the rows against the heads, and reports the
first row or head that does not hold. ``records.checkpoints`` signs the heads.
"""

from __future__ import annotations

import datetime
import hashlib
import json
from collections.abc import Iterator
from collections.abc import Sequence
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass
from typing import Any

from django.contrib.contenttypes.models import ContentType
from django.core.serializers.json import DjangoJSONEncoder
from django.db import connection
from django.db import models
from django.db import transaction
from django.db.models import Exists
from django.db.models import Max
from django.db.models import OuterRef
from django.db.models import Q
from django.utils import timezone
from psycopg.types.json import Jsonb

from records.models import GENESIS_HASH
from records.models import AuditEvent
from records.models import AuditHead
from records.models import User

__all__ = [
    "GENESIS_HASH",
    "ChainBreak",
    "VerifyResult",
    "audit_append",
    "audit_together",
    "compute_hash",
    "subject_label",
    "verify_chains",
]


def _canonical(event: AuditEvent, subject_label: str) -> str:
    body = {
        "action": event.action,
        "actor": event.actor_id,
        "created": event.created.astimezone(datetime.UTC).isoformat(timespec="microseconds"),
        "data": event.data,
        "seq": event.seq,
        "subject": f"{subject_label}:{event.subject_id}",
    }
    return json.dumps(body, sort_keys=True, ensure_ascii=False, separators=(",", ":"))


def compute_hash(event: AuditEvent, subject_label: str) -> str:
    payload = event.prev_hash + _canonical(event, subject_label)
    return hashlib.sha256(payload.encode("utf-8")).hexdigest()


# Events of locked subjects deferred by ``audit_together``, written at its end.
_TOGETHER: ContextVar[list[AuditEvent] | None] = ContextVar("xueji_audit", default=None)


def audit_append(
    *,
    subject: models.Model,
    action: str,
    actor: User | None,
    data: dict[str, Any] | None = None,
    subject_locked: bool = False,
) -> AuditEvent:
    """Append an event to ``subject``'s chain, in the caller's transaction.

    ``data`` is stored as JSON; dates and decimals become strings, exactly as hashed.
    ``subject_locked``: the caller already holds the subject's row lock (``select_for_update``)
    in this transaction, or created the row in it, so no other writer can reach the chain.
    Inside ``audit_together`` the event is written at its end (its ``pk`` and hash set then).
    """
    content_type = ContentType.objects.get_for_model(subject, for_concrete_model=True)
    together = _TOGETHER.get()
    if not subject_locked:
        # The subject's row lock orders the writers of this chain (a no-op on SQLite, whose
        # IMMEDIATE transactions already serialise writers); held until the caller's
        # transaction ends, or this one's when there is none.
        with transaction.atomic(savepoint=False):
            type(subject)._default_manager.select_for_update().filter(pk=subject.pk).values_list(
                "pk", flat=True
            ).first()
            if together is None:
                event = _event(content_type, subject, action, actor, data)
                _write([event])
                return event
    event = _event(content_type, subject, action, actor, data)
    if together is not None:
        together.append(event)
    else:
        _write([event])
    return event


def _event(
    content_type: ContentType,
    subject: models.Model,
    action: str,
    actor: User | None,
    data: dict[str, Any] | None,
) -> AuditEvent:
    return AuditEvent(
        subject_type=content_type,
        subject_id=str(subject.pk),
        action=action,
        actor=actor,
        data=json.loads(json.dumps(data or {}, cls=DjangoJSONEncoder)),
        created=timezone.now(),
    )


@contextmanager
def audit_together() -> Iterator[None]:
    """Inside, the events ``audit_append`` makes are written together at the end: their
    chains' heads read in one query, the events in one statement (a step that amends a
    qualification, corrects the person and moves the request audits three chains)."""
    pending: list[AuditEvent] = []
    token = _TOGETHER.set(pending)
    try:
        yield
    finally:
        _TOGETHER.reset(token)
    _write(pending)


def _write(events: Sequence[AuditEvent]) -> None:
    """Link each event to its chain's head (or the event before it here) and write them.

    The heads are read in one query and the events written in one statement (on PostgreSQL,
    from ``COPY_FROM`` events, by ``COPY`` after their ids are drawn). On PostgreSQL the insert
    moves the heads itself (``AuditEvent``'s ``keep_head`` trigger, which also refuses an
    event that does not follow its head); elsewhere the heads of the batch are upserted in
    one more statement.
    """
    if not events:
        return
    columns = ("subject_type_id", "subject_id", "seq", "hash")
    if len(events) == 1:  # the common case, in its simplest query
        heads_query = AuditHead.objects.filter(
            subject_type_id=events[0].subject_type_id, subject_id=events[0].subject_id
        ).values_list(*columns)
    else:
        chains: dict[int, set[str]] = {}
        for event in events:
            chains.setdefault(event.subject_type_id, set()).add(event.subject_id)
        within = Q(pk__in=[])
        for type_id, ids in chains.items():
            within |= Q(subject_type_id=type_id, subject_id__in=sorted(ids))
        heads_query = AuditHead.objects.filter(within).values_list(*columns)
    heads = {(type_id, subject_id): (seq, hash_) for type_id, subject_id, seq, hash_ in heads_query}
    for event in events:
        key = (event.subject_type_id, event.subject_id)
        last = heads.get(key)
        event.seq, event.prev_hash = (last[0] + 1, last[1]) if last else (1, GENESIS_HASH)
        event.hash = compute_hash(event, subject_label(event.subject_type_id))
        heads[key] = (event.seq, event.hash)
    with transaction.atomic(savepoint=False):
        if len(events) == 1:
            events[0].save()
        elif len(events) >= COPY_FROM and connection.vendor == "postgresql":
            _copy(events)
        else:
            AuditEvent.objects.bulk_create(events)
        if connection.vendor != "postgresql":
            moved = {(event.subject_type_id, event.subject_id) for event in events}
            AuditHead.objects.bulk_create(
                [
                    AuditHead(subject_type_id=key[0], subject_id=key[1], seq=seq, hash=hash_)
                    for key, (seq, hash_) in heads.items()
                    if key in moved
                ],
                update_conflicts=True,
                unique_fields=["subject_type", "subject_id"],
                update_fields=["seq", "hash"],
            )


# From this many events, a batch is written on PostgreSQL by ``COPY``, its ids drawn from their
# sequence first: one statement more than ``bulk_create``, which spent longer compiling a
# chunk's ``INSERT`` than the database spent writing it (and running ``keep_head``).
COPY_FROM = 100

_COPY_EVENTS = (
    "COPY records_auditevent (id, subject_type_id, subject_id, seq, action, actor_id, data, "
    "created, prev_hash, hash) FROM STDIN"
)


def _copy(events: Sequence[AuditEvent]) -> None:
    # Django's exceptions (``IntegrityError``) also for COPY, which its wrapper leaves raw.
    with connection.wrap_database_errors, connection.cursor() as cursor:
        cursor.execute(
            "SELECT nextval(pg_get_serial_sequence(%s, 'id')) FROM generate_series(1, %s)",
            [AuditEvent._meta.db_table, len(events)],
        )
        ids = cursor.fetchall()
        with cursor.copy(_COPY_EVENTS) as copy:
            for event, (pk,) in zip(events, ids, strict=True):
                event.pk = pk
                event._state.adding = False
                event._state.db = connection.alias
                copy.write_row(
                    (
                        pk,
                        event.subject_type_id,
                        event.subject_id,
                        event.seq,
                        event.action,
                        event.actor_id,
                        Jsonb(event.data),
                        event.created,
                        event.prev_hash,
                        event.hash,
                    )
                )


def subject_label(subject_type_id: int) -> str:
    """``app_label.model`` of a chain's subject type, as hashed (and named in checkpoints)."""
    content_type = ContentType.objects.get_for_id(subject_type_id)
    return f"{content_type.app_label}.{content_type.model}"


@dataclass(frozen=True)
class ChainBreak:
    """The first row or head that does not hold (``event_id`` is None when no row is there)."""

    event_id: int | None
    subject: str
    seq: int
    reason: str

    def __str__(self) -> str:
        if self.event_id is not None:
            return f"audit event id={self.event_id} ({self.subject} seq {self.seq}): {self.reason}"
        return f"audit chain {self.subject} at seq {self.seq}: {self.reason}"


@dataclass
class VerifyResult:
    chains: int = 0
    events: int = 0
    heads: int = 0
    first_break: ChainBreak | None = None


def _ordered_events() -> Iterator[AuditEvent]:
    return (
        AuditEvent.objects.select_related("subject_type")
        .order_by("subject_type_id", "subject_id", "seq")
        .iterator(chunk_size=2000)
    )


def verify_chains() -> VerifyResult:
    """Recompute every chain, then hold its rows against its head; stop at the first row or
    head that does not hold.

    A chain's rows must run from seq 1, each linked to the one before and hashing to its own
    ``hash``; and every chain must end exactly at its head: a head past the last row means
    the chain's last rows (or all of them) were removed, a row past its head or without one
    was written around ``audit_append``. What this cannot see is a chain rewritten whole,
    hashes and head included: ``records.checkpoints`` catches that for the history before a
    signed checkpoint.
    """
    result = VerifyResult()
    current: tuple[int, str] | None = None
    expected_seq, expected_prev = 1, GENESIS_HASH
    for event in _ordered_events():
        key = (event.subject_type_id, event.subject_id)
        label = f"{event.subject_type.app_label}.{event.subject_type.model}"
        if key != current:
            current, expected_seq, expected_prev = key, 1, GENESIS_HASH
            result.chains += 1
        result.events += 1
        subject = f"{label}:{event.subject_id}"
        reason = None
        if event.seq != expected_seq:
            reason = f"expected seq {expected_seq}: a row is missing"
        elif event.prev_hash != expected_prev:
            reason = "prev_hash does not match the previous row's hash"
        elif compute_hash(event, label) != event.hash:
            reason = "hash does not match the row's content"
        if reason:
            result.first_break = ChainBreak(event.pk, subject, event.seq, reason)
            return result
        expected_seq, expected_prev = event.seq + 1, event.hash
    result.heads = AuditHead.objects.count()
    result.first_break = _head_break()
    return result


def _same_chain(**extra: Any) -> Q:
    return Q(subject_type=OuterRef("subject_type"), subject_id=OuterRef("subject_id"), **extra)


def _head_break() -> ChainBreak | None:
    """The first head that is not its chain's last row, or row beyond its chain's head (two
    anti-joins over the unique indexes; the chains themselves are verified already)."""
    head = (
        AuditHead.objects.filter(
            ~Exists(
                AuditEvent.objects.filter(_same_chain(seq=OuterRef("seq"), hash=OuterRef("hash")))
            )
        )
        .order_by("subject_type_id", "subject_id")
        .first()
    )
    if head is not None:
        subject = f"{subject_label(head.subject_type_id)}:{head.subject_id}"
        last = AuditEvent.objects.filter(
            subject_type_id=head.subject_type_id, subject_id=head.subject_id
        ).aggregate(last=Max("seq"))["last"]
        if last is None:
            reason = "the chain has a head but no rows: they were removed"
        elif last < head.seq:
            reason = f"the chain ends at seq {last}, before its head: its last rows were removed"
        else:
            reason = "the row at the head's seq does not carry the head's hash"
        return ChainBreak(None, subject, head.seq, reason)
    stray = (
        AuditEvent.objects.filter(
            ~Exists(AuditHead.objects.filter(_same_chain(seq__gte=OuterRef("seq"))))
        )
        .order_by("subject_type_id", "subject_id", "seq")
        .first()
    )
    if stray is None:
        return None
    subject = f"{subject_label(stray.subject_type_id)}:{stray.subject_id}"
    if AuditHead.objects.filter(
        subject_type_id=stray.subject_type_id, subject_id=stray.subject_id
    ).exists():
        reason = "the row is past its chain's head: written around audit_append"
    else:
        reason = "the chain has rows but no head"
    return ChainBreak(stray.pk, subject, stray.seq, reason)
