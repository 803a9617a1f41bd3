"""Who hears of a step, and how a step is announced: calls ``notifications.notify``.

Each announcement is keyed on the step's audit event, so a step announces once per recipient
even when its task runs twice, while a request returned twice is announced twice. Notices name
fields, never their values: a value may be an ID number. The recipients of each step are
declared with the step (``records.decisions.Notice``); these are the functions they name.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from notifications.services import Recipient
from notifications.services import notify
from permissions import codenames
from permissions.checks import holders
from records.models import AuditEvent
from records.models import Province
from records.models import School
from records.models import User


def recipient_of(user: User, name: str = "") -> Recipient:
    """``user`` as a recipient: their address and language, and ``name`` or their own."""
    return Recipient(
        email=user.email,
        language=user.language,
        user_id=user.pk,
        name=name or user.display_name,
    )


def users(people: Iterable[User]) -> list[Recipient]:
    return [recipient_of(u) for u in people]


def school_officers(school: School) -> list[Recipient]:
    """Everyone who may review the school's requests."""
    return users(holders(codenames.REVIEW_SCHOOL, school))


def provincial_admins(province: Province) -> list[Recipient]:
    """Everyone who may sign off the province's requests."""
    return users(holders(codenames.SIGNOFF_PROVINCE, province))


def announce(
    event: str,
    *,
    step: AuditEvent,
    recipients: Iterable[Recipient],
    context: dict[str, Any],
) -> None:
    """Announce the step recorded as ``step`` to ``recipients``, once each."""
    notify(
        event,
        object_key=f"records.auditevent:{step.pk}",
        recipients=recipients,
        context=context,
    )
