"""Sending one outbox row at most once, and finding the rows the sweep must send again.

No Celery here: ``notifications.tasks`` calls these functions and decides how to retry.

Claiming is one conditional ``UPDATE`` (``pending`` and due -> ``sending``), so of two
deliveries of the same row only one sends. ``attempts`` counts the deliveries that claimed the
row, including one whose worker died mid-send. A temporary SMTP error (4xx reply, dropped
connection, network error or timeout) puts the row back to ``pending`` with ``next_attempt_at``
after an exponential backoff; after ``MAX_RETRIES`` retries, or on a permanent error (5xx
reply, anything unexpected), the row is ``failed`` and ``last_error`` says why.

Every email of a row carries the same ``Message-ID`` (``message_id``), so that in the rare case
of a second send (a worker that died after the SMTP server took the message and before it
recorded ``sent``) mail clients show one message.
"""

from __future__ import annotations

import enum
import hashlib
import logging
import smtplib
from dataclasses import dataclass
from datetime import datetime
from datetime import timedelta
from email.utils import parseaddr

from django.conf import settings
from django.core.mail import EmailMultiAlternatives
from django.core.mail.utils import DNS_NAME
from django.db.models import F
from django.db.models import Q
from django.utils import timezone

from notifications.models import Notification

logger = logging.getLogger(__name__)

MAX_RETRIES = 6
BACKOFF_BASE_SECONDS = 30
BACKOFF_CAP_SECONDS = 3600
# A row still "sending" after NOTIFICATIONS_SENDING_TIMEOUT seconds belongs to a worker that
# died; the default is config.settings' (12 x EMAIL_TIMEOUT), this one when it is missing.
DEFAULT_SENDING_TIMEOUT_SECONDS = 120
# A retry scheduled for next_attempt_at may arrive a little early on another worker's clock.
CLAIM_EARLY_TOLERANCE = timedelta(seconds=5)
SWEEP_BATCH = 500
MAX_ERROR_LENGTH = 2000
INTERRUPTED = "delivery interrupted: still sending after {seconds} s (worker lost?)"
GAVE_UP = "gave up after {attempts} attempts: {error}"
NOTHING_SENT = "the email backend sent nothing"

Status = Notification.Status


class Outcome(enum.StrEnum):
    SENT = "sent"
    SKIPPED = "skipped"  # not pending, not yet due, or gone: another delivery has it
    RETRY = "retry"
    FAILED = "failed"


@dataclass(frozen=True)
class Delivery:
    outcome: Outcome
    retry_in: int | None = None  # seconds, for Outcome.RETRY


def backoff(attempts: int) -> int:
    """Seconds to wait after the ``attempts``-th failed attempt: 30, 60, 120, … up to an hour."""
    return int(min(BACKOFF_BASE_SECONDS * 2 ** max(attempts - 1, 0), BACKOFF_CAP_SECONDS))


def is_temporary(exc: BaseException) -> bool:
    """Whether trying again later may succeed (SMTP 4xx, dropped connection, network error)."""
    if isinstance(exc, smtplib.SMTPResponseException):
        return 400 <= exc.smtp_code < 500  # noqa: PLR2004  (SMTP reply classes)
    if isinstance(exc, smtplib.SMTPRecipientsRefused):
        codes = [code for code, _message in exc.recipients.values()]
        return bool(codes) and all(400 <= code < 500 for code in codes)  # noqa: PLR2004
    if isinstance(exc, smtplib.SMTPServerDisconnected):
        return True
    if isinstance(exc, smtplib.SMTPException):
        return False  # e.g. no common authentication method: a configuration problem
    return isinstance(exc, OSError)  # ConnectionError, TimeoutError, socket errors


def _describe(exc: BaseException) -> str:
    return f"{type(exc).__name__}: {exc}"[:MAX_ERROR_LENGTH]


def _claim(notification_id: int, now: datetime) -> Notification | None:
    claimed = (
        Notification.objects.filter(pk=notification_id, status=Status.PENDING)
        .filter(
            Q(next_attempt_at__isnull=True) | Q(next_attempt_at__lte=now + CLAIM_EARLY_TOLERANCE)
        )
        .update(status=Status.SENDING, attempts=F("attempts") + 1, updated=now)
    )
    if not claimed:
        return None
    return Notification.objects.get(pk=notification_id)


def sending_timeout() -> timedelta:
    """How long a row may stay ``sending`` before the sweep takes its worker for dead."""
    seconds = getattr(settings, "NOTIFICATIONS_SENDING_TIMEOUT", DEFAULT_SENDING_TIMEOUT_SECONDS)
    return timedelta(seconds=seconds)


def message_id_domain() -> str:
    """The domain of ``DEFAULT_FROM_EMAIL`` (the host's name when it has none)."""
    _name, address = parseaddr(str(settings.DEFAULT_FROM_EMAIL))
    domain = address.rpartition("@")[2].strip().lower()
    return domain or str(DNS_NAME)


def message_id(row: Notification) -> str:
    """``<notification-{id}.{key hash}@{domain}>``, the same for every send of ``row``.

    The hash of the row's outbox key (event, object, recipient) keeps the ids of two
    databases (staging and production, or a restored backup) from colliding on equal ids.
    """
    key = "\x1f".join((row.object_key, row.event, row.recipient_email))
    digest = hashlib.sha256(key.encode()).hexdigest()[:16]
    return f"<notification-{row.pk}.{digest}@{message_id_domain()}>"


def _message(row: Notification) -> EmailMultiAlternatives:
    message = EmailMultiAlternatives(
        subject=row.subject,
        body=row.body_text,
        from_email=settings.DEFAULT_FROM_EMAIL,
        to=[row.recipient_email],
        headers={
            "Auto-Submitted": "auto-generated",  # RFC 3834: no out-of-office replies, please
            "Content-Language": row.language,
            "Message-ID": message_id(row),
            "X-Xueji-Notification": str(row.pk),
        },
    )
    message.attach_alternative(row.body_html, "text/html")
    return message


def deliver(notification_id: int) -> Delivery:
    """Claim the row, send it through Django's email backend, and record the result."""
    row = _claim(notification_id, timezone.now())
    if row is None:
        return Delivery(Outcome.SKIPPED)
    try:
        if not _message(row).send():
            raise RuntimeError(NOTHING_SENT)
    except Exception as exc:  # every failure is recorded on the row
        return _record_failure(row, exc)
    now = timezone.now()
    Notification.objects.filter(pk=row.pk, status=Status.SENDING).update(
        status=Status.SENT, sent_at=now, next_attempt_at=None, last_error="", updated=now
    )
    logger.info("notification %s sent to %s", row.pk, row.recipient_email)
    return Delivery(Outcome.SENT)


def _record_failure(row: Notification, exc: Exception) -> Delivery:
    now = timezone.now()
    error = _describe(exc)
    mine = Notification.objects.filter(pk=row.pk, status=Status.SENDING)
    if is_temporary(exc) and row.attempts <= MAX_RETRIES:
        delay = backoff(row.attempts)
        mine.update(
            status=Status.PENDING,
            last_error=error,
            next_attempt_at=now + timedelta(seconds=delay),
            updated=now,
        )
        logger.warning(
            "notification %s: temporary failure (attempt %s), retrying in %ss: %s",
            row.pk,
            row.attempts,
            delay,
            error,
        )
        return Delivery(Outcome.RETRY, retry_in=delay)
    if is_temporary(exc):
        error = GAVE_UP.format(attempts=row.attempts, error=error)[:MAX_ERROR_LENGTH]
    mine.update(status=Status.FAILED, last_error=error, next_attempt_at=None, updated=now)
    logger.error("notification %s failed: %s", row.pk, error)
    return Delivery(Outcome.FAILED)


def reset_stuck(now: datetime) -> list[int]:
    """Rows left ``sending`` by a dead worker go back to ``pending`` (or ``failed`` when out of
    retries); returns the ids put back to pending.

    The dead worker may have handed the message to the SMTP server before it died, so this can
    send one email twice (with the same ``Message-ID``). That is the price of not losing it.
    """
    timeout = sending_timeout()
    cutoff = now - timeout
    stuck = Notification.objects.filter(status=Status.SENDING, updated__lt=cutoff)
    error = INTERRUPTED.format(seconds=f"{timeout.total_seconds():g}")
    stuck.filter(attempts__gt=MAX_RETRIES).update(
        status=Status.FAILED,
        last_error=f"gave up: {error}",
        updated=now,
    )
    ids = list(stuck.order_by("updated").values_list("pk", flat=True)[:SWEEP_BATCH])
    Notification.objects.filter(pk__in=ids, status=Status.SENDING, updated__lt=cutoff).update(
        status=Status.PENDING, last_error=error, next_attempt_at=None, updated=now
    )
    return ids


def due_for_sweep(now: datetime, after: timedelta) -> list[int]:
    """Pending rows untouched for ``after`` and due (the broker was down, or a retry was lost).

    Touches them (``updated = now``), so the next sweep does not queue them again while they
    wait in the broker's queue.
    """
    due = Notification.objects.filter(status=Status.PENDING, updated__lt=now - after).filter(
        Q(next_attempt_at__isnull=True) | Q(next_attempt_at__lte=now)
    )
    ids = list(due.order_by("updated").values_list("pk", flat=True)[:SWEEP_BATCH])
    Notification.objects.filter(pk__in=ids, status=Status.PENDING).update(updated=now)
    return ids
