"""The API's authentication: DRF's token and session authentication, each of which switches
the request to the user's stored language (``User.language``) once it knows the user.

They are ``DEFAULT_AUTHENTICATION_CLASSES``, and DRF authenticates every request in
``APIView.initial``, before permissions, throttles and the handler run: so every API view, the
records' and the workflows' alike, answers in its user's language, its labels and every error
raised from then on (validation, permission, not found, conflict, throttling) included. A
request that authenticates neither way (anonymous, or a wrong token) keeps the language
``LocaleMiddleware`` chose from the request.
"""

from __future__ import annotations

from typing import Any

from drf_spectacular.authentication import SessionScheme as SpectacularSessionScheme
from rest_framework import authentication
from rest_framework.request import Request

from records.api.base import activate_user_language


class TokenAuthentication(authentication.TokenAuthentication):
    """``Authorization: Token <key>``; the answer is in the token user's language."""

    def authenticate(self, request: Request) -> tuple[Any, Any] | None:
        result = super().authenticate(request)
        if result is not None:
            activate_user_language(result[0])
        return result


class SessionAuthentication(authentication.SessionAuthentication):
    """The site's session (with DRF's CSRF check); the answer is in the user's language."""

    def authenticate(self, request: Request) -> tuple[Any, None] | None:
        result = super().authenticate(request)
        if result is not None:
            activate_user_language(result[0])
        return result


class SessionScheme(SpectacularSessionScheme):  # type: ignore[no-untyped-call]  # untyped hook
    """The schema's ``cookieAuth`` for our session authentication (drf-spectacular matches
    subclasses of the token authentication by itself, not of the session's)."""

    target_class = "records.api.authentication.SessionAuthentication"
