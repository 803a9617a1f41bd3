"""Every API view answers in the token user's stored language, whatever the request says, with
its labels and its errors; a request that does not authenticate keeps the request's language."""

from __future__ import annotations

import pytest

from tests import factories
from tests.api.helpers import assert_error
from tests.api.helpers import token_client

pytestmark = pytest.mark.django_db

ZH = {"Accept-Language": "zh-hans"}
EN = {"Accept-Language": "en"}


@pytest.fixture
def world(places):
    bj = places.bj
    pku = places.pku
    english = factories.user("student_a", language="en")
    chinese = factories.user("student_b", language="zh-hans")
    return {
        "q": factories.qualification(factories.student("王小明", login=english), pku),
        "qb": factories.qualification(factories.student("李娜", login=chinese), pku),
        "english": token_client(english),
        "chinese": token_client(chinese),
        "officer": token_client(factories.officer(pku, "officer_10001", language="en")),
        "province": factories.provincial_admin(bj, "province_11"),
    }


def _file(api, qualification, changes):
    return api.post(
        "/api/v1/corrections/",
        {"qualification": qualification.pk, "changes": changes, "reason": "录入错误"},
        format="json",
        headers=ZH,  # what the request asks for loses to the user's own setting
    )


def test_validation_errors_of_the_workflow_api_name_the_choices_in_the_users_language(world):
    in_english = _file(world["english"], world["q"], {"gender": "x"})
    in_chinese = world["chinese"].post(
        "/api/v1/corrections/",
        {"qualification": world["qb"].pk, "changes": {"gender": "x"}, "reason": "录入错误"},
        format="json",
        headers=EN,
    )

    assert_error(in_english, 400, "invalid", {"changes.gender": ["Choose one of: Male, Female."]})
    assert_error(in_chinese, 400, "invalid", {"changes.gender": ["请从以下选项中选择：男、女。"]})
    assert in_english["Content-Language"] == "en"
    assert in_chinese["Content-Language"] == "zh-hans"


def test_drf_s_own_messages_follow_the_user_too(world):
    missing = world["english"].post("/api/v1/corrections/", {}, format="json", headers=ZH)
    not_found = world["english"].get("/api/v1/qualifications/999999/", headers=ZH)
    bulk = world["officer"].post("/api/v1/tasks/decide/", {}, format="json", headers=ZH)

    assert assert_error(missing, 400, "invalid")["fields"]["qualification"] == [
        "This field is required."
    ]
    assert assert_error(not_found, 404, "not_found")["detail"] == "Not found."
    assert assert_error(bulk, 400, "invalid")["fields"]["decision"] == ["This field is required."]


def test_a_conflict_and_a_refusal_are_in_the_users_language(world):
    assert _file(world["english"], world["q"], {"name": "王晓明"}).status_code == 201
    conflict = _file(world["english"], world["q"], {"study_length": "5"})
    task = world["officer"].get("/api/v1/tasks/", headers=ZH).json()["results"][0]
    refused = world["english"].post(
        f"/api/v1/tasks/{task['id']}/decide/", {"decision": "approve"}, format="json", headers=ZH
    )

    assert (
        "already has an open correction request"
        in assert_error(conflict, 409, "open_correction_exists")["detail"]
    )
    assert assert_error(refused, 404, "not_found")["detail"] == "Not found."


def test_labels_in_answers_follow_the_user(world):
    assert _file(world["english"], world["q"], {"name": "王晓明"}).status_code == 201

    task = world["officer"].get("/api/v1/tasks/", headers=ZH).json()["results"][0]
    options = world["english"].options("/api/v1/corrections/", headers=ZH).json()
    chinese_options = world["chinese"].options("/api/v1/corrections/", headers=EN).json()

    assert (task["step_label"], task["summary"]) == ("School review", "name")
    assert options["actions"]["POST"]["state"]["label"] == "State"
    assert chinese_options["actions"]["POST"]["state"]["label"] == "状态"


def test_an_unknown_url_answers_in_the_token_users_language(world):
    body = assert_error(world["english"].get("/api/v1/nope/", headers=ZH), 404, "not_found")

    assert body["detail"] == "Not found."


def test_a_request_that_does_not_authenticate_keeps_the_requests_language(world, api):
    api.credentials(HTTP_AUTHORIZATION="Token not-a-token")

    in_english = assert_error(api.get("/api/v1/me/", headers=EN), 401, "authentication_failed")
    in_chinese = assert_error(api.get("/api/v1/me/", headers=ZH), 401, "authentication_failed")
    unknown = assert_error(api.get("/api/v1/nope/", headers=EN), 404, "not_found")

    assert in_english["detail"] == "Invalid token."
    assert in_chinese["detail"] == "认证令牌无效。"
    assert unknown["detail"] == "Not found."
