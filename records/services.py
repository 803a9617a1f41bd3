"""Writes to records: every change goes through a service, which validates, saves and audits
in one transaction. Views, the API, flows, admin actions and commands call these."""

from __future__ import annotations

import datetime

from django.db import transaction

from records.audit import audit_append
from records.models import Ethnicity
from records.models import Student
from records.models import User


@transaction.atomic
def student_create(
    *,
    name: str,
    gender: str,
    birth_date: datetime.date,
    id_type: str,
    id_number: str,
    ethnicity: Ethnicity,
    email: str = "",
    user: User | None = None,
    acting_user: User | None = None,
) -> Student:
    """Register a person.

    Raises ``ValidationError`` naming the field and the rule; nothing is saved then.
    """
    person = Student(
        name=name,
        gender=gender,
        birth_date=birth_date,
        id_type=id_type,
        id_number=id_number,
        ethnicity=ethnicity,
        email=email,
        user=user,
    )
    person.full_clean()
    person.save()
    audit_append(
        subject=person,
        action="student.created",
        actor=acting_user,
        data={"name": person.name, "id_type": person.id_type, "ethnicity": ethnicity.code},
    )
    return person
