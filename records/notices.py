"""Who hears of a step, and how a step is announced: calls ``notifications.notify``.

Each announcement is keyed on the step's audit event, so a step announces once per recipient
even when its task runs twice, while a request returned twice is announced twice. Notices name
fields, never their values: a value may be an ID number. The recipients of each step are
declared with the step (``records.decisions.Notice``); these are the functions they name.
"""

from __future__ import annotations

from collections.abc import Iterable
from collections.abc import Iterator
from collections.abc import Sequence
from contextlib import contextmanager
from contextvars import ContextVar
from typing import Any

from django.conf import settings
from django.urls import NoReverseMatch
from django.urls import reverse

from notifications.services import Announcement
from notifications.services import Recipient
from notifications.services import notify_many
from permissions import codenames
from permissions.checks import holders
from records.models import AuditEvent
from records.models import Province
from records.models import School
from records.models import User


def page_url(view: str, kwargs: dict[str, Any], api_path: str) -> str:
    """The absolute link an email gives to a page of the site (``view`` by its URL name), or
    to ``api_path`` where the web pages are not mounted (an API-only deployment)."""
    try:
        path = reverse(view, kwargs=kwargs)
    except NoReverseMatch:
        path = api_path
    return str(settings.SITE_URL).rstrip("/") + path


def requester_and_student(request: Any) -> list[Recipient]:
    """The requester and the student of a request (``requester``, ``student``): one person
    when the student filed it."""
    people: dict[int, Recipient] = {}
    student_user = request.student.user
    if student_user is not None:
        people[student_user.pk] = recipient_of(student_user, request.student.name)
    people.setdefault(request.requester_id, recipient_of(request.requester))
    return list(people.values())


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


# Recipients looked up once per scope object inside ``holders_kept()`` (a bulk decision).
_KEPT: ContextVar[dict[tuple[str, Any], list[Recipient]] | None] = ContextVar(
    "xueji_holders", default=None
)


@contextmanager
def holders_kept() -> Iterator[None]:
    """Inside, who holds a permission on a school or province is read once."""
    token = _KEPT.set({})
    try:
        yield
    finally:
        _KEPT.reset(token)


def _holders(perm: str, scope_object: School | Province) -> list[Recipient]:
    kept = _KEPT.get()
    key = (perm, scope_object.pk)
    if kept is not None and key in kept:
        return kept[key]
    found = users(holders(perm, scope_object))
    if kept is not None:
        kept[key] = found
    return found


def school_officers(school: School) -> list[Recipient]:
    """Everyone who may review the school's requests."""
    return _holders(codenames.REVIEW_SCHOOL, school)


def provincial_admins(province: Province) -> list[Recipient]:
    """Everyone who may sign off the province's requests."""
    return _holders(codenames.SIGNOFF_PROVINCE, province)


def announce_many(
    steps: Sequence[tuple[str, AuditEvent, Iterable[Recipient], dict[str, Any]]],
) -> None:
    """Announce each step, ``(event, step, recipients, context)``, to its recipients, once
    each: keyed on the step's audit event, all their outbox rows in one statement."""
    notify_many(
        [
            Announcement(event, f"records.auditevent:{step.pk}", recipients, context)
            for event, step, recipients, context in steps
        ]
    )
