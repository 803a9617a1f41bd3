"""What every API view shares: the response language and the authenticated user's type.

Language: ``LocaleMiddleware`` picks it from the request (language cookie, then
``Accept-Language``, then ``LANGUAGE_CODE``, zh-hans). Once DRF has authenticated the request
(token or session), the user's own choice (``User.language``, set with ``PATCH /api/v1/me/``)
wins: it is an explicit setting, the one their emails use too, whereas browsers send an
``Accept-Language`` of their own. Anonymous requests keep the middleware's choice.
"""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.utils import translation
from rest_framework.request import Request
from rest_framework.views import APIView

from records.models import User


def activate_user_language(user: Any) -> None:
    """Switch the current thread to the user's language, when it is one the site offers."""
    language = getattr(user, "language", None) if getattr(user, "is_authenticated", False) else None
    if language and language in dict(settings.LANGUAGES):
        translation.activate(language)


class XuejiAPIView(APIView):
    """Base of every endpoint: answers in the authenticated user's language."""

    def initial(self, request: Request, *args: Any, **kwargs: Any) -> None:
        # Authenticate first (DRF does it lazily anyway), so that permission and throttle
        # errors are already in the user's language.
        self.perform_authentication(request)
        activate_user_language(request.user)
        super().initial(request, *args, **kwargs)


def account(request: Request) -> User:
    """The authenticated user of a request that passed ``IsAuthenticated``."""
    user = request.user
    assert isinstance(user, User)  # noqa: S101  (IsAuthenticated ran before)
    return user
