"""The student's verification report pages (create, read the code, link, QR code and access
log, extend, revoke) and the public page of a code, without login (issue 11 items 7, 8)."""

from __future__ import annotations

import datetime

import pytest
import time_machine
from django.core.cache import cache
from django.test import Client

from records.models import VerificationReport
from tests.verification import BEIJING
from tests.verification import NOW
from tests.verification import world

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _clock_and_cache(db):
    cache.clear()
    with time_machine.travel(NOW, tick=False):
        yield
    cache.clear()


def _client(user):
    client = Client()
    client.force_login(user)
    return client


def _create(client, subject, months="3"):
    return client.post("/verification/", {"subject": subject, "months": months})


def test_the_home_page_and_the_qualification_page_link_to_the_reports(places):
    w = world(places)
    client = _client(w.student)

    assert 'href="/verification/"' in client.get("/home/").content.decode()
    page = client.get(f"/corrections/qualifications/{w.qualification.pk}/").content.decode()
    assert f'href="/verification/?subject=qualification:{w.qualification.pk}"' in page


def test_the_student_creates_a_report_and_reads_its_code_link_qr_and_expiry(places):
    w = world(places)
    client = _client(w.student)

    response = _create(client, f"qualification:{w.qualification.pk}", "3")

    report = VerificationReport.objects.get()
    assert response.status_code == 302
    assert response["Location"] == f"/verification/{report.pk}/"
    html = client.get(response["Location"]).content.decode()
    assert report.code in html
    assert f"http://testserver/verify/{report.code}" in html
    assert "<svg" in html
    assert "2027-02-28 10:00" in html
    assert report.expires == datetime.datetime(2027, 2, 28, 10, 0, tzinfo=BEIJING)


def test_a_bad_choice_is_shown_at_its_field_and_nothing_is_created(places):
    w = world(places)
    client = _client(w.student)

    response = _create(client, f"qualification:{w.others_qualification.pk}", "9")

    assert response.status_code == 200
    html = response.content.decode()
    assert 'id="error-months"' in html
    assert 'id="error-qualification"' in html
    assert not VerificationReport.objects.exists()


def test_the_student_extends_then_revokes_and_sees_the_accesses(places):
    w = world(places)
    client = _client(w.student)
    _create(client, f"status:{w.status.pk}", "1")
    report = VerificationReport.objects.get()
    Client().get(f"/verify/{report.code}", REMOTE_ADDR="198.51.100.7")

    client.post(f"/verification/{report.pk}/", {"action": "extend", "months": "6"})
    report.refresh_from_db()
    assert report.expires == datetime.datetime(2027, 5, 30, 10, 0, tzinfo=BEIJING)
    html = client.get(f"/verification/{report.pk}/").content.decode()
    assert "198.51.100.7" in html
    client.post(f"/verification/{report.pk}/", {"action": "revoke"})

    report.refresh_from_db()
    assert report.revoked_at is not None
    assert Client().get(f"/verify/{report.code}").status_code == 410


def test_another_students_report_page_is_404(places):
    w = world(places)
    _create(_client(w.student), f"qualification:{w.qualification.pk}")
    report = VerificationReport.objects.get()

    other = _client(w.other)
    assert other.get(f"/verification/{report.pk}/").status_code == 404
    assert other.post(f"/verification/{report.pk}/", {"action": "revoke"}).status_code == 404
    report.refresh_from_db()
    assert report.revoked_at is None


@pytest.mark.parametrize(
    ("language", "words"),
    [
        ("zh-hans", ["在线验证报告", "北京大学"]),
        ("en", ["Online verification report", "北京大学", "Undergraduate"]),
    ],
)
def test_the_public_page_needs_no_login_and_never_shows_the_id_number(places, language, words):
    w = world(places)
    _create(_client(w.student), f"qualification:{w.qualification.pk}")
    report = VerificationReport.objects.get()

    response = Client().get(f"/verify/{report.code}", headers={"Accept-Language": language})

    assert response.status_code == 200
    html = response.content.decode()
    for word in words:
        assert word in html
    assert w.qualification.certificate_number in html
    number = w.qualification.id_number
    assert number not in html
    assert number[:4] + "*" not in html
    assert number[-4:] not in html.replace(w.qualification.certificate_number, "")


def test_a_status_report_page_never_shows_the_id_number(places):
    w = world(places)
    _create(_client(w.student), f"status:{w.status.pk}")
    report = VerificationReport.objects.get()

    html = Client().get(f"/verify/{report.code}").content.decode()

    assert w.status.student_number in html
    assert w.status.student.id_number not in html


def test_the_public_page_of_an_unknown_code_is_404(places):
    response = Client().get("/verify/AAAAAAAAAAAAAAAA")

    assert response.status_code == 404
    assert "No such report" in response.content.decode() or "没有" in response.content.decode()
