"""A transfer on the pages: the student files it with the receiving school by name and sees
its notice; the receiving school's officers and province see the request and take their
step from the shared task page; another school finds nothing (404)."""

from __future__ import annotations

import datetime
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.test import Client

from records.models import MajorCutoff
from records.models import StatusChangeRequest
from tests import factories
from tests import status_changes as sc
from workflows import work
from workflows.flows.status_change import StatusChangeFlow

pytestmark = pytest.mark.django_db

FILED = datetime.datetime(2026, 9, 28, 9, 0, tzinfo=ZoneInfo("Asia/Shanghai"))


def _client(user):
    client = Client()
    client.force_login(user)
    return client


def test_file_a_transfer_and_follow_it_from_both_schools(places):
    w = sc.world(places)
    MajorCutoff.objects.create(
        school=places.fdu, major_code="080901", origin_province=places.bj, year=2024, score=650
    )
    student = _client(w.student)
    url = f"/status-changes/new/?status={w.status.pk}&type=transfer"
    with time_machine.travel(FILED, tick=False):
        form = student.get(url).content.decode()
        assert 'name="field_target_school"' in form
        assert 'name="field_score"' in form
        response = student.post(
            url,
            {
                "field_target_school": "复旦大学",
                "field_target_major": "080901",
                "field_score": "655",
                "field_ground": "hardship",
                "reason": "家庭困难",
            },
        )
    assert response.status_code == 302, response.content.decode()
    request = StatusChangeRequest.objects.get()
    detail = f"/status-changes/{request.pk}/"
    page = student.get(detail).content.decode()
    assert "复旦大学 (10246)" in page
    assert 'id="transfer"' in page

    for user in (w.foreign_officer, w.foreign_province):
        assert _client(user).get(detail).status_code == 200
        assert str(request.pk) in _client(user).get("/status-changes/").content.decode()
    outsider = _client(factories.officer(places.thu, "officer_10003"))
    assert outsider.get(detail).status_code == 404

    with time_machine.travel(FILED, tick=False):
        work.decide(
            task_pk=sc.task(request, StatusChangeFlow.school_review).pk,
            user=w.officer,
            decision="approve",
        )
        accept = sc.task(request, StatusChangeFlow.target_accept)
        task_page = _client(w.foreign_officer).get(f"/work/{accept.pk}/").content.decode()
        assert "同意接收" in task_page
        assert "不同意接收" in task_page
        assert "复旦大学 (10246)" in task_page
        assert "有特殊困难" in task_page  # the ground by its label, not its code
        assert outsider.get(f"/work/{accept.pk}/").status_code == 404
        response = _client(w.foreign_officer).post(
            f"/work/{accept.pk}/", {"decision": "approve", "comment": ""}
        )
    assert response.status_code == 302
    request.refresh_from_db()
    assert request.state == "in_notice"
    page = student.get(detail).content.decode()
    assert "公示中" in page
    assert 'id="notice-ends"' in page
