"""Writes to records: every change goes through a service, which validates, saves and audits
in one transaction. Views, the API, flows, admin actions and commands call these."""

from __future__ import annotations

import datetime
from collections.abc import Mapping
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction

from records.audit import audit_append
from records.models import PERSON_FIELDS
from records.models import Ethnicity
from records.models import Student
from records.models import User
from records.models import identity_writes
from records.names import split_name
from records.transactions import service
from records.transactions import writes

STUDENT_CORRECTED = "student.corrected"


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


@service
def student_correct(
    *,
    student: Student,
    changes: Mapping[str, Any],
    acting_user: User | None,
    correction_id: int | None,
    locked: bool = False,
) -> Student:
    """Correct a person's identity, as an approved correction of their qualification does.

    ``changes``: new values of ``PERSON_FIELDS`` (parsed: dates as dates, choices as codes).
    Locks the person, validates the identity as a whole (the ID number must still agree with
    the birth date and gender, and no one else may hold it), saves, and appends
    ``student.corrected`` to the person's audit chain with each changed field's old and new
    value and the correction's id. A field already at its new value is left as it is; with
    nothing to change, nothing is written. A corrected name renames the person's login too
    (family and given name), so the site and every email call them by it. ``student`` itself
    is updated: what the caller shows next (an email's greeting) is the corrected person.

    ``locked``: the caller holds the person's row lock and loaded it in this transaction.
    Raises ``ValidationError`` naming the field and the rule; nothing is saved then.
    """
    unknown = sorted(set(changes) - set(PERSON_FIELDS))
    if unknown:
        raise ValueError(f"not a field of the person: {', '.join(unknown)}")
    if not changes:
        return student
    if not locked:
        student.refresh_from_db(from_queryset=Student.objects.select_for_update())
    before = {field: getattr(student, field) for field in PERSON_FIELDS}
    for field, value in changes.items():
        setattr(student, field, value)
    others = [f.name for f in Student._meta.concrete_fields if f.name not in PERSON_FIELDS]
    # The ID number's uniqueness is looked up only when the document changes.
    document_changed = any(before[f] != getattr(student, f) for f in ("id_type", "id_number"))
    try:
        student.full_clean(  # also normalizes the ID number
            exclude=others, validate_unique=document_changed, validate_constraints=document_changed
        )
    except ValidationError:
        for field, value in before.items():
            setattr(student, field, value)
        raise
    changed = [field for field in PERSON_FIELDS if getattr(student, field) != before[field]]
    if not changed:
        return student
    # An approved correction is one of the flows that may change an enrolled person's
    # identity (``records.models.identity``).
    with writes(), identity_writes(f"correction:{correction_id}"):
        student.save(update_fields=[*changed, "updated"])
        if "name" in changed and student.user is not None:
            login = student.user
            login.last_name, login.first_name = split_name(student.name)
            login.save(update_fields=["last_name", "first_name"])
        audit_append(
            subject=student,
            action=STUDENT_CORRECTED,
            actor=acting_user,
            data={
                "correction": correction_id,
                "changes": [
                    {"field": field, "old": before[field], "new": getattr(student, field)}
                    for field in changed
                ],
            },
            subject_locked=True,
        )
    return student
