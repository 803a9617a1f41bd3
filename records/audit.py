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
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass
from typing import Any

from django.contrib.contenttypes.models import ContentType
from django.core.serializers.json import DjangoJSONEncoder
from django.db import models
from django.db import transaction
from django.db.models import OuterRef
from django.db.models import Q
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
    """Link each event to its chain's head (or the event before it here) and write them."""
    if not events:
        return
    chains: dict[int, set[str]] = {}
    for event in events:
        chains.setdefault(event.subject_type_id, set()).add(event.subject_id)
    columns = ("subject_type_id", "subject_id", "seq", "hash")
    if len(events) == 1:  # the common case, in its simplest query
        heads_query = (
            AuditEvent.objects.filter(
                subject_type_id=events[0].subject_type_id, subject_id=events[0].subject_id
            )
            .order_by("-seq")
            .values_list(*columns)[:1]
        )
    else:
        latest = (
            AuditEvent.objects.filter(
                subject_type=OuterRef("subject_type"), subject_id=OuterRef("subject_id")
            )
            .order_by("-seq")
            .values("seq")[:1]
        )
        within = Q(pk__in=[])
        for type_id, ids in chains.items():
            within |= Q(subject_type_id=type_id, subject_id__in=sorted(ids))
        heads_query = AuditEvent.objects.filter(within, seq=Subquery(latest)).values_list(*columns)
    heads = {(type_id, subject_id): (seq, hash_) for type_id, subject_id, seq, hash_ in heads_query}
    for event in events:
        key = (event.subject_type_id, event.subject_id)
        last = heads.get(key)
        event.seq, event.prev_hash = (last[0] + 1, last[1]) if last else (1, GENESIS_HASH)
        content_type = ContentType.objects.get_for_id(event.subject_type_id)
        event.hash = compute_hash(event, f"{content_type.app_label}.{content_type.model}")
        heads[key] = (event.seq, event.hash)
    with transaction.atomic(savepoint=False):
        if len(events) == 1:
            events[0].save()
        else:
            AuditEvent.objects.bulk_create(events)


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
