"""An HTTP request files a correction; its emails travel the real path:
request → outbox rows (in the request's transaction) → Redis → a `celery worker` process → an
aiosmtpd SMTP server. Needs PostgreSQL (the worker reads the committed rows) and Redis."""

from __future__ import annotations

import time

import pytest
from django.db import connection

from config import celery_app
from notifications.models import Notification
from tests import factories
from tests.api.helpers import token_client
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


def test_filing_over_http_mails_the_student_and_the_officers(tmp_path):
    factories.province("11", "北京市")
    pku = factories.school("10001", "北京大学", "11")
    login = factories.user("student_a", email="a@stu.example", language="zh-hans")
    qualification = factories.qualification(factories.student("王小明", login=login), pku)
    factories.officer(pku, "officer_10001", email="o1@pku.example", language="en")

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
            response = token_client(login).post(
                "/api/v1/corrections/",
                {
                    "qualification": qualification.pk,
                    "changes": {"name": "王晓明"},
                    "reason": "录入错误",
                },
                format="json",
            )
            assert response.status_code == 201, response.content
            deadline = time.monotonic() + WAIT_SECONDS
            while len(smtp.messages) < 2 or Notification.objects.exclude(status="sent").exists():
                if not worker.alive():
                    pytest.fail(f"the worker exited:\n{worker.output()}")
                if time.monotonic() > deadline:
                    pytest.fail(f"emails did not arrive in {WAIT_SECONDS}s:\n{worker.output()}")
                time.sleep(0.1)

    by_recipient = {m.rcpt_tos[0]: m for m in smtp.messages}
    assert set(by_recipient) == {"a@stu.example", "o1@pku.example"}
    request_id = response.json()["id"]
    assert (
        by_recipient["a@stu.example"].subject.strip() == f"[学籍] 已收到您的学历信息更正申请 #{request_id}"
    )
    assert by_recipient["o1@pku.example"].subject.strip() == (
        f"[Xueji] To review: correction request #{request_id}"
    )
    assert qualification.id_number not in by_recipient["a@stu.example"].body("plain")
    assert "Task notifications.tasks.notification_deliver[" in worker.output()
