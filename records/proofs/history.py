"""The history of a certificate proof application, read from its audit chain."""

from __future__ import annotations

from django.contrib.contenttypes.models import ContentType
from django.utils.translation import gettext

from records.corrections.history import HistoryEntry
from records.models import AuditEvent
from records.models import CertificateProof
from records.validators import mask_id_numbers_in


def proof_history(proof: CertificateProof) -> list[HistoryEntry]:
    """Every step of an application: who, what (``certificate_proof.<action>``), when,
    its note or comment (any ID number masked)."""
    content_type = ContentType.objects.get_for_model(CertificateProof)
    events = (
        AuditEvent.objects.filter(subject_type=content_type, subject_id=str(proof.pk))
        .select_related("actor")
        .order_by("seq")
    )
    return [
        HistoryEntry(
            action=event.action.removeprefix("certificate_proof."),
            actor=event.actor.display_name if event.actor else gettext("system"),
            at=event.created,
            comment=mask_id_numbers_in(
                str(event.data.get("comment") or event.data.get("note") or "")
            ),
            data=event.data,
        )
        for event in events
    ]
