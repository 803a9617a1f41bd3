"""Who the client is (``records.logins.client_ip``), and the settings that decide it: the
address the lockout and the throttles count by, which a client cannot choose."""

from __future__ import annotations

import datetime as dt
import runpy
from pathlib import Path

import pytest
from django.core.exceptions import ImproperlyConfigured
from django.test import RequestFactory

from records.logins import client_ip

SETTINGS = Path(__file__).resolve().parents[2] / "config" / "settings.py"


def _ip(remote: str, forwarded: str | None = None) -> str:
    headers = {"REMOTE_ADDR": remote}
    if forwarded is not None:
        headers["HTTP_X_FORWARDED_FOR"] = forwarded
    request = RequestFactory().get("/")
    request.META.update(headers)
    return client_ip(request)


@pytest.mark.parametrize(
    ("remote", "forwarded", "client"),
    [
        # No proxy trusted: the header is whatever the client wrote.
        ("203.0.113.10", None, "203.0.113.10"),
        ("203.0.113.10", "192.0.2.1", "203.0.113.10"),
        ("203.0.113.10", "10.0.0.2, 192.0.2.1", "203.0.113.10"),
    ],
)
def test_without_trusted_proxies_the_connection_is_the_client(settings, remote, forwarded, client):
    settings.TRUSTED_PROXIES = []
    assert _ip(remote, forwarded) == client


@pytest.mark.parametrize(
    ("remote", "forwarded", "client"),
    [
        ("10.0.0.2", "198.51.100.7", "198.51.100.7"),
        # The rightmost entry that is no trusted proxy; what the client wrote before it is not.
        ("10.0.0.2", "192.0.2.1, 198.51.100.7", "198.51.100.7"),
        ("10.0.0.2", "192.0.2.1, 198.51.100.7, 10.0.0.3", "198.51.100.7"),
        ("10.0.0.2", " 198.51.100.7 ,10.9.9.9", "198.51.100.7"),
        # Only proxies: the farthest one.
        ("10.0.0.2", "10.0.0.4, 10.0.0.3", "10.0.0.4"),
        # No header, or nothing readable in it: the proxy itself.
        ("10.0.0.2", None, "10.0.0.2"),
        ("10.0.0.2", "", "10.0.0.2"),
        ("10.0.0.2", "unknown", "10.0.0.2"),
        ("10.0.0.2", "198.51.100.7, garbage", "10.0.0.2"),
        # An untrusted connection's header is ignored even if it names a proxy.
        ("203.0.113.10", "10.0.0.3, 198.51.100.7", "203.0.113.10"),
        # IPv6, and an IPv4 address written as IPv6.
        ("::1", "2001:db8::7", "2001:db8::7"),
        ("::ffff:10.0.0.2", "198.51.100.7", "198.51.100.7"),
    ],
)
def test_behind_trusted_proxies_the_forwarded_client_counts(settings, remote, forwarded, client):
    settings.TRUSTED_PROXIES = ["10.0.0.0/8", "::1"]
    assert _ip(remote, forwarded) == client


def _settings_with(monkeypatch: pytest.MonkeyPatch, **environ: str) -> dict[str, object]:
    for name in (
        "CACHE_URL",
        "TRUSTED_PROXIES",
        "AXES_FAILURE_LIMIT",
        "LOGIN_IP_FAILURE_LIMIT",
        "AXES_COOLOFF_MINUTES",
    ):
        monkeypatch.delenv(name, raising=False)
    for name, value in environ.items():
        monkeypatch.setenv(name, value)
    return runpy.run_path(str(SETTINGS))


def test_the_cache_is_the_database_s_unless_cache_url_names_another(monkeypatch):
    default = _settings_with(monkeypatch)["CACHES"]
    redis = _settings_with(monkeypatch, CACHE_URL="redis://127.0.0.1:6379/1")["CACHES"]

    assert default == {
        "default": {
            "BACKEND": "django.core.cache.backends.db.DatabaseCache",
            "LOCATION": "xueji_cache",
        }
    }
    assert redis["default"]["BACKEND"] == "config.cache.RedisCache"  # type: ignore[index]
    assert redis["default"]["LOCATION"] == "redis://127.0.0.1:6379/1"  # type: ignore[index]


def test_trusted_proxies_come_from_the_environment(monkeypatch):
    assert _settings_with(monkeypatch)["TRUSTED_PROXIES"] == []
    loaded = _settings_with(monkeypatch, TRUSTED_PROXIES="127.0.0.1, 10.0.0.0/8,fd00::/8")
    assert loaded["TRUSTED_PROXIES"] == ["127.0.0.1/32", "10.0.0.0/8", "fd00::/8"]


def test_a_mistyped_trusted_proxy_stops_the_start_up(monkeypatch):
    with pytest.raises(ImproperlyConfigured, match=r"TRUSTED_PROXIES: '10\.0\.0\.300' is not"):
        _settings_with(monkeypatch, TRUSTED_PROXIES="127.0.0.1,10.0.0.300")


def test_the_limits_come_from_the_environment_and_must_make_sense(monkeypatch):
    loaded = _settings_with(monkeypatch, AXES_FAILURE_LIMIT="3", LOGIN_IP_FAILURE_LIMIT="40")
    assert (loaded["AXES_FAILURE_LIMIT"], loaded["LOGIN_IP_FAILURE_LIMIT"]) == (3, 40)
    with pytest.raises(ImproperlyConfigured, match="LOGIN_IP_FAILURE_LIMIT at least as high"):
        _settings_with(monkeypatch, AXES_FAILURE_LIMIT="10", LOGIN_IP_FAILURE_LIMIT="5")
    assert _settings_with(monkeypatch, AXES_COOLOFF_MINUTES="30")["AXES_COOLOFF_TIME"] == (
        dt.timedelta(minutes=30)
    )
    with pytest.raises(ImproperlyConfigured, match="AXES_COOLOFF_MINUTES must be at least 1"):
        _settings_with(monkeypatch, AXES_COOLOFF_MINUTES="0")


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("trusted", "remote", "https"),
    [
        ([], "203.0.113.9", False),
        (["10.0.0.1"], "203.0.113.9", False),
        (["10.0.0.1"], "10.0.0.1", True),
    ],
)
def test_x_forwarded_proto_is_believed_from_a_trusted_proxy_only(settings, trusted, remote, https):
    from django.test import Client

    settings.TRUSTED_PROXIES = trusted
    settings.SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    settings.SECURE_SSL_REDIRECT = True

    response = Client(REMOTE_ADDR=remote).get(
        "/accounts/login/", headers={"X-Forwarded-Proto": "https"}
    )

    # Believed: the request is HTTPS and the page answers; not believed: redirected to HTTPS.
    assert (response.status_code == 200) is https, response.status_code
