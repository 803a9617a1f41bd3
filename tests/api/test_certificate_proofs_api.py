"""Certificate proofs over the API: applying, following, withdrawing and revising; decisions
through the shared task API; the qualification's lost mark and proof number; scope."""

from __future__ import annotations

from types import SimpleNamespace

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from tests import factories
from tests.api.helpers import assert_error
from tests.api.helpers import token_client
from tests.evidence_files import real_png

pytestmark = pytest.mark.django_db


@pytest.fixture
def w(places):
    world = SimpleNamespace()
    world.student = factories.user("student_a")
    person = factories.student("李四", login=world.student)
    world.q = factories.qualification(person, places.pku)
    world.officer = factories.officer(places.pku, "officer_10001")
    world.officer_b = factories.officer(places.pku, "officer_10001b")
    world.foreign = factories.officer(places.fdu, "officer_10246")
    world.other_student = factories.user("student_e")
    world.other_q = factories.qualification(
        factories.student("赵六", login=world.other_student), places.fdu
    )
    return world


def _apply(user, qualification, **body):
    payload = {"qualification": qualification.pk, "reason": "lost", "note": "搬家时遗失"}
    payload.update(body)
    return token_client(user).post("/api/v1/certificate-proofs/", payload, format="json")


def _only_task(user):
    tasks = token_client(user).get("/api/v1/tasks/").json()["results"]
    assert len(tasks) == 1, tasks
    return tasks[0]


def test_apply_follow_and_decide_over_the_api(w):
    response = _apply(w.student, w.q)
    assert response.status_code == 201, response.content
    body = response.json()
    assert body["state"] == "submitted"
    assert body["reason"] == "lost"
    assert body["reason_label"] == "遗失"
    assert body["certificate_number"] == w.q.certificate_number
    assert body["number"] is None
    assert body["open_task"]["step"] == "school_review"
    proof_id = body["id"]

    task = _only_task(w.officer)
    assert task["flow"] == "certificate_proof"
    assert task["subject"]["id"] == proof_id
    assert task["summary"] == "证书遗失"
    assert task["student_name"] == "李四"
    assert token_client(w.student).get("/api/v1/tasks/").json()["results"] == []
    refused = token_client(w.student).post(
        f"/api/v1/tasks/{task['id']}/decide/", {"decision": "approve"}, format="json"
    )
    assert refused.status_code == 404
    decided = token_client(w.officer).post(
        f"/api/v1/tasks/{task['id']}/decide/", {"decision": "approve"}, format="json"
    )
    assert decided.status_code == 200, decided.content

    detail = token_client(w.student).get(f"/api/v1/certificate-proofs/{proof_id}/").json()
    assert detail["state"] == "approved"
    assert len(detail["number"]) == 14
    assert detail["number"].startswith("10001")
    assert detail["original_certificate_number"] == w.q.certificate_number
    assert [h["action"] for h in detail["history"]] == ["filed", "approved"]
    assert detail["open_task"] is None

    q = token_client(w.student).get(f"/api/v1/qualifications/{w.q.pk}/").json()
    assert q["status"] == "registered"
    assert q["lost"] is True
    assert q["lost_at"] is not None
    assert q["proof_number"] == detail["number"]

    again = _apply(w.student, w.q)
    body = assert_error(again, 409, "proof_exists")
    assert "one_proof_per_certificate" in body["detail"]


def test_the_officer_applies_and_another_decides_in_bulk(w):
    response = _apply(w.officer, w.q, reason="damaged", note="证书损毁")
    assert response.status_code == 201, response.content
    assert token_client(w.officer).get("/api/v1/tasks/").json()["results"] == []
    task = _only_task(w.officer_b)
    done = token_client(w.officer_b).post(
        "/api/v1/tasks/decide/", {"tasks": [task["id"]], "decision": "approve"}, format="json"
    )
    assert done.status_code == 200, done.content
    q = token_client(w.officer).get(f"/api/v1/qualifications/{w.q.pk}/").json()
    assert q["lost"] is True


def test_errors_name_the_field_and_the_rule(w):
    body = assert_error(_apply(w.student, w.q, reason="stolen", note=""), 400, "invalid")
    assert set(body["fields"]) == {"reason", "note"}
    assert _apply(w.student, w.q).status_code == 201
    body = assert_error(_apply(w.student, w.q), 409, "open_application_exists")
    assert "one_open_application" in body["detail"]


def test_scope_and_404s(w):
    assert_error(_apply(w.student, w.other_q), 404, "not_found")
    assert_error(_apply(w.foreign, w.q), 404, "not_found")
    missing = token_client(w.student).post(
        "/api/v1/certificate-proofs/",
        {"qualification": 999999, "reason": "lost", "note": "x"},
        format="json",
    )
    assert_error(missing, 404, "not_found")
    proof_id = _apply(w.student, w.q).json()["id"]
    for user in (w.other_student, w.foreign):
        assert token_client(user).get("/api/v1/certificate-proofs/").json()["results"] == []
        assert_error(
            token_client(user).get(f"/api/v1/certificate-proofs/{proof_id}/"), 404, "not_found"
        )
        assert_error(
            token_client(user).post(f"/api/v1/certificate-proofs/{proof_id}/withdraw/"),
            404,
            "not_found",
        )
    listed = token_client(w.officer).get("/api/v1/certificate-proofs/?state=submitted").json()
    assert [p["id"] for p in listed["results"]] == [proof_id]
    assert_error(
        token_client(w.officer).get("/api/v1/certificate-proofs/?state=lost"), 400, "invalid"
    )
    # Only the requester withdraws.
    assert_error(
        token_client(w.officer).post(f"/api/v1/certificate-proofs/{proof_id}/withdraw/"),
        403,
        "permission_denied",
    )


def test_return_resubmit_withdraw_and_evidence(w):
    proof_id = _apply(w.student, w.q).json()["id"]
    upload = token_client(w.student).post(
        f"/api/v1/certificate-proofs/{proof_id}/evidence/",
        {"file": SimpleUploadedFile("notice.png", real_png(), content_type="image/png")},
        format="multipart",
    )
    assert upload.status_code == 201, upload.content
    assert upload.json()["content_type"] == "image/png"
    task = _only_task(w.officer)
    token_client(w.officer).post(
        f"/api/v1/tasks/{task['id']}/decide/",
        {"decision": "return", "comment": "请补充登报声明"},
        format="json",
    )
    resubmitted = token_client(w.student).post(
        f"/api/v1/certificate-proofs/{proof_id}/resubmit/",
        {"reason": "lost", "note": "已登报声明"},
        format="json",
    )
    assert resubmitted.status_code == 200, resubmitted.content
    body = resubmitted.json()
    assert (body["state"], body["note"]) == ("submitted", "已登报声明")
    assert [e["original_name"] for e in body["evidence"]] == ["notice.png"]
    withdrawn = token_client(w.student).post(f"/api/v1/certificate-proofs/{proof_id}/withdraw/")
    assert withdrawn.json()["state"] == "withdrawn"
    assert_error(
        token_client(w.student).post(f"/api/v1/certificate-proofs/{proof_id}/withdraw/"),
        409,
        "not_open",
    )
