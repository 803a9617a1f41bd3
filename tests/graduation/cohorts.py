"""Graduating cohorts for the tests: enrolled statuses due to graduate (their persons with a
photo), cohorts opened through the flow, drafts prepared and registered through the
services, and the photo gate's flags."""

from __future__ import annotations

import datetime
from dataclasses import dataclass
from typing import Any

from django.db import transaction

from records.choices import GraduateResult
from records.graduation import services
from records.graduation.services import PrepareItem
from records.models import GraduationCohort
from records.models import Qualification
from records.models import Student
from records.models import StudentStatus
from records.models import User
from records.models import identity_writes
from tests import factories
from tests.workflows import years
from workflows.flows import graduation as flow
from workflows.models import WorkItem

GRADUATION = datetime.date(2027, 6, 30)
ENTERED = datetime.date(2023, 9, 1)  # due to graduate on 1 July 2027


@dataclass
class World:
    officer: User  # of 北京大学 (10001)
    officer_b: User  # a second officer of 北京大学, reading English
    thu_officer: User  # of 清华大学 (10003)
    admin: User  # of 北京市 (11)
    admin_sh: User  # of 上海市 (31)


def world(places: Any) -> World:
    return World(
        officer=factories.officer(places.pku, "officer_10001", email="o1@pku.example"),
        officer_b=factories.officer(
            places.pku, "officer_10001b", email="o2@pku.example", language="en"
        ),
        thu_officer=factories.officer(places.thu, "officer_10003", email="o@thu.example"),
        admin=factories.provincial_admin(places.bj, "province_11", email="p@bj.example"),
        admin_sh=factories.provincial_admin(places.sh, "province_31", email="p@sh.example"),
    )


def graduand(school: str = "10001", *, photo: bool = True, **kwargs: Any) -> StudentStatus:
    """An enrolled status due to graduate in 2027, its person with a photo (or none)."""
    kwargs.setdefault("entry", ENTERED)
    found = years.status(school, **kwargs)
    if photo:
        with transaction.atomic(), identity_writes("test setup"):
            Student.objects.filter(pk=found.student_id).update(
                photo=f"photos/students/2027/{found.student_id}.jpg"
            )
    return found


def graduands(count: int, school: str = "10001", **kwargs: Any) -> list[StudentStatus]:
    return [graduand(school, **kwargs) for _ in range(count)]


def open_cohort(officer: User, school: Any, date: datetime.date = GRADUATION) -> GraduationCohort:
    cohort, _created = flow.cohort_open(
        school=school, graduation_date=date, principal_name="龚旗煌", user=officer
    )
    return cohort


def item(status: StudentStatus, result: str = GraduateResult.GRADUATED, **kw: Any) -> PrepareItem:
    return PrepareItem(status=status.pk, result=result, **kw)


def prepare(officer: User, cohort: GraduationCohort, *items: PrepareItem) -> list[dict[str, Any]]:
    results = services.prepare(cohort_pk=cohort.pk, items=items, acting_user=officer)
    return [result.as_dict() for result in results]


def draft_of(status: StudentStatus) -> Qualification:
    found: Qualification = Qualification.objects.get(student_status=status)
    return found


def task_item(cohort: GraduationCohort) -> WorkItem:
    return WorkItem.objects.get(
        flow="qualification_registration", step="register_graduates", subject_id=cohort.pk
    )


def recheck_item(recheck_pk: int) -> WorkItem:
    return WorkItem.objects.get(
        flow="qualification_registration", step="recheck_approval", subject_id=recheck_pk
    )


def with_account(found: StudentStatus, username: str, **kwargs: Any) -> User:
    return years.with_account(found, username, **kwargs)
