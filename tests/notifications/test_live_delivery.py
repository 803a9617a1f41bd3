"""End to end with real services: commit -> Redis -> a `celery worker` process -> SMTP.

Needs PostgreSQL (the worker must see the test's committed rows; SQLite's test database lives
in this process's memory), Redis on XUEJI_TEST_REDIS_URL, and starts aiosmtpd on loopback.
"""

from __future__ import annotations

import pytest
from django.db import transaction
from django.utils import timezone

from config import celery_app
from notifications.models import Notification
from notifications.services import Recipient
from notifications.services import notify
from tests.celery_worker import live_delivery
from tests.celery_worker import wait_until
from tests.services import REDIS_URL

pytestmark = [
    pytest.mark.postgres,
    pytest.mark.redis,
    pytest.mark.smtp,
    pytest.mark.django_db(transaction=True),
]


def test_a_committed_notice_is_mailed_by_a_real_worker(tmp_path):
    with live_delivery(celery_app, REDIS_URL, tmp_path / "worker.log") as (smtp, worker):
        with transaction.atomic():
            (row,) = notify(
                "password_changed",
                object_key="records.user:42",
                recipients=[Recipient(email="wangfang@example.cn", language="zh-hans", user_id=42)],
                context={
                    "name": "王芳",
                    "changed_at": timezone.now(),
                    "site_url": "https://xueji.example.cn/",
                },
            )
        wait_until(lambda: bool(smtp.messages), worker, "email at the SMTP server")
        wait_until(
            lambda: Notification.objects.get(pk=row.pk).status == "sent", worker, "row marked sent"
        )

    (received,) = smtp.messages
    assert received.rcpt_tos == ["wangfang@example.cn"]
    assert received.subject == "【学籍】您的密码已修改"
    assert "王芳，您好" in received.body("plain")
    assert received.message["X-Xueji-Notification"] == str(row.pk)
    row.refresh_from_db()
    assert (row.status, row.attempts, row.last_error) == ("sent", 1, "")
    assert "Task notifications.tasks.notification_deliver[" in worker.output()
