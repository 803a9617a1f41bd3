"""What someone who can write the database behind the application's back can do to the audit
log: on PostgreSQL a superuser switches the triggers off (``session_replication_role``), on
SQLite there are none."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from django.contrib.contenttypes.models import ContentType
from django.db import connection
from django.db import models

from records.audit import GENESIS_HASH
from records.audit import compute_hash
from records.audit import subject_label
from records.models import AuditEvent
from records.models import AuditHead


@contextmanager
def superuser() -> Iterator[None]:
    if connection.vendor != "postgresql":
        yield
        return
    with connection.cursor() as cursor:
        cursor.execute("SET session_replication_role = replica")
    try:
        yield
    finally:
        with connection.cursor() as cursor:
            cursor.execute("SET session_replication_role = DEFAULT")


def chain_of(subject: models.Model) -> dict[str, Any]:
    content_type = ContentType.objects.get_for_model(subject)
    return {"subject_type": content_type, "subject_id": str(subject.pk)}


def rewrite(subject: models.Model, seq: int, data: dict[str, Any]) -> None:
    """Change the row at ``seq`` and recompute every hash after it and the head's."""
    chain = chain_of(subject)
    label = subject_label(chain["subject_type"].pk)
    with superuser():
        prev = GENESIS_HASH
        for event in AuditEvent.objects.filter(**chain).order_by("seq"):
            if event.seq == seq:
                event.data = data
            event.prev_hash = prev
            event.hash = compute_hash(event, label)
            AuditEvent.objects.filter(pk=event.pk).update(
                data=event.data, prev_hash=event.prev_hash, hash=event.hash
            )
            prev = event.hash
        AuditHead.objects.filter(**chain).update(hash=prev)
