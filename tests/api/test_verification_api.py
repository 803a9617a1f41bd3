"""``/api/v1/verification-reports/``: the student's own reports (create, list, read with the
access log, extend, revoke) and ``/api/v1/verify/…``: the public look-ups (issue 11 items 7,
8)."""

from __future__ import annotations

import datetime
import re

import psycopg
import pytest
import time_machine
from django.core.cache import caches
from django.core.cache.backends.db import DatabaseCache
from django.db import connection
from django.test.utils import CaptureQueriesContext

from records.models import AuditEvent
from records.models import ReportAccess
from records.models import VerificationReport
from records.qualifications import qualification_revoke
from tests import factories
from tests.api.helpers import assert_error
from tests.api.helpers import token_client
from tests.verification import BEIJING
from tests.verification import NOW
from tests.verification import World
from tests.verification import world

pytestmark = pytest.mark.django_db

REPORTS = "/api/v1/verification-reports/"
CODE = re.compile(r"[A-Z0-9]{16}")


@pytest.fixture
def w(places) -> World:
    return world(places)


@pytest.fixture
def now():
    with time_machine.travel(NOW, tick=False) as traveller:
        yield traveller


def _create(w: World, **body):
    return token_client(w.student).post(REPORTS, body, format="json")


def test_creating_a_report_answers_201_with_code_expiry_link_and_qr(w, now):
    response = _create(w, qualification=w.qualification.pk, months=3)

    assert response.status_code == 201, response.content
    body = response.json()
    assert {"id", "code", "expires", "url", "qr"} <= set(body)
    assert CODE.fullmatch(body["code"])
    assert body["url"] == f"http://testserver/verify/{body['code']}"
    assert body["qr"] == f"http://testserver/verify/{body['code']}/qr.svg"
    expires = datetime.datetime.fromisoformat(body["expires"])
    assert expires == datetime.datetime(2027, 2, 28, 10, 0, tzinfo=BEIJING)  # 30 Nov + 3 months
    report = VerificationReport.objects.get(pk=body["id"])
    assert AuditEvent.objects.filter(action="verification_report.created").count() == 1
    assert report.student == w.qualification.student


def test_codes_differ_between_reports(w, now):
    codes = {_create(w, status=w.status.pk, months=1).json()["code"] for _ in range(5)}

    assert len(codes) == 5


def test_the_qr_code_is_an_svg_of_the_public_link(w, api, now):
    body = _create(w, qualification=w.qualification.pk, months=1).json()

    response = api.get(body["qr"])

    assert response.status_code == 200
    assert response["Content-Type"] == "image/svg+xml"
    assert b"<svg" in response.content


@pytest.mark.parametrize("months", [0, 7, -1, "3.5", "three", None, True])
def test_months_outside_one_to_six_are_refused_naming_the_field(w, now, months):
    response = _create(w, qualification=w.qualification.pk, months=months)

    body = assert_error(response, 400, "invalid")
    assert list(body["fields"]) == ["months"]
    assert "1" in body["fields"]["months"][0]
    assert "6" in body["fields"]["months"][0]
    assert not VerificationReport.objects.exists()


def test_another_students_qualification_is_refused(w, now):
    response = _create(w, qualification=w.others_qualification.pk, months=2)

    body = assert_error(response, 400, "invalid")
    assert list(body["fields"]) == ["qualification"]


def test_a_draft_qualification_is_refused(w, places, now):
    draft = factories.qualification(
        w.qualification.student,
        places.thu,
        registered=False,
        graduation_date=datetime.date(2025, 7, 1),
    )

    body = assert_error(_create(w, qualification=draft.pk, months=2), 400, "invalid")

    assert list(body["fields"]) == ["qualification"]
    assert "尚未注册" in body["fields"]["qualification"][0]


def test_a_qualification_issued_in_the_future_is_not_yet_public(w, places, now):
    future = factories.qualification(
        w.qualification.student, places.thu, graduation_date=datetime.date(2027, 1, 1)
    )

    body = assert_error(_create(w, qualification=future.pk, months=2), 400, "invalid")

    assert "2027-01-01" in body["fields"]["qualification"][0]


def test_exactly_one_of_qualification_and_status(w, now):
    both = _create(w, qualification=w.qualification.pk, status=w.status.pk, months=2)
    neither = _create(w, months=2)

    assert set(assert_error(both, 400, "invalid")["fields"]) == {"qualification", "status"}
    assert set(assert_error(neither, 400, "invalid")["fields"]) == {"qualification", "status"}


def test_another_students_report_is_404_everywhere(w, now):
    report_id = _create(w, qualification=w.qualification.pk, months=2).json()["id"]
    other = token_client(w.other)

    assert other.get(REPORTS).json()["results"] == []
    assert_error(other.get(f"{REPORTS}{report_id}/"), 404, "not_found")
    assert_error(
        other.post(f"{REPORTS}{report_id}/extend/", {"months": 6}, format="json"), 404, "not_found"
    )
    assert_error(other.post(f"{REPORTS}{report_id}/revoke/"), 404, "not_found")
    assert VerificationReport.objects.get(pk=report_id).revoked_at is None


def test_an_officer_cannot_create_or_list_reports(w, places, now):
    officer = token_client(factories.officer(places.pku))
    _create(w, qualification=w.qualification.pk, months=2)

    assert officer.get(REPORTS).json()["results"] == []
    response = officer.post(REPORTS, {"status": w.status.pk, "months": 2}, format="json")
    assert_error(response, 400, "invalid")


def test_the_public_report_shows_the_live_qualification_without_the_id_number(w, api, now):
    code = _create(w, qualification=w.qualification.pk, months=2).json()["code"]

    response = api.get(f"/api/v1/verify/{code}/")

    assert response.status_code == 200
    body = response.json()
    assert body["kind"] == "qualification"
    assert body["qualification"]["certificate_number"] == w.qualification.certificate_number
    assert body["qualification"]["name"] == "王小明"
    assert body["qualification"]["revoked"] is False
    id_number = w.qualification.id_number
    assert id_number not in response.content.decode()
    assert id_number[:4] + "*" not in response.content.decode()
    assert "id_number" not in response.content.decode()


def test_the_look_up_answers_json_to_a_browser_too_and_refuses_other_methods(w, api, now):
    """A plain Django view (the most-called public URL, without DRF's machinery): JSON
    whatever the client accepts (DRF answered a browser its HTML page), a session cookie
    ignored, another method 405 in the error format."""
    code = _create(w, qualification=w.qualification.pk, months=2).json()["code"]
    api.force_login(w.student)

    response = api.get(f"/api/v1/verify/{code}/", HTTP_ACCEPT="text/html")
    refused = api.post(f"/api/v1/verify/{code}/", {}, format="json")

    assert response.status_code == 200
    assert response["Content-Type"] == "application/json"
    assert response.json()["code"] == code
    assert assert_error(refused, 405, "method_not_allowed")["detail"]
    assert refused["Allow"] == "GET, HEAD, OPTIONS"


def test_a_status_report_shows_the_status(w, api, now):
    code = _create(w, status=w.status.pk, months=2).json()["code"]

    body = api.get(f"/api/v1/verify/{code}/").json()

    assert body["kind"] == "status"
    assert body["status"]["student_number"] == w.status.student_number
    assert body["status"]["state"] == "enrolled"
    assert w.status.student.id_number not in str(body)


def test_a_revoked_qualification_is_shown_as_revoked(w, api, now):
    code = _create(w, qualification=w.qualification.pk, months=2).json()["code"]
    q = w.qualification
    admin = factories.provincial_admin(q.province, f"province_{q.province_id}")
    qualification_revoke(qualification=q, acting_user=admin, reason="fraud")

    body = api.get(f"/api/v1/verify/{code}/").json()

    assert body["qualification"]["revoked"] is True
    assert body["qualification"]["status"] == "revoked"


def test_every_access_is_logged_with_its_address_and_shown_to_the_student(w, api, now):
    created = _create(w, qualification=w.qualification.pk, months=2).json()

    api.get(f"/api/v1/verify/{created['code']}/", REMOTE_ADDR="198.51.100.7")
    now.shift(60)
    api.get(f"/verify/{created['code']}", REMOTE_ADDR="203.0.113.5")

    detail = token_client(w.student).get(f"{REPORTS}{created['id']}/").json()
    assert [(a["address"], a["outcome"]) for a in detail["accesses"]] == [
        ("203.0.113.5", "shown"),
        ("198.51.100.7", "shown"),
    ]
    assert detail["accesses"][0]["at"].startswith("2026-11-30T10:01")


def test_the_unknown_code_answers_404(w, api, now):
    assert_error(api.get("/api/v1/verify/AAAAAAAAAAAAAAAA/"), 404, "not_found")
    assert_error(api.get("/api/v1/verify/short/"), 404, "not_found")


def test_a_revoked_report_answers_410_and_the_access_is_logged(w, api, now):
    created = _create(w, qualification=w.qualification.pk, months=2).json()

    revoked = token_client(w.student).post(f"{REPORTS}{created['id']}/revoke/")

    assert revoked.status_code == 200
    assert revoked.json()["valid"] is False
    assert_error(api.get(f"/api/v1/verify/{created['code']}/"), 410, "report_revoked")
    assert api.get(f"/verify/{created['code']}").status_code == 410
    assert list(ReportAccess.objects.values_list("outcome", flat=True)) == ["revoked", "revoked"]
    assert AuditEvent.objects.filter(action="verification_report.revoked").count() == 1
    again = token_client(w.student).post(f"{REPORTS}{created['id']}/revoke/")
    assert_error(again, 409, "report_revoked")


def test_a_report_expires_after_its_months(w, api, now):
    created = _create(w, qualification=w.qualification.pk, months=1).json()
    code = created["code"]

    now.move_to(datetime.datetime(2026, 12, 30, 9, 59, tzinfo=BEIJING))
    assert api.get(f"/api/v1/verify/{code}/").status_code == 200
    now.move_to(datetime.datetime(2026, 12, 30, 10, 0, tzinfo=BEIJING))
    assert_error(api.get(f"/api/v1/verify/{code}/"), 410, "report_expired")
    extend = token_client(w.student).post(
        f"{REPORTS}{created['id']}/extend/", {"months": 2}, format="json"
    )
    assert_error(extend, 409, "report_expired")


def test_extending_counts_the_months_from_now_and_is_audited(w, api, now):
    created = _create(w, qualification=w.qualification.pk, months=1).json()
    now.move_to(datetime.datetime(2026, 12, 15, 8, 0, tzinfo=BEIJING))

    response = token_client(w.student).post(
        f"{REPORTS}{created['id']}/extend/", {"months": 6}, format="json"
    )

    assert response.status_code == 200
    expires = datetime.datetime.fromisoformat(response.json()["expires"])
    assert expires == datetime.datetime(2027, 6, 15, 8, 0, tzinfo=BEIJING)
    assert AuditEvent.objects.filter(action="verification_report.extended").count() == 1
    bad = token_client(w.student).post(
        f"{REPORTS}{created['id']}/extend/", {"months": 7}, format="json"
    )
    assert list(assert_error(bad, 400, "invalid")["fields"]) == ["months"]


class TestFailedLookups:
    def test_the_21st_look_up_after_20_failures_answers_429_then_ok_after_a_minute(
        self, w, api, now
    ):
        code = _create(w, qualification=w.qualification.pk, months=2).json()["code"]
        for number in range(20):
            assert api.get(f"/api/v1/verify/AAAAAAAAAAAAA{number:03d}/").status_code == 404

        refused = api.get(f"/api/v1/verify/{code}/")
        page = api.get(f"/verify/{code}")
        certificate = api.get(
            "/api/v1/verify/certificate/",
            {"number": w.qualification.certificate_number, "name": "王小明"},
        )

        body = assert_error(refused, 429, "throttled")
        assert body["detail"]
        assert int(refused["Retry-After"]) == 60
        assert page.status_code == 429
        assert_error(certificate, 429, "throttled")
        assert api.get(f"/api/v1/verify/{code}/", REMOTE_ADDR="198.51.100.9").status_code == 200
        now.shift(61)
        assert api.get(f"/api/v1/verify/{code}/").status_code == 200

    def test_twenty_failures_are_still_answered(self, w, api, now):
        code = _create(w, qualification=w.qualification.pk, months=2).json()["code"]
        for number in range(19):
            api.get(f"/api/v1/verify/AAAAAAAAAAAAA{number:03d}/")

        assert api.get("/api/v1/verify/AAAAAAAAAAAAAZZZ/").status_code == 404
        assert api.get(f"/api/v1/verify/{code}/").status_code == 429

    def test_successful_look_ups_do_not_count(self, w, api, now):
        code = _create(w, qualification=w.qualification.pk, months=2).json()["code"]

        for _ in range(30):
            assert api.get(f"/api/v1/verify/{code}/").status_code == 200

    def test_a_forged_forwarded_for_does_not_escape_the_count(self, w, api, now):
        code = _create(w, qualification=w.qualification.pk, months=2).json()["code"]
        for number in range(20):
            forged = {"X-Forwarded-For": f"192.0.2.{number}"}
            api.get(f"/api/v1/verify/AAAAAAAAAAAAA{number:03d}/", headers=forged)

        response = api.get(f"/api/v1/verify/{code}/", headers={"X-Forwarded-For": "192.0.2.99"})

        assert response.status_code == 429

    def test_the_check_reads_one_mark_which_slots_freed_out_of_order_still_set(self, w, api, now):
        """Look-ups are many and failures few: the check before each reads the address's
        closing mark alone, not its 20 slots. A failure that fills the last free slot sets
        the mark, whichever slot that is (slots free by age, not by number)."""
        if not isinstance(caches["default"], DatabaseCache):
            pytest.skip("counts the database cache's statements")
        api.get("/api/v1/verify/AAAAAAAAAAAAA000/")  # slot 0
        now.shift(30)
        for number in range(1, 20):  # slots 1 to 19, closed until slot 0 frees
            api.get(f"/api/v1/verify/AAAAAAAAAAAAA{number:03d}/")
        now.shift(31)  # slot 0 freed: open again
        assert api.get("/api/v1/verify/AAAAAAAAAAAAA020/").status_code == 404  # takes slot 0
        now.shift(1)

        with CaptureQueriesContext(connection) as queries:
            refused = api.get("/api/v1/verify/AAAAAAAAAAAAA021/")

        assert_error(refused, 429, "throttled")
        assert refused["Retry-After"] == "28"
        assert len(queries) == 1  # the cache's read, no look-up
        assert queries[0]["sql"].count("verify-failures") == 1


class TestCertificateCheck:
    def test_number_and_name_find_the_public_qualification_and_log_it(self, w, api, now):
        response = api.get(
            "/api/v1/verify/certificate/",
            {"number": w.qualification.certificate_number, "name": "王小明"},
            REMOTE_ADDR="198.51.100.3",
        )

        assert response.status_code == 200
        assert response.json()["certificate_number"] == w.qualification.certificate_number
        assert w.qualification.id_number not in response.content.decode()
        check = w.qualification.certificate_checks.get()
        assert check.address == "198.51.100.3"

    def test_another_name_is_not_found(self, w, api, now):
        response = api.get(
            "/api/v1/verify/certificate/",
            {"number": w.qualification.certificate_number, "name": "李四"},
        )

        assert_error(response, 404, "not_found")

    def test_a_future_issue_date_or_a_draft_is_invisible(self, w, places, api, now):
        future = factories.qualification(
            w.qualification.student, places.thu, graduation_date=datetime.date(2026, 12, 1)
        )
        draft = factories.qualification(factories.student("赵六"), places.fdu, registered=False)

        for qualification in (future, draft):
            response = api.get(
                "/api/v1/verify/certificate/",
                {"number": qualification.certificate_number, "name": qualification.name},
            )
            assert_error(response, 404, "not_found")
        now.move_to(datetime.datetime(2026, 12, 1, 0, 0, 1, tzinfo=BEIJING))
        response = api.get(
            "/api/v1/verify/certificate/",
            {"number": future.certificate_number, "name": future.name},
        )
        assert response.status_code == 200


@pytest.mark.parametrize("value", [2**63, 10**30, "99999999999999999999999", -1, 1.5, "abc", [1]])
def test_an_object_number_out_of_range_is_not_yours_not_an_error(w, now, value):
    response = _create(w, qualification=value, months=2)

    assert list(assert_error(response, 400, "invalid")["fields"]) == ["qualification"]


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_the_prepared_look_up_survives_a_rollback_and_a_new_connection(places):
    """On PostgreSQL the look-up is a statement prepared once per connection: it answers
    after a rolled-back transaction and again on a new connection (prepared anew)."""
    from django.db import connection
    from django.db import transaction

    from records.verification.reports import report_access
    from records.verification.reports import report_create

    w = world(places)
    with time_machine.travel(NOW, tick=False):
        code = report_create(user=w.student, qualification=w.qualification.pk, months=2).code
        assert report_access(code, "198.51.100.7").pk
        with transaction.atomic():
            report_access(code, "198.51.100.7")
            transaction.set_rollback(True)  # the access row goes, not the prepared statement
        assert report_access(code, "198.51.100.7").pk
        connection.close()
        assert report_access(code, "198.51.100.8").pk
    assert ReportAccess.objects.filter(report__code=code).count() == 3


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_a_look_up_on_a_kept_connection_sends_its_statement_alone_and_survives_a_closed_one(
    places, tmp_path
):
    """No ``SELECT 1`` before the look-up (Django's health check of a kept connection, a round
    trip): the statement is its own check. A connection the server closed meanwhile is
    replaced and the look-up answered, its access logged once (libpq's trace of what the
    client sends, and the server's own ``pg_terminate_backend``)."""
    from records.verification.reports import report_access
    from records.verification.reports import report_create

    w = world(places)
    with time_machine.travel(NOW, tick=False):
        code = report_create(user=w.student, qualification=w.qualification.pk, months=2).code
        report_access(code, "198.51.100.7")  # prepared on this connection
        connection.close_if_unusable_or_obsolete()  # a new request: the check is due again
        trace = tmp_path / "trace"
        pgconn = connection.connection.pgconn
        with trace.open("w") as out:
            pgconn.trace(out.fileno())
            try:
                report_access(code, "198.51.100.7")
            finally:
                pgconn.untrace()
        # Each line: time, F (from the client) or B (from the server), length, message, ...
        sent = [line.split("\t") for line in trace.read_text().splitlines()]
        sent = [fields for fields in sent if fields[1] == "F"]

        connection.close_if_unusable_or_obsolete()
        pid = connection.connection.info.backend_pid
        with psycopg.connect(**connection.get_connection_params(), autocommit=True) as other:
            other.execute("SELECT pg_terminate_backend(%s)", [pid])
        report_access(code, "198.51.100.8")

    assert [fields[3] for fields in sent] == ["Query"], sent
    assert "EXECUTE xueji_verify_lookup" in sent[0][4]
    assert connection.connection.info.backend_pid != pid
    assert list(
        ReportAccess.objects.filter(report__code=code).values_list("address", flat=True)
    ) == ["198.51.100.7", "198.51.100.7", "198.51.100.8"]
