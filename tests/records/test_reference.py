from __future__ import annotations

import pytest
from django.contrib.auth import authenticate
from django.core.exceptions import ValidationError
from django.core.management import call_command
from django.core.management.base import CommandError

from permissions import codenames as c
from permissions.checks import may
from records.demo import DEMO_USERS
from records.models import Ethnicity
from records.models import Major
from records.models import Province
from records.models import School
from records.models import SchoolMajor
from records.models import Student
from records.models import User
from records.reference import ethnicity_by_code
from records.reference import load_reference_data
from records.reference import major_name
from records.reference import school_by_code

pytestmark = pytest.mark.django_db


@pytest.fixture
def reference():
    return load_reference_data()


def test_loads_the_shipped_lists(reference):
    assert [(c.created, c.updated) for c in reference] == [(35, 0), (2919, 0), (883, 0), (58, 0)]
    assert School.objects.get(pk="10001").name == "北京大学"
    assert School.objects.get(name="吉利学院").province_id == "51"  # the documented quirk
    assert Major.objects.get(pk="0502107TK").class_code == "0502"
    assert Ethnicity.objects.get(pk="98").name == "外国血统中国籍人士"


def test_loading_again_changes_nothing_and_repairs_edits(reference):
    School.objects.filter(pk="10001").update(name="改名", principal_name="某人")
    counts = load_reference_data()
    assert [(c.created, c.updated) for c in counts] == [(0, 0), (0, 1), (0, 0), (0, 0)]
    pku = School.objects.get(pk="10001")
    assert pku.name == "北京大学"
    assert pku.principal_name == "某人"  # not part of the list: kept


def test_lookups_name_the_field_and_rule(reference):
    pku = school_by_code("10001")
    assert major_name(pku, "080901") == "计算机科学与技术"
    SchoolMajor.objects.create(school=pku, code="510201", name="计算机应用技术")
    assert major_name(pku, "510201") == "计算机应用技术"
    with pytest.raises(ValidationError) as exc:
        major_name(school_by_code("10003"), "510201")
    assert "510201" in exc.value.message_dict["major_code"][0]
    with pytest.raises(ValidationError) as exc:
        school_by_code("99999")
    assert list(exc.value.message_dict) == ["school"]
    with pytest.raises(ValidationError) as exc:
        ethnicity_by_code("77")
    assert list(exc.value.message_dict) == ["ethnicity"]


def test_seed_demo_needs_reference_data():
    with pytest.raises(CommandError, match="load_reference_data"):
        call_command("seed_demo")


def test_seed_demo_is_idempotent_and_gives_every_role_its_scope(reference, settings):
    settings.DEMO_PASSWORD = "s3cret-demo"
    call_command("seed_demo")
    call_command("seed_demo")
    assert set(User.objects.values_list("username", flat=True)) == set(DEMO_USERS)
    assert Student.objects.count() == 3
    for username in DEMO_USERS:
        assert authenticate(username=username, password="s3cret-demo") is not None
    for person in Student.objects.all():
        person.full_clean()  # every demo ID number is valid and agrees with the person
    officer = User.objects.get(username="officer_10001")
    assert may(officer, c.REVIEW_SCHOOL, School.objects.get(pk="10001"))
    assert not may(officer, c.REVIEW_SCHOOL, School.objects.get(pk="10003"))
    admin31 = User.objects.get(username="province_31")
    assert may(admin31, c.SIGNOFF_PROVINCE, Province.objects.get(pk="31"))
    assert may(admin31, c.VIEW, School.objects.get(pk="10246"))
    assert School.objects.get(pk="10246").principal_name
    student_a = User.objects.get(username="student_a")
    assert may(student_a, c.VIEW, Student.objects.get(user=student_a))
