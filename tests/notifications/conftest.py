from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime
from typing import Any

import pytest
from django.utils import timezone
from pytest_django.fixtures import Settings

from notifications.services import Recipient
from tests.smtp import RecordingSMTPServer
from tests.smtp import serve_for_django


@pytest.fixture
def smtp_server(settings: Settings) -> Iterator[RecordingSMTPServer]:
    """A real aiosmtpd server on loopback, and Django's SMTP backend pointed at it.

    Script replies with ``smtp_server.respond(rcpt=[...], data=[...])``; inspect
    ``smtp_server.messages`` (accepted) and ``smtp_server.replies`` (every reply given).
    """
    yield from serve_for_django(settings)


@pytest.fixture
def changed_at() -> datetime:
    return timezone.make_aware(datetime(2025, 3, 9, 14, 5))  # noqa: DTZ001  (made aware here)


@pytest.fixture
def password_context(changed_at: datetime) -> dict[str, Any]:
    return {"name": "李明", "changed_at": changed_at, "site_url": "https://xueji.example.cn/"}


@pytest.fixture
def zh_recipient() -> Recipient:
    return Recipient(email="liming@example.cn", language="zh-hans", user_id=7, name="李明")


@pytest.fixture
def en_recipient() -> Recipient:
    return Recipient(email="anna@example.org", language="en", name="Anna")
