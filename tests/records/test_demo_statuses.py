"""seed_demo's enrolled students (student_d at 北京大学, student_e at 复旦大学) and its
credit-system school: what the README promises a demo user can do with status changes."""

from __future__ import annotations

import pytest

from records.choices import StatusState
from records.demo import CREDIT_SYSTEM_SCHOOL
from records.demo import seed_demo
from records.models import School
from records.models import StudentStatus
from records.models import User
from records.reference import load_reference_data
from workflows import work
from workflows.flows import status_change as flow

pytestmark = pytest.mark.django_db


@pytest.fixture
def seeded():
    load_reference_data()
    seed_demo()
    seed_demo()  # idempotent


def _status(username):
    return StudentStatus.objects.select_related("student", "school").get(
        student__user__username=username
    )


def test_the_enrolled_demo_students(seeded):
    d, e = _status("student_d"), _status("student_e")
    assert (d.school_id, d.school.name, d.state) == ("10001", "北京大学", StatusState.ENROLLED)
    assert (e.school_id, e.school.name, e.state) == ("10246", "复旦大学", StatusState.ENROLLED)
    assert StudentStatus.objects.filter(student__user__username="student_d").count() == 1
    assert School.objects.get(pk=CREDIT_SYSTEM_SCHOOL).credit_system
    assert not School.objects.get(pk="10001").credit_system


def test_student_d_suspends_and_officer_10001_approves(seeded):
    student = User.objects.get(username="student_d")
    officer = User.objects.get(username="officer_10001")
    request = flow.status_change_start(
        status=_status("student_d"),
        type_key="suspension",
        fields={"from": "2026-12-01", "until": "2027-08-31"},
        reason="身体原因",
        requester=student,
    )
    [item] = work.open_items(officer).filter(flow="status_change")
    work.decide(task_pk=item.pk, user=officer, decision="approve")
    request.refresh_from_db()
    assert request.state == "approved"
    assert _status("student_d").state == StatusState.SUSPENDED
