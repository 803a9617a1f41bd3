"""A filing while the broker is down, end to end with real services: the HTTP request completes
at once and leaves its emails pending; the broker returns; the sweep queues them; a real
`celery worker` sends each exactly once to an aiosmtpd server, with its stable Message-ID.

The broker is the real Redis behind a TCP forwarder that goes down (its port refuses) and
comes back on the same port. Needs PostgreSQL (the worker reads the committed rows) and Redis.
"""

from __future__ import annotations

import time

import pytest

from config import celery_app
from notifications import delivery
from notifications.models import Notification
from notifications.tasks import notification_sweep
from tests import factories
from tests.api.helpers import timed_filing
from tests.api.helpers import token_client
from tests.celery_worker import BrokerForwarder
from tests.celery_worker import celery_configured
from tests.celery_worker import live_delivery
from tests.celery_worker import wait_until
from tests.services import REDIS_URL

pytestmark = [
    pytest.mark.postgres,
    pytest.mark.redis,
    pytest.mark.smtp,
    pytest.mark.django_db(transaction=True),
]


def test_emails_of_a_filing_while_the_broker_is_down_are_sent_once_when_it_returns(
    tmp_path, settings
):
    factories.province("11", "北京市")
    pku = factories.school("10001", "北京大学", "11")
    login = factories.user("student_a", email="a@stu.example", language="zh-hans")
    qualification = factories.qualification(factories.student("王小明", login=login), pku)
    factories.officer(pku, "officer_10001", email="o1@pku.example", language="en")
    factories.officer(pku, "officer_10001b", email="o2@pku.example", language="zh-hans")
    api = token_client(login)
    api.get("/api/v1/me/")  # the first request of the process loads what every request needs

    with BrokerForwarder(REDIS_URL) as forwarder:
        with celery_configured(celery_app, task_always_eager=False, broker_url=forwarder.url):
            response, elapsed = timed_filing(api, qualification.pk)
        assert response.status_code == 201, response.content
        assert elapsed < 1.0, f"the filing took {elapsed:.2f} s with the broker down"
        rows = list(Notification.objects.order_by("pk"))
        assert len(rows) == 3
        assert {(row.status, row.attempts) for row in rows} == {("pending", 0)}

        forwarder.up()
        settings.NOTIFICATIONS_SWEEP_AFTER = 0  # beat's next run, without waiting a minute
        with live_delivery(celery_app, forwarder.url, tmp_path / "worker.log") as (smtp, worker):
            assert notification_sweep() == 3
            wait_until(
                lambda: not Notification.objects.exclude(status="sent").exists(),
                worker,
                "every row sent",
            )
            assert smtp.wait_for(3)
            assert notification_sweep() == 0  # nothing left to send
            time.sleep(1)  # a duplicate would have arrived by now

    assert sorted(m.rcpt_tos[0] for m in smtp.messages) == [
        "a@stu.example",
        "o1@pku.example",
        "o2@pku.example",
    ]
    by_recipient = {m.rcpt_tos[0]: m.message["Message-ID"] for m in smtp.messages}
    assert by_recipient == {row.recipient_email: delivery.message_id(row) for row in rows}
    for row in Notification.objects.all():
        assert (row.status, row.attempts, row.last_error) == ("sent", 1, "")
