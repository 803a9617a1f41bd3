"""The API's throttles: counted in the shared cache (``CACHES``, every process sees the same
counts) and by the client's address as ``records.logins.client_ip`` resolves it, the one the
login lockout uses (DRF's own ``get_ident`` would believe any ``X-Forwarded-For``)."""

from __future__ import annotations

import hashlib

from rest_framework.request import Request
from rest_framework.throttling import SimpleRateThrottle
from rest_framework.views import APIView

from records.logins import client_ip


class ClientRateThrottle(SimpleRateThrottle):
    """Every throttle of the API derives from this."""

    def get_ident(self, request: Request) -> str:
        return client_ip(request)


class TokenObtainThrottle(ClientRateThrottle):
    """Slows password guessing: 10 attempts a minute per client address and user name (the
    lockout, ``records.logins``, stops it for good after ``AXES_FAILURE_LIMIT`` failures)."""

    scope = "token_obtain"
    rate = "10/minute"

    def get_cache_key(self, request: Request, view: APIView) -> str | None:
        if request.method != "POST":
            return None
        data = request.data
        username = data.get("username", "") if hasattr(data, "get") else ""
        # The user name is the client's to choose (NUL, thousands of characters): only its
        # digest goes into a cache key, which the database cache stores in a varchar(255).
        name = hashlib.sha256(str(username).strip().lower().encode()).hexdigest()[:32]
        ident = f"{self.get_ident(request)}:{name}"
        return self.cache_format % {"scope": self.scope, "ident": ident}
