from __future__ import annotations

import datetime
from typing import Any

import pytest
from django.core.exceptions import ValidationError

from records.choices import Gender
from records.choices import IdType
from records.models import AuditEvent
from records.models import Student
from records.services import student_create
from tests import factories

pytestmark = pytest.mark.django_db


def test_student_create_saves_and_audits():
    person = student_create(
        name="王小明",
        gender=Gender.MALE,
        birth_date=datetime.date(1991, 1, 1),
        id_type=IdType.RESIDENT_ID,
        id_number="360426199101010071",
        ethnicity=factories.ethnicity(),
    )
    assert Student.objects.get().pk == person.pk
    event = AuditEvent.objects.get()
    assert (event.action, event.seq, event.subject_id) == ("student.created", 1, str(person.pk))


def test_invalid_identity_saves_nothing_and_names_the_field():
    with pytest.raises(ValidationError) as exc:
        student_create(
            name="王小明",
            gender=Gender.FEMALE,
            birth_date=datetime.date(1991, 1, 1),
            id_type=IdType.RESIDENT_ID,
            id_number="360426199101010071",
            ethnicity=factories.ethnicity(),
        )
    assert list(exc.value.message_dict) == ["gender"]
    assert not Student.objects.exists()
    assert not AuditEvent.objects.exists()


def test_same_document_cannot_be_registered_twice():
    kwargs: dict[str, Any] = {
        "name": "王小明",
        "gender": Gender.MALE,
        "birth_date": datetime.date(1991, 1, 1),
        "id_type": IdType.RESIDENT_ID,
        "id_number": "360426199101010071",
        "ethnicity": factories.ethnicity(),
    }
    student_create(**kwargs)
    with pytest.raises(ValidationError) as exc:
        student_create(**{**kwargs, "id_number": "360426199101010071 "})
    assert "__all__" in exc.value.message_dict
    assert Student.objects.count() == 1
