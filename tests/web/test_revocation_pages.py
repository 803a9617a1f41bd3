"""The revocation pages: the officer proposes from the qualification's page (errors named by
field and rule, nothing filed), the other officer decides on the work list and opens the task
page with the revocation's panel, the officer records the delivery, the student reads the
written decision and appeals from the revocation's page; nothing outside one's scope."""

from __future__ import annotations

import datetime
import zoneinfo
from types import SimpleNamespace

import pytest
import time_machine
from django.test import Client

from records.models import RevocationRequest
from tests import factories
from workflows import work

pytestmark = pytest.mark.django_db

BEIJING = zoneinfo.ZoneInfo("Asia/Shanghai")
FORM = {
    "reason": "学位论文抄袭，经查证属实。",
    "basis": "《中华人民共和国高等教育法》第二十条",
    "leadership_decision_date": "2026-11-25",
    "leadership_decision": "校长办公会2026年第30次会议纪要",
    "legality_review": "on",
    "hearing_date": "2026-11-20",
    "hearing_by": "学生处 张老师",
    "hearing_summary": "学生陈述了情况。",
}


def _client(user):
    client = Client()
    client.force_login(user)
    return client


def at(day: str, hour: int = 10):
    moment = datetime.datetime.fromisoformat(day).replace(hour=hour, tzinfo=BEIJING)
    return time_machine.travel(moment, tick=False)


@pytest.fixture
def w(places):
    world = SimpleNamespace()
    world.student = factories.user("student_a")
    world.q = factories.qualification(factories.student("李四", login=world.student), places.pku)
    world.officer = factories.officer(places.pku, "officer_10001")
    world.officer_b = factories.officer(places.pku, "officer_10001b")
    world.foreign = factories.officer(places.fdu, "officer_10246")
    return world


def test_propose_decide_deliver_and_appeal_from_the_pages(w):
    page = _client(w.officer).get(f"/corrections/qualifications/{w.q.pk}/")
    assert 'id="propose-revocation"' in page.content.decode()
    student_page = _client(w.student).get(f"/corrections/qualifications/{w.q.pk}/")
    assert 'id="propose-revocation"' not in student_page.content.decode()
    url = f"/revocations/new/?qualification={w.q.pk}"
    with at("2026-11-30"):
        refused = _client(w.officer).post(url, {**FORM, "legality_review": ""})
        assert refused.status_code == 200
        assert "legality_review" in refused.content.decode()
        assert not RevocationRequest.objects.exists()
        filed = _client(w.officer).post(url, FORM)
        assert filed.status_code == 302, filed.content.decode()[:2000]
        revocation = RevocationRequest.objects.get()
        assert filed["Location"] == f"/revocations/{revocation.pk}/"
        item = work.open_item_of("revocation", revocation.pk)
        assert item is not None
        task_page = _client(w.officer_b).get(f"/work/{item.task_id}/")
        assert task_page.status_code == 200
        assert "校长办公会2026年第30次会议纪要" in task_page.content.decode()
        work.decide(task_pk=item.pk, user=w.officer_b, decision="approve")
    detail = f"/revocations/{revocation.pk}/"
    with at("2026-12-01", 15):
        body = _client(w.officer).get(detail).content.decode()
        assert 'id="decision"' in body
        assert "撤销李四的学历证书" in body
        delivered = _client(w.officer).post(
            detail, {"action": "delivery", "delivered_on": "2026-12-01", "method": "in_person"}
        )
        assert delivered.status_code == 302
    with at("2026-12-03"):
        body = _client(w.student).get(detail).content.decode()
        assert 'id="appeal-form"' in body
        appealed = _client(w.student).post(detail, {"action": "appeal", "reason": "认定有误"})
        assert appealed.status_code == 302
    revocation.refresh_from_db()
    assert revocation.appeal == "school"
    assert _client(w.foreign).get(detail).status_code == 404
    assert _client(w.foreign).get(url).status_code == 404
    listed = _client(w.student).get("/revocations/").content.decode()
    assert detail in listed
