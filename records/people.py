"""What the pages and the API show of a person beyond the row: the history of their identity,
read from their audit chain (``student.corrected`` events, written by
``records.services.student_correct``, and ``student.identity_changed`` events, written by the
approval of an identity change, ``records.identity_changes.services``)."""

from __future__ import annotations

import datetime
from dataclasses import dataclass

from django.contrib.contenttypes.models import ContentType
from django.utils.text import capfirst
from django.utils.translation import gettext

from records.models import AuditEvent
from records.models import Student
from records.models.identity import STUDENT_IDENTITY_CHANGED
from records.services import STUDENT_CORRECTED
from records.validators import masked_value


@dataclass(frozen=True)
class PersonChange:
    """One corrected field: the value it replaced and the new one, as stored (a choice's code,
    a date as YYYY-MM-DD), an ID number masked."""

    field: str
    old: str
    new: str
    at: datetime.datetime
    by: str
    correction_id: int | None
    identity_change_id: int | None = None

    @property
    def label(self) -> str:
        """The field's label in the active language, capitalized (ID number, 身份证件号码)."""
        return capfirst(str(Student._meta.get_field(self.field).verbose_name))  # type: ignore[union-attr]


def person_history(student: Student) -> list[PersonChange]:
    """Every correction or identity change of the person's identity, newest first: field,
    replaced value, new value, when, and who approved it (by name)."""
    content_type = ContentType.objects.get_for_model(Student)
    events = (
        AuditEvent.objects.filter(
            subject_type=content_type,
            subject_id=str(student.pk),
            action__in=(STUDENT_CORRECTED, STUDENT_IDENTITY_CHANGED),
        )
        .select_related("actor")
        .order_by("-seq")
    )
    return [
        PersonChange(
            field=change["field"],
            old=masked_value(change["field"], change["old"]),
            new=masked_value(change["field"], change["new"]),
            at=event.created,
            by=event.actor.display_name if event.actor else gettext("system"),
            correction_id=event.data.get("correction"),
            identity_change_id=event.data.get("identity_change"),
        )
        for event in events
        for change in event.data.get("changes", [])
    ]
