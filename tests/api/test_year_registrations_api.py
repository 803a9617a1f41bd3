"""``/api/v1/year-registrations/``: the rounds in scope with their counts, opening a round,
registering everyone enrolled, outcomes per item, a round's students by registration state,
404s outside the scope; and each student status's registrations on ``/student-statuses/``."""

from __future__ import annotations

import datetime

import pytest
import time_machine
from rest_framework.test import APIClient

from records.choices import StatusState
from records.models import YearRegistration
from records.models import YearRegistrationRound
from tests import factories
from tests.api.helpers import assert_error
from tests.api.helpers import token_client
from tests.workflows import years as y

pytestmark = pytest.mark.django_db

ROUNDS = "/api/v1/year-registrations/"


@pytest.fixture
def w(places):
    return y.world(places)


def _url(round_obj, action=""):
    return f"{ROUNDS}{round_obj.pk}/{action + '/' if action else ''}"


def test_the_rounds_in_scope_with_their_window_and_counts(w):
    a, _b, _c = y.enrolled(3)
    y.enrolled(1, school="10003")
    y.enrolled(1, school="10246")
    mine = y.open_round()
    y.open_round("10003")
    y.open_round("10246")
    y.open_round(year=2028, at=y.OPENED.replace(year=2028))
    y.record(w.officer, mine, y.outcome(a, "deferred", "欠费"))

    with time_machine.travel(y.OPENED, tick=False):
        body = token_client(w.officer).get(ROUNDS).json()

    assert body["count"] == 2
    first, second = body["results"]
    assert (first["academic_year"], second["academic_year"]) == (2028, 2027)
    assert second == {
        "id": mine.pk,
        "school": "10001",
        "school_name": "北京大学",
        "academic_year": 2027,
        "year_label": "2027–2028",
        "state": "open",
        "starts": "2027-09-01",
        "opens": "2027-09-01",
        "closes": "2027-09-30",
        "deadline": "2027-10-01T00:00:00+08:00",
        "overdue": False,
        "counts": {"registered": 0, "deferred": 1, "unregistered": 2},
        "completed_at": None,
    }
    province = token_client(w.admin).get(ROUNDS, {"year": "2027"}).json()
    assert sorted(r["school"] for r in province["results"]) == ["10001", "10003"]
    only = token_client(w.admin).get(ROUNDS, {"school": "10003"}).json()
    assert [r["school"] for r in only["results"]] == ["10003"]
    assert token_client(w.admin_sh).get(ROUNDS).json()["count"] == 1
    with time_machine.travel(y.DEADLINE + datetime.timedelta(days=1), tick=False):
        late = token_client(w.officer).get(ROUNDS, {"year": "2027"}).json()["results"][0]
    assert late["overdue"] is True
    assert_error(token_client(w.officer).get(ROUNDS, {"year": "27"}), 400, "invalid")
    assert_error(APIClient().get(ROUNDS), 401, "not_authenticated")


def test_an_officer_opens_the_round_of_their_school_once(w):
    api = token_client(w.officer)
    created = api.post(ROUNDS, {"school": "10001", "academic_year": 2027}, format="json")
    assert created.status_code == 201, created.content
    assert created.json()["closes"] == "2027-09-30"
    again = api.post(ROUNDS, {"school": "10001", "academic_year": 2027}, format="json")
    assert again.status_code == 200
    assert again.json()["id"] == created.json()["id"]
    assert YearRegistrationRound.objects.count() == 1
    for code in ("10003", "10246", "99999"):
        body = assert_error(
            api.post(ROUNDS, {"school": code, "academic_year": 2027}, format="json"), 400, "invalid"
        )
        assert "school" in body["fields"]
    body = assert_error(
        token_client(w.admin).post(
            ROUNDS, {"school": "10001", "academic_year": 2028}, format="json"
        ),
        400,
        "invalid",
    )
    assert "school" in body["fields"]
    assert_error(
        api.post(ROUNDS, {"school": "10001", "academic_year": 1999}, format="json"), 400, "invalid"
    )


def test_registering_everyone_answers_the_round_with_what_it_did(w):
    y.enrolled(3)
    year_round = y.open_round()
    api = token_client(w.officer)

    response = api.post(_url(year_round, "register"))

    assert response.status_code == 200, response.content
    body = response.json()
    assert (body["registered"], body["state"]) == (3, "completed")
    assert body["counts"] == {"registered": 3, "deferred": 0, "unregistered": 0}
    assert api.post(_url(year_round, "register")).json()["registered"] == 0
    assert_error(token_client(w.admin).post(_url(year_round, "register")), 403, "permission_denied")


def test_outcomes_answer_each_item_on_its_own(w):
    a, b, c = y.enrolled(3)
    suspended = y.status(state=StatusState.SUSPENDED)
    elsewhere = y.status("10003")
    year_round = y.open_round()
    api = token_client(w.officer)

    response = api.post(
        _url(year_round, "outcomes"),
        {
            "outcomes": [
                {"status": a.pk, "outcome": "deferred", "reason": "未缴学费"},
                {"status": b.pk, "outcome": "registered"},
                {"status": b.pk, "outcome": "registered"},
                {"status": c.pk, "outcome": "deferred"},
                {"status": suspended.pk, "outcome": "registered"},
                {"status": elsewhere.pk, "outcome": "registered"},
            ]
        },
        format="json",
    )

    assert response.status_code == 200, response.content
    results = response.json()["results"]
    assert results[:2] == [
        {"status": a.pk, "ok": True, "state": "deferred", "changed": True},
        {"status": b.pk, "ok": True, "state": "registered", "changed": True},
    ]
    assert [(r["status"], r["ok"], r["code"]) for r in results[2:]] == [
        (b.pk, False, "repeated"),
        (c.pk, False, "invalid"),
        (suspended.pk, False, "not_enrolled"),
        (elsewhere.pk, False, "not_found"),
    ]
    assert all(r["detail"] for r in results[2:])
    again = api.post(
        _url(year_round, "outcomes"),
        {
            "outcomes": [
                {"status": a.pk, "outcome": "registered"},
                {"status": b.pk, "outcome": "registered"},
            ]
        },
        format="json",
    ).json()["results"]
    assert [(r["state"], r["changed"]) for r in again] == [
        ("registered", True),
        ("registered", False),
    ]


@pytest.mark.parametrize(
    "body",
    [
        {"outcomes": []},
        {},
        {"outcomes": [{"status": 1, "outcome": "unregistered"}]},
        {"outcomes": [{"status": 0, "outcome": "registered"}]},
        {"outcomes": [{"status": 1, "outcome": "registered"}] * 501},
    ],
    ids=["empty", "missing", "unknown-outcome", "bad-id", "too-many"],
)
def test_a_malformed_request_answers_400_naming_the_field(w, body):
    year_round = y.open_round()
    response = token_client(w.officer).post(_url(year_round, "outcomes"), body, format="json")
    body = assert_error(response, 400, "invalid")
    assert any(key.startswith("outcomes") for key in body["fields"]), body


def test_a_round_outside_the_scope_is_not_found_and_the_province_may_only_look(w):
    (a,) = y.enrolled(1)
    year_round = y.open_round()
    item = {"outcomes": [{"status": a.pk, "outcome": "registered"}]}
    for stranger in (w.thu_officer, w.fdu_officer, w.admin_sh):
        api = token_client(stranger)
        assert_error(api.get(_url(year_round)), 404, "not_found")
        assert_error(api.get(_url(year_round, "students")), 404, "not_found")
        assert_error(api.post(_url(year_round, "register")), 404, "not_found")
        assert_error(api.post(_url(year_round, "outcomes"), item, format="json"), 404, "not_found")
    admin = token_client(w.admin)
    assert admin.get(_url(year_round)).status_code == 200
    assert admin.get(_url(year_round, "students")).json()["count"] == 1
    assert_error(
        admin.post(_url(year_round, "outcomes"), item, format="json"), 403, "permission_denied"
    )
    student = factories.user("stu", role="student")
    assert_error(token_client(student).get(_url(year_round)), 404, "not_found")
    assert_error(token_client(w.officer).get(f"{ROUNDS}987654/"), 404, "not_found")
    assert not YearRegistration.objects.exists()


def test_a_rounds_students_by_registration_state(w):
    a, b, c = y.enrolled(3)
    year_round = y.open_round()
    y.record(w.officer, year_round, y.outcome(a, "deferred", "欠费"), y.outcome(b, "registered"))
    api = token_client(w.officer)

    everyone = api.get(_url(year_round, "students")).json()
    assert everyone["count"] == 3
    by_status = {row["status"]: row for row in everyone["results"]}
    assert by_status[a.pk]["registration"] == "deferred"
    assert by_status[a.pk]["reason"] == "欠费"
    assert by_status[a.pk]["deferred_at"] is not None
    assert by_status[b.pk]["registration"] == "registered"
    assert by_status[c.pk] == {
        "status": c.pk,
        "student_number": c.student_number,
        "name": c.student.name,
        "major_name": "计算机科学与技术",
        "level": "bachelor",
        "entry_date": "2026-09-01",
        "status_state": "enrolled",
        "registration": "unregistered",
        "reason": "",
        "registered_at": None,
        "deferred_at": None,
    }
    for state, expected in (("unregistered", [c]), ("deferred", [a]), ("registered", [b])):
        rows = api.get(_url(year_round, "students"), {"state": state}).json()["results"]
        assert [row["status"] for row in rows] == [s.pk for s in expected]
    found = api.get(_url(year_round, "students"), {"q": c.student.name}).json()["results"]
    assert [row["status"] for row in found] == [c.pk]
    paged = api.get(_url(year_round, "students"), {"limit": 2}).json()
    assert (paged["count"], len(paged["results"])) == (3, 2)
    assert_error(api.get(_url(year_round, "students"), {"state": "enrolled"}), 400, "invalid")


def test_a_student_sees_their_own_registrations_on_their_statuses(w):
    login = factories.user("stu_a", role="student")
    a, b = y.enrolled(2)
    a.student.user = login
    a.student.save(update_fields=["user"])
    first = y.open_round(year=2027)
    y.record(w.officer, first, y.outcome(a, "deferred", "未缴学费"))
    y.record(w.officer, first, y.outcome(a, "registered"))
    second = y.open_round(year=2028, at=y.OPENED.replace(year=2028))
    y.record(w.officer, second, y.outcome(a, "deferred", "逾期未报到"))

    body = token_client(login).get("/api/v1/student-statuses/").json()

    (row,) = body["results"]
    assert row["id"] == a.pk
    assert [
        (r["academic_year"], r["year_label"], r["state"], r["reason"])
        for r in row["year_registrations"]
    ] == [
        (2028, "2028–2029", "deferred", "逾期未报到"),
        (2027, "2027–2028", "registered", "未缴学费"),
    ]
    officer_rows = token_client(w.officer).get("/api/v1/student-statuses/").json()["results"]
    assert {r["id"]: len(r["year_registrations"]) for r in officer_rows} == {a.pk: 2, b.pk: 0}
