"""Plain functions that build valid rows, with the same services the application uses."""

from __future__ import annotations

import datetime
import itertools

from stdnum.cn import ric

from permissions import roles
from permissions.services import grant_role
from records.choices import Gender
from records.models import Ethnicity
from records.models import Province
from records.models import School
from records.models import Student
from records.models import User

_seq = itertools.count(1)


def resident_id(birth: datetime.date, gender: str, region: str = "110105", serial: int = 1) -> str:
    """A valid 18-digit resident ID number for this birth date and gender."""
    order = serial * 2 + (1 if gender == Gender.MALE else 0)
    body = f"{region}{birth:%Y%m%d}{order % 1000:03d}"
    return body + ric.calc_check_digit(body + "0")


def province(code: str = "11", name: str = "北京市") -> Province:
    return Province.objects.get_or_create(code=code, defaults={"name": name})[0]


def school(code: str = "10001", name: str = "北京大学", province_code: str = "11") -> School:
    prov = Province.objects.filter(pk=province_code).first() or province(
        province_code, f"省{province_code}"
    )
    return School.objects.get_or_create(
        code=code,
        defaults={"name": name, "identifier": f"41{province_code}0{code}", "province": prov},
    )[0]


def ethnicity(code: str = "01", name: str = "汉族") -> Ethnicity:
    return Ethnicity.objects.get_or_create(code=code, defaults={"name": name})[0]


def user(
    username: str | None = None,
    *,
    role: str | None = None,
    scope: object = None,
    email: str | None = None,
    language: str = "zh-hans",
    password: str = "pw",  # noqa: S107  (test accounts)
) -> User:
    username = username or f"user{next(_seq)}"
    account = User.objects.create_user(
        username, email=email or f"{username}@example.org", password=password, language=language
    )
    if role:
        grant_role(account, role, scope)  # type: ignore[arg-type]
    return account


def officer(school_obj: School, username: str | None = None, **kw: object) -> User:
    return user(username, role=roles.SCHOOL_OFFICER, scope=school_obj, **kw)  # type: ignore[arg-type]


def provincial_admin(province_obj: Province, username: str | None = None, **kw: object) -> User:
    return user(username, role=roles.PROVINCIAL_ADMIN, scope=province_obj, **kw)  # type: ignore[arg-type]


def student(
    name: str = "张三",
    *,
    login: User | None = None,
    gender: str = Gender.MALE,
    birth: datetime.date = datetime.date(2003, 5, 17),
    email: str = "",
) -> Student:
    serial = next(_seq)
    person = Student(
        name=name,
        gender=gender,
        birth_date=birth,
        id_number=resident_id(birth, gender, serial=serial),
        ethnicity=ethnicity(),
        email=email or (login.email if login else f"s{serial}@example.org"),
        user=login,
    )
    person.full_clean()
    person.save()
    return person
