"""The identity change pages: the student files a change with its proof from their status
(an error shown at its field, nothing filed), follows it (proof, withdrawal, timeline); the
officers decide on the work list's task page, which shows the changes with the values they
replace and the proof (never an ID number in full); nothing outside one's scope is found."""

from __future__ import annotations

import pytest
from django.test import Client

from records.models import IdentityChangeRequest
from records.models import Student
from tests import factories
from tests import identity_changes as ic
from workflows.models import WorkItem

pytestmark = pytest.mark.django_db


def _client(user):
    client = Client()
    client.force_login(user)
    return client


@pytest.fixture
def w(places):
    return ic.world(places)


def _new(w):
    return f"/identity-changes/new/?status={w.status.pk}"


def test_the_home_page_links_a_current_status_to_the_form(w):
    html = _client(w.student).get("/home/").content.decode()
    assert f'href="/identity-changes/new/?status={w.status.pk}"' in html
    assert "申请变更学籍信息" in html


def test_the_form_shows_every_field_with_its_current_value(w):
    html = _client(w.student).get(_new(w)).content.decode()
    for name in ("name", "gender", "birth_date", "id_type", "id_number", "ethnicity"):
        assert f'name="field_{name}"' in html, name
    for name in ("major_code", "level", "learning_form", "study_length"):
        assert f'name="field_{name}"' in html, name
    assert 'name="evidence"' in html
    assert "现为：王小明" in html
    assert w.status.student.id_number not in html  # the current ID number masked


def test_filing_with_proof_and_following_it(w):
    student = _client(w.student)
    posted = student.post(
        _new(w),
        {"field_name": "王晓明", "reason": "户籍姓名已变更", "evidence": ic.proof()},
    )
    assert posted.status_code == 302, posted.content.decode()[:2000]
    request = IdentityChangeRequest.objects.get()
    assert posted["Location"] == f"/identity-changes/{request.pk}/"
    html = student.get(posted["Location"]).content.decode()
    assert "王小明" in html
    assert "王晓明" in html
    assert "派出所证明.pdf" in html
    assert "提交申请" in html
    evidence = request.evidence.get()
    download = student.get(f"/identity-changes/evidence/{evidence.pk}/")
    assert download.status_code == 200
    assert download["Content-Type"] == "application/pdf"
    assert (
        _client(w.foreign_officer).get(f"/identity-changes/evidence/{evidence.pk}/").status_code
        == 404
    )
    assert _client(w.stranger).get(posted["Location"]).status_code == 404
    assert f"/identity-changes/{request.pk}/" in student.get("/identity-changes/").content.decode()
    assert f"/identity-changes/{request.pk}/" not in (
        _client(w.foreign_officer).get("/identity-changes/").content.decode()
    )

    more = student.post(
        posted["Location"], {"action": "evidence", "evidence": ic.proof("身份证.png")}
    )
    assert more.status_code == 302
    assert request.evidence.count() == 2
    student.post(posted["Location"], {"action": "withdraw"})
    assert IdentityChangeRequest.objects.get().state == "submitted"  # asks to confirm first
    student.post(posted["Location"], {"action": "withdraw", "confirm": "yes"})
    assert IdentityChangeRequest.objects.get().state == "withdrawn"


def test_an_error_is_shown_at_its_field_and_nothing_is_filed(w):
    page = _client(w.student).post(_new(w), {"field_birth_date": "2003-06-01", "reason": "x"})
    html = page.content.decode()
    assert page.status_code == 200
    assert 'id="error-summary"' in html
    assert 'href="#id_field_birth_date"' in html
    assert not IdentityChangeRequest.objects.exists()
    assert _client(w.stranger).get(_new(w)).status_code == 404


def test_the_officers_decide_on_the_task_page(w):
    request = ic.file(
        w,
        {
            "name": "王晓明",
            "id_number": factories.resident_id(
                w.status.student.birth_date, w.status.student.gender, serial=55
            ),
        },
    )
    item = WorkItem.objects.get(flow="identity_change", subject_id=request.pk)
    officer = _client(w.officer)
    html = officer.get(f"/work/{item.pk}/").content.decode()
    assert "王晓明" in html
    assert "王小明" in html
    assert "派出所证明.pdf" in html
    assert w.status.student.id_number not in html
    assert request.changes[1]["new"] not in html
    assert _client(w.foreign_officer).get(f"/work/{item.pk}/").status_code == 404
    assert (
        officer.post(f"/work/{item.pk}/", {"decision": "approve", "comment": ""}).status_code == 302
    )
    item = WorkItem.objects.get(
        flow="identity_change", subject_id=request.pk, step="province_confirm"
    )
    province = _client(w.province)
    assert (
        province.post(f"/work/{item.pk}/", {"decision": "approve", "comment": ""}).status_code
        == 302
    )
    assert Student.objects.get(pk=w.status.student_id).name == "王晓明"
