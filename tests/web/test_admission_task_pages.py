"""The work list's pages for the admission re-examination: the cohort's review task with its
counts, a cancellation's confirmation with the admission it is about (never its ID number),
decided on the task page."""

from __future__ import annotations

import pytest
from django.test import Client

from records.models import AdmissionRecord
from records.models import StudentStatus
from tests.workflows import cohorts as c

pytestmark = pytest.mark.django_db


def _client(user):
    client = Client()
    client.force_login(user)
    return client


def test_a_cancellation_is_confirmed_on_its_task_page(places):
    w = c.world(places)
    a, b = c.admit(w.officer, [1, 2])
    (result,) = c.record(w.officer, c.outcome(a, "cancelled", reason="录取材料与本人不符"))
    item = c.confirmation_item(result["cancellation"])
    second = _client(w.officer_b)

    listed = second.get("/work/").content.decode()
    assert f"/work/{item.pk}/" in listed
    assert f"/work/{item.pk}/" not in _client(w.officer).get("/work/").content.decode()
    page = second.get(f"/work/{item.pk}/", HTTP_ACCEPT_LANGUAGE="en")
    html = page.content.decode()
    assert page.status_code == 200
    assert a.student.name in html
    assert a.candidate_number in html
    assert "录取材料与本人不符" in html
    assert a.student.id_number not in html
    assert _client(w.thu_officer).get(f"/work/{item.pk}/").status_code == 404

    done = second.post(f"/work/{item.pk}/", {"decision": "confirm", "comment": ""})

    assert done.status_code == 302
    assert AdmissionRecord.objects.get(pk=a.pk).state == "admitted"  # in its appeal period
    c.take_effect(result["cancellation"], w.officer_b)
    assert AdmissionRecord.objects.get(pk=a.pk).state == "cancelled"
    assert AdmissionRecord.objects.get(pk=b.pk).state == "admitted"


def test_the_cohorts_review_shows_its_counts_and_registers(places):
    w = c.world(places)
    a, _b, _d = c.admit(w.officer, [1, 2, 3])
    c.record(w.officer, c.outcome(a, "gave_up"))
    item = c.review_item(c.cohort())
    officer = _client(w.officer)

    html = officer.get(f"/work/{item.pk}/").content.decode()

    assert "2026级新生" in html
    assert "仍有 2 名新生处于“已录取”状态" in html
    assert "注册该年级学籍" in html  # the step's one decision
    done = officer.post(f"/work/{item.pk}/", {"decision": "register", "comment": ""})
    assert done.status_code == 302
    assert StudentStatus.objects.count() == 2
    assert c.cohort().state == "registered"
