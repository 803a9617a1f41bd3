"""The history of an identity change request, read from its audit chain: every step, who,
when, and the comment (any full ID number in it masked)."""

from __future__ import annotations

from django.contrib.contenttypes.models import ContentType
from django.utils.translation import gettext

from records.corrections.history import HistoryEntry
from records.models import AuditEvent
from records.models import IdentityChangeRequest
from records.validators import mask_id_numbers_in


def request_history(request: IdentityChangeRequest) -> list[HistoryEntry]:
    """Every step of the request: who, what, when, comment."""
    content_type = ContentType.objects.get_for_model(IdentityChangeRequest)
    events = (
        AuditEvent.objects.filter(subject_type=content_type, subject_id=str(request.pk))
        .select_related("actor")
        .order_by("seq")
    )
    return [
        HistoryEntry(
            action=event.action.removeprefix("identity_change."),
            actor=event.actor.display_name if event.actor else gettext("system"),
            at=event.created,
            comment=mask_id_numbers_in(
                str(event.data.get("comment") or event.data.get("reason") or "")
            ),
            data=event.data,
        )
        for event in events
    ]
