"""The correction process over the API: filing, deciding, following; the permission matrix."""

from __future__ import annotations

import io

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from PIL import Image

from tests import factories
from tests.api.helpers import assert_error
from tests.api.helpers import token_client

pytestmark = pytest.mark.django_db


@pytest.fixture
def world(places):
    bj, sh = places.bj, places.sh
    pku = places.pku
    thu = places.thu
    fdu = places.fdu
    a, c = factories.user("student_a"), factories.user("student_c")
    qa = factories.qualification(factories.student("王小明", login=a), pku)
    qc = factories.qualification(factories.student("阿依古丽", login=c), fdu)
    users = {
        "student_a": a,
        "student_c": c,
        "officer_10001": factories.officer(pku),
        "officer_10003": factories.officer(thu),
        "officer_10246": factories.officer(fdu),
        "province_11": factories.provincial_admin(bj),
        "province_31": factories.provincial_admin(sh),
    }
    return {
        "qa": qa,
        "qc": qc,
        "users": users,
        "api": {name: token_client(user) for name, user in users.items()},
    }


def _file(world, who="student_a", changes=None):
    return world["api"][who].post(
        "/api/v1/corrections/",
        {
            "qualification": world["qa"].pk,
            "changes": changes or {"name": "王晓明"},
            "reason": "录入错误",
        },
        format="json",
    )


def _task_id(world, who):
    tasks = world["api"][who].get("/api/v1/tasks/").json()["results"]
    assert len(tasks) == 1, tasks
    return tasks[0]["id"]


def test_the_whole_path_over_the_api(world):
    response = _file(world)
    assert response.status_code == 201, response.content
    body = response.json()
    assert body["state"] == "submitted"
    assert body["changes"] == [{"field": "name", "old": "王小明", "new": "王晓明"}]
    correction_id = body["id"]

    tasks = world["api"]["officer_10001"].get("/api/v1/tasks/").json()["results"]
    assert tasks == [
        {
            "id": tasks[0]["id"],
            "flow": "correction",
            "step": "school_review",
            "step_label": "学校审核",
            "state": "new",
            "subject": {
                "type": "correction",
                "id": correction_id,
                "title": f"学历信息更正 #{correction_id}",
            },
            "student_name": "王小明",
            "school": "10001",
            "school_name": "北京大学",
            "summary": "姓名",
            "created": tasks[0]["created"],
            "due": tasks[0]["due"],
            "overdue": False,
        }
    ]
    decided = world["api"]["officer_10001"].post(
        f"/api/v1/tasks/{tasks[0]['id']}/decide/", {"decision": "approve"}, format="json"
    )
    assert decided.status_code == 200, decided.content
    assert decided.json()["state"] == "done"
    again = world["api"]["officer_10001"].post(
        f"/api/v1/tasks/{tasks[0]['id']}/decide/", {"decision": "approve"}, format="json"
    )
    assert_error(again, 409, "already_decided")

    signoff = _task_id(world, "province_11")
    response = world["api"]["province_11"].post(
        f"/api/v1/tasks/{signoff}/decide/",
        {"decision": "approve", "comment": "同意"},
        format="json",
    )
    assert response.status_code == 200

    detail = world["api"]["student_a"].get(f"/api/v1/corrections/{correction_id}/").json()
    assert detail["state"] == "approved"
    assert [(h["action"], h["actor"]) for h in detail["history"]] == [
        ("filed", "王晓明"),  # the student's login is named after the person, as corrected
        ("forwarded", world["users"]["officer_10001"].username),
        ("approved", world["users"]["province_11"].username),
    ]
    assert detail["history"][2]["comment"] == "同意"
    assert detail["open_task"] is None
    q = world["api"]["student_a"].get(f"/api/v1/qualifications/{world['qa'].pk}/").json()
    assert q["name"] == "王晓明"
    assert [r["content"]["name"] for r in q["revisions"]] == ["王小明", "王晓明"]
    assert q["revisions"][1]["approved_by"] == world["users"]["province_11"].username


def test_validation_errors_name_the_field(world):
    response = _file(world, changes={"principal_name": "某某", "birth_date": "yesterday"})
    body = assert_error(response, 400, "invalid")
    assert set(body["fields"]) == {"changes.principal_name", "changes.birth_date"}


def test_a_second_open_request_is_409(world):
    assert _file(world).status_code == 201
    body = assert_error(_file(world, changes={"gender": "female"}), 409, "open_correction_exists")
    assert "#" in body["detail"]


def test_return_and_resubmit_and_withdraw(world):
    correction_id = _file(world).json()["id"]
    task = _task_id(world, "officer_10001")
    body = assert_error(
        world["api"]["officer_10001"].post(
            f"/api/v1/tasks/{task}/decide/", {"decision": "return"}, format="json"
        ),
        400,
        "invalid",
    )
    assert "comment" in body["fields"]
    world["api"]["officer_10001"].post(
        f"/api/v1/tasks/{task}/decide/",
        {"decision": "return", "comment": "请附证明"},
        format="json",
    )
    assert (
        world["api"]["student_a"].get(f"/api/v1/corrections/{correction_id}/").json()["state"]
        == "returned"
    )
    response = world["api"]["student_a"].post(
        f"/api/v1/corrections/{correction_id}/resubmit/",
        {"changes": {"name": "王晓明"}, "reason": "已附证明"},
        format="json",
    )
    assert response.json()["state"] == "submitted"
    assert_error(
        world["api"]["officer_10001"].post(f"/api/v1/corrections/{correction_id}/withdraw/"),
        403,
        "permission_denied",
    )
    response = world["api"]["student_a"].post(f"/api/v1/corrections/{correction_id}/withdraw/")
    assert response.json()["state"] == "withdrawn"
    assert world["api"]["officer_10001"].get("/api/v1/tasks/").json()["results"] == []
    assert_error(
        world["api"]["student_a"].post(f"/api/v1/corrections/{correction_id}/withdraw/"),
        409,
        "not_open",
    )


def test_evidence_upload(world, settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    correction_id = _file(world).json()["id"]
    buffer = io.BytesIO()
    Image.new("RGB", (8, 8), "white").save(buffer, "JPEG")
    upload = SimpleUploadedFile("户口本.jpg", buffer.getvalue(), content_type="image/jpeg")
    response = world["api"]["student_a"].post(
        f"/api/v1/corrections/{correction_id}/evidence/", {"file": upload}, format="multipart"
    )
    assert response.status_code == 201, response.content
    assert response.json()["content_type"] == "image/jpeg"
    fake = SimpleUploadedFile("x.pdf", b"hello", content_type="application/pdf")
    body = assert_error(
        world["api"]["student_a"].post(
            f"/api/v1/corrections/{correction_id}/evidence/", {"file": fake}, format="multipart"
        ),
        400,
        "invalid",
    )
    assert "file" in body["fields"]
    detail = world["api"]["officer_10001"].get(f"/api/v1/corrections/{correction_id}/").json()
    assert [e["original_name"] for e in detail["evidence"]] == ["户口本.jpg"]


# Who sees student_a's qualification and correction (school 10001, province 11).
VISIBILITY = [
    ("student_a", 200),
    ("student_c", 404),
    ("officer_10001", 200),
    ("officer_10003", 404),
    ("officer_10246", 404),
    ("province_11", 200),
    ("province_31", 404),
]


@pytest.mark.parametrize(("who", "status"), VISIBILITY)
def test_permission_matrix(world, who, status):
    correction_id = _file(world).json()["id"]
    api = world["api"][who]
    assert api.get(f"/api/v1/qualifications/{world['qa'].pk}/").status_code == status
    assert api.get(f"/api/v1/corrections/{correction_id}/").status_code == status
    listed = [c["id"] for c in api.get("/api/v1/corrections/").json()["results"]]
    assert (correction_id in listed) == (status == 200)
    quals = [q["id"] for q in api.get("/api/v1/qualifications/").json()["results"]]
    assert (world["qa"].pk in quals) == (status == 200)
    if status == 404:
        assert_error(api.post(f"/api/v1/corrections/{correction_id}/withdraw/"), 404, "not_found")


@pytest.mark.parametrize(
    "who", ["student_c", "officer_10003", "province_11", "province_31", "student_a"]
)
def test_only_the_school_officer_takes_the_school_review(world, who):
    _file(world)
    task = _task_id(world, "officer_10001")
    response = world["api"][who].post(
        f"/api/v1/tasks/{task}/decide/", {"decision": "approve"}, format="json"
    )
    assert_error(response, 404, "not_found")  # not theirs to take: it does not exist for them


def test_filing_for_an_invisible_qualification_is_404(world):
    response = world["api"]["student_c"].post(
        "/api/v1/corrections/",
        {"qualification": world["qa"].pk, "changes": {"name": "X"}, "reason": "x"},
        format="json",
    )
    assert_error(response, 404, "not_found")


def test_lists_show_no_full_id_numbers(world):
    body = world["api"]["officer_10001"].get("/api/v1/qualifications/").text
    assert world["qa"].id_number not in body
    assert world["qa"].id_number[-4:] in body


def test_the_task_list_is_a_cursor_paginated_queue(world):
    _file(world)
    body = world["api"]["officer_10001"].get("/api/v1/tasks/").json()
    assert set(body) == {"next", "previous", "results"}  # no count: a queue, not a report
    assert body["next"] is None
    assert len(body["results"]) == 1


def _named(user, family: str, given: str):
    user.last_name, user.first_name = family, given
    user.save()
    return user


def test_payloads_name_people_beside_their_user_names(world):
    users = world["users"]
    _named(users["student_a"], "王", "小明")
    _named(users["officer_10001"], "张", "伟")
    _named(users["province_11"], "赵", "敏")
    correction_id = _file(world, changes={"study_length": "5"}).json()["id"]
    for who in ("officer_10001", "province_11"):
        decided = world["api"][who].post(
            f"/api/v1/tasks/{_task_id(world, who)}/decide/", {"decision": "approve"}
        )
        assert decided.status_code == 200, decided.content

    listed = world["api"]["student_a"].get("/api/v1/corrections/").json()["results"][0]
    detail = world["api"]["student_a"].get(f"/api/v1/corrections/{correction_id}/").json()
    q = world["api"]["student_a"].get(f"/api/v1/qualifications/{world['qa'].pk}/").json()

    for body in (listed, detail):
        assert (body["requester"], body["requester_name"]) == ("student_a", "王小明")
    assert [h["actor"] for h in detail["history"]] == ["王小明", "张伟", "赵敏"]
    assert [(r["approved_by"], r["approved_by_name"]) for r in q["revisions"]] == [
        (None, None),  # the registration (seed data: nobody approved it)
        (users["province_11"].username, "赵敏"),
    ]


def test_a_requester_without_a_name_is_named_by_the_user_name(world):
    body = _file(world).json()

    assert (body["requester"], body["requester_name"]) == ("student_a", "student_a")


def test_a_draft_is_seen_only_by_its_schools_officers(world, places):
    """Drafts are never listed outside the school: not to the student, not to the province."""
    person = world["qa"].student
    draft = factories.qualification(person, places.pku, registered=False)
    for who, sees in (
        ("officer_10001", True),
        ("student_a", False),
        ("province_11", False),
        ("officer_10003", False),
    ):
        api = world["api"][who]
        listed = {row["id"] for row in api.get("/api/v1/qualifications/").json()["results"]}
        assert (draft.pk in listed) is sees, who
        assert api.get(f"/api/v1/qualifications/{draft.pk}/").status_code == (
            200 if sees else 404
        ), who
    # The registered one stays visible to the student and the province.
    for who in ("student_a", "province_11"):
        response = world["api"][who].get(f"/api/v1/qualifications/{world['qa'].pk}/")
        assert response.status_code == 200, who
