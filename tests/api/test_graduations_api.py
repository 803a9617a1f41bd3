"""``/api/v1/graduations/``: the graduating cohorts in scope with their counts, opening one,
preparing drafts (all, per student), the graduates with their checks (never an ID number),
registering, the re-check of a held graduate and its approval from the work list; 404s
outside the scope."""

from __future__ import annotations

import pytest
from rest_framework.test import APIClient

from records.choices import QualificationStatus
from records.choices import StatusState
from records.models import Qualification
from records.models import StudentStatus
from tests.api.helpers import assert_error
from tests.api.helpers import token_client
from tests.graduation import cohorts as g

pytestmark = pytest.mark.django_db

COHORTS = "/api/v1/graduations/"


@pytest.fixture
def w(places):
    return g.world(places)


def _url(cohort_id, action=""):
    return f"{COHORTS}{cohort_id}/{action + '/' if action else ''}"


def _open(w, **extra):
    body = {"school": "10001", "graduation_date": "2027-06-30", "principal_name": "龚旗煌"}
    return token_client(w.officer).post(COHORTS, {**body, **extra}, format="json")


def test_an_officer_opens_a_cohort_and_everyone_in_scope_lists_it(w):
    g.graduands(2)
    opened = _open(w)
    assert opened.status_code == 201, opened.content
    body = opened.json()
    assert {k: body[k] for k in ("school", "graduation_date", "principal_name", "state")} == {
        "school": "10001",
        "graduation_date": "2027-06-30",
        "principal_name": "龚旗煌",
        "state": "preparing",
    }
    assert body["deadline"] == "2027-07-01T00:00:00+08:00"
    assert body["counts"] == {"registered": 0, "drafts": 0, "held": 0, "unprepared": 2}
    assert _open(w).status_code == 200  # open already
    assert token_client(w.admin).get(COHORTS).json()["count"] == 1
    assert token_client(w.admin_sh).get(COHORTS).json()["count"] == 0
    assert token_client(w.thu_officer).get(_url(body["id"])).status_code == 404
    assert_error(
        token_client(w.thu_officer).post(
            COHORTS,
            {"school": "10001", "graduation_date": "2027-06-30", "principal_name": "x"},
            format="json",
        ),
        400,
        "invalid",
    )
    assert_error(_open(w, graduation_date="2027-07-01", principal_name=""), 400, "invalid")
    assert_error(APIClient().get(COHORTS), 401, "not_authenticated")


def test_prepare_register_and_the_photo_gate_through_the_api(w, places):
    fine, flagged, unready = g.graduands(3)
    g.graduand(photo=False)  # prepared, then refused for its photo
    cohort_id = _open(w).json()["id"]
    api = token_client(w.officer)
    prepared = api.post(_url(cohort_id, "prepare"), {"all": True}, format="json")
    assert prepared.json() == {"prepared": 4}
    results = api.post(
        _url(cohort_id, "prepare"),
        {
            "graduates": [
                {"status": flagged.pk, "result": "graduated", "identity_check": "failed"},
                {"status": unready.pk, "result": "none"},
                {"status": 999999, "result": "graduated"},
            ]
        },
        format="json",
    ).json()["results"]
    assert [r["ok"] for r in results] == [True, True, False]
    assert results[2]["code"] == "not_found"
    assert_error(api.post(_url(cohort_id, "prepare"), {}, format="json"), 400, "invalid")

    listed = api.get(_url(cohort_id, "graduates")).json()
    assert listed["count"] == 3
    by_status = {row["status"]: row for row in listed["results"]}
    assert by_status[flagged.pk]["held"] is True
    assert by_status[fine.pk]["problems"] == []
    missing = next(r for r in listed["results"] if r["problems"])
    assert missing["problems"][0]["code"] == "photo_missing"
    for status in (fine, flagged):
        assert status.student.id_number not in str(listed)
    held_only = api.get(_url(cohort_id, "graduates"), {"filter": "held"}).json()
    assert [r["status"] for r in held_only["results"]] == [flagged.pk]
    assert_error(api.get(_url(cohort_id, "graduates"), {"filter": "x"}), 400, "invalid")

    registered = api.post(_url(cohort_id, "register")).json()
    assert (registered["registered"], registered["held"], registered["state"]) == (
        1,
        1,
        "registered",
    )
    assert [p["code"] for p in registered["refused"][0]["problems"]] == ["photo_missing"]
    assert StudentStatus.objects.get(pk=fine.pk).state == StatusState.GRADUATED

    held = by_status[flagged.pk]["qualification"]
    refused = api.post(
        _url(cohort_id, "rechecks"), {"qualification": by_status[fine.pk]["qualification"]}
    )
    assert_error(refused, 400, "invalid")
    filed = api.post(
        _url(cohort_id, "rechecks"),
        {"qualification": held, "finding": "核对身份证原件，确认为本人"},
        format="json",
    )
    assert filed.status_code == 201, filed.content
    assert filed.json()["state"] == "pending"
    again = api.post(
        _url(cohort_id, "rechecks"), {"qualification": held, "finding": "x"}, format="json"
    )
    assert_error(again, 409, "recheck_pending")
    # The province approves from its work list.
    province = token_client(w.admin)
    [task] = province.get("/api/v1/tasks/", {"step": "recheck_approval"}).json()["results"]
    decided = province.post(f"/api/v1/tasks/{task['id']}/decide/", {"decision": "approve"})
    assert decided.status_code == 200, decided.content
    second = api.post(_url(cohort_id, "register")).json()
    assert (second["registered"], second["held"]) == (1, 0)
    assert Qualification.objects.get(pk=held).status == QualificationStatus.REGISTERED


def test_another_schools_officer_reaches_none_of_it(w):
    g.graduand()
    cohort_id = _open(w).json()["id"]
    other = token_client(w.thu_officer)
    for action in ("prepare", "register", "rechecks"):
        assert other.post(_url(cohort_id, action), {"all": True}, format="json").status_code == 404
    assert other.get(_url(cohort_id, "graduates")).status_code == 404
    # The province sees the cohort, but registers nothing for the school.
    province = token_client(w.admin)
    assert province.get(_url(cohort_id)).status_code == 200
    assert_error(province.post(_url(cohort_id, "register")), 403, "permission_denied")
