"""The world the verification tests stand on: 王小明 at 北京大学 with a login, a registered
qualification issued 2024-07-01 and an enrolled status; another student with a qualification
of their own."""

from __future__ import annotations

import datetime
from dataclasses import dataclass
from typing import Any

from records.models import Qualification
from records.models import StudentStatus
from records.models import User
from tests import factories
from tests.status_changes import student_status

BEIJING = datetime.timezone(datetime.timedelta(hours=8))
NOW = datetime.datetime(2026, 11, 30, 10, 0, tzinfo=BEIJING)


@dataclass
class World:
    student: User
    qualification: Qualification
    status: StudentStatus
    other: User
    others_qualification: Qualification


def world(places: Any) -> World:
    login = factories.user("student_a")
    status = student_status(places.pku, login)
    qualification = factories.qualification(status.student, places.pku)
    other = factories.user("student_b")
    others = factories.qualification(factories.student("李四", login=other), places.pku)
    return World(login, qualification, status, other, others)
