"""Account notices: the security email when a password changes, wherever it is changed (the
user's own account page, or an administrator in ``/admin/``)."""

from __future__ import annotations

from django.conf import settings
from django.utils import timezone

from notifications.services import notify
from records.models import User
from records.notices import recipient_of


def announce_password_change(user: User) -> None:
    """The security notice of ``notifications``' ``password_changed`` event, in the user's
    language. Keyed on the moment, so every change is announced once."""
    changed_at = timezone.now()
    recipient = recipient_of(user)
    notify(
        "password_changed",
        object_key=f"records.user:{user.pk}@{changed_at:%Y%m%dT%H%M%S%f}",
        recipients=[recipient],
        context={"name": recipient.name, "changed_at": changed_at, "site_url": settings.SITE_URL},
    )
