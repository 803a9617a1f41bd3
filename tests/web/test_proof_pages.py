"""The certificate proof pages: the student applies from the qualification's page (errors at
their fields, nothing filed), follows and withdraws the application; the officer decides on
the shared task page with the proof's panel; the qualification's page then shows the lost
mark and the proof's number; nothing outside one's scope is found."""

from __future__ import annotations

from types import SimpleNamespace

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client

from records.models import CertificateProof
from tests import factories
from tests.evidence_files import real_png
from workflows.models import WorkItem

pytestmark = pytest.mark.django_db


def _client(user):
    client = Client()
    client.force_login(user)
    return client


@pytest.fixture
def w(places):
    world = SimpleNamespace()
    world.student = factories.user("student_a")
    world.q = factories.qualification(factories.student("李四", login=world.student), places.pku)
    world.officer = factories.officer(places.pku, "officer_10001")
    world.officer_b = factories.officer(places.pku, "officer_10001b")
    world.foreign = factories.officer(places.fdu, "officer_10246")
    return world


def _qualification_page(w, user=None):
    return _client(user or w.student).get(f"/corrections/qualifications/{w.q.pk}/")


def test_apply_from_the_qualification_page_and_decide_on_the_task_page(w):
    html = _qualification_page(w).content.decode()
    link = f'href="/certificate-proofs/new/?qualification={w.q.pk}"'
    assert link in html
    student = _client(w.student)
    form = student.get(f"/certificate-proofs/new/?qualification={w.q.pk}").content.decode()
    assert 'name="reason"' in form
    assert 'name="note"' in form
    refused = student.post(f"/certificate-proofs/new/?qualification={w.q.pk}", {"note": ""})
    assert refused.status_code == 200
    assert 'id="error-summary"' in refused.content.decode()
    assert CertificateProof.objects.count() == 0

    filed = student.post(
        f"/certificate-proofs/new/?qualification={w.q.pk}",
        {
            "reason": "lost",
            "note": "2026年10月搬家时遗失，已登报声明",
            "evidence": SimpleUploadedFile("notice.png", real_png(), content_type="image/png"),
        },
    )
    proof = CertificateProof.objects.get()
    assert filed.status_code == 302
    assert filed["Location"] == f"/certificate-proofs/{proof.pk}/"
    page = student.get(f"/certificate-proofs/{proof.pk}/").content.decode()
    assert "已提交" in page
    assert "notice.png" in page
    # The qualification's page now points to the open application instead of a new one.
    html = _qualification_page(w).content.decode()
    assert link not in html
    assert f'href="/certificate-proofs/{proof.pk}/"' in html

    item = WorkItem.objects.get(flow="certificate_proof")
    officer = _client(w.officer)
    assert f"/work/{item.pk}/" in officer.get("/work/").content.decode()
    task_page = officer.get(f"/work/{item.pk}/").content.decode()
    assert w.q.certificate_number in task_page
    assert "2026年10月搬家时遗失" in task_page
    assert f"/certificate-proofs/{proof.pk}/evidence/" in task_page
    assert _client(w.foreign).get(f"/work/{item.pk}/").status_code == 404
    done = officer.post(f"/work/{item.pk}/", {"decision": "approve", "comment": ""})
    assert done.status_code == 302

    proof.refresh_from_db()
    html = _qualification_page(w).content.decode()
    assert 'id="lost-mark"' in html
    assert proof.number in html
    assert "遗失作废" in html
    assert link not in html
    english = _client(w.student)
    english.cookies["django_language"] = "en"
    page = english.get(f"/certificate-proofs/{proof.pk}/", HTTP_ACCEPT_LANGUAGE="en")
    assert proof.number in page.content.decode()


def test_evidence_and_pages_are_for_those_who_may_see_them(w):
    student = _client(w.student)
    student.post(
        f"/certificate-proofs/new/?qualification={w.q.pk}",
        {
            "reason": "damaged",
            "note": "证书被水浸泡",
            "evidence": SimpleUploadedFile("photo.png", real_png(), content_type="image/png"),
        },
    )
    proof = CertificateProof.objects.get()
    evidence = proof.evidence.get()
    url = f"/certificate-proofs/{proof.pk}/evidence/{evidence.pk}/"
    served = student.get(url)
    assert served.status_code == 200
    assert served["Content-Type"] == "image/png"
    assert served["X-Content-Type-Options"] == "nosniff"
    assert _client(w.officer).get(url).status_code == 200
    foreign = _client(w.foreign)
    assert foreign.get(url).status_code == 404
    assert foreign.get(f"/certificate-proofs/{proof.pk}/").status_code == 404
    assert foreign.get(f"/certificate-proofs/new/?qualification={w.q.pk}").status_code == 404
    assert f'id="proof-{proof.pk}"' not in foreign.get("/certificate-proofs/").content.decode()
    assert f'id="proof-{proof.pk}"' in student.get("/certificate-proofs/").content.decode()


def test_the_student_withdraws_after_confirming(w):
    student = _client(w.student)
    student.post(
        f"/certificate-proofs/new/?qualification={w.q.pk}",
        {"reason": "lost", "note": "遗失"},
    )
    proof = CertificateProof.objects.get()
    asked = student.post(f"/certificate-proofs/{proof.pk}/", {"action": "withdraw"})
    assert 'id="confirm-withdraw"' in asked.content.decode()
    assert CertificateProof.objects.get().state == "submitted"
    student.post(f"/certificate-proofs/{proof.pk}/", {"action": "withdraw", "confirm": "yes"})
    assert CertificateProof.objects.get().state == "withdrawn"
