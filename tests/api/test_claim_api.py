"""``POST /api/v1/auth/claim/``: a freshman's account from their admission, without logging in;
one answer for any mismatch; 429 after five failures from one address, whatever
``X-Forwarded-For`` a client sends."""

from __future__ import annotations

import datetime as dt

import pytest
from django.test import Client
from rest_framework.authtoken.models import Token

from records.choices import Gender
from records.models import User
from tests import factories
from tests.api.helpers import assert_error
from tests.claims import PASSWORD
from tests.claims import admitted
from tests.claims import claim_of
from tests.records.admission_files import row

pytestmark = pytest.mark.django_db

# A valid resident ID number no freshman of ``row`` has (born 2006).
STRANGER_ID = factories.resident_id(dt.date(2006, 6, 6), Gender.MALE, region="110108", serial=77)

CLAIM_URL = "/api/v1/auth/claim/"
TOKEN_URL = "/api/v1/auth/token/"
MISMATCH_EN = (
    "These details do not match any admission. Check your candidate number, ID number and "
    "name against your admission notice and try again (after 5 failed attempts you will have "
    "to wait 10 minutes)."
)


@pytest.fixture(autouse=True)
def _limits(settings):
    settings.CLAIM_FAILURE_LIMIT = 5
    settings.CLAIM_FAILURE_WINDOW_MINUTES = 10
    settings.TRUSTED_PROXIES = []


@pytest.fixture
def freshman(places) -> dict[str, str]:
    first = row(1)
    admitted(first)
    return first


def _post(api, values, **extra):
    return api.post(CLAIM_URL, values, format="json", **extra)


def test_a_claim_answers_201_and_the_student_then_gets_a_token(api, freshman):
    response = _post(api, claim_of(freshman, username="linxiao"))

    assert response.status_code == 201
    assert response.json() == {"username": "linxiao", "name": freshman["name"]}
    token = api.post(TOKEN_URL, {"username": "linxiao", "password": PASSWORD}, format="json")
    assert token.status_code == 200
    me = api.get("/api/v1/me/", HTTP_AUTHORIZATION=f"Token {token.json()['token']}").json()
    assert me["roles"] == ["student"]
    assert me["person"]["name"] == freshman["name"]


def test_no_session_and_no_csrf_token_are_needed(freshman):
    browser = Client(enforce_csrf_checks=True)
    browser.force_login(factories.user("someone"))  # a logged-in browser, without a CSRF token

    response = browser.post(CLAIM_URL, claim_of(freshman), content_type="application/json")

    assert response.status_code == 201


@pytest.mark.parametrize(
    "wrong",
    [{"candidate_number": "26110000009999"}, {"id_number": STRANGER_ID}, {"name": "李四"}],
    ids=["candidate-number", "id-number", "name"],
)
def test_a_mismatch_is_one_message_naming_no_field(api, freshman, wrong):
    response = _post(api, claim_of(freshman, **wrong), headers={"Accept-Language": "en"})

    body = assert_error(response, 400, "claim_mismatch", fields={})
    assert body["detail"] == MISMATCH_EN
    assert not User.objects.exists()


def test_field_errors_name_their_fields(api, freshman):
    response = _post(
        api,
        claim_of(freshman, username="has space", email="nope", password="short"),
        headers={"Accept-Language": "en"},
    )

    body = assert_error(response, 400, "invalid")
    assert set(body["fields"]) == {"username", "email", "password"}
    assert "at least 8 characters" in " ".join(body["fields"]["password"])


def test_missing_and_oversized_fields_are_refused_before_anything_is_looked_up(api, freshman):
    response = _post(api, {"candidate_number": "1" * 65}, headers={"Accept-Language": "en"})

    body = assert_error(response, 400, "invalid")
    assert set(body["fields"]) == {
        "candidate_number",
        "id_number",
        "name",
        "username",
        "email",
        "password",
    }


def test_a_claimed_admission_answers_409_when_all_three_match(api, freshman):
    assert _post(api, claim_of(freshman)).status_code == 201

    again = _post(api, claim_of(freshman, username="other", email="other@example.org"))

    assert_error(again, 409, "already_claimed", fields={})


class TestFailuresPerAddress:
    def test_the_sixth_failure_from_one_address_answers_429_with_retry_after(self, api, freshman):
        for _ in range(5):
            assert _post(api, claim_of(freshman, name="李四")).status_code == 400

        sixth = _post(api, claim_of(freshman, name="李四"), headers={"Accept-Language": "en"})
        right = _post(api, claim_of(freshman))

        body = assert_error(sixth, 429, "throttled", fields={})
        assert body["detail"].startswith("Too many failed attempts from your network.")
        assert "seconds" not in body["detail"]  # DRF's own sentence is not added
        assert 590 <= int(sixth["Retry-After"]) <= 600
        assert_error(right, 429, "throttled", fields={})
        assert not User.objects.exists()

    def test_another_address_is_not_affected(self, api, freshman):
        for _ in range(6):
            _post(api, claim_of(freshman, name="李四"))

        response = _post(api, claim_of(freshman), REMOTE_ADDR="198.51.100.9")

        assert response.status_code == 201

    def test_a_rotating_x_forwarded_for_does_not_escape_the_count(self, api, freshman):
        for n in range(5):
            forged = {"X-Forwarded-For": f"192.0.2.{n}"}
            assert _post(api, claim_of(freshman, name="李四"), headers=forged).status_code == 400

        response = _post(api, claim_of(freshman), headers={"X-Forwarded-For": "192.0.2.99"})

        assert_error(response, 429, "throttled", fields={})

    def test_behind_a_trusted_proxy_each_client_has_its_own_count(self, api, freshman, settings):
        settings.TRUSTED_PROXIES = ["127.0.0.1"]  # the test client's address
        for n in range(5):
            # The client forges an entry in front; the proxy appended the client's address.
            forged = {"X-Forwarded-For": f"192.0.2.{n}, 198.51.100.7"}
            assert _post(api, claim_of(freshman, name="李四"), headers=forged).status_code == 400
        forged = {"X-Forwarded-For": "192.0.2.99, 198.51.100.7"}
        assert _post(api, claim_of(freshman), headers=forged).status_code == 429

        other = _post(api, claim_of(freshman), headers={"X-Forwarded-For": "198.51.100.8"})

        assert other.status_code == 201

    def test_field_errors_and_successes_do_not_count(self, api, places):
        rows = [row(n) for n in range(1, 4)]
        admitted(*rows)
        for _ in range(6):
            assert _post(api, claim_of(rows[0], password="short")).status_code == 400
        for values in rows[:2]:
            assert _post(api, claim_of(values)).status_code == 201
        for _ in range(4):
            assert _post(api, claim_of(rows[2], name="李四")).status_code == 400

        assert _post(api, claim_of(rows[2])).status_code == 201
        assert Token.objects.count() == 0
