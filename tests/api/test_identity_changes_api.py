"""Identity changes over the API: filing, proof, following, withdrawing and revising;
decisions through the shared task API (one and in bulk); the old values kept and shown in the
status's history; scope and 404s; ID numbers masked."""

from __future__ import annotations

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from rest_framework.test import APIClient

from records.models import Student
from tests import factories
from tests import identity_changes as ic
from tests import status_changes as sc
from tests.api.helpers import assert_error
from tests.api.helpers import token_client
from tests.evidence_files import HTML

pytestmark = pytest.mark.django_db

URL = "/api/v1/identity-changes/"


@pytest.fixture
def w(places):
    world = ic.world(places)
    other_login = factories.user("student_e")
    world.other_status = sc.student_status(places.fdu, other_login)  # type: ignore[attr-defined]
    factories.officer(places.fdu, "officer_10246b")
    return world


def _api(user):
    return token_client(user)


def _file(w, user=None, **body):
    payload = {"status": w.status.pk, "fields": {"name": "王晓明"}, "reason": "户籍姓名已变更"}
    payload.update(body)
    return _api(user or w.student).post(URL, payload, format="json")


def _attach(user, request_id, upload=None):
    return _api(user).post(
        f"{URL}{request_id}/evidence/", {"file": upload or ic.proof()}, format="multipart"
    )


def _tasks(user):
    return _api(user).get("/api/v1/tasks/").json()["results"]


def _decide(user, task_id, decision="approve", comment=""):
    return _api(user).post(
        f"/api/v1/tasks/{task_id}/decide/",
        {"decision": decision, "comment": comment},
        format="json",
    )


def test_file_prove_and_decide_over_the_api(w):
    old_id = w.status.student.id_number
    response = _file(w, fields={"name": "王晓明", "study_length": "5"})
    assert response.status_code == 201, response.content
    body = response.json()
    assert body["state"] == "submitted"
    assert body["status"] == w.status.pk
    assert body["changes"] == [
        {"field": "name", "old": "王小明", "new": "王晓明"},
        {"field": "study_length", "old": "4", "new": "5"},
    ]
    assert body["evidence"] == []
    assert body["open_task"]["step"] == "school_review"
    request_id = body["id"]

    [task] = _tasks(w.officer)
    assert task["flow"] == "identity_change"
    assert task["subject"] == {
        "type": "identity_change",
        "id": request_id,
        "title": f"学籍信息变更 #{request_id}",
    }
    assert task["student_name"] == "王小明"
    # No proof yet: the school cannot approve.
    assert_error(_decide(w.officer, task["id"]), 409, "evidence_required")
    uploaded = _attach(w.student, request_id)
    assert uploaded.status_code == 201, uploaded.content
    assert uploaded.json()["content_type"] == "application/pdf"
    assert _decide(w.officer, task["id"]).status_code == 200

    [task] = _tasks(w.province)
    assert task["step"] == "province_confirm"
    assert _decide(w.province, task["id"]).status_code == 200

    detail = _api(w.student).get(f"{URL}{request_id}/").json()
    assert detail["state"] == "approved"
    assert detail["before"] == {"name": "王小明", "study_length": "4"}
    assert detail["after"] == {"name": "王晓明", "study_length": "5"}
    assert [h["action"] for h in detail["history"]] == [
        "filed",
        "evidence_added",
        "forwarded",
        "approved",
    ]
    assert detail["open_task"] is None
    status = _api(w.student).get(f"/api/v1/student-statuses/{w.status.pk}/").json()
    assert status["study_length"] == "5"
    [entry] = status["history"]
    assert entry["action"] == "identity_changed"
    assert entry["data"]["request"] == request_id
    assert entry["data"]["before"] == {"name": "王小明", "study_length": "4"}
    assert [r["id"] for r in status["identity_changes"]] == [request_id]
    me = _api(w.student).get("/api/v1/me/").json()
    assert me["person"]["name"] == "王晓明"
    [kept] = me["person"]["history"]
    assert (kept["field"], kept["old"], kept["new"]) == ("name", "王小明", "王晓明")
    assert kept["identity_change"] == request_id
    assert Student.objects.get(pk=w.status.student_id).id_number == old_id


def test_id_numbers_are_masked_everywhere(w):
    person = w.status.student
    new_id = factories.resident_id(person.birth_date, person.gender, serial=91)
    response = _file(w, fields={"id_number": new_id}, reason=f"旧号 {person.id_number} 有误")
    assert response.status_code == 201, response.content
    text = response.content.decode()
    assert person.id_number not in text
    assert new_id not in text
    assert response.json()["changes"][0]["new"].count("*") == 10


def test_errors_name_the_field_and_the_rule(w):
    body = assert_error(
        _file(w, fields={"name": "王小明", "gender": "x"}, reason=""), 400, "invalid"
    )
    assert set(body["fields"]) == {"fields.name", "fields.gender", "reason"}
    body = assert_error(_file(w, fields={"birth_date": "2003-06-01"}), 400, "invalid")
    assert set(body["fields"]) == {"fields.birth_date"}
    body = assert_error(_file(w, fields={}), 400, "invalid")
    assert "fields" in body["fields"]
    request_id = _file(w).json()["id"]
    refused = _attach(w.student, request_id, SimpleUploadedFile("x.pdf", HTML))
    body = assert_error(refused, 400, "invalid")
    assert "x.pdf" in body["fields"]["file"][0]


def test_refusals_and_scope(w):
    assert_error(_file(w, w.stranger), 404, "not_found")
    assert_error(_file(w, status=w.other_status.pk), 404, "not_found")
    assert_error(_file(w, status=999999), 404, "not_found")
    assert_error(_file(w, w.province), 403, "permission_denied")
    mine = _file(w).json()["id"]
    assert_error(_file(w, fields={"gender": "female"}), 409, "open_request_exists")
    theirs = _file(w, w.other_status.student.user, status=w.other_status.pk).json()["id"]

    def ids(user, query=""):
        response = _api(user).get(f"{URL}{query}")
        assert response.status_code == 200, response.content
        return [r["id"] for r in response.json()["results"]]

    assert ids(w.student) == [mine]
    assert ids(w.officer) == [mine]
    assert ids(w.province) == [mine]
    assert ids(w.foreign_officer) == [theirs]
    assert ids(w.foreign_province) == [theirs]
    assert ids(w.stranger) == []
    assert ids(w.officer, "?state=submitted") == [mine]
    assert ids(w.officer, "?state=approved") == []
    assert ids(w.province, f"?status={w.status.pk}") == [mine]
    assert_error(_api(w.officer).get(f"{URL}?state=done"), 400, "invalid")
    assert_error(_api(w.officer).get(f"{URL}?status=x"), 400, "invalid")
    for user in (w.foreign_officer, w.stranger):
        assert_error(_api(user).get(f"{URL}{mine}/"), 404, "not_found")
        assert_error(_api(user).post(f"{URL}{mine}/withdraw/"), 404, "not_found")
        assert_error(_attach(user, mine), 404, "not_found")
    assert_error(_attach(w.officer, mine), 403, "permission_denied")  # not a party to it
    assert APIClient().post(URL, {}, format="json").status_code == 401


def test_withdraw_and_resubmit(w):
    request_id = _file(w).json()["id"]
    assert_error(_api(w.officer).post(f"{URL}{request_id}/withdraw/"), 403, "permission_denied")
    response = _api(w.student).post(f"{URL}{request_id}/withdraw/")
    assert response.status_code == 200
    assert response.json()["state"] == "withdrawn"
    assert_error(_api(w.student).post(f"{URL}{request_id}/withdraw/"), 409, "not_open")

    request_id = _file(w).json()["id"]
    [task] = _tasks(w.officer)
    assert _decide(w.officer, task["id"], "return", "请附户籍证明").status_code == 200
    response = _api(w.student).post(
        f"{URL}{request_id}/resubmit/", {"fields": {"name": "王1"}, "reason": "改"}, format="json"
    )
    body = assert_error(response, 400, "invalid")
    assert "fields.name" in body["fields"]
    response = _api(w.student).post(
        f"{URL}{request_id}/resubmit/",
        {"fields": {"name": "王晓敏"}, "reason": "改"},
        format="json",
    )
    assert response.status_code == 200, response.content
    assert response.json()["state"] == "submitted"
    assert response.json()["changes"][0]["new"] == "王晓敏"
    again = _api(w.student).post(
        f"{URL}{request_id}/resubmit/", {"fields": {"name": "王晓"}, "reason": "改"}, format="json"
    )
    assert_error(again, 409, "not_returned")


def test_bulk_decisions_through_the_shared_task_api(w, places):
    second = sc.student_status(places.pku, factories.user("student_f"))
    ids = []
    for status, user in ((w.status, w.student), (second, second.student.user)):
        created = _file(w, user, status=status.pk)
        assert created.status_code == 201, created.content
        ids.append(created.json()["id"])
        assert _attach(user, ids[-1]).status_code == 201
    tasks = [t["id"] for t in _tasks(w.officer)]
    assert len(tasks) == 2
    response = _api(w.officer).post(
        "/api/v1/tasks/decide/", {"tasks": tasks, "decision": "approve"}, format="json"
    )
    assert response.status_code == 200, response.content
    states = {_api(w.officer).get(f"{URL}{pk}/").json()["state"] for pk in ids}
    assert states == {"school_approved"}


def test_the_fields_as_declared(w):
    fields = _api(w.student).get(f"{URL}fields/").json()
    assert [f["name"] for f in fields] == [
        "name",
        "gender",
        "birth_date",
        "id_type",
        "id_number",
        "ethnicity",
        "major_code",
        "level",
        "learning_form",
        "study_length",
    ]
    gender = next(f for f in fields if f["name"] == "gender")
    assert gender["record"] == "person"
    assert {"code": "female", "label": "女"} in gender["choices"]
