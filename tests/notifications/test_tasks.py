from __future__ import annotations

import logging
import smtplib
import socket
import threading
from datetime import timedelta
from typing import Any
from typing import cast

import pytest
from celery.exceptions import Retry
from django.core import mail
from django.core.mail import EmailMultiAlternatives
from django.db import connection
from django.utils import timezone

from config import celery_app
from notifications import delivery
from notifications.models import Notification
from notifications.services import Recipient
from notifications.services import notification_retry_failed
from notifications.services import notify
from notifications.tasks import notification_deliver
from notifications.tasks import notification_sweep
from tests.celery_worker import celery_configured

pytestmark = pytest.mark.django_db

OBJECT = "records.user:7"
TRY_LATER = "451 4.3.0 try again later"
NO_SUCH_USER = "550 5.1.1 no such user"
UNREACHABLE_BROKER = "redis://127.0.0.1:1/0"

Status = Notification.Status


@pytest.fixture
def write_row(password_context):
    """Write one pending row for a zh-hans recipient, without delivering it."""

    def write(email: str = "liming@example.cn") -> Notification:
        (row,) = notify(
            "password_changed",
            object_key=OBJECT,
            recipients=[Recipient(email=email, language="zh-hans")],
            context=password_context,
        )
        return row

    return write


def age(row: Notification, **delta: float) -> None:
    """Make the row look untouched (and due) for ``delta``, as if time had passed."""
    past = timezone.now() - timedelta(**delta)
    Notification.objects.filter(pk=row.pk).update(created=past, updated=past)
    Notification.objects.filter(pk=row.pk, next_attempt_at__isnull=False).update(
        next_attempt_at=past
    )


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class TestDeliver:
    def test_second_delivery_of_the_same_row_sends_nothing(self, write_row):
        row = write_row()

        assert notification_deliver(row.pk) == "sent"
        assert notification_deliver(row.pk) == "skipped"
        assert len(mail.outbox) == 1
        row.refresh_from_db()
        assert (row.status, row.attempts) == (Status.SENT, 1)

    def test_a_row_another_delivery_has_claimed_is_left_alone(self, write_row):
        row = write_row()
        Notification.objects.filter(pk=row.pk).update(status=Status.SENDING)

        assert notification_deliver(row.pk) == "skipped"
        assert mail.outbox == []

    def test_a_missing_row_is_skipped(self):
        assert notification_deliver(999_999) == "skipped"

    def test_message_carries_text_html_and_headers(self, write_row, settings):
        row = write_row()

        notification_deliver(row.pk)

        (message,) = mail.outbox
        assert isinstance(message, EmailMultiAlternatives)
        assert message.from_email == settings.DEFAULT_FROM_EMAIL
        assert message.body == row.body_text
        assert message.alternatives[0] == (row.body_html, "text/html")
        assert message.extra_headers["Auto-Submitted"] == "auto-generated"
        assert message.extra_headers["X-Xueji-Notification"] == str(row.pk)


@pytest.mark.smtp
class TestDeliverOverSmtp:
    def test_delivered_through_a_real_smtp_server(self, smtp_server, write_row):
        row = write_row()

        assert notification_deliver(row.pk) == "sent"

        (received,) = smtp_server.messages
        assert received.rcpt_tos == ["liming@example.cn"]
        assert received.subject == row.subject
        assert "学籍管理老师" in received.body("plain")
        assert "学籍管理老师" in received.body("html")
        assert received.message["X-Xueji-Notification"] == str(row.pk)

    @pytest.mark.parametrize("stage", ["rcpt", "data"])
    def test_temporary_error_leaves_the_row_pending_then_it_is_sent(
        self, smtp_server, write_row, stage
    ):
        smtp_server.respond(**{stage: [TRY_LATER]})
        row = write_row()

        assert notification_deliver(row.pk) == "retry"

        row.refresh_from_db()
        assert (row.status, row.attempts) == (Status.PENDING, 1)
        assert "451" in row.last_error
        assert row.next_attempt_at is not None
        wait = (row.next_attempt_at - timezone.now()).total_seconds()
        assert 25 < wait <= 30
        assert smtp_server.messages == []
        # Not due yet: a second delivery now does not jump the backoff.
        assert notification_deliver(row.pk) == "skipped"

        age(row, seconds=31)
        assert notification_deliver(row.pk) == "sent"

        row.refresh_from_db()
        assert (row.status, row.attempts, row.last_error) == (Status.SENT, 2, "")
        assert row.next_attempt_at is None
        assert len(smtp_server.messages) == 1
        assert [reply for command, _, reply in smtp_server.replies if command == "DATA"][-1] == (
            "250 Message accepted for delivery"
        )

    def test_the_sweep_sends_a_row_after_a_temporary_error(self, smtp_server, write_row):
        smtp_server.respond(data=[TRY_LATER])
        row = write_row()
        notification_deliver(row.pk)
        row.refresh_from_db()

        assert notification_sweep() == 0  # neither stale nor due yet
        age(row, minutes=2)
        assert notification_sweep() == 1

        row.refresh_from_db()
        assert (row.status, row.attempts) == (Status.SENT, 2)
        assert len(smtp_server.messages) == 1

    @pytest.mark.parametrize("stage", ["rcpt", "data"])
    def test_permanent_error_marks_the_row_failed(self, smtp_server, write_row, stage):
        smtp_server.respond(**{stage: [NO_SUCH_USER]})
        row = write_row()

        assert notification_deliver(row.pk) == "failed"

        row.refresh_from_db()
        assert (row.status, row.attempts) == (Status.FAILED, 1)
        assert "550" in row.last_error
        assert "no such user" in row.last_error
        assert row.next_attempt_at is None
        assert smtp_server.messages == []
        assert notification_sweep() == 0

    def test_temporary_errors_give_up_after_the_last_retry(self, smtp_server, write_row):
        smtp_server.respond(data=[TRY_LATER])
        row = write_row()
        Notification.objects.filter(pk=row.pk).update(attempts=delivery.MAX_RETRIES)

        assert notification_deliver(row.pk) == "failed"

        row.refresh_from_db()
        assert row.status == Status.FAILED
        assert row.attempts == delivery.MAX_RETRIES + 1
        assert row.last_error.startswith(f"gave up after {delivery.MAX_RETRIES + 1} attempts")


def test_unreachable_smtp_server_is_a_temporary_error(settings, write_row):
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST = "127.0.0.1"
    settings.EMAIL_PORT = free_port()
    row = write_row()

    assert notification_deliver(row.pk) == "retry"

    row.refresh_from_db()
    assert (row.status, row.attempts) == (Status.PENDING, 1)
    assert "ConnectionRefusedError" in row.last_error


def test_worker_retries_with_backoff_instead_of_failing(write_row):
    """In a worker (not eager), a temporary error asks Celery to run the task again later."""
    row = write_row()
    with celery_configured(celery_app, task_always_eager=False, broker_url="memory://"):
        cast(Any, notification_deliver).push_request(
            id="test-task", called_directly=False, is_eager=False, args=[row.pk], kwargs={}
        )
        try:
            with pytest.MonkeyPatch.context() as patch:
                patch.setattr(
                    delivery,
                    "deliver",
                    lambda _id: delivery.Delivery(delivery.Outcome.RETRY, retry_in=60),
                )
                with pytest.raises(Retry) as retry:
                    notification_deliver.run(row.pk)
        finally:
            notification_deliver.pop_request()

    assert retry.value.when == 60


@pytest.mark.parametrize(
    ("exc", "temporary"),
    [
        (smtplib.SMTPDataError(451, b"try later"), True),
        (smtplib.SMTPDataError(554, b"rejected"), False),
        (smtplib.SMTPSenderRefused(421, b"busy", "a@b.cn"), True),
        (smtplib.SMTPAuthenticationError(535, b"bad login"), False),
        (smtplib.SMTPRecipientsRefused({"a@b.cn": (450, b"mailbox busy")}), True),
        (smtplib.SMTPRecipientsRefused({"a@b.cn": (550, b"no such user")}), False),
        (smtplib.SMTPServerDisconnected("gone"), True),
        (smtplib.SMTPNotSupportedError("no STARTTLS"), False),
        (ConnectionRefusedError(), True),
        (TimeoutError(), True),
        (OSError("network unreachable"), True),
        (ValueError("header with a newline"), False),
    ],
)
def test_errors_are_classified(exc, temporary):
    assert delivery.is_temporary(exc) is temporary


def test_backoff_doubles_and_is_capped():
    assert [delivery.backoff(n) for n in range(1, 8)] == [30, 60, 120, 240, 480, 960, 1920]
    assert delivery.backoff(20) == delivery.BACKOFF_CAP_SECONDS


class TestSweep:
    def test_rows_left_pending_when_the_broker_was_down_are_sent_by_the_sweep(
        self, django_capture_on_commit_callbacks, password_context, caplog
    ):
        with (
            celery_configured(
                celery_app,
                task_always_eager=False,
                broker_url=UNREACHABLE_BROKER,
            ),
            caplog.at_level(logging.WARNING, logger="notifications.broker"),
            django_capture_on_commit_callbacks(execute=True) as callbacks,
        ):
            (row,) = notify(
                "password_changed",
                object_key=OBJECT,
                recipients=[Recipient(email="liming@example.cn", language="zh-hans")],
                context=password_context,
            )

        assert len(callbacks) == 1  # ran, and did not raise into the committed request
        assert "stay pending for notification_sweep" in caplog.text
        row.refresh_from_db()
        assert (row.status, row.attempts) == (Status.PENDING, 0)
        assert mail.outbox == []

        assert notification_sweep() == 0  # younger than NOTIFICATIONS_SWEEP_AFTER
        age(row, seconds=61)
        assert notification_sweep() == 1

        row.refresh_from_db()
        assert (row.status, row.attempts) == (Status.SENT, 1)
        assert len(mail.outbox) == 1

    def test_sweep_after_is_a_setting(self, settings, write_row):
        settings.NOTIFICATIONS_SWEEP_AFTER = 600
        row = write_row()
        age(row, seconds=120)

        assert notification_sweep() == 0
        settings.NOTIFICATIONS_SWEEP_AFTER = 60
        assert notification_sweep() == 1

    def test_swept_rows_are_not_queued_again_while_they_wait(self, write_row):
        row = write_row()
        age(row, minutes=5)
        with celery_configured(celery_app, task_always_eager=False, broker_url="memory://"):
            assert notification_sweep() == 1
            assert notification_sweep() == 0

    def test_row_stuck_in_sending_goes_back_and_is_sent(self, write_row):
        row = write_row()
        Notification.objects.filter(pk=row.pk).update(
            status=Status.SENDING, attempts=1, updated=timezone.now() - timedelta(minutes=11)
        )

        assert notification_sweep() == 1

        row.refresh_from_db()
        assert (row.status, row.attempts) == (Status.SENT, 2)
        assert len(mail.outbox) == 1

    def test_row_sending_for_a_short_while_is_left_alone(self, write_row):
        row = write_row()
        Notification.objects.filter(pk=row.pk).update(
            status=Status.SENDING, updated=timezone.now() - timedelta(minutes=1)
        )

        assert notification_sweep() == 0
        row.refresh_from_db()
        assert row.status == Status.SENDING

    def test_row_stuck_in_sending_out_of_retries_fails(self, write_row):
        row = write_row()
        Notification.objects.filter(pk=row.pk).update(
            status=Status.SENDING,
            attempts=delivery.MAX_RETRIES + 1,
            updated=timezone.now() - timedelta(minutes=11),
        )

        assert notification_sweep() == 0

        row.refresh_from_db()
        assert row.status == Status.FAILED
        assert row.last_error.startswith("gave up: delivery interrupted")
        assert mail.outbox == []


def test_retry_failed_resets_failed_rows_only_and_sends_them(
    django_capture_on_commit_callbacks, write_row
):
    failed = write_row("a@example.cn")
    sent = write_row("b@example.cn")
    Notification.objects.filter(pk=failed.pk).update(
        status=Status.FAILED, attempts=7, last_error="550 no such user"
    )
    Notification.objects.filter(pk=sent.pk).update(status=Status.SENT)

    with django_capture_on_commit_callbacks(execute=True):
        assert notification_retry_failed(ids=[failed.pk, sent.pk]) == 1

    failed.refresh_from_db()
    assert (failed.status, failed.attempts) == (Status.SENT, 1)
    assert [message.to for message in mail.outbox] == [["a@example.cn"]]


@pytest.mark.postgres
@pytest.mark.smtp
@pytest.mark.django_db(transaction=True)
def test_two_workers_delivering_one_row_at_once_send_it_once(smtp_server):
    row = Notification.objects.create(
        event="password_changed",
        object_key=OBJECT,
        recipient_email="liming@example.cn",
        language="zh-hans",
        subject="s",
        body_text="t",
        body_html="<p>h</p>",
    )
    start = threading.Barrier(2)
    results: list[str] = []

    def worker() -> None:
        try:
            start.wait(5)
            results.append(notification_deliver(row.pk))
        finally:
            connection.close()

    threads = [threading.Thread(target=worker) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(10)

    assert sorted(results) == ["sent", "skipped"]
    assert len(smtp_server.messages) == 1
    row.refresh_from_db()
    assert (row.status, row.attempts) == (Status.SENT, 1)


def test_a_bulk_announcement_is_queued_a_hundred_rows_to_a_message(write_row):
    """From ``BATCH_FROM`` rows (a cohort's registration announces a hundred a chunk), one
    message carries ``BATCH_SIZE`` rows; fewer rows are queued one message each, as before."""
    from celery.signals import before_task_publish

    from notifications.tasks import enqueue_deliveries
    from notifications.tasks import notification_deliver_many

    rows = [write_row(f"student{n}@example.cn") for n in range(120)]
    published: list[tuple[str, tuple[Any, ...]]] = []

    def record(sender: str, body: Any, **kwargs: Any) -> None:
        published.append((sender, tuple(body[0])))

    before_task_publish.connect(record)
    try:
        with celery_configured(celery_app, task_always_eager=False, broker_url="memory://"):
            assert enqueue_deliveries([row.pk for row in rows]) == 120
            assert enqueue_deliveries([rows[0].pk]) == 1
    finally:
        before_task_publish.disconnect(record)

    assert [
        (name.rsplit(".", 1)[1], len(args[0]) if name.endswith("many") else args)
        for name, args in published
    ] == [
        ("notification_deliver_many", 100),
        ("notification_deliver_many", 20),
        ("notification_deliver", (rows[0].pk,)),
    ]
    # The worker sends each row of a message in turn; a row sent already is skipped.
    assert notification_deliver(rows[0].pk) == "sent"
    assert notification_deliver_many([row.pk for row in rows[:3]]) == {"skipped": 1, "sent": 2}
    assert sorted(m.to[0] for m in mail.outbox) == [
        "student0@example.cn",
        "student1@example.cn",
        "student2@example.cn",
    ]
    assert set(
        Notification.objects.filter(pk__in=[r.pk for r in rows[:3]]).values_list(
            "status", flat=True
        )
    ) == {"sent"}
