"""Changing one's own email: a link to the new address, a notice to the current one, and no
change until the link is opened by the same user while logged in; an altered, expired,
replayed or another user's link is refused, and so is an address taken meanwhile."""

from __future__ import annotations

import datetime as dt
import json
import re
from urllib.parse import urlsplit

import pytest
import time_machine
from django.core import mail
from django.core import signing
from django.test import Client

from notifications.models import Notification
from records.models import User
from tests import factories

pytestmark = pytest.mark.django_db

CHANGE_URL = "/accounts/email/"
LINK = re.compile(r"https?://\S+/accounts/email/confirm/[^/\s]+/")


@pytest.fixture
def alice() -> User:
    return factories.user("alice", email="alice@old.example")


def _client(user: User) -> Client:
    client = Client()
    client.force_login(user)
    return client


def _link_in(body: str) -> str:
    """The path of the confirmation link in an email's body."""
    found = LINK.search(body)
    assert found, body
    return urlsplit(found.group(0)).path


def _request_link(user: User, new_email: str) -> str:
    from records.accounts import email_change_request  # new: the other tests fail on their own

    email_change_request(user=user, new_email=new_email)
    notice = Notification.objects.filter(event="email_change_confirm").latest("pk")
    return _link_in(notice.body_text)


def _email(user: User) -> str:
    return User.objects.get(pk=user.pk).email


def test_the_profile_offers_the_change_on_a_page_of_the_shell(alice):
    client = _client(alice)
    profile = client.get("/accounts/profile/").content.decode()
    assert 'href="/accounts/email/"' in profile
    assert "修改邮箱地址" in profile

    page = client.get(CHANGE_URL).content.decode()
    assert 'name="email"' in page
    assert "alice@old.example" in page  # the current address
    assert "vf-page__menu" in page  # the site's menu, as on the other account pages


def test_the_whole_change_sends_both_emails_and_waits_for_the_link(
    alice, django_capture_on_commit_callbacks
):
    client = _client(alice)
    mail.outbox.clear()
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(CHANGE_URL, {"email": "alice@new.example"})

    assert response.status_code == 302
    assert response["Location"] == "/accounts/profile/"
    assert "确认链接已发送到 alice@new.example" in client.get("/accounts/profile/").content.decode()
    assert _email(alice) == "alice@old.example"  # nothing changes yet
    sent = {message.to[0]: message for message in mail.outbox}
    assert set(sent) == {"alice@new.example", "alice@old.example"}
    confirm, notice = sent["alice@new.example"], sent["alice@old.example"]
    assert "请确认您的新邮箱地址" in confirm.subject
    assert "有人申请修改您的邮箱地址" in notice.subject
    assert "alice@new.example" in notice.body
    assert not LINK.search(str(notice.body))  # the link goes only to the new address
    link = _link_in(str(confirm.body))

    page = client.get(link)
    assert page.status_code == 200
    assert "alice@new.example" in page.content.decode()
    assert _email(alice) == "alice@old.example"  # opening the link only shows the change

    response = client.post(link)
    assert response.status_code == 302
    assert _email(alice) == "alice@new.example"
    assert (
        "您的邮箱地址已改为 alice@new.example" in client.get(response["Location"]).content.decode()
    )

    replay = client.post(link)  # once used, the link names an address that is gone
    assert replay.status_code == 400
    assert "该确认链接已失效" in replay.content.decode()
    assert _email(alice) == "alice@new.example"


def test_a_user_without_an_email_gets_only_the_link(django_capture_on_commit_callbacks):
    user = factories.user("bob")
    User.objects.filter(pk=user.pk).update(email="")
    user.refresh_from_db()
    with django_capture_on_commit_callbacks(execute=True):
        _client(user).post(CHANGE_URL, {"email": "bob@new.example"})
    assert list(Notification.objects.values_list("event", "recipient_email")) == [
        ("email_change_confirm", "bob@new.example")
    ]


@pytest.mark.parametrize(
    ("address", "message"),
    [
        ("not-an-address", "请输入合法的邮件地址。"),  # Django's own message
        ("ALICE@old.example", "这已经是您的邮箱地址。"),
        ("bob@example.org", "该邮箱地址已被其他账号使用。"),
    ],
)
def test_a_refused_address_is_named_on_the_form_and_sends_nothing(alice, address, message):
    factories.user("bob", email="bob@example.org")

    response = _client(alice).post(CHANGE_URL, {"email": address})

    assert response.status_code == 200
    assert message in response.content.decode()
    assert not Notification.objects.exists()
    assert _email(alice) == "alice@old.example"


def test_an_altered_link_is_refused(alice):
    """Someone who saw a link puts their own address in it: the signature no longer fits."""
    link = _request_link(alice, "alice@new.example")
    token = link.rstrip("/").rsplit("/", 1)[1]
    payload, timestamp, signature = token.split(":")
    data = json.loads(signing.b64_decode(payload.encode()))
    assert data == {"user": alice.pk, "old": "alice@old.example", "new": "alice@new.example"}
    data["new"] = "mallory@evil.example"
    forged_payload = signing.b64_encode(json.dumps(data, separators=(",", ":")).encode()).decode()
    forged = link.replace(token, f"{forged_payload}:{timestamp}:{signature}")

    for response in (_client(alice).get(forged), _client(alice).post(forged)):
        assert response.status_code == 400
        assert "该确认链接无效" in response.content.decode()
    assert _email(alice) == "alice@old.example"


def test_an_expired_link_is_refused(alice):
    with time_machine.travel(dt.datetime(2026, 3, 2, 9, 0, tzinfo=dt.UTC), tick=False) as clock:
        link = _request_link(alice, "alice@new.example")
        clock.shift(dt.timedelta(days=3, seconds=1))

        response = _client(alice).post(link)

    assert response.status_code == 400
    assert "该确认链接已过期：链接的有效期为 3 天" in response.content.decode()
    assert _email(alice) == "alice@old.example"


def test_a_link_works_until_it_expires(alice):
    with time_machine.travel(dt.datetime(2026, 3, 2, 9, 0, tzinfo=dt.UTC), tick=False) as clock:
        link = _request_link(alice, "alice@new.example")
        clock.shift(dt.timedelta(days=2, hours=23))

        assert _client(alice).post(link).status_code == 302

    assert _email(alice) == "alice@new.example"


def test_another_user_cannot_use_the_link(alice):
    link = _request_link(alice, "alice@new.example")
    mallory = factories.user("mallory")

    response = _client(mallory).post(link)

    assert response.status_code == 400
    assert "该确认链接属于另一个账号" in response.content.decode()
    assert _email(alice) == "alice@old.example"
    assert _email(mallory) == "mallory@example.org"


def test_the_link_needs_a_login_and_comes_back_after_it(alice):
    link = _request_link(alice, "alice@new.example")

    response = Client().get(link)

    assert response.status_code == 302
    assert response["Location"].startswith("/accounts/login/?next=/accounts/email/confirm/")


def test_an_address_taken_meanwhile_is_refused(alice):
    link = _request_link(alice, "shared@new.example")
    factories.user("bob", email="Shared@new.example")

    response = _client(alice).post(link)

    assert response.status_code == 400
    assert "该邮箱地址已被其他账号使用。" in response.content.decode()
    assert _email(alice) == "alice@old.example"


def test_an_older_link_is_refused_after_another_change(alice):
    first = _request_link(alice, "first@new.example")
    second = _request_link(alice, "second@new.example")
    client = _client(alice)

    assert client.post(second).status_code == 302
    response = client.post(first)

    assert response.status_code == 400
    assert "该确认链接已失效" in response.content.decode()
    assert _email(alice) == "second@new.example"
