"""What every API view shares: the response language and the authenticated user's type.

Language: ``LocaleMiddleware`` picks it from the request (language cookie, then
``Accept-Language``, then ``LANGUAGE_CODE``, zh-hans). Once DRF has authenticated the request
(token or session), the user's own choice (``User.language``, set with ``PATCH /api/v1/me/``)
wins: it is an explicit setting, the one their emails use too, whereas browsers send an
``Accept-Language`` of their own. The authentication classes switch to it
(``records.api.authentication``), for every view. Anonymous requests keep the middleware's
choice.
"""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.utils import translation
from rest_framework.request import Request

from records.models import User


def activate_user_language(user: Any) -> None:
    """Switch the current thread to the user's language, when it is one the site offers."""
    language = getattr(user, "language", None) if getattr(user, "is_authenticated", False) else None
    if language and language in dict(settings.LANGUAGES):
        translation.activate(language)


def account(request: Request) -> User:
    """The authenticated user of a request that passed ``IsAuthenticated``."""
    user = request.user
    assert isinstance(user, User)  # noqa: S101  (IsAuthenticated ran before)
    return user
