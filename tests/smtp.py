"""A real SMTP server on loopback for tests: aiosmtpd, recording what it accepts.

    with RecordingSMTPServer(data_responses=["451 4.3.0 try again later"]) as smtp:
        settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
        settings.EMAIL_HOST, settings.EMAIL_PORT = smtp.host, smtp.port
        ...
        assert smtp.wait_for(1)
        assert smtp.messages[0].rcpt_tos == ["a@example.cn"]

``rcpt_responses`` and ``data_responses`` are scripts: each RCPT TO (or DATA) command takes the
next reply from its script; when the script is used up the server accepts. A reply other than
2xx refuses that command. ``tests/notifications/conftest.py`` wraps this class in the
``smtp_server`` fixture.
"""

from __future__ import annotations

import asyncio
import socket
import threading
import time
from collections import deque
from collections.abc import Iterable
from collections.abc import Iterator
from dataclasses import dataclass
from dataclasses import field
from email import message_from_bytes
from email import policy
from email.message import EmailMessage
from typing import Any
from typing import Self
from typing import cast

from aiosmtpd.controller import Controller

HOST = "127.0.0.1"
ACCEPT_RCPT = "250 OK"
ACCEPT_DATA = "250 Message accepted for delivery"


@dataclass
class ReceivedMessage:
    mail_from: str
    rcpt_tos: list[str]
    content: bytes
    message: EmailMessage = field(init=False)

    def __post_init__(self) -> None:
        parsed = message_from_bytes(self.content, policy=policy.default)
        assert isinstance(parsed, EmailMessage)
        self.message = parsed

    @property
    def subject(self) -> str:
        return str(self.message["Subject"])

    def body(self, subtype: str = "plain") -> str:
        part = self.message.get_body(preferencelist=(subtype,))
        assert part is not None, f"no text/{subtype} part"
        assert isinstance(part, EmailMessage)
        return str(part.get_content())


class _Handler:
    def __init__(self, server: RecordingSMTPServer) -> None:
        self.server = server

    async def handle_RCPT(  # noqa: N802  (aiosmtpd's hook name)
        self, server: Any, session: Any, envelope: Any, address: str, options: Any
    ) -> str:
        reply = self.server._next_reply("RCPT", address)
        if reply.startswith("2"):
            envelope.rcpt_tos.append(address)
        return reply

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:  # noqa: N802
        reply = self.server._next_reply("DATA", envelope.rcpt_tos)
        if reply.startswith("2"):
            self.server._record(
                ReceivedMessage(
                    mail_from=envelope.mail_from,
                    rcpt_tos=list(envelope.rcpt_tos),
                    content=envelope.original_content or envelope.content,
                )
            )
        return reply


class _LoopbackController(Controller):
    """Binds port 0 (any free port) and learns which port the system gave it."""

    def _trigger_server(self) -> None:
        # Runs once the server listens; as the base class does, connect once so aiosmtpd
        # builds its protocol object, but on the port actually bound.
        server = cast(asyncio.Server, self.server)
        self.port = server.sockets[0].getsockname()[1]
        with socket.create_connection((self.hostname, self.port), 1.0) as sock:
            sock.recv(1024)


class RecordingSMTPServer:
    """aiosmtpd on 127.0.0.1 and a free port, in a thread; a context manager."""

    def __init__(
        self, *, rcpt_responses: Iterable[str] = (), data_responses: Iterable[str] = ()
    ) -> None:
        self.host = HOST
        self.port = 0
        self.messages: list[ReceivedMessage] = []
        # Every scripted or default reply given, as (command, argument, reply).
        self.replies: list[tuple[str, Any, str]] = []
        self._scripts = {"RCPT": deque(rcpt_responses), "DATA": deque(data_responses)}
        self._lock = threading.Condition()
        self._controller = _LoopbackController(_Handler(self), hostname=HOST, port=0)

    def respond(self, *, rcpt: Iterable[str] = (), data: Iterable[str] = ()) -> None:
        """Append replies to the scripts for the next RCPT TO and DATA commands."""
        with self._lock:
            self._scripts["RCPT"].extend(rcpt)
            self._scripts["DATA"].extend(data)

    def _next_reply(self, command: str, argument: Any) -> str:
        with self._lock:
            script = self._scripts[command]
            reply = (
                script.popleft() if script else (ACCEPT_RCPT if command == "RCPT" else ACCEPT_DATA)
            )
            self.replies.append((command, argument, reply))
            return reply

    def _record(self, message: ReceivedMessage) -> None:
        with self._lock:
            self.messages.append(message)
            self._lock.notify_all()

    def wait_for(self, count: int = 1, timeout: float = 10.0) -> bool:
        """Wait until at least ``count`` messages were accepted; False on timeout."""
        deadline = time.monotonic() + timeout
        with self._lock:
            while len(self.messages) < count:
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    return False
                self._lock.wait(remaining)
            return True

    @property
    def url(self) -> str:
        """For ``EMAIL_URL`` (django-environ): plain SMTP, no TLS, no login."""
        return f"smtp://{self.host}:{self.port}"

    def start(self) -> Self:
        self._controller.start()
        self.port = self._controller.port
        return self

    def stop(self) -> None:
        self._controller.stop()

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(self, *exc_info: object) -> None:
        self.stop()


def serve_for_django(settings: Any) -> Iterator[RecordingSMTPServer]:
    """Body of an ``smtp_server`` fixture: start a server, point Django's SMTP backend at it.

    ``settings`` is pytest-django's ``settings`` fixture, which undoes the changes afterwards.
    Reuse it in another package's conftest::

        @pytest.fixture
        def smtp_server(settings):
            yield from serve_for_django(settings)
    """
    with RecordingSMTPServer() as server:
        settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
        settings.EMAIL_HOST = server.host
        settings.EMAIL_PORT = server.port
        settings.EMAIL_HOST_USER = ""
        settings.EMAIL_HOST_PASSWORD = ""
        settings.EMAIL_USE_TLS = False
        settings.EMAIL_USE_SSL = False
        settings.EMAIL_TIMEOUT = 5
        yield server
