"""Qualification registration's pages: the graduating cohorts' list (a province's
administrators see every school's, filtered, with counts), the officer's form to open a
cohort, a cohort's page (prepare every student due, one decision for the checked graduates,
the photo gate and the re-check of a held graduate, "register the cohort" and what it did),
and the link from the task pages; in Chinese and in English, never an ID number."""

from __future__ import annotations

import pytest
from django.test import Client

from records.choices import GraduationResult
from records.choices import QualificationStatus
from records.choices import StatusState
from records.graduation import services
from records.models import GraduationCohort
from records.models import PhotoRecheck
from records.models import Qualification
from tests import factories
from tests.graduation import cohorts as g
from workflows.models import QualificationRegistrationProcess

pytestmark = pytest.mark.django_db


def _client(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


@pytest.fixture
def w(places):
    return g.world(places)


def test_the_province_sees_every_schools_cohorts_filtered_with_their_counts(w, places):
    a, b = g.graduands(2)
    g.graduands(1, school="10003")
    g.graduands(1, school="10246")
    mine = g.open_cohort(w.officer, places.pku)
    theirs = g.open_cohort(w.thu_officer, places.thu)
    g.open_cohort(factories.officer(places.fdu), places.fdu)
    services.prepare_all(cohort_pk=mine.pk, acting_user=w.officer)
    g.prepare(w.officer, mine, g.item(b, identity_check="failed"))

    html = _client(w.admin).get("/graduations/").content.decode()

    assert "北京大学" in html
    assert "清华大学" in html
    assert "复旦大学" not in html  # another province
    assert f'href="/graduations/{mine.pk}/?show=held">1</a>' in html  # held
    assert f'href="/graduations/{mine.pk}/">2</a>' in html  # prepared
    assert html.count("<td>1</td>") >= 1  # 清华大学's one due, not prepared
    assert 'name="action" value="open"' not in html  # administrators open nothing
    filtered = _client(w.admin).get("/graduations/", {"q": "清华"}).content.decode()
    assert f'href="/graduations/{theirs.pk}/"' in filtered
    assert f'href="/graduations/{mine.pk}/"' not in filtered
    w.admin.language = "en"
    w.admin.save(update_fields=["language"])
    english = _client(w.admin).get("/graduations/").content.decode()
    assert "Held by the photo comparison" in english
    assert "Due to graduate, not prepared" in english
    assert a.student.id_number not in html


def test_scope_another_schools_officer_and_a_student(w, places):
    (status,) = g.graduands(1)
    cohort = g.open_cohort(w.officer, places.pku)
    student = g.with_account(status, "grad_1")

    assert _client(w.thu_officer).get(f"/graduations/{cohort.pk}/").status_code == 404
    assert _client(w.admin_sh).get(f"/graduations/{cohort.pk}/").status_code == 404
    posted = _client(w.thu_officer).post(f"/graduations/{cohort.pk}/", {"action": "register"})
    assert posted.status_code == 404
    assert _client(student).get("/graduations/").status_code == 403
    assert _client(student).get(f"/graduations/{cohort.pk}/").status_code == 403
    # The province's administrator reads the cohort but acts for no school.
    admin = _client(w.admin)
    assert admin.get(f"/graduations/{cohort.pk}/").status_code == 200
    assert admin.post(f"/graduations/{cohort.pk}/", {"action": "prepare_all"}).status_code == 403
    assert Qualification.objects.count() == 0
    home = _client(w.officer).get("/home/").content.decode()
    assert 'href="/graduations/"' in home
    assert 'href="/graduations/"' not in _client(student).get("/home/").content.decode()


def test_an_officer_opens_a_cohort_errors_at_their_fields(w, places):
    officer = _client(w.officer)
    html = officer.get("/graduations/").content.decode()
    assert "开设毕业批次" in html

    refused = officer.post(
        "/graduations/",
        {"action": "open", "school": "10001", "graduation_date": "", "principal_name": "x1"},
    )

    assert refused.status_code == 200
    page = refused.content.decode()
    assert 'id="error-summary"' in page
    assert 'href="#id_graduation_date"' in page
    named = officer.post(
        "/graduations/",
        {
            "action": "open",
            "school": "10001",
            "graduation_date": "2027-06-30",
            "principal_name": "Gong 1",
        },
    ).content.decode()
    assert 'href="#id_principal_name"' in named  # the service's check of a person's name
    assert 'value="2027-06-30"' in named  # kept
    assert GraduationCohort.objects.count() == 0

    opened = officer.post(
        "/graduations/",
        {
            "action": "open",
            "school": "10001",
            "graduation_date": "2027-06-30",
            "principal_name": "龚旗煌",
        },
    )
    cohort = GraduationCohort.objects.get()
    assert opened["Location"] == f"/graduations/{cohort.pk}/"
    assert (cohort.school_id, cohort.principal_name) == ("10001", "龚旗煌")
    assert QualificationRegistrationProcess.objects.filter(cohort=cohort).exists()
    elsewhere = _client(w.thu_officer).post(
        "/graduations/",
        {
            "action": "open",
            "school": "10001",
            "graduation_date": "2027-06-29",
            "principal_name": "龚旗煌",
        },
    )
    assert elsewhere.status_code == 200  # 北京大学 is no choice of 清华大学's officer
    assert GraduationCohort.objects.count() == 1


def test_prepare_every_student_due_then_decide_for_the_checked(w, places):
    a, b, c = g.graduands(3)
    cohort = g.open_cohort(w.officer, places.pku)
    officer = _client(w.officer)
    url = f"/graduations/{cohort.pk}/"
    assert "为全部 3 名应届毕业生预备学历" in officer.get(url).content.decode()

    done = officer.post(url, {"action": "prepare_all"})

    assert done["Location"] == url
    assert Qualification.objects.filter(cohort=cohort, status="draft").count() == 3
    page = officer.get(url).content.decode()
    assert 'id="prepared"' in page
    for status in (a, b, c):
        assert f'name="statuses" value="{status.pk}"' in page
        assert status.student.name in page
        assert status.student.id_number not in page

    nothing = officer.post(url, {"action": "decide", "decision": "completed"})
    assert nothing.status_code == 200
    assert "请至少勾选一名毕业生" in nothing.content.decode()
    no_decision = officer.post(url, {"action": "decide", "statuses": [a.pk]})
    assert 'href="#decisions"' in no_decision.content.decode()
    assert f'id="pick-{a.pk}" aria-label="{a.student.name} {a.student_number}" checked' in (
        no_decision.content.decode()
    )

    officer.post(url, {"action": "decide", "statuses": [a.pk], "decision": "completed"})
    officer.post(url, {"action": "decide", "statuses": [b.pk], "decision": "check:uncertain"})
    said = officer.post(url, {"action": "decide", "statuses": [c.pk], "decision": "none"})
    assert said.status_code == 302

    assert g.draft_of(a).graduation_result == GraduationResult.COMPLETED
    assert g.draft_of(b).identity_check == "uncertain"
    assert g.draft_of(b).graduation_result == GraduationResult.GRADUATED
    assert not Qualification.objects.filter(student_status=c).exists()
    page = officer.get(f"{url}?show=held").content.decode()
    assert b.student.name in page
    assert a.student.name not in page
    assert 'class="xj-row--held"' in page
    assert "因图像比对暂停注册" in page


def test_register_says_what_happened_with_the_refused_at_their_rows(w, places):
    ready, held = g.graduands(2)
    (no_photo,) = g.graduands(1, photo=False)
    cohort = g.open_cohort(w.officer, places.pku)
    services.prepare_all(cohort_pk=cohort.pk, acting_user=w.officer)
    g.prepare(w.officer, cohort, g.item(held, identity_check="failed"))
    officer = _client(w.officer)
    url = f"/graduations/{cohort.pk}/"
    page = officer.get(url).content.decode()
    assert f'<tr id="graduate-{no_photo.pk}" class="xj-row--problem">' in page
    assert "缺少毕业照片" in page

    done = officer.post(url, {"action": "register"})

    assert done["Location"] == url
    assert Qualification.objects.get(student_status=ready).status == QualificationStatus.REGISTERED
    ready.refresh_from_db()
    assert ready.state == StatusState.GRADUATED
    assert g.draft_of(held).status == QualificationStatus.DRAFT
    assert g.draft_of(no_photo).status == QualificationStatus.DRAFT
    page = officer.get(url).content.decode()
    assert "已注册 1 名毕业生" in page
    assert "1 名毕业生因图像比对暂停注册" in page
    assert "1 名毕业生未通过检查" in page
    summary = page.split('id="error-summary"')[1].split("</div>")[0]
    assert f'href="#graduate-q{g.draft_of(no_photo).pk}"' in summary
    assert "缺少毕业照片" in summary
    again = officer.get(url).content.decode()
    assert 'id="registration"' not in again  # said once
    registered = officer.get(f"{url}?show=registered").content.decode()
    assert ready.student.name in registered
    assert Qualification.objects.get(student_status=ready).certificate_number in registered


def test_a_held_graduate_is_rechecked_from_its_row(w, places):
    (held,) = g.graduands(1)
    cohort = g.open_cohort(w.officer, places.pku)
    services.prepare_all(cohort_pk=cohort.pk, acting_user=w.officer)
    g.prepare(w.officer, cohort, g.item(held, identity_check="failed"))
    draft = g.draft_of(held)
    officer = _client(w.officer)
    url = f"/graduations/{cohort.pk}/"
    first = officer.get(url).content.decode()
    assert f'id="recheck-{draft.pk}"' in first
    assert 'id="register"' not in first  # nothing is ready to register
    english = _client(w.officer_b).get(url).content.decode()
    assert "File the re-check with the province" in english
    assert "Photo comparison failed" in english

    empty = officer.post(url, {"action": "recheck", "qualification": draft.pk, "finding": " "})

    assert empty.status_code == 200
    page = empty.content.decode()
    assert f'href="#finding-{draft.pk}"' in page
    assert f'id="finding-{draft.pk}" form="recheck-{draft.pk}" rows="2" aria-invalid="true"' in page
    assert PhotoRecheck.objects.count() == 0

    filed = officer.post(
        url, {"action": "recheck", "qualification": draft.pk, "finding": "核对身份证原件，本人无误"}
    )

    assert filed.status_code == 302
    recheck = PhotoRecheck.objects.get()
    assert recheck.finding == "核对身份证原件，本人无误"
    item = g.recheck_item(recheck.pk)
    page = officer.get(url).content.decode()
    assert f'id="recheck-state-{draft.pk}">复核: 待省级备案' in page
    assert f'id="recheck-{draft.pk}"' not in page  # one pending re-check at a time
    wrong = officer.post(url, {"action": "recheck", "qualification": 999999, "finding": "x"})
    assert wrong.status_code == 404
    task = _client(w.admin).get(f"/work/{item.pk}/").content.decode()
    assert f'href="/graduations/{cohort.pk}/?show=held"' in task


def test_the_registration_task_links_to_the_cohort_page(w, places):
    cohort = g.open_cohort(w.officer, places.pku)
    item = g.task_item(cohort)
    task = _client(w.officer).get(f"/work/{item.pk}/").content.decode()
    assert f'href="/graduations/{cohort.pk}/"' in task


def test_numbers_of_other_scripts_or_past_a_bigint_name_no_object(w, places):
    """A form's object numbers as ``<id:pk>`` reads them: ``"²".isdigit()`` is true but
    ``int("²")`` fails, and a number past 2**63 - 1 cannot reach a bigint column."""
    g.graduand()
    cohort = g.open_cohort(w.officer, places.pku)
    services.prepare_all(cohort_pk=cohort.pk, acting_user=w.officer)
    page = f"/graduations/{cohort.pk}/"
    client = _client(w.officer)
    recheck = client.post(page, {"action": "recheck", "qualification": "²", "finding": "x"})
    assert recheck.status_code == 404
    decide = client.post(
        page, {"action": "decide", "statuses": ["²", "9" * 30], "decision": "graduated"}
    )
    assert decide.status_code in (200, 302)
    work = client.post("/work/", {"tasks": ["²", "9" * 30], "decision": "register"})
    assert work.status_code in (200, 302)
