"""Academic-year registration for the tests: enrolled students of the demo schools (statuses
built as a registration leaves them, other states set at construction as the status changes
would leave them), rounds opened through the flow, outcomes recorded through the services."""

from __future__ import annotations

import datetime
import itertools
from dataclasses import dataclass
from typing import Any
from zoneinfo import ZoneInfo

import time_machine

from records.choices import LearningForm
from records.choices import Level
from records.choices import StatusState
from records.models import School
from records.models import StudentStatus
from records.models import User
from records.models import YearRegistrationRound
from records.years import services
from records.years.services import OutcomeItem
from tests import factories
from workflows.flows import year_registration as flow
from workflows.models import WorkItem

SHANGHAI = ZoneInfo("Asia/Shanghai")
YEAR = 2027  # the academic year 2027–2028
# The default window: 1 to 30 September 2027; due at the start of 1 October, reminded on 24
# and 29 September.
OPENED = datetime.datetime(2027, 9, 1, 9, 0, tzinfo=SHANGHAI)
DEADLINE = datetime.datetime(2027, 10, 1, 0, 0, tzinfo=SHANGHAI)
FIRST_REMINDER = datetime.datetime(2027, 9, 24, 0, 0, tzinfo=SHANGHAI)
SECOND_REMINDER = datetime.datetime(2027, 9, 29, 0, 0, tzinfo=SHANGHAI)
ENTERED = datetime.date(2026, 9, 1)  # the 2026 freshmen: their second year is 2027–2028

_numbers = itertools.count(1)


@dataclass
class World:
    officer: User  # of 北京大学 (10001)
    officer_b: User  # a second officer of 北京大学, reading English
    thu_officer: User  # of 清华大学 (10003), same province
    fdu_officer: User  # of 复旦大学 (10246), another province
    admin: User  # of 北京市 (11)
    admin_sh: User  # of 上海市 (31)


def world(places: Any) -> World:
    return World(
        officer=factories.officer(places.pku, "officer_10001", email="o1@pku.example"),
        officer_b=factories.officer(
            places.pku, "officer_10001b", email="o2@pku.example", language="en"
        ),
        thu_officer=factories.officer(places.thu, "officer_10003", email="o@thu.example"),
        fdu_officer=factories.officer(places.fdu, "officer_10246", email="o@fdu.example"),
        admin=factories.provincial_admin(places.bj, "province_11", email="p@bj.example"),
        admin_sh=factories.provincial_admin(places.sh, "province_31", email="p@sh.example"),
    )


def status(
    school: str = "10001",
    *,
    name: str = "",
    entry: datetime.date = ENTERED,
    state: str = StatusState.ENROLLED,
    login: User | None = None,
) -> StudentStatus:
    """A student's status at ``school`` (a person of their own), as a registration makes it."""
    n = next(_numbers)
    person = factories.student(
        name or f"学{chr(0x4E00 + n % 20000)}{chr(0x4E00 + n // 20000)}", login=login
    )
    school_obj = School.objects.get(pk=school)
    made: StudentStatus = StudentStatus.objects.create(
        student=person,
        school=school_obj,
        province_id=school_obj.province_id,
        student_number=f"{entry.year}{n:06d}",
        level=Level.BACHELOR,
        major_code="080901",
        major_name="计算机科学与技术",
        learning_form=LearningForm.FULL_TIME,
        study_length="4",
        entry_date=entry,
        expected_graduation=datetime.date(entry.year + 4, 7, 1),
        state=state,
    )
    return made


def enrolled(count: int, school: str = "10001", **kwargs: Any) -> list[StudentStatus]:
    return [status(school, **kwargs) for _ in range(count)]


def with_account(found: StudentStatus, username: str, **kwargs: Any) -> User:
    """Give the student a login (as claiming the account does)."""
    login = factories.user(username, email=f"{username}@stu.example", **kwargs)
    found.student.user = login
    found.student.save(update_fields=["user"])
    return login


def open_round(
    school: str = "10001", year: int = YEAR, *, at: datetime.datetime = OPENED
) -> YearRegistrationRound:
    """The school's round of ``year``, opened (with its process) at ``at``."""
    with time_machine.travel(at, tick=False):
        return flow.round_open(school_id=school, academic_year=year)


def year_round(school: str = "10001", year: int = YEAR) -> YearRegistrationRound:
    found: YearRegistrationRound = YearRegistrationRound.objects.select_related("school").get(
        school_id=school, academic_year=year
    )
    return found


def outcome(found: StudentStatus | int, outcome: str, reason: str = "") -> OutcomeItem:
    pk = found if isinstance(found, int) else found.pk
    return OutcomeItem(status=pk, outcome=outcome, reason=reason)


def record(
    user: User, round_obj: YearRegistrationRound, *items: OutcomeItem
) -> list[dict[str, Any]]:
    """Record outcomes through the service; the results as the API answers them."""
    results = services.outcomes_record(round_pk=round_obj.pk, items=items, acting_user=user)
    return [result.as_dict() for result in results]


def task_item(round_obj: YearRegistrationRound) -> WorkItem:
    return WorkItem.objects.get(
        flow="year_registration", step="registration", subject_id=round_obj.pk
    )
