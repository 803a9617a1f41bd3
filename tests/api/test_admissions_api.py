"""``/api/v1/admission-imports/``, ``/admissions/`` and ``/student-statuses/``: uploads and
their progress and error report, scoped lists with filters, ID numbers masked."""

from __future__ import annotations

import codecs
import csv
import io

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from records.models import AdmissionRecord
from records.models import StudentStatus
from records.validators import mask_id_number
from tests import factories
from tests.api.helpers import assert_error
from tests.api.helpers import token_client
from tests.records.admission_files import csv_bytes
from tests.records.admission_files import imported
from tests.records.admission_files import reference
from tests.records.admission_files import row

pytestmark = pytest.mark.django_db

IMPORTS = "/api/v1/admission-imports/"


@pytest.fixture
def officer(places):
    reference()
    return factories.officer(places.pku, "officer_10001")


@pytest.fixture
def upload(django_capture_on_commit_callbacks):
    """Upload, and run what the upload queued; answers the upload's response, ``queued``
    (the test's transaction defers the queueing to after the answer, as a worker would)."""

    def post(client, content: bytes, **data):
        file = SimpleUploadedFile("新生.csv", content, content_type="text/csv")
        with django_capture_on_commit_callbacks(execute=True):
            return client.post(IMPORTS, {"file": file, **data}, format="multipart")

    return post


def _done(client, response):
    assert response.status_code == 202, response.content
    return client.get(f"{IMPORTS}{response.json()['id']}/").json()


class TestImports:
    def test_an_upload_is_accepted_and_runs(self, officer, upload):
        client = token_client(officer)

        response = upload(client, csv_bytes([row(1), row(2, gender="?")], encoding="gbk"))

        assert response.json()["state"] == "queued"
        body = _done(client, response)
        assert {k: body[k] for k in ("state", "total", "imported", "duplicates", "invalid")} == {
            "state": "done",
            "total": 2,
            "imported": 1,
            "duplicates": 0,
            "invalid": 1,
        }
        assert body["original_name"] == "新生.csv"

    def test_the_error_report_is_csv_with_a_bom_and_spreadsheet_rows(self, officer, upload):
        client = token_client(officer)
        batch = _done(client, upload(client, csv_bytes([row(1), row(2, gender="?")], chinese=True)))

        response = client.get(batch["errors_url"])

        assert response.status_code == 200
        assert response["Content-Type"] == "text/csv; charset=utf-8"
        assert "attachment" in response["Content-Disposition"]
        content = b"".join(response.streaming_content)  # type: ignore[attr-defined]
        assert content.startswith(codecs.BOM_UTF8)
        lines = list(csv.reader(io.StringIO(content.decode("utf-8-sig"))))
        assert lines[0] == ["row", "column", "code", "message"]
        assert lines[1][:3] == ["3", "性别", "invalid_choice"]

    def test_a_re_upload_counts_duplicates(self, officer, upload):
        client = token_client(officer)
        content = csv_bytes([row(1), row(2)])
        upload(client, content)

        again = _done(client, upload(client, content))

        assert (again["imported"], again["duplicates"]) == (0, 2)

    def test_all_or_nothing_is_a_mode(self, officer, upload):
        client = token_client(officer)
        response = upload(client, csv_bytes([row(1), row(2, gender="?")]), mode="all_or_nothing")

        assert _done(client, response)["invalid"] == 1
        assert AdmissionRecord.objects.count() == 0

    def test_a_student_may_not_import(self, officer, upload, places):
        student = factories.user("a_student")

        response = upload(token_client(student), csv_bytes([row(1)]))

        assert_error(response, 403, "permission_denied")

    def test_a_school_the_officer_does_not_act_for_is_a_field_error(self, officer, upload):
        response = upload(token_client(officer), csv_bytes([row(1)]), school="10003")

        assert_error(response, 400, "invalid")
        assert "school" in response.json()["fields"]

    def test_a_file_over_the_limit_is_refused(self, officer, upload, settings):
        settings.ADMISSION_IMPORT_MAX_MB = 0

        response = upload(token_client(officer), csv_bytes([row(1)]))

        assert_error(response, 400, "invalid")
        assert "file" in response.json()["fields"]

    def test_another_users_import_is_a_404(self, officer, upload, places):
        batch = upload(token_client(officer), csv_bytes([row(1)])).json()
        colleague = token_client(factories.officer(places.pku))

        assert_error(colleague.get(f"{IMPORTS}{batch['id']}/"), 404, "not_found")
        assert_error(colleague.get(f"{IMPORTS}{batch['id']}/errors/"), 404, "not_found")
        assert colleague.get(IMPORTS).json()["results"] == []


@pytest.fixture
def cohorts(officer, places):
    """Two admissions at 10001, one at 10003 (北京), one at 10246 (上海)."""
    imported(csv_bytes([row(1), row(2, admission_type="国家专项计划")]), officer)
    imported(csv_bytes([row(3, school_code="10003")]), None)
    shanghai = row(4, school_code="10246", origin_province="31")
    shanghai["candidate_number"] = "2631" + shanghai["candidate_number"][4:]
    imported(csv_bytes([shanghai]), None)
    return {r.candidate_number: r for r in AdmissionRecord.objects.select_related("student")}


def _numbers(response) -> list[str]:
    assert response.status_code == 200, response.content
    return sorted(r["candidate_number"] for r in response.json()["results"])


class TestAdmissionList:
    def test_each_role_sees_its_scope(self, cohorts, officer, places):
        ours = sorted(n for n, r in cohorts.items() if r.school_id == "10001")
        beijing = sorted(n for n, r in cohorts.items() if r.province_id == "11")

        assert _numbers(token_client(officer).get("/api/v1/admissions/")) == ours
        admin = token_client(factories.provincial_admin(places.bj))
        assert _numbers(admin.get("/api/v1/admissions/")) == beijing
        other = token_client(factories.officer(places.fdu))
        assert len(_numbers(other.get("/api/v1/admissions/"))) == 1

    def test_a_student_sees_their_own(self, cohorts):
        record = next(iter(cohorts.values()))
        login = factories.user("freshman")
        record.student.user = login
        record.student.save()

        assert _numbers(token_client(login).get("/api/v1/admissions/")) == [record.candidate_number]

    def test_rows_mask_the_id_number(self, cohorts, officer):
        body = token_client(officer).get("/api/v1/admissions/").json()
        first = body["results"][0]
        person = cohorts[first["candidate_number"]].student

        assert first["id_number_masked"] == mask_id_number(person.id_number)
        assert person.id_number not in str(body)
        assert first["school_name"] == "北京大学"
        assert first["state"] == "admitted"
        assert first["status"] is None

    @pytest.mark.parametrize(
        ("params", "count"),
        [
            ({"school": "10001"}, 2),
            ({"year": "2026"}, 2),
            ({"year": "2025"}, 0),
            ({"state": "admitted"}, 2),
            ({"state": "registered"}, 0),
            ({"admission_type": "national_special_plan"}, 1),
        ],
    )
    def test_filters(self, cohorts, officer, params, count):
        client = token_client(officer)

        assert len(_numbers(client.get("/api/v1/admissions/", params))) == count

    def test_search_by_name_candidate_number_and_whole_id_number(self, cohorts, officer):
        client = token_client(officer)
        first = cohorts[row(1)["candidate_number"]]

        by_name = client.get("/api/v1/admissions/", {"q": first.student.name[:3]})
        assert first.candidate_number in _numbers(by_name)
        by_number = client.get("/api/v1/admissions/", {"q": first.candidate_number})
        assert _numbers(by_number) == [first.candidate_number]
        by_id = client.get("/api/v1/admissions/", {"q": first.student.id_number})
        assert _numbers(by_id) == [first.candidate_number]
        part_of_id = client.get("/api/v1/admissions/", {"q": first.student.id_number[:-2]})
        assert _numbers(part_of_id) == []

    @pytest.mark.parametrize(("name", "value"), [("year", "26"), ("state", "graduated")])
    def test_a_bad_filter_is_a_400_naming_it(self, cohorts, officer, name, value):
        response = token_client(officer).get("/api/v1/admissions/", {name: value})

        assert name in assert_error(response, 400, "invalid")["fields"]


def test_student_statuses_are_listed_in_scope_and_masked(cohorts, officer, places):
    record = cohorts[row(1)["candidate_number"]]
    StudentStatus.objects.create(
        student=record.student,
        admission=record,
        school=places.pku,
        province=places.bj,
        student_number="2026000001",
        candidate_number=record.candidate_number,
        level="bachelor",
        major_code="080901",
        major_name="计算机科学与技术",
        learning_form="full_time",
        study_length="4",
        entry_date="2026-09-01",
        expected_graduation="2030-07-01",
    )

    body = token_client(officer).get("/api/v1/student-statuses/", {"q": "2026000001"}).json()
    (status,) = body["results"]
    assert status["student_number"] == "2026000001"
    assert status["id_number_masked"] == mask_id_number(record.student.id_number)
    assert status["state"] == "enrolled"
    other = token_client(factories.officer(places.thu))
    assert other.get("/api/v1/student-statuses/").json()["results"] == []
    listed = token_client(officer).get("/api/v1/admissions/", {"q": "2026000001"}).json()
    assert listed["results"][0]["status"] == {"id": status["id"], "student_number": "2026000001"}
