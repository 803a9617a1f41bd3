from __future__ import annotations

from typing import Any

import pytest
from django.core.exceptions import NON_FIELD_ERRORS
from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.core.exceptions import ValidationError as DjangoValidationError
from django.http import Http404
from django.utils import translation
from rest_framework import exceptions
from rest_framework.test import APIClient
from rest_framework.test import APIRequestFactory

from records.api.errors import Conflict
from records.api.errors import exception_handler
from tests import factories
from tests.api.helpers import assert_error
from tests.api.helpers import token_client


@pytest.fixture
def context():
    """What DRF hands the handler: the view and its request."""
    return {"view": None, "args": (), "kwargs": {}, "request": APIRequestFactory().get("/")}


def handle(exc: Exception, context: dict[str, Any]) -> tuple[int, Any]:
    with translation.override("en"):
        response = exception_handler(exc, context)
        assert response is not None
        return response.status_code, response.data


class TestExceptionHandler:
    def test_maps_a_django_validation_error_with_fields(self, context):
        exc = DjangoValidationError(
            {
                "id_number": [
                    DjangoValidationError(
                        "Bad check digit %(d)s.", code="checksum", params={"d": 7}
                    )
                ],
                NON_FIELD_ERRORS: ["Birth date and ID number disagree."],
            }
        )

        assert handle(exc, context) == (
            400,
            {
                "code": "invalid",
                "detail": "Birth date and ID number disagree.",
                "fields": {
                    "id_number": ["Bad check digit 7."],
                    "non_field_errors": ["Birth date and ID number disagree."],
                },
            },
        )

    def test_maps_a_django_validation_error_without_fields(self, context):
        exc = DjangoValidationError("One open correction per qualification.")

        assert handle(exc, context) == (
            400,
            {
                "code": "invalid",
                "detail": "One open correction per qualification.",
                "fields": {"non_field_errors": ["One open correction per qualification."]},
            },
        )

    def test_flattens_nested_fields(self, context):
        exc = exceptions.ValidationError(
            {"items": [{}, {"name": ["Required."]}], "address": {"city": ["Too long."]}}
        )

        status, body = handle(exc, context)

        assert status == 400
        assert body["detail"] == "Invalid input."
        assert body["fields"] == {"items.1.name": ["Required."], "address.city": ["Too long."]}

    def test_maps_django_permission_denied(self, context):
        assert handle(DjangoPermissionDenied(), context) == (
            403,
            {
                "code": "permission_denied",
                "detail": "You do not have permission to perform this action.",
                "fields": {},
            },
        )

    def test_maps_http404_without_echoing_its_message(self, context):
        exc = Http404("No School matches the given query.")

        assert handle(exc, context) == (
            404,
            {"code": "not_found", "detail": "Not found.", "fields": {}},
        )

    def test_maps_conflict_to_409(self, context):
        with translation.override("en"):  # DRF renders the default message when raised
            exc = Conflict()

        assert handle(exc, context) == (
            409,
            {
                "code": "conflict",
                "detail": "The request conflicts with the current state of the resource.",
                "fields": {},
            },
        )

    def test_keeps_the_code_the_raiser_gave(self, context):
        exc = Conflict("A correction of this qualification is open.", code="correction_open")

        assert handle(exc, context) == (
            409,
            {
                "code": "correction_open",
                "detail": "A correction of this qualification is open.",
                "fields": {},
            },
        )

    def test_sets_retry_after_when_throttled(self, context):
        with translation.override("en"):
            response = exception_handler(exceptions.Throttled(wait=12), context)
        assert response is not None
        assert response.status_code == 429
        assert response["Retry-After"] == "12"
        assert response.data["code"] == "throttled"

    def test_leaves_other_exceptions_to_django(self, context):
        assert exception_handler(RuntimeError("bug"), context) is None


@pytest.mark.django_db
class TestErrorsOverHttp:
    def test_unknown_url_under_v1_is_a_json_404(self, api):
        response = api.get("/api/v1/nope/", headers={"Accept-Language": "en"})

        body = assert_error(response, 404, "not_found", fields={})
        assert body["detail"] == "Not found."

    def test_unknown_url_elsewhere_under_api_is_a_json_404(self, api):
        assert_error(api.post("/api/v2/anything"), 404, "not_found", fields={})

    def test_unknown_school_is_a_json_404(self):
        response = token_client(factories.user()).get("/api/v1/schools/99999/")

        assert_error(response, 404, "not_found", fields={})

    def test_method_not_allowed(self):
        response = token_client(factories.user()).post("/api/v1/provinces/", {})

        assert_error(response, 405, "method_not_allowed", fields={})

    def test_unsupported_media_type(self):
        response = token_client(factories.user()).generic(
            "PATCH", "/api/v1/me/", "<x/>", content_type="application/xml"
        )

        assert_error(response, 415, "unsupported_media_type", fields={})


@pytest.mark.django_db
class TestLanguage:
    def test_errors_default_to_simplified_chinese(self, api):
        body = assert_error(api.get("/api/v1/me/"), 401, "not_authenticated")

        assert body["detail"] == "身份认证信息未提供。"

    def test_errors_follow_accept_language(self, api):
        response = api.get("/api/v1/me/", headers={"Accept-Language": "en"})

        body = assert_error(response, 401, "not_authenticated")
        assert body["detail"] == "Authentication credentials were not provided."
        assert response["Content-Language"] == "en"

    def test_our_own_messages_are_translated(self):
        user = factories.user()

        response = token_client(user).patch("/api/v1/me/", {"username": "x"}, format="json")

        assert_error(response, 400, "invalid", fields={"username": ["此处不能修改该字段。"]})

    def test_the_users_own_language_wins_over_accept_language(self):
        """Browsers send an Accept-Language of their own; the account setting is explicit."""
        english = token_client(factories.user(language="en"))
        chinese = token_client(factories.user(language="zh-hans"))

        in_english = english.get("/api/v1/schools/?province=x", headers={"Accept-Language": "zh"})
        in_chinese = chinese.get("/api/v1/schools/?province=x", headers={"Accept-Language": "en"})

        assert in_english.json()["fields"] == {
            "province": ["A province code is 2 digits (GB/T 2260)."]
        }
        assert in_chinese.json()["fields"] == {"province": ["省份代码为 2 位数字（GB/T 2260）。"]}

    def test_unknown_urls_answer_in_the_session_users_language(self):
        browser = APIClient()
        browser.force_login(factories.user(language="en"))

        body = assert_error(browser.get("/api/v1/nope/"), 404, "not_found")

        assert body["detail"] == "Not found."
