"""The permission matrix: every role against its own and a foreign school and province."""

from __future__ import annotations

import pytest
from django.contrib.auth.models import AnonymousUser
from django.contrib.auth.models import Group
from django.contrib.auth.models import Permission
from django.db import connection
from django.test.utils import CaptureQueriesContext

from permissions import codenames as c
from permissions import roles
from permissions.checks import may
from permissions.checks import scope
from permissions.services import grant_role
from permissions.services import revoke_role
from records.models import School
from records.models import Student
from records.models import User
from tests import factories

pytestmark = pytest.mark.django_db


@pytest.fixture
def world(places):
    bj, sh = places.bj, places.sh
    pku = places.pku
    thu = places.thu
    fdu = places.fdu
    student_user = factories.user("student_a", role=roles.STUDENT)
    return {
        "bj": bj,
        "sh": sh,
        "pku": pku,
        "thu": thu,
        "fdu": fdu,
        "officer": factories.officer(pku, "officer_10001"),
        "province": factories.provincial_admin(bj, "province_11"),
        "ministry": factories.user("ministry", role=roles.MINISTRY_VIEWER, scope=bj),
        "student": student_user,
        "me": factories.student("王小明", login=student_user),
        "other_person": factories.student("李娜"),
    }


# Rows of (who, permission, on what, allowed).
MATRIX = [
    ("officer", c.VIEW, "pku", True),
    ("officer", c.REVIEW_SCHOOL, "pku", True),
    ("officer", c.VIEW, "thu", False),
    ("officer", c.REVIEW_SCHOOL, "thu", False),
    ("officer", c.REVIEW_SCHOOL, "fdu", False),
    ("officer", c.SIGNOFF_PROVINCE, "bj", False),
    ("officer", c.VIEW, "bj", False),
    ("officer", c.VIEW, "me", False),
    ("province", c.VIEW, "pku", True),
    ("province", c.VIEW, "thu", True),
    ("province", c.VIEW, "fdu", False),
    ("province", c.SIGNOFF_PROVINCE, "bj", True),
    ("province", c.SIGNOFF_PROVINCE, "pku", True),  # the school's province
    ("province", c.SIGNOFF_PROVINCE, "sh", False),
    ("province", c.SIGNOFF_PROVINCE, "fdu", False),
    ("province", c.REVIEW_SCHOOL, "pku", False),
    ("ministry", c.VIEW, "pku", True),
    ("ministry", c.SIGNOFF_PROVINCE, "bj", False),
    ("ministry", c.VIEW, "fdu", False),
    ("student", c.VIEW, "me", True),
    ("student", c.VIEW, "other_person", False),
    ("student", c.VIEW, "pku", False),
    ("student", c.REVIEW_SCHOOL, "pku", False),
]


@pytest.mark.parametrize(("who", "perm", "what", "allowed"), MATRIX)
def test_may(world, who, perm, what, allowed):
    assert may(world[who], perm, world[what]) is allowed


@pytest.mark.parametrize("what", ["pku", "bj", "me"])
def test_anonymous_and_inactive_users_may_nothing(world, what):
    assert may(AnonymousUser(), c.VIEW, world[what]) is False
    world["officer"].is_active = False
    assert may(world["officer"], c.VIEW, world["pku"]) is False
    assert not scope(AnonymousUser(), c.VIEW, School.objects.all()).exists()


def test_scope_lists_exactly_the_granted_rows(world):
    def codes(user, perm):
        return sorted(scope(user, perm, School.objects.all()).values_list("code", flat=True))

    assert codes(world["officer"], c.VIEW) == ["10001"]
    assert codes(world["officer"], c.REVIEW_SCHOOL) == ["10001"]
    assert codes(world["province"], c.VIEW) == ["10001", "10003"]
    assert codes(world["province"], c.SIGNOFF_PROVINCE) == ["10001", "10003"]
    assert codes(world["province"], c.REVIEW_SCHOOL) == []
    assert codes(world["student"], c.VIEW) == []
    people = scope(world["student"], c.VIEW, Student.objects.all())
    assert list(people) == [world["me"]]
    assert not scope(world["officer"], c.VIEW, Student.objects.all()).exists()


def test_scope_filters_by_a_literal_list_not_a_permission_subquery(world):
    officer = world["officer"]
    with CaptureQueriesContext(connection) as first:
        list(scope(officer, c.VIEW, School.objects.all()))
    sql = first.captured_queries[-1]["sql"]
    assert "'10001'" in sql
    assert "permission" not in sql.lower()
    # Grants are fetched once per user object (i.e. per request), then reused.
    with CaptureQueriesContext(connection) as second:
        list(scope(officer, c.VIEW, School.objects.all()))
        assert may(officer, c.REVIEW_SCHOOL, world["pku"])
    assert len(second.captured_queries) == 1


def test_a_global_grant_of_a_scoped_codename_opens_nothing(world):
    officer = world["officer"]
    officer.user_permissions.add(
        Permission.objects.get(codename="review_school"),
        Permission.objects.get(codename="signoff_province"),
    )
    fresh = type(officer).objects.get(pk=officer.pk)
    assert may(fresh, c.REVIEW_SCHOOL, world["thu"]) is False
    assert may(fresh, c.SIGNOFF_PROVINCE, world["bj"]) is False


def test_no_role_holds_a_global_scoped_permission(world):
    scoped = {perm.split(".", 1)[1] for perm in c.SCOPED}
    for group in Group.objects.filter(name__in=roles.ALL):
        assert not group.permissions.filter(codename__in=scoped).exists(), group.name


def test_superuser_sees_everything_but_decides_only_where_granted(world):
    root = factories.user("root")
    root.is_superuser = True
    root.save()
    assert scope(root, c.VIEW, School.objects.all()).count() == 3
    assert may(root, c.VIEW, world["sh"])
    assert may(root, c.SIGNOFF_PROVINCE, world["sh"]) is False
    assert may(root, c.REVIEW_SCHOOL, world["pku"]) is False
    grant_role(root, roles.PROVINCIAL_ADMIN, world["sh"])
    root = User.objects.get(pk=root.pk)
    assert may(root, c.SIGNOFF_PROVINCE, world["sh"])
    assert may(root, c.SIGNOFF_PROVINCE, world["bj"]) is False


def test_revoking_a_role_closes_the_school(world):
    officer = world["officer"]
    revoke_role(officer, roles.SCHOOL_OFFICER, world["pku"])
    assert may(officer, c.VIEW, world["pku"]) is False
    assert not officer.groups.filter(name=roles.SCHOOL_OFFICER).exists()


def test_an_officer_of_two_schools_keeps_the_other_after_one_revocation(world):
    officer = world["officer"]
    grant_role(officer, roles.SCHOOL_OFFICER, world["thu"])
    revoke_role(officer, roles.SCHOOL_OFFICER, world["pku"])
    assert may(officer, c.VIEW, world["thu"]) is True
    assert may(officer, c.VIEW, world["pku"]) is False
    assert officer.groups.filter(name=roles.SCHOOL_OFFICER).exists()


def test_grant_role_command(world, capsys):
    from django.core.management import call_command
    from django.core.management.base import CommandError

    user = factories.user("new_officer")
    call_command("grant_role", "new_officer", "school_officer", "10003")
    assert "school_officer for 10003 清华大学 granted to new_officer" in capsys.readouterr().out
    fresh = type(user).objects.get(pk=user.pk)
    assert may(fresh, c.REVIEW_SCHOOL, world["thu"])
    with pytest.raises(CommandError, match="No school has the code '99999'"):
        call_command("grant_role", "new_officer", "school_officer", "99999")
    with pytest.raises(CommandError, match="needs the code"):
        call_command("grant_role", "new_officer", "provincial_admin")
    call_command("grant_role", "new_officer", "school_officer", "10003", "--revoke")
    assert not may(type(user).objects.get(pk=user.pk), c.REVIEW_SCHOOL, world["thu"])
