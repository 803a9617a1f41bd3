"""The student's status change pages: the form is built from the type's declaration, a filing
goes through the flow's service (a broken rule is shown at its field, nothing filed), the
request's page follows it (withdraw, history), the list shows what each may see, and
nothing outside one's scope is found."""

from __future__ import annotations

import datetime

import pytest
from django.db import transaction
from django.test import Client

from records.models import StatusChangeRequest
from records.models import StudentStatus
from records.models import identity_writes
from records.status_changes.types import TYPES
from tests import status_changes as sc
from workflows import work
from workflows.flows.status_change import StatusChangeFlow
from workflows.models import WorkItem

pytestmark = pytest.mark.django_db


def _client(user):
    client = Client()
    client.force_login(user)
    return client


def _new(w, type_key=""):
    suffix = f"&type={type_key}" if type_key else ""
    return f"/status-changes/new/?status={w.status.pk}{suffix}"


def test_the_home_page_links_a_current_status_to_the_filing_page(places):
    w = sc.world(places)
    html = _client(w.student).get("/home/").content.decode()
    assert f'href="/status-changes/new/?status={w.status.pk}"' in html
    assert "申请学籍异动" in html


def test_the_types_offered_are_those_the_declarations_let_a_student_file(places):
    w = sc.world(places)
    html = _client(w.student).get(_new(w)).content.decode()
    for kind in TYPES.values():
        offered = f'id="type-{kind.key}"' in html
        assert offered == (kind.available and "student" in kind.filers), kind.key


def test_the_form_is_rendered_from_the_declaration(places):
    w = sc.world(places)
    html = _client(w.student).get(_new(w, "suspension")).content.decode()
    assert 'type="date" name="field_from"' in html
    assert 'type="date" name="field_until"' in html
    assert 'name="reason"' in html
    for field in TYPES["suspension"].fields:
        assert str(field.label) in html


def test_a_type_the_student_may_not_file_has_no_form(places):
    w = sc.world(places)
    officer_only = next(k for k in TYPES.values() if k.available and "student" not in k.filers)
    html = _client(w.student).get(_new(w, officer_only.key)).content.decode()
    assert 'name="reason"' not in html


def test_filing_a_suspension_leads_to_its_page(places):
    w = sc.world(places)
    client = _client(w.student)
    data = {"field_from": "2025-03-01", "field_until": "2026-02-28", "reason": "身体原因"}
    response = client.post(_new(w, "suspension"), data)

    request = StatusChangeRequest.objects.get()
    assert response.status_code == 302
    assert response["Location"] == f"/status-changes/{request.pk}/"
    assert request.fields == {"from": "2025-03-01", "until": "2026-02-28"}
    html = client.get(response["Location"]).content.decode()
    assert "休学" in html
    assert "2026-02-28" in html
    assert "身体原因" in html
    assert "提交申请" in html  # the history
    assert 'id="withdraw"' in html


def test_a_broken_rule_is_shown_at_its_field_and_nothing_is_filed(places):
    w = sc.world(places)
    data = {"field_from": "2025-03-01", "field_until": "2025-01-01", "reason": "身体原因"}
    response = _client(w.student).post(_new(w, "suspension"), data)

    html = response.content.decode()
    assert response.status_code == 200
    assert not StatusChangeRequest.objects.exists()
    assert 'role="alert"' in html
    assert "until_after_from" in html
    field_row = html.split('id="row-field_until"')[1].split("</div>\n</div>")[0]
    assert "until_after_from" in field_row
    assert 'value="2025-01-01"' in html  # nothing typed is lost
    assert "身体原因" in html


def test_a_missing_reason_is_shown_at_the_reason(places):
    w = sc.world(places)
    data = {"field_from": "2025-03-01", "field_until": "2026-02-28", "reason": ""}
    html = _client(w.student).post(_new(w, "suspension"), data).content.decode()
    assert not StatusChangeRequest.objects.exists()
    assert "请填写申请理由" in html.split('id="row-reason"')[1]


def test_the_student_withdraws_an_open_request_after_confirming(places):
    w = sc.world(places)
    request = sc.file(w, "suspension", sc.SUSPENSION)
    client = _client(w.student)

    asked = client.post(f"/status-changes/{request.pk}/", {"action": "withdraw"})
    assert 'id="confirm-withdraw"' in asked.content.decode()
    request.refresh_from_db()
    assert request.state == "submitted"

    done = client.post(f"/status-changes/{request.pk}/", {"action": "withdraw", "confirm": "yes"})
    assert done.status_code == 302
    request.refresh_from_db()
    assert request.state == "withdrawn"
    assert 'id="withdraw"' not in client.get(f"/status-changes/{request.pk}/").content.decode()


def test_another_students_request_is_not_found(places):
    w = sc.world(places)
    request = sc.file(w, "suspension", sc.SUSPENSION)
    assert _client(w.stranger).get(f"/status-changes/{request.pk}/").status_code == 404
    assert _client(w.foreign_officer).get(f"/status-changes/{request.pk}/").status_code == 404
    assert _client(w.stranger).get(_new(w)).status_code == 404
    assert _client(w.officer).get(f"/status-changes/{request.pk}/").status_code == 200


def test_the_list_shows_what_each_may_see(places):
    w = sc.world(places)
    request = sc.file(w, "suspension", sc.SUSPENSION)
    row = f'id="change-{request.pk}"'
    assert row in _client(w.student).get("/status-changes/").content.decode()
    assert row in _client(w.officer).get("/status-changes/").content.decode()
    assert row in _client(w.province).get("/status-changes/").content.decode()
    assert row not in _client(w.foreign_officer).get("/status-changes/").content.decode()
    assert row not in _client(w.stranger).get("/status-changes/").content.decode()


def test_an_approved_request_shows_the_values_before_and_after(places):
    w = sc.world(places)
    request = sc.file(w, "suspension", sc.SUSPENSION)
    item = WorkItem.objects.get(flow="status_change", subject_id=request.pk)
    _client(w.officer).post(f"/work/{item.pk}/", {"decision": "approve", "comment": ""})
    assert StudentStatus.objects.get(pk=w.status.pk).state == "suspended"

    html = _client(w.student).get(f"/status-changes/{request.pk}/").content.decode()
    applied = html.split('id="applied"')[1]
    assert "在籍" in applied  # the states by their labels
    assert "休学" in applied


def test_the_pages_speak_english_to_an_english_user(places):
    w = sc.world(places)
    w.student.language = "en"
    w.student.save()
    client = _client(w.student)
    assert "Request a status change" in client.get("/home/").content.decode()
    html = client.get(_new(w, "suspension")).content.decode()
    assert "Submit the request" in html
    assert str(TYPES["suspension"].label) in html
    request = sc.file(w, "suspension", sc.SUSPENSION)
    assert "Withdraw the request" in client.get(f"/status-changes/{request.pk}/").content.decode()


def test_a_returned_request_is_revised_and_submitted_again_from_its_page(places):
    w = sc.world(places)
    request = sc.file(w, "suspension", sc.SUSPENSION)
    review = sc.task(request, StatusChangeFlow.school_review)
    work.decide(task_pk=review.pk, user=w.officer, decision="return", comment="日期有误")
    client = _client(w.student)

    html = client.get(f"/status-changes/{request.pk}/").content.decode()
    assert 'id="resubmit"' in html
    assert 'value="2026-02-28"' in html  # the form, prefilled
    assert "日期有误" in html  # the officer's comment, in the timeline

    refused = {"action": "resubmit", "field_from": "2025-03-01", "field_until": "2025-02-01"}
    html = client.post(f"/status-changes/{request.pk}/", {**refused, "reason": "身体原因"})
    assert "until_after_from" in html.content.decode().split('id="row-field_until"')[1]
    request.refresh_from_db()
    assert request.state == "returned"

    revised = {**refused, "field_until": "2026-01-31", "reason": "身体原因"}
    assert client.post(f"/status-changes/{request.pk}/", revised).status_code == 302
    request.refresh_from_db()
    assert request.state == "submitted"
    assert request.fields["until"] == "2026-01-31"


def test_an_officer_filters_the_list_by_state_type_and_student(places):
    w = sc.world(places)
    suspension = sc.file(w, "suspension", sc.SUSPENSION)
    other = sc.student_status(places.pku)
    other.student.name = "李四"
    with transaction.atomic(), identity_writes("test setup"):
        other.student.save()
    change = sc.file(
        w, "repetition", {"expected_graduation": "2029-07-01"}, by=w.officer_b, status=other
    )
    item = WorkItem.objects.get(flow="status_change", subject_id=suspension.pk)
    _client(w.officer).post(f"/work/{item.pk}/", {"decision": "approve", "comment": ""})
    officer = _client(w.officer)

    def rows(query):
        html = officer.get(f"/status-changes/?{query}").content.decode()
        return {pk for pk in (suspension.pk, change.pk) if f'id="change-{pk}"' in html}, html

    shown, html = rows("")
    assert shown == {suspension.pk, change.pk}
    assert 'id="count-approved"' in html
    assert 'id="count-submitted"' in html
    assert rows("state=approved")[0] == {suspension.pk}
    assert rows("type=repetition")[0] == {change.pk}
    assert rows("q=李四")[0] == {change.pk}
    assert rows(f"q={w.status.student_number}")[0] == {suspension.pk}
    shown, html = rows("type=repetition&state=approved")
    assert shown == set()
    assert "没有符合筛选条件的学籍异动申请。" in html
    # An unknown state or type filters nothing out.
    assert rows("state=nonsense&type=nonsense")[0] == {suspension.pk, change.pk}


def test_a_student_sees_no_filters(places):
    w = sc.world(places)
    sc.file(w, "suspension", sc.SUSPENSION)
    html = _client(w.student).get("/status-changes/").content.decode()
    assert 'id="filters"' not in html
    assert 'id="filters"' in _client(w.officer).get("/status-changes/").content.decode()


def test_officers_list_the_statuses_past_their_maximum_study_period(places):
    """A status whose four years plus two of extension have ended is listed, with the filing
    of a withdrawal by the school; a status within its period is not; a student gets 404."""
    w = sc.world(places)
    old = sc.student_status(places.pku, entry_date=datetime.date(2019, 9, 1))
    html = _client(w.officer).get("/status-changes/past-max-period/").content.decode()
    assert f'id="status-{old.pk}"' in html
    assert f'id="status-{w.status.pk}"' not in html
    assert "2025-09-01" in html  # 2019-09-01 plus six years
    assert f"/status-changes/new/?status={old.pk}&amp;type=withdrawal_by_school" in html
    assert (
        'id="past-max-period-link"' in _client(w.officer).get("/status-changes/").content.decode()
    )
    foreign = _client(w.foreign_officer).get("/status-changes/past-max-period/").content.decode()
    assert f'id="status-{old.pk}"' not in foreign
    assert _client(w.student).get("/status-changes/past-max-period/").status_code == 404
