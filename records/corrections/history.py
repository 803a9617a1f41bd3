"""The history of a correction request, read from its audit chain."""

from __future__ import annotations

import datetime
from dataclasses import dataclass
from typing import Any

from django.contrib.contenttypes.models import ContentType
from django.utils.translation import gettext

from records.models import AuditEvent
from records.models import CorrectionRequest


@dataclass(frozen=True)
class HistoryEntry:
    action: str
    actor: str
    at: datetime.datetime
    comment: str
    data: dict[str, Any]


def correction_history(request: CorrectionRequest) -> list[HistoryEntry]:
    """Every step of the request, from its audit chain: who, what, when, comment."""
    content_type = ContentType.objects.get_for_model(CorrectionRequest)
    events = (
        AuditEvent.objects.filter(subject_type=content_type, subject_id=str(request.pk))
        .select_related("actor")
        .order_by("seq")
    )
    return [
        HistoryEntry(
            action=event.action.removeprefix("correction."),
            actor=event.actor.display_name if event.actor else gettext("system"),
            at=event.created,
            comment=str(event.data.get("comment") or event.data.get("reason") or ""),
            data=event.data,
        )
        for event in events
    ]
