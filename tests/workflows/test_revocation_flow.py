"""Revocation of a qualification (issue 11 item 6): an officer files it with the leadership's
decision, the legality review and the hearing; a second officer issues the written decision;
the delivery opens the 10-day window; the window closed by the beat task sends it to the
province, whose confirmation revokes the qualification (never deleted; verification shows
it revoked). An appeal holds it; the committee may cancel it. Scope, the requester and the
school's decider are kept out of the decisions that are not theirs."""

from __future__ import annotations

import datetime
import zoneinfo
from types import SimpleNamespace

import pytest
import time_machine
from django.core import mail

from permissions import roles
from permissions.services import grant_role
from records.choices import QualificationStatus
from records.models import Qualification
from records.models import RevocationRequest
from records.models import User
from tests import factories
from tests.api.helpers import assert_error
from tests.api.helpers import token_client
from workflows import work
from workflows.flows.certificate_proof import proof_start
from workflows.tasks import status_change_appeal_windows

pytestmark = pytest.mark.django_db

BEIJING = zoneinfo.ZoneInfo("Asia/Shanghai")
FILING = {
    "reason": "学位论文抄袭，经查证属实。",
    "basis": "《中华人民共和国高等教育法》第二十条",
    "leadership_decision_date": "2026-11-25",
    "leadership_decision": "校长办公会2026年第30次会议纪要",
    "legality_review": True,
    "hearing_date": "2026-11-20",
    "hearing_by": "学生处 张老师",
    "hearing_summary": "学生陈述了情况。",
}


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
    world.province = factories.provincial_admin(places.bj, "admin_11")
    world.province_b = factories.provincial_admin(places.bj, "admin_11b")
    world.other_q = factories.qualification(factories.student("赵六"), places.fdu)
    return world


def _file(user, qualification, **body):
    return token_client(user).post(
        "/api/v1/revocations/", {"qualification": qualification.pk, **FILING, **body}, format="json"
    )


def _decide(user, request_id, decision, comment="", status=200):
    task = token_client(user).get(f"/api/v1/revocations/{request_id}/").json()["open_task"]
    response = token_client(user).post(
        f"/api/v1/tasks/{task['id']}/decide/",
        {"decision": decision, "comment": comment},
        format="json",
    )
    assert response.status_code == status, response.content
    return task


def _issued(w) -> int:
    with at("2026-11-30"):
        filed = _file(w.officer, w.q)
        assert filed.status_code == 201, filed.content
        assert filed.json()["open_task"]["step"] == "school_review"
        _decide(w.officer_b, filed.json()["id"], "approve")
    request_id: int = filed.json()["id"]
    return request_id


def _deliver(w, request_id, day="2026-12-01"):
    with at(day, 15):
        response = token_client(w.officer).post(
            f"/api/v1/revocations/{request_id}/delivery/",
            {"delivered_on": day, "method": "in_person"},
            format="json",
        )
    assert response.status_code == 200, response.content
    return response.json()


def test_file_decide_deliver_no_appeal_window_closes_province_confirms(
    w, django_capture_on_commit_callbacks
):
    mail.outbox.clear()
    with django_capture_on_commit_callbacks(execute=True):
        request_id = _issued(w)
    sent = {m.to[0]: m for m in mail.outbox}
    assert "待审核" in sent[w.officer_b.email].subject  # the filing, to the other officer
    assert "撤销李四的学历证书" in sent[w.student.email].body  # the written decision
    detail = token_client(w.student).get(f"/api/v1/revocations/{request_id}/").json()
    assert detail["state"] == "in_appeal"
    assert detail["appeal"] == "window"
    assert "撤销李四的学历证书" in detail["decision_text"]
    assert "校长办公会2026年第30次会议纪要" in detail["decision_text"]

    delivered = _deliver(w, request_id)
    assert delivered["appeal_deadline"] == "2026-12-11"
    with at("2026-12-11", 23):  # the last day is inclusive: nothing closes
        assert status_change_appeal_windows() == 0
    with at("2026-12-12", 1):
        assert status_change_appeal_windows() == 1
    detail = token_client(w.province).get(f"/api/v1/revocations/{request_id}/").json()
    assert detail["state"] == "confirming"
    assert detail["open_task"]["step"] == "province_confirm"
    assert Qualification.objects.get(pk=w.q.pk).status == QualificationStatus.REGISTERED

    with at("2026-12-14"):
        _decide(w.province, request_id, "approve")
    revoked = Qualification.objects.get(pk=w.q.pk)
    assert revoked.status == QualificationStatus.REVOKED
    assert revoked.revoke_reason == FILING["reason"]
    detail = token_client(w.student).get(f"/api/v1/revocations/{request_id}/").json()
    assert detail["state"] == "revoked"
    assert detail["open_task"] is None
    # Verification by certificate number shows it revoked.
    found = token_client(w.student).get(
        "/api/v1/verify/certificate/",
        {"number": w.q.certificate_number, "name": "李四"},
    )
    assert found.status_code == 200, found.content
    assert "revoked" in found.content.decode()


def test_an_appeal_holds_it_and_the_committee_cancels_it(w):
    request_id = _issued(w)
    _deliver(w, request_id)
    with at("2026-12-05"):
        appealed = token_client(w.student).post(
            f"/api/v1/revocations/{request_id}/appeal/", {"reason": "抄袭认定有误"}, format="json"
        )
        assert appealed.status_code == 200, appealed.content
        assert appealed.json()["appeal"] == "school"
    with at("2026-12-20"):
        assert status_change_appeal_windows() == 0  # held by the appeal
        # The officer who filed it never decides its appeal.
        task = token_client(w.officer_b).get(f"/api/v1/revocations/{request_id}/").json()
        assert task["open_task"]["step"] == "school_appeal"
        assert not work.open_items(w.officer).filter(pk=task["open_task"]["id"]).exists()
        _decide(w.officer_b, request_id, "cancel", comment="证据不足")
    detail = token_client(w.student).get(f"/api/v1/revocations/{request_id}/").json()
    assert detail["state"] == "overturned"
    assert detail["open_task"] is None
    assert Qualification.objects.get(pk=w.q.pk).status == QualificationStatus.REGISTERED
    # Over: a new proposal may be filed for the same qualification.
    assert _file(w.officer, w.q).status_code == 201


def test_an_appeal_after_the_window_is_refused(w):
    request_id = _issued(w)
    _deliver(w, request_id)
    with at("2026-12-12"):
        refused = token_client(w.student).post(
            f"/api/v1/revocations/{request_id}/appeal/", {"reason": "太晚了"}, format="json"
        )
    body = assert_error(refused, 409, "appeal_window_closed")
    assert "第60条" in body["detail"] or "article 60" in body["detail"]


@pytest.mark.parametrize(
    ("change", "field", "rule"),
    [
        ({"legality_review": False}, "legality_review", "第56条"),
        ({"hearing_date": None}, "hearing_date", "第55条"),
        ({"hearing_by": ""}, "hearing_by", "第55条"),
        ({"hearing_summary": ""}, "hearing_summary", "第55条"),
        ({"hearing_date": "2026-12-05"}, "hearing_date", "hearing_not_future"),
        ({"leadership_decision": ""}, "leadership_decision", ""),
        (
            {"leadership_decision_date": "2026-12-05"},
            "leadership_decision_date",
            "leadership_decision_date",
        ),
    ],
)
def test_the_adverse_rules_refuse_naming_the_field_and_rule(w, change, field, rule):
    with at("2026-11-30"):
        response = _file(w.officer, w.q, **change)
    body = assert_error(response, 400, "invalid")
    [message] = body["fields"][field]
    assert rule in message
    assert not RevocationRequest.objects.exists()


def test_who_files_sees_and_what_is_refused(w):
    with at("2026-11-30"):
        # The student does not propose it; another school's officer does not see it.
        assert_error(_file(w.student, w.q), 403, "permission_denied")
        assert _file(w.foreign, w.q).status_code == 404
        request_id = _file(w.officer, w.q).json()["id"]
        assert_error(_file(w.officer_b, w.q), 409, "open_revocation_exists")
        draft = factories.qualification(factories.student("钱七"), w.q.school, registered=False)
        assert _file(w.officer, draft).status_code in (404, 409)
    url = f"/api/v1/revocations/{request_id}/"
    assert token_client(w.foreign).get(url).status_code == 404
    assert token_client(w.student).get(url).status_code == 200
    assert [
        r["id"] for r in token_client(w.province).get("/api/v1/revocations/").json()["results"]
    ] == [request_id]
    assert token_client(w.foreign).get("/api/v1/revocations/").json()["results"] == []
    # The requester never decides it.
    task = token_client(w.officer_b).get(url).json()["open_task"]
    assert not work.open_items(w.officer).filter(pk=task["id"]).exists()
    refused = token_client(w.officer).post(
        f"/api/v1/tasks/{task['id']}/decide/", {"decision": "approve"}, format="json"
    )
    assert refused.status_code in (403, 404)
    # Nobody but a school's officer records the delivery (and only of an issued decision).
    assert_error(
        token_client(w.officer).post(
            url + "delivery/", {"delivered_on": "2026-11-30", "method": "post"}, format="json"
        ),
        409,
        "not_awaiting_delivery",
    )


def test_a_lost_marked_qualification_may_be_revoked(w):
    """The proof replaced the paper; the qualification itself may still be revoked."""
    proof = proof_start(qualification=w.q, reason="lost", note="搬家时遗失", requester=w.student)
    item = work.open_item_of("certificate_proof", proof.pk)
    assert item is not None
    work.decide(
        task_pk=item.pk,
        user=w.officer,
        decision="approve",
    )
    assert Qualification.objects.get(pk=w.q.pk).lost_at is not None
    request_id = _issued(w)
    detail = token_client(w.student).get(f"/api/v1/revocations/{request_id}/").json()
    assert detail["state"] == "in_appeal"


def test_the_province_step_is_never_decided_by_the_school_decider(w, places):
    both = w.officer_b
    grant_role(both, roles.PROVINCIAL_ADMIN, places.bj)
    both = User.objects.get(pk=both.pk)
    request_id = _issued(w)
    _deliver(w, request_id)
    with at("2026-12-12", 1):
        status_change_appeal_windows()
    task = token_client(w.province).get(f"/api/v1/revocations/{request_id}/").json()["open_task"]
    assert task["step"] == "province_confirm"
    assert work.may_decide(both, "revocation", request_id) is False
    refused = token_client(both).post(
        f"/api/v1/tasks/{task['id']}/decide/", {"decision": "approve"}, format="json"
    )
    assert refused.status_code in (403, 404)
    assert Qualification.objects.get(pk=w.q.pk).status == QualificationStatus.REGISTERED
    with at("2026-12-14"):
        _decide(w.province_b, request_id, "approve")
    assert Qualification.objects.get(pk=w.q.pk).status == QualificationStatus.REVOKED


def test_upheld_by_the_committee_and_the_province_then_confirmed_or_refused(w):
    request_id = _issued(w)
    _deliver(w, request_id)
    url = f"/api/v1/revocations/{request_id}/"
    with at("2026-12-05"):
        token_client(w.student).post(url + "appeal/", {"reason": "认定有误"}, format="json")
        _decide(w.officer_b, request_id, "confirm", comment="维持原决定")
        detail = token_client(w.student).get(url).json()
        assert (detail["state"], detail["appeal"]) == ("in_appeal", "province_window")
        assert detail["appeal_deadline"] == "2026-12-20"
        appealed = token_client(w.student).post(
            url + "appeal/", {"reason": "请求省级复查"}, format="json"
        )
        assert appealed.json()["appeal"] == "province"
        assert appealed.json()["open_task"]["step"] == "province_appeal"
        _decide(w.province, request_id, "confirm", comment="维持")
        detail = token_client(w.province_b).get(url).json()
        assert (detail["state"], detail["open_task"]["step"]) == ("confirming", "province_confirm")
        _decide(w.province_b, request_id, "reject", comment="程序不完整")
    assert token_client(w.student).get(url).json()["state"] == "refused"
    assert Qualification.objects.get(pk=w.q.pk).status == QualificationStatus.REGISTERED
