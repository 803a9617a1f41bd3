"""Failed public look-ups per address, in the shared cache (``CACHES``).

A look-up that finds nothing (an unknown code, a certificate number and name that match no
public qualification) is a failure; an expired or revoked code is not (it was given out by
its student). After ``VERIFY_FAILURE_LIMIT`` failures within ``VERIFY_FAILURE_WINDOW_SECONDS``
every look-up from that address answers 429 until the oldest of them is that old.

Each failure takes one of ``VERIFY_FAILURE_LIMIT`` numbered slots with ``cache.add`` (Redis'
``SET NX``, the database cache's insert), expiring after the window: a sliding window, and
the check before a look-up is one ``get_many``. Concurrent guesses from one address can pass
the check together, so the limit may be overshot by the number of requests in flight; the
next look-up is refused all the same. Addresses are counted as ``records.logins.client_ip``
reads them (``X-Forwarded-For`` only from ``TRUSTED_PROXIES``); an IPv6 client by its /64.
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
        prefix = f"verify-failures:{_address_key(address)}"
        self.keys = [f"{prefix}:{slot}" for slot in range(settings.VERIFY_FAILURE_LIMIT)]
        self.window = settings.VERIFY_FAILURE_WINDOW_SECONDS

    def check(self) -> None:
        """``LookupThrottledError`` when every slot is taken."""
        taken = cache.get_many(self.keys)
        if len(taken) < len(self.keys):
            return
        now = time.time()
        oldest = min((float(value) for value in taken.values()), default=now)
        wait = math.ceil(oldest + self.window - now)
        raise LookupThrottledError(retry_after=min(self.window, max(1, wait)))

    def failed(self) -> None:
        """Count one failure (in the first free slot)."""
        now = time.time()
        for key in self.keys:
            if cache.add(key, now, timeout=self.window):
                return
