from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.test import Client
from rest_framework.authtoken.models import Token
from rest_framework.test import APIClient

from tests import factories
from tests.api.helpers import assert_error
from tests.api.helpers import token_client

pytestmark = pytest.mark.django_db

TOKEN_URL = "/api/v1/auth/token/"
ME_URL = "/api/v1/me/"
BAD_CREDENTIALS_EN = "Unable to log in with provided credentials."
MONDAY_9AM = dt.datetime(2026, 3, 2, 9, 0, tzinfo=ZoneInfo("Asia/Shanghai"))


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
        user = factories.user("alice", password="s3cret-pw")
        browser = APIClient(enforce_csrf_checks=True)
        browser.force_login(user)

        response = browser.post(
            TOKEN_URL, {"username": "alice", "password": "s3cret-pw"}, format="json"
        )

        assert response.status_code == 200

    def test_throttles_password_guessing(self, api, settings):
        settings.AXES_FAILURE_LIMIT = settings.LOGIN_IP_FAILURE_LIMIT = 50  # the throttle first
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

    def test_a_rotating_x_forwarded_for_does_not_escape_the_throttle(self, api, settings):
        """DRF's own client address would be the header's: every guess a new client."""
        settings.AXES_FAILURE_LIMIT = settings.LOGIN_IP_FAILURE_LIMIT = 50
        settings.TRUSTED_PROXIES = []
        factories.user("alice", password="s3cret-pw")
        guess = {"username": "alice", "password": "wrong"}
        for n in range(10):
            headers = {"X-Forwarded-For": f"192.0.2.{n}"}
            assert api.post(TOKEN_URL, guess, format="json", headers=headers).status_code == 400

        response = api.post(
            TOKEN_URL, guess, format="json", headers={"X-Forwarded-For": "192.0.2.99"}
        )

        assert_error(response, 429, "throttled", fields={})

    def test_a_trusted_proxy_s_forwarded_client_has_its_own_count(self, api, settings):
        settings.AXES_FAILURE_LIMIT = settings.LOGIN_IP_FAILURE_LIMIT = 50
        settings.TRUSTED_PROXIES = ["127.0.0.1"]  # the test client's address
        factories.user("alice", password="s3cret-pw")
        guess = {"username": "alice", "password": "wrong"}
        for n in range(10):
            # The client forges an entry of its own in front; the proxy appended its address.
            first = {"X-Forwarded-For": f"192.0.2.{n}, 198.51.100.7"}
            assert api.post(TOKEN_URL, guess, format="json", headers=first).status_code == 400
        first = {"X-Forwarded-For": "192.0.2.99, 198.51.100.7"}
        assert api.post(TOKEN_URL, guess, format="json", headers=first).status_code == 429

        second = {"X-Forwarded-For": "198.51.100.8"}
        assert api.post(TOKEN_URL, guess, format="json", headers=second).status_code == 400


class TestTokenLockout:
    """The token endpoint counts failures with the site's and the admin's login (axes)."""

    @pytest.fixture(autouse=True)
    def _limits(self, settings):
        settings.AXES_FAILURE_LIMIT = 5
        settings.LOGIN_IP_FAILURE_LIMIT = 20
        settings.AXES_COOLOFF_TIME = dt.timedelta(minutes=15)
        settings.TRUSTED_PROXIES = []

    def test_locks_out_after_five_wrong_passwords_until_the_cool_off_ends(self, api):
        factories.user("alice", password="s3cret-pw")
        guess = {"username": "alice", "password": "wrong"}
        right = {"username": "alice", "password": "s3cret-pw"}
        english = {"Accept-Language": "en"}
        with time_machine.travel(MONDAY_9AM, tick=False) as clock:
            for _ in range(4):
                assert api.post(TOKEN_URL, guess, format="json").status_code == 400
            fifth = api.post(TOKEN_URL, guess, format="json", headers=english)
            refused = api.post(TOKEN_URL, right, format="json", headers=english)

            for response in (fifth, refused):
                body = assert_error(response, 429, "locked_out", fields={})
                assert body["detail"].startswith(
                    "Too many failed login attempts. Logging in is locked until 09:15"
                )
                assert response["Retry-After"] == str(15 * 60)
            assert not Token.objects.exists()

            clock.shift(dt.timedelta(minutes=15))
            assert api.post(TOKEN_URL, right, format="json").status_code == 200

    def test_says_it_in_chinese_by_default(self, api):
        factories.user("alice", password="s3cret-pw")
        guess = {"username": "alice", "password": "wrong"}
        for _ in range(5):
            response = api.post(TOKEN_URL, guess, format="json")
        body = assert_error(response, 429, "locked_out")
        assert body["detail"].startswith("登录失败次数过多")

    def test_shares_the_count_with_the_site_s_login_form(self, api):
        factories.user("alice", password="s3cret-pw")
        for _ in range(5):
            Client().post("/accounts/login/", {"username": "alice", "password": "wrong"})

        response = api.post(
            TOKEN_URL, {"username": "alice", "password": "s3cret-pw"}, format="json"
        )

        assert_error(response, 429, "locked_out")

    def test_rotating_x_forwarded_for_does_not_escape_it(self, api):
        factories.user("alice", password="s3cret-pw")
        guess = {"username": "alice", "password": "wrong"}
        for n in range(5):
            api.post(TOKEN_URL, guess, format="json", headers={"X-Forwarded-For": f"192.0.2.{n}"})

        response = api.post(
            TOKEN_URL,
            {"username": "alice", "password": "s3cret-pw"},
            format="json",
            headers={"X-Forwarded-For": "192.0.2.77"},
        )

        assert_error(response, 429, "locked_out")

    def test_names_a_user_name_longer_than_any(self, api):
        response = api.post(
            TOKEN_URL,
            {"username": "a" * 151, "password": "x"},
            format="json",
            headers={"Accept-Language": "en"},
        )

        assert_error(
            response,
            400,
            "invalid",
            fields={"username": ["Ensure this field has no more than 150 characters."]},
        )


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
