"""The history of a status change request and of a student status, read from their audit
chains: every step of a request; every change a status took (values before and after)."""

from __future__ import annotations

from django.contrib.contenttypes.models import ContentType
from django.db import models
from django.utils.translation import gettext

from records.corrections.history import HistoryEntry
from records.models import AuditEvent
from records.validators import mask_id_numbers_in


def _history(subject: models.Model, prefix: str) -> list[HistoryEntry]:
    content_type = ContentType.objects.get_for_model(type(subject))
    events = (
        AuditEvent.objects.filter(subject_type=content_type, subject_id=str(subject.pk))
        .select_related("actor")
        .order_by("seq")
    )
    return [
        HistoryEntry(
            action=event.action.removeprefix(prefix),
            actor=event.actor.display_name if event.actor else gettext("system"),
            at=event.created,
            # A reason or comment is shown again to readers of every kind: never a full ID
            # number in it.
            comment=mask_id_numbers_in(
                str(event.data.get("comment") or event.data.get("reason") or "")
            ),
            data=event.data,
        )
        for event in events
    ]


def request_history(request: models.Model) -> list[HistoryEntry]:
    """Every step of a status change request: who, what, when, comment."""
    return _history(request, "status_change.")


def status_history(status: models.Model) -> list[HistoryEntry]:
    """Every event of a student status's chain (its changes: ``changed``, with the type,
    the request and the values before and after)."""
    return _history(status, "status.")
