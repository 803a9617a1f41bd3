"""Announcing an event by email: ``notify`` writes the outbox, delivery happens after commit.

Callers (``records`` and ``workflows`` services) pass the recipients and a context; this
package never looks anything up in their models.
"""

from __future__ import annotations

import datetime
import json
import logging
import re
from collections.abc import Iterable
from collections.abc import Mapping
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.db import connections
from django.db import router
from django.db import transaction
from django.utils import timezone
from django.utils import translation

from notifications.events import get_event
from notifications.models import MAX_OBJECT_KEY_LENGTH
from notifications.models import MAX_SUBJECT_LENGTH
from notifications.models import Notification
from notifications.rendering import Skeletons
from notifications.rendering import check_context
from notifications.rendering import render
from notifications.tasks import enqueue_deliveries

logger = logging.getLogger(__name__)

BAD_OBJECT_KEY = 'object_key must look like "app.model:pk" and be at most {max} characters'


@dataclass(frozen=True)
class Recipient:
    """Who receives a notice, and in which language (a code of ``settings.LANGUAGES``)."""

    email: str
    language: str
    user_id: int | None = None
    name: str = ""


def _normalize_email(email: str) -> str:
    """Trimmed, with the domain in lower case (as Django's ``normalize_email``)."""
    local, at, domain = email.strip().rpartition("@")
    return f"{local}{at}{domain.lower()}" if at else email.strip()


def _language(code: str) -> str:
    """The supported language closest to ``code`` (``zh-CN`` -> ``zh-hans``), else the default."""
    try:
        return translation.get_supported_language_variant(
            (code or settings.LANGUAGE_CODE).strip().lower()
        )
    except LookupError:
        return translation.get_supported_language_variant(settings.LANGUAGE_CODE)


def _deliverable(recipients: Iterable[Recipient]) -> dict[str, Recipient]:
    """One recipient per normalized address, in order; empty and invalid addresses skipped."""
    chosen: dict[str, Recipient] = {}
    for recipient in recipients:
        email = _normalize_email(recipient.email or "")
        if not email:
            continue
        try:
            validate_email(email)
        except ValidationError:
            logger.warning("notify: skipping invalid recipient address %r", email)
            continue
        chosen.setdefault(email, recipient)
    return chosen


def _insert_new(rows: Sequence[Notification]) -> list[Notification]:
    """Insert the rows whose ``(event, object_key, recipient_email)`` is new; return those.

    One ``INSERT … ON CONFLICT DO NOTHING RETURNING`` (PostgreSQL, and SQLite ≥ 3.35): a key
    written earlier, or by a concurrent transaction, is skipped by the unique constraint
    instead of failing the caller. ``bulk_create(ignore_conflicts=True)`` would need a second
    query to learn which rows it wrote.
    """
    meta = Notification._meta
    fields = [f for f in meta.concrete_fields if not f.primary_key]
    connection = connections[router.db_for_write(Notification)]
    quote = connection.ops.quote_name
    values_of = [
        [f.get_db_prep_save(f.pre_save(row, add=True), connection) for f in fields] for row in rows
    ]
    table, key = quote(meta.db_table), quote(meta.pk.column)
    columns = ", ".join(quote(f.column) for f in fields)
    by_name = {f.name: f for f in fields}
    returned = ", ".join(
        quote(by_name[name].column) for name in ("event", "object_key", "recipient_email")
    )
    if connection.vendor == "postgresql" and len(rows) > 1:
        # The rows as one JSON parameter (``json_to_recordset``): a bulk announcement's
        # hundred rows as 1,400 parameters cost more to merge into the statement and send than
        # to insert, and as an array a column (``unnest``) the client's quoting of each
        # element of the bodies cost five times the insert; ``json.dumps`` is a C loop.
        record = ", ".join(
            f"c{n} {_base_type(f.db_type(connection))}" for n, f in enumerate(fields)
        )
        picked = ", ".join(f"c{n}" for n in range(len(fields)))
        objects = [{f"c{n}": value for n, value in enumerate(values)} for values in values_of]
        params: list[Any] = [json.dumps(objects, default=_json_value, ensure_ascii=False)]
        sql = (
            f"INSERT INTO {table} ({columns}) SELECT {picked} "  # noqa: S608
            f"FROM json_to_recordset(%s::json) AS r({record})"
        )
    else:
        row_sql = "(" + ", ".join(["%s"] * len(fields)) + ")"
        params = [value for values in values_of for value in values]
        values = ", ".join([row_sql] * len(rows))
        sql = f"INSERT INTO {table} ({columns}) VALUES {values}"  # noqa: S608
    # Identifiers from the model's own metadata; every value is a parameter.
    sql += f" ON CONFLICT DO NOTHING RETURNING {key}, {returned}"
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        ids = {(event, key_, email): pk for pk, event, key_, email in cursor.fetchall()}
    written = []
    for row in rows:
        pk = ids.get((row.event, row.object_key, row.recipient_email))
        if pk is not None:
            row.pk = pk
            written.append(row)
    return written


def _base_type(db_type: str | None) -> str:
    """A column's type without its length (``varchar(64)`` -> ``varchar``): the insert
    checks the length, as a row of values would, instead of a cast cutting the value."""
    return re.sub(r"\(\d+\)", "", str(db_type))


def _json_value(value: object) -> str:
    """A value of a row for ``json.dumps``: the dates and times ISO strings (with their
    offset) that PostgreSQL reads back as they were."""
    if isinstance(value, datetime.date | datetime.time):
        return value.isoformat()
    raise TypeError(value)


@dataclass(frozen=True)
class Announcement:
    """One event about one object, for its recipients (``notify_many`` writes several)."""

    event: str
    object_key: str
    recipients: Iterable[Recipient]
    context: Mapping[str, Any]


def notify(
    event: str,
    *,
    object_key: str,
    recipients: Iterable[Recipient],
    context: Mapping[str, Any],
) -> list[Notification]:
    """Write one outbox row per recipient of ``event`` about ``object_key``, in the caller's
    transaction, and queue their delivery for after commit.

    Each row is rendered now, in its recipient's language. A recipient who already has a row
    for this ``(event, object_key, email)`` is skipped, so calling twice never mails twice;
    empty or invalid addresses are skipped. Raises ``ValueError`` for an unknown event, a bad
    ``object_key``, a context that lacks a key the event needs, or anything that looks like a
    personal ID number: then nothing is written. Returns the rows written by this call.

    Delivery is queued with ``transaction.on_commit``: nothing is sent if the caller's
    transaction rolls back, and a broker that is down at commit only leaves the rows pending
    for ``notification_sweep``; it never raises into the committed request.
    """
    return notify_many([Announcement(event, object_key, recipients, context)])


def notify_many(announcements: Sequence[Announcement]) -> list[Notification]:
    """``notify`` for several announcements at once: every row rendered and checked first,
    then all written in one statement (a bulk decision announces each of its steps)."""
    return write_rendered(render_many(announcements))


def render_many(
    announcements: Sequence[Announcement], *, plain: Sequence[str] = ()
) -> list[Notification]:
    """The first half of ``notify_many``: the announcements checked and their rows rendered,
    unsaved. It reads nothing from the database, so a caller may run it in another thread
    while its own statements run (``records.admissions.services``, a cohort's emails while
    its statuses are written), then hand the rows to ``write_rendered``.

    ``plain``: the context keys (and ``recipient.<field>``) in which many announcements of
    one event differ and that their templates only print: each event's templates are then
    rendered once for the announcements that differ only in those, and each email is that
    text with its own values (``notifications.rendering.Skeletons``; the same emails)."""
    skeletons: dict[str, Skeletons] = {}
    return [row for announcement in announcements for row in _rows(announcement, plain, skeletons)]


def write_rendered(rows: Sequence[Notification]) -> list[Notification]:
    """The second half of ``notify_many``: ``rows`` of ``render_many`` written in one
    statement (those not written before) and their delivery queued after commit."""
    if not rows:
        return []
    written = _insert_new(rows)
    if not written:
        return []
    ids = [row.pk for row in written]
    transaction.on_commit(lambda: enqueue_deliveries(ids), robust=True)
    return written


def _rows(
    announcement: Announcement,
    plain: Sequence[str] = (),
    skeletons: dict[str, Skeletons] | None = None,
) -> list[Notification]:
    event, object_key, context = (
        announcement.event,
        announcement.object_key,
        announcement.context,
    )
    spec = get_event(event)
    if not object_key or len(object_key) > MAX_OBJECT_KEY_LENGTH or ":" not in object_key:
        raise ValueError(BAD_OBJECT_KEY.format(max=MAX_OBJECT_KEY_LENGTH))
    check_context(spec, context)
    rows = []
    for email, recipient in _deliverable(announcement.recipients).items():
        language = _language(recipient.language)
        full = {**context, "recipient": recipient, "language": language}
        if plain and skeletons is not None:
            group = skeletons.setdefault(event, Skeletons(spec, plain))
            rendered = group.render(language, full)
        else:
            rendered = render(spec, language, full)
        rows.append(
            Notification(
                event=event,
                object_key=object_key,
                recipient_email=email,
                recipient_user_id=recipient.user_id,
                language=language,
                subject=rendered.subject[:MAX_SUBJECT_LENGTH],
                body_text=rendered.body_text,
                body_html=rendered.body_html,
            )
        )
    return rows


def notification_retry_failed(*, ids: Sequence[int]) -> int:
    """Put failed rows back to pending with a fresh retry budget and queue them after commit.

    Returns how many rows were reset. Rows in any other status are left alone.
    """
    with transaction.atomic():
        reset = list(
            Notification.objects.select_for_update()
            .filter(pk__in=list(ids), status=Notification.Status.FAILED)
            .values_list("pk", flat=True)
        )
        Notification.objects.filter(pk__in=reset).update(
            status=Notification.Status.PENDING,
            attempts=0,
            next_attempt_at=None,
            updated=timezone.now(),
        )
        transaction.on_commit(lambda: enqueue_deliveries(reset), robust=True)
    return len(reset)
