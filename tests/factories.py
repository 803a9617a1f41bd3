"""Plain functions that build valid rows, with the same services the application uses."""

from __future__ import annotations

import datetime
import itertools
from typing import Any

from stdnum.cn import ric

from permissions import roles
from permissions.services import grant_role
from records.choices import EducationType
from records.choices import Gender
from records.choices import GraduationResult
from records.choices import LearningForm
from records.choices import Level
from records.models import Ethnicity
from records.models import Major
from records.models import Province
from records.models import Qualification
from records.models import School
from records.models import Student
from records.models import User
from records.qualifications import qualification_create
from records.qualifications import qualification_register

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


def major(code: str = "080901", name: str = "计算机科学与技术") -> Major:
    return Major.objects.get_or_create(
        code=code, defaults={"name": name, "discipline": "工学", "class_code": code[:4]}
    )[0]


def qualification(
    person: Student | None = None,
    school_obj: School | None = None,
    *,
    registered: bool = True,
    **overrides: object,
) -> Qualification:
    """A registered (or draft) bachelor's qualification, valid by every registration rule."""
    person = person or student()
    school_obj = school_obj or school()
    major()
    graduation = overrides.pop("graduation_date", datetime.date(2024, 7, 1))
    assert isinstance(graduation, datetime.date)
    fields: dict[str, Any] = {
        "student": person,
        "school": school_obj,
        "name": person.name,
        "gender": person.gender,
        "birth_date": person.birth_date,
        "id_type": person.id_type,
        "id_number": person.id_number,
        "education_type": EducationType.REGULAR,
        "start_date": datetime.date(graduation.year - 4, 9, 1),
        "graduation_date": graduation,
        "major_code": "080901",
        "level": Level.BACHELOR,
        "study_length": "4",
        "learning_form": LearningForm.FULL_TIME,
        "graduation_result": GraduationResult.GRADUATED,
        "principal_name": "校长",
        "certificate_number": f"{school_obj.code}1{graduation:%Y}05{next(_seq):06d}",
    }
    fields.update(overrides)
    created = qualification_create(**fields)
    if registered:
        created = qualification_register(qualification=created, acting_user=None)
    return created
