"""End to end with real services: commit -> Redis -> a `celery worker` process -> SMTP.

Needs PostgreSQL (the worker must see the test's committed rows; SQLite's test database lives
in this process's memory), Redis on XUEJI_TEST_REDIS_URL, and starts aiosmtpd on loopback.
"""

from __future__ import annotations

import time

import pytest
from django.db import connection
from django.db import transaction
from django.utils import timezone

from config import celery_app
from notifications.models import Notification
from notifications.services import Recipient
from notifications.services import notify
from tests.celery_worker import CeleryWorker
from tests.celery_worker import celery_configured
from tests.celery_worker import database_url
from tests.celery_worker import private_queue
from tests.services import REDIS_URL
from tests.smtp import RecordingSMTPServer

WAIT_SECONDS = 30

pytestmark = [
    pytest.mark.postgres,
    pytest.mark.redis,
    pytest.mark.smtp,
    pytest.mark.django_db(transaction=True),
]


def _wait_until(condition, worker: CeleryWorker, what: str) -> None:
    deadline = time.monotonic() + WAIT_SECONDS
    while not condition():
        if not worker.alive():
            pytest.fail(f"the celery worker exited while waiting for {what}:\n{worker.output()}")
        if time.monotonic() > deadline:
            pytest.fail(f"no {what} within {WAIT_SECONDS}s; worker log:\n{worker.output()}")
        time.sleep(0.1)


def test_a_committed_notice_is_mailed_by_a_real_worker(tmp_path):
    with RecordingSMTPServer() as smtp:
        worker = CeleryWorker(
            env={
                "DJANGO_SETTINGS_MODULE": "config.settings",
                "DATABASE_URL": database_url(connection.settings_dict),
                "CELERY_BROKER_URL": REDIS_URL,
                "EMAIL_URL": smtp.url,
                "DEBUG": "true",
            },
            log_path=tmp_path / "worker.log",
        )
        with (
            celery_configured(
                celery_app,
                task_always_eager=False,
                broker_url=REDIS_URL,
                task_default_queue=worker.queue,
            ),
            private_queue(celery_app, worker.queue),
            worker,
        ):
            with transaction.atomic():
                (row,) = notify(
                    "password_changed",
                    object_key="records.user:42",
                    recipients=[
                        Recipient(email="wangfang@example.cn", language="zh-hans", user_id=42)
                    ],
                    context={
                        "name": "王芳",
                        "changed_at": timezone.now(),
                        "site_url": "https://xueji.example.cn/",
                    },
                )

            _wait_until(lambda: bool(smtp.messages), worker, "email at the SMTP server")
            _wait_until(
                lambda: Notification.objects.get(pk=row.pk).status == "sent",
                worker,
                "row marked sent",
            )

    (received,) = smtp.messages
    assert received.rcpt_tos == ["wangfang@example.cn"]
    assert received.subject == "【学籍】您的密码已修改"
    assert "王芳，您好" in received.body("plain")
    assert received.message["X-Xueji-Notification"] == str(row.pk)
    row.refresh_from_db()
    assert (row.status, row.attempts, row.last_error) == ("sent", 1, "")
    assert "Task notifications.tasks.notification_deliver[" in worker.output()
