"""A student's home page shows their admissions (school, major, level, year, state; the reason
and until when, when retained or cancelled) and, once registered, their student status."""

from __future__ import annotations

import datetime as dt

import pytest
from django.test import Client

from permissions import roles
from records.choices import AdmissionState
from records.models import AdmissionRecord
from records.models import StudentStatus
from records.models import User
from tests import factories
from tests.claims import admitted
from tests.records.admission_files import row

pytestmark = pytest.mark.django_db


@pytest.fixture
def student(places) -> User:
    """A freshman of 北京大学 with a login; another freshman without one."""
    mine, other = admitted(row(1), row(2, major_code="080901"))
    user = factories.user("freshman", role=roles.STUDENT)
    mine.student.user = user
    mine.student.save(update_fields=["user"])
    assert other.student.user is None
    return user


def _home(user: User) -> str:
    client = Client()
    client.force_login(user)
    return client.get("/home/").content.decode()


def _admission(user: User) -> AdmissionRecord:
    found: AdmissionRecord = AdmissionRecord.objects.select_related("student").get(
        student__user=user
    )
    return found


def test_an_admitted_freshman_sees_the_admission_and_what_comes_next(student, places):
    admission = _admission(student)

    page = _home(student)

    assert 'id="admissions"' in page
    assert "我的录取与学籍" in page
    assert "2026 年 北京大学" in page
    for shown in ("计算机科学与技术 (080901)", "本科", "普通全日制", "4 年", "已录取"):
        assert shown in page, shown
    assert admission.candidate_number in page
    assert "三个月内完成入学资格复查" in page
    assert admission.student.id_number not in page
    assert row(2)["candidate_number"] not in page  # someone else's admission
    graduate = factories.user("graduate", role=roles.STUDENT)
    factories.student("王小明", login=graduate)
    for without_admissions in (factories.officer(places.pku), graduate):
        assert 'id="admissions"' not in _home(without_admissions)


def test_a_retained_admission_says_until_when_and_why(student):
    AdmissionRecord.objects.filter(student__user=student).update(
        state=AdmissionState.RETAINED, reason="参军入伍", retained_until=dt.date(2028, 8, 31)
    )

    page = _home(student)

    assert "保留入学资格" in page
    assert "保留至" in page
    assert "2028-08-31" in page
    assert "参军入伍" in page


def test_a_cancelled_admission_gives_the_reason_and_the_appeal_route(student):
    AdmissionRecord.objects.filter(student__user=student).update(
        state=AdmissionState.CANCELLED, reason="复查发现冒名顶替"
    )

    User.objects.filter(pk=student.pk).update(language="en")  # the account's language

    page = _home(student)

    assert "Admission cancelled" in page
    assert "复查发现冒名顶替" in page
    assert "appeal to your school's student appeals committee within 10 days" in page


def test_a_registered_student_sees_the_status(student, places):
    admission = _admission(student)
    AdmissionRecord.objects.filter(pk=admission.pk).update(state=AdmissionState.REGISTERED)
    StudentStatus.objects.create(
        student=admission.student,
        admission=admission,
        school=places.pku,
        province=places.bj,
        student_number="2026000017",
        candidate_number=admission.candidate_number,
        level=admission.level,
        major_code=admission.major_code,
        major_name=admission.major_name,
        learning_form=admission.learning_form,
        study_length=admission.study_length,
        entry_date=dt.date(2026, 9, 1),
        expected_graduation=dt.date(2030, 7, 1),
    )

    page = _home(student)

    assert "已注册学籍" in page
    assert 'id="status-' in page
    for shown in (
        "学号",
        "2026000017",
        "入学日期",
        "2026-09-01",
        "预计毕业日期",
        "2030-07-01",
        "在籍",
    ):
        assert shown in page, shown
