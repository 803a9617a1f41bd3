"""Inputs a careless client or an attacker sends: each is answered in the error format
(``{code, detail, fields}``, JSON), never with a 500 or an HTML page."""

from __future__ import annotations

import pytest
from django.test import override_settings
from rest_framework.test import APIClient

from tests import factories
from tests.api.helpers import assert_error
from tests.api.helpers import token_client

HUGE = "9223372036854775808"  # 2**63: one past PostgreSQL's bigint


def quiet(client: APIClient) -> APIClient:
    """A client that answers a server error as a response (500) instead of raising it."""
    client.raise_request_exception = False
    return client


@pytest.fixture
def officer(places):
    return factories.officer(places.pku)


@pytest.fixture
def client(officer) -> APIClient:
    return quiet(token_client(officer))


@pytest.mark.django_db
class TestPaging:
    @pytest.mark.parametrize(
        "url", ["/api/v1/schools/", "/api/v1/majors/", "/api/v1/qualifications/"]
    )
    @pytest.mark.parametrize("param", ["limit", "offset"])
    def test_a_huge_limit_or_offset_is_not_a_server_error(self, client, url, param):
        response = client.get(url, {param: HUGE})

        assert response.status_code == 200, response.content
        assert response.json()["results"] is not None

    def test_a_huge_offset_answers_an_empty_page_with_the_count(self, client, places):
        body = client.get("/api/v1/schools/", {"offset": HUGE}).json()

        assert body["results"] == []
        assert body["count"] >= 1
        assert body["previous"] is not None

    def test_a_page_is_never_larger_than_the_maximum(self, client, places):
        for n in range(3):
            factories.school(code=f"2000{n}", name=f"学校{n}")

        with override_settings(API_MAX_PAGE_SIZE=2):
            body = client.get("/api/v1/schools/", {"limit": "100000"}).json()

        assert len(body["results"]) == 2
        assert "limit=2" in body["next"]

    def test_the_schema_states_the_maximum(self, client):
        schema = client.get("/api/schema/", {"format": "json"}).json()
        limit = next(
            p
            for p in schema["paths"]["/api/v1/schools/"]["get"]["parameters"]
            if p["name"] == "limit"
        )

        assert limit["schema"]["maximum"] == 200
        assert limit["schema"]["minimum"] == 1


@pytest.mark.django_db
class TestBodies:
    def test_deeply_nested_json_is_a_parse_error(self, client):
        body = "[" * 5000 + "]" * 5000

        response = client.generic("POST", "/api/v1/corrections/", body, "application/json")

        assert_error(response, 400, "parse_error", fields={})

    def test_moderately_nested_json_is_refused_before_the_serializers_recurse(self, client):
        body = '{"changes": ' + "[" * 930 + "]" * 930 + "}"

        response = client.generic("POST", "/api/v1/corrections/", body, "application/json")

        assert_error(response, 400, "parse_error", fields={})

    def test_deep_nesting_without_authentication_is_a_parse_error_too(self):
        body = '{"username": ' + "[" * 2000 + "]" * 2000 + "}"

        response = quiet(APIClient()).generic(
            "POST", "/api/v1/auth/token/", body, "application/json"
        )

        assert_error(response, 400, "parse_error", fields={})

    def test_a_body_over_the_limit_is_413_in_the_error_format(self, client):
        with override_settings(DATA_UPLOAD_MAX_MEMORY_SIZE=1000):
            response = client.generic(
                "POST",
                "/api/v1/corrections/",
                '{"reason": "' + "x" * 2000 + '"}',
                "application/json",
            )

        assert_error(response, 413, "too_large", fields={})

    def test_too_many_form_fields_is_400_in_the_error_format(self, client):
        with override_settings(DATA_UPLOAD_MAX_NUMBER_FIELDS=10):
            response = client.post(
                "/api/v1/corrections/", {f"f{n}": "x" for n in range(20)}, format="multipart"
            )

        assert_error(response, 400, "too_many_fields", fields={})

    def test_a_body_that_is_not_utf8_is_a_parse_error(self, client):
        response = client.generic(
            "POST", "/api/v1/corrections/", b'{"reason": "\xff\xfe"}', "application/json"
        )

        assert_error(response, 400, "parse_error", fields={})


@pytest.mark.django_db
class TestNulBytes:
    def test_a_nul_byte_in_a_path_parameter_is_a_404(self, client):
        response = client.get("/api/v1/schools/100%0001/")

        assert_error(response, 404, "not_found", fields={})

    @pytest.mark.parametrize(
        "url",
        [
            "/api/v1/tasks/?q=%00",
            "/api/v1/schools/?search=%00",
            "/api/v1/qualifications/?certificate_number=1%002",
            "/api/v1/corrections/?state=%00",
        ],
    )
    def test_a_nul_byte_in_a_query_parameter_is_a_400_naming_it(self, client, url):
        response = client.get(url)

        body = assert_error(response, 400, "invalid")
        (name,) = body["fields"]
        assert name in url

    def test_a_nul_byte_in_a_json_string_is_a_field_error(self, client):
        response = client.patch("/api/v1/me/", {"email": "a\x00@example.org"}, format="json")

        body = assert_error(response, 400, "invalid")
        assert "email" in body["fields"]


@pytest.mark.django_db
class TestNoHtml:
    def test_a_post_to_an_unknown_api_url_is_a_json_404_not_a_csrf_page(self, officer):
        client = quiet(APIClient(enforce_csrf_checks=True))
        client.force_login(officer)

        response = client.post("/api/v1/no-such-thing/", {"a": 1}, format="json")

        assert_error(response, 404, "not_found", fields={})

    def test_a_session_post_without_csrf_token_is_a_json_403(self, officer):
        client = quiet(APIClient(enforce_csrf_checks=True))
        client.force_login(officer)

        response = client.patch("/api/v1/me/", {"language": "en"}, format="json")

        assert_error(response, 403, "permission_denied", fields={})

    def test_a_bad_host_is_answered_in_the_error_format(self, client):
        response = client.get("/api/v1/me/", headers={"Host": "evil.example"})

        assert_error(response, 400, "bad_request", fields={})

    def test_a_server_error_under_api_is_json(self, client, monkeypatch):
        from records.api import views

        def broken(*args, **kwargs):
            raise RuntimeError("a bug")

        monkeypatch.setattr(views, "me_data", broken)

        response = client.get("/api/v1/me/")

        body = assert_error(response, 500, "server_error", fields={})
        assert "a bug" not in body["detail"]

    def test_pages_keep_their_html_errors(self, officer):
        client = quiet(APIClient())
        client.force_login(officer)

        response = client.get("/no-such-page/")

        assert response.status_code == 404
        assert response["Content-Type"].startswith("text/html")


@pytest.mark.django_db
def test_a_compressing_charset_is_refused_not_expanded(client):
    import bz2

    body = bz2.compress(b'{"reason": "' + b"x" * 10_000_000 + b'"}')

    response = client.generic(
        "POST", "/api/v1/corrections/", body, "application/json; charset=bz2_codec"
    )

    assert_error(response, 400, "parse_error", fields={})


@pytest.mark.django_db
def test_the_new_errors_speak_chinese_by_default(officer):
    client = quiet(token_client(officer))
    body = "[" * 100 + "]" * 100

    response = client.generic("POST", "/api/v1/corrections/", body, "application/json")

    assert assert_error(response, 400, "parse_error")["detail"] == "JSON 嵌套超过 20 层。"


@pytest.mark.django_db
class TestHugeIdentifiers:
    @pytest.mark.parametrize(
        "url",
        [
            f"/api/v1/qualifications/{HUGE}/",
            f"/api/v1/corrections/{HUGE}/",
            f"/api/v1/corrections/{HUGE}/withdraw/",
            f"/api/v1/tasks/{HUGE}/decide/",
            "/api/v1/qualifications/" + "9" * 400 + "/",
        ],
    )
    def test_an_identifier_past_bigint_is_a_404(self, client, url):
        method = client.post if url.endswith(("withdraw/", "decide/")) else client.get

        assert_error(method(url, {"decision": "approve"}, format="json"), 404, "not_found")

    def test_a_task_number_past_bigint_in_a_bulk_decision_is_a_field_error(self, client):
        response = client.post(
            "/api/v1/tasks/decide/", {"tasks": [int(HUGE)], "decision": "approve"}, format="json"
        )

        body = assert_error(response, 400, "invalid")
        assert "tasks.0" in body["fields"]

    def test_a_qualification_number_past_bigint_in_a_filing_is_a_field_error(self, client):
        response = client.post(
            "/api/v1/corrections/",
            {"qualification": int(HUGE), "changes": {"name": "王晓明"}, "reason": "x"},
            format="json",
        )

        body = assert_error(response, 400, "invalid")
        assert "qualification" in body["fields"]


@pytest.mark.django_db
@pytest.mark.parametrize("username", ["a\x00b", "\x1b" + "鼎" * 140, "x" * 5000])
def test_a_hostile_user_name_at_the_token_endpoint_is_a_field_error(username):
    """Found by schemathesis: the throttle's cache key carried the user name, NUL and all,
    into the database cache (PostgreSQL refuses NUL: a 500)."""
    response = quiet(APIClient()).post(
        "/api/v1/auth/token/", {"username": username, "password": ""}, format="multipart"
    )

    body = assert_error(response, 400, "invalid")
    assert "username" in body["fields"] or "password" in body["fields"]


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("path", "params"),
    [
        ("/api/v1/tasks/", {"q": "²"}),
        ("/api/v1/tasks/", {"q": "#٣"}),
        ("/api/v1/admission-reviews/", {"year": "²⁰²⁷"}),
        ("/api/v1/year-registrations/", {"year": "²⁰²⁷"}),
        ("/api/v1/admissions/", {"year": "٢٠٢٧"}),
        ("/api/v1/admissions/", {"q": "²"}),
    ],
)
def test_digits_of_other_scripts_are_not_numbers(places, path, params):
    """``"²".isdigit()`` is true but ``int("²")`` fails: such a query answers as any text
    (no match, or 400 naming the field), never 500."""
    officer = factories.officer(places.pku)
    response = token_client(officer).get(path, params)
    assert response.status_code in (200, 400), response.content[:300]
