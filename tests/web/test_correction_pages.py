"""The correction pages: filing, following, deciding; 404 for everyone else."""

from __future__ import annotations

import io

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from PIL import Image
from viewflow.workflow.models import Task
from viewflow.workflow.status import STATUS

from records.models import CorrectionRequest
from records.models import Qualification
from records.models import User
from tests import factories
from workflows import work
from workflows.flows.correction import CorrectionFlow

pytestmark = pytest.mark.django_db


@pytest.fixture
def world(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    bj, sh = factories.province("11", "北京市"), factories.province("31", "上海市")
    pku = factories.school("10001", "北京大学", "11")
    thu = factories.school("10003", "清华大学", "11")
    fdu = factories.school("10246", "复旦大学", "31")
    a = factories.user("student_a", language="en")
    c = factories.user("student_c")
    return {
        "q": factories.qualification(factories.student("王小明", login=a), pku),
        "student_a": a,
        "student_c": c,
        "qc": factories.qualification(factories.student("李娜", login=c), fdu),
        "officer_10001": factories.officer(pku, "officer_10001", language="en"),
        "officer_10003": factories.officer(thu, "officer_10003"),
        "province_11": factories.provincial_admin(bj, "province_11", language="en"),
        "province_31": factories.provincial_admin(sh, "province_31"),
    }


def _client(user: User) -> Client:
    client = Client()
    client.force_login(user)
    return client


def _png() -> SimpleUploadedFile:
    buffer = io.BytesIO()
    Image.new("RGB", (4, 4), "white").save(buffer, "PNG")
    return SimpleUploadedFile("户口本.png", buffer.getvalue(), content_type="image/png")


def _file(world, **extra):
    data = {"field_0": "name", "value_0": "王晓明", "reason": "录入错误", **extra}
    return _client(world["student_a"]).post(f"/corrections/qualifications/{world['q'].pk}/", data)


def _task(node):
    return Task.objects.get(flow_task=node, status=STATUS.NEW)


def test_the_whole_path_through_the_pages(world):
    response = _client(world["student_a"]).post(
        f"/corrections/qualifications/{world['q'].pk}/",
        {
            "field_0": "name",
            "value_0": "王晓明",
            "field_1": "study_length",
            "value_1": "5",
            "reason": "录入错误",
            "evidence": [_png()],
        },
    )
    correction = CorrectionRequest.objects.get()
    assert response.status_code == 302
    assert response["Location"] == f"/corrections/{correction.pk}/"
    assert [c["field"] for c in correction.changes] == ["name", "study_length"]
    assert correction.evidence.count() == 1

    officer = _client(world["officer_10001"])
    tasks = officer.get("/work/").content.decode()
    review = _task(CorrectionFlow.school_review)
    assert f"/work/{review.pk}/" in tasks
    page = officer.get(f"/work/{review.pk}/").content.decode()
    assert "王小明" in page
    assert "王晓明" in page
    assert "户口本.png" in page
    bad = officer.post(f"/work/{review.pk}/", {"decision": "reject", "comment": ""})
    assert bad.status_code == 200
    assert "comment is required" in bad.content.decode()
    done = officer.post(f"/work/{review.pk}/", {"decision": "approve"})
    assert done.status_code == 302
    assert done["Location"] == "/work/"  # nothing else waits: back to the work list

    signoff = _task(CorrectionFlow.province_signoff)
    _client(world["province_11"]).post(
        f"/work/{signoff.pk}/", {"decision": "approve", "comment": "ok"}
    )
    correction.refresh_from_db()
    assert correction.state == "approved"
    final = _client(world["student_a"]).get(f"/corrections/qualifications/{world['q'].pk}/")
    text = final.content.decode()
    assert Qualification.objects.get(pk=world["q"].pk).name == "王晓明"
    assert "王晓明" in text
    revisions = text.split('id="revisions"')[1]
    assert "王小明" in revisions  # the old name, kept in the history


def test_errors_are_shown_next_to_the_field_and_the_input_is_kept(world):
    response = _file(world, field_0="birth_date", value_0="yesterday")
    assert response.status_code == 200
    text = response.content.decode()
    assert "YYYY-MM-DD" in text
    assert 'value="yesterday"' in text
    assert "录入错误" in text
    assert not CorrectionRequest.objects.exists()
    response = _file(world, reason="")
    assert "This field is required" in response.content.decode()


def test_a_second_open_request_shows_the_conflict(world):
    _file(world)
    response = _file(world, field_0="gender", value_0="female")
    assert response.status_code == 200
    assert "open correction request" in response.content.decode()
    assert CorrectionRequest.objects.count() == 1


def test_return_resubmit_and_withdraw(world):
    _file(world)
    correction = CorrectionRequest.objects.get()
    work.decide(
        task_pk=_task(CorrectionFlow.school_review).pk,
        user=world["officer_10001"],
        decision="return",
        comment="请附证明",
    )
    student = _client(world["student_a"])
    page = student.get(f"/corrections/{correction.pk}/").content.decode()
    assert 'id="resubmit"' in page
    assert "请附证明" in page
    student.post(
        f"/corrections/{correction.pk}/",
        {"action": "resubmit", "field_0": "name", "value_0": "王晓鸣", "reason": "已附"},
    )
    correction.refresh_from_db()
    assert (correction.state, correction.changes[0]["new"]) == ("submitted", "王晓鸣")
    student.post(f"/corrections/{correction.pk}/", {"action": "withdraw"})
    correction.refresh_from_db()
    assert correction.state == "withdrawn"


# Who may see student_a's pages (school 10001, province 11).
ALLOWED = {"student_a", "officer_10001", "province_11"}
EVERYONE = [
    "student_a",
    "student_c",
    "officer_10001",
    "officer_10003",
    "province_11",
    "province_31",
]


@pytest.mark.parametrize("who", EVERYONE)
def test_the_permission_matrix_of_the_pages(world, who):
    _file(world, evidence=[_png()])
    correction = CorrectionRequest.objects.get()
    client = _client(world[who])
    expected = 200 if who in ALLOWED else 404
    assert client.get(f"/corrections/qualifications/{world['q'].pk}/").status_code == expected
    assert client.get(f"/corrections/{correction.pk}/").status_code == expected
    evidence = correction.evidence.get()
    assert client.get(f"/corrections/evidence/{evidence.pk}/").status_code == expected
    review = _task(CorrectionFlow.school_review)
    task_status = 200 if who == "officer_10001" else 404
    assert client.get(f"/work/{review.pk}/").status_code == task_status
    assert client.post(f"/work/{review.pk}/", {"decision": "approve"}).status_code in (
        {task_status, 302} - {200}
    )
    if who != "officer_10001":
        assert Task.objects.get(pk=review.pk).status == STATUS.NEW


def test_the_corrections_menu_entry_leads_to_the_corrections_page_from_everywhere(world):
    """viewflow's menu links each application to its "index" URL: from the home page and the
    account pages the entry must lead to /corrections/, not back to the page itself."""
    client = _client(world["student_a"])
    for path in ("/home/", "/accounts/profile/", "/corrections/"):
        page = client.get(path).content.decode()
        assert 'href="/corrections/"' in page, path


def test_the_corrections_page_lists_the_requests_in_the_users_scope(world):
    _file(world)
    request = CorrectionRequest.objects.get()
    link = f'href="/corrections/{request.pk}/"'
    for who in ("student_a", "officer_10001", "province_11"):
        page = _client(world[who]).get("/corrections/").content.decode()
        assert link in page, who
    for who in ("student_c", "officer_10003", "province_31"):
        page = _client(world[who]).get("/corrections/").content.decode()
        assert link not in page, who


def test_choices_are_entered_and_shown_as_the_pages_show_them(world):
    response = _file(world, field_0="learning_form", value_0="Correspondence")
    assert response.status_code == 302
    correction = CorrectionRequest.objects.get()
    assert correction.changes[0]["new"] == "correspondence"
    review = _task(CorrectionFlow.school_review)
    page = _client(world["officer_10001"]).get(f"/work/{review.pk}/").content.decode()
    assert "Regular full-time" in page
    assert "Correspondence" in page
    assert "full_time" not in page


def test_an_unknown_choice_is_refused_next_to_its_input(world):
    response = _file(world, field_0="graduation_result", value_0="dropped out")
    assert response.status_code == 200
    assert "Choose one of: Graduated, Completed without graduating." in response.content.decode()
    assert 'value="dropped out"' in response.content.decode()
    assert not CorrectionRequest.objects.exists()


def test_pages_name_people_not_their_user_names(world):
    student = world["student_a"]
    student.last_name, student.first_name = "王", "小明"
    student.save()
    officer = world["officer_10001"]
    officer.last_name, officer.first_name = "张", "伟"
    officer.save()
    _file(world)
    correction = CorrectionRequest.objects.get()
    work.decide(
        task_pk=_task(CorrectionFlow.school_review).pk,
        user=officer,
        decision="return",
        comment="请附证明",
    )

    page = _client(officer).get(f"/corrections/{correction.pk}/").content.decode()

    assert 'filed by <span id="requester">王小明</span>' in page
    timeline = page.split('id="timeline"')[1]
    assert "王小明" in timeline
    assert "张伟" in timeline
    assert "student_a" not in page
    assert "officer_10001" not in timeline  # (the menu shows the viewer's own email address)
    assert "Welcome, 王小明" in _client(student).get("/home/").content.decode()


def test_the_change_table_shows_the_values_at_filing_and_the_corrections(world, settings):
    _file(world)
    correction = CorrectionRequest.objects.get()
    officer = _client(world["officer_10001"])

    in_english = officer.get(f"/corrections/{correction.pk}/").content.decode()
    officer.cookies[settings.LANGUAGE_COOKIE_NAME] = "zh-hans"
    in_chinese = officer.get(f"/corrections/{correction.pk}/").content.decode()

    assert "<th>Field</th><th>Value at filing</th><th>Corrected to</th>" in in_english
    assert "<th>原值</th><th>更正为</th>" in in_chinese
    assert "<td>王小明</td><td><strong>王晓明</strong></td>" in in_chinese
