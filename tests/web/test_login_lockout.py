"""Logins that cannot be guessed: the site's and the admin's login lock a user name out from an
address after AXES_FAILURE_LIMIT wrong passwords, and an address after LOGIN_IP_FAILURE_LIMIT;
the page says until when, in the user's language, and the right password is refused until
then. ``X-Forwarded-For`` counts only from a trusted proxy."""

from __future__ import annotations

import datetime as dt
from typing import Any
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.core.management import call_command
from django.test import Client

from records.models import User
from tests import factories

pytestmark = pytest.mark.django_db

LOGIN = "/accounts/login/"
ADMIN_LOGIN = "/admin/login/"
SHANGHAI = ZoneInfo("Asia/Shanghai")
MONDAY_9AM = dt.datetime(2026, 3, 2, 9, 0, tzinfo=SHANGHAI)
PASSWORD = "s3cret-pw"
LOCKED_ZH = "登录失败次数过多"
LOCKED_EN = "Too many failed login attempts"
WRONG_ZH = "请输入一个正确的"  # Django's "Please enter a correct username and password"


@pytest.fixture(autouse=True)
def _limits(settings):
    settings.AXES_FAILURE_LIMIT = 5
    settings.LOGIN_IP_FAILURE_LIMIT = 20
    settings.AXES_COOLOFF_TIME = dt.timedelta(minutes=15)
    settings.TRUSTED_PROXIES = []


def _log_in(
    client: Client,
    username: str,
    password: str,
    url: str = LOGIN,
    headers: dict[str, str] | None = None,
) -> Any:
    return client.post(url, {"username": username, "password": password}, headers=headers)


def _attempts():  # imported here: on the code before axes, every test fails on its own
    from axes.models import AccessAttempt

    return AccessAttempt.objects


def _logged_in(client: Client) -> bool:
    return "_auth_user_id" in client.session


def test_thirty_wrong_passwords_then_the_right_one_is_refused_until_the_cool_off_ends():
    factories.user("alice", password=PASSWORD)
    client = Client()
    with time_machine.travel(MONDAY_9AM, tick=False) as clock:
        statuses = [_log_in(client, "alice", f"guess-{n}").status_code for n in range(30)]
        right = _log_in(client, "alice", PASSWORD)

        # Four wrong passwords are told so; the fifth locks the user name from this address.
        assert statuses == [200] * 4 + [429] * 26
        assert right.status_code == 429
        assert not _logged_in(client)
        page = right.content.decode()
        assert LOCKED_ZH in page
        assert "09:15" in page  # until when, in the local time
        assert WRONG_ZH not in page
        assert right["Retry-After"] == str(15 * 60)
        # The failures while locked out were not counted: the lockout ends when it said.
        assert _attempts().get(username="alice").failures_since_start == 5

        clock.shift(dt.timedelta(minutes=14, seconds=59))
        assert _log_in(client, "alice", PASSWORD).status_code == 429

        clock.shift(dt.timedelta(seconds=1))
        response = _log_in(client, "alice", PASSWORD)
        assert response.status_code == 302
        assert _logged_in(client)
        # A successful login clears that user name's failures from that address.
        assert not _attempts().filter(username="alice").exists()


def test_the_form_shows_the_lockout_where_the_wrong_password_error_goes():
    factories.user("alice", password=PASSWORD)
    client = Client()
    with time_machine.travel(MONDAY_9AM, tick=False):
        for _ in range(5):
            _log_in(client, "alice", "wrong")
        page = _log_in(client, "alice", "wrong").content.decode()
    assert page.count(LOCKED_ZH) == 1
    assert 'name="username"' in page  # the login form itself, to try again later
    assert page.index(LOCKED_ZH) < page.index('name="password"')


def test_the_lockout_speaks_english_to_an_english_browser():
    factories.user("alice", password=PASSWORD)
    client = Client(headers={"Accept-Language": "en"})
    with time_machine.travel(MONDAY_9AM, tick=False):
        for _ in range(4):
            assert "Please enter a correct" in _log_in(client, "alice", "wrong").content.decode()
        page = _log_in(client, "alice", "wrong").content.decode()
    assert f"{LOCKED_EN}. Logging in is locked until 09:15 (in about 15 minutes)" in page


def test_colleagues_behind_the_same_address_and_the_user_elsewhere_can_still_log_in():
    """A school office shares one address: one person's lockout is not everyone's."""
    factories.user("alice", password=PASSWORD)
    factories.user("bob", password=PASSWORD)
    office = Client(REMOTE_ADDR="203.0.113.10")
    for _ in range(5):
        _log_in(office, "alice", "wrong")
    assert _log_in(office, "alice", PASSWORD).status_code == 429

    assert _log_in(Client(REMOTE_ADDR="203.0.113.10"), "bob", PASSWORD).status_code == 302
    assert _log_in(Client(REMOTE_ADDR="198.51.100.7"), "alice", PASSWORD).status_code == 302


def test_one_address_trying_many_user_names_is_locked_out_altogether():
    factories.user("alice", password=PASSWORD)
    client = Client(REMOTE_ADDR="203.0.113.10")
    with time_machine.travel(MONDAY_9AM, tick=False) as clock:
        for n in range(19):
            assert _log_in(client, f"user{n}", "123456").status_code == 200
        assert _log_in(client, "user19", "123456").status_code == 429  # the twentieth failure
        response = _log_in(client, "alice", PASSWORD)
        assert response.status_code == 429
        assert LOCKED_ZH in response.content.decode()
        assert _log_in(Client(REMOTE_ADDR="198.51.100.7"), "alice", PASSWORD).status_code == 302

        clock.shift(dt.timedelta(minutes=15))
        assert _log_in(client, "alice", PASSWORD).status_code == 302


def test_rotating_x_forwarded_for_does_not_escape_the_lockout():
    factories.user("alice", password=PASSWORD)
    client = Client(REMOTE_ADDR="203.0.113.10")
    for n in range(30):
        _log_in(client, "alice", "wrong", headers={"X-Forwarded-For": f"192.0.2.{n}"})
    response = _log_in(client, "alice", PASSWORD, headers={"X-Forwarded-For": "192.0.2.200"})
    assert response.status_code == 429
    assert set(_attempts().values_list("ip_address", flat=True)) == {"203.0.113.10"}


def test_behind_a_trusted_proxy_the_forwarded_client_is_locked_out(settings):
    settings.TRUSTED_PROXIES = ["10.0.0.0/8"]
    factories.user("alice", password=PASSWORD)
    proxy = Client(REMOTE_ADDR="10.0.0.2")
    for _ in range(5):
        # The client wrote "192.0.2.1" itself; the proxies appended what they saw.
        _log_in(proxy, "alice", "wrong", headers={"X-Forwarded-For": "192.0.2.1, 198.51.100.7"})
    assert set(_attempts().values_list("ip_address", flat=True)) == {"198.51.100.7"}

    # The same client, whatever it puts in front, is still 198.51.100.7 and locked out.
    forged = {"X-Forwarded-For": "198.51.100.99, 198.51.100.7, 10.0.0.3"}
    assert _log_in(proxy, "alice", PASSWORD, headers=forged).status_code == 429
    # Another client behind the same proxy is not.
    other = {"X-Forwarded-For": "198.51.100.8"}
    assert _log_in(proxy, "alice", PASSWORD, headers=other).status_code == 302


def test_the_admin_login_is_locked_out_too():
    root = factories.user("root", password=PASSWORD)
    User.objects.filter(pk=root.pk).update(is_staff=True, is_superuser=True)
    client = Client()
    with time_machine.travel(MONDAY_9AM, tick=False) as clock:
        statuses = [_log_in(client, "root", "wrong", ADMIN_LOGIN).status_code for _ in range(30)]
        right = _log_in(client, "root", PASSWORD, ADMIN_LOGIN)

        assert statuses == [200] * 4 + [429] * 26
        assert right.status_code == 429
        assert LOCKED_ZH in right.content.decode()
        assert not _logged_in(client)

        clock.shift(dt.timedelta(minutes=15))
        assert _log_in(client, "root", PASSWORD, ADMIN_LOGIN).status_code == 302
        assert _logged_in(client)


def test_an_administrator_unlocks_a_user_name_with_a_command():
    factories.user("alice", password=PASSWORD)
    client = Client()
    for _ in range(5):
        _log_in(client, "alice", "wrong")
    assert _log_in(client, "alice", PASSWORD).status_code == 429

    call_command("axes_reset_username", "alice", verbosity=0)

    assert _log_in(client, "alice", PASSWORD).status_code == 302
