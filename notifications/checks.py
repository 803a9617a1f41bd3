"""System checks of the notification settings: a wrong value loses or duplicates mail silently."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from django.apps import AppConfig
from django.conf import settings
from django.core.checks import CheckMessage
from django.core.checks import Error


def check_timeouts(
    app_configs: Sequence[AppConfig] | None = None, **kwargs: Any
) -> list[CheckMessage]:
    """``NOTIFICATIONS_SENDING_TIMEOUT`` outlasts a send (``EMAIL_TIMEOUT``), else the sweep
    sends again an email whose worker is still sending it; the broker's time-out is positive
    and its cool-down not negative."""
    errors: list[CheckMessage] = []
    sending = getattr(settings, "NOTIFICATIONS_SENDING_TIMEOUT", None)
    email_timeout = getattr(settings, "EMAIL_TIMEOUT", None) or 0
    if sending is not None and sending <= email_timeout:
        errors.append(
            Error(
                f"NOTIFICATIONS_SENDING_TIMEOUT ({sending} s) must be longer than "
                f"EMAIL_TIMEOUT ({email_timeout} s)",
                hint="A send may take several SMTP exchanges of up to EMAIL_TIMEOUT each; the "
                "default is 12 x EMAIL_TIMEOUT.",
                id="notifications.E001",
            )
        )
    enqueue = getattr(settings, "NOTIFICATIONS_ENQUEUE_TIMEOUT", None)
    if enqueue is not None and enqueue <= 0:
        errors.append(
            Error(
                f"NOTIFICATIONS_ENQUEUE_TIMEOUT ({enqueue} s) must be greater than 0",
                id="notifications.E002",
            )
        )
    cooldown = getattr(settings, "NOTIFICATIONS_BROKER_COOLDOWN", None)
    if cooldown is not None and cooldown < 0:
        errors.append(
            Error(
                f"NOTIFICATIONS_BROKER_COOLDOWN ({cooldown} s) must not be negative",
                id="notifications.E003",
            )
        )
    return errors
