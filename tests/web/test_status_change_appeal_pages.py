"""The request's page of an adverse decision: the written decision and its appeal period;
the officer records the delivery, the student appeals from the page (a late appeal is
refused with the rule); nobody else is offered either form."""

from __future__ import annotations

import datetime
import zoneinfo

import pytest
import time_machine
from django.test import Client

from records.choices import AppealStage
from records.models import StatusChangeRequest
from tests import status_changes as sc
from workflows import work
from workflows.flows import status_change as flow

pytestmark = pytest.mark.django_db

BEIJING = zoneinfo.ZoneInfo("Asia/Shanghai")
ADVERSE = {
    "legality_review": "done",
    "hearing_date": "2026-11-20",
    "hearing_by": "学生处 张老师",
    "hearing_summary": "学生陈述了情况。",
    "basis": "第五十二条",
}


def at(day: str, hour: int = 10):
    moment = datetime.datetime.fromisoformat(day).replace(hour=hour, tzinfo=BEIJING)
    return time_machine.travel(moment, tick=False)


def _client(user):
    client = Client()
    client.force_login(user)
    return client


@pytest.fixture
def issued(places):
    w = sc.world(places)
    with at("2026-11-30"):
        request = sc.file(w, "expulsion", ADVERSE, by=w.officer)
        item = work.open_item_of(flow.FLOW_KEY, request.pk)
        assert item is not None
        work.decide(task_pk=item.pk, user=w.officer_b, decision="approve")
    return w, request


def test_the_officer_records_the_delivery_and_the_student_appeals(issued):
    w, request = issued
    url = f"/status-changes/{request.pk}/"
    with at("2026-12-01", 15):
        student_page = _client(w.student).get(url).content.decode()
        assert 'id="decision"' in student_page
        assert "学生申诉处理委员会" in student_page
        assert 'id="delivery-form"' not in student_page
        assert 'id="withdraw"' not in _client(w.officer).get(url).content.decode()
        assert 'id="delivery-form"' in _client(w.officer_b).get(url).content.decode()
        response = _client(w.officer_b).post(
            url, {"action": "delivery", "delivered_on": "2026-12-01", "method": "in_person"}
        )
        assert response.status_code == 302
    request.refresh_from_db()
    assert request.appeal_deadline == datetime.date(2026, 12, 11)

    with at("2026-12-03"):
        page = _client(w.student).get(url).content.decode()
        assert 'id="appeal-form"' in page
        assert "2026-12-11" in page
        assert 'id="appeal-form"' not in _client(w.officer_b).get(url).content.decode()
        _client(w.student).post(url, {"action": "appeal", "reason": "处分过重"})
    request.refresh_from_db()
    assert request.appeal == AppealStage.SCHOOL
    assert request.appeal_reason == "处分过重"
    item = work.open_item_of(flow.FLOW_KEY, request.pk, step="school_appeal")
    assert item is not None
    # The committee's task page shows the written decision and the appeal, and its choices.
    with at("2026-12-04"):
        task_page = _client(w.officer_c).get(f"/work/{item.pk}/").content.decode()
        assert "处分过重" in task_page
        assert "学生申诉处理委员会" in task_page
        assert 'value="confirm"' in task_page
        assert 'value="cancel"' in task_page


def test_a_late_appeal_is_refused_on_the_page(issued):
    w, request = issued
    with at("2026-12-01", 15):
        _client(w.officer_b).post(
            f"/status-changes/{request.pk}/",
            {"action": "delivery", "delivered_on": "2026-12-01", "method": "post"},
        )
    with at("2026-12-12"):
        page = _client(w.student).get(f"/status-changes/{request.pk}/").content.decode()
        assert 'id="appeal-form"' not in page
        response = _client(w.student).post(
            f"/status-changes/{request.pk}/", {"action": "appeal", "reason": "晚了"}, follow=True
        )
    assert "appeal_window" in response.content.decode()
    assert StatusChangeRequest.objects.get(pk=request.pk).appeal == AppealStage.WINDOW


def test_a_missing_delivery_date_is_shown_on_the_page(issued):
    w, request = issued
    with at("2026-12-01", 15):
        response = _client(w.officer_b).post(
            f"/status-changes/{request.pk}/", {"action": "delivery", "method": "post"}
        )
    assert response.status_code == 200
    assert "YYYY-MM-DD" in response.content.decode()
    assert StatusChangeRequest.objects.get(pk=request.pk).delivered_on is None
