from __future__ import annotations

import pytest
from rest_framework.authtoken.models import Token
from rest_framework.test import APIClient

from tests import factories
from tests.api.helpers import assert_error
from tests.api.helpers import token_client

pytestmark = pytest.mark.django_db

TOKEN_URL = "/api/v1/auth/token/"
ME_URL = "/api/v1/me/"
BAD_CREDENTIALS_EN = "Unable to log in with provided credentials."


class TestObtainToken:
    def test_returns_the_users_token_when_credentials_are_right(self, api):
        user = factories.user("alice", password="s3cret-pw")

        response = api.post(TOKEN_URL, {"username": "alice", "password": "s3cret-pw"})

        assert response.status_code == 200
        assert response.json() == {"token": Token.objects.get(user=user).key}

    def test_returns_the_same_token_when_asked_twice(self, api):
        factories.user("alice", password="s3cret-pw")
        credentials = {"username": "alice", "password": "s3cret-pw"}

        first = api.post(TOKEN_URL, credentials, format="json").json()["token"]
        second = api.post(TOKEN_URL, credentials, format="json").json()["token"]

        assert first == second
        assert Token.objects.count() == 1

    def test_refuses_a_wrong_password_in_the_error_format(self, api):
        factories.user("alice", password="s3cret-pw")

        response = api.post(
            TOKEN_URL,
            {"username": "alice", "password": "wrong"},
            format="json",
            headers={"Accept-Language": "en"},
        )

        body = assert_error(
            response, 400, "invalid", fields={"non_field_errors": [BAD_CREDENTIALS_EN]}
        )
        assert body["detail"] == BAD_CREDENTIALS_EN
        assert not Token.objects.exists()

    def test_names_the_missing_fields(self, api):
        response = api.post(TOKEN_URL, {}, format="json", headers={"Accept-Language": "en"})

        body = assert_error(response, 400, "invalid")
        assert body["fields"] == {
            "username": ["This field is required."],
            "password": ["This field is required."],
        }

    def test_refuses_an_inactive_user_like_a_wrong_password(self, api):
        user = factories.user("alice", password="s3cret-pw")
        user.is_active = False
        user.save()

        response = api.post(
            TOKEN_URL,
            {"username": "alice", "password": "s3cret-pw"},
            format="json",
            headers={"Accept-Language": "en"},
        )

        assert_error(response, 400, "invalid", fields={"non_field_errors": [BAD_CREDENTIALS_EN]})
        assert not Token.objects.exists()

    def test_ignores_a_logged_in_session_and_its_csrf_check(self):
        """A browser that is logged in can still obtain a token without a CSRF token."""
        factories.user("alice", password="s3cret-pw")
        browser = APIClient(enforce_csrf_checks=True)
        browser.login(username="alice", password="s3cret-pw")

        response = browser.post(
            TOKEN_URL, {"username": "alice", "password": "s3cret-pw"}, format="json"
        )

        assert response.status_code == 200

    def test_throttles_password_guessing(self, api):
        factories.user("alice", password="s3cret-pw")
        guess = {"username": "alice", "password": "wrong"}
        for _ in range(10):
            assert api.post(TOKEN_URL, guess, format="json").status_code == 400

        response = api.post(TOKEN_URL, guess, format="json")

        assert_error(response, 429, "throttled", fields={})
        assert int(response["Retry-After"]) > 0
        # Another username from the same client is not locked out.
        other = {"username": "bob", "password": "wrong"}
        assert api.post(TOKEN_URL, other, format="json").status_code == 400


class TestRevokeToken:
    def test_deletes_the_callers_token(self):
        user = factories.user()
        api = token_client(user)

        assert api.delete(TOKEN_URL).status_code == 204

        assert not Token.objects.filter(user=user).exists()
        assert_error(api.get(ME_URL), 401, "authentication_failed")

    def test_needs_authentication(self, api):
        assert_error(api.delete(TOKEN_URL), 401, "not_authenticated")


class TestTokenHeader:
    def test_authenticates_the_request(self):
        user = factories.user("alice")

        response = token_client(user).get(ME_URL)

        assert response.status_code == 200
        assert response.json()["username"] == "alice"

    def test_refuses_an_unknown_token_with_401(self, api):
        api.credentials(HTTP_AUTHORIZATION="Token not-a-real-token")

        response = api.get(ME_URL, headers={"Accept-Language": "en"})

        body = assert_error(response, 401, "authentication_failed", fields={})
        assert body["detail"] == "Invalid token."
        assert response["WWW-Authenticate"] == "Token"

    def test_refuses_the_token_of_a_deactivated_user(self):
        user = factories.user()
        api = token_client(user)
        user.is_active = False
        user.save()

        assert_error(api.get(ME_URL), 401, "authentication_failed")


class TestSession:
    def test_authenticates_reads(self):
        user = factories.user("alice")
        browser = APIClient(enforce_csrf_checks=True)
        browser.force_login(user)

        response = browser.get(ME_URL)

        assert response.status_code == 200
        assert response.json()["username"] == "alice"

    def test_refuses_writes_without_the_csrf_token(self):
        user = factories.user("alice")
        browser = APIClient(enforce_csrf_checks=True)
        browser.force_login(user)

        response = browser.patch(ME_URL, {"language": "en"}, format="json")

        assert_error(response, 403, "permission_denied", fields={})
        user.refresh_from_db()
        assert user.language == "zh-hans"

    def test_accepts_writes_with_the_csrf_token(self):
        user = factories.user("alice")
        browser = APIClient(enforce_csrf_checks=True)
        browser.force_login(user)
        browser.get("/api/docs/")  # sets the csrftoken cookie
        csrf = browser.cookies["csrftoken"].value

        response = browser.patch(
            ME_URL, {"language": "en"}, format="json", headers={"X-CSRFToken": csrf}
        )

        assert response.status_code == 200, response.content
        user.refresh_from_db()
        assert user.language == "en"
