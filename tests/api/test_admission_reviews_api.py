"""``/api/v1/admissions/outcomes/`` and ``/api/v1/admission-reviews/``: outcomes in bulk with
per-item results, the cohorts in scope with their counts, registration, and 404s for other
schools and provinces."""

from __future__ import annotations

import datetime

import pytest
import time_machine
from rest_framework.test import APIClient

from records.models import AdmissionRecord
from records.models import StudentStatus
from tests.api.helpers import assert_error
from tests.api.helpers import token_client
from tests.workflows import cohorts as c

pytestmark = pytest.mark.django_db

OUTCOMES = "/api/v1/admissions/outcomes/"
REVIEWS = "/api/v1/admission-reviews/"


@pytest.fixture
def w(places):
    return c.world(places)


def _register_url(cohort_pk):
    return f"{REVIEWS}{cohort_pk}/register/"


def test_outcomes_answer_each_item_on_its_own(w):
    a, b, d = c.admit(w.officer, [1, 2, 3])
    api = token_client(w.officer)

    response = api.post(
        OUTCOMES,
        {
            "outcomes": [
                {"admission": a.pk, "outcome": "gave_up"},
                {"admission": b.pk, "outcome": "retained", "reason": "病", "until": "2027-09-01"},
                {
                    "admission": d.pk,
                    "outcome": "cancelled",
                    "reason": "材料不符",
                    "legality_review": True,
                    "hearing_date": "2026-11-20",
                    "hearing_by": "招生办 王老师",
                    "hearing_summary": "学生陈述了情况",
                },
                {"admission": a.pk, "outcome": "retained", "reason": "病", "until": "2027-09-01"},
                {"admission": 987654, "outcome": "gave_up"},
                {"admission": d.pk, "outcome": "retained", "reason": "病"},
            ]
        },
        format="json",
    )

    assert response.status_code == 200, response.content
    results = response.json()["results"]
    cancellation = results[2]["cancellation"]
    assert results[:3] == [
        {"admission": a.pk, "ok": True, "state": "gave_up"},
        {"admission": b.pk, "ok": True, "state": "retained"},
        {"admission": d.pk, "ok": True, "state": "admitted", "cancellation": cancellation},
    ]
    assert [(r["admission"], r["ok"], r["code"]) for r in results[3:]] == [
        (a.pk, False, "repeated"),
        (987654, False, "not_found"),
        (d.pk, False, "repeated"),
    ]
    assert all(r["detail"] for r in results[3:])
    assert AdmissionRecord.objects.get(pk=d.pk).state == "admitted"
    # The cancellation waits in the second officer's work list, not in the requester's.
    tasks = token_client(w.officer_b).get("/api/v1/tasks/?flow=admission_review").json()
    by_step = {row["step"]: row for row in tasks["results"]}
    assert by_step["confirm_cancellation"]["subject"]["id"] == cancellation
    assert by_step["confirm_cancellation"]["student_name"] == d.student.name
    assert by_step["review"]["summary"] == "Freshmen of 2026"  # officer_b reads English
    mine = api.get("/api/v1/tasks/?step=confirm_cancellation").json()["results"]
    assert mine == []
    task = by_step["confirm_cancellation"]["id"]
    assert_error(
        api.post(f"/api/v1/tasks/{task}/decide/", {"decision": "confirm"}), 403, "permission_denied"
    )
    confirmed = token_client(w.officer_b).post(
        f"/api/v1/tasks/{task}/decide/", {"decision": "confirm"}, format="json"
    )
    assert confirmed.status_code == 200, confirmed.content
    # An adverse decision: the admission is cancelled when its appeal period ends.
    assert AdmissionRecord.objects.get(pk=d.pk).state == "admitted"
    c.take_effect(cancellation, w.officer_b)
    assert AdmissionRecord.objects.get(pk=d.pk).state == "cancelled"


def test_an_item_that_breaks_a_rule_names_the_field(w):
    (a,) = c.admit(w.officer, [1])
    api = token_client(w.officer)
    with time_machine.travel(datetime.datetime(2026, 10, 2, 9, tzinfo=c.SHANGHAI), tick=False):
        response = api.post(
            OUTCOMES,
            {
                "outcomes": [
                    {
                        "admission": a.pk,
                        "outcome": "retained",
                        "reason": "病",
                        "until": "2026-10-01",
                    }
                ]
            },
            format="json",
        )
    (result,) = response.json()["results"]
    assert (result["ok"], result["code"]) == (False, "invalid")
    assert result["detail"].startswith("until: ")


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"outcomes": []}, "outcomes"),
        ({}, "outcomes"),
        ({"outcomes": [{"admission": 1, "outcome": "admitted"}]}, "outcomes"),
        (
            {"outcomes": [{"admission": 1, "outcome": "retained", "until": "2027-13-01"}]},
            "outcomes",
        ),
        ({"outcomes": [{"admission": 0, "outcome": "gave_up"}]}, "outcomes"),
        ({"outcomes": [{"admission": 1, "outcome": "gave_up"}] * 501}, "outcomes"),
        ({"outcomes": [{"admission": 1, "outcome": "gave_up", "year": "2027a"}]}, "outcomes"),
    ],
    ids=["empty", "missing", "unknown-outcome", "bad-date", "bad-id", "too-many", "bad-year"],
)
def test_a_malformed_request_answers_400_naming_the_field(w, body, field):
    response = token_client(w.officer).post(OUTCOMES, body, format="json")
    body = assert_error(response, 400, "invalid")
    assert any(key.startswith(field) for key in body["fields"]), body


def test_outcomes_of_another_school_or_province_are_not_found(w):
    (a,) = c.admit(w.officer, [1])
    item = {"outcomes": [{"admission": a.pk, "outcome": "gave_up"}]}
    for stranger in (w.thu_officer, w.fdu_officer, w.admin_sh):
        (result,) = token_client(stranger).post(OUTCOMES, item, format="json").json()["results"]
        assert (result["ok"], result["code"]) == (False, "not_found")
    (result,) = token_client(w.admin).post(OUTCOMES, item, format="json").json()["results"]
    assert (result["ok"], result["code"]) == (False, "permission_denied")
    assert AdmissionRecord.objects.get(pk=a.pk).state == "admitted"
    assert_error(APIClient().post(OUTCOMES, item, format="json"), 401, "not_authenticated")


def test_the_reviews_in_scope_with_their_counts(w):
    a, b, _d = c.admit(w.officer, [1, 2, 3])
    c.admit(w.thu_officer, [4], school_code="10003")
    c.admit(w.fdu_officer, [5], school_code="10246")
    c.admit(w.officer, [6], admission_year="2025")
    c.record(w.officer, c.outcome(a, "gave_up"), c.outcome(b, "cancelled", reason="材料不符"))

    mine = token_client(w.officer).get(REVIEWS).json()

    assert mine["count"] == 2
    latest = mine["results"][0]
    cohort = c.cohort()
    assert latest == {
        "id": cohort.pk,
        "school": "10001",
        "school_name": "北京大学",
        "year": 2026,
        "state": "reviewing",
        "entry_date": "2026-09-01",
        "deadline": "2026-12-01T00:00:00+08:00",
        "counts": {
            "admitted": 2,
            "registered": 0,
            "gave_up": 1,
            "cancelled": 0,
            "retained": 0,
        },
        "pending_cancellations": 1,
    }
    assert mine["results"][1]["year"] == 2025
    province = token_client(w.admin).get(REVIEWS).json()
    assert sorted((r["school"], r["year"]) for r in province["results"]) == [
        ("10001", 2025),
        ("10001", 2026),
        ("10003", 2026),
    ]
    assert [r["school"] for r in token_client(w.admin_sh).get(REVIEWS).json()["results"]] == [
        "10246"
    ]
    filtered = token_client(w.admin).get(REVIEWS, {"school": "10001", "year": "2026"}).json()
    assert [r["id"] for r in filtered["results"]] == [cohort.pk]
    paged = token_client(w.admin).get(REVIEWS, {"limit": 1, "offset": 1}).json()
    assert (paged["count"], len(paged["results"])) == (3, 1)
    response = token_client(w.admin).get(REVIEWS, {"year": "26"})
    assert_error(response, 400, "invalid")
    assert "year" in response.json()["fields"]


def test_registering_answers_the_counts_and_each_refusal(w, places):
    a, b = c.admit(w.officer, [1, 2])
    (elsewhere,) = c.admit(w.thu_officer, [3], school_code="10003")
    c.admit(w.officer, [3], admission_year="2025", candidate_number="25110000000003")
    # The person of the 2025 row of 10001 is the one admitted by 清华 in 2026.
    registered = token_client(w.thu_officer).post(_register_url(c.cohort("10003").pk))
    assert registered.json()["registered"] == 1
    cohort_2025 = c.cohort("10001", 2025)

    response = token_client(w.officer).post(_register_url(cohort_2025.pk))

    assert response.status_code == 200, response.content
    body = response.json()
    assert (body["id"], body["state"], body["registered"], body["waiting"]) == (
        cohort_2025.pk,
        "registered",
        0,
        0,
    )
    (error,) = body["errors"]
    assert error["code"] == "status_elsewhere"
    assert "清华大学" in error["detail"]
    assert body["counts"]["admitted"] == 1
    assert StudentStatus.objects.filter(student_id=elsewhere.student_id).count() == 1

    done = token_client(w.officer).post(_register_url(c.cohort().pk)).json()
    assert (done["registered"], done["counts"]["registered"], done["state"]) == (2, 2, "registered")
    assert {a.pk, b.pk} == set(
        StudentStatus.objects.filter(school_id="10001").values_list("admission_id", flat=True)
    )


def test_registering_another_schools_cohort_is_not_found(w):
    c.admit(w.officer, [1])
    url = _register_url(c.cohort().pk)
    for stranger in (w.thu_officer, w.fdu_officer, w.admin_sh):
        assert_error(token_client(stranger).post(url), 404, "not_found")
    assert_error(token_client(w.admin).post(url), 403, "permission_denied")
    assert_error(token_client(w.officer).post(_register_url(987654)), 404, "not_found")
    assert_error(token_client(w.officer).post(_register_url(2**63)), 404, "not_found")
    assert not StudentStatus.objects.exists()
    assert c.cohort().state == "reviewing"


def test_a_retained_admission_is_registered_through_the_outcomes(w):
    back, admitted = c.admit(w.officer, [1, 2])
    api = token_client(w.officer)
    with time_machine.travel(c.IMPORTED, tick=False):
        retain = {"admission": back.pk, "outcome": "retained", "reason": "病"}
        api.post(OUTCOMES, {"outcomes": [{**retain, "until": "2027-09-01"}]}, format="json")
    returned = datetime.datetime(2027, 9, 6, 9, tzinfo=c.SHANGHAI)

    with time_machine.travel(returned, tick=False):
        response = api.post(
            OUTCOMES,
            {
                "outcomes": [
                    {"admission": back.pk, "outcome": "registered", "year": 2027},
                    {"admission": admitted.pk, "outcome": "registered"},
                ]
            },
            format="json",
        )

    assert response.status_code == 200, response.content
    done, refused = response.json()["results"]
    assert done == {
        "admission": back.pk,
        "ok": True,
        "state": "registered",
        "student_number": "2027000001",
    }
    assert (refused["ok"], refused["code"]) == (False, "not_allowed")
    (row,) = api.get("/api/v1/student-statuses/").json()["results"]
    assert (row["student_number"], row["entry_date"]) == ("2027000001", "2027-09-01")
    # The cohort it joined is listed with the school's others.
    years = [r["year"] for r in api.get(REVIEWS).json()["results"]]
    assert years == [2027, 2026]


def test_a_registered_cohort_is_reviewing_again_after_a_late_import(w):
    c.admit(w.officer, [1])
    api = token_client(w.officer)
    url = _register_url(c.cohort().pk)
    assert api.post(url).json()["state"] == "registered"

    c.admit(w.officer, [2], at=c.IMPORTED + datetime.timedelta(days=3))

    (review,) = api.get(REVIEWS).json()["results"]
    assert (review["state"], review["counts"]["admitted"]) == ("reviewing", 1)
    tasks = api.get("/api/v1/tasks/", {"flow": "admission_review", "step": "review"}).json()
    assert [t["subject"]["id"] for t in tasks["results"]] == [review["id"]]
    body = api.post(url).json()
    assert (body["state"], body["registered"]) == ("registered", 1)
