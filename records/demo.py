"""The demo data of ``manage.py seed_demo``: who exists, where they act, which person they are.

Every demo user logs in with ``settings.DEMO_PASSWORD``.
"""

from __future__ import annotations

import datetime
from dataclasses import dataclass

from django.conf import settings
from django.db import transaction
from stdnum.cn import ric

from permissions import roles
from permissions.services import ensure_roles
from permissions.services import grant_role
from records.choices import Gender
from records.choices import IdType
from records.models import Ethnicity
from records.models import Province
from records.models import School
from records.models import Student
from records.models import User
from records.services import student_create

PRINCIPALS = {"10001": "龚旗煌", "10003": "李路明", "10246": "金力"}


@dataclass(frozen=True)
class DemoUser:
    username: str
    role: str
    scope: str  # school or province code; empty for roles without a scope
    language: str = "zh-hans"


@dataclass(frozen=True)
class DemoPerson:
    username: str
    name: str
    gender: str
    birth_date: datetime.date
    region: str  # the 6-digit administrative division of the ID number
    serial: int  # the 3-digit sequence number, whose parity the gender sets
    ethnicity: str
    school: str


DEMO_ACCOUNTS = (
    DemoUser("officer_10001", roles.SCHOOL_OFFICER, "10001"),
    DemoUser("officer_10003", roles.SCHOOL_OFFICER, "10003"),
    DemoUser("officer_10246", roles.SCHOOL_OFFICER, "10246"),
    DemoUser("province_11", roles.PROVINCIAL_ADMIN, "11"),
    DemoUser("province_31", roles.PROVINCIAL_ADMIN, "31"),
    DemoUser("student_a", roles.STUDENT, ""),
    DemoUser("student_b", roles.STUDENT, "", language="en"),
    DemoUser("student_c", roles.STUDENT, ""),
)
DEMO_PEOPLE = (
    DemoPerson(
        "student_a", "王小明", Gender.MALE, datetime.date(2002, 3, 14), "110108", 31, "01", "10001"
    ),
    DemoPerson(
        "student_b", "李娜", Gender.FEMALE, datetime.date(2001, 11, 2), "320102", 42, "01", "10001"
    ),
    DemoPerson(
        "student_c",
        "阿依古丽·买买提",
        Gender.FEMALE,
        datetime.date(2002, 7, 9),
        "650102",
        18,
        "05",
        "10246",
    ),
)
DEMO_USERS = tuple(account.username for account in DEMO_ACCOUNTS)


def demo_id_number(person: DemoPerson) -> str:
    body = f"{person.region}{person.birth_date:%Y%m%d}{person.serial:03d}"
    return body + ric.calc_check_digit(body + "0")


@transaction.atomic
def seed_demo() -> list[str]:
    """Create or refresh the demo schools' details, users, grants and people. Idempotent."""
    ensure_roles()
    for code, principal in PRINCIPALS.items():
        School.objects.filter(pk=code).update(principal_name=principal)
    lines = []
    for account in DEMO_ACCOUNTS:
        user, created = User.objects.get_or_create(
            username=account.username,
            defaults={
                "email": f"{account.username}@demo.xueji.local",
                "language": account.language,
            },
        )
        user.set_password(settings.DEMO_PASSWORD)
        user.save()
        scope_object: School | Province | None = None
        if account.role == roles.SCHOOL_OFFICER:
            scope_object = School.objects.get(pk=account.scope)
        elif account.role == roles.PROVINCIAL_ADMIN:
            scope_object = Province.objects.get(pk=account.scope)
        grant_role(user, account.role, scope_object)
        where = f" ({scope_object})" if scope_object else ""
        lines.append(f"{account.username:<14} {account.role}{where}{'' if created else ' [kept]'}")
    for person in DEMO_PEOPLE:
        user = User.objects.get(username=person.username)
        if Student.objects.filter(user=user).exists():
            continue
        student_create(
            name=person.name,
            gender=person.gender,
            birth_date=person.birth_date,
            id_type=IdType.RESIDENT_ID,
            id_number=demo_id_number(person),
            ethnicity=Ethnicity.objects.get(pk=person.ethnicity),
            email=user.email,
            user=user,
        )
    return lines
