"""An HTTP request files a correction; its emails travel the real path:
request → outbox rows (in the request's transaction) → Redis → a `celery worker` process → an
aiosmtpd SMTP server. Needs PostgreSQL (the worker reads the committed rows) and Redis."""

from __future__ import annotations

import pytest

from config import celery_app
from notifications.models import Notification
from tests import factories
from tests.api.helpers import token_client
from tests.celery_worker import live_delivery
from tests.celery_worker import wait_until
from tests.services import REDIS_URL

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

    with live_delivery(celery_app, REDIS_URL, tmp_path / "worker.log") as (smtp, worker):
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
        wait_until(
            lambda: (
                len(smtp.messages) == 2 and not Notification.objects.exclude(status="sent").exists()
            ),
            worker,
            "both emails sent",
        )

    by_recipient = {m.rcpt_tos[0]: m for m in smtp.messages}
    assert set(by_recipient) == {"a@stu.example", "o1@pku.example"}
    request_id = response.json()["id"]
    assert (
        by_recipient["a@stu.example"].subject.strip()
        == f"[学籍] 已收到您的学历信息更正申请 #{request_id}"
    )
    assert by_recipient["o1@pku.example"].subject.strip() == (
        f"[Xueji] To review: correction request #{request_id}"
    )
    assert qualification.id_number not in by_recipient["a@stu.example"].body("plain")
    assert "Task notifications.tasks.notification_deliver[" in worker.output()
