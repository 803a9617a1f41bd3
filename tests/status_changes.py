"""The world the status change tests stand on: enrolled statuses at 北京大学 (one-level) and
复旦大学, their students with logins, two officers per school, both provinces' admins."""

from __future__ import annotations

import datetime
from dataclasses import dataclass
from typing import Any

from viewflow.workflow.models import Task
from viewflow.workflow.status import STATUS

from records.choices import LearningForm
from records.choices import Level
from records.models import School
from records.models import StatusChangeRequest
from records.models import StudentStatus
from records.models import User
from tests import factories
from workflows.flows import status_change as flow

ENTRY = datetime.date(2024, 9, 1)


def student_status(school: School, login: User | None = None, **overrides: Any) -> StudentStatus:
    """An enrolled full-time bachelor's status (4 years from 2024-09-01), of a new person."""
    person = factories.student("王小明", login=login)
    factories.major()
    fields: dict[str, Any] = {
        "student": person,
        "school": school,
        "province_id": school.province_id,
        "student_number": f"2024{person.pk:06d}",
        "level": Level.BACHELOR,
        "major_code": "080901",
        "major_name": "计算机科学与技术",
        "learning_form": LearningForm.FULL_TIME,
        "study_length": "4",
        "entry_date": ENTRY,
        "expected_graduation": datetime.date(2028, 7, 1),
        **overrides,
    }
    status: StudentStatus = StudentStatus.objects.create(**fields)
    return status


@dataclass
class World:
    status: StudentStatus
    student: User
    officer: User
    officer_b: User
    officer_c: User
    foreign_officer: User
    province: User
    foreign_province: User
    stranger: User


def world(places: Any) -> World:
    login = factories.user("student_d")
    return World(
        status=student_status(places.pku, login),
        student=login,
        officer=factories.officer(places.pku, "officer_10001"),
        officer_b=factories.officer(places.pku, "officer_10001b"),
        officer_c=factories.officer(places.pku, "officer_10001c"),
        foreign_officer=factories.officer(places.fdu, "officer_10246"),
        province=factories.provincial_admin(places.bj, "province_11"),
        foreign_province=factories.provincial_admin(places.sh, "province_31"),
        stranger=factories.user("student_x"),
    )


def file(
    w: World,
    type_key: str,
    fields: dict[str, Any] | None = None,
    *,
    by: User | None = None,
    status: StudentStatus | None = None,
) -> StatusChangeRequest:
    return flow.status_change_start(
        status=status or w.status,
        type_key=type_key,
        fields=fields or {},
        reason="个人原因",
        requester=by or w.student,
    )


def task(request: StatusChangeRequest, node: Any) -> Task:
    return Task.objects.get(
        process__statuschangeprocess__request=request, flow_task=node, status=STATUS.NEW
    )


SUSPENSION = {"from": "2025-03-01", "until": "2026-02-28"}
