"""Adverse decisions over the API: the types say so, the officer files with the legality
review and the hearing, the school's decision through ``/api/v1/tasks/``, ``in_appeal`` in
the lists, the delivery (with evidence) and the student's appeal, each refused where it
must be, and the appeal decided through the shared task API."""

from __future__ import annotations

import datetime
import zoneinfo

import pytest
import time_machine
from django.core.files.uploadedfile import SimpleUploadedFile

from records.models import StudentStatus
from tests import status_changes as sc
from tests.api.helpers import assert_error
from tests.api.helpers import token_client
from tests.evidence_files import real_pdf
from workflows.flows import status_change as flow

pytestmark = pytest.mark.django_db

BEIJING = zoneinfo.ZoneInfo("Asia/Shanghai")
ADVERSE = {
    "legality_review": "done",
    "hearing_date": "2026-11-20",
    "hearing_by": "学生处 张老师",
    "hearing_summary": "学生陈述了情况。",
    "basis": "《普通高等学校学生管理规定》第五十二条",
}


def at(day: str, hour: int = 10):
    moment = datetime.datetime.fromisoformat(day).replace(hour=hour, tzinfo=BEIJING)
    return time_machine.travel(moment, tick=False)


@pytest.fixture
def w(places):
    return sc.world(places)


def _issued(w):
    """Filed and decided over the API on 2026-11-30: its id."""
    with at("2026-11-30"):
        filed = token_client(w.officer).post(
            "/api/v1/status-changes/",
            {"status": w.status.pk, "type": "expulsion", "fields": ADVERSE, "reason": "考试作弊"},
            format="json",
        )
        assert filed.status_code == 201, filed.content
        task = filed.json()["open_task"]
        decided = token_client(w.officer_b).post(
            f"/api/v1/tasks/{task['id']}/decide/", {"decision": "approve"}, format="json"
        )
        assert decided.status_code == 200, decided.content
    request_id: int = filed.json()["id"]
    return request_id


def test_the_types_describe_the_adverse_decisions(w):
    types = {
        t["key"]: t for t in token_client(w.officer).get("/api/v1/status-changes/types/").json()
    }
    for key in ("withdrawal_by_school", "cancellation", "expulsion"):
        kind = types[key]
        assert kind["available"] is True
        assert kind["adverse"] is True
        assert kind["filed_by"] == ["officer"]
        assert [f["name"] for f in kind["fields"]] == [
            "legality_review",
            "hearing_date",
            "hearing_by",
            "hearing_summary",
            "basis",
        ]
        assert {r["code"] for r in kind["rules"]} == {
            "legality_review",
            "hearing_record",
            "hearing_not_future",
        }
        assert kind["chain"][-3:] == ["appeal_window", "school_appeal", "province_appeal"]
    assert types["expulsion"]["effect"]["to_state"] == "expelled"
    assert types["cancellation"]["effect"]["to_state"] == "cancelled"
    assert types["withdrawal_by_school"]["effect"]["to_state"] == "withdrawn"


def test_a_missing_legality_review_names_the_field_and_rule(w):
    fields = {**ADVERSE, "legality_review": ""}
    response = token_client(w.officer).post(
        "/api/v1/status-changes/",
        {"status": w.status.pk, "type": "cancellation", "fields": fields, "reason": "学籍造假"},
        format="json",
    )
    body = assert_error(response, 400, "invalid")
    [message] = body["fields"]["fields.legality_review"]
    assert "legality_review" in message
    assert "第56条" in message


def test_delivery_and_appeal_over_the_api(w):
    request_id = _issued(w)
    listed = token_client(w.student).get("/api/v1/status-changes/?state=in_appeal").json()
    assert [r["id"] for r in listed["results"]] == [request_id]
    assert listed["results"][0]["appeal"] == "window"
    assert "学生申诉处理委员会" in listed["results"][0]["decision_text"]

    url = f"/api/v1/status-changes/{request_id}/"
    with at("2026-12-01", 15):
        # The student does not record the delivery; another school's officer sees nothing.
        assert_error(
            token_client(w.student).post(
                url + "delivery/", {"delivered_on": "2026-12-01", "method": "post"}
            ),
            403,
            "permission_denied",
        )
        assert_error(
            token_client(w.foreign_officer).post(
                url + "delivery/", {"delivered_on": "2026-12-01", "method": "post"}
            ),
            404,
            "not_found",
        )
        bad = token_client(w.officer).post(
            url + "delivery/", {"delivered_on": "2026-12-02", "method": "pigeon"}
        )
        body = assert_error(bad, 400, "invalid")
        assert set(body["fields"]) == {"delivered_on", "method"}
        evidence = SimpleUploadedFile("回执.pdf", real_pdf(), content_type="application/pdf")
        delivered = token_client(w.officer).post(
            url + "delivery/",
            {"delivered_on": "2026-12-01", "method": "post", "evidence": evidence},
            format="multipart",
        )
    assert delivered.status_code == 200, delivered.content
    assert delivered.json()["appeal_deadline"] == "2026-12-11"
    assert delivered.json()["has_delivery_evidence"] is True
    assert delivered.json()["delivery_method"] == "post"

    with at("2026-12-05"):
        assert_error(
            token_client(w.officer).post(url + "appeal/", {"reason": "x"}, format="json"),
            403,
            "permission_denied",
        )
        assert_error(
            token_client(w.stranger).post(url + "appeal/", {"reason": "x"}, format="json"),
            404,
            "not_found",
        )
        empty = token_client(w.student).post(url + "appeal/", {"reason": " "}, format="json")
        assert_error(empty, 400, "invalid")
        appealed = token_client(w.student).post(
            url + "appeal/", {"reason": "处分过重"}, format="json"
        )
    assert appealed.status_code == 200, appealed.content
    assert appealed.json()["appeal"] == "school"
    assert appealed.json()["open_task"]["step"] == "school_appeal"

    task = appealed.json()["open_task"]["id"]
    assert_error(
        token_client(w.officer).post(
            f"/api/v1/tasks/{task}/decide/", {"decision": "cancel", "comment": "x"}, format="json"
        ),
        403,
        "permission_denied",
    )
    with at("2026-12-10"):
        decided = token_client(w.officer_c).post(
            f"/api/v1/tasks/{task}/decide/",
            {"decision": "cancel", "comment": "处分依据不足"},
            format="json",
        )
    assert decided.status_code == 200, decided.content
    assert token_client(w.student).get(url).json()["state"] == "overturned"
    assert StudentStatus.objects.get(pk=w.status.pk).state == "enrolled"


def test_an_appeal_after_the_window_answers_409(w):
    request_id = _issued(w)
    url = f"/api/v1/status-changes/{request_id}/"
    with at("2026-12-01", 15):
        token_client(w.officer).post(
            url + "delivery/", {"delivered_on": "2026-12-01", "method": "in_person"}
        )
    with at("2026-12-12"):
        late = token_client(w.student).post(url + "appeal/", {"reason": "晚了"}, format="json")
        assert_error(late, 409, "appeal_window_closed")
    with at("2026-12-12", 1):
        assert flow.appeal_windows_close() == 1
    shown = token_client(w.student).get(url).json()
    assert shown["state"] == "approved"
    assert shown["appeal"] == "closed"
    assert [h["action"] for h in shown["history"]][-1] == "took_effect"
