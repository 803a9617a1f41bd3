"""``POST /api/v1/me/email/``: the API's way to change one's email follows the site's rule (a
link to the new address, a notice to the current one, no change until confirmed)."""

from __future__ import annotations

import pytest

from notifications.models import Notification
from records.models import User
from tests import factories
from tests.api.helpers import assert_error
from tests.api.helpers import token_client

pytestmark = pytest.mark.django_db

EMAIL_URL = "/api/v1/me/email/"


def test_sends_the_link_and_changes_nothing_yet():
    user = factories.user("alice", email="alice@old.example", language="en")

    response = token_client(user).post(EMAIL_URL, {"email": "alice@new.example"}, format="json")

    assert response.status_code == 202
    body = response.json()
    assert body["email"] == "alice@new.example"
    assert body["detail"].startswith("A confirmation link was sent to alice@new.example.")
    assert User.objects.get(pk=user.pk).email == "alice@old.example"
    assert set(Notification.objects.values_list("event", "recipient_email")) == {
        ("email_change_confirm", "alice@new.example"),
        ("email_change_requested", "alice@old.example"),
    }
    link = Notification.objects.get(event="email_change_confirm").body_text
    assert "/accounts/email/confirm/" in link


@pytest.mark.parametrize(
    ("address", "message"),
    [
        ("not-an-address", "Enter a valid email address."),
        ("alice@old.example", "This is already your email address."),
        ("bob@example.org", "Another account already uses this email address."),
    ],
)
def test_names_a_refused_address(address, message):
    user = factories.user("alice", email="alice@old.example", language="en")
    factories.user("bob", email="bob@example.org")

    response = token_client(user).post(EMAIL_URL, {"email": address}, format="json")

    assert_error(response, 400, "invalid", fields={"email": [message]})
    assert not Notification.objects.exists()


def test_needs_authentication(api):
    assert_error(
        api.post(EMAIL_URL, {"email": "a@example.org"}, format="json"), 401, "not_authenticated"
    )
