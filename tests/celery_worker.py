"""Real Celery for tests: reconfigure the project's app for a while, run a worker subprocess.

``celery_configured(app, task_always_eager=False, broker_url=...)`` switches the in-process app
to a broker (or to an unreachable one) and back, dropping the cached connection pools both
ways. ``CeleryWorker`` runs ``celery -A config worker`` on its own queue, so tests running in
parallel on the same Redis database never take each other's messages.

Brokers that fail for real: ``closed_port()`` (connections refused), ``blackhole()`` (a port
whose connections are never answered: they time out), and ``BrokerForwarder``, a TCP forwarder
to a real broker that goes down (its port refuses, its connections drop) and comes back up on
the same port.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import threading
import time
import uuid
from collections.abc import Callable
from collections.abc import Iterator
from collections.abc import Mapping
from contextlib import contextmanager
from contextlib import suppress
from pathlib import Path
from typing import Any
from typing import Self
from urllib.parse import quote
from urllib.parse import urlsplit
from urllib.parse import urlunsplit

from celery import Celery
from kombu import Exchange
from kombu import Queue
from kombu import pools as kombu_pools

REPO_ROOT = Path(__file__).resolve().parent.parent


def _drop_pools(app: Celery) -> None:
    """Forget the app's broker connections, so the next publish uses the current broker_url.

    kombu keeps its pools in a process-wide registry keyed by connection; ``pools.reset``
    closes and forgets them all. The app caches its own references too.
    """
    from notifications import broker

    kombu_pools.reset()
    broker.reset()  # a breaker opened by an earlier broker must not outlive it
    # No public way to reset a configured app's pools; Celery does this itself after a fork.
    app._pool = None  # type: ignore[attr-defined]
    app.amqp._producer_pool = None  # type: ignore[attr-defined]


@contextmanager
def celery_configured(app: Celery, **conf: Any) -> Iterator[Celery]:
    """Set ``app.conf`` keys (new-style names) for the duration of the block."""
    saved = {key: app.conf.get(key) for key in conf}
    _drop_pools(app)
    app.conf.update(conf)
    try:
        yield app
    finally:
        _drop_pools(app)
        app.conf.update(saved)


@contextmanager
def private_queue(app: Celery, name: str) -> Iterator[str]:
    """Purge queue ``name`` on the app's broker first, and delete it (and its bindings) after.

    Celery's default queue binds to an exchange of the same name with the same routing key.
    """
    queue = Queue(name, Exchange(name), routing_key=name)
    with app.connection_for_write() as conn:
        channel: Any = conn.default_channel
        queue(channel).declare()
        channel.queue_purge(name)
    try:
        yield name
    finally:
        with app.connection_for_write() as conn:
            bound = queue(conn.default_channel)
            bound.declare()  # the channel must know the binding to remove it
            bound.delete()


def database_url(settings_dict: Mapping[str, Any]) -> str:
    """A ``DATABASE_URL`` (django-environ) for the database Django is connected to."""
    engine = settings_dict["ENGINE"]
    if "postgresql" not in engine:
        raise ValueError(f"no DATABASE_URL for {engine}: a worker cannot share it")
    user = quote(settings_dict.get("USER") or "", safe="")
    password = quote(settings_dict.get("PASSWORD") or "", safe="")
    credentials = f"{user}:{password}@" if password else (f"{user}@" if user else "")
    host = settings_dict.get("HOST") or "127.0.0.1"
    if host.startswith("/"):
        host = quote(host, safe="")
    port = settings_dict.get("PORT") or 5432
    return f"postgres://{credentials}{host}:{port}/{quote(settings_dict['NAME'], safe='')}"


class CeleryWorker:
    """``celery -A config worker --pool=solo`` in a subprocess, consuming one private queue."""

    def __init__(self, *, env: Mapping[str, str], log_path: Path, queue: str | None = None) -> None:
        self.queue = queue or f"xueji-test-{uuid.uuid4().hex[:12]}"
        self.log_path = log_path
        self.env = {**os.environ, **env}
        self.process: subprocess.Popen[bytes] | None = None

    @property
    def command(self) -> list[str]:
        return [
            sys.executable,
            "-m",
            "celery",
            "-A",
            "config",
            "worker",
            "--pool=solo",
            "--concurrency=1",
            "--loglevel=INFO",
            "--queues",
            self.queue,
            "--hostname",
            f"{self.queue}@%h",
            "--without-gossip",
            "--without-mingle",
            "--without-heartbeat",
        ]

    def start(self) -> Self:
        with self.log_path.open("wb") as log:
            self.process = subprocess.Popen(
                self.command,
                cwd=REPO_ROOT,
                env=self.env,
                stdout=log,
                stderr=subprocess.STDOUT,
            )
        return self

    def alive(self) -> bool:
        return self.process is not None and self.process.poll() is None

    def output(self) -> str:
        return self.log_path.read_text(errors="replace") if self.log_path.exists() else ""

    def stop(self, timeout: float = 15.0) -> None:
        """Warm shutdown (SIGTERM), then kill if it has not exited within ``timeout``."""
        if self.process is None or self.process.poll() is not None:
            return
        self.process.send_signal(signal.SIGTERM)
        try:
            self.process.wait(timeout)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait(5)

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(self, *exc_info: object) -> None:
        self.stop()


@contextmanager
def live_delivery(
    app: Celery, broker_url: str, log_path: Path
) -> Iterator[tuple[Any, CeleryWorker]]:
    """An aiosmtpd server, a real ``celery worker`` on a private queue of ``broker_url`` reading
    this test's database, and ``app`` publishing to that queue: the whole delivery path."""
    from django.db import connection

    from tests.smtp import RecordingSMTPServer

    with RecordingSMTPServer() as smtp:
        worker = CeleryWorker(
            env={
                "DJANGO_SETTINGS_MODULE": "config.settings",
                "DATABASE_URL": database_url(connection.settings_dict),
                "CELERY_BROKER_URL": broker_url,
                "EMAIL_URL": smtp.url,
                "DEBUG": "true",
            },
            log_path=log_path,
        )
        with (
            celery_configured(
                app, task_always_eager=False, broker_url=broker_url, task_default_queue=worker.queue
            ),
            private_queue(app, worker.queue),
            worker,
        ):
            yield smtp, worker


def wait_until(
    condition: Callable[[], bool], worker: CeleryWorker, what: str, seconds: float = 30
) -> None:
    """Poll ``condition``; fail with the worker's log if it exits or time runs out."""
    import pytest

    deadline = time.monotonic() + seconds
    while not condition():
        if not worker.alive():
            pytest.fail(f"the celery worker exited while waiting for {what}:\n{worker.output()}")
        if time.monotonic() > deadline:
            pytest.fail(f"no {what} within {seconds}s; worker log:\n{worker.output()}")
        time.sleep(0.1)


def closed_port() -> int:
    """A loopback port nothing listens on (bound and released): connecting is refused."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@contextmanager
def blackhole() -> Iterator[int]:
    """A loopback port whose connections time out instead of being refused.

    A listening socket with a backlog of one that never accepts, once that one place is
    taken: Linux then drops every further SYN, as a firewall or a dead host's address does.
    (Addresses such as 10.255.255.1 are no use here: this machine's network answers them.)
    """
    with socket.socket() as server:
        server.bind(("127.0.0.1", 0))
        server.listen(0)
        port = int(server.getsockname()[1])
        with socket.create_connection(("127.0.0.1", port), timeout=1):
            yield port


class BrokerForwarder:
    """A TCP forwarder on a fixed loopback port to ``upstream`` (a real broker's URL).

    ``down()`` closes the port and every connection through it: clients are refused, as when
    the broker stops. ``up()`` listens on the same port again. ``url`` is ``upstream`` with
    the forwarder's host and port.
    """

    def __init__(self, upstream: str) -> None:
        parsed = urlsplit(upstream)
        self.target = (parsed.hostname or "127.0.0.1", parsed.port or 6379)
        self.port = closed_port()
        netloc = f"127.0.0.1:{self.port}"
        if "@" in parsed.netloc:
            netloc = parsed.netloc.rsplit("@", 1)[0] + "@" + netloc
        self.url = urlunsplit(parsed._replace(netloc=netloc))
        self._server: socket.socket | None = None
        self._sockets: list[socket.socket] = []
        self._lock = threading.Lock()

    def up(self) -> Self:
        server = socket.socket()
        server.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        server.bind(("127.0.0.1", self.port))
        server.listen(16)
        self._server = server
        threading.Thread(target=self._accept, args=(server,), daemon=True).start()
        return self

    def down(self) -> None:
        with self._lock:
            server, self._server = self._server, None
            sockets, self._sockets = self._sockets, []
        for sock in ([server] if server else []) + sockets:
            with suppress(OSError):
                sock.shutdown(socket.SHUT_RDWR)
            sock.close()

    def _accept(self, server: socket.socket) -> None:
        while True:
            try:
                client, _ = server.accept()
            except OSError:
                return  # closed by down()
            try:
                upstream = socket.create_connection(self.target, timeout=5)
            except OSError:
                client.close()
                continue
            upstream.settimeout(None)
            with self._lock:
                if self._server is not server:
                    client.close()
                    upstream.close()
                    return
                self._sockets += [client, upstream]
            for source, sink in ((client, upstream), (upstream, client)):
                threading.Thread(target=self._pump, args=(source, sink), daemon=True).start()

    @staticmethod
    def _pump(source: socket.socket, sink: socket.socket) -> None:
        with suppress(OSError):
            while data := source.recv(65536):
                sink.sendall(data)
        for sock in (source, sink):
            with suppress(OSError):
                sock.shutdown(socket.SHUT_RDWR)

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.down()
