"""The cohorts' pages: the list of a province's cohorts with their counts and deadlines, a
cohort's page with its registration, and outcomes recorded in bulk from the admission list's
check boxes."""

from __future__ import annotations

import datetime

import pytest
import time_machine
from django.test import Client

from records.models import AdmissionCancellation
from records.models import AdmissionRecord
from records.models import StudentStatus
from tests.workflows import cohorts as c

pytestmark = pytest.mark.django_db


def _client(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def _states(*admissions: AdmissionRecord) -> list[str]:
    return [AdmissionRecord.objects.get(pk=a.pk).state for a in admissions]


def test_checked_admissions_get_one_outcome_each_named_in_the_result(places):
    w = c.world(places)
    a, b, d = c.admit(w.officer, [1, 2, 3])
    officer = _client(w.officer)
    listed = officer.get("/admissions/").content.decode()
    assert f'name="admissions" value="{a.pk}"' in listed

    done = officer.post(
        "/admissions/?school=10001",
        {"action": "outcomes", "admissions": [a.pk, b.pk], "outcome": "gave_up"},
    )

    assert done.status_code == 302
    assert done["Location"] == "/admissions/?school=10001"  # back to the same list
    assert _states(a, b, d) == ["gave_up", "gave_up", "admitted"]
    shown = officer.get(done["Location"]).content.decode()
    assert f"{a.student.name} ({a.candidate_number}): 放弃入学资格" in shown
    again = officer.get(done["Location"]).content.decode()
    assert 'id="results"' not in again  # said once
    assert f'name="admissions" value="{a.pk}"' not in again  # nothing more to record


def test_a_bulk_cancellation_waits_for_a_second_officer(places):
    w = c.world(places)
    a, b = c.admit(w.officer, [1, 2])
    officer = _client(w.officer)

    officer.post(
        "/admissions/",
        {
            "action": "outcomes",
            "admissions": [a.pk],
            "outcome": "cancelled",
            "reason": "体检不合格",
            "legality_review": "on",
            "hearing_date": "2026-11-20",
            "hearing_by": "招生办 王老师",
            "hearing_summary": "学生陈述了情况",
        },
    )

    assert _states(a, b) == ["admitted", "admitted"]
    (cancellation,) = AdmissionCancellation.objects.all()
    listed = officer.get("/admissions/").content.decode()
    assert "取消申请待确认" in listed
    assert f'value="{a.pk}"' not in listed  # not checked twice
    assert f'value="{b.pk}"' in listed
    page = officer.get(f"/admissions/cohorts/{c.cohort().pk}/").content.decode()
    assert "等待另一名工作人员确认" in page or "待另一名工作人员确认" in page
    assert "体检不合格" in page
    item = c.confirmation_item(cancellation.pk)
    assert f"/work/{item.pk}/" in page


def test_a_missing_reason_is_said_at_the_field_and_keeps_the_rows_checked(places):
    w = c.world(places)
    a, b = c.admit(w.officer, [1, 2])
    w.officer.language = "en"
    w.officer.save(update_fields=["language"])

    response = _client(w.officer).post(
        "/admissions/",
        {"action": "outcomes", "admissions": [a.pk, b.pk], "outcome": "retained"},
    )

    html = response.content.decode()
    assert response.status_code == 200
    assert 'role="alert"' in html
    assert "Give the reason for this outcome." in html
    assert "Give the date until which the admission is retained" in html
    label = f"{a.student.name} {a.candidate_number}"
    assert f'value="{a.pk}" id="pick-{a.pk}" aria-label="{label}" checked' in html
    assert _states(a, b) == ["admitted", "admitted"]


def test_nothing_checked_is_refused_with_a_message(places):
    w = c.world(places)
    c.admit(w.officer, [1])

    response = _client(w.officer).post("/admissions/", {"action": "outcomes", "outcome": "gave_up"})

    html = response.content.decode()
    assert 'role="alert"' in html
    assert "请至少勾选一条录取记录。" in html


def test_an_admission_of_another_school_cannot_be_checked(places):
    w = c.world(places)
    (a,) = c.admit(w.officer, [1])

    response = _client(w.thu_officer).post(
        "/admissions/", {"action": "outcomes", "admissions": [a.pk], "outcome": "gave_up"}
    )

    assert response.status_code == 200
    assert _states(a) == ["admitted"]


def test_a_provincial_administrator_sees_no_check_boxes(places):
    w = c.world(places)
    c.admit(w.officer, [1])

    html = _client(w.admin).get("/admissions/").content.decode()

    assert 'name="admissions"' not in html


def test_the_cohort_page_registers_the_cohort(places):
    w = c.world(places)
    a, b, d = c.admit(w.officer, [1, 2, 3])
    c.record(w.officer, c.outcome(a, "gave_up"))
    cohort = c.cohort()
    officer = _client(w.officer)
    page = officer.get(f"/admissions/cohorts/{cohort.pk}/").content.decode()
    assert "注册该年级学籍" in page
    assert "仍有 2 名新生" in page or "2 名新生" in page

    done = officer.post(f"/admissions/cohorts/{cohort.pk}/", {"action": "register"})

    assert done.status_code == 302
    assert StudentStatus.objects.count() == 2
    assert _states(a, b, d) == ["gave_up", "registered", "registered"]
    assert c.cohort().state == "registered"
    shown = officer.get(done["Location"]).content.decode()
    assert 'id="registration"' in shown
    assert "2 名新生已注册" in shown or "已注册 2 名" in shown
    assert 'value="register"' not in shown  # nothing left to register


def test_the_cohort_page_is_a_404_outside_the_scope(places):
    w = c.world(places)
    c.admit(w.officer, [1])
    cohort = c.cohort()

    assert _client(w.fdu_officer).get(f"/admissions/cohorts/{cohort.pk}/").status_code == 404
    assert _client(w.admin_sh).get(f"/admissions/cohorts/{cohort.pk}/").status_code == 404
    assert _client(w.admin).get(f"/admissions/cohorts/{cohort.pk}/").status_code == 200


def test_a_provincial_administrator_cannot_register(places):
    w = c.world(places)
    c.admit(w.officer, [1])
    cohort = c.cohort()
    admin = _client(w.admin)

    assert 'value="register"' not in admin.get(f"/admissions/cohorts/{cohort.pk}/").content.decode()
    refused = admin.post(f"/admissions/cohorts/{cohort.pk}/", {"action": "register"})

    assert refused.status_code == 403
    assert StudentStatus.objects.count() == 0


def test_the_cohorts_list_shows_counts_and_marks_the_overdue(places):
    w = c.world(places)
    c.admit(w.officer, [1, 2])
    c.admit(w.thu_officer, [3], school_code="10003")
    (late,) = c.admit(w.fdu_officer, [4], school_code="10246")
    admin = _client(w.admin)

    with time_machine.travel(c.cohort().deadline - datetime.timedelta(days=1)):
        html = admin.get("/admissions/cohorts/").content.decode()
    assert "北京大学" in html
    assert "清华大学" in html
    assert "复旦大学" not in html  # another province
    assert "超期" not in html
    with time_machine.travel(c.cohort().deadline + datetime.timedelta(hours=1)):
        overdue = admin.get("/admissions/cohorts/").content.decode()
    assert overdue.count('class="xj-row--overdue"') == 2
    found = admin.get("/admissions/cohorts/", {"q": "清华"}).content.decode()
    assert "清华大学" in found
    assert "北京大学" not in found
    assert late.school_id == "10246"
