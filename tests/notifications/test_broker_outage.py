"""Mail when the broker is down: requests never wait on it, one log line per outage, and the
sweep sends what was left pending (issue 8, item 5). Brokers fail for real here: a closed port
(refused), a port that never answers (time-out), a forwarder to a real Redis that goes down."""

from __future__ import annotations

import logging
import re
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import timedelta

import pytest
from django.core import mail
from django.utils import timezone

from config import celery_app
from notifications import delivery
from notifications.models import Notification
from notifications.services import Recipient
from notifications.services import notify
from notifications.tasks import enqueue_deliveries
from notifications.tasks import notification_deliver
from notifications.tasks import notification_sweep
from tests import factories
from tests.api.helpers import timed_filing
from tests.api.helpers import token_client
from tests.celery_worker import BrokerForwarder
from tests.celery_worker import blackhole
from tests.celery_worker import celery_configured
from tests.celery_worker import closed_port
from tests.celery_worker import private_queue
from tests.services import REDIS_URL

Status = Notification.Status

URLS = {
    "redis": "redis://127.0.0.1:{port}/0",
    "amqp": "amqp://guest:guest@127.0.0.1:{port}//",
}


@contextmanager
def broker_down(kind: str, how: str) -> Iterator[str]:
    """The URL of a ``kind`` broker that refuses (``closed``) or never answers (``silent``)."""
    if how == "closed":
        yield URLS[kind].format(port=closed_port())
        return
    with blackhole() as port:
        yield URLS[kind].format(port=port)


def outage_records(caplog: pytest.LogCaptureFixture) -> list[logging.LogRecord]:
    return [r for r in caplog.records if r.levelno >= logging.WARNING]


@pytest.fixture
def write_row(password_context):
    def write(email: str = "liming@example.cn") -> Notification:
        (row,) = notify(
            "password_changed",
            object_key="records.user:7",
            recipients=[Recipient(email=email, language="zh-hans")],
            context=password_context,
        )
        return row

    return write


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("how", ["closed", "silent"])
@pytest.mark.parametrize("kind", ["redis", "amqp"])
def test_a_filing_with_the_broker_down_completes_in_under_a_second(places, kind, how):
    login = factories.user("student_a", email="a@stu.example")
    qualification = factories.qualification(factories.student("王小明", login=login), places.pku)
    factories.officer(places.pku, "officer_10001", email="o1@pku.example")
    api = token_client(login)
    api.get("/api/v1/me/")  # the first request of the process loads what every request needs

    with (
        broker_down(kind, how) as url,
        celery_configured(celery_app, task_always_eager=False, broker_url=url),
    ):
        response, elapsed = timed_filing(api, qualification.pk)

    assert response.status_code == 201, response.content
    assert elapsed < 1.0, f"the filing took {elapsed:.2f} s with the {kind} broker {how}"
    rows = Notification.objects.all()
    assert sorted(r.recipient_email for r in rows) == ["a@stu.example", "o1@pku.example"]
    assert {(r.status, r.attempts) for r in rows} == {(Status.PENDING, 0)}
    assert mail.outbox == []


@pytest.mark.django_db
def test_an_outage_logs_one_warning_and_no_traceback(
    django_capture_on_commit_callbacks, write_row, caplog
):
    url = URLS["redis"].format(port=closed_port())
    with (
        celery_configured(celery_app, task_always_eager=False, broker_url=url),
        caplog.at_level(logging.DEBUG),
    ):
        for n in range(3):
            with django_capture_on_commit_callbacks(execute=True) as callbacks:
                write_row(f"user{n}@example.cn")
            assert len(callbacks) == 1

    (record,) = outage_records(caplog)
    assert (record.name, record.levelname) == ("notifications.broker", "WARNING")
    assert record.exc_info is None
    port = url.split(":")[2].split("/")[0]
    assert record.getMessage().startswith(f"broker redis://127.0.0.1:{port} unreachable (")
    assert "Connection refused" in record.getMessage()
    assert "stay pending for notification_sweep" in record.getMessage()
    assert "Traceback" not in caplog.text
    assert set(Notification.objects.values_list("status", flat=True)) == {Status.PENDING}


@pytest.mark.redis
@pytest.mark.django_db
def test_a_broker_that_goes_down_and_returns_logs_one_line_each_way(write_row, caplog, settings):
    """Through a forwarder to the real Redis: up (queued), down (one warning, skipped while the
    breaker is open, a pooled connection included), back (the sweep queues and closes the
    breaker with one info line; requests queue again)."""
    settings.NOTIFICATIONS_BROKER_COOLDOWN = 60
    ids = [write_row().pk]
    with (
        BrokerForwarder(REDIS_URL) as forwarder,
        celery_configured(
            celery_app,
            task_always_eager=False,
            broker_url=forwarder.up().url,
            task_default_queue=f"xueji-test-outage-{forwarder.port}",
        ),
        private_queue(celery_app, f"xueji-test-outage-{forwarder.port}"),
        caplog.at_level(logging.INFO, logger="notifications"),
    ):
        assert enqueue_deliveries(ids) == 1
        forwarder.down()
        started = time.perf_counter()
        assert [enqueue_deliveries(ids) for _ in range(3)] == [0, 0, 0]
        assert time.perf_counter() - started < 0.5
        forwarder.up()
        assert enqueue_deliveries(ids) == 0  # the breaker is open: requests still skip
        assert enqueue_deliveries(ids, probe=True) == 1  # what notification_sweep calls
        assert enqueue_deliveries(ids) == 1

    lines = [(r.levelname, r.getMessage()) for r in caplog.records if r.name.startswith("notif")]
    assert [level for level, _ in lines] == ["WARNING", "INFO"]
    assert "unreachable" in lines[0][1]
    assert lines[1][1] == (
        f"broker redis://127.0.0.1:{forwarder.port} reachable again: emails are queued at once"
    )
    assert "Traceback" not in caplog.text


@pytest.mark.django_db
def test_after_the_cool_down_one_request_tries_again(write_row, settings, caplog):
    from notifications import broker

    settings.NOTIFICATIONS_BROKER_COOLDOWN = 0.2
    row = write_row()
    url = URLS["redis"].format(port=closed_port())
    with celery_configured(celery_app, task_always_eager=False, broker_url=url):
        state = broker.breaker(url.rsplit("/", 1)[0])
        assert enqueue_deliveries([row.pk]) == 0
        assert state.is_open
        opened_until = state.open_until
        assert enqueue_deliveries([row.pk]) == 0  # skipped: not tried
        assert state.open_until == opened_until
        time.sleep(0.25)
        assert enqueue_deliveries([row.pk]) == 0  # tried, failed again: open for another while
        assert state.open_until is not None
        assert opened_until is not None
        assert state.open_until > opened_until

    assert len(outage_records(caplog)) == 1


@pytest.mark.parametrize("kind", ["redis", "amqp"])
def test_the_enqueue_timeout_is_a_setting(settings, kind):
    # Longer than the default (0.25 s), so the wait shows the setting; the upper bound leaves
    # room for a loaded machine and stays well below kombu's own 3 s of retries.
    settings.NOTIFICATIONS_ENQUEUE_TIMEOUT = 0.6
    with (
        broker_down(kind, "silent") as url,
        celery_configured(celery_app, task_always_eager=False, broker_url=url),
    ):
        started = time.perf_counter()
        assert enqueue_deliveries([1]) == 0
        elapsed = time.perf_counter() - started

    assert 0.55 < elapsed < 1.5


class TestMessageId:
    @pytest.mark.smtp
    @pytest.mark.django_db
    def test_a_resent_row_carries_the_same_message_id(self, smtp_server, write_row, settings):
        """The duplicate case: the SMTP server took the message, then the worker died before
        recording it, and the sweep sends the row again."""
        row = write_row()
        assert notification_deliver(row.pk) == "sent"
        lost = timezone.now() - timedelta(seconds=settings.NOTIFICATIONS_SENDING_TIMEOUT + 1)
        Notification.objects.filter(pk=row.pk).update(status=Status.SENDING, updated=lost)

        assert notification_sweep() == 1

        first, second = smtp_server.messages
        assert first.message["Message-ID"] == second.message["Message-ID"]
        assert first.message["Message-ID"] == delivery.message_id(row)
        assert re.fullmatch(
            rf"<notification-{row.pk}\.[0-9a-f]{{16}}@xueji\.local>", first.message["Message-ID"]
        )
        row.refresh_from_db()
        assert (row.status, row.attempts) == (Status.SENT, 2)

    @pytest.mark.django_db
    def test_each_row_has_its_own_message_id_in_the_sender_s_domain(self, write_row, settings):
        settings.DEFAULT_FROM_EMAIL = "学籍 <No-Reply@Xueji.EDU.cn>"
        rows = [write_row("a@example.cn"), write_row("b@example.cn")]
        for row in rows:
            notification_deliver(row.pk)

        ids = [message.extra_headers["Message-ID"] for message in mail.outbox]
        assert ids == [delivery.message_id(row) for row in rows]
        assert ids[0] != ids[1]
        assert all(i.endswith("@xueji.edu.cn>") for i in ids)
        assert ids[0].startswith(f"<notification-{rows[0].pk}.")


class TestSendingTimeout:
    def stuck(self, row: Notification, seconds: float) -> None:
        """The row as a worker that died while sending left it ``seconds`` ago."""
        Notification.objects.filter(pk=row.pk).update(
            status=Status.SENDING, attempts=1, updated=timezone.now() - timedelta(seconds=seconds)
        )

    @pytest.mark.django_db
    def test_the_default_is_twelve_email_timeouts(self, settings, write_row):
        assert settings.NOTIFICATIONS_SENDING_TIMEOUT == 12 * settings.EMAIL_TIMEOUT == 120
        row = write_row()
        self.stuck(row, 3 * 60)

        assert notification_sweep() == 1

        row.refresh_from_db()
        assert (row.status, row.attempts) == (Status.SENT, 2)
        assert len(mail.outbox) == 1

    @pytest.mark.django_db
    def test_the_sending_timeout_is_a_setting(self, settings, write_row):
        settings.NOTIFICATIONS_SENDING_TIMEOUT = 300
        row = write_row()
        self.stuck(row, 200)

        assert notification_sweep() == 0
        row.refresh_from_db()
        assert row.status == Status.SENDING

        settings.NOTIFICATIONS_SENDING_TIMEOUT = 100
        with celery_configured(celery_app, task_always_eager=False, broker_url="memory://"):
            assert notification_sweep() == 1
        row.refresh_from_db()
        assert (row.status, row.last_error) == (
            Status.PENDING,
            "delivery interrupted: still sending after 100 s (worker lost?)",
        )

    def test_a_sending_timeout_within_the_email_timeout_fails_the_checks(self, settings):
        from notifications.checks import check_timeouts

        settings.EMAIL_TIMEOUT = 30
        settings.NOTIFICATIONS_SENDING_TIMEOUT = 30

        (error,) = check_timeouts()

        assert error.id == "notifications.E001"
        assert error.msg == (
            "NOTIFICATIONS_SENDING_TIMEOUT (30 s) must be longer than EMAIL_TIMEOUT (30 s)"
        )
        settings.NOTIFICATIONS_SENDING_TIMEOUT = 31
        assert check_timeouts() == []

    @pytest.mark.parametrize(
        ("setting", "value", "code"),
        [
            ("NOTIFICATIONS_ENQUEUE_TIMEOUT", 0, "notifications.E002"),
            ("NOTIFICATIONS_BROKER_COOLDOWN", -1, "notifications.E003"),
        ],
    )
    def test_a_broker_setting_out_of_range_fails_the_checks(self, settings, setting, value, code):
        from notifications.checks import check_timeouts

        setattr(settings, setting, value)

        (error,) = check_timeouts()

        assert error.id == code
        assert error.msg.startswith(f"{setting} ({value} s) must ")
