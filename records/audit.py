"""The audit log: one SHA-256 hash chain per subject record.

``audit_append`` locks the subject's row, so writers of one subject are ordered and writers
of different subjects never wait on each other (no global chain, no table lock).
``verify_chains`` recomputes every chain and reports the first row that does not hold.
"""

from __future__ import annotations

import datetime
import hashlib
import json
from collections.abc import Iterator
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from django.contrib.contenttypes.models import ContentType
from django.core.serializers.json import DjangoJSONEncoder
from django.db import models
from django.db import transaction
from django.db.models import OuterRef
from django.db.models import Subquery
from django.utils import timezone

from records.models import AuditEvent
from records.models import User

GENESIS_HASH = "0" * 64


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
    """
    content_type = ContentType.objects.get_for_model(subject, for_concrete_model=True)
    label = content_type.app_label + "." + content_type.model
    with transaction.atomic(savepoint=False):
        if not subject_locked:
            # The subject's row lock orders the writers of this chain (a no-op on SQLite,
            # whose IMMEDIATE transactions already serialise writers).
            type(subject)._default_manager.select_for_update().filter(pk=subject.pk).values_list(
                "pk", flat=True
            ).first()
        last = (
            AuditEvent.objects.filter(subject_type=content_type, subject_id=str(subject.pk))
            .order_by("-seq")
            .values_list("seq", "hash")
            .first()
        )
        seq, prev_hash = (last[0] + 1, last[1]) if last else (1, GENESIS_HASH)
        event = AuditEvent(
            subject_type=content_type,
            subject_id=str(subject.pk),
            seq=seq,
            action=action,
            actor=actor,
            data=json.loads(json.dumps(data or {}, cls=DjangoJSONEncoder)),
            created=timezone.now(),
            prev_hash=prev_hash,
        )
        event.hash = compute_hash(event, label)
        event.save()
    return event


def audit_append_many(
    entries: Sequence[tuple[models.Model, str, User | None, dict[str, Any] | None]],
) -> list[AuditEvent]:
    """``audit_append`` for several locked subjects of one model at once, ``(subject, action,
    actor, data)`` each (at most one entry per subject): their chains' heads read in one
    query, the events written in one statement. The caller holds every subject's row lock."""
    if not entries:
        return []
    content_type = ContentType.objects.get_for_model(entries[0][0], for_concrete_model=True)
    label = content_type.app_label + "." + content_type.model
    ids = [str(subject.pk) for subject, *_ in entries]
    latest = (
        AuditEvent.objects.filter(subject_type=content_type, subject_id=OuterRef("subject_id"))
        .order_by("-seq")
        .values("seq")[:1]
    )
    heads = {
        subject_id: (seq, hash_)
        for subject_id, seq, hash_ in AuditEvent.objects.filter(
            subject_type=content_type, subject_id__in=ids, seq=Subquery(latest)
        ).values_list("subject_id", "seq", "hash")
    }
    now = timezone.now()
    events = []
    for (_subject, action, actor, data), subject_id in zip(entries, ids, strict=True):
        last = heads.get(subject_id)
        seq, prev_hash = (last[0] + 1, last[1]) if last else (1, GENESIS_HASH)
        event = AuditEvent(
            subject_type=content_type,
            subject_id=subject_id,
            seq=seq,
            action=action,
            actor=actor,
            data=json.loads(json.dumps(data or {}, cls=DjangoJSONEncoder)),
            created=now,
            prev_hash=prev_hash,
        )
        event.hash = compute_hash(event, label)
        events.append(event)
    with transaction.atomic(savepoint=False):
        return AuditEvent.objects.bulk_create(events)


@dataclass(frozen=True)
class ChainBreak:
    event_id: int
    subject: str
    seq: int
    reason: str

    def __str__(self) -> str:
        return f"audit event id={self.event_id} ({self.subject} seq {self.seq}): {self.reason}"


@dataclass
class VerifyResult:
    chains: int = 0
    events: int = 0
    first_break: ChainBreak | None = None


def _ordered_events() -> Iterator[AuditEvent]:
    return (
        AuditEvent.objects.select_related("subject_type")
        .order_by("subject_type_id", "subject_id", "seq")
        .iterator(chunk_size=2000)
    )


def verify_chains() -> VerifyResult:
    """Recompute every chain; stop at the first row whose link or hash does not hold."""
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
    return result
