"""ID numbers over the API: masked in every list and for every reader who does not need them;
in full only for whoever may decide the request's open task (the values at filing and the
requested ones) and for the requester (the requested ones), and then never cached
(docs/architecture.md, "Sensitive values")."""

from __future__ import annotations

import pytest
from viewflow.workflow.models import Task
from viewflow.workflow.status import STATUS

from records.validators import mask_id_number
from tests import factories
from tests.api.helpers import token_client
from tests.sensitive import assert_masked
from tests.sensitive import no_store

pytestmark = pytest.mark.django_db


@pytest.fixture
def world(places):
    a = factories.user("student_a")
    person = factories.student("王小明", login=a)
    qa = factories.qualification(person, places.pku)
    new_id = factories.resident_id(person.birth_date, person.gender, region="310101")
    users = {
        "student_a": a,
        "officer_10001": factories.officer(places.pku, "officer_10001"),
        "officer_10001b": factories.officer(places.pku, "officer_10001b"),
        "province_11": factories.provincial_admin(places.bj, "province_11"),
    }
    return {
        "qa": qa,
        "old": person.id_number,
        "new": new_id,
        "users": users,
        "api": {name: token_client(user) for name, user in users.items()},
    }


def _file(world, who="student_a"):
    response = world["api"][who].post(
        "/api/v1/corrections/",
        {
            "qualification": world["qa"].pk,
            "changes": {"id_number": world["new"]},
            "reason": f"身份证号录入错误，应为{world['new']}",
        },
        format="json",
    )
    assert response.status_code == 201, response.content
    return response


def _detail(world, who, pk):
    response = world["api"][who].get(f"/api/v1/corrections/{pk}/")
    assert response.status_code == 200, response.content
    return response


def _decide(world, who, decision="approve", comment=""):
    tasks = world["api"][who].get("/api/v1/tasks/").json()["results"]
    assert len(tasks) == 1, tasks
    response = world["api"][who].post(
        f"/api/v1/tasks/{tasks[0]['id']}/decide/",
        {"decision": decision, "comment": comment},
        format="json",
    )
    assert response.status_code == 200, response.content


def _change(response):
    (change,) = response.json()["changes"]
    assert change["field"] == "id_number"
    return change["old"], change["new"]


@pytest.mark.parametrize("who", ["student_a", "officer_10001", "province_11"])
def test_the_correction_list_masks_id_numbers_for_every_role(world, who):
    _file(world)
    if who == "province_11":
        _decide(world, "officer_10001")  # the province's list, with the request at its step
    response = world["api"][who].get("/api/v1/corrections/")
    assert response.status_code == 200
    assert_masked(response, world["old"], world["new"])
    (row,) = response.json()["results"]
    assert row["changes"][0]["new"] == mask_id_number(world["new"])
    assert row["reason"] == f"身份证号录入错误，应为{mask_id_number(world['new'])}"
    tasks = world["api"][who].get("/api/v1/tasks/")
    assert world["old"] not in tasks.content.decode()
    assert world["new"] not in tasks.content.decode()


def test_the_filing_answer_shows_the_requester_what_they_typed_and_is_not_cached(world):
    response = _file(world)
    assert _change(response) == (mask_id_number(world["old"]), world["new"])
    assert response.json()["reason"] == f"身份证号录入错误，应为{world['new']}"
    assert no_store(response)


def test_the_reviewer_who_may_decide_sees_both_values_uncached(world):
    pk = _file(world).json()["id"]
    response = _detail(world, "officer_10001", pk)
    assert _change(response) == (world["old"], world["new"])
    assert response.json()["history"][0]["comment"] == f"身份证号录入错误，应为{world['new']}"
    assert no_store(response)


def test_a_reader_with_no_decision_to_make_sees_them_masked(world):
    pk = _file(world).json()["id"]
    response = _detail(world, "province_11", pk)  # it waits at the school, not the province
    assert_masked(response, world["old"], world["new"])
    assert _change(response) == (mask_id_number(world["old"]), mask_id_number(world["new"]))
    assert not no_store(response)


def test_the_values_in_full_follow_the_open_task(world):
    pk = _file(world).json()["id"]
    _decide(world, "officer_10001")
    assert _change(_detail(world, "province_11", pk)) == (world["old"], world["new"])
    assert_masked(
        _detail(world, "officer_10001", pk), world["old"], world["new"]
    )  # decided: no longer needed

    _decide(world, "province_11", comment=f"核对无误 {world['new']}")
    for who in ("officer_10001", "province_11"):
        response = _detail(world, who, pk)
        assert_masked(response, world["old"], world["new"])
        assert response.json()["history"][-1]["comment"] == (
            f"核对无误 {mask_id_number(world['new'])}"
        )
    # The requester keeps the value they typed; the one it replaced stays masked.
    response = _detail(world, "student_a", pk)
    assert response.json()["state"] == "approved"
    assert _change(response) == (mask_id_number(world["old"]), world["new"])
    assert no_store(response)


def test_an_officer_filing_for_the_student_is_the_requester_not_a_reviewer(world):
    pk = _file(world, who="officer_10001b").json()["id"]
    requester = _detail(world, "officer_10001b", pk)
    assert _change(requester) == (mask_id_number(world["old"]), world["new"])
    reviewer = _detail(world, "officer_10001", pk)
    assert _change(reviewer) == (world["old"], world["new"])
    student = _detail(world, "student_a", pk)  # their record, but someone else's request
    assert_masked(student, world["old"], world["new"])


def test_a_task_held_by_someone_else_is_not_theirs_to_decide(world):
    pk = _file(world).json()["id"]
    task = Task.objects.get(process__correctionprocess__request_id=pk, status=STATUS.NEW)
    Task.objects.filter(pk=task.pk).update(
        owner=world["users"]["officer_10001b"], status=STATUS.ASSIGNED
    )
    assert_masked(_detail(world, "officer_10001", pk), world["old"], world["new"])
    assert _change(_detail(world, "officer_10001b", pk)) == (world["old"], world["new"])


@pytest.mark.parametrize("who", ["student_a", "officer_10001", "province_11"])
def test_the_qualification_detail_masks_the_id_number(world, who):
    response = world["api"][who].get(f"/api/v1/qualifications/{world['qa'].pk}/")
    assert response.status_code == 200
    body = response.json()
    assert world["old"] not in response.content.decode()
    assert "id_number" not in body
    assert body["id_number_masked"] == mask_id_number(world["old"])
    assert body["revisions"][0]["content"]["id_number"] == mask_id_number(world["old"])
