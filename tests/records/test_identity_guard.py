"""An enrolled student's identity and programme change only through an identity change
request: the admin shows them read-only, the model refuses a save that changes them, and
PostgreSQL refuses a raw UPDATE unless the flow's service set ``xueji.identity_change``.
Creating a person or a status, and changing a person with no current status, are not
changes."""

from __future__ import annotations

import re

import pytest
from django.db import DatabaseError
from django.db import connection
from django.db import transaction

from records.choices import StatusState
from records.models import IdentityLockedError
from records.models import Student
from records.models import StudentStatus
from records.models import identity_writes
from tests import factories
from tests import identity_changes as ic

pytestmark = pytest.mark.django_db


@pytest.fixture
def w(places):
    return ic.world(places)


@pytest.fixture
def root(client):
    user = factories.user("root")
    user.is_superuser = user.is_staff = True
    user.save()
    client.force_login(user)
    return client


def test_the_admin_shows_a_persons_identity_read_only(w, root):
    person = w.status.student
    url = f"/admin/records/student/{person.pk}/change/"
    page = root.get(url).content.decode()
    for name in ("name", "gender", "birth_date", "id_type", "id_number", "ethnicity"):
        assert not re.search(rf'<(input|select)[^>]+name="{name}"', page), name
    assert person.id_number not in page  # masked
    posted = root.post(
        url,
        {"name": "李四", "id_number": "110105200305170019", "email": "x@example.org"},
    )
    assert posted.status_code == 302
    person.refresh_from_db()
    assert person.name == "王小明"
    assert person.email == "x@example.org"  # what is not identity is still edited there
    assert root.get("/admin/records/student/add/").status_code == 403


def test_the_model_refuses_changing_an_enrolled_persons_identity(w):
    person = Student.objects.get(pk=w.status.student_id)
    person.name = "李四"
    with pytest.raises(IdentityLockedError, match=r"姓名.*/api/v1/identity-changes/") as refused:
        person.save()
    assert refused.value.fields == ["name"]
    person = Student.objects.get(pk=w.status.student_id)
    person.ethnicity = factories.ethnicity("05", "回族")
    with pytest.raises(IdentityLockedError, match="民族") as refused:
        person.save(update_fields=["ethnicity"])
    assert refused.value.fields == ["ethnicity"]
    assert Student.objects.get(pk=person.pk).name == "王小明"
    # A save that leaves the identity alone passes; so does one by hand, through the flow's
    # guard.
    person = Student.objects.get(pk=w.status.student_id)
    person.email = "new@example.org"
    person.save()
    person.name = "李四"
    with transaction.atomic(), identity_writes("identity_change:test"):
        person.save()
    assert Student.objects.get(pk=person.pk).name == "李四"


def test_the_model_refuses_changing_a_current_status_programme(w):
    status = StudentStatus.objects.get(pk=w.status.pk)
    status.study_length = "5"
    with pytest.raises(IdentityLockedError, match="学制"):
        status.save()
    built = StudentStatus(
        **{f.attname: getattr(w.status, f.attname) for f in StudentStatus._meta.concrete_fields}
    )
    built._state.adding = False
    built.level = "master"
    with pytest.raises(IdentityLockedError, match="层次"):
        built.save()


def test_creating_and_changing_people_without_a_current_status_are_not_changes(w):
    person = factories.student("赵六")  # created: no status
    person.name = "赵七"
    person.save()
    ended = ic.student_status(w.status.school, state=StatusState.WITHDRAWN)
    ended.major_code = "080902"
    ended.save()
    person = ended.student
    person.name = "钱八"
    person.save()  # the person's only status has ended
    assert Student.objects.get(pk=person.pk).name == "钱八"


@pytest.mark.postgres
def test_postgres_refuses_a_raw_update_of_an_enrolled_identity(w):
    person = w.status.student
    with pytest.raises(DatabaseError, match="identity change request"), transaction.atomic():
        Student.objects.filter(pk=person.pk).update(name="李四")
    with (
        pytest.raises(DatabaseError, match="identity change request"),
        transaction.atomic(),
        connection.cursor() as cursor,
    ):
        cursor.execute(
            "UPDATE records_student SET id_number = %s WHERE id = %s",
            ["110105200305170019", person.pk],
        )
    with pytest.raises(DatabaseError, match="identity change request"), transaction.atomic():
        StudentStatus.objects.filter(pk=w.status.pk).update(major_code="080902")
    assert Student.objects.get(pk=person.pk).name == "王小明"
    # Through the flow's guard (``SET LOCAL xueji.identity_change``) it passes, for that
    # transaction only.
    with transaction.atomic():
        with identity_writes("identity_change:test"):
            Student.objects.filter(pk=person.pk).update(name="李四")
        with pytest.raises(DatabaseError, match="identity change request"), transaction.atomic():
            Student.objects.filter(pk=person.pk).update(name="王五")
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("SET LOCAL xueji.identity_change = '7'")
        cursor.execute(
            "UPDATE records_studentstatus SET level = 'master' WHERE id = %s", [w.status.pk]
        )
    assert Student.objects.get(pk=person.pk).name == "李四"
    assert StudentStatus.objects.get(pk=w.status.pk).level == "master"
    # A column that is not identity changes freely; an ended status's programme too.
    Student.objects.filter(pk=person.pk).update(email="z@example.org")
    ended = ic.student_status(w.status.school, state=StatusState.WITHDRAWN)
    StudentStatus.objects.filter(pk=ended.pk).update(study_length="5")


def test_values_read_again_are_the_loaded_ones(w):
    held = Student.objects.get(pk=w.status.student_id)
    with transaction.atomic(), identity_writes("identity_change:test"):
        Student.objects.filter(pk=held.pk).update(name="李四")
    held.refresh_from_db()
    held.email = "held@example.org"
    held.save()  # nothing of the identity changed since it was read again
    assert Student.objects.get(pk=held.pk).email == "held@example.org"
