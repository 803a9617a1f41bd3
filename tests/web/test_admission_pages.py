"""The admission pages: the list with counts, filters and search; the import with its
progress and error report."""

from __future__ import annotations

import codecs

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client

from records.models import AdmissionRecord
from records.validators import mask_id_number
from tests import factories
from tests.records.admission_files import csv_bytes
from tests.records.admission_files import imported
from tests.records.admission_files import reference
from tests.records.admission_files import row

pytestmark = pytest.mark.django_db


@pytest.fixture
def officer(places):
    reference()
    return factories.officer(places.pku, "officer_10001")


def _client(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def test_an_officer_imports_a_file_and_follows_it(officer, django_capture_on_commit_callbacks):
    client = _client(officer)
    form = client.get("/admissions/imports/new/")
    assert form.status_code == 200
    assert "考生号" in form.content.decode()  # the columns it takes, named

    content = csv_bytes([row(1), row(2, gender="?")], encoding="gbk", chinese=True)
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(
            "/admissions/imports/new/",
            {"file": SimpleUploadedFile("新生.csv", content), "mode": "skip_invalid"},
        )
    assert response.status_code == 302
    detail = client.get(response["Location"])
    text = detail.content.decode()
    assert detail.status_code == 200
    assert "新生.csv" in text
    assert 'http-equiv="refresh"' not in text  # done: no more reloading
    assert "性别" in text  # the error's column, as the file names it
    report = client.get(f"{response['Location']}errors.csv")
    content = b"".join(report.streaming_content)  # type: ignore[attr-defined]
    assert content.startswith(codecs.BOM_UTF8)
    assert "3,性别,invalid_choice" in content.decode("utf-8-sig")


def test_a_running_import_page_reloads_itself(officer):
    from records.admissions.imports import queue_import

    batch = queue_import(upload=SimpleUploadedFile("x.csv", b"x"), name="x.csv", user=officer)

    text = _client(officer).get(f"/admissions/imports/{batch.pk}/").content.decode()

    assert 'http-equiv="refresh"' in text


def test_an_import_of_someone_else_is_a_404(officer, places):
    batch = imported(csv_bytes([row(1)]), officer)
    colleague = _client(factories.officer(places.pku))

    assert colleague.get(f"/admissions/imports/{batch.pk}/").status_code == 404
    assert colleague.get(f"/admissions/imports/{batch.pk}/errors.csv").status_code == 404


def test_only_officers_import(places):
    student = factories.user("a_student")

    assert _client(student).get("/admissions/imports/new/").status_code == 403


def test_the_list_counts_filters_and_searches(officer, places):
    imported(csv_bytes([row(n) for n in range(1, 4)]), officer)
    imported(csv_bytes([row(9, school_code="10003")]), None)
    client = _client(officer)

    text = client.get("/admissions/").content.decode()
    first = AdmissionRecord.objects.get(candidate_number=row(1)["candidate_number"])
    assert "北京大学" in text
    assert first.student.name in text
    assert mask_id_number(first.student.id_number) in text
    assert first.student.id_number not in text
    assert row(9)["candidate_number"] not in text  # another school's

    found = client.get("/admissions/", {"q": first.student.id_number}).content.decode()
    assert first.candidate_number in found
    assert row(2)["candidate_number"] not in found
    none = client.get("/admissions/", {"state": "registered"}).content.decode()
    assert first.candidate_number not in none


def test_a_provincial_administrator_sees_every_school_of_the_province(officer, places):
    imported(csv_bytes([row(1)]), officer)
    imported(csv_bytes([row(9, school_code="10003")]), None)

    text = _client(factories.provincial_admin(places.bj)).get("/admissions/").content.decode()

    assert row(1)["candidate_number"] in text
    assert row(9)["candidate_number"] in text
    assert "清华大学" in text  # the school filter offers both
