from __future__ import annotations

import io

import pytest
from django.contrib.auth import authenticate
from django.core.exceptions import ValidationError
from django.core.management import call_command
from django.core.management.base import CommandError
from django.test import RequestFactory

from permissions import codenames as c
from permissions.checks import may
from records.demo import DEMO_ENROLLED
from records.demo import DEMO_PEOPLE
from records.demo import DEMO_USERS
from records.demo import seed_demo
from records.models import AdmissionType
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
    assert [(c.created, c.updated) for c in reference] == [
        (35, 0),
        (2919, 0),
        (883, 0),
        (58, 0),
        (19, 0),
    ]
    assert School.objects.get(pk="10001").name == "北京大学"
    assert School.objects.get(name="吉利学院").province_id == "51"  # the documented quirk
    assert Major.objects.get(pk="0502107TK").class_code == "0502"
    assert Ethnicity.objects.get(pk="98").name == "外国血统中国籍人士"
    assert AdmissionType.objects.get(pk="public_funded_teacher").name == "公费师范生"
    assert not AdmissionType.objects.get(name="国防生").active  # stopped 2017: kept, refused


def test_loading_again_changes_nothing_and_repairs_edits(reference):
    School.objects.filter(pk="10001").update(name="改名", principal_name="某人")
    counts = load_reference_data()
    assert [(c.created, c.updated) for c in counts] == [(0, 0), (0, 1), (0, 0), (0, 0), (0, 0)]
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
    # and the cohort's freshmen have none
    assert Student.objects.filter(user__isnull=False).count() == len(DEMO_PEOPLE) + len(
        DEMO_ENROLLED
    )
    login = RequestFactory().post("/accounts/login/")  # axes counts logins by their request
    for username in DEMO_USERS:
        assert authenticate(login, username=username, password="s3cret-demo") is not None
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
    second = User.objects.get(username="officer_10001b")
    assert may(second, c.REVIEW_SCHOOL, School.objects.get(pk="10001"))
    admin = User.objects.get(username="admin")
    assert (admin.is_staff, admin.is_superuser) == (True, True)
    assert list(admin.groups.values_list("name", flat=True)) == ["platform_admin"]


def test_every_demo_user_has_a_chinese_name(reference):
    call_command("seed_demo")

    names = {u.username: u.get_full_name() for u in User.objects.all()}

    assert names["officer_10001"] == "张伟"
    assert names["officer_10001b"] == "欧阳婷"
    assert names["admin"] == "吴刚"
    for user in User.objects.filter(student__isnull=False).select_related("student"):
        assert names[user.username] == user.student.name  # a student is named as their person
    student_a = User.objects.get(username="student_a")
    assert (student_a.last_name, student_a.first_name) == ("王", "小明")
    assert all(names.values()), names


def test_seed_demo_prints_every_login_with_its_name(reference):
    out = io.StringIO()
    call_command("seed_demo", stdout=out)

    lines = out.getvalue().splitlines()

    assert lines[0].startswith("Demo logins (password: ")
    assert "  officer_10001   school_officer    张伟 (10001 北京大学)" in lines
    assert "  officer_10001b  school_officer    欧阳婷 (10001 北京大学)" in lines
    assert "  province_11     provincial_admin  赵敏 (11 北京市)" in lines
    assert "  admin           platform_admin    吴刚" in lines
    assert "  student_c       student           阿依古丽·买买提 (10246 复旦大学)" in lines
    assert lines[1 + len(DEMO_USERS)] == "Demo cohort (admissions, no logins yet):"
    assert len(lines) == 1 + len(DEMO_USERS) + 3


def test_a_corrected_student_keeps_the_corrected_name_when_seeded_again(reference):
    seed_demo()
    Student.objects.filter(user__username="student_a").update(name="王晓明")

    seed_demo()

    assert User.objects.get(username="student_a").get_full_name() == "王晓明"


def test_the_demo_administrator_reaches_the_administration(reference, client):
    seed_demo()
    client.force_login(User.objects.get(username="admin"))

    assert client.get("/admin/").status_code == 200
    assert client.get("/admin/records/user/").status_code == 200
