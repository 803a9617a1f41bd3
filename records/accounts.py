"""Account notices and changes: the security email when a password changes, wherever it is
changed (the user's own account page, or an administrator in ``/admin/``), and the change of
one's own email address, which takes effect only once the new address confirms it."""

from __future__ import annotations

import dataclasses
from datetime import timedelta
from typing import Any

from django.conf import settings
from django.contrib.auth.base_user import BaseUserManager
from django.core import signing
from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from notifications.services import Announcement
from notifications.services import notify
from notifications.services import notify_many
from records.models import User
from records.notices import recipient_of
from records.transactions import service
from records.transactions import writes


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


# --- Changing one's email address -----------------------------------------------------------------

EMAIL_CHANGE_SALT = "records.accounts.email_change"
EMAIL_CHANGE_MAX_AGE = timedelta(days=3)

EMAIL_UNCHANGED = _("This is already your email address.")
EMAIL_TAKEN = _("Another account already uses this email address.")
LINK_INVALID = _(
    "This confirmation link is not valid: it is incomplete or was altered. Open the link "
    "exactly as the email gave it, or ask for the change again on your profile page."
)
LINK_EXPIRED = _(
    "This confirmation link has expired: a link is valid for %(days)d days. Ask for the "
    "change again on your profile page."
)
LINK_NOT_YOURS = _(
    "This confirmation link is for another account. Log in as the account that asked for "
    "the change and open the link again."
)
LINK_STALE = _(
    "This confirmation link is no longer valid: your email address has changed since it was "
    "sent. Ask for the change again on your profile page if you still want it."
)


@dataclasses.dataclass(frozen=True)
class EmailChange:
    """A change asked for and not yet confirmed: what the signed token carries."""

    user_id: int
    old: str
    new: str


def _signer() -> signing.TimestampSigner:
    return signing.TimestampSigner(salt=EMAIL_CHANGE_SALT)


def _normalized(email: str) -> str:
    return BaseUserManager.normalize_email(email.strip())


def _taken(email: str, *, by_other_than: User) -> bool:
    return User.objects.filter(email__iexact=email).exclude(pk=by_other_than.pk).exists()


def email_change_token(change: EmailChange) -> str:
    """The signed, timestamped token of the confirmation link: it names the user, the current
    address and the new one, so it confirms nothing once the address has changed."""
    return _signer().sign_object({"user": change.user_id, "old": change.old, "new": change.new})


@service
def email_change_request(*, user: User, new_email: str) -> EmailChange:
    """Ask to change ``user``'s email address to ``new_email``: nothing changes yet.

    The new address gets a link to confirm the change (valid ``EMAIL_CHANGE_MAX_AGE``) and the
    current one, if any, a notice that the change was asked for. Raises ``ValidationError`` on
    ``email`` for an invalid address, the current one, or one another account uses.
    """
    new = _normalized(new_email)
    try:
        validate_email(new)
    except ValidationError as error:
        raise ValidationError({"email": error.messages}) from None
    if new.lower() == user.email.lower():
        raise ValidationError({"email": [EMAIL_UNCHANGED]})
    if _taken(new, by_other_than=user):
        raise ValidationError({"email": [EMAIL_TAKEN]})
    change = EmailChange(user_id=user.pk, old=user.email, new=new)
    requested_at = timezone.now()
    recipient = recipient_of(user)
    context: dict[str, Any] = {
        "name": recipient.name,
        "new_email": new,
        "requested_at": requested_at,
        "site_url": settings.SITE_URL,
    }
    confirm_url = settings.SITE_URL.rstrip("/") + reverse(
        "email_change_confirm", kwargs={"token": email_change_token(change)}
    )
    # Keyed on the moment, as a password change: asking twice sends two links.
    key = f"records.user:{user.pk}@{requested_at:%Y%m%dT%H%M%S%f}"
    announcements = [
        Announcement(
            "email_change_confirm",
            key,
            [dataclasses.replace(recipient, email=new)],
            {
                **context,
                "confirm_url": confirm_url,
                "expires_at": requested_at + EMAIL_CHANGE_MAX_AGE,
            },
        )
    ]
    if user.email:
        announcements.append(Announcement("email_change_requested", key, [recipient], context))
    with writes():
        notify_many(announcements)
    return change


def email_change_pending(*, user: User, token: str) -> EmailChange:
    """The change a confirmation link asks for, if ``user`` may confirm it now.

    Raises ``ValidationError`` (codes ``invalid``, ``expired``, ``not_yours``, ``stale``,
    ``taken``) when the link was altered, is older than ``EMAIL_CHANGE_MAX_AGE``, is another
    user's, was sent before the address last changed, or names an address another account
    took meanwhile.
    """
    try:
        data = _signer().unsign_object(token, max_age=EMAIL_CHANGE_MAX_AGE)
    except signing.SignatureExpired:
        raise ValidationError(
            LINK_EXPIRED, code="expired", params={"days": EMAIL_CHANGE_MAX_AGE.days}
        ) from None
    except signing.BadSignature:
        raise ValidationError(LINK_INVALID, code="invalid") from None
    change = EmailChange(user_id=data["user"], old=data["old"], new=data["new"])
    if change.user_id != user.pk:
        raise ValidationError(LINK_NOT_YOURS, code="not_yours")
    if change.old != user.email:
        raise ValidationError(LINK_STALE, code="stale")
    if _taken(change.new, by_other_than=user):
        raise ValidationError(EMAIL_TAKEN, code="taken")
    return change


@service
def email_change_confirm(*, user: User, token: str) -> EmailChange:
    """Make the change a confirmation link asks for: ``user``'s email becomes the new address.

    The user's row is locked first, so two links opened at once change it once; the checks
    of ``email_change_pending`` then run on the row as it is.
    """
    locked = User.objects.select_for_update().get(pk=user.pk)
    change = email_change_pending(user=locked, token=token)
    with writes():
        locked.email = change.new
        locked.save(update_fields=["email"])
    user.email = change.new
    return change
