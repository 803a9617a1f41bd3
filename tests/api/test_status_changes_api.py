"""Status changes over the API: filing, following, withdrawing and revising; the types from
their declarations; decisions through the shared task API; a status with its history."""

from __future__ import annotations

import datetime

import pytest

from records.models import School
from records.models import StudentStatus
from records.status_changes.types import TYPES
from tests import factories
from tests import status_changes as sc
from tests.api.helpers import assert_error
from tests.api.helpers import token_client

pytestmark = pytest.mark.django_db


@pytest.fixture
def w(places):
    world = sc.world(places)
    other_login = factories.user("student_e")
    world.other_status = sc.student_status(places.fdu, other_login)  # type: ignore[attr-defined]
    factories.officer(places.fdu, "officer_10246b")
    return world


def _api(user):
    return token_client(user)


def _file(w, user=None, **body):
    payload = {"status": w.status.pk, "type": "suspension", "fields": sc.SUSPENSION}
    payload.update({"reason": "身体原因", **body})
    return _api(user or w.student).post("/api/v1/status-changes/", payload, format="json")


def _only_task(user):
    tasks = _api(user).get("/api/v1/tasks/").json()["results"]
    assert len(tasks) == 1, tasks
    return tasks[0]


def test_file_follow_and_decide_over_the_api(w):
    response = _file(w)
    assert response.status_code == 201, response.content
    body = response.json()
    assert body["type"] == "suspension"
    assert body["type_label"] == "休学"
    assert body["state"] == "submitted"
    assert body["status"] == w.status.pk
    assert body["fields"] == sc.SUSPENSION
    assert body["open_task"]["step"] == "school_review"
    request_id = body["id"]

    task = _only_task(w.officer)
    assert task["flow"] == "status_change"
    assert task["step"] == "school_review"
    assert task["subject"] == {
        "type": "status_change",
        "id": request_id,
        "title": f"学籍异动 #{request_id}",
    }
    assert task["summary"] == "休学"
    assert task["student_name"] == "王小明"
    decided = _api(w.officer).post(
        f"/api/v1/tasks/{task['id']}/decide/", {"decision": "approve"}, format="json"
    )
    assert decided.status_code == 200, decided.content

    detail = _api(w.student).get(f"/api/v1/status-changes/{request_id}/").json()
    assert detail["state"] == "approved"
    assert detail["before"] == {"state": "enrolled"}
    assert detail["after"] == {"state": "suspended"}
    assert [h["action"] for h in detail["history"]] == ["filed", "approved"]
    assert detail["open_task"] is None

    status = _api(w.student).get(f"/api/v1/student-statuses/{w.status.pk}/").json()
    assert status["state"] == "suspended"
    assert status["max_study_end"] == "2030-09-01"
    assert status["past_max_study_period"] is False
    [change] = status["history"]
    assert change["action"] == "changed"
    assert change["data"]["type"] == "suspension"
    assert change["data"]["fields"] == sc.SUSPENSION
    assert change["data"]["before"] == {"state": "enrolled"}
    assert [r["id"] for r in status["change_requests"]] == [request_id]


def test_errors_name_the_field_and_the_rule(w):
    response = _file(w, fields={"from": "2025-03-01", "until": "2031-01-01"})
    body = assert_error(response, 400, "invalid")
    [message] = body["fields"]["fields.until"]
    assert "max_study_period" in message
    assert "第28条" in message
    response = _file(w, fields={"from": "2025-03-01"}, reason="")
    body = assert_error(response, 400, "invalid")
    assert set(body["fields"]) == {"fields.until", "reason"}
    assert_error(_file(w, type="holiday"), 400, "invalid")
    # An adverse type is an officer's to file.
    assert_error(_file(w, type="expulsion"), 403, "permission_denied")


def test_refusals(w):
    assert_error(_file(w, w.stranger), 404, "not_found")
    assert_error(_file(w, status=w.other_status.pk), 404, "not_found")
    assert_error(_file(w, status=999999), 404, "not_found")
    response = _file(w, type="repetition", fields={"expected_graduation": "2029-07-01"})
    assert_error(response, 403, "permission_denied")
    assert _file(w).status_code == 201
    assert_error(_file(w), 409, "open_request_exists")
    StudentStatus.objects.filter(pk=w.status.pk).update(state="withdrawn")
    response = _file(w, type="major_change", fields={"major_code": "080901"})
    assert_error(response, 409, "status_ended")
    from rest_framework.test import APIClient

    anonymous = APIClient().post("/api/v1/status-changes/", {}, format="json")
    assert anonymous.status_code == 401


def test_lists_are_scoped_and_filtered(w):
    mine = _file(w).json()["id"]
    theirs = (
        _api(w.other_status.student.user)
        .post(
            "/api/v1/status-changes/",
            {
                "status": w.other_status.pk,
                "type": "suspension",
                "fields": sc.SUSPENSION,
                "reason": "x",
            },
            format="json",
        )
        .json()["id"]
    )

    def ids(user, query=""):
        response = _api(user).get(f"/api/v1/status-changes/{query}")
        assert response.status_code == 200, response.content
        return [r["id"] for r in response.json()["results"]]

    assert ids(w.student) == [mine]
    assert ids(w.officer) == [mine]
    assert ids(w.province) == [mine]
    assert ids(w.foreign_officer) == [theirs]
    assert ids(w.foreign_province) == [theirs]
    assert ids(w.stranger) == []
    assert ids(w.officer, "?state=submitted&type=suspension") == [mine]
    assert ids(w.officer, "?state=approved") == []
    assert ids(w.province, f"?status={w.status.pk}") == [mine]
    assert_error(_api(w.officer).get("/api/v1/status-changes/?state=done"), 400, "invalid")
    assert_error(_api(w.officer).get("/api/v1/status-changes/?type=x"), 400, "invalid")
    for user in (w.foreign_officer, w.stranger):
        assert_error(_api(user).get(f"/api/v1/status-changes/{mine}/"), 404, "not_found")
        response = _api(user).get(f"/api/v1/student-statuses/{w.status.pk}/")
        assert_error(response, 404, "not_found")
        assert_error(_api(user).post(f"/api/v1/status-changes/{mine}/withdraw/"), 404, "not_found")


def test_withdraw_and_resubmit(w):
    request_id = _file(w).json()["id"]
    assert_error(
        _api(w.officer).post(f"/api/v1/status-changes/{request_id}/withdraw/"),
        403,
        "permission_denied",
    )
    response = _api(w.student).post(f"/api/v1/status-changes/{request_id}/withdraw/")
    assert response.status_code == 200
    assert response.json()["state"] == "withdrawn"
    again = _api(w.student).post(f"/api/v1/status-changes/{request_id}/withdraw/")
    assert_error(again, 409, "not_open")

    request_id = _file(w).json()["id"]
    task = _only_task(w.officer)
    _api(w.officer).post(
        f"/api/v1/tasks/{task['id']}/decide/",
        {"decision": "return", "comment": "请补充日期"},
        format="json",
    )
    response = _api(w.student).post(
        f"/api/v1/status-changes/{request_id}/resubmit/",
        {"fields": {"from": "2025-03-01", "until": "2025-02-01"}, "reason": "改"},
        format="json",
    )
    body = assert_error(response, 400, "invalid")
    assert "until_after_from" in body["fields"]["fields.until"][0]
    response = _api(w.student).post(
        f"/api/v1/status-changes/{request_id}/resubmit/",
        {"fields": {"from": "2025-03-01", "until": "2025-09-01"}, "reason": "改"},
        format="json",
    )
    assert response.status_code == 200, response.content
    assert response.json()["state"] == "submitted"
    assert response.json()["fields"]["until"] == "2025-09-01"
    again = _api(w.student).post(
        f"/api/v1/status-changes/{request_id}/resubmit/",
        {"fields": sc.SUSPENSION, "reason": "改"},
        format="json",
    )
    assert_error(again, 409, "not_returned")


def test_two_levels_over_the_api(w):
    School.objects.filter(pk="10001").update(status_change_levels=2)
    request_id = _file(w).json()["id"]
    first = _only_task(w.officer)
    _api(w.officer).post(
        f"/api/v1/tasks/{first['id']}/decide/", {"decision": "approve"}, format="json"
    )
    assert _api(w.officer).get("/api/v1/tasks/").json()["results"] == []
    second = _only_task(w.officer_b)
    assert second["step"] == "school_final"
    refused = _api(w.officer).post(
        f"/api/v1/tasks/{second['id']}/decide/", {"decision": "approve"}, format="json"
    )
    assert refused.status_code in (403, 404)
    done = _api(w.officer_b).post(
        "/api/v1/tasks/decide/",
        {"tasks": [second["id"]], "decision": "approve"},
        format="json",
    )
    assert done.status_code == 200, done.content
    detail = _api(w.student).get(f"/api/v1/status-changes/{request_id}/").json()
    assert detail["state"] == "approved"
    assert [h["action"] for h in detail["history"]] == [
        "filed",
        "first_level_approved",
        "approved",
    ]


def test_the_types_from_their_declarations(w):
    response = _api(w.student).get("/api/v1/status-changes/types/")
    assert response.status_code == 200
    types = {t["key"]: t for t in response.json()}
    assert list(types) == list(TYPES)
    suspension = types["suspension"]
    assert suspension["label"] == "休学"
    assert suspension["available"] is True
    assert suspension["filed_by"] == ["officer", "student"]
    assert [f["name"] for f in suspension["fields"]] == ["from", "until"]
    assert suspension["fields"][0]["kind"] == "date"
    rules = {r["code"]: r for r in suspension["rules"]}
    assert rules["max_study_period"]["source"] == "《普通高等学校学生管理规定》第28条"
    assert rules["max_study_period"]["field"] == "until"
    assert suspension["chain"] == ["school_review", "school_final"]
    assert suspension["effect"] == {
        "transition": "suspend",
        "from_states": ["enrolled"],
        "to_state": "suspended",
    }
    assert types["repetition"]["filed_by"] == ["officer"]
    assert "credit_system" in {r["code"] for r in types["repetition"]["rules"]}
    assert types["major_change"]["effect"]["transition"] == ""
    transfer = types["transfer"]
    assert transfer["available"] is True
    assert transfer["chain"] == [
        "school_review",
        "school_final",
        "target_accept",
        "public_notice",
        "province_confirm",
    ]
    assert transfer["cross_province"] == ["source_province_confirm", "target_province_confirm"]
    assert types["suspension"]["cross_province"] == []
    assert {f["name"]: f["kind"] for f in transfer["fields"]} == {
        "target_school": "school",
        "target_major": "catalogue_major",
        "score": "score",
        "ground": "choice",
    }
    bans = {
        "transfer_first_term",
        "transfer_final_year",
        "transfer_level_up",
        "transfer_directed",
        "transfer_below_cutoff",
        "transfer_no_reason",
    }
    sources = {r["code"]: r["source"] for r in transfer["rules"]}
    assert bans <= set(sources)
    assert all("22" in sources[code] for code in bans)
    assert types["withdrawal_by_school"]["adverse"] is True
    assert types["reservation"]["fields"][0]["choices"][0] == {
        "code": "military",
        "label": "应征入伍",
    }


def test_statuses_past_their_maximum_period_are_filtered(w, places):
    old = sc.student_status(places.pku, entry_date=datetime.date(2016, 9, 1))
    response = _api(w.officer).get("/api/v1/student-statuses/?past_max_period=true")
    assert [s["id"] for s in response.json()["results"]] == [old.pk]
    response = _api(w.officer).get(f"/api/v1/student-statuses/{old.pk}/")
    assert response.json()["past_max_study_period"] is True


def test_the_types_endpoint_documents_every_kind_of_field_it_lists():
    """The schema's enum of field kinds is ``FIELD_KINDS``: every declared field is of one."""
    from records.status_changes.types import FIELD_KINDS

    assert {f.kind for kind in TYPES.values() for f in kind.fields} <= set(FIELD_KINDS)
