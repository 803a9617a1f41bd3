from __future__ import annotations

import datetime
from typing import Any

import pytest
from django.core.exceptions import ValidationError

from records.audit import verify_chains
from records.choices import Gender
from records.choices import IdType
from records.models import AuditEvent
from records.models import Student
from records.models import User
from records.services import student_correct
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


# --- student_correct: an approved correction corrects the person -----------------------------

BIRTH = datetime.date(2002, 3, 14)


def _person(name="王小明", **overrides: Any) -> Student:
    fields: dict[str, Any] = {
        "name": name,
        "gender": Gender.MALE,
        "birth_date": BIRTH,
        "id_type": IdType.RESIDENT_ID,
        "id_number": factories.resident_id(BIRTH, Gender.MALE, serial=3),
        "ethnicity": factories.ethnicity(),
        "user": factories.user("student_a"),
        **overrides,
    }
    return student_create(**fields)


def _corrected(person: Student) -> list[AuditEvent]:
    return list(
        AuditEvent.objects.filter(subject_id=str(person.pk), action="student.corrected").order_by(
            "seq"
        )
    )


def test_student_correct_saves_audits_and_renames_the_login():
    person = _person()
    approver = factories.user("province_11")

    corrected = student_correct(
        student=person, changes={"name": "王晓明"}, acting_user=approver, correction_id=7
    )

    assert corrected is person
    assert person.name == "王晓明"
    assert Student.objects.get(pk=person.pk).name == "王晓明"
    (event,) = _corrected(person)
    assert (event.seq, event.actor) == (2, approver)
    assert event.data == {
        "correction": 7,
        "changes": [{"field": "name", "old": "王小明", "new": "王晓明"}],
    }
    login = User.objects.get(username="student_a")
    assert (login.last_name, login.first_name, login.get_full_name()) == ("王", "晓明", "王晓明")


def test_student_correct_keeps_every_replaced_value():
    person = _person()
    old_number = person.id_number
    new_birth = datetime.date(2002, 4, 15)
    new_number = factories.resident_id(new_birth, Gender.FEMALE, serial=5).lower()

    student_correct(
        student=person,
        changes={"gender": Gender.FEMALE, "birth_date": new_birth, "id_number": new_number},
        acting_user=None,
        correction_id=3,
    )

    stored = Student.objects.get(pk=person.pk)
    assert (stored.gender, stored.birth_date, stored.id_number) == (
        Gender.FEMALE,
        new_birth,
        new_number.upper(),  # normalized as at registration
    )
    (event,) = _corrected(person)
    assert event.data["changes"] == [
        {"field": "gender", "old": "male", "new": "female"},
        {"field": "birth_date", "old": "2002-03-14", "new": "2002-04-15"},
        {"field": "id_number", "old": old_number, "new": new_number.upper()},
    ]
    assert verify_chains().first_break is None


def test_student_correct_validates_the_identity_as_a_whole():
    person = _person()

    with pytest.raises(ValidationError) as exc:
        student_correct(
            student=person,
            changes={"gender": Gender.FEMALE},  # the ID number says male
            acting_user=None,
            correction_id=1,
        )

    assert list(exc.value.message_dict) == ["gender"]
    assert person.gender == Gender.MALE  # the caller's instance is left as it was
    assert Student.objects.get(pk=person.pk).gender == Gender.MALE
    assert _corrected(person) == []


def test_student_correct_refuses_a_name_that_breaks_the_name_rule():
    person = _person()

    with pytest.raises(ValidationError) as exc:
        student_correct(
            student=person, changes={"name": "王小明2"}, acting_user=None, correction_id=1
        )

    assert list(exc.value.message_dict) == ["name"]
    assert Student.objects.get(pk=person.pk).name == "王小明"
    assert User.objects.get(username="student_a").get_full_name() == ""  # not renamed


def test_student_correct_refuses_another_persons_id_number():
    person = _person()
    other = factories.student("李娜", gender=Gender.FEMALE)

    with pytest.raises(ValidationError) as exc:
        student_correct(
            student=person,
            changes={
                "gender": other.gender,
                "birth_date": other.birth_date,
                "id_number": other.id_number,
            },
            acting_user=None,
            correction_id=1,
        )

    assert "__all__" in exc.value.message_dict
    assert Student.objects.get(pk=person.pk).id_number != other.id_number


def test_student_correct_writes_nothing_when_nothing_changes():
    person = _person()

    student_correct(student=person, changes={"name": "王小明"}, acting_user=None, correction_id=1)
    student_correct(student=person, changes={}, acting_user=None, correction_id=1)

    assert _corrected(person) == []


def test_student_correct_takes_only_the_persons_fields():
    with pytest.raises(ValueError, match="study_length"):
        student_correct(
            student=_person(), changes={"study_length": "5"}, acting_user=None, correction_id=1
        )


def test_a_person_without_a_login_is_corrected_all_the_same():
    person = _person(user=None)

    student_correct(student=person, changes={"name": "王晓明"}, acting_user=None, correction_id=1)

    assert Student.objects.get(pk=person.pk).name == "王晓明"
