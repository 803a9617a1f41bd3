"""Failed public look-ups per address, in the shared cache (``CACHES``).

A look-up that finds nothing (an unknown code, a certificate number and name that match no
public qualification) is a failure; an expired or revoked code is not (it was given out by
its student). After ``VERIFY_FAILURE_LIMIT`` failures within ``VERIFY_FAILURE_WINDOW_SECONDS``
every look-up from that address answers 429 until the oldest of them is that old.

Each failure takes one of ``VERIFY_FAILURE_LIMIT`` numbered slots with ``cache.add`` (Redis'
``SET NX``, the database cache's insert), expiring after the window: a sliding window. A
failure that leaves every slot taken closes the address: one more key, holding the moment
the oldest slot frees, expiring then. The check before every
look-up reads that key alone (one ``get``, of a key that is usually absent), not the slots:
failures are rare, look-ups are not. Concurrent guesses from one address can pass the check
together, so the limit may be overshot by the number of requests in flight; the next look-up
is refused all the same. Addresses are counted as ``records.logins.client_ip`` reads them
(``X-Forwarded-For`` only from ``TRUSTED_PROXIES``); an IPv6 client by its /64.
"""

from __future__ import annotations

import hashlib
import ipaddress
import math
import time

from django.conf import settings
from django.core.cache import cache


def _address_key(address: str) -> str:
    try:
        parsed = ipaddress.ip_address(address)
    except ValueError:
        text = address
    else:
        if isinstance(parsed, ipaddress.IPv6Address):
            text = str(ipaddress.ip_network(f"{parsed}/64", strict=False))
        else:
            text = str(parsed)
    return hashlib.sha256(text.encode()).hexdigest()[:32]


class LookupThrottledError(Exception):
    code = "throttled"

    def __init__(self, retry_after: int) -> None:
        self.retry_after = retry_after
        super().__init__(retry_after)


class FailedLookups:
    def __init__(self, address: str) -> None:
        self.prefix = f"verify-failures:{_address_key(address)}"
        self.window = settings.VERIFY_FAILURE_WINDOW_SECONDS

    @property
    def keys(self) -> list[str]:
        """The slots' keys."""
        return [f"{self.prefix}:{slot}" for slot in range(settings.VERIFY_FAILURE_LIMIT)]

    @property
    def closed_key(self) -> str:
        return f"{self.prefix}:closed"

    def check(self) -> None:
        """``LookupThrottledError`` while the address is closed (every slot taken)."""
        until = cache.get(self.closed_key)
        if until is None:
            return
        wait = math.ceil(float(until) - time.time())
        if wait > 0:
            raise LookupThrottledError(retry_after=min(self.window, wait))

    def failed(self) -> None:
        """Count one failure (in the first free slot); when every slot is then taken, close
        the address until the oldest frees."""
        now = time.time()
        keys = self.keys
        for key in keys:
            if cache.add(key, now, timeout=self.window):
                break
        taken = cache.get_many(keys)  # slots free in the order they were taken, not by number
        if len(taken) < len(keys):
            return
        until = min(float(value) for value in taken.values()) + self.window
        cache.set(self.closed_key, until, timeout=max(1, math.ceil(until - now)))
