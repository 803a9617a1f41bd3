"""Logins that cannot be guessed: who the client is, and how many wrong passwords it may try.

``client_ip`` is the one answer to "which address is this request from": django-axes counts
failures by it (``AXES_CLIENT_IP_CALLABLE``) and so do the API's throttles
(``records.api.throttling``). ``X-Forwarded-For`` is believed only from ``TRUSTED_PROXIES``.

``LoginAttempts`` is axes' database handler (attempts in axes' tables, so every process sees
the same count) with a second limit: axes locks a user name from one address after
``AXES_FAILURE_LIMIT`` failures; this also locks the address altogether after
``LOGIN_IP_FAILURE_LIMIT`` failures of any user names, both until ``AXES_COOLOFF_TIME`` after
the last counted failure. ``lockout_of`` says whether a failed login was refused for that and
until when: the login forms (the site's and the admin's) show it in place of "wrong
password", the API answers 429 ``locked_out``, and axes' middleware, through
``lockout_response``, sets the status and ``Retry-After`` of the page.
"""

from __future__ import annotations

import functools
import ipaddress
import math
from dataclasses import dataclass
from datetime import datetime
from datetime import timedelta
from typing import Any

from axes.handlers.database import AxesDatabaseHandler
from axes.helpers import get_client_username
from axes.helpers import get_cool_off
from axes.models import AccessAttempt
from axes.signals import user_locked_out
from django.conf import settings
from django.contrib.admin.forms import AdminAuthenticationForm
from django.core.exceptions import ImproperlyConfigured
from django.core.exceptions import ValidationError
from django.db.models import QuerySet
from django.http import HttpRequest
from django.http import HttpResponse
from django.http.response import HttpResponseBase
from django.utils import timezone
from django.utils.translation import ngettext

Address = ipaddress.IPv4Address | ipaddress.IPv6Address
Network = ipaddress.IPv4Network | ipaddress.IPv6Network

LOCKED_OUT_STATUS = 429
LOCKED_OUT_CODE = "locked_out"


# --- The client's address -----------------------------------------------------------------------


@functools.cache
def _networks(entries: tuple[str, ...]) -> tuple[Network, ...]:
    return tuple(ipaddress.ip_network(entry, strict=False) for entry in entries)


def _address(value: str) -> Address | None:
    try:
        address = ipaddress.ip_address(value.strip())
    except ValueError:
        return None
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped:
        return address.ipv4_mapped  # ::ffff:192.0.2.1 is 192.0.2.1
    return address


def _trusted(address: Address, networks: tuple[Network, ...]) -> bool:
    return any(address in network for network in networks)


def from_trusted_proxy(request: Any) -> bool:
    """Whether the connection comes from one of ``TRUSTED_PROXIES``."""
    remote = _address(request.META.get("REMOTE_ADDR") or "")
    return remote is not None and _trusted(remote, _networks(tuple(settings.TRUSTED_PROXIES)))


class ForwardedHeadersGuard:
    """First middleware: the ``X-Forwarded-*`` headers of a connection that is not a trusted
    proxy are dropped, so Django's ``SECURE_PROXY_SSL_HEADER`` (``X-Forwarded-Proto``) and
    everything after it see only what a proxy of ours vouches for."""

    HEADERS = ("HTTP_X_FORWARDED_PROTO", "HTTP_X_FORWARDED_FOR", "HTTP_X_FORWARDED_HOST")

    def __init__(self, get_response: Any) -> None:
        self.get_response = get_response

    def __call__(self, request: Any) -> Any:
        if not from_trusted_proxy(request):
            for header in self.HEADERS:
                request.META.pop(header, None)
        return self.get_response(request)


def client_ip(request: Any) -> str:
    """The address of the client that sent ``request`` (a Django or a DRF request).

    The connection's own address (``REMOTE_ADDR``), unless it is one of ``TRUSTED_PROXIES``:
    then ``X-Forwarded-For`` is read from the right (each proxy appends the address it was
    called from), skipping the trusted proxies, and the first other address is the client.
    An entry that is not an address ends the walk at the last address vouched for. From an
    untrusted connection the header is ignored, so a client cannot choose its address.
    """
    meta = request.META
    remote = _address(meta.get("REMOTE_ADDR") or "")
    if remote is None:
        return str(meta.get("REMOTE_ADDR") or "")
    networks = _networks(tuple(settings.TRUSTED_PROXIES))
    client = remote
    if not _trusted(remote, networks):
        return str(client)
    for entry in reversed(str(meta.get("HTTP_X_FORWARDED_FOR", "")).split(",")):
        address = _address(entry)
        if address is None:
            break
        client = address
        if not _trusted(address, networks):
            break
    return str(client)


# --- Counting failures --------------------------------------------------------------------------


def _cool_off(request: Any) -> timedelta:
    cool_off: timedelta | None = get_cool_off(request)
    if cool_off is None:
        raise ImproperlyConfigured("AXES_COOLOFF_TIME must be set: lockouts end by themselves")
    return cool_off


def _end_of_lock(attempts: QuerySet[AccessAttempt], limit: int, cool_off: timedelta) -> Any:
    """When ``attempts`` (all within the cool-off) stop adding up to ``limit``: the newest
    rows whose failures reach the limit keep counting until the oldest of them ages out."""
    counted = 0
    rows = attempts.order_by("-attempt_time").values_list("failures_since_start", "attempt_time")
    for failures, attempt_time in rows[:limit]:  # every row holds at least one failure
        counted += failures
        if counted >= limit:
            return attempt_time + cool_off
    return None


def locked_until(request: Any, credentials: dict[str, Any] | None = None) -> datetime | None:
    """When the lockout of this request's user name from its address ends, or of the address
    altogether, whichever is later; ``None`` when neither is locked out.

    ``request`` has been through axes (``axes_ip_address``, ``axes_attempt_time``).
    """
    cool_off = _cool_off(request)
    now = getattr(request, "axes_attempt_time", None) or timezone.now()
    recent = AccessAttempt.objects.filter(
        ip_address=request.axes_ip_address, attempt_time__gte=now - cool_off
    )
    username = get_client_username(request, credentials)
    ends = [
        _end_of_lock(recent.filter(username=username), settings.AXES_FAILURE_LIMIT, cool_off),
        _end_of_lock(recent, settings.LOGIN_IP_FAILURE_LIMIT, cool_off),
    ]
    found = [end for end in ends if end is not None and end > now]
    return max(found) if found else None


class LoginAttempts(AxesDatabaseHandler):
    """axes' database handler, with the address's own, higher limit besides the user name's.

    ``AXES_LOCKOUT_PARAMETERS`` is the pair (user name, address), so axes' own count, and its
    reset on a successful login, concern one user name from one address: colleagues behind a
    school's shared address are not locked out by one person's typing. The address as a whole
    is locked only after ``LOGIN_IP_FAILURE_LIMIT`` failures, which catches one machine trying
    many user names.
    """

    def is_locked(self, request: Any, credentials: dict[str, Any] | None = None) -> bool:
        if not getattr(settings, "AXES_LOCK_OUT_AT_FAILURE", True):  # axes' default
            return False
        return locked_until(request, credentials) is not None

    def user_login_failed(
        self, sender: Any, credentials: dict[str, Any], request: Any = None, **kwargs: Any
    ) -> None:
        super().user_login_failed(sender, credentials, request, **kwargs)
        if request is None or request.axes_locked_out or self.is_allowed(request, credentials):
            return
        # axes compared the pair's count with its limit; this failure reached the address's.
        request.axes_locked_out = True
        request.axes_credentials = credentials
        user_locked_out.send(
            "axes",
            request=request,
            username=get_client_username(request, credentials),
            ip_address=request.axes_ip_address,
        )


# --- Telling the client -------------------------------------------------------------------------


@dataclass(frozen=True)
class Lockout:
    """A refused login: locked out until ``until``."""

    until: datetime
    now: datetime

    @property
    def retry_after(self) -> int:
        """Seconds to wait (``Retry-After``), at least one."""
        return max(1, math.ceil((self.until - self.now).total_seconds()))

    @property
    def minutes(self) -> int:
        return max(1, math.ceil(self.retry_after / 60))

    def message(self) -> str:
        """What the person is told, in the active language, with the local time to try again
        (rounded up to the minute; with the date when it is not today)."""
        until = timezone.localtime(self.until)
        if until.second or until.microsecond:
            until = until.replace(second=0, microsecond=0) + timedelta(minutes=1)
        today = timezone.localtime(self.now).date()
        time = until.strftime("%H:%M" if until.date() == today else "%Y-%m-%d %H:%M")
        return ngettext(
            "Too many failed login attempts. Logging in is locked until %(time)s (in about "
            "%(minutes)d minute); please try again then, or ask an administrator to unlock it.",
            "Too many failed login attempts. Logging in is locked until %(time)s (in about "
            "%(minutes)d minutes); please try again then, or ask an administrator to unlock it.",
            self.minutes,
        ) % {"time": time, "minutes": self.minutes}


def lockout_of(request: Any) -> Lockout | None:
    """The lockout that refused this request's login, if axes refused it (after
    ``authenticate()`` returned ``None``); computed once per request."""
    if request is None or not getattr(request, "axes_locked_out", False):
        return None
    known = getattr(request, "xueji_lockout", None)
    if isinstance(known, Lockout):
        return known
    now = getattr(request, "axes_attempt_time", None) or timezone.now()
    until = locked_until(request, getattr(request, "axes_credentials", None))
    lockout = Lockout(until=until or now + _cool_off(request), now=now)
    request.xueji_lockout = lockout
    return lockout


def lockout_response(
    request: HttpRequest, original_response: Any = None, credentials: Any = None
) -> HttpResponseBase:
    """``AXES_LOCKOUT_CALLABLE``: the page the login view rendered (its form says why and until
    when), answered 429 with ``Retry-After``; a plain message if there is no such page."""
    lockout = lockout_of(request)
    response: HttpResponseBase
    if isinstance(original_response, HttpResponseBase):
        response = original_response
    else:
        message = lockout.message() if lockout else ""
        response = HttpResponse(message, content_type="text/plain; charset=utf-8")
    response.status_code = LOCKED_OUT_STATUS
    if lockout is not None:
        response["Retry-After"] = str(lockout.retry_after)
    return response


def locked_out_error(request: Any) -> ValidationError | None:
    """A login form's error for a lockout, in place of "wrong user name or password" (the
    site's form in ``workflows``, the admin's below)."""
    lockout = lockout_of(request)
    if lockout is None:
        return None
    return ValidationError(lockout.message(), code=LOCKED_OUT_CODE)


class AdminLoginForm(AdminAuthenticationForm):
    """The admin's login form, saying when a lockout ends instead of "wrong password"."""

    def get_invalid_login_error(self) -> ValidationError:
        return locked_out_error(self.request) or super().get_invalid_login_error()
