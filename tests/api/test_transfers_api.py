"""A cross-province transfer over the API: filed on ``/status-changes/``, shown ``in_notice``
during its public notice, decided through ``/tasks/`` by both schools and both provinces; the
receiving school and province see it in their lists and detail, nobody else does (404)."""

from __future__ import annotations

import datetime
from zoneinfo import ZoneInfo

import pytest
import time_machine

from records.models import MajorCutoff
from records.models import StudentStatus
from tests import factories
from tests import status_changes as sc
from tests.api.helpers import assert_error
from tests.api.helpers import token_client
from workflows.timers import viewflow_timers_fire

pytestmark = pytest.mark.django_db

BEIJING = ZoneInfo("Asia/Shanghai")
FILED = datetime.datetime(2026, 9, 28, 9, 0, tzinfo=BEIJING)
AFTER_NOTICE = datetime.datetime(2026, 10, 12, 10, 30, tzinfo=BEIJING)
FIELDS = {"target_school": "10246", "target_major": "080901", "score": "660", "ground": "illness"}


@pytest.fixture
def w(places):
    world = sc.world(places)
    MajorCutoff.objects.create(
        school=places.fdu, major_code="080901", origin_province=places.bj, year=2024, score=650
    )
    return world


def _only_task(user):
    tasks = token_client(user).get("/api/v1/tasks/").json()["results"]
    assert len(tasks) == 1, tasks
    return tasks[0]


def _approve(user, request_id):
    """Approve the user's one task; the request's state after it."""
    task = _only_task(user)
    response = token_client(user).post(
        f"/api/v1/tasks/{task['id']}/decide/", {"decision": "approve"}, format="json"
    )
    assert response.status_code == 200, response.content
    detail = token_client(user).get(f"/api/v1/status-changes/{request_id}/").json()
    return detail["state"]


def test_a_cross_province_transfer_over_the_api(w, places):
    with time_machine.travel(FILED, tick=False):
        response = token_client(w.student).post(
            "/api/v1/status-changes/",
            {"status": w.status.pk, "type": "transfer", "fields": FIELDS, "reason": "随家迁居"},
            format="json",
        )
        assert response.status_code == 201, response.content
        body = response.json()
        request_id = body["id"]
        assert (body["target_school"], body["target_province"]) == ("10246", "31")
        assert body["state"] == "submitted"

        # Both schools and both provinces see it; another school does not.
        outsider = factories.officer(places.thu, "officer_10003")
        for user in (w.foreign_officer, w.province, w.foreign_province):
            listed = token_client(user).get("/api/v1/status-changes/").json()["results"]
            assert [r["id"] for r in listed] == [request_id]
            detail = token_client(user).get(f"/api/v1/status-changes/{request_id}/")
            assert detail.status_code == 200
        assert token_client(outsider).get("/api/v1/status-changes/").json()["results"] == []
        incoming = token_client(w.foreign_officer).get("/api/v1/status-changes/?school=10246")
        assert [r["id"] for r in incoming.json()["results"]] == [request_id]
        assert_error(
            token_client(outsider).get(f"/api/v1/status-changes/{request_id}/"), 404, "not_found"
        )
        assert_error(token_client(w.foreign_officer).get("/api/v1/tasks/999999/"), 404, "not_found")

        assert _approve(w.officer, request_id) == "target_review"
        task = _only_task(w.foreign_officer)
        assert task["step"] == "target_accept"
        assert_error(
            token_client(outsider).post(
                f"/api/v1/tasks/{task['id']}/decide/", {"decision": "approve"}, format="json"
            ),
            404,
            "not_found",
        )
        assert _approve(w.foreign_officer, request_id) == "in_notice"

    detail = token_client(w.student).get(f"/api/v1/status-changes/{request_id}/").json()
    assert detail["state"] == "in_notice"
    # Accepted on Monday 28 September: 29, 30 September, 8, 9 October and the adjusted working
    # Saturday 10 October (the National Day holiday does not count).
    assert detail["notice_ends"] == "2026-10-10T09:00:00+08:00"
    assert detail["open_task"] is None
    assert token_client(w.province).get("/api/v1/tasks/").json()["results"] == []

    with time_machine.travel(AFTER_NOTICE, tick=False):
        viewflow_timers_fire()
        source = token_client(w.province).get(f"/api/v1/status-changes/{request_id}/").json()
        target = token_client(w.foreign_province).get(f"/api/v1/status-changes/{request_id}/")
        assert source["open_task"]["step"] == "source_province_confirm"
        assert target.json()["open_task"]["step"] == "target_province_confirm"
        assert _approve(w.foreign_province, request_id) == "notice_ended"
        assert _approve(w.province, request_id) == "approved"

    status = token_client(w.student).get(f"/api/v1/student-statuses/{w.status.pk}/").json()
    assert status["school"] == "10246"
    assert StudentStatus.objects.get(pk=w.status.pk).province_id == "31"
    detail = token_client(w.student).get(f"/api/v1/status-changes/{request_id}/").json()
    assert [h["action"] for h in detail["history"]] == [
        "filed",
        "sent_to_target",
        "accepted",
        "notice_ended",
        "province_confirmed",
        "approved",
    ]


def test_a_transfer_ban_is_a_400_naming_field_rule_and_article(w):
    with time_machine.travel(FILED, tick=False):
        response = token_client(w.student).post(
            "/api/v1/status-changes/",
            {
                "status": w.status.pk,
                "type": "transfer",
                "fields": {**FIELDS, "score": "600"},
                "reason": "随家迁居",
            },
            format="json",
        )
    body = assert_error(response, 400, "invalid")
    [message] = body["fields"]["fields.score"]
    assert "transfer_below_cutoff" in message
    assert "第22条" in message
